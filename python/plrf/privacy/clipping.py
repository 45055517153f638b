"""DP-SGD's per-sample clipping and Gaussian noise as a chain member (docs/privacy.md).

    opt = plrf.chain(plrf.sgd(0.1), plrf.clip(1.0, noise_multiplier=0.8))
    plrf.simulate(problem, opt, 1000, seeds=100)     # Monte Carlo, exact in law (explicit per-sample gradients)
    plrf.exact_risk(spectrum, opt, 1000)             # its deterministic equivalent: approximate (meta says so)

Each sample's gradient is clipped to norm C, the clipped gradients are summed, Gaussian noise of
standard deviation noise_multiplier * C per coordinate is added to the sum, and the optimizer reads
the sum divided by the batch size B. C = oo (with noise_multiplier = 0) is the identity: the chain
then runs exactly as without the member, bit for bit.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from .. import capabilities as cap
from .._validate import finite
from ..optim import GenMomentum

__all__ = ["Clip", "clip", "lower"]


@dataclass(frozen=True, repr=False)
class Clip(cap.Transform):
    """Per-sample clipping to norm C and Gaussian noise noise_multiplier * C on the batch sum."""

    C: float
    noise_multiplier: float = 0.0
    KIND = "clip"
    REFINES = ("C = oo (identity): defined wherever the rest of the chain is, with its word; exact: plain SGD "
               "only, a deterministic equivalent (docs/privacy.md); eigen: runs the explicit sampler.")
    DECLARES = {"exact": cap.APPROXIMATE, "fast": cap.UNDEFINED, "ode": cap.UNDEFINED, "continuous": cap.UNDEFINED,
                "eigen": cap.IN_LAW, "full": cap.IN_LAW, "param": cap.UNDEFINED}

    def __post_init__(self):
        C = _number("C", self.C)
        s = _number("noise_multiplier", self.noise_multiplier)
        if not C > 0:
            raise ValueError(f"C (the clip norm) must be > 0 (math.inf: no clipping), got {self.C!r}")
        if not (s >= 0 and math.isfinite(s)):
            raise ValueError(f"noise_multiplier must be finite and >= 0, got {self.noise_multiplier!r}")
        if C == math.inf and s != 0:
            raise ValueError("noise_multiplier > 0 needs a finite C (the noise std on the batch sum is "
                             "noise_multiplier * C); for noise without clipping use plrf.decay(noise=...)")
        object.__setattr__(self, "C", C)
        object.__setattr__(self, "noise_multiplier", s)

    @property
    def identity(self) -> bool:
        return self.C == math.inf

    def capability(self, engine):
        if self.identity:  # no clipping, no noise: the weakest word is the rest of the chain's
            return cap.EXACT if engine in cap.DETERMINISTIC else cap.IN_LAW
        return self.DECLARES[engine]

    def __repr__(self):
        return f"clip(C={self.C:g}, noise_multiplier={self.noise_multiplier:g})"


def _number(name, x) -> float:
    """A real number, +oo allowed (NaN and non-numbers refused naming `name`)."""
    if isinstance(x, numbers.Real) and not isinstance(x, bool) and float(x) == math.inf:
        return math.inf
    return finite(name, x)


def clip(C, noise_multiplier=0.0) -> Clip:
    """The DP-SGD member: clip each sample's gradient to norm C (> 0; math.inf: off), add Gaussian noise of
    std noise_multiplier * C (>= 0) to the batch sum. Account its privacy with plrf.privacy.epsilon."""
    return Clip(C, noise_multiplier)


def lower(opt: GenMomentum, member: Clip | None) -> GenMomentum:
    """The GenMomentum carrying the member's knobs (unchanged when there is none or it is the identity)."""
    if member is None or member.identity:
        return opt
    return GenMomentum(opt.gamma1, opt.gamma2, opt.gamma3, opt.delta, opt.name + "+clip", l2=opt.l2,
                       decay=opt.decay, noise=opt.noise, svag_l=opt.svag_l, clip=member.C,
                       clip_noise=member.noise_multiplier)
