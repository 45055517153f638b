// The deterministic equivalent of the PLRF spectrum (docs/theory.md §6), with no W and no v-sized arrays.
//
// With D_j = j^{-2 alpha}, b_j^2 = j^{-2 beta} (j = 1..v) and s(z) = (1/d) tr (K - z)^{-1} = -m(z)/z:
//   1 = m + (1/d) sum_j D_j m / (D_j m - z)                       (resolvent equation)
//   P_inf = 1/2 sum_j D_j b_j^2 kappa / (D_j + kappa),  sum_j D_j / (D_j + kappa) = d   (z -> 0)
//   sum_k lambda_k rho_k / (lambda_k - z) = sum_j D_j b_j^2 / (D_j m - z) + 2 P_inf / z.
// Densities are read at z = x (1 + i eta) through the kernel K_eta = (1/pi) Im[lambda / (lambda - z)],
// which (unlike Im 1/(lambda - z) at a relative eta) is a bump of width eta in ln x, of total mass
// 1 - atan(eta)/pi:
//   counts per unit ln x  nu(x) = -(1/pi) Im m(z)                 (times d)
//   rho per unit ln x     w(x)  = (1/pi) Im [sum_j D_j b_j^2 / (D_j m - z) + 2 P_inf / z]
// K_eta has Lorentzian tails ~ eta / ln^2: a fraction O(eta) of every spike's mass (the top
// eigenvalues at alpha >= 1, the whole top at alpha < 1/2) leaks into distant bins or off the grid,
// which biases the initial risk by up to 2%. So the densities use 2 K_eta - K_{2 eta} instead: still
// positive, but its tails cancel to O(eta^3).
// Sums over j are taken exactly for j <= j_exact and by the midpoint rule on bins of relative width
// `bin` beyond (the summands are smooth in j there), so the cost does not grow with v. They run in
// one vectorised pass per Newton iteration (resolvent_sums.hpp), from an extrapolated start.
#pragma once
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/spectrum/resolvent_sums.hpp"

