"""Error of plrf.matrix.dynamics (SignSVD, SignSGD: approximate) against Monte Carlo over d, m, B,
alpha, beta and the label noise sigma -> docs/muon.md, table 2.

Each row: 64 seeds, 300 steps from Theta = 0, Haar basis; the learning rates are matched in
Frobenius step (SignSGD's lr = SignSVD's x sqrt(min(B, d, m) / (d m))). Columns: the largest relative
error |DE / MC - 1| over the record steps t >= 1, and the largest |z| = |DE - MC| / SE there.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=python python bench/muon_de_table.py     (~10 min on 2 loaded cores)
"""
from __future__ import annotations

import sys

import numpy as np

from plrf import matrix as M
from plrf.cli.bench import machine_line

BASE = dict(alpha=1.0, beta=0.5, d=32, m=128, B=8, sigma=0.5)
VARY = [{}, dict(B=1), dict(B=64), dict(d=64), dict(m=512), dict(alpha=0.6), dict(alpha=1.5),
        dict(beta=0.0), dict(beta=1.0), dict(sigma=0.0), dict(sigma=3.0)]
STEPS, SEEDS, RECORD = 300, 64, [0, 3, 10, 30, 100, 200, 300]


def row(cfg):
    p = M.MatrixPLRF(cfg["alpha"], cfg["beta"], cfg["d"], cfg["m"], sigma=cfg["sigma"], seed=1)
    lr = 0.02 * np.sqrt(cfg["m"] / 128)
    cells = []
    for opt in (M.signsvd(lr), M.signsgd(lr * np.sqrt(min(cfg["B"], cfg["d"], cfg["m"]) / (cfg["d"] * cfg["m"])))):
        mc = M.simulate(p, opt, STEPS, batch=cfg["B"], seeds=SEEDS, record=RECORD, progress=False)
        de = M.dynamics(p, opt, STEPS, batch=cfg["B"], record=RECORD)
        rel = np.max(np.abs(de.risk[1:] / mc.mean[1:] - 1))
        z = np.max(np.abs(de.risk[1:] - mc.mean[1:]) / mc.sem[1:])
        drop = mc.mean[-1] / mc.mean[0]
        cells.append(f"{100 * rel:5.1f}% | {z:6.1f} | {drop:.2f}")
    return cells


def main():
    print(machine_line())
    print("| d | m | B | alpha | beta | sigma | SignSVD err | z | P(300)/P(0) | SignSGD err | z | P(300)/P(0) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for v in VARY:
        cfg = BASE | v
        cells = row(cfg)
        print(f"| {cfg['d']} | {cfg['m']} | {cfg['B']} | {cfg['alpha']} | {cfg['beta']} | {cfg['sigma']} | "
              f"{cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
