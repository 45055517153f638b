// The eigenbasis simulator (docs/theory.md §2): iterate the error e = U^T (theta - theta*) with
// samples f = Lambda^{1/2} z, z ~ N(0, I_d), and label noise eps ~ N(0, 2 P_inf), so that the
// batch gradient is g = (1/B) sum_b f_b (<f_b, e> - eps_b).
//
// Two samplers with the same law:
// - Explicit: draws the B samples (O(B d) per step).
// - Fast (O(d) per step for any B). Write a = Lambda^{1/2} e, Z the B x d matrix of the z_b,
//   w = Z a / |a| ~ N(0, I_B), eps = sigma eps' (sigma^2 = 2 P_inf) and r = |a| w - sigma eps'.
//   Then Z^T r = (a/|a|) (w.r) + |r| P_perp xi, xi ~ N(0, I_d), P_perp = I - a a^T / |a|^2,
//   because the rows of Z P_perp are independent of (w, eps') and isotropic in a's complement.
//   The scalars only depend on the Gram matrix of (w, eps'), a Wishart_2(B, I) matrix drawn
//   by Bartlett: |w|^2 = c1^2 ~ chi2_B, w.eps' = c1 n21, |eps'|^2 = n21^2 + c2^2 with
//   c2^2 ~ chi2_{B-1}, n21 ~ N(0, 1). With s1 = w.r the gradient per mode is
//     g_j = lambda_j e_j (s1 - |r| (a.xi)/|a|) / (|a| B) + lambda_j^{1/2} xi_j |r| / B,
//   and when a = 0, g_j = lambda_j^{1/2} xi_j |r| / B with |r| = sigma |eps'|.
//
// Randomness: xi (or z_b, eps_b) are normals of (seed, kEigenSamples) at step t; the three
// scalars are variates 0, 1, 2 of (seed, kScalars) at step t. SVAG (docs/families.md §3) draws a
// second, independent gradient from the next counters (normals d .. 2d-1 and scalars 3, 4, 5; the
// explicit sampler's second batch starts at normal B (d + 1)) and combines them as c+ g1 + c- g2.
// DP-SGD clipping and noise (simulate/clip_step.hpp) run on the explicit sampler, which forms each
// sample's gradient. Ridge, decay and injected noise wrap the update (simulate/knob_step.hpp) with phi* = -e_0 =
// sqrt(rho): the run starts from e_0 = -sqrt(rho) (python/plrf/simulation.py).
#pragma once
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/runtime/divergence.hpp"
#include "plrf/linalg/lane_sum.hpp"
#include "plrf/rng/gamma.hpp"
#include "plrf/rng/normal.hpp"
#include "plrf/simulate/clip_step.hpp"
#include "plrf/simulate/eigen_fused.hpp"
#include "plrf/simulate/knob_step.hpp"
#include "plrf/simulate/state.hpp"
#include "plrf/spectrum/spectrum.hpp"

namespace plrf::simulate {

enum class Sampler { Fast, Explicit };

// One draw of the fast sampler: g_j = lambda_j e_j coef_e + lambda_j^{1/2} xi_j coef_xi, and
// r2 = |r|^2 = sum_b r_b^2 over its samples (the batch loss's numerator).
struct FastDraw {
  double coef_e, coef_xi, r2;
};

// The three Bartlett scalars of lane `lane` (n of the batch's B samples, variates 3 lane .. 3 lane + 2
// of (seed, kScalars) at step t) and, with a2 = |a|^2 and ax = a . xi, the draw's coefficients.
// Shared by the eigen path and the parameter-basis path (simulate/param_path.hpp).
inline FastDraw fast_scalars(std::uint64_t seed, std::uint64_t t, std::uint64_t lane, std::int64_t n,
                             std::int64_t batch, double a2, double sigma, double ax) {
  const rng::StreamKey sk{seed, rng::kScalars};
  const double B = static_cast<double>(batch), N = static_cast<double>(n);
  const double c1sq = rng::chi_square(N, sk, t, 3 * lane);
  const double c2sq = rng::chi_square(N - 1.0, sk, t, 3 * lane + 1);
  const double n21 = rng::scalar_normal(sk, t, 3 * lane + 2);
  const double na = std::sqrt(a2);
  const double w_eps = std::sqrt(c1sq) * n21;  // w . eps'
  const double eps2 = n21 * n21 + c2sq;        // |eps'|^2
  const double s1 = na * c1sq - sigma * w_eps;  // w . r
  const double r2 = a2 * c1sq - 2.0 * na * sigma * w_eps + sigma * sigma * eps2;
  const double rn = std::sqrt(r2 > 0.0 ? r2 : 0.0);
  return {na > 0.0 ? (s1 - rn * ax / na) / (na * B) : 0.0, rn / B, r2};
}

// Shared, read-only data of an eigenbasis run.
struct EigenModel {
  const Spectrum* spectrum;
  std::vector<double> sqrt_lambda;
  double sigma;  // sqrt(2 P_inf), the label-noise scale
  std::int64_t batch;
  Sampler sampler;
  bool sgd;
  UpdateKnobs knobs;
  std::vector<double> phi_star;  // sqrt(rho), only with ridge/decay/noise
  const Controller* ctrl = nullptr;  // a step-size controller (docs/adaptive.md), or none
  double trace2 = 0.0;               // tr K^2

