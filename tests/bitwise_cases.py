"""Every optimizer family today's API can express, run small, and hashed bit for bit.

The optimizer-chain refactor (one chain of transforms instead of one keyword per family) must keep
these results bitwise: each case is a name and a zero-argument function that runs one engine call
and returns its arrays. tests/test_bitwise_baseline.py compares their sha256 with
tests/data/bitwise_baseline.json; `python tests/bitwise_cases.py --write` rewrites that file, which
is only right when a result is meant to change (say so in the commit).

When an API spelling changes, rewrite the case's body in the new spelling and keep its name: the
name is the family, the hash is its numbers.
"""
from __future__ import annotations

import hashlib
import json
import pathlib
import sys

import numpy as np

import plrf
from plrf import controllers

BASELINE = pathlib.Path(__file__).resolve().parent / "data" / "bitwise_baseline.json"
D, STEPS, EXACT_STEPS, BATCH, SEEDS = 48, 600, 3000, 4, 3


def _problem():
    """The full path's problem: its spectrum comes from LAPACK (numpy's eigh), see FULL below."""
    return plrf.PLRF(alpha=1.0, beta=0.5, d=D, seed=0)


def _spec():
    """A power-law spectrum from exactly rounded arithmetic only (no LAPACK, no libm), so that its bits
    cannot move with the numpy or BLAS a machine has."""
    j = np.arange(1.0, D + 1.0)
    return plrf.Spectrum(1.0 / (j * j), 0.5 / (j * j * j), 1e-4, meta={"alpha": 1.0, "beta": 0.5})


def _opts():
    return plrf.defaults(_spec(), batch=BATCH)


def _sim(opt_name, *transforms, source="spectrum", **kw):
    src = _problem() if source == "problem" else _spec()
    kw.setdefault("batch", BATCH)
    opt = plrf.chain(_opts()[opt_name], *transforms)
    with plrf.errstate(divergence="ignore"):
        return plrf.simulate(src, opt, STEPS, seeds=SEEDS, threads=1, **kw)


def _exact(opt_name, method, *transforms, **kw):
    kw.setdefault("batch", BATCH)
    opt = plrf.chain(_opts()[opt_name], *transforms)
    with plrf.errstate(divergence="ignore"):
        return plrf.exact_risk(_spec(), opt, EXACT_STEPS, method=method, threads=1, **kw)


def _decay():
    return plrf.decay(l2=1e-3, decay=plrf.adana_decay(0.5), noise=1e-3)


# Cases whose spectrum comes from LAPACK: bitwise only under the baseline's numpy (see expected()).
def _is_full(name: str) -> bool:
    return name.startswith("simulate/full/")


