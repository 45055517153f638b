"""Adam on the honest full path against the parameter-basis path, on one PLRF problem.

    PYTHONPATH=python python bench/coordinatewise_full_speed.py                # d = 512, v = 1024, B = 8
    PYTHONPATH=python python bench/coordinatewise_full_speed.py --d 256 --v 512

Median seconds per step for all seeds (threads=1 for both, so the ratio is per core):
  full   plrf.simulate(problem, plrf.adam(...), steps, space="full"): B honest v-dim samples per seed and
         step, O(B v d) (the batch's features F = X W, a GEMM)
  param  the same with space="param": the fast sampler's O(d) draw and two (S x d)(d x d) GEMMs, O(d^2)
The two agree in law (tests/test_coordinatewise_full.py); the ratio is what the honest reference costs.
"""
from __future__ import annotations

import argparse

import plrf
from plrf.cli.bench import machine_line
from plrf.testing.timing import median_time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--v", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    print(machine_line())
    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=a.d, v=a.v, seed=0)
    problem.spectrum(keep_vectors=True)  # the setup (eigendecomposition) is not timed

    def per_step(space):
        def run():
            plrf.simulate(problem, plrf.adam(1e-3), a.steps, batch=a.batch, seeds=a.seeds, space=space, threads=1,
                          progress=False)
        run()  # warm up
        return median_time(run, a.repeats) / a.steps

    full, param = per_step("full"), per_step("param")
    print(f"Adam, d = {a.d}, v = {a.v}, B = {a.batch}, {a.seeds} seeds, {a.steps} steps x {a.repeats} repeats, "
          "threads=1 (median, ms per step for all seeds)")
    print("| path | ms/step | ratio |")
    print("|---|---|---|")
    print(f"| space='param' | {1e3 * param:.2f} | 1 |")
    print(f"| space='full' | {1e3 * full:.2f} | full/param = {full / param:.2f} |")


if __name__ == "__main__":
    main()
