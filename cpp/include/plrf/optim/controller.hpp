// Step-size controllers (docs/adaptive.md §1): a rule that turns the statistics of step t into a
// multiplier m_t of some of the Gen-Mom-SGD coefficients (its placement),
//   gamma_i(t) -> m_t * gamma_i(t)   for i in placement,
// so that it composes with any schedule and any member of the family (docs/theory.md §3).
//
// The statistics are read at theta_t with the batch of step t (so AdaGrad-Norm's S includes the
// current gradient):
//   grad2      ||g_t||^2 of the batch-averaged gradient
//   risk       P(theta_t), half MSE including P_inf
//   batch_loss f_B = (1/2B) sum_b r_b^2 on the batch of step t
//   k2, k3     ||K e||^2 and e^T K^3 e of the true error (line search only: an oracle)
// The Monte Carlo feeds the realised values of each seed (exact in law); the deterministic
// equivalent feeds their expectations (docs/adaptive.md §3), which is exact only when they
// concentrate. The rules:
//   adagrad_norm  S_0 = b0^2, S_{t+1} = S_t + grad2, m = G / sqrt(S_{t+1})        state S
//   polyak        m = max(batch_loss - floor, 0) / (c grad2)
//   line_search   m = k2 / ((1 + 1/B) k3 + tr K^2 * 2 risk / B)   (minimises E[P(theta - m g)])
//   risk_norm     m = 1 / sqrt(2 risk)   ("risk_norm" on gamma3, "rmsprop_dana" on gamma1; the authors' "adam" mode)
//   ema_norm      v_{t+1} = beta v_t + (1 - beta) grad2, m = 1/sqrt(v_{t+1}/(1 - beta^{t+1}) + eps)   state v
//   log_ema_norm  v_{t+1} = (1 - a_t) v_t + a_t grad2, a_t = delta/(delta + t), m = 1/sqrt(v_{t+1} + eps)
//                 (ADana's log-time EMA; a_0 = 1 needs no bias correction; per step only: no ODE form)  state v
// A controller is plain data (no virtuals), like Schedule; kind None is the plain optimizer.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "plrf/optim/gen_momentum.hpp"
#include "plrf/runtime/format.hpp"

namespace plrf {

struct StepStats {
  double grad2 = 0.0, risk = 0.0, batch_loss = 0.0, k2 = 0.0, k3 = 0.0;
};

struct Controller {
  enum class Kind { None, AdaGradNorm, Polyak, LineSearch, RiskNorm, EmaNorm, LogEmaNorm };
  enum Place : unsigned { kGamma1 = 1, kGamma2 = 2, kGamma3 = 4 };

  Kind kind = Kind::None;
  std::string name = "none";
  unsigned placement = kGamma2;
  double G = 1.0, b0 = 1.0;            // adagrad_norm
  double c = 0.5, floor = 0.0;         // polyak
  double beta = 0.99, eps = 0.0;       // ema_norm (eps also log_ema_norm)
  double delta = 8.0;                  // log_ema_norm

  bool active() const { return kind != Kind::None; }
  bool needs_grad2() const {
    return kind == Kind::AdaGradNorm || kind == Kind::Polyak || kind == Kind::EmaNorm || kind == Kind::LogEmaNorm;
  }
  bool needs_batch_loss() const { return kind == Kind::Polyak; }
  bool needs_risk() const { return kind == Kind::LineSearch || kind == Kind::RiskNorm; }
  bool needs_oracle() const { return kind == Kind::LineSearch; }  // k2, k3: the true error

  // The scalar state before step 0 (NaN when the rule carries none).
  double start() const {
    if (kind == Kind::AdaGradNorm) return b0 * b0;
    if (kind == Kind::EmaNorm || kind == Kind::LogEmaNorm) return 0.0;
    return std::nan("");
  }

