// The register-blocked inner kernels of plrf::linalg::gemm, written once and compiled for
// AVX-512, AVX2+FMA and the baseline (runtime/isa.hpp). A tile of MR rows by NR = NV * W columns
// of C lives in MR * NV vector registers of W lanes (GCC vector extensions, so one body serves
// every width); each step p broadcasts one packed value of A and multiplies it by NV vectors of
// packed B. Every element of a tile is the sequential sum over p = 0 .. kc-1, whatever the tile
// position, so the result depends on the k-blocking only.
#pragma once
#include <cstdint>

#include "plrf/runtime/isa.hpp"

namespace plrf::linalg {

// A packed block: A as MR-row micro-panels (element (i, p) of panel r at r*MR*kc + p*MR + i),
// B as NR-column micro-panels (element (p, j) of panel q at q*NR*kc + p*NR + j); zero padded.
struct PackedBlock {
  const double* a;
  const double* b;
  std::int64_t m, n, kc;  // valid rows of A, valid columns of B, depth
  // Optional: the packed B the caller multiplies next (`next_doubles` of it), fetched into cache while
  // this block computes. Products that stream B from memory once (linalg/packed_right.hpp) would
  // otherwise stall on each new micro-panel: 1.3x the rate at 64 x 2048 x 2048. Changes no bit.
  const double* next = nullptr;
  std::int64_t next_doubles = 0;
};

// C (row-major, ldc) = or += the product of a packed block.
struct Target {
  double* c;
  std::int64_t ldc;
  bool accumulate;
};

namespace detail {

// Vectors of W doubles: `type` at its natural alignment (packed buffers are 64-byte aligned, so
// loads are never split), `unaligned` for C.
template <int W>
struct Lanes {
  typedef double type __attribute__((vector_size(W * sizeof(double))));
  typedef double unaligned __attribute__((vector_size(W * sizeof(double)), aligned(sizeof(double))));
};

// acc = sum_p a(:, p) b(p, :) for one MR x NR tile, then C = acc or C += acc. Meanwhile the
// `pf_lines` cache lines from `pf` are prefetched, spread evenly over the kc steps.
template <int MR, int NV, int W>
PLRF_ALWAYS_INLINE void micro_tile(std::int64_t kc, const double* a, const double* b, double* c, std::int64_t ldc,
                                   bool accumulate, const double* pf = nullptr, std::int64_t pf_lines = 0) {
  using V = typename Lanes<W>::type;
  using U = typename Lanes<W>::unaligned;
  V acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) acc[i][j] = V{};
  const std::int64_t every = pf_lines > 0 ? (kc / pf_lines > 1 ? kc / pf_lines : 1) : kc + 1;
  std::int64_t line = 0, next_pf = 0;
  for (std::int64_t p = 0; p < kc; ++p, a += MR, b += NV * W) {
    if (p == next_pf && line < pf_lines) {
      __builtin_prefetch(pf + 8 * line++);  // 8 doubles: one 64-byte line
      next_pf += every;
    }
    V bv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) bv[j] = *reinterpret_cast<const V*>(b + j * W);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const V ai = a[i] - V{};  // broadcast (x - 0 is exact, unlike x + 0 for x = -0)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] += ai * bv[j];
    }
  }
  for (; line < pf_lines; ++line) __builtin_prefetch(pf + 8 * line);
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      U* out = reinterpret_cast<U*>(c + i * ldc + j * W);
      *out = accumulate ? *out + acc[i][j] : acc[i][j];
    }
}

// Every tile of a packed block. Edge tiles go through a full-size scratch tile, so they are
// computed by the same instructions as interior ones. The block's `next` B is prefetched in equal
// shares by its row tiles.
template <int MR, int NV, int W>
PLRF_ALWAYS_INLINE void block_body(const PackedBlock& blk, const Target& out) {
  constexpr int NR = NV * W;
  alignas(64) double tile[MR * NR];
  const std::int64_t row_tiles = (blk.m + MR - 1) / MR, next_lines = (blk.next_doubles + 7) / 8;
  const std::int64_t share = (next_lines + row_tiles - 1) / row_tiles;
  for (std::int64_t r = 0; r * MR < blk.m; ++r) {
    const double* a = blk.a + r * MR * blk.kc;
    const std::int64_t rows = blk.m - r * MR < MR ? blk.m - r * MR : MR;
    const std::int64_t first = r * share, lines = next_lines - first < share ? next_lines - first : share;
    const double* pf = blk.next ? blk.next + 8 * first : nullptr;
    for (std::int64_t q = 0; q * NR < blk.n; ++q) {
      const double* b = blk.b + q * NR * blk.kc;
      double* c = out.c + r * MR * out.ldc + q * NR;
      const std::int64_t cols = blk.n - q * NR < NR ? blk.n - q * NR : NR;
      const std::int64_t pf_lines = q == 0 && pf && lines > 0 ? lines : 0;
      if (rows == MR && cols == NR) {
        micro_tile<MR, NV, W>(blk.kc, a, b, c, out.ldc, out.accumulate, pf, pf_lines);
        continue;
      }
      micro_tile<MR, NV, W>(blk.kc, a, b, tile, NR, false, pf, pf_lines);
      for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t j = 0; j < cols; ++j)
          c[i * out.ldc + j] = out.accumulate ? c[i * out.ldc + j] + tile[i * NR + j] : tile[i * NR + j];
    }
  }
}

}  // namespace detail

// The tile shape and k-block depth of each instruction set. The k-block fixes the summation
// order; kc * NR doubles of packed B stream from L2 while the MR x kc panel of A stays in L1.
struct KernelAvx512 {
  static constexpr int MR = 8, NV = 3, W = 8, NR = NV * W, KC = 256;
};
struct KernelAvx2 {
  static constexpr int MR = 6, NV = 2, W = 4, NR = NV * W, KC = 256;
};
struct KernelBaseline {
  static constexpr int MR = 4, NV = 2, W = 2, NR = NV * W, KC = 256;
};

PLRF_TARGET_AVX512 inline void gemm_block_avx512(const PackedBlock& blk, const Target& out) {
  detail::block_body<KernelAvx512::MR, KernelAvx512::NV, KernelAvx512::W>(blk, out);
}
PLRF_TARGET_AVX2 inline void gemm_block_avx2(const PackedBlock& blk, const Target& out) {
  detail::block_body<KernelAvx2::MR, KernelAvx2::NV, KernelAvx2::W>(blk, out);
}
inline void gemm_block_baseline(const PackedBlock& blk, const Target& out) {
  detail::block_body<KernelBaseline::MR, KernelBaseline::NV, KernelBaseline::W>(blk, out);
}

}  // namespace plrf::linalg
