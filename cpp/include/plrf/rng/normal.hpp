// Filling arrays with draws number first .. first+n-1 of (key, step): 64-bit words, uniforms in
// [0, 1), or standard normals. Draw i depends on i only (its word, and for the ~0.4% of normals
// the ziggurat rejects, extra words private to i), so any split of an index range, any thread
// count and any resume point give the same values.
//
// Speed: the words come W blocks at a time (philox_lanes.hpp) into a small buffer, and the
// ziggurat's fast path runs on W lanes (ziggurat.hpp), for W = 8 (AVX-512), 4 (AVX2) or
// 2 (baseline), chosen at run time (runtime/isa.hpp). Words are identical on every
// instruction set; so are the normals, since every path does the same exact integer work and
// the same correctly rounded multiply (only the tables' exp/log come from the platform's libm).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "plrf/rng/philox_lanes.hpp"
#include "plrf/rng/ziggurat.hpp"

namespace plrf::rng {

namespace detail {

enum class Draw { kWord, kUniform, kNormal };

// Normals from words[0 .. W): the fast path on all lanes, then the slow path for any rejected.
template <int W>
PLRF_ALWAYS_INLINE void normal_lanes(const std::uint64_t* words, const ZigguratTables& z, StreamKey key,
                                     std::uint64_t step, std::uint64_t index, double* out) {
  using U = lanes::U64<W>;
  using F = lanes::F64<W>;
  const U w = lanes::load<W>(words), layer = w & kLayerMask;
  const F m = (F)((w >> kMantissaShift) | kTwo52Bits) - 0x1.0p52;
  F scale, accept;
  lanes::lookup_pairs<W>(z.fast, layer, scale, accept);
  lanes::store<W>(out, (F)((U)(m * scale) ^ ((w << (63 - kSignBit)) & (1ULL << 63))));
  const U rejected = (U)(m >= accept);
  if (__builtin_expect(lanes::any<W>(rejected), 0))
    for (int l = 0; l < W; ++l)
      if (rejected[l]) out[l] = ziggurat_draw(words[l], key, step, index + l);
}

// out[j] for words[j], j < n, of draws first .. first+n-1.
template <int W, Draw kind, class T>
PLRF_ALWAYS_INLINE void transform(const std::uint64_t* words, std::size_t n, StreamKey key, std::uint64_t step,
                                  std::uint64_t first, T* out) {
  std::size_t j = 0;
  if constexpr (kind == Draw::kNormal) {
    const ZigguratTables& z = ziggurat();
    for (; j + W <= n; j += W) normal_lanes<W>(words + j, z, key, step, first + j, out + j);
  }
  for (; j < n; ++j) {
    if constexpr (kind == Draw::kWord) out[j] = words[j];
    if constexpr (kind == Draw::kUniform) out[j] = to_unit(words[j]);
    if constexpr (kind == Draw::kNormal) out[j] = ziggurat_draw(words[j], key, step, first + j);
  }
}

// Draws first .. first+n-1 in chunks of kChunk words: generate, then transform while in L1.
template <int W, Draw kind, class T>
PLRF_ALWAYS_INLINE void fill_body(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, T* out) {
  constexpr std::size_t kChunk = 256;
  alignas(64) std::uint64_t words[kChunk + 2 * W];
  const RoundKeys rk(key.key());
  const std::uint32_t step_lo = static_cast<std::uint32_t>(step), tag = tag_word(key, step, kMainSpace);
  while (n > 0) {
    const std::size_t skip = first % 2, take = std::min(n, kChunk - skip), blocks = (skip + take + 1) / 2;
    for (std::size_t b = 0; b < blocks; b += W) lane_words<W>(rk, step_lo, tag, first / 2 + b, words + 2 * b);
    transform<W, kind>(words + skip, take, key, step, first, out);
    first += take;
    out += take;
    n -= take;
  }
}

template <Draw kind, class T>
PLRF_TARGET_AVX512 void fill_avx512(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, T* out) {
  fill_body<8, kind>(key, step, first, n, out);
}
template <Draw kind, class T>
PLRF_TARGET_AVX2 void fill_avx2(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, T* out) {
  fill_body<4, kind>(key, step, first, n, out);
}
template <Draw kind, class T>
void fill_baseline(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, T* out) {
  fill_body<PLRF_X86_DISPATCH ? 2 : 1, kind>(key, step, first, n, out);
}

// On a given instruction set (tests compare them; everything else passes isa()).
template <Draw kind, class T>
void fill(Isa on, StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, T* out) {
#if PLRF_X86_DISPATCH
  switch (on) {
    case Isa::kAvx512: return fill_avx512<kind>(key, step, first, n, out);
    case Isa::kAvx2: return fill_avx2<kind>(key, step, first, n, out);
    default: break;
  }
#endif
  fill_baseline<kind>(key, step, first, n, out);
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
