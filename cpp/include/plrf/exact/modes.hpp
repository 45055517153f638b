// Inputs and outputs shared by the exact-risk methods (recursion, block solver, ODE), and the one
// parallel sweep over modes they all use.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "plrf/exact/moments.hpp"
#include "plrf/linalg/dot.hpp"
#include "plrf/runtime/parallel.hpp"
#include "plrf/runtime/record_grid.hpp"
#include "plrf/optim/gen_momentum.hpp"
#include "plrf/spectrum/spectrum.hpp"

namespace plrf::exact {

// What every exact method reads: the spectral view (nodes, multiplicities and the risk convention
// R2 = 2 P, spectrum/spectrum.hpp), the batch size, and the learner's routing (one expert of a
// mixture, docs/families.md §1; the default is the single learner).
struct Modes : SpectrumView {
  std::int64_t batch = 1;
  Route route{};
};

// The frozen step coefficients of every method: from the coefficients of a step, or from the
// optimizer at (possibly fractional) time t on the route's clock.
inline StepCoefs step_coefs(const Modes& md, const Coefficients& c) { return StepCoefs(c, md.batch, md.route); }
inline StepCoefs step_coefs(const Modes& md, const GenMomentum& opt, double t) {
  return step_coefs(md, opt.at(md.route.clock * t));
}

// risk[i] = P after record[i] steps; entries after a divergence are NaN.
struct RiskCurve {
  std::vector<double> risk;
  std::int64_t diverged_at = -1;
  bool interrupted = false;
  // block solver / ODE: estimated max relative error over the records; NaN where it could not be
  // computed (a diverged or interrupted run, or an ODE grid that doubling does not change)
  double error_estimate = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> lr;  // with a step-size controller: the multiplier that produced each record (NaN at 0)
};

// Runs a solver at resolution h and 2h; the largest relative gap between the two curves is the
// error estimate of the finer one (both methods are low order, so the gap bounds the error).
template <class Run>
RiskCurve with_doubling_estimate(Run&& run, double h) {
  RiskCurve fine = run(h);
  if (fine.interrupted || fine.diverged_at >= 0) return fine;
  const RiskCurve coarse = run(2.0 * h);
  fine.error_estimate = 0.0;
  for (std::size_t i = 0; i < fine.risk.size(); ++i)
    if (std::isfinite(coarse.risk[i]))
      fine.error_estimate = std::max(fine.error_estimate, std::abs(fine.risk[i] - coarse.risk[i]) / fine.risk[i]);
  fine.interrupted = coarse.interrupted;
  return fine;
}

// What every method does first: check the schedules' length over the (already checked) record
// grid, then run body(std::true_type{}) for SGD (one moment per mode) or body(std::false_type{}).
template <class Body>
RiskCurve checked_dispatch(const GenMomentum& opt, const RecordGrid& record, Body&& body) {
  opt.knobs.validate();
  if (opt.knobs.clips())  // per-sample clipping has no exact moment map (python/plrf/privacy: its DE)
    throw std::invalid_argument("clip: per-sample clipping runs on simulate only; its expected risk is a "
                                "deterministic equivalent (exact_risk with a plrf.clip chain member)");
  opt.check_length(record.back());
  return opt.is_sgd() ? body(std::true_type{}) : body(std::false_type{});
}

// Modes are cut into fixed chunks; body(j0, j1) returns the chunk's partial sum. The partials are
// added in chunk order, so sums do not depend on the thread count. Threads only pay off for large d.
constexpr std::int64_t kChunk = 8192;
constexpr std::int64_t kParallelMin = 262144;
inline std::int64_t chunks(std::int64_t d) { return (d + kChunk - 1) / kChunk; }

// `parallel_min`: smallest d worth threads (per-step thread start-up must stay small vs the work).
template <class Body>
double sweep(std::int64_t d, int threads, std::vector<double>& partial, Body&& body,
             std::int64_t parallel_min = kParallelMin) {
  const std::int64_t n = chunks(d);
  partial.assign(static_cast<std::size_t>(n), 0.0);
  auto run = [&](std::int64_t c) { partial[c] = body(c * kChunk, std::min(d, (c + 1) * kChunk)); };
  if (threads == 1 || d < parallel_min)
    for (std::int64_t c = 0; c < n; ++c) run(c);
  else
    parallel_for(n, threads, run);
  double s = 0.0;
  for (double x : partial) s += x;
  return s;
}

// lambda . x over [j0, j1), in the fixed lane order of linalg::dot.
inline double dot(const double* lam, const double* x, std::int64_t j0, std::int64_t j1) {
  return linalg::dot(lam + j0, x + j0, j1 - j0);
}

}  // namespace plrf::exact
