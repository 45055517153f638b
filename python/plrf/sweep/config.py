"""Sweep configurations: grid expansion, validation, canonical form and the stable result key.

A config is a flat dict. Problem: alpha, beta, d, v (default 4 d), seed (of W, default 0),
spectrum ("sampled" from the seeded W, "theory" with no W, or "theory:<method>" for
Spectrum.theory(method=...)). Run: optimizer (a GenMomentum, a plrf.chain, or one of the names of
`plrf.defaults`), steps, batch (default 1), seeds (simulation seeds: a list, or n for 0..n-1;
default [0]), record (default grid when None), engine (default "exact"), options (extra
engine keywords), and the optimizer knobs l2, decay, noise (constants >= 0) and svag (l >= 1),
applied to the optimizer by plrf.with_decay / plrf.svag (decay/l2/noise need engine "exact" or
"simulate").

The key of a config is the sha256 of the canonical JSON of its normalized form plus the plrf
version, so the same run always lands in the same file and a new version never reuses old data.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from typing import Iterable

import numpy as np

from .. import _validate as check
from .._version import __version__
from ..optim import NAMES, GenMomentum
from ..transforms import Chain, chain, to_state
from ..spectrum import AUTO_COMPRESS_D
from . import matrix

KEYS = ("alpha", "beta", "d", "v", "seed", "spectrum", "optimizer", "steps", "batch", "seeds", "record",
        "engine", "options", "l2", "decay", "noise", "svag", "activation", "preactivation_scale")
# Optimizer knobs applied on top of `optimizer` (docs/families.md §2-3): key -> value meaning "off".
# A config keeps them only when on, so the keys of existing configs do not change.
KNOB_KEYS = {"l2": 0.0, "decay": 0.0, "noise": 0.0, "svag": 1.0}
CONFIG_BYTES = 2000  # a config dict, its normalized copy, key and plan entry
_LIST_VALUED = ("seeds", "record")  # a flat list is ONE value of these keys; a list of lists is an axis
PROBLEM_KEYS = ("alpha", "beta", "d", "v", "seed", "spectrum")
# Nonlinear features (docs/nonlinear.md): kept only when not the identity, so existing keys do not change.
ACTIVATION_KEYS = ("activation", "preactivation_scale")


def problem_kwargs(cfg: dict) -> dict:
    """The PLRF keywords of a normalized config's activation ({} for the linear PLRF)."""
    return {k: cfg[k] for k in ACTIVATION_KEYS if k in cfg}


def _is_axis(name, value) -> bool:
    if not isinstance(value, (list, tuple, range, np.ndarray)):
        return False
    if name in _LIST_VALUED:
        return len(value) > 0 and all(np.ndim(x) == 1 for x in value)
    return True


