// Vector kernels with a summation order fixed by the length alone: dot products in eight
// interleaved lanes (vectorisable, and the same bits whatever the caller or thread), and axpy.
#pragma once
#include <cstdint>

namespace plrf::linalg {

// sum_i a_i b_i: lane l sums i = l mod 8 in order, the tail sums last, lanes combine pairwise.
inline double dot(const double* a, const double* b, std::int64_t n) {
  double lane[8] = {};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) lane[l] += a[i + l] * b[i + l];
  double tail = 0.0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])) + tail;
}

// y += alpha x.
inline void axpy(double alpha, const double* x, double* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace plrf::linalg
