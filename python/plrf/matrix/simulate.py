"""Monte Carlo of matrix optimizers on MatrixPLRF: many seeds at once, exact in law.

Seed s draws its batch at step t from the counter-based streams (s, MATRIX_DATA, t) (B d normals,
the data rows in eigen-coordinates) and (s, MATRIX_NOISE, t) (B m normals, label noise), so a run
does not depend on how seeds are grouped into chunks. Ctrl-C returns the curves so far, marked
interrupted. Risk is recorded on the plrf record grid, and each mode's a_j alongside.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _core
from .. import _validate as check
from .._progress import Progress
from ..curves import Curves, check_record, report_divergence
from .optimizers import OPTIMIZERS, Batch
from .problem import MATRIX_DATA, MATRIX_NOISE, MatrixPLRF

DIVERGED = 1e12  # a seed whose risk exceeds this multiple of its initial risk is stopped


@dataclass(repr=False)  # keep Curves' one-line summary
class MatrixCurves(Curves):
    """Curves plus modes (n_seeds, n_steps, d): a_j = ||row j of Q^T E||^2 at each record step."""

    modes: np.ndarray | None = None


def check_run(problem, optimizer, steps, batch):
    if not isinstance(problem, MatrixPLRF):
        raise ValueError(f"problem must be a plrf.matrix.MatrixPLRF, got {problem!r:.80}")
    if not isinstance(optimizer, OPTIMIZERS):
        raise ValueError(f"optimizer must be a plrf.matrix optimizer (signsvd, muon, signsgd, sgd, dana), got {optimizer!r:.80}")
    return check.integer("steps", steps, 1, check.MAX_STEPS), check.integer("batch", batch, 1, 2**24)


def simulate(problem, optimizer, steps, batch=1, seeds=16, record=None, chunk=None, progress="auto") -> MatrixCurves:
    """Run `optimizer` from Theta = 0 on `problem` for `steps` steps of batch `batch`, one run per seed.

    chunk: seeds advanced together (default: all that fit in ~256 MiB of state)."""
    steps, batch = check_run(problem, optimizer, steps, batch)
    d, m = problem.d, problem.m
    rec = check_record(record, steps)
    per_seed = 8.0 * (4 * d * m + batch * (d + m) + 2 * d * d)  # Theta, G, momentum, step; x, r; polar work
    kept = 8.0 * len(rec) * (d + 1)  # the risk and modes returned for every record step
    seeds = check.seeds(seeds, per_seed + kept, f" at d={d}, m={m} with {len(rec)} record steps")
    chunk = check.integer("chunk", chunk, 1) if chunk is not None else max(1, min(len(seeds), int(2**28 // per_seed)))
    check.memory(per_seed * min(chunk, len(seeds)), f"chunk={chunk} at d={d}, m={m}, batch={batch}")
    risk = np.full((len(seeds), len(rec)), np.nan)
    modes = np.full((len(seeds), len(rec), d), np.nan)
    diverged = np.full(len(seeds), -1, dtype=np.int64)
    bar = Progress(progress, total=steps * len(seeds), unit="seed-steps", desc=optimizer.name,
                   seconds=_seconds(problem, optimizer, steps, batch, len(seeds)))
    interrupted = False
    try:
        for lo in range(0, len(seeds), chunk):
            sl = slice(lo, lo + chunk)
            _run_chunk(problem, optimizer, steps, batch, seeds[sl], rec, risk[sl], modes[sl], diverged[sl], bar)
        bar.finish()
    except KeyboardInterrupt:  # the curves so far come back, marked; NaN where a seed had not got to
        interrupted = True
    finally:
        bar.close()
    report_divergence(diverged, f"plrf.matrix.simulate({optimizer.name})")
    meta = {"engine": "matrix.simulate", "optimizer": optimizer.name, "alpha": problem.alpha, "beta": problem.beta,
            "d": d, "m": m, "batch": batch, "sigma": problem.sigma, "basis": problem.basis,
            "problem_seed": problem.seed, "p_inf": problem.p_inf, "exact": "in law"}
    return MatrixCurves(steps=rec, risk=risk, seeds=seeds, meta=meta, diverged_at=diverged, interrupted=interrupted,
                        modes=modes)


def _seconds(problem, optimizer, steps, batch, n):
    """Rough cost for progress="auto": flops at ~1 GFLOP/s (Muon: 5 Newton-Schulz steps of 3 products)."""
    d, m = problem.d, problem.m
    work = 4 * batch * d * m + (15 * 2 * min(d, m) ** 2 * max(d, m) if optimizer.name == "muon" else 0)
    return steps * n * work / 1e9


def _draw(stream, seeds, step, n) -> np.ndarray:
    return np.stack([_core.normals(int(s), stream, step, 0, n) for s in seeds])


def _run_chunk(problem, optimizer, steps, batch, seeds, rec, risk, modes, diverged, bar):
    d, m, S = problem.d, problem.m, len(seeds)
    root = np.sqrt(problem.eigenvalues)
    theta = np.zeros((S, d, m))
    state = optimizer.new_state(theta.shape)
    alive = np.ones(S, dtype=bool)
    k = 0
    for t in range(steps + 1):
        if t == rec[k]:
            a = problem.modes(theta) if t else np.tile(problem.initial_modes(), (S, 1))  # Theta = 0: no product
            modes[:, k] = np.where(alive[:, None], a, np.nan)  # a stopped seed's Theta is 0: masked here
            risk[:, k] = np.where(alive, problem.excess(a) + problem.p_inf, np.nan)
            bad = alive & ~(risk[:, k] <= DIVERGED * risk[:, 0])
            diverged[bad], alive[bad] = t, False
            k += 1
        if t == steps or not alive.any():
            return
        x = (_draw(MATRIX_DATA, seeds, t, batch * d).reshape(S, batch, d) * root) @ problem.Q.T
        r = x @ (theta - problem.theta_star)
        if problem.sigma > 0:
            r -= problem.sigma * _draw(MATRIX_NOISE, seeds, t, batch * m).reshape(S, batch, m)
        theta -= optimizer.step(Batch(x, r), state, t)
        blown = alive & ~(np.abs(theta).max(axis=(1, 2)) < 1e150)  # caught before an SVD sees inf or NaN
        diverged[blown], alive[blown] = t + 1, False
        theta[~alive] = 0.0
        bar.advance(S)
