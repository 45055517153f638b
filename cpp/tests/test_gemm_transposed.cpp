// plrf::linalg::gemm on a transposed view (ConstView::transposed, read in place): bitwise the same
// as on an explicit transposed copy, for every instruction set and thread count, at sizes that are
// not multiples of the blocking. The parameter-basis engine's G = G_e U^T relies on it (it no
// longer copies U^T), and so does its bitwise guard, tests/test_param_bitwise.py.
#include <doctest.h>

#include <cstdint>
#include <vector>

#include "plrf/linalg/gemm.hpp"
#include "normals.hpp"
#include "plrf/simulate/param_path.hpp"

using namespace plrf;
using plrf::testing::normals;

namespace {

// M^T (cols x rows, row-major) of a rows x cols row-major M.
std::vector<double> transpose(const std::vector<double>& m, std::int64_t rows, std::int64_t cols) {
  std::vector<double> t(m.size());
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) t[j * rows + i] = m[i * cols + j];
  return t;
}

}  // namespace

TEST_CASE("gemm on a transposed view equals gemm on the transposed copy, bitwise") {
  struct Case {
    std::int64_t m, n, k;
  };
  // The last two are above the one-thread threshold (kParallelMinFlops), so threads do run.
  for (const Case s : {Case{1, 1, 1}, Case{7, 5, 3}, Case{13, 300, 300}, Case{37, 271, 513}, Case{64, 700, 260}}) {
    const auto a = normals(s.m * s.k, 1), bt = normals(s.n * s.k, 2);  // B^T stored: n x k
    const auto b = transpose(bt, s.n, s.k);                             // B: k x n
    const auto at = transpose(a, s.m, s.k);                              // A^T stored: k x m
    for (int i = 0; i <= static_cast<int>(isa()); ++i)
      for (int threads : {1, 2, 3}) {
        const auto on = static_cast<Isa>(i);
        std::vector<double> plain(static_cast<std::size_t>(s.m * s.n)), view(plain.size()), both(plain.size());
        linalg::gemm_on(on, s.m, s.n, s.k, {a.data(), s.k}, {b.data(), s.n}, plain.data(), s.n, 1);
        linalg::gemm_on(on, s.m, s.n, s.k, {a.data(), s.k}, {bt.data(), s.k, true}, view.data(), s.n, threads);
        linalg::gemm_on(on, s.m, s.n, s.k, {at.data(), s.m, true}, {bt.data(), s.k, true}, both.data(), s.n, threads);
        CHECK(view == plain);
        CHECK(both == plain);
      }
  }
}

// threads = 2 was ~10x slower than threads = 1 at small d on a loaded machine: every GEMM and
// O(S d) pass started threads for microseconds of work. Small work now stays on the caller.
TEST_CASE("small products and passes run on one thread, large ones on the threads asked for") {
  CHECK(linalg::detail::gemm_workers(8, 64, 64, 2, 24) == 1);        // d = 64, 8 seeds: 32 K multiply-adds
  CHECK(linalg::detail::gemm_workers(16, 256, 256, 8, 24) == 1);     // d = 256, 16 seeds: 1 M
  CHECK(linalg::detail::gemm_workers(64, 2048, 2048, 2, 24) == 2);   // the bench's size
  CHECK(linalg::detail::gemm_workers(64, 2048, 2048, 128, 24) == 86); // at most one per tile column
  CHECK(linalg::detail::gemm_workers(1 << 12, 5, 1 << 12, 4, 24) == 1);
  CHECK(simulate::param_row_threads(16, 256, 2) == 1);
  CHECK(simulate::param_row_threads(64, 2048, 2) == 2);
}
