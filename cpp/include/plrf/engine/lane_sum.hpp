// A sum of f(j) over [j0, j1) in four interleaved lanes, in a fixed order. One running sum is a
// chain of dependent adds (latency-bound, never vectorised without -ffast-math); four lanes let
// the compiler vectorise and keep the result independent of thread count and chunking.
#pragma once
#include <cstdint>

namespace plrf {

template <class F>
inline double lane_sum(std::int64_t j0, std::int64_t j1, F&& f) {
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  std::int64_t j = j0;
  for (; j + 4 <= j1; j += 4)
    for (int k = 0; k < 4; ++k) s[k] += f(j + k);
  for (; j < j1; ++j) s[0] += f(j);
  return (s[0] + s[1]) + (s[2] + s[3]);
}

}  // namespace plrf
