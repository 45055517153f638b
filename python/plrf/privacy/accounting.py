"""Privacy accounting of DP-SGD runs through Google's dp-accounting (optional: pip install "plrf[privacy]").

Conventions (docs/theory.md, "Privacy accounting"):
- Each step adds Gaussian noise of std noise_multiplier * C to the sum of the batch's clipped
  gradients. One sample moves that sum by at most C when it is added or removed (adjacency
  "add_remove") and by at most 2C when it is replaced by another ("replace_one"). The mechanism one
  sample sees is a Gaussian mechanism of noise multiplier noise_multiplier * C / sensitivity; that
  is what is handed to the library, always under its add-or-remove relation (its RDP accountant
  reads a Gaussian event's multiplier against the relation's own sensitivity, so a REPLACE_ONE
  accountant would not double C: measured, docs/privacy.md).
- mode "one_pass": every sample is used in exactly one step (n / B steps over a fixed partition), so
  by parallel composition the released iterate costs one Gaussian mechanism, whatever the step.
- mode "poisson": every step includes each of the n samples independently with probability
  sample_rate (= B / n on average), for any number of steps (multi-epoch); the steps compose.
Nothing here computes a privacy bound by hand: the numbers come from dp_accounting's RDP or PLD
accountant.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["MODES", "ADJACENCY", "ACCOUNTANTS", "epsilon", "epsilon_curve", "noise_for_epsilon", "require"]

MODES = ("one_pass", "poisson")
ADJACENCY = ("add_remove", "replace_one")
ACCOUNTANTS = ("rdp", "pld")
INSTALL = 'pip install "plrf[privacy]"  (or: pip install dp-accounting)'


def require():
    """The dp_accounting module, or ImportError saying how to install the extra."""
    try:
        import dp_accounting
    except ImportError as exc:
        raise ImportError(f"privacy accounting needs Google's dp-accounting, an optional extra: {INSTALL}") from exc
    return dp_accounting


def _check(noise_multiplier, delta, mode, adjacency, accountant, sample_rate):
    if isinstance(noise_multiplier, bool) or not isinstance(noise_multiplier, numbers.Real) \
            or not noise_multiplier >= 0 or not math.isfinite(noise_multiplier):
        raise ValueError(f"noise_multiplier must be finite and >= 0, got {noise_multiplier!r}")
    if delta is None:
        raise ValueError("delta: an epsilon needs its delta, in (0, 1)")
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta!r}")
    for name, value, allowed in (("mode", mode, MODES), ("adjacency", adjacency, ADJACENCY),
                                 ("accountant", accountant, ACCOUNTANTS)):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    if mode == "poisson":
        if sample_rate is None or isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real) \
                or not 0 < sample_rate <= 1:
            raise ValueError(f"sample_rate must be in (0, 1] for mode='poisson' (B / n), got {sample_rate!r}")
        if adjacency != "add_remove":
            raise ValueError("adjacency: mode='poisson' is accounted under add_remove (Poisson subsampling's "
                             "amplification is stated for adding or removing one sample)")
    elif sample_rate is not None:
        raise ValueError("sample_rate is read by mode='poisson' only")


def _event(dpa, noise_multiplier, mode, adjacency, sample_rate, steps):
    sensitivity = 2.0 if adjacency == "replace_one" else 1.0  # in units of C
    gaussian = dpa.GaussianDpEvent(noise_multiplier / sensitivity)
    if mode == "one_pass":
        return gaussian
    return dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(sample_rate, gaussian), int(steps))


def _accountant(dpa, accountant):
    if accountant == "rdp":
        return dpa.rdp.RdpAccountant()
    return dpa.pld.PLDAccountant()


def epsilon(noise_multiplier, delta, *, mode="one_pass", steps=None, sample_rate=None, adjacency="add_remove",
            accountant="rdp") -> float:
    """epsilon of the released iterate after `steps` steps (mode "poisson"; one_pass needs none) at `delta`."""
    _check(noise_multiplier, delta, mode, adjacency, accountant, sample_rate)
    if mode == "poisson":
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
            raise ValueError(f"steps must be an integer >= 0 for mode='poisson', got {steps!r}")
        if steps == 0:
            return 0.0
    dpa = require()
    if noise_multiplier == 0:
        return math.inf
    acc = _accountant(dpa, accountant)
    acc.compose(_event(dpa, float(noise_multiplier), mode, adjacency, sample_rate, steps))
    return float(acc.get_epsilon(float(delta)))


def epsilon_curve(record, noise_multiplier, delta, **kw) -> np.ndarray:
    """epsilon at each recorded step (a Curve's or Curves' .steps), to print next to the risk.
    one_pass: 0 before the first step, then the one mechanism's epsilon; poisson: the composition so far."""
    record = np.asarray(record, dtype=np.int64)
    if kw.get("mode", "one_pass") == "one_pass":
        eps = epsilon(noise_multiplier, delta, **kw)
        return np.where(record > 0, eps, 0.0)
    return np.array([epsilon(noise_multiplier, delta, steps=int(t), **kw) for t in record])


def noise_for_epsilon(target_epsilon, delta, **kw) -> float:
    """The smallest noise multiplier whose epsilon is <= target_epsilon (dp_accounting's calibration)."""
    if isinstance(target_epsilon, bool) or not isinstance(target_epsilon, numbers.Real) or not target_epsilon > 0 \
            or not math.isfinite(target_epsilon):
        raise ValueError(f"target_epsilon must be finite and > 0, got {target_epsilon!r}")
    mode, adjacency, accountant = kw.get("mode", "one_pass"), kw.get("adjacency", "add_remove"), kw.get("accountant", "rdp")
    _check(1.0, delta, mode, adjacency, accountant, kw.get("sample_rate"))
    dpa = require()
    return float(dpa.calibrate_dp_mechanism(
        lambda: _accountant(dpa, accountant),
        lambda s: _event(dpa, s, mode, adjacency, kw.get("sample_rate"), kw.get("steps")),
        float(target_epsilon), float(delta), tol=1e-9))
