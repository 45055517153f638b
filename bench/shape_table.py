"""Regime-aware exponents (issue 24): the slope of each predicted stretch over a d grid, its
d -> infinity limit and a verdict; and the drift of xi, eta with the largest d, extrapolated the same
way -> a section of docs/exponents.md, docs/exponents_dana_constant.png and docs/exponents_drift.png.

Stretch rows: DANA-constant's accelerated stretches in phases Ia and II, and every stretch of SGD in
phase III (where F_pp dominates none). Frontier rows (FRONTIER_CASES): plrf.frontier on the sizes
d <= D for D = 1e6 .. d_max, extrapolated in D.

For DANA-constant (the authors' recipe at B = 1) in phases Ia (alpha = 1, beta = 0.3) and II (alpha = 1,
beta = 0.7): theory spectra compressed into log-lambda nodes (rtol 1e-4, so the cost does not grow with
d), exact expected risk with method="fast", each run to 10x theory's saturation time (at most 1e18
steps, plrf's step limit being 2^62). plrf.theory.shape(..., batch=1) gives the stretches: the clock
crossover at c d (c from the recipe, ~30) and the term crossovers at O(1) d^k. In each accelerated
stretch (F_pp[tau], F_ac[tau]) the slope is fitted by plrf.shape_fit.stretches (the stretch trimmed by
1 decade at each end, plrf.fit.power_law's interval, flagged too short under one decade or at
float64's floor); the limit is plrf.shape_fit.extrapolate over the other sizes: limit - A d^-gamma
with gamma profiled, sigma including half the gap to the 1/log10 d model's limit. Verdict: refuted
when theory is more than 2 sigma from both models' limits; confirmed when within 2 sigma and
2 sigma <= 5% of theory; else "not settled" at the largest d.

    PYTHONPATH=python python bench/shape_table.py            # d = 1e4 .. 1e12 (~3 min on 2 loaded cores)
    PYTHONPATH=python python bench/shape_table.py --quick    # d up to 1e8, printed only
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

import plrf
from plrf import shape_fit, theory
from plrf.cli.bench import machine_line

ACCELERATED = ("F_pp[tau]", "F_ac[tau]")
# (phase, alpha, beta, optimizer, the stretches to fit: None for all decaying ones)
CASES = [("Ia", 1.0, 0.3, "dana_constant", ACCELERATED), ("II", 1.0, 0.7, "dana_constant", ACCELERATED),
         ("III", 0.7, 1.0, "sgd", None)]
# compute-optimal exponents that still drift with d in the rows above (issue 24 item 4)
FRONTIER_CASES = [("Ic", 0.2, 0.7, "sgd"), ("IVa", 0.4, 0.8, "sgd"), ("IVb", 0.27, 0.8, "sgd"),
                  ("Ia", 1.0, 0.3, "dana_constant"), ("II", 1.0, 0.7, "dana_constant")]
STEP_LIMIT = 10**18
DOCS = Path(__file__).resolve().parents[1] / "docs"
BEGIN, END = "<!-- shape_table: begin -->", "<!-- shape_table: end -->"


def run(alpha, beta, name, d):
    """(Curve, Shape) of one size: the exact curve to 10x theory's saturation time (<= STEP_LIMIT)."""
    sh = theory.shape(alpha, beta, name, d=d, batch=1)
    spec = plrf.Spectrum.theory(alpha, beta, d, compress=1e-4)
    steps = int(min(STEP_LIMIT, 10 * sh.t_saturation))
    curve = plrf.exact_risk(spec, plrf.defaults(spec, 1)[name], steps, record=plrf.record_grid(steps, 40),
                            method="fast")
    return curve, sh


def measure(alpha, beta, name, ds, labels):
    """{label: [(d, StretchFit)]} for the stretches named in labels (None: all)."""
    out = {}
    for d in ds:
        curve, sh = run(alpha, beta, name, d)
        for f in shape_fit.stretches(curve, sh):
            if labels is None or f.label in labels:
                out.setdefault(f.label, []).append((d, f))
    return out


def row(ph, alpha, beta, name, label, fits):
    ds = [d for d, _ in fits]
    usable = [(d, f.exponent) for d, f in fits if not (f.too_short or f.rounding)]
    ex = shape_fit.extrapolate([d for d, _ in usable], [v for _, v in usable], fits[0][1].theory)
    cells = " ".join(f"{math.log10(d):.3g}: {f.exponent:.3f}{'*' if f.too_short else ''}{'r' if f.rounding else ''}" if math.isfinite(f.exponent)
                     else f"{math.log10(d):.3g}: -" for d, f in fits)
    lim = f"{ex.limit:.3f} ± {ex.sigma:.3f} (γ {ex.gamma:.2f})" if math.isfinite(ex.sigma) else "-"
    inv = f"{ex.inverse_log:.3f}" if math.isfinite(ex.inverse_log) else "-"
    verdict = ex.verdict if usable else _unmeasurable(fits)
    return (f"| {ph} | {alpha:g} | {beta:g} | {name} | {label} | {fits[0][1].theory:.3f} | {cells} | "
            f"{lim} | {inv} | {verdict} |"), ex, ds


