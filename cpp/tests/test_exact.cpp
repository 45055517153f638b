#include <doctest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <random>
#include <vector>

#include "plrf/exact/block_map.hpp"
#include "plrf/exact/fast.hpp"
#include "plrf/exact/ode.hpp"
#include "plrf/exact/recursion.hpp"
#include "plrf/exact/stability.hpp"

using namespace plrf::exact;
using plrf::Schedule;

namespace {
plrf::GenMomentum heavy_ball(double lr, double mu) {
  return {Schedule::constant(1), Schedule::constant(0), Schedule::constant(lr), Schedule::constant(1 - mu)};
}
}  // namespace

TEST_CASE("block map of n steps equals n single steps") {
  const StepCoefs k(plrf::Coefficients{1.0, 0.05, 0.02, 0.1}, 3);
  const double lam = 0.7;
  BlockMaps<1> b;
  block_maps<1>(k, &lam, 13, b);
  // propagate e_a and a linear R2 (R2_0 = 2, slope = -0.1) step by step
  double x[3] = {1.0, 0.0, 0.0};
  for (int i = 0; i < 13; ++i) step<false>(k, lam, 2.0 - 0.1 * i, x[0], x[1], x[2]);
  for (int r = 0; r < 3; ++r)
    CHECK(x[r] == doctest::Approx(b.M[3 * r][0] + 2.0 * b.P0[r][0] - 0.1 * b.P1[r][0]).epsilon(1e-12));
}

TEST_CASE("block maps of 8 lanes equal the single-mode maps, lane by lane") {
  const StepCoefs k(plrf::Coefficients{1.0, 0.05, 0.02, 0.1}, 3);
  const double lam[8] = {1.0, 0.5, 0.3, 1e-2, 1e-4, 1e-7, 0.7, 0.0};
  for (std::int64_t n : {1, 2, 5, 64, 1000003}) {
    BlockMaps<8> many;
    block_maps<8>(k, lam, n, many);
    for (int l = 0; l < 8; ++l) {
      BlockMaps<1> one;
      block_maps<1>(k, lam + l, n, one);
      for (int e = 0; e < 9; ++e) CHECK(many.M[e][l] == doctest::Approx(one.M[e][0]).epsilon(1e-13));
      for (int i = 0; i < 3; ++i) {
        CHECK(many.P0[i][l] == doctest::Approx(one.P0[i][0]).epsilon(1e-13));
        CHECK(many.P1[i][l] == doctest::Approx(one.P1[i][0]).epsilon(1e-13));
      }
    }
  }
}

TEST_CASE("SGD closed-form block sums agree with direct sums in every regime") {
  for (double lam : {1e-9, 1e-3, 0.5}) {
    const StepCoefs k(plrf::Coefficients{0.0, 0.3, 0.0, 1.0}, 2);
    const SgdMode m = sgd_mode(k, lam);
    for (std::int64_t n : {2, 50, 3000}) {
      const SgdBlock b = sgd_block(m, n);
      double E = 1, S0 = 0, S1 = 0, pk = 1;
      for (std::int64_t i = 0; i < n; ++i) S0 += pk, S1 += static_cast<double>(n - 1 - i) * pk, pk *= m.p;
      E = pk;
      CHECK(b.E == doctest::Approx(E).epsilon(1e-9).scale(1e-300));
      CHECK(b.S0 == doctest::Approx(S0).epsilon(1e-9));
      CHECK(b.S1 == doctest::Approx(S1).epsilon(1e-9));
    }
  }
}

