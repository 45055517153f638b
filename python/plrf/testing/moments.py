"""The per-mode moment step shared by the families' oracles (docs/theory.md §12.3, §11.2, §11.3, §11.4).

Every family here updates, on each eigenmode j, the pair z = (e_j, y_j) (error, momentum) by an
affine map with deterministic coefficients plus zero-mean noise:

    g^  = gain_j e + l2 (phi* + e) + n,        E[n | e] = 0,  E[n^2] = xi_j
    y'  = m y + gamma1 g^
    e'  = e - gamma2 g^ - gamma3 y' - w (phi* + e) + sigma zeta,   zeta ~ N(0, 1)

(gain_j = lambda_j for SGD, p lambda_j for an expert; l2 = ridge coefficient; w = decoupled weight
decay; sigma = injected noise.) With G = gamma2 + gamma1 gamma3 this is
z' = M z + h phi* + N n + sigma zeta (1, 0) with

    M = [[1 - w - G (gain + l2), -gamma3 m], [gamma1 (gain + l2), m]],
    h = (-(w + G l2), gamma1 l2),  N = (-G, gamma1).

Because n is uncorrelated with z and every coefficient is deterministic, the moments close:
first moments u = phi* E[e], v = phi* E[y] (u' , v') = M (u, v) + h q, and the second moments
Z = [[a, c], [c, s]] follow Z' = M Z M^T + M mu h^T + h mu^T M^T + h h^T q + N N^T xi + sigma^2 e1 e1^T,
with mu = (u, v) and q = phi*^2 = rho (theta_0 = 0, so e_0 = -phi*, u(0) = -rho). With w = l2 = 0
and gain = lambda this is docs/theory.md §4 term by term (a test checks it against plrf.testing.spec4_risk).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..optim import GenMomentum, Schedule, schedule as as_schedule

_ZERO, _ONE = Schedule.constant(0.0), Schedule.constant(1.0)


class Moments(NamedTuple):
    """Per-mode moments: a = E e^2, s = E y^2, c = E e y, u = phi* E e, v = phi* E y."""

    a: np.ndarray
    s: np.ndarray
    c: np.ndarray
    u: np.ndarray
    v: np.ndarray


def initial(rho) -> Moments:
    """theta_0 = 0 and y_0 = 0: a = rho, u = phi* e_0 = -rho, the rest zero."""
    rho = np.asarray(rho, dtype=np.float64)
    z = np.zeros_like(rho)
    return Moments(rho.copy(), z, z.copy(), -rho, z.copy())


def schedule_at(x, t) -> float:
    """Value at step t of a plrf Schedule (evaluated by plrf's own C++ schedule) or of a number."""
    if not isinstance(x, Schedule):
        return float(x)
    probe = GenMomentum(_ZERO, as_schedule(x), _ZERO, _ONE, "probe")
    return probe.coefficients(t)["gamma2"]


def step(mo: Moments, q, k, gain, xi, *, w=0.0, l2=0.0, noise2=0.0, drop_cross=False) -> Moments:
    """One step of the moment map above; k = opt.coefficients(t), xi = E[n^2] per mode.

    drop_cross=True plants the weight-decay bug: the first-moment cross term 2 h (M mu) is left out
    of the second moments.
    """
    g1, g2, g3, m = k["gamma1"], k["gamma2"], k["gamma3"], 1.0 - k["delta"]
    G = g2 + g1 * g3
    m11, m12, m21, m22 = 1.0 - w - G * (gain + l2), -g3 * m, g1 * (gain + l2), m
    h1, h2, n1, n2 = -(w + G * l2), g1 * l2, -G, g1
    mu1, mu2 = m11 * mo.u + m12 * mo.v, m21 * mo.u + m22 * mo.v  # M mu
    x = 0.0 if drop_cross else 1.0
    a = m11**2 * mo.a + 2 * m11 * m12 * mo.c + m12**2 * mo.s + x * 2 * h1 * mu1 + h1**2 * q + n1**2 * xi + noise2
    s = m21**2 * mo.a + 2 * m21 * m22 * mo.c + m22**2 * mo.s + x * 2 * h2 * mu2 + h2**2 * q + n2**2 * xi
    c = (m11 * m21 * mo.a + (m11 * m22 + m12 * m21) * mo.c + m12 * m22 * mo.s
         + x * (h1 * mu2 + h2 * mu1) + h1 * h2 * q + n1 * n2 * xi)
    return Moments(a, s, c, mu1 + h1 * q, mu2 + h2 * q)


def risk(spec, a) -> float:
    """Population risk P_inf + 1/2 sum lambda a (never the regularised one)."""
    return spec.p_inf + 0.5 * spec.eigenvalues @ a
