// Bindings for schedules and the Gen-Mom-SGD optimizer family. Both pickle and have a repr;
// the named members (sgd, dana, ...) are built in python/plrf/optim.py.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "plrf/optim/controller.hpp"
#include "plrf/optim/gen_momentum.hpp"

namespace py = pybind11;
using plrf::GenMomentum;
using plrf::Schedule;
using plrf::UpdateKnobs;

namespace {

py::tuple schedule_state(const Schedule& s) {
  return py::make_tuple(static_cast<int>(s.kind()), s.c(), s.tau(), s.p(), s.values());
}

Schedule schedule_from_state(const py::tuple& t) {
  switch (static_cast<Schedule::Kind>(t[0].cast<int>())) {
    case Schedule::Kind::Constant: return Schedule::constant(t[1].cast<double>());
    case Schedule::Kind::PowerLaw: return Schedule::power_law(t[1].cast<double>(), t[2].cast<double>(), t[3].cast<double>());
    case Schedule::Kind::Array: return Schedule::array(t[4].cast<std::vector<double>>());
  }
  throw std::runtime_error("bad Schedule state");
}

// A controller from its name and parameters (python/plrf/controllers.py builds and checks them).
plrf::Controller make_controller(const std::string& name, unsigned placement, double G, double b0, double c,
                                 double floor, double beta, double eps, double delta) {
  using K = plrf::Controller::Kind;
  plrf::Controller ctrl;
  if (name == "adagrad_norm") ctrl.kind = K::AdaGradNorm;
  else if (name == "polyak") ctrl.kind = K::Polyak;
  else if (name == "line_search") ctrl.kind = K::LineSearch;
  else if (name == "risk_norm" || name == "rmsprop_dana") ctrl.kind = K::RiskNorm;
  else if (name == "ema_norm") ctrl.kind = K::EmaNorm;
  else if (name == "log_ema_norm") ctrl.kind = K::LogEmaNorm;
  else if (name != "none") throw py::value_error("unknown controller " + name);
  ctrl.name = name, ctrl.placement = placement, ctrl.G = G, ctrl.b0 = b0, ctrl.c = c, ctrl.floor = floor;
  ctrl.beta = beta, ctrl.eps = eps, ctrl.delta = delta;
  ctrl.validate();
  return ctrl;
}

std::string schedule_repr(const Schedule& s) {
  std::ostringstream os;
  os.precision(6);
  switch (s.kind()) {
    case Schedule::Kind::Constant: os << "Schedule.constant(" << s.c() << ")"; break;
    case Schedule::Kind::PowerLaw: os << "Schedule.power_law(c=" << s.c() << ", tau=" << s.tau() << ", p=" << s.p() << ")"; break;
    case Schedule::Kind::Array: os << "Schedule.array(<" << s.values().size() << " values>)"; break;
  }
  return os.str();
}

// The extra knobs (optim/update_knobs.hpp): (l2, decay, noise, svag_l), then (clip, clip_noise) when
// clipping is on (so that every state saved before clipping existed keeps its bytes).
py::tuple knobs_state(const UpdateKnobs& k) {
  py::tuple out = py::make_tuple(schedule_state(k.l2), schedule_state(k.decay), schedule_state(k.noise), k.svag_l);
  return k.clips() ? py::tuple(out + py::make_tuple(k.clip, k.clip_noise)) : out;
}

UpdateKnobs knobs_from(Schedule l2, Schedule decay, Schedule noise, double svag_l,
                       double clip = std::numeric_limits<double>::infinity(), double clip_noise = 0.0) {
  UpdateKnobs k{std::move(l2), std::move(decay), std::move(noise), svag_l, clip, clip_noise};
  k.validate();
  return k;
}

UpdateKnobs knobs_from_state(const py::tuple& t) {
  const bool clips = t.size() > 4;
  return knobs_from(schedule_from_state(t[0]), schedule_from_state(t[1]), schedule_from_state(t[2]),
                    t[3].cast<double>(), clips ? t[4].cast<double>() : std::numeric_limits<double>::infinity(),
                    clips ? t[5].cast<double>() : 0.0);
}

// (gamma1, gamma2, gamma3, delta, name, knobs); a 5-tuple (no knobs) also loads.
py::tuple optimizer_state(const GenMomentum& o) {
  return py::make_tuple(schedule_state(o.gamma1), schedule_state(o.gamma2), schedule_state(o.gamma3),
                        schedule_state(o.delta), o.name, knobs_state(o.knobs));
}

GenMomentum optimizer_from_state(const py::tuple& t) {
  GenMomentum o{schedule_from_state(t[0]), schedule_from_state(t[1]), schedule_from_state(t[2]),
                schedule_from_state(t[3]), t[4].cast<std::string>()};
  if (t.size() > 5) o.knobs = knobs_from_state(t[5]);
  return o;
}

}  // namespace

