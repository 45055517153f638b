// method="ode": the continuized dynamics of docs/theory.md §5, dx_j/dt = (M_j - I) x_j + b_j R2, integrated by
// implicit Euler on tau = ln(1 + t) as in the authors' code: per step a 3x3 solve per mode and a
// Sherman-Morrison (rank-one) solve for R2. It approximates the discrete risk (it is off by a few
// percent over the first few dozen steps); we return P, not 2P.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/runtime/isa.hpp"
#include "plrf/exact/block_map.hpp"
#include "plrf/exact/linalg3.hpp"
#include "plrf/exact/moments.hpp"
#include "plrf/exact/modes.hpp"
#include "plrf/exact/recorder.hpp"
#include "plrf/exact/recursion.hpp"
#include "plrf/runtime/format.hpp"

namespace plrf::exact {

// Grid points beyond which a run is refused: at d >= 1 each costs at least a pass over the modes,
// so 1e12 of them is days of work (and the old materialised grid would have been 8 TB).
constexpr double kMaxOdePoints = 1e12;

// The time grid t_k = e^{k dt} - 1 merged with the record steps (every record is a grid point),
// streamed one point at a time: its length is log(1 + T) / dt, unbounded as dt -> 0.
class OdeGrid {
 public:
  OdeGrid(const RecordGrid& record, double dt)
      : record_(record), dt_(dt), tau_end_(std::log1p(static_cast<double>(record.back()))) {
    if (!(dt > 0) || tau_end_ / dt > kMaxOdePoints)
      throw std::invalid_argument("dt=" + format_number(dt) + " gives about " + format_number(tau_end_ / dt) +
                                  " ODE grid points (limit 1e12): use a larger dt");
  }

  // The grid point after t (t itself a grid point); the last record has no successor.
  double after(double t) {
    while (log_point(k_) <= t) ++k_;
    while (r_ < record_.size() && static_cast<double>(record_[r_]) <= t) ++r_;
    ++points;
    return std::min(log_point(k_), static_cast<double>(record_[std::min(r_, record_.size() - 1)]));
  }

  std::int64_t points = 0;  // steps taken so far

 private:
  double log_point(std::int64_t k) const {
    const double tau = static_cast<double>(k) * dt_;
    return tau < tau_end_ ? std::expm1(tau) : std::numeric_limits<double>::infinity();
  }

