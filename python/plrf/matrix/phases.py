"""Which of SignSVD and SignSGD wins, from the deterministic dynamics (docs/muon.md §Phases).

At each horizon t each method gets its best constant learning rate from a grid (tuned per
horizon), and the two excess risks P - P_inf are compared; SignSVD is "uniformly favoured" when its tuned risk is below SignSGD's at every horizon,
SignSGD when above at every horizon, and a "trade-off" otherwise.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..curves import DivergenceWarning

from .constants import sign_gain
from .dynamics import dynamics, ridge_kappa
from .optimizers import signsgd, signsvd

PHASES = ("SignSGD", "trade-off", "SignSVD")


def frobenius_grid(problem, batch, n=9, lo=1e-3, hi=1.0) -> tuple[np.ndarray, np.ndarray]:
    """Learning-rate grids with matched Frobenius steps: SignSVD's eta and SignSGD's eta sqrt(rank / (d m))."""
    svd = np.geomspace(lo, hi, n) * np.sqrt(problem.m)
    return svd, svd * np.sqrt(min(batch, problem.d, problem.m) / (problem.d * problem.m))


def tuned(problem, method, lrs, steps, batch, record) -> tuple[np.ndarray, np.ndarray]:
    """Best excess risk P - P_inf over the grid `lrs` at each record step, and the learning rate that
    gives it (rates that make the risk blow up are expected in a grid scan and count as infinite)."""
    make = signsvd if method == "signsvd" else signsgd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        risks = np.array([dynamics(problem, make(float(lr)), steps, batch=batch, record=record).risk for lr in lrs])
    risks = risks - problem.p_inf
    risks[~np.isfinite(risks)] = np.inf
    best = np.argmin(risks, axis=0)
    return risks[best, np.arange(risks.shape[1])], np.asarray(lrs)[best]


def classify(ratio: np.ndarray, tol: float = 0.0) -> str:
    """ratio = tuned SignSVD excess risk / tuned SignSGD excess risk over horizons -> the phase."""
    if np.all(ratio < 1 - tol):
        return "SignSVD"
    if np.all(ratio > 1 + tol):
        return "SignSGD"
    return "trade-off"


def mode_rates(problem, batch) -> dict:
    """Per-mode contraction rate per unit learning rate at a small error (the noise-dominated start),
    both methods, normalised to mode 1: SignSVD lambda_j / sqrt(lambda_j + kappa_B) (§13.4) and SignSGD's
    k_B [Q^T D^{-1/2} K Q]_jj (§13.5), whose D = diag K is flat for a generic (Haar) basis."""
    lam = problem.eigenvalues
    svd = lam / np.sqrt(lam + ridge_kappa(lam, min(batch, problem.m)))
    pre = problem.K / np.sqrt(np.diag(problem.K))[:, None]
    sgd = sign_gain(batch) * np.einsum("ij,ik,kj->j", problem.Q, pre, problem.Q)
    return {"signsvd": svd / svd[0], "signsgd": sgd / sgd[0]}
