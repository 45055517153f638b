// A sum of f(i) over [i0, i1) in eight interleaved lanes, in a fixed order. One running sum is a
// chain of dependent adds (latency-bound, never vectorised without -ffast-math); eight lanes let
// the compiler vectorise, and the order depends only on the range, so results are the same
// whatever the thread count or chunking of the caller.
#pragma once
#include <cstdint>

namespace plrf::linalg {

// Lane l sums i = i0 + l mod 8 in order, the tail sums last, lanes combine pairwise.
template <class F>
inline double lane_sum(std::int64_t i0, std::int64_t i1, F&& f) {
  double lane[8] = {};
  std::int64_t i = i0;
  for (; i + 8 <= i1; i += 8)
    for (int l = 0; l < 8; ++l) lane[l] += f(i + l);
  double tail = 0.0;
  for (; i < i1; ++i) tail += f(i);
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])) + tail;
}

}  // namespace plrf::linalg
