"""What an engine call will cost, estimated before it runs, and how far along it is while it runs.

progress="auto" (the default of simulate, resume and exact_risk) shows a bar only when the estimate
exceeds plrf._progress.AUTO_SECONDS. The estimates are work counts times a time per unit of work,
calibrated once on one thread of a shared, loaded 2-core x86-64 machine (AVX-512, Dec 2026; d = 1e4
theory spectrum, SGD and DANA-decaying): a faster or idle machine runs below them, so they err
towards showing a bar. They ignore threads over modes (used only from d ~ 2.6e5 on).

The exact engines report work in their own counters (see cpp/include/plrf/exact/): the recursion
and the continuous models count steps, the block solver (method="fast") counts steps too but its
cost per block is the same whatever the block's length, and the ODE counts grid points. "fast" and
"ode" run twice (h, then 2h, for their error estimate). `exact_bar` turns those counters into a bar
whose total is known and whose position grows evenly with time: steps for "exact"/"continuous",
grid points for "ode", and a percentage of the estimated blocks for "fast" (whose steps grow
geometrically, so a bar in steps would give a meaningless ETA).
"""
from __future__ import annotations

import math

import numpy as np

# Seconds per unit of work (calibration above).
NS = 1e-9
SIMULATE = 6.0 * NS         # eigen path, per mode x seed x step (x batch with sampler="explicit")
SIMULATE_FULL = 0.7 * NS    # full space, per v x d x batch x seed x step (the GEMM)
RECURSION = 4.0 * NS        # method="exact", per mode x step (SGD and momentum alike)
CONTINUOUS = 85.0 * NS      # method="continuous", per mode x unit of time
FAST = {True: 35.0 * NS, False: 190.0 * NS}  # method="fast", per mode x block; key: plain SGD
ODE = {True: 7.0 * NS, False: 40.0 * NS}     # method="ode", per mode x grid point; key: plain SGD


def simulate_seconds(job, seed_steps: int) -> float:
    """Estimated seconds for `seed_steps` more seed-steps of a checked simulate job (plrf.simulation.Job)."""
    d = job.spectrum.d
    if job.space == "full":
        per = SIMULATE_FULL * job.problem.v * d * job.batch
    else:
        per = SIMULATE * d * (job.batch if job.sampler == "explicit" else 1) * job.substeps
    threads = job.threads or _cores()
    return per * seed_steps / max(1, min(threads, len(job.seeds)))


def exact_seconds(method: str, sgd: bool, modes: int, record, rtol: float, dt: float) -> float:
    """Estimated seconds of an exact_risk call over `modes` nodes (x experts) to record[-1]."""
    last = int(record[-1])
    if method == "exact":
        return RECURSION * modes * last
    if method == "continuous":
        return CONTINUOUS * modes * last
    if method == "fast":
        return FAST[sgd] * modes * _fast_blocks(2 * last, last, rtol, record)
    return ODE[sgd] * modes * _ode_points(last, dt, record)


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# ---- the exact engines' bars -----------------------------------------------------------------
def growth(rtol: float) -> float:
    """The block solver's growth per block for rtol (growth_for in cpp/include/plrf/exact/fast.hpp)."""
    return min(0.25, 2.5 * math.sqrt(rtol))


def _blocks(t: float, r: float, record) -> float:
    """Blocks of one pass of the block solver (growth r) up to step t: steps of one until r t reaches one,
    then growth by 1 + r per block, and one more block per record step passed."""
    t = max(float(t), 0.0)
    ramp = min(t, 1.0 / r)
    return ramp + math.log(max(t * r, 1.0)) / math.log1p(r) + float(np.searchsorted(record, t, side="right") - 1)


def _fast_blocks(done: float, last: int, rtol: float, record) -> float:
    """Blocks of both passes (growth r, then 2r) after `done` steps reported over the two passes."""
    r = growth(rtol)
    return _blocks(min(done, last), r, record) + _blocks(max(done - last, 0.0), 2 * r, record)


def _ode_points(last: int, dt: float, record) -> float:
    """Grid points of both ODE passes (dt, then 2 dt): the log-time grid tau = k dt below ln(1 + last),
    plus the record steps (OdeGrid in cpp/include/plrf/exact/ode.hpp)."""
    tau = math.log1p(last)
    return sum(math.ceil(tau / h) - 1 + len(record) - 1 for h in (dt, 2 * dt))


def exact_bar(method: str, record, rtol: float, dt: float, copies: int = 1) -> dict:
    """Keywords of plrf._progress.Progress for an exact_risk run: total, unit and the map from the
    engine's counter (summed over `copies` experts run alike) to the bar's position."""
    last = int(record[-1])
    if method == "fast":
        whole = _fast_blocks(2 * last, last, rtol, record)
        return dict(total=100, unit="%", scale=lambda n: 100.0 * _fast_blocks(n / copies, last, rtol, record) / whole)
    if method == "ode":
        return dict(total=_ode_points(last, dt, record), unit="point", scale=lambda n: n / copies)
    return dict(total=last, unit="step", scale=lambda n: n / copies)
