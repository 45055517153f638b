// plrf::linalg::gemm against a naive triple loop, for every instruction set this CPU runs, at
// sizes that are not multiples of the blocking and with leading dimensions wider than the rows;
// and bitwise equality across thread counts.
#include <doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "plrf/linalg/gemm.hpp"
#include "plrf/rng/normal.hpp"

using namespace plrf;

namespace {

struct Case {
  std::int64_t m, n, k;
};

// A rows x cols matrix with row stride ld (> cols: the gap holds NaN, which must not leak).
std::vector<double> random_matrix(std::int64_t rows, std::int64_t cols, std::int64_t ld, std::uint64_t seed) {
  std::vector<double> a(static_cast<std::size_t>(rows * ld), std::nan(""));
  for (std::int64_t i = 0; i < rows; ++i)
    rng::fill_normals({seed, rng::kFullSamples}, static_cast<std::uint64_t>(i), 0, static_cast<std::size_t>(cols),
                      &a[static_cast<std::size_t>(i * ld)]);
  return a;
}

struct Operands {
  Case s;
  std::int64_t lda, ldb, ldc;
  std::vector<double> a, b;
  explicit Operands(Case c)
      : s(c), lda(c.k + 3), ldb(c.n + 5), ldc(c.n + 7), a(random_matrix(c.m, c.k, lda, 1)),
        b(random_matrix(c.k, c.n, ldb, 2)) {}

  std::vector<double> run(Isa isa, int threads) const {
    std::vector<double> c(static_cast<std::size_t>(s.m * ldc), -1.0);
    linalg::gemm_on(isa, s.m, s.n, s.k, {a.data(), lda}, {b.data(), ldb}, c.data(), ldc, threads);
    return c;
  }
};

// Largest |C - A B| over C's valid entries, relative to sum_p |a_ip b_pj|; the gaps stay untouched.
double max_relative_error(const Operands& op, const std::vector<double>& c) {
  double worst = 0;
  for (std::int64_t i = 0; i < op.s.m; ++i) {
    for (std::int64_t j = 0; j < op.s.n; ++j) {
      double exact = 0, scale = 0;
      for (std::int64_t p = 0; p < op.s.k; ++p) {
        const double t = op.a[i * op.lda + p] * op.b[p * op.ldb + j];
        exact += t;
        scale += std::abs(t);
      }
      worst = std::max(worst, std::abs(c[i * op.ldc + j] - exact) / scale);
    }
    for (std::int64_t j = op.s.n; j < op.ldc; ++j) CHECK(c[i * op.ldc + j] == -1.0);
  }
  return worst;
}

const Case kCases[] = {{1, 1, 1}, {7, 5, 3}, {37, 53, 300}, {100, 271, 513}, {9, 700, 260}};

}  // namespace

TEST_CASE("gemm matches the triple loop on every instruction set, at odd sizes") {
  std::vector<Isa> isas;
  for (int i = 0; i <= static_cast<int>(isa()); ++i) isas.push_back(static_cast<Isa>(i));
  for (const Case& s : kCases) {
    const Operands op(s);
    for (Isa i : isas) {
      CAPTURE(isa_name(i));
      CAPTURE(s.m);
      CAPTURE(s.n);
      CAPTURE(s.k);
      CHECK(max_relative_error(op, op.run(i, 1)) < 1e-12);
    }
    std::vector<double> c(static_cast<std::size_t>(s.m * op.ldc), -1.0);
    linalg::gemm(s.m, s.n, s.k, {op.a.data(), op.lda}, {op.b.data(), op.ldb}, c.data(), op.ldc);
    CHECK(c == op.run(isa(), 1));
  }
}

TEST_CASE("gemm is bitwise the same for any thread count") {
  for (const Case& s : kCases) {
    const Operands op(s);
    for (int i = 0; i <= static_cast<int>(isa()); ++i) {
      const auto one = op.run(static_cast<Isa>(i), 1);
      for (int threads : {2, 3, 8}) CHECK(op.run(static_cast<Isa>(i), threads) == one);
    }
  }
}

TEST_CASE("gemm with k = 0 writes zeros") {
  std::vector<double> c(6, 5.0);
  linalg::gemm(2, 3, 0, {nullptr, 0}, {nullptr, 3}, c.data(), 3);
  CHECK(c == std::vector<double>(6, 0.0));
}