def _unmeasurable(fits) -> str:
    d_max = f"{fits[-1][0]:.0e}"
    if all(f.too_short for _, f in fits if not f.rounding) and not any(f.rounding and not f.too_short for _, f in fits):
        return f"not settled at d = {d_max}: the stretch spans under one decade (after trimming) at every d"
    return (f"not settled at d = {d_max}: where the stretch spans a decade its risk is under float64's floor "
            "(P < 100 eps P(0))")


HEADER = """{begin}
## Regime-aware: per-stretch slopes and drifting exponents, extrapolated in d (issue 24)

Produced by `bench/shape_table.py` ({machine}; {secs:.0f} s, loaded machine; it replaces only this
section, so rerun it after `bench/exponents_table.py`, which rewrites the file).
The rows above measure one slope per run, on the longest plateau at the largest d: for DANA-constant
that is the SGD-like stretch before the clock crossover t ~ 30 d, not the accelerated one theory's
F_pp exponent describes. This section supersedes the "F_pp measured" cells of the rows
Ia / dana_constant (0.803 against 1.600) and II / dana_constant (1.209 against 2.400): here each
accelerated stretch of `plrf.theory.shape(..., batch=1)` is fitted on its own window
(`plrf.shape_fit.stretches`: trimmed by 1 decade at each end) at every d, and its d -> infinity limit
extrapolated as slope(d) = limit - A d^-γ (`plrf.shape_fit.extrapolate`: γ profiled over 0.02..2; at
least 4 usable sizes). The limit of a straight line in 1/log10 d, a slower drift, is shown beside it.
sigma combines in quadrature the spread of the limit over every γ the data allow at 95% (read as
±1.96 sigma), its standard error, and half the gap between the two models' limits (model error). Runs go to 10x
theory's saturation time, at most 1e18 steps. Verdict: refuted when theory is more than 2 sigma from
the limits of both models, confirmed when within 2 sigma of the A d^-γ limit and 2 sigma <= 5% of
theory, else not settled.
Slope cells are log10 d: slope; * marks a stretch under one decade after trimming, r one whose
window reaches P < 100 eps x the run's largest risk (float64's floor: exact curves level off near
1e-17 P(0), so d >= 1e11 cannot be measured to saturation), - one with nothing left to fit; * and r
are left out of the extrapolation.
Phase III, SGD: `plrf.theory.shape` gives F_pp no stretch at all (the SGD noise, t^-1.286, until t ~ d,
then F_ac, t^-0.286), so the "F_pp measured" cell of row III / sgd above (0.298 against 1.714) is
F_ac's slope; the III / sgd rows here supersede it (F_pp's 1.714 is never visible on a curve).

| phase | alpha | beta | optimizer | stretch | theory | slope by log10 d | limit d -> inf (A d^-γ) | limit (1/log d) | verdict |
|---|---|---|---|---|---|---|---|---|---|
"""


def figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for i, ((ph, label), (fits, ex)) in enumerate(results.items()):
        d = np.array([d for d, f in fits], dtype=float)
        v = np.array([f.exponent for _, f in fits])
        lo = np.array([f.interval[0] for _, f in fits])
        hi = np.array([f.interval[1] for _, f in fits])
        short = np.array([f.too_short or f.rounding for _, f in fits])
        x = 1 / np.log10(d)
        c = f"C{i}"
        ax.errorbar(x[~short], v[~short], yerr=[v[~short] - lo[~short], hi[~short] - v[~short]], fmt="o", color=c,
                    ms=4, capsize=2, label=f"{ph} {label}: measured (theory {ex.theory:g})")
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
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def frontier_drift(alpha, beta, name, d_max):
    """[(D, xi, eta)]: plrf.frontier's IsoFLOP fit on the sizes d <= D, for D = 1e6 .. d_max."""
    import warnings

    from plrf.cli.frontier import d_grid, measure_curves
    from plrf.frontier import frontier

    ds = d_grid(100, d_max, int(round(3 * math.log10(d_max / 100))) + 1)  # 3 sizes a decade
    curves = measure_curves(alpha, beta, name, ds, None, 1, log=lambda msg: None)
    out = []
    for D in (d for d in ds if d >= 1e6):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # flags are in the rows above; here only the trend matters
            iso = frontier({d: c for d, c in curves.items() if d <= D}, 1).isoflop
        out.append((D, iso.xi, iso.eta))
    return out


