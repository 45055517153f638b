"""Why RMSprop's square-root rule breaks at kappa = 4 on phase II (docs/coordinatewise.md "Batch-size
scaling rules"). Three targeted measurements on the table's problems (PLRF alpha = 1, beta = 0.5 and
alpha = 0.7, beta = 1; d = 128, v = 2d, W seed 0) and its break statistic (scaling_rules_table.late_ratio:
E[P] averaged over the record points n >= N/4, per seed, relative to kappa = 1):

1. Replication with fresh seeds (64 .. 64 + seeds - 1, disjoint from the table's 0 .. 63), N = 2^15:
   the late ratio at kappa = 2, 4, 8, its median-over-seeds version, and the share of the late mean that
   the top 5% of seeds carry (is the mean carried by a few runs?).
2. The lr-set floor. Late in a run RMSprop's second moment is noise-dominated, v_i ~ 2 P K_ii / B
   (PLRF's gradient noise covariance (e^T K e + 2 P_inf) K / B, the mean term left out), so RMSprop is
   SGD preconditioned by D^{-1/2} (D = diag K) with lr gamma = lr sqrt(B / (2 P)): plain SGD on
   K~ = D^{-1/4} K D^{-1/4} (plrf.coordinatewise.preconditioned_spectrum). Its floor solves the SGD
   fixed point P = P_inf / (1 - N(gamma(P), B)), N(gamma, B) = sum_j gamma l_j / (B (2 - gamma l_j (1 + 1/B)))
   (l_j the eigenvalues of K~; N is the kernel norm of plrf.exact.max_stable_lr's docstring). Under the
   rule (lr sqrt(kappa), B = kappa) gamma = kappa lr / sqrt(2 P): N keeps its first order (the SDE
   limit, where the floor is kappa-free) and the rest grows with kappa gamma l_max, the discrete step's
   curvature term, which the SDE drops. Printed: that floor per kappa, kappa gamma l_max / 2 (the step's
   fraction of the full-batch bound on K~'s top mode), the Monte Carlo's late E[P] over the floor, and
   the floor with the mean gradient kept in v (floor_with_mean), which the simple model leaves out.
3. The discreteness test: the kappa = 4 late ratio at a smaller base lr (the curvature term shrinks with
   lr, the SDE's prediction does not) and at a longer horizon (N = 2^17, deeper into the floor).

    PYTHONPATH=python python bench/rmsprop_break.py   # 12 min wall on 2 cores at load 1-2
"""
from __future__ import annotations

import argparse
import math
import pathlib
import sys

import numpy as np

import plrf
from plrf.cli.bench import machine_line
from plrf.coordinatewise import preconditioned_spectrum

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import scaling_rules_table as table  # noqa: E402  (the break statistic and the rule, shared)

PROBLEMS = table.PROBLEMS
KAPPAS = (1, 2, 4, 8, 16)
LR = table.RMSPROP["lr"]


def kernel_norm(lam, gamma, batch):
    """N(gamma, B) of SGD on eigenvalues lam (inf where a mode is unstable)."""
    den = 2 - gamma * lam * (1 + 1 / batch)
    return float(np.sum(gamma * lam / (batch * den))) if np.all(den > 0) else math.inf


def floor(lam, p_inf, lr, kappa):
    """RMSprop's floor under the rule at kappa: the P solving P (1 - N(kappa lr / sqrt(2 P), kappa)) = P_inf."""
    def excess(P):
        n = kernel_norm(lam, kappa * lr / math.sqrt(2 * P), kappa)
        return P * (1 - n) - p_inf if n < 1 else -math.inf

    lo, hi = p_inf, p_inf * 2
    while excess(hi) < 0:
        hi *= 2
    for _ in range(200):  # bisection: excess rises with P (gamma falls)
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if excess(mid) < 0 else (lo, mid)
    return hi


def floors(spec, lr=LR):
    """{kappa: (floor, kappa gamma l_max / 2)} on K~ = D^{-1/4} K D^{-1/4}."""
    U, lam = spec.eigenvectors, spec.eigenvalues
    diag = np.einsum("ij,j,ij->i", U, lam, U)
    lt = preconditioned_spectrum(spec, diag**-0.5).eigenvalues
    out = {}
    for k in KAPPAS:
        P = floor(lt, spec.p_inf, lr, k)
        out[k] = (P, k * lr / math.sqrt(2 * P) * lt.max() / 2)
    return out


def floor_with_mean(spec, lr, kappa, iters=2000):
    """The same floor with the mean gradient kept in v: v_i = (1 + 1/B) (K S K)_ii + 2 P K_ii / B, S = E[e e^T]
    the stationary error covariance of the preconditioned SGD (diagonal in the eigenbasis of its K~, a_j =
    gamma l_j 2P / (B (2 - gamma l_j (1 + 1/B))) with gamma = 1 and the preconditioner p_i = lr sqrt(kappa) /
    sqrt(v_i) folded into K~). Solved by damped fixed-point iteration from a high risk; NaN without a fixed point."""
    U, lam = spec.eigenvectors, spec.eigenvalues
    K = (U * lam) @ U.T
    B, r2, sig = kappa, 40 * spec.p_inf, np.zeros_like(K)
    for _ in range(iters):
        v = (1 + 1 / B) * np.einsum("ij,jk,ki->i", K, sig, K) + r2 * np.diag(K) / B
        sp = np.sqrt(lr * math.sqrt(kappa) / np.sqrt(v))
        l, V = np.linalg.eigh(sp[:, None] * K * sp[None, :])
        l = np.clip(l, 0.0, None)
        n = kernel_norm(l, 1.0, B)
        if n >= 1:  # unstable at this v: start again from a higher risk
            r2 *= 2
            continue
        new = 2 * spec.p_inf / (1 - n)
        a = l * new / (B * (2 - l * (1 + 1 / B)))
        new_sig = sp[:, None] * ((V * a) @ V.T) * sp[None, :]  # e = P^{1/2} e_phi
        if abs(new / r2 - 1) < 1e-12:
            return new / 2
        r2, sig = (r2 + new) / 2, (sig + new_sig) / 2
    return math.nan


