// The parameter-basis simulator (docs/coordinatewise.md): Monte Carlo for update rules that act on
// coordinates (optim/coordinatewise.hpp) and are therefore not rotation invariant, exact in law.
//
// Features f = U Lambda^{1/2} z with K = U Lambda U^T. For the eigenbasis error e = U^T (theta -
// theta*), the batch-averaged gradient is g = U g_e, where g_e = (1/B) sum_b Lambda^{1/2} z_b
// (<z_b, Lambda^{1/2} e> - eps_b) is the eigen path's batch gradient. Every rule here reads the
// batch only through g (the batch mean), so its law given theta is all the run needs, and the eigen
// path's fast sampler draws exactly that law in O(d) for any B (simulate/eigen_sampler.hpp): g_e is
// Gaussian given three Bartlett scalars (|w|^2, w.eps', |eps'|^2), not Gaussian given theta alone.
// The same draws (streams kEigenSamples, kScalars at (seed, step)) as the eigen path.
//
// A step for all seeds at once (S seeds in lockstep, row-major S x d blocks):
//   G_e    (O(S d))   the fast sampler, one row per seed;
//   G      = G_e U^T  (GEMM, linalg/gemm.hpp: bitwise the same for any threads and any S; with
//                      `pack_rotation`, U^T and U are packed once per call, linalg/packed_right.hpp,
//                      for the same bits at ~1.5x the rate, at the cost of 2 d^2 doubles);
//   Delta  (O(S d))   the coordinate-wise rule on (theta, m, v);
//   theta += Delta,  E += Delta U  (GEMM).
// The risk is exact from E: P = P_inf + 1/2 sum_j lambda_j e_j^2, O(d) per seed and step.
// Gen-Mom momentum (plain SGD included) also runs here, in theta space, as the reference for
// agreement with the eigen path.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "plrf/linalg/gemm.hpp"
#include "plrf/linalg/packed_right.hpp"
#include "plrf/linalg/lane_sum.hpp"
#include "plrf/optim/coordinatewise.hpp"
#include "plrf/optim/gen_momentum.hpp"
#include "plrf/rng/normal.hpp"
#include "plrf/runtime/control.hpp"
#include "plrf/runtime/divergence.hpp"
#include "plrf/runtime/parallel.hpp"
#include "plrf/runtime/record_grid.hpp"
#include "plrf/runtime/team.hpp"
#include "plrf/simulate/eigen_sampler.hpp"
#include "plrf/simulate/state.hpp"
#include "plrf/spectrum/spectrum.hpp"

namespace plrf::simulate {

// sum_j lambda_j e_j^2 (twice the excess risk) of one error vector e.
inline double eigen_energy(const Spectrum& spec, const double* e) {
  const double* lam = spec.eigenvalues.data();
  return linalg::lane_sum(0, spec.dim(), [&](std::int64_t j) { return lam[j] * e[j] * e[j]; });
}

// The eigen path's batch-averaged gradient g_e at error e (seed, step t), drawn by its fast sampler
// (normals 0..d-1 of (seed, kEigenSamples) and scalars 0..2 of (seed, kScalars) at t) into out;
// a2 = eigen_energy(spec, e), which the engine has already computed for the risk.
inline void draw_eigen_gradient(const Spectrum& spec, const double* sqrt_lambda, double sigma, std::int64_t batch,
                                std::uint64_t seed, std::uint64_t t, const double* e, double a2, double* out) {
  const std::int64_t d = spec.dim();
  const double* lam = spec.eigenvalues.data();
  rng::fill_normals({seed, rng::kEigenSamples}, t, 0, static_cast<std::size_t>(d), out);
  const double ax = linalg::lane_sum(0, d, [&](std::int64_t j) { return sqrt_lambda[j] * e[j] * out[j]; });
  const FastDraw f = fast_scalars(seed, t, 0, batch, batch, a2, sigma, ax);
  for (std::int64_t j = 0; j < d; ++j) out[j] = lam[j] * e[j] * f.coef_e + sqrt_lambda[j] * out[j] * f.coef_xi;
}

inline void draw_eigen_gradient(const Spectrum& spec, const double* sqrt_lambda, double sigma, std::int64_t batch,
                                std::uint64_t seed, std::uint64_t t, const double* e, double* out) {
  draw_eigen_gradient(spec, sqrt_lambda, sigma, batch, seed, t, e, eigen_energy(spec, e), out);
}

// The threads of the parameter-basis step's O(S d) passes (draws, rule, e update): one below 2^16
// coordinates, where starting threads costs more than the pass; else `threads`. Results are the
// same either way (each seed's row is its own work item).
inline int param_row_threads(std::int64_t S, std::int64_t d, int threads) {
  return S * d < (std::int64_t{1} << 16) ? 1 : threads;
}

// The run: spectrum, rotation (borrowed, row-major, columns = eigenvectors) and the update rule,
// either a coordinate-wise rule or Gen-Mom momentum (`momentum` non-null).
struct ParamRun {
  const Spectrum* spectrum;
  const double* U;  // d x d
  const CoordRule* rule = nullptr;
  const GenMomentum* momentum = nullptr;
  std::int64_t steps, batch;
  RecordGrid record;
  bool pack_rotation = false;  // pack U^T and U once (2 d^2 doubles more, same bits, faster steps)