def frontier_row(ph, alpha, beta, name, drift):
    th = theory.compute_optimal(alpha, beta, name)
    D = [r[0] for r in drift]
    cells, exs = [], []
    for i, (q, want) in enumerate((("xi", th.xi), ("eta", th.eta)), start=1):
        ex = shape_fit.extrapolate(D, [r[i] for r in drift], want)
        exs.append(ex)
        cells.append(f"{drift[0][i]:.3f} → {drift[-1][i]:.3f} | {ex.limit:.3f} ± {ex.sigma:.3f} | "
                     f"{ex.inverse_log:.3f} | {want:.3f} | {ex.verdict}")
    return f"| {ph} | {alpha:g} | {beta:g} | {name} | {D[-1]:.0e} | " + " | ".join(cells) + " |", exs


FRONTIER_HEADER = """
### Compute-optimal exponents that drift with d

xi and eta of `plrf.frontier` (IsoFLOP fit, B = 1, the runs of `python -m plrf frontier`: each d until
s = 100 d^(2 alpha), at most 1e18 steps) on the sizes d <= D, for D from 1e6 to the largest d whose
run fits in 1e18 steps (at most 1e12), 3 sizes a decade; the d -> infinity limit is extrapolated from
that drift over D exactly as above. These rows settle the verdicts of the table above for
the same (phase, optimizer), which compared the value at d = 1e9 (and its drift from d_max / 100) with theory.

| phase | alpha | beta | optimizer | D max | xi (D = 1e6 → D max) | xi limit | xi (1/log d) | xi theory | xi verdict | eta (1e6 → D max) | eta limit | eta (1/log d) | eta theory | eta verdict |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def drift_figure(drifts, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for i, ((ph, alpha, beta, name), (drift, exs)) in enumerate(drifts.items()):
        x = 1 / np.log10([r[0] for r in drift])
        for j, ax in enumerate(axes):
            ex = exs[j]
            ax.plot(x, [r[j + 1] for r in drift], "o-", color=f"C{i}", ms=3, label=f"{ph} {name}: {ex.verdict}")
            ax.errorbar([0], [ex.limit], yerr=[2 * ex.sigma], fmt="s", color=f"C{i}", capsize=3)
            ax.plot([0, x.max()], [ex.theory] * 2, ":", color=f"C{i}", lw=0.8)
    for ax, q in zip(axes, ("xi", "eta")):
        ax.set(xlabel="1 / log10 D  (fit on d <= D; 0: the limit ± 2 sigma)", ylabel=q,
               title=f"{q}: drift with the largest d, extrapolated (dotted: theory)")
        ax.text(0.99, 0.01, f"bench/shape_table.py, plrf {plrf.__version__}", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=7, color="0.4")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_section(out, text):
    """Replace this table's section of out (between its markers), or append it."""
    old = out.read_text() if out.exists() else ""
    if BEGIN in old and END in old:
        new = old[: old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    out.write_text(new)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="d = 1e4 .. 1e8; printed, no file written")
    p.add_argument("--out", default=str(DOCS / "exponents.md"))
    p.add_argument("--figure", default=str(DOCS / "exponents_dana_constant.png"))
    args = p.parse_args(argv)
    print(f"plrf {plrf.__version__}, isa {plrf._core.isa()} ({machine_line()})", flush=True)
    ds = [int(10**e) for e in np.arange(4, 8.01 if args.quick else 12.01, 0.5)]
    t0, lines, results = time.perf_counter(), [], {}
    for ph, alpha, beta, name, labels in CASES:
        for label, fits in measure(alpha, beta, name, ds, labels).items():
            line, ex, _ = row(ph, alpha, beta, name, label, fits)
            results[(ph, label)] = (fits, ex)
            lines.append(line)
            print(line, flush=True)
    drift_lines, drifts = [], {}
    for ph, alpha, beta, name in FRONTIER_CASES:
        d_max = min(1e8 if args.quick else 1e12, (STEP_LIMIT / 100) ** (1 / (2 * alpha)))
        drift = frontier_drift(alpha, beta, name, d_max)
        line, exs = frontier_row(ph, alpha, beta, name, drift)
        drifts[(ph, alpha, beta, name)] = (drift, exs)
        drift_lines.append(line)
        print(line, flush=True)
    if args.quick:
        return 0
    drift_path = Path(args.figure).with_name("exponents_drift.png")
    text = HEADER.format(begin=BEGIN, machine=machine_line(), secs=time.perf_counter() - t0)
    text += "\n".join(lines) + f"\n\n![Per-stretch slopes against 1/log10 d]({Path(args.figure).name})\n"
    text += FRONTIER_HEADER + "\n".join(drift_lines) + f"\n\n![xi and eta against 1/log10 D]({drift_path.name})\n{END}"
    write_section(Path(args.out), text)
    figure(results, args.figure)
    drift_figure(drifts, drift_path)
    print(f"wrote {args.out}, {args.figure} and {drift_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
