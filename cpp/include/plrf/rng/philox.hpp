// Philox4x64-10 counter-based generator (Salmon et al., SC'11, "Random123").
// Output depends only on (counter, key): no state, so any draw can be recomputed anywhere,
// which is what makes results independent of threads, chunking and resume.
#pragma once
#include <array>
#include <cstdint>

namespace plrf::rng {

using Counter = std::array<std::uint64_t, 4>;
using Key = std::array<std::uint64_t, 2>;

namespace detail {
inline void mulhilo(std::uint64_t a, std::uint64_t b, std::uint64_t& hi, std::uint64_t& lo) {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  hi = static_cast<std::uint64_t>(p >> 64);
  lo = static_cast<std::uint64_t>(p);
}
}  // namespace detail

namespace detail {
constexpr std::uint64_t kM0 = 0xD2E7470EE14C6C93ULL, kM1 = 0xCA5A826395121157ULL;  // round multipliers
constexpr std::uint64_t kW0 = 0x9E3779B97F4A7C15ULL, kW1 = 0xBB67AE8584CAA73BULL;  // key bumps

// One Philox4x64 round; the key is bumped between rounds by the callers.
inline void round(Counter& c, const Key& k) {
  std::uint64_t hi0, lo0, hi1, lo1;
  mulhilo(kM0, c[0], hi0, lo0);
  mulhilo(kM1, c[2], hi1, lo1);
  c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}
}  // namespace detail

// One Philox4x64 evaluation with 10 rounds: 256 random bits for this (counter, key).
inline Counter philox4x64_10(Counter c, Key k) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) { k[0] += detail::kW0; k[1] += detail::kW1; }
    detail::round(c, k);
  }
  return c;
}

// Four consecutive blocks (c0, c0+1, c0+2, c0+3 in counter word 0; words 1-3 = c1, c2, 0),
// computed round by round in lockstep so the independent multiplies overlap. Same output as
// four calls of philox4x64_10.
inline void philox4x64_10_x4(std::uint64_t c0, std::uint64_t c1, std::uint64_t c2, Key k, Counter out[4]) {
  for (int b = 0; b < 4; ++b) out[b] = {c0 + static_cast<std::uint64_t>(b), c1, c2, 0};
  for (int r = 0; r < 10; ++r) {
    if (r > 0) { k[0] += detail::kW0; k[1] += detail::kW1; }
    for (int b = 0; b < 4; ++b) detail::round(out[b], k);
  }
}

// Uniform double in [0, 1) from the top 53 bits of a word.
inline double to_unit(std::uint64_t w) { return static_cast<double>(w >> 11) * 0x1.0p-53; }
// Uniform double in (0, 1]: safe for log().
inline double to_unit_open0(std::uint64_t w) { return (static_cast<double>(w >> 11) + 1.0) * 0x1.0p-53; }

}  // namespace plrf::rng
