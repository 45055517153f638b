"""The constants the matrix dynamics rest on, each a closed form checked by tests/test_matrix_muon.py."""
from __future__ import annotations

import math

import numpy as np


def sign_gain(batch: int) -> float:
    """k_B = E|sum_{b<=B} u_b v_b| for independent standard normals: the slope of E sign(G_ic) in the
    correlation of x_i with the residual (2/pi at B = 1, -> sqrt(2 B / pi))."""
    return math.sqrt(2 / math.pi) * math.sqrt(2) * math.exp(math.lgamma((batch + 1) / 2) - math.lgamma(batch / 2))


def mp_mean_sqrt(ratio: float) -> float:
    """E sqrt(lambda) under the Marchenko-Pastur law of ratio d/B <= 1 (unit variance): E tr(K_hat^{1/2}) / d
    for the sample covariance K_hat of B isotropic rows in dimension d."""
    if not 0 < ratio <= 1:
        raise ValueError(f"ratio must be in (0, 1], got {ratio!r}")
    lo, hi = (1 - math.sqrt(ratio)) ** 2, (1 + math.sqrt(ratio)) ** 2
    x = lo + (hi - lo) * (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, 4001)))  # Chebyshev-like grid: the density has sqrt edges
    dens = np.sqrt(np.maximum((hi - x) * (x - lo), 0)) / (2 * np.pi * ratio * x)
    return float(np.trapezoid(np.sqrt(x) * dens, x))


def isotropic_ratio(d: int, batch: int) -> float:
    """SignSGD's drift over SignSVD's, per unit Frobenius step, on isotropic data in the noise-dominated
    regime with batch >= d (docs/theory.md §13.6): k_B / sqrt(B) / E_MP sqrt(lambda)(d/B) -> sqrt(2/pi)."""
    if batch < d:
        raise ValueError(f"batch must be >= d for the isotropic constant, got batch={batch}, d={d}")
    return sign_gain(batch) / math.sqrt(batch) / mp_mean_sqrt(d / batch)
