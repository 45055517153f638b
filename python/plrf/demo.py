"""`python -m plrf demo`: build a default problem and summarize its spectrum."""
from __future__ import annotations

import time


def add_parser(sub):
    p = sub.add_parser("demo", help="run the main demo on a default PLRF problem")
    p.add_argument("--d", type=int, default=1000, help="model dimension (default 1000)")
    p.add_argument("--alpha", type=float, default=1.0, help="data power-law exponent (default 1.0)")
    p.add_argument("--beta", type=float, default=0.5, help="target power-law exponent (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="seed of W (default 0)")
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from .problem import PLRF

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
    return 0
