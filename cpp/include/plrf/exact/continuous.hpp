// method="continuous": the expected risk of SGD's three continuous-time models (docs/families.md §4),
// exact up to rounding for every d and t.
//
// Derivation. Per mode, with step gamma frozen on each unit [t, t + 1) (the schedule's value at t),
// the second moments a_j = E e_j^2 of every model follow the linear system
//   da_j/dt = kappa_j a_j + q_j R2,   R2 = 2 P_inf + sum_k lambda_k a_k,   q_j = m_j gamma^2 lambda_j / B
// (m_j the node multiplicity, docs/theory.md §10). The models differ only in kappa_j:
//   continuized (SGD at the jumps of a rate-1 Poisson clock): kappa = p_j - 1 of the SGD step map;
//   ito (the Ito SDE with SGD's covariance = SVAG's limit):   kappa = p_j - 1 - (gamma lambda_j)^2;
//   hsgd (homogenized SGD, no lambda^2 term):                  kappa = -2 gamma lambda_j,
// with p_j = (1 - gamma lambda_j)^2 + gamma^2 lambda_j^2 / B and q_j read from sgd_mode (moments.hpp),
// so the three models share the discrete recursion's one moment map.
// The rate matrix L = diag(kappa) + q lambda^T (plus the constant forcing q 2 P_inf) is diagonal plus
// rank one, so L x costs O(d). We apply exp(h L) by its Taylor series, one O(d) pass per term: with
// n substeps per unit such that nu = h (max |kappa| + sum q lambda) <= 1/2 (nu bounds h L in the norm
// in which L is symmetric, diag(sqrt(lambda / q))), the terms after the N-th add at most
// nu^{N+1} e^nu / (N+1)! < 1e-17 of the state, and no partial sum exceeds e^nu <= 1.65 times the
// state, so rounding stays at a few ulps: the result is exact to rounding.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/exact/moments.hpp"
#include "plrf/exact/modes.hpp"
#include "plrf/exact/recorder.hpp"
#include "plrf/runtime/format.hpp"

namespace plrf::exact {

// A rate norm beyond this per unit of time needs > 2e5 substeps per step and diverges within one.
constexpr double kMaxContinuousRate = 1e5;

enum class ContinuousModel { Continuized, Ito, Hsgd };

inline ContinuousModel continuous_model(const std::string& name) {
  if (name == "continuized") return ContinuousModel::Continuized;
  if (name == "ito") return ContinuousModel::Ito;
  if (name == "hsgd") return ContinuousModel::Hsgd;
  throw std::invalid_argument("model must be 'continuized', 'ito' or 'hsgd', got '" + name + "'");
}

// kappa_j of the model, from the discrete SGD map m = sgd_mode(k, lam) (one definition of the coefficients).
inline double continuous_kappa(ContinuousModel model, const StepCoefs& k, double lam, const SgdMode& m) {
  const double gl2 = (k.G * lam) * (k.G * lam);
  switch (model) {
    case ContinuousModel::Continuized: return -m.one_minus_p;  // p - 1 = -2 G lam + (1 + 1/B) (G lam)^2
    case ContinuousModel::Ito: return -m.one_minus_p - gl2;
    case ContinuousModel::Hsgd: return -2.0 * k.G * lam;
  }
  return -m.one_minus_p;
}

// The unit map's coefficients for one frozen step size: rates, forcings and the Taylor plan.
struct UnitRates {
  std::vector<double> kappa, q;
  int substeps = 1, terms = 1;
  double h = 1.0;
};

inline void unit_rates(ContinuousModel model, const Modes& md, const StepCoefs& k, UnitRates& r) {
  r.kappa.resize(static_cast<std::size_t>(md.d));
  r.q.resize(static_cast<std::size_t>(md.d));
  double kmax = 0.0, coupling = 0.0;
  for (std::int64_t j = 0; j < md.d; ++j) {
    const SgdMode m = sgd_mode(k, md.lam[j]);
    r.kappa[j] = continuous_kappa(model, k, md.lam[j], m);
    r.q[j] = m.q * md.multiplicity(j);
    kmax = std::max(kmax, std::abs(r.kappa[j]));
    coupling += r.q[j] * md.lam[j];
  }
  const double norm = kmax + coupling;
  if (!(norm < kMaxContinuousRate))
    throw std::invalid_argument("lr gives a continuous-time rate norm of " + format_number(norm) +
                                " per step (limit 1e5): the model diverges at once; use a smaller lr");
  r.substeps = std::max(1, static_cast<int>(std::ceil(2.0 * norm)));
  r.h = 1.0 / r.substeps;
  const double nu = r.h * norm;
  double bound = std::exp(nu);  // nu^{N+1} e^nu / (N+1)! for N = terms - 1
  r.terms = 0;
  do {
    ++r.terms;
    bound *= nu / r.terms;
  } while (bound > 1e-17 && r.terms < 60);
}

// One substep x <- exp(h L) x for modes in place; `scratch` holds the current Taylor term. Returns the
// new R2. Each term is one sweep: y_{n+1} = h / (n + 1) (kappa y_n + q (lambda . y_n + 2 P_inf [n = 0])).
inline double continuous_substep(const Modes& md, const UnitRates& r, double R2, std::vector<double>& a,
                                 std::vector<double>& y, int threads, std::vector<double>& partial) {
  y = a;
  double s = R2;  // lambda . y_0 + 2 P_inf: the coupling seen by the first term
  for (int n = 0; n < r.terms; ++n) {
    const double c = r.h / (n + 1);
    const double sn = s;
    s = sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) {
      double acc = 0.0;
      for (std::int64_t j = j0; j < j1; ++j) {
        y[j] = c * (r.kappa[j] * y[j] + r.q[j] * sn);
        a[j] += y[j];
        acc += md.lam[j] * y[j];
      }
      return acc;
    });
  }
  return md.r2(sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) { return dot(md.lam, a.data(), j0, j1); }));
}

