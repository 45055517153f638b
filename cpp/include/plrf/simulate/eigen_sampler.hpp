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
// scalars are variates 0, 1, 2 of (seed, kScalars) at step t.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/runtime/divergence.hpp"
#include "plrf/linalg/lane_sum.hpp"
#include "plrf/rng/gamma.hpp"
#include "plrf/rng/normal.hpp"
#include "plrf/simulate/eigen_fused.hpp"
#include "plrf/simulate/state.hpp"
#include "plrf/spectrum/spectrum.hpp"

namespace plrf::simulate {

enum class Sampler { Fast, Explicit };

// Shared, read-only data of an eigenbasis run.
struct EigenModel {
  const Spectrum* spectrum;
  std::vector<double> sqrt_lambda;
  double sigma;  // sqrt(2 P_inf), the label-noise scale
  std::int64_t batch;
  Sampler sampler;
  bool sgd;

  EigenModel(const Spectrum& spec, std::int64_t batch_, Sampler sampler_, bool sgd_)
      : spectrum(&spec), sqrt_lambda(spec.dim()), sigma(std::sqrt(2.0 * spec.p_inf)), batch(batch_),
        sampler(sampler_), sgd(sgd_) {
    for (Eigen::Index j = 0; j < spec.dim(); ++j) sqrt_lambda[j] = std::sqrt(spec.eigenvalues[j]);
  }
};

// Per-seed stepper: owns scratch buffers, reads and writes the seed's state in place.
class EigenStepper {
 public:
  EigenStepper(const EigenModel& model, const SeedSlot& slot)
      : m_(model), slot_(slot), d_(model.spectrum->dim()), buf_(d_), grad_(model.sampler == Sampler::Explicit ? d_ : 0) {
    energy_ = model.sampler == Sampler::Fast ? fused::energy(fast_pass()) : weighted_energy();
  }

  // One step; false if cancelled inside it (explicit sampler, huge batch), the state untouched so
  // that a resume redoes the whole step.
  bool step(std::int64_t t, const Coefficients& c, const RunControl& control) {
    if (m_.sampler == Sampler::Explicit)
      return explicit_step(static_cast<std::uint64_t>(t), MomentumStep(c, m_.sgd), control);
    fast_step(static_cast<std::uint64_t>(t), MomentumStep(c, m_.sgd));
    return true;
  }

  // Exact population risk of the current iterate, known after every step for free: the weighted
  // energy is a by-product of the update loop.
  double risk() const { return m_.spectrum->risk_from_energy(energy_); }

  bool blew_up(const DivergenceGuard& guard, std::int64_t) const { return guard.diverged(risk()); }

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

  // xi_t and a . xi_t come from the previous step's pass (eigen_fused.hpp), or from a priming
  // pass on the first step of this stepper; this step's pass draws xi_{t+1}.
  void fast_step(std::uint64_t t, const MomentumStep& upd) {
    const rng::StreamKey key{slot_.seed, rng::kEigenSamples};
    fused::FastPass p = fast_pass();
    if (primed_ != t) ax_ = fused::prime(p, key, t);

    const rng::StreamKey sk{slot_.seed, rng::kScalars};
    const double B = static_cast<double>(m_.batch);
    const double c1sq = rng::chi_square(B, sk, t, 0);
    const double c2sq = rng::chi_square(B - 1.0, sk, t, 1);
    const double n21 = rng::scalar_normal(sk, t, 2);
    const double a2 = energy_, na = std::sqrt(a2), sigma = m_.sigma;
    const double w_eps = std::sqrt(c1sq) * n21;  // w . eps'
    const double eps2 = n21 * n21 + c2sq;        // |eps'|^2
    const double s1 = na * c1sq - sigma * w_eps;  // w . r
    const double r2 = a2 * c1sq - 2.0 * na * sigma * w_eps + sigma * sigma * eps2;
    const double rn = std::sqrt(r2 > 0.0 ? r2 : 0.0);
    p.coef_e = na > 0.0 ? (s1 - rn * ax_ / na) / (na * B) : 0.0;
    p.coef_xi = rn / B;
    fused::fused(p, upd, key, t + 1, energy_, ax_);
    primed_ = t + 1;
  }

  // The batch loop is O(B d): it polls for cancellation every ~2^16 sample coordinates (a relaxed
  // atomic load, nothing next to 2^16 normals), and writes the state only after the whole batch.
  bool explicit_step(std::uint64_t t, const MomentumStep& upd, const RunControl& control) {
    const rng::StreamKey key{slot_.seed, rng::kEigenSamples};
    const std::int64_t B = m_.batch;
    const double* sl = m_.sqrt_lambda.data();
    const double* e = slot_.x;
    double* z = buf_.data();
    double* g = grad_.data();
    std::fill(grad_.begin(), grad_.end(), 0.0);
    std::int64_t unpolled = 0;
    for (std::int64_t b = 0; b < B; ++b) {
      if ((unpolled += d_) >= kPollEvery) {
        if (control.cancelled()) return false;
        unpolled = 0;
      }
      rng::fill_normals(key, t, static_cast<std::uint64_t>(b * d_), static_cast<std::size_t>(d_), z);
      double eps = 0.0;
      rng::fill_normals(key, t, static_cast<std::uint64_t>(B * d_ + b), 1, &eps);
      double r = -m_.sigma * eps;  // <f_b, e> - eps_b
      for (Eigen::Index j = 0; j < d_; ++j) r += sl[j] * z[j] * e[j];
      for (Eigen::Index j = 0; j < d_; ++j) g[j] += sl[j] * z[j] * r;
    }
    const double inv_b = 1.0 / static_cast<double>(B);
    fused_update(upd, [&](Eigen::Index j) { return g[j] * inv_b; });
    return true;
  }
  static constexpr std::int64_t kPollEvery = std::int64_t{1} << 16;

  // Applies the momentum step with gradient grad(j) and refreshes the energy in one pass.
  template <class Grad>
  void fused_update(const MomentumStep& upd, Grad&& grad) {
    const double* lam = m_.spectrum->eigenvalues.data();
    double* e = slot_.x;
    double* y = slot_.y;
    energy_ = linalg::lane_sum(0, d_, [&](std::int64_t j) {
      const double ej = upd(e[j], y[j], grad(j));
      e[j] = ej;
      return lam[j] * ej * ej;
    });
  }

  const EigenModel& m_;
  SeedSlot slot_;
  Eigen::Index d_;
  std::vector<double> buf_, grad_;
  double energy_ = 0.0;  // |a|^2 = sum_j lambda_j e_j^2
  double ax_ = 0.0;      // fast sampler: a . xi for step primed_, whose xi is in buf_
  std::uint64_t primed_ = ~std::uint64_t{0};
};

}  // namespace plrf::simulate
