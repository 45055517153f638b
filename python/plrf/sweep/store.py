"""The sweep result store: one file per finished config, written atomically, verified on read.

A record file is `<key>.plrf` = payload + footer. The payload is an uncompressed .npz (arrays
steps, risk, diverged_at[, seeds] and a JSON header with the canonical config). The footer is
MAGIC + payload length + sha256(payload), so a truncated, partially written or corrupted file is
detected and treated as missing (the sweep recomputes it), never read as data. Files are written
to a temporary name in the same directory, fsync'ed and renamed with os.replace, so a crash
leaves either the old state or the complete new file.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import warnings
from pathlib import Path

import numpy as np

from .. import _validate as check
from .._atomic import atomic_write, pid_exists
from .._paths import regular_file, writable_file
from .._sealed import Unsealed, looks_sealed, seal, unseal
from ..curves import Curve, Curves

MAGIC = b"PLRFREC1"
SUFFIX = ".plrf"
_STALE_TMP_SECONDS = 3600.0
CLAIM_TIMEOUT = 24 * 3600.0  # a claim by a process on another host is trusted this long

CONFIG_COLUMNS = ("engine", "optimizer", "alpha", "beta", "d", "v", "problem_seed", "spectrum", "steps", "batch",
                  "options", "plrf_version")
MATRIX_COLUMNS = ("m", "sigma", "basis")  # plrf.sweep.matrix configs: added to a table only when it holds one
VALUE_COLUMNS = ("risk", "risk_sem", "n_seeds", "diverged_at")


class CorruptRecord(ValueError):
    """A record file failed its length/checksum/format check."""


# ---- record encoding ------------------------------------------------------------------------
def _jsonable(x):
    """Curve meta made JSON-safe (arrays to lists, unknown objects to their repr)."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        return x if np.isfinite(x) else repr(x)
    return repr(x)


def encode(key: str, config: dict, result, info: dict | None = None) -> bytes:
    """Serialize one finished run (a Curve or Curves) with its canonical config to record bytes."""
    is_curves = isinstance(result, Curves)
    header = {
        "format": 1,
        "key": key,
        "config": config,
        "kind": "curves" if is_curves else "curve",
        "meta": _jsonable(result.meta),
        "error_estimate": None if is_curves else _jsonable(result.error_estimate),  # NaN: not computable
        "info": _jsonable(info or {}),
    }
    arrays = {
        "steps": np.asarray(result.steps, dtype=np.int64),
        "risk": np.asarray(result.risk, dtype=np.float64),
        "diverged_at": np.atleast_1d(np.asarray(result.diverged_at, dtype=np.int64)),
    }
    if is_curves:
        arrays["seeds"] = np.asarray(result.seeds, dtype=np.uint64)
    if getattr(result, "parts", None) is not None:  # mixtures of experts: each expert's curve
        arrays["parts"] = np.asarray(result.parts, dtype=np.float64)
    if getattr(result, "lr", None) is not None:  # a run with a step-size controller
        arrays["lr"] = np.asarray(result.lr, dtype=np.float64)
    return seal(MAGIC, header, arrays)


def decode(data: bytes) -> dict:
    """Record bytes to {header..., "result": Curve | Curves}; CorruptRecord if anything is off."""
    try:
        header, arrays = unseal(MAGIC, data)
    except Unsealed as exc:
        raise CorruptRecord(str(exc)) from None
    if header["kind"] == "curves":
        result = Curves(arrays["steps"], arrays["risk"], arrays["seeds"], meta=header["meta"],
                        diverged_at=arrays["diverged_at"], parts=arrays.get("parts"), lr=arrays.get("lr"))
    else:
        result = Curve(arrays["steps"], arrays["risk"], meta=header["meta"], diverged_at=int(arrays["diverged_at"][0]),
                       error_estimate=None if header["error_estimate"] is None else float(header["error_estimate"]),
                       parts=arrays.get("parts"), lr=arrays.get("lr"))
    return {**header, "result": result}


