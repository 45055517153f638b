"""The parameter-basis engine (simulate(space="param")) gives the same bits as before its speed work.

The engine's step (plrf/simulate/param_path.hpp) and its GEMM (plrf/linalg/gemm.hpp) were reorganised
for speed: U^T is no longer copied (the GEMM packs U transposed), each GEMM opens one parallel region,
and small work runs on one thread. None of that may move a bit. tests/bitwise_cases.py does not cover
this path, so these cases hash its final state (e, theta, m, v, risk) per instruction set, recorded
from the engine before the change; `python tests/test_param_bitwise.py --write` rewrites
tests/data/param_bitwise.json, which is only right when a result is meant to change.

The rotation U is a product of two Householder reflections built from exactly rounded arithmetic
(no LAPACK), so its bits cannot move with the numpy a machine has. d = 300 is no multiple of the
GEMM's tiles (8 or 6 rows, 24 or 8 columns) nor of its depth block (256), and 13 seeds no multiple
of a tile's rows.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import plrf
from plrf.param_run import run_state

DATA = pathlib.Path(__file__).resolve().parent / "data" / "param_bitwise.json"
ISAS = ("avx512", "avx2", "baseline")


def householder(v):
    return np.eye(len(v)) - (2.0 / (v @ v)) * np.outer(v, v)


def spectrum(d):
    j = np.arange(1.0, d + 1.0)
    U = householder((j % 7.0) - 3.0) @ householder((j % 5.0) + 0.5)
    ts = 1.0 / j
    return plrf.Spectrum(1.0 / (j * j), (ts @ U) ** 2, 1e-3, eigenvectors=U, theta_star=ts)


OPTIMIZERS = {
    "adam": lambda: plrf.adam(1e-2),
    "adamw_clip": lambda: plrf.adamw(1e-2, weight_decay=0.1, clip=0.5),
    "sign_clip_norm": lambda: plrf.sign_sgd(1e-3, clip_norm=0.1),
    "signum": lambda: plrf.signum(1e-3),
    "rmsprop": lambda: plrf.rmsprop(1e-2),
    "sgd": lambda: plrf.sgd(0.2),
}
SIZES = {"d300_s13": (300, 13), "d40_s3": (40, 3)}
# Above both one-thread thresholds (the GEMM's 2^22 multiply-adds, the O(S d) passes' 2^16 coordinates),
# so that threads really split the work; the sizes above run on one thread whatever `threads` says.
THREADED = {"d300_s224": (300, 224)}
assert THREADED["d300_s224"][1] * 300**2 >= 2**22 and THREADED["d300_s224"][1] * 300 >= 2**16
CASES = sorted(f"{o}/{s}" for o in OPTIMIZERS for s in SIZES)


def run(name, threads=1):
    opt, size = name.split("/")
    d, seeds = {**SIZES, **THREADED}[size]
    state, *_ = run_state(spectrum(d), plrf.chain(OPTIMIZERS[opt]()), 12, batch=3, seeds=seeds, threads=threads)
    return state


def digest(state) -> str:
    h = hashlib.sha256()
    for field in ("e", "theta", "m", "v", "risk"):
        h.update(field.encode())
        h.update(np.ascontiguousarray(state[field], dtype=np.float64).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("name", CASES)
def test_param_path_same_bits_as_before(name):
    expected = json.loads(DATA.read_text())[plrf._core.isa()][name]
    assert digest(run(name)) == expected, f"{name}: the parameter-basis engine's numbers changed"


@pytest.mark.parametrize("name", ["adam/d300_s13", "sgd/d40_s3", "adam/d300_s224", "adamw_clip/d300_s224",
                                  "sign_clip_norm/d300_s224"])
def test_param_path_same_bits_for_any_threads(name):
    one = digest(run(name, threads=1))
    assert digest(run(name, threads=2)) == one
    assert digest(run(name, threads=3)) == one


@pytest.mark.parametrize("name", ["adam/d300_s13", "sign_clip_norm/d300_s224", "sgd/d40_s3"])
def test_packed_rotation_same_bits(name, monkeypatch):
    """U^T and U packed once per call (plrf/linalg/packed_right.hpp) or packed by every product as it goes:
    the engine picks by memory (plrf.coordinatewise.pack_rotation), so both must give the same bits."""
    import plrf.param_run as param_run

    digests = {}
    for pack in (True, False):
        chosen = []
        monkeypatch.setattr(param_run, "pack_rotation", lambda *a, pack=pack, **k: chosen.append(pack) or pack)
        digests[pack] = digest(run(name, threads=2))
        assert chosen == [pack]
    assert digests[True] == digests[False]


def test_pack_rotation_follows_memory(monkeypatch):
    """Packing is skipped, not refused, when the packed copies do not fit in half of the free memory."""
    from plrf import _validate
    from plrf.coordinatewise import pack_rotation, packed_rotation_bytes

    assert packed_rotation_bytes(2048) >= 2 * 8 * 2048 * 2048
    monkeypatch.setattr(_validate, "available_memory", lambda: 4 * packed_rotation_bytes(8192))
    assert pack_rotation(8192, 64)
    monkeypatch.setattr(_validate, "available_memory", lambda: 1.5 * packed_rotation_bytes(8192))
    assert not pack_rotation(8192, 64)
    assert pack_rotation(40, 3)  # small: packed without reading the system's memory
    monkeypatch.setattr(_validate, "available_memory", lambda: 2.0**50)
    assert pack_rotation(11_500, 64) and not pack_rotation(12_000, 64)  # PACK_LIMIT: Ctrl-C within a second


if __name__ == "__main__":
    if sys.argv[1:] == ["--print"]:
        print(json.dumps({plrf._core.isa(): {name: digest(run(name)) for name in CASES}}))
        sys.exit(0)
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_param_bitwise.py --write   (rewrites tests/data/param_bitwise.json)")
    out = {}
    for isa in ISAS:  # PLRF_ISA is read once at import: one child process per instruction set
        env = dict(os.environ, PLRF_ISA=isa)
        done = subprocess.run([sys.executable, __file__, "--print"], env=env, check=True, capture_output=True, text=True)
        out.update(json.loads(done.stdout.splitlines()[-1]))
    DATA.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(CASES)} hashes for each of {ISAS} to {DATA}")
