"""The Gen-Mom-SGD optimizer family (docs/theory.md §3) and its named members.

Optimizers are data: four schedules (gamma1, gamma2, gamma3, delta) evaluated in C++ at the step
index t = 0, 1, ... by every engine (simulator, exact recursion, ODE) alike.
"""
from __future__ import annotations

import numpy as np

from dataclasses import dataclass

from . import _validate as check
from . import capabilities as cap
from ._core import GenMomentum, Schedule
from .spectrum import as_spectrum, power_sum

__all__ = [
    "Schedule", "GenMomentum", "schedule", "sgd", "sgd_momentum", "dana_constant", "dana_decaying", "defaults", "NAMES",
    "with_decay", "svag", "adana_decay", "knobs_of", "decay", "Momentum", "Decay", "Svag",
]

# The named members, in the order tables and CLIs list them.
NAMES = ("sgd", "sgd_momentum", "dana_constant", "dana_decaying")


def schedule(x, name: str = "schedule") -> Schedule:
    """A Schedule from a Schedule, a number (constant) or a sequence (array schedule); errors name `name`."""
    if isinstance(x, Schedule):
        return x
    if np.ndim(x) == 0:
        return Schedule.constant(check.finite(name, x))
    return _array_schedule(check.float_array(name, x, 1))


def _array_schedule(values: np.ndarray) -> Schedule:
    """The schedule's own float64 copy of `values`, read through a memoryview: no Python list of
    floats (32 bytes a value) on the way, so the peak is the input plus that one copy."""
    check.memory(8.0 * values.size, f"an array schedule of {values.size} values")
    return Schedule.array(memoryview(values))


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


# ---- extra knobs: ridge, decoupled weight decay, injected noise, SVAG (docs/families.md §2-3) -------
def _knob(name, x) -> Schedule:
    """A knob schedule whose values are >= 0 (never NaN), else ValueError naming `name`."""
    s = schedule(x, name)
    if s.kind != Schedule.Kind.array:
        values = s.c
    else:  # the caller's array where there is one: no list of s.values
        values = np.asarray(s.values if isinstance(x, Schedule) else x, dtype=np.float64)
    if not np.all(np.asarray(values) >= 0):
        raise ValueError(f"{name} must be >= 0 and not NaN, got {x!r:.80}")
    return s


def _rebuild(opt: GenMomentum, *, l2, decay, noise, svag_l, suffix) -> GenMomentum:
    return GenMomentum(opt.gamma1, opt.gamma2, opt.gamma3, opt.delta, opt.name + suffix, l2=l2, decay=decay,
                       noise=noise, svag_l=svag_l)


def with_decay(optimizer, *, l2=0.0, decay=0.0, noise=0.0) -> GenMomentum:
    """A copy of `optimizer` with ridge l2 (added to the gradient, so it enters the momentum), decoupled
    weight decay (theta -= decay_t theta) and isotropic injected noise of per-coordinate standard
    deviation noise_t added to every update; each a number, a sequence or a Schedule, >= 0.

    The name gains "+l2", "+decay", "+noise" for the knobs that are on. Only method="exact" and
    simulate's eigen path run these knobs (docs/families.md §2).
    """
    opt = check_optimizer(optimizer)
    knobs = {k: _knob(k, v) for k, v in (("l2", l2), ("decay", decay), ("noise", noise))}
    suffix = "".join(f"+{k}" for k, s in knobs.items() if not (s.kind == Schedule.Kind.constant and s.c == 0.0))
    return _rebuild(opt, **knobs, svag_l=opt.svag_l, suffix=suffix)


def svag(optimizer, l=None):
    """svag(l): the SVAG chain member (plrf.chain(opt, plrf.svag(l))). svag(optimizer, l): SVAG with parameter l >= 1 (docs/families.md §3): each step draws two independent batches,
    combines their gradients with c+- = (1 +- sqrt(2l - 1)) / 2 and divides gamma2, gamma3 by l.
    Schedules are read at the SVAG step index (SGD time = step / l). Name gains "+svag<l>"."""
    if l is None:
        return Svag(_svag_l(optimizer))
    opt = check_optimizer(optimizer)
    l = _svag_l(l)
    return _rebuild(opt, l2=opt.l2, decay=opt.decay, noise=opt.noise, svag_l=l, suffix=f"+svag{l:g}")


def _svag_l(l) -> float:
    l = check.finite("l", l)
    if not l >= 1.0:
        raise ValueError(f"l must be >= 1, got {l}")
    return l