def runs(problem, kappas, samples, seeds, lr=LR):
    """{kappa: scaling_rules_table.RuleRun} of the rule at base lr, on the table's sample grid."""
    make = lambda k: table.rmsprop_rule(k, lr, table.RMSPROP["b2"], table.RMSPROP["eps"])  # noqa: E731
    points = table.sample_grid(samples)
    return {r.kappa: r for r in table.mc_rule(problem, make, samples, points, seeds, kappas)}, points


def late_cells(rr, k):
    """Late ratio (standard error), the median-over-seeds ratio, the top 5% of seeds' share at kappa."""
    if k == 1:
        return "reference", "reference", f"{100 * _top_share(rr[1].late):.1f}%"
    rel, se = table.late_ratio(rr[k], rr[1])
    med = np.median(rr[k].late) / np.median(rr[1].late) - 1
    return f"{100 * rel:+.1f}% ({100 * se:.1f})", f"{100 * med:+.1f}%", f"{100 * _top_share(rr[k].late):.1f}%"


def _top_share(late):
    """The share of the summed per-seed late means that the top 5% of seeds carry."""
    x = np.sort(late)[::-1]
    return x[: max(1, len(x) // 20)].sum() / x.sum()


def replication(problem, seeds):
    rr, _ = runs(problem, (1, 2, 4, 8), 2**15, list(range(64, 64 + seeds)))
    print(f"\n1. fresh seeds 64 .. {63 + seeds}, N = 2^15: late ratio (standard error), median ratio, "
          "top 5% of seeds' share of the late mean\n")
    print("| κ | late ratio | median ratio | top 5% share |\n|---|---|---|---|")
    for k in (1, 2, 4, 8):
        print(f"| {k} | " + " | ".join(late_cells(rr, k)) + " |")
    return rr


def print_floors(spec, rr):
    fl = floors(spec)
    print(f"\n2. floor of the noise-dominated preconditioned-SGD model (P_inf = {spec.p_inf:.4g})\n")
    full = {k: floor_with_mean(spec, LR, k) for k in KAPPAS}
    print("| κ | floor | floor / floor(κ=1) − 1 | κγ l_max / 2 | MC late E[P] / floor | with the mean in v | "
          "its / κ=1 − 1 |\n|---|---|---|---|---|---|---|")
    for k in KAPPAS:
        P, frac = fl[k]
        mc = f"{rr[k].late.mean() / P:.3f}" if rr is not None and k in rr else "-"
        print(f"| {k} | {P:.4g} | {100 * (P / fl[1][0] - 1):+.1f}% | {frac:.3f} | {mc} | {full[k]:.4g} | "
              f"{100 * (full[k] / full[1] - 1):+.1f}% |")


def discreteness(problem, seeds):
    print(f"\n3. κ = 4 against κ = 1 at a smaller base lr and a longer horizon ({seeds} seeds 64 ..)\n")
    print("| base lr | N | late ratio κ = 4 | median ratio | top 5% share | κγ l_max / 2 at κ = 4 | model with the mean "
          "in v |\n|---|---|---|---|---|---|---|")
    spec = problem.spectrum()
    for lr, n in ((LR, 2**15), (LR, 2**17), (LR / 4, 2**17)):
        rr, _ = runs(problem, (1, 4), n, list(range(64, 64 + seeds)), lr)
        print(f"| {lr:g} | 2^{int(math.log2(n))} | " + " | ".join(late_cells(rr, 4))
              + f" | {floors(spec, lr)[4][1]:.3f} | "
              f"{100 * (floor_with_mean(spec, lr, 4) / floor_with_mean(spec, lr, 1) - 1):+.1f}% |")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--seeds", type=int, default=1024, help="fresh seeds of the replication (1.)")
    ap.add_argument("--seeds-long", type=int, default=256, help="seeds of the discreteness runs (3.)")
    ap.add_argument("--floors-only", action="store_true")
    a = ap.parse_args(argv)
    print(machine_line())
    for alpha, beta in PROBLEMS:
        problem = plrf.PLRF(alpha=alpha, beta=beta, d=a.d, v=2 * a.d, seed=0)
        print(f"\n### alpha = {alpha:g}, beta = {beta:g} (phase {plrf.theory.phase(alpha, beta)}), d = {a.d}")
        rr = None if a.floors_only else replication(problem, a.seeds)
        print_floors(problem.spectrum(), rr)
        if not a.floors_only and (alpha, beta) == PROBLEMS[0]:
            discreteness(problem, a.seeds_long)


if __name__ == "__main__":
    main()
