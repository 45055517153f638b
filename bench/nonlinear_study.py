"""The tables and figures of docs/nonlinear.md, in one command (< 15 min on 2 cores):

    PYTHONPATH=python python bench/nonlinear_study.py [--quick]

1. Is the eigenvalue exponent preserved? For each activation and alpha, across d: the fitted slope of
   -ln lambda_j against ln j of the exact feature covariance (plrf.nonlinear) on two windows,
   over 3 W seeds (mean and [min, max]), next to the linear 2 alpha.
2. How far is the Gaussian equivalent from the nonlinear dynamics? The honest nonlinear Monte Carlo
   (simulate(space="full")) against the exact engine and the eigenbasis Monte Carlo on the same
   (lambda, rho, P_inf): the relative risk-curve error over t, for SGD and DANA-decaying, three
   (alpha, beta), ReLU and tanh; the fitted loss exponents; the compute-optimal exponents.
Figures: docs/nonlinear_exponents.png, docs/nonlinear_ge_error.png. Tables: printed (markdown).
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import plrf
from plrf import nonlinear

DOCS = __import__("pathlib").Path(__file__).resolve().parents[1] / "docs"
ACTS = ("identity", "relu", "tanh", "erf", "gelu")
UNIT = ("tanh", "erf", "gelu")  # non-homogeneous: run at unit pre-activation variance


def unit_scale(alpha, d, v):
    """The preactivation_scale that makes Var u_i ~ 1: E Var(W^T x)_i = tr D / d for W ~ N(0, 1/d)."""
    return float(np.sqrt(d / np.sum(np.arange(1, v + 1) ** (-2.0 * alpha))))


def problem(alpha, beta, d, act, seed=0):
    scale = unit_scale(alpha, d, 4 * d) if act in UNIT else 1.0
    return plrf.PLRF(alpha, beta, d, seed=seed, activation=act, preactivation_scale=scale)


def slope(lam, lo, hi):
    j = np.arange(1, len(lam) + 1)
    m = (j >= lo) & (j <= hi)
    return -np.polyfit(np.log(j[m]), np.log(lam[m]), 1)[0]


# ---- 1. exponents --------------------------------------------------------------------------------
def exponents(alphas, ds, w_seeds):
    rows, curves = [], {}
    for alpha in alphas:
        for d in ds:
            per = {a: [] for a in ACTS}
            for w in w_seeds:
                lin = plrf.PLRF(alpha, 0.5, d, seed=w).spectrum()  # S = U diag(lambda) U^T, c = S theta*
                U, lam = lin.eigenvectors, lin.eigenvalues
                S = (U * lam) @ U.T
                S = 0.5 * (S + S.T)
                c = S @ lin.theta_star
                for a in ACTS:
                    act = nonlinear.resolve(a, unit_scale(alpha, d, 4 * d) if a in UNIT else 1.0)
                    K = nonlinear.feature_moments(S, c, 1.0, act)[0] if a != "identity" else S
                    ev = np.linalg.eigvalsh(K)[::-1]
                    per[a].append((slope(ev, 5, d // 10), slope(ev, d // 10, d // 2)))
                    if w == w_seeds[0] and d == ds[-1]:
                        curves[(alpha, a)] = ev
            for a in ACTS:
                s = np.array(per[a])
                rows.append((alpha, d, a, s[:, 0].mean(), s[:, 0].min(), s[:, 0].max(),
                             s[:, 1].mean(), s[:, 1].min(), s[:, 1].max()))
    return rows, curves


def print_exponents(rows):
    print("\n| 2 alpha | d | activation | slope j in [5, d/10]: mean [min, max] | slope j in [d/10, d/2] |")
    print("|---|---|---|---|---|")
    for alpha, d, a, m1, l1, h1, m2, l2, h2 in rows:
        print(f"| {2 * alpha:g} | {d} | {a} | {m1:.3f} [{l1:.3f}, {h1:.3f}] | {m2:.3f} [{l2:.3f}, {h2:.3f}] |")


# ---- 2. the Gaussian equivalent against the nonlinear Monte Carlo ----------------------------------
def optimizers(spec):
    """plrf.defaults' SGD and DANA-decaying, with DANA's gamma3 = 0.1 / max(1, tr K): the recipe's 0.1
    assumes tr K = O(1), and tanh at unit pre-activation variance has tr K ~ d / 3 (it diverged)."""
    opts = plrf.defaults(spec, 1)
    d = opts["dana_decaying"]
    alpha = spec.meta["alpha"]
    delta = max(2.0 + (2.0 * spec.meta["beta"] - 1.0) / alpha, 2.0 - 1.0 / alpha) + 1.0  # the recipe's
    dana = plrf.dana_decaying(d.gamma2.c, 0.1 / max(1.0, spec.trace), delta, alpha)
    return {"sgd": opts["sgd"], "dana_decaying": dana}


def ge_error(cases, acts, d, steps, seeds):
    warnings.simplefilter("ignore", plrf.DivergenceWarning)  # counted in the table instead
    out = {}
    record = plrf.record_grid(steps)
    for alpha, beta in cases:
        for a in acts:
            p = problem(alpha, beta, d, a)
            spec = p.spectrum()
            for name, opt in optimizers(spec).items():
                mc = plrf.simulate(p, opt, steps, seeds=seeds, record=record, space="full", progress=False)
                eig = plrf.simulate(spec, opt, steps, seeds=seeds, record=record, progress=False)
                ex = plrf.exact_risk(spec, opt, steps, record=record, progress=False)
                out[(alpha, beta, a, name)] = (record, mc, eig, ex, spec)
    return out


def loss_exponent(t, P, window, p_inf):
    """The exponent of P - P_inf (the decaying part a researcher fits), on `window` (None: searched)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plrf.fit.power_law(t, P, window=window, p_inf=p_inf)


