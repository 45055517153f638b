// Shared by every long-running engine: cooperative cancellation and a progress counter that a
// front end (Python, a C++ driver) may read from another thread.
#pragma once
#include <atomic>
#include <cstdint>

namespace plrf {

struct RunControl {
  std::atomic<bool> cancel{false};
  std::atomic<std::int64_t> done{0};  // units of work finished (engine-defined, e.g. steps x seeds)

  bool cancelled() const { return cancel.load(std::memory_order_relaxed); }
  void advance(std::int64_t n) { done.fetch_add(n, std::memory_order_relaxed); }
};

}  // namespace plrf
