"""`python -m plrf.bench`: one table of headline speed ratios, saved as JSON with --out.

Rows: eigen simulator vs NumPy, full simulator vs NumPy, fast exact risk vs the exact recursion,
spectral setup vs NumPy eigh, and sweep speedup with 2 workers (local pool and LocalCluster).
A row uses the repository's bench module (bench/<name>.py) when it is importable and exposes
`headline(quick) -> {"ratio": float, "detail": str}` (simulate_table: {"eigen": {...}, "full":
{...}}; setup_table: its main() rows); otherwise it measures a small version itself. A row that cannot run prints "n/a" and the reason. Times are medians of --repeat runs.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


class NotAvailable(Exception):
    """A row cannot be measured here (missing engine, module or dependency)."""


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _need(name):
    import plrf

    if not hasattr(plrf, name):
        raise NotAvailable(f"plrf.{name} is not in this build")
    return getattr(plrf, name)


def _bench_module(name):
    """bench/<name>.py from $PLRF_BENCH_DIR, the source tree, or ./bench; None if absent."""
    here = Path(__file__).resolve()
    for d in (os.environ.get("PLRF_BENCH_DIR"), here.parents[2] / "bench", Path.cwd() / "bench"):
        if d and (Path(d) / f"{name}.py").is_file():
            if str(d) not in sys.path:
                sys.path.insert(0, str(d))
            try:
                return importlib.import_module(name)
            except Exception:
                return None
    return None


@functools.lru_cache(maxsize=None)
def _headline(name, quick):
    mod = _bench_module(name)
    if mod is None or not hasattr(mod, "headline"):
        return None
    with contextlib.redirect_stdout(io.StringIO()):
        return mod.headline(quick)


def _from_module(name, quick, part=None):
    """The module's headline row (or its `part` entry, for modules with several rows), or None."""
    out = _headline(name, quick)
    if isinstance(out, dict) and part in out:
        out = out[part]
    if not isinstance(out, dict) or "ratio" not in out:
        return None
    return {"ratio": float(out["ratio"]), "detail": str(out.get("detail", "")), "source": f"bench/{name}.py"}


# ---- NumPy references (what a user writes by hand) -----------------------------------------------
def numpy_eigen_sgd(spec, lr, steps, batch, seed=0):
    """SGD in the eigenbasis with fresh Gaussian batches (SPEC 2), plain NumPy."""
    rng = np.random.default_rng(seed)
    sl, e = np.sqrt(spec.eigenvalues), np.sqrt(spec.rho)
    noise = np.sqrt(2.0 * spec.p_inf)
    for _ in range(steps):
        f = rng.standard_normal((batch, sl.size)) * sl
        r = f @ e - noise * rng.standard_normal(batch)
        e -= lr * (f.T @ r) / batch
    return spec.risk_of_error(e)


def numpy_full_sgd(problem, lr, steps, batch, seed=0):
    """SGD on the full v-dimensional data stream, plain NumPy with a dense W."""
    rng = np.random.default_rng(seed)
    W, sd, b = problem.W, np.sqrt(problem.data_variances), problem.target
    theta = np.zeros(problem.d)
    for _ in range(steps):
        x = rng.standard_normal((batch, problem.v)) * sd
        f = x @ W
        theta -= lr * (f.T @ (f @ theta - x @ b)) / batch
    return problem.risk(theta)


# ---- rows ------------------------------------------------------------------------------------
def _sim_table_row(part, quick):
    """A row from bench/simulate_table.py (headline(), or its eigen_rows/full_rows at B = 32)."""
    out = _from_module("simulate_table", quick, part)
    mod = _bench_module("simulate_table")
    if out or mod is None or not hasattr(mod, f"{part}_rows"):
        return out
    d, B = (1000 if quick or part == "full" else 4000), 32
    with contextlib.redirect_stdout(io.StringIO()):
        row = mod.eigen_rows(d, [B], True)[0] if part == "eigen" else mod.full_rows(d, [B])[0]
    return {"ratio": row[2] / row[3], "source": "bench/simulate_table.py",
            "detail": f"DANA-decaying d={d} B={B}, 1 seed 1 thread: plrf {row[2]:.0f} steps/s, numpy {row[3]:.1f}"}


