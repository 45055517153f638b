"""signSGD's deterministic equivalent (batch 1): a per-mode recursion in the eigenbasis of
S = D^{-1/4} K D^{-1/4} (D = diag K), and its fixed point. Approximate: it linearises the arcsine mean
E[sign(g_i)] = (2/pi) arcsin(corr(f_i, r)) ~ (2/pi) (K e)_i / sqrt(K_ii R2); the second moment
E[sign(g) sign(g)^T] = (2/pi) arcsin(C) is exact at batch 1 (C the correlation matrix of K). Its
measured error against simulate(space="param") is in docs/coordinatewise.md.

With f = Q^T D^{1/4} e (S = Q diag(s) Q^T), rho_j = E[f_j^2], k_j = q_j^T D^{1/4} (2/pi) arcsin(C) D^{1/4} q_j:
    rho_j <- (1 - (4 lr / pi) s_j / sqrt(R2)) rho_j + lr^2 k_j,   R2 = 2 P_inf + sum_j s_j rho_j,  P = R2 / 2.
At constant lr its fixed point solves R2 - 2 P_inf = (pi / 4) lr sqrt(R2) sum_j k_j, a quadratic in sqrt(R2),
with sum_j k_j = sum_i sqrt(K_ii).

Without eigenvectors (a theory or user spectrum) it uses the W-free approximation of _w_free_modes,
meant for 2 alpha < 1 (meta["w_free"]; its measured error is in docs/coordinatewise.md).
"""
from __future__ import annotations

import numpy as np

from . import _validate as check
from .capabilities import APPROXIMATE
from .curves import Curve, check_record
from .spectrum import Spectrum

__all__ = ["sign_sgd_de", "sign_sgd_fixed_point"]


def _modes(spectrum: Spectrum):
    """(s, k, rho0) of the S-basis recursion, from K's eigenvectors and theta* (theta_0 = 0), or the
    W-free approximation when the spectrum has no eigenvectors."""
    if spectrum.eigenvectors is None or spectrum.theta_star is None:
        return _w_free_modes(spectrum)
    U, lam = spectrum.eigenvectors, spectrum.eigenvalues
    K = (U * lam) @ U.T
    D = np.diag(K)
    q4 = D ** 0.25
    s, Q = np.linalg.eigh(K / np.outer(q4, q4))
    C = np.clip(K / np.sqrt(np.outer(D, D)), -1.0, 1.0)
    A = q4[:, None] * Q  # columns D^{1/4} q_j
    k = np.einsum("ij,ik,kj->j", A, (2 / np.pi) * np.arcsin(C), A)
    rho0 = (Q.T @ (q4 * -spectrum.theta_star)) ** 2
    return np.clip(s, 0.0, None), k, rho0


def _w_free_modes(spectrum: Spectrum):
    """From the spectrum alone, for 2 alpha < 1 where diag K is nearly flat (K_ii ~ c = tr K / d) and C's
    off-diagonal entries are small: arcsin(C) ~ C off the diagonal, so (2/pi) arcsin(C) ~ (2/pi) C + (1 - 2/pi) I,
    S ~ K / sqrt(c) with K's eigenvectors, k_j ~ (2/pi) lambda_j / sqrt(c) + (1 - 2/pi) sqrt(c), rho~_j = sqrt(c) rho_j."""
    lam, mult = spectrum.eigenvalues, spectrum.multiplicity
    if np.any(mult != 1):
        raise ValueError("spectrum: signSGD's deterministic equivalent needs one entry per direction (spectrum.expand())")
    c = lam.sum() / spectrum.d
    k = (2 / np.pi) * lam / np.sqrt(c) + (1 - 2 / np.pi) * np.sqrt(c)
    return lam / np.sqrt(c), k, np.sqrt(c) * spectrum.rho


def sign_sgd_de(spectrum: Spectrum, lr, steps, record=None) -> Curve:
    """The expected risk of signSGD at batch 1 by the S-basis recursion (approximate, see the module)."""
    lr = check.positive("lr", lr)
    steps = check.integer("steps", steps, 1, 10**9)
    record = check_record(record, steps)
    s, k, rho = _modes(spectrum)
    p_inf = spectrum.p_inf
    out, want = [], set(record.tolist())
    for t in range(steps + 1):
        R2 = 2 * p_inf + s @ rho
        if t in want:
            out.append(R2 / 2)
        if t == steps:
            break
        rho = (1 - (4 * lr / np.pi) * s / np.sqrt(R2)) * rho + lr * lr * k
    w_free = spectrum.eigenvectors is None or spectrum.theta_star is None
    return Curve(steps=record, risk=np.array(out), meta=dict(spectrum.meta, optimizer="sign_sgd", lr=lr, batch=1,
                                                              capability=APPROXIMATE, w_free=w_free,
                                                              approximation="signSGD deterministic equivalent"))


def sign_sgd_fixed_point(spectrum: Spectrum, lr) -> float:
    """The recursion's limit risk at constant lr: sqrt(R2) = (a + sqrt(a^2 + 8 P_inf)) / 2, a = (pi/4) lr sum_i sqrt(K_ii)."""
    lr = check.positive("lr", lr)
    U, lam = spectrum.eigenvectors, spectrum.eigenvalues
    if U is None:
        raise ValueError("spectrum: the fixed point needs K's eigenvectors (diag K)")
    a = np.pi / 4 * lr * np.sqrt(np.einsum("ij,j,ij->i", U, lam, U)).sum()
    root = (a + np.sqrt(a * a + 8 * spectrum.p_inf)) / 2
    return float(root * root / 2)
