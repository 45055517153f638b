// A hyperparameter schedule, evaluated at the step index t = 0, 1, 2, ... (docs/theory.md §3).
// Schedules are plain data so that the simulator, the exact recursion and the ODE evaluate
// exactly the same numbers at the same t.
#pragma once
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#include "plrf/runtime/format.hpp"

namespace plrf {

class Schedule {
 public:
  enum class Kind { Constant, PowerLaw, Array };

  static Schedule constant(double c) { return Schedule(Kind::Constant, c, 1.0, 0.0, {}); }
  // c * (1 + t / tau)^p
  static Schedule power_law(double c, double tau, double p) { return Schedule(Kind::PowerLaw, c, tau, p, {}); }
  // values[t]; the schedule is defined for t < values.size()
  static Schedule array(std::vector<double> values) { return Schedule(Kind::Array, 0.0, 1.0, 0.0, std::move(values)); }

  // Value at (possibly fractional, for the ODE) time t >= 0. Arrays are piecewise constant.
  double operator()(double t) const {
    switch (kind_) {
      case Kind::Constant: return c_;
      case Kind::PowerLaw: return c_ * std::pow(1.0 + t / tau_, p_);
      case Kind::Array: {
        const auto i = static_cast<std::size_t>(t);
        if (i >= values_.size())
          throw std::out_of_range("array schedule has " + std::to_string(values_.size()) + " values, asked for t=" +
                                  std::to_string(i));
        return values_[i];
      }
    }
    return 0.0;
  }

  // Whether the schedule covers steps t = 0 .. steps-1.
  void check_length(std::int64_t steps, const std::string& name) const {
    if (kind_ == Kind::Array && static_cast<std::int64_t>(values_.size()) < steps)
      throw std::invalid_argument("schedule " + name + " has " + std::to_string(values_.size()) +
                                  " values but the run needs " + std::to_string(steps));
  }

  bool is_constant() const { return kind_ == Kind::Constant; }
  Kind kind() const { return kind_; }
  double c() const { return c_; }
  double tau() const { return tau_; }
  double p() const { return p_; }
  const std::vector<double>& values() const { return values_; }

 private:
  Schedule(Kind kind, double c, double tau, double p, std::vector<double> values)
      : kind_(kind), c_(c), tau_(tau), p_(p), values_(std::move(values)) {
    finite("c", c_), finite("tau", tau_), finite("p", p_);  // the message names the parameter
    if (kind_ == Kind::PowerLaw && tau_ <= 0)
      throw std::invalid_argument("power-law schedule needs tau > 0, got " + format_number(tau_));
    if (kind_ == Kind::Array && values_.empty()) throw std::invalid_argument("array schedule must be non-empty");
    for (double x : values_)
      if (!std::isfinite(x)) throw std::invalid_argument("array schedule values must be finite");
  }
  static void finite(const char* name, double x) {
    if (!std::isfinite(x))
      throw std::invalid_argument(std::string("schedule parameter ") + name + " must be finite, got " + format_number(x));
  }
  Kind kind_;
  double c_, tau_, p_;
  std::vector<double> values_;
};

}  // namespace plrf
