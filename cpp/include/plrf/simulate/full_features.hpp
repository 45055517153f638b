// The features path of the full-space gradient (see full_model.hpp): the features F = X W of a
// block of steps come from one GEMM, and each step reads its B rows. Every row of F is computed
// the same way whatever the chunk it falls in, so the blocking changes speed only.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "plrf/linalg/dot.hpp"
#include "plrf/linalg/gemm.hpp"
#include "plrf/runtime/control.hpp"
#include "plrf/simulate/clip_step.hpp"
#include "plrf/simulate/full_model.hpp"

namespace plrf::simulate {

class FeatureGradient {
 public:
  FeatureGradient(const FullModel& model, std::uint64_t seed, const UpdateKnobs& knobs = {})
      : m_(model), seed_(seed), clip_(knobs, model.d()), samples_(static_cast<std::size_t>(model.blocking.chunk_rows * model.v())),
        features_(static_cast<std::size_t>(model.blocking.block_steps * model.batch * model.d())),
        labels_(static_cast<std::size_t>(model.blocking.block_steps * model.batch)),
        grad_(static_cast<std::size_t>(model.d())) {}

  // g = F^T (F theta - y) / B over the rows of step t (a block's GEMM is bounded, ~0.2 s: not polled).
  const double* operator()(std::int64_t t, const double* theta, const RunControl&) {
    const std::int64_t nb = m_.blocking.block_steps, B = m_.batch, d = m_.d();
    if (t / nb != block_) make_block(t / nb);
    std::fill(grad_.begin(), grad_.end(), 0.0);
    for (std::int64_t row = (t % nb) * B, end = row + B; row < end; ++row) {
      const double* f = &features_[static_cast<std::size_t>(row * d)];
      const double r = linalg::dot(f, theta, d) - labels_[static_cast<std::size_t>(row)];
      // DP-SGD (clip_step.hpp): |g_b|^2 = r^2 |f|^2
      linalg::axpy(clip_.on ? r * clip_.factor(r * r * linalg::dot(f, f, d)) : r, f, grad_.data(), d);
    }
    if (clip_.on) clip_.add_noise(seed_, static_cast<std::uint64_t>(t), grad_.data());
    for (double& g : grad_) g /= static_cast<double>(B);
    return grad_.data();
  }

 private:
  // Features and labels of every sample of steps [k nb, (k+1) nb): row (s, b) -> s*B + b.
  void make_block(std::int64_t k) {
    const FullBlocking& bl = m_.blocking;
    const std::int64_t B = m_.batch, v = m_.v(), d = m_.d(), rows = bl.block_steps * B;
    for (std::int64_t r0 = 0; r0 < rows; r0 += bl.chunk_rows) {
      const std::int64_t n = std::min(bl.chunk_rows, rows - r0);
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t r = r0 + i;
        double* x = &samples_[static_cast<std::size_t>(i * v)];
        m_.sample(seed_, k * bl.block_steps + r / B, r % B, x);
        labels_[static_cast<std::size_t>(r)] = linalg::dot(x, m_.target.data(), v);
      }
      double* f = &features_[static_cast<std::size_t>(r0 * d)];
      linalg::gemm(n, d, v, {samples_.data(), v}, {m_.W.data(), d}, f, d, m_.inner_threads);
      if (!m_.activation.identity()) m_.activation.apply(f, n * d);
    }
    block_ = k;
  }

  const FullModel& m_;
  std::uint64_t seed_;
  ClipStep clip_;
  std::vector<double> samples_, features_, labels_, grad_;
  std::int64_t block_ = -1;
};

}  // namespace plrf::simulate
