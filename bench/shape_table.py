"""Per-stretch slopes over d (issue 24): the slope of each predicted stretch of a loss curve on a d
grid, its d -> infinity limit and a verdict -> the "per-stretch" section of docs/exponents.md and
docs/exponents_dana_constant.png. bench/exponents_table.py runs it and writes the whole file.

Rows: DANA-constant's and DANA-decaying's accelerated stretches in phases Ia (alpha = 1, beta = 0.3)
and II (alpha = 1, beta = 0.7), the authors' recipe at B = 1, and every stretch of SGD in phase III
(alpha = 0.7, beta = 1), where F_pp dominates none. Theory spectra compressed into log-lambda nodes (rtol 1e-4, so the cost
does not grow with d), exact expected risk with method="fast", each run to 10x theory's saturation
time (at most 1e18 steps, plrf's step limit being 2^62). plrf.theory.shape(..., batch=1) gives the
stretches; plrf.shape_fit.stretches fits each on the stretch trimmed by 1 decade at each end and
stopped at plrf.shape_fit.damping_floor (DANA: t = 1.2e16, where float64 no longer holds the
momentum damping 1 - Delta_t); plrf.shape_fit.extrapolate gives the limit and the verdict.

    PYTHONPATH=python python bench/shape_table.py --quick    # d up to 1e8, printed only
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

import plrf
from plrf import shape_fit, theory
from plrf.cli.bench import machine_line

ACCELERATED = ("F_pp[tau]", "F_ac[tau]")
# (phase, alpha, beta, optimizer, the stretches to fit: None for all decaying ones)
MARGIN = 1.0  # decades trimmed at each end of a stretch
# (phase, alpha, beta, optimizer, stretches to fit (None: all), margin); the second II row trims only
# half a decade: F_ac[tau] never spans a decade after a full trim before the damping floor
CASES = [("Ia", 1.0, 0.3, "dana_constant", ACCELERATED, MARGIN),
         ("II", 1.0, 0.7, "dana_constant", ACCELERATED, MARGIN),
         ("II", 1.0, 0.7, "dana_constant", ("F_ac[tau]",), 0.5),
         ("Ia", 1.0, 0.3, "dana_decaying", ACCELERATED, MARGIN),
         ("II", 1.0, 0.7, "dana_decaying", ACCELERATED, MARGIN),         ("III", 0.7, 1.0, "sgd", None, MARGIN)]
STEP_LIMIT = 10**18


def run(alpha, beta, name, d):
    """(Curve, Shape, damping floor) of one size: the exact curve to 10x theory's saturation time (<= STEP_LIMIT)."""
    sh = theory.shape(alpha, beta, name, d=d, batch=1)
    spec = plrf.Spectrum.theory(alpha, beta, d, compress=1e-4)
    opt = plrf.defaults(spec, 1)[name]
    steps = int(min(STEP_LIMIT, 10 * sh.t_saturation))
    curve = plrf.exact_risk(spec, opt, steps, record=plrf.record_grid(steps, 40), method="fast")
    return curve, sh, shape_fit.damping_floor(opt)


def measure(alpha, beta, name, ds, labels, margin=MARGIN):
    """{label: [(d, StretchFit)]} for the stretches named in labels (None: all)."""
    out = {}
    for d in ds:
        curve, sh, floor = run(alpha, beta, name, d)
        for f in shape_fit.stretches(curve, sh, margin=margin, t_floor=floor):
            if labels is None or f.label in labels:
                out.setdefault(f.label, []).append((d, f))
    return out


def row(ph, alpha, beta, name, label, fits):
    ds = [d for d, _ in fits]
    usable = [(d, f.exponent) for d, f in fits if not (f.too_short or f.clipped)]
    ex = shape_fit.extrapolate([d for d, _ in usable], [v for _, v in usable], fits[0][1].theory)
    cells = " ".join(f"{math.log10(d):.3g}: {f.exponent:.3f}{'*' if f.too_short else ''}{'c' if f.clipped else ''}" if math.isfinite(f.exponent)
                     else f"{math.log10(d):.3g}: -" for d, f in fits)
    lim = f"{ex.limit:.3f} ± {ex.sigma:.3f} (γ {ex.gamma:.2f})" if math.isfinite(ex.sigma) else "-"
    inv = f"{ex.inverse_log:.3f}" if math.isfinite(ex.inverse_log) else "-"
    verdict = ex.verdict if usable else _unmeasurable(fits)
    return (f"| {ph} | {alpha:g} | {beta:g} | {name} | {label} | {fits[0][1].theory:.3f} | {cells} | "
            f"{lim} | {inv} | {verdict} |"), ex, ds


def _unmeasurable(fits) -> str:
    clipped = any(f.clipped for _, f in fits)
    return (f"not settled at d = {fits[-1][0]:.0e}: the stretch spans under one decade (after trimming"
            + (", and stopping at the damping floor" if clipped else "") + ") at every d")


