"""Power-law fits of loss curves, with automatic window selection and honest intervals.

`power_law(t, P)` fits P ~ C t^-a on the longest window where the log-log slope is flat (a
plateau), and `saturated(t, P)` fits P = P_inf + c t^-a. Both return a result whose `reliable`
flag and `reasons` list say when the number should not be trusted: too short a window (< 1 decade
by default), no plateau (the local slope drifts), P_inf dominating the curve, or (power_law) a
window past saturation or in a stretch that theory gives to another term.

Regime. A power_law window is "saturated" when at its start the risk P is within a factor
`saturation` (2) of a floor: p_inf (then the floor is at least half the risk: theory's F_0
dominates), or the curve's own final level when the curve ends flat (its last decade falls by less
than a slope of min_slope would). A power law that is still falling at the end of the record has
no floor of its own, so a shallow exponent there is not mistaken for saturation. With
`theory=plrf.theory.shape(...)` the automatic window is searched inside theory's window for its
longest decaying stretch, and a window that reaches more than DEFAULT_MARGIN (1) decade into a
stretch of another term is flagged.

Method. Points are averaged in log-log space into bins of 1/per_decade decade (a geometric record
grid is left as it is; a dense grid is compressed and its noise averaged, the bin counts become
weights). The interval is a Student-t interval from a Newey-West (HAC) standard error, which stays
valid when the noise is correlated along t (Monte Carlo means over the same seeds), widened by
the systematic part of the slope drift across the window (the local slope is not constant there).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from . import _validate as check

__all__ = ["PowerLawFit", "SaturatedFit", "power_law", "saturated", "local_slope", "learning_rate"]

WINDOW_BYTES = 400  # peak bytes per candidate window of the automatic window search (~50 float64 temporaries)
LOCAL_HALF_WIDTH = 0.25  # decades on each side of a local-slope estimate

# Noise may be correlated along t, which hides part of it from second differences (a factor ~2.6
# for AR(1) with rho = 0.8); the residual scale is capped at this multiple of the roughness.
NOISE_CAP_FACTOR = 3.0
FLAT_RTOL = 1e-12  # saturated(): a curve whose log P varies by less than this is constant (float64 rounding)


@dataclass
class PowerLawFit:
    """P ~ prefactor * t^-exponent on window = (t_lo, t_hi)."""

    exponent: float
    interval: tuple[float, float]
    window: tuple[float, float]
    prefactor: float
    drift: float  # exponent on the last third of the window minus that on the first third
    level: float
    n_points: int
    reliable: bool = True
    reasons: list = field(default_factory=list)
    slope_range: tuple = (math.nan, math.nan)  # min and max local exponent (+-0.25 decade fits) in the window
    term: str | None = None  # with theory=: the term theory says dominates the window ("F_pp", "F_pp[tau]", ...)
    theory: float = math.nan  # with theory=: that term's predicted exponent

    @property
    def decades(self) -> float:
        return math.log10(self.window[1] / self.window[0])

    def predict(self, t):
        return self.prefactor * np.asarray(t, dtype=float) ** -self.exponent

    def __str__(self):
        lo, hi = self.interval
        flag = "" if self.reliable else "  UNRELIABLE: " + "; ".join(self.reasons)
        th = "" if self.term is None else f" (theory {self.theory:.4g}, {self.term})"
        return (f"exponent {self.exponent:.4f} [{lo:.4f}, {hi:.4f}]{th} on t in "
                f"[{self.window[0]:.3g}, {self.window[1]:.3g}] ({self.decades:.2f} decades){flag}")


@dataclass
class SaturatedFit:
    """P = p_inf + prefactor * t^-exponent on window = (t_lo, t_hi)."""

    exponent: float
    interval: tuple[float, float]
    p_inf: float
    p_inf_interval: tuple[float, float]
    prefactor: float
    window: tuple[float, float]
    level: float
    n_points: int
    reliable: bool = True
    reasons: list = field(default_factory=list)

    def predict(self, t):
        return self.p_inf + self.prefactor * np.asarray(t, dtype=float) ** -self.exponent

    def __str__(self):
        lo, hi = self.interval
        flag = "" if self.reliable else "  UNRELIABLE: " + "; ".join(self.reasons)
        return f"exponent {self.exponent:.4f} [{lo:.4f}, {hi:.4f}], P_inf {self.p_inf:.4g}{flag}"


# ---- shared helpers ----------------------------------------------------------------------------
def _level(level) -> float:
    level = check.finite("level", level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return level


def _t_quantile(level: float, dof: int) -> float:
    """Two-sided Student-t quantile: exact for dof 1 and 2, Cornish-Fisher expansion (~1e-3) above."""
    p = 0.5 + level / 2
    if dof <= 1:
        return math.tan(math.pi * (p - 0.5))
    if dof == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = NormalDist().inv_cdf(p)
    v = dof
    return z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2) + (
        3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)


def _prepare(t, P, window, p_inf=0.0):
    """Validated, positive (t, P - p_inf) restricted to the window; non-finite points dropped."""
    t, P = check.real_array("t", t), check.real_array("P", P)
    if t.ndim != 1 or P.shape != t.shape:
        raise ValueError(f"t and P must be 1-D arrays of equal length, got shapes {t.shape} and {P.shape}")
    ok = np.isfinite(t) & np.isfinite(P) & (t > 0)
    if window is not None:
        lo, hi = check.interval("window", window)
        ok &= (t >= lo) & (t <= hi)
    y = P - p_inf
    nonpos = int(np.sum(ok & (y <= 0)))
    ok &= y > 0
    if ok.sum() < 4:
        raise ValueError(f"P needs at least 4 finite points with t > 0 and P > p_inf in the window, got {int(ok.sum())}")
    order = np.argsort(t[ok])
    return t[ok][order], y[ok][order], nonpos


def _bin(t, y, per_decade):
    """Average (log10 t, log10 y) in bins of 1/per_decade decade; returns x, ly, counts."""
    x, ly = np.log10(t), np.log10(y)
    key = np.floor((x - x[0]) * per_decade + 1e-9).astype(np.int64)
    uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
    xs = np.bincount(inv, x) / counts
    ys = np.bincount(inv, ly) / counts
    return xs, ys, counts.astype(np.float64)


def _hac_cov(J, r, w):
    """(Covariance, effective sample size) of weighted least squares that stays honest under noise correlated along t.

    The larger of a Newey-West (Bartlett) sandwich and the iid covariance inflated by the AR(1)
    long-run factor (1 + rho) / (1 - rho), with rho the bias-corrected lag-1 autocorrelation of
    the standardized residuals (capped at 0.98). Small-sample Newey-West alone under-covers for
    strongly correlated noise. J: (n, p) Jacobian, r: residuals, w: weights, rows ordered along t.
    """
    n, p = J.shape
    bread = np.linalg.pinv(J.T @ (w[:, None] * J))
    u = J * (w * r)[:, None]
    lag = int(math.ceil(1.5 * n ** (1 / 3)))
    meat = u.T @ u
    for k in range(1, min(lag, n - 1) + 1):
        g = u[k:].T @ u[:-k]
        meat += (1 - k / (lag + 1)) * (g + g.T)
    hac = bread @ meat @ bread * n / max(n - p, 1)
    z = r * np.sqrt(w)
    rho = float(np.dot(z[1:], z[:-1]) / max(np.dot(z, z), 1e-300)) if n > 2 else 0.0
    rho = min(max(rho + (1 + 3 * max(rho, 0)) / n, 0.0), 0.98)  # small-sample bias correction
    iid = bread * (np.dot(z, z) / max(n - p, 1)) * (1 + rho) / (1 - rho)
    n_eff = max(n * (1 - rho) / (1 + rho), p + 1.0)  # effective sample size, for the t quantile
    return np.maximum(hac, iid), n_eff  # elementwise: only the diagonal (variances) is used


def _wls(x, y, w, degree):
    """Weighted polynomial fit in (x - x.mean()); returns coefficients (low to high), Jacobian, residuals."""
    xc = x - np.average(x, weights=w)
    J = np.vander(xc, degree + 1, increasing=True)
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(J * sw[:, None], y * sw, rcond=None)[0]
    return coef, J, y - J @ coef


# ---- window selection ---------------------------------------------------------------------------
def local_slope(t, P, half_width: float = 0.25, per_decade: int = 20):
    """Local log-log slope d log P / d log t (a straight-line fit over +- half_width decades).

    Returns (t_centers, slope). A power-law plateau shows as a flat stretch of the slope.
    """
    half_width = check.positive("half_width", half_width)
    per_decade = check.integer("per_decade", per_decade, 1, 10**6)
    tt, yy, _ = _prepare(t, P, None)
    x, ly, w = _bin(tt, yy, per_decade)
    out = np.full(x.shape, np.nan)
    for i, xi in enumerate(x):
        m = np.abs(x - xi) <= half_width + 1e-12
        if m.sum() >= 3:
            out[i] = _wls(x[m], ly[m], w[m], 1)[0][1]
    return 10**x, out


def _roughness(x, y, w) -> float:
    """Robust noise level (per unit weight): deviation of each bin from the straight line through
    its two neighbours (exact for unequal spacing).

    A smooth curve (an exact engine's output) has almost none, even where it bends; white noise
    shows in full and correlated noise in part, which the caller allows for with a factor.
    """
    if len(y) < 5:
        return math.inf
    a = (x[2:] - x[1:-1]) / (x[2:] - x[:-2])  # weight of the left neighbour
    dev = y[1:-1] - (a * y[:-2] + (1 - a) * y[2:])
    z = dev / np.sqrt(1 / w[1:-1] + a * a / w[:-2] + (1 - a) ** 2 / w[2:])
    return float(1.4826 * np.median(np.abs(z)))


def _window_stats(x, y, w, noise_cap=math.inf, i=None, j=None):
    """Slope, drift, drift standard error and length of windows [i, j] of the bins (vectorized).

    drift = slope of the last third of the window minus slope of its first third: it catches
    curvature and S-shaped transients alike. Its standard error uses the quadratic fit's residual
    scale, capped by noise_cap so that the systematic misfit of a smooth curve is not mistaken for
    noise. Default: every window of >= 6 bins.
    """
    n = len(x)
    xc, y = x - x.mean(), y - y.mean()  # centred: fewer cancellations in the moment sums
    P = np.stack([w * xc**k for k in range(5)])  # weighted moments, shape (5, n)
    Q = np.stack([w * xc**k * y for k in range(3)])
    cP = np.concatenate([np.zeros((5, 1)), np.cumsum(P, axis=1)], axis=1)
    cQ = np.concatenate([np.zeros((3, 1)), np.cumsum(Q, axis=1)], axis=1)
    cY2 = np.concatenate([[0.0], np.cumsum(w * y * y)])
    if i is None:
        i, j = np.triu_indices(n, k=5)

    def slope(a, b):  # weighted LS slope on bins a..b (inclusive), and its 1/Sxx
        S0, S1, S2 = (cP[k, b + 1] - cP[k, a] for k in range(3))
        T0, T1 = (cQ[k, b + 1] - cQ[k, a] for k in range(2))
        sxx = S2 - S1 * S1 / S0
        return (T1 - S1 * T0 / S0) / sxx, 1.0 / sxx

    S = (cP[:, j + 1] - cP[:, i]).T  # (m, 5)
    T = (cQ[:, j + 1] - cQ[:, i]).T
    A2 = np.stack([S[:, [0, 1, 2]], S[:, [1, 2, 3]], S[:, [2, 3, 4]]], axis=1)
    b2 = np.linalg.solve(A2, T[:, :, None])[:, :, 0]
    cnt = j - i + 1
    sse2 = np.maximum(cY2[j + 1] - cY2[i] - np.einsum("mk,mk->m", b2, T), 0.0)
    scale2 = np.minimum(sse2 / np.maximum(cnt - 3, 1), noise_cap**2)
    m = np.maximum(cnt // 3, 2)
    s_first, v_first = slope(i, i + m - 1)
    s_last, v_last = slope(j - m + 1, j)
    s_all, _ = slope(i, j)
    return s_all, s_last - s_first, np.sqrt(scale2 * (v_first + v_last)), x[j] - x[i]


def _local_slopes(x, y, w, h=LOCAL_HALF_WIDTH):
    """Weighted LS slope over [x_k - h, x_k + h] at every bin, and 1/Sxx (NaN with < 4 bins)."""
    xc = x - x.mean()
    c = [np.concatenate([[0.0], np.cumsum(v)]) for v in (w, w * xc, w * xc * xc, w * y, w * xc * y)]
    a = np.searchsorted(x, x - h - 1e-9)
    b = np.searchsorted(x, x + h + 1e-9)
    S0, S1, S2, T0, T1 = (v[b] - v[a] for v in c)
    with np.errstate(invalid="ignore", divide="ignore"):
        sxx = S2 - S1 * S1 / S0
        ok = (b - a >= 4) & (sxx > 0)
        return np.where(ok, (T1 - S1 * T0 / S0) / sxx, np.nan), np.where(ok, 1 / sxx, np.nan)


def _slope_ranges(x, s, i, j, h=LOCAL_HALF_WIDTH):
    """max - min of the local slopes s_k whose +-h span lies inside each window [x_i, x_j] (0 if none)."""
    lo_k = np.searchsorted(x - h, x - 1e-9)  # first k with x_k - h >= x_i, per i
    hi_k = np.searchsorted(x + h, x + 1e-9) - 1  # last k with x_k + h <= x_j, per j
    out = np.zeros(len(i))
    hi_s, lo_s = np.where(np.isnan(s), -np.inf, s), np.where(np.isnan(s), np.inf, s)
    for start in np.unique(i):
        k0 = lo_k[start]
        sel = np.flatnonzero(i == start)
        k1 = hi_k[j[sel]]
        good = k1 >= k0
        if k0 >= len(x) or not good.any():
            continue
        cmax = np.maximum.accumulate(hi_s[k0:])
        cmin = np.minimum.accumulate(lo_s[k0:])
        r = cmax[k1[good] - k0] - cmin[k1[good] - k0]
        out[sel[good]] = np.where(np.isfinite(r), r, 0.0)
    return out


def _range_slack(n_local, noise_cap, inv_sxx):
    """Noise allowance for the range of n_local local slopes: an extreme-value multiple of their
    standard error (with the same correlated-noise cap as the drift)."""
    se = noise_cap * math.sqrt(2 * np.nanmax(inv_sxx)) if np.any(np.isfinite(inv_sxx)) else 0.0
    return 2 * math.sqrt(2 * math.log(n_local + 1)) * se


def _select_window(x, y, w, min_decades, tol, noise_cap, min_slope, ls, slack):
    """Longest window of >= min_decades whose slope drift is within tol (relative) up to noise.

    Returns (i, j, reasons). Without such a window, the flattest window of min_decades is
    returned with a "no plateau" reason (the whole range when it is shorter than that).
    """
    i, j = np.triu_indices(len(x), k=5)
    slope, drift, se_drift, L = _window_stats(x, y, w, noise_cap, i, j)
    if L.max() < min_decades - 1e-9:
        k = np.argmax(L)
        return i[k], j[k], []  # too short a curve: flagged by the caller
    spread = _slope_ranges(x, ls, i, j)
    allowed = tol * np.maximum(np.abs(slope), 0.1)
    excess = np.maximum(np.abs(drift) - 2 * se_drift, spread - slack)  # the larger sign of drift
    rel = np.maximum(excess, 0) / np.maximum(np.abs(slope), 0.1)
    decaying = -slope >= min_slope  # neither the P_inf floor nor a growing stretch
    flat = (excess <= allowed) & (L >= min_decades - 1e-9) & decaying
    if not flat.any():
        long_enough = L >= min_decades - 1e-9
        steep = long_enough & decaying
        ok = np.flatnonzero(steep if steep.any() else long_enough)  # not the P_inf floor if avoidable
        k = ok[np.argmin(rel[ok] + 1e-3 * (L[ok] - min_decades))]
        return i[k], j[k], [f"no plateau: the local log-log slope drifts by more than {tol:g} (relative) "
                            f"on every window of {min_decades:g} decade(s)"]
    cand = np.flatnonzero(flat)
    near = cand[L[cand] >= L[cand].max() - 0.1]  # among the longest, the flattest
    k = near[np.argmin(excess[near])]
    return i[k], j[k], []


# ---- public fits ----------------------------------------------------------------------------
def power_law(t, P, window=None, *, p_inf=0.0, theory=None, saturation=2.0, min_decades=1.0, tol=0.05,
              level=0.95, per_decade=20, min_slope=0.05) -> PowerLawFit:
    """Fit P(t) ~ C t^-a (of P - p_inf when p_inf is given) by least squares in log-log.

    window: (t_lo, t_hi) to fit on; None selects the longest window on which the local slope is
    flat to a relative tolerance `tol` (up to noise).
    theory: a plrf.theory.shape(alpha, beta, optimizer, d) of this curve: with window=None that
    search runs inside theory's window (its longest decaying stretch trimmed by 1 decade at each
    end), and the result carries the term theory gives the window and its predicted exponent
    (`term`, `theory`). level: confidence level of `interval`.
    A fit is flagged unreliable when its window spans fewer than min_decades decades, when no
    plateau exists, when |exponent| < min_slope (the curve is flat: P_inf dominates; subtract it
    or use saturated()), when the window is saturated (see the module docstring; saturation=None
    turns that check off), or when theory gives part of the window to another term.
    """
    level = _level(level)
    bounds = theory.window() if theory is not None and window is None else window  # where to look
    if saturation is not None:
        saturation = check.finite("saturation", saturation)
        if saturation < 1:
            raise ValueError(f"saturation must be >= 1 (a factor above the floor p_inf), or None; got {saturation}")
    per_decade = check.integer("per_decade", per_decade, 1, 10**6)
    min_decades = check.positive("min_decades", min_decades)
    tol = check.positive("tol", tol)
    min_slope = check.finite("min_slope", min_slope)
    if min_slope < 0:
        raise ValueError(f"min_slope must be >= 0, got {min_slope}")
    tt, yy, nonpos = _prepare(t, P, bounds, check.finite("p_inf", p_inf))
    x, ly, w = _bin(tt, yy, per_decade)
    if len(x) < 6:
        raise ValueError(f"t: need points in at least 6 distinct log-t bins (1/{per_decade} decade) in the window, "
                         f"got {len(x)}")
    if window is None:  # the window search scores every pair of bins
        check.memory(WINDOW_BYTES * len(x) ** 2 / 2, f"per_decade={per_decade} ({len(x)} log-t bins to search)",
                     "use a smaller per_decade, or give window=")
    reasons = [] if not nonpos else [f"{nonpos} point(s) with P <= p_inf were dropped"]
    noise_cap = NOISE_CAP_FACTOR * _roughness(x, ly, w)
    ls, inv_sxx = _local_slopes(x, ly, w)
    slack = _range_slack(len(x), noise_cap, inv_sxx)
    lo, hi = 0, len(x) - 1
    if window is None:
        lo, hi, why = _select_window(x, ly, w, min_decades, tol, noise_cap, min_slope, ls, slack)
        reasons += why
    ends = (np.array([lo]), np.array([hi]))
    _, drift, se_drift, _ = (float(v[0]) for v in _window_stats(x, ly, w, noise_cap, *ends))
    excess = max(abs(drift) - 2 * se_drift, float(_slope_ranges(x, ls, *ends)[0]) - slack, 0.0)
    xs, ys, ws = x[lo : hi + 1], ly[lo : hi + 1], w[lo : hi + 1]
    coef, J, r = _wls(xs, ys, ws, 1)
    cov, n_eff = _hac_cov(J, r, ws)
    half = math.hypot(_t_quantile(level, int(n_eff) - 2) * math.sqrt(max(cov[1, 1], 0)), excess / 2)
    a = -coef[1]
    xm = np.average(xs, weights=ws)
    fit = PowerLawFit(a, (a - half, a + half), (10 ** xs[0], 10 ** xs[-1]), 10 ** (coef[0] - coef[1] * xm),
                      -drift, level, len(xs), reasons=reasons)
    inside = np.isfinite(ls) & (x - LOCAL_HALF_WIDTH >= x[lo] - 1e-9) & (x + LOCAL_HALF_WIDTH <= x[hi] + 1e-9)
    fit.slope_range = (float(np.min(-ls[inside])), float(np.max(-ls[inside]))) if inside.any() else (a, a)
    if saturation is not None:
        fit.reasons += _saturation(t, P, fit.window[0], p_inf, saturation, min_slope)
    if theory is not None:
        fit.reasons += _regime(fit, theory)
    _flag_power_law(fit, min_decades, tol, excess, min_slope)
    return fit


def _saturation(t, P, t_lo, p_inf, factor, min_slope) -> list:
    """The "saturated" reason (or none) for a window starting at t_lo (module docstring, Regime)."""
    t, P = np.asarray(t, dtype=np.float64), np.asarray(P, dtype=np.float64)
    ok = np.isfinite(t) & np.isfinite(P) & (t > 0) & (P > 0)
    order = np.argsort(t[ok])
    t, P = t[ok][order], P[ok][order]
    start = np.searchsorted(t, t_lo * (1 - 1e-9))
    p_lo = float(np.exp(np.mean(np.log(P[start : start + 3]))))  # a few points: robust to noise
    floors = [("its floor p_inf", p_inf)] if p_inf > 0 else []
    final = float(np.exp(np.mean(np.log(P[t >= t[-1] / 10**0.05]))))  # the last 0.05 decade
    if t[-1] >= 10 * t[0] and np.interp(math.log(t[-1] / 10), np.log(t), np.log(P)) - math.log(final) < (
            min_slope * math.log(10)):
        floors.append(("the curve's final level", final))  # the curve ends flat: its last level is a floor
    for name, floor in floors:
        if p_lo < factor * floor:
            first = t[np.argmax(P < factor * floor)]
            return [f"saturated: P is within a factor {p_lo / floor:.3g} of {name} ({floor:.3g}) at the window's "
                    f"start (P < {factor:g} x that from t = {first:.3g} on: the floor dominates); fit before that, "
                    "or inside theory's window (theory=plrf.theory.shape(...))"]
    return []


def _regime(fit, shape) -> list:
    """Name the term theory gives the window (fit.term, fit.theory); a reason if another term holds
    more than the crossover-time uncertainty (DEFAULT_MARGIN decades) of it."""
    from .theory.shape import DEFAULT_MARGIN

    lo, hi = np.log10(fit.window)
    share = {}
    for s in shape.stretches:
        a, b = math.log10(max(s.t_start, 1.0)), math.log10(s.t_end) if math.isfinite(s.t_end) else math.inf
        share[s] = max(0.0, min(hi, b) - max(lo, a))
    main = max(share, key=share.get)
    fit.term, fit.theory = main.label, main.slope
    out = []
    for s, dec in share.items():
        if dec <= DEFAULT_MARGIN or (s is main and s.term != "F_0"):
            continue
        if s.term == "F_0":
            out.append(f"saturated: theory says the limit loss F_0 dominates from t ~ {s.t_start:.3g} "
                       f"(d^{s.k_start:.3g}, up to an O(1) factor) on, {dec:.2f} decades of the window")
        else:
            out.append(f"regime: theory says {s.label} (t^-{s.slope:.3g}) dominates {dec:.2f} decades of the "
                       f"window, not {main.label}")
    return out


def learning_rate(curve, window=None, **kwargs) -> PowerLawFit:
    """Fit lr(t) ~ C t^-a to the learning-rate curve of a run with a step-size controller
    (docs/adaptive.md): Curve.lr, or the mean over the non-diverged seeds of Curves.lr. The keywords
    are power_law's; a constant learning rate (|a| < min_slope) is flagged as flat, and a window
    where lr has settled near its final level (the curve ends flat) as saturated."""
    lr = getattr(curve, "lr", None)
    if lr is None:
        raise ValueError("curve has no learning-rate curve: run simulate or exact_risk with controller=")
    lr = np.asarray(lr, dtype=np.float64)
    if lr.ndim == 2:
        lr = lr[curve.ok].mean(axis=0) if curve.ok.any() else np.full(lr.shape[1], np.nan)
    return power_law(curve.steps, lr, window, **kwargs)  # step 0 (NaN) is dropped with the non-finite points


def _flag_power_law(fit, min_decades, tol, excess, min_slope):
    if fit.decades < min_decades - 1e-9:
        fit.reasons.append(f"window spans only {fit.decades:.2f} decades (< {min_decades:g})")
    if fit.exponent <= -min_slope:
        fit.reasons.append(f"growing curve: P increases with t on the window (exponent {fit.exponent:.3g} < 0)")
    elif abs(fit.exponent) < min_slope:
        fit.reasons.append(f"P_inf dominating: the curve is nearly flat (exponent {fit.exponent:.3g}); "
                           "subtract P_inf or use plrf.fit.saturated")
    elif excess > tol * max(abs(fit.exponent), 0.1) and not any("plateau" in r for r in fit.reasons):
        fit.reasons.append(f"no plateau: the local exponent ranges over [{fit.slope_range[0]:.3f}, "
                           f"{fit.slope_range[1]:.3f}] in the window")
    fit.reliable = not any(r.startswith(("window", "P_inf", "no plateau", "growing", "saturated", "regime"))
                           for r in fit.reasons)


def saturated(t, P, window=None, *, level=0.95, per_decade=20, min_decades=1.0, min_fraction=0.1,
              max_iter=200) -> SaturatedFit:
    """Fit P(t) = P_inf + c t^-a (Levenberg-Marquardt on log P, so every decade counts alike).

    Flagged unreliable when the power-law part c t^-a exceeds min_fraction of P on fewer than
    min_decades decades of the window (P_inf dominating), when the window is too short, or when
    the interval of a is wider than a itself.
    """
    level = _level(level)
    per_decade = check.integer("per_decade", per_decade, 1, 10**6)
    min_decades = check.positive("min_decades", min_decades)
    min_fraction = check.finite("min_fraction", min_fraction)
    if not 0 < min_fraction < 1:
        raise ValueError(f"min_fraction must be in (0, 1), got {min_fraction}")
    max_iter = check.integer("max_iter", max_iter, 1, 10**6)
    tt, PP, _ = _prepare(t, P, window)
    x, ly, w = _bin(tt, PP, per_decade)
    if len(x) < 5:
        raise ValueError(f"t: need points in at least 5 distinct log-t bins in the window, got {len(x)}")
    lt, y = x * math.log(10), ly * math.log(10)  # natural logs
    if np.ptp(y) <= FLAT_RTOL:  # a constant curve: P_inf and c t^-a cannot be told apart at a = 0
        return _flat_saturated(float(np.exp(np.average(y, weights=w))), (10 ** x[0], 10 ** x[-1]), level, len(x))
    theta = _saturated_start(lt, y, w)
    theta = _levenberg_marquardt(lt, y, w, theta, max_iter)
    J, r = _saturated_jacobian(lt, y, theta)
    cov, n_eff = _hac_cov(J, r, w)
    q = _t_quantile(level, int(n_eff) - 3)
    p_inf, logc, a = theta
    ha, hp = q * math.sqrt(max(cov[2, 2], 0)), q * math.sqrt(max(cov[0, 0], 0))
    fit = SaturatedFit(a, (a - ha, a + ha), p_inf, (p_inf - hp, p_inf + hp), math.exp(logc),
                       (10 ** x[0], 10 ** x[-1]), level, len(x))
    frac = np.exp(logc - a * lt) / np.exp(y)  # share of the power-law part in P
    informative = np.ptp(x[frac >= min_fraction]) if np.any(frac >= min_fraction) else 0.0
    if x[-1] - x[0] < min_decades - 1e-9:
        fit.reasons.append(f"window spans only {x[-1] - x[0]:.2f} decades (< {min_decades:g})")
    if informative < min_decades:
        fit.reasons.append(f"P_inf dominating: the power-law part exceeds {min_fraction:g} of P on only "
                           f"{informative:.2f} decades")
    if ha > abs(a):
        fit.reasons.append("exponent poorly determined: its interval is wider than the exponent")
    if a < 0:
        fit.reasons.append(f"growing curve: P - P_inf increases with t (exponent {a:.3g} < 0)")
    fit.reliable = not fit.reasons
    return fit


def _flat_saturated(level_p, window, level, n) -> SaturatedFit:
    """A constant curve is all floor: P_inf is its value, and it has no exponent to fit."""
    nan = (math.nan, math.nan)
    return SaturatedFit(math.nan, nan, level_p, (level_p, level_p), 0.0, window, level, n, reliable=False,
                        reasons=[f"flat curve: P is constant ({level_p:.6g}) on the window, so P_inf = P and "
                                 "there is no exponent to fit"])


def _saturated_start(lt, y, w):
    """Profile the start point over P_inf on a grid below min P (including 0)."""
    pmin = math.exp(y.min())
    best = None
    for p in np.concatenate([[0.0], pmin * (1 - np.geomspace(1e-3, 1, 40)[::-1])]):
        ex = np.exp(y) - p
        if np.any(ex <= 0):
            continue
        coef, _, _ = _wls(lt, np.log(ex), w, 1)
        xm = np.average(lt, weights=w)
        theta = np.array([p, coef[0] - coef[1] * xm, -coef[1]])
        sse = np.sum(w * _saturated_jacobian(lt, y, theta)[1] ** 2)
        if best is None or sse < best[0]:
            best = (sse, theta)
    return best[1]


def _saturated_jacobian(lt, y, theta):
    """Jacobian of m = log(P_inf + c t^-a) in (P_inf, log c, a), and residuals y - m."""
    p_inf, logc, a = theta
    g = np.exp(logc - a * lt)
    M = p_inf + g
    J = np.stack([1 / M, g / M, -lt * g / M], axis=1)
    return J, y - np.log(M)


def _levenberg_marquardt(lt, y, w, theta, max_iter):
    lam = 1e-3
    J, r = _saturated_jacobian(lt, y, theta)
    sse = np.sum(w * r * r)
    for _ in range(max_iter):
        A = J.T @ (w[:, None] * J)
        g = J.T @ (w * r)
        step = np.linalg.solve(A + lam * np.diag(np.diag(A)) + 1e-300, g)
        cand = theta + step
        cand[0] = max(cand[0], 0.0)  # P_inf >= 0
        Jc, rc = _saturated_jacobian(lt, y, cand)
        sc = np.sum(w * rc * rc) if np.all(np.isfinite(rc)) else np.inf
        if sc < sse:
            small = np.all(np.abs(cand - theta) <= 1e-13 * (np.abs(theta) + 1e-300))
            theta, J, r, sse, lam = cand, Jc, rc, sc, lam / 3
            if small or sse == 0.0:
                break
        else:
            lam *= 4
            if lam > 1e12:
                break
    return theta
