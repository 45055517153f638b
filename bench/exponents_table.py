"""Measured scaling exponents against docs/theory.md §8, extrapolated to d -> infinity -> docs/exponents.md
(the whole file, with docs/exponents_plane.png, docs/exponents_drift.png, docs/exponents_dana_constant.png).

For one (alpha, beta) in each phase Ia, Ib, Ic, II, III, IVa, IVb and each optimizer (SGD, SGD-M,
DANA-constant, DANA-decaying): theory spectra (plrf.Spectrum.theory, compressed into log-lambda
nodes, so a run costs the same at every d), exact expected risk with method="fast" and the authors'
default hyperparameters (B = 1), d from 100 to d_max, 3 sizes a decade, each run until
s = gamma t = 100 d^(2 alpha) (the runs of `python -m plrf frontier`); d_max is the largest d whose
run fits in 1e18 steps, at most 1e12. Then, per row:
- stretches: the slope of every decaying stretch of plrf.theory.shape at d_max, each against its
  own term (plrf.shape_fit.stretches), so no row compares one term's slope with another's exponent;
- xi and eta of the compute-optimal frontier (plrf.frontier, IsoFLOP fit) on all sizes, with 95%
  intervals, and on the sizes d <= D for every D from 1e6 to d_max: that drift is extrapolated to
  D -> infinity by plrf.shape_fit.extrapolate (limit - A D^-gamma, gamma profiled; sigma includes
  the gap to a 1/log10 D model and the shift when the largest D is left out);
- a verdict per theory entry on the extrapolated limit: confirmed, refuted, or not settled at d_max.
The per-stretch section (bench/shape_table.py: DANA-constant's accelerated stretches and SGD's phase
III stretches over d = 1e4 .. 1e12) follows the main table.

    PYTHONPATH=python python bench/exponents_table.py            # the whole file (~7 min on 2 cores at load 12)
    PYTHONPATH=python python bench/exponents_table.py --quick    # d up to 1e7, two optimizers, printed only
    PYTHONPATH=python python bench/exponents_table.py --case 0.7 0.7 sgd   # one point, printed only
"""
from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import shape_table

import plrf
from plrf import shape_fit, theory
from plrf.cli.bench import machine_line
from plrf.cli.frontier import d_grid, measure_curves
from plrf.frontier import frontier
from plrf.optim import NAMES

CASES = [(1.0, 0.3), (0.4, 0.3), (0.2, 0.7), (1.0, 0.7), (0.7, 1.0), (0.4, 0.8), (0.27, 0.8)]
PLANE = ("sgd", "dana_decaying")  # the optimizers drawn on the (alpha, beta) plane
# the entries issue 24 left open, drawn in docs/exponents_drift.png
OPEN = [(0.2, 0.7, "sgd"), (0.4, 0.8, "sgd"), (0.27, 0.8, "sgd"), (0.7, 1.0, "sgd"),
        (1.0, 0.3, "dana_constant"), (1.0, 0.7, "dana_constant")]
D_LIMIT, STEP_LIMIT, D_FROM = 1e12, 1e18, 1e6
# sigma's floor for xi and eta: an IsoFLOP fit on 3 sizes a decade is not exact however flat its drift
# (SGD phase II: eta 0.7065 at every D from 1e6 to 1e8, against 0.7059)
RESOLUTION = 0.002
DOCS = Path(__file__).resolve().parents[1] / "docs"


def d_max(alpha):
    """The largest d whose run (s = 100 d^(2 alpha)) fits in STEP_LIMIT steps, at most D_LIMIT."""
    return min(D_LIMIT, (STEP_LIMIT / 100) ** (1 / (2 * alpha)))


def _theory(alpha, beta, name):
    """plrf.theory.compute_optimal, or None where docs/theory.md §8 gives no formula."""
    try:
        return theory.compute_optimal(alpha, beta, name)
    except NotImplementedError:
        return None


def _iso(curves):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the flags are read from the fit (iso.reasons)
        return frontier(curves, 1).isoflop


