// Vector kernels with a summation order fixed by the length alone (lane_sum), and axpy.
#pragma once
#include <cstdint>

#include "plrf/linalg/lane_sum.hpp"

namespace plrf::linalg {

// sum_i a_i b_i in the fixed lane order of lane_sum.
inline double dot(const double* a, const double* b, std::int64_t n) {
  return lane_sum(0, n, [&](std::int64_t i) { return a[i] * b[i]; });
}

// y += alpha x.
inline void axpy(double alpha, const double* x, double* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace plrf::linalg
