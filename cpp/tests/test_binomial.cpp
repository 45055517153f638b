// The binomial sampler's law (rng/binomial.hpp): a chi-square against the exact pmf where n is
// small enough to bin (both branches: inversion, and the recursion down to it), z-scores of the
// mean and variance up to n = 2^62, and planted twins that each test must reject.
// Statistics: N draws from fixed streams (deterministic), |z| < 5 and the chi-square's
// Wilson-Hilferty z < 5 pass; under the null each fails with probability < 1e-6.
#include <doctest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "plrf/rng/binomial.hpp"

using namespace plrf::rng;

namespace {

using Sampler = std::function<std::int64_t(std::int64_t n, double p, ExtraWords& words)>;

const Sampler kSampler = [](std::int64_t n, double p, ExtraWords& w) { return binomial_from(n, p, w); };

// Draws 0..count-1 of (seed 7, kRouting) at step s, each from its own words.
std::vector<std::int64_t> draws(const Sampler& f, std::int64_t n, double p, int count, std::uint64_t s = 3) {
  std::vector<std::int64_t> out(count);
  for (int i = 0; i < count; ++i) {
    ExtraWords words({7, kRouting}, s, static_cast<std::uint64_t>(i));
    out[i] = f(n, p, words);
  }
  return out;
}

double log_pmf(std::int64_t n, double p, std::int64_t k) {
  const double N = static_cast<double>(n), K = static_cast<double>(k);
  return std::lgamma(N + 1) - std::lgamma(K + 1) - std::lgamma(N - K + 1) + K * std::log(p) + (N - K) * std::log1p(-p);
}

// Chi-square of the counts against the pmf, cells merged until each expects >= 20; returned as the
// Wilson-Hilferty z of the statistic.
double chi_square_z(const std::vector<std::int64_t>& x, std::int64_t n, double p) {
  std::vector<double> seen(n + 1, 0.0);
  for (std::int64_t k : x) seen[k] += 1.0;
  const double total = static_cast<double>(x.size());
  double chi = 0.0, o = 0.0, e = 0.0;
  int cells = 0;
  for (std::int64_t k = 0; k <= n; ++k) {
    o += seen[k], e += total * std::exp(log_pmf(n, p, k));
    if (e >= 20.0 || k == n) {
      chi += (o - e) * (o - e) / std::max(e, 1e-300);
      ++cells, o = 0.0, e = 0.0;
    }
  }
  const double dof = cells - 1.0;
  return (std::cbrt(chi / dof) - (1.0 - 2.0 / (9.0 * dof))) / std::sqrt(2.0 / (9.0 * dof));
}

struct MomentZ {
  double mean, var;
};

// z-scores of the sample mean (se sqrt(var / N)) and variance (se from the sample's 4th moment) of
// draws with the given mean and variance; deviations are taken from llround(mean) in integers, so
// they are exact even where the draws are near 2^62.
MomentZ moment_z(const std::vector<std::int64_t>& x, double mean, double var) {
  const auto centre = static_cast<std::int64_t>(std::llround(mean));
  const double shift = static_cast<double>(centre) - mean, N = static_cast<double>(x.size());
  double s1 = 0.0, s2 = 0.0, s4 = 0.0;
  for (std::int64_t k : x) {
    const double d = static_cast<double>(k - centre) + shift;
    s1 += d, s2 += d * d, s4 += d * d * d * d;
  }
  const double m1 = s1 / N, m2 = s2 / N, m4 = s4 / N;
  return {m1 / std::sqrt(var / N), (m2 - m1 * m1 - var) / std::sqrt((m4 - m2 * m2) / N)};
}

MomentZ binomial_z(const std::vector<std::int64_t>& x, std::int64_t n, double p) {
  const double mu = static_cast<double>(n) * p;
  return moment_z(x, mu, mu * (1.0 - p));
}

// Twin 1: Bin(a, p / X) where the recursion needs Bin(a - 1, p / X) (an off-by-one in the order statistic).
const Sampler kOffByOne = [](std::int64_t n, double p, ExtraWords& w) {
  std::int64_t count = 0;
  while (n > kBinomialInversion) {
    const std::int64_t a = 1 + n / 2;
    const double ga = gamma_from(static_cast<double>(a), w), gb = gamma_from(static_cast<double>(n + 1 - a), w);
    const double x = ga / (ga + gb);
    if (x < p)
      count += a, n -= a, p = (p - x) / (1.0 - x);
    else
      n = a, p /= x;
  }
  return count + binomial_from(n, p, w);
};

// Twin 2: the order statistic at its mean a / (n + 1) instead of a Beta draw (drops its variance).
const Sampler kMeanOrderStatistic = [](std::int64_t n, double p, ExtraWords& w) {
  std::int64_t count = 0;
  while (n > kBinomialInversion) {
    const std::int64_t a = 1 + n / 2;
    const double x = static_cast<double>(a) / static_cast<double>(n + 1);
    if (x < p)
      count += a, n -= a, p = (p - x) / (1.0 - x);
    else
      n = a - 1, p /= x;
  }
  return count + binomial_from(n, p, w);
};

}  // namespace

