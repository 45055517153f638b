// The step-size controllers (optim/controller.hpp): each rule on hand-made statistics, the
// placement, dt = 1 being the per-step rule, and the checks.
#include <doctest.h>

#include <cmath>
#include <stdexcept>

#include "plrf/optim/controller.hpp"

using plrf::Controller;
using plrf::StepStats;

namespace {
Controller make(Controller::Kind kind, unsigned placement = Controller::kGamma2) {
  Controller c;
  c.kind = kind, c.placement = placement;
  return c;
}
}  // namespace

TEST_CASE("controller rules on given statistics") {
  const StepStats s{4.0, 0.5, 0.75, 2.0, 3.0};  // grad2, risk, batch_loss, k2, k3
  Controller ada = make(Controller::Kind::AdaGradNorm);
  ada.G = 2.0, ada.b0 = 3.0;
  double S = ada.start();
  CHECK(S == 9.0);
  CHECK(ada.multiplier(0, s, S, 1, 1) == doctest::Approx(2.0 / std::sqrt(13.0)));  // includes the current g
  CHECK(S == 13.0);

  Controller pol = make(Controller::Kind::Polyak);
  pol.c = 0.5, pol.floor = 0.25;
  double none = pol.start();
  CHECK(pol.multiplier(0, s, none, 1, 1) == doctest::Approx(0.5 / 2.0));

  Controller ls = make(Controller::Kind::LineSearch);
  CHECK(ls.multiplier(0, s, none, 2, 5.0) == doctest::Approx(2.0 / (1.5 * 3.0 + 5.0 * 1.0 / 2)));

  Controller adam = make(Controller::Kind::RiskNorm, Controller::kGamma3);
  CHECK(adam.multiplier(0, s, none, 1, 1) == doctest::Approx(1.0));  // 1 / sqrt(2 * 0.5)

  Controller ema = make(Controller::Kind::EmaNorm);
  double v = ema.start(), v1 = ema.start();
  const double m = ema.multiplier(0, s, v, 1, 1);
  CHECK(m == doctest::Approx(0.5));  // bias-corrected v = grad2 after one step
  CHECK(ema.multiplier(0, s, v1, 1, 1, 1.0) == m);  // dt = 1 is the per-step rule, bitwise

  Controller log_ema = make(Controller::Kind::LogEmaNorm);  // ADana's: weight delta / (delta + t)
  log_ema.delta = 2.0;
  double w = log_ema.start();
  CHECK(log_ema.multiplier(0, s, w, 1, 1) == doctest::Approx(0.5));  // a_0 = 1: v_1 = grad2 = 4
  CHECK(w == 4.0);
  const StepStats s2{16.0, 0.5, 0.5, 0.0, 0.0};
  log_ema.multiplier(2, s2, w, 1, 1);  // a_2 = 2 / 4: v = 4 / 2 + 16 / 2
  CHECK(w == doctest::Approx(10.0));
  CHECK_THROWS_AS(log_ema.multiplier(3, s2, w, 1, 1, 0.5), std::invalid_argument);  // no ODE form
}

TEST_CASE("placement scales only the named coefficients") {
  const Controller c = make(Controller::Kind::RiskNorm, Controller::kGamma1 | Controller::kGamma3);
  const plrf::Coefficients k = c.scale({1.0, 2.0, 3.0, 0.5}, 10.0);
  CHECK(k.gamma1 == 10.0);
  CHECK(k.gamma2 == 2.0);
  CHECK(k.gamma3 == 30.0);
  CHECK(k.delta == 0.5);
}

TEST_CASE("controller checks name the parameter") {
  Controller ada = make(Controller::Kind::AdaGradNorm);
  ada.G = 0.0;
  CHECK_THROWS_WITH_AS(ada.validate(), doctest::Contains("G"), std::invalid_argument);
  ada.G = 1.0, ada.b0 = std::nan("");
  CHECK_THROWS_WITH_AS(ada.validate(), doctest::Contains("b0"), std::invalid_argument);
  Controller pol = make(Controller::Kind::Polyak);
  pol.c = -1.0;
  CHECK_THROWS_WITH_AS(pol.validate(), doctest::Contains("c must"), std::invalid_argument);
  Controller bad = make(Controller::Kind::LineSearch, 0);
  CHECK_THROWS_WITH_AS(bad.validate(), doctest::Contains("placement"), std::invalid_argument);
}
