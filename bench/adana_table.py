"""ADana as a chain (plrf.adana): its deterministic equivalent against the Monte Carlo.

For (alpha, beta) in {(1.0, 0.7), (0.7, 0.3)}, d in {200, 1000}, B in {1, 16}: relative error DE / MC - 1
of E[P] at t = 10, 1e2, 1e3, 1e4 (+- one standard error of the MC mean, in the same units), where the DE
is plrf.exact_risk(spec, plrf.adana(lr, wd_ts=T/10), T) and the MC plrf.simulate(..., seeds=S) on the
eigen path (fast sampler, exact in law). docs/families.md §6 prints this table.

    python bench/adana_table.py [--seeds 400] [--steps 10000] [--lr 0.01] [--json out.json]
"""
from __future__ import annotations

import argparse
import json

import numpy as np

import plrf
from plrf.cli.bench import machine_line

CASES = [(1.0, 0.7, 200), (1.0, 0.7, 1000), (0.7, 0.3, 200), (0.7, 0.3, 1000)]
BATCHES = (1, 16)
TIMES = (10, 100, 1000, 10000)


def measure(alpha, beta, d, batch, lr, steps, seeds) -> dict:
    """DE/MC - 1 and its standard error at each time of TIMES up to `steps`."""
    spec = plrf.PLRF(alpha, beta, d).spectrum()
    opt = plrf.adana(lr, wd_ts=steps / 10)
    de = plrf.exact_risk(spec, opt, steps, batch=batch, progress=False)
    mc = plrf.simulate(spec, opt, steps, batch=batch, seeds=seeds, record=de.steps, progress=False)
    rel = de.risk / mc.mean - 1.0
    se = de.risk * (np.std(mc.risk, axis=0, ddof=1) / np.sqrt(seeds)) / mc.mean**2
    rows = {int(t): (float(rel[k]), float(se[k])) for k, t in enumerate(de.steps) if t in TIMES}
    late = de.steps >= 10
    return {"alpha": alpha, "beta": beta, "d": d, "batch": batch, "rows": rows,
            "max_abs": float(np.max(np.abs(rel[late]))), "label": de.meta["capability"]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=400)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    print(machine_line())
    print(f"plrf.adana({args.lr}, wd_ts={args.steps / 10:g}), {args.seeds} seeds, T = {args.steps}")
    head = " | ".join(f"t = {t:g}" for t in TIMES if t <= args.steps)
    print(f"| (α, β), d | B | {head} | max over t ≥ 10 |")
    print("|---|---|" + "---|" * (head.count("|") + 2))
    out = []
    for alpha, beta, d in CASES:
        for batch in BATCHES:
            r = measure(alpha, beta, d, batch, args.lr, args.steps, args.seeds)
            cells = " | ".join(f"{v:+.1%} ± {s:.1%}" for v, s in r["rows"].values())
            print(f"| ({alpha}, {beta}), {d} | {batch} | {cells} | {r['max_abs']:.1%} |", flush=True)
            out.append(r)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
