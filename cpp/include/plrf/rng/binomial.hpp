// Binomial(n, p) variates for any n < 2^63 in O(log n), addressed like every other scalar draw:
// variate number `index` of (key, step) reads only the private extra words of that index
// (ExtraWords), so draws never depend on threads, chunking or resume.
//
// Large n: Knuth's order-statistic recursion (TAOCP vol. 2, 3.4.1). Bin(n, p) counts the n
// uniforms below p. Their a-th smallest X is Beta(a, n + 1 - a) = G_a / (G_a + G_b) (gamma.hpp).
// If X < p, the a smallest are below p and the other n - a are uniform on (X, 1), so the count is
// a + Bin(n - a, (p - X) / (1 - X)); otherwise the a - 1 smaller ones are uniform on (0, X) and
// the rest lie above p: Bin(a - 1, p / X). a = 1 + n / 2 halves n at every level.
// Small n (<= kBinomialInversion): inversion of one uniform, walking the pmf from 0 with p <= 1/2
// (the symmetry n - Bin(n, 1 - p)), so that (1 - p)^n >= 2^-64 never underflows and the walk
// takes about n min(p, 1 - p) + 1 steps.
//
// Exact in law up to double rounding: the gamma variates and X carry relative errors ~1e-16,
// which move the law by a distance below 1e-6 of a standard deviation even at n = 2^62 (the
// spread of X there is 2^-32, 2^22 doubles wide); tests/test_hardening_loops.py and
// cpp/tests/test_binomial.cpp check the moments and the pmf up to n = 1e15.
#pragma once
#include <cmath>
#include <cstdint>

#include "plrf/rng/gamma.hpp"

namespace plrf::rng {

constexpr std::int64_t kBinomialInversion = 64;  // the recursion stops at or below this n

namespace detail {

// Bin(n, p) for p <= 1/2 by inversion of u in [0, 1): the first k with u < P(X <= k).
inline std::int64_t binomial_inversion(std::int64_t n, double p, double u) {
  const double odds = p / (1.0 - p);
  double f = std::exp(static_cast<double>(n) * std::log1p(-p));  // P(X = 0), accurate for tiny p
  std::int64_t k = 0;
  while (k < n && u >= f) {
    u -= f;
    f *= odds * static_cast<double>(n - k) / static_cast<double>(k + 1);
    ++k;
  }
  return k;
}

}  // namespace detail

// Bin(n, p) from a sequence of extra words (n >= 0; p outside (0, 1) is clamped to 0 or 1).
inline std::int64_t binomial_from(std::int64_t n, double p, ExtraWords& words) {
  std::int64_t count = 0;
  while (n > kBinomialInversion && p > 0.0 && p < 1.0) {
    const std::int64_t a = 1 + n / 2;
    const double ga = gamma_from(static_cast<double>(a), words);
    const double gb = gamma_from(static_cast<double>(n + 1 - a), words);
    const double x = ga / (ga + gb);  // the a-th smallest of the n uniforms
    if (x < p) {
      count += a;
      n -= a;
      p = (p - x) / (1.0 - x);
    } else {
      n = a - 1;
      p /= x;
    }
  }
  if (n == 0 || !(p > 0.0)) return count;
  if (p >= 1.0) return count + n;
  const double u = to_unit(words.next());
  return count + (p <= 0.5 ? detail::binomial_inversion(n, p, u) : n - detail::binomial_inversion(n, 1.0 - p, u));
}

// Binomial variate `index` of (key, step).
inline std::int64_t binomial(std::int64_t n, double p, StreamKey key, std::uint64_t step, std::uint64_t index) {
  ExtraWords words(key, step, index);
  return binomial_from(n, p, words);
}

}  // namespace plrf::rng
