"""Compute-optimal frontier from loss curves at a geometric set of model sizes d.

Flops are counted as f = steps x B x d (docs/theory.md §7). For every budget f on a geometric grid the
frontier compares P(f / (B d), d) across d (log-log interpolation of each curve in steps):
- approach 1 (Chinchilla "approach 1"): the per-f minimum over the d grid, d*(f) and P*(f);
- IsoFLOP: a parabola in log d through the points around that minimum; its vertex gives a
  continuous d*(f) and P*(f).
Power-law fits d* ~ f^xi and P* ~ f^-eta then give the exponents, with moving-block bootstrap
intervals (the frontier points are correlated along f). Budgets whose optimum sits at the edge of
the d grid (or of the d's whose curves reach f) are excluded from the fits and reported with a
FrontierWarning: extend the d grid or the number of steps there.

Sampled W. The bootstrap interval is conditional on the curves given: with one sampled W per d it
leaves out the W-to-W variance, which is often 5-10 times larger. Give curves for several W seeds,
keyed (d, w), and the exponents are the mean of the per-W frontiers' exponents, with a Student-t
interval for that mean over W (its half-width combined in quadrature with the mean bootstrap
half-width, the misfit a single W cannot average away) and `xi_spread`/`eta_spread`, the
prediction interval in which one more W's exponent falls.
"""
from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _validate as check

__all__ = ["FrontierWarning", "ExponentFit", "Frontier", "frontier", "as_curve_table"]

BOOT_BYTES = 40  # peak bytes per bootstrap replicate and budget: int64 indices, y*, lstsq copies


class FrontierWarning(UserWarning):
    """The compute-optimal d sits at the edge of the d grid for some flop budgets."""


@dataclass
class ExponentFit:
    """d* ~ f^xi and P* ~ f^-eta fitted on the frontier points of one method."""

    method: str  # "approach1" or "isoflop"
    xi: float
    xi_interval: tuple[float, float]
    eta: float
    eta_interval: tuple[float, float]
    flops: np.ndarray  # the budgets used in the fit
    d_star: np.ndarray
    p_star: np.ndarray
    level: float
    reliable: bool = True
    reasons: list = field(default_factory=list)
    n_w: int = 1  # W seeds behind the interval (1: conditional on the curves given)
    xi_spread: tuple = (math.nan, math.nan)  # n_w > 1: where one more W's xi falls (prediction interval)
    eta_spread: tuple = (math.nan, math.nan)

    def __str__(self):
        flag = "" if self.reliable else "  UNRELIABLE: " + "; ".join(self.reasons)
        over = "" if self.n_w == 1 else f"  (over {self.n_w} W seeds)"
        return (f"{self.method:9s} xi = {self.xi:.4f} [{self.xi_interval[0]:.4f}, {self.xi_interval[1]:.4f}]  "
                f"eta = {self.eta:.4f} [{self.eta_interval[0]:.4f}, {self.eta_interval[1]:.4f}]{over}{flag}")

    def __repr__(self):
        return f"ExponentFit({self}, {len(self.flops)} budgets)"


@dataclass
class Frontier:
    """The envelope of a family of loss curves and its power-law fits.

    risk[k, i] is P(f_i / (B d_k), d_k) (NaN where curve k does not reach budget f_i);
    envelope[i] = min_k risk[k, i]; d_env[i] the minimizing d; edge[i] whether it sits at an edge.
    """

    d: np.ndarray
    batch: int
    flops: np.ndarray
    risk: np.ndarray
    envelope: np.ndarray
    d_env: np.ndarray
    edge: np.ndarray
    approach1: ExponentFit
    isoflop: ExponentFit
    curves: dict  # d -> (steps, risk), as given (several W: the mean of log risk over W, on the first W's steps)
    warnings: list = field(default_factory=list)  # e.g. the d-grid edge message
    per_w: dict = field(default_factory=dict)  # several W: w -> that W's Frontier

    @property
    def n_w(self) -> int:
        """W seeds behind the intervals (1: conditional on the curves given)."""
        return max(1, len(self.per_w))

    def __repr__(self):
        edge = int(self.edge.sum())
        w = "" if not self.per_w else f", {len(self.per_w)} W seeds"
        return (f"Frontier(d = {self.d[0]:g} .. {self.d[-1]:g} ({len(self.d)} sizes), B = {self.batch}, "
                f"{len(self.flops)} budgets f in [{self.flops[0]:.3g}, {self.flops[-1]:.3g}] ({edge} at the d-grid edge)"
                f"{w}; isoflop xi = {self.isoflop.xi:.4f}, eta = {self.isoflop.eta:.4f})")

    @property
    def at_edge(self) -> bool:
        """True when the optimum sits at the edge of the d grid for some budget."""
        return bool(self.edge.any())

    @property
    def fits(self):
        return {"approach1": self.approach1, "isoflop": self.isoflop}

    def table(self) -> str:
        note = ("intervals: block bootstrap over budgets, conditional on the curves given (with one sampled W "
                "per d they leave out the W-to-W variance: key curves by (d, w) for several W seeds)" if not self.per_w else
                f"intervals: over {len(self.per_w)} W seeds (Student-t on the per-W exponents)")
        return "\n".join([str(f) for f in self.fits.values()] + [note])


