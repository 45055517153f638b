"""Deterministic dynamics of matrix optimizers on MatrixPLRF (docs/theory.md §13.3-13.5).

- SGD and DANA (GenMom): exact. Each output column is a scalar PLRF with shared data, and the
  expected risk is linear in the initial mode weights, so plrf.exact_risk on the spectrum
  (lambda, a_j(0)/m, sigma^2/2) is the exact expected risk per output.
- SignSVD: a per-mode recursion a_j' = a_j - 2 eta c_j a_j + eta^2 q_j (§13.4). Approximate.
- SignSGD: a recursion for S = E E^T / m with the arcsine noise kernel (§13.5). Approximate.
Both approximations carry meta["exact"] = False and their measured error (docs/muon.md, table 2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..curves import Curve, check_record, report_divergence
from ..spectrum import Spectrum
from .optimizers import GenMom, Muon, SignSGD, SignSVD, _is_zero
from .constants import sign_gain
from .simulate import check_run


@dataclass(repr=False)  # keep Curves' one-line summary
class MatrixCurve(Curve):
    """Curve plus modes (n_steps, d): the predicted a_j = ||row j of Q^T E||^2 at each record step."""

    modes: np.ndarray | None = None


def dynamics(problem, optimizer, steps, batch=1, record=None) -> MatrixCurve:
    """Expected risk per output of `optimizer` on `problem` from Theta = 0: exact for SGD/DANA,
    approximate for SignSVD and SignSGD (meta["exact"] says which)."""
    steps, batch = check_run(problem, optimizer, steps, batch)
    check_optimizer(optimizer)
    rec = check_record(record, steps)
    meta = {"engine": "matrix.dynamics", "optimizer": optimizer.name, "alpha": problem.alpha, "beta": problem.beta,
            "d": problem.d, "m": problem.m, "batch": batch, "sigma": problem.sigma, "basis": problem.basis,
            "problem_seed": problem.seed, "p_inf": problem.p_inf}
    if isinstance(optimizer, GenMom):
        return _genmom(problem, optimizer, steps, batch, rec, meta)
    run = _signsvd if isinstance(optimizer, SignSVD) else _signsgd
    risk, modes = np.full(len(rec), np.nan), np.full((len(rec), problem.d), np.nan)
    with np.errstate(invalid="ignore", over="ignore"):  # a diverging run is caught below, by its risk
        diverged = run(problem, optimizer.lr, steps, batch, rec, risk, modes)
    meta["exact"] = False
    report_divergence([diverged], f"plrf.matrix.dynamics({optimizer.name})")
    return MatrixCurve(steps=rec, risk=risk, meta=meta, modes=modes, diverged_at=diverged)


def check_optimizer(optimizer) -> None:
    """ValueError naming `optimizer` unless the dynamics cover it (also used by plrf.sweep before any work)."""
    if isinstance(optimizer, Muon):
        raise ValueError("optimizer: the deterministic dynamics cover SignSVD, SignSGD, SGD and DANA, not Muon "
                         "(momentum and Newton-Schulz are not modelled); run plrf.matrix.simulate")
    if isinstance(optimizer, (SignSVD, SignSGD)) and not _is_zero(optimizer.momentum):
        raise ValueError("optimizer: the deterministic dynamics of SignSVD and SignSGD are momentum-free; "
                         "pass momentum=0 or run plrf.matrix.simulate")


def _blown(r2, r0) -> bool:
    return not (0 < r2 <= 1e12 * r0)


def _genmom(problem, optimizer, steps, batch, rec, meta):
    from ..exact import exact_risk

    a0 = problem.initial_modes()
    spec = Spectrum(eigenvalues=problem.eigenvalues, rho=a0 / problem.m, p_inf=problem.p_inf)
    c = exact_risk(spec, optimizer.opt, steps=steps, batch=batch, record=rec)
    meta["exact"] = True
    return MatrixCurve(steps=c.steps, risk=c.risk, meta=meta, diverged_at=c.diverged_at)


def ridge_kappa(lam: np.ndarray, rank: float) -> float:
    """kappa >= 0 with sum_j lam_j / (lam_j + kappa) = rank (0 when rank >= d): the batch's effective ridge."""
    if rank >= len(lam):
        return 0.0
    lo, hi = 0.0, float(lam.sum()) / rank
    for _ in range(200):  # bisection: the sum decreases in kappa from d to below rank
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.sum(lam / (lam + mid)) > rank else (lo, mid)
    return 0.5 * (lo + hi)


def _signsvd(problem, lr, steps, batch, rec, risk, modes) -> int:
    """a_j' = a_j - 2 eta c_j a_j + eta^2 q_j with c_j = lam_j / sqrt(lam_j^2 a_j + (m sigma_eff^2 / B)(lam_j + kappa)),
    q_j = lam_j / (lam_j + kappa), m sigma_eff^2 = m sigma^2 + sum_j lam_j a_j (§13.4)."""
    lam, m = problem.eigenvalues, problem.m
    kappa = ridge_kappa(lam, min(batch, m))
    q = lam / (lam + kappa)
    a = problem.initial_modes()
    r0, k = problem.excess(a), 0
    for t in range(steps + 1):
        if _blown(problem.excess(a), r0):
            return t
        if t == rec[k]:
            risk[k], modes[k], k = problem.excess(a) + problem.p_inf, a, k + 1
        if t == steps:
            return -1
        eta = lr(t)
        noise = (m * problem.sigma**2 + lam @ a) / batch
        c = lam / np.sqrt(lam**2 * a + noise * (lam + kappa))
        a = np.maximum(a - 2 * eta * c * a + eta**2 * q, 0.0)  # overshoot past 0 is clipped (the mode oscillates at ~eta^2)


def _signsgd(problem, lr, steps, batch, rec, risk, modes) -> int:
    """The Gaussian closure of §13.5 on S = E E^T / m (columns of E treated as N(0, S)):
    S' = S - eta (g (D^{-1/2} K S) + its transpose) / sqrt(R2) + eta^2 (2/pi) arcsin(N),
    g_i = k_B / sqrt(1 + V_ii), V = B D^{-1/2} K S K D^{-1/2} / R2 (the signal in each entry, in noise
    units), N = (C + V) normalised to unit diagonal, C = D^{-1/2} K D^{-1/2}, R2 = tr(K S) + sigma^2."""
    K, Q, m = problem.K, problem.Q, problem.m
    dk = np.sqrt(np.diag(K))
    corr = K / np.outer(dk, dk)
    pre = K / dk[:, None]  # D^{-1/2} K
    S = problem.theta_star @ problem.theta_star.T / m
    gain = sign_gain(batch)
    r0, k = float(np.sum(K * S)), 0
    for t in range(steps + 1):
        r2 = float(np.sum(K * S)) + problem.sigma**2
        if _blown(r2 - problem.sigma**2, r0):
            return t
        if t == rec[k]:
            risk[k] = 0.5 * r2
            modes[k] = m * np.einsum("ij,ik,kj->j", Q, S, Q)
            k += 1
        if t == steps:
            return -1
        eta = lr(t)
        h = pre @ S
        cov = corr + (batch / r2) * (h @ pre.T)  # C + V
        scale = 1.0 / np.sqrt(np.diag(cov))
        drift = (eta * gain / math.sqrt(r2)) * (scale[:, None] * h)
        kernel = (2 / np.pi) * np.arcsin(np.clip(cov * np.outer(scale, scale), -1.0, 1.0))
        S = S - drift - drift.T + eta**2 * kernel
