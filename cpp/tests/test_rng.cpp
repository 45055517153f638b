// Philox known-answer vectors (Random123 kat_vectors, philox4x64 R=10) and index addressing.
#include <doctest.h>

#include <cmath>
#include <vector>

#include "plrf/rng/normal.hpp"

using namespace plrf::rng;

TEST_CASE("philox4x64_10 known-answer vectors") {
  CHECK(philox4x64_10({0, 0, 0, 0}, {0, 0}) ==
        Counter{0x16554d9eca36314cULL, 0xdb20fe9d672d0fdcULL, 0xd7e772cee186176bULL, 0x7e68b68aec7ba23bULL});
  const std::uint64_t f = ~0ULL;
  CHECK(philox4x64_10({f, f, f, f}, {f, f}) ==
        Counter{0x87b092c3013fe90bULL, 0x438c3c67be8d0224ULL, 0x9cc7d7c69cd777b6ULL, 0xa09caebf594f0ba0ULL});
  CHECK(philox4x64_10({0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL},
                      {0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL}) ==
        Counter{0xa528f45403e61d95ULL, 0x38c72dbd566e9788ULL, 0xa5a1610e72fd18b5ULL, 0x57bd43b5e52b7fe6ULL});
}

TEST_CASE("normals do not depend on how the index range is split") {
  const StreamKey key{7, kFeatures};
  std::vector<double> whole(1001), parts(1001);
  fill_normals(key, 3, 5, whole.size(), whole.data());
  std::size_t done = 0;
  for (std::size_t chunk : {1, 2, 3, 7, 100, 500, 388}) {
    fill_normals(key, 3, 5 + done, chunk, parts.data() + done);
    done += chunk;
  }
  REQUIRE(done == whole.size());
  CHECK(whole == parts);
}

TEST_CASE("normal moments (brute force, 4e6 draws, 6-sigma bounds)") {
  const std::size_t n = 4'000'000;
  std::vector<double> x(n);
  fill_normals({1, kEigenSamples}, 0, 0, n, x.data());
  double m1 = 0, m2 = 0, m4 = 0, tail = 0;
  for (double z : x) {
    m1 += z;
    m2 += z * z;
    m4 += z * z * z * z;
    tail += std::abs(z) > 3.6541528853610088;  // the ziggurat's tail branch
  }
  m1 /= n; m2 /= n; m4 /= n; tail /= n;
  CHECK(std::abs(m1) < 6 * std::sqrt(1.0 / n));
  CHECK(std::abs(m2 - 1) < 6 * std::sqrt(2.0 / n));
  CHECK(std::abs(m4 - 3) < 6 * std::sqrt(96.0 / n));
  const double p_tail = 2.5821e-4;  // P(|Z| > 3.6541528853610088)
  CHECK(std::abs(tail - p_tail) < 6 * std::sqrt(p_tail / n));
}
