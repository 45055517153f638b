// The block solver's n-step maps when no coefficient moves: built once per power of two.
//
// With every schedule constant (SGD with momentum, heavy ball) a block of n steps has the same
// map (M^n, P0, P1) per mode wherever it starts: only R2 changes, and it enters linearly
// (block_map.hpp). block_maps rebuilds that map in every block with ~2 log2 n compositions per
// mode, which is most of a momentum run's cost (a mixture of 100 experts at d = 1e4 to T = 1e8
// took 23 s, each expert ~13 compositions per mode per block). Here level k, the map of 2^k steps,
// is one composition of level k - 1 with itself, made the first time a block needs it; a block is
// then the composition of the levels of n's set bits, low bits first, which is exactly what
// block_maps computes, so the maps are bitwise the same. fast.hpp rounds such blocks down to a
// power of two (all but the one that ends at a record), so a block costs no composition at all:
// measured on SGD-M at d = 1e4 to T = 1e8, rounding to n's top two bits (one composition in half
// the blocks) was slower than the ~20% more blocks that powers of two take.
//
// Levels live in the propagate pass's groups of L modes (block_propagate.hpp). They cost 120 bytes
// per mode each; past a memory budget the lowest levels are dropped, and a block
// that needs a dropped level (the exact remainder before a record) is powered from scratch.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "plrf/exact/block_map.hpp"

namespace plrf::exact {

// The largest power of two <= n (n >= 1).
inline std::int64_t power_of_two_floor(std::int64_t n) {
  std::int64_t p = 1;
  while (p <= n / 2) p *= 2;
  return p;
}

// Levels are arrays of BlockMaps<L> (L modes per group, the propagate width of the instruction
// set), kept as raw doubles so that one class serves every width.
class BlockLevels {
 public:
  static constexpr int kMaxLevels = 63;
  // 64 MB: all ~23 levels of a d = 1e4 run to T = 1e8 (28 MB) fit, with two experts in parallel.
  static constexpr double kBudgetBytes = 64.0 * 1024 * 1024;

  // d modes in groups of `lanes`.
  BlockLevels(std::int64_t d, int lanes, double budget_bytes)
      : doubles_(((d + lanes - 1) / lanes) * 15 * lanes),
        max_held_(static_cast<int>(std::min<double>(kMaxLevels, budget_bytes / (8.0 * static_cast<double>(doubles_))))) {}

  // Worth having: the top level, the one below it and the one being built fit the budget.
  bool usable() const { return max_held_ >= 3; }

  // Allocates the levels up to n's top bit that the coming pass must build. False if a set bit of
  // n is a level dropped for memory (the block is then powered from scratch and nothing changes).
  bool prepare(std::int64_t n) {
    int top = 0;
    while ((n >> top) > 1) ++top;
    for (int k = 0; k <= std::min(top, built_top_); ++k)
      if ((n >> k & 1) && table_[k] == nullptr) return false;
    build_from_ = built_top_ + 1;
    build_to_ = std::max(built_top_, top);
    for (int k = build_from_; k <= build_to_; ++k) {
      store_[k].resize(static_cast<std::size_t>(doubles_));
      table_[k] = store_[k].data();
    }
    return true;
  }

  // After the pass: the prepared levels are built; the lowest beyond the budget are dropped.
  void built() {
    built_top_ = build_to_;
    build_from_ = built_top_ + 1;
    int held = 0;
    for (int k = 0; k <= built_top_; ++k) held += table_[k] != nullptr;
    for (int k = 0; k <= built_top_ && held > max_held_; ++k)
      if (table_[k] != nullptr) {
        std::vector<double>().swap(store_[k]);
        table_[k] = nullptr;
        --held;
      }
  }

  double* const* table() const { return table_; }
  int build_from() const { return build_from_; }
  int build_to() const { return build_to_; }

 private:
  std::int64_t doubles_;  // per level
  int max_held_;
  int built_top_ = -1, build_from_ = 0, build_to_ = -1;
  std::vector<double> store_[kMaxLevels];
  double* table_[kMaxLevels] = {};
};

// Group g of a level, as the maps of its L modes.
template <int L>
PLRF_ALWAYS_INLINE BlockMaps<L>& level_group(double* level, std::int64_t g) {
  return reinterpret_cast<BlockMaps<L>*>(level)[g];
}

// Level k of groups [g0, g1): the one-step maps for k = 0, else level k - 1 composed with itself
// (block_maps' squaring, with the same L, hence the same doubles). lam is padded with the last
// mode, as block_propagate does.
template <int L>
PLRF_ALWAYS_INLINE void build_level(const StepCoefs& k, const double* lam, std::int64_t d, double* const* table,
                                    int level, std::int64_t g0, std::int64_t g1) {
  for (std::int64_t g = g0; g < g1; ++g) {
    if (level == 0) {
      double lam_g[L];
      for (int l = 0; l < L; ++l) lam_g[l] = lam[std::min<std::int64_t>(L * g + l, d - 1)];
      one_step_maps<L>(k, lam_g, level_group<L>(table[0], g));
    } else {
      const double n_below = static_cast<double>(std::int64_t{1} << (level - 1));
      const BlockMaps<L>& below = level_group<L>(table[level - 1], g);
      compose<L>(below, n_below, below, level_group<L>(table[level], g));
    }
  }
}

// The n-step maps of group g from the levels of n's set bits, low bits first (block_maps' order,
// so the same doubles): a pointer into the table when n is a power of two, else the composition
// in one of the two scratch maps (no copies: at this size a copy costs as much as a composition).
template <int L>
PLRF_ALWAYS_INLINE const BlockMaps<L>* maps_from_levels(double* const* table, std::int64_t n, std::int64_t g,
                                                        BlockMaps<L> (&scratch)[2]) {
  const BlockMaps<L>* acc = nullptr;
  std::int64_t n_acc = 0;
  for (int k = 0; n >> k; ++k) {
    if (!(n >> k & 1)) continue;
    const BlockMaps<L>& level = level_group<L>(table[k], g);
    if (acc == nullptr) {
      acc = &level;
    } else {
      BlockMaps<L>* next = acc == &scratch[0] ? &scratch[1] : &scratch[0];
      compose<L>(*acc, static_cast<double>(n_acc), level, *next);
      acc = next;
    }
    n_acc += std::int64_t{1} << k;
  }
  return acc;
}

}  // namespace plrf::exact
