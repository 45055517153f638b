// Bindings for the counter-based RNG: exposed for known-answer tests and for users who want
// plrf's exact random streams (e.g. to reproduce a sample outside the engines).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "plrf/rng/normal.hpp"

namespace py = pybind11;
using namespace plrf::rng;

namespace {
using Fill = void (*)(StreamKey, std::uint64_t, std::uint64_t, std::size_t, double*);

// Draws first..first+n-1 of stream (seed, stream) at step, without the GIL.
template <Fill fill>
py::array_t<double> draws(std::uint64_t seed, std::uint64_t stream, std::uint64_t step, std::uint64_t first,
                          std::size_t n) {
  py::array_t<double> out(n);
  double* ptr = out.mutable_data();
  py::gil_scoped_release release;
  fill({seed, stream}, step, first, n, ptr);
  return out;
}
}  // namespace

void bind_rng(py::module_& m) {
  m.def("philox4x64_10", &philox4x64_10, py::arg("counter"), py::arg("key"),
        "Philox4x64-10 block for a 4-word counter and 2-word key.");
  m.def("normals", &draws<fill_normals>, py::arg("seed"), py::arg("stream"), py::arg("step"), py::arg("first"),
        py::arg("n"), "Standard normals number first..first+n-1 of stream (seed, stream) at step.");
  m.def("uniforms", &draws<fill_uniforms>, py::arg("seed"), py::arg("stream"), py::arg("step"), py::arg("first"),
        py::arg("n"), "Uniforms in [0, 1), addressed like normals().");
}