// The substeps of one unit of time: R2 <- substep(R2) n times, stopping early on a non-finite R2 or
// a cancellation. A unit may hold up to 2^31 - 1 substeps (sde_scheme.hpp), minutes of work, so
// cancellation is polled at every substep (one relaxed load next to an O(d) sweep); the caller
// then drops the unfinished unit (run_units).
template <class Substep>
double run_substeps(double R2, std::int64_t n, const RunControl& control, Substep&& substep) {
  for (std::int64_t i = 0; i < n && std::isfinite(R2) && !control.cancelled(); ++i) R2 = substep(R2);
  return R2;
}

// The unit loop shared by the continuous models and the SDE substep scheme (sde_scheme.hpp): plain SGD
// only; prepare(coefficients) runs when the step size changes, unit(R2) advances one unit of time
// (run_substeps); a unit cut short by a cancellation is never recorded.
template <class Prepare, class Unit>
RiskCurve run_units(const Modes& md, const GenMomentum& opt, const RecordGrid& record, RunControl& control,
                    Prepare&& prepare, Unit&& unit) {
  opt.check_length(record.back());
  if (!opt.is_sgd())
    throw std::invalid_argument("method='continuous' models plain SGD only (gamma1 = gamma3 = 0): the three "
                                "continuous-time models are defined for SGD");
  double R2 = md.r2_of(md.rho);
  Recorder rec(record, R2);
  double gamma = std::numeric_limits<double>::quiet_NaN();
  for (std::int64_t t = 0;; ++t) {
    if (!rec.visit(t, R2, control)) return rec.out;
    const Coefficients c = opt.at(static_cast<double>(t));
    if (!(c.G() == gamma)) {  // the maps change only with the step size
      gamma = c.G();
      prepare(StepCoefs(c, md.batch));
    }
    R2 = unit(R2);
    if (rec.stop_if_cancelled(control)) return rec.out;
    control.advance(1);
  }
}

inline RiskCurve continuous_risk(const Modes& md, const GenMomentum& opt, ContinuousModel model,
                                 const RecordGrid& record, int threads, RunControl& control) {
  std::vector<double> a(md.rho, md.rho + md.d), y, partial;
  UnitRates rates;
  return run_units(
      md, opt, record, control, [&](const StepCoefs& k) { unit_rates(model, md, k, rates); },
      [&](double R2) {
        return run_substeps(R2, rates.substeps, control,
                            [&](double r2) { return continuous_substep(md, rates, r2, a, y, threads, partial); });
      });
}

}  // namespace plrf::exact
