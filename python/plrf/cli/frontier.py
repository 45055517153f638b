"""`python -m plrf frontier`: measure the compute-optimal frontier of one optimizer and compare it
with theory.

For each d on a geometric grid it builds the theory spectrum (plrf.Spectrum.theory, no W, compressed
into log-lambda nodes at rtol 1e-4 so that the cost does not grow with d; d up to 1e9 and beyond), runs
the expected-risk engine (plrf.exact_risk, method="fast") with the authors' default
hyperparameters (plrf.defaults), fits d*(f) ~ f^xi and P*(f) ~ f^-eta on the envelope
(plrf.frontier), prints them next to plrf.theory.compute_optimal and draws the figure --out.
"""
from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

from ..optim import NAMES
from ._out import out_help, out_path

DESCRIPTION = """\
Measure the compute-optimal scaling law of one optimizer on the power-law random features model.

For every model size d on a geometric grid, the exact expected loss curve P(t, d) is computed
(no Monte Carlo) with the authors' default hyperparameters. Flops are counted as
f = steps x B x d. At each budget f the best d is found (the envelope min_d P(f/(B d), d)), and
two power laws are fitted:  d*(f) ~ f^xi  and  P*(f) ~ f^-eta.  They are printed next to the
theory of the 4+3 phases (plrf.theory.compute_optimal) and drawn in the figure --out.

Examples:
  python -m plrf frontier --alpha 0.7 --beta 0.7 --optimizer sgd
  python -m plrf frontier --alpha 1 --beta 0.3 --optimizer dana_decaying --d-max 1e5 --out dana.pdf
Budgets whose best d is the smallest or largest d of the grid are left out of the fits: at the
low and high ends of the flop range this is expected (the optimum has left the grid) and is
stated in one line; widen --d-min/--d-max to fit more of them. An edge optimum between interior
ones is a warning. Each exponent gets a verdict: "agrees" when theory lies inside its 95% interval,
"disagrees" otherwise.
"""


