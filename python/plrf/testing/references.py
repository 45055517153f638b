"""Plain NumPy references for the benchmarks: what a user would write by hand, run in the same
process as plrf so that a speed ratio compares like with like (see `python -m plrf bench`).

- `numpy_eigen`: the eigenbasis simulator (docs/theory.md section 2), B samples drawn explicitly.
- `numpy_full`: the full-space simulator, a B x v Gaussian times the dense v x d W per step.
- `numpy_setup`: the spectral setup by dense W, K = A^T A and LAPACK's eigh (section 1).
"""
from __future__ import annotations

import math

import numpy as np


def numpy_eigen(spec, opt, steps, batch, seeds, rng):
    """Eigenbasis simulator, vectorised over seeds and batch; returns the final risks (seeds,)."""
    lam, sl = spec.eigenvalues, np.sqrt(spec.eigenvalues)
    sigma = math.sqrt(2.0 * spec.p_inf)
    e = np.tile(-np.sqrt(spec.rho), (seeds, 1))
    y = np.zeros_like(e)
    for t in range(steps):
        k = opt.coefficients(t)
        f = rng.standard_normal((seeds, batch, spec.d)) * sl
        r = np.matmul(f, e[:, :, None])[:, :, 0] - sigma * rng.standard_normal((seeds, batch))
        g = np.matmul(r[:, None, :], f)[:, 0, :] / batch
        y = (1.0 - k["delta"]) * y + k["gamma1"] * g
        e = e - k["gamma2"] * g - k["gamma3"] * y
    return spec.p_inf + 0.5 * (e * e) @ lam


def numpy_full(problem, W, opt, steps, batch, seeds, rng):
    """Full-space simulator from theta = 0 with the problem's W; returns the final iterates (seeds, d)."""
    sqrt_var, b = np.sqrt(problem.data_variances), problem.target
    theta = np.zeros((seeds, problem.d))
    y = np.zeros_like(theta)
    for t in range(steps):
        k = opt.coefficients(t)
        x = rng.standard_normal((seeds, batch, problem.v)) * sqrt_var
        f = x @ W
        r = np.matmul(f, theta[:, :, None])[:, :, 0] - x @ b
        g = np.matmul(r[:, None, :], f)[:, 0, :] / batch
        y = (1.0 - k["delta"]) * y + k["gamma1"] * g
        theta = theta - k["gamma2"] * g - k["gamma3"] * y
    return theta


def numpy_setup(alpha, beta, d, v, seed):
    """(eigenvalues descending, rho, P_inf) from a dense W: A = D^{1/2} W, K = A^T A, eigh.

    W is drawn by NumPy's generator, not plrf's Philox stream, so the values differ from
    plrf.PLRF(...).spectrum() for the same seed; the cost does not.
    """
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((v, d)) / np.sqrt(d)
    j = np.arange(1, v + 1, dtype=float)
    sqrtD = j ** (-alpha)
    A = sqrtD[:, None] * W
    c = sqrtD * j ** (-beta)
    lam, U = np.linalg.eigh(A.T @ A)
    coef = (U.T @ (A.T @ c)) / lam
    theta = U @ coef
    p_inf = 0.5 * np.sum((A @ theta - c) ** 2)
    return lam[::-1], coef[::-1] ** 2, p_inf
