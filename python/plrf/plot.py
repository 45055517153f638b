"""Figures for scaling-law work (matplotlib, an optional extra: pip install "plrf[plot]").

- curves(...):        loss curves, Monte Carlo seed bands (mean and quantile band) over exact curves
- frontier(...):      loss against flops for every d with the compute-optimal envelope, IsoFLOP
                      profiles, and d*(f) with the fitted power laws
- phase_diagram(...): the (alpha, beta) plane with the SGD phases and a heat map of theoretical
                      (or measured) exponents
All axes are log-log where it makes sense, flops = steps x B x d. Every function returns the
matplotlib Figure; pass path= to also write it (PNG, PDF, ... by extension).
"""
from __future__ import annotations

import math

import numpy as np

from . import _validate as check

__all__ = ["curves", "frontier", "phase_diagram"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt  # headless machines fall back to the Agg backend by themselves
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('plrf.plot needs matplotlib: pip install "plrf[plot]" (or pip install matplotlib)') from exc
    return plt


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:  # a regular file is replaced, as matplotlib does; a special file never
        from ._paths import figure_path

        fig.savefig(figure_path("path", path), dpi=120)
    return fig


def _positive(steps, risk):
    steps = np.asarray(steps, dtype=float)
    keep = steps > 0  # log axes: the initial risk at step 0 is not drawn
    return steps[keep], np.asarray(risk, dtype=float)[..., keep]


# ---- loss curves ------------------------------------------------------------------------------
_YLABEL = {"risk": "risk P (half the MSE)", "lr": "learning-rate multiplier m_t"}


def curves(items, exact=None, *, band=(0.1, 0.9), labels=None, ax=None, title=None, path=None, quantity="risk",
           shape=None):
    """Loss curves: each plrf.Curves as its seed mean with a quantile band, each plrf.Curve as a line.

    items: a Curve/Curves, or a list or {label: curve} mapping of them (may be empty when exact is given).
    exact: optional Curve (or list/mapping); the i-th is drawn dashed in the colour of the i-th item, and
    those beyond the items in colours of their own. Each exact curve is labelled by what it is, from its
    meta: "exact E[P]" (method "exact"), "E[P], fast solver", or "approximate" for the ODE, continuous-time
    models and deterministic equivalents (meta["approximation"]). A figure with nothing to draw is refused.
    quantity: "risk", or "lr" for the learning-rate curves of runs with a step-size controller.
    shape: a plrf.theory.shape(...) of these curves (True: read from the first curve's meta): its
    stretches are shaded in alternating grey with their term and predicted slope, each crossover a
    dotted line at t = c d^k (c: theory's, 1 if unknown).
    """
    band = check.interval("band", band, 0.0, 1.0, closed=True)
    check.choice("quantity", quantity, tuple(_YLABEL))
    names, objs = _labelled(items, labels)
    exact_names, exacts = _labelled(exact, None, "exact") if exact is not None else ([], [])
    if not objs and not exacts:
        raise ValueError("plot.curves: nothing to draw (items and exact are both empty)")
    plt = _pyplot()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6.4, 4.4))
    for i, (name, c) in enumerate(zip(names, objs)):
        color = f"C{i}"
        if hasattr(c, "seeds"):
            t, r = _positive(c.steps, _values(c, quantity)[c.ok])
            lo, hi = np.quantile(r, band, axis=0)
            ax.fill_between(t, lo, hi, color=color, alpha=0.25, lw=0,
                            label=f"{name}: {int(band[0] * 100)}-{int(band[1] * 100)}% of {r.shape[0]} seeds")
            ax.plot(t, r.mean(axis=0), color=color, lw=1.2, label=f"{name}: seed mean")
        else:
            t, r = _positive(c.steps, _values(c, quantity))
            ax.plot(t, r, color=color, lw=1.5, label=f"{name} ({_what(c)})" if _approximate(c) else name)
    for i, c in enumerate(exacts):
        t, r = _positive(c.steps, _values(c, quantity))
        paired = i < len(objs)
        color = ("k" if len(objs) == 1 else f"C{i}") if paired else f"C{len(objs) + i}"
        what = _what(c) if quantity == "risk" else "reference" + (" (approximate)" if _approximate(c) else "")
        ax.plot(t, r, color=color, ls="--" if paired else "-", lw=1.0 if paired else 1.5,
                label=f"{names[i] if paired else exact_names[i]}: {what}")
    ax.set(xscale="log", yscale="log", xlabel="steps t", ylabel=_YLABEL[quantity], title=title)
    if shape is True:
        from .shape_fit import shape_of

        shape = shape_of((objs + exacts)[0])
    if shape is not None and shape is not False:
        _shape_overlay(ax, shape)
    ax.grid(True, which="major", alpha=0.3)
    _legend(ax, fontsize=8)
    return _finish(fig, path)


