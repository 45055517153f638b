// SGD's stochastic-differential models in the eigenbasis (docs/families.md §4), steppers for the
// simulator driver (driver.hpp) beside EigenStepper's true batch gradient.
//
// dynamics="hsgd": homogenized SGD, de_j = -gamma lambda_j e_j dt + gamma sqrt(2 P lambda_j / B) dW_j.
//   Each unit step [t, t + 1) (gamma = the schedule's value at t) is cut into n substeps of length
//   h = 1/n; over a substep the path risk P is frozen at its start and the Ornstein-Uhlenbeck part is
//   integrated exactly per mode:
//     e_j <- E_j e_j + gamma sqrt(S_j / B) sqrt(2 P lambda_j) xi_j,
//     E_j = exp(-gamma lambda_j h),  S_j = (1 - E_j^2) / (2 gamma lambda_j)  (the OU variance integral).
// dynamics="ito": the same plus the rank-one term gamma sqrt(S_j / B) lambda_j e_j zeta (one scalar
//   zeta per substep), which adds SGD's covariance part Lambda e e^T Lambda / B: the Ito SDE with SGD's
//   full covariance (each mode gets the right variance; the cross-mode correlation inside a substep
//   is approximated, which the expected risk does not see).
//   Expected risk of both: exact/sde_scheme.hpp (method="continuous" with substeps), first order in h
//   towards method="continuous" (models "hsgd" / "ito").
// dynamics="gaussianised": Gen-Mom-SGD (any member) on a Gaussian gradient with SGD's conditional mean
//   and covariance, g = Lambda e + B^{-1/2} (sqrt(2 P lambda) xi + (Lambda e) zeta): exactly
//   docs/theory.md §4 in expectation, another law (the Euler step h = 1 of the full-covariance SDE).
//
// Randomness: (seed, kSde) at step t; substep k reads normals k (d + 1) .. k (d + 1) + d - 1 for xi
// and k (d + 1) + d for zeta (the Gaussianised gradient is substep 0).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "plrf/exact/sde_scheme.hpp"
#include "plrf/linalg/lane_sum.hpp"
#include "plrf/rng/normal.hpp"
#include "plrf/runtime/control.hpp"
#include "plrf/runtime/divergence.hpp"
#include "plrf/simulate/state.hpp"
#include "plrf/spectrum/spectrum.hpp"

namespace plrf::simulate {

enum class Dynamics { Sgd, Hsgd, Ito, Gaussianised };

inline Dynamics dynamics_of(const std::string& name) {
  if (name == "sgd") return Dynamics::Sgd;
  if (name == "hsgd") return Dynamics::Hsgd;
  if (name == "ito") return Dynamics::Ito;
  if (name == "gaussianised") return Dynamics::Gaussianised;
  throw std::invalid_argument("dynamics must be 'sgd', 'hsgd', 'ito' or 'gaussianised', got '" + name + "'");
}

// Shared, read-only data of an SDE run.
struct SdeModel {
  const Spectrum* spectrum;
  std::vector<double> sqrt_lambda;
  std::int64_t batch;
  Dynamics dynamics;
  int substeps;
  bool sgd;

  SdeModel(const Spectrum& spec, std::int64_t batch_, Dynamics dynamics_, int substeps_, bool sgd_)
      : spectrum(&spec), sqrt_lambda(spec.dim()), batch(batch_), dynamics(dynamics_), substeps(substeps_), sgd(sgd_) {
    if (dynamics == Dynamics::Sgd) throw std::invalid_argument("SdeModel: dynamics='sgd' runs on EigenStepper");
    if ((dynamics == Dynamics::Hsgd || dynamics == Dynamics::Ito) && !sgd)
      throw std::invalid_argument("dynamics='hsgd' and 'ito' are SDEs of plain SGD: the optimizer must have "
                                  "gamma1 = gamma3 = 0");
    if (substeps < 1) throw std::invalid_argument("substeps must be >= 1, got " + std::to_string(substeps));
    for (Eigen::Index j = 0; j < spec.dim(); ++j) sqrt_lambda[j] = std::sqrt(spec.eigenvalues[j]);
  }
};

// Per-seed stepper (the interface drive_seed expects: step, risk, blew_up).
class SdeStepper {
 public:
  SdeStepper(const SdeModel& model, const SeedSlot& slot)
      : m_(model), slot_(slot), d_(model.spectrum->dim()), xi_(d_ + 1) {
    const double* lam = m_.spectrum->eigenvalues.data();
    const double* e = slot_.x;
    energy_ = linalg::lane_sum(0, d_, [&](std::int64_t j) { return lam[j] * e[j] * e[j]; });
  }

