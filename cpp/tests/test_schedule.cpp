#include <doctest.h>

#include "plrf/optim/gen_momentum.hpp"

TEST_CASE("schedules evaluate at step t") {
  using plrf::Schedule;
  CHECK(Schedule::constant(0.5)(10) == 0.5);
  CHECK(Schedule::power_law(2.0, 1.0, -1.0)(3) == doctest::Approx(0.5));
  CHECK(Schedule::array({1, 2, 3})(2) == 3);
  CHECK_THROWS(Schedule::array({1, 2})(2));
  CHECK_THROWS(Schedule::power_law(1.0, 0.0, 1.0));
  CHECK_THROWS(Schedule::array({1, NAN}));
  plrf::GenMomentum sgd{Schedule::constant(0), Schedule::constant(0.1), Schedule::constant(0), Schedule::constant(1)};
  CHECK(sgd.is_sgd());
  CHECK(sgd.at(5).G() == doctest::Approx(0.1));
  CHECK_THROWS(plrf::GenMomentum{Schedule::constant(0), Schedule::array({1}), Schedule::constant(0),
                                 Schedule::constant(1)}.check_length(2));
}
