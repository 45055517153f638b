#include <doctest.h>

#include <cmath>
#include <vector>

#include "plrf/exact/experts.hpp"
#include "plrf/exact/moments.hpp"
#include "plrf/exact/recursion.hpp"

using namespace plrf::exact;

TEST_CASE("a routed step is the shared map with gain p lambda and noise [p(2-p) lambda^2 a + p lambda R2] / B") {
  const plrf::Coefficients c{1.0, 0.05, 0.02, 0.1};
  const double lam = 0.7, R2 = 1.3, p = 0.3, B = 4.0;
  const StepCoefs k(c, 4, expert_route(p, false));
  double a = 0.9, s = 0.2, cc = -0.1;
  step<false>(k, lam, R2, a, s, cc);
  // the same step written out (docs/families.md §1): mean map with gain p lambda, noise xi
  const double G = c.G(), m = c.m(), gl = p * lam, A = 1.0 - G * gl, g3m = c.gamma3 * m;
  const double xi = (p * (2.0 - p) * lam * lam * 0.9 + gl * R2) / B;
  CHECK(a == doctest::Approx(A * A * 0.9 + g3m * g3m * 0.2 - 2.0 * A * g3m * -0.1 + G * G * xi).epsilon(1e-14));
  // SGD's closed form (used by the block solver and the ODE) agrees with the step
  const StepCoefs ks(plrf::Coefficients{0.0, 0.4, 0.0, 0.0}, 4, expert_route(p, false));
  const SgdMode md = sgd_mode(ks, lam);
  CHECK(1.0 - md.p == doctest::Approx(md.one_minus_p).epsilon(1e-14));
  double x = 1.0, u = 0.0, v = 0.0;
  step<true>(ks, lam, R2, x, u, v);
  CHECK(x == doctest::Approx(md.p + md.q * R2).epsilon(1e-14));
}

TEST_CASE("p = 1 is the single learner, bit for bit") {
  const plrf::Coefficients c{1.0, 0.05, 0.02, 0.1};
  const StepCoefs plain(c, 3), routed(c, 3, expert_route(1.0, true));
  double x[3] = {0.9, 0.2, -0.1}, y[3] = {0.9, 0.2, -0.1};
  step<false>(plain, 0.37, 1.1, x[0], x[1], x[2]);
  step<false>(routed, 0.37, 1.1, y[0], y[1], y[2]);
  for (int i = 0; i < 3; ++i) CHECK(x[i] == y[i]);
}

TEST_CASE("every expert stops when cancelled, on one thread or several") {
  const std::vector<double> lam = {1.0, 0.5, 0.25}, rho = {1.0, 1.0, 1.0};
  const Modes md{{lam.data(), rho.data(), 3, 0.01}, 1};
  const plrf::GenMomentum sgd{plrf::Schedule::constant(0), plrf::Schedule::constant(0.1), plrf::Schedule::constant(0),
                              plrf::Schedule::constant(0)};
  const std::vector<plrf::GenMomentum> opts(3, sgd);
  const std::vector<double> p = {0.2, 0.3, 0.5};
  const plrf::RecordGrid record({0, 10, 1000}, 1000);
  for (int threads : {1, 2}) {
    plrf::RunControl control;
    control.cancel = true;
    const auto curves = expert_risks(md, opts, p, false, threads, control,
                                     [&](const Modes& m, const plrf::GenMomentum& o, int th, plrf::RunControl& c) {
                                       return exact_risk(m, o, record, th, c);
                                     });
    REQUIRE(curves.size() == 3);
    for (const RiskCurve& c : curves) {
      CHECK(c.interrupted);
      CHECK(std::isnan(c.risk[1]));
    }
  }
}
