"""The NumPy full path of nonlinear random features: plain SGD on sigma(W^T x), written independently of
the C++ one (docs/nonlinear.md).

It serves two purposes: the honest Monte Carlo for a user activation (a Python callable, which the
compiled full path cannot call), and an independent check of the compiled path in law (its samples
come from numpy's Generator, not from plrf's counter-based streams, so the two agree in law, not
bitwise). The risk is exact through the problem's spectrum, as on the compiled path.
"""
from __future__ import annotations

import numpy as np

from . import _validate as check
from .curves import Curves


def simulate_full(problem, lr, steps, batch=1, seeds=1, record=None) -> Curves:
    """SGD theta' = theta - lr g with g the batch gradient of 1/2 (theta . sigma(W^T x) - <x, b>)^2,
    from theta = 0, x ~ N(0, D) fresh each step; the risk recorded at `record` (default: ~10 per decade)."""
    lr = check.positive("lr", lr)
    steps = check.integer("steps", steps, 1, 10**7)
    batch = check.integer("batch", batch, 1)
    seeds = check.seeds(seeds)
    record = _record(steps) if record is None else np.unique(np.asarray(record, dtype=np.int64))
    if record.size and (record[0] < 0 or record[-1] > steps):
        raise ValueError(f"record must lie in [0, steps={steps}]")
    v, d = problem.v, problem.d
    check.memory(8.0 * (batch * (v + d) + v * d + d * d), f"the NumPy full path at v={v}, d={d}, batch={batch}")
    W, sqrt_var, b, sigma = problem.W, np.sqrt(problem.data_variances), problem.target, problem.activation
    spec = problem.spectrum()
    risk = np.empty((len(seeds), record.size))
    for i, seed in enumerate(seeds):
        rng = np.random.default_rng([int(seed), 0x6E6C])  # its own stream: independent of plrf's
        theta = np.zeros(d)
        at = 0
        for t in range(steps + 1):
            while at < record.size and record[at] == t:
                risk[i, at] = spec.risk_of_error((theta - spec.theta_star) @ spec.eigenvectors)
                at += 1
            if t == steps:
                break
            x = rng.standard_normal((batch, v)) * sqrt_var
            f = sigma(x @ W)
            theta -= lr * (f.T @ (f @ theta - x @ b)) / batch
    return Curves(steps=record, risk=risk, seeds=seeds,
                  meta=dict(problem.spectrum().meta, engine="nonlinear_full (NumPy)", lr=lr, batch=batch))


def _record(steps):
    grid = np.unique(np.round(np.logspace(0, np.log10(max(steps, 1)), 10 * max(1, int(np.log10(max(steps, 10)))))))
    return np.unique(np.concatenate([[0], grid.astype(np.int64), [steps]]))