# ---- the store ------------------------------------------------------------------------------
class Store:
    """A directory of verified record files keyed by config hash, with a claim file per config
    being computed (so that concurrent sweeps on one store compute each config once)."""

    def __init__(self, root):
        self.root = check.path("store", root)
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"store: {str(self.root)!r} exists and is not a folder; a store is a folder of records")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"store: cannot create folder {str(self.root)!r} ({exc.strerror})") from None

    def check_writable(self) -> None:
        """ValueError naming the store unless a record can really be written there (probed)."""
        check.writable_dir("store", self.root)

    # ---- claims ----------------------------------------------------------------------------
    def _claim_path(self, key: str) -> Path:
        return self.root / f".{key}.claim"

    def claim(self, key: str) -> bool:
        """Take the claim on computing `key` (O_EXCL file holding pid, host, process start, time);
        a stale claim (its process is gone, or it is older than CLAIM_TIMEOUT) is taken over."""
        path = self._claim_path(key)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if not _stale(path):
                    return False
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump(_me(), fh)
            return True
        return False

    def release(self, key: str) -> None:
        with contextlib.suppress(OSError):
            if _holder(self._claim_path(key)) == _me()["id"]:
                self._claim_path(key).unlink()

    def path(self, key: str) -> Path:
        return self.root / f"{key}{SUFFIX}"

    def write(self, key: str, data: bytes) -> None:
        """Store a record atomically; a file at its path is replaced only if it is a record (even a
        damaged one, which the sweep recomputes), never a special file or a file of another kind."""
        atomic_write(writable_file("store", self.path(key), ours=lambda p: looks_sealed(p, MAGIC),
                                   kind="plrf result record"), data)

    def read(self, key: str) -> dict | None:
        """The decoded record, or None when it is missing or corrupt."""
        try:
            return decode(regular_file("store", self.path(key)).read_bytes())
        except (OSError, ValueError):  # CorruptRecord, or a special file (never read: a FIFO blocks)
            return None

    def is_done(self, key: str) -> bool:
        rec = self.read(key)
        return rec is not None and rec.get("key") == key

    def keys(self) -> list[str]:
        return sorted(p.name[: -len(SUFFIX)] for p in self.root.glob(f"*{SUFFIX}"))

    def records(self):
        """Yield every valid record; warn about (and skip) corrupt ones."""
        bad = []
        for key in self.keys():
            rec = self.read(key)
            if rec is None or rec.get("key") != key:
                bad.append(key)
                continue
            yield rec
        if bad:
            warnings.warn(f"{len(bad)} corrupt or partial record(s) in {self.root} were skipped "
                          f"(rerun the sweep to recompute them): {bad[:3]}...", RuntimeWarning, stacklevel=2)

    def remove_stale_tmp(self, age: float = _STALE_TMP_SECONDS) -> int:
        """Delete temp files left by writers that died more than `age` seconds ago."""
        now, n = time.time(), 0
        for p in self.root.glob(".*.tmp"):
            try:
                if now - p.stat().st_mtime > age:
                    p.unlink()
                    n += 1
            except OSError:
                pass
        return n


def _start_time(pid: int) -> str | None:
    """The start time of process pid (tells a live process from a reused pid), None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        if not Path("/proc").is_dir():  # no procfs: fall back to whether the pid exists
            return "?" if pid_exists(pid) else None
        return None


def _me() -> dict:
    pid, host = os.getpid(), socket.gethostname()
    start = _start_time(pid)
    return {"pid": pid, "host": host, "start": start, "time": time.time(), "id": f"{host}:{pid}:{start}"}


def _holder(path: Path) -> str | None:
    try:
        return json.loads(path.read_text()).get("id")
    except (OSError, ValueError, AttributeError):
        return None


def _stale(path: Path) -> bool:
    """A claim is stale when its process is gone (same host) or it is older than CLAIM_TIMEOUT."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    except OSError:
        return False  # cannot even stat it: leave it to its owner rather than compute twice
    try:
        info = json.loads(path.read_text())
        pid = int(info.get("pid", -1))
    except FileNotFoundError:
        return True
    except (OSError, ValueError, TypeError, AttributeError):
        return age > 60.0  # unreadable or foreign: a writer died between creating and filling it
    if age > CLAIM_TIMEOUT:
        return True
    if info.get("host") == socket.gethostname():
        start = _start_time(pid)
        return start is None or (start != "?" and start != info.get("start"))
    return False


# ---- tidy tables ----------------------------------------------------------------------------
def _config_columns(rec: dict) -> dict:
    c = rec["config"]
    return {
        "key": rec["key"],
        "engine": c["engine"],
        "optimizer": rec["info"].get("optimizer", c["optimizer"].get("defaults", c["optimizer"].get("name"))),
        "alpha": c["alpha"],
        "beta": c["beta"],
        "d": c["d"],
        "v": c.get("v"),  # None in a matrix config (plrf.sweep.matrix)
        "problem_seed": -1 if c["seed"] is None else c["seed"],
        "spectrum": c.get("spectrum"),
        "steps": c["steps"],
        "batch": c["batch"],
        "options": json.dumps(c["options"], sort_keys=True),
        "plrf_version": c["plrf_version"],
        **{k: c[k] for k in MATRIX_COLUMNS if k in c},
    }


