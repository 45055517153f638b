"""Checkpoints of the parameter-basis engine (simulate(..., space="param"), plrf.coordinatewise).

The file is plrf.checkpoint's (inert, checksummed; a job header and arrays, the same format and
streams versions), with space="param" in the header. The job is the coordinate-wise rule (its
scalars in the header, its schedules and diagonal as arrays) or the momentum of a momentum-only
chain, the spectrum with K's eigenvectors and theta_star (a d x d U: recomputing it from the
problem would tie resume to LAPACK's bits), the start e0, and the run's settings. The state is
e, theta and the rule's buffers m and v (Adam's moments: without them a resumed run is another
run), with step, diverged_at and risk, and dana_star's third buffer tau (seeds x 0 for the other rules;
a file from before tau existed loads with that empty tau). Loading checks the file against itself like
plrf.checkpoint does (shapes, dtypes, steps, the rule's own validation).
"""
from __future__ import annotations

import numpy as np

from . import _validate as check
from . import checkpoint as ckpt
from ._atomic import atomic_write
from ._sealed import seal
from ._version import __version__
from .coordinatewise import CoordinateWise
from .curves import check_record
from .optim import check_optimizer
from .rule_checkpoint import get_rule, put_rule

__all__ = ["STATE", "job_parts", "save", "job_and_state"]

STATE = ("e", "theta", "m", "v", "step", "diverged_at", "risk", "tau")
INTEGER_STATE = ("step", "diverged_at")


def job_parts(job) -> tuple[dict, dict]:
    """The header and arrays that describe a parameter-basis run (a param_run.ParamJob), its state aside."""
    header = {"format": ckpt.FORMAT, "format_version": ckpt.FORMAT_VERSION, "plrf_version": __version__,
              "streams_version": ckpt.streams_version(), "space": "param", "steps": job.steps, "batch": job.batch,
              "threads": job.threads, "checkpoint_every": job.checkpoint.every, "chain": job.chain, "law": job.law}
    arrays = {"seeds": job.seeds, "record": job.record, "e0": job.e0}
    header["spectrum"] = ckpt._put_spectrum(job.spectrum, arrays)
    member = job.member
    if isinstance(member, CoordinateWise):
        header["rule"] = put_rule(member, arrays)
    else:
        header["optimizer"] = ckpt._put_optimizer(member, arrays)
    return header, arrays


def save(job, state: dict) -> None:
    """Write the job and its state atomically to job.checkpoint (a crash mid-save keeps the previous file)."""
    header, arrays = job_parts(job)
    arrays.update({f"state_{k}": state[k] for k in STATE})
    atomic_write(job.checkpoint.path, seal(ckpt.MAGIC, header, arrays))


def job_and_state(header: dict, arrays: dict, where: str) -> tuple[dict, dict]:
    """(ParamJob fields, state) of an unsealed parameter-basis checkpoint, checked like simulate's arguments;
    CheckpointError naming the file and the field (KeyError/ValueError for plrf.checkpoint.load to name)."""
    steps = check.integer("steps", header["steps"], 1, 2**48 - 1)
    fields = dict(space="param", spectrum=ckpt._get_spectrum(header["spectrum"], arrays), e0=np.array(arrays["e0"]),
                  member=_get_member(header, arrays, steps), steps=steps,
                  batch=check.integer("batch", header["batch"], 1), seeds=check.seeds(arrays["seeds"]),
                  record=check_record(arrays["record"], steps), threads=check.threads(header["threads"] or None),
                  chain=str(header["chain"]), law=str(header["law"]),
                  checkpoint_every=check.positive("checkpoint_every", header["checkpoint_every"]))
    n = len(fields["seeds"])
    state = {k: np.array(arrays[f"state_{k}"]) if f"state_{k}" in arrays else np.zeros((n, 0)) for k in STATE}
    _check_state(fields, state, where)
    return fields, state


def _get_member(header, arrays, steps):
    if "rule" not in header:
        opt = ckpt._get_optimizer(header["optimizer"], arrays)
        check_optimizer(opt, steps)
        return opt
    return get_rule(header["rule"], arrays)


def _check_state(fields, state, where):
    """The file against itself, after its checksum: the spectrum keeps U and theta_star, and every state
    array has the dtype and shape the job implies, each seed's step in [0, steps]."""
    def bad(field, why):
        raise ckpt.CheckpointError(f"{where}: field {field} {why}")

    spec, steps = fields["spectrum"], fields["steps"]
    n, d, r = len(fields["seeds"]), spec.d, len(fields["record"])
    if spec.eigenvectors is None or spec.theta_star is None:
        bad("spec_eigenvectors", "is missing: space='param' needs the eigenvectors and theta_star")
    if fields["e0"].shape != (d,) or fields["e0"].dtype != np.float64:
        bad("e0", f"has shape {fields['e0'].shape} and dtype {fields['e0'].dtype}, expected ({d},) float64")
    for k in STATE:
        tau_d = d if getattr(fields["member"], "rule", None) == "dana_star" else 0
        shape = (n,) if k in INTEGER_STATE else (n, r) if k == "risk" else (n, tau_d) if k == "tau" else (n, d)
        dtype = np.int64 if k in INTEGER_STATE else np.float64
        if state[k].dtype != dtype or state[k].shape != shape:
            bad(f"state_{k}", f"has shape {state[k].shape} and dtype {state[k].dtype}, expected {shape} "
                f"{np.dtype(dtype)}")
    for k, lo in (("step", 0), ("diverged_at", -1)):
        out = np.flatnonzero((state[k] < lo) | (state[k] > steps))
        if out.size:
            bad(f"state_{k}", f"is {state[k][out[0]]} for seed {fields['seeds'][out[0]]}; it must lie in "
                f"[{lo}, steps={steps}]")


ckpt.SPACES["param"] = (job_parts, job_and_state)  # plrf.checkpoint's save/load dispatch on the header's space
