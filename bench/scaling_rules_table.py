"""Batch-size scaling rules on PLRF, as a table: Adam's square-root rule (Monte Carlo, space="param") and
SGD's linear rule (the exact recursion), for kappa = 1 .. 64.

  Adam, square-root rule (Malladi et al.): batch kappa B, lr sqrt(kappa) lr, 1 - b1 and 1 - b2 times kappa,
  eps / sqrt(kappa). b1 = 1 - kappa (1 - b1) reaches 0 at kappa = 1 / (1 - b1) = 10 and is clamped at 0
  beyond, so the rule cannot hold there.
  SGD, linear rule: batch kappa B, lr kappa lr.

Each cell is E[P] at the same number of samples n = kappa B t, relative to kappa = 1 (MC/MC - 1 for Adam,
with its standard error; exact/exact - 1 for SGD).

    PYTHONPATH=python python bench/scaling_rules_table.py           # d = 128, 64 seeds (~1-2 min on 2 loaded cores)
"""
from __future__ import annotations

import argparse
import math

import numpy as np

import plrf
from plrf.cli.bench import machine_line

KAPPAS = (1, 2, 4, 8, 16, 32, 64)


def adam_rule(kappa, lr, b1, b2, eps):
    """The square-root rule's Adam at kappa (b1 clamped at 0 once kappa (1 - b1) > 1)."""
    return plrf.adam(lr * math.sqrt(kappa), max(0.0, 1 - kappa * (1 - b1)), max(0.0, 1 - kappa * (1 - b2)),
                     eps / math.sqrt(kappa))


def adam_table(problem, samples, points, seeds, lr=2e-3, b1=0.9, b2=0.999, eps=1e-8):
    rows = {}
    for kappa in KAPPAS:
        steps = samples // kappa
        record = [n // kappa for n in points]
        c = plrf.simulate(problem, adam_rule(kappa, lr, b1, b2, eps), steps, batch=kappa, seeds=seeds, record=record,
                          space="param", progress=False)
        rows[kappa] = (c.risk.mean(0), c.risk.std(0, ddof=1) / math.sqrt(seeds))
    return rows


def sgd_table(spectrum, samples, points, lr=0.2):
    rows = {}
    for kappa in KAPPAS:
        with plrf.errstate(divergence="ignore"):  # past the stability bound the table says "diverges"
            c = plrf.exact_risk(spectrum, plrf.sgd(lr * kappa), samples // kappa, batch=kappa,
                                record=[n // kappa for n in points])
        rows[kappa] = c.risk
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--samples", type=int, default=2**14)
    a = ap.parse_args()
    print(machine_line())
    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=a.d, v=2 * a.d, seed=0)
    points = [n for n in (256, 1024, 4096, a.samples) if n <= a.samples]
    print(f"\nAdam, square-root rule: PLRF alpha=1, beta=0.5, d={a.d}, base B=1, lr=2e-3, b1=0.9, b2=0.999, eps=1e-8; "
          f"{a.seeds} seeds; E[P]/E[P](kappa=1) - 1 at n samples (standard error)")
    adam = adam_table(problem, a.samples, points, a.seeds)
    print("| kappa | b1 | " + " | ".join(f"n = {n}" for n in points) + " |")
    print("|---|---|" + "---|" * len(points))
    base, base_se = adam[1]
    for kappa, (m, se) in adam.items():
        rel = m / base - 1
        err = np.sqrt((se / base) ** 2 + (m * base_se / base**2) ** 2)
        b1 = max(0.0, 1 - kappa * 0.1)
        print(f"| {kappa} | {b1:.1f} | " + " | ".join(f"{100 * r:+.1f}% ({100 * e:.1f})" for r, e in zip(rel, err)) + " |")
    print(f"\nSGD, linear rule (exact recursion): same problem, base B=1, lr=0.2; E[P]/E[P](kappa=1) - 1 at n samples")
    sgd = sgd_table(problem.spectrum(), a.samples, points)
    spec = problem.spectrum()
    print("| kappa | lr | max stable lr at B = kappa | " + " | ".join(f"n = {n}" for n in points) + " |")
    print("|---|---|---|" + "---|" * len(points))
    for kappa, r in sgd.items():
        cells = ("diverges" if not np.isfinite(x) else f"{100 * x:+.1f}%" for x in r / sgd[1] - 1)
        print(f"| {kappa} | {0.2 * kappa:g} | {plrf.max_stable_lr(spec, batch=kappa):.2f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
