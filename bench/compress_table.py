"""Accuracy and speed of compressed spectra (Spectrum.compress, Spectrum.theory at large d).

Run: PYTHONPATH=python python bench/compress_table.py [--quick] [--part accuracy|speed|envelope|default|all]
(1) accuracy: the risk curve on spectrum.compress(1e-4) against the full spectrum, max relative
    error over ~20 records per decade: method="exact" to T at d = 1e4 and method="fast" to T at
    d = 1e6 (full grid: T = 1e6 and 1e9; --quick: T = 1e5 and d = 1e5, T = 1e8), all four
    optimizers (authors' defaults), six (alpha, beta) across the phases, B in {1, 32}.
(2) speed, one process, medians of repeats: fast on compressed theory spectra (d = 1e6 to T = 1e9,
    d = 1e9 to T = 1e12) against fast on the full d = 1e6 spectrum, and Spectrum.theory at d = 1e9.
(3) envelope: random spectra of plrf.testing.spectra (power law, rough rho, clustered multiplicities,
    adversarial), SGD and DANA-decaying, method="exact": the error of exact_risk(compress=rtol) over
    rtol, the a-posteriori estimate over the error, warnings; and the old nodes (no split) on the same.
(4) default: exact_risk's default path (fast and ode compress above 1e4 entries at rtol / 10)
    against compress=False, all four optimizers, d in {2e4, 1e5} (--with-1e6: also d = 1e6, minutes).
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


def _quiet(engine, *args, **kwargs):
    """The engine's result with divergence recorded, not warned about (the tables skip diverged runs)."""
    with plrf.errstate(divergence="ignore"):
        return engine(*args, **kwargs)


def max_rel(a, b):
    return float(np.max(np.abs(a / b - 1)))


def accuracy(method, d, steps, rtol=1e-4, fast_rtol=1e-4, names=NAMES, batches=(1, 32), phases=None):
    """fast_rtol: the accuracy of method="fast" on both sides (its default, 1e-4: since the tail split
    fast's own error stays below it to T = 1e9 at d = 1e6, docs/exact.md). names, batches, phases
    (labels such as "Ia") select part of the grid."""
    print(f"\n(1) method={method!r}, d = {d:.0e}, T = {steps:.0e}: max relative error of compress({rtol:g}) "
          f"over the records (authors' defaults{'' if method != 'fast' else f', fast rtol {fast_rtol:g}'})")
    print(f"  {'alpha':>5} {'beta':>5} {'phase':>5} {'B':>3} {'nodes':>6} " + " ".join(f"{n:>13}" for n in names))
    worst = 0.0
    for alpha, beta, phase in PHASES:
        if phases and phase not in phases:
            continue
        spec = plrf.Spectrum.theory(alpha, beta, d, compress=False)
        comp = spec.compress(rtol)
        for batch in batches:
            errs = []
            t0 = time.perf_counter()
            for name in names:
                opt = plrf.defaults(spec, batch)[name]
                rec = plrf.record_grid(steps, 20)
                engine = plrf.engines.get(method, rtol=fast_rtol, compress=False)
                run = lambda s: _quiet(plrf.exact_risk, s, opt, steps, batch=batch, record=rec, method=engine).risk
                full, small = run(spec), run(comp)
                ok = np.isfinite(full)
                errs.append(max_rel(small[ok], full[ok]))
            worst = max(worst, *errs)
            print(f"  {alpha:5.2f} {beta:5.2f} {phase:>5} {batch:3d} {comp.n_nodes:6d} "
                  + " ".join(f"{e:13.2e}" for e in errs)
                  + f"   ({time.perf_counter() - t0:.0f} s, load {os.getloadavg()[0]:.1f})", flush=True)
    print(f"  worst: {worst:.2e} ({'below' if worst < rtol else 'ABOVE'} rtol = {rtol:g})")


def median_time(fn, repeats):
    """Median (wall, CPU) seconds; on a shared machine the CPU time is the steadier figure."""
    times = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def cpu_timed(fn):
    """(fn(), CPU seconds): one run."""
    c0 = time.process_time()
    out = fn()
    return out, time.process_time() - c0


