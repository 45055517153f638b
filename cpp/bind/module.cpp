// The plrf._core extension: one bind_*.cpp file per area (rng, problem, optim, simulate, exact, param).
#include <pybind11/pybind11.h>

#include "plrf/runtime/isa.hpp"

namespace py = pybind11;

void bind_rng(py::module_& m);
void bind_problem(py::module_& m);
void bind_optim(py::module_& m);
void bind_simulate(py::module_& m);
void bind_exact(py::module_& m);
void bind_param(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "plrf C++ core";
  bind_rng(m);
  bind_problem(m);
  bind_optim(m);
  bind_simulate(m);
  bind_exact(m);
  bind_param(m);
  m.def("isa", [] { return plrf::isa_name(plrf::isa()); },
        "Instruction set the hot kernels use on this CPU (PLRF_ISA=baseline|avx2 caps it).");
}