def _shape_overlay(ax, shape):
    """Theory's stretches over the drawn range: shaded spans labelled "term t^-slope", crossover lines."""
    if not hasattr(shape, "stretches"):
        raise ValueError(f"shape must be a plrf.theory.shape(...) result, got {type(shape).__name__}")
    lo, hi = ax.get_xlim()
    for i, s in enumerate(shape.stretches):
        a, b = max(s.t_start, lo), min(s.t_end, hi)
        if not b > a:
            continue
        ax.axvspan(a, b, color="0.5", alpha=0.08 if i % 2 else 0.16, lw=0)
        ax.text(math.sqrt(a * b), 0.02, f"{s.label} {s.law}", transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontsize=7, rotation=90)
        if i > 0 and s.t_start > lo:
            ax.axvline(s.t_start, color="0.3", ls=":", lw=0.8)
    ax.set_xlim(lo, hi)


def _approximate(c) -> bool:
    """An approximation of the discrete run's expected risk, by its meta (docs/exact.md, docs/adaptive.md)."""
    meta = getattr(c, "meta", {}) or {}
    return bool(meta.get("approximation")) or meta.get("method") in ("ode", "continuous")


def _what(c) -> str:
    """What an expected-risk curve is, from its meta: never "exact" for an approximation."""
    meta = getattr(c, "meta", {}) or {}
    if meta.get("approximation"):
        return f"{meta['approximation']} (approximate)"
    method = meta.get("method")
    if method == "ode":
        return "continuized ODE (approximate)"
    if method == "continuous":
        return f"{meta.get('model', 'continuous-time')} model of SGD (approximate)"
    if method == "fast":
        return "E[P], fast solver"
    return "exact E[P]" if method == "exact" else "reference"


def _values(c, quantity):
    y = getattr(c, quantity, None)
    if y is None:
        raise ValueError(f"quantity={quantity!r}: a curve has no {quantity} (learning rates need controller=)")
    return y


def _labelled(items, labels, name="items"):
    objs = list(items.values()) if isinstance(items, dict) else list(items) if isinstance(items, (list, tuple)) else [items]
    for i, c in enumerate(objs):
        if not (hasattr(c, "steps") and hasattr(c, "risk")):
            raise ValueError(f"{name}[{i}] must be a plrf.Curve or plrf.Curves, got {type(c).__name__}")
    if isinstance(items, dict):
        return list(map(str, items)), objs
    if labels is not None and (isinstance(labels, str) or not hasattr(labels, "__len__") or len(labels) != len(objs)):
        raise ValueError(f"labels must be a list of {len(objs)} names (one per item), got {labels!r:.80}")
    names = list(labels) if labels is not None else [
        str(getattr(c, "meta", {}).get("optimizer", getattr(c, "meta", {}).get("label", f"run {i}")))
        for i, c in enumerate(objs)]
    return names, objs


# ---- compute-optimal frontier -------------------------------------------------------------------
def frontier(fr, *, theory=None, n_isoflop=6, title=None, path=None):
    """Three panels: P against flops for every d with the envelope and fits; IsoFLOP profiles
    (P against d at fixed budgets) with their vertices; d*(f) with the fitted power laws.

    fr: a plrf.frontier.Frontier. theory: optional plrf.theory.Optimal drawn as slopes for reference.
    """
    if not hasattr(fr, "approach1") or not hasattr(fr, "isoflop"):
        raise ValueError(f"fr must be a plrf.frontier.Frontier, got {type(fr).__name__}")
    n_isoflop = check.integer("n_isoflop", n_isoflop, 1, 100)
    _check_theory(theory)
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    _frontier_losses(axes[0], fr, theory)
    _isoflop_profiles(axes[1], fr, n_isoflop)
    _d_star(axes[2], fr, theory)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def _check_theory(theory):
    if theory is not None and not all(hasattr(theory, k) for k in ("source", "eta", "xi")):
        raise ValueError(f"theory must be a plrf.theory.Optimal (plrf.theory.compute_optimal), got {type(theory).__name__}")


def _d_colors(plt, d):
    cmap = plt.get_cmap("viridis")
    span = math.log(d[-1] / d[0]) or 1.0
    return [cmap(math.log(x / d[0]) / span) for x in d]


