// The per-mode moment map of docs/theory.md §4, written once for every exact-risk method.
//
// Mode j carries x_j = (a_j, s_j, c_j) = (E e_j^2, E y_j^2, E e_j y_j). One optimizer step maps
//   x_j' = M_j x_j + f lambda_j R2 / B,   f = (G^2, gamma1^2, -G gamma1),
// where R2 = 2 P_inf + sum_k lambda_k a_k is twice the current expected risk (the rank-one
// coupling). M_j already contains the mode's own gradient noise lambda_j^2 a_j / B.
// A routed learner (mixture of experts, sparse updates; docs/families.md §1) is the same map with the
// mean gain lambda -> p lambda and the gradient noise xi = [p (2 - p) lambda^2 a + p lambda R2] / B:
// StepCoefs carries `gain` = p and `lam2` = p (2 - p), both 1 for a single learner (bit-identical).
// `step` is the transcription of docs/theory.md §4; `mode_matrix`/`forcing` are derived from it (columns of
// the linear map), so the recursion, the block solver and the ODE cannot disagree.
#pragma once
#include <array>
#include <cstdint>

#include "plrf/optim/gen_momentum.hpp"

namespace plrf::exact {

using Vec3 = std::array<double, 3>;
using Mat3 = std::array<double, 9>;  // row-major

// How a learner is routed (docs/families.md §1): gain p, lambda^2-noise factor p (2 - p), and the
// clock its schedules run on (t, or p t for the per-expert deterministic clock).
struct Route {
  double gain = 1.0, lam2 = 1.0, clock = 1.0;
};

// Coefficients of one step, frozen, in the form the moment map uses.
struct StepCoefs {
  double g1, g3, G, m, inv_b;
  double gain = 1.0, lam2 = 1.0;
  StepCoefs(const Coefficients& c, std::int64_t batch, const Route& r = {})
      : g1(c.gamma1), g3(c.gamma3), G(c.G()), m(c.m()), inv_b(1.0 / static_cast<double>(batch)), gain(r.gain),
        lam2(r.lam2) {}
  // lam2 / gain^2: the lambda^2 noise relative to the squared mean gain (1 for a single learner)
  double noise_ratio() const { return gain > 0.0 ? lam2 / (gain * gain) : 0.0; }
};

// One step of docs/theory.md §4 for one mode (in place). kSgd: gamma1 = gamma3 = 0, so only a is live.
template <bool kSgd>
inline void step(const StepCoefs& k, double lam, double R2, double& a, double& s, double& c) {
  const double gl = k.gain * lam;  // mean gain on the mode
  const double A = 1.0 - k.G * gl;
  const double xi = (k.lam2 * lam * lam * a + gl * R2) * k.inv_b;  // batch-gradient noise variance on the mode
  if (kSgd) {
    a = A * A * a + k.G * k.G * xi;
    return;
  }
  const double g3m = k.g3 * k.m, g1l = k.g1 * gl;
  const double a2 = A * A * a + g3m * g3m * s - 2.0 * A * g3m * c + k.G * k.G * xi;
  const double s2 = g1l * g1l * a + k.m * k.m * s + 2.0 * g1l * k.m * c + k.g1 * k.g1 * xi;
  const double c2 = A * g1l * a - k.g3 * k.m * k.m * s + (A * k.m - g3m * g1l) * c - k.G * k.g1 * xi;
  a = a2, s = s2, c = c2;
}

// SGD: a' = p a + q R2 with p = A^2 + G^2 lambda^2 / B, q = G^2 lambda / B (from `step`; routed:
// A = 1 - G gain lambda, lambda^2 -> lam2 lambda^2, q -> gain q, so 1 - p = x (2 - x (1 + ratio / B)),
// x = G gain lambda, ratio = lam2 / gain^2).
// one_minus_p is computed without cancellation, which the long-horizon solver needs for tiny lambda.
struct SgdMode {
  double p, q, one_minus_p;
};
inline SgdMode sgd_mode(const StepCoefs& k, double lam) {
  double a = 1.0, s = 0.0, c = 0.0;
  step<true>(k, lam, 0.0, a, s, c);
  double f = 0.0;
  step<true>(k, lam, 1.0, f, s, c);
  const double gl = k.G * (k.gain * lam);
  return {a, f, gl * (2.0 - gl * (1.0 + k.noise_ratio() * k.inv_b))};
}

// The 3x3 matrix M_j of the map (R2 = 0), column by column.
inline Mat3 mode_matrix(const StepCoefs& k, double lam) {
  Mat3 M{};
  for (int col = 0; col < 3; ++col) {
    double x[3] = {0.0, 0.0, 0.0};
    x[col] = 1.0;
    step<false>(k, lam, 0.0, x[0], x[1], x[2]);
    for (int row = 0; row < 3; ++row) M[3 * row + col] = x[row];
  }
  return M;
}

// The response to R2 = 1 from a zero state: f lambda / B.
inline Vec3 forcing(const StepCoefs& k, double lam) {
  double a = 0.0, s = 0.0, c = 0.0;
  step<false>(k, lam, 1.0, a, s, c);
  return {a, s, c};
}

}  // namespace plrf::exact
