// Combinations opened by issue 22 (docs/families.md §5): the affine map routed like a mixture's
// expert (the knobs-off reduction is in test_decay_svag.cpp), and the second (SVAG) routing's variates.
#include <doctest.h>

#include <cstdint>
#include <vector>

#include "plrf/exact/moments.hpp"
#include "plrf/simulate/routing.hpp"

using namespace plrf::exact;

TEST_CASE("decay acts on a routed expert whatever its gain: a never-routed expert still decays") {
  plrf::Coefficients coef{1.0, 0.0, 0.0, 0.0};
  coef.decay = 0.1;
  const StepCoefs k(coef, 1, Route{0.0, 0.0, 1.0});  // gain 0: no sample ever reaches it
  double a = 0.0, s = 0.0, c = 0.0, u = 0.0, v = 0.0;  // at theta* (e = 0): decay pulls theta to 0
  step_affine<true>(k, 0.5, 1.0, 1.0, 1.0, a, s, c, u, v);
  CHECK(u == doctest::Approx(-0.1));  // mu' = A u - w q, q = phi*^2 = 1
  CHECK(a == doctest::Approx(0.01));  // (w phi*)^2: no gradient noise (gain 0), only the decay
}

TEST_CASE("SVAG's second routing reads its own binomial variates (m .. 2m - 1)") {
  const plrf::simulate::Routing r({0.3, 0.7}, {0.3, 0.7}, {nullptr, nullptr}, false, true);
  std::vector<std::int64_t> first(2), second(2), again(2);
  int differ = 0;
  for (std::uint64_t t = 0; t < 64; ++t) {
    plrf::simulate::route_counts(r, 7, t, 1000, first);
    plrf::simulate::route_counts(r, 7, t, 1000, second, 2);
    plrf::simulate::route_counts(r, 7, t, 1000, again, 2);
    CHECK(second == again);
    differ += first != second;
  }
  CHECK(differ > 32);
}
