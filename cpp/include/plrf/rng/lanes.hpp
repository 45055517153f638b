// W-lane vectors of 64-bit words and doubles (GCC/Clang vector extensions) and the few
// operations plain C++ does not express well: the 32x32->64 multiply (vpmuludq, pmuludq),
// table lookups, interleaving and "is any lane set". One body written over these serves W = 8 (AVX-512),
// 4 (AVX2) and 2 (SSE2 baseline); W = 1 is the portable fallback. The x86 builtins are only
// ever inlined into functions compiled for the matching instruction set (runtime/isa.hpp).
#pragma once
#include <cstdint>
#include <cstring>

#include "plrf/runtime/isa.hpp"

#if PLRF_X86_DISPATCH
#include <immintrin.h>
#endif

// __builtin_shufflevector (shuffles into a wider vector) arrived in GCC 12; Clang always had it.
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define PLRF_SHUFFLEVECTOR 1
#else
#define PLRF_SHUFFLEVECTOR 0
#endif

namespace plrf::rng::lanes {

template <int W>
struct Vec {
  typedef std::uint64_t u64 __attribute__((vector_size(W * 8)));
  typedef double f64 __attribute__((vector_size(W * 8)));
  typedef std::uint64_t u64_unaligned __attribute__((vector_size(W * 8), aligned(8)));
  typedef double f64_unaligned __attribute__((vector_size(W * 8), aligned(8)));
};

template <int W> using U64 = typename Vec<W>::u64;
template <int W> using F64 = typename Vec<W>::f64;

// Lane l = base + l: a broadcast plus a constant (inserting lane by lane chained 8 masked
// broadcasts on AVX-512, a fifth of the generator's time).
template <int W>
PLRF_ALWAYS_INLINE U64<W> iota(std::uint64_t base) {
  U64<W> step;
  for (int l = 0; l < W; ++l) step[l] = static_cast<std::uint64_t>(l);
  return (U64<W>{} + base) + step;
}

// The full 64-bit product of the low 32 bits of each lane.
template <int W>
PLRF_ALWAYS_INLINE U64<W> mul32(U64<W> a, U64<W> b) {
#if PLRF_X86_DISPATCH && !defined(__clang__)
  typedef int i32x16 __attribute__((vector_size(64)));
  typedef int i32x8 __attribute__((vector_size(32)));
  typedef int i32x4 __attribute__((vector_size(16)));
  typedef long long i64x8 __attribute__((vector_size(64)));
  if constexpr (W == 8)
    return (U64<W>)__builtin_ia32_pmuludq512_mask((i32x16)a, (i32x16)b, (i64x8){}, 0xff);
  else if constexpr (W == 4)
    return (U64<W>)__builtin_ia32_pmuludq256((i32x8)a, (i32x8)b);
  else if constexpr (W == 2)
    return (U64<W>)__builtin_ia32_pmuludq128((i32x4)a, (i32x4)b);
#endif
  // Clang turns this into vpmuludq by itself; GCC makes a 64x64 multiply of it.
  return (a & 0xffffffffULL) * (b & 0xffffffffULL);
}

template <int W>
PLRF_ALWAYS_INLINE U64<W> load(const std::uint64_t* p) {
  return *reinterpret_cast<const typename Vec<W>::u64_unaligned*>(p);
}
template <int W>
PLRF_ALWAYS_INLINE void store(std::uint64_t* p, U64<W> v) {
  *reinterpret_cast<typename Vec<W>::u64_unaligned*>(p) = v;
}
template <int W>
PLRF_ALWAYS_INLINE void store(double* p, F64<W> v) {
  *reinterpret_cast<typename Vec<W>::f64_unaligned*>(p) = v;
}

// first = table[i], second = table[i + 1] for i = index[l] in lane l. AVX-512 loads the
// 16-byte pairs and sorts them with shuffles; narrower widths load lane by lane. Both beat
// vgatherqpd here (AMD Zen 4), whose merge into its destination register also chained the
// iterations.
template <int W>
PLRF_ALWAYS_INLINE void lookup_pairs(const double* table, U64<W> index, F64<W>& first, F64<W>& second) {
  if constexpr (W == 8 && PLRF_SHUFFLEVECTOR) {
    typedef double f64x2 __attribute__((vector_size(16)));
    typedef double f64x4 __attribute__((vector_size(32)));
    f64x2 p[8];
    for (int l = 0; l < 8; ++l) std::memcpy(&p[l], table + index[l], sizeof p[l]);
    const f64x4 q0 = __builtin_shufflevector(p[0], p[1], 0, 1, 2, 3), q1 = __builtin_shufflevector(p[2], p[3], 0, 1, 2, 3),
                q2 = __builtin_shufflevector(p[4], p[5], 0, 1, 2, 3), q3 = __builtin_shufflevector(p[6], p[7], 0, 1, 2, 3);
    const F64<8> r0 = __builtin_shufflevector(q0, q1, 0, 1, 2, 3, 4, 5, 6, 7),
                 r1 = __builtin_shufflevector(q2, q3, 0, 1, 2, 3, 4, 5, 6, 7);
    first = __builtin_shufflevector(r0, r1, 0, 2, 4, 6, 8, 10, 12, 14);
    second = __builtin_shufflevector(r0, r1, 1, 3, 5, 7, 9, 11, 13, 15);
  } else if constexpr (W == 4 && PLRF_SHUFFLEVECTOR) {
    typedef double f64x2 __attribute__((vector_size(16)));
    f64x2 p[4];
    for (int l = 0; l < 4; ++l) std::memcpy(&p[l], table + index[l], sizeof p[l]);
    // (p0, p2) and (p1, p3), then the even and odd elements of each 128-bit half (vunpck*pd).
    const F64<4> q0 = __builtin_shufflevector(p[0], p[2], 0, 1, 2, 3), q1 = __builtin_shufflevector(p[1], p[3], 0, 1, 2, 3);
    first = __builtin_shufflevector(q0, q1, 0, 4, 2, 6);
    second = __builtin_shufflevector(q0, q1, 1, 5, 3, 7);
  } else {
    double a[W], b[W];
    for (int l = 0; l < W; ++l) {
      a[l] = table[index[l]];
      b[l] = table[index[l] + 1];
    }
    std::memcpy(&first, a, sizeof a);
    std::memcpy(&second, b, sizeof b);
  }
}

// True if any lane is non-zero.
template <int W>
PLRF_ALWAYS_INLINE bool any(U64<W> v) {
#if PLRF_X86_DISPATCH && !defined(__clang__)
  typedef long long i64x8 __attribute__((vector_size(64)));
  typedef long long i64x4 __attribute__((vector_size(32)));
  if constexpr (W == 8)
    return __builtin_ia32_ptestmq512((i64x8)v, (i64x8)v, 0xff) != 0;
  else if constexpr (W == 4)
    return !__builtin_ia32_ptestz256((i64x4)v, (i64x4)v);
#endif
  std::uint64_t acc = 0;
  for (int l = 0; l < W; ++l) acc |= v[l];
  return acc != 0;
}

// Lanes of a and b taken alternately, (a0, b0, a1, b1, ...), into out[0 .. 2W).
template <int W>
PLRF_ALWAYS_INLINE void store_interleaved(std::uint64_t* out, U64<W> a, U64<W> b) {
#if PLRF_SHUFFLEVECTOR
  if constexpr (W == 8) {
    store<8>(out, __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11));
    store<8>(out + 8, __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15));
    return;
  } else if constexpr (W == 4) {
    store<4>(out, __builtin_shufflevector(a, b, 0, 4, 1, 5));
    store<4>(out + 4, __builtin_shufflevector(a, b, 2, 6, 3, 7));
    return;
  }
#endif
  for (int l = 0; l < W; ++l) {
    out[2 * l] = a[l];
    out[2 * l + 1] = b[l];
  }
}

}  // namespace plrf::rng::lanes
