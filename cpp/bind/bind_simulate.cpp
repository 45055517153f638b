// Bindings for the streaming simulators: one entry point that advances a resumable state (numpy
// arrays owned by python/plrf/simulation.py, updated in place) with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "plrf/rng/gamma.hpp"
#include "plrf/simulate/driver.hpp"
#include "plrf/simulate/eigen_sampler.hpp"
#include "plrf/simulate/full_space.hpp"
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

// The cost model's choice of gradient evaluation, unless PLRF_FULL_PATH=features|reassociated
// forces one (tests compare the two; both follow the same trajectory up to rounding).
sim::FullPath full_path(std::int64_t batch, std::int64_t v, std::int64_t d) {
  const char* forced = std::getenv("PLRF_FULL_PATH");
  if (forced && !std::strcmp(forced, "features")) return sim::FullPath::kFeatures;
  if (forced && !std::strcmp(forced, "reassociated")) return sim::FullPath::kReassociated;
  return sim::choose_full_path(batch, v, d);
}

py::tuple advance(py::array_t<double, py::array::c_style | py::array::forcecast> eigenvalues, double p_inf, double risk0,
                  const plrf::GenMomentum& optimizer, std::int64_t steps, std::int64_t batch,
                  std::vector<std::int64_t> record, const std::string& sampler, const py::array& seeds,
                  const py::array& x, const py::array& y, const py::array& step, const py::array& diverged_at,
                  const py::array& risk, const py::object& full, int threads, double budget,
                  const py::object& progress) {
  plrf::Spectrum spec;
  spec.eigenvalues = Eigen::Map<const Eigen::VectorXd>(eigenvalues.data(), eigenvalues.size());
  spec.rho = Eigen::VectorXd::Zero(spec.dim());
  spec.p_inf = p_inf;
  spec.validate();
  optimizer.check_length(steps);
  sim::RunSpec run{&optimizer, steps, batch, std::move(record), risk0};
  const auto slots = make_slots(seeds, x, y, step, diverged_at, risk, spec.dim(),
                                static_cast<py::ssize_t>(run.record.size()));
  plrf::RunControl control;
  for (const auto& s : slots) control.done += *s.step;
  bool all_done = false;
  bool interrupted;
  if (full.is_none()) {
    if (sampler != "fast" && sampler != "explicit") throw py::value_error("sampler must be 'fast' or 'explicit'");
    const sim::EigenModel model(spec, batch, sampler == "fast" ? sim::Sampler::Fast : sim::Sampler::Explicit,
                                optimizer.is_sgd());
    interrupted = plrf_bind::run_interruptible(
        [&](plrf::RunControl& c) {
          all_done = sim::run_seeds(slots, run, threads, c, budget,
                                    [&](const sim::SeedSlot& s) { return sim::EigenStepper(model, s); });
        },
        control, progress);
  } else {
    const auto parts = full.cast<py::tuple>();  // (W, U, theta_star, alpha, beta)
    const py::array W = parts[0], U = parts[1], ts = parts[2];
    const py::ssize_t d = spec.dim(), v = W.size() / d;
    // Seeds run in parallel; threads beyond the seed count go to each seed's linear algebra.
    const int inner = std::max(1, plrf::resolve_threads(threads) / std::max<int>(1, static_cast<int>(slots.size())));
    const sim::FullModel model(spec, inplace<double>(W, v * d, "W"), v, inplace<double>(U, d * d, "eigenvectors"),
                               inplace<double>(ts, d, "theta_star"), parts[3].cast<double>(), parts[4].cast<double>(),
                               batch, steps, optimizer.is_sgd(), full_path(batch, v, d), inner);
    interrupted = plrf_bind::run_interruptible(
        [&](plrf::RunControl& c) {
          all_done = sim::run_seeds(slots, run, threads, c, budget,
                                    [&](const sim::SeedSlot& s) { return sim::FullStepper(model, s); });
        },
        control, progress);
  }
  return py::make_tuple(interrupted, all_done);
}

}  // namespace

void bind_simulate(py::module_& m) {
  m.def("_simulate_advance", &advance, py::arg("eigenvalues"), py::arg("p_inf"), py::arg("risk0"), py::arg("optimizer"),
        py::arg("steps"), py::arg("batch"), py::arg("record"), py::arg("sampler"), py::arg("seeds"), py::arg("x"),
        py::arg("y"), py::arg("step"), py::arg("diverged_at"), py::arg("risk"), py::arg("full"), py::arg("threads"),
        py::arg("budget"), py::arg("progress"),
        "Advance a simulation state in place (see plrf.simulation). Returns (interrupted, finished).");
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
