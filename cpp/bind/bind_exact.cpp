// Bindings for the exact-risk engines (recursion, block solver, ODE) and theory spectra.
// Thin: argument checks live in python/plrf/exact.py; long runs go through run_interruptible.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "plrf/exact/adaptive.hpp"
#include "plrf/exact/continuous.hpp"
#include "plrf/exact/experts.hpp"
#include "plrf/exact/sde_scheme.hpp"
#include "plrf/exact/fast.hpp"
#include "plrf/exact/ode.hpp"
#include "plrf/exact/recursion.hpp"
#include "plrf/exact/stability.hpp"
#include "plrf/spectrum/theory.hpp"
#include "run_control.hpp"

namespace py = pybind11;
using namespace plrf::exact;

namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

py::dict curve_dict(const RiskCurve& r, bool interrupted) {
  py::dict out;
  out["risk"] = py::array_t<double>(r.risk.size(), r.risk.data());
  out["diverged_at"] = r.diverged_at;
  out["interrupted"] = interrupted || r.interrupted;
  out["error_estimate"] = r.error_estimate;
  out["lr"] = py::array_t<double>(r.lr.size(), r.lr.data());
  return out;
}

// The node multiplicities: None (all ones) or an array of lam's length.
const double* mult_of(const std::optional<Array>& mult, const Array& lam) {
  if (!mult) return nullptr;
  if (mult->ndim() != 1 || mult->size() != lam.size()) throw py::value_error("multiplicity/lam shape mismatch");
  return mult->data();
}

// The method as a function (modes, optimizer, threads, control) -> RiskCurve.
std::function<RiskCurve(const Modes&, const plrf::GenMomentum&, int, plrf::RunControl&)> method_of(
    const std::string& method, const plrf::RecordGrid& record, double rtol, double dt,
    const std::string& model = "hsgd", int substeps = 0) {
  if (method == "exact")
    return [&record](const Modes& md, const plrf::GenMomentum& o, int th, plrf::RunControl& c) {
      return exact_risk(md, o, record, th, c);
    };
  if (method == "fast")
    return [&record, rtol](const Modes& md, const plrf::GenMomentum& o, int th, plrf::RunControl& c) {
      return fast_risk(md, o, record, rtol, th, c);
    };
  if (method == "ode")
    return [&record, dt](const Modes& md, const plrf::GenMomentum& o, int th, plrf::RunControl& c) {
      return ode_risk(md, o, record, dt, th, c);
    };
  if (method == "continuous") {
    const ContinuousModel cm = continuous_model(model);
    if (substeps > 0)  // the SDE simulator's own mean (risk frozen per substep)
      return [&record, cm, substeps](const Modes& md, const plrf::GenMomentum& o, int th, plrf::RunControl& c) {
        return sde_scheme_risk(md, o, cm == ContinuousModel::Ito, substeps, record, th, c);
      };
    return [&record, cm](const Modes& md, const plrf::GenMomentum& o, int th, plrf::RunControl& c) {
      return continuous_risk(md, o, cm, record, th, c);
    };
  }
  throw std::invalid_argument("unknown method " + method);
}

// The deterministic equivalent of a step-size controller (docs/adaptive.md): methods exact and ode.
std::function<RiskCurve(const Modes&, const plrf::GenMomentum&, int, plrf::RunControl&)> controlled_method_of(
    const std::string& method, const plrf::Controller& ctrl, const plrf::RecordGrid& record, double dt) {
  if (method == "exact")
    return [&record, &ctrl](const Modes& md, const plrf::GenMomentum& o, int th, plrf::RunControl& c) {
      return exact_risk_controlled(md, o, ctrl, record, th, c);
    };
  if (method == "ode")
    return [&record, &ctrl, dt](const Modes& md, const plrf::GenMomentum& o, int th, plrf::RunControl& c) {
      return ode_risk_controlled(md, o, ctrl, record, dt, th, c);
    };
  throw std::invalid_argument("method " + method + " cannot run a step-size controller");
}

