// The loops of the expected-risk engines (issue 21): fast's block never passes its record at any
// horizon, the substep loop stops on cancellation, and numbers in messages are printed in full.
#include <doctest.h>

#include <cstdint>
#include <limits>

#include "plrf/exact/continuous.hpp"
#include "plrf/exact/fast.hpp"
#include "plrf/runtime/format.hpp"

TEST_CASE("a fast block ends exactly at a record past 2^53") {
  const plrf::GenMomentum sgd{plrf::Schedule::constant(0), plrf::Schedule::constant(0.1),
                              plrf::Schedule::constant(0), plrf::Schedule::constant(1)};
  plrf::exact::R2History hist;  // a flat R2: no curvature limit; the last block 2^59 steps long
  hist.push(0, 1.0);
  hist.push(std::int64_t{1} << 59, 1.0);
  hist.push(std::int64_t{1} << 60, 1.0);
  // the gap 2e18 - t = 847078495393153023 rounds up to the next double (one step past the record)
  // (volatile: folded to constants, the unreachable array branch of Schedule draws -Warray-bounds)
  volatile std::int64_t t_in = (std::int64_t{1} << 60) + 1;
  const std::int64_t t = t_in, record = 2000000000000000000;
  REQUIRE(static_cast<std::int64_t>(static_cast<double>(record - t)) > record - t);
  for (std::int64_t r : {record, t + 1, t + 3}) {
    const std::int64_t n = plrf::exact::block_length(sgd, t, r, 1.0, hist);
    CHECK(n == r - t);
  }
}

TEST_CASE("the substep loop stops at a cancellation and on a non-finite R2") {
  plrf::RunControl control;
  std::int64_t calls = 0;
  auto count = [&](double r2) { return ++calls == 5 ? (control.cancel = true, r2) : r2; };
  CHECK(plrf::exact::run_substeps(1.0, std::numeric_limits<std::int32_t>::max(), control, count) == 1.0);
  CHECK(calls == 5);
  plrf::RunControl fresh;
  calls = 0;
  plrf::exact::run_substeps(1.0, 100, fresh, [&](double) { ++calls; return std::nan(""); });
  CHECK(calls == 1);
}

TEST_CASE("numbers in messages read back as the same double") {
  CHECK(plrf::format_number(0.1) == "0.1");
  CHECK(plrf::format_number(1e-7) == "1e-07");
  CHECK(plrf::format_number(0.0) == "0");
  CHECK(plrf::format_number(1.0 / 3.0) == "0.3333333333333333");
  CHECK(plrf::format_number(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(plrf::format_number(-std::numeric_limits<double>::quiet_NaN()) == "nan");
}
