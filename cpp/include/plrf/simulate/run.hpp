// One call of the streaming simulator on either path: the policy every front end (the Python
// binding, a C++ program) shares, so that none of it lives in a binding.
//  - The eigen path needs only the spectrum (lambda, rho, P_inf).
//  - The full path also reads W, the eigenvectors and theta* in place. Its gradient evaluation
//    comes from the cost model (full_model.hpp), unless PLRF_FULL_PATH=features|reassociated
//    forces one (tests compare the two; both follow the same trajectory up to rounding). Clipping
//    needs each sample's features, so it always runs the features path.
//  - Threads: seeds run in parallel; threads beyond the seed count go to each seed's linear
//    algebra (full path). Neither choice changes any result.
// Each call advances every unfinished seed until it is finished, the run is cancelled, or the
// time budget is spent (so the caller can checkpoint), and returns true when all are finished.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/runtime/parallel.hpp"
#include "plrf/simulate/driver.hpp"
#include "plrf/simulate/eigen_sampler.hpp"
#include "plrf/simulate/full_space.hpp"
#include "plrf/simulate/sde_stepper.hpp"
#include "plrf/spectrum/spectrum.hpp"

namespace plrf::simulate {

// The full-space problem, borrowed (row-major arrays owned by the caller).
struct FullProblem {
  const double* W = nullptr;             // v x d features
  std::int64_t v = 0;
  const double* eigenvectors = nullptr;  // d x d, columns are the eigenvectors of K
  const double* theta_star = nullptr;    // length d
  double alpha = 0.0, beta = 0.0;        // data and target exponents
  FeatureMap activation{};               // features sigma(scale W^T x); identity by default
};

inline FullPath full_path(std::int64_t batch, std::int64_t v, std::int64_t d) {
  const char* forced = std::getenv("PLRF_FULL_PATH");
  if (forced && !std::strcmp(forced, "features")) return FullPath::kFeatures;
  if (forced && !std::strcmp(forced, "reassociated")) return FullPath::kReassociated;
  return choose_full_path(batch, v, d);
}

inline int inner_threads(int threads, std::size_t seeds) {
  return std::max(1, resolve_threads(threads) / static_cast<int>(std::max<std::size_t>(1, seeds)));
}

// The run's step-size controller, or nullptr. A controller reads one plain batch gradient, so SVAG's
// two draws are not in its rules and are refused. The affine knobs (ridge, decay, noise) compose: the
// controller reads the data gradient's statistics and scales gamma_1..3, which multiply g + l2 theta;
// decay and noise are added outside the scaled step (simulate/knob_step.hpp, docs/families.md §5).
inline const Controller* active_controller(const RunSpec& run) {
  if (!run.controller || !run.controller->active()) return nullptr;
  if (run.optimizer->knobs.svag())
    throw std::invalid_argument("a step-size controller reads one batch gradient: it does not run SVAG");
  return run.controller;
}

// A coordinate-wise rule is the whole update: no Gen-Mom knobs or controller beside it, a v buffer per seed,
// and a tau buffer per seed exactly when the rule is dana_star (its third buffer).
inline void check_full_rule(const CoordRule& rule, const RunSpec& run, std::int64_t d,
                            const std::vector<SeedSlot>& slots) {
  rule.validate(d, run.steps);
  if (run.controller || run.optimizer->knobs.affine() || run.optimizer->knobs.svag() || run.optimizer->knobs.clips())
    throw std::invalid_argument("a coordinate-wise rule runs alone: no controller, ridge/decay/noise, svag or clip");
  for (const auto& s : slots) {
    if (!s.v) throw std::invalid_argument("a coordinate-wise rule needs each seed's v buffer");
    if (rule.uses_tau() != (s.tau != nullptr))
      throw std::invalid_argument(rule.uses_tau() ? "the dana_star rule needs each seed's tau buffer"
                                                  : "tau: only the dana_star rule keeps a tau buffer");
  }
}

inline bool advance_eigen(const Spectrum& spec, const RunSpec& run, Sampler sampler,
                          const std::vector<SeedSlot>& slots, int threads, RunControl& control, double budget_seconds) {
  spec.validate();
  run.optimizer->knobs.validate();
  if (run.optimizer->knobs.clips() && (sampler != Sampler::Explicit || run.optimizer->knobs.svag()))
    throw std::invalid_argument("clip: per-sample clipping runs with sampler='explicit' and without SVAG");
  EigenModel model(spec, run.batch, sampler, run.optimizer->is_sgd(), run.optimizer->knobs);
  if (const Controller* ctrl = active_controller(run)) model.ctrl = ctrl, model.trace2 = run.trace2;
  return run_seeds(slots, run, threads, control, budget_seconds,
                   [&](const SeedSlot& s) { return EigenStepper(model, s); });
}

// dynamics != "sgd" (sde_stepper.hpp): the SDE models and the Gaussianised gradient, eigen path only.
inline bool advance_sde(const Spectrum& spec, const RunSpec& run, Dynamics dynamics, int substeps,
                        const std::vector<SeedSlot>& slots, int threads, RunControl& control, double budget_seconds) {
  spec.validate();
  const SdeModel model(spec, run.batch, dynamics, substeps, run.optimizer->is_sgd());
  return run_seeds(slots, run, threads, control, budget_seconds,
                   [&](const SeedSlot& s) { return SdeStepper(model, s); });
}

// rule: a coordinate-wise rule in place of run.optimizer (whose coefficients it ignores); each slot
// then carries its v buffer (and dana_star's tau), and y holds the rule's m.
inline bool advance_full(const Spectrum& spec, const RunSpec& run, const FullProblem& full,
                         const std::vector<SeedSlot>& slots, int threads, RunControl& control, double budget_seconds,
                         const CoordRule* rule = nullptr) {
  spec.validate();
  run.optimizer->knobs.validate();
  if (rule) check_full_rule(*rule, run, spec.dim(), slots);
  if (run.optimizer->knobs.svag())  // its second batch would need a second counter range in the full sampler
    throw std::invalid_argument("svag needs space='eigen' (the full-space sampler draws one batch per step)");
  const std::int64_t d = spec.dim();
  // sigma(W^T x) and per-sample clipping need the features themselves: the reassociated path never forms them
  const FullPath path = full.activation.identity() && !run.optimizer->knobs.clips() ? full_path(run.batch, full.v, d)
                                                                                      : FullPath::kFeatures;
  FullModel model(spec, full.W, full.v, full.eigenvectors, full.theta_star, full.alpha, full.beta, run.batch,
                  run.steps, run.optimizer->is_sgd(), path, inner_threads(threads, slots.size()));
  model.activation = full.activation;
  const Controller* ctrl = active_controller(run);
  // The batch loss (polyak) and K e (line search) are not formed on this path.
  if (ctrl && (ctrl->needs_batch_loss() || ctrl->needs_oracle()))
    throw std::invalid_argument("space='full' cannot run controller " + ctrl->name + " (it needs the batch loss or "
                                "K e); use space='eigen'");
  return run_seeds(slots, run, threads, control, budget_seconds,
                   [&](const SeedSlot& s) { return FullStepper(model, s, run.optimizer->knobs, ctrl, rule); });
}

}  // namespace plrf::simulate
