"""Sweeps on the serial path and the local process pool, the config keys and the result store.

The engines here are the cheap NumPy fakes of tests/sweep_fakes.py (registered per test); the
real engines are exercised in test_sweep_engines.py. Equality checks are bitwise: a sweep must
return exactly what a direct call returns, whatever backend ran it.
"""
import glob
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

import plrf
import sweep_fakes
from plrf.sweep import store as S
from plrf.sweep import config as C
from plrf.sweep import tasks as T
from plrf.sweep import SweepError, grid, product, register_engine
from plrf.sweep import run as run_sweep

pd = pytest.importorskip("pandas")

OPTIMIZERS = sweep_fakes.OPTIMIZERS


pytestmark = pytest.mark.usefixtures("fake_engines")
small_grid, stored = sweep_fakes.small_grid, sweep_fakes.stored


def direct(cfg):
    """What a sweep must store for cfg: the engine called directly on the problem's spectrum."""
    n = C.normalize(cfg, T.ENGINES)
    spec = plrf.PLRF(n["alpha"], n["beta"], n["d"], v=n["v"], seed=n["seed"]).spectrum()
    opt = plrf.defaults(spec, n["batch"])[n["optimizer"]] if isinstance(n["optimizer"], str) else n["optimizer"]
    return T.ENGINES[n["engine"]].run(spec, opt, n)


# ---- grid and keys ------------------------------------------------------------------------
def test_grid_axes_and_list_valued_keys():
    g = grid(alpha=1.0, beta=[0.3, 0.7], d=range(2), seeds=[0, 1, 2], optimizer=plrf.sgd(0.1), steps=5)
    assert len(g) == 4 and all(c["seeds"] == [0, 1, 2] for c in g)
    assert len(grid(alpha=1.0, seeds=[[0, 1], [2, 3]])) == 2
    p = product(grid(alpha=[1.0, 2.0]), [{"optimizer": "sgd"}, {"optimizer": "dana_decaying"}], {"d": [4, 8]})
    assert len(p) == 8 and {"alpha", "optimizer", "d"} == set(p[0])


def test_config_validation_names_the_argument():
    base = dict(alpha=1.0, beta=0.3, d=8, optimizer="sgd", steps=10)
    bad = [({"dd": 3}, "dd"), ({"engine": "warp"}, "engine"), ({"optimizer": "adam"}, "optimizer"),
           ({"d": 0}, "d"), ({"alpha": -1.0}, "alpha"), ({"v": 4}, "v"), ({"steps": 2.5}, "steps"),
           ({"spectrum": "dense"}, "spectrum"), ({"spectrum": "theory", "options": {"space": "full"}}, "space"), ({"engine": "simulate", "seeds": [1, 1]}, "seeds"), ({"engine": "simulate", "seeds": 0}, "seeds"),
           ({"record": [0, 99]}, "record"), ({"options": {"x": float("nan")}}, "options"), ({"options": [1]}, "options")]
    for change, name in bad:
        with pytest.raises(ValueError, match=name):
            C.normalize({**base, **change}, T.ENGINES)
    with pytest.raises(ValueError, match="steps"):
        C.normalize({k: v for k, v in base.items() if k != "steps"}, T.ENGINES)
    with pytest.raises(ValueError, match="workers"):
        run_sweep(base, workers=0)


