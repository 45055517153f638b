"""SGD's continuous-time models and the homogenized-SGD (HSGD) simulator (docs/theory.md §11.5).

Per mode, with step gamma and R2 = 2 P_inf + sum_k lambda_k a_k, the three continuous-time models of
SGD share the forcing gamma^2 lambda_j R2 / B and differ in the coefficient of a_j in da_j/dt:
  "continuized" (SGD at Poisson times, the authors' ODE): -2 gamma lambda + (1 + 1/B) gamma^2 lambda^2
  "ito"  (the Ito SDE with SGD's covariance = SVAG's l -> oo limit): -2 gamma lambda + gamma^2 lambda^2 / B
  "hsgd" (homogenized SGD, dtheta = -gamma K e dt + gamma sqrt(2 P K / B) dW):   -2 gamma lambda
The system is linear in a (the R2 coupling is rank one), so with gamma constant on each unit interval
[t, t + 1) (the schedule's value at step t) its solution over one unit is one matrix exponential.

The simulator integrates the OU part of HSGD exactly per mode over a substep h with the path risk
frozen at the substep's start:
  e_j <- E_j e_j + gamma sqrt(S_j / B) (sqrt(lambda_j 2P) xi_j [+ lambda_j e_j zeta]),
  E_j = exp(-gamma lambda_j h), S_j = (1 - E_j^2) / (2 gamma lambda_j),
where the optional rank-one term (one scalar zeta per substep) adds SGD's Lambda e e^T Lambda / B
covariance (the Ito model). Its exact expectation is hsgd_risk (a_j <- E_j^2 a_j +
gamma^2 S_j (lambda_j R2 [+ lambda_j^2 a_j]) / B), which tends to continuous_risk as h -> 0.
"""
from __future__ import annotations

import numpy as np

from . import eigen_mc, moments

MODELS = ("continuized", "ito", "hsgd")


def _lr(lr, t):
    g = moments.schedule_at(lr, t)
    if not g > 0:
        raise ValueError(f"lr must be > 0, got {g} at step {t}")
    return g


def _unit_map(spec, g, batch, model):
    """exp of the augmented rate matrix [[L, f], [0, 0]] over one unit of time (needs scipy)."""
    from scipy.linalg import expm

    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    lam, d = spec.eigenvalues, spec.d
    kappa = -2.0 * g * lam + {"continuized": 1.0 + 1.0 / batch, "ito": 1.0 / batch, "hsgd": 0.0}[model] * (g * lam) ** 2
    rate = np.zeros((d + 1, d + 1))
    rate[:d, :d] = np.diag(kappa) + (g * g / batch) * np.outer(lam, lam)
    rate[:d, d] = (g * g / batch) * lam * 2.0 * spec.p_inf
    return expm(rate)


def continuous_risk(spec, lr, steps, batch, model="hsgd") -> np.ndarray:
    """E[P] at t = 0 .. steps of a continuous-time model; lr a number or a plrf Schedule."""
    x = np.append(spec.rho, 1.0)
    maps, out = {}, [moments.risk(spec, spec.rho)]
    for t in range(steps):
        g = _lr(lr, t)
        if g not in maps:
            maps[g] = _unit_map(spec, g, batch, model)
        x = maps[g] @ x
        out.append(moments.risk(spec, x[:-1]))
    return np.array(out)


def _substep(spec, g, substeps):
    h = 1.0 / substeps
    rate = 2.0 * g * spec.eigenvalues
    return np.exp(-0.5 * rate * h), -np.expm1(-rate * h) / rate  # E_j, S_j


def hsgd_risk(spec, lr, steps, batch, *, substeps=1, rank_one=False) -> np.ndarray:
    """Exact expectation of hsgd_monte_carlo (risk frozen over each of `substeps` substeps per unit)."""
    lam, a = spec.eigenvalues, spec.rho.copy()
    out = [moments.risk(spec, a)]
    for t in range(steps):
        g = _lr(lr, t)
        E, S = _substep(spec, g, substeps)
        for _ in range(substeps):
            r2 = 2.0 * spec.p_inf + lam @ a
            a = E**2 * a + g * g * S * (lam * r2 + (lam**2 * a if rank_one else 0.0)) / batch
        out.append(moments.risk(spec, a))
    return np.array(out)


def hsgd_monte_carlo(spec, lr, steps, batch, seeds, *, substeps=1, rank_one=False, seed=0) -> eigen_mc.Runs:
    """HSGD paths (or, rank_one=True, the full-covariance Ito SDE) recorded at integer times."""
    lam = spec.eigenvalues
    rng = eigen_mc.generator(seed, 6)

    def step(t, e, y):
        g = _lr(lr, t)
        E, S = _substep(spec, g, substeps)
        for _ in range(substeps):
            r2 = 2.0 * eigen_mc.path_risk(spec, e)[..., None]
            kick = np.sqrt(lam * r2) * rng.standard_normal(e.shape)
            if rank_one:
                kick = kick + lam * e * rng.standard_normal(e.shape[:-1] + (1,))
            e = E * e + g * np.sqrt(S / batch) * kick
        return e, y

    return eigen_mc.run(spec, steps, seeds, step)
