"""Loss and compute-optimal exponents of signSGD and Adam on PLRF, next to SGD and DANA-decaying -> the
table of docs/coordinatewise.md "Scaling laws" (printed) and docs/coordinatewise_exponents.png.

For each (alpha, beta) in CASES (phases Ia, II and III; the points of docs/exponents.md; --cases picks some):
- signSGD and Adam: Monte Carlo means (space="param") at d in D_MC, B = 1, each d run to the same flop
  budget MC_FLOPS = t d (so t = MC_FLOPS / d steps: the frontier's budgets are reached by every d), with
  `seeds` seeds at d <= 256 and half that above (a step's cost is linear in the seeds at small d, where
  it is cheap, and nearly flat at d >= 1024, where the d x d products are memory-bound). Their lr is
  set per d from the signSGD deterministic equivalent's fixed point (plrf.sign_de): the lr whose noise
  floor sits FLOOR (1.25) times the capacity limit p_inf, lr = (p_inf / 2) / (sqrt(2.5 p_inf) (pi/4)
  sum_i sqrt(K_ii)), about 0.03-0.1 / d. Adam runs at the same lr (beta1 0.9, beta2 0.999): its
  per-coordinate step is of the same size.
- signSGD's deterministic equivalent (the S = D^{-1/4} K D^{-1/4} recursion, approximate) at the Monte
  Carlo sizes and beyond, D_DE, where Monte Carlo does not reach.
- SGD and DANA-decaying: the exact recursion at the same d, with the authors' recipe (plrf.defaults).
Loss exponent: plrf.fit.power_law of E[P] - p_inf against steps (automatic window; SGD and DANA inside
plrf.theory.shape's window), 95% intervals. Compute-optimal: plrf.frontier (IsoFLOP) over the d's; the
signSGD DE's eta also on the Monte Carlo's design ("signSGD DE @MC": its curves cut at MC_FLOPS / d, at
the d's of D_MC), the like-for-like comparison with the Monte Carlo.
Theory (plrf.theory): SGD and DANA-decaying, the exponent of the term plrf.theory.shape gives the fit's
window (F_pp in phases Ia and II: sigma = (2 alpha + 2 beta - 1) / (2 alpha), DANA-decaying's
sigma (2 - 1 / (2 alpha))), and compute_optimal's eta. For signSGD and Adam we derive (docs/coordinatewise.md):
their step is normalised by sqrt(R), so the drift runs in the time tau with d tau / dt ~ lr / sqrt(P);
with P ~ tau^-sigma that gives P ~ t^-(2 sigma / (2 - sigma)) (sigma < 2) until the lr's floor. That
drops the noise, so it applies only where F_pp dominates SGD's curve (not in phase III: "no theory").

    PYTHONPATH=python python bench/coordinatewise_exponents.py --cases Ia II --figure docs/coordinatewise_exponents.png
    PYTHONPATH=python python bench/coordinatewise_exponents.py --cases III --figure docs/coordinatewise_exponents_III.png
"""
from __future__ import annotations

import argparse
import math
import warnings

import numpy as np

import plrf
from plrf import theory
from plrf.cli.bench import machine_line
from plrf.fit import power_law
from plrf.frontier import frontier
from plrf.sign_de import sign_sgd_de

CASES = {"Ia": (1.0, 0.3), "II": (1.0, 0.7), "III": (0.7, 1.0)}
D_MC = (64, 128, 256, 512, 1024)
D_DE = (64, 128, 256, 512, 1024, 2048)
MC_FLOPS = 2**25  # t d of every Monte Carlo run (interior optima at d* = 128-512 on the DE's frontier)
FLOOR = 1.25  # signSGD's fixed-point risk / p_inf at the chosen lr
OPTIMIZERS = ("signSGD", "Adam", "signSGD DE", "SGD", "DANA-decaying")
NORMALISED = ("signSGD", "Adam", "signSGD DE")


