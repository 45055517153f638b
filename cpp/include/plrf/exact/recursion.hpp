// method="exact": the discrete moment recursion of docs/theory.md §4, O(d) per step, exact for all t, d, B.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/runtime/isa.hpp"
#include "plrf/exact/affine.hpp"
#include "plrf/exact/moments.hpp"
#include "plrf/exact/modes.hpp"
#include "plrf/exact/recorder.hpp"

namespace plrf::exact {

// State of the recursion: three moments per mode (SGD uses only a).
struct MomentState {
  std::vector<double> a, s, c;
  MomentState(const Modes& md, bool sgd)
      : a(md.rho, md.rho + md.d), s(sgd ? 0 : md.d, 0.0), c(sgd ? 0 : md.d, 0.0) {}
};

// One step of modes [j0, j1): the loop the recursion spends its time in, compiled for each
// instruction set (runtime/isa.hpp); distinct arrays (restrict) let it vectorise. A node of
// multiplicity m is forced by m lambda R2 / B (docs/theory.md §10), i.e. it steps with R2 scaled by m.
template <bool kSgd>
struct StepModes {
  template <int W>
  PLRF_ALWAYS_INLINE static void run(const StepCoefs& k, const double* __restrict lam, const double* __restrict mult,
                                     double R2, double* __restrict a, double* __restrict s, double* __restrict c,
                                     std::int64_t j0, std::int64_t j1) {
    double dummy = 0.0;
    auto one = [&](std::int64_t j, double r2) {
      if (kSgd)
        step<true>(k, lam[j], r2, a[j], dummy, dummy);
      else
        step<false>(k, lam[j], r2, a[j], s[j], c[j]);
    };
    if (mult)
      for (std::int64_t j = j0; j < j1; ++j) one(j, mult[j] * R2);
    else
      for (std::int64_t j = j0; j < j1; ++j) one(j, R2);
  }
};

// One step for all modes; returns the new R2.
template <bool kSgd>
double step_all(const Modes& md, const StepCoefs& k, double R2, MomentState& x, int threads,
                std::vector<double>& partial) {
  double* a = x.a.data();
  double* s = kSgd ? nullptr : x.s.data();
  double* c = kSgd ? nullptr : x.c.data();
  const double sum = sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) {
    on_isa<StepModes<kSgd>>(isa(), k, md.lam, md.mult, R2, a, s, c, j0, j1);
    return dot(md.lam, a, j0, j1);
  });
  return md.r2(sum);
}

// The coefficients of each step: the optimizer's schedules. A step-size controller replaces this
// hook (exact/adaptive.hpp) to scale them by its multiplier.
struct PlainCoefs {
  const GenMomentum& opt;
  // Coefficients at schedule time ts for the step from time t over dt steps, from state x (any state
  // with the second moments a: MomentState, or AffineState of exact/affine.hpp).
  template <class State>
  Coefficients at(double ts, double, double, const State&, double) { return opt.at(ts); }
  void visit(double) {}  // a time point reached (records what the hook tracks)
  void finish(RiskCurve&) {}  // adds what the hook tracked to the result
};

// Records risk = R2 / 2 at each record step; stops at divergence, cancellation or the last record.
template <bool kSgd, class Coefs>
RiskCurve run_recursion(const Modes& md, const RecordGrid& record, int threads, RunControl& control, Coefs&& coefs) {
  MomentState x(md, kSgd);
  std::vector<double> partial;
  double R2 = md.r2_of(x.a.data());
  Recorder rec(record, R2);
  for (std::int64_t t = 0;; ++t) {
    coefs.visit(static_cast<double>(t));
    if (!rec.visit(t, R2, control)) return rec.out;
    const double tt = static_cast<double>(t);
    R2 = step_all<kSgd>(md, step_coefs(md, coefs.at(md.route.clock * tt, tt, 1.0, x, R2)), R2, x, threads, partial);
    if ((t & 1023) == 1023) control.advance(1024);
  }
}

inline RiskCurve exact_risk(const Modes& md, const GenMomentum& opt, const RecordGrid& record,
                            int threads, RunControl& control) {
  return checked_dispatch(opt, record, [&](auto sgd) {
    constexpr bool kSgd = decltype(sgd)::value;
    if (opt.knobs.affine()) return run_affine_recursion<kSgd>(md, record, threads, control, PlainCoefs{opt});  // docs/families.md §2
    return run_recursion<kSgd>(md, record, threads, control, PlainCoefs{opt});
  });
}

}  // namespace plrf::exact