TEST_CASE("fast and exact agree; kernel norm boundary") {
  std::vector<double> lam, rho;
  for (int j = 1; j <= 50; ++j) lam.push_back(std::pow(j, -2.0)), rho.push_back(std::pow(j, -1.0));
  const Modes md{{lam.data(), rho.data(), 50, 1e-3}, 1};
  const std::vector<std::int64_t> rec{0, 10, 100, 1000, 10000};
  plrf::RunControl ctl;
  const auto opt = heavy_ball(0.02, 0.9);
  const RiskCurve ex = exact_risk(md, opt, rec, 1, ctl);
  const RiskCurve fa = fast_risk(md, opt, rec, 1e-5, 1, ctl);
  for (std::size_t i = 0; i < rec.size(); ++i) CHECK(fa.risk[i] == doctest::Approx(ex.risk[i]).epsilon(1e-3));
  const double lr = max_stable_lr(md);
  CHECK(sgd_kernel_norm(md, lr) == doctest::Approx(1.0).epsilon(1e-9));
  CHECK(mode_map_kernel_norm(md, plrf::Coefficients{0.0, 0.5 * lr, 0.0, 1.0}) ==
        doctest::Approx(sgd_kernel_norm(md, 0.5 * lr)).epsilon(1e-12));
  plrf::Coefficients svag{0.0, 0.3 * lr, 0.0, 1.0};  // SVAG's l = 2: the gradient noise of batch B / 2
  svag.noise_scale = 2.0;
  CHECK(kernel_norm(md, svag) == doctest::Approx(mode_map_kernel_norm(md, svag)).epsilon(1e-12));
  CHECK(kernel_norm(md, svag) > 1.01 * sgd_kernel_norm(md, 0.3 * lr));
}

TEST_CASE("jury_stable agrees with the spectral radius of the 3x3 map") {
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> entry(-1.2, 1.2);
  int stable = 0, checked = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    Mat3 M;
    Eigen::Matrix3d E;
    for (int i = 0; i < 9; ++i) E(i / 3, i % 3) = M[i] = entry(gen);
    const double radius = E.eigenvalues().cwiseAbs().maxCoeff();
    if (radius > 1.0 - 1e-9 && radius < 1.0 + 2 * kModeGrowthTol) continue;  // too close to the circle to be sure
    ++checked;
    stable += radius < 1.0;
    CHECK(jury_stable(M) == (radius < 1.0));
    CHECK(mode_stable(M) == (radius < 1.0));
  }
  CHECK(stable > checked / 20);  // both outcomes are well represented
  CHECK(stable < checked - checked / 20);
  // A mode at rounding distance from 1 (lambda = 1e-18: 1 - G lambda rounds to 1) is marginal, not
  // unstable, although it fails the Jury conditions; one 1e-3 outside the circle is unstable.
  const Mat3 marginal{1.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.5}, growing{1.001, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.5};
  CHECK(!jury_stable(marginal));
  CHECK(mode_stable(marginal));
  CHECK(!mode_stable(growing));
}

TEST_CASE("the block pass gives the same states on every instruction set this CPU has") {
  const std::int64_t d = 37;  // not a multiple of any lane count
  std::vector<double> lam(d);
  for (std::int64_t j = 0; j < d; ++j) lam[j] = 1.0 / double((j + 1) * (j + 1));
  auto run = [&](plrf::Isa on) {
    std::vector<double> x(3 * d, 0.5), p1(3 * d, 0.1);
    const BlockPass b{StepCoefs(plrf::Coefficients{1.0, 0.05, 0.02, 0.1}, 2), 1000, 0.3, 1.2, lam.data(),
                      {x.data(), x.data() + d, x.data() + 2 * d}, {p1.data(), p1.data() + d, p1.data() + 2 * d}};
    propagate_on(on, b, 0, d);
    x.insert(x.end(), p1.begin(), p1.end());
    return x;
  };
  const std::vector<double> ref = run(plrf::Isa::kBaseline);
  std::vector<plrf::Isa> others;
  if (static_cast<int>(plrf::isa()) >= static_cast<int>(plrf::Isa::kAvx2)) others.push_back(plrf::Isa::kAvx2);
  if (static_cast<int>(plrf::isa()) >= static_cast<int>(plrf::Isa::kAvx512)) others.push_back(plrf::Isa::kAvx512);
  for (auto on : others) {
    const std::vector<double> got = run(on);
    for (std::size_t i = 0; i < ref.size(); ++i) CHECK(got[i] == doctest::Approx(ref[i]).epsilon(1e-12));
  }
  MESSAGE("instruction sets compared: baseline + " << others.size());
}