  EigenModel(const Spectrum& spec, std::int64_t batch_, Sampler sampler_, bool sgd_, UpdateKnobs knobs_ = {})
      : spectrum(&spec), sqrt_lambda(spec.dim()), sigma(std::sqrt(2.0 * spec.p_inf)), batch(batch_),
        sampler(sampler_), sgd(sgd_), knobs(std::move(knobs_)) {
    for (Eigen::Index j = 0; j < spec.dim(); ++j) sqrt_lambda[j] = std::sqrt(spec.eigenvalues[j]);
    if (knobs.affine()) phi_star.assign(spec.rho.data(), spec.rho.data() + spec.dim());
    for (double& p : phi_star) p = std::sqrt(p);
  }
};

// Per-seed stepper: owns scratch buffers, reads and writes the seed's state in place.
class EigenStepper {
 public:
  // routed: one expert of a mixture (simulate/routing.hpp), which draws at its own lane.
  EigenStepper(const EigenModel& model, const SeedSlot& slot, bool routed = false)
      : m_(model), slot_(slot), d_(model.spectrum->dim()), buf_(model.knobs.svag() ? 2 * d_ : d_),
        grad_(model.sampler == Sampler::Explicit ? d_ : 0), knob_(model.knobs, model.phi_star.data(), d_),
        clip_(model.knobs, d_),
        fused_(model.sampler == Sampler::Fast && !routed && !knob_.on && !model.knobs.svag() && !model.ctrl) {
    energy_ = fused_ ? fused::energy(fast_pass()) : weighted_energy();
  }

  // One step; false if cancelled inside it (explicit sampler, huge batch), the state untouched so
  // that a resume redoes the whole step.
  bool step(std::int64_t t, const Coefficients& c, const RunControl& control) {
    if (knob_.on) knob_.prepare(slot_.seed, static_cast<std::uint64_t>(t), c);
    if (m_.sampler == Sampler::Explicit) return explicit_step(static_cast<std::uint64_t>(t), c, control);
    if (fused_)
      fused_step(static_cast<std::uint64_t>(t), MomentumStep(c, m_.sgd));
    else
      fast_step(static_cast<std::uint64_t>(t), c, m_.sgd, m_.batch);
    return true;
  }

  // Exact population risk of the current iterate, known after every step for free: the weighted
  // energy is a by-product of the update loop.
  double risk() const { return m_.spectrum->risk_from_energy(energy_); }

  bool blew_up(const DivergenceGuard& guard, std::int64_t) const { return guard.diverged(risk()); }

