"""The SDEs of Malladi, Lyu, Panigrahi and Arora ("On the SDEs and scaling rules for adaptive gradient
algorithms", NeurIPS 2022) for RMSprop and Adam, in PLRF's parameter basis (docs/theory.md §14).

    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=64, seed=0)
    curve = plrf.adaptive_sde.adam_sde(problem, 0.01, 2000, batch=4, seeds=64)

Approximate: each SDE is a weak approximation of its discrete rule, exact only in the limit lr -> 0 with
the paper's scalings held fixed (time t = k lr^2, c = (1 - beta)/lr^2, sigma_0 = sigma lr, eps_0 = eps lr;
on PLRF sigma^2 Sigma is the batch gradient's covariance, so the family is batch ~ lr^2). Its error
against simulate(..., space="param") is measured in docs/coordinatewise.md (bench/adaptive_sde_table.py).

PLRF's gradient noise is Gaussian-free but its covariance is closed-form (Isserlis): with e = theta - theta*,
one sample's gradient has covariance K e e^T K + (e^T K e + 2 P_inf) K, so the batch mean's noise is drawn as
(K e xi0 + sqrt(e^T K e + 2 P_inf) K^{1/2} xi) / sqrt(B), O(d^2) per step. The SDE is integrated by
Euler-Maruyama on a grid of step dt (default lr^2: one SDE step per optimizer step); u (and Adam's m) are
advanced before theta, as the discrete rules read v_{k+1}. Each seed's normals come from its own Philox
stream (numpy, keyed by the seed), so a seed's path does not depend on the other seeds.
"""
from __future__ import annotations

import numpy as np

from . import _validate as check
from .capabilities import MODEL_LAW
from .coordinatewise import rotation
from .curves import Curve, check_record, report_divergence
from .errstate import geterr

__all__ = ["rmsprop_sde", "adam_sde"]

_CHUNK = 64  # steps of normals drawn per seed at once (the stream is sequential: chunking changes no value)


def rmsprop_sde(problem_or_spectrum, lr, steps, b2=0.99, eps=1e-8, batch=1, seeds=1, record=None, dt=None) -> Curve:
    """E[P] of the RMSprop SDE at the times t = k lr^2 of optimizer steps k in `record`:
        dX = -P^{-1} (grad f dt + sigma_0 Sigma^{1/2} dW),  du = c2 (diag Sigma - u) dt,  P = sigma_0 sqrt(u) + eps_0,
    c2 = (1 - b2)/lr^2, sigma_0 = lr (sigma = 1: Sigma is the batch gradient's covariance), eps_0 = eps lr, u(0) = 0."""
    return _run(problem_or_spectrum, "rmsprop", lr, steps, 0.0, b2, eps, batch, seeds, record, dt)


def adam_sde(problem_or_spectrum, lr, steps, b1=0.9, b2=0.999, eps=1e-8, batch=1, seeds=1, record=None,
             dt=None) -> Curve:
    """E[P] of the Adam SDE at the times t = k lr^2 of optimizer steps k in `record`:
        dX = -(sqrt(g2)/g1) P^{-1} m dt,  dm = c1 (grad f dt + sigma_0 Sigma^{1/2} dW - m dt),  du = c2 (diag Sigma - u) dt,
        P = sigma_0 sqrt(u) + eps_0 sqrt(g2),  g_i(t) = 1 - exp(-c_i t),  c_i = (1 - b_i)/lr^2,  m(0) = u(0) = 0."""
    return _run(problem_or_spectrum, "adam", lr, steps, b1, b2, eps, batch, seeds, record, dt)


