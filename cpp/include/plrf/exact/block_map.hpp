// The exact n-step map of one mode with frozen coefficients (docs/theory.md §5), when R2 is linear in time
// across the block, R2(t0 + i) = R2_0 + slope * i:
//   x(t0 + n) = M^n x(t0) + P0 R2_0 + P1 slope,  P0 = sum_i M^{n-1-i} b,  P1 = sum_i i M^{n-1-i} b,
// with b the forcing per unit R2. General modes use binary powering of (M, P0, P1) (log2 n
// compositions, no inverse of I - M, so no cancellation for tiny lambda), L modes per pass;
// SGD uses the closed geometric sums.
#pragma once
#include <cmath>
#include <cstdint>
#include <utility>

#include "plrf/runtime/isa.hpp"
#include "plrf/exact/moments.hpp"

namespace plrf::exact {

// The n-step maps of L modes at once, lane-minor (structure of arrays) so that every compose loop
// runs over the L lanes and vectorises. All lanes share n, so they share the powering pattern.
template <int L>
struct BlockMaps {
  double M[9][L], P0[3][L], P1[3][L];
};

// r = the map of `first` (n_first steps) followed by `second`.
template <int L>
PLRF_ALWAYS_INLINE void compose(const BlockMaps<L>& first, double n_first, const BlockMaps<L>& second,
                                BlockMaps<L>& __restrict r) {  // r aliases neither input
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j)
      for (int l = 0; l < L; ++l)
        r.M[3 * i + j][l] = second.M[3 * i][l] * first.M[j][l] + second.M[3 * i + 1][l] * first.M[3 + j][l] +
                            second.M[3 * i + 2][l] * first.M[6 + j][l];
    for (int l = 0; l < L; ++l) {
      const double y0 = second.M[3 * i][l] * first.P0[0][l] + second.M[3 * i + 1][l] * first.P0[1][l] +
                        second.M[3 * i + 2][l] * first.P0[2][l];
      const double y1 = second.M[3 * i][l] * first.P1[0][l] + second.M[3 * i + 1][l] * first.P1[1][l] +
                        second.M[3 * i + 2][l] * first.P1[2][l];
      r.P0[i][l] = y0 + second.P0[i][l];
      r.P1[i][l] = y1 + second.P1[i][l] + n_first * second.P0[i][l];
    }
  }
}

// The one-step maps of modes lam[0..L): M from `mode_matrix`, forcing from `forcing`, P1 = 0.
template <int L>
PLRF_ALWAYS_INLINE void one_step_maps(const StepCoefs& k, const double* lam, BlockMaps<L>& out) {
  for (int l = 0; l < L; ++l) {
    const Mat3 M = mode_matrix(k, lam[l]);
    const Vec3 f = forcing(k, lam[l]);
    for (int e = 0; e < 9; ++e) out.M[e][l] = M[e];
    for (int i = 0; i < 3; ++i) out.P0[i][l] = f[i], out.P1[i][l] = 0.0;
  }
}

// The n-step maps (n >= 1) of modes lam[0..L) by binary powering: the powers of the one-step map
// are composed in the order of the bits of n (low bits first, i.e. earliest steps first).
template <int L>
PLRF_ALWAYS_INLINE void block_maps(const StepCoefs& k, const double* lam, std::int64_t n, BlockMaps<L>& out) {
  BlockMaps<L> b0, b1, spare_out;
  BlockMaps<L>*base = &b0, *base_next = &b1, *acc = &out, *acc_next = &spare_out;  // ping-pong, no copies
  one_step_maps<L>(k, lam, *base);
  std::int64_t n_base = 1, n_acc = 0;
  for (;;) {
    if (n & 1) {
      if (n_acc == 0) {
        *acc = *base;
      } else {
        compose<L>(*acc, static_cast<double>(n_acc), *base, *acc_next);
        std::swap(acc, acc_next);
      }
      n_acc += n_base;
    }
    n >>= 1;
    if (n == 0) break;
    compose<L>(*base, static_cast<double>(n_base), *base, *base_next);
    std::swap(base, base_next);
    n_base *= 2;
  }
  if (acc != &out) out = *acc;
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

// SGD through a head of n1 steps (mode m1) then a tail of n2 >= 0 steps (mode m2), as one map
// a -> E a + P0 R2_0 + P1 slope (the composition rule of `compose`, with the forcing q folded in).
struct SgdMap {
  double E, P0, P1;
};

inline SgdMap sgd_map(const SgdMode& m, std::int64_t n) {
  const SgdBlock b = sgd_block(m, n);
  return {b.E, m.q * b.S0, m.q * b.S1};
}

inline SgdMap sgd_map(const SgdMode& m1, std::int64_t n1, const SgdMode& m2, std::int64_t n2) {
  if (n2 == 0) return sgd_map(m1, n1);
  const SgdBlock b1 = sgd_block(m1, n1);
  const SgdBlock b2 = sgd_block(m2, n2);
  return {b2.E * b1.E, b2.E * m1.q * b1.S0 + m2.q * b2.S0,
          b2.E * m1.q * b1.S1 + m2.q * (b2.S1 + static_cast<double>(n1) * b2.S0)};
}

}  // namespace plrf::exact