def _rows(rec: dict, seeds: str) -> dict:
    r = rec["result"]
    n = len(r.steps)
    if isinstance(r, Curve):
        cols = {"step": r.steps, "risk": r.risk, "risk_sem": np.full(n, np.nan), "n_seeds": np.full(n, 1),
                "diverged_at": np.full(n, r.diverged_at)}
        if seeds == "all":
            cols["seed"] = np.full(n, -1)
        return cols
    if seeds == "all":
        k = len(r.seeds)
        return {"seed": np.repeat(r.seeds.astype(np.int64), n), "step": np.tile(r.steps, k), "risk": r.risk.ravel(),
                "risk_sem": np.full(k * n, np.nan), "n_seeds": np.full(k * n, 1),
                "diverged_at": np.repeat(r.diverged_at, n)}
    ok = r.ok
    first = int(r.diverged_at[~ok].min()) if (~ok).any() else -1
    mean = r.mean if ok.any() else np.full(n, np.nan)
    return {"step": r.steps, "risk": mean, "risk_sem": r.sem if ok.any() else np.full(n, np.nan),
            "n_seeds": np.full(n, int(ok.sum())), "diverged_at": np.full(n, first)}


def load(store, seeds: str = "mean"):
    """All finished results of a store as a tidy pandas DataFrame, one row per (config, step).

    Columns: key, the config columns (engine, optimizer, alpha, beta, d, v, problem_seed, spectrum,
    steps, batch, options, plrf_version), then step, risk, risk_sem, n_seeds, diverged_at. Simulated curves
    are averaged over their non-diverged seeds (seeds="mean"), or one row per seed with a `seed`
    column (seeds="all"; exact curves get seed -1). Corrupt files are skipped with a warning.
    """
    import pandas as pd

    if seeds not in ("mean", "all"):
        raise ValueError(f"seeds must be 'mean' or 'all', got {seeds!r}")
    root = store.root if isinstance(store, Store) else check.path("store", store)
    if not root.is_dir():
        raise ValueError(f"store {str(root)!r} is not a directory")
    frames = []
    for rec in Store(root).records():
        rows = _rows(rec, seeds)
        n = len(rows["step"])
        frames.append(pd.DataFrame({**{k: [v] * n for k, v in _config_columns(rec).items()}, **rows}))
    if not frames:
        cols = ["key", *CONFIG_COLUMNS, *(("seed",) if seeds == "all" else ()), "step", *VALUE_COLUMNS]
        return pd.DataFrame(columns=cols)
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values(["key", *(("seed",) if seeds == "all" else ()), "step"], ignore_index=True)


def _free_dims(df) -> list:
    """Varying config columns, skipping those fixed by earlier ones (v = 4 d is not its own axis)."""
    dims = []
    for c in (*CONFIG_COLUMNS, *MATRIX_COLUMNS):
        if c not in df or df[c].nunique(dropna=False) < 2:
            continue
        if not dims or df.groupby(dims)[c].nunique(dropna=False).max() > 1:
            dims.append(c)
    return dims


def to_xarray(df, dims=None):
    """An xarray Dataset of a `load` table, with the varying config columns (and step) as dimensions."""
    try:
        import xarray  # noqa: F401
    except ImportError as exc:
        raise ImportError("to_xarray needs xarray (pip install xarray)") from exc
    if not (hasattr(df, "set_index") and hasattr(df, "columns")):
        raise ValueError(f"df must be a pandas DataFrame from plrf.load, got {type(df).__name__}")
    if dims is not None and (isinstance(dims, str) or not all(isinstance(d, str) for d in np.ravel(dims))):
        raise ValueError(f"dims must be a list of column names, got {dims!r:.80}")
    if dims is None:
        dims = _free_dims(df) + (["seed"] if "seed" in df else []) + ["step"]
    dims = list(dims)
    missing = [d for d in dims if d not in df]
    if missing:
        raise ValueError(f"dims {missing} are not columns of the table")
    indexed = df.set_index(dims)
    if not indexed.index.is_unique:
        raise ValueError(f"dims {dims} do not identify the rows uniquely; pass dims= with more columns")
    ds = indexed[[c for c in VALUE_COLUMNS if c in df]].to_xarray()
    for c in (*CONFIG_COLUMNS, *MATRIX_COLUMNS):
        if c in df and c not in dims and df[c].nunique(dropna=False) == 1:
            ds.attrs[c] = df[c].iloc[0]
    return ds