def _cases() -> dict:
    cases = {}
    for name in plrf.optim.NAMES:
        cases[f"simulate/eigen/fast/{name}"] = lambda n=name: _sim(n)
        for method in ("exact", "fast", "ode"):
            cases[f"exact_risk/{method}/{name}"] = lambda n=name, m=method: _exact(n, m)
    for name in ("sgd", "dana_decaying"):
        cases[f"simulate/eigen/explicit/{name}"] = lambda n=name: _sim(n, space=plrf.engines.eigen(sampler="explicit"))
        cases[f"simulate/full/{name}"] = lambda n=name: _sim(n, source="problem", space="full")
        cases[f"simulate/eigen/decay/{name}"] = lambda n=name: _sim(n, _decay())
        cases[f"simulate/full/decay/{name}"] = lambda n=name: _sim(n, _decay(), source="problem", space="full")
        cases[f"exact_risk/exact/decay/{name}"] = lambda n=name: _exact(n, "exact", _decay())
        cases[f"simulate/eigen/svag4/{name}"] = lambda n=name: _sim(n, plrf.svag(4))
        for method in ("exact", "fast", "ode"):
            cases[f"exact_risk/{method}/svag4/{name}"] = lambda n=name, m=method: _exact(n, m, plrf.svag(4))
        cases[f"simulate/eigen/experts/{name}"] = lambda n=name: _sim(n, plrf.Experts.zipf(3, 1.0))
        cases[f"simulate/eigen/sparse_experts/{name}"] = lambda n=name: _sim(n, plrf.Experts([0.5, 0.25], sparse=True))
        for method in ("exact", "fast"):
            cases[f"exact_risk/{method}/experts/{name}"] = lambda n=name, m=method: _exact(
                n, m, plrf.Experts.zipf(3, 1.0, clock="expert"))
        for ctrl in controllers.NAMES:
            cases[f"simulate/eigen/controller/{ctrl}/{name}"] = lambda n=name, c=ctrl: _sim(n, controllers.get(c))
            for method in ("exact", "ode"):
                cases[f"exact_risk/{method}/controller/{ctrl}/{name}"] = lambda n=name, c=ctrl, m=method: _exact(
                    n, m, controllers.get(c))
        cases[f"simulate/full/controller/adagrad_norm/{name}"] = lambda n=name: _sim(
            n, controllers.adagrad_norm(), source="problem", space="full")
    cases["simulate/eigen/dynamics/gaussianised/dana_decaying"] = lambda: _sim("dana_decaying", plrf.gaussianised())
    for model in ("hsgd", "ito"):
        make = getattr(plrf, model)
        cases[f"simulate/eigen/dynamics/{model}4/sgd"] = lambda m=make: _sim("sgd", m(substeps=4))
        cases[f"exact_risk/continuous/{model}/sgd"] = lambda m=make: _exact("sgd", "continuous", m())
        cases[f"exact_risk/continuous/{model}8/sgd"] = lambda m=make: _exact("sgd", "continuous", m(substeps=8))
    cases["exact_risk/continuous/continuized/sgd"] = lambda: _exact("sgd", "continuous", plrf.continuized())
    return cases


CASES = _cases()


def digest(result) -> str:
    """sha256 over the result's float64 arrays (risk, and parts and lr where present)."""
    h = hashlib.sha256()
    for field in ("risk", "parts", "lr"):
        value = getattr(result, field, None)
        if value is not None:
            h.update(field.encode())
            h.update(np.ascontiguousarray(value, dtype=np.float64).tobytes())
    return h.hexdigest()


def compute(names=None) -> dict:
    return {name: digest(CASES[name]()) for name in (names or CASES)}


def baseline() -> dict:
    return json.loads(BASELINE.read_text())


def expected() -> dict:
    """The hashes of the instruction set this process runs (the last bits depend on the vector width)."""
    return baseline()[plrf._core.isa()]


def same_lapack() -> bool:
    """Whether this numpy is the baseline's: the full path's spectrum (eigh) is bitwise only then."""
    return baseline()["numpy"] == np.__version__


def full_values() -> dict:
    """The full-path cases' risk values, compared within 1e-10 where numpy (LAPACK) is not the baseline's."""
    return {name: CASES[name]().risk.tolist() for name in CASES if _is_full(name)}


ISAS = ("avx512", "avx2", "baseline")

if __name__ == "__main__":
    # Each instruction set is computed in a child process, since PLRF_ISA is read once at import.
    import os
    import subprocess

    if sys.argv[1:] == ["--print"]:
        print(json.dumps({plrf._core.isa(): compute()}))
        sys.exit(0)
    if sys.argv[1:] == ["--print-full"]:
        print(json.dumps(full_values()))
        sys.exit(0)
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/bitwise_cases.py --write   (rewrites tests/data/bitwise_baseline.json)")
    out = {}
    for isa in ISAS:
        env = dict(os.environ, PLRF_ISA=isa)
        run = subprocess.run([sys.executable, __file__, "--print"], env=env, check=True, capture_output=True, text=True)
        out.update(json.loads(run.stdout.splitlines()[-1]))
    out["numpy"] = np.__version__
    run = subprocess.run([sys.executable, __file__, "--print-full"], check=True, capture_output=True, text=True)
    out["full_values"] = json.loads(run.stdout.splitlines()[-1])
    BASELINE.parent.mkdir(exist_ok=True)
    BASELINE.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(CASES)} hashes for each of {ISAS} to {BASELINE}")