def mc_seeds(d, seeds):
    """Seeds at d: `seeds` up to d = 256, half above (see the module docstring)."""
    return seeds if d <= 256 else max(2, seeds // 2)


def sign_lr(spec):
    """The lr whose signSGD fixed point is FLOOR p_inf: R2 - 2 p_inf = a sqrt(R2), a = (pi/4) lr sum sqrt(K_ii)."""
    U, lam = spec.eigenvectors, spec.eigenvalues
    root_diag = np.sqrt(np.einsum("ij,j,ij->i", U, lam, U)).sum()
    r2 = 2 * FLOOR * spec.p_inf
    return (r2 - 2 * spec.p_inf) / math.sqrt(r2) / (math.pi / 4 * root_diag)


def grid(steps):
    return np.unique(np.geomspace(1, steps, 30 * int(math.log10(steps)) + 1).astype(np.int64))


def curves_at(alpha, beta, d, steps, seeds, mc):
    """{optimizer: (steps, E[P])} at one d (Monte Carlo only when mc). steps = (Monte Carlo flop budget,
    signSGD DE, exact recursion): the DE and the recursion cost O(d) a step, so they run further."""
    problem = plrf.PLRF(alpha=alpha, beta=beta, d=d, v=2 * d, seed=0)
    spec = problem.spectrum()
    lr = sign_lr(spec)
    rec = grid(steps[1])
    out = {"signSGD DE": (rec, sign_sgd_de(spec, lr, steps[1], record=rec).risk)}
    if mc:
        n = steps[0] // d
        rec = grid(n)
        for name, opt in (("signSGD", plrf.sign_sgd(lr)), ("Adam", plrf.adam(lr))):
            c = plrf.simulate(problem, opt, n, seeds=mc_seeds(d, seeds), record=rec, space="param", progress=False)
            out[name] = (rec, c.risk.mean(0))
    rec = grid(steps[2])
    opts = plrf.defaults(spec, 1)
    for name, key in (("SGD", "sgd"), ("DANA-decaying", "dana_decaying")):
        out[name] = (rec, plrf.exact_risk(spec, opts[key], steps[2], record=rec, progress=False).risk)
    return spec, lr, out


def derivation_applies(alpha, beta):
    """The [D] derivation drops the noise: it holds where SGD's longest decaying stretch is F_pp."""
    return theory.shape(alpha, beta, "sgd", d=max(D_DE), batch=1).stretch().term == "F_pp"


def theory_loss(alpha, beta, name, fit=None, d=max(D_DE)):
    """Predicted loss exponent: SGD and DANA, the term theory gives the fit's window (without a fit, its
    longest decaying stretch at d); signSGD and Adam, 2 sigma / (2 - sigma) where the derivation
    applies, else NaN ("no theory")."""
    if name in ("SGD", "DANA-decaying"):
        if fit is not None and math.isfinite(fit.theory):
            return fit.theory
        return theory.shape(alpha, beta, name.lower().replace("-", "_"), d=d, batch=1).stretch().slope
    s = theory.sigma(alpha, beta)
    return 2 * s / (2 - s) if s < 2 and derivation_applies(alpha, beta) else math.nan


def theory_eta(alpha, beta, name):
    key = {"SGD": "sgd", "DANA-decaying": "dana_decaying"}.get(name)
    return theory.compute_optimal(alpha, beta, key).eta if key else math.nan


def loss_fit(alpha, beta, name, d, t, P, p_inf):
    """plrf.fit.power_law of E[P] - p_inf, or None where the record holds no window to fit."""
    shape = None
    if name in ("SGD", "DANA-decaying"):
        shape = theory.shape(alpha, beta, name.lower().replace("-", "_"), d=d, batch=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return power_law(t, np.maximum(P - p_inf, 1e-300), theory=shape)
        except ValueError:  # too few points in the window (a tiny run, or theory's window past the record)
            return None


def iso(curves):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # edge budgets are reported in the fit's own flags
        return frontier(curves, 1, n_boot=300).isoflop


def verdict(iv, th, reliable):
    if not math.isfinite(th):
        return "no theory"
    if not reliable:
        return "not settled"
    # one finite d: "off at this d" is not a refutation (docs/exponents.md extrapolates d -> infinity for that)
    return "consistent" if iv[0] <= th <= iv[1] else "off at this d"


def measure(alpha, beta, steps, seeds, d_mc=D_MC, d_de=D_DE):
    """{optimizer: {d: (fit, lr)}}, {optimizer: IsoFLOP fit}, and the curves at the largest MC d."""
    fits, curves, big = {n: {} for n in OPTIMIZERS}, {n: {} for n in OPTIMIZERS}, None
    for d in sorted(set(d_mc) | set(d_de)):
        spec, lr, out = curves_at(alpha, beta, d, steps, seeds, d in d_mc)
        for name, (t, P) in out.items():
            fits[name][d] = (loss_fit(alpha, beta, name, d, t, P, spec.p_inf), lr)
            curves[name][d] = (t, P)
        if d == max(d_mc):
            big = (d, spec.p_inf, out)
    # the DE on the Monte Carlo's design (its d's, cut at the same t = MC_FLOPS / d): like for like
    curves["signSGD DE @MC"] = {d: (t[t <= steps[0] // d], P[t <= steps[0] // d])
                                for d, (t, P) in curves["signSGD DE"].items() if d in d_mc}
    fits["signSGD DE @MC"] = {d: fits["signSGD DE"][d] for d in curves["signSGD DE @MC"]}
    isos = {name: iso(c) for name, c in curves.items() if len(c) >= 3}
    return fits, isos, big


def _iv(x, iv):
    return f"{x:.3f} [{iv[0]:.3f}, {iv[1]:.3f}]"


def _loss_rows(alpha, beta, fits):
    for name, per_d in fits.items():
        if name.endswith("@MC"):  # the same fits as "signSGD DE" (only its eta differs)
            continue
        for d, (f, lr) in per_d.items():
            th = theory_loss(alpha, beta, name, f, d)
            if f is None:
                yield f"| {name} | {d} | - | no window in the record | {th:.3g} | not settled |"
                continue
            lr_cell = f"{lr:.3g}" if name in NORMALISED else "recipe"
            flag = "" if f.reliable else " *"
            term = f" {f.term}" if f.term else ""
            yield (f"| {name} | {d} | {lr_cell} | {_iv(f.exponent, f.interval)}{flag} ({f.window[0]:.3g}-"
                   f"{f.window[1]:.3g}) | {th:.3g}{term} | {verdict(f.interval, th, f.reliable)} |")


def _eta_rows(alpha, beta, fits, isos):
    for name, fit in isos.items():
        try:
            th = theory_eta(alpha, beta, name)
        except NotImplementedError:  # e.g. DANA-decaying in phase III: theory.md gives no formula
            th = math.nan
        ok = fit.reliable and math.isfinite(fit.eta)
        ds = sorted(fits[name])
        flag = "" if ok else " * (" + "; ".join(fit.reasons)[:80] + ")"
        yield (f"| {name} | {ds[0]}-{ds[-1]} ({len(ds)}) | {_iv(fit.eta, fit.eta_interval)}{flag} | "
               f"{_iv(fit.xi, fit.xi_interval)} | {th:.3g} | {verdict(fit.eta_interval, th, ok)} |")


def print_case(alpha, beta, fits, isos):
    print(f"\n### PLRF alpha = {alpha:g}, beta = {beta:g} (phase {theory.phase(alpha, beta)}, "
          f"sigma = {theory.sigma(alpha, beta):.3g})\n")
    print("| optimizer | d | lr | loss exponent [95%] (window) | theory | verdict |\n|---|---|---|---|---|---|")
    print("\n".join(_loss_rows(alpha, beta, fits)))
    print("\n| optimizer | d's | eta (P* ~ f^-eta) [95%] | xi [95%] | theory eta | verdict |\n|---|---|---|---|---|---|")
    print("\n".join(_eta_rows(alpha, beta, fits, isos)))


def figure(results, path):
    """Per case: E[P] - p_inf at the largest Monte Carlo d (left), the loss exponent against d (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 2, figsize=(12, 4.2 * len(results)), squeeze=False)
    styles = dict(zip(OPTIMIZERS, ("C0", "C1", "C0--", "C2", "C3")))
    for row, (alpha, beta, fits, _, big) in zip(axes, results):
        d, p_inf, out = big
        for name, (t, P) in out.items():
            row[0].loglog(t, np.where(P > p_inf, P - p_inf, np.nan), styles[name], label=name)
        row[0].set(xlabel="steps t", ylabel="E[P] - p_inf", title=f"α = {alpha:g}, β = {beta:g}, d = {d}")
        row[0].legend(fontsize=8)
        for name, per_d in fits.items():
            if name not in styles:  # "signSGD DE @MC": the DE's own fits
                continue
            ds = [k for k in sorted(per_d) if per_d[k][0] is not None]
            ex = np.array([per_d[k][0].exponent for k in ds])
            lo = ex - np.array([per_d[k][0].interval[0] for k in ds])
            hi = np.array([per_d[k][0].interval[1] for k in ds]) - ex
            row[1].errorbar(ds, ex, yerr=[lo, hi], fmt="o", color=styles[name][:2], capsize=3, label=name,
                            ls="--" if "DE" in name else "-")
            th = theory_loss(alpha, beta, name, per_d[ds[-1]][0] if ds else None)
            if math.isfinite(th):
                row[1].axhline(th, color=styles[name][:2], lw=0.8, ls=":")
        row[1].set(xscale="log", xlabel="d", ylabel="loss exponent (dotted: theory)",
                   title=f"phase {theory.phase(alpha, beta)}: fitted loss exponent of E[P] - p_inf")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, nargs=3, default=[MC_FLOPS, 2**19, 2**23],
                    help="the Monte Carlo's flop budget t d (steps MC_FLOPS / d at each d), the steps of the "
                         "signSGD DE and of the exact recursion")
    ap.add_argument("--seeds", type=int, default=16, help="Monte Carlo seeds at d <= 256 (half above)")
    ap.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES),
                    help="phases to run (default all)")
    ap.add_argument("--d-mc", type=int, nargs="+", default=list(D_MC))
    ap.add_argument("--d-de", type=int, nargs="+", default=list(D_DE))
    ap.add_argument("--figure", default=None)
    a = ap.parse_args(argv)
    print(machine_line())
    results = []
    for alpha, beta in (CASES[c] for c in a.cases):
        fits, isos, big = measure(alpha, beta, a.steps, a.seeds, a.d_mc, a.d_de)
        print_case(alpha, beta, fits, isos)
        results.append((alpha, beta, fits, isos, big))
    if a.figure:
        figure(results, a.figure)
    return results


if __name__ == "__main__":
    main()