  // m_t for step t; advances `state` over dt steps (dt = 1 for a step; the ODE of the deterministic
  // equivalent integrates S' = grad2 and v' = ln(1/beta) (grad2 - v) over dt with grad2 frozen, which
  // for dt = 1 is the per-step rule exactly). batch = B, trace2 = tr K^2.
  double multiplier(double t, const StepStats& s, double& state, double batch, double trace2, double dt = 1.0) const {
    switch (kind) {
      case Kind::None: return 1.0;
      case Kind::AdaGradNorm: state += dt * s.grad2; return G / std::sqrt(state);
      case Kind::Polyak: {
        const double den = c * s.grad2;
        return den > 0.0 ? std::max(s.batch_loss - floor, 0.0) / den : 0.0;
      }
      case Kind::LineSearch: return ratio(s.k2, (1.0 + 1.0 / batch) * s.k3 + trace2 * 2.0 * s.risk / batch);
      case Kind::RiskNorm: return ratio(1.0, std::sqrt(2.0 * s.risk));
      case Kind::EmaNorm: {
        const double keep = std::pow(beta, dt);
        state = keep * state + (1.0 - keep) * s.grad2;
        return ratio(1.0, std::sqrt(state / (1.0 - std::pow(beta, t + dt)) + eps));
      }
      case Kind::LogEmaNorm: {
        if (dt != 1.0) throw std::invalid_argument("log_ema_norm is a per-step rule: it has no ODE form (use method='exact')");
        const double a = delta / (delta + t);
        state = (1.0 - a) * state + a * s.grad2;
        return ratio(1.0, std::sqrt(state + eps));
      }
    }
    return 1.0;
  }

  // num / den, and 0 where den is 0: a run started at the optimum (zero risk, zero gradient) has
  // nothing to scale, and 1/0 would turn its zero moments into NaN (a false divergence at step 1).
  // A NaN den stays NaN, so a diverged run still reads as one.
  static double ratio(double num, double den) { return den == 0.0 ? 0.0 : num / den; }

  Coefficients scale(Coefficients k, double m) const {
    if (placement & kGamma1) k.gamma1 *= m;
    if (placement & kGamma2) k.gamma2 *= m;
    if (placement & kGamma3) k.gamma3 *= m;
    return k;
  }

  // The checks of the Python builders, repeated so that a C++ caller gets the same errors.
  void validate() const {
    auto positive = [](const char* what, double x) {
      if (!(std::isfinite(x) && x > 0.0))
        throw std::invalid_argument(std::string(what) + " must be a finite number > 0, got " + format_number(x));
    };
    if (kind == Kind::None) return;
    if (placement == 0 || placement > 7) throw std::invalid_argument("placement must be a non-empty subset of gamma1..3");
    if (kind == Kind::AdaGradNorm) positive("G", G), positive("b0", b0);
    if (kind == Kind::Polyak) {
      positive("c", c);
      if (!(std::isfinite(floor) && floor >= 0.0)) throw std::invalid_argument("floor must be a finite number >= 0");
    }
    if (kind == Kind::EmaNorm && !(beta >= 0.0 && beta < 1.0)) throw std::invalid_argument("beta must be in [0, 1)");
    if (kind == Kind::LogEmaNorm) positive("delta", delta);
    if ((kind == Kind::EmaNorm || kind == Kind::LogEmaNorm) && !(std::isfinite(eps) && eps >= 0.0))
      throw std::invalid_argument("eps must be a finite number >= 0");
  }
};

// The coefficients of step t under `ctrl` (unchanged without one). slot = the seed's
// [state, last multiplier]; stats() computes the statistics only when there is a controller.
template <class Stats>
Coefficients adapt(const Controller* ctrl, const Coefficients& k, std::int64_t t, double* slot, double batch,
                   double trace2, Stats&& stats) {
  if (!ctrl) return k;
  const double m = ctrl->multiplier(static_cast<double>(t), stats(), slot[0], batch, trace2);
  slot[1] = m;
  return ctrl->scale(k, m);
}

// Per-seed controller storage in a resumable run: [scalar state, last multiplier]. The last
// multiplier is the learning rate that produced the current iterate (recorded as the lr curve).
inline constexpr int kControllerSlots = 2;

}  // namespace plrf
