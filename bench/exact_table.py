"""Speed and accuracy of plrf.exact_risk (methods exact / fast / ode) and of theory spectra.

Run: PYTHONPATH=python python bench/exact_table.py [--quick] [--only fast ...]
Tables: (1) exact recursion, steps x modes per second, 1 and 2 threads; (2) fast to T = 1e9 at
d in {1e4, 1e5, 1e6}; (3) fast vs exact where the exact curve is affordable (T = 1e6);
(4) theory spectra at d = 1e6 (v = 4e6); (5) ODE (dt = 0.01) vs exact at T = 1e6, d = 1000.
Spectra are power laws lambda_j = j^{-2 alpha}, rho_j = j^{-2 beta} (alpha = 1, beta = 0.8)
with the authors' default hyperparameters (plrf.defaults); errors are max relative over ~20
records per decade.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import plrf
from plrf.testing import power_law_spectrum  # alpha = 1, beta = 0.8, P_inf = 1e-3 of the excess


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def max_rel(a, b):
    return float(np.max(np.abs(a - b) / np.abs(b)))


def table_exact(quick):
    print("\n(1) method='exact': steps x modes per second")
    print(f"{'optimizer':>14} {'d':>8} {'threads':>7} {'steps':>7} {'seconds':>8} {'steps*modes/s':>14}")
    for name in ("sgd", "sgd_momentum", "dana_decaying"):
        for d in (1_000, 100_000) if quick else (1_000, 10_000, 100_000, 1_000_000):
            spec = power_law_spectrum(d)
            opt = plrf.defaults(spec, 1)[name]
            steps = max(10, int(2e8 / d)) if quick else max(10, int(1e9 / d))
            for threads in (1, 2):
                _, sec = timed(lambda: plrf.exact_risk(spec, opt, steps, threads=threads, record=[0, steps]))
                print(f"{name:>14} {d:>8} {threads:>7} {steps:>7} {sec:>8.2f} {steps * d / sec:>14.3e}")


def table_fast(quick):
    T = 10**9
    print(f"\n(2) method='fast' to T = {T:.0e}, 2 threads, kernels: {plrf._core.isa()} "
          "(wall time; error_estimate is the solver's own)")
    print(f"{'optimizer':>14} {'d':>8} {'rtol':>6} {'seconds':>8} {'error_estimate':>14}")
    for name in ("sgd", "sgd_momentum", "dana_constant", "dana_decaying"):
        for d in (10**4, 10**5) if quick else (10**4, 10**5, 10**6):
            spec = power_law_spectrum(d)
            opt = plrf.defaults(spec, 1)[name]
            for rtol in (1e-4, 3e-4, 1e-3):
                c, sec = timed(lambda: plrf.exact_risk(spec, opt, T, method=plrf.engines.fast(rtol=rtol, compress=False), threads=2, record=plrf.record_grid(T, 20)))
                print(f"{name:>14} {d:>8} {rtol:>6.0e} {sec:>8.2f} {c.error_estimate:>14.2e}")


def table_fast_vs_exact(quick):
    T = 10**5 if quick else 10**6
    print(f"\n(3) method='fast' vs 'exact' at T = {T:.0e}: max relative error over the records")
    print(f"{'optimizer':>14} {'d':>6} {'rtol':>6} {'max rel err':>11} {'estimate':>9} {'t_fast':>7} {'t_exact':>8}")
    for name, d in (("sgd", 10_000), ("sgd_momentum", 1_000), ("dana_constant", 1_000), ("dana_decaying", 1_000)):
        spec = power_law_spectrum(d)
        opt = plrf.defaults(spec, 1)[name]
        rec = plrf.record_grid(T, 20)
        ex, tex = timed(lambda: plrf.exact_risk(spec, opt, T, record=rec))
        for rtol in (1e-4, 3e-4, 1e-3):
            fa, tfa = timed(lambda: plrf.exact_risk(spec, opt, T, record=rec, method=plrf.engines.fast(rtol=rtol)))
            print(f"{name:>14} {d:>6} {rtol:>6.0e} {max_rel(fa.risk, ex.risk):>11.2e} {fa.error_estimate:>9.1e} "
                  f"{tfa:>7.3f} {tex:>8.2f}")


def table_theory(quick):
    d = 10**5 if quick else 10**6
    print(f"\n(4) theory spectra at d = {d:.0e}, v = 4d")
    print(f"{'method':>16} {'alpha':>5} {'seconds':>8} {'density mass':>12}")
    for method in ("closed-form", "self-consistent"):
        for alpha in (0.4, 1.0, 1.5):
            s, sec = timed(lambda: plrf.Spectrum.theory(alpha, 0.8, d, method=method, compress=False))
            print(f"{method:>16} {alpha:>5} {sec:>8.2f} {s.meta.get('density_mass', float('nan')):>12.6f}")


def table_ode(quick):
    T, d = (10**5 if quick else 10**6), 1000
    print(f"\n(5) method='ode' (dt = 0.01 in ln(1+t)) vs 'exact', T = {T:.0e}, d = {d}")
    print(f"{'optimizer':>14} {'t_ode':>6} {'t_exact':>7} {'max rel err':>11} {'err t>=50':>9} {'err t>=1000':>11} {'estimate':>8}")
    spec = power_law_spectrum(d)
    rec = plrf.record_grid(T, 20)
    for name in ("sgd", "sgd_momentum", "dana_constant", "dana_decaying"):
        opt = plrf.defaults(spec, 1)[name]
        ex, tex = timed(lambda: plrf.exact_risk(spec, opt, T, record=rec))
        od, tod = timed(lambda: plrf.exact_risk(spec, opt, T, record=rec, method=plrf.engines.ode(dt=0.01)))
        rel = np.abs(od.risk - ex.risk) / ex.risk
        print(f"{name:>14} {tod:>6.2f} {tex:>7.2f} {rel.max():>11.2e} {rel[rec >= 50].max():>9.2e} "
              f"{rel[rec >= 1000].max():>11.2e} {od.error_estimate:>8.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a few seconds per table)")
    tables = {"exact": table_exact, "fast": table_fast, "fast-vs-exact": table_fast_vs_exact,
              "theory": table_theory, "ode": table_ode}
    ap.add_argument("--only", choices=tables, action="append", help="run only these tables (repeatable)")
    args = ap.parse_args()
    print(f"plrf {plrf.__version__} | kernels {plrf._core.isa()}")
    for name in args.only or tables:
        tables[name](args.quick)


if __name__ == "__main__":
    main()
