"""`python -m plrf gallery`: the DANA paper's headline figures, regenerated from plrf's exact curves.

- gallery-shapes.png: SGD, DANA-constant and DANA-decaying loss curves at several d (alpha = 1,
  beta = 0.3), with plrf.theory.shape's stretches of the largest d drawn over them;
- gallery-frontier-<optimizer>.png: compute-optimal frontiers of SGD and DANA-decaying with the
  fitted xi, eta against theory (plrf.plot.frontier);
- gallery-plane.png: the (alpha, beta) plane, theory's eta of SGD as a heat map, the measured eta at
  one point per phase, and the outscaling region 2 alpha > 1 marked.
Every figure carries the command and the plrf version that made it. --small is the CI smoke size
(tests/test_shape_fit.py); the full size took 52 s wall (14 s CPU) on 2 cores at load 12.
"""
from __future__ import annotations

import time
from pathlib import Path

SHAPE_OPTIMIZERS = ("sgd", "dana_constant", "dana_decaying")
FRONTIER_OPTIMIZERS = ("sgd", "dana_decaying")
PLANE_POINTS = [(1.0, 0.3), (0.4, 0.3), (0.2, 0.7), (1.0, 0.7), (0.7, 1.0), (0.4, 0.8), (0.27, 0.8)]


def add_parser(sub):
    p = sub.add_parser("gallery", help="the DANA paper's headline figures: loss-curve shapes, frontiers, phase plane")
    p.add_argument("--out-dir", default=".", help="folder for the gallery-*.png files (default: here)")
    p.add_argument("--small", action="store_true", help="smoke size: d up to 1e4 (seconds, not minutes)")
    p.set_defaults(func=run)


def _stamp(fig, command):
    from .. import __version__

    fig.text(0.005, 0.005, f"{command}  (plrf {__version__})", fontsize=7, color="0.4", ha="left", va="bottom")


def _shapes(out, ds, command):
    import matplotlib.pyplot as plt

    from .. import plot, theory
    from ..curves import record_grid
    from ..exact import exact_risk
    from ..optim import defaults
    from ..spectrum import Spectrum

    fig, axes = plt.subplots(1, len(SHAPE_OPTIMIZERS), figsize=(5.5 * len(SHAPE_OPTIMIZERS), 4.6), sharey=True)
    for ax, name in zip(axes, SHAPE_OPTIMIZERS):
        curves = {}
        for d in ds:
            spec = Spectrum.theory(1.0, 0.3, d, compress=True)
            steps = int(min(1e18, 10 * theory.shape(1.0, 0.3, name, d=d, batch=1).t_saturation))
            curves[f"d = {d:.0e}"] = exact_risk(spec, defaults(spec, 1)[name], steps,
                                                record=record_grid(steps, 20), method="fast")
        plot.curves(curves, ax=ax, title=f"{name}: stretches of d = {ds[-1]:.0e}",
                    shape=theory.shape(1.0, 0.3, name, d=ds[-1], batch=1))
    _stamp(fig, command)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(out / "gallery-shapes.png", dpi=110)
    plt.close(fig)


def _frontiers(out, d_max, command):
    import warnings

    import matplotlib.pyplot as plt

    from .. import plot, theory
    from ..frontier import frontier
    from .frontier import d_grid, measure_curves

    for name in FRONTIER_OPTIMIZERS:
        curves = measure_curves(1.0, 0.3, name, d_grid(100, d_max, 13), None, 1, log=lambda msg: None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # flags are printed in the figure's fit labels
            fr = frontier(curves, 1)
        fig = plot.frontier(fr, theory=theory.compute_optimal(1.0, 0.3, name),
                            title=f"{name}, alpha = 1, beta = 0.3")
        _stamp(fig, command)
        fig.savefig(out / f"gallery-frontier-{name}.png", dpi=110)
        plt.close(fig)


def _plane(out, d_max, command):
    import warnings

    import matplotlib.pyplot as plt

    from .. import plot
    from ..frontier import frontier
    from .frontier import d_grid, measure_curves

    measured = {}
    for alpha, beta in PLANE_POINTS:
        top = min(d_max, (1e16) ** (1 / (2 * alpha)))  # each run to 100 d^(2 alpha) steps, at most 1e18
        curves = measure_curves(alpha, beta, "sgd", d_grid(100, top, 13), None, 1, log=lambda msg: None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            measured[(alpha, beta)] = frontier(curves, 1).isoflop.eta
    fig = plot.phase_diagram("eta", "sgd", measured=measured)
    ax = fig.axes[0]
    ax.axvspan(0.5, ax.get_xlim()[1], fc="none", hatch="//", ec="white", alpha=0.35, lw=0, zorder=2)
    ax.text(0.52, 0.97 * ax.get_ylim()[1], "2 alpha > 1: outscaling", fontsize=8, va="top", color="0.2")
    _stamp(fig, command)
    fig.savefig(out / "gallery-plane.png", dpi=110)
    plt.close(fig)


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    out = Path(args.out_dir)
    if not out.is_dir():
        raise ValueError(f"--out-dir {str(out)!r} is not a folder")
    command = "python -m plrf gallery" + (" --small" if args.small else "")
    ds, d_max = ((10**3, 10**4), 1e4) if args.small else ((10**4, 10**6, 10**8), 1e9)
    t0 = time.perf_counter()
    for step, size in ((_shapes, ds), (_frontiers, d_max), (_plane, d_max)):
        step(out, size, command)
        print(f"{step.__name__[1:]}: {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"wrote the gallery into {out.resolve()}")
    return 0
