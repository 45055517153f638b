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
//   adana     the authors' ADana (mlexpos/adana @ 3eef26f, src/optim/adana.py), their step s = t + 1:
//             a = delta / (delta + s);  m = (1 - a) m + a g;  v = (1 - a) v + a g^2;  n = 1 / (sqrt(v) + eps)
//             theta -= lr [g n + g3 sign(m) (A + |m| n)],  A = (1 + s)^(1 - kappa) |m| n
//   dana_star the authors' Dana-Star (src/optim/dana_star_mk4.py, clipsnr=None): adana plus a per-coordinate
//             estimate tau of the rate at which gradients arrive, read after v:
//             tau = (1 - a) tau + a |g| / (|g| + sqrt(v) + eps);  c = min(tau, 1/2);
//             r = max(c / (1 - c), 1 / (1 + s));  T = max(tau s, 1);  n = sqrt(r) / (sqrt(v) + eps)
//             theta -= lr [g n + g3 sign(m) (r A + |m| n)],  A = T^(1 - kappa) |m| n / r
//             For both, clipsnr > 0 caps A at clipsnr (their Dana-MK4 and Dana-Star-MK4), and the weight
//             decay is theirs: theta = (theta after the step) (1 - wd), wd the schedule at t (no lr factor).
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
  enum class Kind { Sign, Signum, RMSprop, Adam, Precond, Adana, DanaStar };

  Kind kind = Kind::Sign;
  Schedule lr = Schedule::constant(0.0);
  double b1 = 0.0, b2 = 0.0, eps = 0.0;
  Schedule weight_decay = Schedule::constant(0.0);
  bool decoupled = false;
  std::vector<double> diag;  // precond only: p_i > 0
  double clip = 0.0, clip_norm = 0.0;
  double delta = 8.0, kappa = 1.0, g3 = 1.0, clipsnr = 0.0;  // adana, dana_star only (clipsnr 0: off)

  static Kind kind_of(const std::string& name) {
    if (name == "sign") return Kind::Sign;
    if (name == "signum") return Kind::Signum;
    if (name == "rmsprop") return Kind::RMSprop;
    if (name == "adam") return Kind::Adam;
    if (name == "precond") return Kind::Precond;
    if (name == "adana") return Kind::Adana;
    if (name == "dana_star") return Kind::DanaStar;
    throw std::invalid_argument(
        "coordinate-wise rule must be sign, signum, rmsprop, adam, precond, adana or dana_star, got " + name);
  }

  void validate(std::int64_t d, std::int64_t steps) const {
    const auto in01 = [](double x) { return x >= 0.0 && x < 1.0; };
    if (!in01(b1) || !in01(b2)) throw std::invalid_argument("b1 and b2 must be in [0, 1)");
    if (!(eps >= 0.0) || !std::isfinite(eps)) throw std::invalid_argument("eps must be finite and >= 0");
    if (!(clip >= 0.0) || !(clip_norm >= 0.0)) throw std::invalid_argument("clip and clip_norm must be >= 0");
    if (kind == Kind::Precond && static_cast<std::int64_t>(diag.size()) != d)
      throw std::invalid_argument("precond: the diagonal must have d = " + std::to_string(d) + " entries");
    if (!(delta > 0.0) || !std::isfinite(delta)) throw std::invalid_argument("delta must be finite and > 0");
    if (!std::isfinite(kappa) || !std::isfinite(g3)) throw std::invalid_argument("kappa and g3 must be finite");
    if (!(clipsnr >= 0.0) || !std::isfinite(clipsnr)) throw std::invalid_argument("clipsnr must be finite and >= 0");
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

  bool is_dana() const { return kind == Kind::Adana || kind == Kind::DanaStar; }
  bool uses_m() const { return kind == Kind::Signum || kind == Kind::Adam || is_dana(); }
  bool uses_v() const { return kind == Kind::RMSprop || kind == Kind::Adam || is_dana(); }
  bool uses_tau() const { return kind == Kind::DanaStar; }
};

// The rule at step t: one call per coordinate updates (theta, m, v) from g.
class CoordStep {
 public:
  CoordStep(const CoordRule& r, std::int64_t t)
      : r_(r), lr_(r.lr(static_cast<double>(t))), wd_(r.weight_decay(static_cast<double>(t))),
        c1_(r.kind == CoordRule::Kind::Adam ? 1.0 - std::pow(r.b1, static_cast<double>(t + 1)) : 1.0),
        c2_(r.kind == CoordRule::Kind::Adam ? 1.0 - std::pow(r.b2, static_cast<double>(t + 1)) : 1.0),
        s_(static_cast<double>(t + 1)), a_(r.delta / (r.delta + s_)), ate_(std::pow(1.0 + s_, 1.0 - r.kappa)) {}

  // The change of theta_i (theta itself is read for weight decay only); tau: dana_star's buffer.
  double operator()(std::int64_t i, double theta, double& m, double& v, double g) const {
    double tau = 0.0;
    return (*this)(i, theta, m, v, tau, g);
  }
  double operator()(std::int64_t i, double theta, double& m, double& v, double& tau, double g) const {
    if (r_.is_dana()) {
      const double step = dana(m, v, tau, g);
      return step - wd_ * (theta + step);  // theta' = (theta + step)(1 - wd)
    }
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
      case CoordRule::Kind::Adana:
      case CoordRule::Kind::DanaStar: break;  // returned above
    }
    return 0.0;
  }

 private:
  // The adana / dana_star step before weight decay (the equations above); ADana is tau's r = 1, T = 1 + s.
  double dana(double& m, double& v, double& tau, double g) const {
    m = (1.0 - a_) * m + a_ * g;
    v = (1.0 - a_) * v + a_ * g * g;
    const double root = std::sqrt(v) + r_.eps;
    double r = 1.0, tpow = ate_;
    if (r_.kind == CoordRule::Kind::DanaStar) {
      const double ag = std::abs(g);
      tau = (1.0 - a_) * tau + a_ * (ag / (ag + root));
      const double c = std::min(tau, 0.5);
      r = std::max(c / (1.0 - c), 1.0 / (1.0 + s_));
      tpow = std::pow(std::max(tau * s_, 1.0), 1.0 - r_.kappa);
    }
    const double n = std::sqrt(r) / root, mn = std::abs(m) * n;
    double A = tpow * (mn / r);
    if (r_.clipsnr > 0.0) A = std::min(A, r_.clipsnr);
    return -lr_ * (g * n + r_.g3 * sign(m) * (r * A + mn));
  }

  static double sign(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }
  const CoordRule& r_;
  double lr_, wd_, c1_, c2_;
  double s_, a_, ate_;  // dana: the authors' step t + 1, its EMA weight and (1 + s)^(1 - kappa)
};

}  // namespace plrf
