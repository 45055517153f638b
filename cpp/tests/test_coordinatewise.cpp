#include <doctest.h>

#include <cmath>

#include "plrf/optim/coordinatewise.hpp"

using plrf::CoordRule;
using plrf::CoordStep;
using plrf::Schedule;

TEST_CASE("coordinate-wise rules: one step by hand") {
  CoordRule r;
  r.lr = Schedule::constant(0.1);
  double m = 0.0, v = 0.0;
  r.kind = CoordRule::Kind::Sign;
  CHECK(CoordStep(r, 0)(0, 1.0, m, v, -3.0) == doctest::Approx(0.1));
  CHECK(CoordStep(r, 0)(0, 1.0, m, v, 0.0) == 0.0);  // sign(0) = 0
  // Adam's first step is lr g / (|g| + eps) after bias correction, whatever b1, b2
  r.kind = CoordRule::Kind::Adam, r.b1 = 0.9, r.b2 = 0.999, r.eps = 1e-8;
  m = v = 0.0;
  CHECK(CoordStep(r, 0)(0, 1.0, m, v, 2.0) == doctest::Approx(-0.1 * 2.0 / (2.0 + 1e-8)));
  CHECK(m == doctest::Approx(0.2));
  CHECK(v == doctest::Approx(0.004));
  // AdamW's decay is decoupled: -lr wd theta from the theta before the step, outside the normalisation
  r.weight_decay = Schedule::constant(0.5), r.decoupled = true;
  m = v = 0.0;
  CHECK(CoordStep(r, 0)(0, 2.0, m, v, 2.0) == doctest::Approx(-0.1 * 0.5 * 2.0 - 0.1 * 2.0 / (2.0 + 1e-8)));
  // coupled (L2): the gradient becomes g + wd theta
  r.decoupled = false, r.kind = CoordRule::Kind::RMSprop, r.b2 = 0.0;
  m = v = 0.0;
  CHECK(CoordStep(r, 0)(0, 2.0, m, v, 2.0) == doctest::Approx(-0.1 * 3.0 / (3.0 + 1e-8)));
  r.kind = CoordRule::Kind::Precond, r.weight_decay = Schedule::constant(0.0), r.diag = {4.0};
  CHECK(CoordStep(r, 0)(0, 2.0, m, v, 2.0) == doctest::Approx(-0.8));
  CHECK_THROWS(r.validate(2, 1));  // diag needs d entries
}

TEST_CASE("coordinate-wise rules: clipping by norm, then per coordinate") {
  CoordRule r;
  double g[2] = {3.0, 4.0};
  r.clip_norm = 1.0, r.clip = 0.7;
  r.clip_gradient(g, 2);
  CHECK(g[0] == doctest::Approx(0.6));
  CHECK(g[1] == doctest::Approx(0.7));  // 0.8 after the norm, then clipped
  r.clip = -1.0;
  CHECK_THROWS(r.validate(2, 1));
}