  const RecordGrid& record_;
  double dt_, tau_end_;
  std::int64_t k_ = 0;
  std::size_t r_ = 0;
};

// The ODE reads each schedule only at its grid points (at the point that ends a grid step), so an
// array schedule that leaves the range of its values at two neighbouring points and comes back in
// between (a learning-rate spike) would be skipped without a trace. A monotone move (a step decay)
// is taken at the next point, a lag inside the grid's own resolution. So, before any work, an array
// is scanned over every grid interval (O(T + points), as fast scans each block) and refused where
// it leaves that range by more than dt relative (the change a smooth schedule makes across one
// interval of log-time dt). `clock` maps run time to schedule time (an expert's clock).
inline void check_array_between_points(const Schedule& s, const char* name, const RecordGrid& record, double dt,
                                       double clock) {
  if (s.kind() != Schedule::Kind::Array) return;
  const auto& v = s.values();
  const std::int64_t last = record.back() - 1;  // the schedule's last step in the run
  auto index = [&](double t) { return static_cast<std::int64_t>(std::min(clock * t, static_cast<double>(last))); };
  OdeGrid grid(record, dt);
  for (double t = 0.0, t1; t < static_cast<double>(record.back()); t = t1) {
    t1 = grid.after(t);
    const std::int64_t i0 = index(t), i1 = index(t1);  // the samples at the two points
    const double lo = std::min(v[i0], v[i1]), hi = std::max(v[i0], v[i1]);
    const double slack = dt * std::max(std::abs(lo), std::abs(hi));
    for (std::int64_t i = i0 + 1; i < i1; ++i)
      if (v[i] > hi + slack || v[i] < lo - slack)
        throw std::invalid_argument(
            std::string("optimizer: the array schedule ") + name + " is " + format_number(v[i]) + " at step " +
            std::to_string(i) + ", between ODE grid points where it is " + format_number(v[i0]) + " (step " +
            std::to_string(i0) + ") and " + format_number(v[i1]) + " (step " + std::to_string(i1) +
            "): method='ode' reads schedules at its grid points only and would skip this excursion; use "
            "method='exact' or 'fast' (they scan arrays step by step)");
  }
}

inline void check_arrays_between_points(const GenMomentum& opt, const RecordGrid& record, double dt, double clock) {
  check_array_between_points(opt.gamma1, "gamma1", record, dt, clock);
  check_array_between_points(opt.gamma2, "gamma2 (the learning rate)", record, dt, clock);
  check_array_between_points(opt.gamma3, "gamma3", record, dt, clock);
  check_array_between_points(opt.delta, "delta", record, dt, clock);
}

// One implicit-Euler step of modes [j0, j1): x <- ((1 + h) I - h M)^{-1} x and the response to
// R2, w = ((1 + h) I - h M)^{-1} h b (one inverse, two right-hand sides). Compiled for each
// instruction set (runtime/isa.hpp).
struct OdeModes {
  const double* lam;
  const double* mult;  // node multiplicities (nullptr: all 1); they scale the forcing (docs/theory.md §10)
  double *a, *s, *c;  // moments (s, c unused for SGD)
  double* w[3];       // response to R2
};

template <bool kSgd>
struct OdeStep {
  template <int W>
  PLRF_ALWAYS_INLINE static void run(const StepCoefs& kc, double h, const OdeModes& md, std::int64_t j0,
                                     std::int64_t j1);
};

template <bool kSgd>
template <int W>
PLRF_ALWAYS_INLINE void OdeStep<kSgd>::run(const StepCoefs& kc, double h, const OdeModes& md, std::int64_t j0,
                                           std::int64_t j1) {
  constexpr int L = 8;  // modes per pass, lane-minor as in block_map.hpp, so the lane loops vectorise
  if (kSgd) {
    for (std::int64_t j = j0; j < j1; ++j) {
      const SgdMode m = sgd_mode(kc, md.lam[j]);
      const double n = 1.0 + h * m.one_minus_p;
      md.a[j] /= n;
      md.w[0][j] = h * m.q * (md.mult ? md.mult[j] : 1.0) / n;
    }
    return;
  }
  BlockMaps<L> maps;
  double lam[L], inv[9][L];
  double* x[3] = {md.a, md.s, md.c};
  for (std::int64_t j = j0; j < j1; j += L) {
    const int count = static_cast<int>(std::min<std::int64_t>(L, j1 - j));
    for (int l = 0; l < L; ++l) lam[l] = md.lam[j + std::min(l, count - 1)];  // pad with a real mode
    one_step_maps<L>(kc, lam, maps);
    for (int l = 0; l < L; ++l) {
      double N[9];
      for (int e = 0; e < 9; ++e) N[e] = -h * maps.M[e][l] + ((e % 4 == 0) ? 1.0 + h : 0.0);
      const Inverse3 one(N);
      for (int e = 0; e < 9; ++e) inv[e][l] = one.m[e];
    }
    for (int l = 0; l < count; ++l) {
      const double hm = h * (md.mult ? md.mult[j + l] : 1.0);
      double y[3], v[3];
      for (int i = 0; i < 3; ++i) y[i] = x[i][j + l], v[i] = hm * maps.P0[i][l];
      for (int i = 0; i < 3; ++i) {
        x[i][j + l] = inv[3 * i][l] * y[0] + inv[3 * i + 1][l] * y[1] + inv[3 * i + 2][l] * y[2];
        md.w[i][j + l] = inv[3 * i][l] * v[0] + inv[3 * i + 1][l] * v[1] + inv[3 * i + 2][l] * v[2];
      }
    }
  }
}

template <bool kSgd>
inline void ode_modes(const StepCoefs& kc, double h, const OdeModes& md, std::int64_t j0, std::int64_t j1) {
  on_isa<OdeStep<kSgd>>(isa(), kc, h, md, j0, j1);
}

// coefs: the coefficients of each grid step (PlainCoefs, or a controller's hook, exact/adaptive.hpp).
template <bool kSgd, class Coefs>
RiskCurve run_ode(const Modes& md, const RecordGrid& record, double dt, int threads, RunControl& control,
                  Coefs&& coefs, std::int64_t* points = nullptr) {
  MomentState x(md, kSgd);
  const int nv = kSgd ? 1 : 3;
  std::vector<std::vector<double>> w(nv, std::vector<double>(md.d));  // response to R2 per mode
  std::vector<double> partial(static_cast<std::size_t>(chunks(md.d))), v_partial;
  double R2 = md.r2_of(x.a.data());
  Recorder rec(record, R2);
  OdeGrid grid(record, dt);
  for (double t = 0.0, t1;; t = t1) {
    coefs.visit(t);
    if (!rec.visit(t, R2, control)) {
      if (points) *points = grid.points;
      return rec.out;
    }
    t1 = grid.after(t);
    const double h = (std::log1p(t1) - std::log1p(t)) * (1.0 + t1);  // dtau times dt/dtau at the new point
    // coefficients at the new point, within the schedule's steps 0 .. T-1 (arrays have T values)
    // (a controller reads the statistics at t, the previous point, as the authors' adaptive modes do)
    const double ts = std::min(t1, static_cast<double>(record.back() - 1));
    const StepCoefs kc = step_coefs(md, coefs.at(md.route.clock * ts, t, t1 - t, x, R2));
    double* a = x.a.data();
    const OdeModes om{md.lam, md.mult, a, kSgd ? nullptr : x.s.data(), kSgd ? nullptr : x.c.data(),
                      {w[0].data(), kSgd ? nullptr : w[1].data(), kSgd ? nullptr : w[2].data()}};
    v_partial.assign(partial.size(), 0.0);
    const double U = sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) {
      ode_modes<kSgd>(kc, h, om, j0, j1);
      v_partial[static_cast<std::size_t>(j0 / kChunk)] = dot(md.lam, w[0].data(), j0, j1);
      return dot(md.lam, a, j0, j1);
    }, kSgd ? kParallelMin : 2 * kChunk);  // momentum: a 3x3 inverse per mode is heavy work
    double V = 0.0;  // lambda . w_a, summed in chunk order like U
    for (double p : v_partial) V += p;
    if (!(V < 1.0)) {  // Sherman-Morrison denominator: the coupling is supercritical
      rec.diverged(t1);
      return rec.out;
    }
    R2 = md.r2(U) / (1.0 - V);
    R2 = md.r2(sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) {
           for (int i = 0; i < nv; ++i) {
             double* xi = i == 0 ? a : i == 1 ? x.s.data() : x.c.data();
             for (std::int64_t j = j0; j < j1; ++j) xi[j] += R2 * w[i][j];
           }
           return dot(md.lam, a, j0, j1);
         }));
    control.advance(1);
  }
}

