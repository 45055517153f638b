// method="fast": the exact risk to 1e9+ steps at O(d log T) cost (docs/theory.md §5).
//
// Time is cut into blocks of n <= r t steps (n = 1, i.e. the exact step, while r t < 2), shorter
// where R2 curves fast (momentum transients: the curvature of the last block ends bounds the
// linearisation error by rtol). In a block
// the coefficients are frozen at its midpoint (where they move: at the midpoints of a head and a
// tail, see split_tail) and each mode advances by its exact n-step map (block_map.hpp); R2 is taken linear across the block and its end value is solved for exactly
// (R2 at the block end is linear in the slope: implicit, unconditionally consistent). Both
// approximations are second order in r, so running again with 2r gives the error estimate
// |P_r - P_2r| (a second-order error would be a third of that; integer block lengths make the
// ratio less clean, so the estimate is kept conservative).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/exact/block_levels.hpp"
#include "plrf/exact/block_map.hpp"
#include "plrf/exact/block_propagate.hpp"
#include "plrf/exact/recorder.hpp"
#include "plrf/exact/recursion.hpp"

namespace plrf::exact {

// Relative spread (max - min) / max|.| of one schedule over steps [t0, t1]. Closed forms are
// monotone, so their ends suffice; an array is scanned, so that a spike inside a block (one huge
// learning rate) shrinks the block down to exact steps instead of being frozen away. The scan is
// O(n) per block, small next to the O(d) per block of the solver for any sensible array length.
inline double spread(const Schedule& s, std::int64_t t0, std::int64_t t1) {
  if (s.is_constant()) return 0.0;
  double lo = s(static_cast<double>(t0)), hi = lo;
  if (s.kind() == Schedule::Kind::Array) {
    const auto& v = s.values();
    for (std::int64_t t = t0 + 1; t <= t1; ++t) lo = std::min(lo, v[t]), hi = std::max(hi, v[t]);
  } else {
    const double end = s(static_cast<double>(t1));
    lo = std::min(lo, end), hi = std::max(hi, end);
  }
  const double scale = std::max(std::abs(lo), std::abs(hi));
  return scale > 0 ? (hi - lo) / scale : 0.0;
}

// Largest relative change of any hyperparameter over steps [t0, t1].
inline double coefficient_change(const GenMomentum& opt, std::int64_t t0, std::int64_t t1) {
  return std::max({spread(opt.gamma1, t0, t1), spread(opt.gamma2, t0, t1), spread(opt.gamma3, t0, t1),
                   spread(opt.delta, t0, t1)});
}

// The last three block ends (t, R2): their second difference estimates R2'' for the next block.
class R2History {
 public:
  void push(std::int64_t t, double r2) {
    t_[0] = t_[1], t_[1] = t_[2], t_[2] = static_cast<double>(t);
    v_[0] = v_[1], v_[1] = v_[2], v_[2] = r2;
    ++count_;
  }
  // Longest block whose linear-R2 error |R2''| n^2 / 8 stays below tol R2 (unbounded if unknown).
  double curvature_limit(double tol) const {
    if (count_ < 3) return 1.0;
    const double s1 = (v_[1] - v_[0]) / (t_[1] - t_[0]), s2 = (v_[2] - v_[1]) / (t_[2] - t_[1]);
    const double curv = std::abs(2.0 * (s2 - s1) / (t_[2] - t_[0]));
    return curv > 0 ? std::sqrt(8.0 * tol * std::abs(v_[2]) / curv) : std::numeric_limits<double>::infinity();
  }
  double last_length() const { return t_[2] - t_[1]; }

