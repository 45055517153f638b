"""`python -m plrf demo --muon`: Muon, SignSVD, SignSGD and SGD on a matrix-valued PLRF (docs/muon.md).

SignSVD's and SignSGD's learning rates are tuned on their deterministic dynamics at the horizon
(matched Frobenius grids); Muon runs at SignSVD's rate divided by its shape scale sqrt(max(1, m/d)),
SGD at 0.4 / tr K. Monte Carlo over --seeds seeds, the dynamics beside it (Muon's: momentum and
Newton-Schulz in the per-mode recursion, docs/theory.md §13.7, approximate).
"""
from __future__ import annotations

import time

import numpy as np

D, M_OUT, SIGMA = 64, 128, 0.1


def run_muon(args, out) -> None:
    from .. import plot
    from .. import matrix as M
    from ..matrix import phases

    steps, batch = min(args.steps, 1000), args.batch
    p = M.MatrixPLRF(args.alpha, args.beta, D, M_OUT, sigma=SIGMA, seed=args.seed)
    svd, sgn = phases.frobenius_grid(p, batch, n=13, lo=1e-4, hi=10.0)
    lr_svd = phases.tuned(p, "signsvd", svd, steps, batch, [0, steps])[1][-1]
    lr_sgn = phases.tuned(p, "signsgd", sgn, steps, batch, [0, steps])[1][-1]
    opts = {"muon": M.muon(lr_svd / np.sqrt(max(1.0, M_OUT / D))), "signsvd": M.signsvd(lr_svd),
            "signsgd": M.signsgd(lr_sgn), "sgd": M.sgd(0.4 / p.eigenvalues.sum())}
    print(f"{p}, B = {batch}, {steps} steps, {args.seeds} seeds; P(0) = {p.risk(np.zeros((D, M_OUT))):.4g}")
    print(f"{'optimizer':10s} {'lr':>10s} {'P(T) Monte Carlo':>22s} {'P(T) dynamics':>15s}  seconds")
    mc, de = {}, []
    for name, opt in opts.items():
        t0 = time.perf_counter()
        mc[name] = M.simulate(p, opt, steps, batch=batch, seeds=args.seeds)
        line = f"{name:10s} {opt.lr(0) if name != 'sgd' else opt.opt.gamma2(0):10.3g} {mc[name].mean[-1]:12.4e} ± {mc[name].sem[-1]:.1e}"
        c = M.dynamics(p, opt, steps, batch=batch, record=mc[name].steps)  # Muon's: theory §13.7, approximate
        de.append(c)
        line += f" {c.risk[-1]:15.4e}{'' if c.meta['exact'] else ' (approx.)'}"
        print(f"{line}  {time.perf_counter() - t0:.1f}")
    if out is not None:
        path = out.with_name(out.stem + "-muon" + out.suffix)
        plot.curves(mc, exact=de, path=str(path))
        print(f"wrote {path}")
