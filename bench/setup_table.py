"""Spectral setup: plrf vs a plain NumPy/LAPACK reference, time and peak memory.

    python bench/setup_table.py [--sizes 1000 2000 4000] [--repeat 3] [--eigen]

Times are medians over --repeat runs, alternating the two implementations in this process.
Peak memory is the peak RSS of a fresh subprocess running one setup, minus that process's RSS
after imports (so it measures the setup's own working set).
--eigen adds the pure-C++ path (Eigen's eigensolver), which C++ users get without Python.
The reference and the measurements live in plrf.testing (references.numpy_setup, timing.setup_row).
"""
from __future__ import annotations

import argparse
import json

import plrf
from plrf.cli.bench import machine_line
from plrf.testing.timing import setup_row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--eigen", action="store_true", help="also time the pure-C++ Eigen path")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args(argv)
    impls = ["plrf", "numpy"] + (["eigen"] if args.eigen else [])
    rows = []
    print(machine_line())
    print(f"spectral setup on the {plrf._core.isa()} kernels (plrf) against NumPy")
    print(f"{'d':>6} {'v':>6} | " + " | ".join(f"{k + ' s':>9} {k + ' MiB':>10}" for k in impls) + " | numpy/plrf time  mem")
    for d in args.sizes:
        row = setup_row(d, args.repeat, impls)
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
