"""Where can the deterministic equivalent (DE) of an adaptive step size be trusted? A map over d and alpha.

For each controller of docs/adaptive.md (set up as in bench/adaptive_de_table.py: SGD with gamma2 = 1
for adagrad_norm, polyak, line_search; the DANA-decaying recipe for risk_norm, rmsprop_dana, ema_norm) on
theory spectra (beta = 0.7, no W), batch B: the relative error DE / MC - 1 of E[P] and of the mean
learning rate at t = 10, 1e2, 1e3, 1e4, where the DE is plrf.exact_risk(..., controller=C) (method
"exact") and the MC plrf.simulate(..., controller=C) on the eigen path (fast sampler, exact in law).

A cell is judged on t >= 1e2 (the DE is a statement about the bulk of a run, not its first steps):
its error is the largest |DE/MC - 1| over those records, of E[P] and of the mean lr. Seeds are added
in chunks until the cell is resolved against the threshold (5%): "in" when every |error| + 2 s.e.
is below it, "out" when some |error| - 2 s.e. is above it; or until the cell's work budget
(--work mode-steps x seeds) is spent ("?": unresolved, its s.e. is printed).

    python bench/adaptive_de_map.py [--batch 1] [--work 4e9] [--json map.json] [--plot docs/adaptive_de_map.png]
    python bench/adaptive_de_map.py --replot map.json --plot docs/adaptive_de_map.png
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

import plrf
from plrf.cli.bench import machine_line

from adaptive_de_table import CONTROLLERS, setup  # the same optimizer/controller pairs as the d = 64 table

DS = (64, 256, 1024, 4096)
ALPHAS = (0.3, 0.6, 1.0, 1.5)
BETA = 0.7
TIMES = np.array([0, 10, 100, 1000, 10000])
JUDGED = TIMES >= 100
THRESHOLD = 0.05
FIRST_CHUNK = 100


def errors(de_curve, x):
    """DE/MC - 1 and its standard error (delta method on the MC mean) per record."""
    m = x.mean(axis=0)
    se = x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])
    return de_curve / m - 1, np.abs(de_curve / m) * se / m


def verdict(err, se) -> str:
    """'in', 'out' or '?' against THRESHOLD over the judged records (2 s.e.)."""
    e, s = np.abs(err[JUDGED]), se[JUDGED]
    if np.any(~np.isfinite(e)) or np.any(e - 2 * s > THRESHOLD):
        return "out"
    return "in" if np.all(e + 2 * s < THRESHOLD) else "?"


def summarise(de, risk, lr):
    out = {}
    for which, de_curve, x in (("risk", de.risk, risk), ("lr", de.lr, lr)):
        err, se = errors(de_curve, x)
        out[which] = {"err": err.tolist(), "se": se.tolist(), "verdict": verdict(err, se)}
    return out


def cell_verdict(q) -> str:
    v = {q["risk"]["verdict"], q["lr"]["verdict"]}
    return "out" if "out" in v else ("?" if "?" in v else "in")


def measure(alpha, d, name, batch, work, threads):
    """One cell: the DE once, then Monte Carlo seeds in doubling chunks until resolved or out of budget."""
    spec = plrf.Spectrum.theory(alpha, BETA, d)
    opt, ctrl = setup(name, spec, batch)
    steps = int(TIMES[-1])
    with plrf.errstate(divergence="ignore"):  # a diverged seed is counted, not warned about
        de = plrf.exact_risk(spec, plrf.chain(opt, ctrl), steps, batch=batch, record=TIMES)
    cap = max(FIRST_CHUNK, int(work / (d * steps)))
    risk, lr, n, diverged = np.empty((0, TIMES.size)), np.empty((0, TIMES.size)), 0, 0
    while True:
        chunk = min(max(FIRST_CHUNK, n), cap - n)
        with plrf.errstate(divergence="ignore"):
            mc = plrf.simulate(spec, plrf.chain(opt, ctrl), steps, batch=batch, seeds=list(range(n, n + chunk)),
                               record=TIMES, threads=threads)
        risk, lr = np.vstack([risk, mc.risk[mc.ok]]), np.vstack([lr, mc.lr[mc.ok]])
        n, diverged = n + chunk, diverged + int(np.sum(~mc.ok))
        q = summarise(de, risk, lr)
        if cell_verdict(q) != "?" or n >= cap:
            break
    return {"alpha": alpha, "d": d, "controller": name, "batch": batch, "seeds": n, "diverged_mc": diverged,
            "diverged_de": int(de.diverged_at), **q, "verdict": cell_verdict(q)}


def worst(q):
    """(signed error, its s.e.) at the judged record of largest |error|."""
    err, se = np.array(q["err"])[JUDGED], np.array(q["se"])[JUDGED]
    k = int(np.nanargmax(np.where(np.isfinite(err), np.abs(err), np.inf)))
    return err[k], se[k]


def pct(q) -> str:
    e, s = worst(q)
    return "—" if not np.isfinite(e) else f"{100 * e:+.1f}±{100 * s:.1f}"


MARK = {"in": "", "out": " **out**", "?": " ?"}


def axes_of(rows):
    return sorted({r["d"] for r in rows}), sorted({r["alpha"] for r in rows})


def tables(rows) -> str:
    """One table per controller: rows alpha, columns d, cells 'E[P] error / lr error' (worst over t >= 1e2)."""
    out, (ds, alphas) = [], axes_of(rows)
    for name in CONTROLLERS:
        out.append(f"\n{name}: worst DE/MC − 1 over t ∈ [1e2, 1e4] in %, E[P] / η (± 1 s.e.; seeds)\n")
        out.append("| α (2α) | " + " | ".join(f"d = {d}" for d in ds) + " |")
        out.append("|---|" + "---|" * len(ds))
        for alpha in alphas:
            cells = []
            for d in ds:
                r = next(r for r in rows if (r["alpha"], r["d"], r["controller"]) == (alpha, d, name))
                cells.append(f"{pct(r['risk'])} / {pct(r['lr'])} ({r['seeds']}){MARK[r['verdict']]}")
            out.append(f"| {alpha:g} ({2 * alpha:g}) | " + " | ".join(cells) + " |")
    return "\n".join(out)


def region(rows) -> str:
    """Per controller, the (alpha, d) cells inside (both errors below the threshold at 2 s.e.)."""
    lines = [f"\nvalidity region (|DE/MC − 1| + 2 s.e. < {100 * THRESHOLD:g}% for E[P] and η at every t ∈ [1e2, 1e4]):"]
    for name in CONTROLLERS:
        cells = [f"(α={r['alpha']:g}, d={r['d']})" for r in rows if r["controller"] == name and r["verdict"] == "in"]
        lines.append(f"  {name}: " + (", ".join(cells) if cells else "nowhere on this grid"))
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    ds, alphas = axes_of(rows)
    fig, axes = plt.subplots(2, len(CONTROLLERS), figsize=(3.0 * len(CONTROLLERS), 6.2), sharex=True, sharey=True)
    norm = LogNorm(1e-3, 1.0)
    for j, name in enumerate(CONTROLLERS):
        for i, which in enumerate(("risk", "lr")):
            grid = np.full((len(alphas), len(ds)), np.nan)
            for r in (r for r in rows if r["controller"] == name):
                e, _ = worst(r[which])
                grid[alphas.index(r["alpha"]), ds.index(r["d"])] = abs(e)
            ax = axes[i, j]
            im = ax.imshow(np.maximum(grid, 1e-3), origin="lower", cmap="RdYlGn_r", norm=norm, aspect="auto")
            for a in range(len(alphas)):
                for k in range(len(ds)):
                    r = next(r for r in rows if (r["alpha"], r["d"], r["controller"]) == (alphas[a], ds[k], name))
                    bold = "bold" if r[which]["verdict"] == "out" else "normal"
                    ax.text(k, a, f"{100 * grid[a, k]:.1f}", ha="center", va="center", fontsize=8, weight=bold)
            ax.set_xticks(range(len(ds)), [str(d) for d in ds])
            ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
            ax.set_title(f"{name}: {'E[P]' if which == 'risk' else 'mean η'}", fontsize=9)
            if j == 0:
                ax.set_ylabel("α")
            if i == 1:
                ax.set_xlabel("d")
    fig.colorbar(im, ax=axes, shrink=0.8, label=f"worst |DE/MC − 1| over t ∈ [1e2, 1e4] (bold: above {THRESHOLD:.0%})")
    fig.suptitle(f"Deterministic equivalent vs Monte Carlo, theory spectra, β = {BETA}, B = {rows[0]['batch']}")
    fig.savefig(path, dpi=100, bbox_inches="tight")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--work", type=float, default=4e9, help="per cell: Monte Carlo mode-steps x seeds (seed cap)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ds", type=int, nargs="+", default=DS, help=f"the d grid (default {DS})")
    ap.add_argument("--json")
    ap.add_argument("--plot")
    ap.add_argument("--replot", metavar="JSON", help="print and draw from a --json of an earlier run")
    args = ap.parse_args(argv)
    print(machine_line())
    print(f"DE and Monte Carlo on the {plrf._core.isa()} kernels")
    if args.replot:
        with open(args.replot) as fh:
            rows = json.load(fh)
    else:
        rows, t0 = [], time.time()
        for alpha in ALPHAS:
            for d in args.ds:
                for name in CONTROLLERS:
                    rows.append(measure(alpha, d, name, args.batch, args.work, args.threads))
                    print(f"# α={alpha:g} d={d} {name}: {rows[-1]['seeds']} seeds, {rows[-1]['verdict']}, "
                          f"{time.time() - t0:.0f}s", file=sys.stderr, flush=True)
                    if args.json:  # after every cell, so that a stopped run keeps what it measured
                        with open(args.json, "w") as fh:
                            json.dump(rows, fh)
        print(f"theory spectra, β = {BETA}, B = {args.batch}, work {args.work:.0e} per cell, threshold {100 * THRESHOLD:g}%, "
              f"{time.time() - t0:.0f} s")
    print(tables(rows))
    print(region(rows))
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
