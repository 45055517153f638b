// The full-space simulator: honest v-dimensional samples x_j ~ N(0, j^{-2 alpha}) (stream
// kFullSamples, step s, normal index b*v + j), features f = W^T x, labels y = <x, b>, and the
// Gen-Mom-SGD iterate in theta space. It is the reference for the eigenbasis reduction.
//
// Samples do not depend on theta, so the features of a block of steps come from one
// matrix-matrix product X W instead of one matrix-vector product per step. The blocking depends
// only on (B, v, d, steps): every GEMM has the same shape whatever the thread count or resume
// point, so results are bitwise reproducible. The risk is exact, through the spectrum:
// P = P_inf + 1/2 sum lambda (U^T (theta - theta*))^2, evaluated only where it is needed.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "plrf/engine/divergence.hpp"
#include "plrf/problem/plrf_problem.hpp"
#include "plrf/rng/normal.hpp"
#include "plrf/simulate/state.hpp"
#include "plrf/spectrum/spectrum.hpp"

namespace plrf::simulate {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowMap = Eigen::Map<const RowMatrix>;

// How samples are grouped: `block_steps` steps per block, generated `chunk_rows` rows per GEMM.
struct FullBlocking {
  std::int64_t block_steps, chunk_rows, chunks;

  static FullBlocking plan(std::int64_t batch, std::int64_t v, std::int64_t steps) {
    // ~32 MB of samples per GEMM: W is streamed once per chunk, so chunks must be tall enough
    // for the product to be compute-bound rather than memory-bound.
    const std::int64_t target = std::clamp<std::int64_t>((32 << 20) / (8 * v), 16, 1024);
    // Blocks of balanced length, so that the last one does not generate samples for nothing.
    const std::int64_t most = std::max<std::int64_t>(1, target / batch);
    const std::int64_t n_blocks = (steps + most - 1) / most;
    const std::int64_t block_steps = (steps + n_blocks - 1) / n_blocks;
    const std::int64_t rows = block_steps * batch;
    const std::int64_t chunks = (rows + target - 1) / target;
    return {block_steps, (rows + chunks - 1) / chunks, chunks};
  }
};

// Shared, read-only data of a full-space run.
struct FullModel {
  const Spectrum* spectrum;
  ConstRowMap W;             // v x d, row-major
  ConstRowMap U;             // d x d, columns are the eigenvectors (row-major storage)
  Eigen::Map<const Eigen::VectorXd> theta_star;
  Eigen::VectorXd sqrt_var;  // D_j^{1/2}
  Eigen::VectorXd target;    // b_j
  std::int64_t batch;
  FullBlocking blocking;
  bool sgd;

  FullModel(const Spectrum& spec, const double* w, std::int64_t v, const double* u, const double* ts, double alpha,
            double beta, std::int64_t batch_, std::int64_t steps, bool sgd_)
      : spectrum(&spec), W(w, v, spec.dim()), U(u, spec.dim(), spec.dim()), theta_star(ts, spec.dim()),
        sqrt_var(v), target(v), batch(batch_), blocking(FullBlocking::plan(batch_, v, steps)), sgd(sgd_) {
    for (std::int64_t j = 0; j < v; ++j) {
      sqrt_var[j] = std::sqrt(data_variance(alpha, j));
      target[j] = target_weight(beta, j);
    }
  }
  std::int64_t v() const { return W.rows(); }
  std::int64_t d() const { return W.cols(); }
};

class FullStepper {
 public:
  FullStepper(const FullModel& model, const SeedSlot& slot)
      : m_(model), slot_(slot),
        X_(model.blocking.chunk_rows, model.v()),
        F_(model.blocking.chunk_rows * model.blocking.chunks, model.d()),
        labels_(F_.rows()), resid_(model.batch), grad_(model.d()) {}

  void step(std::int64_t t, const Coefficients& c) {
    const std::int64_t nb = m_.blocking.block_steps, B = m_.batch, d = m_.d();
    if (t / nb != block_) make_block(t / nb);
    const std::int64_t row0 = (t % nb) * B;
    Eigen::Map<const Eigen::VectorXd> theta(slot_.x, d);
    resid_.noalias() = F_.middleRows(row0, B) * theta;
    resid_ -= labels_.segment(row0, B);
    grad_.noalias() = F_.middleRows(row0, B).transpose() * resid_;
    grad_ /= static_cast<double>(B);
    const MomentumStep upd(c, m_.sgd);
    for (std::int64_t j = 0; j < d; ++j) slot_.x[j] = upd(slot_.x[j], slot_.y[j], grad_[j]);
  }

  double risk() const {
    const std::int64_t d = m_.d();
    Eigen::Map<const Eigen::VectorXd> theta(slot_.x, d);
    const Eigen::VectorXd e = m_.U.transpose() * (theta - m_.theta_star);
    return m_.spectrum->risk_from_weights(e.array().square().matrix());
  }

  // The exact risk costs O(d^2): check it once per block of steps.
  bool blew_up(const DivergenceGuard& guard, std::int64_t steps_done) const {
    return steps_done % m_.blocking.block_steps == 0 && guard.diverged(risk());
  }

 private:
  // Features and labels of every sample of steps [k nb, (k+1) nb): row (s, b) -> s*B + b.
  void make_block(std::int64_t k) {
    const FullBlocking& bl = m_.blocking;
    const std::int64_t B = m_.batch, v = m_.v(), rows = bl.block_steps * B;
    const rng::StreamKey key{slot_.seed, rng::kFullSamples};
    for (std::int64_t c = 0; c < bl.chunks; ++c) {
      for (std::int64_t i = 0; i < bl.chunk_rows; ++i) {
        const std::int64_t r = c * bl.chunk_rows + i;
        double* x = X_.row(i).data();
        if (r >= rows) {  // padding of the last chunk: keeps every GEMM the same shape
          std::fill(x, x + v, 0.0);
          continue;
        }
        const std::int64_t s = k * bl.block_steps + r / B, b = r % B;
        rng::fill_normals(key, static_cast<std::uint64_t>(s), static_cast<std::uint64_t>(b * v),
                          static_cast<std::size_t>(v), x);
        for (std::int64_t j = 0; j < v; ++j) x[j] *= m_.sqrt_var[j];
      }
      F_.middleRows(c * bl.chunk_rows, bl.chunk_rows).noalias() = X_ * m_.W;
      labels_.segment(c * bl.chunk_rows, bl.chunk_rows).noalias() = X_ * m_.target;
    }
    block_ = k;
  }

  const FullModel& m_;
  SeedSlot slot_;
  RowMatrix X_, F_;
  Eigen::VectorXd labels_, resid_, grad_;
  std::int64_t block_ = -1;
};

}  // namespace plrf::simulate