def row_sim_eigen(quick, repeat):
    out = _sim_table_row("eigen", quick)
    if out:
        return out
    import plrf

    simulate = _need("simulate")
    d, batch, steps = (500, 16, 500) if quick else (2000, 32, 2000)
    spec = plrf.PLRF(1.0, 0.5, d).spectrum(keep_vectors=False)
    lr = plrf.defaults(spec, batch)["sgd"].gamma2(0)
    t_np = _median_time(lambda: numpy_eigen_sgd(spec, lr, steps, batch), repeat)
    t_pl = _median_time(lambda: simulate(spec, plrf.sgd(lr), steps, batch=batch, seeds=[0], record=[0, steps],
                                         space="eigen", threads=1), repeat)
    return {"ratio": t_np / t_pl, "detail": f"SGD d={d} B={batch} T={steps}, 1 thread: numpy {t_np:.3f}s plrf {t_pl:.3f}s"}


def row_sim_full(quick, repeat):
    out = _sim_table_row("full", quick)
    if out:
        return out
    import plrf

    simulate = _need("simulate")
    d, batch, steps = (200, 8, 100) if quick else (500, 16, 200)
    problem = plrf.PLRF(1.0, 0.5, d)
    lr = plrf.defaults(problem.spectrum(keep_vectors=False), batch)["sgd"].gamma2(0)
    t_np = _median_time(lambda: numpy_full_sgd(problem, lr, steps, batch), repeat)
    t_pl = _median_time(lambda: simulate(problem, plrf.sgd(lr), steps, batch=batch, seeds=[0], record=[0, steps],
                                         space="full", threads=1), repeat)
    return {"ratio": t_np / t_pl,
            "detail": f"SGD d={d} v={4 * d} B={batch} T={steps}, 1 thread: numpy {t_np:.3f}s plrf {t_pl:.3f}s"}


def row_fast_exact(quick, repeat):
    """DANA-decaying, d = 1000: exact recursion vs the fast block solver (same curve within rtol),
    on bench/exact_table.py's power-law spectrum when present, else on a sampled PLRF spectrum."""
    out = _from_module("exact_table", quick)
    if out:
        return out
    import plrf

    exact_risk = _need("exact_risk")
    mod = _bench_module("exact_table")
    d, steps = 1000, (10**5 if quick else 10**6)
    if mod is not None and hasattr(mod, "power_law_spectrum"):
        spec, source = mod.power_law_spectrum(d), "bench/exact_table.py"
    else:
        spec, source = plrf.PLRF(1.0, 0.3, d).spectrum(keep_vectors=False), "plrf.bench"
    opt, rec = plrf.defaults(spec, 1)["dana_decaying"], plrf.record_grid(steps, 20)
    res = {}
    times = {m: _median_time(lambda m=m: res.__setitem__(m, exact_risk(spec, opt, steps, record=rec, method=m,
                                                                           threads=1)), repeat)
             for m in ("exact", "fast")}
    err = float(np.max(np.abs(res["fast"].risk / res["exact"].risk - 1)))
    return {"ratio": times["exact"] / times["fast"], "source": source,
            "detail": f"DANA-decaying d={d} T={steps:.0e}, 1 thread: exact {times['exact']:.3f}s "
                      f"fast {times['fast']:.4f}s, max rel err {err:.1e}"}


