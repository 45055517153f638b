"""Batch-size scaling rules on PLRF for kappa = 1 .. 64: tables (markdown, printed) and docs/scaling_rules.png.

  Adam and RMSprop, square-root rule (Malladi et al.): batch kappa B, lr sqrt(kappa) lr, 1 - b1 and 1 - b2
  times kappa, eps / sqrt(kappa) (Monte Carlo, space="param"). b1 = 1 - kappa (1 - b1) reaches 0 at
  kappa = 1 / (1 - b1) = 10 and is clamped at 0 beyond, so the rule cannot hold there.
  SGD, linear rule: batch kappa B, lr kappa lr (the exact recursion, no sampling error).

Every run is compared at the same number of samples n = kappa B t with kappa = 1. The rule "breaks" at
kappa when its late-time ratio (E[P] averaged over the record points with n >= samples / 4, relative to
kappa = 1) leaves 1 by more than BREAK_REL (10%) and by more than BREAK_Z (3) standard errors (SGD: by
more than 10%, or it diverges). Two problems: PLRF alpha = 1, beta = 0.5 (phase II) and alpha = 0.7,
beta = 1 (phase III), d = 128, v = 2d, seeds 0 .. seeds-1 (so the numbers reproduce exactly).

    PYTHONPATH=python python bench/scaling_rules_table.py                       # tables (~7 min wall on 2 cores at load 8)
    PYTHONPATH=python python bench/scaling_rules_table.py --figure docs/scaling_rules.png
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np

import plrf
from plrf.cli.bench import machine_line

KAPPAS = (1, 2, 4, 8, 16, 32, 64)
PROBLEMS = ((1.0, 0.5), (0.7, 1.0))
BREAK_REL, BREAK_Z = 0.10, 3.0
LATE = 0.25  # the late-time window: n >= LATE * samples
ADAM = dict(lr=2e-3, b1=0.9, b2=0.999, eps=1e-8)
RMSPROP = dict(lr=2e-3, b2=0.99, eps=1e-8)
SGD_FRACTION = 0.3  # SGD's base lr as a fraction of plrf.max_stable_lr at B = 1


def _beta(kappa, b):
    """1 - kappa (1 - b), clamped at 0 where the rule asks for a negative beta."""
    return max(0.0, 1.0 - kappa * (1.0 - b))


def adam_rule(kappa, lr, b1, b2, eps):
    """The square-root rule's Adam at kappa."""
    s = math.sqrt(kappa)
    return plrf.adam(lr * s, _beta(kappa, b1), _beta(kappa, b2), eps / s)


def rmsprop_rule(kappa, lr, b2, eps):
    """The square-root rule's RMSprop at kappa."""
    s = math.sqrt(kappa)
    return plrf.rmsprop(lr * s, _beta(kappa, b2), eps / s)


def sample_grid(samples, base=None):
    """Record points n (multiples of max(KAPPAS), so every kappa records at the same n), geometric."""
    step = max(KAPPAS)
    grid = np.unique(np.round(np.geomspace(step, samples, 24) / step).astype(int) * step)
    return [int(n) for n in grid if n <= samples]


@dataclass
class RuleRun:
    """E[P] at the sample points of one kappa, its standard error (0 for the exact recursion), and the
    late-time mean per seed (the break criterion's statistic)."""

    kappa: int
    mean: np.ndarray
    se: np.ndarray
    late: np.ndarray  # per seed (MC) or one value (exact)


