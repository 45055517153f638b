"""Simulation checkpoints: an inert, versioned, checksummed file (no pickle).

Layout (see _sealed): an uncompressed .npz with allow_pickle=False (the numeric state and the
problem's arrays) plus a JSON header, then a footer PLRFCKP1 + length + sha256(payload). Loading
never runs code; a truncated, bit-flipped or foreign file is refused with a CheckpointError
naming it. The header carries the format version, the plrf version and the version of the
counter-based random streams: a run is only continued with the streams that started it, which
keeps resume bitwise identical to an uninterrupted run.

The checksum detects damage (a truncated or bit-flipped file), not tampering: sha256 is not a
MAC, and anyone can reseal an edited file. So a file that passes it is still checked against
itself (_check_state: steps, shapes, dtypes, W against (v, d), the problem against the spectrum)
before a run continues from it.

A path is written only if it is free or holds a checkpoint (check_path), and simulate() replaces
an existing checkpoint only of the same run (check_run): same job header, i.e. the same settings
that decide the results, whatever the threads, checkpoint_every or plrf version. Another run's
checkpoint is replaced only with checkpoint=Target(path, overwrite=True).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _core
from . import _validate as check
from ._atomic import atomic_write, remove_orphans
from ._paths import regular_file, writable_file
from ._sealed import Unsealed, looks_sealed, seal, unseal
from ._version import __version__
from .controllers import Controller
from .curves import ON_DIVERGENCE, check_record
from .optim import check_optimizer
from .problem import PLRF
from .rule_checkpoint import get_rule, put_rule
from .spectrum import Spectrum
from .transforms import check_dynamics

__all__ = ["CheckpointError", "Target", "save", "load", "check_path", "check_run"]

MAGIC = b"PLRFCKP1"
FORMAT = "plrf.simulate.checkpoint"
FORMAT_VERSION = 2  # 1 was a pickle (unsafe); it is refused
STATE = ("x", "y", "step", "diverged_at", "risk")
CONTROLLER_STATE = ("ctrl", "lr")  # with a controller: [state, last multiplier] per seed, and the lr record
RULE_STATE = ("v",)  # with a coordinate-wise rule (full path): its v buffer (y holds its m)
TAU_STATE = ("tau",)  # with dana_star (full path): its third buffer; a file without it loads without it
SCALARS = ("steps", "batch", "space", "sampler", "threads", "checkpoint_every", "on_divergence", "dynamics",
           "substeps")
_ADDED = {"dynamics": "sgd", "substeps": 1}  # scalars newer than the format: older files run plain SGD
SCHEDULES = ("gamma1", "gamma2", "gamma3", "delta")
KNOBS = ("l2", "decay", "noise")  # the optimizer's extra knobs, stored like its schedules
NOT_THE_RUN = ("plrf_version", "threads", "checkpoint_every")  # header fields that do not change the results
# Engines with their own job, by the header's "space": (job_parts(job), job_and_state(header, arrays, where)).
# Registered by their modules (plrf.param_checkpoint), which import this one: no import cycle.
SPACES: dict = {}
DTYPES = {"x": np.float64, "y": np.float64, "step": np.int64, "diverged_at": np.int64, "risk": np.float64,
          "ctrl": np.float64, "lr": np.float64, "v": np.float64, "tau": np.float64}


class CheckpointError(ValueError):
    """The file is not a usable plrf.simulate checkpoint; the message names the file and why."""


def streams_version() -> int:
    return int(getattr(_core, "STREAMS_VERSION", 1))


@dataclass(frozen=True)
class Target(os.PathLike):
    """A checkpoint path and how it is written: simulate(..., checkpoint=Target(path, every=600))
    saves every `every` seconds (at least plrf.simulation.MIN_CHECKPOINT_EVERY), at the end and on interruption; overwrite=True
    replaces the checkpoint of another run at `path` (a plain path refuses to). Files that are not
    plrf checkpoints are never replaced."""

    path: str
    overwrite: bool = False
    every: float = 60.0

    def __fspath__(self) -> str:
        return self.path


def check_path(path) -> Target:
    """Before a run: the checkpoint's folder exists and is writable, and the path is free or holds
    a plrf checkpoint (never a folder, a special file, or another kind of file); temp files of
    earlier interrupted saves are removed. A path or a Target; symlinks are resolved."""
    target = path if isinstance(path, Target) else Target(path)
    if not isinstance(target.overwrite, bool):
        raise ValueError(f"checkpoint: overwrite must be True or False, got {target.overwrite!r:.80}")
    every = check.positive("checkpoint: every (seconds between saves)", target.every)
    real = writable_file("checkpoint", target.path, ours=lambda p: looks_sealed(p, MAGIC), kind="plrf checkpoint")
    check.writable_dir("checkpoint", real.parent)
    remove_orphans(real)
    return Target(str(real), target.overwrite, every)


def check_run(job) -> None:
    """Before simulate() starts a run: the file at job.checkpoint, if any, is a checkpoint of this
    same run (its job header), or the Target allows overwriting; else CheckpointError offering both
    ways on. The same run is rewritten with the same bits as it goes on, so nothing is lost."""
    target = job.checkpoint
    if target is None or target.overwrite or not os.path.exists(target):
        return
    where = f"checkpoint {target.path!r}"
    ways = (f"continue it with plrf.resume({target.path!r}), or replace it with "
            f"checkpoint=plrf.checkpoint.Target({target.path!r}, overwrite=True)")
    try:
        header, arrays = unseal(MAGIC, _read(target, where))
    except (OSError, Unsealed) as exc:
        raise CheckpointError(f"{where} holds a damaged checkpoint ({exc}); replace it with "
                              f"checkpoint=plrf.checkpoint.Target({target.path!r}, overwrite=True)") from None
    differs = _first_difference((header, arrays), _job_parts(job))
    if differs is not None:
        raise CheckpointError(f"{where} holds another run's checkpoint ({differs} differs); {ways}")


def _first_difference(theirs, mine) -> str | None:
    """The first header field or run array (the state aside) in which two (header, arrays) pairs
    describe different runs; None for the same run."""
    def run_header(h):
        h = json.loads(json.dumps(h))  # as it reads back from a file
        if isinstance(h.get("problem"), dict):
            h["problem"].pop("threads", None)  # W's generation threads: the same bits
        return {k: v for k, v in h.items() if k not in NOT_THE_RUN}

    (h1, a1), (h2, a2) = theirs, mine
    h1, h2 = run_header(h1), run_header(h2)
    for k in sorted(set(h1) | set(h2)):
        if h1.get(k) != h2.get(k):
            return k
    for k in sorted({k for k in (*a1, *a2) if not k.startswith("state_")}):
        a, b = a1.get(k), a2.get(k)
        if a is None or b is None or a.dtype != b.dtype or not np.array_equal(a, b):
            return k
    return None


def save(path, job, state: dict) -> None:
    """Write job (the run's settings: a dict or an object with these attributes) and state atomically."""
    header, arrays = _job_parts(job)
    arrays.update({f"state_{k}": state[k] for k in STATE + CONTROLLER_STATE + RULE_STATE + TAU_STATE if k in state})
    atomic_write(path, seal(MAGIC, header, arrays))


def _job_parts(job) -> tuple[dict, dict]:
    """The header and arrays that describe the run (everything but its state)."""
    if getattr(job, "space", None) in SPACES:  # another engine's job (plrf.param_checkpoint)
        return SPACES[job.space][0](job)
    get = (lambda k: job[k]) if isinstance(job, dict) else (lambda k: getattr(job, k))
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "plrf_version": __version__,
              "streams_version": streams_version(), **{k: get(k) for k in SCALARS}}
    arrays = {"seeds": get("seeds"), "record": get("record")}
    header["optimizer"] = _put_optimizer(get("optimizer"), arrays)
    header["spectrum"] = _put_spectrum(get("spectrum"), arrays)
    header["problem"] = _put_problem(get("problem"), arrays)
    ctrl = job.get("controller") if isinstance(job, dict) else getattr(job, "controller", None)
    header["controller"] = None if ctrl is None else ctrl.to_dict()
    rule = job.get("rule") if isinstance(job, dict) else getattr(job, "rule", None)
    if rule is not None:  # a coordinate-wise rule on the full path (absent otherwise: older files read the same)
        header["rule"] = put_rule(rule, arrays)
    return header, arrays


