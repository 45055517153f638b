// Filling arrays with draws number first .. first+n-1 of (key, step): 64-bit words, uniforms in
// [0, 1), or standard normals. Draw i depends on i only (its word or 32-bit value, and for the
// ~0.4% of normals the ziggurat rejects, extra words private to i), so any split of an index
// range, any thread count and any resume point give the same values.
//
// Speed: the Philox blocks come W at a time (philox_lanes.hpp), for W = 8 (AVX-512), 4 (AVX2)
// or 2 (baseline), chosen at run time (runtime/isa.hpp). Words go through a small buffer. Normals
// do not: lane k of W consecutive blocks is W consecutive normals (streams.hpp), so the
// ziggurat's fast test (ziggurat.hpp) runs on the generator's registers and stores doubles; the
// few rejected lanes take the scalar slow path. Words are identical on every instruction set; so
// are the normals, since every path does the same exact integer work and the same correctly
// rounded multiply (only the tables' exp/log come from the platform's libm).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "plrf/rng/philox_lanes.hpp"
#include "plrf/rng/ziggurat.hpp"

namespace plrf::rng {

namespace detail {

enum class Draw { kWord, kUniform, kNormal };

// The state every group of normals of (key, step) shares.
struct NormalStream {
  StreamKey key;
  std::uint64_t step;
  RoundKeys rk;
  std::uint32_t step_lo, tag;
  const ZigguratTables* z;
  NormalStream(StreamKey key_, std::uint64_t step_)
      : key(key_), step(step_), rk(key_.key()), step_lo(static_cast<std::uint32_t>(step_)),
        tag(tag_word(key_, step_, kNormalSpace)), z(&ziggurat()) {}
};

// Normals index .. index+W-1 from their 32-bit values (the low halves of v's lanes), fast test
// only: returns the lanes it rejects (all bits set), whose out[] the caller must replace.
template <int W>
PLRF_ALWAYS_INLINE lanes::U64<W> normal_lanes(const NormalStream& s, lanes::U64<W> v, double* out) {
  using U = lanes::U64<W>;
  using F = lanes::F64<W>;
  const F u = (F)((v << kLatticeShift & kLatticeBits) | kOneAndHalfStep) - 1.0;
  F width, next;
  lanes::lookup_pairs<W>(s.z->x, v & kLayerMask, width, next);
  const F x = u * width;
  lanes::store<W>(out, (F)((U)x ^ ((v << (63 - kSignBit)) & (1ULL << 63))));
  return (U)(x >= next);
}

// The normals of W blocks' 4 W values v (blocks 8 g + h .. 8 g + h + W - 1) into out. The
// rejected lanes (~0.4%) take the scalar slow path after the vector work, so that no call sits
// between the vector steps.
template <int W>
PLRF_ALWAYS_INLINE void normal_batch(const NormalStream& s, std::uint64_t g, int h, const lanes::U64<W> (&v)[4],
                                     double* out) {
  lanes::U64<W> rejected[4];
  for (int k = 0; k < 4; ++k) rejected[k] = normal_lanes<W>(s, v[k], out + kGroupBlocks * k + h);
  if (__builtin_expect(lanes::any<W>(rejected[0] | rejected[1] | rejected[2] | rejected[3]), 0))
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < W; ++l)
        if (rejected[k][l]) {
          const std::uint64_t i = kGroupBlocks * k + h + l;
          out[i] = ziggurat_draw(static_cast<std::uint32_t>(v[k][l]), s.key, s.step, kGroupNormals * g + i);
        }
}

// Normals 32 g .. 32 g + 31 (one group, streams.hpp) into out, two batches of W blocks at a time
// where a group holds two (philox_blocks_pair).
template <int W>
PLRF_ALWAYS_INLINE void normal_group(const NormalStream& s, std::uint64_t g, double* out) {
  if constexpr (2 * W <= static_cast<int>(kGroupBlocks)) {
    for (int h = 0; h < static_cast<int>(kGroupBlocks); h += 2 * W) {
      lanes::U64<W> v[4], v1[4];
      philox_blocks_pair<W>(s.rk, s.step_lo, s.tag, kGroupBlocks * g + h, kGroupBlocks * g + h + W, v, v1);
      normal_batch<W>(s, g, h, v, out);
      normal_batch<W>(s, g, h + W, v1, out);
    }
  } else {
    for (int h = 0; h < static_cast<int>(kGroupBlocks); h += W) {
      lanes::U64<W> v[4];
      philox_blocks<W>(s.rk, s.step_lo, s.tag, kGroupBlocks * g + h, v);
      normal_batch<W>(s, g, h, v, out);
    }
  }
}

// Normals of groups g and g + 1 into out[0 .. 64): at a width that fills a group with one batch
// (AVX-512), the two groups' batches share a round loop (philox_blocks_pair).
template <int W>
PLRF_ALWAYS_INLINE void normal_two_groups(const NormalStream& s, std::uint64_t g, double* out) {
  if constexpr (W == static_cast<int>(kGroupBlocks)) {
    lanes::U64<W> v[4], v1[4];
    philox_blocks_pair<W>(s.rk, s.step_lo, s.tag, kGroupBlocks * g, kGroupBlocks * (g + 1), v, v1);
    normal_batch<W>(s, g, 0, v, out);
    normal_batch<W>(s, g + 1, 0, v1, out + kGroupNormals);
  } else {
    normal_group<W>(s, g, out);
    normal_group<W>(s, g + 1, out + kGroupNormals);
  }
}

// Normals first .. first+n-1 of stream s: whole groups straight into out (two at a time),
// partial ones through a buffer.
template <int W>
PLRF_ALWAYS_INLINE void normals_from(const NormalStream& s, std::uint64_t first, std::size_t n, double* out) {
  std::uint64_t g = first / kGroupNormals;
  std::size_t skip = first % kGroupNormals;
  for (; n > 0; ++g) {
    std::size_t take = kGroupNormals;
    if (skip == 0 && n >= 2 * kGroupNormals) {
      normal_two_groups<W>(s, g++, out);
      take = 2 * kGroupNormals;
    } else if (skip == 0 && n >= kGroupNormals) {
      normal_group<W>(s, g, out);
    } else {
      alignas(64) double buf[kGroupNormals];
      normal_group<W>(s, g, buf);
      take = std::min(n, kGroupNormals - skip);
      std::memcpy(out, buf + skip, take * sizeof(double));
      skip = 0;
    }
    out += take;
    n -= take;
  }
}

// The same for (key, step).
template <int W>
PLRF_ALWAYS_INLINE void normals_body(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, double* out) {
  normals_from<W>(NormalStream(key, step), first, n, out);
}

// out[j] for words[j], j < n.
template <Draw kind, class T>
PLRF_ALWAYS_INLINE void transform(const std::uint64_t* words, std::size_t n, T* out) {
  for (std::size_t j = 0; j < n; ++j) {
    if constexpr (kind == Draw::kWord) out[j] = words[j];
    if constexpr (kind == Draw::kUniform) out[j] = to_unit(words[j]);
  }
}

// Draws first .. first+n-1 in chunks of kChunk words: generate, then transform while in L1.
template <int W, Draw kind, class T>
PLRF_ALWAYS_INLINE void fill_body(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, T* out) {
  if constexpr (kind == Draw::kNormal) {
    normals_body<W>(key, step, first, n, out);
    return;
  }
  constexpr std::size_t kChunk = 256;
  alignas(64) std::uint64_t words[kChunk + 2 * W];
  const RoundKeys rk(key.key());
  const std::uint32_t step_lo = static_cast<std::uint32_t>(step), tag = tag_word(key, step, kMainSpace);
  while (n > 0) {
    const std::size_t skip = first % 2, take = std::min(n, kChunk - skip), blocks = (skip + take + 1) / 2;
    for (std::size_t b = 0; b < blocks; b += W) lane_words<W>(rk, step_lo, tag, first / 2 + b, words + 2 * b);
    transform<kind>(words + skip, take, out);
    first += take;
    out += take;
    n -= take;
  }
}

template <Draw kind>
struct Fill {
  template <int W, class T>
  PLRF_ALWAYS_INLINE static void run(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, T* out) {
    fill_body<W, kind>(key, step, first, n, out);
  }
};

// On a given instruction set (tests compare them; everything else passes isa()).
template <Draw kind, class T>
void fill(Isa on, StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, T* out) {
  on_isa<Fill<kind>>(on, key, step, first, n, out);
}

}  // namespace detail

// Words first .. first+n-1 of (key, step) (streams.hpp).
inline void fill_words(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, std::uint64_t* out) {
  detail::fill<detail::Draw::kWord>(isa(), key, step, first, n, out);
}

// Uniforms in [0, 1) number first .. first+n-1 of (key, step): the top 53 bits of each word.
inline void fill_uniforms(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, double* out) {
  detail::fill<detail::Draw::kUniform>(isa(), key, step, first, n, out);
}

// Standard normals number first .. first+n-1 of (key, step).
inline void fill_normals(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, double* out) {
  detail::fill<detail::Draw::kNormal>(isa(), key, step, first, n, out);
}

}  // namespace plrf::rng