def mc_rule(problem, make, samples, points, seeds, kappas=KAPPAS):
    """Monte Carlo (space="param") of make(kappa) at batch kappa, for every kappa; seeds: a count or a list."""
    late = np.asarray(points) >= LATE * samples
    runs = []
    for kappa in kappas:
        with plrf.errstate(divergence="ignore"):
            c = plrf.simulate(problem, make(kappa), samples // kappa, batch=kappa, seeds=seeds,
                              record=[n // kappa for n in points], space="param", progress=False)
        r = c.risk
        runs.append(RuleRun(kappa, r.mean(0), r.std(0, ddof=1) / math.sqrt(len(r)), r[:, late].mean(1)))
    return runs


def sgd_rule(spectrum, lr, samples, points):
    """The exact recursion of SGD at batch kappa, lr kappa lr, for every kappa."""
    late = np.asarray(points) >= LATE * samples
    runs = []
    for kappa in KAPPAS:
        with plrf.errstate(divergence="ignore"):  # past the stability bound the table says "diverges"
            c = plrf.exact_risk(spectrum, plrf.sgd(lr * kappa), samples // kappa, batch=kappa,
                                record=[n // kappa for n in points])
        r = np.asarray(c.risk, dtype=float)
        runs.append(RuleRun(kappa, r, np.zeros_like(r), np.array([r[late].mean()])))
    return runs


def late_ratio(run, base):
    """(late-time E[P] / its kappa = 1 value - 1, standard error); the seeds of two kappas are independent
    draws (a different batch), so the error adds in quadrature (delta method)."""
    m, m0 = run.late.mean(), base.late.mean()
    if len(run.late) < 2:
        return m / m0 - 1, 0.0
    v, v0 = run.late.var(ddof=1) / len(run.late), base.late.var(ddof=1) / len(base.late)
    return m / m0 - 1, math.sqrt(v / m0**2 + v0 * m**2 / m0**4)


def breaks(rel, se):
    """The break criterion: |ratio - 1| > BREAK_REL and > BREAK_Z standard errors, or not finite."""
    return not math.isfinite(rel) or (abs(rel) > BREAK_REL and abs(rel) > BREAK_Z * se)


def break_kappa(runs):
    """The smallest kappa where the rule breaks, or None within KAPPAS."""
    for run in runs[1:]:
        if breaks(*late_ratio(run, runs[0])):
            return run.kappa
    return None


def _pct(x, se=None):
    if not math.isfinite(x) or x > 1e6:
        return "diverges"
    if x > 9:
        return f"×{x + 1:.3g}"
    return f"{100 * x:+.1f}%" + ("" if se is None else f" ({100 * se:.1f})")


def table(runs, points, extra):
    """Markdown rows: kappa, the extra columns, E[P] / E[P](kappa = 1) - 1 at a few n, the late ratio, verdict."""
    base = runs[0]
    shown = [i for i, n in enumerate(points) if n in _shown(points)]
    with np.errstate(invalid="ignore", over="ignore"):
        lines = []
        for run in runs:
            rel = run.mean / base.mean - 1
            cells = [_pct(rel[i]) for i in shown]
            late, se = late_ratio(run, base)
            verdict = "breaks" if breaks(late, se) else "holds"
            late_cell = _pct(late, se if len(run.late) > 1 else None)
            lines.append(" | ".join([str(run.kappa), *extra(run.kappa), *cells, late_cell, verdict]))
    return ["| " + line + " |" for line in lines]


def _shown(points):
    """Four record points a decade or so apart for the printed table (the figure shows them all)."""
    picks = np.geomspace(points[0], points[-1], 4)
    return {min(points, key=lambda n: abs(math.log(n / p))) for p in picks}


def header(points, extra_names):
    cols = ["κ", *extra_names, *(f"n = {n}" for n in sorted(_shown(points))), f"late (n ≥ {LATE:g}·N)", "rule"]
    return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]


def run_problem(alpha, beta, d, seeds, samples):
    problem = plrf.PLRF(alpha=alpha, beta=beta, d=d, v=2 * d, seed=0)
    spec = problem.spectrum()
    points = sample_grid(samples)
    sgd_lr = SGD_FRACTION * plrf.max_stable_lr(spec, batch=1)
    rules = {
        "Adam": mc_rule(problem, lambda k: adam_rule(k, **ADAM), samples, points, seeds),
        "RMSprop": mc_rule(problem, lambda k: rmsprop_rule(k, **RMSPROP), samples, points, seeds),
        "SGD": sgd_rule(spec, sgd_lr, samples, points),
    }
    return dict(alpha=alpha, beta=beta, spec=spec, points=points, sgd_lr=sgd_lr, rules=rules)


def print_problem(res, d, seeds):
    a, b, points, spec, lr = res["alpha"], res["beta"], res["points"], res["spec"], res["sgd_lr"]
    print(f"\n### PLRF alpha = {a:g}, beta = {b:g} (phase {plrf.theory.phase(a, b)}), d = {d}, v = {2 * d}, "
          f"{seeds} seeds, N = {points[-1]} samples")
    print(f"\nAdam, square-root rule (base B = 1, lr {ADAM['lr']:g}, β1 {ADAM['b1']}, β2 {ADAM['b2']}, "
          f"ε {ADAM['eps']:g}); E[P]/E[P](κ=1) − 1 (standard error):\n")
    print("\n".join(header(points, ["β1"]) + table(
        res["rules"]["Adam"], points, lambda k: [f"{_beta(k, ADAM['b1']):.1f}"])))
    print(f"\nRMSprop, square-root rule (base B = 1, lr {RMSPROP['lr']:g}, β2 {RMSPROP['b2']}, ε {RMSPROP['eps']:g}):\n")
    print("\n".join(header(points, ["β2"]) + table(
        res["rules"]["RMSprop"], points, lambda k: [f"{_beta(k, RMSPROP['b2']):.2f}"])))
    print(f"\nSGD, linear rule (exact recursion; base B = 1, lr {lr:.3g} = {SGD_FRACTION} · max_stable_lr(B = 1)):\n")
    print("\n".join(header(points, ["lr", "max_stable_lr(B = κ)"]) + table(
        res["rules"]["SGD"], points,
        lambda k: [f"{k * lr:.3g}", f"{plrf.max_stable_lr(spec, batch=k):.3g}"])))
    stable = [k for k in KAPPAS if k * lr >= plrf.max_stable_lr(spec, batch=k)]
    print("\nbreaks at κ = " + ", ".join(f"{name}: {break_kappa(runs)}" for name, runs in res["rules"].items())
          + f"; SGD's κ·lr passes max_stable_lr(B = κ) at κ = {stable[0] if stable else None}")


def figure(res, path):
    """Risk against samples for every kappa, one panel per rule (the first problem)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(KAPPAS)))
    for ax, (name, runs) in zip(axes, res["rules"].items()):
        for run, color in zip(runs, colors):
            ok = np.isfinite(run.mean) & (run.mean < 1e3 * runs[0].mean[0])
            ax.loglog(np.asarray(res["points"])[ok], run.mean[ok], color=color, label=f"κ = {run.kappa}")
        k = break_kappa(runs)
        ax.set_title(f"{name}: " + ("square-root rule" if name != "SGD" else "linear rule")
                     + (f" (breaks at κ = {k})" if k else " (holds to κ = 64)"))
        ax.set_xlabel("samples n = κ B t")
    axes[0].set_ylabel("E[P]")
    axes[-1].legend(fontsize=8)
    fig.suptitle(f"PLRF α = {res['alpha']:g}, β = {res['beta']:g}: E[P] against samples as the batch grows by κ")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--samples", type=int, default=2**15)
    ap.add_argument("--figure", default=None, help="write the figure (first problem) to this path")
    a = ap.parse_args(argv)
    print(machine_line())
    results = []
    for alpha, beta in PROBLEMS:
        res = run_problem(alpha, beta, a.d, a.seeds, a.samples)
        print_problem(res, a.d, a.seeds)
        results.append(res)
    if a.figure:
        figure(results[0], a.figure)
    return results


if __name__ == "__main__":
    main()
