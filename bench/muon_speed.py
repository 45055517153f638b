"""Speed of plrf.matrix (docs/muon.md §Speed), as ratios taken in one run.

1. Monte Carlo Muon at d = m = 512, B = 32, 16 seeds (momentum 0.95, Nesterov, 5 Newton-Schulz
   steps) against a plain NumPy loop doing the same work seed by seed (same normals, same risk).
2. SignSVD: plrf.matrix's exact low-rank polar (QR of the B x d batch, SVD of B x m) against the same
   loop with a full 512 x 512 SVD per seed and step.
3. The deterministic dynamics against Monte Carlo at the same size, per step.
4. One 512 x 512 SVD: LAPACK gesdd through NumPy, and Eigen's BDCSVD if bench/cpp/svd_eigen.cpp is built
   (g++ -O3 -march=native -DNDEBUG -I cpp/third_party/eigen bench/cpp/svd_eigen.cpp -o build/svd_eigen).

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=python python bench/muon_speed.py [--steps 3]

On a shared, loaded machine set OPENBLAS_NUM_THREADS=1: with 2 BLAS threads on 2 busy cores the
512 x 512 SVD was measured 19x slower (4.8 s instead of 0.26 s).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

import numpy as np

from plrf import _core
from plrf import matrix as M
from plrf.cli.bench import machine_line
from plrf.matrix.problem import MATRIX_DATA, MATRIX_NOISE

ROOT = Path(__file__).resolve().parents[1]


def plain_loop(p, steps, batch, seeds, method, lr=0.01, mu=0.95):
    """The reference: one seed at a time, 2-D NumPy only, the textbook update."""
    out = []
    for s in seeds:
        theta, buf = np.zeros((p.d, p.m)), np.zeros((p.d, p.m))
        for t in range(steps):
            x = (_core.normals(int(s), MATRIX_DATA, t, 0, batch * p.d).reshape(batch, p.d) * np.sqrt(p.eigenvalues)) @ p.Q.T
            r = x @ (theta - p.theta_star) - p.sigma * _core.normals(int(s), MATRIX_NOISE, t, 0, batch * p.m).reshape(batch, p.m)
            g = x.T @ r / batch
            if method == "muon":
                buf = mu * buf + g
                n = g + mu * buf
                X = n / (np.linalg.norm(n) + 1e-7)
                for _ in range(5):
                    A = X @ X.T
                    X = 3.4445 * X + (-4.7750 * A + 2.0315 * A @ A) @ X
                theta -= lr * X
            else:
                u, sv, vh = np.linalg.svd(g, full_matrices=False)
                keep = sv > sv[0] * max(g.shape) * np.finfo(float).eps
                theta -= lr * (u * keep) @ vh
        out.append(p.risk(theta))
    return np.array(out)


def timed(f):
    t = time.perf_counter()
    res = f()
    return time.perf_counter() - t, res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=2, help="alternated repeats of each Monte Carlo timing (best kept)")
    a = ap.parse_args(argv)
    print(machine_line())
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; d = m = {a.d}, B = {a.batch}, "
          f"{a.seeds} seeds, {a.steps} steps (timings on a shared machine: compare the ratios)")
    p = M.MatrixPLRF(1.0, 0.5, a.d, a.d, sigma=0.1)
    seeds = np.arange(a.seeds)
    rows = []
    for name, opt in (("muon", M.muon(0.01)), ("signsvd", M.signsvd(0.01))):
        t_plrf, t_loop = np.inf, np.inf
        for _ in range(a.repeat):  # alternated, best of each: the machine's load drifts between runs
            t, c = timed(lambda: M.simulate(p, opt, a.steps, batch=a.batch, seeds=seeds, record=[0, a.steps], progress=False))
            t_plrf = min(t_plrf, t)
            t, ref = timed(lambda: plain_loop(p, a.steps, a.batch, seeds, name))
            t_loop = min(t_loop, t)
        same = np.max(np.abs(c.risk[:, -1] / ref - 1))
        rows.append((name, t_plrf, t_loop, same))
        print(f"MC {name:8s} plrf.matrix {t_plrf:8.2f} s  plain NumPy loop {t_loop:8.2f} s  ratio {t_loop / t_plrf:6.2f}x"
              f"  (same risk to {same:.1e})", flush=True)
    for name, opt in (("signsvd", M.signsvd(0.01)), ("muon", M.muon(0.01)), ("signsgd", M.signsgd(0.0005))):
        n_de = 20 if name == "signsgd" else 200
        t_de, _ = timed(lambda: M.dynamics(p, opt, n_de, batch=a.batch, record=[0, n_de]))
        t_mc, _ = timed(lambda: M.simulate(p, opt, a.steps, batch=a.batch, seeds=seeds, record=[0, a.steps], progress=False))
        per_de, per_mc = t_de / n_de, t_mc / a.steps
        print(f"dynamics {name:8s} {per_de * 1e3:9.3f} ms/step  MC ({a.seeds} seeds) {per_mc * 1e3:9.1f} ms/step  "
              f"ratio {per_mc / per_de:8.0f}x", flush=True)
    g = np.random.default_rng(0).uniform(-1, 1, (a.d, a.d))
    t_svd, _ = timed(lambda: [np.linalg.svd(g, full_matrices=False) for _ in range(3)])
    line = f"SVD {a.d}x{a.d}: LAPACK gesdd (NumPy) {t_svd / 3:.3f} s"
    eigen = ROOT / "build" / "svd_eigen"
    if eigen.exists():
        out = subprocess.run([str(eigen), str(a.d), "3"], capture_output=True, text=True).stdout
        line += f"; Eigen BDCSVD {float(out.split('seconds_per_svd=')[1].split()[0]):.3f} s"
    else:
        line += "; Eigen: build bench/cpp/svd_eigen.cpp to compare"
    print(line)


if __name__ == "__main__":
    main()
