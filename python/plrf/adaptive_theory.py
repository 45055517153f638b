"""Closed-form oracles for adaptive step sizes (docs/theory.md §12.4), in plrf units: per-step learning rate
eta (the multiplier of a gamma2 = 1 SGD), batch-averaged gradients, risk P = half the MSE.

1. Isotropic AdaGrad-Norm, noiseless (K = lam I_d, P_inf = 0). The DE in continuous time is
   dA/dt = A (-2 eta lam + eta^2 lam^2 c), dS/dt = lam^2 c A, eta = G / sqrt(S), with A = sum_j a_j
   and c = 1 + (d + 1)/B (E||g||^2 = lam^2 c A). Dividing, dA/dS = -2 eta/(lam c) + eta^2 integrates to
   A = A0 - (4G/(lam c))(sqrt S - b0) + G^2 ln(S / b0^2). With x = eta lam c, A -> 0 gives
       ln x + 2/x = ln x0 + 2/x0 + A0 / (2 G^2),    x0 = G lam c / b0,
   whose root in (0, 2] is x_inf ([HL]'s form with their c = d, B = 1).
2. Noisy AdaGrad-Norm (P_inf > 0): E||g||^2 -> 2 P_inf tr K / B, so eta_t ~ G sqrt(B / (2 P_inf tr K t))
   and the equilibrated excess risk is eta tr K P_inf / (2B) = (G / (2 sqrt 2)) sqrt(tr K P_inf / (B t)).
3. PLRF power laws (d -> infinity, P_inf = 0): constant-step SGD has P ~ Gamma^-sigma,
   sigma = (2 alpha + 2 beta - 1)/(2 alpha). If sigma > 1 (2 beta > 1) sum ||g||^2 converges and eta
   tends to a constant; if sigma < 1, eta ~ t^-(1 - 2beta)/(2alpha + 1 - 2beta) and
   P ~ t^-(2alpha + 2beta - 1)/(2alpha + 1 - 2beta). The transition is at 2 beta = 1 [derived].
4. Exact line search, two eigenvalues (half the modes at lam1, half at lam2, noiseless, B = 1,
   d -> infinity): [HL]'s closed form for gamma_inf = eta_inf * d and the limiting ratio of the
   per-half energies D2 / D1 (D = lam * sum of e^2 over the half).
"""
from __future__ import annotations

import math

from scipy.optimize import brentq

from . import _validate as check

__all__ = [
    "adagrad_norm_isotropic_limit",
    "adagrad_norm_noisy_lr",
    "adagrad_norm_noisy_excess",
    "adagrad_norm_exponents",
    "line_search_two_eigenvalues",
]


def adagrad_norm_isotropic_limit(eigenvalue, d, G, b0, error2, batch=1) -> float:
    """Limiting eta of AdaGrad-Norm for K = eigenvalue * I_d, P_inf = 0 (continuous-time DE).

    error2 is the initial squared distance |theta_0 - theta*|^2 (sum of rho).
    """
    lam = check.positive("eigenvalue", eigenvalue)
    d, B = check.integer("d", d, 1), check.integer("batch", batch, 1)
    G, b0 = check.positive("G", G), check.positive("b0", b0)
    A0 = check.finite("error2", error2)
    if A0 < 0:
        raise ValueError(f"error2 must be >= 0, got {A0}")
    c = 1.0 + (d + 1.0) / B
    x0 = G * lam * c / b0
    rhs = math.log(x0) + 2.0 / x0 + A0 / (2.0 * G * G)
    h = lambda x: math.log(x) + 2.0 / x - rhs  # decreasing on (0, 2]; rhs >= h(2) = 1 + ln 2
    # h(1/rhs) = rhs - ln(rhs) > 0 brackets the root from below.
    x = 2.0 if h(2.0) >= 0 else brentq(h, 1.0 / rhs, 2.0, xtol=1e-300, rtol=1e-15, maxiter=500)
    return x / (lam * c)


def adagrad_norm_noisy_lr(t, G, trace, p_inf, batch=1, b0=0.0) -> float:
    """eta_t ~ G / sqrt(b0^2 + 2 P_inf tr K t / B): the t^-1/2 law once noise dominates ||g||^2."""
    G, trace, p_inf = check.positive("G", G), check.positive("trace", trace), check.positive("p_inf", p_inf)
    B = check.integer("batch", batch, 1)
    return G / math.sqrt(float(b0) ** 2 + 2.0 * p_inf * trace * check.finite("t", t) / B)


def adagrad_norm_noisy_excess(t, G, trace, p_inf, batch=1) -> float:
    """P - P_inf ~ (G / (2 sqrt 2)) sqrt(tr K P_inf / (B t)): the quasi-static excess of equilibrated modes."""
    G, trace, p_inf = check.positive("G", G), check.positive("trace", trace), check.positive("p_inf", p_inf)
    B = check.integer("batch", batch, 1)
    return G / (2.0 * math.sqrt(2.0)) * math.sqrt(trace * p_inf / (B * check.positive("t", t)))


def adagrad_norm_exponents(alpha, beta) -> dict:
    """{"lr": e_eta, "risk": e_P} with eta ~ t^-e_eta, P ~ t^-e_P (PLRF, d -> infinity, P_inf = 0)."""
    alpha, beta = check.positive("alpha", alpha), check.positive("beta", beta)
    if 2.0 * (alpha + beta) <= 1.0:
        raise ValueError(f"degenerate model: need 2(alpha + beta) > 1, got alpha={alpha}, beta={beta}")
    sigma = (2.0 * alpha + 2.0 * beta - 1.0) / (2.0 * alpha)
    if sigma >= 1.0:  # 2 beta >= 1: sum ||g||^2 converges (log-corrected at 2 beta = 1)
        return {"lr": 0.0, "risk": sigma, "sigma": sigma}
    return {"lr": (1.0 - sigma) / (2.0 - sigma), "risk": sigma / (2.0 - sigma), "sigma": sigma}


def line_search_two_eigenvalues(lam1, lam2) -> dict:
    """[HL]'s two-eigenvalue limit: {"gamma": gamma_inf (eta_inf = gamma / d), "ratio": a2 / a1}."""
    l1, l2 = check.positive("lam1", lam1), check.positive("lam2", lam2)
    q = l1**6 - 4 * l1**5 * l2 + 8 * l1**4 * l2**2 - 6 * l1**3 * l2**3 + 8 * l1**2 * l2**4 - 4 * l1 * l2**5 + l2**6
    root = math.sqrt(q)
    gamma = (l1**3 + 2 * l1**2 * l2 + 2 * l1 * l2**2 + l2**3 - root) / (l1**2 + l2**2) ** 2
    ratio = (l1**3 - 2 * l1**2 * l2 + 2 * l1 * l2**2 - l2**3 + root) / (2 * l1 * l2**2)
    return {"gamma": gamma, "ratio": ratio}
