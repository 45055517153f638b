// Advancing a range of modes of the general (momentum) family through one block of the fast
// solver: x <- M^n (x + pending P1_old) + P0 R2_0, keeping the new P1 for the slope correction.
// A split block (fast.hpp split_tail) is the composition of a head and a tail map; with stationary
// coefficients the maps come from the cached power-of-two levels (block_levels.hpp), whose missing
// groups the same pass builds first.
// This is the solver's hot loop (a 3x3 binary powering per mode), so it runs L modes per pass and
// is compiled for each instruction set (runtime/isa.hpp).
#pragma once
#include <algorithm>
#include <cstdint>

#include "plrf/runtime/isa.hpp"
#include "plrf/exact/block_levels.hpp"
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
  double* const* levels = nullptr;      // stationary coefficients: the levels (block_levels.hpp)
  int build_from = 0, build_to = -1;    // the levels this pass builds first (none if to < from)
  std::int64_t d = 0;                   // number of modes (pads the last group of a level)
};

// x <- M (x + pending P1_old) + m P0 R2 and P1 <- m P1 on modes j .. j+count-1 (m: multiplicity).
// Every load is done before any store, into lane arrays, so the loops vectorise (the state arrays
// are distinct, but pointers in a struct do not say so).
template <int L>
PLRF_ALWAYS_INLINE void apply_maps(const BlockPass& b, const BlockMaps<L>& maps, std::int64_t j, int count) {
  double x0[3][L], m[L], xn[3][L], pn[3][L];
  auto load = [&](int l, std::int64_t jl) {
    m[l] = b.mult ? b.mult[jl] : 1.0;  // P0, P1 are linear in the forcing (docs/theory.md §10)
    for (int i = 0; i < 3; ++i) x0[i][l] = b.x[i][jl] + b.pending * b.p1[i][jl];
  };
  if (count == L) {  // constant trip counts (here and below) make vector loads and stores
    for (int l = 0; l < L; ++l) load(l, j + l);
  } else {
    for (int l = 0; l < L; ++l) load(l, j + std::min(l, count - 1));  // a short group repeats its last mode
  }
  for (int i = 0; i < 3; ++i)
    for (int l = 0; l < L; ++l) {
      xn[i][l] = maps.M[3 * i][l] * x0[0][l] + maps.M[3 * i + 1][l] * x0[1][l] + maps.M[3 * i + 2][l] * x0[2][l] +
                 m[l] * maps.P0[i][l] * b.R2;
      pn[i][l] = m[l] * maps.P1[i][l];
    }
  if (count == L) {  // a variable trip count became rep movsq
    for (int i = 0; i < 3; ++i)
      for (int l = 0; l < L; ++l) b.x[i][j + l] = xn[i][l], b.p1[i][j + l] = pn[i][l];
  } else {
    for (int i = 0; i < 3; ++i)
      for (int l = 0; l < count; ++l) b.x[i][j + l] = xn[i][l], b.p1[i][j + l] = pn[i][l];
  }
}

// Stationary coefficients: build the pass's new levels on [j0, j1), then apply the cached maps.
template <int L>
PLRF_ALWAYS_INLINE void cached_body(const BlockPass& b, std::int64_t j0, std::int64_t j1) {
  for (int level = b.build_from; level <= b.build_to; ++level)
    build_level<L>(b.k, b.lam, b.d, b.levels, level, j0 / L, (j1 + L - 1) / L);
  BlockMaps<L> scratch[2];
  for (std::int64_t j = j0; j < j1; j += L)
    apply_maps<L>(b, *maps_from_levels<L>(b.levels, b.n, j / L, scratch), j,
                  static_cast<int>(std::min<std::int64_t>(L, j1 - j)));
}

template <int L>
PLRF_ALWAYS_INLINE void propagate_body(const BlockPass& b, std::int64_t j0, std::int64_t j1) {
  if (b.levels) return cached_body<L>(b, j0, j1);
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
    apply_maps<L>(b, maps, j, count);
  }
}

// One vector register of modes per lane group: 8 for AVX-512, 4 for AVX2, 2 for SSE2 (measured
// best; wider groups spill registers).
struct Propagate {
  template <int W>
  PLRF_ALWAYS_INLINE static void run(const BlockPass& b, std::int64_t j0, std::int64_t j1) {
    propagate_body<W>(b, j0, j1);
  }
};

// The modes per group of the pass on this machine (the levels are stored in these groups).
inline int propagate_lanes() { return lanes_of(isa()); }

inline void propagate_on(Isa on, const BlockPass& b, std::int64_t j0, std::int64_t j1) {
  on_isa<Propagate>(on, b, j0, j1);
}
inline void propagate(const BlockPass& b, std::int64_t j0, std::int64_t j1) { propagate_on(isa(), b, j0, j1); }

}  // namespace plrf::exact
