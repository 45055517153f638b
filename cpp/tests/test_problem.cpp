// The pure-C++ spectral setup against a brute-force dense computation.
#include <doctest.h>

#include <Eigen/Dense>

#include "plrf/problem/spectral_setup.hpp"

TEST_CASE("spectral_setup matches dense brute force") {
  plrf::PlrfParams p;
  p.alpha = 0.8;
  p.beta = 0.6;
  p.d = 12;
  p.v = 40;
  p.seed = 3;
  const auto s = plrf::spectral_setup(p, 7);  // odd block size on purpose
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> W(p.v, p.d);
  plrf::feature_rows(p.seed, p.d, 0, p.v, W.data());
  Eigen::VectorXd D(p.v), b(p.v);
  for (int j = 0; j < p.v; ++j) {
    D[j] = plrf::data_variance(p.alpha, j);
    b[j] = plrf::target_weight(p.beta, j);
  }
  const Eigen::MatrixXd A = D.cwiseSqrt().asDiagonal() * W;
  const Eigen::VectorXd rhs = D.cwiseSqrt().cwiseProduct(b);
  const Eigen::VectorXd theta = A.colPivHouseholderQr().solve(rhs);
  const double p_inf = 0.5 * (A * theta - rhs).squaredNorm();
  CHECK(s.spectrum.p_inf == doctest::Approx(p_inf).epsilon(1e-9));
  CHECK((s.theta_star - theta).norm() < 1e-8 * theta.norm());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(A.transpose() * A);
  CHECK((s.spectrum.eigenvalues - eig.eigenvalues().reverse()).cwiseAbs().maxCoeff() < 1e-12 * s.spectrum.eigenvalues[0]);
  CHECK(s.spectrum.risk0() == doctest::Approx(0.5 * rhs.squaredNorm()).epsilon(1e-10));
  s.spectrum.validate();
}

TEST_CASE("bad parameters are refused") {
  plrf::PlrfParams p;
  p.d = 10;
  p.v = 5;
  CHECK_THROWS_AS(p.validate(), std::invalid_argument);
  p.v = 20;
  p.alpha = -1;
  CHECK_THROWS_AS(p.validate(), std::invalid_argument);
}
