// The Gen-Mom-SGD family (docs/theory.md §3), with g the batch-averaged gradient:
//   y_{t+1}     = (1 - Delta_t) y_t + gamma1_t g_t,      y_0 = 0
//   theta_{t+1} = theta_t - gamma2_t g_t - gamma3_t y_{t+1}
// SGD, SGD-M and DANA are members. Every engine reads the coefficients through at(t).
// Ridge, decoupled weight decay, injected noise and SVAG are extra knobs (optim/update_knobs.hpp):
// at(t) returns their values at t and, for SVAG, gamma2 and gamma3 already divided by l.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "plrf/optim/schedule.hpp"
#include "plrf/optim/update_knobs.hpp"

namespace plrf {

struct Coefficients {
  double gamma1, gamma2, gamma3, delta;
  double l2 = 0.0, decay = 0.0, noise = 0.0;  // ridge, decoupled decay, injected noise std at t
  double noise_scale = 1.0;                   // SVAG's l: the gradient covariance is l times the batch's
  double G() const { return gamma2 + gamma1 * gamma3; }  // total step on the fresh gradient
  double m() const { return 1.0 - delta; }               // momentum retention
};

struct GenMomentum {
  Schedule gamma1, gamma2, gamma3, delta;
  std::string name = "gen_momentum";
  UpdateKnobs knobs = {};

  Coefficients at(double t) const {
    const double l = knobs.svag_l;
    return {gamma1(t), gamma2(t) / l, gamma3(t) / l, delta(t), knobs.l2(t), knobs.decay(t), knobs.noise(t), l};
  }

  // Plain SGD never touches the momentum, so engines may keep one scalar per mode.
  bool is_sgd() const {
    return gamma1.is_constant() && gamma1.c() == 0.0 && gamma3.is_constant() && gamma3.c() == 0.0;
  }

  void check_length(std::int64_t steps) const {
    gamma1.check_length(steps, "gamma1");
    gamma2.check_length(steps, "gamma2");
    gamma3.check_length(steps, "gamma3");
    delta.check_length(steps, "delta");
    knobs.check_length(steps);
  }
};

}  // namespace plrf