def _by_w(curves):
    """{w: {d: curve}} when the mapping is keyed (d, w) (curves for several W seeds), else None."""
    if not isinstance(curves, dict) or not curves or not all(isinstance(k, tuple) for k in curves):
        return None
    if not all(len(k) == 2 for k in curves):
        raise ValueError("curves: tuple keys must be (d, w): model size and W seed")
    out = {}
    for (d, w), c in curves.items():
        out.setdefault(w, {})[d] = c
    if len(out) < 2:
        raise ValueError(f"curves keyed (d, w) need at least 2 W seeds, got {len(out)}; key by d alone for one W")
    return out


def as_curve_table(curves) -> dict:
    """{d: (steps, risk)} from a mapping d -> (steps, risk) / Curve, or a list of Curve with meta["d"]."""
    if isinstance(curves, dict):
        items = curves.items()
    elif isinstance(curves, (str, bytes)) or not hasattr(curves, "__iter__"):
        raise ValueError(f"curves must be a mapping d -> (steps, risk) or Curve, or a list of Curve; "
                         f"got {type(curves).__name__}")
    else:
        items = []
        for c in curves:
            if "d" not in getattr(c, "meta", {}):
                raise ValueError("curves: each Curve in a list needs meta['d'] (or pass a mapping d -> curve)")
            items.append((c.meta["d"], c))
    out = {}
    for d, c in items:
        d = check.integer("curves: d", int(d) if isinstance(d, numbers.Real) and float(d).is_integer() else d, 1)
        if d in out:
            raise ValueError(f"curves: d={d} is given twice")
        if hasattr(c, "risk"):
            steps, risk = c.steps, c.risk
        elif isinstance(c, (tuple, list)) and len(c) == 2:
            steps, risk = c
        else:
            raise ValueError(f"curves: d={d} must map to a Curve or a (steps, risk) pair, got {type(c).__name__}")
        steps, risk = check.real_array(f"curves: d={d} steps", steps), check.real_array(f"curves: d={d} risk", risk)
        if risk.ndim == 2:
            risk = risk.mean(axis=0)  # seed mean of Monte Carlo curves
        if steps.shape != risk.shape or steps.ndim != 1:
            raise ValueError(f"curves: d={d} has steps {steps.shape} and risk {risk.shape}; need equal 1-D shapes")
        steps, risk = _sorted_steps(d, steps, risk)
        ok = (steps > 0) & np.isfinite(risk) & (risk > 0)
        if ok.sum() < 2:
            raise ValueError(f"curves: d={d} needs at least 2 finite positive risks at steps > 0")
        out[d] = (steps[ok], risk[ok])
    if len(out) < 3:
        raise ValueError(f"curves: need at least 3 model sizes d, got {len(out)}")
    return dict(sorted(out.items()))


def _sorted_steps(d, steps, risk):
    """Steps in increasing order (a shuffled curve gives the same frontier); a step given twice is refused."""
    if not np.all(np.isfinite(steps)):
        raise ValueError(f"curves: d={d} has non-finite steps")
    order = np.argsort(steps, kind="stable")
    steps, risk = steps[order], risk[order]
    if np.any(np.diff(steps) == 0):
        dup = steps[1:][np.diff(steps) == 0]
        raise ValueError(f"curves: d={d} has duplicate steps (e.g. {dup[0]:g}); give each step once")
    return steps, risk


