// method="continuous" with substeps: the exact expected risk of the SDE simulator
// (simulate/sde_stepper.hpp, dynamics "hsgd" / "ito"), whose path risk is frozen over each substep.
//
// Derivation. Over a substep h the simulator maps e_j <- E_j e_j + gamma sqrt(S_j / B)(sqrt(R2 lambda_j) xi_j
// [+ lambda_j e_j zeta]) with R2 = 2 P(e) at the substep's start, E_j = e^{-gamma lambda_j h} and
// S_j = int_0^h e^{-2 gamma lambda_j s} ds. The noise is independent of e with zero mean, and E[R2] =
// 2 P_inf + sum_k lambda_k a_k, so a_j = E e_j^2 follows exactly
//   a_j <- E_j^2 a_j + gamma^2 S_j (m_j lambda_j R2 [+ lambda_j^2 a_j]) / B
// (m_j the node multiplicity: the xi noise is per direction, the rank-one term per node's energy). As
// h -> 0 this tends, at first order, to the "hsgd" / "ito" models of continuous.hpp.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "plrf/exact/continuous.hpp"

namespace plrf::exact {

// E = e^{-gamma lambda h} and S = int_0^h e^{-2 gamma lambda s} ds: the OU factors of one substep,
// shared by the simulator and its expectation.
struct OuSubstep {
  double E, S;
};
inline OuSubstep ou_substep(double gamma, double lam, double h) {
  const double rate = 2.0 * gamma * lam;
  return {std::exp(-0.5 * rate * h), rate != 0.0 ? -std::expm1(-rate * h) / rate : h};
}

inline RiskCurve sde_scheme_risk(const Modes& md, const GenMomentum& opt, bool rank_one, int substeps,
                                 const RecordGrid& record, int threads, RunControl& control) {
  if (substeps < 1) throw std::invalid_argument("substeps must be >= 1, got " + std::to_string(substeps));
  std::vector<double> a(md.rho, md.rho + md.d), keep(md.d), force(md.d), partial;
  const double h = 1.0 / substeps;
  auto prepare = [&](const StepCoefs& k) {
    for (std::int64_t j = 0; j < md.d; ++j) {
      const OuSubstep ou = ou_substep(k.G, md.lam[j], h);
      force[j] = k.G * k.G * ou.S * k.inv_b;  // times lambda_j (m_j R2 + [lambda_j a_j])
      keep[j] = ou.E * ou.E + (rank_one ? force[j] * md.lam[j] * md.lam[j] : 0.0);
      force[j] *= md.lam[j] * md.multiplicity(j);
    }
  };
  auto unit = [&](double R2) {
    return run_substeps(R2, substeps, control, [&](double r2) {
      return md.r2(sweep(md.d, threads, partial, [&](std::int64_t j0, std::int64_t j1) {
        for (std::int64_t j = j0; j < j1; ++j) a[j] = keep[j] * a[j] + force[j] * r2;
        return dot(md.lam, a.data(), j0, j1);
      }));
    });
  };
  return run_units(md, opt, record, control, prepare, unit);
}

}  // namespace plrf::exact
