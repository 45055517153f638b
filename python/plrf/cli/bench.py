"""`python -m plrf bench`: one table of headline speed ratios, saved as JSON with --out.

Rows: eigen simulator vs NumPy, full simulator vs NumPy, parameter-basis Adam vs NumPy, fast exact risk vs
the exact recursion,
spectral setup vs NumPy eigh, and sweep speedup with 2 workers (local pool and LocalCluster).
The NumPy references and the measurements ship with the package (plrf.testing), so an installed
wheel measures every row; a row that cannot run here (e.g. no dask) prints "n/a" and the reason.
Times are medians of --repeat runs.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from .._version import __version__
from ..curves import record_grid
from ..exact import exact_risk
from ..optim import defaults
from ..testing import power_law_spectrum, timing
from ._out import out_help, out_path


class NotAvailable(Exception):
    """A row cannot be measured here (missing optional dependency)."""


# ---- rows ------------------------------------------------------------------------------------
def _row_sim(part):
    """The eigen or full simulator row at B = 32 (DANA-decaying, 1 seed, 1 thread)."""
    def row(quick, repeat):
        d, B = (1000 if quick or part == "full" else 4000), 32
        rate = timing.eigen_rows(d, [B], True)[0] if part == "eigen" else timing.full_rows(d, [B])[0]
        return {"ratio": rate[2] / rate[3], "source": "plrf.testing.timing",
                "detail": f"DANA-decaying d={d} B={B}, 1 seed 1 thread: plrf {rate[2]:.0f} steps/s, numpy {rate[3]:.1f}"}
    return row


def row_fast_exact(quick, repeat):
    """DANA-decaying, d = 1000, on plrf.testing's power-law spectrum: the exact recursion against
    the fast block solver (the same curve within rtol)."""
    spec = power_law_spectrum(1000)
    steps = 10**5 if quick else 10**6
    opt, rec = defaults(spec, 1)["dana_decaying"], record_grid(steps, 20)
    res = {}
    times = {m: timing.median_time(lambda m=m: res.__setitem__(m, exact_risk(spec, opt, steps, record=rec, method=m,
                                                                                 threads=1, progress=False)), repeat)
             for m in ("exact", "fast")}
    err = float(np.max(np.abs(res["fast"].risk / res["exact"].risk - 1)))
    return {"ratio": times["exact"] / times["fast"], "source": "plrf.exact_risk",
            "detail": f"DANA-decaying d={spec.d} T={steps:.0e}, 1 thread: exact {times['exact']:.3f}s "
                      f"fast {times['fast']:.4f}s, max rel err {err:.1e}"}


def row_setup(quick, repeat):
    d = 500 if quick else 2000
    row = timing.setup_row(d, repeat)
    return {"ratio": row["numpy_s"] / row["plrf_s"], "source": "plrf.testing.timing",
            "detail": f"d={d} v={4 * d}: numpy {row['numpy_s']:.3f}s plrf {row['plrf_s']:.3f}s, "
                      f"memory numpy/plrf {row['numpy_mib'] / max(row['plrf_mib'], 1e-9):.2f}x"}


def row_param_adam(quick, repeat):
    """Parameter-basis Adam (simulate(space="param")) against a NumPy loop drawing the batch explicitly."""
    from ..testing.param_timing import param_adam_times

    d, steps = (1024, 20) if quick else (2048, 100)
    t = param_adam_times(d, batch=8, seeds=64, steps=steps, repeat=repeat)
    return {"ratio": t["numpy"] / t["plrf"], "source": "plrf.testing.param_timing",
            "detail": f"Adam d={d} B=8, 64 seeds, {steps} steps a call: plrf {1e3 * t['plrf']:.1f} ms/step "
                      f"({t['plrf'] / t['floor']:.2f}x its two-matmul NumPy floor), numpy {1e3 * t['numpy']:.1f}"}


# Steps per sweep config: each config must take tens of milliseconds, or process start and
# messaging dominate the speedup (at 20,000 steps the exact engine now finishes one in ~4 ms).
SWEEP_STEPS = 200_000


def sweep_configs(n_configs=200, steps=SWEEP_STEPS):
    """>= n_configs small exact-risk configs on 10 problems: 4 optimizers x batches, one thread each."""
    from ..sweep.config import grid

    n_batch = max(1, -(-n_configs // 40))
    return grid(alpha=1.0, beta=[0.3, 0.7], d=[64, 108, 181, 304, 512], batch=[2**k for k in range(n_batch)],
                steps=steps, engine="exact", optimizer=["sgd", "sgd_momentum", "dana_constant", "dana_decaying"],
                options={"threads": 1})


def sweep_speedup(backend="pool", workers=2, n_configs=200, steps=SWEEP_STEPS, repeat=1, progress=False):
    """Median seconds of the same sweep serially (in-process) and on `workers` workers, and their
    ratio; serial and parallel runs alternate so that a change in machine load hits both.

    The pool time includes starting its processes; the LocalCluster is started before timing.
    """
    from ..sweep import run as sweep

    g = sweep_configs(n_configs, steps)
    serial, par = [], []
    with tempfile.TemporaryDirectory() as tmp, _parallel(backend, workers) as options:
        for i in range(repeat):
            serial.append(timing.median_time(lambda: sweep(g, store=Path(tmp) / f"s{i}", workers=1, progress=progress), 1))
            par.append(timing.median_time(lambda: sweep(g, store=Path(tmp) / f"p{i}", progress=progress, **options), 1))
    s, p = statistics.median(serial), statistics.median(par)
    return {"n_configs": len(g), "serial_s": s, "parallel_s": p, "speedup": s / p, "repeat": repeat}


@contextlib.contextmanager
def _parallel(backend, workers):
    """sweep() keywords for the parallel runs: a local pool, or a client of a fresh LocalCluster."""
    if backend == "pool":
        yield {"workers": workers}
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise NotAvailable("dask.distributed is not installed") from None
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=40) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers, timeout=60)
        yield {"client": client}


def _row_sweep(backend):
    def row(quick, repeat):
        r = sweep_speedup(backend, 2, 200, SWEEP_STEPS, repeat=1 if quick else repeat)
        return {"ratio": r["speedup"], "detail": f"{r['n_configs']} exact-risk configs: serial {r['serial_s']:.2f}s, "
                                                 f"2 workers {r['parallel_s']:.2f}s, median of {r['repeat']} "
                                                 "(target >= 1.7x)"}
    return row


ROWS = {
    "eigen simulator vs NumPy": _row_sim("eigen"),
    "full simulator vs NumPy": _row_sim("full"),
    "parameter-basis Adam vs NumPy": row_param_adam,
    "fast exact vs exact recursion": row_fast_exact,
    "setup vs NumPy eigh": row_setup,
    "sweep speedup, 2-worker pool": _row_sweep("pool"),
    "sweep speedup, 2-worker LocalCluster": _row_sweep("dask"),
}


def run(quick=False, repeat=3, only=None):
    rows = []
    for name, fn in ROWS.items():
        if only and not any(o in name for o in only):
            continue
        try:
            rows.append({"name": name, "source": "plrf.cli.bench", **fn(quick, repeat)})
        except NotAvailable as exc:
            rows.append({"name": name, "ratio": None, "detail": f"n/a: {exc}", "source": "-"})
        except Exception as exc:  # a broken row must not hide the others
            rows.append({"name": name, "ratio": None, "detail": f"n/a: {type(exc).__name__}: {exc}", "source": "-"})
        _print_row(rows[-1])
    return rows


def _print_row(r):
    ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}x"
    print(f"{r['name']:<38} {ratio:>9}  {r['detail']}  [{r['source']}]", flush=True)


def machine_line(info=None) -> str:
    """The header every benchmark table prints: machines differ (AVX-512 vs AVX2), so the kernels' ISA leads."""
    info = info or machine()
    return f"plrf {info['plrf']} | kernels {info['isa']} | {info['cpus']} cpus | load {info['loadavg']} | {info['time_utc']}"


def machine() -> dict:
    from .. import _core

    return {"plrf": __version__, "isa": _core.isa(), "numpy": np.__version__, "python": platform.python_version(),
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None, "machine": platform.machine(),
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _arguments(ap):
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    ap.add_argument("--repeat", type=int, default=3, help="timing repeats, median reported (default 3)")
    ap.add_argument("--only", nargs="+", help="run only rows whose name contains one of these words")
    ap.add_argument("--out", default="", help=out_help("", (".json",), "JSON table (rows and machine info)"))


def add_parser(sub):
    p = sub.add_parser("bench", help="headline speed ratios of every engine against NumPy", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(p)
    p.set_defaults(func=main_args)


def main_args(args) -> int:
    if args.repeat < 1:
        raise ValueError(f"--repeat must be >= 1, got {args.repeat}")
    out = out_path(args.out, (".json",), "JSON table")
    info = machine()
    print(machine_line(info))
    print(f"{'benchmark':<38} {'ratio':>9}  detail  [source]")
    rows = run(args.quick, args.repeat, args.only)
    if out is not None:
        out.write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
    return 0
