"""`python -m plrf demo`: SGD, SGD-M and DANA-decaying on a default PLRF problem.

The F_pp exponents are fitted where the power law has room: on exact curves at a large d (1e8 by
default, a compressed theory spectrum, plrf.Spectrum.theory), whose fit window spans many decades,
and printed beside theory. The figure (plrf-demo.png) has two panels: Monte Carlo (plrf.simulate,
several seeds) at d = 1000 as bands over the exact expected risk (plrf.exact_risk); and the d = 1e8
curves the table is fitted on, with the fitted slopes over their windows, the theory slopes and the
limit level P_inf. The default (alpha, beta) = (1, 0.3) lies inside phase Ia (docs/theory.md §8).
"""
from __future__ import annotations

import time

from ._out import out_help, out_path

OPTIMIZERS = ("sgd", "sgd_momentum", "dana_decaying")


def add_parser(sub):
    p = sub.add_parser("demo", help="compare SGD, SGD-M and DANA-decaying: exponents table and plrf-demo.png")
    p.add_argument("--d", type=int, default=1000, help="model dimension (default 1000; v = 4 d)")
    p.add_argument("--alpha", type=float, default=1.0, help="data power-law exponent (default 1.0)")
    p.add_argument("--beta", type=float, default=0.3, help="target power-law exponent (default 0.3: phase Ia)")
    p.add_argument("--seed", type=int, default=0, help="seed of W (default 0)")
    p.add_argument("--steps", type=int, default=30_000, help="Monte Carlo steps (default 30000)")
    p.add_argument("--exact-steps", type=int, default=1_000_000, help="horizon of the exact curves (default 1e6)")
    p.add_argument("--fit-d", type=float, default=1e8,
                   help="model dimension of the exact curves the exponents are fitted on (default 1e8)")
    p.add_argument("--fit-steps", type=float, default=1e10, help="horizon of those curves (default 1e10)")
    p.add_argument("--batch", type=int, default=1, help="batch size B (default 1)")
    p.add_argument("--seeds", type=int, default=8, help="Monte Carlo seeds (default 8)")
    p.add_argument("--controller", default=None,
                   help="a step-size controller by name (adagrad_norm, polyak, line_search, risk_norm, rmsprop_dana, "
                        "ema_norm; docs/adaptive.md) applied to every optimizer, with its default parameters; "
                        "the exact curves are then its deterministic equivalent (methods exact and ode)")
    p.add_argument("--out", default="plrf-demo.png", help=out_help("plrf-demo.png"))
    p.add_argument("--muon", action="store_true", help="instead: Muon, SignSVD, SignSGD and SGD on a matrix-valued "
                   "PLRF (d = 64, m = 128; docs/muon.md) -> table and <out>-muon.png")
    p.add_argument("--optimizers", action="store_true", help="instead: SGD, DANA, signSGD and Adam side by side "
                   "on the parameter-basis engine (d <= 256; docs/coordinatewise.md) -> table and <out>-optimizers.png")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import controllers, fit, theory
    from ..transforms import chain
    from ..exact import exact_risk
    from ..optim import defaults
    from ..problem import PLRF
    from ..simulation import simulate
    from ..spectrum import Spectrum

    out = out_path(args.out)
    if args.muon:
        from .muon_demo import run_muon
        return run_muon(args, out) or 0
    if args.optimizers:
        from .optimizers_demo import run_optimizers
        return run_optimizers(args, out) or 0
    t0 = time.perf_counter()
    problem = PLRF(args.alpha, args.beta, args.d, seed=args.seed)
    spec = problem.spectrum()
    print(f"{problem}: spectral setup {time.perf_counter() - t0:.1f} s; "
          f"P(0) = {spec.risk0:.4g}, P_inf = {spec.p_inf:.4g}, phase {theory.phase(args.alpha, args.beta)}")
    opts = defaults(spec, args.batch)
    big = Spectrum.theory(args.alpha, args.beta, int(args.fit_d))  # compressed above d = 1e5
    big_opts, fit_steps = defaults(big, args.batch), int(args.fit_steps)
    mc, exact, large, rows = {}, {}, {}, []
    ctrl = controllers.check(args.controller)  # a name, or None
    small, large_method = ("exact", "ode") if ctrl else ("fast", "fast")  # fast cannot run a controller
    for name in OPTIMIZERS:
        t0 = time.perf_counter()
        mc[name] = simulate(spec, chain(opts[name], ctrl), args.steps, batch=args.batch, seeds=args.seeds)
        exact[name] = exact_risk(spec, chain(opts[name], ctrl), args.exact_steps, batch=args.batch, method=small)
        large[name] = exact_risk(big, chain(big_opts[name], ctrl), fit_steps, batch=args.batch, method=large_method)
        f = fit.power_law(large[name].steps[1:], large[name].risk[1:], p_inf=big.p_inf)
        theory_fpp = float("nan") if ctrl else _theory_fpp(args.alpha, args.beta, name)
        rows.append((name, f, theory_fpp, mc[name], exact[name], time.perf_counter() - t0))
    _print_table(rows, args)
    if out is not None:
        _figure(mc, exact, large, rows, big.p_inf, args, out)
        print(f"wrote {out}")
    return 0


