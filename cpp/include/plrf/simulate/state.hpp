// The resumable state of one simulated seed, and the Gen-Mom-SGD update shared by both paths.
// The state lives in caller-owned arrays (numpy in Python), updated in place, so a run can be
// paused, checkpointed and resumed at any step: with counter-based randomness (the step is the
// counter) the continuation is bitwise identical to an uninterrupted run.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "plrf/optim/controller.hpp"
#include "plrf/optim/gen_momentum.hpp"
#include "plrf/rng/streams.hpp"
#include "plrf/runtime/record_grid.hpp"

namespace plrf::simulate {

struct SeedSlot {
  std::uint64_t seed = 0;
  double* x = nullptr;            // iterate: eigenbasis error e, or theta (full space); length d
  double* y = nullptr;            // momentum in the same coordinates; length d
  std::int64_t* step = nullptr;   // steps done so far
  std::int64_t* diverged_at = nullptr;  // -1, or the step whose risk diverged
  double* risk = nullptr;         // one entry per record step
  double* ctrl = nullptr;         // with a controller: kControllerSlots (state, last multiplier)
  double* lr = nullptr;           // with a controller: one entry per record step
  double* v = nullptr;            // with a coordinate-wise rule (full path): its v buffer; y holds its m
  double* tau = nullptr;          // with dana_star (full path): its third buffer; null for the other rules
};

// What a run needs besides the per-seed state, checked on construction.
struct RunSpec {
  const GenMomentum* optimizer;
  std::int64_t steps;
  std::int64_t batch;
  RecordGrid record;  // inside [0, steps]
  double risk0;       // initial risk, the divergence guard's scale
  const Controller* controller = nullptr;  // step-size controller (docs/adaptive.md), or none
  double trace2 = 0.0;                     // tr K^2 (line search's noise term)

  RunSpec(const GenMomentum* optimizer_, std::int64_t steps_, std::int64_t batch_, std::vector<std::int64_t> record_,
          double risk0_)
      : optimizer(optimizer_), steps(steps_), batch(batch_), record(std::move(record_), steps_), risk0(risk0_) {
    if (steps < 1) throw std::invalid_argument("steps must be >= 1, got " + std::to_string(steps));
    // The random streams address a step in 48 bits: beyond, steps would reuse earlier draws.
    if (static_cast<std::uint64_t>(steps) >= rng::kAddressLimit)
      throw std::invalid_argument("steps must be < 2**48 for a Monte Carlo run (the streams' step address), got " +
                                  std::to_string(steps));
    if (batch < 1) throw std::invalid_argument("batch must be >= 1, got " + std::to_string(batch));
    optimizer->check_length(steps);
  }
};

// One Gen-Mom-SGD step on coordinate j given the gradient g_j (docs/theory.md §3):
//   y' = (1 - Delta) y + gamma1 g;  x' = x - gamma2 g - gamma3 y'.
// SGD skips the momentum entirely (y stays 0).
struct MomentumStep {
  double m, gamma1, gamma2, gamma3;
  bool sgd;
  MomentumStep(const Coefficients& c, bool is_sgd)
      : m(c.m()), gamma1(c.gamma1), gamma2(c.gamma2), gamma3(c.gamma3), sgd(is_sgd) {}

  double operator()(double x, double& y, double g) const {
    if (sgd) return x - gamma2 * g;
    y = m * y + gamma1 * g;
    return x - gamma2 * g - gamma3 * y;
  }
};

}  // namespace plrf::simulate
