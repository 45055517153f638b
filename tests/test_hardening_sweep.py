"""Issue #15: sweeps under faults. The store is checked writable before any config runs, pool
workers die with a SIGKILLed driver, and two sweeps on one store compute each config once
(a claim file per config; a stale claim, whose process is gone, is taken over)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import plrf
from plrf.sweep import store as sweep_store
from plrf.sweep.store import Store

from hardening_tools import child_env

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")


def _grid(log, d=(8, 12), sleep=0.0):
    return plrf.sweep.grid(alpha=1.0, beta=0.5, d=list(d), spectrum="theory", optimizer="sgd", steps=10,
                           options={"log": str(log), "sleep": sleep})


@linux
def test_read_only_store_is_detected_before_the_first_config(tmp_path):
    ran = []

    def engine(spectrum, opt, cfg):
        ran.append(cfg["d"])
        raise AssertionError("a config ran against a read-only store")

    # /proc exists and takes no new files (even for root, unlike a chmod-ed folder)
    with pytest.raises(ValueError, match="store.*not writable"):
        plrf.sweep.run(_grid(tmp_path / "log"), engine=engine, store="/proc", workers=1, progress=False)
    with pytest.raises(ValueError, match="store.*cannot create"):
        plrf.sweep.run(_grid(tmp_path / "log"), engine=engine, store="/proc/plrf-store", workers=1, progress=False)
    assert not ran


def _alive(pid) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid) -> list:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return out


DRIVER = """
import sys, plrf, sweep_fakes
from plrf.sweep import tasks
tasks.register_engine("sleepy", sweep_fakes.sleepy)
plrf.sweep.run(sweep_fakes.sleepy_grid(sys.argv[1], sleep=60.0), store=sys.argv[2], workers=2, progress=False)
"""


@linux
def test_pool_workers_die_with_a_sigkilled_driver(tmp_path):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(pid_dir), str(tmp_path / "store")], env=child_env(),
                              stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 90
        while not [f for f in os.listdir(pid_dir) if not f.endswith(".tmp")] and time.monotonic() < end:
            time.sleep(0.05)
        workers = _children(driver.pid)
        assert workers, "the sweep's pool never started"
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        end = time.monotonic() + 15
        while any(map(_alive, workers)) and time.monotonic() < end:
            time.sleep(0.05)
        left = [p for p in workers if _alive(p)]
    finally:
        driver.kill()
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"workers {left} outlived their killed driver"


MID_SEND = """
import os, struct
from plrf.sweep.backend import PoolBackend
b = PoolBackend(workers=1)
assert b.submit(abs, -1).result(timeout=120) == 1  # the pool and its manager thread are up
os.write(b.executor._result_queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"half")  # a worker cut mid-send
manager = b.executor._executor_manager_thread
b._terminate()
manager.join(20)
print("manager alive:", manager.is_alive(), flush=True)
"""


def test_a_worker_stopped_mid_send_does_not_hang_the_interpreter_at_exit():
    """Terminating a worker while it writes its result leaves half a message in the result pipe: the
    executor's manager thread then waited for the rest forever, and Python's exit joins that thread
    (the default suite once hung after its last test this way). Run in a child with a time limit."""
    out = subprocess.run([sys.executable, "-c", MID_SEND], env=child_env(), capture_output=True, text=True,
                         timeout=90)
    assert "manager alive: False" in out.stdout, out.stdout + out.stderr
    assert out.returncode == 0, out.stderr


CONCURRENT = """
import os, sys, time, json, plrf
from hardening_tools import logging_engine
log, store, go, name = sys.argv[1:]
open(name + ".ready", "w").close()
while not os.path.exists(go):
    time.sleep(0.01)
g = plrf.sweep.grid(alpha=1.0, beta=0.5, d=[8, 12, 16, 20, 24, 28], spectrum="theory", optimizer="sgd", steps=10,
                    options={"log": log, "sleep": 0.2})
r = plrf.sweep.run(g, engine=logging_engine, store=store, workers=1, progress=False)
print(json.dumps({"computed": r.computed, "skipped": r.skipped, "total": r.total}))
"""


def test_concurrent_sweeps_on_one_store_compute_each_config_once(tmp_path):
    log, store, go = tmp_path / "log", tmp_path / "store", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(log), str(store), str(go), str(tmp_path / n)],
                              env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in ("a", "b")]
    end = time.monotonic() + 60
    while not all((tmp_path / f"{n}.ready").exists() for n in "ab") and time.monotonic() < end:
        time.sleep(0.01)
    go.touch()  # both drivers start their sweep at the same moment
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    lines = log.read_text().splitlines()
    ds = sorted(int(l.split()[1][2:]) for l in lines)
    assert ds == [8, 12, 16, 20, 24, 28], f"configs computed more than once: {lines}"
    assert sum(r["computed"] for r in reports) == 6
    assert all(r["computed"] + r["skipped"] == r["total"] == 6 for r in reports)
    assert not list(store.glob(".*.claim"))  # every claim released


def _write_claim(st, key, **info):
    st._claim_path(key).write_text(json.dumps(info))


@linux
def test_stale_claims_are_taken_over_and_live_ones_respected(tmp_path):
    st = Store(tmp_path)
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    host = socket.gethostname()
    parent = os.getppid()
    _write_claim(st, "dead", pid=dead, host=host, start=sweep_store._start_time(dead))
    _write_claim(st, "live", pid=parent, host=host, start=sweep_store._start_time(parent))
    _write_claim(st, "reused", pid=parent, host=host, start="12345")  # the pid now belongs to another process
    _write_claim(st, "remote", pid=1, host="elsewhere")
    _write_claim(st, "old", pid=1, host="elsewhere")
    old = time.time() - sweep_store.CLAIM_TIMEOUT - 10
    os.utime(st._claim_path("old"), (old, old))
    assert st.claim("dead") and st.claim("reused") and st.claim("old") and st.claim("fresh")
    assert not st.claim("live") and not st.claim("remote")
    st.release("live")  # not ours: left alone
    assert st._claim_path("live").exists()
    st.release("fresh")
    assert not st._claim_path("fresh").exists()


def test_sweep_computes_a_config_whose_claim_is_stale(tmp_path):
    from hardening_tools import logging_engine
    from plrf.sweep import tasks
    from plrf.sweep.config import config_key, expand, normalize
    from plrf.sweep.driver import _engines_for

    g = _grid(tmp_path / "log", d=(8,))
    engines, default = _engines_for(logging_engine)
    key = config_key(normalize(expand(g)[0], engines, default))
    st = Store(tmp_path / "store")
    _write_claim(st, key, pid=1, host="elsewhere")
    old = time.time() - sweep_store.CLAIM_TIMEOUT - 10
    os.utime(st._claim_path(key), (old, old))
    report = plrf.sweep.run(g, engine=logging_engine, store=st.root, workers=1, progress=False)
    assert report.computed == 1 and not st._claim_path(key).exists()
