"""Measured scaling exponents against docs/theory.md §8 theory, in the large-d limit -> docs/exponents.md.

For one (alpha, beta) in each phase Ia, Ib, Ic, II, III, IVa, IVb and each optimizer (SGD, SGD-M,
DANA-constant, DANA-decaying): theory spectra (plrf.Spectrum.theory, compressed into log-lambda
nodes at rtol 1e-4, so a run costs the same at every d) on a geometric grid of d up to 1e9, exact
expected risk with method="fast" and the authors' default hyperparameters, each run until
s = gamma t = 100 d^(2 alpha) (at most 1e18 steps), then
- F_pp: the loss-curve exponent at the largest d (plrf.fit.power_law, automatic plateau window);
- xi and eta of the compute-optimal frontier (plrf.frontier, IsoFLOP fit), with 95% intervals;
- convergence: the same fits on the sizes up to d_max / 100;
- a verdict per [D] entry of docs/theory.md §8: confirmed when theory lies within max(interval half-width,
  drift between d_max / 100 and d_max, 0.005) of the measurement, refuted otherwise.
A figure (docs/exponents_plane.png) puts eta, measured against theory, on the (alpha, beta) plane
for SGD and DANA-decaying.

    PYTHONPATH=python python bench/exponents_table.py            # d up to 1e9 (< 10 min on 2 cores)
    PYTHONPATH=python python bench/exponents_table.py --quick    # d up to 1e6, two optimizers
    PYTHONPATH=python python bench/exponents_table.py --case 0.7 0.7 sgd   # one point, printed only
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import plrf
from plrf import fit, theory
from plrf.cli.frontier import d_grid, measure_curves
from plrf.frontier import frontier
from plrf.optim import NAMES

CASES = [(1.0, 0.3), (0.4, 0.3), (0.2, 0.7), (1.0, 0.7), (0.7, 1.0), (0.4, 0.8), (0.27, 0.8)]
PLANE = ("sgd", "dana_decaying")  # the optimizers drawn on the (alpha, beta) plane
DOCS = Path(__file__).resolve().parents[1] / "docs"


def _cell(v, iv):
    return f"{v:.3f} [{iv[0]:.3f}, {iv[1]:.3f}]"


def _theory(alpha, beta, name):
    """(xi, eta, source letter) of docs/theory.md §8, or None where it gives no formula."""
    try:
        o = theory.compute_optimal(alpha, beta, name)
        return o.xi, o.eta, o.source[0].upper()
    except NotImplementedError:
        return None


def _fpp_theory(alpha, beta, name):
    try:
        return theory.fpp_exponent(alpha, beta, name)
    except NotImplementedError:
        return None


def measure(alpha, beta, name, ds):
    curves = measure_curves(alpha, beta, name, ds, None, 1, log=lambda msg: None)
    big = curves[ds[-1]]
    fpp = fit.power_law(big.steps, big.risk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fr = frontier(curves, 1)
        small = frontier({d: c for d, c in curves.items() if d <= ds[-1] / 100}, 1)
    return fpp, fr.isoflop, small.isoflop


def verdict(what, value, interval, previous, th):
    tol = max(0.5 * (interval[1] - interval[0]), abs(value - previous), 0.005)
    word = "confirmed" if abs(value - th) <= tol else "refuted"
    return f"{what} {word} ({value:.3f} vs {th:.3f}, tol {tol:.3f})"


def row(alpha, beta, name, fpp, iso, small):
    fpp_th, th = _fpp_theory(alpha, beta, name), _theory(alpha, beta, name)
    verdicts = []
    if th is not None and th[2] == "D":
        verdicts.append(verdict("xi", iso.xi, iso.xi_interval, small.xi, th[0]))
        verdicts.append(verdict("eta", iso.eta, iso.eta_interval, small.eta, th[1]))
    flags = sorted(set(([] if fpp.reliable else ["F_pp: " + r for r in fpp.reasons]) + iso.reasons))
    th_xi, th_eta = ("n/a", "n/a") if th is None else (f"{th[0]:.3f} ({th[2]})", f"{th[1]:.3f} ({th[2]})")
    return (f"| {theory.phase(alpha, beta)} | {alpha:g} | {beta:g} | {name} | {_cell(fpp.exponent, fpp.interval)} | "
            f"{'n/a' if fpp_th is None else f'{fpp_th:.3f}'} | {_cell(iso.xi, iso.xi_interval)} | {small.xi:.3f} | "
            f"{th_xi} | {_cell(iso.eta, iso.eta_interval)} | {small.eta:.3f} | {th_eta} | "
            f"{'; '.join(verdicts) or '-'} | {'; '.join(flags) or 'ok'} |")


HEADER = """# Measured scaling exponents vs theory

