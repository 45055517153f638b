// Divergence of the expected risk (docs/theory.md §4 as a discrete Volterra equation). With frozen
// coefficients, mode j answers to R2 through the kernel K(k) = sum_j lambda_j e_a^T M_j^k b_j,
// so R2 stays bounded iff every mode is stable and the kernel norm
//   ||K||_1 = sum_j lambda_j e_a^T (I - M_j)^{-1} b_j
// is < 1. For SGD, 1 - p_j = G lambda_j (2 - G lambda_j (1 + 1/B)) and b_j = G^2 lambda_j / B give
//   ||K||_1 = sum_j G lambda_j / (B (2 - G lambda_j (1 + 1/B))),
// which increases with G from 0 to infinity as G lambda_1 (1 + 1/B) -> 2: max_stable_lr solves
// ||K||_1 = 1 by bisection on the scale-free u = G lambda_1. kernel_norm takes any frozen
// coefficients, ridge and decay included (linear_map), and checks each mode on its own (mode_stable).
#pragma once
#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>

#include "plrf/exact/linalg3.hpp"
#include "plrf/exact/moments.hpp"
#include "plrf/exact/modes.hpp"

namespace plrf::exact {

// Kernel norm of the SGD recursion at u = G lambda_1, written in x_j = u lambda_j / lambda_1 = G lambda_j
// only: sum_j x_j / (B (2 - x_j (1 + 1/B))). Squaring G or lambda (as p_j and q_j do) under- or
// overflows for eigenvalue scales near 1e+-300; this form is scale-free. Infinity if a mode is
// unstable on its own. SVAG's l (noise_scale) makes the batch B / l (moments.hpp, StepCoefs).
inline double sgd_kernel_norm_scaled(const Modes& md, double u, double noise_scale = 1.0) {
  const double batch = static_cast<double>(md.batch) / noise_scale, inv_b = 1.0 / batch;
  double norm = 0.0;
  for (std::int64_t j = 0; j < md.d; ++j) {
    const double x = u * (md.lam[j] / md.lam[0]);
    const double room = 2.0 - x * (1.0 + inv_b);
    if (!(room > 0)) return std::numeric_limits<double>::infinity();
    norm += md.multiplicity(j) * x / (batch * room);  // a node of multiplicity m: m times the forcing (docs/theory.md §10)
  }
  return norm;
}

// The same at step size G.
inline double sgd_kernel_norm(const Modes& md, double G, double noise_scale = 1.0) {
  return sgd_kernel_norm_scaled(md, G * md.lam[0], noise_scale);
}

// Mode j's linear map M and its response b to R2 = 1. With ridge or decay they are the linear part
// of the affine map (moments.hpp, step_affine with no first moments, q = 0 and no injected noise):
// the affine terms force the recursion but cannot decide whether it stays bounded, while ridge and
// decay change the contraction 1 - w - G (lambda + l2) of every mode.
inline void linear_map(const StepCoefs& k, double lam, Mat3& M, Vec3& b) {
  if (k.l2 == 0.0 && k.w == 0.0) {
    M = mode_matrix(k, lam);
    b = forcing(k, lam);
    return;
  }
  StepCoefs lin = k;
  lin.sigma2 = 0.0;
  auto apply = [&](double R2, Vec3 x) {
    double u = 0.0, v = 0.0;
    step_affine<false>(lin, lam, R2, 0.0, 1.0, x[0], x[1], x[2], u, v);
    return x;
  };
  for (int col = 0; col < 3; ++col) {
    Vec3 unit{0.0, 0.0, 0.0};
    unit[col] = 1.0;
    const Vec3 x = apply(0.0, unit);
    for (int row = 0; row < 3; ++row) M[3 * row + col] = x[row];
  }
  b = apply(1.0, Vec3{0.0, 0.0, 0.0});
}

// The Jury conditions on the characteristic polynomial z^3 + a2 z^2 + a1 z + a0 of M: every
// eigenvalue strictly inside the unit circle (in exact arithmetic).
inline bool jury_stable(const Mat3& M) {
  const double a2 = -(M[0] + M[4] + M[8]);
  const double a1 = (M[0] * M[4] - M[1] * M[3]) + (M[0] * M[8] - M[2] * M[6]) + (M[4] * M[8] - M[5] * M[7]);
  const double det = M[0] * (M[4] * M[8] - M[5] * M[7]) - M[1] * (M[3] * M[8] - M[5] * M[6]) +
                     M[2] * (M[3] * M[7] - M[4] * M[6]);
  const double a0 = -det;
  return 1.0 + a2 + a1 + a0 > 0.0 && 1.0 - a2 + a1 - a0 > 0.0 && std::fabs(a0) < 1.0 &&
         1.0 - a0 * a0 > std::fabs(a1 - a0 * a2);
}

// Growth per step below which a mode is not told apart from rounding: where lambda is tiny and the
// momentum near 1, all three eigenvalues cluster at 1, and a near-defective 3x3 matrix has them
// only to ~eps^(1/3) = 6e-6.
constexpr double kModeGrowthTol = 1e-5;

// Whether mode M does not grow on its own. A mode that is unstable on its own diverges whatever
// the rest of the kernel does, and (I - M)^{-1} b then says nothing. The Jury conditions screen
// every mode cheaply, but clustered eigenvalues at 1 fail them by rounding (DANA at t = 1e12 on a
// d = 1e6 theory spectrum); a mode that fails them is judged by its eigenvalues.
inline bool mode_stable(const Mat3& M) {
  if (jury_stable(M)) return true;
  Eigen::Matrix3d E;
  for (int i = 0; i < 9; ++i) E(i / 3, i % 3) = M[i];
  return E.eigenvalues().cwiseAbs().maxCoeff() <= 1.0 + kModeGrowthTol;
}

// Kernel norm from every mode's 3x3 map, ridge and decay included; infinity if a mode is unstable
// on its own.
inline double mode_map_kernel_norm(const Modes& md, const Coefficients& c) {
  const StepCoefs k(c, md.batch);
  double norm = 0.0;
  for (std::int64_t j = 0; j < md.d; ++j) {
    Mat3 M;
    Vec3 b;
    linear_map(k, md.lam[j], M, b);
    if (!mode_stable(M)) return std::numeric_limits<double>::infinity();
    double N[9];
    for (int i = 0; i < 9; ++i) N[i] = ((i % 4 == 0) ? 1.0 : 0.0) - M[i];
    if (!solve3(N, b.data())) return std::numeric_limits<double>::infinity();
    norm += md.multiplicity(j) * md.lam[j] * b[0];
  }
  return norm;
}

// Kernel norm for any frozen coefficients. Plain SGD takes the scale-free closed form, which stays
// finite where 1 - G lambda rounds to 1 (lambda = 1e-18 at d = 1e9) and makes I - M singular.
inline double kernel_norm(const Modes& md, const Coefficients& c) {
  if (c.gamma1 == 0.0 && c.gamma3 == 0.0 && c.l2 == 0.0 && c.decay == 0.0)
    return sgd_kernel_norm(md, c.G(), c.noise_scale);
  return mode_map_kernel_norm(md, c);
}

// The largest constant SGD learning rate with ||K||_1 < 1 (to relative precision 1e-12), found
// as u = G lambda_1 in (0, 2 / (1 + 1/B)), where every mode is stable.
inline double max_stable_lr(const Modes& md) {
  const double inv_b = 1.0 / static_cast<double>(md.batch);
  double lo = 0.0, hi = 2.0 / (1.0 + inv_b);
  for (int it = 0; it < 200 && hi - lo > 1e-13 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (sgd_kernel_norm_scaled(md, mid) < 1.0 ? lo : hi) = mid;
  }
  return lo / md.lam[0];
}

}  // namespace plrf::exact
