"""Streaming simulators: SGD, SGD-M and DANA on PLRF problems, many seeds at once.

`simulate` trains the model with fresh batches at every step and records the exact population
risk on a grid of steps, for many seeds in parallel (C++ threads, GIL released). Two paths:

- space="eigen" (default): samples in the eigenbasis of K (SPEC section 2), O(d) per step with
  the B-independent "fast" gradient sampler, or O(B d) with sampler="explicit". Needs only the
  spectral data, so it also runs on a theory or user Spectrum.
- space="full": honest v-dimensional samples through W (needs a PLRF problem), the reference.

The state is resumable: with checkpoint=path it is saved atomically every `checkpoint_every`
seconds and when the run is interrupted (Ctrl-C returns partial Curves marked interrupted);
`resume(path)` continues it, bitwise identically to an uninterrupted run.
"""
from __future__ import annotations

import math
import pickle

import numpy as np

from . import _core
from . import _validate as check
from ._atomic import atomic_write
from .curves import ON_DIVERGENCE, Curves, check_record, report_divergence
from .optim import check_optimizer
from .problem import PLRF
from .spectrum import Spectrum

__all__ = ["simulate", "resume"]

_FORMAT = "plrf.simulate/1"


def simulate(problem_or_spectrum, optimizer, steps, batch=1, seeds=1, record=None, space="eigen", threads=None,
             progress=False, checkpoint=None, checkpoint_every=60.0, sampler="fast", on_divergence="warn") -> Curves:
    """Train with streaming batches and record the population risk P (half the MSE) per seed.

    Parameters
    ----------
    problem_or_spectrum : a PLRF problem, or a Spectrum (eigen path only).
    optimizer : a GenMomentum (plrf.sgd, plrf.sgd_momentum, plrf.dana_constant, plrf.dana_decaying, ...).
    steps : number of optimizer steps (>= 1).
    batch : samples per step B (>= 1); the gradient is the batch average.
    seeds : an int n (seeds 0..n-1) or a sequence of seeds; each seed is an independent run.
    record : steps at which to record the risk (inside [0, steps]); default: ~10 per decade + last.
    space : "eigen" (default) or "full" (v-dim samples through W; needs a PLRF problem).
    threads : worker threads over seeds (default: all cores). Results do not depend on it.
    progress : show a tqdm progress bar.
    checkpoint : path of a checkpoint file written atomically every `checkpoint_every` seconds,
        at the end, and on interruption; continue with plrf.resume(path).
    sampler : "fast" (O(d) per step for any B, exact in law) or "explicit" (draws the B samples).
    on_divergence : "warn" (default), "raise" or "ignore"; diverged seeds are always recorded in
        Curves.diverged_at with NaN risk from that step on.
    """
    job = _make_job(problem_or_spectrum, optimizer, steps, batch, seeds, record, space, threads, progress,
                    checkpoint, checkpoint_every, sampler, on_divergence)
    return _run(job, _initial_state(job))


def resume(path, *, threads=None, progress=False) -> Curves:
    """Continue the run saved in checkpoint `path` (bitwise identical to an uninterrupted run)."""
    with open(path, "rb") as fh:
        saved = pickle.load(fh)
    if not isinstance(saved, dict) or saved.get("format") != _FORMAT:
        raise ValueError(f"path {str(path)!r} is not a plrf.simulate checkpoint")
    job = saved["job"]
    job["checkpoint"] = str(path)
    job["threads"] = job["threads"] if threads is None else check.threads(threads)
    job["progress"] = bool(progress)
    return _run(job, saved["state"])


# ---- argument checking ------------------------------------------------------------------------
def _make_job(source, optimizer, steps, batch, seeds, record, space, threads, progress, checkpoint,
              checkpoint_every, sampler, on_divergence) -> dict:
    steps = check.integer("steps", steps, 1)
    batch = check.integer("batch", batch, 1)
    check_optimizer(optimizer, steps)
    seeds = _seeds(seeds)
    record = check_record(record, steps)
    check.choice("space", space, ("eigen", "full"))
    check.choice("sampler", sampler, ("fast", "explicit"))
    check.choice("on_divergence", on_divergence, ON_DIVERGENCE)
    threads = check.threads(threads)
    checkpoint_every = check.positive("checkpoint_every", checkpoint_every)
    problem, spectrum = _problem_and_spectrum(source, space)
    d = spectrum.d
    extra = 0.0 if problem is None else 8.0 * problem.v * d + 8.0 * d * d
    check.memory(16.0 * len(seeds) * d + extra, f"simulate with {len(seeds)} seeds at d={d}")
    return dict(problem=problem, spectrum=spectrum, optimizer=optimizer, steps=steps, batch=batch, seeds=seeds,
                record=record, space=space, sampler=sampler, threads=threads, progress=bool(progress),
                checkpoint=None if checkpoint is None else str(checkpoint), checkpoint_every=checkpoint_every,
                on_divergence=on_divergence)


