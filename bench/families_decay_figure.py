"""Weight decay's floor (docs/families.md §2): the figure docs/families_decay.png.

Run: PYTHONPATH=python python bench/families_decay_figure.py [--out docs/families_decay.png]
Constant-step SGD on a theory spectrum (alpha = 1, beta = 0.7, d = 500, P_inf of the theory, lr from
plrf.defaults, B = 1), expected risk by the exact recursion (method="exact") to T = 1e5 (noise: 1e7):
(left) constant decoupled weight decay w, (middle) constant injected noise sigma, (right) ADana's
decaying w_t = omega / (1 + t). Dashed lines: plrf.families_theory.sgd_stationary_risk, the exact
fixed point of the recursion (none for the plain run and ADana's decay, which keep decreasing).
Dots: the mean of 200 simulate runs (eigen path, fast sampler) at one knob value per panel.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import plrf
from plrf.families_theory import sgd_stationary_risk

ALPHA, BETA, D, STEPS, SEEDS = 1.0, 0.7, 500, 10**5, 200
# (title, knob, values, constant?, steps): the noise floor needs the slowest modes, 1 / (lr lambda_d) ~ 1e6 steps
PANELS = [
    ("constant weight decay w", "decay", [0.0, 1e-4, 1e-3, 1e-2], True, STEPS),
    ("injected noise sigma (per coordinate)", "noise", [0.0, 1e-3, 3e-3, 1e-2], True, 100 * STEPS),
    ("ADana decay omega / (1 + t)", "decay", [0.0, 0.3, 1.0, 3.0], False, STEPS),
]


def curves(spec, lr, key, values, constant, steps):
    out = []
    for v in values:
        knob = v if constant else plrf.adana_decay(v)
        opt = plrf.with_decay(plrf.sgd(lr), **{key: knob})
        floor = sgd_stationary_risk(spec, lr, 1, **{key: v}) if constant and v > 0 else None
        out.append((v, plrf.exact_risk(spec, opt, steps), floor, opt))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/families_decay.png")
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = time.perf_counter()
    spec = plrf.Spectrum.theory(ALPHA, BETA, D)
    lr = plrf.defaults(spec)["sgd"].gamma2(0.0)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), sharey=True)
    for ax, (title, key, values, constant, steps) in zip(axes, PANELS):
        for i, (v, curve, floor, opt) in enumerate(curves(spec, lr, key, values, constant, steps)):
            name = key if constant else "omega"
            line, = ax.loglog(curve.steps[1:], curve.risk[1:], label=f"{name} = {v:g}")
            if floor is not None:
                ax.axhline(floor, ls="--", lw=0.8, color=line.get_color())
            if i == 2:  # one Monte Carlo check per panel
                mc = plrf.simulate(spec, opt, 10**4, seeds=SEEDS, record=plrf.record_grid(10**4, 4))
                ax.plot(mc.steps[1:], mc.risk.mean(axis=0)[1:], "o", ms=3, color=line.get_color(),
                        label=f"simulate, {SEEDS} seeds")
        ax.axhline(spec.p_inf, color="k", lw=0.6, ls=":", label="P_inf")
        ax.set_title(title)
        ax.set_xlabel("step t")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("expected risk P(t)")
    fig.suptitle(f"Weight decay's floor: SGD lr = {lr:.3g}, B = 1, alpha = {ALPHA:g}, beta = {BETA:g}, d = {D} "
                 "(dashed: sgd_stationary_risk)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
