"""Helpers of the hardening tests: run a snippet in a fresh interpreter under a memory cap, and a
sweep engine that logs every config it computes (to count double work across processes), and a
progress object that sends Ctrl-C from inside a C++ run."""
import _thread
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

import plrf
from plrf.curves import Curve

GiB = 2**30
PYTHONPATH = os.pathsep.join([str(Path(plrf.__file__).parents[1]), str(Path(__file__).parent)])


def child_env(**extra) -> dict:
    env = dict(os.environ, PYTHONPATH=PYTHONPATH, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **extra)
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def run_capped(code: str, cap_gib: float = 2.0, timeout: float = 120.0):
    """Run `code` in a fresh interpreter with RLIMIT_AS = cap_gib (set in preexec_fn).

    Returns (returncode, stdout, stderr, peak RSS in MB). The peak is the child's VmHWM after exec,
    printed at exit: ru_maxrss (from os.wait4 or RUSAGE_SELF) also counts the moments between fork and
    exec, when the child still maps this whole test process (236 MB late in a full suite run)."""
    cap = int(cap_gib * GiB)
    code = PEAK_AT_EXIT + code

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=err, env=child_env(),
                                preexec_fn=limit, text=True)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            out = proc.stdout.read()
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            proc.stdout.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return proc.returncode, out, err.read(), peak_mib(out, usage.ru_maxrss)


PEAK_AT_EXIT = ("import atexit as _atexit\n"
                "_atexit.register(lambda: print('VMHWM', next(l.split()[1] for l in open('/proc/self/status') "
                "if l.startswith('VmHWM')), flush=True))\n")


def peak_mib(out: str, fallback_kib: float) -> float:
    """The VmHWM line PEAK_AT_EXIT printed, in MiB (else the fallback, e.g. a child killed early)."""
    lines = [l for l in out.splitlines() if l.startswith("VMHWM ")]
    return float(lines[-1].split()[1] if lines else fallback_kib) / 1024.0


def refusal(code: str, cap_gib: float = 2.0):
    """Run `code` in a capped child that catches MemoryError / ValueError: (type name, message, peak MB)."""
    wrapped = ("try:\n" + "".join(f"    {line}\n" for line in code.strip().splitlines())
               + "    print('REFUSED none')\n"
               + "except (MemoryError, ValueError) as exc:\n"
               + "    print('REFUSED', type(exc).__name__, '|', ' '.join(str(exc).split()))\n")
    rc, out, err, peak = run_capped(wrapped, cap_gib)
    assert rc == 0, f"child failed (rc={rc}):\n{err[-2000:]}"
    lines = [l for l in out.splitlines() if l.startswith("REFUSED")]
    assert lines, f"the child printed no verdict:\n{out[-2000:]}\n{err[-2000:]}"
    line = lines[0]
    kind, _, message = line[len("REFUSED "):].partition(" | ")
    return kind.strip(), message, peak


def logging_engine(spectrum, opt, cfg):
    """A cheap deterministic engine that appends "pid key-ish" to options['log'] for each config it runs."""
    opts = cfg["options"]
    with open(opts["log"], "a") as fh:
        fh.write(f"{os.getpid()} d={cfg['d']} steps={cfg['steps']}\n")
    time.sleep(opts.get("sleep", 0.0))
    steps = np.array([0, cfg["steps"]])
    return Curve(steps, np.array([1.0, 0.5]), meta={"engine": "logging"})


class CtrlCBar:
    """A tqdm-like progress object whose first update (a poll from inside the C++ run) sends Ctrl-C."""

    n = 0

    def update(self, k):
        if self.n == 0:
            _thread.interrupt_main()
        self.n += max(k, 1)

    def close(self):
        pass
