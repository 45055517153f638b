// Philox4x32-10 counter-based generator (Salmon, Moraes, Dror & Shaw, SC'11, "Random123").
// Output depends only on (counter, key): no state, so any draw can be recomputed anywhere,
// which is what makes results independent of threads, chunking and resume.
//
// Why 4x32 and not 4x64: a round is two 32x32->64 multiplies, which AVX2 and AVX-512 have
// (vpmuludq) and SSE2 too, so philox_lanes.hpp runs 2, 4 or 8 blocks per instruction. No x86
// vector unit has the 64x64->128 multiply that Philox4x64 needs. This scalar version is the
// reference: the known-answer tests check it, and the lanes must reproduce it bit for bit.
#pragma once
#include <array>
#include <cstdint>

namespace plrf::rng {

using Counter = std::array<std::uint32_t, 4>;
using Key = std::array<std::uint32_t, 2>;

namespace detail {
constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // round multipliers
constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // key bumps (Weyl sequence)
constexpr int kRounds = 10;

// One Philox4x32 round; the key is bumped between rounds by the callers.
inline void round(Counter& c, const Key& k) {
  const std::uint64_t p0 = static_cast<std::uint64_t>(kM0) * c[0], p1 = static_cast<std::uint64_t>(kM1) * c[2];
  c = {static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<std::uint32_t>(p1),
       static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<std::uint32_t>(p0)};
}
}  // namespace detail

// One Philox4x32 evaluation with 10 rounds: 128 random bits for this (counter, key).
inline Counter philox4x32_10(Counter c, Key k) {
  for (int r = 0; r < detail::kRounds; ++r) {
    if (r > 0) { k[0] += detail::kW0; k[1] += detail::kW1; }
    detail::round(c, k);
  }
  return c;
}

// Uniform double in [0, 1) from the top 53 bits of a word.
inline double to_unit(std::uint64_t w) { return static_cast<double>(w >> 11) * 0x1.0p-53; }
// Uniform double in (0, 1]: safe for log().
inline double to_unit_open0(std::uint64_t w) { return (static_cast<double>(w >> 11) + 1.0) * 0x1.0p-53; }

}  // namespace plrf::rng
