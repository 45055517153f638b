// Bindings for the counter-based RNG: exposed for known-answer tests and for users who want
// plrf's exact random streams (e.g. to reproduce a sample outside the engines).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "plrf/rng/normal.hpp"

namespace py = pybind11;
using namespace plrf::rng;

namespace {
// The address limits of streams.hpp, as ValueErrors naming the argument.
void check_address(std::uint64_t stream, std::uint64_t step, std::uint64_t first, std::size_t n) {
  if (stream >= kStreamLimit) throw py::value_error("stream must be < 256, got " + std::to_string(stream));
  if (step >= kAddressLimit) throw py::value_error("step must be < 2**48, got " + std::to_string(step));
  if (first > kAddressLimit || n > kAddressLimit - first)
    throw py::value_error("first + n must be <= 2**48, got first=" + std::to_string(first) + " n=" + std::to_string(n));
}

// Draws first..first+n-1 of stream (seed, stream) at step, without the GIL.
template <class T, void (*fill)(StreamKey, std::uint64_t, std::uint64_t, std::size_t, T*)>
py::array_t<T> draws(std::uint64_t seed, std::uint64_t stream, std::uint64_t step, std::uint64_t first, std::size_t n) {
  check_address(stream, step, first, n);
  py::array_t<T> out(n);
  T* ptr = out.mutable_data();
  py::gil_scoped_release release;
  fill({seed, stream}, step, first, n, ptr);
  return out;
}
}  // namespace

void bind_rng(py::module_& m) {
  m.attr("STREAMS_VERSION") = kStreamsVersion;
  m.def("philox4x32_10", &philox4x32_10, py::arg("counter"), py::arg("key"),
        "Philox4x32-10 block for a 4-word counter and 2-word key (32-bit words).");
  m.def("words", &draws<std::uint64_t, fill_words>, py::arg("seed"), py::arg("stream"), py::arg("step"),
        py::arg("first"), py::arg("n"), "Raw 64-bit words number first..first+n-1 of stream (seed, stream) at step.");
  m.def("normals", &draws<double, fill_normals>, py::arg("seed"), py::arg("stream"), py::arg("step"),
        py::arg("first"), py::arg("n"), "Standard normals number first..first+n-1 of stream (seed, stream) at step.");
  m.def("uniforms", &draws<double, fill_uniforms>, py::arg("seed"), py::arg("stream"), py::arg("step"),
        py::arg("first"), py::arg("n"), "Uniforms in [0, 1), addressed like normals().");
}