  ParamRun(const Spectrum& spec, const double* U_, const CoordRule* rule_, const GenMomentum* mom, std::int64_t steps_,
           std::int64_t batch_, std::vector<std::int64_t> record_, bool pack_rotation_ = false)
      : spectrum(&spec), U(U_), rule(rule_), momentum(mom), steps(steps_), batch(batch_),
        record(std::move(record_), steps_), pack_rotation(pack_rotation_) {
    spec.validate();
    if (steps < 1 || static_cast<std::uint64_t>(steps) >= rng::kAddressLimit)
      throw std::invalid_argument("steps must be in [1, 2**48), got " + std::to_string(steps));
    if (batch < 1) throw std::invalid_argument("batch must be >= 1, got " + std::to_string(batch));
    if ((rule == nullptr) == (momentum == nullptr))
      throw std::invalid_argument("the parameter-basis path runs one rule: a coordinate-wise rule or a momentum");
    if (rule) rule->validate(spec.dim(), steps);
    if (momentum) {
      momentum->check_length(steps);
      if (momentum->knobs.affine() || momentum->knobs.svag())
        throw std::invalid_argument("the parameter-basis path does not run ridge/decay/noise or svag");
    }
  }
  std::int64_t d() const { return spectrum->dim(); }
};

// The per-seed state, caller-owned S x d arrays (numpy), updated in place: e (eigenbasis error),
// theta (parameters), m and v (the rule's buffers; momentum uses m), and step, diverged_at, risk;
// tau: dana_star's third buffer (null for the other rules).
struct ParamState {
  const std::uint64_t* seeds;
  std::int64_t S;
  double *e, *theta, *m, *v;
  std::int64_t *step, *diverged_at;
  double* risk;  // S x records
  double* tau = nullptr;
};

class ParamEngine {
 public:
  ParamEngine(const ParamRun& run, const ParamState& st, int threads)
      : r_(run), s_(st), d_(run.d()), threads_(threads), row_threads_(param_row_threads(st.S, d_, threads)),
        ge_(st.S * d_), g_(st.S * d_), sqrt_lambda_(d_), energy_(st.S), sigma_(std::sqrt(2.0 * run.spectrum->p_inf)),
        guard_(run.spectrum->risk0()), team_(threads) {
    if (run.rule && run.rule->uses_tau() && st.tau == nullptr)
      throw std::invalid_argument("the dana_star rule needs its S x d buffer tau");
    if (run.pack_rotation) {
      ut_ = std::make_unique<linalg::PackedRight>(isa(), d_, d_, linalg::ConstView{run.U, d_, true}, threads);
      u_ = std::make_unique<linalg::PackedRight>(isa(), d_, d_, linalg::ConstView{run.U, d_}, threads);
    }
    const double* lam = run.spectrum->eigenvalues.data();
    for (std::int64_t j = 0; j < d_; ++j) sqrt_lambda_[j] = std::sqrt(lam[j]);
  }

  // Advances every live seed until the end, cancellation or the deadline; true when all are finished.
  bool advance(RunControl& control, std::chrono::steady_clock::time_point deadline) {
    std::int64_t t = common_step();
    const std::int64_t start = t;
    rows([&](std::int64_t s) { keep_energy(s); });  // then kept by each step's last pass
    for (;;) {
      record_and_guard(t);
      if (t == r_.steps || live() == 0) break;
      if (t != start && (control.cancelled() || std::chrono::steady_clock::now() >= deadline)) break;
      step(t);
      ++t;
      const std::int64_t n = live();
      for (std::int64_t s = 0; s < s_.S; ++s)
        if (s_.diverged_at[s] < 0) s_.step[s] = t;
      control.advance(n);
    }
    return live() == 0 || t == r_.steps;
  }

 private:
  std::int64_t live() const {
    return std::count_if(s_.diverged_at, s_.diverged_at + s_.S, [](std::int64_t x) { return x < 0; });
  }

  // Live seeds run in lockstep: they share their step count.
  std::int64_t common_step() const {
    std::int64_t t = -1;
    for (std::int64_t s = 0; s < s_.S; ++s) {
      if (s_.diverged_at[s] >= 0) continue;
      if (t >= 0 && s_.step[s] != t) throw std::invalid_argument("parameter-basis seeds must share their step");
      t = s_.step[s];
    }
    return t < 0 ? r_.steps : t;
  }

  // body(s) for every seed: on the team, or on the caller below param_row_threads' threshold.
  template <class Body>
  void rows(Body&& body) {
    if (row_threads_ > 1)
      team_.run(s_.S, body);
    else
      for (std::int64_t s = 0; s < s_.S; ++s) body(s);
  }

  // Seed s's energy sum_j lambda_j e_j^2, for its risk and for the draw of the next step (its a2).
  void keep_energy(std::int64_t s) {
    if (s_.diverged_at[s] < 0) energy_[s] = eigen_energy(*r_.spectrum, s_.e + s * d_);
  }