def grid(**axes) -> list[dict]:
    """The cartesian product of the axes: every list/tuple/range/array value is an axis.

    `seeds` and `record` take a list as one value; give a list of lists to sweep over them.
    Example: grid(alpha=1.0, beta=0.3, d=[100, 200], optimizer=["sgd", "dana_decaying"], steps=1000).
    """
    names = list(axes)
    sizes = [len(axes[n]) if _is_axis(n, axes[n]) else 1 for n in names]
    n_configs = math.prod(sizes)
    check.memory(CONFIG_BYTES * n_configs, f"grid of {n_configs} configs (axes {dict(zip(names, sizes))})")
    values = [list(axes[n]) if _is_axis(n, axes[n]) else [axes[n]] for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def product(*parts) -> list[dict]:
    """Cartesian product of lists of configs (or dicts, expanded by `grid`), merged left to right."""
    lists = [grid(**p) if isinstance(p, dict) else [dict(c) for c in p] for p in parts]
    out = []
    for combo in itertools.product(*lists):
        merged = {}
        for c in combo:
            merged.update(c)
        out.append(merged)
    return out


def expand(spec) -> list[dict]:
    """A dict, or an iterable of dicts, to a flat list of single configs (each dict expanded by grid)."""
    if isinstance(spec, dict):
        return grid(**spec)
    if not isinstance(spec, Iterable) or isinstance(spec, (str, bytes)):
        raise ValueError(f"grid must be a dict or a list of config dicts, got {type(spec).__name__}")
    out = []
    for c in spec:
        if not isinstance(c, dict):
            raise ValueError(f"grid entries must be dicts, got {type(c).__name__}")
        out.extend(grid(**c))
    return out


def normalize(cfg: dict, engines, default_engine="exact") -> dict:
    """A validated copy of cfg with every default filled in (ValueError naming the bad key)."""
    if matrix.is_matrix(cfg):  # the matrix-valued PLRF has its own keys (plrf.sweep.matrix)
        return matrix.normalize(cfg, default_engine)
    unknown = sorted(set(cfg) - set(KEYS))
    if unknown:
        raise ValueError(f"unknown config key(s) {unknown}; known keys are {list(KEYS)}")
    for k in ("alpha", "beta", "d", "optimizer", "steps"):
        if k not in cfg:
            raise ValueError(f"config is missing {k!r}: {cfg!r:.200}")
    engine = cfg.get("engine") or default_engine
    if engine not in engines:
        raise ValueError(f"engine must be one of {sorted(engines)}, got {engine!r}")
    spectrum = cfg.get("spectrum", "sampled")
    theory = check.spectrum_source(spectrum)[0] == "theory"
    alpha, beta, d, v = check.problem(cfg["alpha"], cfg["beta"], cfg["d"], cfg.get("v"), theory=theory)
    if not isinstance(cfg.get("options") or {}, dict):
        raise ValueError(f"options must be a dict of engine keywords, got {cfg['options']!r}")
    options = dict(cfg.get("options") or {})
    steps = check.integer("steps", cfg["steps"], 1)
    out = {
        "alpha": alpha,
        "beta": beta,
        "d": d,
        "v": v,
        "seed": None if theory else check.seed("seed", cfg.get("seed", 0)),
        "spectrum": spectrum,
        "optimizer": _optimizer(cfg["optimizer"]),
        "steps": steps,
        "batch": check.integer("batch", cfg.get("batch", 1), 1),
        "seeds": check.seeds(cfg.get("seeds", [0])).tolist() if engines[engine].seeded else None,
        "record": _record(cfg.get("record"), steps),
        "engine": engine,
        "options": options,
    }
    out.update(_knobs(cfg))
    out.update(_activation(cfg, theory))
    if theory and options.get("space") == "full":
        raise ValueError("options: space='full' needs a sampled W, not spectrum='theory'")
    if theory and engine == "simulate" and d > AUTO_COMPRESS_D:
        raise ValueError(f"d={d}: a theory spectrum above d={AUTO_COMPRESS_D:.0e} is made of nodes (compressed), "
                         "and simulate needs one entry per direction; use an exact engine at this d")
    if options.get("controller") is not None:  # a name or {"name": ..., params}: checked here, built by the engine
        from .. import capabilities, controllers

        where = options.get("space", "eigen") if engine == "simulate" else engine
        if where in capabilities.ENGINES:  # refused before any work, as the engine would refuse it
            capabilities.check([controllers.check(options["controller"])], where)
    try:
        json.dumps(options, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"options must be JSON-serializable finite values: {exc}") from None
    return out


def _optimizer(opt):
    if isinstance(opt, (GenMomentum, Chain)):
        return opt
    if opt not in NAMES:
        raise ValueError(f"optimizer must be a GenMomentum, a plrf.chain or one of {NAMES}, got {opt!r}")
    return opt


def _knobs(cfg) -> dict:
    out = {}
    for k, off in KNOB_KEYS.items():
        v = check.finite(k, cfg.get(k, off))
        if not (v >= 1.0 if k == "svag" else v >= 0.0):
            raise ValueError(f"{k} must be {'>= 1' if k == 'svag' else '>= 0'}, got {v}")
        if v != off:
            out[k] = v
    return out


def with_knobs(opt, cfg: dict):
    """The resolved optimizer with the config's knobs (if any) applied."""
    from ..optim import decay, svag, with_decay

    if isinstance(opt, Chain):  # the knobs join the chain as members
        extra = [decay(**{k: cfg[k] for k in ("l2", "decay", "noise") if k in cfg})] if any(
            k in cfg for k in ("l2", "decay", "noise")) else []
        return chain(opt, *extra, *([svag(cfg["svag"])] if "svag" in cfg else []))
    if any(k in cfg for k in ("l2", "decay", "noise")):
        opt = with_decay(opt, **{k: cfg.get(k, 0.0) for k in ("l2", "decay", "noise")})
    return svag(opt, cfg["svag"]) if "svag" in cfg else opt


def knob_label(cfg: dict) -> str:
    """The config's knobs for table labels: "" or e.g. "+decay0.01+svag4" (appended to the optimizer's)."""
    return "".join(f"+{k}{cfg[k]:g}" for k in KNOB_KEYS if k in cfg)


def _record(record, steps):
    if record is None:
        return None
    from ..curves import check_record

    return check_record(record, steps).tolist()


def optimizer_state(opt) -> dict:
    """Canonical JSON-able form: a default name, or the optimizer's schedule states."""
    if isinstance(opt, str):
        return {"defaults": opt}
    if isinstance(opt, Chain):  # {"chain": [members]}: plrf.transforms.from_state reads it back
        return to_state(opt)
    if not isinstance(opt, GenMomentum):  # a plrf.matrix optimizer (normalize admits no other)
        return matrix.optimizer_state(opt)
    g1, g2, g3, delta, name, (l2, decay, noise, svag_l) = opt.__getstate__()
    out = {"name": name, "gamma1": list(g1), "gamma2": list(g2), "gamma3": list(g3), "delta": list(delta)}
    if opt.has_affine_knobs() or svag_l != 1.0:  # only then: plain optimizers keep their keys
        out.update(l2=list(l2), decay=list(decay), noise=list(noise), svag_l=svag_l)
    return out


def canonical(cfg: dict) -> dict:
    """The JSON-able form of a normalized config (what the key hashes and the store keeps)."""
    out = dict(cfg)
    out["optimizer"] = optimizer_state(cfg["optimizer"])
    out["plrf_version"] = __version__
    return out


def _digest(obj) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def config_key(cfg: dict) -> str:
    """Stable sha256 hex key of a normalized config (incl. the plrf version and the engine)."""
    return _digest(canonical(cfg))


def problem_fields(cfg: dict) -> dict:
    """What defines a normalized config's problem: its configs share one spectrum (or MatrixPLRF)."""
    if cfg["engine"] in matrix.ENGINE_NAMES:
        return {k: cfg[k] for k in matrix.PROBLEM_KEYS}
    return {k: cfg[k] for k in PROBLEM_KEYS} | problem_kwargs(cfg)


def problem_key(cfg: dict) -> str:
    """Key of the spectrum a config needs: all its configs share one spectral setup."""
    return _digest(problem_fields(cfg) | {"plrf_version": __version__})


def _activation(cfg, theory) -> dict:
    from ..nonlinear import ACTIVATIONS, resolve

    act = resolve(cfg.get("activation", "identity"), cfg.get("preactivation_scale", 1.0))
    if act.name not in ACTIVATIONS:
        raise ValueError(f"activation: a sweep config names an activation ({', '.join(ACTIVATIONS)}), not a function")
    if act.is_identity:
        return {}
    if theory:
        raise ValueError(f"activation={act.name!r} needs spectrum='sampled' (no theory spectrum for nonlinear features)")
    return {"activation": act.name, **({} if act.scale == 1.0 else {"preactivation_scale": act.scale})}


def optimizer_label(opt) -> str:
    """Short name for tables: the default's name, or name + 8 hex of its schedules."""
    if isinstance(opt, str):
        return opt
    return f"{opt.name}-{_digest(optimizer_state(opt))[:8]}"
