// A team of threads kept for a whole run. parallel_for (runtime/parallel.hpp) starts and joins its
// threads on every call, ~40 us each here; the parameter-basis engine makes six such calls a step, so
// it keeps one team for the run and hands it each pass instead.
//
// Team::run(n, body) calls body(i) for i in [0, n) on the caller and the team's workers (items handed
// out in order), returns when all are done and rethrows the first exception a body threw. As with
// parallel_for, work items are independent and each writes only its own outputs, so results never
// depend on the number of threads, nor on which thread ran an item.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include "plrf/runtime/parallel.hpp"

namespace plrf {

class Team {
 public:
  // `threads` in all, the caller included (0: all cores). A thread the OS refuses to start is simply
  // not there: the team is smaller, and the results are the same.
  explicit Team(int threads) {
    const int wanted = resolve_threads(threads);
    try {
      workers_.reserve(static_cast<std::size_t>(wanted - 1));
      for (int t = 1; t < wanted; ++t) workers_.emplace_back([this] { serve(); });
    } catch (const std::system_error&) {
    } catch (const std::bad_alloc&) {
    }
  }

  ~Team() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
  }

  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int size() const { return 1 + static_cast<int>(workers_.size()); }

  template <class Body>
  void run(std::int64_t n, Body&& body) {
    if (workers_.empty() || n <= 1) {
      for (std::int64_t i = 0; i < n; ++i) body(i);
      return;
    }
    const Job job{&body, [](const void* b, std::int64_t i) { (*static_cast<std::remove_reference_t<Body>*>(
                                                                  const_cast<void*>(b)))(i); }};
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      n_ = n;
      next_.store(0, std::memory_order_relaxed);
      busy_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      ++round_;
    }
    wake_.notify_all();
    take_items();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_ == 0; });
    if (error_) std::rethrow_exception(error_);
  }

 private:
  struct Job {
    const void* body = nullptr;
    void (*call)(const void*, std::int64_t) = nullptr;
  };

  // Items of the current round until none is left; an exception ends the round for everyone.
  void take_items() {
    for (;;) {
      const std::int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n_) return;
      try {
        job_.call(job_.body, i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        next_.store(n_, std::memory_order_relaxed);
      }
    }
  }

  // A worker: wait for a round (or the end), take items, report done.
  void serve() {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || round_ != seen; });
        if (stop_) return;
        seen = round_;
      }
      take_items();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  Job job_;
  std::int64_t n_ = 0;  // written under the mutex before a round starts; read by its items only
  std::atomic<std::int64_t> next_{0};
  int busy_ = 0;
  std::uint64_t round_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
};

}  // namespace plrf