  // A mixture-of-experts step (simulate/routing.hpp): n of the step's B samples reach this learner
  // (n = 0: a step without gradient, the momentum still moves); its draws sit at lane `lane` of
  // the step's streams, so that the experts of one seed never share a draw. Ridge, decay and noise
  // act every step, routed or not (the regulariser is not a sample's; noise at lane `lane`). SVAG's
  // second batch is an independent routing: n2 samples at lane `lane2`.
  void routed_step(std::uint64_t t, const Coefficients& c, bool sgd, std::int64_t n, std::uint64_t lane,
                   std::int64_t n2 = 0, std::uint64_t lane2 = 1) {
    if (knob_.on) knob_.prepare(slot_.seed, t, c, lane);
    if (n == 0 && (!m_.knobs.svag() || n2 == 0))
      fused_update(MomentumStep(c, sgd), [](Eigen::Index) { return 0.0; });
    else
      fast_step(t, c, sgd, n, lane, n2, lane2);
  }

 private:
  // sum_j lambda_j e_j^2 = |a|^2, accumulated in the same order as the fused update loop.
  double weighted_energy() const {
    const double* lam = m_.spectrum->eigenvalues.data();
    const double* e = slot_.x;
    return linalg::lane_sum(0, d_, [&](std::int64_t j) { return lam[j] * e[j] * e[j]; });
  }

  fused::FastPass fast_pass() {
    return {m_.sqrt_lambda.data(), slot_.x, slot_.y, buf_.data(), d_, 0.0, 0.0};
  }

  // The plain fast step in one pass per step (simulate/eigen_fused.hpp): xi_t and a . xi_t come from
  // the previous step's pass, or from a priming pass on the first step of this stepper; this step's
  // pass draws xi_{t+1}. The same draws as fast_step at lane 0 with all B samples.
  void fused_step(std::uint64_t t, const MomentumStep& upd) {
    const rng::StreamKey key{slot_.seed, rng::kEigenSamples};
    fused::FastPass p = fast_pass();
    if (primed_ != t) ax_ = fused::prime(p, key, t);
    const FastDraw draw = draw_scalars(t, 0, m_.batch, ax_);
    p.coef_e = draw.coef_e, p.coef_xi = draw.coef_xi;
    fused::fused(p, upd, key, t + 1, energy_, ax_);
    primed_ = t + 1;
  }

  // Lane `lane` of the fast sampler on n of the step's samples (normals lane d .. lane d + d - 1,
  // scalars 3 lane .. 3 lane + 2): fills xi. The sum over the n samples is divided by the whole
  // batch B (the loss is averaged over the batch). Lanes: SVAG's second batch is lane 1, a mixture's
  // expert i is lane i (and lane m + i for its SVAG second batch, simulate/routing.hpp).
  FastDraw fast_draw(std::uint64_t t, std::uint64_t lane, std::int64_t n, double* xi) const {
    rng::fill_normals({slot_.seed, rng::kEigenSamples}, t, lane * static_cast<std::uint64_t>(d_),
                      static_cast<std::size_t>(d_), xi);
    const double* sl = m_.sqrt_lambda.data();
    const double* e = slot_.x;
    const double ax = linalg::lane_sum(0, d_, [&](std::int64_t j) { return sl[j] * e[j] * xi[j]; });  // a . xi
    return draw_scalars(t, lane, n, ax);
  }

  // fast_draw, or no gradient when no sample reaches the learner (a routed SVAG batch may be empty).
  FastDraw draw_of(std::uint64_t t, std::uint64_t lane, std::int64_t n, double* xi) const {
    if (n > 0) return fast_draw(t, lane, n, xi);
    std::fill(xi, xi + d_, 0.0);
    return {0.0, 0.0, 0.0};
  }

  // The three Bartlett scalars of lane `lane` (n samples) and, with a . xi, the draw's coefficients.
  FastDraw draw_scalars(std::uint64_t t, std::uint64_t lane, std::int64_t n, double ax) const {
    return fast_scalars(slot_.seed, t, lane, n, m_.batch, energy_, m_.sigma, ax);
  }

