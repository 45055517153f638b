// Mixtures of experts and sparse-update momentum (docs/families.md §1), on every exact method.
//
// m experts share the features and the target; each sample is routed to expert i with probability
// p_i and the loss is averaged over the whole batch, so g_i = (1/B) sum_b 1[J_b = i] f_b r_b.
// Given e, one term has mean p lambda_j e_j and variance p lambda_j R2 + p (2 - p) lambda_j^2 e_j^2
// (Isserlis: E f_j^2 r^2 = lambda_j R2 + 2 lambda_j^2 e_j^2, minus the squared mean). So expert i
// runs the one moment map of moments.hpp with Route{gain p_i, lam2 p_i (2 - p_i)} and its own
// R2_i = 2 P_inf + sum_k lambda_k a_k^(i): the experts are independent given their clocks, and
// each runs the single-learner method (recursion, block solver, ODE) on its route, O(m d) per
// step or block. Sparse updates (block i active with probability p_i per sample, independently)
// have the same marginal law per block, hence the same curves. The per-expert deterministic clock
// evaluates expert i's schedules at p_i t, which keeps every coefficient deterministic.
#pragma once
#include <cstdint>
#include <vector>

#include "plrf/exact/modes.hpp"
#include "plrf/runtime/control.hpp"
#include "plrf/runtime/parallel.hpp"

namespace plrf::exact {

// Expert i's route: gain p, lambda^2 factor p (2 - p), clock p t or t.
inline Route expert_route(double p, bool expert_clock) { return {p, p * (2.0 - p), expert_clock ? p : 1.0}; }

// Runs method(modes, optimizer, threads, control) -> RiskCurve for every expert (opts[i] is expert
// i's optimizer). With several threads and experts, the experts run in parallel (one thread each);
// the curves do not depend on it (every expert's run is sequential and deterministic).
template <class Method>
std::vector<RiskCurve> expert_risks(const Modes& md, const std::vector<GenMomentum>& opts, const std::vector<double>& p,
                                    bool expert_clock, int threads, RunControl& control, Method&& method) {
  const auto m = static_cast<std::int64_t>(p.size());
  std::vector<RiskCurve> out(p.size());
  auto one = [&](std::int64_t i, int inner) {
    Modes mi = md;
    mi.route = expert_route(p[static_cast<std::size_t>(i)], expert_clock);
    out[static_cast<std::size_t>(i)] = method(mi, opts[static_cast<std::size_t>(i)], inner, control);
  };
  if (resolve_threads(threads) > 1 && m > 1)
    parallel_for(m, threads, [&](std::int64_t i) { one(i, 1); });
  else
    for (std::int64_t i = 0; i < m; ++i) one(i, threads);
  return out;
}

}  // namespace plrf::exact
