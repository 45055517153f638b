"""Worker side of a sweep: the engine registry and the two task functions that run on workers.

A task never touches the store: it returns encoded record bytes and the driver writes them, so
workers need no shared filesystem (a remote Dask cluster works) and a dead worker loses only
its task in flight. Task functions are module-level so they pickle by reference (spawn-safe).
"""
from __future__ import annotations

import functools
import math
import os
import socket
import time
import traceback
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import _validate as check
from . import store as _store
from . import matrix
from .config import canonical, problem_fields, problem_kwargs, knob_label, optimizer_label, optimizer_state, with_knobs

WORKER_THREADS_ENV = "PLRF_SWEEP_THREADS"  # set in local pool workers: engines then use this many threads


@dataclass(frozen=True)
class Engine:
    """run(spectrum, optimizer, config) -> Curve | Curves; cost(config) -> rough flop count.

    seeded: the engine uses config["seeds"] (else seeds are dropped from the config and its key).
    """

    run: Callable
    cost: Callable
    seeded: bool = False


def _engine_options(options: dict) -> dict:
    """Config options plus sweep defaults: divergence is recorded (the driver warns once), and
    local pool workers use their share of the cores; no bar per task (the sweep's own bar counts configs)."""
    out = {"on_divergence": "ignore", "progress": False, **options}
    if "threads" not in out and os.environ.get(WORKER_THREADS_ENV):
        out["threads"] = int(os.environ[WORKER_THREADS_ENV])
    return out


def _chained(optimizer, options: dict, method: str | None):
    """(chain, other options): the family options a config keeps JSON-able (experts={"zipf": [m, zeta]},
    controller="risk_norm" or {"name": ...}, dynamics=/model= with substeps=) become members of the optimizer's
    chain, so config keys stay as they were and the engines read one optimizer."""
    from ..controllers import check as check_controller
    from ..experts import Experts
    from ..transforms import GradientModel, chain

    out, members = dict(options), []
    if out.get("experts") is not None:
        members.append(Experts.from_config(out.pop("experts")))
    if out.get("controller") is not None:
        members.append(check_controller(out.pop("controller")))
    model = out.pop("model", None) if method == "continuous" else out.pop("dynamics", "sgd")
    if model not in (None, "sgd"):  # substeps belong to a model; alone they stay and are refused by name
        members.append(GradientModel(model, out.pop("substeps", None)))
    elif method == "continuous":
        members.append(GradientModel("hsgd", out.pop("substeps", None)))
    return chain(optimizer, *members), out


def _engine(name: str, options: dict):
    """(plrf.engines engine, other options): a config keeps engine options as flat keys (its stored
    form); the engine takes those it reads (plrf.engines.get), the rest go on to the call."""
    from .. import engines

    keys = set(sum(engines.OPTIONS.values(), ()))
    return (engines.get(name, **{k: v for k, v in options.items() if k in keys}),
            {k: v for k, v in options.items() if k not in keys})


def run_simulate(spectrum, optimizer, cfg):
    from ..errstate import errstate
    from ..simulation import simulate
    from ..problem import PLRF

    optimizer, options = _chained(optimizer, _engine_options(cfg["options"]), None)
    engine, options = _engine(options.pop("space", "eigen"), options)
    source = spectrum
    if engine.name == "full":  # the full simulator streams rows of the seeded W
        source = PLRF(cfg["alpha"], cfg["beta"], cfg["d"], v=cfg["v"], seed=cfg["seed"], **problem_kwargs(cfg))
    with errstate(divergence=options.pop("on_divergence")):
        return simulate(source, optimizer, cfg["steps"], batch=cfg["batch"], seeds=cfg["seeds"],
                        record=cfg["record"], space=engine, **options)


def run_exact_risk(spectrum, optimizer, cfg, method="exact"):
    from ..errstate import errstate
    from ..exact import exact_risk

    optimizer, options = _chained(optimizer, _engine_options(cfg["options"]), method)
    engine, options = _engine(method, options)
    with errstate(divergence=options.pop("on_divergence")):
        return exact_risk(spectrum, optimizer, cfg["steps"], batch=cfg["batch"], record=cfg["record"],
                          method=engine, **options)


def cost_simulate(cfg) -> float:
    n = len(cfg["seeds"]) * cfg["steps"]
    if cfg["options"].get("space") == "full":
        return 2.0 * n * cfg["batch"] * cfg["v"] * cfg["d"]
    return 30.0 * n * (cfg["d"] + cfg["batch"])


def cost_exact(cfg) -> float:
    return 20.0 * cfg["steps"] * cfg["d"]


def cost_continuous(cfg) -> float:
    return 40.0 * cost_exact(cfg)  # ~20 Taylor terms of two flops each per mode and unit


# Nodes of a power law compressed at the default rtol / 10 (2866 at d = 1e6, alpha = 1: docs/exact.md);
# they grow about like log d, so one figure orders the tasks well enough.
COMPRESSED_NODES = 3000


