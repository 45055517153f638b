"""Side by side: the authors' float32 JAX ODE against plrf's exact / fast / ode engines.

The authors' code (github.com/LosVolterrosHermanos/Experimental) is never part of plrf: point
PLRF_JAX_REF at a checkout of it (outside this repository) and PLRF_JAX_PYTHON at a Python with
jax and scipy, all their ODE path needs (default: this interpreter). Their code runs in a subprocess
of that Python; we only *call* their public functions `power_law_rf.ode.ode_resolvent_log_implicit`,
`power_law_rf.deterministic_equivalent.theory_rhos` and `.theory_limit_loss` at run time; all
inputs and outputs go through .npz files.

    PLRF_JAX_REF=/path/to/Experimental PLRF_JAX_PYTHON=/path/to/venv/bin/python \\
        PYTHONPATH=python python bench/compare_jax_ode.py [--cache DIR] [--quick]

Conventions mapped (checked against their source, see docs/jax_comparison.md):
- their ODE returns 2P on the grid t_k = exp(k dt) - 1, k < ceil(ln(T)/dt); we divide by 2;
- hyperparameters are the docs/theory.md §3 recipe with their trace proxy tr K = sum_{j<=4d} j^{-2 alpha},
  passed to them as functions of the (continuous) step count t and to plrf as Schedules in t;
- their batch enters as the batch-averaged gradient (forcing / B, (B+1)/B on lambda^2), as docs/theory.md §4.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DT = 0.01
REPEATS = 3  # warm calls after one cold call (their scan is traced and compiled on the first call)
# (alpha, beta, optimizer, batch) at d = 1000, T = 1e6: accuracy against method="exact".
ACCURACY = [
    (1.0, 0.7, "sgd", 1),
    (1.0, 0.7, "dana_constant", 1),
    (1.0, 0.7, "dana_decaying", 1),
    (1.0, 0.7, "dana_decaying", 8),
    (0.4, 0.7, "sgd", 1),
    (0.4, 0.7, "dana_decaying", 1),
]
# (d, T) wall-time rows, DANA-decaying at alpha = 1, beta = 0.7, B = 1 (the settings).
TIMING = [(100_000, 10**8), (1_000_000, 10**6)]
# d = 1e6 to T = 1e6, alpha = 1, beta = 0.7, B = 1: their ODE against plrf fast and ode on the
# compressed spectrum (issue 10: at least 100x), errors against plrf exact on the same nodes.
LARGE = [(1_000_000, 10**6, "sgd"), (1_000_000, 10**6, "dana_decaying")]
LARGE_REPEATS = 1  # one warm call after the cold one: a call takes ~1-2 minutes at d = 1e6
# Their risk-normalised ODE modes (`adaptive=`), float64, against plrf's controllers (issue 12).
ADAPTIVE = [(1000, 10**5, 1.0, 0.7, "dana_decaying", 1, "adam"), (1000, 10**5, 1.0, 0.7, "dana_decaying", 1, "rmsprop_dana"),
            (1000, 10**5, 1.0, 0.7, "dana_constant", 1, "adam"), (1000, 10**5, 0.4, 0.7, "dana_decaying", 8, "rmsprop_dana")]


# ---------------------------------------------------------------- shared settings (docs/theory.md §3)
def recipe(alpha, beta, d, batch, name):
    """The docs/theory.md §3 default hyperparameters as plain numbers: gamma_i(t) = c_i (1 + t)^{-p_i}."""
    tr = float(np.sum(np.arange(1, 4 * d + 1, dtype=np.float64) ** (-2.0 * alpha)))  # v = 4d proxy
    g2 = 0.375 * min(2.0 / (batch + 1), 1.0 / tr)
    delta = max(2.0 + (2.0 * beta - 1.0) / alpha, 2.0 - 1.0 / alpha) + 1.0
    if name == "sgd":
        return dict(g1=0.0, g2=g2, g3=0.0, g3_exp=0.0, delta=1.0, delta_exp=0.0)
    if name == "dana_constant":
        return dict(g1=1.0, g2=g2, g3=0.1 / (d * tr), g3_exp=0.0, delta=delta, delta_exp=1.0)
    if name == "dana_decaying":
        return dict(g1=1.0, g2=g2, g3=0.1, g3_exp=1.0 / (2.0 * alpha), delta=delta, delta_exp=1.0)
    raise ValueError(f"unknown optimizer {name!r}")


def case_name(d, T, alpha, beta, opt, batch, x64=False, adaptive=None):
    return f"d{d}_T{T:.0e}_a{alpha}_b{beta}_{opt}_B{batch}" + ("_x64" if x64 else "") + (f"_{adaptive}" if adaptive else "")


# ---------------------------------------------------------------- JAX side (their code, called)
def jax_worker(spec_path, out_path):
    """Run their ODE for one case described in a JSON file; save inputs, curve P and wall times."""
    spec = json.loads(Path(spec_path).read_text())
    ref = os.environ["PLRF_JAX_REF"]
    sys.path.insert(0, ref)
    import jax

    if spec["x64"]:
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from power_law_rf import deterministic_equivalent as de
    from power_law_rf import ode

    alpha, beta, d, T, B = spec["alpha"], spec["beta"], spec["d"], spec["T"], spec["batch"]
    eigs, rho = de.theory_rhos(alpha, beta, d)  # their closed-form surrogate spectrum (docs/theory.md §6)
    p_inf = float(de.theory_limit_loss(alpha, beta, 4 * d, d))
    h = spec["hp"]
    hp = ode.DanaHparams(
        lambda t: h["g1"],
        lambda t: h["g2"],
        lambda t: h["g3"] / (1.0 + t) ** h["g3_exp"],
        lambda t: h["delta"] / (1.0 + t) ** h["delta_exp"],
    )
    ftype = jnp.float64 if spec["x64"] else jnp.float32
    zeros = jnp.zeros(d, dtype=ftype)
    inputs = ode.ODEInputs(eigs.astype(ftype), rho.astype(ftype), zeros, zeros, p_inf)
    walls = []
    for _ in range(1 + spec["repeats"]):
        t0 = time.perf_counter()
        times, twice = ode.ode_resolvent_log_implicit(inputs, hp, B, d, T, spec["dt"], adaptive=spec.get("adaptive"))
        twice.block_until_ready()
        walls.append(time.perf_counter() - t0)
    np.savez(
        out_path, times=np.asarray(times, np.float64), risk=np.asarray(twice, np.float64) / 2.0,
        eigenvalues=np.asarray(eigs, np.float64), rho=np.asarray(rho, np.float64), p_inf=p_inf,
        walls=np.array(walls), spec=json.dumps(spec), jax_version=jax.__version__,
        dtype=str(twice.dtype),
    )


FRESH = False  # --fresh: rerun their ODE even when a cached result exists (same-load timings)


def jax_case(cache, d, T, alpha, beta, opt, batch, x64=False, repeats=REPEATS, adaptive=None):
    """Their result for a case, from the cache or by running their ODE in a subprocess.

    walls[0] is the cold call (trace + compile + run), walls[1:] the warm ones.
    """
    name = case_name(d, T, alpha, beta, opt, batch, x64, adaptive)
    out = Path(cache) / f"{name}.npz"
    if FRESH or not out.exists():
        spec = dict(alpha=alpha, beta=beta, d=d, T=T, batch=batch, opt=opt, x64=x64, dt=DT,
                    repeats=repeats, hp=recipe(alpha, beta, d, batch, opt), adaptive=adaptive)
        spec_path = Path(cache) / f"{name}.json"
        spec_path.write_text(json.dumps(spec))
        py = os.environ.get("PLRF_JAX_PYTHON", sys.executable)
        subprocess.run([py, __file__, "--jax-worker", str(spec_path), str(out)], check=True)
    z = np.load(out)
    return {k: z[k] for k in z.files}


# ---------------------------------------------------------------- plrf side
def warm(jx):
    """Median wall time of the warm calls (the cold one if there is no other)."""
    w = jx["walls"]
    return float(np.median(w[1:] if w.size > 1 else w))


def plrf_optimizer(plrf, alpha, d, opt, h):
    if opt == "sgd":
        return plrf.sgd(h["g2"])
    if opt == "dana_constant":  # plrf's gamma3 = g3 / d
        return plrf.dana_constant(h["g2"], h["g3"] * d, h["delta"], d=d)
    return plrf.dana_decaying(h["g2"], h["g3"], h["delta"], alpha)


def plrf_run(plrf, jx, opt, batch, T, method, record):
    spec = json.loads(str(jx["spec"]))
    spectrum = plrf.Spectrum(jx["eigenvalues"], jx["rho"], float(jx["p_inf"]))
    optimizer = plrf_optimizer(plrf, spec["alpha"], spec["d"], opt, spec["hp"])
    t0 = time.perf_counter()
    curve = plrf.exact_risk(spectrum, optimizer, T, batch, record=record, method=plrf.engines.get(method, compress=False))
    return curve, time.perf_counter() - t0


def at_steps(jx, steps):
    """Their curve at integer steps: log P linear in log(1 + t) between grid points (dt = 0.01)."""
    return np.exp(np.interp(np.log1p(steps), np.log1p(jx["times"]), np.log(jx["risk"])))


def max_rel(a, b, mask):
    return float(np.max(np.abs(a[mask] / b[mask] - 1.0)))


class TheirHyperparameters:
    """Their hyperparameters as an optimizer for plrf.testing.spec4_risk: coefficients at step t."""

    def __init__(self, h):
        self.h = h

    def coefficients(self, t):
        h = self.h
        return {"gamma1": h["g1"], "gamma2": h["g2"], "gamma3": h["g3"] * (1.0 + t) ** -h["g3_exp"],
                "delta": h["delta"] * (1.0 + t) ** -h["delta_exp"]}


def spec4_numpy(jx, batch, record):
    """The NumPy oracle of the moment recursion (plrf.testing), an independent reference for exact."""
    from types import SimpleNamespace

    from plrf.testing import spec4_risk

    spec = SimpleNamespace(eigenvalues=jx["eigenvalues"], rho=jx["rho"], p_inf=float(jx["p_inf"]))
    hp = TheirHyperparameters(json.loads(str(jx["spec"]))["hp"])
    return spec4_risk(spec, hp, int(record[-1]), batch, record=record)


def numpy_reference(cache, name, jx, batch, record):
    path = Path(cache) / f"spec4_numpy_{name}.npz"
    if path.exists() and np.array_equal(np.load(path)["steps"], record):
        z = np.load(path)
        return z["risk"], float(z["seconds"])
    t0 = time.perf_counter()
    risk = spec4_numpy(jx, batch, record)
    sec = time.perf_counter() - t0
    np.savez(path, steps=record, risk=risk, seconds=sec)
    return risk, sec


def accuracy_rows(plrf, cache, quick, use_numpy):
    """Max relative errors against the reference: plrf method="exact" (else the NumPy docs/theory.md §4)."""
    d, T = 1000, 10**6
    rows = []
    for alpha, beta, opt, batch in ACCURACY[:2] if quick else ACCURACY:
        jx = jax_case(cache, d, T, alpha, beta, opt, batch)
        jx64 = jax_case(cache, d, T, alpha, beta, opt, batch, x64=True, repeats=0)
        record = grid(T, jx)
        row = dict(case=f"a={alpha} b={beta} {opt} B={batch}", jax_s=warm(jx), jax_cold=jx["walls"][0])
        late, later = record >= 100, record >= 10**4
        errs = lambda curve: tuple(max_rel(curve, ref, m) for m in (record >= 0, late, later))
        if use_numpy:
            name = case_name(d, T, alpha, beta, opt, batch)
            np_risk, row["numpy_s"] = numpy_reference(cache, name, jx, batch, record)
        if plrf is not None:
            ex, row["exact_s"] = plrf_run(plrf, jx, opt, batch, T, "exact", record)
            ref = ex.risk
            if use_numpy:
                row["exact_vs_numpy"] = errs(np_risk)
            for method in ("fast", "ode"):
                c, row[method + "_s"] = plrf_run(plrf, jx, opt, batch, T, method, record)
                row[method] = errs(c.risk)
        else:
            ref = np_risk
        row["jax"], row["jax64"] = errs(at_steps(jx, record)), errs(at_steps(jx64, record))
        if plrf is not None:  # same scheme on both sides: checks plrf's port of the ODE
            row["jax64_vs_ode"] = max_rel(at_steps(jx64, record), c.risk, record >= 0)
        rows.append(row)
    return rows


def grid(T, jx):
    """20 integer steps per decade, up to their last grid time (it stops just short of T)."""
    record = np.unique(np.concatenate([[0, 1, 2, 3, 5, 10, 20, 50], np.round(np.geomspace(1, T, 120))]))
    return record[record <= jx["times"][-1]].astype(np.int64)


# plrf's ODE steps onto every record step, so a dense record grid changes its integration grid
# (theirs is exp(k dt) - 1 only): with 20 records per decade the adaptive DANA-constant case drifts
# 1e-3 apart late in the run; 24 records over the run keep both on nearly the same grid.
ADAPTIVE_RECORDS = 24


def sparse_grid(jx, n):
    """n log-spaced integer steps up to their last grid time, and step 0."""
    record = np.unique(np.concatenate([[0], np.round(np.geomspace(1, jx["times"][-1], n))]))
    return record.astype(np.int64)


def timing_rows(plrf, cache):
    rows = []
    for d, T in TIMING:
        jx = jax_case(cache, d, T, 1.0, 0.7, "dana_decaying", 1)
        row = dict(case=f"d={d:.0e} T={T:.0e}", jax_s=warm(jx), jax_cold=jx["walls"][0])
        if plrf is not None:
            record = grid(T, jx)
            fast, row["fast_s"] = plrf_run(plrf, jx, "dana_decaying", 1, T, "fast", record)
            ode_c, row["ode_s"] = plrf_run(plrf, jx, "dana_decaying", 1, T, "ode", record)
            late = record >= 100
            row["jax_vs_fast"] = max_rel(at_steps(jx, record), fast.risk, late)
            row["ode_vs_fast"] = max_rel(ode_c.risk, fast.risk, late)
        rows.append(row)
    return rows


def median_wall(fn, repeats=3):
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
    return out, float(np.median(walls))


def large_rows(plrf, cache):
    """d = 1e6 to T = 1e6: their float32 ODE (cold, warm) against plrf fast and ode on the nodes of
    spectrum.compress() (default rtol 1e-4); errors against plrf exact on the same nodes."""
    rows = []
    for d, T, opt in LARGE:
        jx = jax_case(cache, d, T, 1.0, 0.7, opt, 1, repeats=LARGE_REPEATS)
        row = dict(case=f"{opt} d={d:.0e} T={T:.0e}", jax_s=warm(jx), jax_cold=jx["walls"][0])
        spec = json.loads(str(jx["spec"]))
        full = plrf.Spectrum(jx["eigenvalues"], jx["rho"], float(jx["p_inf"]))
        nodes, row["compress_s"] = median_wall(full.compress)
        row["nodes"] = nodes.n_nodes
        optimizer = plrf_optimizer(plrf, spec["alpha"], d, opt, spec["hp"])
        record = grid(T, jx)
        run = lambda method: plrf.exact_risk(nodes, optimizer, T, 1, record=record, method=method)
        ref, row["exact_s"] = median_wall(lambda: run("exact"), 1)
        late = record >= 100
        for method in ("fast", "ode"):
            c, row[method + "_s"] = median_wall(lambda: run(method))
            row[method] = (max_rel(c.risk, ref.risk, record >= 0), max_rel(c.risk, ref.risk, late))
            row[method + "_est"] = c.error_estimate
        theirs = at_steps(jx, record)
        row["jax"] = (max_rel(theirs, ref.risk, record >= 0), max_rel(theirs, ref.risk, late))
        rows.append(row)
    return rows


def print_large(rows):
    print("\nd = 1e6, T = 1e6, alpha = 1, beta = 0.7, B = 1, dt = 0.01: their float32 ODE (cold / warm) against "
          "plrf on spectrum.compress() nodes; max relative error vs plrf exact on the nodes (all / t >= 100)")
    print("| case | nodes | JAX ODE s | plrf fast s | plrf ode s | JAX/fast | JAX/ode | JAX err | fast err (est) | ode err (est) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['nodes']} | {r['jax_cold']:.1f} / {r['jax_s']:.1f} | {r['fast_s']:.3f} | "
              f"{r['ode_s']:.3f} | {r['jax_s'] / r['fast_s']:.0f}x | {r['jax_s'] / r['ode_s']:.0f}x | "
              f"{_cell(r, 'jax', '{:.1e}')} | {_cell(r, 'fast', '{:.1e}')} ({r['fast_est']:.1e}) | "
              f"{_cell(r, 'ode', '{:.1e}')} ({r['ode_est']:.1e}) |")
    if rows:
        print(f"(compress() of the d = 1e6 spectrum: {rows[0]['compress_s']:.3f} s, once per spectrum; "
              f"plrf exact on the nodes: {rows[0]['exact_s']:.2f} s)")


def adaptive_rows(plrf, cache):
    """Their risk-normalised ODE (adaptive="adam" | "rmsprop_dana", float64) against plrf's ODE with
    the matching controller (issue 12): acceptance is agreement within 1e-3 at every recorded step."""
    rows = []
    for d, T, alpha, beta, opt, batch, mode in ADAPTIVE:
        jx = jax_case(cache, d, T, alpha, beta, opt, batch, x64=True, repeats=0, adaptive=mode)
        record = sparse_grid(jx, ADAPTIVE_RECORDS)
        theirs = at_steps(jx, record)
        row = dict(case=f"{mode} a={alpha} b={beta} {opt} B={batch} d={d} T={T:.0e}", jax_s=jx["walls"][0],
                   p_end=float(theirs[-1]), finite=bool(np.all(np.isfinite(jx["risk"]))))
        if plrf is not None and hasattr(plrf, "controllers"):
            spec = json.loads(str(jx["spec"]))
            spectrum = plrf.Spectrum(jx["eigenvalues"], jx["rho"], float(jx["p_inf"]))
            optimizer = plrf_optimizer(plrf, alpha, d, opt, spec["hp"])
            controller = plrf.controllers.get({"adam": "risk_norm"}.get(mode, mode))  # their "adam" is our risk_norm
            c = plrf.exact_risk(spectrum, plrf.chain(optimizer, controller), T, batch, record=record, method=plrf.engines.ode(dt=DT))
            row["plrf_vs_jax64"] = max_rel(c.risk, theirs, record >= 0)
        rows.append(row)
    return rows


def print_adaptive(rows, plrf):
    print("\nTheir adaptive ODE modes (float64, dt = 0.01) against plrf exact_risk(method='ode', controller=...)")
    if plrf is None or not hasattr(plrf, "controllers"):
        print("n/a: plrf has no controllers yet (their side only)")
    print("| case | JAX f64 s | P(last t) | finite | plrf ode vs JAX f64 (accept < 1e-3) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['jax_s']:.2f} | {r['p_end']:.4e} | {r['finite']} | {_cell(r, 'plrf_vs_jax64', '{:.1e}')} |")


def _cell(row, key, fmt):
    v = row.get(key)
    if v is None:
        return "n/a"
    return " / ".join(fmt.format(x) for x in v) if isinstance(v, tuple) else fmt.format(v)


def print_tables(acc, tim, reference):
    print(f"Accuracy at d=1000, T=1e6, dt={DT}: max relative error vs {reference} over the recorded "
          "steps (all / t >= 100 / t >= 1e4). Wall seconds; JAX = cold call / median of 3 warm calls.")
    cols = [("JAX f32 err", "jax", "{:.1e}"), ("JAX f64 err", "jax64", "{:.1e}"),
            ("plrf ode err", "ode", "{:.1e}"), ("plrf fast err", "fast", "{:.1e}"),
            ("JAX f64 vs plrf ode", "jax64_vs_ode", "{:.1e}"), ("exact vs NumPy", "exact_vs_numpy", "{:.1e}"),
            ("JAX s", "jax_cold", "{:.2f}"),
            ("", "jax_s", "{:.2f}"), ("exact s", "exact_s", "{:.2f}"), ("ode s", "ode_s", "{:.3f}"),
            ("fast s", "fast_s", "{:.3f}"), ("NumPy s", "numpy_s", "{:.1f}")]
    print("| case | " + " | ".join(c[0] for c in cols if c[0]) + " | JAX/fast |")
    print("|---" * (len(cols) + 1) + "|")
    for r in acc:
        cells = [_cell(r, k, f) for _, k, f in cols]
        cells[6:8] = [cells[6] + " / " + cells[7]]
        ratio = f"{r['jax_s'] / r['fast_s']:.2g}x" if "fast_s" in r else "n/a"
        print(f"| {r['case']} | " + " | ".join(cells) + f" | {ratio} |")
    print("\nLong horizons, DANA-decaying a=1 b=0.7 B=1, dt=0.01 (wall seconds; JAX = cold / warm median; "
          "errors vs plrf fast, steps >= 100)")
    print("| case | JAX ODE s | plrf fast s | plrf ode s | JAX/fast | JAX vs fast | ode vs fast |")
    print("|---|---|---|---|---|---|---|")
    for r in tim:
        ratio = f"{r['jax_s'] / r['fast_s']:.2g}x" if "fast_s" in r else "n/a"
        print(f"| {r['case']} | {r['jax_cold']:.2f} / {r['jax_s']:.2f} | {_cell(r, 'fast_s', '{:.3f}')} | "
              f"{_cell(r, 'ode_s', '{:.3f}')} | {ratio} | {_cell(r, 'jax_vs_fast', '{:.1e}')} | "
              f"{_cell(r, 'ode_vs_fast', '{:.1e}')} |")


def print_jax_only(cache, quick):
    """Their side alone (wall seconds: every call, and the final P) for all cases."""
    cases = [(1000, 10**6, a, b, o, B, x) for a, b, o, B in ACCURACY for x in (False, True)]
    cases += [] if quick else [(d, T, 1.0, 0.7, "dana_decaying", 1, False) for d, T in TIMING[:1]]
    print("| case | calls s (cold first) | warm median s | grid points | P(0) | P(last t) | last t |")
    print("|---|---|---|---|---|---|---|")
    for d, T, a, b, o, B, x in cases:
        jx = jax_case(cache, d, T, a, b, o, B, x, repeats=0 if x else REPEATS)
        walls = ", ".join(f"{w:.2f}" for w in jx["walls"])
        print(f"| {case_name(d, T, a, b, o, B, x)} | {walls} | {warm(jx):.2f} | "
              f"{jx['times'].size} | {jx['risk'][0]:.4e} | {jx['risk'][-1]:.4e} | {jx['times'][-1]:.4g} |")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jax-worker", nargs=2, metavar=("SPEC_JSON", "OUT_NPZ"), help=argparse.SUPPRESS)
    ap.add_argument("--cache", default="bench_jax_cache", help="directory for the JAX .npz results")
    ap.add_argument("--quick", action="store_true", help="two accuracy cases, no long-horizon rows")
    ap.add_argument("--numpy", action="store_true", help="also check exact against NumPy docs/theory.md §4 (slow)")
    ap.add_argument("--fresh", action="store_true", help="rerun the JAX side even if cached")
    ap.add_argument("--jax-only", action="store_true", help="only run (and cache) the JAX side")
    ap.add_argument("--part", choices=("all", "small", "large", "adaptive"), default="all",
                    help="small: d = 1000 accuracy and long horizons; large: d = 1e6 against compressed "
                         "spectra; adaptive: their adaptive= modes against plrf controllers")
    args = ap.parse_args()
    if args.jax_worker:
        return jax_worker(*args.jax_worker)
    if not os.environ.get("PLRF_JAX_REF"):
        print("compare_jax_ode: skipped, set PLRF_JAX_REF to a checkout of "
              "LosVolterrosHermanos/Experimental (and PLRF_JAX_PYTHON to a python with jax)")
        return 0
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    global FRESH
    FRESH = args.fresh
    if args.jax_only:
        return print_jax_only(args.cache, args.quick)
    import plrf

    if not hasattr(plrf, "exact_risk"):
        print("compare_jax_ode: this plrf has no exact_risk yet; plrf columns are n/a and the "
              "reference is the NumPy docs/theory.md §4 recursion")
        plrf = None
    else:
        from plrf.cli.bench import machine_line

        print(machine_line())
    use_numpy = args.numpy or plrf is None
    if args.part in ("all", "small"):
        acc = accuracy_rows(plrf, args.cache, args.quick, use_numpy)
        tim = [] if args.quick else timing_rows(plrf, args.cache)
        print_tables(acc, tim, "plrf method='exact'" if plrf is not None else "NumPy docs/theory.md §4 (float64)")
    if args.part in ("all", "large") and plrf is not None and not args.quick:
        print_large(large_rows(plrf, args.cache))
    if args.part in ("all", "adaptive"):
        print_adaptive(adaptive_rows(plrf, args.cache), plrf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
