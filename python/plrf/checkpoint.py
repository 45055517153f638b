"""Simulation checkpoints: an inert, versioned, checksummed file (no pickle).

Layout (see _sealed): an uncompressed .npz with allow_pickle=False (the numeric state and the
problem's arrays) plus a JSON header, then a footer PLRFCKP1 + length + sha256(payload). Loading
never runs code; a truncated, bit-flipped or foreign file is refused with a CheckpointError
naming it. The header carries the format version, the plrf version and the version of the
counter-based random streams: a run is only continued with the streams that started it, which
keeps resume bitwise identical to an uninterrupted run.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import _core
from . import _validate as check
from ._atomic import atomic_write, remove_orphans
from ._sealed import Unsealed, seal, unseal
from ._version import __version__
from .controllers import Controller
from .curves import ON_DIVERGENCE, check_record
from .optim import check_optimizer
from .problem import PLRF
from .spectrum import Spectrum

__all__ = ["CheckpointError", "save", "load", "check_path"]

MAGIC = b"PLRFCKP1"
FORMAT = "plrf.simulate.checkpoint"
FORMAT_VERSION = 2  # 1 was a pickle (unsafe); it is refused
STATE = ("x", "y", "step", "diverged_at", "risk")
CONTROLLER_STATE = ("ctrl", "lr")  # with a controller: [state, last multiplier] per seed, and the lr record
SCALARS = ("steps", "batch", "space", "sampler", "threads", "checkpoint_every", "on_divergence", "dynamics",
           "substeps")
_ADDED = {"dynamics": "sgd", "substeps": 1}  # scalars newer than the format: older files run plain SGD
SCHEDULES = ("gamma1", "gamma2", "gamma3", "delta")
KNOBS = ("l2", "decay", "noise")  # the optimizer's extra knobs, stored like its schedules


class CheckpointError(ValueError):
    """The file is not a usable plrf.simulate checkpoint; the message names the file and why."""


def streams_version() -> int:
    return int(getattr(_core, "STREAMS_VERSION", 1))


def check_path(path) -> str:
    """Before a run: the checkpoint's folder exists and is writable, and the path is not a folder;
    temp files of earlier interrupted saves are removed."""
    path = check.path("checkpoint", path)
    if path.is_dir():
        raise ValueError(f"checkpoint {str(path)!r} is a folder; give a file path")
    check.writable_dir("checkpoint", path.parent if str(path.parent) else Path("."))
    remove_orphans(path)
    return str(path)


def save(path, job, state: dict) -> None:
    """Write job (the run's settings: a dict or an object with these attributes) and state atomically."""
    get = (lambda k: job[k]) if isinstance(job, dict) else (lambda k: getattr(job, k))
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "plrf_version": __version__,
              "streams_version": streams_version(), **{k: get(k) for k in SCALARS}}
    arrays = {"seeds": get("seeds"), "record": get("record"), **{f"state_{k}": state[k] for k in STATE}}
    header["optimizer"] = _put_optimizer(get("optimizer"), arrays)
    header["spectrum"] = _put_spectrum(get("spectrum"), arrays)
    header["problem"] = _put_problem(get("problem"), arrays)
    ctrl = job.get("controller") if isinstance(job, dict) else getattr(job, "controller", None)
    header["controller"] = None if ctrl is None else ctrl.to_dict()
    arrays.update({f"state_{k}": state[k] for k in CONTROLLER_STATE if k in state})
    atomic_write(path, seal(MAGIC, header, arrays))


def load(path) -> tuple[dict, dict]:
    """(job fields, state) of the checkpoint at `path`; CheckpointError naming the file if it is
    damaged, foreign, or written by another format or random-streams version."""
    where = f"checkpoint {str(check.path('path', path))!r}"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{where} cannot be read: {exc.strerror}") from None
    if data[:1] == b"\x80":  # pickle protocol >= 2: plrf's old checkpoint format, never unpickled
        raise CheckpointError(f"{where} is a pickle (the unsafe format of earlier plrf versions); it is not loaded, "
                              "since unpickling can run code. Rerun the simulation.")
    try:
        header, arrays = unseal(MAGIC, data)
        _check_versions(header, where)
        job = {k: header[k] if k in header or k not in _ADDED else _ADDED[k] for k in SCALARS}
        job.update(seeds=arrays["seeds"], record=arrays["record"], optimizer=_get_optimizer(header["optimizer"], arrays),
                   spectrum=_get_spectrum(header["spectrum"], arrays), problem=_get_problem(header["problem"], arrays))
        state = {k: np.array(arrays[f"state_{k}"]) for k in STATE}
        if header.get("controller") is not None:
            job["controller"] = Controller.from_dict(header["controller"])
            state.update({k: np.array(arrays[f"state_{k}"]) for k in CONTROLLER_STATE})
        _check_fields(job)
    except CheckpointError:
        raise
    except Unsealed as exc:
        raise CheckpointError(f"{where} is not a valid plrf.simulate checkpoint: {exc}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{where} is not a valid plrf.simulate checkpoint: bad field {exc}") from None
    _check_shapes(job, state, where)
    return job, state


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
    from .simulation import check_dynamics  # simulation imports this module

    job["substeps"] = check_dynamics(job["dynamics"], job["substeps"], job["optimizer"], job["space"], job["sampler"])


def _check_shapes(job, state, where):
    n, d, r = len(job["seeds"]), job["spectrum"].d, len(job["record"])
    want = {"x": (n, d), "y": (n, d), "step": (n,), "diverged_at": (n,), "risk": (n, r)}
    if "ctrl" in state:
        want.update(ctrl=(n, 2), lr=(n, r))
    for k, shape in want.items():
        if state[k].shape != shape:
            raise CheckpointError(f"{where}: state {k} has shape {state[k].shape}, expected {shape}")


# ---- parts ----------------------------------------------------------------------------------
def _put_optimizer(opt, arrays) -> dict:
    *schedules, name, (l2, decay, noise, svag_l) = opt.__getstate__()
    out = {"name": name, "svag_l": svag_l}
    for key, (kind, c, tau, p, values) in zip(SCHEDULES + KNOBS, (*schedules, l2, decay, noise)):
        out[key] = [int(kind), c, tau, p]
        arrays[f"opt_{key}"] = np.asarray(values, dtype=np.float64)
    return out


def _get_optimizer(h, arrays):
    def sched(k):
        return (*h[k][:1], *map(float, h[k][1:]), arrays[f"opt_{k}"].tolist())

    state = tuple(sched(k) for k in SCHEDULES)
    if "svag_l" in h:  # the extra knobs (docs/families.md §2-3); older files have none
        state = (*state, str(h["name"]), (*(sched(k) for k in KNOBS), float(h["svag_l"])))
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
            "threads": prob.threads}


def _get_problem(h, arrays):
    if h is None:
        return None
    if h["seed"] is None:
        return PLRF.from_features(arrays["problem_W"], h["alpha"], h["beta"])
    return PLRF(h["alpha"], h["beta"], h["d"], v=h["v"], seed=h["seed"], threads=h["threads"] or None)
