// Spectral data of a sampled PLRF problem in pure C++ (Eigen), for users without Python.
// The Python package builds K the same way but hands the eigensolve to LAPACK (numpy), which
// is several times faster than Eigen's tridiagonal QR at d in the thousands.
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <vector>

#include "plrf/problem/plrf_problem.hpp"
#include "plrf/spectrum/spectrum.hpp"

namespace plrf {

struct SpectralSetup {
  Spectrum spectrum;
  Eigen::MatrixXd eigenvectors;  // columns, in the order of spectrum.eigenvalues
  Eigen::VectorXd theta_star;
};

namespace detail {
using RowBlock = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class Fn>
void for_each_row_block(const PlrfParams& p, std::int64_t block_rows, int threads, Fn&& fn) {
  RowBlock w;
  for (std::int64_t j0 = 0; j0 < p.v; j0 += block_rows) {
    const std::int64_t n = std::min(block_rows, p.v - j0);
    w.resize(n, p.d);
    feature_rows(p.seed, p.d, j0, n, w.data(), threads);
    fn(j0, w);
  }
}
}  // namespace detail

// theta_0 = 0. P_inf is computed from the residual at theta*, never as a difference of
// large numbers, so it stays accurate when it is many orders below the initial risk.
inline SpectralSetup spectral_setup(const PlrfParams& p, std::int64_t block_rows = 1024, int threads = 1) {
  p.validate();
  Eigen::MatrixXd K = Eigen::MatrixXd::Zero(p.d, p.d);
  Eigen::VectorXd h = Eigen::VectorXd::Zero(p.d);
  detail::for_each_row_block(p, block_rows, threads, [&](std::int64_t j0, const detail::RowBlock& w) {
    Eigen::VectorXd sqrt_dj(w.rows()), djbj(w.rows());
    for (Eigen::Index r = 0; r < w.rows(); ++r) {
      sqrt_dj[r] = std::sqrt(data_variance(p.alpha, j0 + r));
      djbj[r] = data_variance(p.alpha, j0 + r) * target_weight(p.beta, j0 + r);
    }
    const Eigen::MatrixXd a = sqrt_dj.asDiagonal() * w;
    K.selfadjointView<Eigen::Lower>().rankUpdate(a.transpose());
    h.noalias() += w.transpose() * djbj;
  });
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(K.selfadjointView<Eigen::Lower>());
  if (eig.info() != Eigen::Success) throw std::runtime_error("eigendecomposition of K failed");
  SpectralSetup out;
  out.spectrum.eigenvalues = eig.eigenvalues().reverse();
  out.eigenvectors = eig.eigenvectors().rowwise().reverse();
  const Eigen::VectorXd coef = (out.eigenvectors.transpose() * h).cwiseQuotient(out.spectrum.eigenvalues);
  out.theta_star = out.eigenvectors * coef;
  out.spectrum.rho = coef.cwiseAbs2();
  double p_inf = 0.0;
  detail::for_each_row_block(p, block_rows, threads, [&](std::int64_t j0, const detail::RowBlock& w) {
    const Eigen::VectorXd pred = w * out.theta_star;
    for (Eigen::Index r = 0; r < w.rows(); ++r) {
      const double res = pred[r] - target_weight(p.beta, j0 + r);
      p_inf += 0.5 * data_variance(p.alpha, j0 + r) * res * res;
    }
  });
  out.spectrum.p_inf = p_inf;
  return out;
}

}  // namespace plrf