  // The risk at step t of every live seed (from the kept energies): recorded on the grid; a diverged
  // seed stops (NaN from t).
  void record_and_guard(std::int64_t t) {
    const auto& rec = r_.record;
    const auto k = static_cast<std::size_t>(std::lower_bound(rec.begin(), rec.end(), t) - rec.begin());
    const bool on_grid = k < rec.size() && rec[k] == t;
    const std::int64_t R = static_cast<std::int64_t>(rec.size());
    for (std::int64_t s = 0; s < s_.S; ++s) {
      if (s_.diverged_at[s] >= 0) continue;
      const double risk = r_.spectrum->risk_from_energy(energy_[s]);
      if (guard_.diverged(risk)) {
        s_.diverged_at[s] = t;
        for (std::int64_t q = static_cast<std::int64_t>(k); q < R; ++q)
          s_.risk[s * R + q] = std::numeric_limits<double>::quiet_NaN();
      } else if (on_grid) {
        s_.risk[s * R + static_cast<std::int64_t>(k)] = risk;
      }
    }
  }

  // The eigen path's fast gradient of seed s at step t into its row of ge_ (zero for a dead seed).
  void draw(std::int64_t s, std::uint64_t t) {
    double* out = ge_.data() + s * d_;
    if (s_.diverged_at[s] >= 0)
      std::fill(out, out + d_, 0.0);
    else
      draw_eigen_gradient(*r_.spectrum, sqrt_lambda_.data(), sigma_, r_.batch, s_.seeds[s], t, s_.e + s * d_,
                          energy_[s], out);
  }

  // The rule on seed s's row of g_ (the parameter-basis gradient); its change of theta goes to the
  // same row of ge_ (free after the first GEMM).
  void update(std::int64_t s, std::int64_t t) {
    double* delta = ge_.data() + s * d_;
    if (s_.diverged_at[s] >= 0) {
      std::fill(delta, delta + d_, 0.0);
      return;
    }
    double* g = g_.data() + s * d_;
    if (r_.rule) r_.rule->clip_gradient(g, d_);
    double* th = s_.theta + s * d_;
    double* m = s_.m + s * d_;
    double* v = s_.v + s * d_;
    if (r_.rule) {
      const CoordStep rule(*r_.rule, t);
      double* tau = s_.tau ? s_.tau + s * d_ : nullptr;
      double unused = 0.0;  // the rules without tau never write it
      for (std::int64_t i = 0; i < d_; ++i) delta[i] = rule(i, th[i], m[i], v[i], tau ? tau[i] : unused, g[i]);
    } else {
      const MomentumStep upd(r_.momentum->at(static_cast<double>(t)), r_.momentum->is_sgd());
      for (std::int64_t i = 0; i < d_; ++i) delta[i] = upd(0.0, m[i], g[i]);
    }
    for (std::int64_t i = 0; i < d_; ++i) th[i] += delta[i];
  }

  // out (S x d) = in U^T, or in U: by the packed U's when the run keeps them, else by gemm reading U in
  // place (transposed for U^T: no d x d copy). The same bits either way.
  void rotate(const double* in, bool transposed, double* out) {
    const auto& packed = transposed ? ut_ : u_;
    if (packed)
      linalg::gemm_packed(s_.S, {in, d_}, *packed, out, d_, team_);
    else
      linalg::gemm(s_.S, d_, d_, {in, d_}, {r_.U, d_, transposed}, out, d_, threads_);
  }

  void step(std::int64_t t) {
    const auto ut = static_cast<std::uint64_t>(t);
    rows([&](std::int64_t s) { draw(s, ut); });
    rotate(ge_.data(), true, g_.data());  // G = G_e U^T
    rows([&](std::int64_t s) { update(s, t); });
    rotate(ge_.data(), false, g_.data());  // Delta U
    rows([&](std::int64_t s) {  // E += Delta U, and the new energy while the row is in cache
      if (s_.diverged_at[s] >= 0) return;
      double* e = s_.e + s * d_;
      const double* de = g_.data() + s * d_;
      for (std::int64_t j = 0; j < d_; ++j) e[j] += de[j];
      keep_energy(s);
    });
  }

  const ParamRun& r_;
  ParamState s_;
  std::int64_t d_;
  int threads_, row_threads_;
  std::vector<double> ge_, g_, sqrt_lambda_, energy_;
  std::unique_ptr<linalg::PackedRight> ut_, u_;  // U^T and U packed once, when the run asks
  double sigma_;
  DivergenceGuard guard_;
  Team team_;  // kept for the call: a step makes five parallel passes
};

// One call: advance until finished, cancelled or `budget_seconds` spent (the caller checkpoints).
inline bool advance_param(const ParamRun& run, const ParamState& state, int threads, RunControl& control,
                          double budget_seconds) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = std::isfinite(budget_seconds) && budget_seconds < 1e9
                            ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(budget_seconds))
                            : Clock::time_point::max();
  ParamEngine engine(run, state, threads);
  return engine.advance(control, deadline);
}

}  // namespace plrf::simulate
