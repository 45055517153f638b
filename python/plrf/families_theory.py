"""Closed forms for the new families: sparse updates / mixtures of experts (docs/theory.md §11.2) and the
stationary risk of SGD with weight decay and injected noise (E.2).

Heavy ball (gamma1 = 1, gamma2 = 0, step gamma3, Delta = 1 - momentum) on a block that receives
gradient with probability p per sample: on eigenmode lambda the mean of (e, y) moves by the matrix
[[1 - x, -gamma3 (1 - Delta)], [p lambda, 1 - Delta]] with x = gamma3 p lambda, whose characteristic
polynomial is z^2 - (2 - Delta - x) z + (1 - Delta). Its discriminant is (Delta + x)^2 - 4x, so the
mean error oscillates (complex roots) iff (Delta + x)^2 < 4x; the boundary is
(Delta + gamma3 p lambda)^2 = 4 gamma3 p lambda, i.e. Delta = 2 sqrt(x) - x for x <= 4.
Momentum retention T_mom = 1/Delta steps, learning T_learn = Delta / x steps; their ratio
Delta^2 / x = (2 - sqrt x)^2 is about 4 on the boundary (critical damping), and the critical Delta
grows like sqrt(p): a global momentum cannot be critical for blocks of different p.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "heavy_ball_roots", "heavy_ball_oscillates", "critical_delta", "timescale_ratio", "moe_exponent", "sgd_stationary_risk",
]


def _x(gamma3, p, lam):
    return np.asarray(gamma3, dtype=np.float64) * np.asarray(p, dtype=np.float64) * np.asarray(lam, dtype=np.float64)


def heavy_ball_roots(delta, gamma3, p, lam):
    """The two (complex) roots of z^2 - (2 - Delta - x) z + (1 - Delta), x = gamma3 p lambda."""
    delta = np.asarray(delta, dtype=np.float64)
    x = _x(gamma3, p, lam)
    half = 0.5 * (2.0 - delta - x)
    root = np.sqrt(((delta + x) ** 2 - 4.0 * x) / 4.0 + 0j)
    return half + root, half - root


def heavy_ball_oscillates(delta, gamma3, p, lam):
    """True where the mean dynamics oscillate: (Delta + gamma3 p lambda)^2 < 4 gamma3 p lambda."""
    x = _x(gamma3, p, lam)
    return (np.asarray(delta, dtype=np.float64) + x) ** 2 < 4.0 * x


def critical_delta(gamma3, p, lam):
    """The Delta on the oscillation boundary with Delta >= 0: 2 sqrt(x) - x (NaN when x > 4)."""
    x = _x(gamma3, p, lam)
    return np.where(x <= 4.0, 2.0 * np.sqrt(x) - x, np.nan)


def timescale_ratio(delta, gamma3, p, lam):
    """T_learn / T_mom = Delta^2 / (gamma3 p lambda): >> 1 SGD-like, << 1 under-damped."""
    return np.asarray(delta, dtype=np.float64) ** 2 / _x(gamma3, p, lam)


def moe_exponent(sigma, zeta):
    """Total-risk decay exponent of Zipf(zeta) experts (m -> oo, zeta > 1): min(sigma, 1 - 1/zeta)
    [derived, docs/theory.md §11.2]; sigma is the single-learner exponent, P_SGD(n) - P_inf ~ n^-sigma.
    Measured (docs/families.md): -0.505 vs -0.5 at zeta = 2, -0.665 vs -0.667 at zeta = 3; -0.364 vs
    -0.333 at zeta = 1.5 (finite m, slowly drifting: not confirmed there)."""
    if not zeta > 1:
        raise ValueError(f"zeta must be > 1, got {zeta}")
    return min(float(sigma), 1.0 - 1.0 / float(zeta))


def sgd_stationary_risk(spectrum, lr, batch=1, *, l2=0.0, decay=0.0, noise=0.0):
    """The exact limit risk of constant-step SGD with ridge l2, decoupled decay w and update noise
    sigma (docs/theory.md §11.3): the fixed point of the two-moment recursion (a_j, u_j = phi*_j E e_j).

    With A_j = 1 - w - lr (lambda_j + l2) and h = -(w + lr l2): u_j = h rho_j / (1 - A_j), and
    a_j (1 - A_j^2 - lr^2 lambda_j^2 / B) = 2 h A_j u_j + h^2 rho_j + lr^2 lambda_j R2 / B + sigma^2,
    i.e. a_j = alpha_j + beta_j R2, closed by R2 = 2 P_inf + sum lambda_j a_j. Returns P = R2 / 2, or
    ValueError when some mode has no fixed point (the step is unstable). With l2 = w = 0 and small lr
    this is the floor a_j ~ lr R2 / (2B) + sigma^2 / (2 lr lambda_j).
    """
    lam, rho = spectrum.eigenvalues, spectrum.rho
    A, h = 1.0 - decay - lr * (lam + l2), -(decay + lr * l2)
    keep = 1.0 - A**2 - (lr * lam) ** 2 / batch
    if np.any(keep <= 0) or np.any(np.abs(A) >= 1):
        raise ValueError(f"lr={lr}: some mode has no stationary point (unstable step)")
    u = h * rho / (1.0 - A)
    alpha = (2.0 * h * A * u + h * h * rho + noise**2) / keep
    beta = lr * lr * lam / batch / keep
    denom = 1.0 - lam @ beta
    if denom <= 0:
        raise ValueError(f"lr={lr}: the noise feedback diverges (sum lambda beta >= 1)")
    return 0.5 * (2.0 * spectrum.p_inf + lam @ alpha) / denom
