"""The measured shape of a loss curve, against theory's prediction (plrf.theory.shape).

- stretches(curve, shape): the slope fitted inside each decaying stretch theory predicts, on the
  stretch's window trimmed by `margin` decades at each end (the unknown O(1) prefactors of the
  crossover times, docs/theory.md §8.1), with plrf.fit.power_law's interval (HAC standard error
  widened by the drift of the local slope across the window) and a `too_short` flag where what is
  left of the stretch spans under one decade (its slope is then still reported when it can be fitted).
- crossovers(curves, shape_at): each predicted crossover time located on curves over a d grid
  (where the local log-log slope passes the midpoint of the two stretches' slopes: for
  A t^-a + B t^-b that is where the two terms are equal), and its exponent k fitted as the slope of
  log t_x against log d, with a Student-t interval (n - 2 degrees of freedom: three d give a wide one).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .fit import _t_quantile, local_slope, power_law
from .theory_shape import DEFAULT_MARGIN

__all__ = ["StretchFit", "CrossoverFit", "stretches", "crossovers"]

MIN_DECADES = 1.0  # a trimmed stretch shorter than this is flagged too short to fit


@dataclass(frozen=True)
class StretchFit:
    """The slope measured inside one predicted stretch (window: the stretch trimmed by the margin)."""

    label: str  # theory's term ("F_pp", "F_ac", "F_pp[tau]", ...)
    theory: float  # its predicted slope (exponent of t)
    exponent: float  # measured (nan when nothing of the stretch is left to fit)
    interval: tuple[float, float]
    window: tuple[float, float]
    too_short: bool  # the window spans under MIN_DECADES decades

    @property
    def decades(self) -> float:
        lo, hi = self.window
        return math.log10(hi / lo) if hi > lo > 0 else 0.0

    @property
    def consistent(self) -> bool:
        """Theory's slope lies inside the measured interval."""
        return self.interval[0] <= self.theory <= self.interval[1]

    def __str__(self):
        lo, hi = self.interval
        flag = "  TOO SHORT TO FIT" if self.too_short else ""
        return (f"{self.label:10s} theory {self.theory:.4g}  measured {self.exponent:.4f} [{lo:.4f}, {hi:.4f}] "
                f"on t in [{self.window[0]:.3g}, {self.window[1]:.3g}] ({self.decades:.2f} decades){flag}")


@dataclass(frozen=True)
class CrossoverFit:
    """A crossover t_x = c d^k between two stretches, located on curves over a d grid."""

    label: str  # "F_pp -> F_ac"
    theory: float  # predicted k
    k: float
    interval: tuple[float, float]
    c: float  # fitted prefactor: t_x = c d^k
    d: tuple  # the d grid
    t_x: tuple  # the located crossover time at each d (nan where the slope never passes the level)

    @property
    def consistent(self) -> bool:
        return self.interval[0] <= self.theory <= self.interval[1]

    def __str__(self):
        lo, hi = self.interval
        return f"{self.label:22s} k theory {self.theory:.4g}  measured {self.k:.4f} [{lo:.4f}, {hi:.4f}], c {self.c:.3g}"


def _t_p(curve):
    """(t, P) of a Curve (step 0 dropped) or of a (t, P) pair."""
    t, P = (curve.steps, curve.risk) if hasattr(curve, "steps") else curve
    t, P = np.asarray(t, dtype=float), np.asarray(P, dtype=float)
    if P.ndim == 2:  # Monte Carlo: the seed mean
        P = P.mean(axis=0)
    keep = t > 0
    return t[keep], P[keep]


def stretches(curve, shape, margin=DEFAULT_MARGIN, level=0.95) -> tuple:
    """StretchFit of every decaying stretch of `shape` (plrf.theory.shape at this curve's d), in time order.

    curve: a plrf.Curve (or Curves: the seed mean), or a (t, P) pair. The window of each stretch is
    shape's stretch trimmed by `margin` decades at each end and clipped to the recorded t.
    """
    t, P = _t_p(curve)
    out = []
    for s in shape.stretches:
        if s.slope <= 0 or math.isinf(s.k_end):
            continue  # the limit loss F_0: flat
        lo = max(max(s.t_start, 1.0) * 10**margin, t[0])
        hi = min(s.t_end / 10**margin, t[-1])
        n_in = int(np.sum((t >= lo) & (t <= hi)))
        if not hi > lo or n_in < 6:
            out.append(StretchFit(s.label, s.slope, math.nan, (math.nan, math.nan), (lo, max(lo, hi)), True))
            continue
        fit = power_law(t, P, (lo, hi), saturation=None, level=level)
        out.append(StretchFit(s.label, s.slope, fit.exponent, fit.interval, fit.window,
                              fit.decades < MIN_DECADES - 1e-9))
    return tuple(out)


def _crossing(t, P, level, near):
    """log10 of the t where the local slope passes `level`, the passage nearest log10 t = near (nan if none)."""
    tc, s = local_slope(t, P)
    x, s = np.log10(tc), -s
    ok = np.isfinite(s)
    x, s = x[ok], s[ok]
    i = np.flatnonzero((s[:-1] - level) * (s[1:] - level) <= 0)
    if not len(i):
        return math.nan
    hits = [float(np.interp(level, *((s[j : j + 2], x[j : j + 2]) if s[j] < s[j + 1] else
                                      (s[j : j + 2][::-1], x[j : j + 2][::-1])))) for j in i]
    return min(hits, key=lambda h: abs(h - near))


def crossovers(curves, shape_at, level=0.95) -> tuple:
    """CrossoverFit of every crossover theory predicts, measured across a d grid.

    curves: {d: curve} (a Curve or a (t, P) pair, each run well past its last crossover);
    shape_at: d -> plrf.theory.shape(..., d=d) (the same alpha, beta, optimizer for every d).
    Needs at least 3 d for an interval.
    """
    ds = sorted(curves)
    if len(ds) < 3:
        raise ValueError(f"curves: need at least 3 d to fit a crossover exponent with an interval, got {len(ds)}")
    shapes = [shape_at(d) for d in ds]
    out = []
    for i, (a, b) in enumerate(zip(shapes[0].stretches[:-1], shapes[0].stretches[1:])):
        mid = (a.slope + b.slope) / 2
        x = np.array([_crossing(*_t_p(curves[d]), mid, math.log10(sh.stretches[i + 1].t_start))
                      for d, sh in zip(ds, shapes)])
        ld = np.log10(ds)
        ok = np.isfinite(x)
        k, c, half = math.nan, math.nan, math.nan
        if ok.sum() >= 3:
            (k, logc), cov = np.polyfit(ld[ok], x[ok], 1, cov="unscaled")
            resid = x[ok] - (k * ld[ok] + logc)
            s2 = float(resid @ resid) / (ok.sum() - 2)
            half = _t_quantile(level, int(ok.sum()) - 2) * math.sqrt(max(cov[0, 0] * s2, 0.0))
            c = 10**logc
        out.append(CrossoverFit(f"{a.label} -> {b.label}", b.k_start, float(k), (k - half, k + half), float(c),
                                tuple(ds), tuple(10**x)))
    return tuple(out)
