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
//
// Ridge l2, decoupled decay w and injected noise sigma (docs/families.md §2) make the map affine. With
// phi* = U^T theta* per mode (theta = phi* + e), the update of z = (e, y) is
//   z' = M z + h phi* + N n + sigma zeta e1,
//   M = [[1 - w - G (lambda + l2), -gamma3 m], [gamma1 (lambda + l2), m]], h = (-(w + G l2), gamma1 l2),
// N = (-G, gamma1), n the gradient noise (E n^2 = xi, uncorrelated with z). The decay pulls towards 0,
// not theta*, so the second moments need the first moments mu = (u, v) = phi* (E e, E y), which
// follow mu' = M mu + h q with q = phi*^2 = rho; then Z = [[a, c], [c, s]] follows
//   Z' = M Z M^T + M mu h^T + h mu^T M^T + h h^T q + N N^T xi + sigma^2 e1 e1^T.
// `step_affine` is that map: `linear_part` (shared with `step`) plus the affine terms (both always
// inlined into the per-ISA kernels). SVAG (docs/families.md §3) needs no new term: gamma2, gamma3
// arrive divided by l and 1/B becomes l/B.
#pragma once
#include <array>
#include <cstdint>

#include "plrf/optim/gen_momentum.hpp"
#include "plrf/runtime/isa.hpp"

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
  double gain = 1.0, lam2 = 1.0;  // routing (1 for a single learner)
  double l2, w, sigma2;           // ridge, decoupled decay, injected noise variance (affine map only)
  StepCoefs(const Coefficients& c, std::int64_t batch, const Route& r = {})
      : g1(c.gamma1), g3(c.gamma3), G(c.G()), m(c.m()),
        inv_b(c.noise_scale / static_cast<double>(batch)),  // SVAG: l / B
        gain(r.gain), lam2(r.lam2), l2(c.l2), w(c.decay), sigma2(c.noise * c.noise) {}
  // lam2 / gain^2: the lambda^2 noise relative to the squared mean gain (1 for a single learner)
  double noise_ratio() const { return gain > 0.0 ? lam2 / (gain * gain) : 0.0; }
};

// Z <- M Z M^T + N N^T xi for one mode, M = [[A, -gamma3 m], [g1l, m]] (in place). kSgd: only a is live.
template <bool kSgd>
PLRF_ALWAYS_INLINE void linear_part(const StepCoefs& k, double A, double g1l, double xi, double& a, double& s, double& c) {
  if (kSgd) {
    a = A * A * a + k.G * k.G * xi;
    return;
  }
  const double g3m = k.g3 * k.m;
  const double a2 = A * A * a + g3m * g3m * s - 2.0 * A * g3m * c + k.G * k.G * xi;
  const double s2 = g1l * g1l * a + k.m * k.m * s + 2.0 * g1l * k.m * c + k.g1 * k.g1 * xi;
  const double c2 = A * g1l * a - k.g3 * k.m * k.m * s + (A * k.m - g3m * g1l) * c - k.G * k.g1 * xi;
  a = a2, s = s2, c = c2;
}

// One step of docs/theory.md §4 for one mode (in place), routed by (gain, lam2). kSgd: gamma1 = gamma3 = 0,
// so only a is live.
template <bool kSgd>
inline void step(const StepCoefs& k, double lam, double R2, double& a, double& s, double& c) {
  const double gl = k.gain * lam;  // mean gain on the mode
  const double xi = (k.lam2 * lam * lam * a + gl * R2) * k.inv_b;  // batch-gradient noise variance on the mode
  linear_part<kSgd>(k, 1.0 - k.G * gl, k.g1 * gl, xi, a, s, c);
}

// One step of the affine map (ridge, decay, noise) for one node of `mult` directions with q = phi*^2
// summed over them (in place), routed by (gain, lam2) like `step`: the data gradient's mean gain is
// gain lambda, while ridge and decay act on every step whatever the routing (docs/families.md §1-2).
// kSgd: only a and u are live. The gradient noise xi sees lambda only (ridge and decay are
// deterministic); like the lambda R2 forcing, the injected noise is per direction.
template <bool kSgd>
PLRF_ALWAYS_INLINE void step_affine(const StepCoefs& k, double lam, double R2, double q, double mult, double& a, double& s,
                        double& c, double& u, double& v) {
  const double gl = k.gain * lam;  // mean data gain on the mode (lam for a single learner)
  const double lr = gl + k.l2;     // curvature seen by the update
  const double A = 1.0 - k.w - k.G * lr, g1l = k.g1 * lr, h1 = -(k.w + k.G * k.l2);
  const double xi = (k.lam2 * lam * lam * a + gl * mult * R2) * k.inv_b;
  linear_part<kSgd>(k, A, g1l, xi, a, s, c);
  if (kSgd) {  // v = 0, M mu = A u
    const double mu1 = A * u;
    a += 2.0 * h1 * mu1 + h1 * h1 * q + mult * k.sigma2;
    u = mu1 + h1 * q;
    return;
  }
  const double h2 = k.g1 * k.l2;
  const double mu1 = A * u - k.g3 * k.m * v, mu2 = g1l * u + k.m * v;  // M mu
  a += 2.0 * h1 * mu1 + h1 * h1 * q + mult * k.sigma2;
  s += 2.0 * h2 * mu2 + h2 * h2 * q;
  c += h1 * mu2 + h2 * mu1 + h1 * h2 * q;
  u = mu1 + h1 * q, v = mu2 + h2 * q;
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