def speed(repeats, with_full=True):
    print(f"\n(2) speed (isa {plrf._core.isa()}, load {os.getloadavg()[0]:.1f}, 1 thread, median of {repeats})")
    rows = []
    for method in ("closed-form", "self-consistent"):
        theory = lambda: plrf.Spectrum.theory(1.0, 0.8, 10**9, method=method)
        rows.append((f"Spectrum.theory(1, 0.8, d=1e9), {method}", median_time(theory, repeats), theory().n_nodes))
    for d, steps in ((10**6, 10**9), (10**9, 10**12)):
        spec = plrf.Spectrum.theory(1.0, 0.8, d, compress=True)
        opt = plrf.defaults(spec)["dana_decaying"]
        run = lambda: plrf.exact_risk(spec, opt, steps, record=plrf.record_grid(steps, 20), method="fast", threads=1)
        rows.append((f"fast, DANA-decaying, d={d:.0e} compressed, T={steps:.0e}", median_time(run, repeats), spec.n_nodes))
    if with_full:
        full = plrf.Spectrum.theory(1.0, 0.8, 10**6, compress=False)
        opt = plrf.defaults(full)["dana_decaying"]
        run = lambda: plrf.exact_risk(full, opt, 10**9, record=plrf.record_grid(10**9, 20), method=plrf.engines.fast(compress=False), threads=1)
        rows.append(("fast, DANA-decaying, d=1e6 full, T=1e9", median_time(run, 1), full.n_nodes))
    for what, (wall, cpu), nodes in rows:
        print(f"  {what:52s} wall {wall:8.3f} s  cpu {cpu:8.3f} s  ({nodes} nodes)")
    if with_full:
        print(f"  ratio full / compressed at d = 1e6, T = 1e9 (cpu): {rows[-1][1][1] / rows[2][1][1]:.0f}x")
    peak_memory()