HEADER = """
## Per-stretch slopes over d

Produced by `bench/shape_table.py` (run by `bench/exponents_table.py`). A curve has one slope per
stretch of `plrf.theory.shape`, so each stretch is fitted on its own window (`plrf.shape_fit.stretches`:
trimmed by 1 decade at each end) at every d from 1e4 to 1e12, half a decade apart, and its
d -> infinity limit extrapolated as slope(d) = limit - A d^-γ (`plrf.shape_fit.extrapolate`, as in the
main table). Runs go to 10x theory's saturation time, at most 1e18 steps. Windows stop at
`plrf.shape_fit.damping_floor`: DANA's damping Delta_t = 2.6/(1 + t) falls under float64's eps at
t = 1.2e16, and past about 3e16 the curves stop decaying at any risk level (docs/theory.md §9).
Slope cells are log10 d: slope; * marks a window under one decade, c one stopped at the damping
floor (both left out of the extrapolation), - a stretch with nothing left to fit.

- DANA-constant Ia and II: the rows of the main table measure the compute-optimal exponents; here
  the accelerated stretch alone (F_pp[tau], t^-2σ after the clock crossover t ~ 30 d) is fitted. In
  phase II the F_pp[tau] stretch spans 0.214 log10 d - 0.76 decades (from 33 d to 5.74 d^1.214): it
  reaches the 3 decades a fit needs (1 after trimming) only at d ~ 1e17.6, whose horizon (5.7 d^1.5)
  is past both the step limit and the damping floor, so its 2.4 cannot be measured by any run here.
  F_ac[tau] (t^-1, from 5.74 d^1.214 to 5.74 d^1.5: 0.286 log10 d decades) spans a decade after the
  full trim only from d ~ 10^10.5, and from d ~ 1e11 its window meets the damping floor; trimmed by
  half a decade instead (the row "margin 0.5"), it spans a decade from d = 10^7.5 and is extrapolated.
- DANA-decaying Ia and II: its accelerated stretches start after a lead-in of ~150-230 steps and
  drift toward theory from below (its effective time gamma2 t + b t^q becomes t^q only gradually).
- Phase III, SGD: theory gives F_pp no stretch at all (the SGD noise, t^-1.286, until t ~ d, then
  F_ac, t^-0.286): its 1.714 is never visible on a curve, and a single-window slope (0.298 at d = 1e9)
  is F_ac's.

| phase | alpha | beta | optimizer | stretch | theory | slope by log10 d | limit d -> inf (A d^-γ) | limit (1/log d) | verdict |
|---|---|---|---|---|---|---|---|---|---|
"""


def figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 5.2))
    for i, ((ph, name, label), (fits, ex)) in enumerate(results.items()):
        d = np.array([d for d, f in fits], dtype=float)
        v = np.array([f.exponent for _, f in fits])
        lo = np.array([f.interval[0] for _, f in fits])
        hi = np.array([f.interval[1] for _, f in fits])
        short = np.array([f.too_short or f.clipped for _, f in fits])  # left out of the extrapolation
        x = 1 / np.log10(d)
        c = f"C{i}"
        ax.errorbar(x[~short], v[~short], yerr=[v[~short] - lo[~short], hi[~short] - v[~short]], fmt="o", color=c,
                    ms=4, capsize=2, label=f"{ph} {name} {label}: measured (theory {ex.theory:.3g})")
        ax.plot(x[short], v[short], "x", color=c)
        if math.isfinite(ex.sigma):
            xs = np.linspace(1 / 16, x.max(), 50)
            ls = 1 / xs
            ax.plot(xs, ex.limit - (ex.limit - v[~short][-1]) * 10 ** (-ex.gamma * (ls - math.log10(d[~short][-1]))),
                    "--", color=c, lw=0.8)
            ax.errorbar([0], [ex.limit], yerr=[2 * ex.sigma], fmt="s", color=c, capsize=3,
                        label=f"limit {ex.limit:.2f} ± 2σ: {ex.verdict}")
        ax.axhline(ex.theory, color=c, ls=":", lw=0.8)
    ax.set(xlabel="1 / log10 d  (0: d -> infinity)", ylabel="slope of the stretch",
           title="Per-stretch slopes against 1/log10 d")
    ax.text(0.99, 0.01, f"bench/shape_table.py, plrf {plrf.__version__}", transform=ax.transAxes, ha="right",
            va="bottom", fontsize=7, color="0.4")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: the data fill the axes
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def section(ds, figure_path=None):
    """(markdown text of the section, {(phase, label): (fits, Extrapolation)}); draws figure_path if given."""
    lines, results = [], {}
    for ph, alpha, beta, name, labels, margin in CASES:
        for label, fits in measure(alpha, beta, name, ds, labels, margin).items():
            label = label if margin == MARGIN else f"{label}, margin {margin:g}"
            line, ex, _ = row(ph, alpha, beta, name, label, fits)
            results[(ph, name, label)] = (fits, ex)
            lines.append(line)
            print(line, flush=True)
    text = HEADER + "\n".join(lines) + "\n"
    if figure_path is not None:
        figure(results, figure_path)
        text += f"\n![Per-stretch slopes against 1/log10 d]({Path(figure_path).name})\n"
    return text, results


def grid(quick=False):
    return [int(10**e) for e in np.arange(4, 8.01 if quick else 12.01, 0.5)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="d = 1e4 .. 1e8 (else 1e12)")
    args = p.parse_args(argv)
    print(f"plrf {plrf.__version__}, isa {plrf._core.isa()} ({machine_line()})", flush=True)
    section(grid(args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
