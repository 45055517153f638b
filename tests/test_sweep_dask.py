"""Sweeps on a real Dask LocalCluster (2 worker processes on loopback).

A worker is SIGKILLed while it runs a task; the sweep must still complete with every result
equal (bitwise) to a serial run, a second run must compute nothing, and a truncated record must
be recomputed. A faulthandler watchdog turns a hang into a loud failure instead of a stuck CI.
"""
import faulthandler
import os
import signal
import sys

import numpy as np
import pytest

import plrf
import sweep_fakes
from plrf.sweep import store as S
from plrf.sweep import grid
from plrf.sweep import run as run_sweep

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.usefixtures("fake_engines")
WATCHDOG_SECONDS = 300  # far above the ~10 s these tests take


@pytest.fixture(scope="module")
def client():
    import cloudpickle

    cloudpickle.register_pickle_by_value(sweep_fakes)  # workers need not import the tests
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    try:
        with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                      dashboard_address=None, silence_logs=40) as cluster:
            with distributed.Client(cluster, timeout="30s") as c:
                c.wait_for_workers(2, timeout=30)
                yield c
    finally:
        faulthandler.cancel_dump_traceback_later()
        cloudpickle.unregister_pickle_by_value(sweep_fakes)


def test_dask_sweep_survives_a_killed_worker(client, tmp_path):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    g = sweep_fakes.sleepy_grid(pid_dir, sleep=1.0) + sweep_fakes.small_grid("noisy_seeds", seeds=[1, 2])
    worker_pids = set(client.run(os.getpid).values())
    watcher = sweep_fakes.act_when_started(str(pid_dir), lambda pid: os.kill(pid, signal.SIGKILL))
    rep = run_sweep(g, store=tmp_path / "dask", client=client, progress=False)
    watcher.join(5)
    runs = sweep_fakes.started_pids(pid_dir)
    assert len(runs) >= 2 and runs[0] in worker_pids  # the killed task really ran on a cluster worker, twice
    assert rep.computed == len(rep.keys) == 32 and not rep.failed

    serial = run_sweep(g, store=tmp_path / "serial", workers=1, progress=False)
    a, b = sweep_fakes.stored(tmp_path / "dask", rep), sweep_fakes.stored(tmp_path / "serial", serial)
    for k in rep.keys:
        assert np.array_equal(a[k].risk, b[k].risk) and np.array_equal(a[k].steps, b[k].steps)

    again = run_sweep(g, store=tmp_path / "dask", client=client, progress=False)
    assert (again.computed, again.skipped) == (0, 32)  # nothing new is computed

    victim = S.Store(tmp_path / "dask").path(rep.keys[3])
    victim.write_bytes(victim.read_bytes()[:200])  # a partial write
    fixed = run_sweep(g, store=tmp_path / "dask", client=client, progress=False)
    assert (fixed.computed, fixed.skipped) == (1, 31)
    assert np.array_equal(S.Store(tmp_path / "dask").read(rep.keys[3])["result"].risk, b[rep.keys[3]].risk)


def test_dask_reports_failures_with_shared_spectra(client, tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules["plrf.sweep.driver"], "MIN_TASK_COST", 1.0)  # one task per config + a spectrum task
    g = sweep_fakes.small_grid("failing", d=[8, 13])
    with pytest.raises(Exception, match="planted failure") as err:
        run_sweep(g, store=tmp_path, client=client, progress=False)
    rep = err.value.report
    assert rep.computed == 8 and len(rep.failed) == 8 and {f["config"]["d"] for f in rep.failed} == {13}


@pytest.mark.skipif(not (hasattr(plrf, "exact_risk") and hasattr(plrf, "simulate")), reason="engines not in this build")
def test_dask_real_engines_equal_serial(client, tmp_path):
    address = client.scheduler.address  # also: connect by address (sweep opens and closes its own client)
    g = grid(alpha=1.0, beta=0.7, d=[10, 14], optimizer=["sgd", "dana_decaying", plrf.sgd_momentum(0.05, 0.9)],
             steps=200, engine=["exact", "fast", "simulate"], seeds=2)
    rep = run_sweep(g, store=tmp_path / "dask", client=address, progress=False)
    serial = run_sweep(g, store=tmp_path / "serial", workers=1, progress=False)
    assert rep.computed == serial.computed == 18
    a, b = sweep_fakes.stored(tmp_path / "dask", rep), sweep_fakes.stored(tmp_path / "serial", serial)
    assert all(np.array_equal(a[k].risk, b[k].risk) for k in rep.keys)