def test_keys_are_stable_and_complete(monkeypatch):
    monkeypatch.setattr(C, "__version__", "0.0.0-test")
    cfg = dict(alpha=1.0, beta=0.3, d=8, optimizer="sgd", steps=10)
    key = C.config_key(C.normalize(cfg, T.ENGINES))
    # Golden value: a refactor that changes keys would orphan every existing store.
    assert key == GOLDEN_KEY
    same = [{**cfg, "v": 32}, {**cfg, "alpha": 1, "seed": 0, "batch": 1, "engine": "exact"}]
    assert all(C.config_key(C.normalize(c, T.ENGINES)) == key for c in same)
    differ = [{**cfg, "seed": 1}, {**cfg, "engine": "fast"}, {**cfg, "optimizer": plrf.sgd(0.1)},
              {**cfg, "record": [0, 10]}, {**cfg, "beta": 0.30000000000000004}, {**cfg, "options": {"a": 1}}]
    keys = {C.config_key(C.normalize(c, T.ENGINES)) for c in differ}
    assert len(keys) == len(differ) and key not in keys
    sim = {**cfg, "engine": "simulate"}
    assert C.config_key(C.normalize({**sim, "seeds": 3}, T.ENGINES)) == C.config_key(
        C.normalize({**sim, "seeds": [0, 1, 2]}, T.ENGINES))
    a, b = (C.config_key(C.normalize({**cfg, "optimizer": plrf.sgd(0.1)}, T.ENGINES)) for _ in range(2))
    assert a == b  # equal optimizer objects, equal keys
    monkeypatch.setattr(C, "__version__", "0.0.1-test")
    assert C.config_key(C.normalize(cfg, T.ENGINES)) != key  # a new version never reuses old results


GOLDEN_KEY = "93d09f7b84170cfd91d876585ed2abf31c814dc819c53a636cd4f8a1d390d5f1"


