// DP-SGD's clipping and noise (simulate/clip_step.hpp) and its knobs (optim/update_knobs.hpp).
#include <doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "plrf/rng/normal.hpp"
#include "plrf/simulate/clip_step.hpp"

using plrf::UpdateKnobs;
using plrf::simulate::ClipStep;

TEST_CASE("clipping is off by default and its knobs are checked") {
  UpdateKnobs k;
  CHECK_FALSE(k.clips());
  CHECK_FALSE(ClipStep(k, 4).on);
  k.clip = 0.0;
  CHECK_THROWS_AS(k.validate(), std::invalid_argument);
  k.clip = 1.0, k.clip_noise = -1.0;
  CHECK_THROWS_AS(k.validate(), std::invalid_argument);
  k.clip = std::numeric_limits<double>::infinity(), k.clip_noise = 1.0;  // noise s C undefined at C = oo
  CHECK_THROWS_AS(k.validate(), std::invalid_argument);
}

TEST_CASE("a gradient is clipped to norm C, and one below C is left alone (factor exactly 1)") {
  UpdateKnobs k;
  k.clip = 2.0;
  const ClipStep c(k, 3);
  CHECK(c.factor(16.0) == doctest::Approx(0.5));  // norm 4 -> 2
  CHECK(c.factor(4.0) == 1.0);
  CHECK(c.factor(1.0) == 1.0);
}

TEST_CASE("the noise s C zeta is normal j of (seed, kClipNoise) at step t, added to the batch sum") {
  UpdateKnobs k;
  k.clip = 2.0, k.clip_noise = 0.5;
  ClipStep c(k, 3);
  std::vector<double> g{1.0, 2.0, 3.0}, zeta(3);
  c.add_noise(7, 11, g.data());
  plrf::rng::fill_normals({7, plrf::rng::kClipNoise}, 11, 0, 3, zeta.data());
  for (int j = 0; j < 3; ++j) CHECK(g[j] == 1.0 + j + 1.0 * zeta[j]);
  UpdateKnobs quiet;
  quiet.clip = 2.0;  // no noise: nothing is drawn or added
  std::vector<double> h{1.0, 2.0, 3.0};
  ClipStep(quiet, 3).add_noise(7, 11, h.data());
  CHECK(h == std::vector<double>{1.0, 2.0, 3.0});
}
