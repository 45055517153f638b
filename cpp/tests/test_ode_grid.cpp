// The ODE's streamed time grid: the log-time points e^{k dt} - 1 merged with the records, one at a
// time, and a refusal (naming dt) of grids too long to run.
#include <doctest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "plrf/exact/ode.hpp"

TEST_CASE("the streamed ODE grid is the sorted union of log-time points and records") {
  const plrf::RecordGrid record({0, 1, 5, 7, 100}, 100);
  for (double dt : {0.01, 0.3, 1.0, 10.0}) {
    std::vector<double> want;
    for (int k = 0; k * dt < std::log1p(100.0); ++k) want.push_back(std::expm1(k * dt));
    for (auto r : record) want.push_back(static_cast<double>(r));
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    plrf::exact::OdeGrid grid(record, dt);
    std::vector<double> got{0.0};
    while (got.back() < 100.0) got.push_back(grid.after(got.back()));
    CHECK(got == want);
  }
}

TEST_CASE("an ODE grid beyond 1e12 points is refused before anything runs") {
  const plrf::RecordGrid record({0, 1000000}, 1000000);
  CHECK_THROWS_WITH_AS(plrf::exact::OdeGrid(record, 1e-14), doctest::Contains("dt="), std::invalid_argument);
  CHECK_NOTHROW(plrf::exact::OdeGrid(record, 1e-6));
}