def frontier(curves, batch=1, *, per_decade=20, fit_range=None, n_boot=1000, level=0.95, seed=0,
             warn=True) -> Frontier:
    """Compute-optimal frontier of loss curves at several d (see the module docstring).

    curves: {d: (steps, risk)}, {d: Curve}, or a list of plrf.Curve with meta["d"]; Monte Carlo
    risk arrays (n_seeds, n_steps) are averaged over seeds. Keyed (d, w) for several W seeds w:
    the intervals include the W-to-W variance (module docstring). batch: B in f = steps x B x d.
    fit_range: (f_lo, f_hi) budgets to fit on (default: every budget with an interior optimum).
    """
    groups = _by_w(curves)
    if groups is not None:
        return _over_w(groups, batch, dict(per_decade=per_decade, fit_range=fit_range, n_boot=n_boot, level=level,
                                           seed=seed), warn)
    batch = check.integer("batch", batch, 1)
    if fit_range is not None:
        fit_range = check.interval("fit_range", fit_range)
    per_decade = check.integer("per_decade", per_decade, 2, 10**4)
    n_boot = check.integer("n_boot", n_boot, 10)
    level = check.finite("level", level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    seed = check.seed("seed", seed)
    table = as_curve_table(curves)
    d = np.array(sorted(table), dtype=np.float64)
    f_lo = min(batch * dk * s[0] for dk, (s, _) in zip(d, table.values()))
    f_hi = max(batch * dk * s[-1] for dk, (s, _) in zip(d, table.values()))
    flops = np.geomspace(f_lo, f_hi, max(3, int(math.ceil(per_decade * math.log10(f_hi / f_lo))) + 1))
    logP = np.full((len(d), len(flops)), np.nan)
    for k, (dk, (s, r)) in enumerate(zip(d, table.values())):
        t = flops / (batch * dk)
        inside = (t >= s[0]) & (t <= s[-1])
        logP[k, inside] = np.interp(np.log(t[inside]), np.log(s), np.log(r))
    avail = np.isfinite(logP)
    has = avail.sum(axis=0) >= 3
    kmin = np.where(has, np.argmin(np.where(avail, logP, np.inf), axis=0), -1)
    first = np.argmax(avail, axis=0)
    last = len(d) - 1 - np.argmax(avail[::-1], axis=0)
    edge = has & ((kmin == first) | (kmin == last))
    env = np.where(has, np.exp(np.min(np.where(avail, logP, np.inf), axis=0)), np.nan)
    d_env = np.where(has, d[np.maximum(kmin, 0)], np.nan)
    use = has & ~edge
    if fit_range is not None:
        use &= (flops >= fit_range[0]) & (flops <= fit_range[1])
    rng = np.random.default_rng(seed)
    fits = {}
    iso_d, iso_p = _isoflop_vertices(np.log(d), logP, kmin, use)
    for name, ds, ps in (("approach1", d_env, env), ("isoflop", iso_d, iso_p)):
        fits[name] = _fit_exponents(name, flops[use], ds[use], ps[use], per_decade, n_boot, level, rng)
    out = Frontier(d, batch, flops, np.exp(logP), env, d_env, edge, fits["approach1"], fits["isoflop"], table)
    _report_edges(out, has, warn)
    return out


def _isoflop_vertices(logd, logP, kmin, use):
    """Vertex of a parabola in log d through up to 5 available points around each per-f minimum."""
    n_f = logP.shape[1]
    d_star, p_star = np.full(n_f, np.nan), np.full(n_f, np.nan)
    for i in np.flatnonzero(use):
        k = kmin[i]
        sel = [j for j in range(k - 2, k + 3) if 0 <= j < len(logd) and np.isfinite(logP[j, i])]
        c2, c1, c0 = np.polyfit(logd[sel] - logd[k], logP[sel, i], 2)
        if c2 <= 0:
            d_star[i], p_star[i] = math.exp(logd[k]), math.exp(logP[k, i])
            continue
        u = float(np.clip(-c1 / (2 * c2), logd[k - 1] - logd[k], logd[k + 1] - logd[k]))
        d_star[i], p_star[i] = math.exp(logd[k] + u), math.exp(c0 + c1 * u + c2 * u * u)
    return d_star, p_star


def _fit_exponents(name, f, ds, ps, per_decade, n_boot, level, rng) -> ExponentFit:
    reasons = []
    if len(f) < 5 or math.log10(f[-1] / f[0]) < 1.0:
        span = math.log10(f[-1] / f[0]) if len(f) >= 2 else 0.0
        reasons.append(f"only {len(f)} budgets with an interior optimum, spanning {span:.2f} decades (< 1)")
        if len(f) < 3:
            nan = (math.nan, math.nan)
            return ExponentFit(name, math.nan, nan, math.nan, nan, f, ds, ps, level, False, reasons)
    x = np.log(f)
    xi, xi_iv = _slope_with_bootstrap(x, np.log(ds), per_decade, n_boot, level, rng)
    m, m_iv = _slope_with_bootstrap(x, np.log(ps), per_decade, n_boot, level, rng)
    return ExponentFit(name, xi, xi_iv, -m, (-m_iv[1], -m_iv[0]), f, ds, ps, level, not reasons, reasons)


def _slope_with_bootstrap(x, y, block, n_boot, level, rng):
    """OLS slope and a moving-block residual-bootstrap percentile interval (blocks of ~1 decade)."""
    A = np.stack([np.ones_like(x), x - x.mean()], axis=1)
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    fitted, r = A @ coef, y - A @ coef
    n = len(x)
    check.memory(BOOT_BYTES * n_boot * n, f"n_boot={n_boot} (bootstrap over {n} budgets)")
    block = max(1, min(block, n // 2 or 1))
    starts = rng.integers(0, n - block + 1, size=(n_boot, -(-n // block)))
    idx = (starts[:, :, None] + np.arange(block)).reshape(n_boot, -1)[:, :n]
    ystar = fitted + (r - r.mean())[idx]
    slopes = np.linalg.lstsq(A, ystar.T, rcond=None)[0][1]
    lo, hi = np.quantile(slopes, [(1 - level) / 2, (1 + level) / 2])
    return float(coef[1]), (float(min(lo, coef[1])), float(max(hi, coef[1])))


def _report_edges(out: Frontier, has, warn):
    """Flag and warn about budgets whose optimum sits at the edge of the d grid (excluded from fits)."""
    n_edge = int(out.edge.sum())
    if n_edge == 0:
        return
    fe = out.flops[out.edge]
    at_min = np.sum(out.d_env[out.edge] == out.d[0]) + 0
    msg = (f"compute-optimal d sits at the edge of the d grid for {n_edge} of {int(has.sum())} flop budgets "
           f"(f in [{fe.min():.3g}, {fe.max():.3g}]; {at_min} at d_min = {out.d[0]:g}, the rest at d_max or at "
           "the largest/smallest d whose curve reaches f); they are excluded from the fits. "
           "Extend the d grid (or the number of steps) to cover them.")
    out.warnings.append(msg)
    if warn:
        warnings.warn(msg, FrontierWarning, stacklevel=3)


# ---- several W seeds ----------------------------------------------------------------------------
def _over_w(groups, batch, kw, warn) -> Frontier:
    """The frontier of the mean curve over W, with exponents and intervals from the per-W frontiers."""
    per_w = {}
    for w, table in groups.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FrontierWarning)  # reported once, on the mean curve below
            per_w[w] = frontier(table, batch, warn=False, **kw)
    out = frontier(_mean_over_w(per_w), batch, warn=warn, **kw)
    for name in ("approach1", "isoflop"):
        setattr(out, name, _combine(getattr(out, name), [getattr(f, name) for f in per_w.values()], kw["level"]))
    out.per_w = per_w
    return out


def _mean_over_w(per_w) -> dict:
    """{d: (steps, exp(mean over W of log risk))} on the first W's steps (log-log interpolation)."""
    tables = [f.curves for f in per_w.values()]
    ds = set(tables[0])
    if any(set(t) != ds for t in tables):
        raise ValueError("curves keyed (d, w): every W seed needs curves at the same sizes d")
    out = {}
    for d in sorted(ds):
        steps = tables[0][d][0]
        logs = [np.interp(np.log(steps), np.log(s), np.log(r), left=np.nan, right=np.nan) for s, r in
                (t[d] for t in tables)]
        mean = np.mean(logs, axis=0)
        ok = np.isfinite(mean)
        out[d] = (steps[ok], np.exp(mean[ok]))
    return out


def _combine(pooled: ExponentFit, fits, level) -> ExponentFit:
    """Mean of the per-W exponents with a Student-t interval over W (see the module docstring)."""
    from .fit import _t_quantile

    good = [f for f in fits if math.isfinite(f.xi) and math.isfinite(f.eta)]
    n = len(good)
    pooled.n_w = n
    if n < 2:
        pooled.reliable = False
        pooled.reasons.append(f"only {n} W seed(s) with a finite fit: no W-to-W interval")
        return pooled
    q = _t_quantile(level, n - 1)
    for name in ("xi", "eta"):
        v = np.array([getattr(f, name) for f in good])
        boot = np.mean([(getattr(f, name + "_interval")[1] - getattr(f, name + "_interval")[0]) / 2 for f in good])
        sd = float(np.std(v, ddof=1))
        half = math.hypot(q * sd / math.sqrt(n), boot)
        spread = math.hypot(q * sd * math.sqrt(1 + 1 / n), boot)
        m = float(v.mean())
        setattr(pooled, name, m)
        setattr(pooled, name + "_interval", (m - half, m + half))
        setattr(pooled, name + "_spread", (m - spread, m + spread))
    if n < len(fits):
        pooled.reasons.append(f"{len(fits) - n} of {len(fits)} W seeds gave no fit and were left out")
    bad = sum(not f.reliable for f in good)
    if bad:
        pooled.reasons.append(f"{bad} of {n} per-W fits are flagged unreliable")
    return pooled