void bind_optim(py::module_& m) {
  py::class_<Schedule> sched(m, "Schedule", "A hyperparameter schedule evaluated at step t = 0, 1, ...");
  py::enum_<Schedule::Kind>(sched, "Kind")
      .value("constant", Schedule::Kind::Constant)
      .value("power_law", Schedule::Kind::PowerLaw)
      .value("array", Schedule::Kind::Array);
  sched.def_static("constant", &Schedule::constant, py::arg("c"))
      .def_static("power_law", &Schedule::power_law, py::arg("c"), py::arg("tau"), py::arg("p"),
                  "c * (1 + t / tau)**p")
      .def_static("array", &Schedule::array, py::arg("values"), "values[t] (must cover every step)")
      .def(
          "__call__",
          [](const Schedule& s, double t) {
            // the engines read t as an unsigned step: refuse what would wrap (negative) or is no step (NaN, inf)
            if (!(t >= 0.0) || !std::isfinite(t)) throw py::value_error("t must be a finite step >= 0, got " + plrf::format_number(t));
            return s(t);
          },
          py::arg("t"), "schedule(t) for a step t >= 0 (a negative, NaN or infinite t is refused naming it)")
      .def_property_readonly("kind", &Schedule::kind)
      .def_property_readonly("c", &Schedule::c)
      .def_property_readonly("tau", &Schedule::tau)
      .def_property_readonly("p", &Schedule::p)
      .def_property_readonly("values", &Schedule::values)
      .def("__repr__", &schedule_repr)
      .def("__eq__", [](const Schedule& a, const Schedule& b) { return schedule_state(a).equal(schedule_state(b)); })
      .def(py::pickle(&schedule_state, &schedule_from_state));

  py::class_<GenMomentum>(m, "GenMomentum",
                          "Gen-Mom-SGD: y' = (1 - delta) y + gamma1 g; theta' = theta - gamma2 g - gamma3 y'")
      .def(py::init([](Schedule g1, Schedule g2, Schedule g3, Schedule delta, std::string name, Schedule l2,
                       Schedule decay, Schedule noise, double svag_l, double clip, double clip_noise) {
             return GenMomentum{std::move(g1), std::move(g2), std::move(g3), std::move(delta), std::move(name),
                                knobs_from(std::move(l2), std::move(decay), std::move(noise), svag_l, clip,
                                           clip_noise)};
           }),
           py::arg("gamma1"), py::arg("gamma2"), py::arg("gamma3"), py::arg("delta"), py::arg("name") = "gen_momentum",
           py::kw_only(), py::arg("l2") = Schedule::constant(0.0), py::arg("decay") = Schedule::constant(0.0),
           py::arg("noise") = Schedule::constant(0.0), py::arg("svag_l") = 1.0,
           py::arg("clip") = std::numeric_limits<double>::infinity(), py::arg("clip_noise") = 0.0,
           "l2 (ridge), decay (decoupled weight decay) and noise (injected noise std) are schedules, svag_l >= 1 "
           "the SVAG parameter (docs/families.md §2-3); clip (> 0, oo = off) and clip_noise (the noise "
           "multiplier) are DP-SGD's per-sample clipping (docs/privacy.md); see plrf.with_decay, plrf.svag "
           "and plrf.clip.")
      .def_readonly("gamma1", &GenMomentum::gamma1)
      .def_readonly("gamma2", &GenMomentum::gamma2)
      .def_readonly("gamma3", &GenMomentum::gamma3)
      .def_readonly("delta", &GenMomentum::delta)
      .def_readonly("name", &GenMomentum::name)
      .def_property_readonly("l2", [](const GenMomentum& o) { return o.knobs.l2; })
      .def_property_readonly("decay", [](const GenMomentum& o) { return o.knobs.decay; })
      .def_property_readonly("noise", [](const GenMomentum& o) { return o.knobs.noise; })
      .def_property_readonly("svag_l", [](const GenMomentum& o) { return o.knobs.svag_l; })
      .def_property_readonly("clip", [](const GenMomentum& o) { return o.knobs.clip; })
      .def_property_readonly("clip_noise", [](const GenMomentum& o) { return o.knobs.clip_noise; })
      .def("has_affine_knobs", [](const GenMomentum& o) { return o.knobs.affine(); },
           "True if ridge, decay or noise is on (the exact recursion then carries five moments per mode).")
      .def("is_sgd", &GenMomentum::is_sgd)
      .def("check_length", &GenMomentum::check_length, py::arg("steps"))
      .def(
          "coefficients",
          [](const GenMomentum& o, double t) {
            const auto c = o.at(t);
            py::dict out(py::arg("gamma1") = c.gamma1, py::arg("gamma2") = c.gamma2, py::arg("gamma3") = c.gamma3,
                         py::arg("delta") = c.delta);
            if (o.knobs.affine() || o.knobs.svag())
              out["l2"] = c.l2, out["decay"] = c.decay, out["noise"] = c.noise, out["svag_l"] = c.noise_scale;
            return out;
          },
          py::arg("t"),
          "The four hyperparameters at step t (gamma2, gamma3 already divided by SVAG's l), and l2, decay, "
          "noise, svag_l when any of those knobs is on.")
      .def("__repr__",
           [](const GenMomentum& o) {
             std::string knobs;
             if (o.knobs.affine())
               knobs += ", l2=" + schedule_repr(o.knobs.l2) + ", decay=" + schedule_repr(o.knobs.decay) +
                        ", noise=" + schedule_repr(o.knobs.noise);
             if (o.knobs.svag()) knobs += ", svag_l=" + plrf::format_number(o.knobs.svag_l);
             if (o.knobs.clips())
               knobs += ", clip=" + plrf::format_number(o.knobs.clip) +
                        ", clip_noise=" + plrf::format_number(o.knobs.clip_noise);
             return o.name + "(gamma1=" + schedule_repr(o.gamma1) + ", gamma2=" + schedule_repr(o.gamma2) +
                    ", gamma3=" + schedule_repr(o.gamma3) + ", delta=" + schedule_repr(o.delta) + knobs + ")";
           })
      .def("__eq__",
           [](const GenMomentum& a, const GenMomentum& b) { return optimizer_state(a).equal(optimizer_state(b)); })
      .def(py::pickle(&optimizer_state, &optimizer_from_state));

  py::class_<plrf::Controller>(m, "Controller", "A step-size controller (build it with plrf.controllers)")
      .def(py::init(&make_controller), py::arg("name"), py::arg("placement"), py::arg("G") = 1.0, py::arg("b0") = 1.0,
           py::arg("c") = 0.5, py::arg("floor") = 0.0, py::arg("beta") = 0.99, py::arg("eps") = 0.0,
           py::arg("delta") = 8.0)
      .def_readonly("name", &plrf::Controller::name)
      .def_readonly("placement", &plrf::Controller::placement)
      .def("start", &plrf::Controller::start)
      .def(
          "multiplier",
          [](const plrf::Controller& ctrl, double t, double grad2, double risk, double batch_loss, double k2,
             double k3, double state, double batch, double trace2) {
            const double m = ctrl.multiplier(t, {grad2, risk, batch_loss, k2, k3}, state, batch, trace2);
            return py::make_tuple(m, state);
          },
          py::arg("t"), py::arg("grad2"), py::arg("risk"), py::arg("batch_loss"), py::arg("k2"), py::arg("k3"),
          py::arg("state"), py::arg("batch"), py::arg("trace2"), "(m_t, next state) for the given statistics.");
}
