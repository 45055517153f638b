"""Monte Carlo of Gen-Mom-SGD under a step-size controller, exact in law (issue 12).

Plain NumPy, vectorised over seeds, written from docs/theory.md §1-3 and docs/theory.md §12.1, §12.2 only.
Two samplers give the same law:
* space="full": v-dimensional samples x_j ~ N(0, j^{-2 alpha}) pushed through the problem's own W
  (f = W^T x, y = <x, b>), parameters theta in R^d. The statistics are read as a real run would:
  ||g||^2 and the batch loss from the batch; P(theta), ||K e||^2 and e^T K^3 e from the "running
  energy" e = theta - theta* with the sampled K = W^T D W.
* space="eigen": the error e = U^T (theta - theta*) directly (docs/theory.md §2). Given e, a batch enters the
  gradient only through B residuals and one d-vector: with u = Lambda^{1/2} e / s, s = |Lambda^{1/2} e|,
  write z_i = zeta_i u + z_i_perp; then r_i = s zeta_i - eps_i and sum_i r_i z_i_perp is
  |r| times a standard normal projected off u. So one step costs O(B + d) per seed, still exact in law.
  The controller statistics are rotation-invariant scalars (docs/theory.md §12.2), so they agree in law too.

Randomness: one generator per step keyed by (seed, stream, step).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...curves import check_record, report_divergence
from .controllers import Context, Controller, Stats

BUGS = ("stale_grad2", "lagged")
_STREAMS = {"eigen": 101, "full": 102}
DIVERGENCE_FACTOR = 1e6  # the engines' definition (cpp/include/plrf/runtime/divergence.hpp)


@dataclass
class Paths:
    """Per-seed risk and learning-rate paths on the record grid.

    risk[i, k] = P(theta_t) at t = steps[k]; lr[i, k] = the multiplier m_{t-1} of the step that
    produced theta_t (NaN at t = 0). Entries from a seed's divergence step on are NaN.
    """

    steps: np.ndarray
    risk: np.ndarray
    lr: np.ndarray
    diverged_at: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        return self.diverged_at < 0

    def mean(self, which="risk") -> np.ndarray:
        return getattr(self, which)[self.ok].mean(axis=0)

    def sem(self, which="risk") -> np.ndarray:
        x = getattr(self, which)[self.ok]
        return x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])


class EigenSampler:
    """State: eigenbasis error e (n, d)."""

    def __init__(self, spectrum, batch):
        self.lam, self.p_inf, self.batch = spectrum.eigenvalues, spectrum.p_inf, batch
        self.root_lam = np.sqrt(self.lam)
        self.rho = spectrum.rho
        self.trace2 = float(self.lam @ self.lam)

    def start(self, n):
        return np.tile(np.sqrt(self.rho), (n, 1))  # the sign of e0_j does not matter in law

    def energy(self, e):
        """(P, ||K e||^2, e^T K^3 e)."""
        e2 = e * e
        return self.p_inf + 0.5 * e2 @ self.lam, e2 @ self.lam**2, e2 @ self.lam**3

    def gradient(self, e, rng):
        """(batch gradient g, batch loss f_B), exact in law given e."""
        n, d = e.shape
        w = self.root_lam * e
        s = np.sqrt(np.einsum("nd,nd->n", w, w))
        u = w / np.where(s > 0, s, 1.0)[:, None]
        u[s == 0, 0] = 1.0  # e = 0: any unit vector will do
        zeta = rng.standard_normal((n, self.batch))
        r = s[:, None] * zeta - np.sqrt(2.0 * self.p_inf) * rng.standard_normal((n, self.batch))
        z = rng.standard_normal((n, d))
        # g = Lambda^{1/2} [u mean(r zeta) + (|r| / B) (z - (z.u) u)]
        across = np.sqrt(np.einsum("nb,nb->n", r, r)) / self.batch
        along = np.einsum("nb,nb->n", r, zeta) / self.batch - across * np.einsum("nd,nd->n", z, u)
        g = self.root_lam * (along[:, None] * u + across[:, None] * z)
        return g, 0.5 * np.mean(r * r, axis=1)


class FullSampler:
    """State: parameters theta (n, d); samples through W (docs/theory.md §1)."""

    def __init__(self, problem, batch):
        spec = problem.spectrum()
        self.batch = batch
        root_d = np.sqrt(problem.data_variances)
        # x = D^{1/2} xi: the features are xi @ (D^{1/2} W) and the target xi @ (D^{1/2} b).
        self.features = np.column_stack([root_d[:, None] * problem.W, root_d * problem.target])
        A = self.features[:, :-1]
        self.K = A.T @ A
        self.theta_star, self.p_inf = spec.theta_star, spec.p_inf
        self.trace2 = float(np.sum(self.K * self.K))

    def start(self, n):
        return np.zeros((n, self.theta_star.size))

    def energy(self, theta):
        e = theta - self.theta_star
        Ke = e @ self.K
        return self.p_inf + 0.5 * np.sum(e * Ke, axis=1), np.sum(Ke * Ke, axis=1), np.sum(Ke * (Ke @ self.K), axis=1)

    def gradient(self, theta, rng):
        n, d = theta.shape
        xi = rng.standard_normal((n, self.batch, self.features.shape[0]))
        fy = xi @ self.features  # (n, B, d + 1): features and target of each sample
        f = fy[..., :d]
        r = np.einsum("nbd,nd->nb", f, theta) - fy[..., d]
        return np.einsum("nb,nbd->nd", r, f) / self.batch, 0.5 * np.mean(r * r, axis=1)


def monte_carlo(source, optimizer, ctrl: Controller, steps, *, batch=1, seeds=1000, seed=0, space="eigen",
                record=None, bug=None, on_divergence="warn") -> Paths:
    """Run `seeds` independent paths of `optimizer` under `ctrl` for `steps` steps.

    source: a PLRF (either space) or a Spectrum (space="eigen" only). bug plants a known error:
    "stale_grad2" feeds the controller ||g||^2 of the previous step (the current one at t = 0);
    "lagged" leaves the current gradient out of AdaGrad-Norm's S (m_t = G / sqrt(S_t)).
    """
    if bug not in (None, *BUGS):
        raise ValueError(f"bug must be one of {BUGS}, got {bug!r}")
    if bug == "lagged" and ctrl.name != "adagrad_norm":
        raise ValueError("bug='lagged' applies to adagrad_norm only")
    sampler = _sampler(source, space, batch)
    rec = check_record(record, steps)
    n = int(seeds)
    x, state = sampler.start(n), ctrl.start(n)
    y = np.zeros_like(x)
    ctx = Context(batch, sampler.trace2)
    risk_out, lr_out = np.full((n, rec.size), np.nan), np.full((n, rec.size), np.nan)
    diverged = np.full(n, -1, dtype=np.int64)
    limit = DIVERGENCE_FACTOR * sampler.energy(x[:1])[0][0]
    lr, prev_grad2 = np.full(n, np.nan), None
    for t in range(steps + 1):
        risk, k2, k3 = sampler.energy(x)
        _mark_divergence(diverged, ~(risk <= limit), t, x, y)
        if t in rec:
            k = np.searchsorted(rec, t)
            risk_out[:, k], lr_out[:, k] = risk, lr
        if t == steps:
            break
        g, batch_loss = sampler.gradient(x, np.random.default_rng([seed, _STREAMS[space], t]))
        grad2 = np.sum(g * g, axis=1)
        seen = grad2 if bug != "stale_grad2" or prev_grad2 is None else prev_grad2
        stats = Stats(seen, risk, batch_loss, k2, k3)
        lr, next_state = ctrl.step(t, stats, state, ctx)
        if bug == "lagged":
            lr, _ = ctrl.step(t, stats._replace(grad2=np.zeros(n)), state, ctx)
        state, prev_grad2 = next_state, grad2
        x, y = _gen_mom_step(ctrl.scale(optimizer.coefficients(t), lr), x, y, g)
    for i in np.flatnonzero(diverged >= 0):
        after = rec >= diverged[i]
        risk_out[i, after], lr_out[i, after] = np.nan, np.nan
    report_divergence(diverged, f"adaptive Monte Carlo ({ctrl.name})", on_divergence)
    return Paths(rec, risk_out, lr_out, diverged)


def _sampler(source, space, batch):
    if space == "eigen":
        spec = source.spectrum() if hasattr(source, "spectrum") else source
        return EigenSampler(spec, batch)
    if space == "full":
        if not hasattr(source, "W"):
            raise ValueError("space='full' needs a PLRF problem (its W), not a Spectrum")
        return FullSampler(source, batch)
    raise ValueError(f"space must be 'eigen' or 'full', got {space!r}")


def _mark_divergence(diverged, bad, t, x, y):
    """Record the first divergent step of each seed and park its state (its outputs become NaN)."""
    new = bad & (diverged < 0)
    diverged[new] = t
    gone = diverged >= 0
    x[gone], y[gone] = 0.0, 0.0


def _gen_mom_step(k, x, y, g):
    """docs/theory.md §3 with per-seed coefficients: y' = (1 - Delta) y + gamma1 g; x' = x - gamma2 g - gamma3 y'."""
    col = {name: np.asarray(v, dtype=np.float64)[..., None] for name, v in k.items()}
    y = (1.0 - col["delta"]) * y + col["gamma1"] * g
    return x - col["gamma2"] * g - col["gamma3"] * y, y
