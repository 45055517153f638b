// The affine moment map (ridge, decay, noise; docs/families.md §2) and SVAG's coefficients (§3).
#include <doctest.h>

#include <cmath>

#include "plrf/exact/moments.hpp"
#include "plrf/optim/gen_momentum.hpp"

using namespace plrf::exact;
using plrf::Schedule;

TEST_CASE("the affine step with every knob off is the plain step, bit for bit (single learner and routed)") {
  for (const Route route : {Route{}, Route{0.3, 0.3 * (2.0 - 0.3), 1.0}}) {  // routed: an expert of a mixture
    const StepCoefs k(plrf::Coefficients{1.0, 0.05, 0.02, 0.1}, 3, route);
    double a = 0.3, s = 0.2, c = -0.1, u = -0.3, v = 0.05;
    double a2 = a, s2 = s, c2 = c;
    step_affine<false>(k, 0.7, 1.3, 0.3, 1.0, a, s, c, u, v);
    step<false>(k, 0.7, 1.3, a2, s2, c2);
    CHECK(a == a2);
    CHECK(s == s2);
    CHECK(c == c2);
  }
}

TEST_CASE("SGD with decay: a and u follow docs/theory.md §11.3 (with lr l2 -> w)") {
  const double lr = 0.2, w = 0.03, lam = 0.5, q = 0.4, R2 = 0.9, sigma = 0.01;
  plrf::Coefficients co{0.0, lr, 0.0, 1.0};
  co.decay = w, co.noise = sigma;
  const StepCoefs k(co, 2);
  double a = 0.35, u = -0.3, dummy = 0.0;
  const double cc = 1.0 - w;  // the notes' c with eta lambda_r -> w
  const double a_want = cc * cc * a - 2.0 * w * cc * u + w * w * q -
                        2.0 * lr * lam * (cc * a - w * u) + lr * lr * ((1.0 + 0.5) * lam * lam * a + lam * R2 / 2) +
                        sigma * sigma;
  const double u_want = (1.0 - w - lr * lam) * u - w * q;
  step_affine<true>(k, lam, R2, q, 1.0, a, dummy, dummy, u, dummy);
  CHECK(a == doctest::Approx(a_want).epsilon(1e-14));
  CHECK(u == doctest::Approx(u_want).epsilon(1e-14));
}

TEST_CASE("SVAG divides gamma2, gamma3 by l and multiplies the gradient covariance by l") {
  plrf::GenMomentum opt{Schedule::constant(1), Schedule::constant(0.4), Schedule::constant(0.2),
                        Schedule::constant(0.1)};
  opt.knobs.svag_l = 4.0;
  const auto c = opt.at(3.0);
  CHECK(c.gamma2 == 0.1);
  CHECK(c.gamma3 == 0.05);
  CHECK(StepCoefs(c, 8).inv_b == 0.5);
  CHECK(opt.knobs.c_plus() + opt.knobs.c_minus() == doctest::Approx(1.0));
  CHECK(std::pow(opt.knobs.c_plus(), 2) + std::pow(opt.knobs.c_minus(), 2) == doctest::Approx(4.0));
  opt.knobs.svag_l = 0.5;
  CHECK_THROWS_AS(opt.knobs.validate(), std::invalid_argument);
}
