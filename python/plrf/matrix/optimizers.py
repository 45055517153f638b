"""Optimizers on matrix parameters Theta (d x m), every hyperparameter a plrf.Schedule.

Each optimizer maps a batch (data rows x, residuals r, gradient G = x^T r / B) and its state to the
step U, applied as Theta <- Theta - U. All act on a stack of seeds at once (arrays (S, d, m)).
Conventions (docs/muon.md): momentum buffers start at 0 and accumulate M <- mu M + G (no (1 - mu)
factor: the sign and polar maps ignore the scale); Muon's Nesterov direction is G + mu M.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..optim import GenMomentum, Schedule, schedule
from .polar import NS_COEFFS, NS_STEPS, newton_schulz, polar, polar_of_product


class Batch:
    """One step's sample: rows x (S, B, d), residuals r = x E - noise (S, B, m); G is formed on demand."""

    def __init__(self, x, r):
        self.x, self.r, self._g = x, r, None

    @property
    def grad(self) -> np.ndarray:
        if self._g is None:
            self._g = np.swapaxes(self.x, -1, -2) @ self.r / self.x.shape[-2]
        return self._g


def _is_zero(s: Schedule) -> bool:
    return s.kind == Schedule.Kind.constant and s.c == 0.0


@dataclass(frozen=True)
class MatrixOptimizer:
    name: str
    lr: Schedule
    momentum: Schedule = field(default_factory=lambda: Schedule.constant(0.0))

    def new_state(self, shape) -> dict:
        return {} if _is_zero(self.momentum) else {"M": np.zeros(shape)}

    def _momentum(self, batch: Batch, state: dict, t: int) -> np.ndarray:
        if not state:
            return batch.grad
        state["M"] *= self.momentum(t)
        state["M"] += batch.grad
        return state["M"]

    def schedules(self) -> dict:
        return {"lr": self.lr, "momentum": self.momentum}


class SignSGD(MatrixOptimizer):
    def step(self, batch, state, t):
        return self.lr(t) * np.sign(self._momentum(batch, state, t))


class SignSVD(MatrixOptimizer):
    def step(self, batch, state, t):
        if not state:  # no momentum: G = x^T r / B has rank <= B, and its polar factor is exact in O(B^2 (d + m))
            return self.lr(t) * polar_of_product(batch.x, batch.r)
        return self.lr(t) * polar(self._momentum(batch, state, t))


@dataclass(frozen=True)
class Muon(MatrixOptimizer):
    nesterov: bool = True
    ns_steps: int = NS_STEPS
    coeffs: tuple = NS_COEFFS

    def step(self, batch, state, t):
        mu = self._momentum(batch, state, t)
        if state and self.nesterov:
            mu = batch.grad + self.momentum(t) * mu
        d, m = mu.shape[-2:]
        return self.lr(t) * np.sqrt(max(1.0, m / d)) * newton_schulz(mu, self.ns_steps, self.coeffs)


@dataclass(frozen=True)
class GenMom:
    """A plrf Gen-Mom-SGD member (plrf.sgd, plrf.dana_decaying, ...) applied to every column."""

    opt: GenMomentum

    @property
    def name(self) -> str:
        return self.opt.name

    def new_state(self, shape) -> dict:
        return {} if self.opt.is_sgd() else {"y": np.zeros(shape)}

    def step(self, batch, state, t):
        c = self.opt.coefficients(float(t))
        g = batch.grad
        if not state:
            return c["gamma2"] * g
        state["y"] *= 1.0 - c["delta"]
        state["y"] += c["gamma1"] * g
        return c["gamma2"] * g + c["gamma3"] * state["y"]

    def schedules(self) -> dict:
        o = self.opt
        return {"gamma1": o.gamma1, "gamma2": o.gamma2, "gamma3": o.gamma3, "delta": o.delta}


def signsgd(lr, momentum=0.0) -> SignSGD:
    """Theta <- Theta - lr sign(M), entrywise (M = G without momentum)."""
    return SignSGD("signsgd", schedule(lr, "lr"), schedule(momentum, "momentum"))


def signsvd(lr, momentum=0.0) -> SignSVD:
    """Theta <- Theta - lr polar(M), the exact polar factor U V^T (through an SVD)."""
    return SignSVD("signsvd", schedule(lr, "lr"), schedule(momentum, "momentum"))


def muon(lr, momentum=0.95, nesterov=True, ns_steps=NS_STEPS) -> Muon:
    """Muon as used in practice: momentum, Nesterov, 5 Newton-Schulz steps, scale sqrt(max(1, m/d))."""
    if not isinstance(nesterov, bool):
        raise ValueError(f"nesterov must be True or False, got {nesterov!r}")
    if isinstance(ns_steps, bool) or not isinstance(ns_steps, int) or not 1 <= ns_steps <= 100:
        raise ValueError(f"ns_steps must be an integer in [1, 100], got {ns_steps!r}")
    return Muon("muon", schedule(lr, "lr"), schedule(momentum, "momentum"), nesterov, ns_steps)


def sgd(lr) -> GenMom:
    from .. import optim

    return GenMom(optim.sgd(lr))


def dana(opt: GenMomentum) -> GenMom:
    """Any Gen-Mom member as a matrix optimizer, e.g. dana(plrf.dana_decaying(g2, g3, delta, alpha))."""
    if not isinstance(opt, GenMomentum):
        raise ValueError(f"opt must be a plrf.GenMomentum (e.g. plrf.dana_decaying(...)), got {opt!r:.80}")
    return GenMom(opt)


OPTIMIZERS = (SignSGD, SignSVD, Muon, GenMom)
