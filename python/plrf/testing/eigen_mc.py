"""Plain-NumPy Monte Carlo in K's eigenbasis, exact in law (docs/theory.md §2, docs/theory.md §2), many seeds at once.

A sample is f = Lambda^{1/2} z (z ~ N(0, I_d)) with residual r = <f, e> - eps, eps ~ N(0, 2 P_inf),
where e = phi - phi* is the eigenbasis error; the batch-averaged gradient is (1/B) sum_b f_b r_b.
With theta_0 = 0 the start is e_0 = sqrt(rho) (a sign per mode does not matter in law) and
phi* = -e_0, which the weight-decay family needs. Errors carry a leading seed axis and an expert
axis: e has shape (seeds, experts, d).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Runs(NamedTuple):
    """Risk of every run at t = 0 .. steps: risk[seed, t] (or risk[seed, t, expert])."""

    risk: np.ndarray

    @property
    def mean(self):
        return self.risk.mean(axis=0)

    @property
    def sem(self):
        return self.risk.std(axis=0, ddof=1) / np.sqrt(self.risk.shape[0])

    def z(self, exact, record):
        """(MC mean - exact) / SE at the recorded steps (t >= 1: t = 0 is deterministic)."""
        record = np.asarray(record)
        return (self.mean[record] - np.asarray(exact)[record]) / self.sem[record]


def generator(seed, stream) -> np.random.Generator:
    """A counter-based (Philox) stream keyed by (seed, stream): one family, one stream."""
    return np.random.Generator(np.random.Philox(key=[int(seed), int(stream)]))


def phi_star(spec):
    """phi* = U^T theta* = -e_0 when theta_0 = 0 (e_0 = sqrt(rho))."""
    return -np.sqrt(spec.rho)


def run(spec, steps, seeds, step, experts=1) -> Runs:
    """Runs from e_0 = sqrt(rho), y_0 = 0 for every seed and expert; step(t, e, y) -> (e, y).

    risk has shape (seeds, steps + 1), or (seeds, steps + 1, experts) when experts > 1.
    """
    e = np.broadcast_to(np.sqrt(spec.rho), (seeds, experts, spec.d)).copy()
    y = np.zeros_like(e)
    risk = np.empty((seeds, steps + 1, experts))
    risk[:, 0] = path_risk(spec, e)
    for t in range(steps):
        e, y = step(t, e, y)
        risk[:, t + 1] = path_risk(spec, e)
    return Runs(risk if experts > 1 else risk[..., 0])


def path_risk(spec, e):
    """P(e) = P_inf + 1/2 sum_j lambda_j e_j^2 for every seed (and expert)."""
    return spec.p_inf + 0.5 * (e * e) @ spec.eigenvalues


def batch_gradient(spec, e, batch, rng, route=None):
    """(1/B) sum_b route_b f_b r_b for errors e (seeds, experts, d); route (seeds, B, experts) of 0/1.

    Without a route every expert sees every sample (use experts = 1 for one learner).
    """
    seeds, _, d = e.shape
    f = rng.standard_normal((seeds, batch, d)) * np.sqrt(spec.eigenvalues)
    eps = rng.standard_normal((seeds, batch, 1)) * np.sqrt(2.0 * spec.p_inf)
    r = np.einsum("sbd,smd->sbm", f, e) - eps
    if route is not None:
        r = r * route
    return np.einsum("sbm,sbd->smd", r, f) / batch


def gaussian_gradient(spec, e, batch, rng):
    """Gaussianised batch gradient: SGD's conditional mean Lambda e and covariance
    (Lambda R2(e) + Lambda e e^T Lambda) / B (docs/theory.md §11.5), drawn as
    Lambda e + B^{-1/2} (sqrt(R2) Lambda^{1/2} xi + (Lambda e) zeta), xi ~ N(0, I_d), zeta ~ N(0, 1)."""
    lam = spec.eigenvalues
    r2 = 2.0 * path_risk(spec, e)[..., None]
    xi = rng.standard_normal(e.shape)
    zeta = rng.standard_normal(e.shape[:-1] + (1,))
    return lam * e + (np.sqrt(r2 * lam) * xi + lam * e * zeta) / np.sqrt(batch)


def momentum_update(e, y, g, k, phi_star=0.0, *, w=0.0, l2=0.0, noise=0.0, rng=None):
    """One Gen-Mom-SGD step (docs/theory.md §3) on gradient g, with optional ridge l2 (added to g), decoupled
    decay w and isotropic noise of standard deviation `noise` added to theta. k holds the four
    coefficients (numbers or arrays broadcasting against e)."""
    gh = g + l2 * (phi_star + e) if np.any(l2) else g
    y = (1.0 - k["delta"]) * y + k["gamma1"] * gh
    decayed = w * (phi_star + e) if np.any(w) else 0.0  # decay acts on the pre-step theta
    e = e - k["gamma2"] * gh - k["gamma3"] * y - decayed
    if np.any(noise):
        e = e + noise * rng.standard_normal(e.shape)
    return e, y


def genmom_monte_carlo(spec, opt, steps, batch, seeds, *, gaussian=False, seed=0) -> Runs:
    """Gen-Mom-SGD runs on the true batch gradient, or (gaussian=True) on the Gaussianised one."""
    rng = generator(seed, 5 if gaussian else 4)
    grad = gaussian_gradient if gaussian else batch_gradient
    return run(spec, steps, seeds, lambda t, e, y: momentum_update(e, y, grad(spec, e, batch, rng), opt.coefficients(t)))