py::dict run(const Array& lam, const Array& rho, const std::optional<Array>& mult, double p_inf, std::int64_t batch,
             const plrf::GenMomentum& opt, std::vector<std::int64_t> record_steps, std::int64_t steps,
             const std::string& method, double rtol, int threads, double dt, const py::object& progress,
             const std::string& model, int substeps, const py::object& controller) {
  if (lam.ndim() != 1 || rho.ndim() != 1 || lam.size() != rho.size()) throw py::value_error("lam/rho shape mismatch");
  if (batch < 1) throw py::value_error("batch must be >= 1");
  const plrf::RecordGrid record(std::move(record_steps), steps);
  const Modes md{{lam.data(), rho.data(), static_cast<std::int64_t>(lam.size()), p_inf, mult_of(mult, lam)}, batch};
  md.validate();  // the C++ rule, whatever the caller checked
  RiskCurve result;
  plrf::RunControl control;
  const plrf::Controller* ctrl = controller.is_none() ? nullptr : &controller.cast<const plrf::Controller&>();
  const auto method_fn = ctrl ? controlled_method_of(method, *ctrl, record, dt)
                              : method_of(method, record, rtol, dt, model, substeps);
  auto work = [&](plrf::RunControl& ctl) { result = method_fn(md, opt, threads, ctl); };
  const bool interrupted = plrf_bind::run_interruptible(work, control, progress);
  return curve_dict(result, interrupted);
}

// Every expert's curve (docs/families.md §1): dict(parts = m x records, diverged_at = per expert,
// interrupted, error_estimate = per expert).
py::dict run_experts(const Array& lam, const Array& rho, const std::optional<Array>& mult, double p_inf,
                     std::int64_t batch, const std::vector<plrf::GenMomentum>& opts, const std::vector<double>& p,
                     bool expert_clock, std::vector<std::int64_t> record_steps, std::int64_t steps,
                     const std::string& method, double rtol, int threads, double dt, const py::object& progress) {
  if (lam.ndim() != 1 || rho.ndim() != 1 || lam.size() != rho.size()) throw py::value_error("lam/rho shape mismatch");
  if (batch < 1) throw py::value_error("batch must be >= 1");
  if (opts.size() != p.size() || p.empty()) throw py::value_error("need one optimizer per expert");
  const plrf::RecordGrid record(std::move(record_steps), steps);
  const Modes md{{lam.data(), rho.data(), static_cast<std::int64_t>(lam.size()), p_inf, mult_of(mult, lam)}, batch};
  std::vector<RiskCurve> parts;
  plrf::RunControl control;
  const auto method_fn = method_of(method, record, rtol, dt);
  auto work = [&](plrf::RunControl& ctl) { parts = expert_risks(md, opts, p, expert_clock, threads, ctl, method_fn); };
  const bool interrupted = plrf_bind::run_interruptible(work, control, progress);
  const std::size_t m = parts.size(), n = record.size();
  py::array_t<double> risk({m, n});
  py::array_t<std::int64_t> diverged(m);
  py::array_t<double> error(m);
  bool any_interrupted = interrupted;
  for (std::size_t i = 0; i < m; ++i) {
    std::copy(parts[i].risk.begin(), parts[i].risk.end(), risk.mutable_data(i, 0));
    diverged.mutable_at(i) = parts[i].diverged_at;
    error.mutable_at(i) = parts[i].error_estimate;
    any_interrupted = any_interrupted || parts[i].interrupted;
  }
  py::dict out;
  out["parts"] = risk;
  out["diverged_at"] = diverged;
  out["interrupted"] = any_interrupted;
  out["error_estimate"] = error;
  return out;
}

Modes modes_of(const Array& lam, const std::optional<Array>& mult, std::int64_t batch) {
  if (lam.ndim() != 1 || lam.size() < 1) throw py::value_error("lam must be a non-empty 1-D array");
  if (batch < 1) throw py::value_error("batch must be >= 1");
  const Modes md{{lam.data(), nullptr, static_cast<std::int64_t>(lam.size()), 0.0, mult_of(mult, lam)}, batch};
  md.validate();
  return md;
}

}  // namespace