TEST_CASE("binomial: the pmf, by chi-square, on both branches") {
  const struct { std::int64_t n; double p; } cases[] = {{1, 0.3}, {10, 0.3}, {64, 0.5}, {64, 0.97},
                                                         {65, 0.2}, {100, 0.37}, {1000, 0.01}, {5000, 0.6}};
  for (const auto& c : cases) {
    CAPTURE(c.n);
    CAPTURE(c.p);
    CHECK(std::abs(chi_square_z(draws(kSampler, c.n, c.p, 40000), c.n, c.p)) < 5.0);
  }
}

TEST_CASE("binomial: mean and variance up to n = 2^62") {
  const struct { std::int64_t n; double p; } cases[] = {
      {1000000000, 0.3}, {1000000000000000, 0.5}, {1000000000000000, 1e-6}, {1000000000000000, 1.0 - 1e-9},
      {std::int64_t{1} << 62, 0.7}};
  for (const auto& c : cases) {
    CAPTURE(c.n);
    CAPTURE(c.p);
    const MomentZ z = binomial_z(draws(kSampler, c.n, c.p, 40000), c.n, c.p);
    CHECK(std::abs(z.mean) < 5.0);
    CHECK(std::abs(z.var) < 5.0);
  }
}

TEST_CASE("binomial: edge values and addressing") {
  ExtraWords w({1, kRouting}, 0, 0);
  CHECK(binomial_from(0, 0.5, w) == 0);
  CHECK(binomial_from(std::int64_t{1} << 62, 0.0, w) == 0);
  CHECK(binomial_from(std::int64_t{1} << 62, 1.0, w) == std::int64_t{1} << 62);
  for (std::int64_t n : {std::int64_t{7}, std::int64_t{1} << 40, std::int64_t{1} << 62}) {
    const std::int64_t k = binomial(n, 0.4, {5, kRouting}, 9, 2);
    CHECK(k >= 0);
    CHECK(k <= n);
    CHECK(k == binomial(n, 0.4, {5, kRouting}, 9, 2));  // a pure function of its address
  }
  CHECK(binomial(1000, 0.4, {5, kRouting}, 9, 2) != binomial(1000, 0.4, {5, kRouting}, 9, 3));
}

TEST_CASE("binomial: the planted twins fail the same tests") {
  CHECK(std::abs(chi_square_z(draws(kOffByOne, 100, 0.37, 40000), 100, 0.37)) > 5.0);
  const std::int64_t n = 1000000000000000;
  CHECK(std::abs(binomial_z(draws(kMeanOrderStatistic, n, 0.5, 40000), n, 0.5).var) > 5.0);
}

// ---- routing counts (simulate/routing.hpp): conditional binomials are Multinomial(B, p) -------------
#include "plrf/simulate/routing.hpp"

namespace {

// z-scores of the mean and variance of sum_{i in which} N_i over steps 0..count-1 of seed 1: a
// multinomial's merged cell is Bin(B, q), q = sum p_i; independent blocks have variance B sum p_i (1 - p_i).
MomentZ routing_z(bool sparse, std::int64_t batch, const std::vector<double>& p, const std::vector<int>& which,
                  int count) {
  const plrf::simulate::Routing r(p, p, std::vector<const plrf::GenMomentum*>(p.size(), nullptr), false, sparse);
  std::vector<std::int64_t> counts(p.size()), sums(count);
  double q = 0.0, var_blocks = 0.0;
  for (int i : which) q += p[i], var_blocks += p[i] * (1.0 - p[i]);
  for (int t = 0; t < count; ++t) {
    plrf::simulate::route_counts(r, 1, static_cast<std::uint64_t>(t), batch, counts);
    std::int64_t total = 0;
    for (std::int64_t c : counts) total += c;
    if (!sparse) REQUIRE(total == batch);  // every sample reaches exactly one expert
    for (int i : which) sums[t] += counts[i];
  }
  const double B = static_cast<double>(batch);
  return moment_z(sums, B * q, B * (sparse ? var_blocks : q * (1.0 - q)));
}

}  // namespace

TEST_CASE("routing counts: multinomial by conditional binomials, sparse blocks independent, any batch") {
  const std::vector<double> p = {0.5, 0.3, 0.15, 0.05};
  for (std::int64_t batch : {std::int64_t{3}, std::int64_t{1000}, std::int64_t{1000000000000}}) {
    CAPTURE(batch);
    for (const std::vector<int>& which : {std::vector<int>{0}, std::vector<int>{3}, std::vector<int>{0, 1}}) {
      const MomentZ z = routing_z(false, batch, p, which, 20000);
      CHECK(std::abs(z.mean) < 5.0);
      CHECK(std::abs(z.var) < 5.0);
    }
    const MomentZ s = routing_z(true, batch, {0.9, 0.2, 0.5}, {0, 1}, 20000);
    CHECK(std::abs(s.mean) < 5.0);
    CHECK(std::abs(s.var) < 5.0);
  }
}
