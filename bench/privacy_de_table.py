"""How good is the clipping DE (docs/privacy.md, "How good is the DE"): Monte Carlo against the DE.

Run: PYTHONPATH=python python bench/privacy_de_table.py [--seeds 400]
For each (alpha, beta) (theory spectrum, d = 200), SGD with B = 4 and lr = plrf.defaults' lr, clipped at
C = kappa * sqrt(tr K * 2 P(0)) (kappa: the clip norm over the typical initial per-sample gradient norm)
with noise multiplier s: the Monte Carlo mean (eigen path, explicit per-sample gradients) against
exact_risk on the same chain (the DE). Printed: MC / DE - 1 at t = 10, 100, 1000, 2000, +- one standard
error of the Monte Carlo, as a markdown table.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

import plrf
from plrf.cli.bench import machine_line

PAIRS = [(0.4, 0.3), (0.7, 0.4), (1.0, 0.5), (1.5, 0.7)]  # 2 alpha < 1 first, then 2 alpha > 1
CLIPS = [(0.1, 1.0), (0.5, 1.0), (0.5, 0.0)]              # (kappa, noise multiplier s)
D, B, STEPS = 200, 4, 2000
AT = [10, 100, 1000, 2000]


def row(alpha, beta, kappa, s, seeds):
    spec = plrf.Spectrum.theory(alpha, beta, D)
    lr = plrf.defaults(spec, B)["sgd"].gamma2.c
    C = kappa * math.sqrt(spec.trace * 2.0 * spec.risk0)
    opt = plrf.chain(plrf.sgd(lr), plrf.clip(C, noise_multiplier=s))
    de = plrf.exact_risk(spec, opt, STEPS, B, record=AT).risk
    mc = plrf.simulate(spec, opt, STEPS, B, seeds=seeds, record=AT, progress=False).risk
    err = mc.mean(axis=0) / de - 1.0
    se = mc.std(axis=0, ddof=1) / math.sqrt(seeds) / de
    cells = [f"{100 * e:+.1f} ± {100 * u:.1f}%" for e, u in zip(err, se)]
    return f"| {alpha} | {beta} | {'<' if 2 * alpha < 1 else '>'} 1 | {kappa} | {s} | " + " | ".join(cells) + " |"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=400)
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(f"plrf {plrf.__version__}, isa {plrf._core.isa()} ({machine_line()})", flush=True)
    print(f"d = {D}, B = {B}, {args.seeds} seeds; cells: MC / DE - 1 at t = " + ", ".join(map(str, AT)))
    print("| alpha | beta | 2 alpha | kappa | s | " + " | ".join(f"t = {t}" for t in AT) + " |")
    print("|---|---|---|---|---|" + "---|" * len(AT))
    for alpha, beta in PAIRS:
        for kappa, s in CLIPS:
            print(row(alpha, beta, kappa, s, args.seeds), flush=True)
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
