"""plrf.sweep on the matrix-valued PLRF (plrf.sweep.matrix): configs with m, sigma, basis and the
plrf.matrix optimizers run on the engines matrix.simulate and matrix.dynamics, store exactly what a
direct call returns (bitwise), survive a killed driver, and refuse bad keys by name."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import plrf
from hardening_tools import child_env
from plrf import matrix as M
from plrf.sweep import config as C
from plrf.sweep import grid, run
from plrf.sweep import store as S
from plrf.sweep import tasks as T

pytest.importorskip("pandas")

PROBLEM = dict(alpha=1.0, beta=0.5, d=8, m=12, sigma=0.1, basis="haar")


def small_grid():
    mc = grid(**PROBLEM, optimizer=[M.signsvd(0.05), M.muon(0.05), M.signsgd(0.01, momentum=0.5),
                                    M.dana(plrf.dana_decaying(0.2, 0.05, 6.0, 1.0))],
              steps=40, batch=2, seeds=[3, 5, 9], engine="matrix.simulate")
    de = grid(**PROBLEM, optimizer=[M.signsvd(0.05), M.muon(0.05), M.signsgd(0.01), M.sgd(0.2)], steps=40, batch=[1, 3],
              record=[0, 1, 7, 40], engine="matrix.dynamics")
    return mc + de


def direct(cfg):
    """What the sweep must store for cfg: plrf.matrix.simulate or dynamics called directly."""
    n = C.normalize(cfg, T.ENGINES)
    p = M.MatrixPLRF(n["alpha"], n["beta"], n["d"], n["m"], sigma=n["sigma"], basis=n["basis"], seed=n["seed"])
    if n["engine"] == "matrix.dynamics":
        return M.dynamics(p, n["optimizer"], n["steps"], batch=n["batch"], record=n["record"])
    return M.simulate(p, n["optimizer"], n["steps"], batch=n["batch"], seeds=n["seeds"], record=n["record"],
                      progress=False)


def assert_stored_equals_direct(store, configs):
    st = S.Store(store)
    for cfg in configs:
        got = st.read(C.config_key(C.normalize(cfg, T.ENGINES)))["result"]
        want = direct(cfg)
        assert np.array_equal(got.steps, want.steps) and np.array_equal(got.risk, want.risk, equal_nan=True)
        assert np.array_equal(np.asarray(got.diverged_at), np.asarray(want.diverged_at))
        if hasattr(want, "seeds"):
            assert np.array_equal(got.seeds, want.seeds)


def test_matrix_sweep_equals_direct_calls_and_resumes(tmp_path):
    g = small_grid()
    rep = run(g, store=tmp_path, workers=1, progress=False)
    assert (rep.computed, rep.total) == (12, 12)
    assert_stored_equals_direct(tmp_path, g)
    again = run(g, store=tmp_path, workers=1, progress=False)
    assert (again.computed, again.skipped) == (0, 12)
    df = plrf.load(tmp_path)
    assert set(df.engine) == {"matrix.simulate", "matrix.dynamics"} and (df.m == 12).all() and (df.basis == "haar").all()
    assert set(df[df.engine == "matrix.simulate"].n_seeds) == {3}


def test_matrix_config_keys_follow_every_setting():
    """Two runs that differ in any setting land in different files (a key of the optimizer's name alone
    would merge muon(0.05) and muon(0.1), or Nesterov and plain momentum)."""
    base = dict(PROBLEM, steps=10, engine="matrix.simulate")
    variants = [dict(base, optimizer=M.muon(0.05)), dict(base, optimizer=M.muon(0.1)),
                dict(base, optimizer=M.muon(0.05, nesterov=False)), dict(base, optimizer=M.muon(0.05, ns_steps=4)),
                dict(base, optimizer=M.signsvd(0.05)), dict(base, optimizer=M.muon(0.05), m=13),
                dict(base, optimizer=M.muon(0.05), sigma=0.2), dict(base, optimizer=M.muon(0.05), basis="eigen"),
                dict(base, optimizer=M.muon(0.05), seed=1), dict(base, optimizer=M.muon(0.05), seeds=2)]
    keys = [C.config_key(C.normalize(c, T.ENGINES)) for c in variants]
    assert len(set(keys)) == len(keys)
    assert keys[0] == C.config_key(C.normalize(dict(base, optimizer=M.muon(0.05)), T.ENGINES))


@pytest.mark.parametrize("change, named", [
    (dict(v=32), "'v'"),                                      # a scalar-PLRF key
    (dict(l2=0.1), "'l2'"),
    (dict(m=None), "m must be an integer"),
    (dict(sigma=-1.0), "sigma must be >= 0"),
    (dict(basis="random"), "basis must be one of"),
    (dict(engine="exact"), "engine: a matrix config"),
    (dict(optimizer="sgd"), "optimizer: a matrix config"),
    (dict(optimizer=plrf.sgd(0.1)), "optimizer: a matrix config"),
    (dict(engine="matrix.dynamics", optimizer=M.signsgd(0.1, momentum=0.9)), "optimizer: the deterministic"),
    (dict(options={"threads": 2}), "options: matrix.simulate takes"),
    (dict(options={"chunk": 0}), "chunk must be >= 1"),
    (dict(seeds=[1, 1]), "seeds must be distinct"),
    (dict(record=[0, 99]), "record"),
])
def test_bad_matrix_keys_are_refused_by_name(tmp_path, change, named):
    cfg = {**PROBLEM, "optimizer": M.muon(0.05), "steps": 10, **change}
    with pytest.raises(ValueError, match=named):
        run([cfg], store=tmp_path, workers=1, progress=False)
    assert not list(tmp_path.glob("*.plrf"))  # refused before any work


def test_a_matrix_config_without_m_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="missing 'm'"):
        run([dict(alpha=1.0, beta=0.5, d=8, optimizer=M.signsvd(0.1), steps=5)], store=tmp_path, progress=False)


KILLED_GRID = "grid(alpha=1.0, beta=0.5, d=16, m=24, sigma=0.1, optimizer=[M.muon(lr) for lr in (0.02, 0.03, 0.04, 0.05)], " \
              "steps=800, batch=2, seeds=4, engine='matrix.simulate')"
DRIVER = f"""
import sys
from plrf import matrix as M
from plrf.sweep import grid, run
run({KILLED_GRID}, store=sys.argv[1], workers=1, progress=False)
"""


def test_a_killed_matrix_sweep_resumes_and_loses_nothing(tmp_path):
    store = tmp_path / "store"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(store)], env=child_env(), stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 120
        while not list(store.glob("*.plrf")) and driver.poll() is None and time.monotonic() < end:
            time.sleep(0.01)
        driver.send_signal(signal.SIGKILL)  # as a crash: no cleanup runs
        err = driver.communicate()[1]
    finally:
        driver.kill()
    done = len(list(store.glob("*.plrf")))
    assert done in range(1, 4), (done, err.decode()[-2000:])  # killed mid-sweep: some results, not all
    g = eval(KILLED_GRID, {"grid": grid, "M": M})
    rep = run(g, store=store, workers=1, progress=False)  # the dead driver's claim is taken over
    assert (rep.skipped, rep.computed) == (done, 4 - done)
    assert_stored_equals_direct(store, g)
    assert not [f for f in os.listdir(store) if f.endswith(".tmp")]


@pytest.mark.slow
def test_matrix_sweep_in_a_process_pool_equals_serial(tmp_path):
    g = small_grid()
    run(g, store=tmp_path, workers=2, progress=False)
    assert_stored_equals_direct(tmp_path, g)
