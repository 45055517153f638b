"""Ctrl-C latency of every engine and knob: the time from SIGINT to the call's return.

Run: PYTHONPATH=python python bench/ctrl_c_table.py [--warm 1.0] [--timeout 30] [--only WORD]
Each row runs in a fresh interpreter: it builds its inputs, prints READY, and starts a call that
would run for minutes or more; the parent waits `--warm` seconds (so the engine is deep in its
loop), sends SIGINT and reads the child's clock at the call's return (CLOCK_MONOTONIC is shared by
processes). The target is <= 1 s everywhere (docs/limits.md, "Ctrl-C latency"). A row that ends
before the signal says so; one that has not returned `--timeout` seconds after it is killed and
reported as a hang. Timings depend on the machine's load: rerun before quoting them.
"""
from __future__ import annotations

import argparse
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import plrf
from plrf import _core

SETUP = """
import numpy as np
import plrf
from plrf import controllers
spec = plrf.Spectrum.theory(1.0, 0.5, 100)
opt = plrf.defaults(spec)["sgd"]
big = plrf.Spectrum.theory(1.0, 0.5, 100_000)
big_opt = plrf.defaults(big)["sgd"]
E = plrf.Experts([0.3, 0.7])
U = np.linalg.qr(np.random.default_rng(0).standard_normal((512, 512)))[0]  # space='param' needs eigenvectors
pspec = plrf.Spectrum(np.arange(1, 513.0) ** -2, np.arange(1, 513.0) ** -1, 1e-3, eigenvectors=U,
                      theta_star=U @ np.arange(1, 513.0) ** -0.5)
"""

# (row name, the call; names from SETUP)
ROWS = [
    ("simulate eigen, fast sampler", "plrf.simulate(spec, opt, 10**12, seeds=4)"),
    ("simulate eigen, explicit sampler, B=1e6", "plrf.simulate(spec, opt, 10**6, batch=10**6, space=plrf.engines.eigen(sampler='explicit'))"),
    ("simulate full, B=1e3, v=400",
     "plrf.simulate(plrf.PLRF(1.0, 0.5, 100), opt, 10**9, batch=1000, space='full')"),
    ("simulate full, B=1e7, v=400",
     "plrf.simulate(plrf.PLRF(1.0, 0.5, 100), opt, 100, batch=10**7, space='full')"),
    ("simulate full adam, B=1e3, v=400",
     "plrf.simulate(plrf.PLRF(1.0, 0.5, 100), plrf.adam(1e-3), 10**9, batch=1000, space='full')"),
    ("simulate full adam, B=1e7, v=400",
     "plrf.simulate(plrf.PLRF(1.0, 0.5, 100), plrf.adam(1e-3), 100, batch=10**7, space='full')"),
    ("simulate experts, B=1e9", "plrf.simulate(spec, plrf.chain(opt, E), 10**12, batch=10**9)"),
    ("simulate experts sparse, B=1e9",
     "plrf.simulate(spec, plrf.chain(opt, plrf.Experts([0.3, 0.9], sparse=True)), 10**12, batch=10**9)"),
    ("simulate hsgd, substeps=2**31-1", "plrf.simulate(spec, plrf.chain(opt, plrf.hsgd(substeps=2**31 - 1)), 10)"),
    ("simulate ito, substeps=2**31-1", "plrf.simulate(spec, plrf.chain(opt, plrf.ito(substeps=2**31 - 1)), 10)"),
    ("simulate gaussianised", "plrf.simulate(spec, plrf.chain(opt, plrf.gaussianised()), 10**12)"),
    ("simulate controller adagrad_norm", "plrf.simulate(spec, plrf.chain(opt, controllers.adagrad_norm()), 10**12)"),
    ("simulate with checkpoint", "plrf.simulate(spec, opt, 10**12, checkpoint=CKPT)"),
    ("simulate param adam, d=512, 64 seeds",
     "plrf.simulate(pspec, plrf.adam(1e-3), 10**9, batch=8, seeds=64, space='param')"),
    ("simulate param adam, with checkpoint",
     "plrf.simulate(pspec, plrf.adam(1e-3), 10**9, batch=8, seeds=64, space='param', checkpoint=CKPT)"),
    ("exact_risk exact, d=1e5", "plrf.exact_risk(big, big_opt, 5 * 10**7)"),
    ("exact_risk fast, d=1e5", "plrf.exact_risk(big, big_opt, 10**18, method=plrf.engines.fast(rtol=1e-8))"),
    ("exact_risk ode, d=1e5", "plrf.exact_risk(big, big_opt, 10**15, method=plrf.engines.ode(dt=1e-5))"),
    ("exact_risk continuous hsgd, d=1e5", "plrf.exact_risk(big, big_opt, 10**7, method='continuous')"),
    ("exact_risk continuous, substeps=2**31-1",
     "plrf.exact_risk(spec, plrf.chain(opt, plrf.hsgd(substeps=2**31 - 1)), 10, method='continuous')"),
    ("exact_risk experts, d=1e5", "plrf.exact_risk(big, plrf.chain(big_opt, E), 2 * 10**7)"),
    ("exact_risk controller adagrad_norm, d=1e5",
     "plrf.exact_risk(big, plrf.chain(big_opt, controllers.adagrad_norm()), 5 * 10**7)"),
    ("sweep.run, 2 simulate configs",
     "plrf.sweep.run(plrf.sweep.grid(alpha=1.0, beta=0.5, d=100, spectrum='theory', optimizer='sgd', "
     "steps=10**12, engine='simulate', seeds=[[0], [1]]), store=STORE, progress=False, workers=2)"),
]