def load(path) -> tuple[dict, dict]:
    """(job fields, state) of the checkpoint at `path`; CheckpointError naming the file if it is
    damaged, foreign, or written by another format or random-streams version."""
    where = f"checkpoint {str(check.path('path', path))!r}"
    try:
        data = _read(path, where)
    except ValueError as exc:  # a FIFO would block this read forever
        raise CheckpointError(str(exc)) from None
    except OSError as exc:
        raise CheckpointError(f"{where} cannot be read: {exc.strerror}") from None
    if data[:1] == b"\x80":  # pickle protocol >= 2: plrf's old checkpoint format, never unpickled
        raise CheckpointError(f"{where} is a pickle (the unsafe format of earlier plrf versions); it is not loaded, "
                              "since unpickling can run code. Rerun the simulation.")
    try:
        header, arrays = unseal(MAGIC, data)
        _check_versions(header, where)
        if header.get("space") in SPACES:  # another engine's (job fields, state): plrf.param_checkpoint
            return SPACES[header["space"]][1](header, arrays, where)
        job = {k: header[k] if k in header or k not in _ADDED else _ADDED[k] for k in SCALARS}
        job.update(seeds=arrays["seeds"], record=arrays["record"], optimizer=_get_optimizer(header["optimizer"], arrays),
                   spectrum=_get_spectrum(header["spectrum"], arrays), problem=_get_problem(header["problem"], arrays))
        state = {k: np.array(arrays[f"state_{k}"]) for k in STATE}
        if header.get("controller") is not None:
            job["controller"] = Controller.from_dict(header["controller"])
            state.update({k: np.array(arrays[f"state_{k}"]) for k in CONTROLLER_STATE})
        if header.get("rule") is not None:
            job["rule"] = get_rule(header["rule"], arrays)
            state.update({k: np.array(arrays[f"state_{k}"]) for k in RULE_STATE})
            state.update({k: np.array(arrays[f"state_{k}"]) for k in TAU_STATE if f"state_{k}" in arrays})
        _check_fields(job)
    except CheckpointError:
        raise
    except Unsealed as exc:
        raise CheckpointError(f"{where} is not a valid plrf.simulate checkpoint: {exc}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{where} is not a valid plrf.simulate checkpoint: bad field {exc}") from None
    _check_state(job, state, arrays, where)
    return job, state


