"""`python -m plrf demo`: SGD, SGD-M and DANA-decaying on a default PLRF problem.

Monte Carlo (plrf.simulate, several seeds) at d = 1000 is drawn as bands over the exact expected
risk (plrf.exact_risk), and the figure is written to plrf-demo.png. The F_pp exponents are fitted
where the power law has room: on exact curves at a large d (1e8 by default, a compressed theory
spectrum, plrf.Spectrum.theory), whose fit window spans many decades, and printed beside theory.
"""
from __future__ import annotations

import time

OPTIMIZERS = ("sgd", "sgd_momentum", "dana_decaying")


def add_parser(sub):
    p = sub.add_parser("demo", help="compare SGD, SGD-M and DANA-decaying: exponents table and plrf-demo.png")
    p.add_argument("--d", type=int, default=1000, help="model dimension (default 1000; v = 4 d)")
    p.add_argument("--alpha", type=float, default=1.0, help="data power-law exponent (default 1.0)")
    p.add_argument("--beta", type=float, default=0.5, help="target power-law exponent (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="seed of W (default 0)")
    p.add_argument("--steps", type=int, default=30_000, help="Monte Carlo steps (default 30000)")
    p.add_argument("--exact-steps", type=int, default=1_000_000, help="horizon of the exact curves (default 1e6)")
    p.add_argument("--fit-d", type=float, default=1e8,
                   help="model dimension of the exact curves the exponents are fitted on (default 1e8)")
    p.add_argument("--fit-steps", type=float, default=1e10, help="horizon of those curves (default 1e10)")
    p.add_argument("--batch", type=int, default=1, help="batch size B (default 1)")
    p.add_argument("--seeds", type=int, default=8, help="Monte Carlo seeds (default 8)")
    p.add_argument("--controller", default=None,
                   help="a step-size controller by name (adagrad_norm, polyak, line_search, adam, rmsprop_dana, "
                        "ema_norm; docs/adaptive.md) applied to every optimizer, with its default parameters; "
                        "the exact curves are then its deterministic equivalent (methods exact and ode)")
    p.add_argument("--out", default="plrf-demo.png", help="figure path (default plrf-demo.png); '' for none")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import fit, theory
    from ..exact import exact_risk
    from ..optim import defaults
    from ..problem import PLRF
    from ..simulation import simulate
    from ..spectrum import Spectrum
    from .._paths import figure_path

    if args.out:  # before the work: never a special file (a regular one is replaced)
        figure_path("--out", args.out)
    t0 = time.perf_counter()
    problem = PLRF(args.alpha, args.beta, args.d, seed=args.seed)
    spec = problem.spectrum()
    print(f"{problem}: spectral setup {time.perf_counter() - t0:.1f} s; "
          f"P(0) = {spec.risk0:.4g}, P_inf = {spec.p_inf:.4g}, phase {theory.phase(args.alpha, args.beta)}")
    opts = defaults(spec, args.batch)
    big = Spectrum.theory(args.alpha, args.beta, int(args.fit_d))  # compressed above d = 1e5
    big_opts, fit_steps = defaults(big, args.batch), int(args.fit_steps)
    mc, exact, rows = {}, {}, []
    ctrl = {"controller": args.controller} if args.controller else {}
    small, large_method = ("exact", "ode") if ctrl else ("fast", "fast")  # fast cannot run a controller
    for name in OPTIMIZERS:
        t0 = time.perf_counter()
        mc[name] = simulate(spec, opts[name], args.steps, batch=args.batch, seeds=args.seeds, **ctrl)
        exact[name] = exact_risk(spec, opts[name], args.exact_steps, batch=args.batch, method=small, **ctrl)
        large = exact_risk(big, big_opts[name], fit_steps, batch=args.batch, method=large_method, **ctrl)
        f = fit.power_law(large.steps[1:], large.risk[1:], p_inf=big.p_inf)
        theory_fpp = float("nan") if ctrl else _theory_fpp(args.alpha, args.beta, name)
        rows.append((name, f, theory_fpp, mc[name], exact[name], time.perf_counter() - t0))
    _print_table(rows, args)
    if args.out:
        from .. import plot

        plot.curves(mc, exact=[exact[n] for n in OPTIMIZERS], path=args.out,
                    title=f"PLRF alpha={args.alpha}, beta={args.beta}, d={args.d}, B={args.batch}: "
                          f"{args.seeds} seeds over exact risk")
        print(f"wrote {args.out}")
    return 0


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