def row_setup(quick, repeat):
    mod = _bench_module("setup_table")
    d = 500 if quick else 2000
    if mod is not None and hasattr(mod, "main"):
        with contextlib.redirect_stdout(io.StringIO()):
            (row,) = mod.main(["--sizes", str(d), "--repeat", str(repeat)])
        return {"ratio": row["numpy_s"] / row["plrf_s"], "source": "bench/setup_table.py",
                "detail": f"d={d} v={4 * d}: numpy {row['numpy_s']:.3f}s plrf {row['plrf_s']:.3f}s, "
                          f"memory numpy/plrf {row['numpy_mib'] / max(row['plrf_mib'], 1e-9):.2f}x"}
    import plrf

    def numpy_setup():
        p = plrf.PLRF(1.0, 0.5, d)
        a = p.W * np.sqrt(p.data_variances)[:, None]
        np.linalg.eigh(a.T @ a)

    t_np = _median_time(numpy_setup, repeat)
    t_pl = _median_time(lambda: plrf.PLRF(1.0, 0.5, d).spectrum(), repeat)
    return {"ratio": t_np / t_pl, "detail": f"d={d} v={4 * d}: dense numpy {t_np:.3f}s plrf {t_pl:.3f}s"}


def sweep_configs(n_configs=200, steps=20_000):
    """>= n_configs small exact-risk configs on 10 problems: 4 optimizers x batches, one thread each."""
    from .sweep_config import grid

    n_batch = max(1, -(-n_configs // 40))
    return grid(alpha=1.0, beta=[0.3, 0.7], d=[64, 108, 181, 304, 512], batch=[2**k for k in range(n_batch)],
                steps=steps, engine="exact", optimizer=["sgd", "sgd_momentum", "dana_constant", "dana_decaying"],
                options={"threads": 1})


def sweep_speedup(backend="pool", workers=2, n_configs=200, steps=20_000, repeat=1, progress=False):
    """Median seconds of the same sweep serially (in-process) and on `workers` workers, and their
    ratio; serial and parallel runs alternate so that a change in machine load hits both.

    The pool time includes starting its processes; the LocalCluster is started before timing.
    """
    from .sweep import sweep

    _need("exact_risk")
    g = sweep_configs(n_configs, steps)
    serial, par = [], []
    with tempfile.TemporaryDirectory() as tmp, _parallel(backend, workers) as options:
        for i in range(repeat):
            serial.append(_median_time(lambda: sweep(g, store=Path(tmp) / f"s{i}", workers=1, progress=progress), 1))
            par.append(_median_time(lambda: sweep(g, store=Path(tmp) / f"p{i}", progress=progress, **options), 1))
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
        r = sweep_speedup(backend, 2, 200, 20_000, repeat=1 if quick else repeat)  # smaller tasks: only the pool start
        return {"ratio": r["speedup"], "detail": f"{r['n_configs']} exact-risk configs: serial {r['serial_s']:.2f}s, "
                                                 f"2 workers {r['parallel_s']:.2f}s, median of {r['repeat']} "
                                                 "(target >= 1.7x)"}
    return row


ROWS = {
    "eigen simulator vs NumPy": row_sim_eigen,
    "full simulator vs NumPy": row_sim_full,
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
            rows.append({"name": name, "source": "plrf.bench", **fn(quick, repeat)})
        except NotAvailable as exc:
            rows.append({"name": name, "ratio": None, "detail": f"n/a: {exc}", "source": "-"})
        except Exception as exc:  # a broken row must not hide the others
            rows.append({"name": name, "ratio": None, "detail": f"n/a: {type(exc).__name__}: {exc}", "source": "-"})
        _print_row(rows[-1])
    return rows


def _print_row(r):
    ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}x"
    print(f"{r['name']:<38} {ratio:>9}  {r['detail']}  [{r['source']}]", flush=True)


def machine() -> dict:
    import plrf

    return {"plrf": plrf.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None, "machine": platform.machine(),
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m plrf.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    ap.add_argument("--repeat", type=int, default=3, help="timing repeats, median reported (default 3)")
    ap.add_argument("--only", nargs="+", help="run only rows whose name contains one of these words")
    ap.add_argument("--out", help="write the table and machine info to this JSON file")
    args = ap.parse_args(argv)
    info = machine()
    print(f"plrf {info['plrf']} | {info['cpus']} cpus | load {info['loadavg']} | {info['time_utc']}")
    print(f"{'benchmark':<38} {'ratio':>9}  detail  [source]")
    rows = run(args.quick, args.repeat, args.only)
    if args.out:
        Path(args.out).write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
