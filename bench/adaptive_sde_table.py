"""The Malladi et al. RMSprop and Adam SDEs (plrf.adaptive_sde) against the discrete parameter-basis Monte
Carlo, on PLRF problems with 2 alpha > 1 and < 1, at two points of the SDE's scaling family.

    PYTHONPATH=python python bench/adaptive_sde_table.py            # about 5 minutes on 2 cores
    PYTHONPATH=python python bench/adaptive_sde_table.py --seeds 100 --T 0.5   # quicker

The family holds t = k lr^2, c1 = (1 - b1)/lr^2 = 100, c2 = (1 - b2)/lr^2 = 25 (Adam; RMSprop's b2 uses
c = 100) and sigma_0^2 Sigma = lr^2 Sigma_1 / B fixed (batch ~ lr^2), so both points share one SDE and
the discrete rule should approach it as lr -> 0. Each cell is MC/SDE - 1 of E[P] at t = T x {0.01, 0.03, 0.1,
0.3, 1}, with the standard error of MC/SDE (both Monte Carlo errors, seeds 0..S-1) in parentheses.
"""
from __future__ import annotations

import argparse

import numpy as np

import plrf
from plrf import adaptive_sde
from plrf.cli.bench import machine_line

PAIRS = ((1.0, 0.5), (1.0, 0.3), (0.4, 0.7))  # 2 alpha > 1, > 1, < 1
POINTS = ((0.04, 16), (0.01, 1))  # (lr, batch): batch / lr^2 fixed
C1, C2 = 100.0, 25.0


def row(problem, rule, lr, batch, T, seeds):
    steps = int(round(T / lr**2))
    rec = np.unique(np.rint(steps * np.array([0.01, 0.03, 0.1, 0.3, 1.0])).astype(np.int64))
    if rule == "adam":
        b1, b2 = 1 - C1 * lr**2, 1 - C2 * lr**2
        opt, sde = plrf.adam(lr, b1, b2), adaptive_sde.adam_sde(problem, lr, steps, b1, b2, batch=batch, seeds=seeds,
                                                                record=rec)
    else:
        b2 = 1 - C1 * lr**2
        opt, sde = plrf.rmsprop(lr, b2), adaptive_sde.rmsprop_sde(problem, lr, steps, b2, batch=batch, seeds=seeds,
                                                                  record=rec)
    mc = plrf.simulate(problem, opt, steps, batch=batch, seeds=seeds, record=rec, space="param", progress=False)
    ratio = mc.mean / sde.risk
    se = ratio * np.hypot(mc.sem / mc.mean, sde.meta["sem"] / sde.risk)
    return " | ".join(f"{100 * (x - 1):+.1f}% ({100 * s:.1f})" for x, s in zip(ratio, se))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=32)
    ap.add_argument("--seeds", type=int, default=400)
    ap.add_argument("--T", type=float, default=1.0, help="SDE time t = k lr^2 at the end")
    a = ap.parse_args()
    print(machine_line())
    print(f"MC/SDE - 1 of E[P], PLRF d = {a.d}, v = 4d, seed 0; {a.seeds} seeds; c1 = {C1:g}, c2 = {C2:g}; "
          f"t = k lr^2 in T x (0.01, 0.03, 0.1, 0.3, 1), T = {a.T:g}")
    print("| rule | alpha, beta | lr, B | t = 0.01T | 0.03T | 0.1T | 0.3T | T |")
    print("|---|---|---|---|---|---|---|---|")
    for alpha, beta in PAIRS:
        problem = plrf.PLRF(alpha=alpha, beta=beta, d=a.d, v=4 * a.d, seed=0)
        for rule in ("rmsprop", "adam"):
            for lr, batch in POINTS:
                print(f"| {rule} | {alpha:g}, {beta:g} | {lr:g}, {batch} | {row(problem, rule, lr, batch, a.T, a.seeds)} |",
                      flush=True)


if __name__ == "__main__":
    main()
