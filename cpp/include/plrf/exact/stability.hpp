// Divergence of the expected risk (SPEC 4 as a discrete Volterra equation). With frozen
// coefficients, mode j answers to R2 through the kernel K(k) = sum_j lambda_j e_a^T M_j^k b_j,
// so R2 stays bounded iff every mode is stable and the kernel norm
//   ||K||_1 = sum_j lambda_j e_a^T (I - M_j)^{-1} b_j
// is < 1. For SGD, 1 - p_j = G lambda_j (2 - G lambda_j (1 + 1/B)) and b_j = G^2 lambda_j / B give
//   ||K||_1 = sum_j G lambda_j / (B (2 - G lambda_j (1 + 1/B))),
// which increases with G from 0 to infinity as G lambda_1 (1 + 1/B) -> 2: max_stable_lr solves
// ||K||_1 = 1 by bisection.
#pragma once
#include <cmath>
#include <limits>

#include "plrf/exact/linalg3.hpp"
#include "plrf/exact/moments.hpp"
#include "plrf/exact/modes.hpp"

namespace plrf::exact {

// A node of multiplicity m has m times the forcing of one mode (SPEC 10), so its term is m times.
// Kernel norm of the SGD recursion at step size G; infinity if a mode is unstable on its own.
inline double sgd_kernel_norm(const Modes& md, double G) {
  const StepCoefs k(Coefficients{0.0, G, 0.0, 1.0}, md.batch);
  double norm = 0.0;
  for (std::int64_t j = 0; j < md.d; ++j) {
    const SgdMode m = sgd_mode(k, md.lam[j]);
    if (!(m.one_minus_p > 0)) return std::numeric_limits<double>::infinity();
    norm += md.multiplicity(j) * md.lam[j] * m.q / m.one_minus_p;
  }
  return norm;
}

// Kernel norm for general frozen coefficients (per-mode stability is not checked here).
inline double kernel_norm(const Modes& md, const Coefficients& c) {
  const StepCoefs k(c, md.batch);
  double norm = 0.0;
  for (std::int64_t j = 0; j < md.d; ++j) {
    const Mat3 M = mode_matrix(k, md.lam[j]);
    Vec3 b = forcing(k, md.lam[j]);
    double N[9];
    for (int i = 0; i < 9; ++i) N[i] = ((i % 4 == 0) ? 1.0 : 0.0) - M[i];
    if (!solve3(N, b.data())) return std::numeric_limits<double>::infinity();
    norm += md.multiplicity(j) * md.lam[j] * b[0];
  }
  return norm;
}

// The largest constant SGD learning rate with ||K||_1 < 1 (to relative precision 1e-12).
inline double max_stable_lr(const Modes& md) {
  const double inv_b = 1.0 / md.batch;
  double lo = 0.0, hi = 2.0 / (md.lam[0] * (1.0 + inv_b));  // every mode is stable below hi
  for (int it = 0; it < 200 && hi - lo > 1e-13 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (sgd_kernel_norm(md, mid) < 1.0 ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace plrf::exact