def cost_fast(cfg) -> float:
    """fast/ode: O(entries log T), on nodes above _compress.AUTO_ENTRIES (compressed by default)."""
    from .._compress import AUTO_ENTRIES

    entries = cfg["d"] if cfg["d"] <= AUTO_ENTRIES else COMPRESSED_NODES
    return 400.0 * entries * math.log2(cfg["steps"] + 2) * (1.5 if cfg["d"] > AUTO_ENTRIES else 1.0)


def cost_spectrum(problem: dict) -> float:
    if "m" in problem:
        return matrix.cost_problem(problem)
    if check.spectrum_source(problem["spectrum"])[0] == "theory":
        return 1e3 * problem["d"]
    return 2.0 * problem["v"] * problem["d"] ** 2 + 10.0 * problem["d"] ** 3


ENGINES: dict[str, Engine] = {
    "simulate": Engine(run_simulate, cost_simulate, seeded=True),
    "exact": Engine(functools.partial(run_exact_risk, method="exact"), cost_exact),
    "fast": Engine(functools.partial(run_exact_risk, method="fast"), cost_fast),
    "ode": Engine(functools.partial(run_exact_risk, method="ode"), cost_fast),
    # SGD's continuous-time models; options={"model": "hsgd" | "ito" | "continuized"} (docs/families.md §4)
    "continuous": Engine(functools.partial(run_exact_risk, method="continuous"), cost_continuous),
    # the matrix-valued PLRF (plrf.sweep.matrix): Monte Carlo and the deterministic dynamics
    matrix.SIMULATE: Engine(matrix.run_simulate, matrix.cost_simulate, seeded=True),
    matrix.DYNAMICS: Engine(matrix.run_dynamics, matrix.cost_dynamics),
}


def register_engine(name: str, run: Callable, cost: Callable | None = None, seeded: bool = False) -> None:
    """Add (or replace) an engine usable as config["engine"] = name. `run` must be picklable."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not callable(run):
        raise ValueError("run must be callable: run(spectrum, optimizer, config) -> Curve | Curves")
    ENGINES[name] = Engine(run, cost or cost_exact, seeded)


# ---- tasks ------------------------------------------------------------------------------
def make_spectrum(problem: dict):
    """The spectral data of a problem (no eigenvectors: small to ship between processes)."""
    from ..problem import PLRF
    from ..spectrum import Spectrum

    if "m" in problem:  # a matrix problem: its MatrixPLRF
        return matrix.make_problem(problem)
    p = problem
    kind, method = check.spectrum_source(p["spectrum"])
    if kind == "theory":
        spec = Spectrum.theory(p["alpha"], p["beta"], p["d"], v=p["v"], **({"method": method} if method else {}))
    else:
        threads = int(os.environ.get(WORKER_THREADS_ENV, 0)) or None
        spec = PLRF(p["alpha"], p["beta"], p["d"], v=p["v"], seed=p["seed"], threads=threads,
                    **problem_kwargs(p)).spectrum(keep_vectors=False)
    for k in ("alpha", "beta", "v"):  # plrf.defaults reads these
        spec.meta.setdefault(k, p[k])
    return spec


def resolve_optimizer(optimizer, spectrum, batch):
    from ..optim import defaults

    return defaults(spectrum, batch)[optimizer] if isinstance(optimizer, str) else optimizer


def run_config(key: str, cfg: dict, run: Callable, spectrum) -> tuple[bytes, bool]:
    """Run one config: (record bytes, diverged). An interrupted run is never stored as done."""
    opt = with_knobs(resolve_optimizer(cfg["optimizer"], spectrum, cfg["batch"]), cfg)
    t0 = time.perf_counter()
    result = run(spectrum, opt, cfg)
    if getattr(result, "interrupted", False):  # Ctrl-C inside the engine: stop the sweep, store nothing
        raise KeyboardInterrupt(f"engine interrupted while running config {key[:12]}")
    info = {
        "optimizer": optimizer_label(cfg["optimizer"]) + knob_label(cfg),
        "resolved_optimizer": optimizer_state(opt),
        "seconds": time.perf_counter() - t0,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    diverged = bool(np.any(np.asarray(result.diverged_at) >= 0))
    return _store.encode(key, canonical(cfg), result, info), diverged


def spectrum_task(problem: dict):
    return make_spectrum(problem)


def chunk_task(problem: dict, spectrum, items: list) -> list:
    """Run configs of one problem: items are (key, config, engine run).

    Returns [(key, record bytes, diverged, None)] or [(key, None, False, traceback)] per config."""
    if spectrum is None:
        spectrum = make_spectrum(problem)
    out = []
    for key, cfg, run in items:
        try:
            out.append((key, *run_config(key, cfg, run, spectrum), None))
        except Exception:  # one bad config must not sink its chunk
            out.append((key, None, False, traceback.format_exc(limit=8)))
    return out


def problem_of(cfg: dict) -> dict:
    return problem_fields(cfg)
