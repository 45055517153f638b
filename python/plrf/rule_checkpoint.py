"""A coordinate-wise rule (plrf.coordinatewise.CoordinateWise) in a checkpoint: a header entry (its scalars)
and arrays (its schedules and diagonal). Shared by the parameter-basis checkpoint (plrf.param_checkpoint)
and the full path's (plrf.checkpoint, simulate(..., space="full") with a rule); it imports neither.
"""
from __future__ import annotations

import numpy as np

from ._core import Schedule
from .coordinatewise import CoordinateWise

__all__ = ["RULE", "DANA_RULE", "RULE_SCHEDULES", "put_rule", "get_rule"]

RULE = ("rule", "b1", "b2", "eps", "decoupled", "clip", "clip_norm")  # the rule's scalars
DANA_RULE = {"delta": 8.0, "kappa": 1.0, "g3": 1.0, "clipsnr": 0.0}  # adana/dana_star's scalars, with the
# defaults a file written before they existed resumes with
RULE_SCHEDULES = ("lr", "weight_decay")


def put_rule(member: CoordinateWise, arrays: dict) -> dict:
    """A coordinate-wise rule as a header entry (its scalars) and arrays (its schedules and diagonal)."""
    h = {k: getattr(member, k) for k in (*RULE, *DANA_RULE)}
    for k in RULE_SCHEDULES:
        kind, c, tau, p, values = getattr(member, k).__getstate__()
        h[k] = [int(kind), c, tau, p]
        arrays[f"rule_{k}"] = np.asarray(values, dtype=np.float64)
    arrays["rule_diag"] = np.asarray(member.diag, dtype=np.float64)
    return h


def get_rule(h: dict, arrays) -> CoordinateWise:
    """The rule that put_rule wrote (its own checks run on construction)."""
    scheds = {}
    for k in RULE_SCHEDULES:
        s = Schedule.__new__(Schedule)
        s.__setstate__((*h[k][:1], *map(float, h[k][1:]), arrays[f"rule_{k}"].tolist()))
        scheds[k] = s
    return CoordinateWise(str(h["rule"]), scheds["lr"], float(h["b1"]), float(h["b2"]), float(h["eps"]),
                          scheds["weight_decay"], bool(h["decoupled"]), tuple(arrays["rule_diag"].tolist()),
                          float(h["clip"]), float(h["clip_norm"]),
                          **{k: float(h.get(k, default)) for k, default in DANA_RULE.items()})
