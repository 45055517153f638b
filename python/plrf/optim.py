"""The Gen-Mom-SGD optimizer family (docs/theory.md §3) and its named members.

Optimizers are data: four schedules (gamma1, gamma2, gamma3, delta) evaluated in C++ at the step
index t = 0, 1, ... by every engine (simulator, exact recursion, ODE) alike.
"""
from __future__ import annotations

import numpy as np

from . import _validate as check
from ._core import GenMomentum, Schedule
from .spectrum import as_spectrum, power_sum

__all__ = [
    "Schedule", "GenMomentum", "schedule", "sgd", "sgd_momentum", "dana_constant", "dana_decaying", "defaults", "NAMES",
]

# The named members, in the order tables and CLIs list them.
NAMES = ("sgd", "sgd_momentum", "dana_constant", "dana_decaying")


def schedule(x, name: str = "schedule") -> Schedule:
    """A Schedule from a Schedule, a number (constant) or a sequence (array schedule); errors name `name`."""
    if isinstance(x, Schedule):
        return x
    if np.ndim(x) == 0:
        return Schedule.constant(check.finite(name, x))
    return Schedule.array(check.float_array(name, x, 1).tolist())


def sgd(lr) -> GenMomentum:
    """Plain SGD: theta' = theta - lr * g."""
    return GenMomentum(Schedule.constant(0.0), schedule(lr, "lr"), Schedule.constant(0.0), Schedule.constant(1.0),
                       "sgd")


def sgd_momentum(lr, momentum) -> GenMomentum:
    """Heavy ball: y' = momentum * y + g; theta' = theta - lr * y'."""
    mu = schedule(momentum, "momentum")
    delta = Schedule.constant(1.0 - mu.c) if mu.kind == Schedule.Kind.constant else _one_minus(mu)
    return GenMomentum(Schedule.constant(1.0), Schedule.constant(0.0), schedule(lr, "lr"), delta, "sgd_momentum")


def dana_constant(g2, g3, delta, *, d) -> GenMomentum:
    """DANA-constant: gamma2 = g2, gamma3 = g3 / d, Delta_t = delta / (1 + t)."""
    d = check.integer("d", d, 1)
    g3 = check.finite("g3", g3)
    return GenMomentum(
        Schedule.constant(1.0), schedule(g2, "g2"), Schedule.constant(g3 / d), _decay(delta), "dana_constant"
    )


def dana_decaying(g2, g3, delta, alpha) -> GenMomentum:
    """DANA-decaying: gamma2 = g2, gamma3_t = g3 (1 + t)^{-1/(2 alpha)}, Delta_t = delta / (1 + t)."""
    alpha = check.positive("alpha", alpha)
    g3 = check.finite("g3", g3)
    return GenMomentum(
        Schedule.constant(1.0),
        schedule(g2, "g2"),
        Schedule.power_law(g3, 1.0, -1.0 / (2.0 * alpha)),
        _decay(delta),
        "dana_decaying",
    )


def check_optimizer(optimizer, steps=None) -> GenMomentum:
    """A GenMomentum whose schedules cover `steps` steps, else ValueError."""
    if not isinstance(optimizer, GenMomentum):
        raise ValueError(f"optimizer must be a plrf.GenMomentum (e.g. plrf.sgd(lr)), got {type(optimizer).__name__}")
    if steps is not None:
        try:
            optimizer.check_length(int(steps))
        except ValueError as exc:  # an array schedule too short for the run: name the argument
            raise ValueError(f"optimizer: {exc}") from None
    return optimizer


def _decay(delta) -> Schedule:
    return Schedule.power_law(check.finite("delta", delta), 1.0, -1.0)


def _one_minus(s: Schedule) -> Schedule:
    if s.kind != Schedule.Kind.array:
        raise ValueError("momentum: a varying momentum must be given as an array schedule")
    return Schedule.array([1.0 - x for x in s.values])


def population_trace(spectrum) -> float:
    """The authors' trace proxy sum_{j<=v} j^{-2 alpha} when (alpha, v) are known, else tr K."""
    alpha, v = spectrum.meta.get("alpha"), spectrum.meta.get("v")
    if alpha is None or v is None:
        return spectrum.trace
    return float(power_sum(2.0 * float(alpha), 1, int(v)))  # closed form: O(1) for any v


def defaults(spectrum, batch=1, alpha=None) -> dict:
    """The authors' hyperparameter recipe (docs/theory.md §3) for each named optimizer.

    Returns {"sgd", "sgd_momentum", "dana_constant", "dana_decaying"} -> GenMomentum.
    SGD and SGD-M use lr = g2 (SGD-M with momentum 0.9 and lr scaled by 1 - momentum, so that its
    effective step lr / (1 - momentum) equals SGD's).
    """
    spectrum = as_spectrum(spectrum)
    batch = check.integer("batch", batch, 1)
    alpha = spectrum.meta.get("alpha") if alpha is None else check.positive("alpha", alpha)
    beta = spectrum.meta.get("beta")
    tr = population_trace(spectrum)
    g2 = 0.375 * min(2.0 / (batch + 1), 1.0 / tr)
    out = _Defaults(sgd=sgd(g2), sgd_momentum=sgd_momentum(0.1 * g2, 0.9))
    if alpha is None or beta is None:
        return out  # DANA's recipe needs (alpha, beta)
    delta = max(2.0 + (2.0 * beta - 1.0) / alpha, 2.0 - 1.0 / alpha) + 1.0
    out["dana_constant"] = dana_constant(g2, 0.1 / tr, delta, d=spectrum.d)
    out["dana_decaying"] = dana_decaying(g2, 0.1, delta, alpha)
    return out


class _Defaults(dict):
    """The recipe's optimizers by name; a missing name says why it is missing."""

    def __missing__(self, name):
        if name in NAMES:
            raise KeyError(f"{name!r}: DANA's recipe needs alpha and beta (a spectrum whose meta has them, or alpha=)")
        raise KeyError(f"{name!r} is not a named optimizer; names are {NAMES}")
