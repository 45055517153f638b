// n standard normals from plrf's own stream (seed, kFullSamples): test data that is the same on
// every machine, for the C++ tests.
#pragma once
#include <cstdint>
#include <vector>

#include "plrf/rng/normal.hpp"

namespace plrf::testing {

inline std::vector<double> normals(std::int64_t n, std::uint64_t seed) {
  std::vector<double> x(static_cast<std::size_t>(n));
  rng::fill_normals({seed, rng::kFullSamples}, 0, 0, x.size(), x.data());
  return x;
}

}  // namespace plrf::testing
