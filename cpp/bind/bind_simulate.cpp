// Bindings for the streaming simulators: one entry point that advances a resumable state (numpy
// arrays owned by python/plrf/simulation.py, updated in place) with the GIL released. Thin: the
// path and thread policy live in plrf/simulate/run.hpp, the checks in RunSpec and Python.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "plrf/rng/gamma.hpp"
#include "plrf/simulate/routing.hpp"
#include "plrf/simulate/run.hpp"
#include "run_control.hpp"

namespace py = pybind11;
namespace sim = plrf::simulate;

namespace {

// A C-contiguous array of T with n elements, used in place (never a converted copy).
template <class T>
T* inplace(const py::array& a, py::ssize_t n, const char* name) {
  if (!py::isinstance<py::array_t<T>>(a) || !(a.flags() & py::array::c_style) || a.size() != n)
    throw py::value_error(std::string(name) + ": expected a C-contiguous array of " + std::to_string(n) + " elements");
  return static_cast<T*>(const_cast<void*>(a.data()));
}

std::vector<sim::SeedSlot> make_slots(const py::array& seeds, const py::array& x, const py::array& y,
                                      const py::array& step, const py::array& div, const py::array& risk,
                                      py::ssize_t d, py::ssize_t n_record) {
  const py::ssize_t S = seeds.size();
  const auto* sd = inplace<std::uint64_t>(seeds, S, "seeds");
  double* px = inplace<double>(x, S * d, "x");
  double* py_ = inplace<double>(y, S * d, "y");
  auto* ps = inplace<std::int64_t>(step, S, "step");
  auto* pd = inplace<std::int64_t>(div, S, "diverged_at");
  double* pr = inplace<double>(risk, S * n_record, "risk");
  std::vector<sim::SeedSlot> slots(static_cast<std::size_t>(S));
  for (py::ssize_t i = 0; i < S; ++i) slots[i] = {sd[i], px + i * d, py_ + i * d, ps + i, pd + i, pr + i * n_record};
  return slots;
}

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

plrf::Spectrum spectrum_of(const Array& eigenvalues, const Array& rho, double p_inf) {
  plrf::Spectrum spec;
  spec.eigenvalues = Eigen::Map<const Eigen::VectorXd>(eigenvalues.data(), eigenvalues.size());
  spec.rho = Eigen::Map<const Eigen::VectorXd>(rho.data(), rho.size());
  spec.p_inf = p_inf;
  return spec;  // validated once, by simulate/run.hpp
}

// Full-space arrays (all None on the eigen path), used in place.
sim::FullProblem full_problem(const py::object& W, const py::object& eigenvectors, const py::object& theta_star,
                              double alpha, double beta, py::ssize_t d, int activation, double activation_scale) {
  const py::array w = W, u = eigenvectors, ts = theta_star;
  const py::ssize_t v = w.size() / d;
  if (activation < 0 || activation > static_cast<int>(sim::Activation::kGelu))
    throw py::value_error("activation must be a code of plrf.nonlinear.CORE_CODES (0..4)");
  if (!(activation_scale > 0.0) || !std::isfinite(activation_scale))
    throw py::value_error("activation_scale must be finite and > 0");
  return {inplace<double>(w, v * d, "W"), v, inplace<double>(u, d * d, "eigenvectors"),
          inplace<double>(ts, d, "theta_star"), alpha, beta,
          sim::FeatureMap{static_cast<sim::Activation>(activation), activation_scale}};
}

py::tuple advance(const Array& eigenvalues, const Array& rho, double p_inf, const plrf::GenMomentum& optimizer,
                  std::int64_t steps, std::int64_t batch, std::vector<std::int64_t> record, const std::string& sampler,
                  const py::array& seeds, const py::array& x, const py::array& y, const py::array& step,
                  const py::array& diverged_at, const py::array& risk, const py::object& W,
                  const py::object& eigenvectors, const py::object& theta_star, double alpha, double beta, int threads,
                  double budget, const py::object& progress, const std::string& dynamics, int substeps,
                  const py::object& controller, double trace2, const py::object& ctrl, const py::object& lr,
                  int activation, double activation_scale, const py::object& rule, const py::object& v,
                  const py::object& tau) {
  const plrf::Spectrum spec = spectrum_of(eigenvalues, rho, p_inf);
  sim::RunSpec run(&optimizer, steps, batch, std::move(record), spec.risk0());
  auto slots = make_slots(seeds, x, y, step, diverged_at, risk, spec.dim(), static_cast<py::ssize_t>(run.record.size()));
  if (!controller.is_none()) {  // per-seed [state, last multiplier] and the lr record
    run.controller = &controller.cast<const plrf::Controller&>(), run.trace2 = trace2;
    const auto n = static_cast<py::ssize_t>(slots.size()), r = static_cast<py::ssize_t>(run.record.size());
    double* pc = inplace<double>(ctrl, n * plrf::kControllerSlots, "ctrl");
    double* pl = inplace<double>(lr, n * r, "lr");
    for (py::ssize_t i = 0; i < n; ++i) slots[i].ctrl = pc + i * plrf::kControllerSlots, slots[i].lr = pl + i * r;
  }
  plrf::RunControl control;
  for (const auto& s : slots) control.done += *s.step;
  bool all_done = false;
  std::function<bool(plrf::RunControl&)> go;
  const sim::Dynamics dyn = sim::dynamics_of(dynamics);
  if (!rule.is_none() && (W.is_none() || dyn != sim::Dynamics::Sgd))
    throw py::value_error("a coordinate-wise rule runs on the full path with dynamics='sgd' (else _simulate_param)");
  if (dyn != sim::Dynamics::Sgd) {
    if (!W.is_none()) throw py::value_error("dynamics other than 'sgd' run on the eigen path only");
    if (!controller.is_none()) throw py::value_error("a step-size controller runs with dynamics='sgd' only");
    go = [&, dyn](plrf::RunControl& c) { return sim::advance_sde(spec, run, dyn, substeps, slots, threads, c, budget); };
  } else if (W.is_none()) {
    if (sampler != "fast" && sampler != "explicit") throw py::value_error("sampler must be 'fast' or 'explicit'");
    const auto kind = sampler == "fast" ? sim::Sampler::Fast : sim::Sampler::Explicit;
    go = [&, kind](plrf::RunControl& c) { return sim::advance_eigen(spec, run, kind, slots, threads, c, budget); };
  } else {
    const auto full = full_problem(W, eigenvectors, theta_star, alpha, beta, spec.dim(), activation, activation_scale);
    const plrf::CoordRule* coord = rule.is_none() ? nullptr : &rule.cast<const plrf::CoordRule&>();
    if (coord) {  // the rule's second buffer (y holds its first) and dana_star's third (checked in run.hpp)
      const auto n = static_cast<py::ssize_t>(slots.size());
      double* pv = inplace<double>(v, n * spec.dim(), "v");
      double* pt = tau.is_none() ? nullptr : inplace<double>(tau, n * spec.dim(), "tau");
      for (py::ssize_t i = 0; i < n; ++i) {
        slots[i].v = pv + i * spec.dim();
        if (pt) slots[i].tau = pt + i * spec.dim();
      }
    }
    go = [&, full, coord](plrf::RunControl& c) {
      return sim::advance_full(spec, run, full, slots, threads, c, budget, coord);
    };
  }
  const bool interrupted =
      plrf_bind::run_interruptible([&](plrf::RunControl& c) { all_done = go(c); }, control, progress);
  return py::make_tuple(interrupted, all_done);
}

// A mixture of experts (docs/families.md §1) on the eigen path with the fast sampler: x and y hold
// seeds x (m d), parts seeds x m x records; runs to the end (no time budget).
py::tuple advance_experts(const Array& eigenvalues, const Array& rho, double p_inf,
                          const std::vector<plrf::GenMomentum>& optimizers, std::vector<double> p,
                          std::vector<double> weight, bool expert_clock, bool sparse, std::int64_t steps,
                          std::int64_t batch, std::vector<std::int64_t> record, const py::array& seeds,
                          const py::array& x, const py::array& y, const py::array& step, const py::array& diverged_at,
                          const py::array& risk, const py::array& parts, int threads, const py::object& progress) {
  if (optimizers.empty() || optimizers.size() != p.size() || weight.size() != p.size())
    throw py::value_error("need one optimizer and one weight per expert");
  const plrf::Spectrum spec = spectrum_of(eigenvalues, rho, p_inf);
  const sim::RunSpec run(&optimizers[0], steps, batch, std::move(record), spec.risk0());
  for (const auto& o : optimizers) o.check_length(steps);
  std::vector<const plrf::GenMomentum*> opts;
  for (const auto& o : optimizers) opts.push_back(&o);
  const sim::Routing routing(std::move(p), std::move(weight), std::move(opts), expert_clock, sparse);
  const auto m = static_cast<py::ssize_t>(routing.m()), n_record = static_cast<py::ssize_t>(run.record.size());
  const auto slots = make_slots(seeds, x, y, step, diverged_at, risk, spec.dim() * m, n_record);
  double* pp = inplace<double>(parts, seeds.size() * m * n_record, "parts");
  plrf::RunControl control;
  for (const auto& s : slots) control.done += *s.step;
  bool all_done = false;
  const double budget = std::numeric_limits<double>::infinity();
  const bool interrupted = plrf_bind::run_interruptible(
      [&](plrf::RunControl& c) { all_done = sim::advance_experts(spec, run, routing, slots, pp, threads, c, budget); },
      control, progress);
  return py::make_tuple(interrupted, all_done);
}

}  // namespace