  // One step; false if cancelled inside it (many substeps), the state restored so that a resume
  // redoes the whole step.
  bool step(std::int64_t t, const Coefficients& c, const RunControl& control) {
    if (m_.dynamics != Dynamics::Gaussianised) return ou_steps(static_cast<std::uint64_t>(t), c.G(), control);
    gaussianised_step(static_cast<std::uint64_t>(t), MomentumStep(c, m_.sgd));
    return true;
  }

  double risk() const { return m_.spectrum->risk_from_energy(energy_); }
  bool blew_up(const DivergenceGuard& guard, std::int64_t) const { return guard.diverged(risk()); }

 private:
  // xi_[0 .. d) and zeta = xi_[d]: the normals of substep k at step t.
  void draw(std::uint64_t t, int k) {
    const auto n = static_cast<std::uint64_t>(d_ + 1);
    rng::fill_normals({slot_.seed, rng::kSde}, t, static_cast<std::uint64_t>(k) * n, static_cast<std::size_t>(n),
                      xi_.data());
  }

  // E_j, the noise factor gamma sqrt(S_j lambda_j / B) and the rank-one factor gamma sqrt(S_j / B) lambda_j,
  // recomputed only when the step size changes.
  void ou_factors(double gamma) {
    if (gamma == gamma_) return;
    gamma_ = gamma;
    decay_.resize(d_), noise_.resize(d_), rank_.resize(d_);
    const double h = 1.0 / m_.substeps, inv_b = 1.0 / static_cast<double>(m_.batch);
    const double* lam = m_.spectrum->eigenvalues.data();
    for (Eigen::Index j = 0; j < d_; ++j) {
      const exact::OuSubstep ou = exact::ou_substep(gamma, lam[j], h);
      decay_[j] = ou.E;
      const double f = gamma * std::sqrt(ou.S * inv_b);
      noise_[j] = f * m_.sqrt_lambda[j];
      rank_[j] = f * lam[j];
    }
  }

  // The substeps of step t. A step of more than poll_every() substeps polls for cancellation every
  // poll_every() substeps (~2^16 normals: a relaxed atomic load is nothing next to them) and keeps
  // a copy of its start to restore when cancelled.
  bool ou_steps(std::uint64_t t, double gamma, const RunControl& control) {
    ou_factors(gamma);
    const bool ito = m_.dynamics == Dynamics::Ito;
    const double* lam = m_.spectrum->eigenvalues.data();
    double* e = slot_.x;
    const int every = poll_every();
    const bool polls = m_.substeps > every;
    if (polls) start_.assign(e, e + d_), start_energy_ = energy_;
    std::int64_t next_poll = every;  // 64 bits: never overflows near substeps = 2^31 - 1
    for (int k = 0; k < m_.substeps; ++k) {
      if (polls && k == next_poll) {
        if (control.cancelled()) {
          std::copy(start_.begin(), start_.end(), e), energy_ = start_energy_;
          return false;
        }
        next_poll += every;
      }
      draw(t, k);
      const double sqrt_r2 = std::sqrt(2.0 * risk());  // the path risk, frozen over the substep
      const double zeta = ito ? xi_[d_] : 0.0;
      energy_ = linalg::lane_sum(0, d_, [&](std::int64_t j) {
        const double ej = (decay_[j] + rank_[j] * zeta) * e[j] + noise_[j] * sqrt_r2 * xi_[j];
        e[j] = ej;
        return lam[j] * ej * ej;
      });
    }
    return true;
  }

  int poll_every() const { return static_cast<int>(std::max<std::int64_t>(1, kPollNormals / (d_ + 1))); }
  static constexpr std::int64_t kPollNormals = std::int64_t{1} << 16;

  void gaussianised_step(std::uint64_t t, const MomentumStep& upd) {
    draw(t, 0);
    const double inv_sqrt_b = 1.0 / std::sqrt(static_cast<double>(m_.batch));
    const double mean_gain = 1.0 + xi_[d_] * inv_sqrt_b;  // Lambda e (1 + zeta / sqrt B)
    const double noise = std::sqrt(2.0 * risk()) * inv_sqrt_b;
    const double* lam = m_.spectrum->eigenvalues.data();
    const double* sl = m_.sqrt_lambda.data();
    double* e = slot_.x;
    double* y = slot_.y;
    energy_ = linalg::lane_sum(0, d_, [&](std::int64_t j) {
      const double ej = upd(e[j], y[j], lam[j] * e[j] * mean_gain + sl[j] * noise * xi_[j]);
      e[j] = ej;
      return lam[j] * ej * ej;
    });
  }

  const SdeModel& m_;
  SeedSlot slot_;
  Eigen::Index d_;
  std::vector<double> xi_, decay_, noise_, rank_, start_;
  double gamma_ = std::numeric_limits<double>::quiet_NaN();
  double energy_ = 0.0, start_energy_ = 0.0;
};

}  // namespace plrf::simulate
