// Where the parameter-basis step (simulate/param_path.hpp) spends its time at d = 2048, S = 64
// seeds, B = 8, Adam, per instruction set and thread count: the whole step (advance_param, with U^T
// and U packed once per call, as plrf picks when they fit, and without), the two (S x d)(d x d) GEMMs
// with U^T and U (packed once, and packed by each product), and the O(S d) passes (the fast
// sampler's draws, the rule).
// GFLOP/s counts 2 S d^2 per GEMM. bench/coordinatewise_speed.py puts the step beside NumPy.
//
// Timings are minima over repeats (the machine is shared and noisy). Build with the C++ tests:
//   cmake -S . -B build -DPLRF_BUILD_TESTS=ON && cmake --build build -t plrf_param_step_split
//   build/plrf_param_step_split [d] [seeds]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "plrf/linalg/gemm.hpp"
#include "plrf/linalg/packed_right.hpp"
#include "plrf/simulate/param_path.hpp"

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double min_ms(F f, int repeats) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return best;
}

// A random orthogonal-ish U is not needed for timing: any dense d x d matrix costs the same.
struct Setup {
  std::int64_t d, S;
  plrf::Spectrum spec;
  std::vector<double> U, e, theta, m, v, risk;
  std::vector<std::uint64_t> seeds;
  std::vector<std::int64_t> step, diverged_at;
  Setup(std::int64_t d_, std::int64_t S_) : d(d_), S(S_), U(d_ * d_), seeds(S_) {
    spec.eigenvalues.resize(d), spec.rho.resize(d);
    for (std::int64_t j = 0; j < d; ++j) spec.eigenvalues[j] = std::pow(j + 1.0, -2.0), spec.rho[j] = 1.0 / d;
    spec.p_inf = 0.01;
    for (std::int64_t i = 0; i < d * d; ++i) U[i] = std::sin(0.37 * static_cast<double>(i)) / std::sqrt(d);
    for (std::int64_t s = 0; s < S; ++s) seeds[s] = static_cast<std::uint64_t>(s);
    reset();
  }
  void reset() {
    e.assign(S * d, 1.0 / std::sqrt(d)), theta.assign(S * d, 0.0), m.assign(S * d, 0.0), v.assign(S * d, 0.0);
    step.assign(S, 0), diverged_at.assign(S, -1), risk.assign(S, 0.0);
  }
};

// ms per step of advance_param over `steps` steps (its once-per-call setup included).
double whole_step(Setup& su, const plrf::CoordRule& adam, int threads, int steps, bool pack) {
  namespace sim = plrf::simulate;
  const std::int64_t S = su.S;
  const sim::ParamRun run(su.spec, su.U.data(), &adam, nullptr, steps, 8, {0}, pack);
  const auto run_all = [&] {
    su.reset();
    const sim::ParamState st{su.seeds.data(), S, su.e.data(), su.theta.data(), su.m.data(), su.v.data(),
                             su.step.data(), su.diverged_at.data(), su.risk.data()};
    plrf::RunControl control;
    sim::advance_param(run, st, threads, control, std::numeric_limits<double>::infinity());
  };
  return min_ms(run_all, 3) / steps;
}

void split(Setup& su, const plrf::CoordRule& adam, int threads, int steps) {
  namespace sim = plrf::simulate;
  namespace la = plrf::linalg;
  const std::int64_t d = su.d, S = su.S;
  const double gflop = 2.0 * 2.0 * S * d * d * 1e-9;
  const double packed_step = whole_step(su, adam, threads, steps, true);
  const double plain_step = whole_step(su, adam, threads, steps, false);
  std::vector<double> a(S * d, 0.5), c(S * d);
  const la::ConstView ut{su.U.data(), d, true}, u{su.U.data(), d};
  const double gemms = min_ms([&] {
    la::gemm(S, d, d, {a.data(), d}, ut, c.data(), d, threads);
    la::gemm(S, d, d, {a.data(), d}, u, c.data(), d, threads);
  }, 5);
  const la::PackedRight put(plrf::isa(), d, d, ut, threads), pu(plrf::isa(), d, d, u, threads);
  const double packed_gemms = min_ms([&] {
    la::gemm_packed(S, {a.data(), d}, put, c.data(), d, threads);
    la::gemm_packed(S, {a.data(), d}, pu, c.data(), d, threads);
  }, 5);
  std::vector<double> sl(d);
  for (std::int64_t j = 0; j < d; ++j) sl[j] = std::sqrt(su.spec.eigenvalues[j]);
  const double draws = min_ms(
      [&] {
        plrf::parallel_for(S, threads, [&](std::int64_t s) {
          sim::draw_eigen_gradient(su.spec, sl.data(), 0.1, 8, su.seeds[s], 3, su.e.data() + s * d, c.data() + s * d);
        });
      },
      5);
  const double rule = min_ms(
      [&] {
        plrf::parallel_for(S, threads, [&](std::int64_t s) {
          const plrf::CoordStep r(adam, 3);
          double *th = su.theta.data() + s * d, *m = su.m.data() + s * d, *v = su.v.data() + s * d;
          const double* g = a.data() + s * d;
          double* out = c.data() + s * d;
          for (std::int64_t i = 0; i < d; ++i) out[i] = r(i, th[i], m[i], v[i], g[i]);
        });
      },
      5);
  const auto rate = [&](double ms) { return gflop / ms * 1e3; };
  std::printf("%-8s threads %d | step: packed U %7.2f ms (%5.1f GFLOP/s), plain %7.2f (%5.1f) | 2 GEMMs: packed U %7.2f "
              "(%5.1f), plain %7.2f (%5.1f) | draws %5.2f | rule %5.2f\n",
              plrf::isa_name(plrf::isa()), threads, packed_step, rate(packed_step), plain_step, rate(plain_step),
              packed_gemms, rate(packed_gemms), gemms, rate(gemms), draws, rule);
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t d = argc > 1 ? std::atoll(argv[1]) : 2048, S = argc > 2 ? std::atoll(argv[2]) : 64;
  std::printf("parameter-basis Adam step, d = %lld, S = %lld, B = 8 (min over repeats, ms per step)\n",
              static_cast<long long>(d), static_cast<long long>(S));
  Setup su(d, S);
  plrf::CoordRule adam;
  adam.kind = plrf::CoordRule::Kind::Adam, adam.lr = plrf::Schedule::constant(1e-3), adam.b1 = 0.9, adam.b2 = 0.999;
  adam.eps = 1e-8;
  for (int threads : {1, 2}) split(su, adam, threads, d >= 1024 ? 50 : 200);
}