# ---- the store ----------------------------------------------------------------------------
def test_record_round_trip_and_corruption_is_detected(tmp_path):
    curve = plrf.Curve(np.array([0, 1, 5]), np.array([1.0, 0.5, 0.25]), meta={"a": np.arange(2)}, diverged_at=-1)
    curves = plrf.Curves(np.array([0, 2]), np.array([[1.0, 0.4], [1.0, np.nan]]), np.array([3, 4]),
                         diverged_at=np.array([-1, 1]))
    for res in (curve, curves):
        data = S.encode("k", {"x": 1}, res)
        back = S.decode(data)["result"]
        assert type(back) is type(res) and np.array_equal(back.risk, res.risk, equal_nan=True)
        assert np.array_equal(back.steps, res.steps) and np.array_equal(back.diverged_at, res.diverged_at)
        for broken in (data[:-1], data[: len(data) // 2], data[:10], b"",
                       data[:100] + bytes([data[100] ^ 1]) + data[101:]):
            with pytest.raises(S.CorruptRecord):
                S.decode(broken)
    st = S.Store(tmp_path)
    st.write("k", S.encode("k", {}, curve))
    assert st.is_done("k") and os.listdir(tmp_path) == ["k.plrf"]  # no temp file left
    (tmp_path / "k.plrf").write_bytes((tmp_path / "k.plrf").read_bytes()[:-7])
    assert not st.is_done("k") and st.read("k") is None


# ---- serial and local-pool sweeps -----------------------------------------------------------
def test_serial_sweep_equals_direct_calls_and_resumes(tmp_path):
    g = small_grid()
    rep = run_sweep(g, store=tmp_path, workers=1, progress=False)
    assert (rep.computed, rep.skipped, rep.total) == (16, 0, 16)
    got = stored(tmp_path, rep)
    for cfg, key in zip(g, rep.keys):
        want = direct(cfg)
        assert np.array_equal(got[key].risk, want.risk) and np.array_equal(got[key].steps, want.steps)
    again = run_sweep(g, store=tmp_path, workers=1, progress=False)
    assert (again.computed, again.skipped) == (0, 16)
    # a truncated file is detected and recomputed (and only that one)
    victim = tmp_path / f"{rep.keys[5]}.plrf"
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert len(plrf.load(tmp_path).key.unique()) == 15  # never read as data
    fixed = run_sweep(g, store=tmp_path, workers=1, progress=False)
    assert (fixed.computed, fixed.skipped) == (1, 15)
    assert np.array_equal(S.Store(tmp_path).read(rep.keys[5])["result"].risk, got[rep.keys[5]].risk)


def test_spectrum_computed_once_per_problem(tmp_path, monkeypatch):
    calls = []
    real = T.make_spectrum
    monkeypatch.setattr(T, "make_spectrum", lambda p: calls.append(p) or real(p))
    monkeypatch.setattr(sys.modules["plrf.sweep.driver"], "MIN_TASK_COST", 1.0)  # split each problem into several tasks
    rep = run_sweep(small_grid(), store=tmp_path, workers=1, progress=False)
    assert rep.computed == 16 and len(calls) == 4  # 4 problems (beta x d), 4 optimizers each


def test_pool_sweep_equals_serial(tmp_path):
    g = small_grid(engine="noisy_seeds", seeds=[3, 4, 5]) + small_grid()
    serial = run_sweep(g, store=tmp_path / "serial", workers=1, progress=False)
    pool = run_sweep(g, store=tmp_path / "pool", workers=2, progress=False)
    assert serial.keys == pool.keys and pool.computed == 32
    a, b = stored(tmp_path / "serial", serial), stored(tmp_path / "pool", pool)
    for k in serial.keys:
        assert np.array_equal(a[k].risk, b[k].risk)
    df = plrf.load(tmp_path / "pool", seeds="all")
    assert set(df.seed.unique()) == {-1, 3, 4, 5}
    mean = plrf.load(tmp_path / "pool")
    assert len(mean) == sum(len(r.steps) for r in b.values()) and mean.risk.notna().all()


def test_failures_are_reported_after_everything_else_is_stored(tmp_path):
    g = grid(alpha=1.0, beta=0.3, d=[8, 13, 16], optimizer="sgd", steps=20, engine="failing")
    with pytest.raises(SweepError, match="planted failure") as err:
        run_sweep(g, store=tmp_path, workers=1, progress=False)
    rep = err.value.report
    assert rep.computed == 2 and len(rep.failed) == 1 and rep.failed[0]["config"]["d"] == 13


def test_pool_survives_a_killed_worker(tmp_path):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    g = sweep_fakes.sleepy_grid(pid_dir)
    th = sweep_fakes.act_when_started(str(pid_dir), lambda pid: os.kill(pid, signal.SIGKILL))
    rep = run_sweep(g, store=tmp_path / "pool", workers=2, progress=False)
    th.join(5)
    assert len(os.listdir(pid_dir)) >= 2  # the sleepy task ran again after its worker was killed
    assert rep.computed == 16 and not rep.failed
    serial = run_sweep(g, store=tmp_path / "serial", workers=1, progress=False)
    a, b = stored(tmp_path / "pool", rep), stored(tmp_path / "serial", serial)
    assert all(np.array_equal(a[k].risk, b[k].risk) for k in rep.keys)


def test_ctrl_c_stops_cleanly_and_the_rerun_resumes(tmp_path):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    g = sweep_fakes.sleepy_grid(pid_dir, sleep=30.0)
    store = tmp_path / "store"
    th = sweep_fakes.act_when_started(str(pid_dir), lambda pid: os.kill(os.getpid(), signal.SIGINT))  # as Ctrl-C
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    try:
        with pytest.raises(KeyboardInterrupt):
            run_sweep(g, store=store, workers=2, progress=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    th.join(5)
    in_flight = C.config_key(C.normalize(g[5], T.ENGINES))
    assert not S.Store(store).is_done(in_flight)  # the 30 s task in flight was abandoned, not awaited
    pid = sweep_fakes.started_pids(pid_dir)[0]
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the worker running it was stopped
    done = len(S.Store(store).keys())
    assert done < 16 and not glob.glob(str(store / ".*.tmp"))
    rest = [c for i, c in enumerate(g) if i != 5]
    rep = run_sweep(rest, store=store, workers=1, progress=False)
    assert rep.skipped == done and rep.computed == 15 - done


def test_to_xarray(tmp_path):
    pytest.importorskip("xarray")
    run_sweep(small_grid(), store=tmp_path, workers=1, progress=False)
    ds = S.to_xarray(plrf.load(tmp_path))
    assert dict(ds.sizes) == {"optimizer": 4, "beta": 2, "d": 2, "step": ds.sizes["step"]}
    assert ds.attrs["alpha"] == 1.0 and np.isfinite(ds.risk.sel(optimizer="sgd", beta=0.3, d=8)).all()


def test_divergence_is_stored_and_reported_once(tmp_path):
    g = grid(alpha=1.0, beta=0.3, d=[8, 12], optimizer="sgd", steps=20, engine=["exploding", "numpy_exact"])
    with pytest.warns(plrf.DivergenceWarning, match="2 run"):
        rep = run_sweep(g, store=tmp_path, workers=1, progress=False)
    assert rep.computed == 4 and len(rep.diverged) == 2
    df = plrf.load(tmp_path)
    bad = df[df.engine == "exploding"]
    assert (bad.diverged_at == 7).all() and bad[bad.step >= 7].risk.isna().all() and bad[bad.step < 7].risk.notna().all()
    assert (df[df.engine == "numpy_exact"].diverged_at == -1).all()


def test_an_interrupted_engine_run_stops_the_serial_sweep_and_is_not_stored(tmp_path):
    g = grid(alpha=1.0, beta=0.3, d=[8, 12, 16], optimizer="sgd", steps=20, engine="interrupted")
    with pytest.raises(KeyboardInterrupt):
        run_sweep(g, store=tmp_path, workers=1, progress=False)
    stored_d = {S.Store(tmp_path).read(k)["config"]["d"] for k in S.Store(tmp_path).keys()}
    assert 12 not in stored_d and stored_d <= {8, 16}


def test_pool_sweep_from_an_unguarded_script(tmp_path):
    """Spawned workers must not re-run the user's script (no `if __name__ == "__main__"` guard)."""
    import subprocess
    import textwrap

    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(f"""
        import plrf, sweep_fakes
        from plrf.sweep import grid, register_engine
        register_engine("numpy_exact", sweep_fakes.numpy_exact)
        print("RAN", flush=True)
        rep = plrf.sweep.run(grid(alpha=1.0, beta=0.3, d=[8, 12], optimizer="sgd", steps=20, engine="numpy_exact"),
                         store={str(tmp_path / "store")!r}, workers=2, progress=False)
        print("COMPUTED", rep.computed)
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(sweep_fakes.__file__),
                                                        os.path.dirname(os.path.dirname(plrf.__file__)),
                                                        os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("RAN") == 1 and "COMPUTED 2" in out.stdout


def test_scheduler_submits_costliest_first_and_throttles():
    sweep_mod = sys.modules["plrf.sweep.driver"]

    class Recorder:
        max_in_flight = 2

        def __init__(self):
            self.submitted = []

        def submit(self, fn, *args, priority=0, key=None):
            self.submitted.append(priority)
            return object()

    rec = Recorder()
    sched = sweep_mod._Scheduler(rec)
    for cost in (3.0, 9.0, 1.0, 7.0):
        sched.push(sweep_mod._Job("chunk", [sweep_mod._Task({}, [], cost)], spectrum="shared"))
    sched.fill()
    assert rec.submitted == [9.0, 7.0] and len(sched.ready) == 2
    sched.pending.clear()
    sched.fill()
    assert rec.submitted == [9.0, 7.0, 3.0, 1.0]


def test_user_executor_as_client(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    g = small_grid()
    with ThreadPoolExecutor(2) as ex:
        rep = run_sweep(g, store=tmp_path / "threads", client=ex, progress=False)
    serial = run_sweep(g, store=tmp_path / "serial", workers=1, progress=False)
    a, b = stored(tmp_path / "threads", rep), stored(tmp_path / "serial", serial)
    assert rep.computed == 16 and all(np.array_equal(a[k].risk, b[k].risk) for k in rep.keys)
    with pytest.raises(ValueError, match="client"):
        run_sweep(g, store=tmp_path / "x", client=42, progress=False)