def _frontier_losses(ax, fr, theory):
    import matplotlib.pyplot as plt

    for color, (d, (s, r)) in zip(_d_colors(plt, fr.d), fr.curves.items()):
        ax.plot(s * fr.batch * d, r, color=color, lw=0.8, alpha=0.8)
    ax.plot(fr.flops, fr.envelope, color="k", lw=2.2, alpha=0.6, label="envelope min_d P(f/(Bd), d)")
    if np.any(fr.edge):
        ax.plot(fr.flops[fr.edge], fr.envelope[fr.edge], "x", color="C3", ms=4, label="optimum at d-grid edge")
    for fit, color in ((fr.approach1, "C1"), (fr.isoflop, "C3")):
        if np.isfinite(fit.eta):
            c = np.exp(np.mean(np.log(fit.p_star) + fit.eta * np.log(fit.flops)))
            ax.plot(fit.flops, c * fit.flops**-fit.eta, ls="--", color=color, lw=1.3,
                    label=f"{fit.method}: P* ~ f^-{fit.eta:.3f} [{fit.eta_interval[0]:.3f}, {fit.eta_interval[1]:.3f}]")
    if theory is not None:
        _theory_slope(ax, fr.flops, fr.envelope, -theory.eta, f"theory ({theory.source}): P* ~ f^-{theory.eta:.3f}")
    ax.set(xscale="log", yscale="log", xlabel="flops f = steps x B x d", ylabel="risk P (half the MSE)",
           title=f"loss vs compute, d = {fr.d[0]:g} .. {fr.d[-1]:g}, B = {fr.batch}")
    ax.grid(True, alpha=0.3)
    _legend(ax, fontsize=7)
    _d_colorbar(plt, ax, fr.d)


def _d_colorbar(plt, ax, d):
    """The colour key of the per-d curves (the colours of _d_colors, on a log scale)."""
    from matplotlib.colors import LogNorm

    lo, hi = float(d[0]), float(d[-1]) if d[-1] > d[0] else float(d[0]) * 10
    sm = plt.cm.ScalarMappable(norm=LogNorm(lo, hi), cmap=plt.get_cmap("viridis"))
    ax.figure.colorbar(sm, ax=ax, label="model size d", pad=0.01)


def _theory_slope(ax, x, y, slope, label):
    """The theory's power law x^slope through the middle (in log x) of the finite points (x, y): a
    reference slope, since theory gives the exponent and not the constant."""
    ok = np.isfinite(x) & np.isfinite(y) & (np.asarray(x) > 0) & (np.asarray(y) > 0)
    if not np.any(ok) or not np.isfinite(slope):
        ax.plot([], [], ":", color="k", label=label + " (not drawn: no finite points)")
        return
    x, y = np.asarray(x)[ok], np.asarray(y)[ok]
    mid = len(x) // 2
    ax.plot(x, y[mid] * (x / x[mid]) ** slope, ":", color="k", lw=1.6, label=label)


