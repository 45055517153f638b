"""`python -m plrf demo`: build a default problem, then train it with SGD and DANA-decaying."""
from __future__ import annotations

import time


def add_parser(sub):
    p = sub.add_parser("demo", help="run the main demo on a default PLRF problem")
    p.add_argument("--d", type=int, default=1000, help="model dimension (default 1000)")
    p.add_argument("--alpha", type=float, default=1.0, help="data power-law exponent (default 1.0)")
    p.add_argument("--beta", type=float, default=0.5, help="target power-law exponent (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="seed of W (default 0)")
    p.add_argument("--steps", type=int, default=10_000, help="optimizer steps (default 10000)")
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--seeds", type=int, default=8, help="number of training seeds (default 8)")
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from .optim import defaults
    from .problem import PLRF
    from .simulation import simulate

    t0 = time.perf_counter()
    problem = PLRF(args.alpha, args.beta, args.d, seed=args.seed)
    spec = problem.spectrum()
    dt = time.perf_counter() - t0
    print(f"{problem}: spectral setup in {dt:.2f} s")
    print(f"  tr K = {spec.trace:.6g}   P(0) = {spec.risk0:.6g}   P_inf = {spec.p_inf:.6g}")
    idx = np.unique(np.geomspace(1, spec.d, 6).astype(int)) - 1
    print("  j        lambda_j      rho_j")
    for j in idx:
        print(f"  {j + 1:<8d} {spec.eigenvalues[j]:<13.6g} {spec.rho[j]:.6g}")

    opts = defaults(spec, args.batch)
    names = [n for n in ("sgd", "dana_decaying") if n in opts]
    record = np.unique(np.concatenate([[0], np.geomspace(1, args.steps, 6).round().astype(np.int64)]))
    curves = {}
    for name in names:
        t0 = time.perf_counter()
        curves[name] = simulate(spec, opts[name], args.steps, batch=args.batch, seeds=args.seeds, record=record)
        print(f"{name}: {args.seeds} seeds x {args.steps} steps (B={args.batch}) in {time.perf_counter() - t0:.2f} s")
    print("\nmean risk over seeds (+- standard error)")
    print(f"  {'step':>8}" + "".join(f"  {n:>26}" for n in names))
    for i, step in enumerate(record):
        cells = "".join(f"  {curves[n].mean[i]:>13.6g} +- {curves[n].sem[i]:<9.2g}" for n in names)
        print(f"  {step:>8d}{cells}")
    return 0
