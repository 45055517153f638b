"""The (alpha, beta) phase diagram of SignSVD against SignSGD and the batch-size transition
-> docs/muon_phases.png, docs/muon_batch.png and the numbers in docs/muon.md.

Phases (plrf.matrix.phases): d = 64, m = 256, B = 16, sigma = 0.1, Haar basis; each method tuned per
horizon over 13 constant learning rates (matched Frobenius grids), horizons t = 10 .. 1000; from the
deterministic dynamics. Checked by Monte Carlo (64 seeds) at one point per phase found: the tuned
learning rates of the dynamics at t = 1000, the sign of log(SignSVD / SignSGD risk) compared.

Batch transition: per-mode contraction rates (plrf.matrix.phases.mode_rates) at d = 256, alpha = 1, for
B = 1 .. 1024, and each method's optimal learning rate at t = 300 against B (from the dynamics).

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=python python bench/muon_phases.py   (~10 min on 2 loaded cores)
    ... bench/muon_phases.py --scan --batch 1 --sigma 0.1   # a 4 x 3 grid, dynamics only, no figures
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from plrf import matrix as M
from plrf.cli.bench import machine_line
from plrf.matrix import phases as P

DOCS = Path(__file__).resolve().parents[1] / "docs"
ALPHAS = [0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5]
BETAS = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25]
D, MOUT, B, SIGMA, T = 64, 256, 16, 0.1, 1000
REC = [0, 10, 30, 100, 300, 1000]


def point(alpha, beta, batch=B, sigma=SIGMA):
    p = M.MatrixPLRF(alpha, beta, D, MOUT, sigma=sigma, seed=1)
    svd, sgn = P.frobenius_grid(p, batch, n=13, lo=1e-4, hi=10.0)
    rs, ls = P.tuned(p, "signsvd", svd, T, batch, REC)
    rg, lg = P.tuned(p, "signsgd", sgn, T, batch, REC)
    return p, rs[1:] / rg[1:], ls[-1], lg[-1]


def mc_check(p, lr_svd, lr_sgd, seeds=64):
    mc = [M.simulate(p, opt, T, batch=B, seeds=seeds, record=REC, progress=False).mean[1:] - p.p_inf
          for opt in (M.signsvd(lr_svd), M.signsgd(lr_sgd))]
    de = [M.dynamics(p, opt, T, batch=B, record=REC).risk[1:] - p.p_inf for opt in (M.signsvd(lr_svd), M.signsgd(lr_sgd))]
    return mc[0] / mc[1], de[0] / de[1]


def phase_figure(grid, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"SignSGD": "tab:blue", "trade-off": "tab:gray", "SignSVD": "tab:red"}
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for (a, b), (phase, ratio) in grid.items():
        ax.scatter(a, b, s=260, marker="s", color=colors[phase])
        ax.annotate(f"{np.log10(ratio[-1]):+.1f}", (a, b), ha="center", va="center", fontsize=7, color="white")
    for name, c in colors.items():
        ax.scatter([], [], marker="s", color=c, label=f"{name}" + (" uniformly better" if name != "trade-off" else ""))
    ax.set_xlabel("data exponent alpha (lambda_j = j^-2alpha)")
    ax.set_ylabel("target exponent beta (b_j = j^-beta)")
    ax.set_title(f"tuned SignSVD vs SignSGD (dynamics), d={D}, m={MOUT}, B={B}\n"
                 "label: log10 excess-risk ratio at t=1000\n(the paper's boundaries were not available)", fontsize=8)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.savefig(path, dpi=120, bbox_inches="tight")


def batch_figure(path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = M.MatrixPLRF(1.0, 0.5, 256, 256, seed=1)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    for b in (1, 4, 16, 64, 256):
        r = P.mode_rates(p, b)
        ax.loglog(p.eigenvalues, r["signsvd"], label=f"SignSVD B={b}")
    ax.loglog(p.eigenvalues, P.mode_rates(p, 64)["signsgd"], "k--", label="SignSGD (any B)")
    lam = p.eigenvalues
    ax.loglog(lam, np.sqrt(lam), ":", color="gray", label="slope 1/2 (sqrt preconditioning)")
    ax.loglog(lam, lam, "-.", color="gray", label="slope 1 (SGD-like)")
    ax.set_xlabel("lambda_j"), ax.set_ylabel("per-mode rate / rate of mode 1")
    ax.set_title("noise-dominated per-mode rates, d=256, alpha=1", fontsize=9)
    ax.legend(fontsize=7)
    q = M.MatrixPLRF(1.0, 0.5, 64, 256, sigma=SIGMA, seed=1)
    batches = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    opt = {"signsvd": [], "signsgd": []}
    for b in batches:
        svd, sgn = P.frobenius_grid(q, b, n=17, lo=1e-4, hi=10.0)
        opt["signsvd"].append(P.tuned(q, "signsvd", svd, 300, b, [0, 300])[1][-1])
        opt["signsgd"].append(P.tuned(q, "signsgd", sgn, 300, b, [0, 300])[1][-1] * np.sqrt(q.d * q.m / min(b, q.d)))
    for k, v in opt.items():
        bx.loglog(batches, v, "o-", label=k + (" (x sqrt(d m / min(B, d)): Frobenius step)" if k == "signsgd" else ""))
    bx.set_xlabel("batch B"), bx.set_ylabel("optimal learning rate at t = 300")
    bx.set_title("d=64, m=256, alpha=1, beta=0.5, sigma=0.1 (dynamics)", fontsize=9)
    bx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return batches, opt


def scan(batch, sigma):
    print(f"d = {D}, m = {MOUT}, B = {batch}, sigma = {sigma}: phase, tuned excess-risk ratio at t = 10 .. 1000")
    for a in (0.3, 0.7, 1.1, 1.5):
        for b in (0.0, 0.5, 1.0):
            _, ratio, _, _ = point(a, b, batch, sigma)
            print(f"| {a} | {b} | {P.classify(ratio)} | {', '.join(f'{r:.2f}' for r in ratio)} |", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scan", action="store_true", help="only a 4 x 3 grid from the dynamics at --batch, --sigma")
    ap.add_argument("--batch", type=int, default=B)
    ap.add_argument("--sigma", type=float, default=SIGMA)
    args = ap.parse_args(argv)
    print(machine_line())
    if args.scan:
        return scan(args.batch, args.sigma)
    grid, examples = {}, {}
    print("| alpha | beta | phase | SVD/SGD excess-risk ratio at t = 10, 30, 100, 300, 1000 | tuned lr SVD, SGD at t=1000 |")
    print("|---|---|---|---|---|")
    for a in ALPHAS:
        for b in BETAS:
            p, ratio, ls, lg = point(a, b)
            phase = P.classify(ratio)
            grid[(a, b)] = (phase, ratio)
            examples.setdefault(phase, (p, ls, lg))
            print(f"| {a} | {b} | {phase} | {', '.join(f'{r:.3g}' for r in ratio)} | {ls:.3g}, {lg:.3g} |", flush=True)
    phase_figure(grid, DOCS / "muon_phases.png")
    print("\nMonte Carlo check (64 seeds) at the tuned learning rates of t = 1000:")
    print("| alpha | beta | phase (dynamics) | excess-risk ratio MC (t = 10 .. 1000) | ratio dynamics |")
    print("|---|---|---|---|---|")
    for phase, (p, ls, lg) in examples.items():
        mc, de = mc_check(p, ls, lg)
        print(f"| {p.alpha} | {p.beta} | {phase} | {', '.join(f'{r:.3g}' for r in mc)} | "
              f"{', '.join(f'{r:.3g}' for r in de)} |", flush=True)
    batches, opt = batch_figure(DOCS / "muon_batch.png")
    print("\noptimal lr at t = 300 vs B:", {k: [f"{x:.3g}" for x in v] for k, v in opt.items()}, "B =", batches)


if __name__ == "__main__":
    sys.exit(main())
