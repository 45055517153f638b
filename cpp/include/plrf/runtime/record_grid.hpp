// The record grid: the steps at which an engine reports the risk (risk[i] is P after record[i]
// steps, record 0 being the initial risk). Every engine (exact recursion, fast, ode, simulate)
// takes this type, so the grid is checked once, here: non-empty, sorted, unique, inside
// [0, steps], and steps <= kMaxSteps = 2^62, which leaves headroom for t + n (a block past t) and
// for step x seed counters without int64 overflow.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace plrf {

constexpr std::int64_t kMaxSteps = std::int64_t{1} << 62;

class RecordGrid {
 public:
  // `steps`: the run's length; the grid must lie inside [0, steps].
  RecordGrid(std::vector<std::int64_t> record, std::int64_t steps) : steps_(std::move(record)) {
    if (steps < 0 || steps > kMaxSteps)
      throw std::invalid_argument("steps must be in [0, 2**62], got " + std::to_string(steps));
    if (steps_.empty()) throw std::invalid_argument("record must be non-empty");
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      if (steps_[i] < 0 || steps_[i] > steps)
        throw std::invalid_argument("record must lie inside [0, steps=" + std::to_string(steps) + "], got " +
                                    std::to_string(steps_[i]));
      if (i > 0 && steps_[i] <= steps_[i - 1])
        throw std::invalid_argument("record must be sorted and unique (index " + std::to_string(i) + ")");
    }
  }
  // A grid that ends the run: steps = its last entry (implicit, so C++ callers may pass a vector).
  RecordGrid(std::vector<std::int64_t> record)
      : RecordGrid(record, record.empty() ? 0 : record.back()) {}

  std::size_t size() const { return steps_.size(); }
  std::int64_t operator[](std::size_t i) const { return steps_[i]; }
  std::int64_t back() const { return steps_.back(); }
  auto begin() const { return steps_.begin(); }
  auto end() const { return steps_.end(); }
  const std::vector<std::int64_t>& steps() const { return steps_; }

 private:
  std::vector<std::int64_t> steps_;
};

}  // namespace plrf
