// Drives many seeds of one simulator: records the exact risk on the record grid, guards against
// divergence, honours cancellation and a time budget (so the front end can checkpoint), and
// parallelises over seeds. Each seed only touches its own slot and its randomness is addressed
// by (seed, step, index), so the results are bitwise the same for any thread count and any
// sequence of pauses and resumes.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/runtime/divergence.hpp"
#include "plrf/runtime/parallel.hpp"
#include "plrf/simulate/state.hpp"

namespace plrf::simulate {

using Clock = std::chrono::steady_clock;

inline bool finished(const SeedSlot& s, const RunSpec& spec) { return *s.diverged_at >= 0 || *s.step >= spec.steps; }

// Stops a seed at step t: its risk from t on is NaN, and the step is recorded.
inline void mark_divergence(const SeedSlot& s, const RunSpec& spec, std::int64_t t) {
  *s.diverged_at = t;
  for (std::size_t k = 0; k < spec.record.size(); ++k)
    if (spec.record[k] >= t) {
      s.risk[k] = std::numeric_limits<double>::quiet_NaN();
      if (s.lr) s.lr[k] = std::numeric_limits<double>::quiet_NaN();
    }
}

// Steppers with several risks per record (mixtures of experts, routing.hpp) store them at record k.
template <class Stepper>
auto record_parts(const Stepper& st, std::size_t k, int) -> decltype(st.record_parts(k), void()) {
  st.record_parts(k);
}
template <class Stepper>
void record_parts(const Stepper&, std::size_t, long) {}

// Runs one seed from its current step until the end, divergence, cancellation or the deadline.
template <class Stepper>
void drive_seed(Stepper& st, const SeedSlot& s, const RunSpec& spec, RunControl& control, Clock::time_point deadline) {
  const DivergenceGuard guard(spec.risk0);
  const auto& rec = spec.record;
  const std::int64_t start = *s.step;
  std::int64_t t = start;
  std::size_t k = static_cast<std::size_t>(std::lower_bound(rec.begin(), rec.end(), t) - rec.begin());
  std::int64_t unreported = 0;
  for (;;) {
    if (k < rec.size() && rec[k] == t) {
      const double r = st.risk();
      if (guard.diverged(r)) {
        mark_divergence(s, spec, t);
        break;
      }
      record_parts(st, k, 0);
      if (s.lr) s.lr[k] = s.ctrl[1];  // the multiplier that produced theta_t
      s.risk[k++] = r;
    }
    if (t == spec.steps) break;
    // Pause points (never before the first step, so every call makes progress); the clock is
    // read every 16 steps only, since a step can cost less than a clock read.
    if (t != start && (control.cancelled() || ((t & 15) == 0 && Clock::now() >= deadline))) break;
    if (!st.step(t, spec.optimizer->at(static_cast<double>(t)), control)) break;  // cancelled mid-step
    *s.step = ++t;
    if (++unreported == 64) {
      control.advance(unreported);
      unreported = 0;
    }
    if (st.blew_up(guard, t)) {
      mark_divergence(s, spec, t);
      break;
    }
  }
  control.advance(unreported + (*s.diverged_at >= 0 ? spec.steps - t : 0));
}

// Advances every unfinished seed; returns true when all are finished. make(slot) builds the
// per-seed stepper (scratch buffers live only while the seed runs).
template <class Make>
bool run_seeds(const std::vector<SeedSlot>& slots, const RunSpec& spec, int threads, RunControl& control,
               double budget_seconds, Make&& make) {
  const auto deadline = std::isfinite(budget_seconds) && budget_seconds < 1e9
                            ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(budget_seconds))
                            : Clock::time_point::max();
  parallel_for(static_cast<std::int64_t>(slots.size()), threads, [&](std::int64_t i) {
    const SeedSlot& s = slots[static_cast<std::size_t>(i)];
    if (finished(s, spec) || control.cancelled()) return;
    auto stepper = make(s);
    drive_seed(stepper, s, spec, control, deadline);
  });
  return std::all_of(slots.begin(), slots.end(), [&](const SeedSlot& s) { return finished(s, spec); });
}

}  // namespace plrf::simulate
