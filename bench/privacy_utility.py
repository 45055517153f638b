"""The privacy-utility curve of one-pass DP-SGD on PLRF (docs/privacy.md): table and figure.

Run: PYTHONPATH=python python bench/privacy_utility.py [--alpha 1 --beta 0.5] [--out docs/privacy_utility.png] [--small]
For (alpha, beta) (default (1.0, 0.5)), d in {100, 200, 400} (theory spectra), n = 4000 samples in batches of
B = 4 (1000 steps, one pass), delta = 1e-5: at each epsilon the noise multiplier is dp-accounting's
smallest (one-pass, add/remove), and the final risk is minimised over the lr (constant, or
lr0 / (1 + t / tau)) and the clip norm C on the clipping DE (plrf.privacy.utility). The optimum of each
(d, epsilon, schedule) is re-run by Monte Carlo (eigen path, explicit per-sample gradients) as a check
of the DE there. Also printed: the best non-private one-pass risk, the utility loss over it and its
fitted power of d / n at each epsilon, and C over the typical per-sample gradient norm at the end of
the run (sqrt(tr K * 2 P_final)). Needs dp-accounting (pip install "plrf[privacy]") and matplotlib.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

import plrf
from plrf.cli.bench import machine_line
from plrf.privacy import utility

N, B, DELTA = 4000, 4, 1e-5
DS = (100, 200, 400)
EPSILONS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def mc_check(spec, p, steps, seeds):
    lr = p.lr if p.tau is None else plrf.Schedule.power_law(p.lr, p.tau, -1.0)
    opt = plrf.chain(plrf.sgd(lr), plrf.clip(p.clip_factor * utility.typical_norm(spec), p.noise_multiplier))
    r = plrf.simulate(spec, opt, steps, B, seeds=seeds, record=[steps], progress=False).risk[:, -1]
    return r.mean(), r.std(ddof=1) / math.sqrt(seeds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--beta", type=float, default=0.5)
    ap.add_argument("--out", default="docs/privacy_utility.png")
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--small", action="store_true", help="two epsilons, d = 100 and 200 (a smoke test)")
    args = ap.parse_args()
    ds, epsilons = (DS[:2], EPSILONS[1::3]) if args.small else (DS, EPSILONS)
    t0 = time.perf_counter()
    print(f"plrf {plrf.__version__}, isa {plrf._core.isa()} ({machine_line()})", flush=True)
    print(f"alpha = {args.alpha}, beta = {args.beta}, n = {N}, B = {B}, delta = {DELTA}; one pass, add/remove adjacency")
    print("| d | epsilon | s | schedule | DE risk | MC risk (± s.e.) | utility loss | lr0 | tau | C / typical |"
          " C / final typical |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    results = {}
    for d in ds:
        spec = plrf.Spectrum.theory(args.alpha, args.beta, d)
        base = utility.nonprivate_risk(spec, N, B)
        pts = utility.curve(spec, N, B, epsilons, DELTA)
        results[d] = (base, pts)
        for p in pts:
            mean, se = mc_check(spec, p, N // B, args.seeds)
            final = utility.typical_norm(spec) * math.sqrt(p.risk / spec.risk0)
            tau = "-" if p.tau is None else f"{p.tau:g}"
            print(f"| {d} | {p.epsilon:g} | {p.noise_multiplier:.3g} | {p.schedule} | {p.risk:.4g} | {mean:.4g} ± "
                  f"{se:.2g} | {p.risk - base:.3g} | {p.lr:.3g} | {tau} | {p.clip_factor:g} | "
                  f"{p.clip_factor * utility.typical_norm(spec) / final:.2g} |", flush=True)
        print(f"| {d} | oo (non-private) | 0 | best | {base:.4g} | | 0 | | | | |")
    print("\nfitted utility loss ~ (d/n)^k at each epsilon (best schedule; least squares on log-log over d):")
    for i, eps in enumerate(epsilons):
        loss = [min(p.risk for p in results[d][1] if p.epsilon == eps) - results[d][0] for d in ds]
        k = np.polyfit(np.log(np.asarray(ds) / N), np.log(loss), 1)[0]
        print(f"  epsilon = {eps:g}: k = {k:.2f}  (losses {', '.join(f'{x:.3g}' for x in loss)})")
    figure(results, epsilons, args.out, args.alpha, args.beta)
    print(f"figure: {args.out}  ({time.perf_counter() - t0:.0f} s)")


def figure(results, epsilons, out, alpha, beta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, (d, (base, pts)) in enumerate(results.items()):
        color = f"C{i}"
        for sch, style in (("decaying", "-"), ("constant", "--")):
            ax.plot(epsilons, [p.risk for p in pts if p.schedule == sch], style, color=color, marker="o", ms=3,
                    label=f"d = {d}, {sch} lr")
        ax.axhline(base, color=color, lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlabel="epsilon (delta = 1e-5, one pass)", ylabel="best final risk (DE)",
           title=f"DP-SGD on PLRF: alpha = {alpha}, beta = {beta}, n = {N}, B = {B}")
    ax.legend(fontsize=7)
    fig.text(0.01, 0.01, f"bench/privacy_utility.py, plrf {plrf.__version__}; dotted: non-private", fontsize=6)
    fig.tight_layout()
    fig.savefig(out, dpi=130)


if __name__ == "__main__":
    main()
