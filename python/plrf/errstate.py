"""What an engine does when a run diverges: numpy's errstate, for divergence.

Divergence is a floating-point event like overflow, and like numpy's `np.errstate(over=...)` the
policy is ambient rather than a keyword on every engine: one setting serves simulate, resume and
exact_risk (and every engine added later), and a caller sets it once around a block.

    with plrf.errstate(divergence="raise"):
        plrf.exact_risk(spec, plrf.sgd(5.0), 100)     # DivergenceError, naming the step

"warn" (default) issues a plrf.DivergenceWarning, "raise" a plrf.DivergenceError, "ignore" nothing.
Whatever the policy, a diverged run is recorded (diverged_at, NaN risk from that step on). The
setting is a context variable: threads and asyncio tasks each see their own.
"""
from __future__ import annotations

import contextlib
import contextvars

__all__ = ["errstate", "seterr", "geterr", "DIVERGENCE"]

DIVERGENCE = ("warn", "raise", "ignore")
_divergence = contextvars.ContextVar("plrf_divergence", default="warn")


def _check(divergence) -> str:
    if divergence not in DIVERGENCE:
        raise ValueError(f"divergence must be one of {DIVERGENCE}, got {divergence!r:.80}")
    return divergence


def geterr() -> dict:
    """The current policy: {"divergence": "warn" | "raise" | "ignore"}."""
    return {"divergence": _divergence.get()}


def seterr(divergence=None) -> dict:
    """Set the policy for the rest of this context; returns the previous one (as np.seterr does)."""
    old = geterr()
    if divergence is not None:
        _divergence.set(_check(divergence))
    return old


@contextlib.contextmanager
def errstate(divergence):
    """Context manager: the divergence policy inside the block, restored after it."""
    token = _divergence.set(_check(divergence))
    try:
        yield
    finally:
        _divergence.reset(token)
