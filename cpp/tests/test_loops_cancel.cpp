// Cancellation inside long steps (simulate/sde_stepper.hpp): a step of many substeps stops at its
// next poll and puts its start back, so that cutting a run anywhere and continuing it gives the
// uninterrupted run's bits.
#include <doctest.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "plrf/simulate/run.hpp"
#include "spectra.hpp"

using namespace plrf;

namespace {

GenMomentum sgd(double lr) {
  return {Schedule::constant(0.0), Schedule::constant(lr), Schedule::constant(0.0), Schedule::constant(1.0), "sgd"};
}

constexpr int kD = 30, kSubsteps = 20000;  // ~9 polls per step (one every 2^16 / (d + 1) substeps)

// One seed's state, started at e0 = -sqrt(rho).
struct Seed {
  std::vector<double> x, y, risk;
  std::int64_t step = 0, diverged_at = -1;
  Seed(const Spectrum& spec, std::size_t records) : x(kD), y(kD, 0.0), risk(records, NAN) {
    for (int j = 0; j < kD; ++j) x[j] = -std::sqrt(spec.rho[j]);
  }
  simulate::SeedSlot slot() { return {5, x.data(), y.data(), &step, &diverged_at, risk.data()}; }
};

}  // namespace

TEST_CASE("an SDE step cancelled between its substeps leaves the state as it found it") {
  const Spectrum spec = testing::power_law_spectrum(kD, 1.5, 1.0, 0.01);
  const GenMomentum opt = sgd(0.3);
  for (const auto dyn : {simulate::Dynamics::Hsgd, simulate::Dynamics::Ito}) {
    Seed s(spec, 1);
    const std::vector<double> start = s.x;
    const simulate::SdeModel model(spec, 2, dyn, kSubsteps, true);
    simulate::SdeStepper st(model, s.slot());
    const double risk0 = st.risk();
    RunControl control;
    control.cancel = true;
    CHECK_FALSE(st.step(0, opt.at(0.0), control));
    CHECK(s.x == start);
    CHECK(st.risk() == risk0);
    control.cancel = false;
    CHECK(st.step(0, opt.at(0.0), control));  // and the step then runs whole
    CHECK(s.x != start);
  }
}

TEST_CASE("an SDE run cut by cancellation mid-step and continued equals an uninterrupted run") {
  const Spectrum spec = testing::power_law_spectrum(kD, 1.5, 1.0, 0.01);
  const GenMomentum opt = sgd(0.3);
  const simulate::RunSpec run{&opt, 12, 2, {0, 1, 5, 12}, spec.risk0()};
  for (const auto dyn : {simulate::Dynamics::Hsgd, simulate::Dynamics::Ito}) {
    Seed whole(spec, run.record.size()), cut(spec, run.record.size());
    RunControl plain;
    CHECK(simulate::advance_sde(spec, run, dyn, kSubsteps, {whole.slot()}, 1, plain, INFINITY));
    // Three cuts at arbitrary moments (wherever they land, the result must not change), then the rest.
    for (int k = 0; k < 3; ++k) {
      RunControl control;
      std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(700 * (k + 1)));
        control.cancel = true;
      });
      simulate::advance_sde(spec, run, dyn, kSubsteps, {cut.slot()}, 1, control, INFINITY);
      canceller.join();
    }
    RunControl rest;
    CHECK(simulate::advance_sde(spec, run, dyn, kSubsteps, {cut.slot()}, 1, rest, INFINITY));
    CHECK(cut.x == whole.x);
    for (std::size_t i = 0; i < whole.risk.size(); ++i) CHECK(cut.risk[i] == whole.risk[i]);
  }
}
