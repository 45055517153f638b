"""The measured shape of a loss curve, against theory's prediction (plrf.theory.shape).

- stretches(curve, shape): the slope fitted inside each decaying stretch theory predicts, on the
  stretch's window trimmed by `margin` decades at each end (the unknown O(1) prefactors of the
  crossover times, docs/theory.md §8.1), with plrf.fit.power_law's interval (HAC standard error
  widened by the drift of the local slope across the window) and a `too_short` flag where what is
  left of the stretch spans under one decade (its slope is then still reported when it can be fitted);
  windows stop at t_floor (damping_floor(optimizer): where float64 can no longer hold DANA's
  momentum damping 1 - Delta_t), flagged `clipped`.
- crossovers(curves, shape_at): each predicted crossover time located on curves over a d grid
  (where the local log-log slope passes the midpoint of the two stretches' slopes: for
  A t^-a + B t^-b that is where the two terms are equal), and its exponent k fitted as the slope of
  log t_x against log d, with a Student-t interval (n - 2 degrees of freedom: three d give a wide one).
- extrapolate(d, values, theory): the d -> infinity limit of an exponent that drifts across a d grid,
  by value = limit - A d^-gamma (gamma profiled: a neighbouring term's share of a window decays like
  a power of d), with an uncertainty that includes every gamma the data allow, and a verdict.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .fit import _t_quantile, local_slope, power_law
from .theory.shape import DEFAULT_MARGIN

__all__ = ["StretchFit", "CrossoverFit", "Extrapolation", "shape_of", "stretches", "crossovers", "extrapolate",
           "damping_floor"]

MIN_DECADES = 1.0  # a trimmed stretch shorter than this is flagged too short to fit
PER_DECADE = 20  # power_law's log-t bins per decade


def damping_floor(optimizer) -> float:
    """The first step t at which the optimizer's momentum damping Delta_t is under float64's eps (inf if never).

    plrf's engines store the momentum retention as 1 - Delta_t (plrf/optim/gen_momentum.hpp). Once
    Delta_t < eps that difference keeps under two ulps of Delta_t (25% or worse), and from
    Delta_t < eps / 4 it is exactly 1: the momentum is no longer damped as the schedule says. For
    DANA's Delta_t = delta / (1 + t) with the recipe's delta = 2.6 the floor is t = 1.2e16. Measured on
    DANA-constant (alpha = 1, beta = 0.3 and 0.7, d = 10^11.5 and 1e12): every curve stops decaying at
    t ~ 3e16 - 1e17 whatever its risk level (2e-17 and 3e-22), 25 to 370 times above its limit loss,
    while curves whose stretches end before then reach 1.3 - 2.7 times it.
    """
    eps = np.finfo(float).eps
    delta = optimizer.delta
    if not delta(2.0**62) < eps:
        return math.inf
    lo, hi = 0.0, 62.0  # log2 t, assuming Delta_t decreases
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if delta(2.0**mid) < eps else (mid, hi)
    return 2.0**hi


@dataclass(frozen=True)
class StretchFit:
    """The slope measured inside one predicted stretch (window: the stretch trimmed by the margin)."""

    label: str  # theory's term ("F_pp", "F_ac", "F_pp[tau]", ...)
    theory: float  # its predicted slope (exponent of t)
    exponent: float  # measured (nan when nothing of the stretch is left to fit)
    interval: tuple[float, float]
    window: tuple[float, float]
    too_short: bool  # the window spans under MIN_DECADES decades
    clipped: bool = False  # the stretch ran past t_floor (damping_floor): the window was cut there

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
        flag = ("  TOO SHORT TO FIT" if self.too_short else "") + ("  CLIPPED at the damping floor" if self.clipped else "")
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


def shape_of(curve):
    """plrf.theory.shape of a curve run on a theory spectrum, from its meta (alpha, beta, d, optimizer, batch)."""
    from .theory.shape import shape

    meta = getattr(curve, "meta", None) or {}
    missing = [k for k in ("alpha", "beta", "d", "optimizer") if k not in meta]
    if missing:
        raise ValueError(f"curve: its meta lacks {missing} (run on plrf.Spectrum.theory with a named optimizer), "
                         "so its shape is unknown; pass shape=plrf.theory.shape(...)")
    return shape(meta["alpha"], meta["beta"], meta["optimizer"], d=meta["d"], batch=meta.get("batch"))


def stretches(curve, shape=None, margin=DEFAULT_MARGIN, level=0.95, t_floor=math.inf) -> tuple:
    """StretchFit of every decaying stretch of `shape` (plrf.theory.shape at this curve's d), in time order.

    curve: a plrf.Curve (or Curves: the seed mean), or a (t, P) pair. shape: None reads it from the
    curve's meta (shape_of). The window of each stretch is shape's stretch trimmed by `margin`
    decades at each end and clipped to the recorded t and to t_floor (the time from which the curve
    is not trusted, e.g. damping_floor(optimizer); such a fit is flagged `clipped`).
    """
    shape = shape_of(curve) if shape is None else shape
    t, P = _t_p(curve)
    out = []
    for s in shape.stretches:
        if s.slope <= 0 or math.isinf(s.k_end):
            continue  # the limit loss F_0: flat
        lo = max(max(s.t_start, 1.0) * 10**margin, t[0])
        hi = min(s.t_end / 10**margin, t[-1], t_floor)
        clipped = s.t_end / 10**margin > t_floor
        inside = t[(t >= lo) & (t <= hi)]
        x = np.log10(inside)
        if len(np.unique(np.floor((x - x[:1]) * PER_DECADE + 1e-9))) < 6:  # power_law's minimum: 6 bins
            out.append(StretchFit(s.label, s.slope, math.nan, (math.nan, math.nan), (lo, max(lo, hi)), True, clipped))
            continue
        fit = power_law(t, P, (lo, hi), saturation=None, level=level, per_decade=PER_DECADE)
        out.append(StretchFit(s.label, s.slope, fit.exponent, fit.interval, fit.window,
                              fit.decades < MIN_DECADES - 1e-9, clipped))
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


SETTLED = 0.05  # a limit whose 2 sigma exceeds this share of theory's value is "not settled"
GAMMAS = np.linspace(0.02, 2.0, 100)  # the decay rates the power-of-d model is profiled over


@dataclass(frozen=True)
class Extrapolation:
    """value(d) = limit - A d^-gamma fitted over a d grid (gamma profiled), and a verdict.

    sigma combines, in quadrature: the spread of the limit over the gammas the data allow (the
    profile's 95% set, whose half-width is read as 1.96 sigma); the limit's standard error at the
    best gamma; half the distance to the limit of the slower-drift model value = limit + b / log10 d
    (inverse_log): which of the two describes the approach is not known, so their gap is model error;
    and the shift of the limit when the largest d is left out (at least 5 sizes): an extrapolation
    that the last size still moves is not trusted further than that.
    """

    limit: float
    sigma: float
    gamma: float
    inverse_log: float
    theory: float
    d_max: float

    @property
    def verdict(self) -> str:
        """confirmed: theory within 2 sigma and 2 sigma <= SETTLED x theory; refuted: theory more than
        2 sigma from both models' limits; else not settled at the largest d."""
        if not math.isfinite(self.sigma):
            return f"not settled at d = {self.d_max:.0e}"
        if abs(self.limit - self.theory) > 2 * self.sigma:
            if abs(self.inverse_log - self.theory) > 2 * self.sigma:
                return "refuted"
            return f"not settled at d = {self.d_max:.0e} (the 1/log d limit agrees with theory)"
        return "confirmed" if 2 * self.sigma <= SETTLED * abs(self.theory) else f"not settled at d = {self.d_max:.0e}"

    def __str__(self):
        return (f"limit {self.limit:.3f} +- {self.sigma:.3f} (gamma {self.gamma:.2f}; 1/log d model "
                f"{self.inverse_log:.3f}; theory {self.theory:.3f}): {self.verdict}")


def _fit_power_of_d(L, v, gamma):
    """(limit, residual sum of squares, se of limit) of v = limit - A 10^(-gamma L)."""
    X = np.column_stack([np.ones_like(L), -(10.0 ** (-gamma * (L - L[-1])))])  # scaled at the largest d
    coef, *_ = np.linalg.lstsq(X, v, rcond=None)
    r = v - X @ coef
    ss = float(r @ r)
    cov = np.linalg.pinv(X.T @ X) * ss / max(len(v) - 3, 1)
    return float(coef[0]), ss, math.sqrt(max(cov[0, 0], 0.0))


def _limits(L, v):
    """(limit, sigma from the gamma profile and standard error, gamma, 1/log10 d limit) of one d grid."""
    fits = [_fit_power_of_d(L, v, g) for g in GAMMAS]
    best = int(np.argmin([f[1] for f in fits]))
    limit, ss_min, se = fits[best]
    allowed = [f[0] for f in fits if f[1] <= ss_min * (1 + _t_quantile(0.95, len(L) - 3) ** 2 / (len(L) - 3))]
    inverse_log = float(np.polyfit(1.0 / L, v, 1)[1])
    return limit, math.hypot((max(allowed) - min(allowed)) / (2 * 1.96), se), float(GAMMAS[best]), inverse_log


def extrapolate(d, values, theory, resolution=0.0) -> Extrapolation:
    """The d -> infinity limit of `values` measured at the sizes `d` (nan values left out), see
    Extrapolation; fewer than 4 sizes give an infinite sigma ("not settled"). resolution: a floor
    on sigma, the systematic error of the method that measured each value (a drift that is flat
    to 1e-5 does not make a fit on a finite grid exact)."""
    d, v = np.asarray(d, dtype=float), np.asarray(values, dtype=float)
    ok = np.isfinite(v) & (d > 1)
    d, v = d[ok], v[ok]
    if len(d) < 4:
        last = float(v[-1]) if len(v) else math.nan
        return Extrapolation(last, math.inf, math.nan, math.nan, theory, float(d[-1]) if len(d) else math.nan)
    L = np.log10(d)
    limit, sigma, gamma, inverse_log = _limits(L, v)
    # stability: how far the limit moves when the largest d is left out (a slow drift, gamma -> 0,
    # is extrapolated mostly by the model, and that shows here)
    shift = limit - _limits(L[:-1], v[:-1])[0] if len(d) >= 5 else 0.0
    sigma = max(math.sqrt(sigma**2 + ((inverse_log - limit) / 2) ** 2 + shift**2), resolution)
    return Extrapolation(limit, sigma, gamma, inverse_log, theory, float(d[-1]))
