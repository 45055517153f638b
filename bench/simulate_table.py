"""Steps per second of plrf.simulate against vectorised NumPy references, in the same process.

Run: PYTHONPATH=python python bench/simulate_table.py [--quick] [--rng-only]
First the random numbers: normals per second on one core against NumPy's default generator, and
the eigen path at d = 4000, B = 1 split into generation and update. Then the tables: d in
{1000, 4000, 16000}, v = 4d, B in {1, 32, 1024}; one seed, and 8 seeds on 1 and 2 threads. The
eigen path runs on a power-law Spectrum (its speed does not depend on the values); the full path
needs a sampled PLRF with its W (d <= 4000). Rates are seed-steps per second. The instruction set
is printed first (PLRF_ISA=avx2|baseline caps it). The NumPy references and the rows are
plrf.testing's (references.py, timing.py).
"""
from __future__ import annotations

import argparse

import numpy as np

import plrf
from plrf import _core
from plrf.cli.bench import machine_line
from plrf.testing.problems import simulator_spectrum
from plrf.testing.references import numpy_eigen
from plrf.testing.timing import eigen_rows, full_rows, plrf_rate, rate


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d=1000 and 4000 only, single seed")
    ap.add_argument("--no-full", action="store_true", help="skip the full-space path")
    ap.add_argument("--no-eigen", action="store_true", help="skip the eigenbasis path")
    ap.add_argument("--rng-only", action="store_true", help="only the normals and the eigen split")
    args = ap.parse_args(argv)
    print(machine_line())
    print(f"isa: {_core.isa()}, streams version {_core.STREAMS_VERSION}\n")
    rng_table()
    if args.rng_only:
        return
    dims = [1000, 4000] if args.quick else [1000, 4000, 16000]
    batches = [1, 32, 1024]
    if not args.no_eigen:
        eigen_table(dims, batches, args.quick)
    if not args.no_full:
        full_table(batches)


# ---- the random numbers ----------------------------------------------------------------------
def median_rate(run, repeats=5):
    return float(np.median([run() for _ in range(repeats)]))


def best_rate(run, repeats=7):
    """The fastest of repeats: for differences of timings, which other load on the machine inflates."""
    return float(max(run() for _ in range(repeats)))


def normals_rows():
    """Normals per second on one core: plrf (_core.normals) and NumPy's standard_normal, per size."""
    gen = np.random.default_rng(0)
    rows = []
    for n in (4000, 1_000_000):
        ours = median_rate(lambda: rate(lambda k: [_core.normals(1, 1, t, 0, n) for t in range(k)], n))
        theirs = median_rate(lambda: rate(lambda k: [gen.standard_normal(n) for _ in range(k)], n))
        rows.append((n, ours, theirs))
    return rows


def eigen_split(d=4000):
    """Eigen path at B = 1: steps/s of plrf and NumPy (best of repeats), and the time a step spends
    drawing its d normals (a call of d normals less a call of 1, i.e. without the call overhead;
    inside a step the draws are interleaved with the update, simulate/eigen_fused.hpp)."""
    spec = simulator_spectrum(d)
    opt = plrf.defaults(spec, 1)["dana_decaying"]
    rng = np.random.default_rng(0)
    ours = best_rate(lambda: plrf_rate(spec, opt, 1, 1, 1))
    theirs = best_rate(lambda: rate(lambda n: numpy_eigen(spec, opt, n, 1, 1, rng), 1), 3)
    calls = [best_rate(lambda: rate(lambda k: [_core.normals(1, 1, t, 0, n) for t in range(k)], 1)) for n in (d, 1)]
    return ours, theirs, 1.0 / calls[0] - 1.0 / calls[1]


def rng_table():
    print("normals on one core (normals/s)")
    print(f"{'n per call':>10} | {'plrf':>12} {'numpy':>12} {'ratio':>7}")
    for n, ours, theirs in normals_rows():
        print(f"{n:>10} | {ours:>12.3g} {theirs:>12.3g} {ours / theirs:>6.1f}x", flush=True)
    ours, theirs, gen = eigen_split()
    step = 1.0 / ours
    print(f"\neigen d=4000 B=1: plrf {ours:.0f} steps/s, numpy {theirs:.0f} steps/s: {ours / theirs:.1f}x; "
          f"a step is {step * 1e6:.1f} us ({step / 4000 * 1e9:.2f} ns/coordinate) = {gen * 1e6:.1f} us drawing "
          f"4000 normals ({gen / 4000 * 1e9:.2f} ns each) + {(step - gen) * 1e6:.1f} us update and scalars "
          f"({(step - gen) / 4000 * 1e9:.2f} ns/coordinate)\n", flush=True)


# ---- the simulators --------------------------------------------------------------------------
def eigen_table(dims, batches, quick):
    print("eigen path (steps/s; 8-seed columns are seed-steps/s)")
    print(f"{'d':>6} {'B':>5} | {'plrf 1 seed':>12} {'numpy':>10} {'ratio':>7} | {'plrf 8s/1t':>11} "
          f"{'plrf 8s/2t':>11} {'2t/1t':>6} {'numpy 8s':>10} {'ratio':>7} | {'B/B=1 time':>10}")
    for d in dims:
        rows = eigen_rows(d, batches, quick)
        base = rows[0][2]
        for d_, B, one, np1, t1, t2, np8 in rows:
            print(f"{d_:>6} {B:>5} | {one:>12.0f} {np1:>10.1f} {one / np1:>6.1f}x | {t1:>11.0f} {t2:>11.0f} "
                  f"{t2 / t1:>5.2f}x {np8:>10.1f} {t2 / np8:>6.1f}x | {base / one:>9.2f}x", flush=True)


def full_table(batches):
    print("\nfull path (steps/s)")
    print(f"{'d':>6} {'B':>5} | {'plrf 1 seed':>12} {'numpy':>10} {'ratio':>7} | {'plrf 8s/2t':>11}")
    for d in (1000, 4000):
        # d=4000, B=1024 costs NumPy 131 GFlop per step (seconds); plrf reassociates it.
        for d_, B, one, np1, t2 in full_rows(d, batches):
            print(f"{d_:>6} {B:>5} | {one:>12.2f} {np1:>10.2f} {one / np1:>6.1f}x | {t2:>11.2f}", flush=True)


if __name__ == "__main__":
    main()
