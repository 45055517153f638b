"""Accuracy and speed of compressed spectra (Spectrum.compress, Spectrum.theory at large d).

Run: PYTHONPATH=python python bench/compress_table.py [--quick] [--part accuracy|speed|all]
(1) accuracy: the risk curve on spectrum.compress(1e-4) against the full spectrum, max relative
    error over ~20 records per decade: method="exact" to T at d = 1e4 and method="fast" to T at
    d = 1e6 (full grid: T = 1e6 and 1e9; --quick: T = 1e5 and d = 1e5, T = 1e8), all four
    optimizers (authors' defaults), six (alpha, beta) across the phases, B in {1, 32}.
(2) speed, one process, medians of repeats: fast on compressed theory spectra (d = 1e6 to T = 1e9,
    d = 1e9 to T = 1e12) against fast on the full d = 1e6 spectrum, and Spectrum.theory at d = 1e9.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import plrf
from plrf.optim import NAMES

PHASES = [(1.0, 0.3, "Ia"), (0.4, 0.3, "Ib"), (1.0, 0.7, "II"), (0.7, 0.8, "III"), (0.35, 0.7, "IVb"), (1.0, 1.2, "III")]


def max_rel(a, b):
    return float(np.max(np.abs(a / b - 1)))


def accuracy(method, d, steps, rtol=1e-4, fast_rtol=1e-6):
    """fast_rtol: the accuracy of method="fast" on both sides. At its default 1e-4 fast's own error
    (up to ~4e-4 for DANA-decaying at d = 1e6, T = 1e9) and the block lengths chosen from each curve
    make two fast runs differ by ~2e-4 whatever the spectrum, which would hide the compression error."""
    print(f"\n(1) method={method!r}, d = {d:.0e}, T = {steps:.0e}: max relative error of compress({rtol:g}) "
          f"over the records (authors' defaults{'' if method != 'fast' else f', fast rtol {fast_rtol:g}'})")
    print(f"  {'alpha':>5} {'beta':>5} {'phase':>5} {'B':>3} {'nodes':>6} " + " ".join(f"{n:>13}" for n in NAMES))
    worst = 0.0
    for alpha, beta, phase in PHASES:
        spec = plrf.Spectrum.theory(alpha, beta, d, compress=False)
        comp = spec.compress(rtol)
        for batch in (1, 32):
            errs = []
            for name in NAMES:
                opt = plrf.defaults(spec, batch)[name]
                rec = plrf.record_grid(steps, 20)
                run = lambda s: plrf.exact_risk(s, opt, steps, batch=batch, record=rec, method=method,
                                                rtol=fast_rtol, on_divergence="ignore").risk
                full, small = run(spec), run(comp)
                ok = np.isfinite(full)
                errs.append(max_rel(small[ok], full[ok]))
            worst = max(worst, *errs)
            print(f"  {alpha:5.2f} {beta:5.2f} {phase:>5} {batch:3d} {comp.n_nodes:6d} "
                  + " ".join(f"{e:13.2e}" for e in errs), flush=True)
    print(f"  worst: {worst:.2e} ({'below' if worst < rtol else 'ABOVE'} rtol = {rtol:g})")


def median_time(fn, repeats):
    """Median (wall, CPU) seconds; on a shared machine the CPU time is the steadier figure."""
    times = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def speed(repeats):
    print(f"\n(2) speed (isa {plrf._core.isa()}, load {os.getloadavg()[0]:.1f}, 1 thread, median of {repeats})")
    rows = []
    theory = lambda: plrf.Spectrum.theory(1.0, 0.8, 10**9)
    rows.append(("Spectrum.theory(1, 0.8, d=1e9), closed-form", median_time(theory, repeats), theory().n_nodes))
    for d, steps in ((10**6, 10**9), (10**9, 10**12)):
        spec = plrf.Spectrum.theory(1.0, 0.8, d, compress=True)
        opt = plrf.defaults(spec)["dana_decaying"]
        run = lambda: plrf.exact_risk(spec, opt, steps, record=plrf.record_grid(steps, 20), method="fast", threads=1)
        rows.append((f"fast, DANA-decaying, d={d:.0e} compressed, T={steps:.0e}", median_time(run, repeats), spec.n_nodes))
    full = plrf.Spectrum.theory(1.0, 0.8, 10**6, compress=False)
    opt = plrf.defaults(full)["dana_decaying"]
    run = lambda: plrf.exact_risk(full, opt, 10**9, record=plrf.record_grid(10**9, 20), method="fast", threads=1)
    rows.append(("fast, DANA-decaying, d=1e6 full, T=1e9", median_time(run, 1), full.n_nodes))
    for what, (wall, cpu), nodes in rows:
        print(f"  {what:52s} wall {wall:8.3f} s  cpu {cpu:8.3f} s  ({nodes} nodes)")
    print(f"  ratio full / compressed at d = 1e6, T = 1e9 (cpu): {rows[-1][1][1] / rows[1][1][1]:.0f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="T = 1e5 (exact) and d = 1e5, T = 1e8 (fast)")
    ap.add_argument("--part", choices=("accuracy", "speed", "all"), default="all")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--fast-rtol", type=float, default=1e-6, help="accuracy of method='fast' in (1) (default 1e-6)")
    args = ap.parse_args()
    print(f"plrf {plrf.__version__}, isa {plrf._core.isa()}")
    if args.part in ("speed", "all"):
        speed(args.repeats)
    if args.part in ("accuracy", "all"):
        accuracy("exact", 10**4, 10**5 if args.quick else 10**6)
        accuracy("fast", 10**5 if args.quick else 10**6, 10**8 if args.quick else 10**9, fast_rtol=args.fast_rtol)


if __name__ == "__main__":
    main()
