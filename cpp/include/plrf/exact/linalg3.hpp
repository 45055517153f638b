// A 3x3 solve by cofactors: the per-mode systems of the ODE and the kernel norm are tiny and
// well conditioned away from instability, and this keeps the engines free of Eigen.
#pragma once

namespace plrf {
namespace exact {

// Solves N y = x in place (N row-major). Returns false if N is singular.
inline bool solve3(const double* N, double* x) {
  const double c0 = N[4] * N[8] - N[5] * N[7], c1 = N[5] * N[6] - N[3] * N[8], c2 = N[3] * N[7] - N[4] * N[6];
  const double det = N[0] * c0 + N[1] * c1 + N[2] * c2;
  if (det == 0.0) return false;
  const double inv = 1.0 / det;
  const double y0 = (c0 * x[0] + (N[2] * N[7] - N[1] * N[8]) * x[1] + (N[1] * N[5] - N[2] * N[4]) * x[2]) * inv;
  const double y1 = (c1 * x[0] + (N[0] * N[8] - N[2] * N[6]) * x[1] + (N[2] * N[3] - N[0] * N[5]) * x[2]) * inv;
  const double y2 = (c2 * x[0] + (N[1] * N[6] - N[0] * N[7]) * x[1] + (N[0] * N[4] - N[1] * N[3]) * x[2]) * inv;
  x[0] = y0, x[1] = y1, x[2] = y2;
  return true;
}

}  // namespace exact
}  // namespace plrf
