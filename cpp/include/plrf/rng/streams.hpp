// Where every random number in plrf comes from: a stream is keyed by (seed, stream id), and
// inside it a draw is addressed by (step, index). Nothing here holds state.
//
// Philox4x32 has a 64-bit key and a 128-bit counter, so the address is packed:
//   key      = the 64-bit seed (low word first);
//   counter  = (block low 32 bits, block bits 32-47, step low 32 bits, tag),
//   tag      = step bits 32-47 | stream id << 16 | counter space << 24.
// Word i of (key, step) is the 64-bit word (lo = lane 0, hi = lane 1) or (lanes 2, 3) of main
// block i / 2, for i % 2 = 0 or 1. Normal i starts from one 32-bit value of the normals' space:
// lane (i % 32) / 8 of block 8 (i / 32) + i % 8, so that lane k of 8 consecutive blocks holds
// 8 consecutive normals (one AVX-512 register, two AVX2 ones: no transpose on any width).
// Rejection loops read the extra space instead: block
// (index, n) of extra words for draw `index` has the counter (index low 32 bits,
// index bits 32-47 | n << 16, step, tag). Hence the limits: step and index below 2^48,
// stream ids below 256.
#pragma once
#include <cstdint>

#include "plrf/rng/philox.hpp"

namespace plrf::rng {

// Changes whenever any stream changes (generator, packing or transform): stored with
// checkpoints, so that a run is never resumed on different random numbers.
// 1: Philox4x64-10, 2: Philox4x32-10 in lanes with a 52-bit ziggurat, 3: normals from 32-bit
// values in their own counter space (21-bit lattice ziggurat, ziggurat.hpp).
constexpr int kStreamsVersion = 3;

// Stream ids: one per purpose, so that draws for different purposes never collide.
enum Stream : std::uint64_t {
  kFeatures = 0,     // the entries of W
  kEigenSamples = 1, // eigenbasis simulator samples
  kFullSamples = 2,  // full-space simulator samples
  kScalars = 3,      // per-step scalar draws (e.g. chi-square variates of batch samplers)
  kRouting = 4,      // mixture-of-experts routing: binomial variate i is expert (or block) i's count
  kInjectedNoise = 5, // isotropic noise added to the update (docs/families.md §2), one normal per coordinate
  kSde = 6,          // SDE and Gaussianised-gradient normals (simulate/sde_stepper.hpp)
  kClipNoise = 7,    // DP-SGD noise on the clipped batch sum (simulate/clip_step.hpp), one normal per coordinate
  kMatrixProblem = 8, // plrf.matrix (Python): the rotation Q and target Z of a MatrixPLRF
  kMatrixData = 9,    // plrf.matrix: data rows of the Monte Carlo, B d normals per (seed, step)
  kMatrixNoise = 10,  // plrf.matrix: label noise, B m normals per (seed, step)
};

constexpr std::uint64_t kAddressLimit = 1ULL << 48;  // steps and indices are below this
constexpr std::uint64_t kStreamLimit = 256;           // stream ids are below this

struct StreamKey {
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;
  Key key() const { return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}; }
};

enum CounterSpace : std::uint32_t { kMainSpace = 0, kExtraSpace = 1, kNormalSpace = 2 };

// Counter word 3, shared by every block of (key, step, space).
inline std::uint32_t tag_word(StreamKey key, std::uint64_t step, CounterSpace space) {
  return (static_cast<std::uint32_t>(step >> 32) & 0xffffu) | static_cast<std::uint32_t>(key.stream & 0xff) << 16 |
         static_cast<std::uint32_t>(space) << 24;
}

// 64 bits from two 32-bit lanes, low lane first.
inline std::uint64_t join(std::uint32_t lo, std::uint32_t hi) { return static_cast<std::uint64_t>(hi) << 32 | lo; }

// Block `block` of (key, step) in a counter space (main: words 2 block and 2 block + 1).
inline Counter main_block(StreamKey key, std::uint64_t step, std::uint64_t block, CounterSpace space = kMainSpace) {
  return philox4x32_10({static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                        static_cast<std::uint32_t>(step), tag_word(key, step, space)},
                       key.key());
}

// Word i of (key, step), one at a time (the lanes of philox_lanes.hpp give the same words).
inline std::uint64_t main_word(StreamKey key, std::uint64_t step, std::uint64_t i) {
  const Counter b = main_block(key, step, i / 2);
  return i % 2 ? join(b[2], b[3]) : join(b[0], b[1]);
}

// Normals per group: 8 blocks of 4 values.
constexpr std::uint64_t kGroupBlocks = 8, kGroupNormals = 32;

// The 32-bit value of normal i of (key, step), one at a time (normal.hpp reads it in lanes).
inline std::uint32_t normal_value(StreamKey key, std::uint64_t step, std::uint64_t i) {
  const std::uint64_t block = kGroupBlocks * (i / kGroupNormals) + i % kGroupBlocks;
  return main_block(key, step, block, kNormalSpace)[(i % kGroupNormals) / kGroupBlocks];
}

// A sequential reader of extra words for one (key, step, index): used only by rejection loops.
class ExtraWords {
 public:
  ExtraWords(StreamKey key, std::uint64_t step, std::uint64_t index)
      : key_(key.key()), c0_(static_cast<std::uint32_t>(index)),
        c1_(static_cast<std::uint32_t>(index >> 32) & 0xffffu), c2_(static_cast<std::uint32_t>(step)),
        c3_(tag_word(key, step, kExtraSpace)) {}
  std::uint64_t next() {
    if (pos_ == 2) {
      block_ = philox4x32_10({c0_, c1_ | (next_block_++ & 0xffffu) << 16, c2_, c3_}, key_);
      pos_ = 0;
    }
    const int lane = 2 * pos_++;
    return join(block_[lane], block_[lane + 1]);
  }
  double unit_open0() { return to_unit_open0(next()); }

 private:
  Key key_;
  std::uint32_t c0_, c1_, c2_, c3_;
  std::uint32_t next_block_ = 0;
  Counter block_{};
  int pos_ = 2;
};

}  // namespace plrf::rng
