"""Spectral setup: plrf vs a plain NumPy/LAPACK reference, time and peak memory.

    python bench/setup_table.py [--sizes 1000 2000 4000] [--repeat 3] [--eigen]

Times are medians over --repeat runs, alternating the two implementations in this process.
Peak memory is the peak RSS of a fresh subprocess running one setup, minus that process's RSS
after imports (so it measures the setup's own working set).
--eigen adds the pure-C++ path (Eigen's eigensolver), which C++ users get without Python.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np


def numpy_reference(alpha, beta, d, v, seed):
    """What a user writes by hand: dense W, A = D^{1/2} W, K = A^T A, eigh, rho, P_inf."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((v, d)) / np.sqrt(d)
    j = np.arange(1, v + 1, dtype=float)
    sqrtD = j ** (-alpha)
    A = sqrtD[:, None] * W
    c = sqrtD * j ** (-beta)
    lam, U = np.linalg.eigh(A.T @ A)
    coef = (U.T @ (A.T @ c)) / lam
    theta = U @ coef
    p_inf = 0.5 * np.sum((A @ theta - c) ** 2)
    return lam[::-1], coef[::-1] ** 2, p_inf


def run_plrf(alpha, beta, d, v, seed):
    import plrf

    return plrf.PLRF(alpha, beta, d, v, seed).spectrum()


def run_eigen(alpha, beta, d, v, seed):
    from plrf import _core

    return _core.spectral_setup_eigen(alpha, beta, d, v, seed)


IMPLS = {"plrf": run_plrf, "numpy": numpy_reference, "eigen": run_eigen}


def rss_mib():
    """Peak RSS of this address space (VmHWM; ru_maxrss would inherit the parent's peak across exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(impl, d):
    """Subprocess entry point: one setup, print the peak RSS increase in MiB."""
    import plrf  # noqa: F401  (imports count toward the baseline, not the setup)

    np.linalg.eigh(np.eye(4))  # load LAPACK before measuring the baseline
    base = rss_mib()
    IMPLS[impl](1.0, 0.5, d, 4 * d, 0)
    print(json.dumps({"peak_mib": rss_mib() - base}))


def peak_memory(impl, d):
    out = subprocess.run([sys.executable, __file__, "--child", impl, str(d)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]


def timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--eigen", action="store_true", help="also time the pure-C++ Eigen path")
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child[0], int(args.child[1]))
    impls = ["plrf", "numpy"] + (["eigen"] if args.eigen else [])
    rows = []
    print(f"{'d':>6} {'v':>6} | " + " | ".join(f"{k + ' s':>9} {k + ' MiB':>10}" for k in impls) + " | numpy/plrf time  mem")
    for d in args.sizes:
        times = {k: [] for k in impls}
        for _ in range(args.repeat):
            for k in impls:
                times[k].append(timed(IMPLS[k], 1.0, 0.5, d, 4 * d, 0))
        row = {"d": d, "v": 4 * d}
        for k in impls:
            row[f"{k}_s"] = statistics.median(times[k])
            row[f"{k}_mib"] = peak_memory(k, d)
        rows.append(row)
        cells = " | ".join(f"{row[k + '_s']:9.3f} {row[k + '_mib']:10.0f}" for k in impls)
        print(f"{d:6d} {4 * d:6d} | {cells} | {row['numpy_s'] / row['plrf_s']:10.2f}x {row['numpy_mib'] / row['plrf_mib']:5.2f}x",
              flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return rows


if __name__ == "__main__":
    main()
