"""Spectral data from the deterministic equivalent (SPEC 6): no W, usable at d = 1e6.

closed-form      the authors' surrogate: lambda_j = j^{-2 alpha}, rho_j = j^{-2 beta} + c_beta / d.
self-consistent  solve the resolvent equation for m(z) on a log grid just above the real axis
                 (C++, sums over j compressed, no v x grid arrays), read off the eigenvalue density
                 nu and the rho density w (through a kernel with O(eta^3) tails, so that spikes keep
                 their mass), and place the d eigenvalues at the quantiles
                 N(lambda_k) = k - 1/2 of the counting function; rho_k is the w-mass of the k-th bin.
Both take P_inf from the z -> 0 limit of the same equation (the kappa fixed point).
"""
from __future__ import annotations

import numpy as np

from . import _core
from . import _validate as check
from .spectrum import Spectrum

METHODS = check.THEORY_METHODS


def theory_spectrum(alpha, beta, d, v=None, method="closed-form", *, eta=0.01, j_exact=2000, progress=None):
    """Spectrum (eigenvalues, rho, P_inf) of PLRF(alpha, beta, d, v) from theory, without sampling W.

    eta : relative distance above the real axis, z = x (1 + i eta) (self-consistent only); the
        eigenvalue density is resolved on that relative scale.
    j_exact : data directions summed exactly; beyond, sums use bins of relative width eta / 5.
    """
    alpha, beta, d, v = check.problem(alpha, beta, d, v, theory=True)
    check.choice("method", method, METHODS)
    eta = check.positive("eta", eta)
    if eta > 0.2:
        raise ValueError(f"eta must be <= 0.2, got {eta}")
    j_exact = check.integer("j_exact", j_exact, 1)
    kappa, p_inf = _core.theory_p_inf(alpha, beta, d, v)
    meta = dict(alpha=alpha, beta=beta, d=d, v=v, source=f"theory-{method}", kappa=kappa)
    if method == "closed-form":
        lam, rho = _closed_form(alpha, beta, d)
    else:
        lam, rho, mass = _self_consistent(alpha, beta, d, v, p_inf, eta, j_exact, progress)
        meta.update(eta=eta, density_mass=mass)
    return Spectrum(lam, rho, p_inf, meta=meta)


def _closed_form(alpha, beta, d):
    j = np.arange(1, d + 1, dtype=np.float64)
    rho = j ** (-2.0 * beta)
    c_beta = float(rho.sum()) if (beta > 0.5 and alpha > 0.5) else 0.0
    return j ** (-2.0 * alpha), rho + c_beta / d


def _grid(alpha, d, v, eta):
    """Descending log grid from above the top of the spectrum to below its bottom."""
    top = 2.0 * (1.0 + float(_power_sum(alpha, v)) / d)
    bottom = 1e-3 * (d ** (-2.0 * alpha)) * (1.0 - np.sqrt(d / v)) ** 2
    n = int(np.ceil(np.log(top / bottom) / (0.5 * eta))) + 1
    return np.geomspace(top, bottom, n)


def _power_sum(alpha, v):
    s, chunk = 0.0, 1 << 20
    for a in range(1, v + 1, chunk):
        s += float(np.sum(np.arange(a, min(v + 1, a + chunk), dtype=np.float64) ** (-2.0 * alpha)))
    return s


def _self_consistent(alpha, beta, d, v, p_inf, eta, j_exact, progress):
    x = _grid(alpha, d, v, eta)
    nu, w = _core.theory_densities(alpha, beta, d, v, p_inf, x.tolist(), eta, j_exact, eta / 5.0, progress)
    # cumulative masses from the top (trapezoid in ln x); the densities come through a unit-mass kernel
    dlog = np.log(x[:-1] / x[1:])
    count = d * np.concatenate([[0.0], np.cumsum(0.5 * (nu[1:] + nu[:-1]) * dlog)])
    weight = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * dlog)])
    mass = float(count[-1] / d)
    count *= d / count[-1]  # place exactly d eigenvalues; `mass` (meta density_mass) should be ~1
    lam = np.exp(np.interp(np.arange(d) + 0.5, count, np.log(x)))
    edges = np.interp(np.arange(d + 1, dtype=np.float64), count, weight)
    rho = np.maximum(np.diff(edges), 0.0)
    return lam, rho, mass