void bind_exact(py::module_& m) {
  m.def("exact_risk", &run, py::arg("lam"), py::arg("rho"), py::arg("multiplicity"), py::arg("p_inf"),
        py::arg("batch"), py::arg("optimizer"), py::arg("record"), py::arg("steps"), py::arg("method"),
        py::arg("rtol"), py::arg("threads"), py::arg("dt"), py::arg("progress") = py::none(),
        py::arg("model") = "hsgd", py::arg("substeps") = 0, py::arg("controller") = py::none(),
        "Expected risk P at the record steps: dict(risk, diverged_at, interrupted, error_estimate, lr); "
        "model ('continuized', 'ito', 'hsgd') and substeps (0: the continuous model; n: the mean of the SDE "
        "simulator with n substeps per step) are read by method='continuous' only; with a controller (methods "
        "exact, ode) the deterministic equivalent and its lr curve.");
  m.def("exact_risk_experts", &run_experts, py::arg("lam"), py::arg("rho"), py::arg("multiplicity"),
        py::arg("p_inf"), py::arg("batch"), py::arg("optimizers"), py::arg("p"), py::arg("expert_clock"),
        py::arg("record"), py::arg("steps"), py::arg("method"), py::arg("rtol"), py::arg("threads"), py::arg("dt"),
        py::arg("progress") = py::none(),
        "Every expert's expected risk (docs/families.md §1): dict(parts, diverged_at, interrupted, error_estimate).");
  m.def(
      "max_stable_lr",
      [](const Array& lam, const std::optional<Array>& mult, std::int64_t batch) {
        return max_stable_lr(modes_of(lam, mult, batch));
      },
      py::arg("lam"), py::arg("multiplicity"), py::arg("batch"), "Largest SGD learning rate whose Volterra kernel norm is < 1.");
  m.def(
      "kernel_norm",
      [](const Array& lam, const std::optional<Array>& mult, std::int64_t batch, const plrf::GenMomentum& opt, double t) {
        return kernel_norm(modes_of(lam, mult, batch), opt.at(t));
      },
      py::arg("lam"), py::arg("multiplicity"), py::arg("batch"), py::arg("optimizer"), py::arg("t") = 0.0,
      "Volterra kernel norm of the moment recursion with the coefficients frozen at step t.");
  m.def(
      "check_record",
      [](std::vector<std::int64_t> record, std::int64_t steps) { (void)plrf::RecordGrid(std::move(record), steps); },
      py::arg("record"), py::arg("steps"),
      "Raise ValueError unless record is a valid grid for a run of `steps` steps (plrf/runtime/record_grid.hpp).");
  m.def(
      "theory_p_inf",
      [](double alpha, double beta, std::int64_t d, std::int64_t v) {
        double k = 0.0, p = 0.0;
        {
          py::gil_scoped_release release;
          if (v <= d) throw std::invalid_argument("the kappa fixed point needs v > d");
          const auto nodes = plrf::theory_spectrum::power_law_nodes(alpha, beta, v, 100000, 1e-4);
          k = plrf::theory_spectrum::kappa(nodes, d);
          p = plrf::theory_spectrum::p_inf(nodes, k);
        }
        return py::make_tuple(k, p);
      },
      py::arg("alpha"), py::arg("beta"), py::arg("d"), py::arg("v"), "(kappa, P_inf) of the deterministic equivalent.");
  m.def(
      "theory_densities",
      [](double alpha, double beta, std::int64_t d, std::int64_t v, double p_inf, std::vector<double> x, double eta,
         std::int64_t j_exact, double bin, const py::object& progress) {
        const auto nodes = plrf::theory_spectrum::power_law_nodes(alpha, beta, v, j_exact, bin);
        std::vector<double> nu, w;
        plrf::RunControl control;
        const bool interrupted = plrf_bind::run_interruptible(
            [&](plrf::RunControl& c) { plrf::theory_spectrum::densities(nodes, static_cast<double>(d), p_inf, x, eta, nu, w, c); },
            control, progress);
        if (interrupted) {  // a spectrum has no useful partial result
          PyErr_SetNone(PyExc_KeyboardInterrupt);
          throw py::error_already_set();
        }
        return py::make_tuple(py::array_t<double>(nu.size(), nu.data()), py::array_t<double>(w.size(), w.data()));
      },
      py::arg("alpha"), py::arg("beta"), py::arg("d"), py::arg("v"), py::arg("p_inf"), py::arg("x"), py::arg("eta"),
      py::arg("j_exact"),
      py::arg("bin"), py::arg("progress") = py::none(),
      "Per-unit-ln-x eigenvalue density nu and rho density w of the deterministic equivalent on the grid x, "
      "read through 2 K_eta - K_2eta (unit mass, O(eta^3) tails), so they come out normalised.");
}
