"""Speed of the mixture-of-experts exact engines (docs/families.md §1).

Run: PYTHONPATH=python python bench/moe_table.py [--quick]
Target of issue 11: method="fast" to T = 1e8 with m = 100 Zipf(1) experts at d = 1e4 in < 10 s.
Rows, one process, medians of repeats (wall and CPU seconds): fast to T with m experts on the full
d = 1e4 theory spectrum (Spectrum.theory's default at this d) and on its compressed nodes (compress=True, rtol 1e-4),
against one single-learner fast run (the experts are m independent runs on their routes, so the
ratio should be about m / threads); and method="ode" likewise. First row: method="exact" against the
NumPy oracle plrf.testing.moe.expert_curves, side by side (m = 10, d = 1000, T = 1000, DANA-decaying). SGD and SGD-M (authors' defaults,
shared clock): DANA's default schedules are single-learner recipes, and with rare experts they diverge
(docs/families.md §1), which would stop those experts early and flatter the timing.
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import time

import plrf
from plrf.cli.bench import machine_line


def timed(fn, repeats):
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def numpy_reference(m=10, d=1000, steps=1000):
    from plrf.testing import moe

    spec = plrf.Spectrum.theory(1.0, 0.7, d)
    opt, E = plrf.defaults(spec, 1)["dana_decaying"], plrf.Experts.zipf(m, 1.0)
    ours, _ = timed(lambda: plrf.exact_risk(spec, plrf.chain(opt, E), steps, threads=1), 3)
    ref, _ = timed(lambda: moe.expert_curves(spec, opt, steps, 1, E.p), 1)
    print(f"  exact, m = {m}, d = {d}, T = {steps}, one thread: plrf {ours:.4f} s, NumPy oracle {ref:.3f} s, "
          f"ratio {ref / ours:.0f}x")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="T = 1e6, m = 20")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    T, m, repeats = (10**6, 20, args.repeats) if args.quick else (10**8, 100, args.repeats)
    print(machine_line())
    print(f"m = {m} Zipf(1) experts, d = 1e4, T = {T:.0e}, authors' defaults, B = 1; median of {repeats}; "
          f"{plrf._core.isa()} kernels")
    print(f"  {'optimizer':>12} {'method':>6} {'spectrum':>22} {'nodes':>6} {'1 learner s':>12} {'m experts s':>12} "
          f"{'CPU s':>8} {'ratio':>6}")
    numpy_reference()
    E = plrf.Experts.zipf(m, 1.0)
    for compress, name, method in itertools.product((True, False), ("sgd", "sgd_momentum"), ("fast", "ode")):
        spec = plrf.Spectrum.theory(1.0, 0.7, 10_000, compress=compress)
        opt = plrf.defaults(spec, 1)[name]
        rec = plrf.record_grid(T, 10)
        one, _ = timed(lambda: plrf.exact_risk(spec, opt, T, record=rec, method=method), repeats)
        many, cpu = timed(lambda: plrf.exact_risk(spec, plrf.chain(opt, E), T, record=rec, method=method), repeats)
        label = "compressed (rtol 1e-4)" if compress else "full (default)"
        print(f"  {name:>12} {method:>6} {label:>22} {spec.n_nodes:6d} {one:12.3f} {many:12.3f} {cpu:8.2f} {many / one:6.1f}",
              flush=True)


if __name__ == "__main__":
    main()
