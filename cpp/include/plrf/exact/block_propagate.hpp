// Advancing a range of modes of the general (momentum) family through one block of the fast
// solver: x <- M^n (x + pending P1_old) + P0 R2_0, keeping the new P1 for the slope correction.
// A split block (fast.hpp split_tail) is the composition of a head and a tail map.
// This is the solver's hot loop (a 3x3 binary powering per mode), so it runs L modes per pass and
// is compiled for each instruction set (runtime/isa.hpp).
#pragma once
#include <algorithm>
#include <cstdint>

#include "plrf/runtime/isa.hpp"
#include "plrf/exact/block_map.hpp"

namespace plrf::exact {

struct BlockPass {
  StepCoefs k;       // coefficients frozen for the block (its head, if split)
  std::int64_t n;    // block length (of the head, if split)
  double pending;    // slope of the previous block, not yet applied to x
  double R2;         // R2 at the block start
  const double* lam;
  double* x[3];      // (a, s, c) per mode
  double* p1[3];     // P1 per mode: read as the previous block's, written as this block's
  const double* mult = nullptr;  // node multiplicities (nullptr: all 1); they scale the forcing
  const StepCoefs* k_tail = nullptr;  // coefficients of the tail sub-block (fast.hpp split_tail)
  std::int64_t n_tail = 0;            // tail length, 0 for an unsplit block
};

template <int L>
PLRF_ALWAYS_INLINE void propagate_body(const BlockPass& b, std::int64_t j0, std::int64_t j1) {
  BlockMaps<L> maps;
  double lam[L];
  for (std::int64_t j = j0; j < j1; j += L) {
    const int count = static_cast<int>(std::min<std::int64_t>(L, j1 - j));
    for (int l = 0; l < L; ++l) lam[l] = b.lam[j + std::min(l, count - 1)];  // pad with a real mode
    if (b.n_tail > 0) {  // head then tail, each with its own frozen coefficients
      BlockMaps<L> head, tail;
      block_maps<L>(b.k, lam, b.n, head);
      block_maps<L>(*b.k_tail, lam, b.n_tail, tail);
      compose<L>(head, static_cast<double>(b.n), tail, maps);
    } else {
      block_maps<L>(b.k, lam, b.n, maps);
    }
    for (int l = 0; l < count; ++l) {
      const double m = b.mult ? b.mult[j + l] : 1.0;  // P0, P1 are linear in the forcing (docs/theory.md §10)
      double x0[3];
      for (int i = 0; i < 3; ++i) x0[i] = b.x[i][j + l] + b.pending * b.p1[i][j + l];
      for (int i = 0; i < 3; ++i) {
        b.x[i][j + l] = maps.M[3 * i][l] * x0[0] + maps.M[3 * i + 1][l] * x0[1] + maps.M[3 * i + 2][l] * x0[2] +
                        m * maps.P0[i][l] * b.R2;
        b.p1[i][j + l] = m * maps.P1[i][l];
      }
    }
  }
}

// One vector register of modes per lane group: 8 for AVX-512, 4 for AVX2, 2 for SSE2 (measured
// best; wider groups spill registers).
PLRF_TARGET_AVX512 inline void propagate_avx512(const BlockPass& b, std::int64_t j0, std::int64_t j1) {
  propagate_body<8>(b, j0, j1);
}
PLRF_TARGET_AVX2 inline void propagate_avx2(const BlockPass& b, std::int64_t j0, std::int64_t j1) {
  propagate_body<4>(b, j0, j1);
}
inline void propagate_baseline(const BlockPass& b, std::int64_t j0, std::int64_t j1) { propagate_body<2>(b, j0, j1); }

inline void propagate(const BlockPass& b, std::int64_t j0, std::int64_t j1) {
  switch (isa()) {
    case Isa::kAvx512: return propagate_avx512(b, j0, j1);
    case Isa::kAvx2: return propagate_avx2(b, j0, j1);
    default: return propagate_baseline(b, j0, j1);
  }
}

}  // namespace plrf::exact
