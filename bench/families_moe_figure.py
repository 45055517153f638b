"""docs/families_moe.png: total risk of a Zipf(zeta) mixture of experts against t, with t^-min(sigma, 1 - 1/zeta).

Run: PYTHONPATH=python python bench/families_moe_figure.py [--out docs/families_moe.png]
Setup (docs/families.md §1): lambda_j = j^-2, rho_j = j^-1.4 (d = 500, P_inf = 0), so a single SGD
learner decays like n^-sigma with sigma = 1.2; m = 2000 experts with p_i ~ i^-zeta, B = 1, SGD step 0.2,
method="fast" to T = 1e5. Prints the fitted slope over t in [500, 2e4] next to the predicted exponent.
"""
from __future__ import annotations

import argparse

import numpy as np

import plrf

D, M, T, LR, SIGMA = 500, 2000, 10**5, 0.2, 1.2
FIT = (500, 20_000)  # the window of the groundwork measurement (docs/families.md §1)
ZETAS = (1.5, 2.0, 3.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/families_moe.png")
    args = ap.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    j = np.arange(1, D + 1, dtype=np.float64)
    spec = plrf.Spectrum(j**-2.0, j**-1.4, 0.0)
    rec = plrf.record_grid(T, 20)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for zeta, color in zip(ZETAS, ("C0", "C1", "C2")):
        c = plrf.exact_risk(spec, plrf.chain(plrf.sgd(LR), plrf.Experts.zipf(M, zeta)), T, record=rec, method="fast")
        ax.loglog(rec[1:], c.risk[1:], color=color, label=f"zeta = {zeta:g}")
        expo = plrf.theory.moe_exponent(SIGMA, zeta)
        fit = (rec >= FIT[0]) & (rec <= FIT[1])
        slope = np.polyfit(np.log(rec[fit]), np.log(c.risk[fit]), 1)[0]
        print(f"zeta = {zeta:g}: fitted slope {slope:.3f} on t in [{FIT[0]:g}, {FIT[1]:g}], predicted -{expo:.3f}")
        t = rec[rec >= 100]
        ax.loglog(t, c.risk[-1] * (t / T) ** -expo, color=color, ls="--", lw=1,
                  label=f"t^-{expo:.2f} (min(sigma, 1 - 1/zeta))")
    ax.set_xlabel("step t")
    ax.set_ylabel("total risk  sum_i p_i P_i")
    ax.set_title(f"Zipf mixture of {M} experts, SGD, B = 1, sigma = {SIGMA:g} (exact, method='fast')")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
