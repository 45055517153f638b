// Simulator building blocks: chi-square moments, and pause/resume of the driver.
#include <doctest.h>

#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "plrf/rng/gamma.hpp"
#include "plrf/simulate/driver.hpp"
#include "plrf/simulate/eigen_sampler.hpp"
#include "plrf/simulate/full_model.hpp"
#include "plrf/simulate/run.hpp"
#include "spectra.hpp"

using namespace plrf;

TEST_CASE("chi-square moments (2e5 draws, 6-sigma bounds)") {
  for (double k : {0.0, 1.0, 2.0, 7.0, 1023.0}) {
    const int n = 200000;
    double m1 = 0, m2 = 0;
    for (int i = 0; i < n; ++i) {
      const double x = rng::chi_square(k, {3, rng::kScalars}, 1, static_cast<std::uint64_t>(i));
      m1 += x;
      m2 += x * x;
    }
    m1 /= n;
    const double var = m2 / n - m1 * m1;
    CHECK(std::abs(m1 - k) <= 6 * std::sqrt(2 * k / n) + 1e-12);
    if (k > 0) CHECK(std::abs(var - 2 * k) < 6 * std::sqrt((48 * k + 8 * k * k) / n));  // Var(s^2) of chi2_k
  }
}

TEST_CASE("a run paused at every pause point equals an uninterrupted run") {
  const int d = 50, S = 3, steps = 500;
  const Spectrum spec = testing::power_law_spectrum(d, 1.5, 1.0, 0.01);
  const GenMomentum opt{Schedule::constant(1.0), Schedule::constant(0.2), Schedule::constant(0.05),
                        Schedule::power_law(3.0, 1.0, -1.0), "dana"};
  const simulate::RunSpec run{&opt, steps, 4, {0, 1, 10, 100, 499, 500}, spec.risk0()};
  const simulate::EigenModel model(spec, 4, simulate::Sampler::Fast, false);
  auto fresh = [&](std::vector<double>& x, std::vector<double>& y, std::vector<std::int64_t>& st,
                   std::vector<std::int64_t>& dv, std::vector<double>& r) {
    x.assign(S * d, 0.0);
    for (int i = 0; i < S; ++i)
      for (int j = 0; j < d; ++j) x[i * d + j] = -std::sqrt(spec.rho[j]);
    y.assign(S * d, 0.0), st.assign(S, 0), dv.assign(S, -1), r.assign(S * run.record.size(), NAN);
    std::vector<simulate::SeedSlot> slots;
    for (int i = 0; i < S; ++i)
      slots.push_back({std::uint64_t(i + 10), &x[i * d], &y[i * d], &st[i], &dv[i], &r[i * run.record.size()]});
    return slots;
  };
  auto make = [&](const simulate::SeedSlot& s) { return simulate::EigenStepper(model, s); };
  std::vector<double> x1, y1, r1, x2, y2, r2;
  std::vector<std::int64_t> s1, d1, s2, d2;
  RunControl c1, c2;
  CHECK(simulate::run_seeds(fresh(x1, y1, s1, d1, r1), run, 1, c1, INFINITY, make));
  const auto slots2 = fresh(x2, y2, s2, d2, r2);
  int calls = 0;
  while (!simulate::run_seeds(slots2, run, 2, c2, 0.0, make)) ++calls;  // zero budget: pause asap
  CHECK(calls > 10);
  CHECK(x1 == x2);
  CHECK(y1 == y2);
  for (std::size_t i = 0; i < r1.size(); ++i) CHECK(r1[i] == r2[i]);
}

TEST_CASE("the explicit sampler stops inside a huge batch when cancelled, leaving the state untouched") {
  const int d = 20;
  const Spectrum spec = testing::power_law_spectrum(d, 1.0, 0.0, 0.01);
  const std::int64_t batch = std::int64_t{1} << 40;  // days of work per step
  const GenMomentum opt{Schedule::constant(0.0), Schedule::constant(0.1), Schedule::constant(0.0),
                        Schedule::constant(1.0), "sgd"};
  const simulate::RunSpec run{&opt, 10, batch, {0, 10}, spec.risk0()};
  std::vector<double> x(d, -1.0), y(d, 0.0), r(2, NAN);
  std::int64_t step = 0, div = -1;
  const std::vector<simulate::SeedSlot> slots{{7, x.data(), y.data(), &step, &div, r.data()}};
  RunControl control;
  std::thread ctrl_c([&] {  // cancel once the first step is well under way
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    control.cancel = true;
  });
  CHECK_FALSE(simulate::advance_eigen(spec, run, simulate::Sampler::Explicit, slots, 1, control, INFINITY));
  ctrl_c.join();
  CHECK(step == 0);
  for (int j = 0; j < d; ++j) CHECK(x[j] == -1.0);
  CHECK(r[0] == doctest::Approx(spec.risk0()).epsilon(1e-12));
}

TEST_CASE("the full-space path: GEMM features for small batches, reassociation for large ones") {
  using simulate::FullPath;
  for (std::int64_t d : {1000, 4000}) {
    CHECK(simulate::choose_full_path(1, 4 * d, d) == FullPath::kFeatures);
    CHECK(simulate::choose_full_path(16, 4 * d, d) == FullPath::kFeatures);
    CHECK(simulate::choose_full_path(64, 4 * d, d) == FullPath::kReassociated);
    CHECK(simulate::choose_full_path(1024, 4 * d, d) == FullPath::kReassociated);
  }
  // Between them, where W (32 MB at d = 1000, 512 MB at d = 4000) is read from cache or memory.
  CHECK(simulate::choose_full_path(32, 4000, 1000) == FullPath::kReassociated);
  CHECK(simulate::choose_full_path(32, 16000, 4000) == FullPath::kFeatures);
}
