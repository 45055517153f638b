"""`python -m plrf demo --optimizers`: SGD, DANA, signSGD and Adam side by side on one PLRF problem.

All four run on the parameter-basis engine (simulate(..., space="param"), docs/coordinatewise.md), the
one that runs coordinate-wise rules, on the same seeds and problem. SGD and DANA-decaying use the
authors' recipe (plrf.defaults); signSGD's and Adam's constant learning rates are tuned on a grid by the
final risk of separate seeds (so the reported seeds are not the ones the choice was made on). Beside the
Monte Carlo: the exact expected risk of SGD and DANA, and signSGD's deterministic equivalent at batch 1
(approximate, docs/coordinatewise.md); Adam has none. The fitted exponent is of the Monte Carlo mean.
"""
from __future__ import annotations

import time

import numpy as np

MAX_D, MAX_STEPS = 256, 5000  # the engine costs O(seeds d^2) a step: keep the demo to seconds
LR_GRID = np.geomspace(1e-4, 3e-2, 6)
TUNING_SEEDS = [10_000, 10_001]


def run_optimizers(args, out) -> None:
    from .. import fit, plot
    from ..coordinatewise import adam, sign_sgd
    from ..exact import exact_risk
    from ..optim import defaults
    from ..problem import PLRF
    from ..sign_de import sign_sgd_de
    from ..simulation import simulate

    d, steps, batch = min(args.d, MAX_D), min(args.steps, MAX_STEPS), args.batch
    problem = PLRF(args.alpha, args.beta, d, seed=args.seed)
    spec = problem.spectrum(keep_vectors=True)
    record = np.unique(np.geomspace(1, steps, 40).astype(np.int64))
    # one thread: at d <= 256 starting threads at every step costs more than it saves (same bits either way)
    run = dict(batch=batch, record=record, space="param", progress=False, threads=1)
    base = defaults(spec, batch)
    opts = {"sgd": base["sgd"], "dana_decaying": base["dana_decaying"]}
    for name, make in (("sign_sgd", sign_sgd), ("adam", adam)):
        final = [simulate(problem, make(lr), steps, seeds=TUNING_SEEDS, **run).mean[-1] for lr in LR_GRID]
        opts[name] = make(float(LR_GRID[int(np.nanargmin(final))]))
    print(f"{problem}, B = {batch}, {steps} steps, {args.seeds} seeds, space='param'; P(0) = {spec.risk0:.4g}, "
          f"P_inf = {spec.p_inf:.4g}")
    print(f"{'optimizer':14s} {'lr':>9s} {'P(T) Monte Carlo':>22s} {'P(T) expected':>15s} {'MC exponent':>12s}"
          "  seconds")
    mc, ref = {}, []
    for name, opt in opts.items():
        t0 = time.perf_counter()
        mc[name] = simulate(problem, opt, steps, seeds=args.seeds, **run)
        expected, label = _expected(name, opt, spec, steps, batch, record, exact_risk, sign_sgd_de)
        if expected is not None:
            ref.append(expected)
        f = fit.power_law(mc[name].steps[1:], mc[name].mean[1:], p_inf=spec.p_inf)
        exponent = f"{f.exponent:.2f}" + ("" if f.reliable else "?")
        lr = opt.get("coordinatewise").lr(0) if name in ("sign_sgd", "adam") else opt.gamma2(0)
        print(f"{name:14s} {lr:9.3g} {mc[name].mean[-1]:12.4e} ± {mc[name].sem[-1]:.1e} {label:>15s} {exponent:>12s}"
              f"  {time.perf_counter() - t0:.1f}")
    print("(? : the fit is not reliable, e.g. too short a power-law window; lr of SGD and DANA: gamma2(0))")
    if out is not None:
        path = out.with_name(out.stem + "-optimizers" + out.suffix)
        plot.curves(mc, exact=ref, path=str(path), title=f"PLRF alpha = {args.alpha:g}, beta = {args.beta:g}, "
                    f"d = {d}, B = {batch}: {args.seeds} seeds, space='param'")
        print(f"wrote {path}")


def _expected(name, opt, spec, steps, batch, record, exact_risk, sign_sgd_de):
    """(the expected-risk curve or None, its final value as text): exact for SGD and DANA, the signSGD
    deterministic equivalent at batch 1 (approximate), none for Adam."""
    if name in ("sgd", "dana_decaying"):
        c = exact_risk(spec, opt, steps, batch=batch, record=record)
        return c, f"{c.risk[-1]:.4e}"
    if name == "sign_sgd" and batch == 1:
        c = sign_sgd_de(spec, opt.get("coordinatewise").lr(0), steps, record=record)
        return c, f"{c.risk[-1]:.4e} DE"
    return None, "-"
