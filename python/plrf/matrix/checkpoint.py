"""Checkpoints of plrf.matrix.simulate: the same inert, checksummed file as plrf.checkpoint (no
pickle; the same footer, so either kind of checkpoint may replace the other only when asked), with
its own format name "plrf.matrix.checkpoint".

A run is its problem's parameters (Q and Theta* are regenerated bitwise from the seed), the
optimizer's schedules, steps, batch, seeds and record. Its state: the curves so far (risk, modes,
diverged_at), the chunk size (it changes no bit of the results, only the state's layout), the first
seed of the chunk being run (lo), that chunk's step t, Theta, the optimizer's buffers and which
seeds are alive. Loading checks the file against itself (shapes,
dtypes, ranges) before a run continues from it.
"""
from __future__ import annotations

import os

import numpy as np

from .. import _validate as check
from .._atomic import atomic_write
from .._sealed import Unsealed, unseal, seal
from .._version import __version__
from ..checkpoint import MAGIC, CheckpointError, _first_difference, _get_optimizer, _put_optimizer, _read, streams_version
from ..optim import Schedule
from .optimizers import GenMom, MatrixOptimizer, Muon, SignSGD, SignSVD
from .problem import MatrixPLRF

FORMAT, FORMAT_VERSION = "plrf.matrix.checkpoint", 1
PROBLEM = ("alpha", "beta", "d", "m", "sigma", "basis", "seed")
RUN = ("steps", "batch")
KINDS = {"signsvd": SignSVD, "signsgd": SignSGD, "muon": Muon}
STATE = {"risk": np.float64, "modes": np.float64, "diverged": np.int64, "chunk": np.int64, "lo": np.int64,
         "t": np.int64, "theta": np.float64, "alive": np.bool_}  # chunk: the state's layout, not the run's


def save(path, job: dict, state: dict) -> None:
    """Write the run `job` (problem, optimizer, seeds, record, steps, batch) and its state atomically."""
    header, arrays = _job_parts(job)
    arrays.update({f"state_{k}": np.asarray(v) for k, v in state.items() if k != "opt"})
    arrays.update({f"state_opt_{k}": v for k, v in state["opt"].items()})
    atomic_write(path, seal(MAGIC, header, arrays))


def _job_parts(job) -> tuple[dict, dict]:
    p = job["problem"]
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "plrf_version": __version__,
              "streams_version": streams_version(), "problem": {k: getattr(p, k) for k in PROBLEM},
              **{k: job[k] for k in RUN}}
    arrays = {"seeds": job["seeds"], "record": job["record"]}
    header["optimizer"] = _put(job["optimizer"], arrays)
    return header, arrays


def check_run(target, job) -> None:
    """Before a run: the file at `target`, if any, is a checkpoint of this same run, or the Target
    allows replacing it; else CheckpointError offering both ways on."""
    if target is None or target.overwrite or not os.path.exists(target):
        return
    where = f"checkpoint {target.path!r}"
    replace = f"checkpoint=plrf.checkpoint.Target({target.path!r}, overwrite=True)"
    try:
        theirs = unseal(MAGIC, _read(target, where))
    except (OSError, Unsealed) as exc:
        raise CheckpointError(f"{where} holds a damaged checkpoint ({exc}); replace it with {replace}") from None
    differs = _first_difference(theirs, _job_parts(job))
    if differs is not None:
        raise CheckpointError(f"{where} holds another run's checkpoint ({differs} differs); continue it with "
                              f"plrf.matrix.resume({target.path!r}) (or plrf.resume for a plrf.simulate run), "
                              f"or replace it with {replace}")


