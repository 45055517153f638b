// The shared runtime pieces: the record grid rule and the thread pool.
#include <doctest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "plrf/runtime/parallel.hpp"
#include "plrf/runtime/record_grid.hpp"

using plrf::RecordGrid;

TEST_CASE("a record grid is non-empty, sorted, unique and inside [0, steps <= 2^62]") {
  const RecordGrid ok({0, 3, 10}, 10);
  CHECK(ok.size() == 3);
  CHECK(ok.back() == 10);
  CHECK(RecordGrid({0, plrf::kMaxSteps}, plrf::kMaxSteps).back() == plrf::kMaxSteps);
  CHECK_THROWS_AS(RecordGrid({}, 10), std::invalid_argument);
  CHECK_THROWS_AS(RecordGrid({0, 0}, 10), std::invalid_argument);
  CHECK_THROWS_AS(RecordGrid({5, 3}, 10), std::invalid_argument);
  CHECK_THROWS_AS(RecordGrid({-1, 3}, 10), std::invalid_argument);
  CHECK_THROWS_AS(RecordGrid({0, 11}, 10), std::invalid_argument);
  CHECK_THROWS_AS(RecordGrid({0}, plrf::kMaxSteps + 1), std::invalid_argument);
}

TEST_CASE("parallel_for runs every item once on the caller and its threads, and rethrows after joining") {
  for (int threads : {1, 2, 7}) {
    std::vector<std::atomic<int>> hits(1000);
    plrf::parallel_for(1000, threads, [&](std::int64_t i) { ++hits[static_cast<std::size_t>(i)]; });
    for (auto& h : hits) CHECK(h.load() == 1);
  }
  CHECK_THROWS_AS(plrf::parallel_for(100, 4, [](std::int64_t i) { if (i == 50) throw std::runtime_error("x"); }),
                  std::runtime_error);
}
