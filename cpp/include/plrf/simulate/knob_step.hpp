// Ridge, decoupled weight decay and injected noise in the simulators (docs/families.md §2), applied
// around the Gen-Mom-SGD step of one coordinate with theta = phi* + x (the eigenbasis error x = e and
// phi* = U^T theta*; in theta space phi* = 0 and x = theta):
//   g^ = g + l2 theta,  x' = step(x, y, g^) - w theta + sigma zeta,   zeta ~ N(0, 1)
// (the decay acts on the pre-step theta, as in docs/families.md §0). zeta is normal j of
// (seed, kInjectedNoise) at step t (normal lane d + j for expert `lane` of a mixture, so that experts
// never share noise), so the noise never shares draws with the gradient.
#pragma once
#include <cstdint>
#include <vector>

#include "plrf/optim/gen_momentum.hpp"
#include "plrf/rng/normal.hpp"
#include "plrf/rng/streams.hpp"

namespace plrf::simulate {

class KnobStep {
 public:
  // phi: phi*_j per coordinate, or nullptr for theta space. Inactive unless the optimizer has the knobs.
  KnobStep(const UpdateKnobs& knobs, const double* phi, std::int64_t d)
      : on(knobs.affine()), phi_(phi), zeta_(on ? static_cast<std::size_t>(d) : 0) {}

  const bool on;

  // Reads the knobs of step t and draws that step's noise (at lane `lane`: expert `lane` of a mixture).
  void prepare(std::uint64_t seed, std::uint64_t t, const Coefficients& c, std::uint64_t lane = 0) {
    l2_ = c.l2, w_ = c.decay, sigma_ = c.noise;
    if (sigma_ != 0.0)
      rng::fill_normals({seed, rng::kInjectedNoise}, t, lane * zeta_.size(), zeta_.size(), zeta_.data());
  }

  // The new x of coordinate j from the plain step `upd` (a MomentumStep) and the gradient g.
  template <class Step>
  double operator()(const Step& upd, std::int64_t j, double x, double& y, double g) const {
    const double theta = phi_ ? phi_[j] + x : x;
    const double out = upd(x, y, g + l2_ * theta) - w_ * theta;
    return sigma_ != 0.0 ? out + sigma_ * zeta_[static_cast<std::size_t>(j)] : out;
  }

 private:
  const double* phi_;
  std::vector<double> zeta_;
  double l2_ = 0.0, w_ = 0.0, sigma_ = 0.0;
};

}  // namespace plrf::simulate
