"""The parameter-basis Monte Carlo engine: simulate(..., space="param") and its resume.

A run is a ParamJob (the checked call: spectrum with K's eigenvectors, the rule, steps, seeds, ...) and
a state (e, theta, m, v, step, diverged_at, risk; numpy arrays that the C++ loop, plrf/simulate/
param_path.hpp, advances in place). The loop pauses on a time budget to checkpoint
(plrf.param_checkpoint) and continues from the state, so pausing and resuming change no bit. The rules
themselves are plrf.coordinatewise; docs/coordinatewise.md explains the engine.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from . import _core
from . import _validate as check
from . import checkpoint as ckpt
from . import param_checkpoint
from ._progress import Progress
from ._slices import run_in_slices
from .coordinatewise import CoordinateWise, pack_rotation, param_memory, rotation
from .curves import Curves, check_record, report_divergence
from .errstate import geterr
from .optim import Schedule
from .problem import PLRF
from .spectrum import Spectrum

__all__ = ["ParamJob", "simulate_param", "resume_param", "make_job", "initial_state", "advance", "run_state"]


@dataclass(frozen=True)
class ParamJob:
    """A checked simulate(..., space="param") call: everything its run needs besides the state, and what a
    checkpoint keeps (plrf.param_checkpoint)."""

    spectrum: Spectrum   # with K's eigenvectors U and theta_star
    e0: np.ndarray       # U^T (theta0 - theta*) at theta0 = 0, every seed's start
    member: object       # the CoordinateWise rule, or the GenMomentum of a momentum-only chain
    steps: int
    batch: int
    seeds: np.ndarray    # uint64
    record: np.ndarray   # int64, a valid record grid for `steps`
    threads: int         # 0: all cores
    chain: str           # the chain's name and law, for meta
    law: str
    checkpoint: object = None  # a plrf.checkpoint.Target, or None
    space: str = "param"

    def core_args(self) -> dict:
        """The keywords of _core._simulate_param that describe the problem, the rule and the run."""
        if isinstance(self.member, CoordinateWise):
            args = self.member.core_args()
        else:
            args = dict(rule="sign", lr=Schedule.constant(0.0), b1=0.0, b2=0.0, eps=0.0,
                        weight_decay=Schedule.constant(0.0), decoupled=False, diag=[], clip=0.0, clip_norm=0.0,
                        momentum=self.member)
        spec = self.spectrum
        pack = pack_rotation(spec.d, len(self.seeds), len(self.record), _uses_tau(self.member))
        return dict(args, eigenvalues=spec.eigenvalues, rho=self.e0**2, p_inf=spec.p_inf,
                    eigenvectors=np.ascontiguousarray(spec.eigenvectors), steps=self.steps, batch=self.batch,
                    record=self.record.tolist(), seeds=self.seeds, threads=self.threads, pack_rotation=pack)


def simulate_param(source, chain, steps, batch=1, seeds=1, record=None, threads=None, progress="auto",
                   checkpoint=None, min_every=1.0) -> Curves:
    """simulate(..., space="param") for a checked chain (a coordinate-wise rule or a momentum alone);
    min_every: the least seconds between checkpoint saves (plrf.simulation.MIN_CHECKPOINT_EVERY)."""
    job = make_job(source, chain, steps, batch, seeds, record, threads, checkpoint)
    if job.checkpoint is not None:
        ckpt.check_run(job)  # another run's checkpoint is not replaced unless asked
    state = initial_state(job)
    return _curves(job, state, advance(job, state, progress, min_every))


def resume_param(fields: dict, state: dict, target, threads=None, progress="auto", min_every=1.0) -> Curves:
    """plrf.resume of a parameter-basis checkpoint: fields and state from plrf.checkpoint.load, target
    its checked path (saves go on with the run's own interval)."""
    every = fields.pop("checkpoint_every")
    job = ParamJob(**fields, checkpoint=ckpt.Target(target.path, target.overwrite, every))
    if threads is not None:
        job = replace(job, threads=threads)
    return _curves(job, state, advance(job, state, progress, min_every))


def _curves(job: ParamJob, state: dict, interrupted: bool) -> Curves:
    meta = dict(job.spectrum.meta, optimizer=job.chain, steps=job.steps, batch=job.batch, space="param",
                steps_done=state["step"].copy(), chain=job.chain, law=job.law)
    curves = Curves(steps=job.record.copy(), risk=state["risk"].copy(), seeds=job.seeds.copy(), meta=meta,
                    diverged_at=state["diverged_at"].copy(), interrupted=bool(interrupted))
    report_divergence(curves.diverged_at, f"simulate({job.chain}, space='param')", geterr()["divergence"])
    return curves


def make_job(source, chain, steps, batch=1, seeds=1, record=None, threads=None, checkpoint=None) -> ParamJob:
    """The checked ParamJob of a chain that runs on space="param"; memory is checked before U is built."""
    law = chain.check("param")
    steps = check.integer("steps", steps, 1, 2**48 - 1)
    batch = check.integer("batch", batch, 1)
    record = check_record(record, steps)
    threads = check.threads(threads)
    n = check.seed_count(seeds)
    member = chain.get("coordinatewise")
    if checkpoint is not None:
        if member is not None and member.rule == "python":
            raise ValueError("checkpoint: a Python update rule (plrf.custom_rule) is not checkpointed (its state is "
                             "a Python object); run it without checkpoint=")
        checkpoint = ckpt.check_path(checkpoint)
    d = source.d if isinstance(source, (PLRF, Spectrum)) else 0
    check.memory(param_memory(d, n, len(record), _uses_tau(member)), f"space='param' at d={d} with seeds={n}")
    spec, U, theta_star = rotation(source)
    return ParamJob(spectrum=spec, e0=-(theta_star @ U), member=chain.get("momentum").optimizer if member is None
                    else member, steps=steps, batch=batch, seeds=check.seeds(seeds), record=record, threads=threads,
                    chain=chain.name, law=law, checkpoint=checkpoint)


def initial_state(job: ParamJob) -> dict:
    """Every seed at theta = 0 with empty buffers: e, theta, m, v (seeds x d), step, diverged_at, risk, and
    tau (seeds x d for dana_star, seeds x 0 for the other rules)."""
    n, d = len(job.seeds), job.spectrum.d
    return dict(e=np.tile(job.e0, (n, 1)), theta=np.zeros((n, d)), m=np.zeros((n, d)), v=np.zeros((n, d)),
                step=np.zeros(n, dtype=np.int64), diverged_at=np.full(n, -1, dtype=np.int64),
                risk=np.full((n, len(job.record)), np.nan), tau=np.zeros((n, d if _uses_tau(job.member) else 0)))


def _uses_tau(member) -> bool:
    """Whether the rule keeps dana_star's third buffer tau."""
    return isinstance(member, CoordinateWise) and member.uses_tau


def advance(job: ParamJob, state: dict, progress="auto", min_every=1.0) -> bool:
    """Runs `state` to the end or Ctrl-C (True: interrupted), saving the checkpoint every job.checkpoint.every
    seconds, at the end and on interruption (the C++ loop pauses on its time budget and continues from the
    state, so pausing changes no bit)."""
    spec, n, done = job.spectrum, len(job.seeds), int(state["step"].sum())
    bar = Progress(progress, total=job.steps * n, unit="seed-step", desc=f"simulate {job.chain} (param)",
                   seconds=4e-9 * spec.d * spec.d * (job.steps * n - done))
    bar.set(done)
    if isinstance(job.member, CoordinateWise) and job.member.rule == "python":
        return _python_loop(spec, spec.eigenvectors, job.member, job.steps, job.batch, job.seeds, job.record,
                            job.threads, bar, state)
    budget = max(job.checkpoint.every, min_every) if job.checkpoint is not None else math.inf
    args = job.core_args()
    return run_in_slices(lambda: _core._simulate_param(**args, **state, budget=budget, progress=bar.callback),
                         None if job.checkpoint is None else lambda: param_checkpoint.save(job, state), bar)


def run_state(source, chain, steps, batch=1, seeds=1, record=None, threads=None, progress=False):
    """The parameter-basis run's final state (e, theta, m, v, step, diverged_at, risk: numpy arrays, one
    row per seed), interrupted, the record grid, the seeds and the spectrum (tests read theta)."""
    job = make_job(source, chain, steps, batch, seeds, record, threads)
    state = initial_state(job)
    interrupted = advance(job, state, progress)
    return state, interrupted, job.record, job.seeds, job.spectrum


def _python_loop(spec, U, member, steps, batch, seeds, record, threads, bar, state) -> bool:
    """A Python update rule on the engine's draws (plrf/simulate/param_path.hpp: the same streams), the
    rotation by NumPy; returns True when interrupted (Ctrl-C), with the state at the last whole step."""
    lam, E, theta = spec.eigenvalues, state["e"], state["theta"]
    live = np.ones(len(seeds), dtype=bool)
    limit = 1e6 * (spec.p_inf + 0.5 * (E[0] ** 2) @ lam)  # the engines' divergence guard
    at = {int(s): k for k, s in enumerate(record)}
    user = None if member.init is None else member.init(theta.copy())
    try:
        for t in range(steps + 1):
            risk = spec.p_inf + 0.5 * (E * E) @ lam
            bad = live & ~(np.isfinite(risk) & (risk <= limit))
            state["diverged_at"][bad] = t
            live &= ~bad
            if t in at:
                state["risk"][live, at[t]] = risk[live]
            if t == steps or not live.any():
                break
            grad = _core._param_gradients(eigenvalues=lam, p_inf=spec.p_inf, batch=batch, seeds=seeds, step=t, e=E,
                                          threads=threads) @ U.T
            step, user = member.update(grad, user, t)
            step = np.where(live[:, None], np.asarray(step, dtype=np.float64), 0.0)
            if step.shape != theta.shape:
                raise ValueError(f"update must return a step of shape {theta.shape}, got {step.shape}")
            theta += step
            E += step @ U
            state["step"][live] = t + 1
            bar.set(int(state["step"].sum()))
    except KeyboardInterrupt:
        return True
    bar.finish()
    return False