def _seeds(seeds) -> np.ndarray:
    if np.ndim(seeds) == 0:
        n = check.integer("seeds", seeds, 1)
        return np.arange(n, dtype=np.uint64)
    vals = [check.seed("seeds", s) for s in seeds]
    if not vals:
        raise ValueError("seeds must be non-empty")
    return np.array(vals, dtype=np.uint64)


def _problem_and_spectrum(source, space):
    if isinstance(source, PLRF):
        spectrum = source.spectrum()
        if space == "full" and (spectrum.eigenvectors is None or spectrum.theta_star is None):
            raise ValueError("space='full' needs the problem's eigenvectors and theta_star")
        if space == "full":
            return source, spectrum
        source = spectrum
    if isinstance(source, Spectrum):
        if space == "full":
            raise ValueError("space='full' needs a feature matrix W: pass a PLRF problem, not a Spectrum")
        if source.has_nodes:  # the simulator draws one coordinate per direction
            raise ValueError("problem_or_spectrum has multiplicities > 1 (nodes); simulate needs one entry per "
                             "direction: pass spectrum.expand()")
        # The eigen path needs only (lambda, rho, P_inf): keep d x d eigenvectors out of checkpoints.
        return None, Spectrum(source.eigenvalues, source.rho, source.p_inf, meta=source.meta)
    raise ValueError(f"problem_or_spectrum must be a plrf.PLRF or plrf.Spectrum, got {type(source).__name__}")


# ---- the run --------------------------------------------------------------------------------
def _initial_state(job) -> dict:
    spec, n = job["spectrum"], len(job["seeds"])
    if job["space"] == "eigen":
        x0 = -np.sqrt(spec.rho)  # e0 = U^T(theta0 - theta*); any fixed signs give the same law
    else:
        x0 = np.zeros(spec.d)    # theta0 = 0, the point at which spectrum.rho was computed
    return dict(
        x=np.tile(x0, (n, 1)),
        y=np.zeros((n, spec.d)),
        step=np.zeros(n, dtype=np.int64),
        diverged_at=np.full(n, -1, dtype=np.int64),
        risk=np.full((n, len(job["record"])), np.nan),
    )


def _run(job, state) -> Curves:
    spec = job["spectrum"]
    full = None
    if job["space"] == "full":
        prob = job["problem"]
        full = (np.ascontiguousarray(prob.W), np.ascontiguousarray(spec.eigenvectors),
                np.ascontiguousarray(spec.theta_star), prob.alpha, prob.beta)
    bar = _progress_bar(job, state)
    budget = job["checkpoint_every"] if job["checkpoint"] else math.inf
    try:
        while True:
            interrupted, finished = _core._simulate_advance(
                spec.eigenvalues, spec.p_inf, spec.risk0, job["optimizer"], job["steps"], job["batch"],
                job["record"].tolist(), job["sampler"], job["seeds"], state["x"], state["y"], state["step"],
                state["diverged_at"], state["risk"], full, job["threads"], budget,
                None if bar is None else _updater(bar))
            if job["checkpoint"]:
                _save(job, state)
            if interrupted or finished:
                break
    finally:
        if bar is not None:
            bar.close()
    curves = _curves(job, state, interrupted)
    report_divergence(curves.diverged_at, f"simulate({job['optimizer'].name}, space={job['space']!r})",
                      job["on_divergence"])
    return curves


def _curves(job, state, interrupted) -> Curves:
    spec = job["spectrum"]
    meta = dict(spec.meta, optimizer=repr(job["optimizer"]), steps=job["steps"], batch=job["batch"],
                space=job["space"], sampler=job["sampler"] if job["space"] == "eigen" else None,
                steps_done=state["step"].copy())
    return Curves(steps=job["record"].copy(), risk=state["risk"].copy(), seeds=job["seeds"].copy(), meta=meta,
                  diverged_at=state["diverged_at"].copy(), interrupted=bool(interrupted))


def _progress_bar(job, state):
    if not job["progress"]:
        return None
    from tqdm.auto import tqdm

    bar = tqdm(total=job["steps"] * len(job["seeds"]), unit="step", desc=f"simulate {job['optimizer'].name}")
    bar.update(int(state["step"].sum()))
    return bar


def _updater(bar):
    def update(done):
        bar.update(int(done) - bar.n)

    return update


def _save(job, state) -> None:
    """Atomic checkpoint (see _atomic.atomic_write): a crash mid-save leaves the previous one intact."""
    atomic_write(job["checkpoint"], pickle.dumps({"format": _FORMAT, "job": job, "state": state},
                                                 protocol=pickle.HIGHEST_PROTOCOL))