def _legend(ax, **kw):
    """A legend if anything is labelled (matplotlib warns "No artists with labels" otherwise, e.g. a
    frontier with no interior optimum)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def _isoflop_profiles(ax, fr, n):
    fits = fr.isoflop
    if len(fits.flops) == 0:
        ax.text(0.5, 0.5, "no interior optimum", transform=ax.transAxes, ha="center")
        return
    pick = np.unique(np.round(np.linspace(0, len(fits.flops) - 1, n)).astype(int))
    for j, i in enumerate(pick):
        col = np.flatnonzero(fr.flops == fits.flops[i])[0]
        ok = np.isfinite(fr.risk[:, col])
        ax.plot(fr.d[ok], fr.risk[ok, col], "o-", ms=3, lw=1, color=f"C{j}", label=f"f = {fits.flops[i]:.2g}")
        ax.plot(fits.d_star[i], fits.p_star[i], "*", ms=11, color=f"C{j}", mec="k")
    ax.set(xscale="log", yscale="log", xlabel="model size d", ylabel="risk P at fixed flops",
           title="IsoFLOP profiles (stars: parabola vertices in log d)")
    ax.grid(True, alpha=0.3)
    _legend(ax, fontsize=7)


def _d_star(ax, fr, theory):
    for fit, style in ((fr.approach1, "s"), (fr.isoflop, "o")):
        if len(fit.flops) == 0:
            continue
        ax.plot(fit.flops, fit.d_star, style, ms=3, alpha=0.6, label=f"{fit.method} d*(f)")
        if np.isfinite(fit.xi):
            c = np.exp(np.mean(np.log(fit.d_star) - fit.xi * np.log(fit.flops)))
            ax.plot(fit.flops, c * fit.flops**fit.xi, "--", lw=1.2,
                    label=f"{fit.method}: d* ~ f^{fit.xi:.3f} [{fit.xi_interval[0]:.3f}, {fit.xi_interval[1]:.3f}]")
    fit = fr.isoflop if len(fr.isoflop.flops) else fr.approach1
    if theory is not None:
        _theory_slope(ax, fit.flops, fit.d_star, theory.xi, f"theory ({theory.source}): d* ~ f^{theory.xi:.3f}")
    ax.set(xscale="log", yscale="log", xlabel="flops f = steps x B x d", ylabel="compute-optimal d*",
           title="compute-optimal model size")
    ax.grid(True, alpha=0.3)
    _legend(ax, fontsize=7)


# ---- phase diagram -----------------------------------------------------------------------------
def phase_diagram(quantity="eta", optimizer="sgd", *, measured=None, alpha=(0.02, 1.6), beta=(0.02, 1.6), n=240,
                  ax=None, path=None):
    """The (alpha, beta) plane: docs/theory.md §8 phase boundaries and labels, over a heat map of the theoretical
    compute-optimal exponent `quantity` ("eta" or "xi") of `optimizer` (blank where docs/theory.md §8 has no
    formula). measured: optional {(alpha, beta): value} drawn as annotated dots on the same colour scale.
    """
    from . import theory

    check.choice("quantity", quantity, ("eta", "xi"))
    alpha, beta = check.interval("alpha", alpha), check.interval("beta", beta, -math.inf)
    n = check.integer("n", n, 2, 4000)
    if measured is not None and not isinstance(measured, dict):
        raise ValueError(f"measured must be a dict {{(alpha, beta): value}}, got {type(measured).__name__}")
    plt = _pyplot()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(6.4, 5.4))
    A, Bt = np.meshgrid(np.linspace(*alpha, n), np.linspace(*beta, n))
    Z = np.vectorize(lambda a, b: _theory_value(theory, a, b, optimizer, quantity))(A, Bt)
    vals = [v for v in (measured or {}).values()] + [np.nanmin(Z), np.nanmax(Z)]
    mesh = ax.pcolormesh(A, Bt, Z, shading="auto", cmap="magma", vmin=min(vals), vmax=max(vals))
    fig.colorbar(mesh, ax=ax, label=f"theory {quantity} ({optimizer})")
    _phase_lines(ax, alpha, beta)
    for (a, b), v in (measured or {}).items():
        ax.scatter([a], [b], c=[v], cmap="magma", vmin=min(vals), vmax=max(vals), edgecolors="w", s=60, zorder=5)
        ax.annotate(f"{v:.3f}", (a, b), xytext=(5, 5), textcoords="offset points", color="w", fontsize=8)
    sym = "P* ~ f^-eta" if quantity == "eta" else "d* ~ f^xi"
    ax.set(xlim=alpha, ylim=beta, xlabel="alpha (data exponent)", ylabel="beta (target exponent)",
           title=f"phases of SGD and {quantity} ({sym}, f = steps x B x d)")
    return _finish(fig, path)


def _theory_value(theory, a, b, optimizer, quantity):
    try:
        return getattr(theory.compute_optimal(a, b, optimizer), quantity)
    except (ValueError, NotImplementedError):
        return np.nan


def _phase_lines(ax, alpha, beta):
    from .theory import ALPHA_IV, phase

    kw = dict(color="w", lw=1.0, alpha=0.9)
    a = np.linspace(*alpha, 400)
    ax.plot(a, 0.5 - a, **kw)  # 2(alpha + beta) = 1
    ax.plot([0.5, 0.5], [0, beta[1]], **kw)
    hi = max(alpha[1], beta[1])
    ax.plot([0, hi], [0.5, 0.5], **kw)
    ax.plot([0.5, hi], [0.5, hi], **kw)  # alpha = beta
    for x in (0.25, ALPHA_IV):
        ax.plot([x, x], [0.5, beta[1]], ls=":", **kw)
    for a0, b0 in [(1.1, 0.25), (0.37, 0.3), (0.12, 1.2), (1.25, 0.85), (0.8, 1.35), (0.4, 1.1), (0.27, 1.4)]:
        if alpha[0] < a0 < alpha[1] and beta[0] < b0 < beta[1]:
            ax.text(a0, b0, phase(a0, b0), color="w", ha="center", va="center", fontsize=10, weight="bold")