Produced by `bench/exponents_table.py` ({when}; {machine}; {secs:.0f} s on 2 shared cores, load {load:.1f}).
Theory spectra (`plrf.Spectrum.theory`, compressed into log-lambda nodes at rtol 1e-4: the cost of a
run does not grow with d), exact expected risk with `method="fast"`, default hyperparameters
(`plrf.defaults`, B = 1), d on a geometric grid {dgrid}; every run goes until
s = gamma t = 100 d^(2 alpha) (past its limit loss; at most 1e18 steps).

- F_pp: loss-curve exponent at the largest d, `plrf.fit.power_law` on its automatic plateau window.
- xi (d* ~ f^xi) and eta (P* ~ f^-eta): `plrf.frontier` IsoFLOP fit, flops f = steps x B x d, with
  its 95% block-bootstrap interval; "@ d_max/100" is the same fit on the sizes up to d_max / 100
  (the convergence check: the drift between the two bounds the finite-d bias that remains).
- Theory: `plrf.theory` (docs/theory.md §8), (D) = derived, (P) = read in the paper; n/a = docs/theory.md §8 gives no formula.
- Verdict, per [D] entry: confirmed when theory lies within max(interval half-width, drift, 0.005)
  of the measurement; refuted otherwise (the numbers are given).

| phase | alpha | beta | optimizer | F_pp measured | F_pp theory | xi | xi @ d_max/100 | xi theory | eta | eta @ d_max/100 | eta theory | verdict [D] | flags |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def plane_figure(results, path):
    """eta measured (filled) against theory (open) on the (alpha, beta) plane, one panel per optimizer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, len(PLANE), figsize=(6 * len(PLANE), 5), sharey=True)
    a = np.linspace(0.01, 1.6, 200)
    for ax, name in zip(axes, PLANE):
        ax.plot(a, np.full_like(a, 0.5), "k:", lw=0.8)
        ax.axvline(0.5, color="k", ls=":", lw=0.8)
        ax.axvline(0.25, color="k", ls=":", lw=0.8)
        ax.axvline(1 - 2**-0.5, color="k", ls=":", lw=0.8)
        ax.plot(a, a, "k--", lw=0.6)
        ax.fill_between(a, 0, np.maximum(0.5 - a, 0), color="0.9")
        for (alpha, beta, opt), (iso, th) in results.items():
            if opt != name:
                continue
            label = f"{iso.eta:.3f}" + ("" if th is None else f"\n({th[1]:.3f})")
            ax.plot(alpha, beta, "o", color="C0" if th is None or abs(iso.eta - th[1]) < 0.02 else "C3")
            ax.annotate(f"{theory.phase(alpha, beta)}: {label}", (alpha, beta), textcoords="offset points",
                        xytext=(5, 4), fontsize=8)
        ax.set(xlim=(0, 1.3), ylim=(0, 1.3), xlabel="alpha", title=f"{name}: eta measured (theory)")
    axes[0].set_ylabel("beta")
    fig.suptitle("Compute-optimal eta on the (alpha, beta) plane, d up to 1e9 (red: |measured - theory| >= 0.02)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="d up to 1e6, SGD and DANA-decaying only (smoke run)")
    p.add_argument("--out", default=str(DOCS / "exponents.md"))
    p.add_argument("--case", nargs=3, action="append", metavar=("ALPHA", "BETA", "OPTIMIZER"),
                   help="measure only this point (repeatable) and print its row; no file is written")
    args = p.parse_args(argv)
    ds = d_grid(100, 1e6 if args.quick else 1e9, 13 if args.quick else 25)
    for alpha, beta, name in args.case or ():
        print(row(float(alpha), float(beta), name, *measure(float(alpha), float(beta), name, ds)), flush=True)
    if args.case:
        return 0
    names = PLANE if args.quick else NAMES
    lines, results, t0 = [], {}, time.perf_counter()
    for alpha, beta in CASES:
        for name in names:
            t1 = time.perf_counter()
            fpp, iso, small = measure(alpha, beta, name, ds)
            results[(alpha, beta, name)] = (iso, _theory(alpha, beta, name))
            lines.append(row(alpha, beta, name, fpp, iso, small))
            print(lines[-1], f"({time.perf_counter() - t1:.0f} s)", flush=True)
    head = HEADER.format(when=time.strftime("%Y-%m-%d"), machine=f"{platform.machine()}, plrf {plrf.__version__}, "
                         f"isa {plrf._core.isa()}", secs=time.perf_counter() - t0, load=os.getloadavg()[0],
                         dgrid=f"{ds[0]} .. {ds[-1]} ({len(ds)} sizes)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure = out.with_name(out.stem + "_plane.png")
    plane_figure(results, figure)
    out.write_text(head + "\n".join(lines) + f"\n\n![eta on the (alpha, beta) plane]({figure.name})\n")
    print(f"wrote {out} and {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
