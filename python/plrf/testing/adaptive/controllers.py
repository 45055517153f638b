"""Step-size controllers (issue 12): rules that turn per-step statistics into a multiplier of some
of the Gen-Mom-SGD coefficients (gamma1, gamma2, gamma3; docs/theory.md §3).

One controller object serves both engines, which is the concept the C++ port keeps:
* the Monte Carlo feeds it the *realised* statistics of each seed (arrays over seeds), so the
  trajectory is exact in law;
* the deterministic equivalent (DE) feeds it their *expectations* (floats). That substitution is
  the whole DE (docs/theory.md §12.3): E[risk] no longer closes on the per-mode moments once the step depends
  on the path, and replacing ||g||^2, P(theta), g^T K g by their means is exact only when they
  concentrate (effective rank tr K / lambda_max large).

At step t the statistics are read at theta_t with the batch g_t of that step, so a controller that
uses ||g_t||^2 includes the current gradient (as AdaGrad-Norm does in [HL]'s code). The multiplier
m_t scales the schedule values of the coefficients named in `placement`:
    gamma_i(t) -> m_t * gamma_i(t)   for i in placement,
which is how a controller composes with any schedule and any member of the family.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

COEFFICIENTS = ("gamma1", "gamma2", "gamma3")


class Stats(NamedTuple):
    """Per-step statistics at theta_t (floats for the DE, arrays over seeds for the Monte Carlo)."""

    grad2: object  # ||g_t||^2 of the batch-averaged gradient
    risk: object  # P(theta_t), the population risk (half MSE, includes P_inf)
    batch_loss: object  # f_B = (1/2B) sum_i r_i^2 on the batch of step t
    k2: object  # ||K e||^2 = sum_j lambda_j^2 e_j^2 (true error e: oracle)
    k3: object  # e^T K^3 e = sum_j lambda_j^3 e_j^2 (oracle)


class Context(NamedTuple):
    """What a controller may know about the problem besides the statistics."""

    batch: int
    trace2: float  # tr K^2 (line search's noise term)


def _positive(name, x) -> float:
    x = float(x)
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {x}")
    return x


def _placement(placement) -> tuple[str, ...]:
    place = (placement,) if isinstance(placement, str) else tuple(placement)
    if not place or any(p not in COEFFICIENTS for p in place) or len(set(place)) != len(place):
        raise ValueError(f"placement must be a non-empty subset of {COEFFICIENTS}, got {placement!r}")
    return place


class Controller:
    """Base: a multiplier rule with an optional scalar state (one float per seed)."""

    name = "none"
    placement: tuple[str, ...] = ("gamma2",)

    def start(self, shape=()):
        """Initial scalar state (np.nan when the rule carries none)."""
        return np.full(shape, np.nan)

    def step(self, t: int, stats: Stats, state, ctx: Context):
        """(multiplier m_t, next state) for step t."""
        raise NotImplementedError

    def scale(self, coefficients: dict, multiplier) -> dict:
        """The coefficients of step t with the placed ones multiplied by m_t."""
        return {k: (v * multiplier if k in self.placement else v) for k, v in coefficients.items()}


class Constant(Controller):
    """m_t = 1: the plain optimizer (a reference that the exact recursion covers)."""

    def step(self, t, stats, state, ctx):
        return np.ones_like(np.asarray(stats.risk, dtype=np.float64)), state


class AdaGradNorm(Controller):
    """S_0 = b0^2, S_{t+1} = S_t + ||g_t||^2, m_t = G / sqrt(S_{t+1})  (docs/theory.md §12.1).

    placement ("gamma2", "gamma3") by default: plain SGD is gamma2 only; for DANA both the direct
    step and the momentum step shrink together (gamma1, the gradient entering y, is left alone).
    """

    name = "adagrad_norm"

    def __init__(self, G, b0, placement=("gamma2", "gamma3")):
        self.G, self.b0 = _positive("G", G), _positive("b0", b0)
        self.placement = _placement(placement)

    def start(self, shape=()):
        return np.full(shape, self.b0**2)

    def step(self, t, stats, state, ctx):
        state = state + stats.grad2
        return self.G / np.sqrt(state), state


class Polyak(Controller):
    """Stochastic Polyak: m_t = max(f_B - floor, 0) / (c ||g_t||^2)  (docs/theory.md §12.1).

    f_B is the batch loss (1/2B) sum r_i^2 of the step's own batch. `floor` is the value subtracted
    (0 by default: P_inf is unknown to a real optimizer, and [HL]'s Polyak run is the floor-0 rule;
    pass floor=spectrum.p_inf for the oracle version). With B = 1 and floor 0 the step is
    1/(2c ||f||^2), independent of the residual.
    """

    name = "polyak"

    def __init__(self, c=0.5, floor=0.0, placement=("gamma2", "gamma3")):
        self.c = _positive("c", c)
        self.floor = float(floor)
        if not math.isfinite(self.floor) or self.floor < 0:
            raise ValueError(f"floor must be a finite number >= 0, got {floor}")
        self.placement = _placement(placement)

    def step(self, t, stats, state, ctx):
        num = np.maximum(np.asarray(stats.batch_loss) - self.floor, 0.0)
        den = self.c * np.asarray(stats.grad2)
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0), state


class LineSearch(Controller):
    """Idealised exact line search (oracle): the step minimising E[P(theta - m g) | theta],
    m_t = ||K e||^2 / ((1 + 1/B) e^T K^3 e + tr(K^2) 2 P(theta) / B)   (docs/theory.md §12.1).
    It reads the true error e, so it is a theoretical baseline, not an implementable optimizer.
    """

    name = "line_search"

    def __init__(self, placement=("gamma2",)):
        self.placement = _placement(placement)

    def step(self, t, stats, state, ctx):
        B = ctx.batch
        den = (1.0 + 1.0 / B) * np.asarray(stats.k3) + ctx.trace2 * 2.0 * np.asarray(stats.risk) / B
        return np.asarray(stats.k2) / den, state


class RiskNormalised(Controller):
    """The authors' ODE modes (docs/theory.md §12.1): m_t = 1 / sqrt(2 P(theta_t)).

    "risk_norm" divides gamma3 (momentum entering the parameters), "rmsprop_dana" divides gamma1
    (gradients entering the momentum). Here P is the realised risk of each seed's iterate; the
    authors' ODE uses the expected twice-risk, which is what the DE feeds in.
    """

    PLACE = {"risk_norm": ("gamma3",), "rmsprop_dana": ("gamma1",)}

    def __init__(self, mode):
        if mode not in self.PLACE:
            raise ValueError(f"mode must be one of {tuple(self.PLACE)}, got {mode!r}")
        self.name, self.placement = mode, self.PLACE[mode]

    def step(self, t, stats, state, ctx):
        return 1.0 / np.sqrt(2.0 * np.asarray(stats.risk)), state


class EmaNorm(Controller):
    """A runnable stand-in for the risk-normalised modes: v_{t+1} = beta v_t + (1 - beta) ||g_t||^2,
    m_t = 1 / sqrt(v_{t+1} / (1 - beta^{t+1}) + eps)  (Adam's bias correction, scalar second moment).

    When gradient noise dominates, ||g||^2 ~ tr K * 2P / B, so this is "risk_norm" (placement gamma3)
    with gamma3 scaled by sqrt(B / tr K); gamma3 should be rescaled by sqrt(tr K / B) to match it.
    """

    name = "ema_norm"

    def __init__(self, beta=0.99, eps=0.0, placement=("gamma3",)):
        self.beta = float(beta)
        if not 0.0 <= self.beta < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {beta}")
        self.eps = float(eps)
        if not math.isfinite(self.eps) or self.eps < 0:
            raise ValueError(f"eps must be a finite number >= 0, got {eps}")
        self.placement = _placement(placement)

    def start(self, shape=()):
        return np.zeros(shape)

    def step(self, t, stats, state, ctx):
        state = self.beta * state + (1.0 - self.beta) * stats.grad2
        return 1.0 / np.sqrt(state / (1.0 - self.beta ** (t + 1)) + self.eps), state


NAMES = ("adagrad_norm", "polyak", "line_search", "risk_norm", "rmsprop_dana", "ema_norm")


def controller(name, **params) -> Controller:
    """A controller by name: "none", or one of NAMES with its parameters."""
    makers = {
        "none": Constant,
        "adagrad_norm": AdaGradNorm,
        "polyak": Polyak,
        "line_search": LineSearch,
        "risk_norm": lambda: RiskNormalised("risk_norm"),
        "rmsprop_dana": lambda: RiskNormalised("rmsprop_dana"),
        "ema_norm": EmaNorm,
        "log_ema_norm": LogEmaNorm,
    }
    if name not in makers:
        raise ValueError(f"controller must be one of {('none', *NAMES)}, got {name!r}")
    return makers[name](**params)


class LogEmaNorm(EmaNorm):
    """ADana's normaliser: v_{t+1} = (1 - a_t) v_t + a_t ||g_t||^2 with a_t = delta / (delta + t) (a_0 = 1, so no
    bias correction), m_t = 1 / sqrt(v_{t+1} + eps)."""

    name = "log_ema_norm"

    def __init__(self, delta=8.0, eps=0.0, placement=("gamma2", "gamma3")):
        super().__init__(0.0, eps, placement)
        self.delta = _positive("delta", delta)

    def step(self, t, stats, state, ctx):
        a = self.delta / (self.delta + t)
        state = (1.0 - a) * state + a * stats.grad2
        return 1.0 / np.sqrt(state + self.eps), state
