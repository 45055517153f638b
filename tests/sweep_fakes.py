"""Cheap engines for sweep tests (importable by spawned/Dask workers via the inherited sys.path).

`numpy_exact` is plrf.testing's NumPy oracle of the docs/theory.md §4 moment recursion: deterministic, any
Gen-Mom-SGD optimizer, O(d) per step. `noisy_seeds` returns Curves (one curve per seed) so the
store's multi-seed path is exercised. `sleepy` sleeps (after writing its pid to a file) when
options["sleep"] is set, so a test can kill the worker running it.
"""
import os
import time

import numpy as np

from plrf.curves import Curve, Curves, record_grid
from plrf.testing import spec4_risk


def numpy_exact(spectrum, opt, cfg):
    steps = cfg["steps"]
    record = np.asarray(cfg["record"] if cfg["record"] is not None else record_grid(steps))
    risk = spec4_risk(spectrum, opt, steps, cfg["batch"], record=record)
    return Curve(record, risk, meta={"engine": "numpy_exact"})


def noisy_seeds(spectrum, opt, cfg):
    base = numpy_exact(spectrum, opt, cfg)
    seeds = np.asarray(cfg["seeds"], dtype=np.uint64)
    noise = np.stack([np.random.default_rng(int(s)).normal(0, 1e-3, base.risk.size) for s in seeds])
    return Curves(base.steps, base.risk * (1 + noise), seeds, meta={"engine": "noisy_seeds"})


def sleepy(spectrum, opt, cfg):
    opts = cfg["options"]
    if opts.get("sleep"):
        path = os.path.join(opts["pid_dir"], f"{os.getpid()}.{time.monotonic_ns()}")
        with open(path + ".tmp", "w") as fh:  # atomic: a watcher never reads a half-written pid
            fh.write(str(os.getpid()))
        os.replace(path + ".tmp", path)
        time.sleep(opts["sleep"])
    return numpy_exact(spectrum, opt, cfg)


def failing(spectrum, opt, cfg):
    if cfg["d"] == 13:
        raise ArithmeticError("planted failure at d=13")
    return numpy_exact(spectrum, opt, cfg)


# ---- helpers shared by the sweep test modules -------------------------------------------------
OPTIMIZERS = ["sgd", "sgd_momentum", "dana_constant", "dana_decaying"]


def small_grid(engine="numpy_exact", **kw):
    from plrf.sweep import grid

    axes = dict(alpha=1.0, beta=[0.3, 0.7], d=[8, 12], optimizer=OPTIMIZERS, steps=60, engine=engine)
    axes.update(kw)
    return grid(**axes)


def sleepy_grid(pid_dir, sleep=1.0):
    """16 configs; config 5 writes its worker's pid to pid_dir and sleeps `sleep` seconds."""
    from plrf.sweep import grid

    g = grid(alpha=1.0, beta=0.3, d=[8, 12, 16, 20], optimizer=OPTIMIZERS, steps=60, engine="sleepy")
    g[5]["options"] = {"sleep": sleep, "pid_dir": str(pid_dir)}
    return g


def stored(store, report):
    """{key: result} of every config of a sweep report, read back from its store."""
    from plrf.sweep.store import Store

    return {k: Store(store).read(k)["result"] for k in report.keys}


def started_pids(pid_dir):
    """Pids of the sleepy task's runs, in start order (files are named <pid>.<monotonic ns>)."""
    names = [f for f in os.listdir(pid_dir) if not f.endswith(".tmp")]
    return [int(f.split(".")[0]) for f in sorted(names, key=lambda f: int(f.split(".")[1]))]


def act_when_started(pid_dir, action, timeout=30.0):
    """Background thread: wait for the sleepy task's pid file, then call action(pid) once."""
    import threading

    def watch():
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pids = started_pids(pid_dir)
            if pids:
                pid = pids[0]
                assert pid > 1 and pid != os.getpid()  # never signal a process group or ourselves
                action(pid)
                return
            time.sleep(0.02)

    th = threading.Thread(target=watch, daemon=True)
    th.start()
    return th


def exploding(spectrum, opt, cfg):
    """numpy_exact with a divergence planted at step 7 (as the engines report it)."""
    c = numpy_exact(spectrum, opt, cfg)
    c.risk[c.steps >= 7] = np.nan
    c.diverged_at = 7
    return c


def interrupted(spectrum, opt, cfg):
    """numpy_exact, except at d=12 where it returns a run marked interrupted (Ctrl-C in an engine)."""
    c = numpy_exact(spectrum, opt, cfg)
    c.interrupted = cfg["d"] == 12
    return c