namespace plrf::theory_spectrum {

using cplx = std::complex<double>;

struct Nodes {
  std::vector<double> D, Db2, weight;  // D_j, D_j b_j^2 at each node, and the number of j it stands for
};

inline Nodes power_law_nodes(double alpha, double beta, std::int64_t v, std::int64_t j_exact, double bin) {
  Nodes n;
  auto add = [&](double j, double w) {
    n.D.push_back(std::pow(j, -2.0 * alpha));
    n.Db2.push_back(std::pow(j, -2.0 * (alpha + beta)));
    n.weight.push_back(w);
  };
  std::int64_t j = 1;
  for (; j <= std::min(v, j_exact); ++j) add(static_cast<double>(j), 1.0);
  while (j <= v) {
    const std::int64_t width = std::max<std::int64_t>(1, static_cast<std::int64_t>(bin * static_cast<double>(j)));
    const std::int64_t end = std::min(v + 1, j + width);
    add(0.5 * static_cast<double>(j + end - 1), static_cast<double>(end - j));
    j = end;
  }
  return n;
}

// kappa with sum_{j<=v} D_j / (D_j + kappa) = d (needs v > d), and P_inf; the summands are smooth in
// j, so the compressed nodes are accurate to ~bin^2.
inline double kappa(const Nodes& n, std::int64_t d) {
  auto excess = [&](double k) {
    double s = 0.0;
    for (std::size_t i = 0; i < n.D.size(); ++i) s += n.weight[i] * n.D[i] / (n.D[i] + k);
    return s - static_cast<double>(d);
  };
  double lo = std::log(1e-300), hi = std::log(1.0);  // kappa < D_1 = 1 since d >= 1
  for (int it = 0; it < 100; ++it) {
    const double mid = 0.5 * (lo + hi);
    (excess(std::exp(mid)) > 0 ? lo : hi) = mid;
  }
  return std::exp(0.5 * (lo + hi));
}

inline double p_inf(const Nodes& n, double kap) {
  double s = 0.0;
  for (std::size_t i = 0; i < n.D.size(); ++i) s += n.weight[i] * n.Db2[i] * kap / (n.D[i] + kap);
  return 0.5 * s;
}

// The summands of the resolvent equation and of the rho transform for a dimension d.
inline ResolventTerms resolvent_terms(const Nodes& n, double d) {
  ResolventTerms t;
  for (std::size_t i = 0; i < n.D.size(); ++i) {
    t.D.push_back(n.D[i]);
    t.wd.push_back(n.weight[i] * n.D[i] / d);
    t.wb.push_back(n.weight[i] * n.Db2[i]);
  }
  t.pad();
  return t;
}

// Newton on F(m) = m - 1 + m S1(m) from m; true if it converged on the physical branch (Im s > 0,
// s = -m / z). `rho_sum` gets S3 at the last iterate (its last step is < 1e-13 |m|).
inline bool newton(const ResolventTerms& t, cplx z, cplx& m, cplx& rho_sum) {
  for (int it = 0; it < 60; ++it) {
    const Sums s = resolvent_sums(t, m, z);
    const cplx step = (m - 1.0 + m * s.s1) / (1.0 - z * s.s2);
    m -= step;
    rho_sum = s.s3;
    if (std::abs(step) < 1e-13 * std::abs(m)) return (-m / z).imag() > 0;
  }
  return false;
}

// Solves the resolvent equation at z by Newton from the guess m0, then from `fallback` (the
// previous grid point's m), then from the (slow, always convergent) fixed point
// s = 1 / (-z + (1/d) sum D / (1 + D s)) when Newton leaves the physical branch. Returns S3.
inline cplx solve_m(const ResolventTerms& t, cplx z, cplx m0, cplx fallback, cplx& m) {
  cplx rho_sum;
  for (const cplx& start : {m0, fallback}) {
    m = start;
    if (newton(t, z, m, rho_sum)) return rho_sum;
  }
  cplx s = -fallback / z;
  if (!(s.imag() > 0)) s = cplx(0.0, 1.0 / z.imag());
  for (int it = 0; it < 2000; ++it) {
    cplx acc = -z;
    for (std::size_t i = 0; i < t.D.size(); ++i) acc += t.wd[i] / (1.0 + t.D[i] * s);
    const cplx s2 = 1.0 / acc;
    const bool done = std::abs(s2 - s) < 1e-10 * std::abs(s);
    s = 0.5 * (s + s2);
    if (done) break;
  }
  m = -s * z;
  if (!newton(t, z, m, rho_sum)) throw std::runtime_error("theory spectrum: the resolvent equation did not converge");
  return rho_sum;
}

constexpr double kPi = 3.14159265358979323846;

// m along the descending grid at one eta: each point starts Newton from the linear extrapolation of
// the last two (the grid is uniform in ln x and m is smooth on the scale eta), which saves about
// half of the Newton iterations against starting from the last m alone.
class ResolventPath {
 public:
  explicit ResolventPath(double eta) : eta_(eta) {}
  // Densities (nu, w) through K_eta at z = x (1 + i eta).
  std::pair<double, double> density_at(const ResolventTerms& t, double p_inf, double x) {
    const cplx z(x, eta_ * x);
    const cplx guess = count_ >= 2 ? 2.0 * m1_ - m2_ : m1_;
    cplx m;
    const cplx acc = solve_m(t, z, guess, m1_, m) + 2.0 * p_inf / z;
    m2_ = m1_, m1_ = m, ++count_;
    return {-m.imag() / kPi, acc.imag() / kPi};
  }

 private:
  double eta_;
  cplx m1_{1.0, 0.0}, m2_{1.0, 0.0};
  int count_ = 0;
};

// Densities nu(x), w(x) per unit ln x on the descending grid x, read through the unit-mass kernel
// (2 K_eta - K_{2 eta}) / (1 - (2 atan eta - atan 2 eta) / pi).
inline void densities(const Nodes& n, double d, double p_inf, const std::vector<double>& x, double eta, std::vector<double>& nu,
                      std::vector<double>& w, RunControl& control) {
  nu.assign(x.size(), 0.0);
  w.assign(x.size(), 0.0);
  const double mass = 1.0 - (2.0 * std::atan(eta) - std::atan(2.0 * eta)) / kPi;
  const ResolventTerms terms = resolvent_terms(n, d);
  ResolventPath path1(eta), path2(2.0 * eta);
  for (std::size_t k = 0; k < x.size() && !control.cancelled(); ++k, control.advance(1)) {
    const auto [nu1, w1] = path1.density_at(terms, p_inf, x[k]);
    const auto [nu2, w2] = path2.density_at(terms, p_inf, x[k]);
    nu[k] = (2.0 * nu1 - nu2) / mass;
    w[k] = (2.0 * w1 - w2) / mass;
  }
}

}  // namespace plrf::theory_spectrum
