"""Cheap engines for sweep tests (importable by spawned/Dask workers via the inherited sys.path).

`numpy_exact` is the SPEC section 4 moment recursion in plain NumPy: deterministic, any
Gen-Mom-SGD optimizer, O(d) per step. `noisy_seeds` returns Curves (one curve per seed) so the
store's multi-seed path is exercised. `sleepy` sleeps (after writing its pid to a file) when
options["sleep"] is set, so a test can kill the worker running it.
"""
import os
import time

import numpy as np

from plrf.curves import Curve, Curves, record_grid


def numpy_exact(spectrum, opt, cfg):
    lam, steps, batch = spectrum.eigenvalues, cfg["steps"], cfg["batch"]
    record = np.asarray(cfg["record"] if cfg["record"] is not None else record_grid(steps))
    a, s, c = spectrum.rho.copy(), np.zeros_like(lam), np.zeros_like(lam)
    out = []
    for t in range(steps + 1):
        if t in record:
            out.append(spectrum.p_inf + 0.5 * lam @ a)
        if t == steps:
            break
        k = opt.coefficients(t)
        g1, g2, g3, m = k["gamma1"], k["gamma2"], k["gamma3"], 1.0 - k["delta"]
        G, A = g2 + g1 * g3, 1.0 - (g2 + g1 * g3) * lam
        xi = (lam * lam * a + lam * (2 * spectrum.p_inf + lam @ a)) / batch
        a, s, c = (A * A * a + (g3 * m) ** 2 * s - 2 * A * g3 * m * c + G * G * xi,
                   (g1 * lam) ** 2 * a + m * m * s + 2 * g1 * lam * m * c + g1 * g1 * xi,
                   A * g1 * lam * a - g3 * m * m * s + (A * m - g3 * m * g1 * lam) * c - G * g1 * xi)
    return Curve(record, np.array(out), meta={"engine": "numpy_exact"})


def noisy_seeds(spectrum, opt, cfg):
    base = numpy_exact(spectrum, opt, cfg)
    seeds = np.asarray(cfg["seeds"], dtype=np.uint64)
    noise = np.stack([np.random.default_rng(int(s)).normal(0, 1e-3, base.risk.size) for s in seeds])
    return Curves(base.steps, base.risk * (1 + noise), seeds, meta={"engine": "noisy_seeds"})


def sleepy(spectrum, opt, cfg):
    opts = cfg["options"]
    if opts.get("sleep"):
        path = os.path.join(opts["pid_dir"], f"{os.getpid()}.{time.monotonic_ns()}")
        with open(path + ".tmp", "w") as fh:  # atomic: a watcher never reads a half-written pid
            fh.write(str(os.getpid()))
        os.replace(path + ".tmp", path)
        time.sleep(opts["sleep"])
    return numpy_exact(spectrum, opt, cfg)


def failing(spectrum, opt, cfg):
    if cfg["d"] == 13:
        raise ArithmeticError("planted failure at d=13")
    return numpy_exact(spectrum, opt, cfg)
