// A minimal static parallel-for. Work items are independent and each writes only its own
// outputs, so the result never depends on the number of threads.
#pragma once
#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

namespace plrf {

inline int resolve_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// Calls body(i) for i in [0, n) on up to `threads` threads (items are handed out in order); the
// calling thread is one of them. A thread the OS refuses to start (std::system_error: a thread or
// memory limit) is simply not there: the items go to the threads that did start, at least the
// caller, so the call still finishes and never reaches std::terminate. The first exception thrown
// by any body is rethrown here after all threads have joined.
template <class Body>
void parallel_for(std::int64_t n, int threads, Body&& body) {
  threads = static_cast<int>(std::min<std::int64_t>(resolve_threads(threads), std::max<std::int64_t>(n, 1)));
  if (threads <= 1) {
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::mutex mutex;
  std::int64_t next = 0;
  std::exception_ptr error;
  auto worker = [&]() {
    for (;;) {
      std::int64_t i;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (next >= n || error) return;
        i = next++;
      }
      try {
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  try {
    pool.reserve(static_cast<std::size_t>(threads - 1));
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  } catch (const std::system_error&) {  // fewer threads; the results do not depend on their number
  } catch (const std::bad_alloc&) {
  }
  worker();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace plrf