def measure(alpha, beta, name, top):
    """(stretch fits at d_max or None, IsoFLOP fit on every size, [(D, xi, eta)] for D >= D_FROM)."""
    ds = d_grid(100, top, int(round(3 * math.log10(top / 100))) + 1)
    curves = measure_curves(alpha, beta, name, ds, None, 1, log=lambda msg: None)
    big = curves[ds[-1]]
    try:
        sh = theory.shape(alpha, beta, name, d=ds[-1], batch=1)
    except NotImplementedError:
        fits = None
    else:
        spec = plrf.Spectrum.theory(alpha, beta, 100)  # the recipe's Delta_t does not depend on d
        floor = shape_fit.damping_floor(plrf.defaults(spec, 1)[name])
        fits = shape_fit.stretches(big, sh, t_floor=floor)
    drift = [(D, iso.xi, iso.eta) for D in ds if D >= D_FROM
             for iso in [_iso({d: c for d, c in curves.items() if d <= D})]]
    return fits, _iso(curves), drift


def _stretch_cell(fits):
    if fits is None:
        return "n/a (§8 gives no shape)"
    return "; ".join(f"{f.label} {f.theory:.3g}: " + (
        "-" if not math.isfinite(f.exponent) else
        f"{f.exponent:.3f} [{f.interval[0]:.3f}, {f.interval[1]:.3f}]" + ("*" if f.too_short else "")
        + ("c" if f.clipped else "")) for f in fits)


def extrapolations(drift, th):
    """{"xi": Extrapolation, "eta": ...} of the drift over D against theory (None without theory)."""
    if th is None:
        return None
    D = [r[0] for r in drift]
    return {q: shape_fit.extrapolate(D, [r[i] for r in drift], getattr(th, q), RESOLUTION)
            for i, q in ((1, "xi"), (2, "eta"))}


def row(alpha, beta, name, top, fits, iso, drift):
    th = _theory(alpha, beta, name)
    exs = extrapolations(drift, th)
    cells = []
    for q in ("xi", "eta"):
        v, iv = getattr(iso, q), getattr(iso, f"{q}_interval")
        cell = f"{v:.3f} [{iv[0]:.3f}, {iv[1]:.3f}] | {drift[0][1 if q == 'xi' else 2]:.3f}"
        if exs is None:
            cells.append(cell + " | - | n/a")
        else:
            ex = exs[q]
            cells.append(cell + f" | {ex.limit:.3f} ± {ex.sigma:.3f} ({ex.inverse_log:.3f}) | "
                                f"{getattr(th, q):.3f} ({th.source[0].upper()})")
    verdict = "-" if exs is None else "; ".join(f"{q} {exs[q].verdict}" for q in ("xi", "eta"))
    flags = "; ".join(iso.reasons) or "ok"
    line = (f"| {theory.phase(alpha, beta)} | {alpha:g} | {beta:g} | {name} | {top:.0e} | {_stretch_cell(fits)} | "
            + " | ".join(cells) + f" | {verdict} | {flags} |")
    return line, exs


