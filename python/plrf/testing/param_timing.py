"""Timing references for the parameter-basis engine (simulate(space="param")): a rotation spectrum, a plain
NumPy Adam loop that draws the batch explicitly, and the row of `python -m plrf bench`
(bench/coordinatewise_speed.py prints the full table)."""
from __future__ import annotations

import numpy as np

from ..spectrum import Spectrum
from .timing import median_time


def rotation_spectrum(d: int, seed: int = 0) -> Spectrum:
    """A Spectrum with eigenvectors (a random rotation) and theta_star: lambda_j = j^-2, theta*_j = j^-0.75."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((d, d)))[0]
    lam = np.arange(1, d + 1, dtype=float) ** -2.0
    ts = np.arange(1, d + 1, dtype=float) ** -0.75
    return Spectrum(lam, (ts @ U) ** 2, 0.01, eigenvectors=U, theta_star=ts)


def numpy_adam(spec: Spectrum, steps: int, batch: int, seeds: int, rng, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Adam on `seeds` seeds at once, drawing the B samples x = U Lambda^{1/2} z explicitly, and the exact risk
    from the eigenbasis error every step (as plrf computes it); returns theta (seeds x d)."""
    U, ts = spec.eigenvectors, spec.theta_star
    F = U * np.sqrt(spec.eigenvalues)
    theta = np.zeros((seeds, spec.d))
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(steps):
        X = (rng.standard_normal((seeds * batch, spec.d)) @ F.T).reshape(seeds, batch, spec.d)
        y = X @ ts + np.sqrt(2 * spec.p_inf) * rng.standard_normal((seeds, batch))
        g = np.einsum("sbd,sb->sd", X, np.einsum("sbd,sd->sb", X, theta) - y) / batch
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta -= lr * (m / (1 - b1 ** (t + 1))) / (np.sqrt(v / (1 - b2 ** (t + 1))) + eps)
        e = (theta - ts) @ U
        _ = spec.p_inf + 0.5 * (e * e) @ spec.eigenvalues
    return theta


def floor_time(spec: Spectrum, steps: int, seeds: int, repeat: int) -> float:
    """Seconds per step of the two (seeds x d)(d x d) NumPy products with U that a parameter-basis step needs."""
    A = np.random.default_rng(1).standard_normal((seeds, spec.d))
    U = spec.eigenvectors

    def products():
        for _ in range(steps):
            A @ U.T
            A @ U

    return median_time(products, repeat) / steps


def param_adam_times(d: int, batch: int, seeds: int, steps: int, repeat: int) -> dict:
    """Seconds per step of plrf's parameter-basis Adam (setup per call included), its two-product floor
    and the NumPy loop, medians of `repeat` calls of `steps` steps."""
    from ..coordinatewise import adam
    from ..simulation import simulate

    spec = rotation_spectrum(d)
    run = lambda: simulate(spec, adam(1e-3), steps, batch=batch, seeds=seeds, space="param", progress=False)
    run()  # warm up
    rng = np.random.default_rng(2)
    return {"plrf": median_time(run, repeat) / steps, "floor": floor_time(spec, steps, seeds, repeat),
            "numpy": median_time(lambda: numpy_adam(spec, steps, batch, seeds, rng), repeat) / steps}
