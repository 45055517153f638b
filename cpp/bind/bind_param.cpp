// Binding of the parameter-basis simulator (plrf/simulate/param_path.hpp): advances a resumable
// state (numpy arrays owned by python/plrf/coordinatewise.py, updated in place), GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <limits>
#include <string>
#include <vector>

#include "plrf/simulate/param_path.hpp"
#include "run_control.hpp"

namespace py = pybind11;
namespace sim = plrf::simulate;

namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

template <class T>
T* inplace(const py::array& a, py::ssize_t n, const char* name) {
  if (!py::isinstance<py::array_t<T>>(a) || !(a.flags() & py::array::c_style) || a.size() != n)
    throw py::value_error(std::string(name) + ": expected a C-contiguous array of " + std::to_string(n) + " elements");
  return static_cast<T*>(const_cast<void*>(a.data()));
}

// A coordinate-wise rule from its parameters (plrf.coordinatewise.CoordinateWise.core_args).
plrf::CoordRule make_rule(const std::string& rule, const plrf::Schedule& lr, double b1, double b2, double eps,
                          const plrf::Schedule& weight_decay, bool decoupled, std::vector<double> diag, double clip,
                          double clip_norm, double delta, double kappa, double g3, double clipsnr) {
  plrf::CoordRule coord;
  coord.kind = plrf::CoordRule::kind_of(rule), coord.lr = lr, coord.b1 = b1, coord.b2 = b2, coord.eps = eps;
  coord.weight_decay = weight_decay, coord.decoupled = decoupled, coord.diag = std::move(diag);
  coord.clip = clip, coord.clip_norm = clip_norm;
  coord.delta = delta, coord.kappa = kappa, coord.g3 = g3, coord.clipsnr = clipsnr;
  return coord;
}

py::tuple advance_param(const Array& eigenvalues, const Array& rho, double p_inf, const Array& eigenvectors,
                        const std::string& rule, const plrf::Schedule& lr, double b1, double b2, double eps,
                        const plrf::Schedule& weight_decay, bool decoupled, std::vector<double> diag, double clip,
                        double clip_norm, double delta, double kappa, double g3, double clipsnr,
                        const py::object& momentum, std::int64_t steps, std::int64_t batch,
                        std::vector<std::int64_t> record, const py::array& seeds, const py::array& e,
                        const py::array& theta, const py::array& m, const py::array& v, const py::array& step,
                        const py::array& diverged_at, const py::array& risk, const py::object& tau, int threads,
                        double budget, const py::object& progress, bool pack_rotation) {
  plrf::Spectrum spec;
  spec.eigenvalues = Eigen::Map<const Eigen::VectorXd>(eigenvalues.data(), eigenvalues.size());
  spec.rho = Eigen::Map<const Eigen::VectorXd>(rho.data(), rho.size());
  spec.p_inf = p_inf;
  const py::ssize_t d = eigenvalues.size(), S = seeds.size();
  if (eigenvectors.size() != d * d) throw py::value_error("eigenvectors must be d x d");
  plrf::CoordRule coord;
  const plrf::GenMomentum* mom = nullptr;
  if (momentum.is_none()) {
    coord = make_rule(rule, lr, b1, b2, eps, weight_decay, decoupled, std::move(diag), clip, clip_norm, delta, kappa, g3,
                      clipsnr);
  } else {
    mom = &momentum.cast<const plrf::GenMomentum&>();
  }
  const sim::ParamRun run(spec, eigenvectors.data(), mom ? nullptr : &coord, mom, steps, batch, std::move(record),
                          pack_rotation);
  const auto R = static_cast<py::ssize_t>(run.record.size());
  sim::ParamState st{inplace<std::uint64_t>(seeds, S, "seeds"), S, inplace<double>(e, S * d, "e"),
                     inplace<double>(theta, S * d, "theta"), inplace<double>(m, S * d, "m"),
                     inplace<double>(v, S * d, "v"), inplace<std::int64_t>(step, S, "step"),
                     inplace<std::int64_t>(diverged_at, S, "diverged_at"), inplace<double>(risk, S * R, "risk")};
  if (!mom && coord.uses_tau()) {  // dana_star's buffer: an S x d array, required
    if (tau.is_none()) throw py::value_error("tau: the dana_star rule needs its S x d buffer");
    st.tau = inplace<double>(tau.cast<py::array>(), S * d, "tau");
  }
  plrf::RunControl control;
  for (py::ssize_t i = 0; i < S; ++i) control.done += st.step[i];
  bool all_done = false;
  const bool interrupted = plrf_bind::run_interruptible(
      [&](plrf::RunControl& c) { all_done = sim::advance_param(run, st, threads, c, budget); }, control, progress);
  return py::make_tuple(interrupted, all_done);
}

