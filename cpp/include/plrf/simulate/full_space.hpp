// The full-space simulator: honest v-dimensional samples x_j ~ N(0, j^{-2 alpha}) (stream
// kFullSamples, step s, normal index b*v + j), features f = W^T x, labels y = <x, b>, and the
// Gen-Mom-SGD iterate in theta space. It is the reference for the eigenbasis reduction.
// A coordinate-wise rule (optim/coordinatewise.hpp) runs here too: theta's own coordinates are the
// parameter basis, so the rule reads the same batch-mean gradient g, clipped, per coordinate; it is
// the honest reference for the parameter-basis path (param_path.hpp).
//
// The minibatch gradient comes from one of two equivalent evaluations chosen by (B, v, d) alone
// (full_model.hpp), so results are bitwise reproducible for any thread count or resume point.
// The risk is exact, through the spectrum: P = P_inf + 1/2 sum lambda (U^T (theta - theta*))^2,
// evaluated only where it is needed.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <variant>

#include <algorithm>
#include <vector>

#include "plrf/optim/coordinatewise.hpp"
#include "plrf/runtime/control.hpp"
#include "plrf/runtime/divergence.hpp"
#include "plrf/simulate/full_features.hpp"
#include "plrf/simulate/full_model.hpp"
#include "plrf/simulate/full_reassociated.hpp"
#include "plrf/simulate/knob_step.hpp"
#include "plrf/simulate/state.hpp"

namespace plrf::simulate {

class FullStepper {
 public:
  FullStepper(const FullModel& model, const SeedSlot& slot, const UpdateKnobs& knobs = {},
              const Controller* ctrl = nullptr, const CoordRule* rule = nullptr)
      : m_(model), slot_(slot), gradient_(make(model, slot, knobs)), knob_(knobs, nullptr, model.d()), ctrl_(ctrl),
        rule_(rule), clipped_(rule ? static_cast<std::size_t>(model.d()) : 0) {}

  // One step; false if cancelled inside it (the reassociated path's batch loop), the state untouched.
  // Ridge, decay and noise act on theta itself (simulate/knob_step.hpp with phi* = 0).
  bool step(std::int64_t t, const Coefficients& c, const RunControl& control) {
    const double* g = std::visit([&](auto& grad) { return grad(t, slot_.x, control); }, gradient_);
    if (!g) return false;
    if (rule_) return coordinate_step(t, g);
    const MomentumStep upd(adapt(ctrl_, c, t, slot_.ctrl, static_cast<double>(m_.batch), 0.0, [&] {
      StepStats s;  // the batch loss and the oracle statistics are refused on this path (run.hpp)
      for (std::int64_t j = 0; j < m_.d(); ++j) s.grad2 += g[j] * g[j];
      if (ctrl_->needs_risk()) s.risk = risk();
      return s;
    }), m_.sgd);
    if (knob_.on) {
      knob_.prepare(slot_.seed, static_cast<std::uint64_t>(t), c);
      for (std::int64_t j = 0; j < m_.d(); ++j) slot_.x[j] = knob_(upd, j, slot_.x[j], slot_.y[j], g[j]);
      return true;
    }
    for (std::int64_t j = 0; j < m_.d(); ++j) slot_.x[j] = upd(slot_.x[j], slot_.y[j], g[j]);
    return true;
  }

  double risk() const {
    const std::int64_t d = m_.d();
    Eigen::Map<const Eigen::VectorXd> theta(slot_.x, d);
    const Eigen::VectorXd e = m_.U.transpose() * (theta - m_.theta_star);
    return m_.spectrum->risk_from_weights(e.array().square().matrix());
  }

  // The exact risk costs O(d^2): check it once per block of steps.
  bool blew_up(const DivergenceGuard& guard, std::int64_t steps_done) const {
    return steps_done % m_.blocking.block_steps == 0 && guard.diverged(risk());
  }

 private:
  // The coordinate-wise rule on theta (slot x) with its buffers m (slot y), v (slot v) and, for dana_star,
  // tau (slot tau): the same operations, in the same order, as the parameter-basis path's update (param_path.hpp).
  bool coordinate_step(std::int64_t t, const double* g) {
    const std::int64_t d = m_.d();
    std::copy(g, g + d, clipped_.begin());
    rule_->clip_gradient(clipped_.data(), d);
    const CoordStep rule(*rule_, t);
    if (slot_.tau) {
      for (std::int64_t j = 0; j < d; ++j)
        slot_.x[j] += rule(j, slot_.x[j], slot_.y[j], slot_.v[j], slot_.tau[j], clipped_[j]);
      return true;
    }
    for (std::int64_t j = 0; j < d; ++j) slot_.x[j] += rule(j, slot_.x[j], slot_.y[j], slot_.v[j], clipped_[j]);
    return true;
  }

  using Gradient = std::variant<FeatureGradient, ReassociatedGradient>;

  static Gradient make(const FullModel& model, const SeedSlot& slot, const UpdateKnobs& knobs) {
    if (model.path == FullPath::kFeatures) return FeatureGradient(model, slot.seed, knobs);  // clipping: here only
    return ReassociatedGradient(model, slot.seed);
  }

  const FullModel& m_;
  SeedSlot slot_;
  Gradient gradient_;
  KnobStep knob_;
  const Controller* ctrl_;  // step-size controller (docs/adaptive.md), or none
  const CoordRule* rule_;   // a coordinate-wise rule instead of Gen-Mom, or none
  std::vector<double> clipped_;  // the rule's copy of g (clipping writes to it)
};

}  // namespace plrf::simulate
