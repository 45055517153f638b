"""Streaming simulators: SGD, SGD-M and DANA on PLRF problems, many seeds at once.

`simulate` trains the model with fresh batches at every step and records the exact population
risk on a grid of steps, for many seeds in parallel (C++ threads, GIL released). Two paths:

- space="eigen" (default): samples in the eigenbasis of K (docs/theory.md §2), O(d) per step with
  the B-independent "fast" gradient sampler, or O(B d) with plrf.engines.eigen(sampler="explicit").
  Needs only the spectral data, so it also runs on a theory or user Spectrum.
- space="full": honest v-dimensional samples through W (needs a PLRF problem), the reference; it also
  runs the coordinate-wise rules (theta's coordinates are the parameter basis), O(B v d) per step.
- space="param": the parameter basis (needs K's eigenvectors), for coordinate-wise optimizers
  (plrf.adam, plrf.sign_sgd, ...; plrf/coordinatewise.py), O(d^2) per seed and step.

The optimizer is a chain of transforms (plrf.chain, docs/design.md); its gradient-model member swaps
SGD's batch gradient for one of its stochastic models (eigen path only, docs/families.md §4):
plrf.hsgd() (homogenized SGD) and plrf.ito() (the Ito SDE with SGD's covariance), integrated exactly
per mode over `substeps` substeps per step with the path risk frozen (plain SGD only), or
plrf.gaussianised() (any optimizer on a Gaussian gradient with SGD's conditional mean and covariance).

The state is resumable: with checkpoint=path it is saved atomically every minute (or
plrf.checkpoint.Target(path, every=s)) and when the run is interrupted (Ctrl-C returns partial
Curves marked interrupted); `resume(path)` continues it, bitwise identically to an uninterrupted run.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from . import _core
from . import _cost
from . import _validate as check
from . import checkpoint as ckpt
from ._progress import Progress
from ._slices import run_in_slices
from .experts import check_experts
from . import engines
from .capabilities import MONTE_CARLO
from .curves import Curves, check_record, report_divergence
from .errstate import geterr
from .controllers import Controller
from .param_run import resume_param, simulate_param
from .coordinatewise import CoordinateWise
from .optim import GenMomentum, check_optimizer, knobs_of, sgd
from .problem import PLRF
from .spectrum import Spectrum, as_spectrum
from .transforms import Lowered, as_chain, check_dynamics

__all__ = ["simulate", "resume"]


def simulate(problem_or_spectrum, optimizer, steps, batch=1, seeds=1, record=None, space="eigen", threads=None,
             progress="auto", checkpoint=None) -> Curves:
    """Train with streaming batches and record the population risk P (half the MSE) per seed.

    Parameters
    ----------
    problem_or_spectrum : a PLRF problem, or a Spectrum (eigen path only).
    optimizer : a GenMomentum (plrf.sgd, plrf.sgd_momentum, plrf.dana_constant, plrf.dana_decaying, ...) or a
        plrf.chain of transforms (docs/design.md): momentum with ridge/decay/noise (plrf.decay), SVAG
        (plrf.svag(l); eigen path), a step-size controller (plrf.controllers; Curves.lr then holds each
        seed's multiplier path, NaN at step 0), a mixture of experts (plrf.Experts; eigen path, fast
        sampler; risk is each seed's total sum_i w_i P_i, parts[seed, i] expert i's risk; not
        checkpointed) or a gradient model (plrf.hsgd(substeps=n), plrf.ito(substeps=n),
        plrf.gaussianised(); eigen path, docs/families.md §4). The chain runs when every member runs on
        `space` (docs/families.md §5); meta["law"] says whether the run is exact in law or a model's law.
    steps : number of optimizer steps (>= 1).
    batch : samples per step B (>= 1); the gradient is the batch average.
    seeds : an int n (seeds 0..n-1) or a sequence of distinct seeds; each seed is an independent run.
    record : steps at which to record the risk (inside [0, steps]); default: ~10 per decade + last.
    space : "eigen" (default; plrf.engines.eigen(sampler="fast" | "explicit")), "full" (v-dim samples
        through W; needs a PLRF problem; runs Gen-Mom and the coordinate-wise rules) or "param" (the
        parameter basis, for the coordinate-wise rules; plrf.coordinatewise).
    threads : worker threads over seeds (default: all cores). Results do not depend on it.
    progress : "auto" (default: a bar when the run is estimated to take more than ~5 s), False/None,
        True (a tqdm bar), a tqdm-like class or object, or a callable taking the seed-steps done (the
        rule of plrf._progress, shared by every entry point).
    checkpoint : path of a checkpoint file written atomically every 60 s, at the end, and on interruption;
        continue with plrf.resume(path). plrf.checkpoint.Target(path, every=s, overwrite=True) sets the
        interval (at least MIN_CHECKPOINT_EVERY = 1 s) and replaces another run's checkpoint at path
        (a plain path refuses to; a file of another kind is never replaced).

    Divergence: diverged seeds are always recorded in Curves.diverged_at with NaN risk from that step
    on, and warned about unless plrf.errstate(divergence="raise" | "ignore") says otherwise. Runs above
    MAX_DRAWS (1e15 normals: steps x seeds x substeps x (d + 1); batch x (d + 1) or batch x v per step
    for the explicit and full samplers) are refused before any work.
    """
    engine = engines.resolve(space, "space", MONTE_CARLO)
    c = as_chain(optimizer)
    law = c.check(engine.name)
    if engine.name == "param":  # coordinate-wise rules: the parameter-basis engine (plrf.coordinatewise)
        curves = simulate_param(problem_or_spectrum, c, steps, batch, seeds, record, threads, progress, checkpoint,
                                MIN_CHECKPOINT_EVERY)
        curves.meta.update(chain=c.name, law=law)
        return curves
    rule = c.get("coordinatewise")  # space="full": the rule replaces the momentum (Job.rule)
    low = c.lower() if rule is None else Lowered(RULE_CARRIER, None, None, None, None)
    if low.experts is not None:
        curves = _simulate_experts(problem_or_spectrum, low.optimizer, steps, batch, seeds, record, engine, threads,
                                   progress, checkpoint, low.experts)
    else:
        job = _make_job(problem_or_spectrum, low, steps, batch, seeds, record, engine, threads, checkpoint, rule)
        ckpt.check_run(job)  # another run's checkpoint is not replaced unless asked
        curves = _run(job, _initial_state(job), progress)
    curves.meta.update(chain=c.name, law=law)
    return curves


def resume(path, *, threads=None, progress="auto") -> Curves:
    """Continue the run saved in checkpoint `path` (bitwise identical to an uninterrupted run).

    The file is inert (no pickle) and checksummed: a damaged or foreign file raises
    plrf.checkpoint.CheckpointError naming it (see docs/limits.md)."""
    threads = None if threads is None else check.threads(threads)
    fields, state = ckpt.load(path)
    if fields["space"] == "param":  # the parameter-basis engine (plrf.coordinatewise)
        return resume_param(fields, state, ckpt.check_path(path), threads, progress, MIN_CHECKPOINT_EVERY)
    # the divergence policy is the caller's (plrf.errstate), not the saved run's
    job = Job(**{**fields, "on_divergence": geterr()["divergence"]}, checkpoint=ckpt.check_path(path))
    if threads is not None:
        job = dataclasses.replace(job, threads=threads)
    return _run(job, state, progress)


@dataclass(frozen=True)
class Job:
    """A checked simulate() call: everything a run needs besides its state (and what a checkpoint keeps)."""

    problem: PLRF | None  # the full path's problem (W); None on the eigen path
    spectrum: Spectrum
    optimizer: GenMomentum
    steps: int
    batch: int
    seeds: np.ndarray     # uint64
    record: np.ndarray    # int64, a valid record grid for `steps`
    space: str            # "eigen" | "full"
    sampler: str          # "fast" | "explicit" (eigen path)
    threads: int          # 0: all cores
    checkpoint: ckpt.Target | None
    checkpoint_every: float
    on_divergence: str
    dynamics: str = "sgd"  # "sgd" | "hsgd" | "ito" | "gaussianised" (eigen path)
    substeps: int = 1      # per step, "hsgd" / "ito"
    controller: Controller | None = None  # resolved (G, b0 filled in)
    rule: CoordinateWise | None = None    # full path: a coordinate-wise rule; optimizer is then RULE_CARRIER

    @property
    def name(self) -> str:
        return self.optimizer.name if self.rule is None else repr(self.rule)

    def binding_args(self) -> dict:
        """The keywords of _core._simulate_advance that describe the problem and the run."""
        spec = self.spectrum
        args = dict(eigenvalues=spec.eigenvalues, rho=spec.rho, p_inf=spec.p_inf, optimizer=self.optimizer,
                    steps=self.steps, batch=self.batch, record=self.record.tolist(), sampler=self.sampler,
                    seeds=self.seeds, threads=self.threads, dynamics=self.dynamics, substeps=self.substeps)
        if self.controller is not None:
            args.update(controller=self.controller.core(),
                        trace2=float(spec.multiplicity @ spec.eigenvalues**2))
        if self.rule is not None:  # y holds the rule's m, state["v"] its v (state["tau"]: dana_star's tau)
            args.update(rule=_core._CoordRule(**{k: v for k, v in self.rule.core_args().items() if k != "momentum"}))
        if self.space == "full":
            args.update(W=np.ascontiguousarray(self.problem.W), eigenvectors=np.ascontiguousarray(spec.eigenvectors),
                        theta_star=np.ascontiguousarray(spec.theta_star), alpha=self.problem.alpha,
                        beta=self.problem.beta)
            if not self.problem.activation.is_identity:  # nonlinear features (plrf.nonlinear)
                args.update(activation=self.problem.activation.core_code, activation_scale=self.problem.activation.scale)
        return args


# ---- argument checking ------------------------------------------------------------------------
def _make_job(source, low: Lowered, steps, batch, seeds, record, engine: engines.Engine, threads, checkpoint,
              rule=None) -> Job:
    """The checked Job of a lowered chain (plrf.transforms.Chain.lower) on a Monte Carlo engine; rule: a
    coordinate-wise rule on the full path (low.optimizer is then RULE_CARRIER)."""
    optimizer, controller, space, sampler = low.optimizer, low.controller, engine.name, engine.sampler
    dynamics, substeps = low.model or "sgd", low.substeps or 1
    steps = check.integer("steps", steps, 1, check.MAX_STEPS)
    batch = check.integer("batch", batch, 1)
    check_optimizer(optimizer, steps)
    n_seeds = check.seed_count(seeds)
    record = check_record(record, steps)
    if optimizer.clip != math.inf:  # DP-SGD clips each sample's gradient: the explicit sampler forms them
        sampler = "explicit"
    substeps = check_dynamics(dynamics, substeps, optimizer, space, sampler)
    threads = check.threads(threads)
    checkpoint = None if checkpoint is None else ckpt.check_path(checkpoint)
    if space == "full":
        check.memory(8.0 * n_seeds, f"seeds={n_seeds}")  # before the full path's O(v d^2) setup
    if rule is not None:
        _check_rule_size(rule, source)
    problem, spectrum = _problem_and_spectrum(source, space)
    d = spectrum.d
    if problem is not None:
        check.memory(8.0 * problem.v * d + 8.0 * d * d, f"space='full' with W of shape (v={problem.v}, d={d})")
    check_draw_cost(steps, n_seeds, batch, substeps, space, sampler, d, problem.v if problem is not None else d)
    # per seed: x and y (d each), the risk record, step and diverged_at
    per_seed = 2 * d + len(record) + 2 + (0 if controller is None else len(record) + 2)  # + lr and ctrl
    per_seed += 0 if rule is None else d * (2 if rule.uses_tau else 1)  # the rule's v (and dana_star's tau)
    seeds = check.seeds(seeds, 8.0 * per_seed, f" at d={d} (seeds x d state)")
    if steps >= 2**48:
        raise ValueError(f"steps must be < 2**48 for a Monte Carlo run (the random streams address a step in "
                         f"48 bits), got {steps}")
    if space == "full" and optimizer.svag_l != 1.0:
        raise ValueError("optimizer: svag needs space='eigen' (the full-space sampler draws one batch per step)")
    if sampler == "explicit" and space == "eigen" and batch * (d + 1) * (2 if optimizer.svag_l != 1.0 else 1) >= 2**48:
        raise ValueError(f"batch={batch} is too large for sampler='explicit' at d={d} (its sample indices "
                         "exceed the 2**48 addresses of a step's stream); use sampler='fast', whose cost does "
                         "not depend on batch")
    if space == "full" and batch * problem.v >= 2**48:
        raise ValueError(f"batch={batch} is too large for space='full' at v={problem.v} (its sample indices exceed "
                         "the 2**48 addresses of a step's stream)")
    if substeps * (d + 1) >= 2**48:
        raise ValueError(f"substeps={substeps} is too large at d={d} (its normals exceed the 2**48 addresses of a "
                         "step's stream)")
    return Job(problem=problem, spectrum=spectrum, optimizer=optimizer, steps=steps, batch=batch, seeds=seeds,
               record=record, space=space, sampler=sampler, threads=threads, checkpoint=checkpoint,
               checkpoint_every=60.0 if checkpoint is None else checkpoint.every,
               on_divergence=geterr()["divergence"], dynamics=dynamics, substeps=substeps,
               controller=None if controller is None else controller.resolve(spectrum, batch), rule=rule)


# A coordinate-wise rule replaces the momentum: the C++ run reads its rule and never this GenMomentum's coefficients.
RULE_CARRIER = sgd(0.0)


def _check_rule_size(rule: CoordinateWise, source) -> None:
    """preconditioned_sgd's diagonal has d entries: said before the full path's setup."""
    d = getattr(source, "d", None)
    if rule.rule == "precond" and d is not None and len(rule.diag) != d:
        raise ValueError(f"optimizer: preconditioned_sgd's diag has {len(rule.diag)} entries; the problem has d={d}")


MAX_DRAWS = 1e15  # normals one Monte Carlo call may draw: ~1e8-3e8 per second on one core, so weeks of it


def check_draw_cost(steps, n_seeds, batch, substeps, space, sampler, d, v) -> None:
    """Refuses, before any work, a run whose loops inside a step (substeps, or the batch of the explicit and
    full-space samplers) add up to weeks of one core: ValueError naming the knob. The fast eigen sampler's
    cost does not depend on the batch."""
    if substeps > 1:
        knob, per_step, what = f"substeps={substeps}", substeps * (d + 1), "substeps x (d + 1)"
    elif space == "full":
        knob, per_step, what = f"batch={batch}", batch * v, "batch x v"
    elif sampler == "explicit":
        knob, per_step, what = f"batch={batch}", batch * (d + 1), "batch x (d + 1)"
    else:
        return
    draws = float(steps) * n_seeds * per_step
    if draws > MAX_DRAWS:
        raise ValueError(f"{knob}: steps x seeds x {what} = {draws:.3g} normal draws, above the limit {MAX_DRAWS:.0e} "
                         f"(weeks of one core); use a smaller {knob.split('=')[0]}, fewer steps or seeds")


def _problem_and_spectrum(source, space):
    if space == "full":
        if not isinstance(source, PLRF):
            raise ValueError("space='full' needs a feature matrix W: pass a PLRF problem as problem_or_spectrum, "
                             f"not a {type(source).__name__}")
        if source.activation.core_code is None:
            raise ValueError(f"space='full' runs the named activations only ({source.activation.name} is a user "
                             "function): use plrf.nonlinear.simulate_full, the NumPy full path")
        spectrum = source.spectrum()
        if spectrum.eigenvectors is None or spectrum.theta_star is None:
            raise ValueError("space='full' needs the problem's eigenvectors and theta_star")
        return source, spectrum
    spec = as_spectrum(source, "problem_or_spectrum")
    if spec.has_nodes:  # the simulator draws one coordinate per direction
        raise ValueError("problem_or_spectrum has multiplicities > 1 (nodes); simulate needs one entry per "
                         "direction: pass spectrum.expand()")
    # The eigen path needs only (lambda, rho, P_inf): keep d x d eigenvectors out of checkpoints.
    return None, Spectrum(spec.eigenvalues, spec.rho, spec.p_inf, meta=spec.meta)


# ---- the run --------------------------------------------------------------------------------
def _initial_state(job: Job) -> dict:
    spec, n = job.spectrum, len(job.seeds)
    if job.space == "eigen":
        x0 = -np.sqrt(spec.rho)  # e0 = U^T(theta0 - theta*); any fixed signs give the same law
    else:
        x0 = np.zeros(spec.d)    # theta0 = 0, the point at which spectrum.rho was computed
    state = dict(
        x=np.tile(x0, (n, 1)),
        y=np.zeros((n, spec.d)),
        step=np.zeros(n, dtype=np.int64),
        diverged_at=np.full(n, -1, dtype=np.int64),
        risk=np.full((n, len(job.record)), np.nan),
    )
    if job.rule is not None:  # the rule's second buffer (y is its first), and dana_star's third
        state["v"] = np.zeros((n, spec.d))
        if job.rule.uses_tau:
            state["tau"] = np.zeros((n, spec.d))
    if job.controller is not None:  # per seed: [controller state, last multiplier], and the lr record
        state.update(ctrl=np.tile([job.controller.core().start(), np.nan], (n, 1)),
                     lr=np.full((n, len(job.record)), np.nan))
    return state


MIN_CHECKPOINT_EVERY = 1.0  # seconds: a save costs milliseconds, and each pause rebuilds the run's steppers


def _run(job: Job, state: dict, progress="auto") -> Curves:
    args = job.binding_args()
    bar = _progress_bar(job, state, progress)
    budget = max(job.checkpoint_every, MIN_CHECKPOINT_EVERY) if job.checkpoint else math.inf
    interrupted = run_in_slices(lambda: _core._simulate_advance(**args, **state, budget=budget, progress=bar.callback),
                                (lambda: _save(job, state)) if job.checkpoint else None, bar)
    curves = _curves(job, state, interrupted)
    report_divergence(curves.diverged_at, f"simulate({job.name}, space={job.space!r})",
                      job.on_divergence)
    return curves


def _curves(job: Job, state: dict, interrupted) -> Curves:
    spec = job.spectrum
    meta = dict(spec.meta, optimizer=job.name, steps=job.steps, batch=job.batch,
                space=job.space, sampler=job.sampler if job.space == "eigen" else None,
                dynamics=job.dynamics, substeps=job.substeps,
                steps_done=state["step"].copy(), **knobs_of(job.optimizer))
    if job.controller is not None:
        meta["controller"] = job.controller.to_dict()
    return Curves(steps=job.record.copy(), risk=state["risk"].copy(), seeds=job.seeds.copy(), meta=meta,
                  diverged_at=state["diverged_at"].copy(), interrupted=bool(interrupted),
                  lr=state["lr"].copy() if "lr" in state else None)


def _progress_bar(job: Job, state: dict, progress, experts=1):
    """A bar in seed-steps; progress="auto" shows it when the steps left are estimated above a few seconds."""
    total, done = job.steps * len(job.seeds), int(state["step"].sum())
    bar = Progress(progress, total=total, unit="seed-step", desc=f"simulate {job.name}",
                   seconds=experts * _cost.simulate_seconds(job, total - done))
    bar.set(done)
    return bar


def _save(job, state) -> None:
    """Atomic checkpoint (see plrf.checkpoint): a crash mid-save leaves the previous one intact."""
    ckpt.save(job.checkpoint, job, state)


# ---- mixtures of experts (docs/families.md §1) -------------------------------------------------
def _simulate_experts(source, optimizer, steps, batch, seeds, record, engine, threads, progress, checkpoint,
                      experts) -> Curves:
    if engine.sampler != "fast":
        raise ValueError(f"space: experts run on the eigen path with sampler='fast', got sampler={engine.sampler!r}")
    if checkpoint is not None:
        raise ValueError("checkpoint is not supported with experts (a mixture runs to the end)")
    job = _make_job(source, Lowered(optimizer, None, None, None, None), steps, batch, seeds, record, engine, threads,
                    None)
    opts = experts.optimizer_list(optimizer, job.steps)
    if experts.is_single():  # one expert that sees every sample: the plain simulator, bit for bit
        return _single_expert(dataclasses.replace(job, optimizer=opts[0]), experts, progress)
    spec, n, m, k = job.spectrum, len(job.seeds), experts.m, len(job.record)
    check.memory(8.0 * n * (2 * m * spec.d + (m + 1) * k), f"experts={m} x seeds={n} x d={spec.d} state")
    state = _initial_state(job)  # each expert starts where a single learner does
    state.update(x=np.tile(state["x"], (1, m)), y=np.tile(state["y"], (1, m)), parts=np.full((n, m, k), np.nan))
    bar = _progress_bar(job, state, progress, experts=m)
    try:
        interrupted, _ = _core._simulate_experts(
            eigenvalues=spec.eigenvalues, rho=spec.rho, p_inf=spec.p_inf, optimizers=opts, p=experts.p.tolist(),
            weight=experts.weights.tolist(), expert_clock=experts.clock == "expert", sparse=experts.sparse,
            steps=job.steps, batch=job.batch, record=job.record.tolist(), seeds=job.seeds, threads=job.threads,
            progress=bar.callback, **{key: state[key] for key in ("x", "y", "step", "diverged_at", "risk", "parts")})
        if not interrupted:
            bar.finish()
    finally:
        bar.close()
    curves = _curves(job, state, interrupted)
    curves.meta.update(experts.meta())
    curves.parts = state["parts"]
    report_divergence(curves.diverged_at, f"simulate({job.optimizer.name}, experts={m})", job.on_divergence)
    return curves


def _single_expert(job: Job, experts, progress) -> Curves:
    curves = _run(job, _initial_state(job), progress)
    curves.meta.update(experts.meta())
    curves.parts = curves.risk[:, None, :].copy()  # weight 1: total risk = the expert's
    return curves
