"""Sweep speedup: >= 200 small exact-risk configs, serially vs 2 workers (local pool, LocalCluster).

    python bench/sweep_table.py [--configs 200] [--steps 200000] [--workers 2] [--repeat 3] [--json out.json]

Target: >= 1.7x with 2 workers. Serial runs in-process; the pool time includes starting its
processes; the LocalCluster is started before timing. Each config uses one engine thread.
"""
from __future__ import annotations

import argparse
import json

import plrf
from plrf.cli.bench import SWEEP_STEPS, machine, machine_line, sweep_speedup


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", type=int, default=200)
    ap.add_argument("--steps", type=int, default=SWEEP_STEPS)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="alternating serial/parallel runs, medians (default 3)")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args(argv)
    info = machine()
    print(machine_line(info))
    print(f"sweep speedups, each config on the {plrf._core.isa()} kernels")
    print(f"{'backend':<14} {'configs':>7} {'serial s':>9} {'parallel s':>10} {'speedup':>8}")
    rows = []
    for backend in ("pool", "dask"):
        r = {"backend": backend, **sweep_speedup(backend, args.workers, args.configs, args.steps, args.repeat)}
        rows.append(r)
        print(f"{backend:<14} {r['n_configs']:>7} {r['serial_s']:>9.2f} {r['parallel_s']:>10.2f} {r['speedup']:>7.2f}x",
              flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": info, "rows": rows}, fh, indent=1)
    return rows


if __name__ == "__main__":
    main()
