"""The authors' per-coordinate ADana and Dana-Star against Adam, SGD and DANA-decaying on one PLRF problem
(docs/coordinatewise.md, "ADana and Dana-Star"): the Monte Carlo mean risk along the run, on space="param".

SGD and DANA-decaying use the authors' recipe (plrf.defaults); Adam, adana_coord and dana_star take their
constant lr from a grid, chosen by the final risk of two other seeds (as `python -m plrf demo --optimizers`
does). Seeds 0 .. seeds-1, so the numbers reproduce exactly.

    PYTHONPATH=python python bench/adana_coord_curve.py          # (1, 0.3), d = 256, 5000 steps, 8 seeds
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import plrf
from plrf.cli.bench import machine_line

LR_GRID = np.geomspace(1e-5, 3e-2, 10)  # down to 1e-5: a growing damping (kappa < 1) wants a small lr
TUNING_SEEDS = [10_000, 10_001]
MEMBERS = {  # name: lr -> chain
    "adam": lambda lr: plrf.adam(lr),
    "adana_coord k=0.85": lambda lr: plrf.adana_coord(lr, kappa=0.85),
    "adana_coord k=0.5": lambda lr: plrf.adana_coord(lr, kappa=0.5),
    "dana_star k=0.85": lambda lr: plrf.dana_star(lr, kappa=0.85),
}


def main(alpha, beta, d, steps, seeds, batch):
    problem = plrf.PLRF(alpha, beta, d, seed=0)
    spec = problem.spectrum(keep_vectors=True)
    shown = [t for t in (10, 100, 1000, steps) if t <= steps]
    record = np.unique(np.r_[np.geomspace(1, steps, 40).astype(np.int64), shown])
    run = dict(batch=batch, record=record, space="param", progress=False, threads=1)
    base = plrf.defaults(spec, batch)
    opts = {"sgd": (base["sgd"], base["sgd"].gamma2(0)), "dana_decaying": (base["dana_decaying"],
                                                                           base["dana_decaying"].gamma2(0))}
    for name, make in MEMBERS.items():
        final = [plrf.simulate(problem, make(lr), steps, seeds=TUNING_SEEDS, **run).mean[-1] for lr in LR_GRID]
        lr = float(LR_GRID[int(np.nanargmin(final))])
        opts[name] = (make(lr), lr)
    print(machine_line())
    print(f"{problem}, B = {batch}, {steps} steps, {seeds} seeds, space='param'; P(0) = {spec.risk0:.4g}, "
          f"P_inf = {spec.p_inf:.4g}")
    print(f"{'optimizer':20s} {'lr':>8s} " + " ".join(f"{'P(' + str(t) + ')':>20s}" for t in shown) + "  exponent")
    for name, (opt, lr) in opts.items():
        t0 = time.perf_counter()
        c = plrf.simulate(problem, opt, steps, seeds=range(seeds), **run)
        at = [int(np.searchsorted(c.steps, t)) for t in shown]
        f = plrf.fit.power_law(c.steps[1:], c.mean[1:], p_inf=spec.p_inf)
        cells = " ".join(f"{c.mean[k]:10.4e} ± {c.sem[k]:.1e}" for k in at)
        print(f"{name:20s} {lr:8.3g} {cells}  {f.exponent:.2f}{'' if f.reliable else '?'}"
              f"   ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--beta", type=float, default=0.3)
    p.add_argument("--d", type=int, default=256)
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--batch", type=int, default=1)
    a = p.parse_args()
    main(a.alpha, a.beta, a.d, a.steps, a.seeds, a.batch)
