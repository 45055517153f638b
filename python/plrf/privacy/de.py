"""The deterministic equivalent (DE) of SGD with per-sample clipping and DP noise (docs/theory.md,
"Clipping"; docs/privacy.md measures its error).

A sample's gradient is f r with r = <f, e> - eps ~ N(0, R2) given e (R2 = 2P). Replacing |f|^2 by
its mean tr K (a concentration that holds when the effective rank tr K / lambda_max is large), the
clipped gradient is f psi(r) with psi(r) = r clamped to [-c, c], c = C / sqrt(tr K). Then
- mean: E[f psi(r)] = K e P(|r| <= c) = mu K e, mu = erf(c / sqrt(2 R2))          (Stein's lemma);
- forcing: E[psi(r)^2] = nu = R2 [erf(a/sqrt2) - sqrt(2/pi) a exp(-a^2/2)] + c^2 erfc(a/sqrt2), a = c/sqrt(R2).
Per mode (a_j = E e_j^2 summed over a node's m_j directions), plain SGD with step eta_t:
    a_j' = (1 - 2 eta mu lam_j + eta^2 mu^2 lam_j^2 (1 + 1/B)) a_j + m_j eta^2 lam_j nu / B + m_j (eta s C / B)^2,
which is SGD's exact recursion when mu = 1 and nu = R2 (no clipping) and the injected-noise
recursion with noise eta s C / B.
"""
from __future__ import annotations

import math

import numpy as np

from .._validate import integer
from ..curves import Curve, check_record
from ..spectrum import as_spectrum

__all__ = ["clipped_risk", "clip_factors", "VALIDITY"]

# measured by bench/privacy_de_table.py (docs/privacy.md, "How good is the DE")
VALIDITY = ("|f|^2 replaced by tr K. Monte Carlo / DE - 1 (d = 200, B = 4, docs/privacy.md): within 2% for "
            "2 alpha < 1; for 2 alpha > 1 within ~5% once t >= 1e3, but 6-30% early in the run with moderate "
            "clipping (C = half the typical gradient norm, alpha = 0.7-1.5)")


def clip_factors(R2, c):
    """(mu, nu): the clipped gradient's mean factor and second moment for residual variance R2, threshold c."""
    if c == math.inf:
        return 1.0, R2
    a = c / math.sqrt(R2)
    mu = math.erf(c / math.sqrt(2.0 * R2))
    nu = R2 * (math.erf(a / math.sqrt(2.0)) - math.sqrt(2.0 / math.pi) * a * math.exp(-0.5 * a * a)) \
        + c * c * math.erfc(a / math.sqrt(2.0))
    return mu, nu


def clipped_risk(spectrum, optimizer, steps, batch, record) -> Curve:
    """E[P] of SGD with the optimizer's clip knobs (a GenMomentum lowered from a chain with plrf.clip)."""
    spec = as_spectrum(spectrum)
    steps = integer("steps", steps, 1)
    B = float(integer("batch", batch, 1))
    rec = check_record(record, steps)
    if not optimizer.is_sgd() or optimizer.has_affine_knobs() or optimizer.svag_l != 1.0:
        raise ValueError(f"optimizer: the clipped DE runs plain SGD only (no momentum, decay or SVAG), got "
                         f"{optimizer.name}; simulate() runs the others")
    optimizer.check_length(int(rec[-1]))
    lam = spec.eigenvalues
    mult = spec.multiplicity.astype(np.float64)
    c = optimizer.clip / math.sqrt(spec.trace)
    noise = optimizer.clip_noise * optimizer.clip / B  # per-coordinate std of the noise on the averaged gradient
    a = spec.rho.astype(np.float64).copy()
    out = np.full(len(rec), np.nan)
    diverged_at, k = -1, 0
    for t in range(int(rec[-1]) + 1):
        R2 = 2.0 * spec.p_inf + float(lam @ a)
        while k < len(rec) and rec[k] == t:
            out[k], k = 0.5 * R2, k + 1
        if t == rec[-1]:
            break
        if not math.isfinite(R2) or R2 > 1e300:
            diverged_at = t
            break
        eta = optimizer.gamma2(t)
        mu, nu = clip_factors(R2, c)
        g = eta * mu * lam
        a = (1.0 - 2.0 * g + g * g * (1.0 + 1.0 / B)) * a + mult * (eta * eta * lam * nu / B + (eta * noise) ** 2)
    return Curve(steps=rec, risk=out, meta={**spec.meta, "method": "exact", "optimizer": optimizer.name,
                                           "batch": int(B), "steps": steps, "clip": optimizer.clip,
                                           "noise_multiplier": optimizer.clip_noise,
                                           "approximation": "deterministic equivalent (clipping)",
                                           "approximation_error": VALIDITY},
                 diverged_at=diverged_at)