HEADER = """# Measured scaling exponents vs theory

Produced by `PYTHONPATH=python python bench/exponents_table.py` ({machine}; {secs:.0f} s on 2 shared
cores, the whole file). Theory spectra (`plrf.Spectrum.theory`, compressed into log-lambda nodes: the
cost of a run does not grow with d), exact expected risk with `method="fast"`, default
hyperparameters (`plrf.defaults`, B = 1), d from 100 to d max, 3 sizes a decade; every run goes
until s = gamma t = 100 d^(2 alpha) (past its limit loss), and d max is the largest d whose run fits
in 1e18 steps (1e8 at alpha = 1, 2.7e11 at 0.7, 1e12 below 1/2).

- stretches at d max: the slope of every decaying stretch of `plrf.theory.shape(alpha, beta,
  optimizer, d=d_max, batch=1)`, fitted inside it (`plrf.shape_fit.stretches`: trimmed by 1 decade at
  each end, stopped at DANA's damping floor) against that stretch's own term: "F_pp 0.8: 0.801
  [0.78, 0.82]" is F_pp's t^-0.8 measured as 0.801. * marks a window under one decade, c one stopped
  at the damping floor, - a stretch with nothing left to fit after trimming.
- xi (d* ~ f^xi) and eta (P* ~ f^-eta): `plrf.frontier`'s IsoFLOP fit on every size (flops f =
  steps x B x d), with its 95% block-bootstrap interval, then the same fit on the sizes d <= 1e6
  ("@ 1e6") and on d <= D for every D up to d max.
- limit: that drift over D extrapolated to D -> infinity (`plrf.shape_fit.extrapolate`:
  value(D) = limit - A D^-γ, γ profiled over 0.02..2), ± sigma, with the limit of a straight line in
  1/log10 D in brackets. sigma combines in quadrature the spread of the limit over every γ the data
  allow at 95%, its standard error, half the gap to the 1/log10 D limit, and the shift of the limit
  when the largest D is left out, and is at least 0.002 (an IsoFLOP fit on 3 sizes a decade is not
  exact however flat its drift: SGD's eta in phase II is 0.7065 at every D from 1e6 to 1e8, against
  0.7059).
- theory: `plrf.theory` (docs/theory.md §8, corrected by §9), (D) = derived, (P) = read in the papers;
  n/a = no formula.
- verdict, per theory entry: refuted when theory is more than 2 sigma from both limits; confirmed
  when within 2 sigma of the A D^-γ limit and 2 sigma <= 5% of theory; else not settled at d max.

| phase | alpha | beta | optimizer | d max | stretches at d max: theory: measured [95%] | xi | xi @ 1e6 | xi limit (1/log d) | xi theory | eta | eta @ 1e6 | eta limit (1/log d) | eta theory | verdict | flags |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""

OPEN_HEADER = """
## The entries left open before, settled

The drift of xi and eta with the largest size D, for the entries whose value still moved at d = 1e9
in the previous table (docs/exponents_drift.png); the verdicts are those of the main table. Where
§8's momentum formula is not the optimum of §8's own loss terms, a second row compares the same
limits with the balanced value (`plrf.theory.balance`, docs/theory.md §9.1). Refuted entries are
corrected in docs/theory.md §9.

| phase | alpha | beta | optimizer | xi: D = 1e6 → d max | xi limit | xi theory | xi verdict | eta: D = 1e6 → d max | eta limit | eta theory | eta verdict |
|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def open_rows(alpha, beta, name, drift, exs):
    """The open entry's row against §8's formula and, where they differ, against plrf.theory.balance
    of §8's own loss terms (the rebalanced value of docs/theory.md §9.1)."""
    rows = [_open_row(f"{name}", drift, exs, alpha, beta)]
    bal = theory.balance(theory.loss_terms(alpha, beta, name))
    if max(abs(bal[0] - exs["xi"].theory), abs(bal[1] - exs["eta"].theory)) > 1e-9:
        D = [r[0] for r in drift]
        rebal = {q: shape_fit.extrapolate(D, [r[i] for r in drift], bal[i - 1], RESOLUTION)
                 for i, q in ((1, "xi"), (2, "eta"))}
        rows.append(_open_row(f"{name} (balanced, §9.1)", drift, rebal, alpha, beta))
    return rows


def _open_row(label, drift, exs, alpha, beta):
    cells = []
    for i, q in ((1, "xi"), (2, "eta")):
        ex = exs[q]
        cells.append(f"{drift[0][i]:.3f} → {drift[-1][i]:.3f} | {ex.limit:.3f} ± {ex.sigma:.3f} | {ex.theory:.3f} | "
                     f"{ex.verdict}")
    return f"| {theory.phase(alpha, beta)} | {alpha:g} | {beta:g} | {label} | " + " | ".join(cells) + " |"


