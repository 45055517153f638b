"""Matrix-valued PLRF runs in a sweep (docs/muon.md, "Sweeps"): configs, their engines and their problem.

A config is a matrix config when it has the key m, names a matrix engine, or carries a plrf.matrix
optimizer. Its keys: alpha, beta, d, m, sigma (default 0), basis ("haar" or "eigen", default "haar"),
seed (of the problem, default 0), optimizer (plrf.matrix.signsvd/muon/signsgd/sgd/dana(...)), steps,
batch (default 1), seeds (Monte Carlo only; default [0]), record, engine ("matrix.simulate", the
default, or "matrix.dynamics") and options ({"chunk": n} for matrix.simulate: it changes no bit).
The scalar PLRF's keys (v, spectrum, the knobs, activations) are refused by name.

The shared "spectrum" of a matrix problem is its MatrixPLRF, built once per problem like a PLRF's.
A worker returns the curves without their per-mode a_j (.modes): the store keeps risk curves.
"""
from __future__ import annotations

import numpy as np

from .. import _validate as check

SIMULATE, DYNAMICS = "matrix.simulate", "matrix.dynamics"
ENGINE_NAMES = (SIMULATE, DYNAMICS)
PROBLEM_KEYS = ("alpha", "beta", "d", "m", "sigma", "basis", "seed")
KEYS = (*PROBLEM_KEYS, "optimizer", "steps", "batch", "seeds", "record", "engine", "options")
OPTIONS = {SIMULATE: ("chunk",), DYNAMICS: ()}


def _is_matrix_optimizer(opt) -> bool:
    from ..matrix.optimizers import OPTIMIZERS

    return isinstance(opt, OPTIMIZERS)


def is_matrix(cfg: dict) -> bool:
    """A config of the matrix problem (it then follows this module's keys, not the scalar PLRF's)."""
    return "m" in cfg or cfg.get("engine") in ENGINE_NAMES or _is_matrix_optimizer(cfg.get("optimizer"))


def normalize(cfg: dict, default_engine: str) -> dict:
    """A validated copy of a matrix config with its defaults filled in (ValueError naming the bad key)."""
    from ..curves import check_record
    from ..matrix.problem import problem_args

    unknown = sorted(set(cfg) - set(KEYS))
    if unknown:
        raise ValueError(f"unknown config key(s) {unknown} for a matrix config (it has m or a plrf.matrix "
                         f"optimizer); known keys are {list(KEYS)}")
    for k in ("alpha", "beta", "d", "m", "optimizer", "steps"):
        if k not in cfg:
            raise ValueError(f"matrix config is missing {k!r}: {cfg!r:.200}")
    engine = cfg.get("engine") or (SIMULATE if default_engine == "exact" else default_engine)  # "exact": none named
    if engine not in ENGINE_NAMES:
        raise ValueError(f"engine: a matrix config runs on {' or '.join(map(repr, ENGINE_NAMES))}, got {engine!r}")
    opt = cfg["optimizer"]
    if not _is_matrix_optimizer(opt):
        raise ValueError("optimizer: a matrix config takes a plrf.matrix optimizer (signsvd, muon, signsgd, sgd, "
                         f"dana), got {opt!r:.80}")
    if engine == DYNAMICS:
        from ..matrix.dynamics import check_optimizer

        check_optimizer(opt)  # SignSGD with momentum has no dynamics: refused before any work
    options = cfg.get("options") or {}
    if not isinstance(options, dict) or set(options) - set(OPTIONS[engine]):
        raise ValueError(f"options: {engine} takes {list(OPTIONS[engine]) or 'no options'}, got {options!r:.120}")
    options = {k: check.integer(k, v, 1) for k, v in options.items()}
    steps = check.integer("steps", cfg["steps"], 1, check.MAX_STEPS)
    record = cfg.get("record")
    problem = problem_args(cfg["alpha"], cfg["beta"], cfg["d"], cfg["m"], cfg.get("sigma", 0.0),
                           cfg.get("basis", "haar"), cfg.get("seed", 0))
    return {**problem,
            "optimizer": opt, "steps": steps, "batch": check.integer("batch", cfg.get("batch", 1), 1, 2**24),
            "seeds": check.seeds(cfg.get("seeds", [0])).tolist() if engine == SIMULATE else None,
            "record": None if record is None else check_record(record, steps).tolist(),
            "engine": engine, "options": options}


def optimizer_state(opt) -> dict:
    """Canonical JSON-able form of a plrf.matrix optimizer (its kind, schedules and Muon's settings)."""
    from ..matrix.checkpoint import _put

    arrays = {}
    header = _put(opt, arrays)
    return {"matrix": header, "schedules": {k: np.asarray(v).tolist() for k, v in sorted(arrays.items())}}


def make_problem(problem: dict):
    from ..matrix import MatrixPLRF

    return MatrixPLRF(**{k: problem[k] for k in PROBLEM_KEYS})


def cost_problem(problem: dict) -> float:
    """Building a MatrixPLRF: the QR of the Haar rotation and Q times the target."""
    return 10.0 * problem["d"] ** 3 + 2.0 * problem["d"] ** 2 * problem["m"]


def run_simulate(problem, optimizer, cfg):
    from ..errstate import errstate
    from ..matrix import simulate

    with errstate(divergence="ignore"):  # the driver warns once for the whole sweep
        c = simulate(problem, optimizer, cfg["steps"], batch=cfg["batch"], seeds=cfg["seeds"], record=cfg["record"],
                     progress=False, **cfg["options"])
    c.modes = None  # per-mode a_j are not stored
    return c


def run_dynamics(problem, optimizer, cfg):
    from ..errstate import errstate
    from ..matrix import dynamics

    with errstate(divergence="ignore"):
        c = dynamics(problem, optimizer, cfg["steps"], batch=cfg["batch"], record=cfg["record"])
    c.modes = None
    return c


def cost_simulate(cfg) -> float:
    """A Monte Carlo step forms G and a polar factor: about 4 d m (B + min(d, m)) flops per seed."""
    d, m = cfg["d"], cfg["m"]
    return 4.0 * d * m * (cfg["batch"] + min(d, m)) * cfg["steps"] * len(cfg["seeds"])


def cost_dynamics(cfg) -> float:
    """SignSVD's recursion is O(d) per step, SignSGD's O(d^3); SGD/DANA go through exact_risk (O(d))."""
    return 20.0 * cfg["steps"] * cfg["d"] ** 3
