// Embedding plrf in C++ alone: sample a PLRF problem, compute the expected risk of DANA-decaying
// with the exact moment recursion, estimate it by Monte Carlo with the streaming simulator (64
// seeds), and print both curves. Exits 1 if they disagree by more than 6 standard errors at any
// record step (the Monte Carlo mean is unbiased for the exact curve).
#include <cmath>
#include <cstdio>
#include <vector>

#include "plrf/exact/recursion.hpp"
#include "plrf/problem/spectral_setup.hpp"
#include "plrf/simulate/run.hpp"

// DANA-decaying with the authors' recipe (as plrf.defaults(spectrum)["dana_decaying"]).
plrf::GenMomentum dana_decaying(const plrf::PlrfParams& p, std::int64_t batch) {
  double trace = 0.0;  // sum_{j <= v} j^{-2 alpha}
  for (std::int64_t j = 1; j <= p.v; ++j) trace += std::pow(static_cast<double>(j), -2.0 * p.alpha);
  const double g2 = 0.375 * std::min(2.0 / static_cast<double>(batch + 1), 1.0 / trace);
  const double delta = std::max(2.0 + (2.0 * p.beta - 1.0) / p.alpha, 2.0 - 1.0 / p.alpha) + 1.0;
  return {plrf::Schedule::constant(1.0), plrf::Schedule::constant(g2),
          plrf::Schedule::power_law(0.1, 1.0, -1.0 / (2.0 * p.alpha)), plrf::Schedule::power_law(delta, 1.0, -1.0),
          "dana_decaying"};
}

int main() {
  plrf::PlrfParams p;
  p.alpha = 1.0, p.beta = 0.5, p.d = 100, p.v = 400, p.seed = 7;
  const plrf::Spectrum spec = plrf::spectral_setup(p).spectrum;
  const std::int64_t steps = 2000, batch = 1, d = spec.dim();
  const std::vector<std::int64_t> record = {0, 1, 3, 10, 30, 100, 300, 1000, 2000};
  const plrf::GenMomentum opt = dana_decaying(p, batch);

  plrf::RunControl control;
  const plrf::exact::Modes modes{spec.view(), batch};
  const plrf::exact::RiskCurve exact = plrf::exact::exact_risk(modes, opt, plrf::RecordGrid(record, steps), 1, control);

  // Monte Carlo: per-seed state in caller-owned arrays, started at e0 = -sqrt(rho).
  const std::size_t S = 64, R = record.size();
  std::vector<double> x(S * d), y(S * d, 0.0), risk(S * R, NAN);
  std::vector<std::int64_t> done(S, 0), diverged(S, -1);
  std::vector<plrf::simulate::SeedSlot> slots(S);
  for (std::size_t i = 0; i < S; ++i) {
    for (std::int64_t j = 0; j < d; ++j) x[i * d + j] = -std::sqrt(spec.rho[j]);
    slots[i] = {i, &x[i * d], &y[i * d], &done[i], &diverged[i], &risk[i * R]};
  }
  const plrf::simulate::RunSpec run(&opt, steps, batch, record, spec.risk0());
  plrf::simulate::advance_eigen(spec, run, plrf::simulate::Sampler::Fast, slots, 0, control, INFINITY);

  int bad = 0;
  std::printf("%8s %14s %14s %10s\n", "step", "exact P", "Monte Carlo P", "z");
  for (std::size_t k = 0; k < R; ++k) {
    double m = 0.0, m2 = 0.0;
    for (std::size_t i = 0; i < S; ++i) m += risk[i * R + k], m2 += risk[i * R + k] * risk[i * R + k];
    m /= S;
    const double sem = std::sqrt(std::max(0.0, m2 / S - m * m) / (S - 1.0));
    const double z = sem > 0 ? (m - exact.risk[k]) / sem : 0.0;
    const bool ok = sem > 0 ? std::abs(z) <= 6.0 : std::abs(m - exact.risk[k]) <= 1e-9 * exact.risk[k];
    bad += !ok;
    std::printf("%8lld %14.6g %14.6g %10.2f\n", static_cast<long long>(record[k]), exact.risk[k], m, z);
  }
  return bad == 0 && exact.diverged_at < 0 ? 0 : 1;
}
