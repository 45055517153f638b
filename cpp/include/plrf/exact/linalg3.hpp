// 3x3 solves by cofactors: the per-mode systems of the ODE and the kernel norm are tiny and
// well conditioned away from instability, and this keeps the engines free of Eigen.
#pragma once

namespace plrf::exact {

// The inverse of a row-major 3x3 matrix (adjugate / determinant), formed once for several
// right-hand sides. `ok` is false if the matrix is singular.
struct Inverse3 {
  double m[9];
  bool ok;

  explicit Inverse3(const double* N) {
    const double c0 = N[4] * N[8] - N[5] * N[7], c1 = N[5] * N[6] - N[3] * N[8], c2 = N[3] * N[7] - N[4] * N[6];
    const double det = N[0] * c0 + N[1] * c1 + N[2] * c2;
    ok = det != 0.0;
    const double inv = ok ? 1.0 / det : 0.0;
    m[0] = c0 * inv, m[1] = (N[2] * N[7] - N[1] * N[8]) * inv, m[2] = (N[1] * N[5] - N[2] * N[4]) * inv;
    m[3] = c1 * inv, m[4] = (N[0] * N[8] - N[2] * N[6]) * inv, m[5] = (N[2] * N[3] - N[0] * N[5]) * inv;
    m[6] = c2 * inv, m[7] = (N[1] * N[6] - N[0] * N[7]) * inv, m[8] = (N[0] * N[4] - N[1] * N[3]) * inv;
  }

  // x <- N^{-1} x.
  void apply(double* x) const {
    const double y0 = m[0] * x[0] + m[1] * x[1] + m[2] * x[2];
    const double y1 = m[3] * x[0] + m[4] * x[1] + m[5] * x[2];
    const double y2 = m[6] * x[0] + m[7] * x[1] + m[8] * x[2];
    x[0] = y0, x[1] = y1, x[2] = y2;
  }
};

// Solves N y = x in place (N row-major). Returns false if N is singular.
inline bool solve3(const double* N, double* x) {
  const Inverse3 inv(N);
  if (inv.ok) inv.apply(x);
  return inv.ok;
}

}  // namespace plrf::exact