def plane_figure(results, path):
    """eta measured (filled) against theory (open) on the (alpha, beta) plane, one panel per optimizer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, len(PLANE), figsize=(6 * len(PLANE), 5), sharey=True)
    a = np.linspace(0.01, 1.6, 200)
    for ax, name in zip(axes, PLANE):
        for x in (0.5, 0.25, 1 - 2**-0.5):
            ax.axvline(x, color="k", ls=":", lw=0.8)
        ax.plot(a, np.full_like(a, 0.5), "k:", lw=0.8)
        ax.plot(a, a, "k--", lw=0.6)
        ax.fill_between(a, 0, np.maximum(0.5 - a, 0), color="0.9")
        for (alpha, beta, opt), (iso, th) in results.items():
            if opt != name:
                continue
            label = f"{iso.eta:.3f}" + ("" if th is None else f"\n({th.eta:.3f})")
            ax.plot(alpha, beta, "o", color="C0" if th is None or abs(iso.eta - th.eta) < 0.02 else "C3")
            ax.annotate(f"{theory.phase(alpha, beta)}: {label}", (alpha, beta), textcoords="offset points",
                        xytext=(5, 4), fontsize=8)
        ax.set(xlim=(0, 1.3), ylim=(0, 1.3), xlabel="alpha", title=f"{name}: eta measured (theory)")
    axes[0].set_ylabel("beta")
    fig.suptitle("Compute-optimal eta on the (alpha, beta) plane, largest d (red: |measured - theory| >= 0.02)")
    _stamp(fig)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)


def _stamp(fig):
    fig.text(0.005, 0.005, f"bench/exponents_table.py, plrf {plrf.__version__}", fontsize=7, color="0.4")


def drift_figure(drifts, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for i, ((alpha, beta, name), (drift, exs)) in enumerate(drifts.items()):
        x = 1 / np.log10([r[0] for r in drift])
        for j, (ax, q) in enumerate(zip(axes, ("xi", "eta"))):
            ex = exs[q]
            ax.plot(x, [r[j + 1] for r in drift], "o-", color=f"C{i}", ms=3,
                    label=f"{theory.phase(alpha, beta)} {name}: {ex.verdict}")
            ax.errorbar([0], [ex.limit], yerr=[2 * ex.sigma], fmt="s", color=f"C{i}", capsize=3)
            ax.plot([0, x.max()], [ex.theory] * 2, ":", color=f"C{i}", lw=0.8)
    for ax, q in zip(axes, ("xi", "eta")):
        ax.set(xlabel="1 / log10 D  (fit on d <= D; 0: the limit ± 2 sigma)", ylabel=q,
               title=f"{q}: drift with the largest d, extrapolated (dotted: theory)")
        ax.legend(fontsize=6)
    _stamp(fig)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="d up to 1e7, SGD and DANA-decaying only, printed only")
    p.add_argument("--out", default=str(DOCS / "exponents.md"))
    p.add_argument("--case", nargs=3, action="append", metavar=("ALPHA", "BETA", "OPTIMIZER"),
                   help="measure only this point (repeatable) and print its row; no file is written")
    args = p.parse_args(argv)
    print(machine_line(), flush=True)
    for alpha, beta, name in args.case or ():
        alpha, beta = float(alpha), float(beta)
        print(row(alpha, beta, name, d_max(alpha), *measure(alpha, beta, name, d_max(alpha)))[0], flush=True)
    if args.case:
        return 0
    t0, lines, results, drifts, open_lines = time.perf_counter(), [], {}, {}, []
    for alpha, beta in CASES:
        for name in PLANE if args.quick else NAMES:
            t1, top = time.perf_counter(), min(d_max(alpha), 1e7 if args.quick else D_LIMIT)
            fits, iso, drift = measure(alpha, beta, name, top)
            line, exs = row(alpha, beta, name, top, fits, iso, drift)
            results[(alpha, beta, name)] = (iso, _theory(alpha, beta, name))
            if (alpha, beta, name) in OPEN:
                drifts[(alpha, beta, name)] = (drift, exs)
                open_lines += open_rows(alpha, beta, name, drift, exs)
            lines.append(line)
            print(line, f"({time.perf_counter() - t1:.0f} s)", flush=True)
    section, _ = shape_table.section(shape_table.grid(args.quick), None if args.quick else DOCS / "exponents_dana_constant.png")
    if args.quick:
        return 0
    out = Path(args.out)
    plane_figure(results, out.with_name("exponents_plane.png"))
    drift_figure(drifts, out.with_name("exponents_drift.png"))
    head = HEADER.format(machine=machine_line(), secs=time.perf_counter() - t0)
    out.write_text(head + "\n".join(lines) + "\n\n![eta on the (alpha, beta) plane](exponents_plane.png)\n"
                   + OPEN_HEADER + "\n".join(open_lines) + "\n\n![xi and eta against 1/log10 D](exponents_drift.png)\n"
                   + section)
    print(f"wrote {out} and its figures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
