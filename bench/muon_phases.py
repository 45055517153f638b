"""The (alpha, beta) phase diagram of SignSVD against SignSGD and the batch-size transition
-> docs/muon_phases.png, docs/muon_batch.png and the numbers in docs/muon.md.

Phases (plrf.matrix.phases): d = 64, m = 256, B = 16, sigma = 0.1, Haar basis (and EIGEN: basis="eigen", B = 4); each method tuned per
horizon over 13 constant learning rates (matched Frobenius grids), horizons t = 10 .. 1000; from the
deterministic dynamics. Checked by Monte Carlo (64 seeds) at one point per phase found: the tuned
learning rates of the dynamics at t = 1000, the sign of log(SignSVD / SignSGD risk) compared.

Batch transition: per-mode contraction rates (plrf.matrix.phases.mode_rates) at d = 256, alpha = 1, for
B = 1 .. 1024, and each method's optimal learning rate at t = 300 against B (from the dynamics).

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=python python bench/muon_phases.py   (~10 min on 2 loaded cores)
    ... bench/muon_phases.py --scan --batch 1 --sigma 0.1   # a 4 x 3 grid, dynamics only, no figures
    ... bench/muon_phases.py --eigen-only                    # the eigen-basis grid and its Monte Carlo check
    ... bench/muon_phases.py --edge                          # eigen basis, just inside 2 alpha + 2 beta > 1
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


# The axis-aligned covariance (basis="eigen"), where SignSGD preconditions by sqrt(lambda) (theory §13.5).
# beta < 0 puts the target's weight on the small-eigenvalue modes; 2 alpha + 2 beta > 1 keeps the risk
# bounded as d grows. The wider rate grid (to 1000 sqrt(m)) keeps every tuned rate inside it.
# Points with 2 alpha + 2 beta <= 1 are kept (the problem is well posed at finite d) and marked.
EIGEN = {"alphas": [0.5, 0.75, 1.0, 1.25, 1.5, 1.75], "betas": [-1.0, -0.75, -0.5, -0.25, 0.0, 0.5], "batch": 4,
         "n": 19, "hi": 1000.0, "checks": [(0.75, -0.5), (1.0, -0.25), (0.75, 0.5)]}


def point(alpha, beta, batch=B, sigma=SIGMA, basis="haar", n=13, hi=10.0, full=False):
    p = M.MatrixPLRF(alpha, beta, D, MOUT, sigma=sigma, seed=1, basis=basis)
    svd, sgn = P.frobenius_grid(p, batch, n=n, lo=1e-4, hi=hi)
    rs, ls = P.tuned(p, "signsvd", svd, T, batch, REC)
    rg, lg = P.tuned(p, "signsgd", sgn, T, batch, REC)
    if full:  # per-horizon tuned rates and the grid, for the Monte Carlo check
        return p, rs[1:] / rg[1:], (ls[1:], lg[1:], svd)
    return p, rs[1:] / rg[1:], ls[-1], lg[-1]


def mc_check_tuned(p, batch, rates, seeds=64):
    """Monte Carlo at each horizon t, each method at the rate the dynamics tune for t. Conservative for a
    SignSGD-uniform claim: SignSVD gets the best of its tuned rate and the two grid neighbours."""
    ls, lg, grid = rates
    out = []
    for t, l_svd, l_sgn in zip(REC[1:], ls, lg):
        i = int(np.argmin(np.abs(grid - l_svd)))
        svd = min(M.simulate(p, M.signsvd(float(lr)), t, batch=batch, seeds=seeds, record=[0, t],
                             progress=False).mean[-1] for lr in grid[max(0, i - 1):i + 2])
        sgn = M.simulate(p, M.signsgd(float(l_sgn)), t, batch=batch, seeds=seeds, record=[0, t], progress=False)
        out.append((svd - p.p_inf) / (sgn.mean[-1] - p.p_inf))
    return np.array(out)


def mc_check(p, lr_svd, lr_sgd, seeds=64):
    mc = [M.simulate(p, opt, T, batch=B, seeds=seeds, record=REC, progress=False).mean[1:] - p.p_inf
          for opt in (M.signsvd(lr_svd), M.signsgd(lr_sgd))]
    de = [M.dynamics(p, opt, T, batch=B, record=REC).risk[1:] - p.p_inf for opt in (M.signsvd(lr_svd), M.signsgd(lr_sgd))]
    return mc[0] / mc[1], de[0] / de[1]


def phase_figure(grid, path, eigen=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2 if eigen else 1, figsize=(12, 4.6) if eigen else (5.5, 4.2), squeeze=False)
    _phase_panel(axes[0, 0], grid, f"Haar basis (generic covariance), B={B}", legend=not eigen)
    if eigen:
        _phase_panel(axes[0, 1], eigen, f"eigen basis (axis-aligned), B={EIGEN['batch']}")
        axes[0, 1].plot([0.5, 1.75], [0.0, -1.25], "k:", lw=0.8)  # below it, the risk grows with d
        axes[0, 1].annotate("2alpha + 2beta = 1", (1.3, -0.72), fontsize=7, rotation=-28)
        axes[0, 1].set_ylim(-1.15, 0.65)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")


def _phase_panel(ax, grid, title, legend=True):
    colors = {"SignSGD": "tab:blue", "trade-off": "tab:gray", "SignSVD": "tab:red"}
    for (a, b), (phase, ratio) in grid.items():
        ax.scatter(a, b, s=260, marker="s", color=colors[phase])
        ax.annotate(f"{np.log10(ratio[-1]):+.1f}", (a, b), ha="center", va="center", fontsize=7, color="white")
    for name, c in colors.items() if legend else ():
        ax.scatter([], [], marker="s", color=c, label=f"{name}" + (" uniformly better" if name != "trade-off" else ""))
    ax.set_xlabel("data exponent alpha (lambda_j = j^-2alpha)")
    ax.set_ylabel("target exponent beta (b_j = j^-beta)")
    ax.set_title(f"tuned SignSVD vs SignSGD (dynamics), d={D}, m={MOUT}\n{title}; "
                 "label: log10 SVD/SGD excess risk at t=1000\n(the paper's boundaries were not available)", fontsize=8)
    if legend:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))


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


def edge_scan():
    """Eigen basis, just inside 2 alpha + 2 beta > 1: does SignSGD win the first horizon there?"""
    print("| B | alpha | beta | phase | SVD/SGD excess-risk ratio at t = 10 .. 1000 |\n|---|---|---|---|---|")
    for batch in (1, 2, 8):
        for a in (0.75, 1.0, 1.5):
            for off in (0.05, 0.15, 0.3):  # 2 alpha + 2 beta - 1 = 2 off
                b = round(0.5 - a + off, 3)
                _, ratio, _ = point(a, b, batch, SIGMA, "eigen", EIGEN["n"], EIGEN["hi"], full=True)
                print(f"| {batch} | {a} | {b} | {P.classify(ratio)} | {', '.join(f'{r:.2f}' for r in ratio)} |", flush=True)


def eigen_grid():
    """The (alpha, beta) grid with basis="eigen" (EIGEN), then Monte Carlo at its first point of each phase."""
    e = EIGEN
    print(f"\nbasis = eigen, B = {e['batch']}, sigma = {SIGMA}, {e['n']} rates to {e['hi']:g} sqrt(m):")
    print("| alpha | beta | 2 alpha + 2 beta > 1 | phase | SVD/SGD excess-risk ratio at t = 10, 30, 100, 300, 1000 |")
    print("|---|---|---|---|---|")
    grid, examples = {}, {}
    for a in e["alphas"]:
        for b in e["betas"]:
            p, ratio, rates = point(a, b, e["batch"], SIGMA, "eigen", e["n"], e["hi"], full=True)
            grid[(a, b)] = (P.classify(ratio), ratio)
            if (a, b) in e["checks"]:
                examples[(a, b)] = (grid[(a, b)][0], p, ratio, rates)
            print(f"| {a} | {b} | {'yes' if 2 * a + 2 * b > 1 else 'no'} | {grid[(a, b)][0]} | "
                  f"{', '.join(f'{r:.3g}' for r in ratio)} |", flush=True)
    print("\nMonte Carlo (64 seeds) at the per-horizon tuned rates (SignSVD: best of the rate and its grid neighbours):")
    print("| alpha | beta | phase (dynamics) | ratio, Monte Carlo | ratio, dynamics | phase (MC) |")
    print("|---|---|---|---|---|---|")
    for phase, p, ratio, rates in examples.values():
        mc = mc_check_tuned(p, e["batch"], rates)
        print(f"| {p.alpha} | {p.beta} | {phase} | {', '.join(f'{r:.3g}' for r in mc)} | "
              f"{', '.join(f'{r:.3g}' for r in ratio)} | {P.classify(mc)} |", flush=True)
    return grid


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scan", action="store_true", help="only a 4 x 3 grid from the dynamics at --batch, --sigma")
    ap.add_argument("--batch", type=int, default=B)
    ap.add_argument("--sigma", type=float, default=SIGMA)
    ap.add_argument("--eigen-only", action="store_true", help="only the eigen-basis grid and its checks")
    ap.add_argument("--edge", action="store_true", help="only the eigen-basis points near 2 alpha + 2 beta = 1")
    args = ap.parse_args(argv)
    print(machine_line())
    if args.scan:
        return scan(args.batch, args.sigma)
    if args.edge:
        return edge_scan()
    eigen = eigen_grid()
    if args.eigen_only:
        return
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
    phase_figure(grid, DOCS / "muon_phases.png", eigen)
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
