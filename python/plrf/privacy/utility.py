"""The privacy-utility curve (docs/privacy.md): the best expected risk reachable at each epsilon.

One-pass DP-SGD on n samples in batches of B (n // B steps), each sample used once. At a target
(epsilon, delta) the noise multiplier is the smallest the accountant allows (more noise only adds
forcing to the risk recursion, so the optimum over the noise multiplier sits there); the learning rate
(constant, or decaying lr0 / (1 + t / tau)) and the clip norm C are optimised over grids, on the
clipping DE (plrf.exact_risk with plrf.clip: approximate, docs/privacy.md measures it). In one pass
each sample meets one step, so every step's noise must meet the budget on its own: the noise cannot
decay, only the learning rate can.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _validate as check
from ..exact import exact_risk
from ..errstate import errstate
from ..optim import Schedule, defaults, sgd
from ..spectrum import as_spectrum
from ..transforms import chain
from .accounting import noise_for_epsilon
from .clipping import clip

__all__ = ["Point", "best_risk", "curve", "LR_FACTORS", "CLIP_FACTORS", "TAU_FRACTIONS"]

LR_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)          # x plrf.defaults' SGD lr
CLIP_FACTORS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)  # x the typical initial per-sample gradient norm sqrt(tr K 2 P(0))
TAU_FRACTIONS = (0.03, 0.3)                      # decaying schedules: tau = fraction x steps


@dataclass(frozen=True)
class Point:
    """The best (final-step) risk found at one epsilon, and where: lr0, tau (None: constant), C/typical norm."""

    epsilon: float
    noise_multiplier: float
    schedule: str
    risk: float
    lr: float
    tau: float | None
    clip_factor: float


def typical_norm(spec) -> float:
    """sqrt(tr K * 2 P(0)): the typical per-sample gradient norm at the start (E |f|^2 E r^2)."""
    return math.sqrt(spec.trace * 2.0 * spec.risk0)


def _lr(lr0, tau):
    return lr0 if tau is None else Schedule.power_law(lr0, tau, -1.0)


def best_risk(spectrum, n, batch, noise_multiplier, schedule="constant", epsilon=math.nan) -> Point:
    """The best final risk of one-pass DP-SGD over the lr (and tau) and clip grids, at this noise multiplier."""
    spec = as_spectrum(spectrum)
    steps = check.integer("n", n, 1) // check.integer("batch", batch, 1)
    if steps < 1:
        raise ValueError(f"n must be >= batch (one pass of n samples in batches of B), got n={n}, batch={batch}")
    check.choice("schedule", schedule, ("constant", "decaying"))
    base, norm = defaults(spec, batch)["sgd"].gamma2.c, typical_norm(spec)
    taus = [None] if schedule == "constant" else [f * steps for f in TAU_FRACTIONS]
    best = None
    for lr0 in (f * base for f in LR_FACTORS):
        for tau in taus:
            for k in CLIP_FACTORS:
                opt = chain(sgd(_lr(lr0, tau)), clip(k * norm, noise_multiplier=noise_multiplier))
                with errstate(divergence="ignore"):  # a diverged setting is skipped (NaN), not warned about
                    r = float(exact_risk(spec, opt, steps, batch, record=[steps]).risk[-1])
                if math.isfinite(r) and (best is None or r < best.risk):
                    best = Point(epsilon, noise_multiplier, schedule, r, lr0, tau, k)
    return best


def curve(spectrum, n, batch, epsilons, delta, schedules=("constant", "decaying")) -> list:
    """Points (one per epsilon and schedule) of the privacy-utility curve, one-pass accounting."""
    out = []
    for eps in epsilons:
        s = noise_for_epsilon(eps, delta, mode="one_pass")
        out += [best_risk(spectrum, n, batch, s, sch, eps) for sch in schedules]
    return out


def nonprivate_risk(spectrum, n, batch) -> float:
    """The best one-pass risk without clipping or noise (the same lr grids), the utility loss's baseline."""
    spec = as_spectrum(spectrum)
    steps = n // batch
    base = defaults(spec, batch)["sgd"].gamma2.c
    with errstate(divergence="ignore"):
        risks = [exact_risk(spec, sgd(_lr(f * base, tau)), steps, batch, record=[steps]).risk[-1]
                 for f in LR_FACTORS for tau in [None] + [g * steps for g in TAU_FRACTIONS]]
    return float(np.nanmin(risks))