  // The fast sampler's step on n samples at lane `lane` (a plain run: all B samples at lane 0);
  // `sgd`: the optimizer never touches the momentum.
  // SVAG: the second draw has n2 samples at lane lane2 (a single learner: all B at lane 1).
  void fast_step(std::uint64_t t, const Coefficients& c, bool sgd, std::int64_t n, std::uint64_t lane = 0,
                 std::int64_t n2 = -1, std::uint64_t lane2 = 1) {
    const double* sl = m_.sqrt_lambda.data();
    const double* e = slot_.x;
    const double* lam = m_.spectrum->eigenvalues.data();
    double* xi = buf_.data();
    const FastDraw draw = draw_of(t, lane, n, xi);
    const double coef_e = draw.coef_e, coef_xi = draw.coef_xi;  // plain locals: the update loop keeps them in registers
    if (!m_.knobs.svag()) {
      const MomentumStep upd(adapt(c, t, [&] { return fast_stats(xi, coef_e, coef_xi, draw.r2); }), sgd);
      fused_update(upd, [&](Eigen::Index j) { return lam[j] * e[j] * coef_e + sl[j] * xi[j] * coef_xi; });
      return;
    }
    double* xi2 = xi + d_;  // SVAG (never with a controller: refused in run.hpp)
    const FastDraw draw2 = draw_of(t, lane2, n2 < 0 ? n : n2, xi2);
    const double cp = m_.knobs.c_plus(), cm = m_.knobs.c_minus(), ce = cp * coef_e + cm * draw2.coef_e;
    const double cx1 = cp * coef_xi, cx2 = cm * draw2.coef_xi;
    fused_update(MomentumStep(c, sgd),
                 [&](Eigen::Index j) { return lam[j] * e[j] * ce + sl[j] * (xi[j] * cx1 + xi2[j] * cx2); });
  }

  // The batch loop is O(B d): it polls for cancellation every ~2^16 sample coordinates (a relaxed
  // atomic load, nothing next to 2^16 normals), and writes the state only after the whole batch.
  bool explicit_step(std::uint64_t t, const Coefficients& c, const RunControl& control) {
    const rng::StreamKey key{slot_.seed, rng::kEigenSamples};
    const std::int64_t B = m_.batch;
    const double* sl = m_.sqrt_lambda.data();
    const double* e = slot_.x;
    double* z = buf_.data();
    double* g = grad_.data();
    std::fill(grad_.begin(), grad_.end(), 0.0);
    std::int64_t unpolled = 0;
    double r2 = 0.0;  // sum_b r_b^2, the batch loss's numerator
    const bool svag = m_.knobs.svag();
    for (std::int64_t k = 0; k < (svag ? 2 : 1); ++k) {  // SVAG: a second batch at normals B (d + 1) on
      const std::int64_t base = k * B * (d_ + 1);
      const double weight = !svag ? 1.0 : k == 0 ? m_.knobs.c_plus() : m_.knobs.c_minus();
      for (std::int64_t b = 0; b < B; ++b) {
        if ((unpolled += d_) >= kPollEvery) {
          if (control.cancelled()) return false;
          unpolled = 0;
        }
        rng::fill_normals(key, t, static_cast<std::uint64_t>(base + b * d_), static_cast<std::size_t>(d_), z);
        double eps = 0.0;
        rng::fill_normals(key, t, static_cast<std::uint64_t>(base + B * d_ + b), 1, &eps);
        double r = -m_.sigma * eps;  // <f_b, e> - eps_b
        for (Eigen::Index j = 0; j < d_; ++j) r += sl[j] * z[j] * e[j];
        r2 += r * r;
        if (svag) r *= weight;
        if (clip_.on) r *= clip_.factor(r * r * linalg::lane_sum(0, d_, [&](std::int64_t j) {
          return sl[j] * sl[j] * z[j] * z[j];  // |g_b|^2 = r_b^2 sum_j lambda_j z_j^2
        }));
        for (Eigen::Index j = 0; j < d_; ++j) g[j] += sl[j] * z[j] * r;
      }
    }
    if (clip_.on) clip_.add_noise(slot_.seed, t, g);
    const double inv_b = 1.0 / static_cast<double>(B);
    const MomentumStep upd(adapt(c, t, [&] {
      StepStats s = error_stats();
      s.grad2 = linalg::lane_sum(0, d_, [&](std::int64_t j) { return g[j] * g[j]; }) * inv_b * inv_b;
      s.batch_loss = 0.5 * r2 * inv_b;
      return s;
    }), m_.sgd);
    fused_update(upd, [&](Eigen::Index j) { return g[j] * inv_b; });
    return true;
  }

