"""Mixture of experts and sparse-update momentum: exact expected risk and Monte Carlo (docs/theory.md §11.2).

m experts share W and the target; each sample is routed to expert i with probability p_i, and the
loss is averaged over the whole batch, so expert i's gradient is g_i = (1/B) sum_b 1[J_b = i] f_b r_b.
Given e, each term has mean p lambda_j e_j and variance p lambda_j R2(e) + p (2 - p) lambda_j^2 e_j^2
(Isserlis: E f_j^2 r^2 = lambda_j R2 + 2 lambda_j^2 e_j^2, minus the squared mean p^2 lambda_j^2 e_j^2).
Hence docs/theory.md §4 per expert with the mean gain lambda -> p lambda and
xi_j = [p (2 - p) lambda_j^2 a_j + p lambda_j R2_i] / B, R2_i = 2 P_inf + sum_k lambda_k a_k^(i).
The total risk is sum_i p_i P_i. Sparse-update momentum (a block that receives gradient with
probability p per sample) is the same computation per block.
"""
from __future__ import annotations

import numpy as np

from . import eigen_mc, moments

BUGS = ("p_not_p(2-p)",)


def check_probabilities(p, name="p") -> np.ndarray:
    """Routing probabilities: a non-empty vector of numbers in [0, 1] summing to 1, else ValueError."""
    p = np.atleast_1d(np.asarray(p, dtype=np.float64))
    if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be a non-empty vector of finite probabilities")
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError(f"{name} must lie in [0, 1], got {p}")
    if abs(p.sum() - 1.0) > 1e-12:
        raise ValueError(f"{name} must sum to 1, got {p.sum()!r}")
    return p


def zipf_probabilities(m, zeta) -> np.ndarray:
    """p_i proportional to i^{-zeta}, i = 1 .. m."""
    w = np.arange(1, int(m) + 1, dtype=np.float64) ** (-float(zeta))
    return w / w.sum()


def _optimizers(opt, m):
    opts = list(opt) if isinstance(opt, (list, tuple)) else [opt] * m
    if len(opts) != m:
        raise ValueError(f"opt must be one optimizer or one per expert ({m}), got {len(opts)}")
    return opts


CLOCKS = ("global", "expert")


def _clock(p, t, clock):
    """Schedules run on the global step t, or on the expert's deterministic clock p_i t."""
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {CLOCKS}, got {clock!r}")
    return p * t if clock == "expert" else t


def expert_curves(spec, opt, steps, batch, p, *, clock="global", bug=None) -> np.ndarray:
    """E[P_i(theta_t)] for each block: array (steps + 1, len(p)). p need not sum to 1 here."""
    assert bug in (None, *BUGS), bug
    lam, q = spec.eigenvalues, spec.rho
    opts = _optimizers(opt, len(p))
    out = np.empty((steps + 1, len(p)))
    for i, (pi, oi) in enumerate(zip(p, opts)):
        mo = moments.initial(q)
        out[0, i] = moments.risk(spec, mo.a)
        lam2 = pi if bug == "p_not_p(2-p)" else pi * (2.0 - pi)
        for t in range(steps):
            r2 = 2.0 * spec.p_inf + lam @ mo.a
            xi = (lam2 * lam**2 * mo.a + pi * lam * r2) / batch
            mo = moments.step(mo, q, oi.coefficients(_clock(pi, t, clock)), pi * lam, xi)
            out[t + 1, i] = moments.risk(spec, mo.a)
    return out


def moe_risk(spec, opt, steps, batch, p, *, clock="global", bug=None):
    """(total risk sum_i p_i P_i of shape (steps + 1,), per-expert curves (steps + 1, m))."""
    p = check_probabilities(p)
    per = expert_curves(spec, opt, steps, batch, p, clock=clock, bug=bug)
    return per @ p, per


def sparse_momentum_risk(spec, opt, steps, batch, activation, *, bug=None) -> np.ndarray:
    """Sparse updates: block i receives gradient with probability activation[i] per sample
    (independently of the other blocks); returns each block's expected risk (steps + 1, blocks)."""
    act = np.atleast_1d(np.asarray(activation, dtype=np.float64))
    if act.ndim != 1 or act.size == 0 or np.any(~(act >= 0) | (act > 1)):
        raise ValueError(f"activation must be a non-empty vector of probabilities in [0, 1], got {act}")
    return expert_curves(spec, opt, steps, batch, act, bug=bug)


def binomial_average(curve, t, p) -> float:
    """sum_n Binom(n; t, p) curve[n]: the B = 1 SGD expert's risk at t from the SGD curve (needs scipy)."""
    from scipy.stats import binom

    # Outside mean +- (40 sd + 30) the weights are below 1e-37 of the total: skip them.
    half = 40.0 * np.sqrt(t * p * (1.0 - p)) + 30.0
    n = np.arange(max(0, int(t * p - half)), min(t, int(t * p + half)) + 1)
    return float(binom.pmf(n, t, p) @ np.asarray(curve)[n])


def moe_monte_carlo(spec, opt, steps, batch, p, seeds, *, seed=0, clock="global") -> eigen_mc.Runs:
    """Exact-in-law MoE runs: each sample's expert drawn with probabilities p (so the counts per expert
    per step are Multinomial(B, p)); risk[seed, t, expert]."""
    p = check_probabilities(p)
    rng = eigen_mc.generator(seed, 1)
    return _routed_runs(spec, opt, steps, batch, p, seeds, lambda: np.eye(len(p))[rng.choice(len(p), (seeds, batch), p=p)], rng, clock)


def sparse_monte_carlo(spec, opt, steps, batch, activation, seeds, *, seed=0) -> eigen_mc.Runs:
    """Sparse updates in law: block i sees each sample independently with probability activation[i]."""
    act = np.asarray(activation, dtype=np.float64)
    rng = eigen_mc.generator(seed, 7)
    return _routed_runs(spec, opt, steps, batch, act, seeds, lambda: rng.random((seeds, batch, act.size)) < act, rng, "global")


def _routed_runs(spec, opt, steps, batch, p, seeds, draw_route, rng, clock):
    """Every block runs Gen-Mom-SGD on (1/B) sum_b route_b f_b r_b; route = draw_route() each step."""
    opts = _optimizers(opt, len(p))

    def step(t, e, y):
        ks = [o.coefficients(_clock(pi, t, clock)) for o, pi in zip(opts, p)]
        k = {n: np.array([ki[n] for ki in ks])[:, None] for n in ks[0]}
        return eigen_mc.momentum_update(e, y, eigen_mc.batch_gradient(spec, e, batch, rng, draw_route()), k)

    return eigen_mc.run(spec, steps, seeds, step, experts=len(p))