 private:
  double t_[3] = {0, 0, 0}, v_[3] = {0, 0, 0};
  int count_ = 0;
};

// Block length at t: at most r_cap t, short enough that R2 is linear across it to tol (from the
// curvature of the last blocks), at most twice the last block, never past the next record, and
// halved while the coefficients move by more than 2 r inside it. The distance to the record is
// compared as an integer: past 2^53 its double rounds up, and a block that overshot the record
// left every later block one step long (a run to 2e18 with one record at the end never ended).
inline std::int64_t block_length(const GenMomentum& opt, std::int64_t t, std::int64_t next_record, double r,
                                 const R2History& hist) {
  const double tol = (r / 2.5) * (r / 2.5);  // = rtol (growth_for); scales like the scheme's error
  const double cap = std::min({r * static_cast<double>(t), hist.curvature_limit(tol), 2.0 * hist.last_length()});
  const std::int64_t to_record = next_record - t;  // >= 1
  std::int64_t n = cap < static_cast<double>(to_record) ? std::max<std::int64_t>(1, static_cast<std::int64_t>(cap))
                                                        : to_record;
  while (n > 1 && coefficient_change(opt, t, t + n - 1) > 2.0 * r) n /= 2;
  return n;
}

// Modes that relax within a block end it at the equilibrium of its frozen coefficients: frozen at
// the midpoint, that equilibrium lags the true one by half a block, an error first order in r that
// grows with the share of the risk held in such modes (DANA-decaying at B = 1, d = 1e6, rtol 1e-4:
// 3.6e-4 at T = 1e9, growing with T). So where the coefficients move, the last 1/kTail of the
// block is a tail with its own midpoint coefficients, composed with the head: the lag shrinks for
// the fast modes while slow modes keep the second-order midpoint rule. Measured there (max error
// to T = 1e9 against rtol 1e-7): kTail 16: 2.1e-4, 8: 1.3e-4, 4: 8.3e-5, with the block maps
// costing 1.7x (two powerings and a composition per mode per block).
constexpr std::int64_t kTail = 4;
inline std::int64_t split_tail(const GenMomentum& opt, std::int64_t t, std::int64_t n) {
  if (n < 2 * kTail || coefficient_change(opt, t, t + n - 1) == 0.0) return 0;
  return n / kTail;
}

// No schedule moves: every block of a given length has the same map (block_levels.hpp).
inline bool stationary(const GenMomentum& opt) {
  return opt.gamma1.is_constant() && opt.gamma2.is_constant() && opt.gamma3.is_constant() && opt.delta.is_constant();
}

template <bool kSgd>
class BlockSolver {
 public:
  BlockSolver(const Modes& md, const GenMomentum& opt, int threads,
              double level_budget = BlockLevels::kBudgetBytes)
      : md_(md), opt_(opt), threads_(threads), x_(md, kSgd), p1_(kSgd ? 1 : 3, std::vector<double>(md.d)),
        stationary_(!kSgd && stationary(opt)), levels_(md.d, propagate_lanes(), stationary_ ? level_budget : 0.0) {
    R2 = md.r2_of(x_.a.data());
  }

  // The block length to run when the rules ask for n steps: momentum with stationary coefficients
  // runs a power of two (block_levels.hpp), except on the block that ends at a record.
  std::int64_t length(std::int64_t n, std::int64_t to_record) const {
    return stationary_ && n != to_record ? power_of_two_floor(n) : n;
  }

  double R2;

  // Advances n steps from step t. Returns false if the coupling has kernel norm >= 1 over the block.
  // One fused pass per block: the previous block's slope correction x += slope P1 is applied lazily
  // while propagating, since R2 at the block end is known without it (R2_0 + n slope).
  bool advance(std::int64_t t, std::int64_t n) {
    if (n == 1) {
      flush();
      R2 = step_all<kSgd>(md_, step_coefs(md_, opt_, static_cast<double>(t)), R2, x_, threads_, partial_);
      return true;
    }
    const std::int64_t tail = split_tail(opt_, t, n), head = n - tail;
    const StepCoefs k(frozen(t, head)), k_tail(tail > 0 ? frozen(t + head, tail) : k);  // no step past the block
    const bool cached = levels_.usable() && tail == 0 && levels_.prepare(n);
    l1_partial_.assign(static_cast<std::size_t>(chunks(md_.d)), 0.0);
    const double base = md_.r2(sweep(md_.d, threads_, partial_, [&](std::int64_t j0, std::int64_t j1) {
                          propagate(k, head, k_tail, tail, cached, j0, j1);
                          l1_partial_[static_cast<std::size_t>(j0 / kChunk)] = dot(md_.lam, p1_[0].data(), j0, j1);
                          return dot(md_.lam, x_.a.data(), j0, j1);
                        }, 2 * kChunk));  // heavy work per mode: a 3x3 matrix power, or SGD's expm1 (~10 ns)
    if (cached) levels_.built();
    double L1 = 0.0;
    for (double v : l1_partial_) L1 += v;
    const double denom = static_cast<double>(n) - L1;
    if (!(denom > 0)) return false;
    pending_ = (base - R2) / denom;
    R2 += static_cast<double>(n) * pending_;
    return true;
  }

