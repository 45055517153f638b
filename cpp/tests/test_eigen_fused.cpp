// The fast eigen sampler's fused pass (simulate/eigen_fused.hpp) on every instruction set this CPU
// has: the sums it carries to the next step equal a fresh priming pass bit for bit (what makes a
// resume bitwise), its draws are the stream's normals, and the instruction sets agree to rounding.
#include <doctest.h>

#include <cmath>
#include <vector>

#include "plrf/simulate/eigen_fused.hpp"

using namespace plrf;
using namespace plrf::simulate;

namespace {
struct Run {
  std::vector<double> e, y, xi;
};

// 60 steps of SGD-momentum-like updates with d = 1003 (a short last group), on one instruction set.
Run run_on(Isa on, int* mismatches) {
  const std::int64_t d = 1003;
  std::vector<double> sl(d);
  Run r{std::vector<double>(d), std::vector<double>(d, 0.0), std::vector<double>(d)};
  for (std::int64_t j = 0; j < d; ++j) {
    sl[j] = std::pow(j + 1.0, -0.75);
    r.e[j] = -std::pow(j + 1.0, -0.6);
  }
  Coefficients c{};
  MomentumStep u(c, false);
  u.m = 0.9;
  u.gamma1 = 1.0;
  u.gamma2 = 0.05;
  u.gamma3 = 0.01;
  const rng::StreamKey key{42, rng::kEigenSamples};
  fused::FastPass p{sl.data(), r.e.data(), r.y.data(), r.xi.data(), d, 0.0, 0.0};
  auto prime = [&](std::uint64_t t) { return fused::prime_on(on, p, key, t); };
  auto energy = [&]() { return fused::energy_on(on, p); };
  double ax = prime(0), en = energy();
  for (std::uint64_t t = 0; t < 60; ++t) {
    p.coef_e = 0.5 * ax / std::sqrt(en) / 1003.0;
    p.coef_xi = 0.3;
    double dot = 0.0;
    fused::fused_on(on, p, u, key, t + 1, en, dot);
    std::vector<double> drawn = r.xi, expect(d);
    rng::detail::fill<rng::detail::Draw::kNormal>(on, key, t + 1, 0, d, expect.data());
    *mismatches += drawn != expect;                            // xi_{t+1} is the stream's
    *mismatches += dot != prime(t + 1) || en != energy();      // what a resume would recompute
    ax = dot;
  }
  return r;
}
}  // namespace

TEST_CASE("fused eigen pass: carried sums equal a priming pass bitwise, on every instruction set") {
  Run base;
  for (int i = 0; i <= static_cast<int>(isa()); ++i) {
    const Isa on = static_cast<Isa>(i);
    CAPTURE(isa_name(on));
    int mismatches = 0;
    const Run r = run_on(on, &mismatches);
    CHECK(mismatches == 0);
    if (i == 0) {
      base = r;
      continue;
    }
    double worst = 0.0;  // FMA or not: equal to rounding, not bitwise
    for (std::size_t j = 0; j < r.e.size(); ++j)
      worst = std::max(worst, std::abs(r.e[j] - base.e[j]) / (std::abs(base.e[j]) + 1e-300));
    CHECK(worst < 1e-9);
  }
}
