// plrf::linalg::gemm_packed (a right operand packed once, linalg/packed_right.hpp) against gemm on
// the same operand: bitwise equal for every instruction set, thread count and a transposed view,
// at sizes that are not multiples of the blocking (edge tiles, a short last depth block, fewer
// micro-panels than threads). The parameter-basis engine switches between the two by memory
// (plrf.coordinatewise.pack_rotation), so its results must not depend on which one ran.
#include <doctest.h>

#include <cstdint>
#include <vector>

#include "plrf/linalg/gemm.hpp"
#include "plrf/linalg/packed_right.hpp"
#include "normals.hpp"

using namespace plrf;
using plrf::testing::normals;

namespace {


}  // namespace

TEST_CASE("gemm_packed equals gemm bitwise, on every instruction set and thread count") {
  struct Case {
    std::int64_t m, n, k;
  };
  // 64 x 700 x 600 is above the one-thread threshold, so threads do split the micro-panels.
  for (const Case s : {Case{1, 1, 1}, Case{7, 5, 3}, Case{13, 300, 257}, Case{9, 23, 513}, Case{64, 700, 600}}) {
    const auto a = normals(s.m * s.k, 1), b = normals(s.k * s.n, 2), bt = normals(s.n * s.k, 3);
    for (int i = 0; i <= static_cast<int>(isa()); ++i) {
      const auto on = static_cast<Isa>(i);
      for (const bool transposed : {false, true}) {
        const linalg::ConstView view = transposed ? linalg::ConstView{bt.data(), s.k, true} : linalg::ConstView{b.data(), s.n};
        std::vector<double> want(static_cast<std::size_t>(s.m * s.n));
        linalg::gemm_on(on, s.m, s.n, s.k, {a.data(), s.k}, view, want.data(), s.n, 1);
        for (int threads : {1, 2, 3, 64}) {
          const linalg::PackedRight packed(on, s.k, s.n, view, threads);
          std::vector<double> got(want.size(), -1.0);
          linalg::gemm_packed(s.m, {a.data(), s.k}, packed, got.data(), s.n, threads);
          CHECK(got == want);
        }
      }
    }
  }
}

TEST_CASE("gemm_packed with k = 0 writes zeros, and with m = 0 writes nothing") {
  const linalg::PackedRight empty(isa(), 0, 3, {nullptr, 3});
  std::vector<double> c(6, 1.0);
  linalg::gemm_packed(2, {nullptr, 0}, empty, c.data(), 3);
  CHECK(c == std::vector<double>(6, 0.0));
  const auto b = normals(12, 4);
  const linalg::PackedRight packed(isa(), 4, 3, {b.data(), 3});
  std::vector<double> untouched(3, 7.0);
  linalg::gemm_packed(0, {nullptr, 4}, packed, untouched.data(), 3);
  CHECK(untouched == std::vector<double>(3, 7.0));
}
