// The PLRF least-squares problem (docs/theory.md §1): data variances D_j = j^{-2 alpha}, target
// b_j = j^{-beta}, and random features W (v x d, entries N(0, 1/d)) drawn from the seed.
// W is addressed entry by entry, so any block of rows can be regenerated on demand and W never
// has to be stored whole.
#pragma once
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "plrf/runtime/parallel.hpp"
#include "plrf/rng/normal.hpp"
#include "plrf/runtime/format.hpp"

namespace plrf {

struct PlrfParams {
  double alpha = 1.0;
  double beta = 0.5;
  std::int64_t v = 0;
  std::int64_t d = 0;
  std::uint64_t seed = 0;

  void validate() const {
    if (!std::isfinite(alpha) || alpha <= 0) throw std::invalid_argument("alpha must be finite and > 0, got " + format_number(alpha));
    if (!std::isfinite(beta)) throw std::invalid_argument("beta must be finite, got " + format_number(beta));
    if (d < 1) throw std::invalid_argument("d must be >= 1, got " + std::to_string(d));
    if (v < d) throw std::invalid_argument("v must be >= d, got v=" + std::to_string(v) + " d=" + std::to_string(d));
  }
};

// D_j for 0-based row j (the spec's j + 1).
inline double data_variance(double alpha, std::int64_t j) { return std::pow(static_cast<double>(j + 1), -2.0 * alpha); }
// b_j for 0-based row j.
inline double target_weight(double beta, std::int64_t j) { return std::pow(static_cast<double>(j + 1), -beta); }

// Rows row0 .. row0+nrows-1 of W, row-major into out (nrows x d). Entry (j, k) is normal number
// j*d + k of the feature stream, scaled by 1/sqrt(d): bitwise the same for any blocking.
inline void feature_rows(std::uint64_t seed, std::int64_t d, std::int64_t row0, std::int64_t nrows, double* out,
                         int threads = 1) {
  const rng::StreamKey key{seed, rng::kFeatures};
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  parallel_for(nrows, threads, [&](std::int64_t r) {
    double* row = out + r * d;
    rng::fill_normals(key, 0, static_cast<std::uint64_t>((row0 + r) * d), static_cast<std::size_t>(d), row);
    for (std::int64_t k = 0; k < d; ++k) row[k] *= scale;
  });
}

}  // namespace plrf
