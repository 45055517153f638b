// method="exact" with ridge, decoupled weight decay or injected noise (docs/families.md §2): the
// affine moment map `step_affine` (exact/moments.hpp) on five moments per mode (a, s, c, u, v; SGD
// needs a and u), O(d) per step, exact for all t, d and B. The risk stays the unregularised
// population risk P = P_inf + 1/2 sum lambda a.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>
#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

#include "plrf/runtime/control.hpp"
#include "plrf/runtime/isa.hpp"
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

// Without ridge or decay (noise only) the first moment u = A^t (-rho) of a relaxed mode decays
// geometrically into the subnormal range, where x86 arithmetic is many times slower (the whole
// recursion: 1.3x at d = 1e3 over 1e5 steps). The affine sweep flushes subnormals to zero (per
// thread, restored after), which changes values below 1e-308 only.
class FlushSubnormals {
 public:
#if defined(__SSE2__) || defined(_M_X64)
  FlushSubnormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }  // FTZ | DAZ
  ~FlushSubnormals() { _mm_setcsr(saved_); }
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
  unsigned saved_;
#endif
};

// The five moment arrays of modes [j0, j1) (s, c, v unused for SGD), distinct, so that the loop
// vectorises; compiled for each instruction set like the plain recursion (runtime/isa.hpp).
struct AffineArrays {
  const double *lam, *rho, *mult;  // mult may be nullptr (all 1)
  double *a, *s, *c, *u, *v;
};

// restrict on parameters (GCC ignores it on locals): without it 7 arrays exceed the vectoriser's
// runtime alias checks and the momentum loop runs scalar (5x slower). k by value: stores cannot alias it.
template <bool kSgd, bool kMult>
PLRF_ALWAYS_INLINE void affine_modes_loop(const StepCoefs k, double R2, const double* __restrict lam,
                                          const double* __restrict rho, const double* __restrict mult,
                                          double* __restrict a, double* __restrict s, double* __restrict c,
                                          double* __restrict u, double* __restrict v, std::int64_t j0,
                                          std::int64_t j1) {
  for (std::int64_t j = j0; j < j1; ++j) {
    const double m = kMult ? mult[j] : 1.0;
    double aj = a[j], uj = u[j], sj = 0.0, cj = 0.0, vj = 0.0;
    if (!kSgd) sj = s[j], cj = c[j], vj = v[j];
    step_affine<kSgd>(k, lam[j], R2, rho[j], m, aj, sj, cj, uj, vj);
    a[j] = aj, u[j] = uj;
    if (!kSgd) s[j] = sj, c[j] = cj, v[j] = vj;
  }
}

template <bool kSgd>
struct AffineStep {
  template <int W>
  PLRF_ALWAYS_INLINE static void run(const StepCoefs& k, double R2, const AffineArrays& x, std::int64_t j0,
                                     std::int64_t j1) {
    if (x.mult)  // two loops, so that neither has a branch (as in recursion.hpp)
      affine_modes_loop<kSgd, true>(k, R2, x.lam, x.rho, x.mult, x.a, x.s, x.c, x.u, x.v, j0, j1);
    else
      affine_modes_loop<kSgd, false>(k, R2, x.lam, x.rho, x.mult, x.a, x.s, x.c, x.u, x.v, j0, j1);
  }
};

template <bool kSgd>
double step_all_affine(const Modes& md, const StepCoefs& k, double R2, AffineState& st, int threads,
                       std::vector<double>& partial) {
  const AffineArrays x{md.lam, md.rho, md.mult, st.a.data(), st.s.data(), st.c.data(), st.u.data(), st.v.data()};
  const double sum = sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) {
    const FlushSubnormals flush;
    on_isa<AffineStep<kSgd>>(isa(), k, R2, x, j0, j1);
    return dot(md.lam, x.a, j0, j1);
  });
  return md.r2(sum);
}

// coefs: the step's coefficients (PlainCoefs, or a controller's ControlledCoefs of exact/adaptive.hpp,
// which reads the second moments a only).
template <bool kSgd, class Coefs>
RiskCurve run_affine_recursion(const Modes& md, const RecordGrid& record, int threads, RunControl& control,
                               Coefs&& coefs) {
  AffineState x(md, kSgd);
  std::vector<double> partial;
  double R2 = md.r2_of(x.a.data());
  Recorder rec(record, R2);
  for (std::int64_t t = 0;; ++t) {
    coefs.visit(static_cast<double>(t));
    if (!rec.visit(t, R2, control)) return rec.out;
    const double tt = static_cast<double>(t);
    R2 = step_all_affine<kSgd>(md, StepCoefs(coefs.at(md.route.clock * tt, tt, 1.0, x, R2), md.batch, md.route), R2,
                               x, threads, partial);
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
