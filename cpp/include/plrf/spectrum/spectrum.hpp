// Spectral data (docs/theory.md §1, and nodes of docs/theory.md §10): everything the eigenbasis engines need.
//
// An entry j is a node: an eigenvalue lambda_j of K shared by mult_j eigen-directions (1 for a
// plain mode), with rho_j the summed squared initial error of those directions. In the moment
// recursion the directions of one node evolve under the same map, so their moments add; the only
// place the multiplicity enters is the noise forcing, mult_j lambda_j R2 / B. Sums over the
// spectrum (risk, R2) are sums over nodes and do not see it; counts (d, tr K) do.
//
// SpectrumView is the one place that defines the risk convention:
//   P = P_inf + 1/2 sum_j lambda_j a_j (half the MSE),  R2 = 2 P = 2 P_inf + sum_j lambda_j a_j,
// with a_j the node's second moment (or squared error) of the error. Every engine reads the
// spectrum through it; `Spectrum` only owns the storage.
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace plrf {

// Non-owning view of spectral data: arrays of d nodes (d = the model dimension when every
// multiplicity is 1). `mult == nullptr` means every multiplicity is 1.
struct SpectrumView {
  const double* lam = nullptr;  // lambda_1 >= ... >= lambda_d > 0
  const double* rho = nullptr;  // summed squared initial error per node
  std::int64_t d = 0;           // number of nodes
  double p_inf = 0.0;           // limit loss
  const double* mult = nullptr; // directions per node, or nullptr for all ones

  double multiplicity(std::int64_t j) const { return mult ? mult[j] : 1.0; }
  // The model dimension: the number of eigen-directions.
  double count() const {
    if (!mult) return static_cast<double>(d);
    double s = 0.0;
    for (std::int64_t j = 0; j < d; ++j) s += mult[j];
    return s;
  }
  // tr K = sum_j mult_j lambda_j.
  double trace() const {
    double s = 0.0;
    for (std::int64_t j = 0; j < d; ++j) s += multiplicity(j) * lam[j];
    return s;
  }
  // The risk convention, from the weighted energy sum_j lambda_j a_j.
  double risk_from_energy(double energy) const { return p_inf + 0.5 * energy; }
  double r2(double energy) const { return 2.0 * risk_from_energy(energy); }
  double energy_of(const double* a) const {
    double s = 0.0;
    for (std::int64_t j = 0; j < d; ++j) s += lam[j] * a[j];
    return s;
  }
  double r2_of(const double* a) const { return r2(energy_of(a)); }
  double risk0() const { return risk_from_energy(energy_of(rho)); }

  // The one check of spectral data, for views from any source (C++ users, bindings, Spectrum).
  // rho may be absent (nullptr) where a caller needs only the eigenvalues (stability bounds).
  void validate() const {
    if (d < 1 || !lam) throw std::invalid_argument("eigenvalues must be non-empty");
    if (!std::isfinite(p_inf) || p_inf < 0) throw std::invalid_argument("p_inf must be finite and >= 0");
    for (std::int64_t j = 0; j < d; ++j) {
      if (!std::isfinite(lam[j]) || lam[j] <= 0)
        throw std::invalid_argument("eigenvalues must be finite and > 0 (index " + std::to_string(j) + ")");
      if (j > 0 && lam[j] > lam[j - 1])
        throw std::invalid_argument("eigenvalues must be in descending order (index " + std::to_string(j) + ")");
      if (rho && (!std::isfinite(rho[j]) || rho[j] < 0))
        throw std::invalid_argument("rho must be finite and >= 0 (index " + std::to_string(j) + ")");
      // a multiplicity counts directions: a whole number >= 1 (NaN fails the comparison)
      if (mult && !(mult[j] >= 1 && mult[j] == std::floor(mult[j]) && mult[j] < 9.007199254740992e15))
        throw std::invalid_argument("multiplicity must be an integer >= 1 (index " + std::to_string(j) + ")");
    }
  }
};

// Owning spectral data (Eigen storage) for C++ users and the simulators; engines take view().
struct Spectrum {
  Eigen::VectorXd eigenvalues;   // lambda_1 >= ... >= lambda_d > 0
  Eigen::VectorXd rho;           // squared initial error per eigen-direction (summed per node)
  double p_inf = 0.0;            // limit loss
  Eigen::VectorXd multiplicity;  // directions per node; empty means all ones

  SpectrumView view() const {
    return {eigenvalues.data(), rho.data(), eigenvalues.size(), p_inf,
            multiplicity.size() ? multiplicity.data() : nullptr};
  }
  Eigen::Index dim() const { return eigenvalues.size(); }
  double trace() const { return view().trace(); }
  double risk0() const { return view().risk0(); }

  // Risk given the per-node second moments (or squares) of the error, err2_j.
  template <class Vec>
  double risk_from_weights(const Vec& err2) const {
    return risk_from_energy(eigenvalues.dot(err2));
  }
  double risk_from_energy(double energy) const { return view().risk_from_energy(energy); }

  void validate() const {
    const Eigen::Index d = eigenvalues.size();
    if (rho.size() != d)
      throw std::invalid_argument("rho must have the same length as eigenvalues (" + std::to_string(d) + "), got " +
                                  std::to_string(rho.size()));
    if (multiplicity.size() != 0 && multiplicity.size() != d)
      throw std::invalid_argument("multiplicity must be empty or have the length of eigenvalues");
    view().validate();
  }
};

}  // namespace plrf
