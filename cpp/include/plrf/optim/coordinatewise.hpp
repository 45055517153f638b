// Coordinate-wise update rules (docs/coordinatewise.md): signSGD, signum, RMSprop, Adam/AdamW and SGD
// with a fixed diagonal preconditioner. Unlike Gen-Mom momentum they are not rotation invariant, so
// they run in the parameter basis (simulate/param_path.hpp), where coordinate i is parameter i.
//
// With g the batch-averaged gradient at step t (0-based) and theta the parameter, coordinate i:
//   sign      theta -= lr sign(g)                                 (sign(0) = 0)
//   signum    m = b1 m + (1 - b1) g;            theta -= lr sign(m)
//   rmsprop   v = b2 v + (1 - b2) g^2;          theta -= lr g / (sqrt(v) + eps)
//   adam      m, v as above; theta -= lr m_hat / (sqrt(v_hat) + eps),
//             m_hat = m / (1 - b1^(t+1)), v_hat = v / (1 - b2^(t+1))  (bias correction)
//   precond   theta -= lr p_i g                                   (p: a fixed diagonal)
// Weight decay wd: coupled (L2, PyTorch's Adam): g += wd theta before the rule; decoupled (AdamW):
// theta -= lr wd theta, from the theta before the step. lr and wd are Schedules read at t.
// Clipping (0: off), applied to g before weight decay and the rule, per seed: first the global norm,
// g *= min(1, clip_norm / |g|), then each coordinate, g_i = min(max(g_i, -clip), clip).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "plrf/optim/schedule.hpp"

namespace plrf {

struct CoordRule {
  enum class Kind { Sign, Signum, RMSprop, Adam, Precond };

  Kind kind = Kind::Sign;
  Schedule lr = Schedule::constant(0.0);
  double b1 = 0.0, b2 = 0.0, eps = 0.0;
  Schedule weight_decay = Schedule::constant(0.0);
  bool decoupled = false;
  std::vector<double> diag;  // precond only: p_i > 0
  double clip = 0.0, clip_norm = 0.0;

  static Kind kind_of(const std::string& name) {
    if (name == "sign") return Kind::Sign;
    if (name == "signum") return Kind::Signum;
    if (name == "rmsprop") return Kind::RMSprop;
    if (name == "adam") return Kind::Adam;
    if (name == "precond") return Kind::Precond;
    throw std::invalid_argument("coordinate-wise rule must be sign, signum, rmsprop, adam or precond, got " + name);
  }

  void validate(std::int64_t d, std::int64_t steps) const {
    const auto in01 = [](double x) { return x >= 0.0 && x < 1.0; };
    if (!in01(b1) || !in01(b2)) throw std::invalid_argument("b1 and b2 must be in [0, 1)");
    if (!(eps >= 0.0) || !std::isfinite(eps)) throw std::invalid_argument("eps must be finite and >= 0");
    if (!(clip >= 0.0) || !(clip_norm >= 0.0)) throw std::invalid_argument("clip and clip_norm must be >= 0");
    if (kind == Kind::Precond && static_cast<std::int64_t>(diag.size()) != d)
      throw std::invalid_argument("precond: the diagonal must have d = " + std::to_string(d) + " entries");
    lr.check_length(steps, "lr");
    weight_decay.check_length(steps, "weight_decay");
  }

  // Clips one seed's gradient g (length d) in place.
  void clip_gradient(double* g, std::int64_t d) const {
    if (clip_norm > 0.0) {
      double n2 = 0.0;
      for (std::int64_t i = 0; i < d; ++i) n2 += g[i] * g[i];
      const double n = std::sqrt(n2);
      if (n > clip_norm)
        for (std::int64_t i = 0; i < d; ++i) g[i] *= clip_norm / n;
    }
    if (clip > 0.0)
      for (std::int64_t i = 0; i < d; ++i) g[i] = std::min(std::max(g[i], -clip), clip);
  }

  bool uses_m() const { return kind == Kind::Signum || kind == Kind::Adam; }
  bool uses_v() const { return kind == Kind::RMSprop || kind == Kind::Adam; }
};

// The rule at step t: one call per coordinate updates (theta, m, v) from g.
class CoordStep {
 public:
  CoordStep(const CoordRule& r, std::int64_t t)
      : r_(r), lr_(r.lr(static_cast<double>(t))), wd_(r.weight_decay(static_cast<double>(t))),
        c1_(r.kind == CoordRule::Kind::Adam ? 1.0 - std::pow(r.b1, static_cast<double>(t + 1)) : 1.0),
        c2_(r.kind == CoordRule::Kind::Adam ? 1.0 - std::pow(r.b2, static_cast<double>(t + 1)) : 1.0) {}

  // The change of theta_i (theta itself is read for weight decay only).
  double operator()(std::int64_t i, double theta, double& m, double& v, double g) const {
    const double decay = r_.decoupled ? -lr_ * wd_ * theta : 0.0;
    if (!r_.decoupled) g += wd_ * theta;
    switch (r_.kind) {
      case CoordRule::Kind::Sign: return decay - lr_ * sign(g);
      case CoordRule::Kind::Signum: m = r_.b1 * m + (1.0 - r_.b1) * g; return decay - lr_ * sign(m);
      case CoordRule::Kind::RMSprop:
        v = r_.b2 * v + (1.0 - r_.b2) * g * g;
        return decay - lr_ * g / (std::sqrt(v) + r_.eps);
      case CoordRule::Kind::Adam:
        m = r_.b1 * m + (1.0 - r_.b1) * g;
        v = r_.b2 * v + (1.0 - r_.b2) * g * g;
        return decay - lr_ * (m / c1_) / (std::sqrt(v / c2_) + r_.eps);
      case CoordRule::Kind::Precond: return decay - lr_ * r_.diag[static_cast<std::size_t>(i)] * g;
    }
    return 0.0;
  }

 private:
  static double sign(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }
  const CoordRule& r_;
  double lr_, wd_, c1_, c2_;
};

}  // namespace plrf