TEST_CASE("every exact driver stops when cancelled, with the records it reached") {
  const std::vector<double> lam = {1.0, 0.5, 0.25}, rho = {1.0, 1.0, 1.0};
  const Modes md{{lam.data(), rho.data(), 3, 0.01}, 1};
  const plrf::GenMomentum opt = heavy_ball(0.1, 0.9);
  const std::vector<std::int64_t> record = {0, 10, 1000};
  plrf::RunControl control;
  control.cancel = true;  // already cancelled: each driver records t = 0 and stops
  const RiskCurve curves[] = {exact_risk(md, opt, record, 1, control), fast_risk(md, opt, record, 1e-4, 1, control),
                              ode_risk(md, opt, record, 0.01, 1, control)};
  for (const RiskCurve& c : curves) {
    CHECK(c.interrupted);
    CHECK(c.diverged_at == -1);
    CHECK(c.risk[0] == doctest::Approx(0.5 * md.r2_of(rho.data())));
    CHECK(std::isnan(c.risk[1]));
  }
}

TEST_CASE("a spectrum with every eigenvalue doubled equals its node form (docs/theory.md §10), in every method") {
  std::vector<double> lam, rho, lam2, rho2, mult;
  for (int j = 1; j <= 40; ++j) {
    const double l = std::pow(j, -1.5), r = std::pow(j, -1.2);
    lam.push_back(l), rho.push_back(2 * r), mult.push_back(2.0);  // node: summed rho, multiplicity 2
    for (int k = 0; k < 2; ++k) lam2.push_back(l), rho2.push_back(r);
  }
  const Modes nodes{{lam.data(), rho.data(), 40, 2e-3, mult.data()}, 3};
  const Modes modes{{lam2.data(), rho2.data(), 80, 2e-3}, 3};
  const Modes no_mult{{lam.data(), rho.data(), 40, 2e-3}, 3};  // the multiplicity left out
  CHECK(nodes.count() == 80.0);
  CHECK(nodes.trace() == doctest::Approx(modes.trace()).epsilon(1e-15));
  const std::vector<std::int64_t> rec{0, 10, 100, 1000, 10000};
  plrf::RunControl ctl;
  for (const plrf::GenMomentum& opt : {heavy_ball(0.02, 0.9), plrf::GenMomentum{Schedule::constant(0), Schedule::constant(0.1),
                                                                                 Schedule::constant(0), Schedule::constant(1)}}) {
    const RiskCurve runs[3][3] = {
        {exact_risk(nodes, opt, rec, 1, ctl), fast_risk(nodes, opt, rec, 1e-4, 1, ctl), ode_risk(nodes, opt, rec, 0.01, 1, ctl)},
        {exact_risk(modes, opt, rec, 1, ctl), fast_risk(modes, opt, rec, 1e-4, 1, ctl), ode_risk(modes, opt, rec, 0.01, 1, ctl)},
        {exact_risk(no_mult, opt, rec, 1, ctl), fast_risk(no_mult, opt, rec, 1e-4, 1, ctl),
         ode_risk(no_mult, opt, rec, 0.01, 1, ctl)}};
    for (int method = 0; method < 3; ++method)
      for (std::size_t i = 1; i < rec.size(); ++i) {
        CHECK(runs[0][method].risk[i] == doctest::Approx(runs[1][method].risk[i]).epsilon(1e-13));
        CHECK(std::abs(runs[2][method].risk[i] / runs[1][method].risk[i] - 1) > 1e-3);  // planted bug is visible
      }
  }
  CHECK(max_stable_lr(nodes) == doctest::Approx(max_stable_lr(modes)).epsilon(1e-12));
  CHECK(max_stable_lr(no_mult) > 1.01 * max_stable_lr(modes));
}

TEST_CASE("a spectral view refuses what no engine can run, multiplicities included") {
  std::vector<double> lam{1.0, 0.5, 0.25}, rho{1.0, 1.0, 1.0}, mult{1.0, 2.0, 3.0};
  const plrf::SpectrumView good{lam.data(), rho.data(), 3, 0.1, mult.data()};
  CHECK_NOTHROW(good.validate());
  for (double bad : {0.0, -1.0, 2.5, std::nan("")}) {
    mult[1] = bad;
    CHECK_THROWS_WITH_AS(good.validate(), "multiplicity must be an integer >= 1 (index 1)", std::invalid_argument);
  }
  mult[1] = 2.0, lam[2] = 0.75;  // not descending
  CHECK_THROWS_AS(good.validate(), std::invalid_argument);
  lam[2] = 0.25, rho[0] = -1.0;
  CHECK_THROWS_AS(good.validate(), std::invalid_argument);
}
