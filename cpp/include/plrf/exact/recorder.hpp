// What every exact-risk driver (recursion, block solver, ODE) does at each time point it reaches,
// written once: stop at a divergence (risk non-finite or past the guard) with its step, record
// risk = R2 / 2 at the record steps, and stop after the last record or when cancelled.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/runtime/divergence.hpp"
#include "plrf/exact/modes.hpp"

namespace plrf::exact {

class Recorder {
 public:
  Recorder(const RecordGrid& record, double R2_0) : record_(record), guard_(0.5 * R2_0) {
    out.risk.assign(record.size(), std::numeric_limits<double>::quiet_NaN());
  }

  RiskCurve out;

  // At step t (recursion, block solver; compared as integers, exact up to kMaxSteps) or at a point
  // of the ODE's time grid, with the current R2. False: stop the run.
  bool visit(std::int64_t t, double R2, const RunControl& control) {
    return visit_at(static_cast<double>(t), t == record_[next_], R2, control);
  }
  bool visit(double t, double R2, const RunControl& control) {
    return visit_at(t, t == static_cast<double>(record_[next_]), R2, control);
  }

  // Marks divergence at time t (the first step at or after it). Always false: stop the run.
  bool diverged(double t) {
    out.diverged_at = static_cast<std::int64_t>(std::ceil(t));
    return false;
  }

  std::int64_t next_record() const { return record_[next_]; }

  // Forgets a divergence, so that fast.hpp can locate it step by step (nothing was recorded at or
  // after it: visit_at checks the guard before recording).
  void reopen() { out.diverged_at = -1; }

  // For engines that may stop inside a step (continuous.hpp's substeps): true, marking the run
  // interrupted, once the run is cancelled, so that the unfinished step is never recorded.
  bool stop_if_cancelled(const RunControl& control) {
    if (!control.cancelled()) return false;
    out.interrupted = true;
    return true;
  }

 private:
  bool visit_at(double t, bool on_record, double R2, const RunControl& control) {
    if (guard_.diverged(0.5 * R2)) return diverged(t);
    if (on_record) out.risk[next_++] = 0.5 * R2;
    if (next_ == record_.size()) return false;
    if (control.cancelled()) {
      out.interrupted = true;
      return false;
    }
    return true;
  }

  const RecordGrid& record_;
  DivergenceGuard guard_;
  std::size_t next_ = 0;
};

}  // namespace plrf::exact
