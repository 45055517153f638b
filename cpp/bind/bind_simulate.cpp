// Bindings for the simulate engine (filled in by its issue).
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_simulate(py::module_& m) { (void)m; }
