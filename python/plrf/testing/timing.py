"""Speed measurements of plrf against the NumPy references, shared by `python -m plrf bench` and
the tables in the repository's bench/ folder. Everything runs in one process, side by side, so a
ratio compares like with like; times are medians of repeats.
"""
from __future__ import annotations

import json
import math
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

from ..optim import defaults
from ..problem import PLRF
from ..simulation import simulate
from .problems import simulator_spectrum
from .references import numpy_eigen, numpy_full, numpy_setup

TARGET_SECONDS = 1.0


def median_time(fn, repeat):
    """Median wall time of `repeat` calls of fn()."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rate(run, seeds, budget=TARGET_SECONDS):
    """Seed-steps per second of run(steps), growing steps until a run takes >= budget/2."""
    steps = 2
    while True:
        t0 = time.perf_counter()
        run(steps)
        dt = time.perf_counter() - t0
        if dt >= budget / 2 or steps >= 10**8:
            return seeds * steps / dt
        steps = int(steps * min(64, max(2, 1.2 * budget / max(dt, 1e-6))))


def plrf_rate(source, opt, batch, seeds, threads, space="eigen"):
    return rate(lambda n: simulate(source, opt, n, batch=batch, seeds=seeds, threads=threads, record=[0, n],
                                   space=space), seeds)


# ---- simulator rows: (d, B, plrf 1 seed, numpy 1 seed, ...) seed-steps per second -----------------
def eigen_rows(d, batches, quick):
    """Eigenbasis simulator, DANA-decaying; quick: one seed only (the 8-seed columns are nan)."""
    spec = simulator_spectrum(d)
    rng = np.random.default_rng(0)
    rows = []
    for B in batches:
        opt = defaults(spec, B)["dana_decaying"]
        one = plrf_rate(spec, opt, B, 1, 1)
        np1 = rate(lambda n: numpy_eigen(spec, opt, n, B, 1, rng), 1)
        if quick:
            rows.append((d, B, one, np1, math.nan, math.nan, math.nan))
            continue
        t1 = plrf_rate(spec, opt, B, 8, 1)
        t2 = plrf_rate(spec, opt, B, 8, 2)
        np8 = rate(lambda n: numpy_eigen(spec, opt, n, B, 8, rng), 8)
        rows.append((d, B, one, np1, t1, t2, np8))
    return rows


def full_rows(d, batches):
    """Full-space simulator on a sampled PLRF(1, 0.5, d), DANA-decaying; 8 seeds on 2 threads if affordable."""
    seeded = PLRF(1.0, 0.5, d, seed=0)
    W = seeded.W
    # Hold W in memory (a seeded problem regenerates it on every call) and reuse the spectrum
    # already computed for this very W, so that the timings measure the simulation only.
    problem = PLRF.from_features(W, 1.0, 0.5)
    problem._spectrum = seeded.spectrum()
    rng = np.random.default_rng(0)
    rows = []
    for B in batches:
        opt = defaults(problem.spectrum(), B)["dana_decaying"]
        one = plrf_rate(problem, opt, B, 1, 1, space="full")
        np1 = rate(lambda n: numpy_full(problem, W, opt, n, B, 1, rng), 1)
        t2 = plrf_rate(problem, opt, B, 8, 2, space="full") if B * d <= 32 * 4000 else math.nan
        rows.append((d, B, one, np1, t2))
    return rows


# ---- spectral setup: time and peak memory ----------------------------------------------------------
def setup_plrf(alpha, beta, d, v, seed):
    return PLRF(alpha, beta, d, v, seed).spectrum()


def setup_eigen(alpha, beta, d, v, seed):
    from .. import _core

    return _core.spectral_setup_eigen(alpha, beta, d, v, seed)


SETUPS = {"plrf": setup_plrf, "numpy": numpy_setup, "eigen": setup_eigen}


def rss_mib():
    """Peak RSS of this address space (VmHWM; ru_maxrss would inherit the parent's peak across exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def setup_child(impl, d):
    """Subprocess entry point: one setup, print the peak RSS increase in MiB (after imports)."""
    np.linalg.eigh(np.eye(4))  # load LAPACK before measuring the baseline
    base = rss_mib()
    SETUPS[impl](1.0, 0.5, d, 4 * d, 0)
    print(json.dumps({"peak_mib": rss_mib() - base}))


def setup_peak_memory(impl, d):
    code = f"from plrf.testing.timing import setup_child; setup_child({impl!r}, {int(d)})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]


def setup_row(d, repeat, impls=("plrf", "numpy")):
    """{d, v, <impl>_s, <impl>_mib}: median times, alternating the implementations, and peak memory."""
    times = {k: [] for k in impls}
    for _ in range(repeat):
        for k in impls:
            times[k].append(median_time(lambda k=k: SETUPS[k](1.0, 0.5, d, 4 * d, 0), 1))
    row = {"d": d, "v": 4 * d}
    for k in impls:
        row[f"{k}_s"] = statistics.median(times[k])
        row[f"{k}_mib"] = setup_peak_memory(k, d)
    return row