def _read(path, where) -> bytes:
    """The file's bytes, after checking that it is a regular file and that the bytes, the arrays
    unpacked from them and the run's copy of the state fit in memory (3 x its size)."""
    path = regular_file("path", path)
    check.memory(3.0 * path.stat().st_size, f"{where} ({path.stat().st_size / 2**30:.3g} GiB on disk)")
    return path.read_bytes()


def _check_versions(header, where):
    if header.get("format") != FORMAT or header.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{where} has format {header.get('format')!r} version {header.get('format_version')!r}; "
                              f"this plrf reads {FORMAT!r} version {FORMAT_VERSION}")
    if header.get("streams_version") != streams_version():
        raise CheckpointError(f"{where} was written with random streams version {header.get('streams_version')!r}, "
                              f"but this plrf ({__version__}) has streams version {streams_version()}: resuming "
                              f"would not continue the same run; rerun it, or resume with plrf {header.get('plrf_version')}")


def _check_fields(job):
    """The same checks as simulate's arguments: a checksum proves integrity, not that a hand-made
    file holds sane values."""
    job["steps"] = check.integer("steps", job["steps"], 1)
    job["batch"] = check.integer("batch", job["batch"], 1)
    check.choice("space", job["space"], ("eigen", "full"))
    check.choice("sampler", job["sampler"], ("fast", "explicit"))
    check.choice("on_divergence", job["on_divergence"], ON_DIVERGENCE)
    job["threads"] = check.threads(job["threads"] or None)
    job["checkpoint_every"] = check.positive("checkpoint_every", job["checkpoint_every"])
    job["record"] = check_record(job["record"], job["steps"])
    job["seeds"] = check.seeds(job["seeds"])
    check_optimizer(job["optimizer"], job["steps"])
    job["substeps"] = check_dynamics(job["dynamics"], job["substeps"], job["optimizer"], job["space"], job["sampler"])


def _check_state(job, state, arrays, where):
    """The file against itself, after its checksum (which a hand edit can recompute): every state
    array has the dtype and shape the job implies, each seed's step lies in [0, steps], and the
    problem (its W, its d) matches the spectrum. CheckpointError naming the file and the field."""
    def bad(field, why):
        raise CheckpointError(f"{where}: field {field} {why}")

    n, d, r, steps = len(job["seeds"]), job["spectrum"].d, len(job["record"]), job["steps"]
    want = {"x": (n, d), "y": (n, d), "step": (n,), "diverged_at": (n,), "risk": (n, r)}
    if "ctrl" in state:
        want.update(ctrl=(n, 2), lr=(n, r))
    if "v" in state:
        want.update(v=(n, d))
    if getattr(job.get("rule"), "uses_tau", False):  # dana_star cannot resume without its tau
        want.update(tau=(n, d))
    if ("tau" in want) != ("tau" in state):
        bad("state_tau", "is missing (dana_star's third buffer)" if "tau" in want else "is stored for a rule that "
            "keeps no tau buffer")
    for k, shape in want.items():
        if state[k].dtype != DTYPES[k]:
            bad(f"state_{k}", f"has dtype {state[k].dtype}, expected {np.dtype(DTYPES[k])}")
        if state[k].shape != shape:
            bad(f"state_{k}", f"has shape {state[k].shape}, expected {shape}")
    for k, lo in (("step", 0), ("diverged_at", -1)):
        out = np.flatnonzero((state[k] < lo) | (state[k] > steps))
        if out.size:
            bad(f"state_{k}", f"is {state[k][out[0]]} for seed {job['seeds'][out[0]]}; it must lie in "
                f"[{lo}, steps={steps}]")
    lam = arrays["spec_eigenvalues"]
    if np.any(lam[1:] > lam[:-1]):  # the state's coordinates follow the stored order: never re-sorted
        bad("spec_eigenvalues", "is not in descending order (as saved)")
    _check_problem(job, bad)


