// SGD's continuous-time models (exact/continuous.hpp) and the SDE steppers (simulate/sde_stepper.hpp).
#include <doctest.h>

#include <cmath>
#include <vector>

#include "plrf/exact/continuous.hpp"
#include "plrf/simulate/run.hpp"
#include "spectra.hpp"

using namespace plrf;

namespace {
GenMomentum sgd(double lr) {
  return {Schedule::constant(0.0), Schedule::constant(lr), Schedule::constant(0.0), Schedule::constant(1.0), "sgd"};
}
}  // namespace

TEST_CASE("one mode without label noise: each model is the exponential of its own rate") {
  // d = 1, P_inf = 0: R2 = lambda a, so da/dt = (kappa + gamma^2 lambda^2 / B) a exactly.
  const double lam = 0.8, rho = 1.3, g = 0.6;
  const std::vector<double> l{lam}, r{rho};
  const exact::Modes md{{l.data(), r.data(), 1, 0.0}, 3};
  const double gl = g * lam, B = 3.0;
  const double kappa[3] = {-2 * gl + (1 + 1 / B) * gl * gl, -2 * gl + gl * gl / B, -2 * gl};
  const exact::ContinuousModel models[3] = {exact::ContinuousModel::Continuized, exact::ContinuousModel::Ito,
                                            exact::ContinuousModel::Hsgd};
  RunControl control;
  for (int m = 0; m < 3; ++m) {
    const exact::RiskCurve c = exact::continuous_risk(md, sgd(g), models[m], std::vector<std::int64_t>{0, 1, 7, 40}, 1,
                                                      control);
    for (std::int64_t i = 0; i < 4; ++i) {
      const double t = std::vector<double>{0, 1, 7, 40}[i];
      CHECK(c.risk[i] == doctest::Approx(0.5 * lam * rho * std::exp((kappa[m] + gl * gl / B) * t)).epsilon(1e-13));
    }
  }
}

TEST_CASE("the continuous method stops when cancelled and refuses momentum") {
  const std::vector<double> lam{1.0, 0.5}, rho{1.0, 1.0};
  const exact::Modes md{{lam.data(), rho.data(), 2, 0.01}, 1};
  RunControl control;
  control.cancel = true;
  const exact::RiskCurve c =
      exact::continuous_risk(md, sgd(0.1), exact::ContinuousModel::Ito, std::vector<std::int64_t>{0, 5}, 1, control);
  CHECK(c.interrupted);
  CHECK(std::isnan(c.risk[1]));
  const GenMomentum hb{Schedule::constant(1.0), Schedule::constant(0.0), Schedule::constant(0.1),
                       Schedule::constant(0.1), "hb"};
  CHECK_THROWS_AS(exact::continuous_risk(md, hb, exact::ContinuousModel::Hsgd, std::vector<std::int64_t>{0, 5}, 1,
                                         control),
                  std::invalid_argument);
  CHECK_THROWS_AS(exact::continuous_model("sde"), std::invalid_argument);
}

TEST_CASE("an SDE run paused at every pause point equals an uninterrupted run") {
  const int d = 30, S = 3, steps = 200;
  const Spectrum spec = testing::power_law_spectrum(d, 1.5, 1.0, 0.01);
  const GenMomentum opt = sgd(0.3);
  const simulate::RunSpec run{&opt, steps, 2, {0, 1, 10, 100, 200}, spec.risk0()};
  for (const auto dyn : {simulate::Dynamics::Hsgd, simulate::Dynamics::Ito, simulate::Dynamics::Gaussianised}) {
    std::vector<double> x[2], y[2], r[2];
    std::vector<std::int64_t> st[2], dv[2];
    std::vector<simulate::SeedSlot> slots[2];
    for (int k = 0; k < 2; ++k) {
      x[k].assign(S * d, 0.0), y[k].assign(S * d, 0.0), r[k].assign(S * run.record.size(), NAN);
      st[k].assign(S, 0), dv[k].assign(S, -1);
      for (int i = 0; i < S; ++i) {
        for (int j = 0; j < d; ++j) x[k][i * d + j] = -std::sqrt(spec.rho[j]);
        slots[k].push_back({std::uint64_t(i + 3), &x[k][i * d], &y[k][i * d], &st[k][i], &dv[k][i],
                            &r[k][i * run.record.size()]});
      }
    }
    RunControl c1, c2;
    const int substeps = dyn == simulate::Dynamics::Gaussianised ? 1 : 4;
    CHECK(simulate::advance_sde(spec, run, dyn, substeps, slots[0], 1, c1, INFINITY));
    int calls = 0;
    while (!simulate::advance_sde(spec, run, dyn, substeps, slots[1], 2, c2, 0.0)) ++calls;
    CHECK(calls > 5);
    CHECK(x[0] == x[1]);
    for (std::size_t i = 0; i < r[0].size(); ++i) CHECK(r[0][i] == r[1][i]);
  }
}