 private:
  // The coefficients frozen at the midpoint of steps [t0, t0 + n).
  StepCoefs frozen(std::int64_t t0, std::int64_t n) const {
    return step_coefs(md_, opt_, static_cast<double>(t0) + 0.5 * static_cast<double>(n - 1));
  }

  double* state(int v) { return v == 0 ? x_.a.data() : v == 1 ? x_.s.data() : x_.c.data(); }

  void flush() {
    if (pending_ == 0.0) return;
    for (int v = 0; v < (kSgd ? 1 : 3); ++v)
      for (std::int64_t j = 0; j < md_.d; ++j) state(v)[j] += pending_ * p1_[v][j];
    pending_ = 0.0;
  }

  // x <- M^n (x + pending P1_old) + P0 R2_0 on modes [j0, j1), keeping the new P1 for the slope;
  // M, P0, P1 of the head (n steps, coefficients k) followed by the tail (n_tail, k_tail).
  void propagate(const StepCoefs& k, std::int64_t n, const StepCoefs& k_tail, std::int64_t n_tail, bool cached,
                 std::int64_t j0, std::int64_t j1) {
    if (!kSgd) {
      BlockPass pass{k, n, pending_, R2, md_.lam, {state(0), state(1), state(2)},
                     {p1_[0].data(), p1_[1].data(), p1_[2].data()}, md_.mult, &k_tail, n_tail};
      if (cached) {
        pass.levels = levels_.table();
        pass.build_from = levels_.build_from(), pass.build_to = levels_.build_to(), pass.d = md_.d;
      }
      exact::propagate(pass, j0, j1);
      return;
    }
    propagate_sgd(k, n, k_tail, n_tail, j0, j1);
  }

  // Out of line: inlined into the block sweep, its scalar loop (expm1 in sgd_block) was compiled
  // differently with every change around it, up to 25% slower.
  PLRF_NOINLINE void propagate_sgd(const StepCoefs& k, std::int64_t n, const StepCoefs& k_tail, std::int64_t n_tail,
                                   std::int64_t j0, std::int64_t j1) {
    // Locals: the stores to a and p1 could alias members, which would be reloaded every mode.
    const double pend = pending_, r2 = R2;
    const double *lam = md_.lam, *mult = md_.mult;
    double *a = x_.a.data(), *p1 = p1_[0].data();
    for (std::int64_t j = j0; j < j1; ++j) {
      const SgdMode head = sgd_mode(k, lam[j]);  // the tail's mode only where there is a tail
      const SgdMap b = n_tail > 0 ? sgd_map(head, n, sgd_mode(k_tail, lam[j]), n_tail) : sgd_map(head, n);
      const double m = mult ? mult[j] : 1.0;  // a node's forcing (docs/theory.md §10)
      a[j] = b.E * (a[j] + pend * p1[j]) + m * b.P0 * r2;
      p1[j] = m * b.P1;
    }
  }

  const Modes& md_;
  const GenMomentum& opt_;
  int threads_;
  MomentState x_;
  std::vector<std::vector<double>> p1_;
  std::vector<double> partial_, l1_partial_;
  double pending_ = 0.0;  // slope of the last block, not yet added to the state
  bool stationary_;       // momentum whose schedules are all constant (block_levels.hpp)
  BlockLevels levels_;    // usable for stationary momentum only
};

// Exact steps spent locating a divergence, times d: ~0.1 s of work.
constexpr double kLocateWork = 1 << 26;

// The block lengths run so far, to replay a divergence, kept as runs of equal lengths: dense
// records make millions of one-step blocks, which take one run.
class BlockLog {
 public:
  void push(std::int64_t n) {
    if (!runs_.empty() && runs_.back().first == n)
      ++runs_.back().second;
    else
      runs_.emplace_back(n, 1);
  }
  std::int64_t last() const { return runs_.empty() ? 0 : runs_.back().first; }
  std::int64_t pop() {
    const std::int64_t n = runs_.back().first;
    if (--runs_.back().second == 0) runs_.pop_back();
    return n;
  }
  // f(n) for every block in order, while it returns true.
  template <class F>
  void replay(F&& f) const {
    for (const auto& [n, count] : runs_)
      for (std::int64_t i = 0; i < count; ++i)
        if (!f(n)) return;
  }

