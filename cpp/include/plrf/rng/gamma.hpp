// Gamma and chi-square variates (Marsaglia & Tsang 2000), addressed like every other draw:
// variate number `index` of (key, step) reads only the private extra words of that index
// (ExtraWords), so it never collides with the main words used by fill_normals/fill_uniforms
// as long as callers give scalar draws their own stream (kScalars).
#pragma once
#include <cmath>
#include <cstdint>

#include "plrf/rng/ziggurat.hpp"

namespace plrf::rng {

// A standard normal read from a sequence of extra words (the full ziggurat, slow path included).
inline double normal_from(ExtraWords& words) { return detail::ziggurat_slow(words.next(), words); }

// Gamma(shape, scale 1). shape >= 1: Marsaglia-Tsang squeeze/rejection; shape in (0, 1):
// Gamma(k) = Gamma(k + 1) * U^(1/k); shape == 0: the point mass at 0.
inline double gamma_from(double shape, ExtraWords& words) {
  if (shape <= 0.0) return 0.0;
  if (shape < 1.0) {
    const double g = gamma_from(shape + 1.0, words);
    return g * std::pow(words.unit_open0(), 1.0 / shape);
  }
  const double dd = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * dd);
  for (;;) {
    double x, v;
    do {
      x = normal_from(words);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = words.unit_open0();
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return dd * v;
    if (std::log(u) < 0.5 * x2 + dd * (1.0 - v + std::log(v))) return dd * v;
  }
}

// Chi-square with k >= 0 degrees of freedom: variate `index` of (key, step).
inline double chi_square(double k, StreamKey key, std::uint64_t step, std::uint64_t index) {
  ExtraWords words(key, step, index);
  return 2.0 * gamma_from(0.5 * k, words);
}

// Standard normal: variate `index` of (key, step), from the same private words.
inline double scalar_normal(StreamKey key, std::uint64_t step, std::uint64_t index) {
  ExtraWords words(key, step, index);
  return normal_from(words);
}

}  // namespace plrf::rng