def _check_problem(job, bad):
    prob, spec = job["problem"], job["spectrum"]
    if (prob is None) != (job["space"] == "eigen"):
        bad("problem", f"is {'missing' if prob is None else 'present'} with space={job['space']!r}")
    if prob is None:
        return
    if prob.d != spec.d:
        bad("problem.d", f"is {prob.d}, but the spectrum has d={spec.d}")
    if spec.eigenvectors is None or spec.theta_star is None:
        bad("spec_eigenvectors", "is missing: space='full' needs the eigenvectors and theta_star")


# ---- parts ----------------------------------------------------------------------------------
def _put_optimizer(opt, arrays) -> dict:
    *schedules, name, (l2, decay, noise, svag_l, *clip) = opt.__getstate__()
    out = {"name": name, "svag_l": svag_l, **({"clip": clip} if clip else {})}  # DP-SGD (plrf.clip): C, multiplier
    for key, (kind, c, tau, p, values) in zip(SCHEDULES + KNOBS, (*schedules, l2, decay, noise)):
        out[key] = [int(kind), c, tau, p]
        arrays[f"opt_{key}"] = np.asarray(values, dtype=np.float64)
    return out


def _get_optimizer(h, arrays):
    def sched(k):
        return (*h[k][:1], *map(float, h[k][1:]), arrays[f"opt_{k}"].tolist())

    state = tuple(sched(k) for k in SCHEDULES)
    if "svag_l" in h:  # the extra knobs (docs/families.md §2-3); older files have none
        state = (*state, str(h["name"]), (*(sched(k) for k in KNOBS), float(h["svag_l"]), *h.get("clip", ())))
    else:
        state = (*state, str(h["name"]))
    opt = _core.GenMomentum.__new__(_core.GenMomentum)
    opt.__setstate__(state)
    return opt


def _put_spectrum(spec, arrays) -> dict:
    arrays.update(spec_eigenvalues=spec.eigenvalues, spec_rho=spec.rho, spec_p_inf=np.float64(spec.p_inf))
    for k in ("eigenvectors", "theta_star"):
        if getattr(spec, k) is not None:
            arrays[f"spec_{k}"] = getattr(spec, k)
    return {"meta": spec.meta}


def _get_spectrum(h, arrays):
    opt = {k: arrays[f"spec_{k}"] for k in ("eigenvectors", "theta_star") if f"spec_{k}" in arrays}
    return Spectrum(arrays["spec_eigenvalues"], arrays["spec_rho"], float(arrays["spec_p_inf"]), meta=h["meta"], **opt)


def _put_problem(prob, arrays):
    """A seeded problem is its parameters (W is regenerated bitwise from the seed); a user W is stored."""
    if prob is None:
        return None
    if prob.seed is None:
        arrays["problem_W"] = prob.W
    return {"alpha": prob.alpha, "beta": prob.beta, "d": prob.d, "v": prob.v, "seed": prob.seed,
            "threads": prob.threads, **_activation_of(prob)}


def _activation_of(prob) -> dict:
    """A nonlinear problem's activation (docs/nonlinear.md); nothing for the linear PLRF, as before."""
    a = prob.activation
    return {} if a.is_identity else {"activation": a.name, "preactivation_scale": a.scale}


def _get_problem(h, arrays):
    if h is None:
        return None
    if h["seed"] is None:
        W = arrays["problem_W"]
        if W.shape != (h["v"], h["d"]):  # never reinterpret a W of another shape
            raise ValueError(f"problem_W has shape {W.shape}, expected (v, d) = ({h['v']}, {h['d']})")
        return PLRF.from_features(W, h["alpha"], h["beta"], **_activation_kwargs(h))
    return PLRF(h["alpha"], h["beta"], h["d"], v=h["v"], seed=h["seed"], threads=h["threads"] or None,
                **_activation_kwargs(h))


def _activation_kwargs(h) -> dict:
    return {k: h[k] for k in ("activation", "preactivation_scale") if k in h}
