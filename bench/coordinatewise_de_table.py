"""Deterministic equivalents of the coordinate-wise optimizers against Monte Carlo (space="param"), as a
table over (alpha, beta) pairs including 2 alpha > 1: MC/DE - 1 of E[P] with the Monte Carlo standard error.

  precond: SGD with the fixed preconditioner P = diag(K)^(-1/2) (Adam's late-time state), lr = 0.5 / tr(P K),
           against the exact recursion on plrf.coordinatewise.preconditioned_spectrum (exact: MC/DE - 1
           must be within its standard error).
  sign:    signSGD at lr against plrf.sign_de.sign_sgd_de (approximate).
PLRF with v = 4 d, seed 0, B = 1; Monte Carlo seeds 0 .. seeds-1, so the numbers reproduce exactly.

    PYTHONPATH=python python bench/coordinatewise_de_table.py              # d = 100, 200 seeds (~1 min)
    PYTHONPATH=python python bench/coordinatewise_de_table.py --de precond # the preconditioner only
"""
from __future__ import annotations

import argparse

import numpy as np

import plrf
from plrf.cli.bench import machine_line
from plrf.coordinatewise import preconditioned_spectrum
from plrf.sign_de import sign_sgd_de

PAIRS = ((1.0, 0.7, 3e-3), (0.5, 0.7, 3e-3), (1.0, 0.3, 1e-3))  # alpha, beta, signSGD's lr
RECORD = [10, 100, 300, 1000, 3000]


def rows(de, d, seeds, steps):
    for alpha, beta, sign_lr in PAIRS:
        problem = plrf.PLRF(alpha=alpha, beta=beta, d=d, v=4 * d, seed=0)
        spec = problem.spectrum(keep_vectors=True)
        record = [t for t in RECORD if t <= steps]
        if de == "precond":
            p = ((spec.eigenvectors**2) @ spec.eigenvalues) ** -0.5
            tilde = preconditioned_spectrum(spec, p)
            lr = 0.5 / tilde.trace  # a quarter of the B = 1 bound 2 / tr: at half, rare seeds blow up and dominate E[P]
            ref = plrf.exact_risk(tilde, plrf.sgd(lr), steps, record=record).risk
            opt = plrf.preconditioned_sgd(lr, p)
        else:
            lr, opt = sign_lr, plrf.sign_sgd(sign_lr)
            ref = sign_sgd_de(spec, sign_lr, steps, record=record).risk
        mc = plrf.simulate(problem, opt, steps, seeds=seeds, record=record, space="param", progress=False, threads=1)
        rel = mc.risk.mean(0) / ref - 1
        se = mc.risk.std(0, ddof=1) / np.sqrt(seeds) / ref
        cells = " | ".join(f"{100 * r:+.1f}% ({100 * s:.1f})" for r, s in zip(rel, se))
        yield f"| {alpha}, {beta}, {d}, {lr:.3g} | {cells} |"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--de", choices=("precond", "sign", "both"), default="both")
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--steps", type=int, default=3000)
    args = ap.parse_args()
    print(machine_line())
    for de in (("precond", "sign") if args.de == "both" else (args.de,)):
        print(f"\n{de}: MC/DE - 1 of E[P] (standard error of MC, %)")
        print("| α, β, d, lr | " + " | ".join(f"t = {t}" for t in RECORD if t <= args.steps) + " |")
        for line in rows(de, args.d, args.seeds, args.steps):
            print(line, flush=True)


if __name__ == "__main__":
    main()
