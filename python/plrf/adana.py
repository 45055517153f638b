"""ADana as a chain (docs/families.md §6): the scalar (rotation-invariant) model of the authors'
ADana, a short chain of existing members, optax style:

    opt = plrf.adana(0.05, wd_ts=100)
    plrf.exact_risk(spec, opt, 10**4)       # the controller's deterministic equivalent: "approximate"
    plrf.simulate(spec, opt, 10**4, seeds=100)

ADana (mlexpos/adana @ 3eef26f, README and jax/optimizers.py::adana_optimizer) is AdamW with
  log-time moments   m' = (1 - a_t) m + a_t g,  v' = (1 - a_t) v + a_t g^2,  a_t = delta / (delta + t)
  damped Nesterov    theta' = theta - lr [g2 g + g3 (1 + t)^(1 - kappa) m'] / sqrt(v') - w_t theta
  decaying decay     w_t = omega / (wd_ts + t)
counting t from 0 (a_0 = 1: no bias correction). In Gen-Mom terms (docs/theory.md §3) that is
  momentum    gamma1 = Delta = delta / (delta + t), gamma2 = lr g2, gamma3 = lr g3 (1 + t)^(1 - kappa)
  controller  log_ema_norm(delta) on gamma2 and gamma3: m_t = 1 / sqrt(v_{t+1}) with v the log-time EMA
              of ||g||^2 (the scalar model: one second moment for the whole gradient, not one per
              coordinate, so lr is the length of a unit-normalised step)
  decay       w_t = omega / (wd_ts + t), decoupled: not scaled by the controller.
"""
from __future__ import annotations

import numpy as np

from . import _validate as check
from . import controllers
from .optim import GenMomentum, Schedule, adana_decay, decay, schedule
from .transforms import Chain, chain

__all__ = ["adana", "adana_momentum", "DAMPINGS"]


DAMPINGS = ("paper", "code")


def adana_momentum(lr, *, kappa=0.85, delta=8.0, g2=1.0, g3=1.0, damping="paper", steps=None) -> GenMomentum:
    """ADana's momentum before normalisation: gamma1 = Delta = delta / (delta + t), gamma2 = lr g2, and
    gamma3 = lr g3 (1 + t)^(1 - kappa) (damping="paper": the paper's alpha(t)), or
    gamma3 = lr g3 (1 + max(t, 1)^(1 - kappa)) (damping="code": jax/optimizers.py's m/sqrt(v) term added once
    more; no power law has that form, so it is an array schedule over t = 0 .. steps)."""
    lr, g2, g3 = check.positive("lr", lr), check.finite("g2", g2), check.finite("g3", g3)
    kappa, delta = check.finite("kappa", kappa), check.positive("delta", delta)
    check.choice("damping", damping, DAMPINGS)
    ema = Schedule.power_law(1.0, delta, -1.0)  # delta / (delta + t): 1 at t = 0
    if damping == "paper":
        if steps is not None:
            raise ValueError("steps is read by damping='code' only (the paper's damping is a power law)")
        return GenMomentum(ema, Schedule.constant(lr * g2), Schedule.power_law(lr * g3, 1.0, 1.0 - kappa), ema, "adana")
    t = np.arange(check.integer("steps", steps, 1) + 1.0)
    gamma3 = schedule(lr * g3 * (1.0 + np.maximum(t, 1.0) ** (1.0 - kappa)), "steps")
    return GenMomentum(ema, Schedule.constant(lr * g2), gamma3, ema, "adana_code")


def adana(lr, *, wd_ts, kappa=0.85, delta=8.0, omega=4.0, g2=1.0, g3=1.0, eps=0.0, damping="paper",
          steps=None) -> Chain:
    """ADana as plrf.chain(momentum, log-time EMA normaliser, decoupled decay) with the authors' defaults
    kappa = 0.85, delta = 8, omega = 4 (README/QUICKSTART); wd_ts is the decay's timescale (the authors
    use T/10 for a T-step run; wd_ts = 1 is the paper's omega / t counted from 1). omega = 0 drops the decay.
    damping="code" (with steps = the run's length) is the code's momentum term (adana_momentum)."""
    wd_ts = check.positive("wd_ts", wd_ts)
    members = [adana_momentum(lr, kappa=kappa, delta=delta, g2=g2, g3=g3, damping=damping, steps=steps),
               controllers.log_ema_norm(delta=delta, eps=eps, placement=("gamma2", "gamma3"))]
    if check.finite("omega", omega) < 0:
        raise ValueError(f"omega must be >= 0, got {omega!r}")
    if omega != 0.0:
        members.append(decay(decay=adana_decay(omega, wd_ts)))
    return chain(*members)
