"""Engines and their options: what `exact_risk(method=...)` and `simulate(space=...)` take.

An engine is named by a string ("exact", "fast", "ode", "continuous" for exact_risk; "eigen",
"full", "param" for simulate), the names plrf.capabilities declares every transform against. When an
engine has options, its constructor here carries them, so an option lives with the one engine
that reads it rather than as a keyword every call accepts and most ignore:

    plrf.exact_risk(spec, opt, 10**9, method=plrf.engines.fast(rtol=1e-6))
    plrf.simulate(problem, opt, 1000, space=plrf.engines.eigen(sampler="explicit"))

A string is the engine with its defaults: method="fast" is plrf.engines.fast().
"""
from __future__ import annotations

from dataclasses import dataclass

from . import _validate as check
from .capabilities import DETERMINISTIC, MONTE_CARLO

__all__ = ["Engine", "exact", "fast", "ode", "continuous", "eigen", "full", "param", "get", "resolve"]

SAMPLERS = ("fast", "explicit")


@dataclass(frozen=True)
class Engine:
    """An engine's name and options (defaults where the engine does not read an option)."""

    name: str
    rtol: float = 1e-4       # fast: target accuracy (block growth); fast/ode: default compression rtol / 10
    dt: float = 0.01         # ode: step in log-time tau = ln(1 + t)
    compress: object = None  # exact/fast/ode/continuous: None (the engine's default), False, True or an rtol
    sampler: str = "fast"    # eigen: "fast" (O(d) per step for any B) or "explicit" (draws the B samples)

    def __post_init__(self):
        check.choice("engine", self.name, tuple(OPTIONS))
        rtol = check.positive("rtol", self.rtol)
        if rtol >= 0.5:
            raise ValueError(f"rtol must be < 0.5, got {rtol}")
        check.positive("dt", self.dt)
        if self.compress is not None:
            check.compress_rtol("compress (the compression rtol)", self.compress)
        check.choice("sampler", self.sampler, SAMPLERS)


# The options each engine reads (the named constructors below take exactly these).
OPTIONS = {"exact": ("compress",), "fast": ("rtol", "compress"), "ode": ("dt", "rtol", "compress"),
           "continuous": ("compress",), "eigen": ("sampler",), "full": (),
           "param": ()}


def exact(compress=None) -> Engine:
    """The discrete moment recursion, exact for every t, d and B (the reference: compresses only when asked)."""
    return Engine("exact", compress=compress)


def fast(rtol=1e-4, compress=None) -> Engine:
    """The exact recursion in O(d log T) geometric blocks, to relative accuracy `rtol`."""
    return Engine("fast", rtol=rtol, compress=compress)


def ode(dt=0.01, rtol=1e-4, compress=None) -> Engine:
    """The continuized dynamics on tau = ln(1 + t), implicit Euler with step `dt` (rtol: compression target)."""
    return Engine("ode", rtol=rtol, dt=dt, compress=compress)


def continuous(compress=None) -> Engine:
    """SGD's continuous-time models (the chain's gradient model: plrf.hsgd(), plrf.ito(), plrf.continuized())."""
    return Engine("continuous", compress=compress)


def eigen(sampler="fast") -> Engine:
    """Monte Carlo in the eigenbasis of K: O(d) per step with the fast sampler, exact in law."""
    return Engine("eigen", sampler=sampler)


def full() -> Engine:
    """Monte Carlo with honest v-dimensional samples through W (needs a PLRF problem): the reference."""
    return Engine("full")


def param() -> Engine:
    """Monte Carlo in the parameter basis (needs the eigenvectors): coordinate-wise optimizers, exact in law."""
    return Engine("param")


def get(name, **options) -> Engine:
    """The engine `name` with those of `options` it reads, so one set of options serves a loop over
    engines (`rtol` goes to "fast" and "ode", `dt` to "ode"); an option no engine reads is refused."""
    check.choice("engine", name, tuple(OPTIONS))
    unknown = set(options) - set(sum(OPTIONS.values(), ()))
    if unknown:
        raise TypeError(f"engine options are {sorted(set(sum(OPTIONS.values(), ())))}, got {sorted(unknown)}")
    return Engine(name, **{k: v for k, v in options.items() if k in OPTIONS[name]})


def resolve(engine, argument: str, allowed: tuple) -> Engine:
    """An engine argument (a name or an Engine) as an Engine among `allowed`, or ValueError naming `argument`."""
    if isinstance(engine, Engine):
        check.choice(argument, engine.name, allowed)
        return engine
    if isinstance(engine, str):
        return get(check.choice(argument, engine, allowed))
    raise ValueError(f"{argument} must be one of {allowed} or a plrf.engines engine (e.g. plrf.engines.{allowed[0]}())"
                     f", got {engine!r:.80}")


assert tuple(OPTIONS) == DETERMINISTIC + MONTE_CARLO  # the engines capabilities declares against
