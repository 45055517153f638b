// The exact n-step map of one mode with frozen coefficients (SPEC 5), when R2 is linear in time
// across the block, R2(t0 + i) = R2_0 + slope * i:
//   x(t0 + n) = M^n x(t0) + P0 R2_0 + P1 slope,  P0 = sum_i M^{n-1-i} b,  P1 = sum_i i M^{n-1-i} b,
// with b the forcing per unit R2. General modes use binary powering of (M, P0, P1) (log2 n
// compositions, no inverse of I - M, so no cancellation for tiny lambda); SGD uses the closed
// geometric sums.
#pragma once
#include <cmath>
#include <cstdint>

#include "plrf/exact/moments.hpp"

namespace plrf {
namespace exact {

struct BlockMap {
  Mat3 M;
  Vec3 P0, P1;
  std::int64_t n;
};

// The map of `first` followed by `second`.
inline BlockMap compose(const BlockMap& first, const BlockMap& second) {
  BlockMap r;
  const Mat3& Y = second.M;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j)
      r.M[3 * i + j] = Y[3 * i] * first.M[j] + Y[3 * i + 1] * first.M[3 + j] + Y[3 * i + 2] * first.M[6 + j];
    const double y0 = Y[3 * i] * first.P0[0] + Y[3 * i + 1] * first.P0[1] + Y[3 * i + 2] * first.P0[2];
    const double y1 = Y[3 * i] * first.P1[0] + Y[3 * i + 1] * first.P1[1] + Y[3 * i + 2] * first.P1[2];
    r.P0[i] = y0 + second.P0[i];
    r.P1[i] = y1 + second.P1[i] + static_cast<double>(first.n) * second.P0[i];
  }
  r.n = first.n + second.n;
  return r;
}

inline BlockMap block_map(const StepCoefs& k, double lam, std::int64_t n) {
  BlockMap base{mode_matrix(k, lam), forcing(k, lam), {0.0, 0.0, 0.0}, 1};
  BlockMap acc{{1, 0, 0, 0, 1, 0, 0, 0, 1}, {0, 0, 0}, {0, 0, 0}, 0};
  for (;;) {
    if (n & 1) acc = compose(acc, base);
    n >>= 1;
    if (n == 0) return acc;
    base = compose(base, base);
  }
}

// SGD: a(t0 + n) = E a(t0) + q S0 R2_0 + q S1 slope with E = p^n, S0 = sum_{k<n} p^k,
// S1 = sum_{k<n} (n-1-k) p^k = (n - S0) / (1 - p).
struct SgdBlock {
  double E, S0, S1;
};

// Three regimes by x = n (1 - p): a slow mode (x < 1e-3) uses the binomial series, a mode that has
// relaxed (x > 40, p^n < 1e-17) uses the limits, and only the band in between needs exp/log.
inline SgdBlock sgd_block(const SgdMode& md, std::int64_t n_int) {
  const double u = md.one_minus_p, n = static_cast<double>(n_int), x = n * u;
  SgdBlock b;
  if (std::abs(x) < 1e-3) {
    const double c2 = n * (n - 1) * 0.5, c3 = c2 * (n - 2) * (1.0 / 3), c4 = c3 * (n - 3) * 0.25,
                 c5 = c4 * (n - 4) * 0.2;
    b.E = 1.0 - u * (n - u * (c2 - u * (c3 - u * c4)));
    b.S0 = n - u * (c2 - u * (c3 - u * c4));
    b.S1 = c2 - u * (c3 - u * (c4 - u * c5));
  } else if (x > 40.0 && u < 0.5) {  // (1 - u)^n <= e^{-x}
    const double iu = 1.0 / u;
    b.E = 0.0;
    b.S0 = iu;
    b.S1 = (n - iu) * iu;
  } else {
    const double em1 = std::expm1(n * std::log1p(-u)), iu = 1.0 / u;
    b.E = 1.0 + em1;
    b.S0 = -em1 * iu;
    b.S1 = (n - b.S0) * iu;
  }
  return b;
}

}  // namespace exact
}  // namespace plrf
