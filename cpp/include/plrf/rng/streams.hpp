// Where every random number in plrf comes from: a stream is keyed by (seed, stream id), and
// inside it a draw is addressed by (step, index). Word i of (key, step) is lane i%4 of Philox
// block (i/4, step, 0, 0); counter words 2 and 3 address the rare extra words that rejection
// sampling needs (see normal.hpp). Nothing here holds state.
#pragma once
#include <cstdint>

#include "plrf/rng/philox.hpp"

namespace plrf::rng {

// Stream ids: one per purpose, so that draws for different purposes never collide.
enum Stream : std::uint64_t {
  kFeatures = 0,     // the entries of W
  kEigenSamples = 1, // eigenbasis simulator samples
  kFullSamples = 2,  // full-space simulator samples
  kScalars = 3,      // per-step scalar draws (e.g. chi-square variates of batch samplers)
};

struct StreamKey {
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;
  Key key() const { return {seed, stream}; }
};

// Counter space for the words that index `index` may consume after its first one.
enum CounterSpace : std::uint64_t { kMainSpace = 0, kExtraSpace = 1 };

// A sequential reader of extra words for one (key, step, index): used only by rejection loops.
class ExtraWords {
 public:
  ExtraWords(StreamKey key, std::uint64_t step, std::uint64_t index)
      : key_(key.key()), step_(step), index_(index) {}
  std::uint64_t next() {
    if (pos_ == 4) {
      block_ = philox4x64_10({index_, step_, kExtraSpace, next_block_++}, key_);
      pos_ = 0;
    }
    return block_[pos_++];
  }
  double unit_open0() { return to_unit_open0(next()); }

 private:
  Key key_;
  std::uint64_t step_, index_;
  std::uint64_t next_block_ = 0;
  Counter block_{};
  int pos_ = 4;
};

}  // namespace plrf::rng
