"""Deterministic dynamics of matrix optimizers on MatrixPLRF (docs/theory.md §13.3-13.5).

- SGD and DANA (GenMom): exact. Each output column is a scalar PLRF with shared data, and the
  expected risk is linear in the initial mode weights, so plrf.exact_risk on the spectrum
  (lambda, a_j(0)/m, sigma^2/2) is the exact expected risk per output.
- SignSVD: a per-mode recursion a_j' = a_j - 2 eta c_j a_j + eta^2 q_j (§13.4). Approximate.
- SignSVD with momentum and Muon: the same recursion on the momentum buffer (its effective batch and
  rank), with Newton-Schulz's polynomial applied to each mode's singular value (§13.7). Derived here,
  approximate (docs/muon.md, table 3).
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
from .polar import newton_schulz_map
from .simulate import check_run


# What each approximate recursion is and where its measured error is tabulated.
APPROXIMATION = {
    "SignSVD": "per-mode recursion, docs/theory.md §13.4; error vs Monte Carlo: docs/muon.md table 2",
    "SignSGD": "Gaussian closure, docs/theory.md §13.5; error vs Monte Carlo: docs/muon.md table 2",
    "Muon": "per-mode recursion with Newton-Schulz's map, docs/theory.md §13.7 (derived, not the paper's); "
            "error vs Monte Carlo: docs/muon.md table 3",
    "momentum": "SignSVD with momentum: per-mode recursion on the momentum buffer, docs/theory.md §13.7 (derived, not the paper's); "
                "error vs Monte Carlo: docs/muon.md table 3",
}


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
    risk, modes = np.full(len(rec), np.nan), np.full((len(rec), problem.d), np.nan)
    with np.errstate(invalid="ignore", over="ignore"):  # a diverging run is caught below, by its risk
        if isinstance(optimizer, SignSGD):
            diverged = _signsgd(problem, optimizer.lr, steps, batch, rec, risk, modes)
        else:  # SignSVD and Muon
            diverged = _spectral(problem, optimizer, steps, batch, rec, risk, modes)
    meta["exact"] = False
    kind = type(optimizer).__name__
    meta["approximation"] = APPROXIMATION["momentum" if kind == "SignSVD" and not _is_zero(optimizer.momentum) else kind]
    report_divergence([diverged], f"plrf.matrix.dynamics({optimizer.name})")
    return MatrixCurve(steps=rec, risk=risk, meta=meta, modes=modes, diverged_at=diverged)


def check_optimizer(optimizer) -> None:
    """ValueError naming `optimizer` unless the dynamics cover it (also used by plrf.sweep before any work)."""
    if isinstance(optimizer, SignSGD) and not _is_zero(optimizer.momentum):
        raise ValueError("optimizer: the deterministic dynamics of SignSGD are momentum-free; "
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


class _Buffer:
    """The momentum buffer in the per-mode recursion (§13.7). M = sum_k w_k G_{t-k} (M <- mu M + G), and
    Muon's Nesterov direction N = G + mu M. Dividing by the weights' sum, Mh = M / sum w is an average
    of the gradients: Mh' = (1 - b) Mh + b G with b = 1 / sum w, and Nh = (1 - bn) Mh' + bn G. Per mode it
    tracks u = <E_j, Mh_j> and v = |Mh_j|^2 (summed over outputs); their noise averages like one batch of
    size B (sum w)^2 / sum w^2 (the effective batch), and the buffer holds `count` gradients."""

    def __init__(self, optimizer):
        self.momentum = None if _is_zero(optimizer.momentum) else optimizer.momentum
        self.nesterov = getattr(optimizer, "nesterov", False)
        self.s1 = self.s2 = 0.0
        self.count = 0
        self.u = self.v = 0.0

    def step(self, t: int, batch: int):
        """(effective batch, gradients held) after adding step t's gradient."""
        if self.momentum is None:
            return batch, 1
        mu = self.momentum(t)
        self.s1, self.s2 = mu * self.s1 + 1.0, mu * mu * self.s2 + 1.0
        self.count = (self.count if mu > 0 else 0) + 1
        self.b = 1.0 / self.s1
        self.bn = 1.0 / (1.0 + mu * self.s1) if self.nesterov else 0.0
        n1, n2 = (1.0 + mu * self.s1, (1.0 + mu) ** 2 + mu * mu * (self.s2 - 1.0)) if self.nesterov else (self.s1, self.s2)
        return batch * n1 * n1 / n2, self.count

    def mix(self, lam, a, grad2):
        """(<E_j, Nh_j>, |Nh_j|^2) after this step's gradient, whose mean is lam_j E_j and whose second
        moment per mode is grad2; the step then follows Nh (Mh without Nesterov)."""
        b, bn, u = self.b, self.bn, self.u
        self.e_m = b * lam * a + (1 - b) * u  # <E, Mh'>
        g_m = b * grad2 + (1 - b) * lam * u  # <G, Mh'>
        self.v = (1 - b) ** 2 * self.v + 2 * b * (1 - b) * lam * u + b * b * grad2
        self.n_m = bn * g_m + (1 - bn) * self.v  # <Nh, Mh'>
        return bn * lam * a + (1 - bn) * self.e_m, bn * bn * grad2 + 2 * bn * (1 - bn) * g_m + (1 - bn) ** 2 * self.v

    def moved(self, step_over_nh):
        """After Theta -= eta P with P = step_over_nh * Nh (per mode): u = <E', Mh'>."""
        self.u = self.e_m - step_over_nh * self.n_m


