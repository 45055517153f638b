// Philox4x32-10 on W consecutive blocks at once, one block per 64-bit lane: the four counter
// words are four vectors, each 32-bit value in the low half of its lane. The multiply reads only
// the low halves (vpmuludq), so the high halves may hold garbage until the final mask; this
// keeps a round at 2 multiplies, 2 shifts and 4 xors (2 ternary-logic ops on AVX-512) for
// W blocks. The words are bit for bit those of main_word() (streams.hpp) on every W.
#pragma once
#include <cstddef>
#include <cstdint>

#include "plrf/rng/lanes.hpp"
#include "plrf/rng/streams.hpp"

namespace plrf::rng {

// Round keys of one (key): the key bumped r times, r = 0 .. 9.
struct RoundKeys {
  std::uint64_t k0[detail::kRounds], k1[detail::kRounds];
  explicit RoundKeys(Key k) {
    for (int r = 0; r < detail::kRounds; ++r) {
      k0[r] = k[0];
      k1[r] = k[1];
      k[0] += detail::kW0;
      k[1] += detail::kW1;
    }
  }
};

// Blocks block0 .. block0+W-1 of counters (block, step_lo, tag): lane k of block block0 + l
// in the low 32 bits of out[k][l] (the high bits are not cleared).
template <int W>
PLRF_ALWAYS_INLINE void philox_blocks(const RoundKeys& rk, std::uint32_t step_lo, std::uint32_t tag,
                                      std::uint64_t block0, lanes::U64<W> (&out)[4]) {
  using U = lanes::U64<W>;
  const U m0 = U{} + detail::kM0, m1 = U{} + detail::kM1;
  const U blocks = lanes::iota<W>(block0);
  U c0 = blocks, c1 = blocks >> 32, c2 = U{} + step_lo, c3 = U{} + tag;
#pragma GCC unroll 10
  for (int r = 0; r < detail::kRounds; ++r) {
    const U p0 = lanes::mul32<W>(c0, m0), p1 = lanes::mul32<W>(c2, m1);
    c0 = (p1 >> 32) ^ c1 ^ rk.k0[r];
    c1 = p1;
    c2 = (p0 >> 32) ^ c3 ^ rk.k1[r];
    c3 = p0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// Two batches of W blocks (from block0 and block1) in one round loop: a round is a chain of
// multiply, shift and xor, and interleaving two independent chains hides its latency where one
// batch alone cannot fill the machine (AVX2's 4 lanes). The same words as two philox_blocks calls.
template <int W>
PLRF_ALWAYS_INLINE void philox_blocks_pair(const RoundKeys& rk, std::uint32_t step_lo, std::uint32_t tag,
                                           std::uint64_t block0, std::uint64_t block1, lanes::U64<W> (&out)[4],
                                           lanes::U64<W> (&out1)[4]) {
  using U = lanes::U64<W>;
  const U m0 = U{} + detail::kM0, m1 = U{} + detail::kM1;
  const U b0 = lanes::iota<W>(block0), b1 = lanes::iota<W>(block1);
  U c0 = b0, c1 = b0 >> 32, c2 = U{} + step_lo, c3 = U{} + tag;
  U d0 = b1, d1 = b1 >> 32, d2 = c2, d3 = c3;
#pragma GCC unroll 10
  for (int r = 0; r < detail::kRounds; ++r) {
    const U p0 = lanes::mul32<W>(c0, m0), p1 = lanes::mul32<W>(c2, m1);
    const U q0 = lanes::mul32<W>(d0, m0), q1 = lanes::mul32<W>(d2, m1);
    c0 = (p1 >> 32) ^ c1 ^ rk.k0[r];
    d0 = (q1 >> 32) ^ d1 ^ rk.k0[r];
    c1 = p1;
    d1 = q1;
    c2 = (p0 >> 32) ^ c3 ^ rk.k1[r];
    d2 = (q0 >> 32) ^ d3 ^ rk.k1[r];
    c3 = p0;
    d3 = q0;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
  out1[0] = d0, out1[1] = d1, out1[2] = d2, out1[3] = d3;
}

// Words 2 block0 .. 2 (block0 + W) - 1 of (key, step) into out, in index order.
template <int W>
PLRF_ALWAYS_INLINE void lane_words(const RoundKeys& rk, std::uint32_t step_lo, std::uint32_t tag,
                                   std::uint64_t block0, std::uint64_t* out) {
  using U = lanes::U64<W>;
  const U low = U{} + 0xffffffffULL;
  U c[4];
  philox_blocks<W>(rk, step_lo, tag, block0, c);
  // Word 2 b is (lanes 0, 1) of block b, word 2 b + 1 is (lanes 2, 3).
  lanes::store_interleaved<W>(out, c[1] << 32 | (c[0] & low), c[3] << 32 | (c[2] & low));
}

// Blocks block0 .. block0+W-1 (2 W words, W = 8 at most) on a given instruction set: the
// known-answer tests run every lane width through this.
struct LaneWords {
  template <int W>
  PLRF_ALWAYS_INLINE static void run(const RoundKeys& rk, std::uint32_t c2, std::uint32_t c3, std::uint64_t block0,
                                     std::uint64_t* out) {
    lane_words<W>(rk, c2, c3, block0, out);
  }
};
inline void lane_words_on(Isa on, const RoundKeys& rk, std::uint32_t c2, std::uint32_t c3, std::uint64_t block0,
                          std::uint64_t* out) {
  on_isa<LaneWords>(on, rk, c2, c3, block0, out);
}

}  // namespace plrf::rng
