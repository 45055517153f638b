"""Deterministic equivalent (DE) of Gen-Mom-SGD under a step-size controller (issue 12).

The per-mode moment recursion of docs/theory.md §4 (a = E e^2, s = E y^2, c = E e y per mode, or per node of
equal eigenvalues with multiplicity m, docs/theory.md §10) is run with the coefficients of step t multiplied by
the controller's m_t, and the controller is fed the *expected* statistics (docs/theory.md §12.3):
    E||g||^2      = (1 + 1/B) sum lambda^2 a + tr K * R2 / B,    R2 = 2 P_inf + sum lambda a
    P = E f_B     = R2 / 2
    ||K e||^2     -> sum lambda^2 a,      e^T K^3 e -> sum lambda^3 a.
The controller adds one scalar state (S for AdaGrad-Norm, v for the EMA). With m_t = 1 this is the
exact recursion; otherwise it is exact only as tr K / lambda_max -> infinity (docs/theory.md §12.3):
an approximation whose error against the Monte Carlo is measured, never assumed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...curves import check_record, report_divergence
from .controllers import Context, Controller, Stats
from .montecarlo import DIVERGENCE_FACTOR


@dataclass
class DECurve:
    """The DE's risk and learning-rate curves; lr[k] is m_{t-1} at t = steps[k] (NaN at t = 0)."""

    steps: np.ndarray
    risk: np.ndarray
    lr: np.ndarray
    diverged_at: int = -1
    final: dict = field(default_factory=dict)  # the last moments a, s, c and the controller state
    meta: dict = field(default_factory=lambda: {"approximation": "deterministic equivalent"})


def deterministic_equivalent(spectrum, optimizer, ctrl: Controller, steps, *, batch=1, record=None,
                             multiplicity=None, on_divergence="warn") -> DECurve:
    """E[P] and the learning rate by the DE, on the record grid (default plrf.record_grid)."""
    lam, p_inf = spectrum.eigenvalues, spectrum.p_inf
    mult = np.ones_like(lam) if multiplicity is None else np.asarray(multiplicity, dtype=np.float64)
    if mult.shape != lam.shape or np.any(mult < 1):
        raise ValueError(f"multiplicity must be an array of counts >= 1 shaped like the eigenvalues {lam.shape}")
    rec = check_record(record, steps)
    trace, ctx = float(mult @ lam), Context(batch, float(mult @ lam**2))
    a, s, c = spectrum.rho.astype(np.float64), np.zeros_like(lam), np.zeros_like(lam)
    risk_out, lr_out = np.full(rec.size, np.nan), np.full(rec.size, np.nan)
    state, lr, diverged = ctrl.start(), np.nan, -1
    limit = DIVERGENCE_FACTOR * (p_inf + 0.5 * lam @ a)
    for t in range(steps + 1):
        R2 = 2.0 * p_inf + lam @ a
        if not R2 / 2.0 <= limit:
            diverged = t
            break
        if t in rec:
            k = np.searchsorted(rec, t)
            risk_out[k], lr_out[k] = R2 / 2.0, lr
        if t == steps:
            break
        l2a = lam**2 @ a
        stats = Stats((1.0 + 1.0 / batch) * l2a + trace * R2 / batch, R2 / 2.0, R2 / 2.0, l2a, lam**3 @ a)
        lr, state = ctrl.step(t, stats, state, ctx)
        lr = float(lr)
        a, s, c = moment_step(ctrl.scale(optimizer.coefficients(t), lr), lam, mult, a, s, c, R2, batch)
    report_divergence(np.array([diverged]), f"adaptive DE ({ctrl.name})", on_divergence)
    return DECurve(rec, risk_out, lr_out, diverged, {"a": a, "s": s, "c": c, "state": state})


def moment_step(k, lam, mult, a, s, c, R2, batch):
    """One step of docs/theory.md §4 for nodes (docs/theory.md §10): the noise forcing of a node is m * lambda * R2 / B."""
    g1, g2, g3, keep = k["gamma1"], k["gamma2"], k["gamma3"], 1.0 - k["delta"]
    G = g2 + g1 * g3
    A = 1.0 - G * lam
    xi = (lam**2 * a + mult * lam * R2) / batch  # gradient-noise variance of the node
    g1l = g1 * lam
    return (
        A**2 * a + (g3 * keep) ** 2 * s - 2.0 * A * g3 * keep * c + G**2 * xi,
        g1l**2 * a + keep**2 * s + 2.0 * g1l * keep * c + g1**2 * xi,
        A * g1l * a - g3 * keep**2 * s + (A * keep - g3 * keep * g1l) * c - G * g1 * xi,
    )
