// Standard normals by a 1024-layer ziggurat (Marsaglia & Tsang 2000) from one 64-bit word:
// bits 0-9 pick the layer i, bit 10 the sign, bits 12-63 a 52-bit integer m, and
// x = m 2^-52 x_i. The fast path accepts when m < 2^52 x_{i+1} / x_i (99.6% of words): two
// lookups, one multiply, one compare, so it runs W lanes at a time (normal.hpp). The rest go to
// the exact slow path (wedge test, or Marsaglia's tail beyond R), which reads extra words
// private to the draw's index (streams.hpp). 1024 layers rather than the usual 256: the slow
// path costs ~50 ns (a scalar Philox block and an exp), so at 256 layers' 1.5% rejections it
// took more time than the whole fast path; the two 8 KB tables still sit in L1. 52 bits rather than 53 because a 52-bit integer
// converts to double exactly with an OR and a subtract on every instruction set (AVX2 has no
// 64-bit integer conversion), so the lanes and the scalar path give the same doubles.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "plrf/rng/streams.hpp"

namespace plrf::rng {

namespace detail {

struct ZigguratTables {
  // R and the layer area v solve: the recursion x_{i+1} = f^-1(f(x_i) + v / x_i) from x_1 = R
  // reaches 0 at i = kLayers, with v = R f(R) + int_R^inf f (bisection in double precision).
  static constexpr int kLayers = 1024;
  static constexpr double kR = 4.038849846109505;          // start of the tail
  static constexpr double kArea = 0.0012263246463530852;  // area of each layer
  double x[kLayers + 1];   // layer i is [0, x[i]) wide; x[kLayers] = 0
  double fx[kLayers + 1];  // exp(-x^2/2)
  // The fast path's pairs, side by side for one 16-byte load: fast[2 i] = x[i] 2^-52 (so that
  // x = m fast[2 i] is m 2^-52 x[i] with one rounding), fast[2 i + 1] = floor(2^52 x[i+1] / x[i])
  // (accept if m is below it).
  double fast[2 * kLayers];

  ZigguratTables() {
    auto f = [](double t) { return std::exp(-0.5 * t * t); };
    x[0] = kArea / f(kR);
    x[1] = kR;
    for (int i = 1; i < kLayers - 1; ++i)  // max(): rounding must not push the top layer past 0
      x[i + 1] = std::sqrt(std::max(0.0, -2.0 * std::log(f(x[i]) + kArea / x[i])));
    x[kLayers] = 0.0;
    for (int i = 0; i <= kLayers; ++i) fx[i] = f(x[i]);
    for (int i = 0; i < kLayers; ++i) {
      fast[2 * i] = x[i] * 0x1.0p-52;
      fast[2 * i + 1] = std::floor(0x1.0p52 * (x[i + 1] / x[i]));
    }
  }
};

inline const ZigguratTables& ziggurat() {
  static const ZigguratTables tables;
  return tables;
}

constexpr std::uint64_t kLayerMask = 0x3ff;
constexpr int kSignBit = 10, kMantissaShift = 12;
constexpr std::uint64_t kTwo52Bits = 0x4330000000000000ULL;  // the bits of 2^52

// m = w >> 12 as a double, by the same OR-and-subtract the lanes use.
inline double mantissa(std::uint64_t w) {
  const std::uint64_t bits = (w >> kMantissaShift) | kTwo52Bits;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d - 0x1.0p52;
}

// Negates x when the sign bit of w is set, without a (50% mispredicted) branch.
inline double with_sign(double x, std::uint64_t w) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits ^= (w << (63 - kSignBit)) & (1ULL << 63);
  std::memcpy(&x, &bits, sizeof bits);
  return x;
}

// The whole ziggurat from word w, with extra words for retries: the exact law, any path.
inline double ziggurat_slow(std::uint64_t w, ExtraWords& extra) {
  const ZigguratTables& z = ziggurat();
  for (;;) {
    const int i = static_cast<int>(w & kLayerMask);
    const double m = mantissa(w), xx = m * z.fast[2 * i];
    if (m < z.fast[2 * i + 1]) return with_sign(xx, w);
    if (i == 0) {  // the tail beyond kR
      double t, y;
      do {
        t = -std::log(extra.unit_open0()) / ZigguratTables::kR;
        y = -std::log(extra.unit_open0());
      } while (2.0 * y < t * t);
      return with_sign(ZigguratTables::kR + t, w);
    }
    const double y = z.fx[i] + to_unit(extra.next()) * (z.fx[i + 1] - z.fx[i]);
    if (y < std::exp(-0.5 * xx * xx)) return with_sign(xx, w);
    w = extra.next();
  }
}

// Normal number `index` of (key, step), whose main word is w. Out of line: the ~0.4% of draws
// that need it all run this one copy, whatever instruction set the fast path used.
__attribute__((noinline)) inline double ziggurat_draw(std::uint64_t w, StreamKey key, std::uint64_t step,
                                                       std::uint64_t index) {
  ExtraWords extra(key, step, index);
  return ziggurat_slow(w, extra);
}

}  // namespace detail

}  // namespace plrf::rng
