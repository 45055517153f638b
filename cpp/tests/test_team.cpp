// plrf::Team (runtime/team.hpp): every item runs exactly once per round, on any team size, round
// after round; a body's exception reaches the caller after the round, and the team still works.
#include <doctest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "plrf/runtime/team.hpp"

TEST_CASE("Team runs every item exactly once, for many rounds and any size") {
  for (int threads : {1, 2, 3, 8}) {
    plrf::Team team(threads);
    CHECK(team.size() >= 1);
    CHECK(team.size() <= threads);
    for (std::int64_t n : {0, 1, 2, 7, 64, 1000}) {
      for (int round = 0; round < 50; ++round) {
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
        team.run(n, [&](std::int64_t i) { hits[static_cast<std::size_t>(i)].fetch_add(1); });
        int wrong = 0;
        for (auto& h : hits) wrong += h.load() != 1;
        CHECK(wrong == 0);
      }
    }
  }
}

TEST_CASE("Team rethrows a body's exception after the round and keeps working") {
  plrf::Team team(3);
  std::atomic<int> ran{0};
  CHECK_THROWS_AS(team.run(100,
                           [&](std::int64_t i) {
                             ran.fetch_add(1);
                             if (i == 10) throw std::runtime_error("item 10");
                           }),
                  std::runtime_error);
  CHECK(ran.load() >= 11);
  std::atomic<std::int64_t> sum{0};
  team.run(100, [&](std::int64_t i) { sum.fetch_add(i); });
  CHECK(sum.load() == 4950);
}