CHILD = """
import os, sys, tempfile, time
tmp = tempfile.mkdtemp()
CKPT, STORE = os.path.join(tmp, "run.ckpt"), os.path.join(tmp, "store")
{setup}
print("READY", flush=True)
try:
    out = {call}
    status = "interrupted" if getattr(out, "interrupted", False) else "finished"
except KeyboardInterrupt:
    status = "KeyboardInterrupt"
print("RETURNED", repr(time.monotonic()), status, flush=True)
"""


def lines_of(proc) -> queue.Queue:
    """The child's stdout lines, read by a thread (so the parent can wait with a timeout)."""
    q: queue.Queue = queue.Queue()

    def pump():
        for line in proc.stdout:
            q.put(line)
        q.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return q


def wait_for(q: queue.Queue, word: str, deadline: float):
    """The first line starting with `word` before `deadline` (monotonic) as words, ["EXITED"] if the
    child's output ended first, else None."""
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = q.get(timeout=left)
        except queue.Empty:
            return None
        if line is None:
            return ["EXITED"]
        if line.startswith(word):
            return line.split()
    return None


def failure(proc) -> str:
    proc.wait()
    lines = proc.stderr.read().strip().splitlines()
    return f"child failed: {lines[-1][:120] if lines else f'exit status {proc.returncode}'}"


def measure(call: str, warm: float, timeout: float) -> str:
    code = CHILD.format(setup=SETUP, call=call)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONWARNINGS="ignore"))
    q = lines_of(proc)
    try:
        ready = wait_for(q, "READY", time.monotonic() + 300)
        if ready is None or ready[0] == "EXITED":
            return failure(proc)
        early = wait_for(q, "RETURNED", time.monotonic() + warm)
        if early is not None:
            return failure(proc) if early[0] == "EXITED" else f"ended before SIGINT ({early[2]})"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        done = wait_for(q, "RETURNED", sent + timeout)
        if done is None:
            return f"> {timeout:g} s: no return (hang), killed"
        return failure(proc) if done[0] == "EXITED" else f"{float(done[1]) - sent:.2f} s ({done[2]})"
    finally:
        proc.kill()
        proc.wait()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warm", type=float, default=1.0, help="seconds between READY and SIGINT")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds after SIGINT before a row is a hang")
    ap.add_argument("--only", default="", help="rows whose name contains this word")
    args = ap.parse_args(argv)
    print(f"plrf {plrf.__version__}, isa: {_core.isa()}, {os.cpu_count()} CPUs; SIGINT {args.warm:g} s into each "
          f"call; latency = SIGINT -> return\n")
    rows = [(name, call) for name, call in ROWS if args.only in name]
    width = max(len(name) for name, _ in rows)
    print(f"| {'engine / knob'.ljust(width)} | latency |")
    print(f"|{'-' * (width + 2)}|---------|")
    for name, call in rows:
        print(f"| {name.ljust(width)} | {measure(call, args.warm, args.timeout)} |", flush=True)


if __name__ == "__main__":
    main()
