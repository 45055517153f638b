// Standard normals by a 1024-layer ziggurat (Marsaglia & Tsang 2000).
//
// A trial picks layer i (10 bits), a sign (1 bit) and an abscissa x = u x_i with u uniform on a
// lattice in (0, 1), and accepts at once when x < x_{i+1} (the point is then under the curve);
// the rest (0.4% at 1024 layers) go to the exact slow path: the wedge test y < exp(-x^2/2) for
// i >= 1, Marsaglia's tail sampler beyond R for the base layer i = 0, and on rejection a new trial.
//
// Draw i's first trial reads ONE 32-bit value (streams.hpp, normal_value): bits 0-9 the layer,
// bit 10 the sign, bits 11-31 m, u = (2m + 1) 2^-22, the midpoints of a 2^21-point lattice, so
// x takes 2^21 values per layer (spacing x_i 2^-21 <= 2.1e-6) and every moment of the lattice law
// is that of the continuous one to O(2^-42). Why 32 bits rather than a 64-bit word with 52 bits
// of u (streams version 2): the Philox words are ~60% of a normal's cost, and 32 bits halve them.
// Everything after the first trial (wedge uniforms, tail, retries) reads 64-bit extra words
// private to the draw's index, with 52-bit u: the slow path is 0.4% of draws and its cost is the
// scalar Philox block, not the bits.
//
// The fast test is two table reads (x_i, x_{i+1} side by side), an OR, a subtract, a multiply
// and a compare, all exact or correctly rounded, so the lanes of every instruction set
// (normal.hpp) give the same doubles as the scalar path below. 1024 layers rather than the usual
// 256: the slow path costs ~20 ns (a scalar Philox block and an exp), so at 256 layers' 1.5%
// rejections it took more time than the whole fast path; the tables (16 KB) still sit in L1.
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
  double x[kLayers + 1];   // layer i is [0, x[i]) wide; x[kLayers] = 0. Accept at once if x < x[i + 1].
  double fx[kLayers + 1];  // exp(-x^2/2)

  ZigguratTables() {
    auto f = [](double t) { return std::exp(-0.5 * t * t); };
    x[0] = kArea / f(kR);
    x[1] = kR;
    for (int i = 1; i < kLayers - 1; ++i)  // max(): rounding must not push the top layer past 0
      x[i + 1] = std::sqrt(std::max(0.0, -2.0 * std::log(f(x[i]) + kArea / x[i])));
    x[kLayers] = 0.0;
    for (int i = 0; i <= kLayers; ++i) fx[i] = f(x[i]);
  }
};

inline const ZigguratTables& ziggurat() {
  static const ZigguratTables tables;
  return tables;
}

constexpr std::uint64_t kLayerMask = 0x3ff;
constexpr int kSignBit = 10;

// The 32-bit first trial: the bits of the double 1 + (2m + 1) 2^-22 are (v << 20) & kLatticeBits
// (m = bits 11-31 of v land on mantissa bits 31-51) | kOneAndHalfStep (1.0 and mantissa bit 30).
// Bits of v above 31 (lanes hold them, normal.hpp) are shifted out of the mask.
constexpr std::uint64_t kLatticeBits = 0x000FFFFF80000000ULL;
constexpr std::uint64_t kOneAndHalfStep = 0x3FF0000040000000ULL;
constexpr int kLatticeShift = 20;

inline double bits_to_double(std::uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// u = (2m + 1) 2^-22 of a 32-bit value (exact: 1 + u - 1).
inline double lattice_u(std::uint64_t v) {
  return bits_to_double((v << kLatticeShift & kLatticeBits) | kOneAndHalfStep) - 1.0;
}

// u = m 2^-52 of a 64-bit extra word, m = bits 12-63 (exact).
inline double extra_u(std::uint64_t w) { return bits_to_double((w >> 12) | 0x3FF0000000000000ULL) - 1.0; }

// Negates x when the sign bit of w is set, without a (50% mispredicted) branch.
inline double with_sign(double x, std::uint64_t w) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits ^= (w << (63 - kSignBit)) & (1ULL << 63);
  std::memcpy(&x, &bits, sizeof bits);
  return x;
}

// The slow part of a trial whose point x of layer i failed x < x[i + 1]: true if accepted (x is
// then the magnitude of the draw; the tail replaces it).
inline bool slow_accept(int i, double& x, ExtraWords& extra) {
  const ZigguratTables& z = ziggurat();
  if (i == 0) {  // the tail beyond kR
    double t, y;
    do {
      t = -std::log(extra.unit_open0()) / ZigguratTables::kR;
      y = -std::log(extra.unit_open0());
    } while (2.0 * y < t * t);
    x = ZigguratTables::kR + t;
    return true;
  }
  const double y = z.fx[i] + to_unit(extra.next()) * (z.fx[i + 1] - z.fx[i]);
  return y < std::exp(-0.5 * x * x);
}

// The whole ziggurat from 64-bit words (w, then the extra words): the exact law, any path.
inline double ziggurat_slow(std::uint64_t w, ExtraWords& extra) {
  const ZigguratTables& z = ziggurat();
  for (;;) {
    const int i = static_cast<int>(w & kLayerMask);
    double x = extra_u(w) * z.x[i];
    if (x < z.x[i + 1] || slow_accept(i, x, extra)) return with_sign(x, w);
    w = extra.next();
  }
}

// Normal number `index` of (key, step) from its 32-bit value v, all paths. Out of line: the
// ~0.4% of draws that need more than the fast test all run this one copy, whatever instruction
// set the fast path used.
__attribute__((noinline)) inline double ziggurat_draw(std::uint32_t v, StreamKey key, std::uint64_t step,
                                                       std::uint64_t index) {
  const ZigguratTables& z = ziggurat();
  ExtraWords extra(key, step, index);
  const int i = static_cast<int>(v & kLayerMask);
  double x = lattice_u(v) * z.x[i];
  if (x < z.x[i + 1] || slow_accept(i, x, extra)) return with_sign(x, v);
  return ziggurat_slow(extra.next(), extra);
}

// Normal number `index` of (key, step), one at a time (the lanes of normal.hpp give the same).
inline double normal_at(StreamKey key, std::uint64_t step, std::uint64_t index) {
  return ziggurat_draw(normal_value(key, step, index), key, step, index);
}

}  // namespace detail

}  // namespace plrf::rng
