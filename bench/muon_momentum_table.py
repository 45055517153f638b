"""Error of plrf.matrix.dynamics for Muon and SignSVD with momentum (docs/theory.md §13.7: derived,
approximate) against Monte Carlo -> docs/muon.md, table 3.

Each row: 64 seeds, 300 steps from Theta = 0, Haar basis, d = 32, m = 128, sigma = 0.5 unless the row
says otherwise; Muon with Nesterov and 5 Newton-Schulz steps. Columns: the relative error DE / MC - 1
at t = 10, 100 and 300, the largest |DE / MC - 1| over t = 3 .. 300, the largest |z| = |DE - MC| / SE
there, and P(300)/P(0) (how far the run went).

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=python python bench/muon_momentum_table.py     (~5 min on 2 loaded cores)
"""
from __future__ import annotations

import sys

import numpy as np

from plrf import matrix as M
from plrf.cli.bench import machine_line

BASE = dict(opt="muon", alpha=1.0, beta=0.5, d=32, m=128, B=8, sigma=0.5, lr=0.02, mu=0.95)
VARY = [{}, dict(B=1), dict(B=64), dict(alpha=0.6), dict(alpha=1.5), dict(beta=0.0), dict(beta=1.0),
        dict(mu=0.9), dict(mu=0.99), dict(lr=0.1), dict(lr=0.1, B=1), dict(lr=0.1, sigma=0.0), dict(sigma=0.0),
        dict(mu=0.0), dict(d=64, beta=0.3, sigma=0.1, lr=0.253),
        dict(opt="signsvd", mu=0.9), dict(opt="signsvd", mu=0.9, B=1), dict(opt="signsvd", mu=0.9, lr=0.1),
        dict(opt="signsvd", mu=0.99, lr=0.005)]
STEPS, SEEDS, RECORD = 300, 64, [0, 3, 10, 30, 100, 200, 300]


def optimizer(cfg):
    if cfg["opt"] == "muon":
        return M.muon(cfg["lr"], momentum=cfg["mu"])
    return M.signsvd(cfg["lr"], momentum=cfg["mu"])


def row(cfg):
    p = M.MatrixPLRF(cfg["alpha"], cfg["beta"], cfg["d"], cfg["m"], sigma=cfg["sigma"], seed=1)
    mc = M.simulate(p, optimizer(cfg), STEPS, batch=cfg["B"], seeds=SEEDS, record=RECORD, progress=False)
    de = M.dynamics(p, optimizer(cfg), STEPS, batch=cfg["B"], record=RECORD)
    rel = de.risk[1:] / mc.mean[1:] - 1
    z = np.max(np.abs(de.risk[1:] - mc.mean[1:]) / mc.sem[1:])
    at = [RECORD.index(t) - 1 for t in (10, 100, 300)]
    return (" | ".join(f"{100 * rel[i]:+.1f}%" for i in at) +
            f" | {100 * np.max(np.abs(rel)):.1f}% | {z:.0f} | {mc.mean[-1] / mc.mean[0]:.2f}")


def main():
    print(machine_line())
    print("| optimizer | mu | lr | d | B | alpha | beta | sigma | err t=10 | t=100 | t=300 | max err | max z | P(300)/P(0) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for v in VARY:
        cfg = BASE | v
        print(f"| {cfg['opt']} | {cfg['mu']} | {cfg['lr']} | {cfg['d']} | {cfg['B']} | {cfg['alpha']} | {cfg['beta']} | "
              f"{cfg['sigma']} | {row(cfg)} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
