"""SGD vs its SDEs vs SVAG at a large learning rate (docs/families.md §4): docs/families_sde.png.

Left: expected risk of plain SGD at a large constant step (docs/theory.md §4, exact), of its three
continuous-time models (exact_risk(method="continuous"), model = "continuized", "ito", "hsgd"), of SVAG
with l = 4 and 16 (plrf.svag: l steps of size lr/l per unit of SGD time, exact_risk), and the Monte
Carlo means (+- 2 SE) of simulate() with
dynamics "sgd" and "ito" (8 substeps). Right: where SGD departs from its SDE, the ratio
P_model(T) / P_SGD(T) against lr / lr_max (lr_max = plrf.max_stable_lr).

    python bench/families_sde_figure.py [--d 200] [--steps 2000] [--seeds 200] [--out docs/families_sde.png]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import plrf
from plrf.cli.bench import machine_line

MODELS = (("continuized", "C1"), ("ito", "C2"), ("hsgd", "C3"))
SVAG_L = ((4, "C4"), (16, "C5"))


def curves(spec, lr, steps, record):
    """Expected risk at `record` of SGD, the three models and SVAG (SGD time)."""
    out = {"SGD": plrf.exact_risk(spec, plrf.sgd(lr), steps, record=record).risk}
    for m, _ in MODELS:
        out[m] = plrf.exact_risk(spec, plrf.chain(plrf.sgd(lr), plrf.gradient_model(m)), steps, record=record, method="continuous").risk
    for l, _ in SVAG_L:
        out[f"SVAG l={l}"] = plrf.exact_risk(spec, plrf.svag(plrf.sgd(lr), l), l * steps, record=l * record).risk
    return out


def mc_band(spec, lr, steps, record, seeds, dynamics):
    model = plrf.gradient_model(dynamics, substeps=8 if dynamics != "sgd" else None)
    with plrf.errstate(divergence="ignore"):
        c = plrf.simulate(spec, plrf.chain(plrf.sgd(lr), model), steps, seeds=seeds, record=record)
    r = c.risk
    return r.mean(0), 2 * r.std(0, ddof=1) / np.sqrt(r.shape[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=200)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--frac", type=float, default=0.8, help="lr / lr_max of the left panel")
    ap.add_argument("--out", default="docs/families_sde.png")
    a = ap.parse_args(argv)
    print(machine_line())
    t0 = time.perf_counter()
    spec = plrf.Spectrum.theory(1.0, 0.7, a.d)
    lr_max = plrf.max_stable_lr(spec, 1)
    lr = a.frac * lr_max
    record = plrf.record_grid(a.steps)
    left = curves(spec, lr, a.steps, record)
    bands = {dyn: mc_band(spec, lr, a.steps, record, a.seeds, dyn) for dyn in ("sgd", "ito")}

    fracs = np.linspace(0.05, 0.95, 19)
    T = a.steps // 4
    ratios = {k: [] for k in left if k != "SGD"}
    for f in fracs:
        c = curves(spec, f * lr_max, T, np.array([0, T]))
        for k in ratios:
            ratios[k].append(c[k][-1] / c["SGD"][-1])
    print(f"d={a.d}, lr_max={lr_max:.4g}, lr={lr:.4g} (B = 1); P(T={a.steps}):",
          {k: float(f"{v[-1]:.4g}") for k, v in left.items()})
    print(f"P_model/P_SGD at T={T}, lr/lr_max = {fracs[-1]:.2f}:", {k: round(v[-1], 4) for k, v in ratios.items()})
    plot(a, spec, lr, lr_max, record, left, bands, fracs, T, ratios)
    print(f"wrote {a.out} in {time.perf_counter() - t0:.1f} s")


def plot(a, spec, lr, lr_max, record, left, bands, fracs, T, ratios):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    color = {"SGD": "k", **dict(MODELS), **{f"SVAG l={l}": c for l, c in SVAG_L}}
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.6))
    t = np.maximum(record, 1)
    for k, v in left.items():
        ax.loglog(t, v, color=color[k], lw=2 if k == "SGD" else 1.2, ls="--" if k.startswith("SVAG") else "-",
                  label=k if k == "SGD" or k.startswith("SVAG") else f"{k} (continuous)")
    for dyn, mk in (("sgd", "o"), ("ito", "s")):
        m, e = bands[dyn]
        ax.errorbar(t[1::3], m[1::3], yerr=e[1::3], fmt=mk, ms=3, color="k" if dyn == "sgd" else "C2", lw=0.8,
                    label=f"simulate(dynamics={dyn!r}) ±2 SE")
    ax.set_xlabel("step t (SGD time)")
    ax.set_ylabel("expected risk P")
    ax.set_title(f"PLRF theory α=1, β=0.7, d={a.d}, B=1, lr = {lr / lr_max:.2f} lr_max")
    ax.legend(fontsize=7)
    for k, v in ratios.items():
        bx.plot(fracs, v, color=color[k], ls="--" if k.startswith("SVAG") else "-", label=k)
    bx.axhline(1.0, color="k", lw=0.8)
    bx.set_xlabel("lr / lr_max")
    bx.set_ylabel(f"P_model(T) / P_SGD(T), T = {T}")
    bx.set_title("where SGD departs from its SDE")
    bx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)


if __name__ == "__main__":
    main()
