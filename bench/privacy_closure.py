"""A second clipping closure, measured against the first (docs/privacy.md, "A norm-aware closure").

Run: PYTHONPATH=python python bench/privacy_closure.py
The shipped DE (plrf.privacy.de) replaces every sample's |f|^2 by tr K. The norm-aware closure keeps
|f|^2 = q = sum_j lambda_j z_j^2 random, and for mode j weighs by z_j^2 (Gaussian integration by parts
on f_j, with the clip threshold c = C / sqrt(q) moving with f_j):
    mu_j = E[z_j^2 erf(c / sqrt(2 R2))],   nu_j = E[z_j^2 nu(R2, c)],
E over M = 2000 fixed draws of z. It is exact for the fully clipped gradient's mean and second moment
given R2, and costs O(M d) per step. Printed: Monte Carlo / closure - 1 (%) for both closures at
t = 10, 100, 1000, 2000 (d = 200, B = 4, 400 seeds).
"""
from __future__ import annotations

import math

import numpy as np

import plrf
from plrf.cli.bench import machine_line
from plrf.privacy.de import clip_factors

CASES = [(1.0, 0.5, 0.5, 0.0), (1.5, 0.7, 0.5, 0.0), (0.7, 0.4, 0.1, 1.0), (1.0, 0.5, 0.1, 1.0), (0.4, 0.3, 0.5, 1.0),
         (1.0, 0.5, 0.01, 4.0)]  # (alpha, beta, kappa = C / sqrt(tr K 2 P(0)), noise multiplier)
D, B, STEPS, AT, M = 200, 4, 2000, [10, 100, 1000, 2000], 2000


def norm_aware(spec, lr, C, s):
    lam = spec.eigenvalues
    z2 = np.random.default_rng(0).standard_normal((M, len(lam))) ** 2
    c = C / np.sqrt(z2 @ lam)
    a, out = spec.rho.copy(), []
    for t in range(STEPS + 1):
        R2 = 2.0 * spec.p_inf + lam @ a
        if t in AT:
            out.append(R2 / 2.0)
        factors = np.array([clip_factors(R2, ci) for ci in c])  # (M, 2): mu, nu per draw
        mu, nu = factors[:, 0] @ z2 / M, factors[:, 1] @ z2 / M
        g = lr * mu * lam
        a = (1 - 2 * g + g * g * (1 + 1 / B)) * a + lr * lr * lam * nu / B + (lr * s * C / B) ** 2
    return np.array(out)


def main():
    print(f"plrf {plrf.__version__}, isa {plrf._core.isa()} ({machine_line()})", flush=True)
    print("| alpha | beta | kappa | s | MC / DE - 1 (|f|^2 = tr K) | MC / norm-aware - 1 |")
    print("|---|---|---|---|---|---|")
    for alpha, beta, kappa, s in CASES:
        spec = plrf.Spectrum.theory(alpha, beta, D)
        lr = plrf.defaults(spec, B)["sgd"].gamma2.c
        C = kappa * math.sqrt(spec.trace * 2 * spec.risk0)
        opt = plrf.chain(plrf.sgd(lr), plrf.clip(C, s))
        de = plrf.exact_risk(spec, opt, STEPS, B, record=AT).risk
        mc = plrf.simulate(spec, opt, STEPS, B, seeds=400, record=AT, progress=False).risk.mean(axis=0)
        cells = [", ".join(f"{100 * (mc[i] / x[i] - 1):+.1f}" for i in range(len(AT))) for x in (de, norm_aware(spec, lr, C, s))]
        print(f"| {alpha} | {beta} | {kappa} | {s} | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