def add_parser(sub):
    p = sub.add_parser(
        "frontier",
        help="compute-optimal frontier d*(f), P*(f) of one optimizer, against theory",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--alpha", type=float, required=True, help="data exponent: x_j ~ N(0, j^-2alpha)")
    p.add_argument("--beta", type=float, required=True, help="target exponent: b_j = j^-beta")
    p.add_argument("--optimizer", choices=NAMES, default="sgd", help="optimizer (default sgd)")
    p.add_argument("--d-min", type=float, default=100, help="smallest model size d (default 100)")
    p.add_argument("--d-max", type=float, default=1e6, help="largest model size d (default 1e6; up to 1e12)")
    p.add_argument("--n-d", type=int, default=17, help="number of d values, geometric (default 17)")
    p.add_argument("--steps", type=float, default=None,
                   help="steps per run (default: long enough for the largest d to reach its limit loss)")
    p.add_argument("--batch", type=int, default=1, help="batch size B (default 1)")
    p.add_argument("--experts", default=None, metavar="M,ZETA",
                   help="a mixture of M experts with p_i ~ i^-ZETA sharing each model size (docs/families.md §1)")
    p.add_argument("--expert-clock", action="store_true", help="with --experts: schedules at p_i t (per-expert clock)")
    p.add_argument("--svag", type=float, default=1.0,
                   help="SVAG with this l >= 1 (docs/families.md §3; default 1 = off): two batches per step, "
                        "so flops count 2 B samples per step")
    p.add_argument("--out", default="plrf-frontier.png", help=out_help("plrf-frontier.png"))
    p.set_defaults(func=run)


def default_steps(spectrum, batch: int) -> int:
    """Steps for model size d to reach its limit loss: F_pp saturates at s = gamma t ~ d^(2 alpha);
    run to s = 100 d^(2 alpha) with gamma the default SGD step (capped at 1e18 steps: int64 holds 9.2e18)."""
    from ..optim import defaults

    gamma = defaults(spectrum, batch)["sgd"].gamma2(0.0)
    return int(min(1e18, max(1e3, 100 * float(spectrum.d) ** (2 * spectrum.meta["alpha"]) / gamma)))


def _check(args):
    """Refuse bad flags up front (ValueError naming the flag: the CLI prints it and exits 2)."""
    for name in ("alpha", "beta"):
        if not (getattr(args, name) > 0 and math.isfinite(getattr(args, name))):
            raise ValueError(f"--{name} must be a positive number, got {getattr(args, name)}")
    if 2 * (args.alpha + args.beta) <= 1:
        raise ValueError("the model is degenerate for 2(alpha + beta) <= 1; pick larger --alpha/--beta")
    if not (1 <= args.d_min < args.d_max <= 1e12):
        raise ValueError(f"need 1 <= --d-min < --d-max <= 1e12, got {args.d_min:g}, {args.d_max:g}")
    if args.n_d < 3 or args.batch < 1:
        raise ValueError(f"need --n-d >= 3 and --batch >= 1, got {args.n_d}, {args.batch}")
    svag = getattr(args, "svag", 1.0)
    if not (svag >= 1 and math.isfinite(svag)):
        raise ValueError(f"--svag must be a number >= 1, got {svag}")
    if args.steps is not None and not 1 <= args.steps <= 1e18:
        raise ValueError(f"--steps must be in [1, 1e18], got {args.steps:g}")


def experts_of(args):
    """--experts M,ZETA as a plrf.Experts (None without the flag); ValueError naming the flag."""
    if getattr(args, "experts", None) is None:
        return None
    from ..experts import Experts

    try:
        m, zeta = args.experts.split(",")
        return Experts.zipf(int(m), float(zeta), clock="expert" if args.expert_clock else "shared")
    except ValueError as exc:
        raise ValueError(f"--experts must be M,ZETA (e.g. 100,2), got {args.experts!r}: {exc}") from None


def d_grid(d_min, d_max, n):
    return sorted({int(round(x)) for x in np.geomspace(d_min, d_max, n)})


def measure_curves(alpha, beta, optimizer, ds, steps, batch, log=print, experts=None, svag=1.0):
    """{d: Curve} of exact expected risk on theory spectra (method="fast"); steps=None picks
    default_steps for each d; experts: a plrf.Experts sharing each size (total risk); svag > 1 runs
    plrf.svag(optimizer, svag)."""
    from ..curves import record_grid
    from ..exact import exact_risk
    from ..optim import defaults, svag as with_svag
    from ..spectrum import Spectrum
    from ..transforms import chain

    out = {}
    for d in ds:
        t0 = time.perf_counter()
        spec = Spectrum.theory(alpha, beta, d, compress=True)
        spec.meta.setdefault("alpha", alpha)
        spec.meta.setdefault("beta", beta)
        n = int(steps) if steps else default_steps(spec, batch)
        opt = defaults(spec, batch)[optimizer]
        opt = with_svag(opt, svag) if svag != 1.0 else opt
        out[d] = exact_risk(spec, chain(opt, experts), n, batch=batch, record=record_grid(n, 20), method="fast")
        if out[d].diverged_at >= 0:
            log(f"  d = {d:>10d}: diverged at step {out[d].diverged_at} (kept up to there)")
        log(f"  d = {d:>10d}: {n:.3g} steps, {time.perf_counter() - t0:6.2f} s")
    return out


def verdict(value, interval) -> str:
    """"agrees" when the theory value lies inside the measured interval, else "disagrees" and by how much."""
    lo, hi = interval
    if lo <= value <= hi:
        return "agrees"
    gap = lo - value if value < lo else value - hi
    return f"disagrees ({value:.4f} is {gap:.4f} {'below' if value < lo else 'above'} the interval)"


def format_table(fr, opt_theory, what: str) -> str:
    """The measured exponents of both methods, the theory line, and a verdict per exponent."""
    cell = lambda v, iv: f"{v:.4f} [{iv[0]:.4f}, {iv[1]:.4f}]"
    rows = [what, f"  {'method':10s} {'xi (d* ~ f^xi)':26s} {'eta (P* ~ f^-eta)':26s}"]
    for fit in fr.fits.values():
        flag = "" if fit.reliable else "  (unreliable: " + "; ".join(fit.reasons) + ")"
        rows.append(f"  {fit.method:10s} {cell(fit.xi, fit.xi_interval):26s} {cell(fit.eta, fit.eta_interval):26s}{flag}")
    if isinstance(opt_theory, str):
        rows.append(f"  {'theory':10s} {opt_theory}")
        return "\n".join(rows)
    th = opt_theory
    rows.append(f"  {'theory':10s} {f'{th.xi:.4f} ({th.source})':26s} {f'{th.eta:.4f} ({th.source})':26s}"
                f"phase {th.phase}")
    rows.append(f"  verdict against theory at the {fr.isoflop.level:.0%} interval:")
    for fit in fr.fits.values():
        rows.append(f"  {fit.method:10s} xi {verdict(th.xi, fit.xi_interval)}; eta {verdict(th.eta, fit.eta_interval)}")
    return "\n".join(rows)


def edge_summary(fr) -> list[str]:
    """Lines on the budgets left out because their best d is at the grid's edge: runs at the ends of
    the flop range are expected and stated; an edge optimum between interior ones is a warning."""
    edge, has = fr.edge, np.isfinite(fr.envelope)
    inner = np.flatnonzero(has & ~edge)
    if not edge.any():
        return []
    if len(inner) == 0:
        return [f"warning: the best d is at the edge of the d grid for every budget; widen --d-min/--d-max"]
    low, high = edge[: inner[0]].sum(), edge[inner[-1] + 1 :].sum()
    out = [f"  left out: {low} budgets below f = {fr.flops[inner[0]]:.3g} and {high} above "
           f"f = {fr.flops[inner[-1]]:.3g}, whose best d is the edge of the d grid (widen --d-min/--d-max to fit them)"]
    middle = int(edge[inner[0] : inner[-1] + 1].sum())
    if middle:
        out.append(f"warning: {middle} budgets between interior ones have their best d at the grid's edge "
                   "(a d-grid too coarse, or curves that end early); they are left out of the fits")
    return out


def run(args, measure=measure_curves) -> int:
    from .. import theory
    from ..frontier import frontier

    _check(args)
    out = out_path(args.out)
    experts = experts_of(args)
    ds = d_grid(args.d_min, args.d_max, args.n_d)
    ph = theory.phase(args.alpha, args.beta)
    what = f"{args.steps:.3g} steps each" if args.steps else "steps: until each d reaches its limit loss"
    print(f"frontier: {args.optimizer} at alpha = {args.alpha:g}, beta = {args.beta:g} (phase {ph}), "
          f"B = {args.batch}, d = {ds[0]} .. {ds[-1]} ({len(ds)} sizes), {what}"
          + ("" if experts is None else f", {experts}"))
    svag = getattr(args, "svag", 1.0)
    extra = ({} if experts is None else {"experts": experts}) | ({"svag": svag} if svag != 1.0 else {})
    curves = measure(args.alpha, args.beta, args.optimizer, ds, args.steps, args.batch, **extra)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fr = frontier(curves, args.batch * (2 if svag != 1.0 else 1), warn=False)  # SVAG: two batches per step
    try:
        if experts is not None:
            raise NotImplementedError(f"{experts}: docs/theory.md §8 covers one learner")
        th = theory.compute_optimal(args.alpha, args.beta, args.optimizer)
    except NotImplementedError as exc:
        th = f"not given by docs/theory.md §8 here ({exc})"
    print(format_table(fr, th, "compute-optimal exponents (95% block-bootstrap intervals; they leave out the "
                               "finite-d bias: compare a smaller --d-max):"))
    f = fr.isoflop.flops
    if len(f):
        print(f"  fitted on {len(f)} budgets with an interior optimum, f in [{f.min():.3g}, {f.max():.3g}]")
    for line in edge_summary(fr):
        print(line)
    for w in caught:
        print(f"warning: {w.message}")
    if out is not None:
        _write_png(fr, th, args, out)
    return 0


def _write_png(fr, th, args, out):
    try:
        from .. import plot

        title = f"{args.optimizer}, alpha = {args.alpha:g}, beta = {args.beta:g}, B = {args.batch}"
        plot.frontier(fr, theory=None if isinstance(th, str) else th, title=title, path=out)
        print(f"wrote {out}")
    except ImportError as exc:
        print(f"no figure: {exc}")