def _spectral(problem, optimizer, steps, batch, rec, risk, modes) -> int:
    """SignSVD (§13.4) and, extended in §13.7, SignSVD with momentum and Muon. Without momentum:
    a_j' = a_j - 2 eta g_j c_j a_j + eta^2 g_j^2 q_j with c_j = lam_j / sigma_j,
    sigma_j^2 = lam_j^2 a_j + (m sigma_eff^2 / B)(lam_j + kappa), q_j = lam_j / (lam_j + kappa),
    m sigma_eff^2 = m sigma^2 + sum_j lam_j a_j and kappa the ridge of rank min(B, m). With momentum the
    step follows the buffer (P_j = Nh_j / sigma_j): a_j' = a_j - 2 eta g_j <E_j, Nh_j> / sigma_j + eta^2 g_j^2 q_j,
    with B the buffer's effective batch, the rank min(B n, m) of its n gradients, and sigma_j^2 scaled by
    |Nh_j|^2 over its value without lag. g_j = 1 for the exact polar factor, or Newton-Schulz's map of the
    normalised singular value sigma_j / sqrt(sum_l q_l sigma_l^2) for Muon, whose step is also scaled by
    sqrt(max(1, m / d))."""
    lam, m = problem.eigenvalues, problem.m
    muon = isinstance(optimizer, Muon)
    scale = math.sqrt(max(1.0, m / problem.d)) if muon else 1.0
    buffer, rank = _Buffer(optimizer), None
    a = problem.initial_modes()
    r0, k = problem.excess(a), 0
    for t in range(steps + 1):
        if _blown(problem.excess(a), r0):
            return t
        if t == rec[k]:
            risk[k], modes[k], k = problem.excess(a) + problem.p_inf, a, k + 1
        if t == steps:
            return -1
        eta = optimizer.lr(t) * scale
        b_eff, held = buffer.step(t, batch)
        if min(batch * held, m) != rank:  # the ridge changes only while the buffer's rank grows
            rank = min(batch * held, m)
            kappa = ridge_kappa(lam, rank)
            q = lam / (lam + kappa)
        noise = (m * problem.sigma**2 + lam @ a) / b_eff
        sv2 = lam**2 * a + noise * (lam + kappa)
        if buffer.momentum is not None:
            pull, size = buffer.mix(lam, a, lam**2 * a + noise * (b_eff / batch) * lam)
            sv2 = sv2 * size / (lam**2 * a + noise * lam)  # the buffer's own size, lag included
        gain = newton_schulz_map(np.sqrt(sv2 / (q @ sv2)), optimizer.ns_steps, optimizer.coeffs) if muon else None
        inject = q if gain is None else gain * gain * q
        if buffer.momentum is None:
            c = lam / np.sqrt(sv2) if gain is None else gain * (lam / np.sqrt(sv2))
            a = np.maximum(a - 2 * eta * c * a + eta**2 * inject, 0.0)  # overshoot past 0 is clipped (the mode oscillates at ~eta^2)
        else:  # the step is P_j = (g_j / sigma_j) Nh_j
            per = 1.0 / np.sqrt(sv2) if gain is None else gain / np.sqrt(sv2)
            a = np.maximum(a - 2 * eta * per * pull + eta**2 * inject, 0.0)
            buffer.moved(eta * per)


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
