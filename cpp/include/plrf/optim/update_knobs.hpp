// Extra knobs of a Gen-Mom-SGD step (docs/families.md §2-3), on top of the four schedules:
//   ridge l2_t        g^ = g + l2_t theta                 (enters the momentum, like any gradient)
//   decay w_t         theta' = ... - w_t theta            (decoupled weight decay, e.g. ADana's omega/(1+t))
//   noise sigma_t     theta' = ... + sigma_t zeta,  zeta ~ N(0, I_d)   (isotropic, per-coordinate std)
//   svag_l = l >= 1   SVAG: two independent batches combined as c+ g1 + c- g2, c+- = (1 +- sqrt(2l-1))/2,
//                     and gamma2, gamma3 divided by l. The combination has the gradient's mean and l
//                     times its covariance, so the moment map only sees gamma2/l, gamma3/l and 1/B -> l/B.
//   clip C, clip_noise s  DP-SGD (simulate/clip_step.hpp): each sample's gradient clipped to norm C, then
//                     Gaussian noise s C added to the batch sum; Monte Carlo only (the exact engines refuse it).
// All default to "off" (constant 0, l = 1), in which case every engine runs exactly as without them.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "plrf/optim/schedule.hpp"
#include "plrf/runtime/format.hpp"

namespace plrf {

struct UpdateKnobs {
  Schedule l2 = Schedule::constant(0.0), decay = Schedule::constant(0.0), noise = Schedule::constant(0.0);
  double svag_l = 1.0;
  double clip = std::numeric_limits<double>::infinity(), clip_noise = 0.0;  // off: C = oo, no noise

  static bool off(const Schedule& s) { return s.is_constant() && s.c() == 0.0; }
  // Ridge, decay or noise on: the moments need the affine terms (u, v) and the exact recursion.
  bool affine() const { return !off(l2) || !off(decay) || !off(noise); }
  bool svag() const { return svag_l != 1.0; }
  bool clips() const { return std::isfinite(clip); }
  // c+ and c- of the SVAG combination (c+ = 1, c- = 0 when l = 1).
  double c_plus() const { return 0.5 * (1.0 + std::sqrt(2.0 * svag_l - 1.0)); }
  double c_minus() const { return 0.5 * (1.0 - std::sqrt(2.0 * svag_l - 1.0)); }

  // l >= 1; the schedules' constants must be >= 0 (a power law c (1 + t/tau)^p keeps c's sign;
  // array values are checked here too), so that a negative value can never reach an engine.
  void validate() const {
    if (!(svag_l >= 1.0) || !std::isfinite(svag_l))
      throw std::invalid_argument("svag l must be finite and >= 1, got " + format_number(svag_l));
    nonneg(l2, "l2"), nonneg(decay, "decay"), nonneg(noise, "noise");
    if (!(clip > 0.0))
      throw std::invalid_argument("clip (the clip norm C) must be > 0, got " + format_number(clip));
    if (!(clip_noise >= 0.0) || !std::isfinite(clip_noise))
      throw std::invalid_argument("noise_multiplier must be finite and >= 0, got " + format_number(clip_noise));
    if (!clips() && clip_noise != 0.0)
      throw std::invalid_argument("noise_multiplier > 0 needs a finite clip norm (the noise std is noise_multiplier * C)");
  }

  void check_length(std::int64_t steps) const {
    l2.check_length(steps, "l2"), decay.check_length(steps, "decay"), noise.check_length(steps, "noise");
  }

 private:
  static void nonneg(const Schedule& s, const char* name) {
    bool ok = s.c() >= 0.0;
    for (double x : s.values()) ok = ok && x >= 0.0;
    if (!ok) throw std::invalid_argument(std::string(name) + " must be >= 0 and not NaN");
  }
};

}  // namespace plrf