// g_e of every seed at step t for the errors e (S x d): the draws of advance_param, for a Python update rule.
py::array_t<double> eigen_gradients(const Array& eigenvalues, double p_inf, std::int64_t batch, const py::array& seeds,
                                    std::uint64_t step, const Array& e, int threads) {
  plrf::Spectrum spec;
  spec.eigenvalues = Eigen::Map<const Eigen::VectorXd>(eigenvalues.data(), eigenvalues.size());
  spec.rho = Eigen::VectorXd::Zero(eigenvalues.size());
  const py::ssize_t d = eigenvalues.size(), S = seeds.size();
  if (batch < 1) throw py::value_error("batch must be >= 1");
  if (e.size() != S * d) throw py::value_error("e must be seeds x d");
  const auto* sd = inplace<std::uint64_t>(seeds, S, "seeds");
  std::vector<double> sl(static_cast<std::size_t>(d));
  for (py::ssize_t j = 0; j < d; ++j) sl[j] = std::sqrt(spec.eigenvalues[j]);
  py::array_t<double> out({S, d});
  double* po = out.mutable_data();
  const double* pe = e.data();
  const double sigma = std::sqrt(2.0 * p_inf);
  {
    py::gil_scoped_release release;
    plrf::parallel_for(S, threads, [&](std::int64_t s) {
      sim::draw_eigen_gradient(spec, sl.data(), sigma, batch, sd[s], step, pe + s * d, po + s * d);
    });
  }
  return out;
}

}  // namespace

void bind_param(py::module_& m) {
  // The rule as an object, for the full path (_simulate_advance(rule=...), plrf/simulate/full_space.hpp).
  py::class_<plrf::CoordRule>(m, "_CoordRule", "A coordinate-wise update rule (plrf/optim/coordinatewise.hpp).")
      .def(py::init(&make_rule), py::kw_only(), py::arg("rule"), py::arg("lr"), py::arg("b1"), py::arg("b2"),
           py::arg("eps"), py::arg("weight_decay"), py::arg("decoupled"), py::arg("diag"), py::arg("clip"),
           py::arg("clip_norm"), py::arg("delta") = 8.0, py::arg("kappa") = 1.0, py::arg("g3") = 1.0,
           py::arg("clipsnr") = 0.0);
  m.def("_simulate_param", &advance_param, py::kw_only(), py::arg("eigenvalues"), py::arg("rho"), py::arg("p_inf"),
        py::arg("eigenvectors"), py::arg("rule"), py::arg("lr"), py::arg("b1"), py::arg("b2"), py::arg("eps"),
        py::arg("weight_decay"), py::arg("decoupled"), py::arg("diag"), py::arg("clip"),
        py::arg("clip_norm"), py::arg("delta") = 8.0, py::arg("kappa") = 1.0, py::arg("g3") = 1.0,
        py::arg("clipsnr") = 0.0, py::arg("momentum"), py::arg("steps"),
        py::arg("batch"), py::arg("record"), py::arg("seeds"), py::arg("e"), py::arg("theta"), py::arg("m"),
        py::arg("v"), py::arg("step"), py::arg("diverged_at"), py::arg("risk"), py::arg("tau") = py::none(),
        py::arg("threads") = 0,
        py::arg("budget") = std::numeric_limits<double>::infinity(), py::arg("progress") = py::none(),
        py::arg("pack_rotation") = false,
        "Advance a parameter-basis simulation state in place (see plrf.coordinatewise); keywords only. "
        "A coordinate-wise rule (rule .. clipsnr; tau: dana_star's buffer) or, with momentum not None, Gen-Mom momentum. "
        "pack_rotation: pack U^T and U once per call (2 d^2 doubles more; the same bits, faster). "
        "Returns (interrupted, finished).");
  m.def("_param_gradients", &eigen_gradients, py::kw_only(), py::arg("eigenvalues"), py::arg("p_inf"),
        py::arg("batch"), py::arg("seeds"), py::arg("step"), py::arg("e"), py::arg("threads") = 0,
        "The eigenbasis batch gradients g_e (seeds x d) at errors e and step `step`: the parameter-basis "
        "engine's draws, for a Python update rule (plrf.coordinatewise).");
}
