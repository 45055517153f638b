// Spectral data (SPEC section 1): everything the eigenbasis engines need, and the one place
// that defines the risk convention: P = P_inf + 1/2 sum_j lambda_j e_j^2 (half the MSE).
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <stdexcept>
#include <string>

namespace plrf {

struct Spectrum {
  Eigen::VectorXd eigenvalues;  // lambda_1 >= ... >= lambda_d > 0
  Eigen::VectorXd rho;          // squared initial error per eigen-direction
  double p_inf = 0.0;           // limit loss

  Eigen::Index dim() const { return eigenvalues.size(); }
  double trace() const { return eigenvalues.sum(); }
  double risk0() const { return risk_from_weights(rho); }

  // Risk given the per-mode second moments (or squares) of the error, err2_j.
  template <class Vec>
  double risk_from_weights(const Vec& err2) const {
    return risk_from_energy(eigenvalues.dot(err2));
  }
  // Risk given the weighted energy sum_j lambda_j e_j^2 (engines that keep it as a running sum).
  double risk_from_energy(double energy) const { return p_inf + 0.5 * energy; }

  void validate() const {
    const Eigen::Index d = eigenvalues.size();
    if (d < 1) throw std::invalid_argument("eigenvalues must be non-empty");
    if (rho.size() != d)
      throw std::invalid_argument("rho must have the same length as eigenvalues (" + std::to_string(d) + "), got " +
                                  std::to_string(rho.size()));
    if (!std::isfinite(p_inf) || p_inf < 0) throw std::invalid_argument("p_inf must be finite and >= 0");
    for (Eigen::Index j = 0; j < d; ++j) {
      if (!std::isfinite(eigenvalues[j]) || eigenvalues[j] <= 0)
        throw std::invalid_argument("eigenvalues must be finite and > 0 (index " + std::to_string(j) + ")");
      if (j > 0 && eigenvalues[j] > eigenvalues[j - 1])
        throw std::invalid_argument("eigenvalues must be in descending order (index " + std::to_string(j) + ")");
      if (!std::isfinite(rho[j]) || rho[j] < 0)
        throw std::invalid_argument("rho must be finite and >= 0 (index " + std::to_string(j) + ")");
    }
  }
};

}  // namespace plrf