  // The coefficients of step t under the run's controller (unchanged without one).
  template <class Stats>
  Coefficients adapt(const Coefficients& c, std::uint64_t t, Stats&& stats) {
    return plrf::adapt(m_.ctrl, c, static_cast<std::int64_t>(t), slot_.ctrl, static_cast<double>(m_.batch), m_.trace2,
                       stats);
  }

  // The statistics of the current error (risk, and the oracle's ||K e||^2, e^T K^3 e).
  StepStats error_stats() const {
    StepStats s;
    s.risk = risk();
    if (m_.ctrl->needs_oracle()) {
      const double* lam = m_.spectrum->eigenvalues.data();
      const double* e = slot_.x;
      s.k2 = linalg::lane_sum(0, d_, [&](std::int64_t j) { return lam[j] * lam[j] * e[j] * e[j]; });
      s.k3 = linalg::lane_sum(0, d_, [&](std::int64_t j) { return lam[j] * lam[j] * lam[j] * e[j] * e[j]; });
    }
    return s;
  }

  // Fast sampler: with g_j = lambda_j e_j ce + lambda_j^{1/2} xi_j cx, the realised
  //   ||g||^2 = ce^2 sum lambda^2 e^2 + 2 ce cx sum lambda^{3/2} e xi + cx^2 sum lambda xi^2,
  // and the batch loss is |r|^2 / (2B). An extra O(d) pass, paid only by controllers that read them.
  StepStats fast_stats(const double* xi, double ce, double cx, double r2) const {
    StepStats s = error_stats();
    if (m_.ctrl->needs_grad2()) {
      const double* lam = m_.spectrum->eigenvalues.data();
      const double* sl = m_.sqrt_lambda.data();
      const double* e = slot_.x;
      const double ee = linalg::lane_sum(0, d_, [&](std::int64_t j) { return lam[j] * lam[j] * e[j] * e[j]; });
      const double ex = linalg::lane_sum(0, d_, [&](std::int64_t j) { return lam[j] * sl[j] * e[j] * xi[j]; });
      const double xx = linalg::lane_sum(0, d_, [&](std::int64_t j) { return lam[j] * xi[j] * xi[j]; });
      s.grad2 = ce * ce * ee + 2.0 * ce * cx * ex + cx * cx * xx;
    }
    s.batch_loss = 0.5 * (r2 > 0.0 ? r2 : 0.0) / static_cast<double>(m_.batch);
    return s;
  }

  static constexpr std::int64_t kPollEvery = std::int64_t{1} << 16;

  // Applies the momentum step with gradient grad(j) and refreshes the energy in one pass; with
  // ridge, decay or noise on, the step goes through knob_ (simulate/knob_step.hpp).
  template <class Grad>
  void fused_update(const MomentumStep& upd, Grad&& grad) {
    if (knob_.on) return fused_knob_update(upd, grad);
    const double* lam = m_.spectrum->eigenvalues.data();
    double* e = slot_.x;
    double* y = slot_.y;
    energy_ = linalg::lane_sum(0, d_, [&](std::int64_t j) {
      const double ej = upd(e[j], y[j], grad(j));
      e[j] = ej;
      return lam[j] * ej * ej;
    });
  }
  template <class Grad>
  void fused_knob_update(const MomentumStep& upd, Grad&& grad) {
    const double* lam = m_.spectrum->eigenvalues.data();
    double* e = slot_.x;
    double* y = slot_.y;
    energy_ = linalg::lane_sum(0, d_, [&](std::int64_t j) {
      const double ej = knob_(upd, j, e[j], y[j], grad(j));
      e[j] = ej;
      return lam[j] * ej * ej;
    });
  }

  const EigenModel& m_;
  SeedSlot slot_;
  Eigen::Index d_;
  std::vector<double> buf_, grad_;
  KnobStep knob_;
  ClipStep clip_;        // DP-SGD clipping and noise (explicit sampler only)
  const bool fused_;     // the plain fast sampler: one fused pass per step (eigen_fused.hpp)
  double energy_ = 0.0;  // |a|^2 = sum_j lambda_j e_j^2
  double ax_ = 0.0;      // fused pass: a . xi for step primed_, whose xi is in buf_
  std::uint64_t primed_ = ~std::uint64_t{0};
};

}  // namespace plrf::simulate
