// The fast eigen sampler's O(d) work in one pass per step, compiled per instruction set.
//
// Step t needs a . xi_t (a = Lambda^{1/2} e, eigen_sampler.hpp) before it can update any
// coordinate, so drawing xi_t and updating in one pass is impossible. But xi_{t+1} does not depend
// on the state: the pass of step t updates coordinate j with xi_t[j] (kept from the previous
// pass), draws xi_{t+1}[j] over it (a group of 32 normals at a time, while in L1) and accumulates
// a_{t+1} . xi_{t+1} and |a_{t+1}|^2 from the fresh e[j]. A step then reads and writes each
// d-vector once, and the normals never travel to memory and back before use. The first step of a
// stepper (a run or a resume) "primes": it draws xi_t and the dot in a pass of its own.
//
// Bitwise reproducibility across pauses: the dot and the energy are sums in 8 lanes (lane j mod 8,
// in increasing j, lanes combined pairwise), every pass (priming, energy, fused) forms them with
// the one function chunk_sums, and its multiply-adds are explicit: fused (one rounding) where the
// instruction set has FMA, unfused on the SSE2 baseline. Left to the compiler, it contracted them
// in some passes and not others, and a resumed run differed in the last bit.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "plrf/rng/normal.hpp"
#include "plrf/simulate/state.hpp"

