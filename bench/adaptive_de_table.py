"""How far is the deterministic equivalent (DE) of an adaptive step size from the truth?

For each controller of plrf.controllers, 2 alpha in {0.6, 1.4, 2} (beta = 0.7), B in {1, 16}:
relative error DE / MC - 1 of E[P] and of the mean learning rate at t = 10, 1e2, 1e3, 1e4, where the
DE is plrf.exact_risk(..., controller=C) and the MC plrf.simulate(..., controller=C) on the eigen path
(fast sampler, exact in law; +- one standard error of the MC mean).

    python bench/adaptive_de_table.py [--seeds 2000] [--d 64] [--json out.json] [--plot out.png]
    python bench/adaptive_de_table.py --scan     # the AdaGrad-Norm default (G, b0) scan (DE and MC)
    python bench/adaptive_de_table.py --exponents 1e7   # DE slopes vs docs/theory.md §12.4 at d = 1e6 (compressed)
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

import plrf
from plrf.cli.bench import machine_line
from plrf import controllers

ALPHAS = (0.3, 0.7, 1.0)
BETA = 0.7
BATCHES = (1, 16)
TIMES = np.array([0, 10, 100, 1000, 10000])
CONTROLLERS = ("adagrad_norm", "polyak", "line_search", "risk_norm", "rmsprop_dana", "ema_norm")


def expected_grad2(spec, batch) -> float:
    """E|g_0|^2 = (1 + 1/B) sum lambda^2 rho + tr K * 2 P_0 / B  (docs/theory.md §12.3)."""
    lam = spec.eigenvalues
    return (1 + 1 / batch) * float(lam**2 @ spec.rho) + spec.trace * 2 * spec.risk0 / batch


def adagrad_defaults(spec, batch, k=None) -> dict:
    """b0 = sqrt(E|g_0|^2); G = k * g2 * sqrt(2) * b0, so the first step is ~ k times the recipe's lr
    g2 = 0.375 min(2/(B+1), 1/tr K). k = 2 sqrt(B) by default: the best or within 0.2% of the best of
    k in {0.5, 1, 2, 4, 8} at t = 1e4 in every cell of the --scan (docs/adaptive.md)."""
    k = 2.0 * math.sqrt(batch) if k is None else k
    b0 = math.sqrt(expected_grad2(spec, batch))
    g2 = plrf.defaults(spec, batch)["sgd"].coefficients(0)["gamma2"]
    return {"G": k * g2 * math.sqrt(2.0) * b0, "b0": b0}


def setup(name, spec, batch):
    """(optimizer, controller): SGD with gamma2 = 1 for the step-size rules (AdaGrad-Norm with its
    default G, b0); DANA-decaying (the recipe) for the risk-normalised modes, gamma3 rescaled by
    sqrt(tr K / B) for the EMA version."""
    sgd1 = plrf.sgd(1.0)
    if name in ("adagrad_norm", "polyak", "line_search"):
        return sgd1, controllers.get(name)
    dana = plrf.defaults(spec, batch)["dana_decaying"]
    if name == "ema_norm":
        k = dana.coefficients
        g3 = k(0)["gamma3"] * math.sqrt(spec.trace / batch)
        alpha = spec.meta["alpha"]
        dana = plrf.dana_decaying(k(0)["gamma2"], g3, k(0)["delta"], alpha)
    return dana, controllers.get(name)


def de_and_mc(spec, opt, ctrl, batch, seeds, steps=int(TIMES[-1])):
    """The DE (exact recursion) and the Monte Carlo (eigen path, fast sampler) of one setting."""
    with plrf.errstate(divergence="ignore"):
        de = plrf.exact_risk(spec, plrf.chain(opt, ctrl), steps, batch=batch, record=TIMES)
        mc = plrf.simulate(spec, plrf.chain(opt, ctrl), steps, batch=batch, seeds=seeds, record=TIMES)
    return de, mc


def mean_sem(mc, which):
    x = getattr(mc, which)[mc.ok]
    return x.mean(axis=0), x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])


def measure(alpha, batch, name, d, seeds):
    spec = plrf.PLRF(alpha, BETA, d, seed=7).spectrum()
    opt, ctrl = setup(name, spec, batch)
    de, mc = de_and_mc(spec, opt, ctrl, batch, seeds)
    out = {"alpha": alpha, "batch": batch, "controller": name, "diverged_mc": int(np.sum(mc.diverged_at >= 0)),
           "diverged_de": int(de.diverged_at)}
    for which, de_curve in (("risk", de.risk), ("lr", de.lr)):
        m, se = mean_sem(mc, which)
        out[which] = {"de": de_curve.tolist(), "mc": m.tolist(), "mc_sem": se.tolist(),
                      "err": (de_curve / m - 1).tolist(), "err_se": (de_curve / m * se / m).tolist()}
    return out


def cell(err, se):
    if not np.isfinite(err):
        return "—"
    return f"{100 * err:+.1f}±{100 * se:.1f}"


def table(rows) -> str:
    head = "| 2α | B | controller | " + " | ".join(f"P t={t:g}" for t in TIMES[1:]) + " | " + \
        " | ".join(f"η t={t:g}" for t in TIMES[1:]) + " |"
    lines = [head, "|" + "---|" * (3 + 2 * (len(TIMES) - 1))]
    for r in rows:
        cells = [cell(r[w]["err"][k], r[w]["err_se"][k]) for w in ("risk", "lr") for k in range(1, len(TIMES))]
        name = r["controller"] + (f" (MC div {r['diverged_mc']})" if r["diverged_mc"] else "")
        lines.append(f"| {2 * r['alpha']:.1f} | {r['batch']} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True)
    color = dict(zip(CONTROLLERS, plt.get_cmap("tab10").colors))
    t = TIMES[1:]
    for j, alpha in enumerate(ALPHAS):
        for r in (r for r in rows if r["alpha"] == alpha):
            for i, which in enumerate(("risk", "lr")):
                err = np.abs(np.array(r[which]["err"][1:]))  # floored at 1e-4 to stay on the log axis
                axes[i, j].loglog(t, np.maximum(err, 1e-4), "-" if r["batch"] == 1 else "--", marker="o", ms=3,
                                  color=color[r["controller"]], label=f"{r['controller']} B={r['batch']}")
        axes[0, j].set_title(f"2α = {2 * alpha:.1f}, β = {BETA}  (solid B = 1, dashed B = 16)")
        for i, what in enumerate(("|DE/MC − 1| of E[P]", "|DE/MC − 1| of mean η")):
            axes[i, j].axhline(0.02, color="k", lw=0.8, ls=":")
            axes[i, j].set_ylabel(what)
            axes[1, j].set_xlabel("step t")
    axes[0, 0].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def scan(d, seeds):
    """DE and MC risk at t = 1e3, 1e4 of AdaGrad-Norm for G = k * (recipe lr) * sqrt(2) * b0."""
    print("| 2α | B | k | DE P(1e3) | MC P(1e3) | DE P(1e4) | MC P(1e4) | SGD recipe P(1e4) |")
    print("|---|---|---|---|---|---|---|---|")
    for alpha in ALPHAS:
        spec = plrf.PLRF(alpha, BETA, d, seed=7).spectrum()
        for batch in BATCHES:
            sgd = plrf.exact_risk(spec, plrf.defaults(spec, batch)["sgd"], 10000, batch=batch, record=TIMES).risk[-1]
            for k in (0.5, 1.0, 2.0, 4.0, 8.0):
                ctrl = controllers.adagrad_norm(**adagrad_defaults(spec, batch, k))
                de, mc = de_and_mc(spec, plrf.sgd(1.0), ctrl, batch, seeds)
                m = mc.mean()
                print(f"| {2 * alpha:.1f} | {batch} | {k:g} | {de.risk[3]:.4g} | {m[3]:.4g} | {de.risk[4]:.4g} | "
                      f"{m[4]:.4g} | {sgd:.4g} |", flush=True)


def exponents(steps, d=1_000_000):
    """Log-log slopes of the DE's learning rate and risk over [steps/100, steps] (AdaGrad-Norm,
    G = 0.5, b0 = 1, B = 1, P_inf = 0) against plrf.adaptive_theory.adagrad_norm_exponents, on
    lambda_k = k^-2alpha, rho_k = k^-2beta (docs/theory.md §12.4's spectrum), compressed to nodes (rtol 1e-4),
    by both DE methods (exact recursion and ODE, dt = 1e-3)."""
    from plrf.adaptive_theory import adagrad_norm_exponents

    rec = np.concatenate([[0], np.unique(np.round(np.geomspace(1, steps, 61)).astype(np.int64))])
    fit_window = rec >= steps / 100
    slope = lambda y: np.polyfit(np.log(rec[fit_window]), np.log(y[fit_window]), 1)[0]
    print(f"d = {d:.0e}, slopes over t in [{steps / 100:.0e}, {steps:.0e}]")
    print("| (α, β) | nodes | method | lr slope | predicted | risk slope | predicted | seconds |\n"
          "|---|---|---|---|---|---|---|---|")
    for alpha, beta in ((1.0, 0.3), (1.0, 0.1), (0.75, 0.2), (1.0, 0.7)):
        k = np.arange(1, d + 1, dtype=float)
        spec = plrf.Spectrum(k ** (-2 * alpha), k ** (-2 * beta), 0.0).compress(1e-4)
        e = adagrad_norm_exponents(alpha, beta)
        for method in ("exact", "ode"):
            t0 = time.perf_counter()
            de = plrf.exact_risk(spec, plrf.chain(plrf.sgd(1.0), controllers.adagrad_norm(G=0.5, b0=1.0)), steps, record=rec, method=plrf.engines.get(method, dt=1e-3))
            print(f"| ({alpha}, {beta}) | {spec.n_nodes} | {method} | {slope(de.lr):.3f} | {-e['lr']:.3f} | "
                  f"{slope(de.risk):.3f} | {-e['risk']:.3f} | {time.perf_counter() - t0:.1f} |", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=2000)
    ap.add_argument("--json")
    ap.add_argument("--plot")
    ap.add_argument("--scan", action="store_true")
    ap.add_argument("--exponents", type=float, metavar="STEPS")
    ap.add_argument("--replot", metavar="JSON", help="redraw --plot from a --json of an earlier run")
    args = ap.parse_args(argv)
    print(machine_line())
    print(f"DE and Monte Carlo on the {plrf._core.isa()} kernels")
    if args.exponents:
        exponents(int(args.exponents))
        return
    if args.scan:
        scan(args.d, max(50, args.seeds // 3))
        return
    if args.replot:
        with open(args.replot) as fh:
            plot(json.load(fh), args.plot)
        return
    rows, t0 = [], time.time()
    for alpha in ALPHAS:
        for batch in BATCHES:
            for name in CONTROLLERS:
                rows.append(measure(alpha, batch, name, args.d, args.seeds))
                print(f"# {2 * alpha:.1f} B={batch} {name}: {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    print(f"d = {args.d}, v = {4 * args.d}, beta = {BETA}, {args.seeds} Monte Carlo seeds; DE/MC - 1 in %, ± 1 s.e.; "
          f"{time.time() - t0:.0f} s\n")
    print(table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh)
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
