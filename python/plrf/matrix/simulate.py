"""Monte Carlo of matrix optimizers on MatrixPLRF: many seeds at once, exact in law.

Seed s draws its batch at step t from the counter-based streams (s, MATRIX_DATA, t) (B d normals,
the data rows in eigen-coordinates) and (s, MATRIX_NOISE, t) (B m normals, label noise), so a run
does not depend on how seeds are grouped into chunks. Ctrl-C returns the curves so far, marked
interrupted; with checkpoint=path the state is saved too, and resume(path) continues bitwise. Risk is recorded on the plrf record grid, and each mode's a_j alongside.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import _core
from .. import _validate as check
from .._atomic import sigint_held
from .._progress import Progress
from ..checkpoint import check_path
from ..curves import Curves, check_record, report_divergence
from . import checkpoint as saved
from .optimizers import OPTIMIZERS, Batch
from .problem import MATRIX_DATA, MATRIX_NOISE, MatrixPLRF

MIN_CHECKPOINT_EVERY = 1.0  # seconds between periodic saves, at least (as plrf.simulate)

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


def simulate(problem, optimizer, steps, batch=1, seeds=16, record=None, chunk=None, progress="auto",
             checkpoint=None) -> MatrixCurves:
    """Run `optimizer` from Theta = 0 on `problem` for `steps` steps of batch `batch`, one run per seed.

    chunk: seeds advanced together (default: all that fit in ~256 MiB of state).
    checkpoint: a path (or plrf.checkpoint.Target(path, every=s, overwrite=True)) saved atomically every
    60 s, at the end and on Ctrl-C; continue with plrf.matrix.resume(path), bitwise."""
    steps, batch = check_run(problem, optimizer, steps, batch)
    d, m = problem.d, problem.m
    rec = check_record(record, steps)
    per_seed = 8.0 * (4 * d * m + batch * (d + m) + 2 * d * d)  # Theta, G, momentum, step; x, r; polar work
    kept = 8.0 * len(rec) * (d + 1)  # the risk and modes returned for every record step
    seeds = check.seeds(seeds, per_seed + kept, f" at d={d}, m={m} with {len(rec)} record steps")
    chunk = check.integer("chunk", chunk, 1) if chunk is not None else max(1, min(len(seeds), int(2**28 // per_seed)))
    check.memory(per_seed * min(chunk, len(seeds)), f"chunk={chunk} at d={d}, m={m}, batch={batch}")
    target = None if checkpoint is None else check_path(checkpoint)
    job = {"problem": problem, "optimizer": optimizer, "steps": steps, "batch": batch, "seeds": seeds, "record": rec}
    saved.check_run(target, job)  # another run's checkpoint is not replaced unless asked
    n = len(seeds)
    state = {"risk": np.full((n, len(rec)), np.nan), "modes": np.full((n, len(rec), d), np.nan),
             "diverged": np.full(n, -1, dtype=np.int64), "chunk": min(chunk, n)}
    _next_chunk(job, state, 0)
    return _run(job, state, target, progress)


def resume(path, progress="auto") -> MatrixCurves:
    """Continue the run saved at `path` by simulate(..., checkpoint=path): bitwise the run it would
    have been. A path or a plrf.checkpoint.Target (for its `every`)."""
    target = check_path(path)
    job, state = saved.load(target.path)
    state.update({k: int(state[k]) for k in ("chunk", "lo", "t")})
    return _run(job, state, target, progress)


def _next_chunk(job, state, lo) -> None:
    """Start the chunk of seeds lo, lo + 1, ... at Theta = 0 (none once lo is past the last seed)."""
    lo = min(lo, len(job["seeds"]))
    S, shape = min(state["chunk"], len(job["seeds"]) - lo), (job["problem"].d, job["problem"].m)
    state.update(lo=lo, t=0, theta=np.zeros((S, *shape)), alive=np.ones(S, dtype=bool),
                 opt=job["optimizer"].new_state((S, *shape)))


def _run(job, state, target, progress) -> MatrixCurves:
    problem, optimizer, steps, n = job["problem"], job["optimizer"], job["steps"], len(job["seeds"])
    bar = Progress(progress, total=steps * n, unit="seed-steps", desc=optimizer.name,
                   seconds=_seconds(problem, optimizer, steps, job["batch"], n - state["lo"]))
    bar.set(state["lo"] * steps + state["t"] * len(state["alive"]))
    saver = _Saver(target, job)
    interrupted = False
    try:
        while state["lo"] < n:
            _run_chunk(job, state, bar, saver)
            with sigint_held():  # Ctrl-C lands between chunks, never half-way into the next one
                _next_chunk(job, state, state["lo"] + state["chunk"])
        bar.finish()
    except KeyboardInterrupt:  # the curves so far come back, marked; NaN where a seed had not got to
        interrupted = True
    finally:
        bar.close()
    saver.save(state)  # at the end and on Ctrl-C (not after an error, which may leave a step half-done)
    report_divergence(state["diverged"], f"plrf.matrix.simulate({optimizer.name})")
    meta = {"engine": "matrix.simulate", "optimizer": optimizer.name, "alpha": problem.alpha, "beta": problem.beta,
            "d": problem.d, "m": problem.m, "batch": job["batch"], "sigma": problem.sigma, "basis": problem.basis,
            "problem_seed": problem.seed, "p_inf": problem.p_inf, "exact": "in law"}
    return MatrixCurves(steps=job["record"].copy(), risk=state["risk"].copy(), seeds=job["seeds"].copy(), meta=meta,
                        diverged_at=state["diverged"].copy(), interrupted=interrupted, modes=state["modes"].copy())


class _Saver:
    """Saves the state to the checkpoint target every target.every seconds (and when asked)."""

    def __init__(self, target, job):
        self.target, self.job, self.last = target, job, time.monotonic()

    def tick(self, state) -> None:
        if self.target is not None and time.monotonic() - self.last >= max(self.target.every, MIN_CHECKPOINT_EVERY):
            self.save(state)

    def save(self, state) -> None:
        if self.target is not None:
            saved.save(self.target, self.job, state)
            self.last = time.monotonic()


def _seconds(problem, optimizer, steps, batch, n):
    """Rough cost for progress="auto": flops at ~1 GFLOP/s (Muon: 5 Newton-Schulz steps of 3 products)."""
    d, m = problem.d, problem.m
    work = 4 * batch * d * m + (15 * 2 * min(d, m) ** 2 * max(d, m) if optimizer.name == "muon" else 0)
    return steps * n * work / 1e9


def _draw(stream, seeds, step, n) -> np.ndarray:
    return np.stack([_core.normals(int(s), stream, step, 0, n) for s in seeds])


def _run_chunk(job, state, bar, saver):
    """Advance the chunk in `state` from its step t to the end. Each step runs with Ctrl-C held, so an
    interrupt finds (t, Theta, the optimizer's buffers) consistent, as a checkpoint needs them."""
    problem, optimizer, rec, batch = job["problem"], job["optimizer"], job["record"], job["batch"]
    d, m, S, lo = problem.d, problem.m, len(state["alive"]), state["lo"]
    seeds, risk, modes, diverged = (job["seeds"][lo:lo + S], state["risk"][lo:lo + S], state["modes"][lo:lo + S],
                                    state["diverged"][lo:lo + S])
    theta, alive = state["theta"], state["alive"]
    root = np.sqrt(problem.eigenvalues)
    k = int(np.searchsorted(rec, state["t"]))
    while True:
        with sigint_held():
            t = state["t"]
            if k < len(rec) and t == rec[k]:
                a = problem.modes(theta) if t else np.tile(problem.initial_modes(), (S, 1))  # Theta = 0: no product
                modes[:, k] = np.where(alive[:, None], a, np.nan)  # a stopped seed's Theta is 0: masked here
                risk[:, k] = np.where(alive, problem.excess(a) + problem.p_inf, np.nan)
                bad = alive & ~(risk[:, k] <= DIVERGED * risk[:, 0])
                diverged[bad], alive[bad] = t, False
                k += 1
            if t == job["steps"] or not alive.any():
                return
            x = (_draw(MATRIX_DATA, seeds, t, batch * d).reshape(S, batch, d) * root) @ problem.Q.T
            r = x @ (theta - problem.theta_star)
            if problem.sigma > 0:
                r -= problem.sigma * _draw(MATRIX_NOISE, seeds, t, batch * m).reshape(S, batch, m)
            theta -= optimizer.step(Batch(x, r), state["opt"], t)
            blown = alive & ~(np.abs(theta).max(axis=(1, 2)) < 1e150)  # caught before an SVD sees inf or NaN
            diverged[blown], alive[blown] = t + 1, False
            theta[~alive] = 0.0
            state["t"] = t + 1
        bar.advance(S)
        saver.tick(state)
