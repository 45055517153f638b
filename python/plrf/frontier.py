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

    def __str__(self):
        flag = "" if self.reliable else "  UNRELIABLE: " + "; ".join(self.reasons)
        return (f"{self.method:9s} xi = {self.xi:.4f} [{self.xi_interval[0]:.4f}, {self.xi_interval[1]:.4f}]  "
                f"eta = {self.eta:.4f} [{self.eta_interval[0]:.4f}, {self.eta_interval[1]:.4f}]{flag}")


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
    curves: dict  # d -> (steps, risk), as given
    warnings: list = field(default_factory=list)  # e.g. the d-grid edge message

    @property
    def at_edge(self) -> bool:
        """True when the optimum sits at the edge of the d grid for some budget."""
        return bool(self.edge.any())

    @property
    def fits(self):
        return {"approach1": self.approach1, "isoflop": self.isoflop}

    def table(self) -> str:
        return "\n".join(str(f) for f in self.fits.values())


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
    risk arrays (n_seeds, n_steps) are averaged over seeds. batch: B in f = steps x B x d.
    fit_range: (f_lo, f_hi) budgets to fit on (default: every budget with an interior optimum).
    """
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
