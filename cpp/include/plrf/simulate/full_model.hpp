// The shared, read-only data of a full-space run, its samples, and how the gradient is computed.
//
// The minibatch gradient g = W^T X^T (X W theta - X b) / B can be evaluated two ways with the
// same samples X (stream kFullSamples, step s, normal index b*v + j), equal up to rounding:
//  - features: F = X W for a block of steps by one GEMM (the samples do not depend on theta),
//    then g = F^T (F theta - X b) / B per step. 2 B v d flops per step, compute-bound.
//  - reassociated: u = W theta - b, r = X u, s = X^T r, g = W^T s / B. Two passes over W per
//    step (16 v d bytes, memory-bound) plus 4 B v flops, so it wins for large batches.
// The choice depends on (B, v, d) only, never on threads or the resume point, so a run is
// bitwise reproducible whatever the thread count and wherever it was paused.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "plrf/problem/plrf_problem.hpp"
#include "plrf/rng/normal.hpp"
#include "plrf/spectrum/spectrum.hpp"

namespace plrf::simulate {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowMap = Eigen::Map<const RowMatrix>;

enum class FullPath { kFeatures, kReassociated };

// Nonlinear random features (docs/nonlinear.md): features sigma(scale * W^T x). The codes match
// plrf.nonlinear.CORE_CODES. Only the features path forms W^T x, so a nonlinear run always takes it.
enum class Activation : int { kIdentity = 0, kRelu = 1, kTanh = 2, kErf = 3, kGelu = 4 };

struct FeatureMap {
  Activation kind = Activation::kIdentity;
  double scale = 1.0;

  bool identity() const { return kind == Activation::kIdentity; }
  void apply(double* f, std::int64_t n) const {
    constexpr double kInvSqrt2 = 0.70710678118654752440;
    for (std::int64_t i = 0; i < n; ++i) {
      const double u = scale * f[i];
      switch (kind) {
        case Activation::kIdentity: f[i] = u; break;
        case Activation::kRelu: f[i] = u > 0.0 ? u : 0.0; break;
        case Activation::kTanh: f[i] = std::tanh(u); break;
        case Activation::kErf: f[i] = std::erf(u); break;
        case Activation::kGelu: f[i] = 0.5 * u * std::erfc(-u * kInvSqrt2); break;
      }
    }
  }
};

// Per-step cost of each path, in flops: streaming a double of W costs about as much as
// kFlopsPerStreamedDouble flops of blocked GEMM; less when W fits a large last-level cache
// (measured on a 32 MB-L3 AVX-512 machine: crossovers near B = 24 at d = 1000, B = 36 at d = 4000).
inline FullPath choose_full_path(std::int64_t batch, std::int64_t v, std::int64_t d) {
  const double vd = static_cast<double>(v) * static_cast<double>(d);
  const double flops_per_streamed_double = 8.0 * vd <= double(32 << 20) ? 24.0 : 36.0;
  const double features = 2.0 * static_cast<double>(batch) * vd;
  const double reassociated = 2.0 * flops_per_streamed_double * vd + 4.0 * static_cast<double>(batch * v);
  return reassociated < features ? FullPath::kReassociated : FullPath::kFeatures;
}

// How samples are grouped on the features path: `block_steps` steps per block, generated
// `chunk_rows` rows per GEMM. The risk guard also runs once per block on either path.
struct FullBlocking {
  std::int64_t block_steps, chunk_rows, chunks;

  static FullBlocking plan(std::int64_t batch, std::int64_t v, std::int64_t d, std::int64_t steps) {
    // Tall enough for W, streamed once per GEMM, not to be the bottleneck (~32 MB of samples),
    // small enough that one GEMM (<= 16 GFlop, ~0.2 s) keeps Ctrl-C responsive between steps.
    const std::int64_t by_bytes = (32 << 20) / (8 * v), by_flops = static_cast<std::int64_t>(8e9 / (double(v) * d));
    const std::int64_t target = std::clamp<std::int64_t>(std::min(by_bytes, by_flops), 16, 1024);
    // Blocks of balanced length, so that the last one does not generate samples for nothing.
    const std::int64_t most = std::max<std::int64_t>(1, target / batch);
    const std::int64_t n_blocks = (steps + most - 1) / most;
    const std::int64_t block_steps = (steps + n_blocks - 1) / n_blocks;
    const std::int64_t rows = block_steps * batch;
    const std::int64_t chunks = (rows + target - 1) / target;
    return {block_steps, (rows + chunks - 1) / chunks, chunks};
  }
};

struct FullModel {
  const Spectrum* spectrum;
  ConstRowMap W;             // v x d, row-major
  ConstRowMap U;             // d x d, columns are the eigenvectors (row-major storage)
  Eigen::Map<const Eigen::VectorXd> theta_star;
  Eigen::VectorXd sqrt_var;  // D_j^{1/2}
  Eigen::VectorXd target;    // b_j
  std::int64_t batch;
  FullBlocking blocking;
  FullPath path;
  int inner_threads;         // threads for one seed's linear algebra (never changes results)
  bool sgd;
  FeatureMap activation{};   // identity: the linear PLRF

  FullModel(const Spectrum& spec, const double* w, std::int64_t v, const double* u, const double* ts, double alpha,
            double beta, std::int64_t batch_, std::int64_t steps, bool sgd_, FullPath path_, int inner_threads_ = 1)
      : spectrum(&spec), W(w, v, spec.dim()), U(u, spec.dim(), spec.dim()), theta_star(ts, spec.dim()),
        sqrt_var(v), target(v), batch(batch_), blocking(FullBlocking::plan(batch_, v, spec.dim(), steps)),
        path(path_), inner_threads(inner_threads_), sgd(sgd_) {
    for (std::int64_t j = 0; j < v; ++j) {
      sqrt_var[j] = std::sqrt(data_variance(alpha, j));
      target[j] = target_weight(beta, j);
    }
  }
  std::int64_t v() const { return W.rows(); }
  std::int64_t d() const { return W.cols(); }

  // Sample b of step s of a seed: x_j = D_j^{1/2} z_j with z normals b*v .. b*v + v - 1.
  void sample(std::uint64_t seed, std::int64_t s, std::int64_t b, double* x) const {
    const std::int64_t n = v();
    rng::fill_normals({seed, rng::kFullSamples}, static_cast<std::uint64_t>(s), static_cast<std::uint64_t>(b * n),
                      static_cast<std::size_t>(n), x);
    for (std::int64_t j = 0; j < n; ++j) x[j] *= sqrt_var[j];
  }
};

}  // namespace plrf::simulate