def peak_memory():
    """Peak RSS of a fresh interpreter that builds the d = 1e9 theory spectra (both methods)."""
    import subprocess
    import sys

    code = ("import resource, plrf\nfor m in ('closed-form', 'self-consistent'): plrf.Spectrum.theory(1.0, 0.8, 10**9, method=m)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    print(f"  peak RSS of a fresh interpreter building both d = 1e9 theory spectra: {int(out.stdout) / 1024:.0f} MB")


def envelope(cases, seed=0):
    """Max over random spectra of error / rtol, per kind, with the a-posteriori estimate and the old nodes."""
    import warnings

    from plrf.testing.spectra import KINDS, count_weighted_nodes, random_spectrum

    rng = np.random.default_rng(seed)
    print(f"\n(3) envelope over {cases} random spectra per kind (n in [200, 3000], T in [1e3, 3e4], method='exact')")
    print(f"  {'kind':>11} {'rtol':>6} {'runs':>5} {'max err/rtol':>12} {'max err/rtol, decay > 5%':>24} "
          f"{'est/err':>13} {'warned':>6} {'missed':>6} {'nodes/entries':>13} {'old nodes: max err/rtol':>23}")
    for kind in KINDS:
        for rtol in (1e-4, 1e-3):
            rows = []
            for _ in range(cases):
                spec = random_spectrum(kind, int(rng.integers(2**32)), int(rng.integers(200, 3000)))
                steps = int(10 ** rng.uniform(3, 4.5))
                rec = plrf.record_grid(steps, 20)
                for name in ("sgd", "dana_decaying"):
                    opt = plrf.defaults(spec)[name]
                    full = _quiet(plrf.exact_risk, spec, opt, steps, record=rec).risk
                    if not np.all(np.isfinite(full)):
                        continue
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        c = plrf.exact_risk(spec, opt, steps, record=rec, method=plrf.engines.exact(compress=rtol))
                    old = plrf.exact_risk(count_weighted_nodes(spec, rtol), opt, steps, record=rec).risk
                    err = max_rel(c.risk, full)
                    decay = (full[-1] - spec.p_inf) / (full[0] - spec.p_inf)
                    info = c.meta["compressed"]
                    rows.append((err / rtol, decay, info["error_estimate"] / max(err, 1e-300), len(caught) > 0,
                                 info["nodes"] / spec.n_nodes, max_rel(old, full) / rtol))
            e, decay, ratio, warned, share, old = (np.array(x) for x in zip(*rows))
            sizable = ratio[e > 0.01]  # the estimate against errors large enough to measure
            print(f"  {kind:>11} {rtol:6.0e} {len(rows):5d} {e.max():12.3f} {e[decay > 0.05].max(initial=0):24.3f} "
                  f"{(f'{sizable.min():.2f}-{sizable.max():.2f}' if sizable.size else '-'):>13} {int(warned.sum()):6d} "
                  f"{int(np.sum((e > 1) & ~warned)):6d} "
                  f"{np.median(share):13.2f} {old.max():23.2f}", flush=True)


def default_path(with_1e6):
    """exact_risk's default (compressed above 1e4 entries) against compress=False: error and time."""
    print("\n(4) default path against compress=False (theory (1, 0.3), B = 1, authors' defaults; fast to T = 1e9 "
          "at rtol 1e-4, ode to T = 1e6 at dt = 0.01)")
    print(f"  {'method':>6} {'d':>8} {'optimizer':>14} {'nodes':>6} {'max rel err':>11} {'estimate':>9} "
          f"{'CPU default s':>13} {'CPU full s':>10} {'ratio':>6}")
    for d in (2 * 10**4, 10**5) + ((10**6,) if with_1e6 else ()):
        spec = plrf.Spectrum.theory(1.0, 0.3, d, compress=False)
        for method, steps in (("fast", 10**9), ("ode", 10**6)):
            for name in NAMES:
                opt = plrf.defaults(spec)[name]
                rec = plrf.record_grid(steps, 20)
                auto, cpu_auto = cpu_timed(lambda: plrf.exact_risk(spec, opt, steps, record=rec, method=method))
                full, cpu_full = cpu_timed(lambda: plrf.exact_risk(spec, opt, steps, record=rec, method=plrf.engines.get(method, compress=False)))
                info = auto.meta["compressed"]
                print(f"  {method:>6} {d:8.0e} {name:>14} {info['nodes']:6d} {max_rel(auto.risk, full.risk):11.2e} "
                      f"{info['error_estimate']:9.1e} {cpu_auto:13.3f} {cpu_full:10.2f} {cpu_full / cpu_auto:6.0f}",
                      flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="T = 1e5 (exact) and d = 1e5, T = 1e8 (fast)")
    ap.add_argument("--part", choices=("accuracy", "speed", "envelope", "default", "all"), default="all")
    ap.add_argument("--cases", type=int, default=25, help="random spectra per kind in (3)")
    ap.add_argument("--with-1e6", action="store_true", help="(4) also at d = 1e6 (the full runs take minutes)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--fast-rtol", type=float, default=1e-4, help="accuracy of method='fast' in (1) (default 1e-4)")
    ap.add_argument("--names", default=",".join(NAMES), help="optimizers of the fast grid (comma-separated)")
    ap.add_argument("--batches", default="1,32", help="batch sizes of the fast grid (comma-separated)")
    ap.add_argument("--phases", default="", help="phase labels of the fast grid, e.g. Ia,IVb (default: all)")
    ap.add_argument("--skip-full", action="store_true", help="(2) without the full d = 1e6 spectrum (minutes)")
    ap.add_argument("--skip-exact", action="store_true", help="only the fast part of (1)")
    args = ap.parse_args()
    print(f"plrf {plrf.__version__}, isa {plrf._core.isa()}")
    if args.part in ("speed", "all"):
        speed(args.repeats, with_full=not args.skip_full)
    if args.part in ("envelope", "all"):
        envelope(args.cases)
    if args.part in ("default", "all"):
        default_path(args.with_1e6)
    if args.part in ("accuracy", "all"):
        if not args.skip_exact:
            accuracy("exact", 10**4, 10**5 if args.quick else 10**6)
        accuracy("fast", 10**5 if args.quick else 10**6, 10**8 if args.quick else 10**9, fast_rtol=args.fast_rtol,
                 names=args.names.split(","), batches=[int(b) for b in args.batches.split(",")],
                 phases=[p for p in args.phases.split(",") if p])


if __name__ == "__main__":
    main()