// Runs with dt and 2 dt; implicit Euler is first order, so |P_dt - P_2dt| estimates the error of
// the time discretisation (not the ODE's own modelling error against the discrete recursion).
// That holds where dt sets the steps. Where the records are closer than dt they set the steps,
// the same in both runs, and their error cancels out of the gap (which is 0 if records set every
// step). So unless dt sets most steps (the dt run takes >= 1.5x the steps of the 2 dt run; 2x
// when dt sets all, 1x when records do) the estimate is NaN, never a false small number.
// make_coefs() builds a fresh coefficient hook for each of the two runs.
template <class MakeCoefs>
RiskCurve ode_risk_with(const Modes& md, const GenMomentum& opt, const RecordGrid& record, double dt, int threads,
                        RunControl& control, MakeCoefs&& make_coefs) {
  require_linear_map(opt, "ode");
  return checked_dispatch(opt, record, [&](auto sgd) {
    check_arrays_between_points(opt, record, dt, md.route.clock);  // after the length check
    std::int64_t points[2] = {0, 0};
    auto run = [&](double h) {
      auto coefs = make_coefs();
      RiskCurve out = run_ode<decltype(sgd)::value>(md, record, h, threads, control, coefs, &points[h == dt ? 0 : 1]);
      coefs.finish(out);
      return out;
    };
    RiskCurve out = with_doubling_estimate(run, dt);
    if (!(2 * points[0] >= 3 * points[1])) out.error_estimate = std::numeric_limits<double>::quiet_NaN();
    return out;
  });
}

inline RiskCurve ode_risk(const Modes& md, const GenMomentum& opt, const RecordGrid& record, double dt, int threads,
                          RunControl& control) {
  return ode_risk_with(md, opt, record, dt, threads, control, [&] { return PlainCoefs{opt}; });
}

}  // namespace plrf::exact
