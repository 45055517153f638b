"""Risk curves: the one result type of every engine, and the record grid they share.

Convention: risk[..., i] is the population risk P (half the MSE) after steps[i] optimizer steps;
steps[i] = 0 is the initial risk. A run that diverges is stopped; its step is recorded in
`diverged_at` (-1 when it did not diverge), its later entries are NaN, and a DivergenceWarning
names the step. NaN never appears without that record.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _core
from . import _validate as check
from .errstate import DIVERGENCE as ON_DIVERGENCE  # one definition (plrf.errstate)


class DivergenceWarning(RuntimeWarning):
    """A run's risk became non-finite or exploded; the step is in the message and `diverged_at`."""


class DivergenceError(FloatingPointError):
    """Raised instead of a warning when the caller asks for it (plrf.errstate(divergence="raise"))."""

    def __init__(self, message, step):
        super().__init__(message)
        self.step = step


def record_grid(steps: int, per_decade: int = 10) -> np.ndarray:
    """Default record grid: 0, then about `per_decade` geometric points per decade, and `steps`."""
    steps = check.integer("steps", steps, 1, check.MAX_STEPS)
    per_decade = check.integer("per_decade", per_decade, 1, 10**6)
    n = max(2, int(np.ceil(per_decade * np.log10(max(steps, 10)))) + 1)
    grid = np.round(np.geomspace(1, steps, n))
    grid = grid[grid < steps]  # compared as floats, so the int64 cast below cannot overflow
    return np.unique(np.concatenate([[0], grid.astype(np.int64), [steps]]).astype(np.int64))


RECORD_BYTES = 100.0  # per record step: the int64 grid, its sorted copy and the list the engines take


def check_record(record, steps: int) -> np.ndarray:
    """A sorted, unique int64 record grid inside [0, steps]; None gives the default. The grid rule
    itself (plrf/runtime/record_grid.hpp) is the C++ core's, shared by every engine."""
    if record is None:
        return record_grid(steps)
    n = check.length("record", record)  # before converting: a range of 1e12 steps is refused, not built
    check.memory(RECORD_BYTES * (n or 1), f"record of {n} steps")
    rec = np.asarray(record)
    if rec.ndim != 1 or rec.size == 0 or rec.dtype.kind not in "iu":
        raise ValueError(f"record must be a non-empty 1-D array of integer steps, got {rec!r:.80}")
    if rec.dtype.kind == "u" and rec.max() > check.INT64_MAX:
        raise ValueError(f"record must lie inside [0, steps={steps}], got {rec.max()}")
    rec = np.unique(rec.astype(np.int64))
    _core.check_record(rec.tolist(), steps)
    return rec



def report_divergence(diverged_at, what: str, on_divergence: str = "warn") -> None:
    """Warn (or raise) about every run that diverged, naming the step."""
    bad = np.flatnonzero(np.asarray(diverged_at) >= 0)
    if bad.size == 0:
        return
    steps = np.asarray(diverged_at)[bad]
    msg = f"{what}: {bad.size} run(s) diverged, first at step {int(steps.min())} (run index {int(bad[np.argmin(steps)])})"
    if on_divergence == "raise":
        raise DivergenceError(msg, int(steps.min()))
    if on_divergence != "ignore":
        warnings.warn(msg, DivergenceWarning, stacklevel=3)


@dataclass
class Curve:
    """One expected-risk curve (exact engines)."""

    steps: np.ndarray
    risk: np.ndarray
    meta: dict = field(default_factory=dict)
    diverged_at: int = -1
    interrupted: bool = False
    error_estimate: float | None = None  # engines that approximate report their estimated max relative error
    parts: np.ndarray | None = None  # mixture of experts: each expert's curve, shape (m, n_steps)
    lr: np.ndarray | None = None  # with a controller: the DE's multiplier that produced theta_t (NaN at t=0)

    def __repr__(self):
        extra = "" if self.error_estimate is None else f", error_estimate={self.error_estimate:.2g}"
        return f"Curve({_label(self.meta)}{_summary(self.steps, self.risk)}{extra}{_flags(self)})"

    def to_dataframe(self):
        import pandas as pd

        lr = {} if self.lr is None else {"lr": self.lr}
        return pd.DataFrame({"step": self.steps, "risk": self.risk, **lr})


@dataclass
class Curves:
    """Risk curves of many seeds (Monte Carlo engines): risk has shape (n_seeds, n_steps)."""

    steps: np.ndarray
    risk: np.ndarray
    seeds: np.ndarray
    meta: dict = field(default_factory=dict)
    diverged_at: np.ndarray | None = None  # per seed, -1 if it did not diverge
    interrupted: bool = False
    parts: np.ndarray | None = None  # mixture of experts: each expert's risk, shape (n_seeds, m, n_steps)
    lr: np.ndarray | None = None  # with a controller: each seed's multiplier that produced theta_t (NaN at t=0)

    def __post_init__(self):
        if self.diverged_at is None:
            self.diverged_at = np.full(len(self.seeds), -1, dtype=np.int64)

    @property
    def ok(self) -> np.ndarray:
        """Mask of seeds that did not diverge."""
        return self.diverged_at < 0

    @property
    def mean(self) -> np.ndarray:
        return self.risk[self.ok].mean(axis=0)

    @property
    def sem(self) -> np.ndarray:
        r = self.risk[self.ok]
        return r.std(axis=0, ddof=1) / np.sqrt(r.shape[0]) if r.shape[0] > 1 else np.full(r.shape[1], np.nan)

    def __repr__(self):
        n_div = int(np.sum(np.asarray(self.diverged_at) >= 0))
        mean = self.mean if np.any(self.ok) else np.full(len(self.steps), np.nan)
        return (f"Curves({_label(self.meta)}{len(self.seeds)} seeds x {_summary(self.steps, mean, 'mean risk')}"
                f"{f', {n_div} diverged' if n_div else ''}{_flags(self)})")

    def quantiles(self, q=(0.1, 0.5, 0.9)) -> np.ndarray:
        return np.quantile(self.risk[self.ok], q, axis=0)

    def to_dataframe(self):
        """Tidy table: one row per (seed, step)."""
        import pandas as pd

        n_seeds, n_steps = self.risk.shape
        return pd.DataFrame(
            {
                "seed": np.repeat(self.seeds, n_steps),
                "step": np.tile(self.steps, n_seeds),
                "risk": self.risk.ravel(),
                **({} if self.lr is None else {"lr": self.lr.ravel()}),
            }
        )


# ---- short reprs: what a curve is and where it goes, not its arrays ------------------------------
def _label(meta) -> str:
    keys = [meta.get("optimizer"), *(f"{k}={meta[k]!r}" for k in ("method", "d") if k in meta)]
    text = ", ".join(str(k) for k in keys if k is not None)
    return text + ", " if text else ""


def _summary(steps, risk, what="risk") -> str:
    steps, risk = np.asarray(steps), np.asarray(risk, dtype=float)
    if steps.size == 0:
        return "0 records"
    return (f"{steps.size} records at t = {int(steps[0])}..{int(steps[-1]):.3g}, {what} {risk[..., 0].ravel()[0]:.4g}"
            f" -> {risk[..., -1].ravel()[0]:.4g}")


def _flags(c) -> str:
    flags = [f"diverged_at={c.diverged_at}"] if isinstance(c.diverged_at, int) and c.diverged_at >= 0 else []
    if c.interrupted:
        flags.append("interrupted")
    if c.parts is not None:
        flags.append(f"parts of {np.shape(c.parts)[-2]} experts")
    if c.lr is not None:
        flags.append("lr")
    return "".join(", " + f for f in flags)