def print_ge(res):
    print("\n| (alpha, beta) | activation | optimizer | max rel. err. exact vs MC, t >= 10 | at t = steps | "
          "max |z| exact vs full-MC | max |z| eigen-MC vs full-MC | diverged seeds full / eigen | loss exponent: exact | full MC [95%] | window |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (alpha, beta, a, name), (t, mc, eig, ex, spec) in res.items():
        m = t >= 10
        rel = np.abs(ex.risk / mc.mean - 1.0)
        z = np.abs(eig.mean - mc.mean) / np.hypot(eig.sem, mc.sem)
        z_ex = np.abs(ex.risk - mc.mean) / mc.sem
        if not np.all(np.isfinite(mc.mean)) or not np.all(np.isfinite(ex.risk)):
            print(f"| ({alpha:g}, {beta:g}) | {a} | {name} | diverged: {int((~mc.ok).sum())} of {len(mc.seeds)} |")
            continue
        f_ex = loss_exponent(t[t > 0], ex.risk[t > 0], None, spec.p_inf)
        f_mc = loss_exponent(t[t > 0], mc.mean[t > 0], f_ex.window, spec.p_inf)
        print(f"| ({alpha:g}, {beta:g}) | {a} | {name} | {rel[m].max():.3f} | {rel[-1]:.3f} | {np.nanmax(z_ex[m]):.2f} | {np.nanmax(z[m]):.2f} | "
              f"{int((~mc.ok).sum())} / {int((~eig.ok).sum())} of {len(mc.seeds)} | {f_ex.exponent:.3f} | {f_mc.exponent:.3f} [{f_mc.interval[0]:.3f}, {f_mc.interval[1]:.3f}] | "
              f"{f_ex.window[0]:.3g}-{f_ex.window[1]:.3g} |")


def frontier_exponents(alpha, beta, act, ds, steps, seeds):
    mc_curves, ge_curves = {}, {}
    for d in ds:
        p = problem(alpha, beta, d, act)
        spec = p.spectrum()
        opt = plrf.defaults(spec, 1)["sgd"]
        rec = plrf.record_grid(steps)
        mc = plrf.simulate(p, opt, steps, seeds=seeds, record=rec, space="full", progress=False)
        ex = plrf.exact_risk(spec, opt, steps, record=rec, progress=False)
        mc_curves[d], ge_curves[d] = (rec, mc.mean), (rec, ex.risk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {k: plrf.frontier.frontier(c, batch=1, n_boot=200) for k, c in (("full MC", mc_curves),
                                                                                 ("exact (GE)", ge_curves))}


# ---- figures ---------------------------------------------------------------------------------------
def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def exponent_figure(curves, alphas, d):
    plt = _plt()
    fig, axes = plt.subplots(1, len(alphas), figsize=(5 * len(alphas), 4))
    for ax, alpha in zip(np.atleast_1d(axes), alphas):
        for a in ACTS:
            ev = curves[(alpha, a)]
            j = np.arange(1, len(ev) + 1)
            ax.loglog(j, ev / ev[1], label=a)
        ax.loglog(j, (j / 2.0) ** (-2 * alpha), "k:", label=f"j^-{2 * alpha:g}")
        ax.set(title=f"2 alpha = {2 * alpha:g}, d = {d}", xlabel="j", ylabel="lambda_j / lambda_2")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(DOCS / "nonlinear_exponents.png", dpi=90)


def ge_figure(res):
    plt = _plt()
    cases = sorted({k[:2] for k in res})
    fig, axes = plt.subplots(2, len(cases), figsize=(5 * len(cases), 7), sharex=True)
    for col, case in enumerate(cases):
        for (alpha, beta, a, name), (t, mc, eig, ex, _) in res.items():
            if (alpha, beta) != case or not np.all(np.isfinite(mc.mean)):
                continue
            m = t > 0
            ls = "-" if name == "sgd" else "--"
            axes[0, col].loglog(t[m], mc.mean[m], ls, label=f"{a} {name} full MC")
            axes[0, col].loglog(t[m], ex.risk[m], ls, color="k", lw=0.6)
            axes[1, col].semilogx(t[m], ex.risk[m] / mc.mean[m] - 1.0, ls, label=f"{a} {name}")
            axes[1, col].fill_between(t[m], -2 * mc.sem[m] / mc.mean[m], 2 * mc.sem[m] / mc.mean[m], alpha=0.1)
        axes[0, col].set(title=f"(alpha, beta) = {case}", ylabel="risk (black: exact GE)")
        axes[1, col].set(xlabel="t", ylabel="exact GE / full MC - 1")
        axes[1, col].axhline(0, color="k", lw=0.5)
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(DOCS / "nonlinear_ge_error.png", dpi=90)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run, not the docs' numbers)")
    ap.add_argument("--part", default="exponents,ge,frontier", help="comma-separated parts to run (default all)")
    args = ap.parse_args()
    q, parts = args.quick, args.part.split(",")
    t0 = time.time()
    print(f"plrf {plrf.__version__}, isa {plrf._core.isa()}; timings on a shared machine")
    alphas = (0.75, 1.0)
    ds = (125, 250) if q else (250, 500, 1000, 2000)
    if "exponents" in parts:
        rows, curves = exponents(alphas, ds, (0, 1) if q else (0, 1, 2))
        print_exponents(rows)
        exponent_figure(curves, alphas, ds[-1])
        print(f"[exponents: {time.time() - t0:.0f} s]")
    t1 = time.time()
    if "ge" in parts:
        cases = ((1.0, 0.7), (1.0, 0.3), (0.75, 0.6))
        res = ge_error(cases, ("relu", "tanh"), 32 if q else 64, 2000 if q else 20000, 10 if q else 40)
        print_ge(res)
        ge_figure(res)
        print(f"[Gaussian equivalent: {time.time() - t1:.0f} s]")
    t2 = time.time()
    if "frontier" not in parts:
        return
    fronts = frontier_exponents(1.0, 0.7, "relu", (8, 16, 32) if q else (16, 32, 64, 128),
                                3000 if q else 100000, 4 if q else 8)
    print("\ncompute-optimal exponents, relu, SGD, (alpha, beta) = (1, 0.7):")
    for k, f in fronts.items():
        print(f"  {k:11s} {f.isoflop}\n  {'':11s} {f.approach1}")
    print(f"[frontier: {time.time() - t2:.0f} s]")
    print(f"total {time.time() - t0:.0f} s wall, {time.process_time():.0f} s CPU (this process; BLAS threads included)")


if __name__ == "__main__":
    main()
