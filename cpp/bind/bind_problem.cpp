// Bindings for PLRF problems: generating rows of W from the seed.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <pybind11/eigen.h>

#include "plrf/problem/spectral_setup.hpp"

namespace py = pybind11;

void bind_problem(py::module_& m) {
  m.def(
      "feature_rows",
      [](std::uint64_t seed, std::int64_t d, std::int64_t row0, std::int64_t nrows, int threads) {
        if (d < 1 || row0 < 0 || nrows < 0) throw py::value_error("feature_rows: need d >= 1, row0 >= 0, nrows >= 0");
        py::array_t<double> out({nrows, d});
        double* ptr = out.mutable_data();
        py::gil_scoped_release release;
        plrf::feature_rows(seed, d, row0, nrows, ptr, threads);
        return out;
      },
      py::arg("seed"), py::arg("d"), py::arg("row0"), py::arg("nrows"), py::arg("threads") = 0,
      "Rows row0..row0+nrows-1 of the (v, d) feature matrix W for this seed (entries N(0, 1/d)).");
  m.def(
      "spectral_setup_eigen",
      [](double alpha, double beta, std::int64_t d, std::int64_t v, std::uint64_t seed, int threads) {
        const plrf::PlrfParams p{alpha, beta, v, d, seed};
        p.validate();
        plrf::SpectralSetup s;
        {
          py::gil_scoped_release release;
          s = plrf::spectral_setup(p, 1024, threads);
        }
        return py::make_tuple(s.spectrum.eigenvalues, s.spectrum.rho, s.spectrum.p_inf);
      },
      py::arg("alpha"), py::arg("beta"), py::arg("d"), py::arg("v"), py::arg("seed"), py::arg("threads") = 0,
      "The pure-C++ (Eigen) spectral setup: (eigenvalues, rho, p_inf). For C++ users and benchmarks;\n"
      "PLRF.spectrum() is the fast path (LAPACK through numpy).");
}
