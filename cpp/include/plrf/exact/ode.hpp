// method="ode": the continuized dynamics of SPEC 5, dx_j/dt = (M_j - I) x_j + b_j R2, integrated by
// implicit Euler on tau = ln(1 + t) as in the authors' code: per step a 3x3 solve per mode and a
// Sherman-Morrison (rank-one) solve for R2. It approximates the discrete risk (it is off by a few
// percent over the first few dozen steps); we return P, not 2P.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "plrf/engine/control.hpp"
#include "plrf/engine/divergence.hpp"
#include "plrf/exact/linalg3.hpp"
#include "plrf/exact/moments.hpp"
#include "plrf/exact/modes.hpp"
#include "plrf/exact/recursion.hpp"

namespace plrf {
namespace exact {

// Times t_k = e^{k dt} - 1, merged with the record steps so that every record is a grid point.
inline std::vector<double> ode_grid(const std::vector<std::int64_t>& record, double dt) {
  const double tau_end = std::log1p(static_cast<double>(record.back()));
  std::vector<double> t;
  for (std::int64_t k = 0; k * dt < tau_end; ++k) t.push_back(std::expm1(k * dt));
  for (auto r : record) t.push_back(static_cast<double>(r));
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  return t;
}

// Solves ((1 + h) I - h M) y = x in place: the implicit-Euler system of one mode.
inline void solve_shifted(const Mat3& M, double h, double* x) {
  double N[9];
  for (int i = 0; i < 9; ++i) N[i] = -h * M[i] + ((i % 4 == 0) ? 1.0 + h : 0.0);
  solve3(N, x);
}

template <bool kSgd>
RiskCurve run_ode(const Modes& md, const GenMomentum& opt, const std::vector<std::int64_t>& record, double dt,
                  int threads, RunControl& control) {
  RiskCurve out;
  out.risk.assign(record.size(), std::numeric_limits<double>::quiet_NaN());
  MomentState x(md, kSgd);
  const int nv = kSgd ? 1 : 3;
  std::vector<std::vector<double>> w(nv, std::vector<double>(md.d));  // response to R2 per mode
  std::vector<double> partial;
  double R2 = md.r2_of(x.a.data());
  const DivergenceGuard guard(0.5 * R2);
  const std::vector<double> grid = ode_grid(record, dt);
  std::size_t ri = 0;
  for (std::size_t k = 0;; ++k) {
    const double t = grid[k];
    if (guard.diverged(0.5 * R2)) {
      out.diverged_at = static_cast<std::int64_t>(std::ceil(t));
      return out;
    }
    if (t == static_cast<double>(record[ri])) out.risk[ri++] = 0.5 * R2;
    if (ri == record.size()) return out;
    if (control.cancelled()) {
      out.interrupted = true;
      return out;
    }
    const double t1 = grid[k + 1];
    const double h = (std::log1p(t1) - std::log1p(t)) * (1.0 + t1);  // dtau times dt/dtau at the new point
    // coefficients at the new point, within the schedule's steps 0 .. T-1 (arrays have T values)
    const StepCoefs kc(opt.at(std::min(t1, static_cast<double>(record.back() - 1))), md.batch);
    double* a = x.a.data();
    const double U = sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) {
      for (std::int64_t j = j0; j < j1; ++j) {
        const double lam = md.lam[j];
        if (kSgd) {
          const SgdMode m = sgd_mode(kc, lam);
          const double n = 1.0 + h * m.one_minus_p;
          a[j] /= n;
          w[0][j] = h * m.q / n;
        } else {
          const Mat3 M = mode_matrix(kc, lam);
          const Vec3 b = forcing(kc, lam);
          double y[3] = {a[j], x.s[j], x.c[j]}, v[3] = {h * b[0], h * b[1], h * b[2]};
          solve_shifted(M, h, y);
          solve_shifted(M, h, v);
          a[j] = y[0], x.s[j] = y[1], x.c[j] = y[2];
          for (int i = 0; i < 3; ++i) w[i][j] = v[i];
        }
      }
      return dot(md.lam, a, j0, j1);
    });
    const double V = sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) {
      return dot(md.lam, w[0].data(), j0, j1);
    });
    if (!(V < 1.0)) {  // Sherman-Morrison denominator: the coupling is supercritical
      out.diverged_at = static_cast<std::int64_t>(std::ceil(t1));
      return out;
    }
    R2 = (2.0 * md.p_inf + U) / (1.0 - V);
    R2 = 2.0 * md.p_inf + sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) {
           for (int i = 0; i < nv; ++i) {
             double* xi = i == 0 ? a : i == 1 ? x.s.data() : x.c.data();
             for (std::int64_t j = j0; j < j1; ++j) xi[j] += R2 * w[i][j];
           }
           return dot(md.lam, a, j0, j1);
         });
    control.advance(1);
  }
}

// Runs with dt and 2 dt; implicit Euler is first order, so |P_dt - P_2dt| estimates the error of
// the time discretisation (not the ODE's own modelling error against the discrete recursion).
inline RiskCurve ode_risk(const Modes& md, const GenMomentum& opt, const std::vector<std::int64_t>& record,
                          double dt, int threads, RunControl& control) {
  check_record(record);
  opt.check_length(record.back());
  auto run = [&](double h) {
    return opt.is_sgd() ? run_ode<true>(md, opt, record, h, threads, control)
                        : run_ode<false>(md, opt, record, h, threads, control);
  };
  RiskCurve fine = run(dt);
  if (fine.interrupted || fine.diverged_at >= 0) return fine;
  const RiskCurve coarse = run(2.0 * dt);
  for (std::size_t i = 0; i < fine.risk.size(); ++i)
    if (std::isfinite(coarse.risk[i]))
      fine.error_estimate = std::max(fine.error_estimate, std::abs(fine.risk[i] - coarse.risk[i]) / fine.risk[i]);
  fine.interrupted = coarse.interrupted;
  return fine;
}

}  // namespace exact
}  // namespace plrf
