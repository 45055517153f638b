"""Parameter-basis Adam (simulate(space="param")) against its floor and a NumPy loop, in one run.

    PYTHONPATH=python python bench/coordinatewise_speed.py            # d = 2048, B = 8, 64 seeds
    PYTHONPATH=python python bench/coordinatewise_speed.py --d 512    # quicker

Per step, median over repeats of `steps`-step calls (the once-per-call setup, which packs U^T and U, is
included and also printed on its own), seconds per step for all seeds:
  plrf     plrf.simulate(spec, plrf.adam(...), steps, batch=B, seeds=S, space="param")
  floor    the two (S x d)(d x d) products with U a step needs, timed with NumPy's matmul here
  numpy    a NumPy loop drawing the B samples explicitly: x = U Lambda^{1/2} z, the batch gradient, Adam
  python   the same Adam as a Python rule (plrf.custom_rule) on the engine's draws: the per-step overhead
  optax    optax.adam through plrf.custom_rule (vmapped over seeds, jitted, float64), when JAX is installed
Ratios: plrf / floor (the issue asks <= 1.5) and numpy / plrf (asks >= 5). Both sides use the machine's
default threads (plrf: all cores; NumPy: its BLAS's). The NumPy loop does (B + 1)/2 times plrf's product
flops (X = Z F^T is an (S B x d)(d x d) product, plus the rotation to e for the risk), 4.5x at B = 8, so
5x needs plrf's thin products (U packed once per call) to run at least as fast as NumPy's BLAS runs its
big one (the GFLOP/s column). `python -m plrf bench` prints the plrf/numpy row alone.
"""
from __future__ import annotations

import argparse
import numpy as np

import plrf
from plrf.cli.bench import machine_line
from plrf.testing.param_timing import floor_time, numpy_adam, rotation_spectrum
from plrf.testing.timing import median_time


def python_adam(lr, b1, b2, eps):
    def update(g, state, t):
        m, v = (np.zeros_like(g), np.zeros_like(g)) if state is None else state
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        return -lr * (m / (1 - b1 ** (t + 1))) / (np.sqrt(v / (1 - b2 ** (t + 1))) + eps), (m, v)
    return update


def optax_time(spec, a):
    """Seconds per step of optax.adam as a custom_rule (plrf[jax]), or None without JAX."""
    try:
        import jax
        import optax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    rule = plrf.custom_rule(optax.adam(1e-3), name="optax_adam")  # jitted once, on the first run
    run = lambda: plrf.simulate(spec, rule, a.steps, batch=a.batch, seeds=a.seeds, space="param", progress=False)
    run()  # warm up (compiles)
    return median_time(run, a.repeats) / a.steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    print(machine_line())
    spec = rotation_spectrum(a.d)
    opt = plrf.adam(1e-3)
    run = lambda: plrf.simulate(spec, opt, a.steps, batch=a.batch, seeds=a.seeds, space="param", progress=False)
    run()  # warm up
    t_plrf = median_time(run, a.repeats) / a.steps
    one = lambda: plrf.simulate(spec, opt, 1, batch=a.batch, seeds=a.seeds, space="param", progress=False)
    t_setup = median_time(one, a.repeats) - t_plrf  # per call: checks, state, U^T and U packed once
    t_floor = floor_time(spec, a.steps, a.seeds, a.repeats)
    rng = np.random.default_rng(2)
    t_numpy = median_time(lambda: numpy_adam(spec, a.steps, a.batch, a.seeds, rng), a.repeats) / a.steps
    rule = plrf.custom_rule(python_adam(1e-3, 0.9, 0.999, 1e-8), name="python_adam")
    t_python = median_time(lambda: plrf.simulate(spec, rule, a.steps, batch=a.batch, seeds=a.seeds, space="param",
                                                 progress=False), a.repeats) / a.steps
    t_optax = optax_time(spec, a)
    # GFLOP per step: the (S x d)(d x d) products (2 S d^2 each); the NumPy loop's X = Z F^T is (S B x d)(d x d).
    rotation = 2.0 * a.seeds * a.d * a.d * 1e-9
    gflop = {"plrf": 2 * rotation, "floor": 2 * rotation, "numpy": (a.batch + 1) * rotation, "python": 2 * rotation,
             "optax": 2 * rotation}
    rate = lambda key, t: f"{gflop[key]:.2f} | {gflop[key] / t:.0f}"
    print(f"parameter-basis Adam, d = {a.d}, B = {a.batch}, {a.seeds} seeds, {a.steps} steps x {a.repeats} repeats "
          "(median, ms per step for all seeds; GFLOP per step in products, and the rate they run at)")
    print("| engine | ms/step | GFLOP/step | GFLOP/s | ratio |")
    print("|---|---|---|---|---|")
    print(f"| plrf space='param' | {1e3 * t_plrf:.2f} | {rate('plrf', t_plrf)} | 1 |")
    print(f"| (plrf: once per call, counted above: setup and U packed, {1e3 * t_setup:.0f} ms) | | | | |")
    print(f"| floor: 2 NumPy matmuls | {1e3 * t_floor:.2f} | {rate('floor', t_floor)} | plrf/floor = {t_plrf / t_floor:.2f} |")
    print(f"| NumPy loop, explicit batch | {1e3 * t_numpy:.2f} | {rate('numpy', t_numpy)} | "
          f"numpy/plrf = {t_numpy / t_plrf:.2f} |")
    print(f"| Python rule (plrf.custom_rule) | {1e3 * t_python:.2f} | {rate('python', t_python)} | "
          f"python/plrf = {t_python / t_plrf:.2f} |")
    if t_optax is not None:
        print(f"| optax.adam (plrf.custom_rule) | {1e3 * t_optax:.2f} | {rate('optax', t_optax)} | "
              f"optax/plrf = {t_optax / t_plrf:.2f} |")


if __name__ == "__main__":
    main()
