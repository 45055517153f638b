// Runs a long C++ job on a worker thread with the GIL released, while the calling (Python)
// thread wakes every `poll` seconds to check for Ctrl-C and to report progress. On Ctrl-C the
// job is asked to stop through RunControl::cancel and the KeyboardInterrupt is swallowed: the
// caller gets `true` back and returns the partial result, marked as interrupted.
#pragma once
#include <pybind11/pybind11.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "plrf/runtime/control.hpp"

namespace plrf_bind {

namespace py = pybind11;

// progress: None, or a callable taking the number of work units done so far.
template <class Work>
bool run_interruptible(Work&& work, plrf::RunControl& control, const py::object& progress, double poll = 0.1) {
  std::mutex mutex;
  std::condition_variable cv;
  bool finished = false;
  std::exception_ptr error;
  std::thread worker;
  try {
    worker = std::thread([&] {
      try {
        work(control);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex);
      finished = true;
      cv.notify_all();
    });
  } catch (const std::system_error& e) {  // nothing has started yet: a clean Python RuntimeError
    throw std::runtime_error(std::string("could not start a worker thread (") + e.what() +
                             "): the process is at its thread or memory limit");
  }
  bool interrupted = false;
  for (;;) {
    bool done;
    {
      py::gil_scoped_release release;
      std::unique_lock<std::mutex> lock(mutex);
      done = cv.wait_for(lock, std::chrono::duration<double>(poll), [&] { return finished; });
    }
    if (!interrupted && PyErr_CheckSignals() != 0) {
      if (!PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
        control.cancel = true;
        { py::gil_scoped_release release; worker.join(); }
        throw py::error_already_set();
      }
      PyErr_Clear();
      interrupted = true;
      control.cancel = true;
    }
    if (!progress.is_none()) {
      // The callback runs Python code, so a Ctrl-C (or any error) can surface inside it: stop
      // the worker before anything propagates (a joinable std::thread must not be destroyed).
      try {
        progress(control.done.load());
      } catch (py::error_already_set& e) {
        control.cancel = true;
        { py::gil_scoped_release release; worker.join(); }
        if (!e.matches(PyExc_KeyboardInterrupt)) throw;
        if (error) std::rethrow_exception(error);
        return true;
      } catch (...) {  // e.g. a C++ cast error: same rule, never leave the worker joinable
        control.cancel = true;
        { py::gil_scoped_release release; worker.join(); }
        throw;
      }
    }
    if (done) break;
  }
  worker.join();
  if (error) std::rethrow_exception(error);
  return interrupted;
}

}  // namespace plrf_bind
