// The deterministic equivalent (DE) of Gen-Mom-SGD under a step-size controller (docs/adaptive.md §3).
//
// With a controller the expected risk no longer closes on the per-mode moments: the step depends
// on the path. The DE runs the moment map of docs/theory.md §4 (moments.hpp) with the coefficients
// of each step scaled by m_t, the controller being fed the *expected* statistics of the moments
// (a_j = E e_j^2 per mode or node, R2 = 2 P_inf + sum lambda a):
//   grad2 = (1 + 1/B) sum lambda^2 a + tr K R2 / B,   risk = batch_loss = R2 / 2,
//   k2 = sum lambda^2 a,   k3 = sum lambda^3 a.
// The controller's scalar state (AdaGrad-Norm's S, the EMA v) is one more double. This is exact
// only when ||g||^2, P and g^T K g concentrate (tr K / lambda_max large); elsewhere it is an
// approximation whose error against the Monte Carlo docs/adaptive.md measures.
// method "exact" steps the recursion (dt = 1); "ode" reads the statistics at the previous grid
// point and advances the state over the grid step (optim/controller.hpp).
// Ridge, decay and noise (method "exact" only) compose: the controller scales gamma_1..3, i.e. the
// linear part of the affine map (exact/affine.hpp), and reads the *data* gradient, whose expected
// ||g||^2 is the formula above for any law of e with second moments a (the affine terms enter the
// moments, not the formula). Decay and noise are not scaled, as in the simulators (knob_step.hpp).
#pragma once
#include <cmath>
#include <limits>
#include <vector>

#include "plrf/exact/ode.hpp"
#include "plrf/exact/recursion.hpp"
#include "plrf/optim/controller.hpp"

namespace plrf::exact {

class ControlledCoefs {
 public:
  ControlledCoefs(const Controller& ctrl, const Modes& md, const GenMomentum& opt, const RecordGrid& record,
                  int threads)
      : ctrl_(ctrl), md_(md), opt_(opt), record_(record), threads_(threads), state_(ctrl.start()),
        lr_(record.size(), std::numeric_limits<double>::quiet_NaN()) {
    for (std::int64_t j = 0; j < md.d; ++j) {
      const double m = md.mult ? md.mult[j] : 1.0;
      trace_ += m * md.lam[j], trace2_ += m * md.lam[j] * md.lam[j];
    }
  }

  template <class State>  // MomentState, or AffineState with ridge/decay/noise: both carry a = E e^2
  Coefficients at(double ts, double t, double dt, const State& x, double R2) {
    const double* a = x.a.data();
    const double* lam = md_.lam;
    const double B = static_cast<double>(md_.batch);
    StepStats s;
    s.k2 = sweep(md_.d, threads_, partial_, [&](std::int64_t j0, std::int64_t j1) {
      double sum = 0.0;
      for (std::int64_t j = j0; j < j1; ++j) sum += lam[j] * lam[j] * a[j];
      return sum;
    });
    if (ctrl_.needs_oracle())
      s.k3 = sweep(md_.d, threads_, partial_, [&](std::int64_t j0, std::int64_t j1) {
        double sum = 0.0;
        for (std::int64_t j = j0; j < j1; ++j) sum += lam[j] * lam[j] * lam[j] * a[j];
        return sum;
      });
    s.grad2 = (1.0 + 1.0 / B) * s.k2 + trace_ * R2 / B;
    s.risk = s.batch_loss = 0.5 * R2;
    m_ = ctrl_.multiplier(t, s, state_, B, trace2_, dt);
    return ctrl_.scale(opt_.at(ts), m_);
  }

  // The multiplier that produced the iterate at time t is the last one computed.
  void visit(double t) {
    while (k_ < record_.size() && static_cast<double>(record_[k_]) <= t) lr_[k_++] = m_;
  }

  void finish(RiskCurve& out) {
    for (std::size_t k = 0; k < lr_.size(); ++k)
      if (!std::isfinite(out.risk[k])) lr_[k] = std::numeric_limits<double>::quiet_NaN();  // after divergence
    out.lr = lr_;
  }

 private:
  const Controller& ctrl_;
  const Modes& md_;
  const GenMomentum& opt_;
  const RecordGrid& record_;
  int threads_;
  double state_, trace_ = 0.0, trace2_ = 0.0, m_ = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> lr_, partial_;
  std::size_t k_ = 0;
};

inline RiskCurve exact_risk_controlled(const Modes& md, const GenMomentum& opt, const Controller& ctrl,
                                       const RecordGrid& record, int threads, RunControl& control) {
  return checked_dispatch(opt, record, [&](auto sgd) {
    constexpr bool kSgd = decltype(sgd)::value;
    ControlledCoefs coefs(ctrl, md, opt, record, threads);
    RiskCurve out = opt.knobs.affine() ? run_affine_recursion<kSgd>(md, record, threads, control, coefs)
                                       : run_recursion<kSgd>(md, record, threads, control, coefs);
    coefs.finish(out);
    return out;
  });
}

inline RiskCurve ode_risk_controlled(const Modes& md, const GenMomentum& opt, const Controller& ctrl,
                                     const RecordGrid& record, double dt, int threads, RunControl& control) {
  return ode_risk_with(md, opt, record, dt, threads, control,
                       [&] { return ControlledCoefs(ctrl, md, opt, record, threads); });
}

}  // namespace plrf::exact