def load(path) -> tuple[dict, dict]:
    """(job, state) of the matrix checkpoint at `path`; CheckpointError naming the file otherwise."""
    where = f"checkpoint {str(check.path('path', path))!r}"
    try:
        header, arrays = unseal(MAGIC, _read(path, where))
        if header.get("format") != FORMAT or header.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(f"{where} has format {header.get('format')!r} version "
                                  f"{header.get('format_version')!r}; plrf.matrix.resume reads {FORMAT!r} version "
                                  f"{FORMAT_VERSION} (a plrf.simulate checkpoint continues with plrf.resume)")
        if header.get("streams_version") != streams_version():
            raise CheckpointError(f"{where} was written with random streams version {header.get('streams_version')!r}, "
                                  f"this plrf has {streams_version()}: resuming would not continue the same run")
        job = {"problem": MatrixPLRF(**header["problem"]), "optimizer": _get(header["optimizer"], arrays),
               "seeds": check.seeds(arrays["seeds"]), "record": arrays["record"],
               **{k: check.integer(k, header[k], 1) for k in RUN}}
        state = {k: np.array(arrays[f"state_{k}"]) for k in STATE}
        state["opt"] = {k[len("state_opt_"):]: np.array(v) for k, v in arrays.items() if k.startswith("state_opt_")}
    except CheckpointError:
        raise
    except OSError as exc:
        raise CheckpointError(f"{where} cannot be read: {exc.strerror}") from None
    except (Unsealed, KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{where} is not a valid plrf.matrix checkpoint: {exc}") from None
    _check_state(job, state, where)
    return job, state


def _check_state(job, state, where):
    """The file against itself (a checksum proves integrity, not sane values): dtypes, shapes, ranges,
    and exactly the optimizer buffers the optimizer keeps."""
    def bad(field, why):
        raise CheckpointError(f"{where}: field {field} {why}")

    n, r, d, m = len(job["seeds"]), len(job["record"]), job["problem"].d, job["problem"].m
    chunk, lo, t = int(state["chunk"]), int(state["lo"]), int(state["t"])
    if not 1 <= chunk <= n or not (0 <= lo <= n and (lo % chunk == 0 or lo == n)) or not 0 <= t <= job["steps"]:
        bad("state_chunk/lo/t", f"are ({chunk}, {lo}, {t}): outside the run")
    live = min(chunk, n - lo)
    want = {"risk": (n, r), "modes": (n, r, d), "diverged": (n,), "chunk": (), "lo": (), "t": (),
            "theta": (live, d, m), "alive": (live,)}
    for k, shape in want.items():
        if state[k].dtype != STATE[k] or state[k].shape != shape:
            bad(f"state_{k}", f"has {state[k].dtype} {state[k].shape}, expected {np.dtype(STATE[k])} {shape}")
    buffers = job["optimizer"].new_state((live, d, m))
    if set(buffers) != set(state["opt"]):
        bad("state_opt", f"holds buffers {sorted(state['opt'])}, but {job['optimizer'].name} keeps {sorted(buffers)}")
    for k, v in buffers.items():
        if state["opt"][k].dtype != v.dtype or state["opt"][k].shape != v.shape:
            bad(f"state_opt_{k}", f"has {state['opt'][k].dtype} {state['opt'][k].shape}, expected {v.dtype} {v.shape}")


# ---- the optimizer --------------------------------------------------------------------------
def _put(opt, arrays) -> dict:
    if isinstance(opt, GenMom):
        return {"kind": "genmom", "opt": _put_optimizer(opt.opt, arrays)}
    out = {"kind": opt.name}
    for k, s in opt.schedules().items():
        kind, c, tau, p, values = s.__getstate__()
        out[k] = [int(kind), c, tau, p]
        arrays[f"opt_{k}"] = np.asarray(values, dtype=np.float64)
    if isinstance(opt, Muon):
        out.update(nesterov=opt.nesterov, ns_steps=opt.ns_steps, coeffs=list(opt.coeffs))
    return out


def _get(h, arrays):
    if h["kind"] == "genmom":
        return GenMom(_get_optimizer(h["opt"], arrays))
    cls = KINDS[h["kind"]]

    def sched(k):
        s = Schedule.__new__(Schedule)
        s.__setstate__((h[k][0], *map(float, h[k][1:]), arrays[f"opt_{k}"].tolist()))
        return s

    base: MatrixOptimizer = cls(h["kind"], sched("lr"), sched("momentum"))
    if cls is Muon:
        return Muon(h["kind"], base.lr, base.momentum, bool(h["nesterov"]), int(h["ns_steps"]), tuple(h["coeffs"]))
    return base
