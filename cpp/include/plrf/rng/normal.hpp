// Standard normal variates by a 256-layer ziggurat (Marsaglia & Tsang 2000), addressed by index:
// normal number i of (key, step) takes word i of the stream and, in the ~1% of cases that the
// fast path rejects, extra words private to i. So fill_normals(first, n) gives the same values
// for index i whatever `first` and `n` are: block size and thread count cannot change results.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "plrf/rng/streams.hpp"

namespace plrf::rng {

namespace detail {

struct ZigguratTables {
  static constexpr int kLayers = 256;
  static constexpr double kR = 3.6541528853610088;        // start of the tail
  static constexpr double kArea = 0.00492867323399;       // area of each layer
  double x[kLayers + 1];        // layer i is [0, x[i]) wide; x[kLayers] = 0
  double fx[kLayers + 1];       // exp(-x^2/2)
  std::uint64_t accept[kLayers];  // fast accept if 53-bit mantissa < accept[i]

  ZigguratTables() {
    auto f = [](double t) { return std::exp(-0.5 * t * t); };
    x[0] = kArea / f(kR);
    x[1] = kR;
    for (int i = 1; i < kLayers - 1; ++i) x[i + 1] = std::sqrt(-2.0 * std::log(f(x[i]) + kArea / x[i]));
    x[kLayers] = 0.0;
    for (int i = 0; i <= kLayers; ++i) fx[i] = f(x[i]);
    for (int i = 0; i < kLayers; ++i)
      accept[i] = static_cast<std::uint64_t>(std::floor(0x1.0p53 * (x[i + 1] / x[i])));
  }
};

inline const ZigguratTables& ziggurat() {
  static const ZigguratTables tables;
  return tables;
}

// Slow path: the word fell outside the layer's inner rectangle.
inline double ziggurat_slow(std::uint64_t w, ExtraWords& extra) {
  const ZigguratTables& z = ziggurat();
  for (;;) {
    const int i = static_cast<int>(w & 0xff);
    const double sign = (w >> 8) & 1 ? -1.0 : 1.0;
    const std::uint64_t m = w >> 11;
    const double xx = static_cast<double>(m) * 0x1.0p-53 * z.x[i];
    if (m < z.accept[i]) return sign * xx;
    if (i == 0) {  // the tail beyond kR
      double t, y;
      do {
        t = -std::log(extra.unit_open0()) / ZigguratTables::kR;
        y = -std::log(extra.unit_open0());
      } while (2.0 * y < t * t);
      return sign * (ZigguratTables::kR + t);
    }
    const double y = z.fx[i] + to_unit(extra.next()) * (z.fx[i + 1] - z.fx[i]);
    if (y < std::exp(-0.5 * xx * xx)) return sign * xx;
    w = extra.next();
  }
}

// Negates x when bit 8 of w is set, without a (50% mispredicted) branch: same value as -x.
inline double apply_sign_bit(double x, std::uint64_t w) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits ^= ((w >> 8) & 1) << 63;
  std::memcpy(&x, &bits, sizeof bits);
  return x;
}

inline double ziggurat_from_word(std::uint64_t w, StreamKey key, std::uint64_t step, std::uint64_t index,
                                 const ZigguratTables& z) {
  const int i = static_cast<int>(w & 0xff);
  const std::uint64_t m = w >> 11;
  if (__builtin_expect(m < z.accept[i], 1)) return apply_sign_bit(static_cast<double>(m) * 0x1.0p-53 * z.x[i], w);
  ExtraWords extra(key, step, index);
  return ziggurat_slow(w, extra);
}

}  // namespace detail

// Writes normals number first .. first+n-1 of (key, step) to out.
// Whole groups of four blocks are generated in lockstep (philox4x64_10_x4) for instruction-level
// parallelism; the words, hence the values, are exactly those of the one-block-at-a-time loop.
inline void fill_normals(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, double* out) {
  const Key k = key.key();
  const detail::ZigguratTables& z = detail::ziggurat();
  std::uint64_t index = first;
  const std::uint64_t end = first + n;
  while (index < end) {
    if (index % 4 == 0 && end - index >= 16) {
      Counter blocks[4];
      philox4x64_10_x4(index / 4, step, kMainSpace, k, blocks);
      for (int b = 0; b < 4; ++b)
        for (int lane = 0; lane < 4; ++lane, ++index)
          *out++ = detail::ziggurat_from_word(blocks[b][lane], key, step, index, z);
      continue;
    }
    const Counter block = philox4x64_10({index / 4, step, kMainSpace, 0}, k);
    for (int lane = static_cast<int>(index % 4); lane < 4 && index < end; ++lane, ++index)
      *out++ = detail::ziggurat_from_word(block[lane], key, step, index, z);
  }
}

// Writes uniforms in [0, 1) number first .. first+n-1 of (key, step) to out.
inline void fill_uniforms(StreamKey key, std::uint64_t step, std::uint64_t first, std::size_t n, double* out) {
  const Key k = key.key();
  std::uint64_t index = first;
  const std::uint64_t end = first + n;
  while (index < end) {
    const Counter block = philox4x64_10({index / 4, step, kMainSpace, 0}, k);
    for (int lane = static_cast<int>(index % 4); lane < 4 && index < end; ++lane, ++index)
      *out++ = to_unit(block[lane]);
  }
}

}  // namespace plrf::rng
