// method="exact" with ridge, decoupled weight decay or injected noise (docs/families.md §2): the
// affine moment map `step_affine` (exact/moments.hpp) on five moments per mode (a, s, c, u, v; SGD
// needs a and u), O(d) per step, exact for all t, d and B. The risk stays the unregularised
// population risk P = P_inf + 1/2 sum lambda a.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "plrf/runtime/control.hpp"
#include "plrf/exact/moments.hpp"
#include "plrf/exact/modes.hpp"
#include "plrf/exact/recorder.hpp"

namespace plrf::exact {

// The moments of the affine map. theta_0 = 0 and y_0 = 0: a = rho, u = phi* e_0 = -rho, the rest 0.
struct AffineState {
  std::vector<double> a, s, c, u, v;
  AffineState(const Modes& md, bool sgd)
      : a(md.rho, md.rho + md.d), s(sgd ? 0 : md.d, 0.0), c(sgd ? 0 : md.d, 0.0), u(md.d), v(sgd ? 0 : md.d, 0.0) {
    for (std::int64_t j = 0; j < md.d; ++j) u[j] = -md.rho[j];
  }
};

template <bool kSgd>
double step_all_affine(const Modes& md, const StepCoefs& k, double R2, AffineState& x, int threads,
                       std::vector<double>& partial) {
  double dummy = 0.0;
  const double sum = sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) {
    for (std::int64_t j = j0; j < j1; ++j) {
      const double q = md.rho[j], mult = md.multiplicity(j);
      if (kSgd)
        step_affine<true>(k, md.lam[j], R2, q, mult, x.a[j], dummy, dummy, x.u[j], dummy);
      else
        step_affine<false>(k, md.lam[j], R2, q, mult, x.a[j], x.s[j], x.c[j], x.u[j], x.v[j]);
    }
    return dot(md.lam, x.a.data(), j0, j1);
  });
  return md.r2(sum);
}

template <bool kSgd>
RiskCurve run_affine_recursion(const Modes& md, const GenMomentum& opt, const RecordGrid& record, int threads,
                               RunControl& control) {
  AffineState x(md, kSgd);
  std::vector<double> partial;
  double R2 = md.r2_of(x.a.data());
  Recorder rec(record, R2);
  for (std::int64_t t = 0;; ++t) {
    if (!rec.visit(t, R2, control)) return rec.out;
    R2 = step_all_affine<kSgd>(md, StepCoefs(opt.at(static_cast<double>(t)), md.batch), R2, x, threads, partial);
    if ((t & 1023) == 1023) control.advance(1024);
  }
}

// The block solver and the ODE propagate the linear 3-moment map only (an affine term would need a
// 6x6 augmented block map): they refuse the affine knobs instead of ignoring them.
inline void require_linear_map(const GenMomentum& opt, const std::string& method) {
  if (opt.knobs.affine())
    throw std::invalid_argument("decay/l2/noise need method='exact' (method='" + method + "' has no affine term)");
}

}  // namespace plrf::exact