def _run(source, rule, lr, steps, b1, b2, eps, batch, seeds, record, dt) -> Curve:
    lr = check.positive("lr", lr)
    for name, b in (("b1", b1), ("b2", b2)):
        if not 0.0 <= check.finite(name, b) < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {b}")
    if not check.finite("eps", eps) >= 0.0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    steps = check.integer("steps", steps, 1, 10**9)
    batch = check.integer("batch", batch, 1)
    record = check_record(record, steps)
    dt = lr * lr if dt is None else check.positive("dt", dt)
    c1, c2 = (1.0 - b1) / lr**2, (1.0 - b2) / lr**2
    if max(c1 if rule == "adam" else 0.0, c2) * dt > 1.0:
        raise ValueError(f"dt must be at most lr^2/(1 - b) = {1.0 / max(c1 if rule == 'adam' else 0.0, c2):.3g} "
                         f"(Euler-Maruyama on the moment buffers), got {dt}")
    n = check.seed_count(seeds)
    d = getattr(source, "d", 0)
    check.memory(8.0 * (3 * d * d + 8 * n * d + 2 * _CHUNK * n * (d + 1)), f"the {rule} SDE at d={d} with seeds={n}")
    seeds = check.seeds(seeds)
    spec, U, theta_star = rotation(source)
    T = steps * lr * lr
    grid = np.rint(record * lr * lr / dt).astype(np.int64)  # SDE step nearest each recorded time k lr^2
    risk, diverged = _integrate(spec, U, theta_star, rule, lr, c1, c2, eps, batch, seeds, grid, dt)
    report_divergence(diverged, f"{rule}_sde", geterr()["divergence"])
    ok = diverged < 0
    mean = risk[ok].mean(axis=0) if ok.any() else np.full(len(record), np.nan)
    sem = risk[ok].std(axis=0, ddof=1) / np.sqrt(ok.sum()) if ok.sum() > 1 else np.full(len(record), np.nan)
    meta = dict(spec.meta, optimizer=f"{rule}_sde", lr=lr, b1=b1, b2=b2, eps=eps, batch=batch, seeds=len(seeds),
                capability=MODEL_LAW, approximation=f"Malladi et al. {rule} SDE (weak approximation, lr -> 0)",
                scheme=f"Euler-Maruyama, dt = {dt:.6g} (time t = k lr^2, T = {T:.6g}), moment buffers first",
                sem=sem, diverged=int((~ok).sum()))
    return Curve(steps=record, risk=mean, meta=meta)


def _integrate(spec, U, theta_star, rule, lr, c1, c2, eps, batch, seeds, grid, dt):
    """Every seed's risk at the SDE steps in `grid` (S x len(grid)), and diverged_at (-1: finite)."""
    lam = np.clip(spec.eigenvalues, 0.0, None)
    K, Kh = (U * lam) @ U.T, (U * np.sqrt(lam)) @ U.T
    diagK, s2 = np.diag(K).copy(), 2.0 * spec.p_inf
    S, d = len(seeds), spec.d
    E = np.tile(-theta_star, (S, 1))  # e = theta - theta*, theta(0) = 0
    m, u = np.zeros((S, d)), np.zeros((S, d))
    sig0, eps0 = lr, eps * lr
    rngs = [np.random.Generator(np.random.Philox(key=int(s))) for s in seeds]
    risk, diverged = np.full((S, len(grid)), np.nan), np.full(S, -1, dtype=np.int64)
    live = np.ones(S, dtype=bool)
    limit = 1e6 * (spec.p_inf + 0.5 * theta_star @ K @ theta_star)  # the engines' divergence guard
    at = {}
    for i, k in enumerate(grid.tolist()):
        at.setdefault(k, []).append(i)
    for k in range(int(grid[-1]) + 1):
        KE = E @ K
        R2 = np.einsum("ij,ij->i", E, KE) + s2  # e^T K e + sigma_eps^2 = 2 P(e)
        bad = live & ~(np.isfinite(R2) & (R2 / 2 <= limit))
        diverged[bad], live = k, live & ~bad
        E[bad], m[bad], u[bad], KE[bad], R2[bad] = 0.0, 0.0, 0.0, 0.0, s2  # a stopped seed stays finite
        for i in at.get(k, ()):
            risk[live, i] = R2[live] / 2
        if k == grid[-1] or not live.any():
            break
        if k % _CHUNK == 0:
            xi = np.stack([r.standard_normal((_CHUNK, d + 1)) for r in rngs], axis=1)  # (chunk, S, d + 1)
        noise, var = _noise(KE, R2, xi[k % _CHUNK], Kh, diagK, batch)
        noise *= sig0 * np.sqrt(dt)
        u += c2 * dt * (var - u)
        if rule == "rmsprop":
            step = -(KE * dt + noise) / (sig0 * np.sqrt(u) + eps0)
        else:
            t = (k + 1) * dt
            g1, g2 = -np.expm1(-c1 * t), -np.expm1(-c2 * t)
            m += c1 * (KE * dt + noise - m * dt)
            step = -(np.sqrt(g2) / g1) * m * dt / (sig0 * np.sqrt(u) + eps0 * np.sqrt(g2))
        E += np.where(live[:, None], step, 0.0)
    return risk, diverged


def _noise(KE, R2, z, Kh, diagK, batch):
    """A draw of the batch gradient's noise Sigma^{1/2} xi, Sigma = (K e e^T K + R2 K)/B (Isserlis; R2 = e^T K e +
    sigma_eps^2), as (K e xi0 + sqrt(R2) K^{1/2} xi)/sqrt(B), and diag Sigma (u's target); one row per seed."""
    noise = (KE * z[:, :1] + np.sqrt(R2)[:, None] * (z[:, 1:] @ Kh)) / np.sqrt(batch)
    return noise, (KE * KE + R2[:, None] * diagK) / batch