namespace plrf::simulate::fused {

// One step's data: gradient g_j = sl_j (a_j coef_e + xi_j coef_xi), a_j = sl_j e_j.
struct FastPass {
  const double* sl;  // Lambda^{1/2}
  double* e;
  double* y;
  double* xi;        // in: xi_t; out: xi_{t+1}
  std::int64_t d;
  double coef_e, coef_xi;
};

PLRF_ALWAYS_INLINE double a_of(double sl, double e) { return sl * e; }

// The sums' 8 lanes (lane j mod 8) held in vectors of the instruction set's width V.
template <int W>
struct Sums {
  static constexpr int V = W >= 8 ? 8 : W >= 4 ? 4 : 2;
  using F = rng::lanes::F64<V>;
  F energy[8 / V] = {}, dot[8 / V] = {};
};

// acc + x y in each lane: one rounding where the instruction set has FMA (explicitly: left to
// the compiler, it fused them in some passes and not others), two on the SSE2 baseline.
template <int V>
PLRF_ALWAYS_INLINE rng::lanes::F64<V> madd(rng::lanes::F64<V> x, rng::lanes::F64<V> y, rng::lanes::F64<V> acc) {
#if PLRF_X86_DISPATCH && !defined(__clang__)
  if constexpr (V == 8) return __builtin_ia32_vfmaddpd512_mask(x, y, acc, 0xff, 4);
  if constexpr (V == 4) return __builtin_ia32_vfmaddpd256(x, y, acc);
#endif
  return acc + x * y;
}

// Adds a_j^2 and a_j xi_j, j in [0, 32), to lane j mod 8.
template <int W>
PLRF_ALWAYS_INLINE void group_sums(const double* sl, const double* e, const double* xi, Sums<W>& sums) {
  constexpr int V = Sums<W>::V;
  using F = typename Sums<W>::F;
  for (int k = 0; k < 32; k += V) {
    F s, ev, x;
    std::memcpy(&s, sl + k, sizeof s);
    std::memcpy(&ev, e + k, sizeof ev);
    std::memcpy(&x, xi + k, sizeof x);
    const F a = s * ev;
    const int h = (k % 8) / V;
    sums.energy[h] = madd<V>(a, a, sums.energy[h]);
    sums.dot[h] = madd<V>(a, x, sums.dot[h]);
  }
}

// The same for [j0, j0 + n), n <= 32, j0 a multiple of 32: a short last group is padded with
// zeros, which add exact zeros.
template <int W>
PLRF_ALWAYS_INLINE void chunk_sums(const FastPass& p, std::int64_t j0, std::int64_t n, Sums<W>& sums) {
  if (n == 32) return group_sums<W>(p.sl + j0, p.e + j0, p.xi + j0, sums);
  alignas(64) double sl[32] = {}, e[32] = {}, xi[32] = {};
  for (std::int64_t k = 0; k < n; ++k) {
    sl[k] = p.sl[j0 + k];
    e[k] = p.e[j0 + k];
    xi[k] = p.xi[j0 + k];
  }
  group_sums<W>(sl, e, xi, sums);
}

// The 8 lanes combined pairwise.
template <class F, int N>
PLRF_ALWAYS_INLINE double total(const F (&v)[N]) {
  double l[8];
  std::memcpy(l, v, sizeof l);
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

// Both sums over all coordinates, by chunks of 32 like the fused pass.
template <int W>
PLRF_ALWAYS_INLINE void all_sums(const FastPass& p, double& energy, double& dot) {
  Sums<W> sums;
  for (std::int64_t j0 = 0; j0 < p.d; j0 += 32) chunk_sums<W>(p, j0, std::min<std::int64_t>(32, p.d - j0), sums);
  energy = total(sums.energy);
  dot = total(sums.dot);
}

// Coordinates [j0, j0 + n) of the fused pass, n <= 32: update e_j (and y_j) with xi_t[j]. The
// caller then overwrites xi_t[j] with xi_{t+1}[j]. Restrict pointers and local coefficients: the
// arrays never overlap, and saying so lets the loop vectorise.
template <bool kSgd>
PLRF_ALWAYS_INLINE void fused_coords(const FastPass& p, const MomentumStep& u, std::int64_t j0, std::int64_t n) {
  const double* __restrict sl = p.sl + j0;
  double* __restrict e = p.e + j0;
  double* __restrict y = p.y + j0;
  const double* __restrict xi = p.xi + j0;
  const double ce = p.coef_e, cx = p.coef_xi, m = u.m, g1 = u.gamma1, g2 = u.gamma2, g3 = u.gamma3;
  auto coord = [&](std::int64_t k) {
    const double g = sl[k] * (a_of(sl[k], e[k]) * ce + xi[k] * cx);
    if constexpr (kSgd) {
      e[k] = e[k] - g2 * g;
    } else {
      const double yk = m * y[k] + g1 * g;
      y[k] = yk;
      e[k] = e[k] - g2 * g - g3 * yk;
    }
  };
  if (n == 32) {  // the usual case, with a constant trip count
    for (int k = 0; k < 32; ++k) coord(k);
  } else {
    for (std::int64_t k = 0; k < n; ++k) coord(k);
  }
}

// The update of step t with xi_t, drawing xi_{t+1} on the way: returns (|a|^2, a . xi_{t+1}).
template <int W, bool kSgd>
PLRF_ALWAYS_INLINE void fused_body(const FastPass& p, const MomentumStep& u, rng::StreamKey key, std::uint64_t next,
                                   double& energy, double& dot) {
  const rng::detail::NormalStream s(key, next);
  Sums<W> sums;
  const auto group = static_cast<std::int64_t>(rng::kGroupNormals);
  for (std::int64_t j0 = 0; j0 < p.d; j0 += group) {
    const std::int64_t n = std::min(group, p.d - j0);
    fused_coords<kSgd>(p, u, j0, n);
    const auto g = static_cast<std::uint64_t>(j0 / group);
    if (W == 8 && n == group && p.d - j0 >= 2 * group) {  // AVX-512: two groups interleave (normal.hpp)
      fused_coords<kSgd>(p, u, j0 + group, group);
      rng::detail::normal_two_groups<W>(s, g, p.xi + j0);
      chunk_sums<W>(p, j0, group, sums);
      j0 += group;
    } else if (n == group) {  // xi_t[j] is used: draw xi_{t+1} over it, with no copy through a buffer
      rng::detail::normal_group<W>(s, g, p.xi + j0);
    } else {  // the short last group
      rng::detail::normals_from<W>(s, static_cast<std::uint64_t>(j0), static_cast<std::size_t>(n), p.xi + j0);
    }
    chunk_sums<W>(p, j0, n, sums);
  }
  energy = total(sums.energy);
  dot = total(sums.dot);
}

// Priming: xi_t into p.xi and a . xi_t.
template <int W>
PLRF_ALWAYS_INLINE double prime_body(const FastPass& p, rng::StreamKey key, std::uint64_t t) {
  rng::detail::normals_body<W>(key, t, 0, static_cast<std::size_t>(p.d), p.xi);
  double energy, dot;
  all_sums<W>(p, energy, dot);
  return dot;
}

// |a|^2 of the current e (p.xi only needs to be readable).
template <int W>
PLRF_ALWAYS_INLINE double energy_body(const FastPass& p) {
  double energy, dot;
  all_sums<W>(p, energy, dot);
  return energy;
}

// The three passes as kernels for on_isa (runtime/isa.hpp).
struct FusedPass {
  template <int W>
  PLRF_ALWAYS_INLINE static void run(const FastPass& p, const MomentumStep& u, rng::StreamKey key, std::uint64_t next,
                                     double& energy, double& dot) {
    if (u.sgd)
      fused_body<W, true>(p, u, key, next, energy, dot);
    else
      fused_body<W, false>(p, u, key, next, energy, dot);
  }
};
struct PrimePass {
  template <int W>
  PLRF_ALWAYS_INLINE static double run(const FastPass& p, rng::StreamKey key, std::uint64_t t) {
    return prime_body<W>(p, key, t);
  }
};
struct EnergyPass {
  template <int W>
  PLRF_ALWAYS_INLINE static double run(const FastPass& p) {
    return energy_body<W>(p);
  }
};

// The passes on instruction set `on` (the same one for a whole run: isa(); tests compare them).
inline void fused_on(Isa on, const FastPass& p, const MomentumStep& u, rng::StreamKey key, std::uint64_t next,
                     double& energy, double& dot) {
  on_isa<FusedPass>(on, p, u, key, next, energy, dot);
}
inline double prime_on(Isa on, const FastPass& p, rng::StreamKey key, std::uint64_t t) {
  return on_isa<PrimePass>(on, p, key, t);
}
inline double energy_on(Isa on, const FastPass& p) { return on_isa<EnergyPass>(on, p); }

inline void fused(const FastPass& p, const MomentumStep& u, rng::StreamKey key, std::uint64_t next, double& energy,
                  double& dot) {
  fused_on(isa(), p, u, key, next, energy, dot);
}
inline double prime(const FastPass& p, rng::StreamKey key, std::uint64_t t) { return prime_on(isa(), p, key, t); }
inline double energy(const FastPass& p) { return energy_on(isa(), p); }

}  // namespace plrf::simulate::fused