 private:
  std::vector<std::pair<std::int64_t, std::int64_t>> runs_;  // (length, count)
};

// A divergence found in the block of `n` steps after `blocks` (its coupling supercritical, or the
// guard tripped at its end) is moved to the step at which the exact recursion sees it: the solver
// is replayed over `blocks` (deterministic, so it reaches the same state) and continued in exact
// steps through the recorder, which records what comes before the guard trips (as `exact` does)
// or finishes the run if it never trips. After kLocateWork / d steps, the later of the block's end
// and the step reached is reported. Only divergent runs pay for this.
template <bool kSgd>
RiskCurve locate_divergence(const Modes& md, const GenMomentum& opt, int threads,
                            const BlockLog& blocks, std::int64_t n, Recorder& rec, const RunControl& control) {
  BlockSolver<kSgd> solver(md, opt, threads);
  std::int64_t t = 0;
  blocks.replay([&](std::int64_t len) {
    solver.advance(t, len);
    t += len;
    return !control.cancelled();
  });
  if (control.cancelled()) return rec.out;  // Ctrl-C: the divergence stays at the block's end
  rec.reopen();
  const std::int64_t end = t + n;
  const auto budget = static_cast<std::int64_t>(std::max(1024.0, kLocateWork / static_cast<double>(md.d)));
  for (const std::int64_t stop = t + budget; t < stop; ++t) {
    solver.advance(t, 1);
    if (!rec.visit(t + 1, solver.R2, control)) return rec.out;
  }
  rec.diverged(static_cast<double>(std::max(t, end)));
  return rec.out;
}

template <bool kSgd>
RiskCurve run_blocks(const Modes& md, const GenMomentum& opt, const RecordGrid& record, double r,
                     int threads, RunControl& control) {
  BlockSolver<kSgd> solver(md, opt, threads);
  Recorder rec(record, solver.R2);
  R2History hist;
  hist.push(0, solver.R2);
  BlockLog blocks;
  for (std::int64_t t = 0;;) {
    if (!rec.visit(t, solver.R2, control)) {
      if (rec.out.diverged_at < 0 || blocks.last() <= 1) return rec.out;
      const std::int64_t last = blocks.pop();  // the guard tripped at the end of this block
      return locate_divergence<kSgd>(md, opt, threads, blocks, last, rec, control);
    }
    const std::int64_t n = solver.length(block_length(opt, t, rec.next_record(), r, hist), rec.next_record() - t);
    if (!solver.advance(t, n)) {
      rec.diverged(static_cast<double>(t + n));
      return locate_divergence<kSgd>(md, opt, threads, blocks, n, rec, control);
    }
    blocks.push(n);
    t += n;
    hist.push(t, solver.R2);
    control.advance(n);
  }
}

// Block growth for a target relative accuracy (second-order scheme with the tail split; calibrated
// against the exact recursion in tests/test_exact_fast.py and against rtol 1e-7 at d = 1e6,
// T = 1e9: the worst case, DANA-decaying at B = 1, stays below rtol, docs/exact.md).
inline double growth_for(double rtol) { return std::min(0.25, 2.5 * std::sqrt(rtol)); }

inline RiskCurve fast_risk(const Modes& md, const GenMomentum& opt, const RecordGrid& record,
                           double rtol, int threads, RunControl& control) {
  require_linear_map(opt, "fast");
  return checked_dispatch(opt, record, [&](auto sgd) {
    auto run = [&](double g) { return run_blocks<decltype(sgd)::value>(md, opt, record, g, threads, control); };
    return with_doubling_estimate(run, growth_for(rtol));
  });
}

}  // namespace plrf::exact
