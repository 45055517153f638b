// Mixture-of-experts and sparse-update Monte Carlo in the eigenbasis, exact in law (docs/families.md §1).
//
// Every step draws the routing first, as counts: the B samples' experts are only needed through
// how many reach each expert, N ~ Multinomial(B, p), drawn by conditional binomials
// N_i ~ Bin(B - N_1 - ... - N_{i-1}, p_i / (p_i + ... + p_m)) (rng/binomial.hpp, O(log B) each), or
// for sparse blocks N_i ~ Bin(B, p_i) independently (each sample reaches block i with probability
// p_i). Binomial i is variate i of (seed, kRouting) at the step, so the counts do not depend on
// threads or resume. Given the count N_i, expert i's gradient (1/B) sum_{b -> i} f_b r_b is the sum
// of N_i independent sample gradients on its own error e_i divided by B: the fast sampler of
// eigen_sampler.hpp with N_i samples (its draws at lane i of the step's streams), so a step costs
// O(m log B + m d) for any B. Given the counts, the samples routed to different experts are
// independent, which is why the per-expert fast draws are exact.
// The seed's state holds the m experts' (e, y) one after another; expert i runs its own optimizer
// on its own clock (schedules at p_i t for the deterministic per-expert clock).
// Ridge, decay and noise (knob_step.hpp) act on every expert every step, routed or not; expert i's
// noise is at lane i. SVAG's second batch is a second, independent routing (variates m .. 2m - 1 of
// (seed, kRouting)) whose expert i draws at lane m + i: the two batches of SVAG are independent
// draws of the whole step, routing included (docs/families.md §3), which is what the exact map's
// 1/B -> l/B assumes.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "plrf/rng/binomial.hpp"
#include "plrf/simulate/driver.hpp"
#include "plrf/simulate/eigen_sampler.hpp"

namespace plrf::simulate {

// The routing of a run, shared by its seeds.
struct Routing {
  std::vector<double> p;                  // routing (sum 1) or activation probabilities
  std::vector<double> weight;             // total risk = sum_i weight_i P_i
  std::vector<const GenMomentum*> opts;   // one per expert
  std::vector<double> clock;              // expert i's schedules run at clock_i t
  bool sparse = false;
  std::vector<double> conditional;        // p_i / (p_i + ... + p_m): multinomial routing by binomials

  Routing(std::vector<double> p_, std::vector<double> weight_, std::vector<const GenMomentum*> opts_,
          bool expert_clock, bool sparse_)
      : p(std::move(p_)), weight(std::move(weight_)), opts(std::move(opts_)), clock(p.size(), 1.0), sparse(sparse_) {
    for (std::size_t i = 0; i < p.size(); ++i)
      if (expert_clock) clock[i] = p[i];
    // Tail sums from the end (no cancellation); the last expert takes every sample left.
    conditional.assign(p.size(), 1.0);
    double tail = 0.0;
    for (std::size_t i = p.size(); i-- > 0;) {
      tail += p[i];
      if (i + 1 < p.size()) conditional[i] = tail > 0.0 ? std::min(1.0, p[i] / tail) : 0.0;
    }
  }
  std::size_t m() const { return p.size(); }
};

// Counts N_i of the step's B samples per expert: m binomial draws, whatever B.
// offset: the first variate (m for SVAG's second routing).
inline void route_counts(const Routing& r, std::uint64_t seed, std::uint64_t t, std::int64_t batch,
                         std::vector<std::int64_t>& counts, std::uint64_t offset = 0) {
  const rng::StreamKey key{seed, rng::kRouting};
  std::int64_t left = batch;  // multinomial routing: the samples not yet given to an expert
  for (std::size_t i = 0; i < r.m(); ++i) {
    if (r.sparse) {
      counts[i] = rng::binomial(batch, r.p[i], key, t, offset + i);
    } else {
      counts[i] = left > 0 ? rng::binomial(left, r.conditional[i], key, t, offset + i) : 0;
      left -= counts[i];
    }
  }
}

// Per-seed stepper: m eigenbasis learners on slices of the seed's state; `parts` (m x records of
// this seed) receives each expert's risk at the record steps.
class ExpertStepper {
 public:
  // models[i]: expert i's model (its optimizer's knobs).
  ExpertStepper(const std::vector<EigenModel>& models, const Routing& routing, const SeedSlot& slot, double* parts,
                std::size_t n_record)
      : r_(routing), seed_(slot.seed), batch_(models[0].batch), parts_(parts), n_record_(n_record),
        counts_(routing.m(), 0), counts2_(routing.m(), 0) {
    const std::int64_t d = models[0].spectrum->dim();
    experts_.reserve(routing.m());
    for (std::size_t i = 0; i < routing.m(); ++i) {
      SeedSlot s = slot;
      s.x = slot.x + static_cast<std::int64_t>(i) * d;
      s.y = slot.y + static_cast<std::int64_t>(i) * d;
      experts_.emplace_back(models[i], s, true);
      svag_ = svag_ || models[i].knobs.svag();
    }
  }

  // The coefficients the driver passes are ignored: each expert reads its own optimizer and clock.
  bool step(std::int64_t t, const Coefficients&, const RunControl&) {
    const auto tu = static_cast<std::uint64_t>(t);
    const std::size_t m = r_.m();
    route_counts(r_, seed_, tu, batch_, counts_);
    if (svag_) route_counts(r_, seed_, tu, batch_, counts2_, m);
    for (std::size_t i = 0; i < m; ++i) {
      const GenMomentum& o = *r_.opts[i];
      experts_[i].routed_step(tu, o.at(r_.clock[i] * static_cast<double>(t)), o.is_sgd(), counts_[i], i, counts2_[i],
                              m + i);
    }
    return true;
  }

  double risk() const {
    double total = 0.0;
    for (std::size_t i = 0; i < r_.m(); ++i) total += r_.weight[i] * experts_[i].risk();
    return total;
  }

  bool blew_up(const DivergenceGuard& guard, std::int64_t) const { return guard.diverged(risk()); }

  // Called by the driver at record k (driver.hpp): each expert's risk.
  void record_parts(std::size_t k) const {
    for (std::size_t i = 0; i < r_.m(); ++i) parts_[i * n_record_ + k] = experts_[i].risk();
  }

 private:
  const Routing& r_;
  std::uint64_t seed_;
  std::int64_t batch_;
  double* parts_;
  std::size_t n_record_;
  std::vector<EigenStepper> experts_;
  std::vector<std::int64_t> counts_, counts2_;  // counts2_: SVAG's second routing
  bool svag_ = false;
};

// Advances every unfinished seed (see run.hpp); parts holds seeds x m x records.
inline bool advance_experts(const Spectrum& spec, const RunSpec& run, const Routing& routing,
                            const std::vector<SeedSlot>& slots, double* parts, int threads, RunControl& control,
                            double budget_seconds) {
  spec.validate();
  std::vector<EigenModel> models;  // one per expert: its optimizer's ridge/decay/noise/SVAG knobs
  models.reserve(routing.m());
  for (const GenMomentum* o : routing.opts) {
    o->knobs.validate();
    models.emplace_back(spec, run.batch, Sampler::Fast, false, o->knobs);
  }
  const std::size_t n = run.record.size(), stride = routing.m() * n;
  return run_seeds(slots, run, threads, control, budget_seconds, [&](const SeedSlot& s) {
    const auto seed_index = static_cast<std::size_t>(&s - slots.data());
    return ExpertStepper(models, routing, s, parts + seed_index * stride, n);
  });
}

}  // namespace plrf::simulate