def _figure(mc, exact, large, rows, p_inf, args, out):
    """Left: Monte Carlo bands over the exact risk at d. Right: the fitted large-d curves, each with
    its fitted slope on its window (solid, thick), the theory slope through the window's middle
    (dotted) and the limit level P_inf (dashed grey)."""
    import numpy as np

    from .. import plot, theory

    plt = plot._pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    plot.curves(mc, exact=[exact[n] for n in OPTIMIZERS], ax=left,
                title=f"d = {args.d}: {args.seeds} seeds over the expected risk")
    for i, (name, f, th, *_rest) in enumerate(rows):
        c, color = large[name], f"C{i}"
        t, r = plot._positive(c.steps, c.risk)
        right.plot(t, r, color=color, lw=1.2, label=f"{name}")
        w = np.geomspace(*f.window, 50)
        right.plot(w, p_inf + f.predict(w), color=color, lw=4, alpha=0.35,
                   label=f"fit t^-{f.exponent:.3f} on [{f.window[0]:.2g}, {f.window[1]:.2g}]")
        if np.isfinite(th):
            mid = np.sqrt(f.window[0] * f.window[1])
            right.plot(w, p_inf + f.predict(mid) * (w / mid) ** -th, ":", color="k", lw=1.2,
                       label="theory slopes" if i == 0 else None)
    right.axhline(p_inf, color="0.5", ls="--", lw=1, label=f"P_inf = {p_inf:.3g}")
    right.set(xscale="log", yscale="log", xlabel="steps t", ylabel="risk P (half the MSE)",
              title=f"d = {args.fit_d:.0e}: the curves the exponents are fitted on")
    right.grid(True, which="major", alpha=0.3)
    right.legend(fontsize=7)
    fig.suptitle(f"PLRF alpha = {args.alpha:g}, beta = {args.beta:g} (phase {theory.phase(args.alpha, args.beta)}), "
                 f"B = {args.batch}")
    plot._finish(fig, out)


def _theory_fpp(alpha, beta, name):
    from .. import theory

    try:
        return theory.fpp_exponent(alpha, beta, name)
    except NotImplementedError:
        return float("nan")


def _print_table(rows, args):
    import numpy as np

    print(f"\nF_pp exponent of P(t) - P_inf, fitted on the exact curve at d = {args.fit_d:.0e} (to t = "
          f"{args.fit_steps:.0e}), beside theory; at d = {args.d}: Monte Carlo risk at t = {args.steps} "
          f"({args.seeds} seeds, mean +- s.e.) and the exact risk")
    print(f"  {'optimizer':<14} {'fitted':>8} {'95% interval':>18} {'theory':>7} {'window (t)':>20}"
          f" {'MC risk':>11} {'+-':>9} {'exact':>11}  time")
    for name, f, th, curves, ex, secs in rows:
        lo, hi = f.interval
        mark = "" if f.reliable else "  (unreliable: " + "; ".join(f.reasons) + ")"
        print(f"  {name:<14} {f.exponent:8.3f} [{lo:7.3f}, {hi:7.3f}] {th:7.3f} "
              f"{f'[{f.window[0]:.0f}, {f.window[1]:.0f}]':>20} {curves.mean[-1]:11.4g} {curves.sem[-1]:9.2g} "
              f"{float(np.interp(args.steps, ex.steps, ex.risk)):11.4g}  {secs:4.1f} s{mark}")
