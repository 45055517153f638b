// The block solver's cached power-of-two maps (exact/block_levels.hpp) against block_maps from
// scratch: the same compositions in the same order, so the same doubles, on any block sequence
// and with levels dropped for memory.
#include <doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "plrf/exact/block_levels.hpp"
#include "plrf/exact/fast.hpp"

using namespace plrf::exact;
using plrf::Schedule;

namespace {

// A run of blocks: single steps, the powers of two up to 2^12, then record-like remainders.
const std::vector<std::int64_t> kBlocks = {1, 1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096,
                                           4096, 1000, 37, 4099, 3, 8191, 4096, 1, 4096};

std::vector<double> r2_after_blocks(const Modes& md, const plrf::GenMomentum& opt, double budget) {
  BlockSolver<false> solver(md, opt, 1, budget);
  std::vector<double> out;
  std::int64_t t = 0;
  for (std::int64_t n : kBlocks) {
    REQUIRE(solver.advance(t, n));
    t += n;
    out.push_back(solver.R2);
  }
  return out;
}

}  // namespace

TEST_CASE("stationary blocks from cached levels equal block maps from scratch, bit for bit") {
  const std::int64_t d = 101;  // not a multiple of 8: the last group is padded
  std::vector<double> lam, rho, mult;
  for (std::int64_t j = 1; j <= d; ++j)
    lam.push_back(std::pow(j, -1.6)), rho.push_back(std::pow(j, -1.2)), mult.push_back(1.0 + j % 3);
  const plrf::GenMomentum heavy_ball{Schedule::constant(1), Schedule::constant(0.05), Schedule::constant(0.01),
                                     Schedule::constant(0.1)};
  const double level_bytes = 8.0 * 15 * 8 * ((d + 7) / 8);  // at the widest groups (8 modes)
  for (const double* m : {static_cast<const double*>(nullptr), static_cast<const double*>(mult.data())}) {
    const Modes md{{lam.data(), rho.data(), d, 1e-3, m}, 2};
    const std::vector<double> scratch = r2_after_blocks(md, heavy_ball, 0.0);
    CHECK(r2_after_blocks(md, heavy_ball, BlockLevels::kBudgetBytes) == scratch);
    CHECK(r2_after_blocks(md, heavy_ball, 3 * level_bytes) == scratch);  // low levels dropped
    CHECK(scratch.back() < scratch.front());                             // and the run does descend
  }
}

TEST_CASE("level bookkeeping: powers of two, the budget, dropped levels") {
  CHECK(power_of_two_floor(1) == 1);
  CHECK(power_of_two_floor(3) == 2);
  CHECK(power_of_two_floor(4096) == 4096);
  CHECK(power_of_two_floor(8191) == 4096);
  BlockLevels none(80, 8, 0.0), three(80, 8, 3.0 * 10 * sizeof(BlockMaps<8>));
  CHECK(!none.usable());
  REQUIRE(three.usable());
  REQUIRE(three.prepare(16));  // levels 0 .. 4 to build
  CHECK(three.build_from() == 0);
  CHECK(three.build_to() == 4);
  three.built();
  CHECK(three.table()[4] != nullptr);
  CHECK(three.table()[1] == nullptr);  // dropped: over the budget
  CHECK(!three.prepare(18));           // needs level 1: powered from scratch instead
  CHECK(three.prepare(16 + 8 + 4));
}