# ---- the chain members this module backs (plrf.transforms composes them; plrf.capabilities) ----
@dataclass(frozen=True, repr=False)
class Momentum(cap.Transform):
    """Gen-Mom-SGD momentum (docs/theory.md §3): the four schedules of a plain GenMomentum."""

    optimizer: GenMomentum
    KIND = "momentum"
    REFINES = "continuous: plain SGD only (gamma1 = gamma3 = 0)."
    DECLARES = {"exact": cap.EXACT, "fast": cap.EXACT, "ode": cap.EXACT, "continuous": cap.EXACT,
                "eigen": cap.IN_LAW, "full": cap.IN_LAW, "param": cap.IN_LAW}

    def capability(self, engine):
        # the continuous-time models are SDEs of plain SGD (gamma1 = gamma3 = 0)
        if engine == "continuous" and not self.optimizer.is_sgd():
            return cap.UNDEFINED
        return self.DECLARES[engine]

    def __repr__(self):
        return self.optimizer.name


def _is_zero(s: Schedule) -> bool:
    return s.kind == Schedule.Kind.constant and s.c == 0.0


@dataclass(frozen=True, repr=False)
class Decay(cap.Transform):
    """Ridge l2, decoupled weight decay and injected noise (docs/families.md §2): Schedules >= 0."""

    l2: Schedule
    decay: Schedule
    noise: Schedule
    KIND = "decay"
    DECLARES = {"exact": cap.EXACT, "fast": cap.UNDEFINED, "ode": cap.UNDEFINED, "continuous": cap.UNDEFINED,
                "eigen": cap.IN_LAW, "full": cap.IN_LAW, "param": cap.UNDEFINED}

    def __repr__(self):
        on = [k for k in ("l2", "decay", "noise") if not _is_zero(getattr(self, k))]
        return "decay(" + ", ".join(on) + ")"


@dataclass(frozen=True, repr=False)
class Svag(cap.Transform):
    """SVAG with parameter l >= 1 (docs/families.md §3)."""

    l: float
    KIND = "svag"
    DECLARES = {"exact": cap.EXACT, "fast": cap.EXACT, "ode": cap.EXACT, "continuous": cap.UNDEFINED,
                "eigen": cap.IN_LAW, "full": cap.UNDEFINED, "param": cap.UNDEFINED}

    def __repr__(self):
        return f"svag({self.l:g})"


def decay(l2=0.0, decay=0.0, noise=0.0) -> Decay:
    """A Decay member; each knob a number, a sequence or a Schedule, >= 0 (plrf.with_decay's knobs)."""
    return Decay(_knob("l2", l2), _knob("decay", decay), _knob("noise", noise))



def adana_decay(omega, tau=1.0) -> Schedule:
    """ADana's decoupled weight decay w_t = omega / (tau + t): omega / t counted from 1 at tau = 1 (the paper's
    form); the authors' runs use tau = wd_ts = T/10 for a T-step run (PyTorch ADana's wd_decaying)."""
    tau = check.positive("tau", tau)
    return Schedule.power_law(check.finite("omega", omega) / tau, tau, -1.0)


def knobs_of(optimizer) -> dict:
    """The extra knobs that are on, for Curve meta: {} for a plain Gen-Mom optimizer."""
    out = {}
    if optimizer.has_affine_knobs():
        out.update(l2=repr(optimizer.l2), decay=repr(optimizer.decay), noise=repr(optimizer.noise))
    if optimizer.svag_l != 1.0:
        out["svag_l"] = optimizer.svag_l
    if optimizer.clip != float("inf"):  # DP-SGD (plrf.clip)
        out.update(clip=optimizer.clip, noise_multiplier=optimizer.clip_noise)
    return out


def _decay(delta) -> Schedule:
    return Schedule.power_law(check.finite("delta", delta), 1.0, -1.0)


def _one_minus(s: Schedule) -> Schedule:
    if s.kind != Schedule.Kind.array:
        raise ValueError("momentum: a varying momentum must be given as an array schedule")
    return _array_schedule(1.0 - np.asarray(s.values))


def population_trace(spectrum) -> float:
    """The authors' trace proxy sum_{j<=v} j^{-2 alpha} when (alpha, v) are known, else tr K (also for
    nonlinear features, whose tr K is not that sum: docs/nonlinear.md)."""
    alpha, v = spectrum.meta.get("alpha"), spectrum.meta.get("v")
    if alpha is None or v is None or "activation" in spectrum.meta:
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
