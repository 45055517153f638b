// DP-SGD's privatised gradient (docs/privacy.md): each sample's gradient g_b is clipped to norm C,
// g_b min(1, C / |g_b|), the clipped gradients are summed, and Gaussian noise of standard deviation
// s C per coordinate (s the noise multiplier) is added to the sum before it is divided by B. The
// optimizer (any Gen-Mom member) then reads this gradient.
//
// Both simulators form per-sample gradients explicitly for it: the eigen path's explicit sampler
// (g_b = Lambda^{1/2} z_b r_b, |g_b|^2 = r_b^2 sum_j lambda_j z_bj^2; clipping is rotation invariant,
// so this is exact in law) and the full path's features path (g_b = f_b r_b). The noise is normal j
// of (seed, kClipNoise) at step t, a stream of its own, so results do not depend on threads, chunking
// or resume. Off (C = oo): the steppers skip this file and run bit for bit as before.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "plrf/optim/update_knobs.hpp"
#include "plrf/rng/normal.hpp"
#include "plrf/rng/streams.hpp"

namespace plrf::simulate {

class ClipStep {
 public:
  ClipStep(const UpdateKnobs& knobs, std::int64_t d)
      : on(knobs.clips()), c_(knobs.clip), noise_(knobs.clip_noise * knobs.clip),
        zeta_(on && noise_ != 0.0 ? static_cast<std::size_t>(d) : 0) {}

  const bool on;

  // The factor that clips a sample gradient of squared norm norm2 to norm C.
  double factor(double norm2) const { return norm2 > c_ * c_ ? c_ / std::sqrt(norm2) : 1.0; }

  // Adds the step's noise s C zeta to the batch sum g (length d).
  void add_noise(std::uint64_t seed, std::uint64_t t, double* g) {
    if (zeta_.empty()) return;
    rng::fill_normals({seed, rng::kClipNoise}, t, 0, zeta_.size(), zeta_.data());
    for (std::size_t j = 0; j < zeta_.size(); ++j) g[j] += noise_ * zeta_[j];
  }

 private:
  double c_, noise_;
  std::vector<double> zeta_;
};

}  // namespace plrf::simulate
