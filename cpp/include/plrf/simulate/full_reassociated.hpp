// The reassociated path of the full-space gradient (see full_model.hpp):
//   u = W theta - b,  s = sum_b (x_b . u) x_b,  g = W^T s / B,
// two passes over W per step instead of a B-row GEMM. Each sample is drawn, used and dropped
// while it is in cache. The passes over W may be split across threads: every element is
// computed the same way whatever the split.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/runtime/parallel.hpp"
#include "plrf/linalg/dot.hpp"
#include "plrf/simulate/full_model.hpp"

namespace plrf::simulate {

class ReassociatedGradient {
 public:
  ReassociatedGradient(const FullModel& model, std::uint64_t seed)
      : m_(model), seed_(seed), u_(static_cast<std::size_t>(model.v())), s_(u_.size()), x_(u_.size()),
        grad_(static_cast<std::size_t>(model.d())) {}

  // g of step t, or nullptr if cancelled in the batch loop (O(B v): it polls every ~2^16 sample
  // coordinates, a relaxed atomic load next to 2^16 normals).
  const double* operator()(std::int64_t t, const double* theta, const RunControl& control) {
    const std::int64_t v = m_.v(), d = m_.d();
    const double* W = m_.W.data();
    in_ranges(v, [&](std::int64_t j0, std::int64_t j1) {
      for (std::int64_t j = j0; j < j1; ++j) u_[j] = linalg::dot(W + j * d, theta, d) - m_.target[j];
    });
    std::fill(s_.begin(), s_.end(), 0.0);
    const std::int64_t poll_every = std::max<std::int64_t>(1, (std::int64_t{1} << 16) / v);
    for (std::int64_t b = 0; b < m_.batch; ++b) {
      if (b % poll_every == poll_every - 1 && control.cancelled()) return nullptr;
      m_.sample(seed_, t, b, x_.data());
      linalg::axpy(linalg::dot(x_.data(), u_.data(), v), x_.data(), s_.data(), v);
    }
    std::fill(grad_.begin(), grad_.end(), 0.0);
    in_ranges(d, [&](std::int64_t i0, std::int64_t i1) {
      for (std::int64_t j = 0; j < v; ++j) linalg::axpy(s_[j], W + j * d + i0, grad_.data() + i0, i1 - i0);
    });
    for (double& g : grad_) g /= static_cast<double>(m_.batch);
    return grad_.data();
  }

 private:
  // body(lo, hi) over a split of [0, n) into one range per inner thread (multiples of 8).
  template <class Body>
  void in_ranges(std::int64_t n, Body&& body) const {
    const std::int64_t parts = std::max<std::int64_t>(1, std::min<std::int64_t>(m_.inner_threads, n / 64));
    const std::int64_t step = (n / parts + 7) / 8 * 8;
    parallel_for(parts, static_cast<int>(parts), [&](std::int64_t p) {
      body(std::min(n, p * step), p + 1 == parts ? n : std::min(n, (p + 1) * step));
    });
  }

  const FullModel& m_;
  std::uint64_t seed_;
  std::vector<double> u_, s_, x_, grad_;
};

}  // namespace plrf::simulate
