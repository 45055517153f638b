"""Steps per second of plrf.simulate against vectorised NumPy references, in the same process.

Run: PYTHONPATH=python python bench/simulate_table.py [--quick]
Rows: d in {1000, 4000, 16000}, v = 4d, B in {1, 32, 1024}; one seed, and 8 seeds on 1 and 2
threads. The eigen path runs on a power-law Spectrum (its speed does not depend on the values);
the full path needs a sampled PLRF with its W (d <= 4000). Rates are seed-steps per second.
The NumPy references and the rows are plrf.testing's (references.py, timing.py).
"""
from __future__ import annotations

import argparse

from plrf.testing.timing import eigen_rows, full_rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="d=1000 and 4000 only, single seed")
    ap.add_argument("--no-full", action="store_true", help="skip the full-space path")
    ap.add_argument("--no-eigen", action="store_true", help="skip the eigenbasis path")
    args = ap.parse_args(argv)
    dims = [1000, 4000] if args.quick else [1000, 4000, 16000]
    batches = [1, 32, 1024]
    if not args.no_eigen:
        eigen_table(dims, batches, args.quick)
    if not args.no_full:
        full_table(batches)


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
