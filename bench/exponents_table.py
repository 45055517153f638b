"""Measured scaling exponents against SPEC 8 theory (issue 5, item 4) -> docs/exponents.md.

For (alpha, beta) in phases Ia, II, III (and the paper's point alpha = beta = 0.7) and IVa, and
for SGD and DANA-decaying: theory spectra (plrf.Spectrum.theory) at a geometric grid of d up to
1e5, exact expected risk with method="fast" and the authors' default hyperparameters, then
- the F_pp loss-curve exponent at the largest d (plrf.fit.power_law, automatic plateau window);
- xi and eta of the compute-optimal frontier (plrf.frontier, IsoFLOP and approach 1).
Every number comes with its 95% interval and sits beside theory (with SPEC 8's source flag).

    PYTHONPATH=python python bench/exponents_table.py            # full table, d up to 1e5 (~10 min)
    PYTHONPATH=python python bench/exponents_table.py --quick    # d up to 1e4, a smoke run
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path


import plrf
from plrf import fit, theory
from plrf.cli.frontier import d_grid, measure_curves
from plrf.frontier import frontier

CASES = [(1.0, 0.3), (1.0, 0.7), (0.7, 1.0), (0.7, 0.7), (0.4, 0.8)]  # Ia, II, III, II/III line, IVa
OPTIMIZERS = ["sgd", "dana_decaying"]
# Phase II momentum cases where SPEC 8's formula and the balancing of its own terms disagree
# (docs/analysis.md, finding 3), with one where they agree as a control; d up to 1e4.
CONSISTENCY = [("dana_constant", 1.0, 0.7), ("dana_constant", 1.5, 0.7), ("dana_decaying", 1.8, 0.7),
               ("dana_decaying", 1.0, 0.7)]


def _cell(v, iv):
    return f"{v:.3f} [{iv[0]:.3f}, {iv[1]:.3f}]"


def _theory(alpha, beta, name):
    try:
        o = theory.compute_optimal(alpha, beta, name)
        return f"{o.xi:.3f} ({o.source[0].upper()})", f"{o.eta:.3f} ({o.source[0].upper()})"
    except NotImplementedError:
        return "n/a", "n/a"


def measure(alpha, beta, name, ds):
    curves = measure_curves(alpha, beta, name, ds, None, 1, log=lambda msg: print(msg, file=sys.stderr))
    big = curves[ds[-1]]
    fpp = fit.power_law(big.steps, big.risk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fr = frontier(curves, 1)
    return fpp, fr


def row(alpha, beta, name, fpp, fr):
    try:
        fpp_th = f"{theory.fpp_exponent(alpha, beta, name):.3f}"
    except NotImplementedError:
        fpp_th = "n/a"
    xi_th, eta_th = _theory(alpha, beta, name)
    iso, ap1 = fr.isoflop, fr.approach1
    flags = "; ".join(sorted(set(([] if fpp.reliable else ["F_pp: " + r for r in fpp.reasons]) + iso.reasons)))
    return (f"| {theory.phase(alpha, beta)} | {alpha:g} | {beta:g} | {name} | {_cell(fpp.exponent, fpp.interval)} | "
            f"{fpp_th} | {_cell(iso.xi, iso.xi_interval)} | {ap1.xi:.3f} | {xi_th} | "
            f"{_cell(iso.eta, iso.eta_interval)} | {ap1.eta:.3f} | {eta_th} | {flags or 'ok'} |")


CONSISTENCY_HEADER = """

## SPEC 8's momentum Phase II formula against the balancing of its own loss terms

Where F_ac decays more slowly as d grows at fixed f (alpha > 3/4 for DANA-constant,
alpha > (3 + sqrt 5)/4 for DANA-decaying), SPEC 8's Phase II formula (F_pp = F_ac) and the maximum
of min_k e_k(x) over SPEC 8's own terms (`plrf.theory.balance`, where F_0 meets F_ac) differ.
Measured with d = {dgrid}, IsoFLOP fits with 95% intervals:

| alpha | beta | optimizer | xi measured | xi SPEC 8 | xi balance | eta measured | eta SPEC 8 | eta balance |
|---|---|---|---|---|---|---|---|---|
"""


def consistency_row(alpha, beta, name, fr):
    o = theory.compute_optimal(alpha, beta, name)
    xi_b, eta_b = theory.balance(theory.loss_terms(alpha, beta, name))
    iso = fr.isoflop
    return (f"| {alpha:g} | {beta:g} | {name} | {_cell(iso.xi, iso.xi_interval)} | {o.xi:.3f} | {xi_b:.3f} | "
            f"{_cell(iso.eta, iso.eta_interval)} | {o.eta:.3f} | {eta_b:.3f} |")


HEADER = """# Measured scaling exponents vs theory

Produced by `bench/exponents_table.py` ({when}; {machine}). Theory spectra (`plrf.Spectrum.theory`),
exact expected risk with `method="fast"`, default hyperparameters (`plrf.defaults`, B = 1), d on a
geometric grid {dgrid}; every run goes until s = gamma t = 100 d^(2 alpha) (past its limit loss).

- F_pp: loss-curve exponent at the largest d, `plrf.fit.power_law` on its automatic plateau window.
- xi (d* ~ f^xi) and eta (P* ~ f^-eta): `plrf.frontier`, flops f = steps x B x d; IsoFLOP fit with
  its 95% block-bootstrap interval, approach 1 (per-f minimum over the d grid) beside it.
- Theory: `plrf.theory` (SPEC 8), (D) = derived, (P) = read in the paper; n/a = SPEC 8 gives no formula.
- Intervals are 95%. They cover fitting noise and the drift of the local slope across the window,
  not the finite-d bias: finite-d fits tend to fall below the asymptote (SPEC 8).

| phase | alpha | beta | optimizer | F_pp measured | F_pp theory | xi IsoFLOP | xi appr. 1 | xi theory | eta IsoFLOP | eta appr. 1 | eta theory | flags |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="d up to 1e4 (smoke run)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "exponents.md"))
    args = p.parse_args(argv)
    ds = d_grid(100, 1e4 if args.quick else 1e5, 9 if args.quick else 16)
    lines, t0 = [], time.perf_counter()
    for alpha, beta in CASES:
        for name in OPTIMIZERS:
            t1 = time.perf_counter()
            fpp, fr = measure(alpha, beta, name, ds)
            lines.append(row(alpha, beta, name, fpp, fr))
            print(lines[-1], f"({time.perf_counter() - t1:.0f} s)", flush=True)
    small = d_grid(100, 1e4, 13)
    extra = []
    for name, alpha, beta in CONSISTENCY:
        extra.append(consistency_row(alpha, beta, name, measure(alpha, beta, name, small)[1]))
        print(extra[-1], flush=True)
    head = HEADER.format(when=time.strftime("%Y-%m-%d"), machine=f"{platform.machine()}, {plrf.__version__}",
                         dgrid=f"{ds[0]} .. {ds[-1]} ({len(ds)} sizes)")
    tail = CONSISTENCY_HEADER.format(dgrid=f"{small[0]} .. {small[-1]} ({len(small)} sizes)") + "\n".join(extra)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(head + "\n".join(lines) + tail + f"\n\nTotal time {time.perf_counter() - t0:.0f} s "
                              "(2 shared cores).\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