void bind_simulate(py::module_& m) {
  m.def("_simulate_advance", &advance, py::kw_only(), py::arg("eigenvalues"), py::arg("rho"), py::arg("p_inf"),
        py::arg("optimizer"), py::arg("steps"), py::arg("batch"), py::arg("record"), py::arg("sampler"),
        py::arg("seeds"), py::arg("x"), py::arg("y"), py::arg("step"), py::arg("diverged_at"), py::arg("risk"),
        py::arg("W") = py::none(), py::arg("eigenvectors") = py::none(), py::arg("theta_star") = py::none(),
        py::arg("alpha") = 0.0, py::arg("beta") = 0.0, py::arg("threads") = 0,
        py::arg("budget") = std::numeric_limits<double>::infinity(), py::arg("progress") = py::none(),
        py::arg("dynamics") = "sgd", py::arg("substeps") = 1, py::arg("controller") = py::none(),
        py::arg("trace2") = 0.0, py::arg("ctrl") = py::none(), py::arg("lr") = py::none(),
        py::arg("activation") = 0, py::arg("activation_scale") = 1.0, py::arg("rule") = py::none(),
        py::arg("v") = py::none(), py::arg("tau") = py::none(),
        "Advance a simulation state in place (see plrf.simulation); keywords only. The spectrum "
        "(eigenvalues, rho, p_inf), the run (optimizer .. sampler), the per-seed state arrays (seeds .. "
        "risk), on the full path W, eigenvectors, theta_star, alpha, beta and the activation (code, pre-activation scale), the dynamics ('sgd', 'hsgd', 'ito', "
        "'gaussianised') with its substeps per step, and with a controller, tr K^2 and the per-seed ctrl (n, 2) "
        "and lr (n, records) arrays; on the full path, a coordinate-wise rule (a _CoordRule, optimizer then unused) with "
        "its per-seed v (n, d) buffer (y holds its m) and, for dana_star, its tau (n, d) buffer. "
        "Returns (interrupted, finished).");
  m.def("_simulate_experts", &advance_experts, py::kw_only(), py::arg("eigenvalues"), py::arg("rho"),
        py::arg("p_inf"), py::arg("optimizers"), py::arg("p"), py::arg("weight"), py::arg("expert_clock"),
        py::arg("sparse"), py::arg("steps"), py::arg("batch"), py::arg("record"), py::arg("seeds"), py::arg("x"),
        py::arg("y"), py::arg("step"), py::arg("diverged_at"), py::arg("risk"), py::arg("parts"),
        py::arg("threads") = 0, py::arg("progress") = py::none(),
        "Run a mixture-of-experts simulation state in place (see plrf.simulation); keywords only. "
        "Returns (interrupted, finished).");
  m.def(
      "_chi_square_variates",
      [](double k, std::uint64_t seed, std::uint64_t step, std::size_t n) {
        py::array_t<double> out(n);
        double* p = out.mutable_data();
        for (std::size_t i = 0; i < n; ++i) p[i] = plrf::rng::chi_square(k, {seed, plrf::rng::kScalars}, step, i);
        return out;
      },
      py::arg("k"), py::arg("seed"), py::arg("step"), py::arg("n"),
      "Chi-square(k) variates number 0..n-1 of (seed, kScalars) at `step` (exposed for tests).");
}
