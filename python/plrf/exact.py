"""Expected risk without Monte Carlo (docs/theory.md §4-5).

method="exact": the discrete moment recursion, exact for every t, d and B, O(d) per step.
method="fast":  the same curve in O(d log T): geometric blocks, each an exact per-mode matrix power
                with frozen coefficients; only the rank-one coupling R2 is interpolated (linearly,
                solved implicitly) across a block. Reports an a-posteriori error estimate.
method="ode":   the continuized dynamics, implicit Euler on tau = ln(1 + t) (the authors' scheme),
                returning P (not 2P).
"""
from __future__ import annotations

import warnings

import numpy as np

from . import _core
from . import _validate as check
from . import controllers
from ._progress import Progress
from .curves import ON_DIVERGENCE, Curve, check_record, report_divergence
from .optim import check_optimizer
from .spectrum import as_spectrum

__all__ = ["exact_risk", "max_stable_lr"]

METHODS = ("exact", "fast", "ode")


def exact_risk(
    spectrum,
    optimizer,
    steps,
    batch=1,
    record=None,
    method="exact",
    rtol=1e-4,
    threads=None,
    on_divergence="warn",
    dt=0.01,
    progress=False,
    compress=None,
    controller=None,
) -> Curve:
    """Expected population risk P (half the MSE) of a Gen-Mom-SGD run, at the record steps.

    Parameters
    ----------
    spectrum : plrf.Spectrum, or a problem with .spectrum() (e.g. plrf.PLRF).
    optimizer : plrf.GenMomentum (plrf.sgd, sgd_momentum, dana_constant, dana_decaying, ...).
    steps : number of optimizer steps; the schedules are evaluated at t = 0 .. steps-1.
    batch : batch size B (the gradient is batch-averaged).
    record : steps at which to report the risk (default plrf.record_grid(steps)); risk[i] is P after
        record[i] steps, record 0 being the initial risk.
    method : "exact" | "fast" | "ode" (see the module docstring).
    rtol : target relative accuracy of method="fast" (sets the block growth).
    threads : threads over modes (default: all cores; only used for large d). Results do not depend on it.
    on_divergence : "warn" (DivergenceWarning), "raise" (DivergenceError) or "ignore".
    dt : step in log-time tau = ln(1 + t) for method="ode".
    progress : False/None, True (a tqdm bar), a tqdm-like class or object, or a callable taking the
        engine's work units done (the rule of plrf._progress, shared by every entry point).
    compress : None/False (use the spectrum as given), True (spectrum.compress(1e-4)) or an rtol in
        (0, 0.1]: run on spectrum.compress(rtol), whose nodes change the curve by about rtol and make the
        cost independent of d. Never applied unless asked; meta["compressed"] records it.
    controller : a step-size controller (plrf.controllers; docs/adaptive.md) for method "exact" or "ode".
        The result is then the deterministic equivalent, an approximation (meta["approximation"]),
        with its learning-rate curve in Curve.lr.
    """
    spec = as_spectrum(spectrum)
    compress = check.compress_rtol("compress (the compression rtol)", compress)
    steps = check.integer("steps", steps, 1, check.MAX_STEPS)
    batch = check.integer("batch", batch, 1)
    check.choice("method", method, METHODS)
    rtol = check.positive("rtol", rtol)
    if rtol >= 0.5:
        raise ValueError(f"rtol must be < 0.5, got {rtol}")
    dt = check.positive("dt", dt)
    threads = check.threads(threads)
    check.choice("on_divergence", on_divergence, ON_DIVERGENCE)
    controller = controllers.check(controller, "eigen", method)
    rec = check_record(record, steps)
    check_optimizer(optimizer, rec[-1])
    if compress is not None:  # after every argument is checked: compression is O(d) work
        spec = spec.compress(compress)
    if method == "ode":
        _check_ode_cost(dt, int(rec[-1]), spec.n_nodes)
    bar = Progress(progress, unit="work", desc=f"exact_risk {method}")
    try:
        res = _core.exact_risk(
            spec.eigenvalues, spec.rho, spec.multiplicity_or_none(), spec.p_inf, batch, optimizer, rec.tolist(), steps,
            method, rtol, threads, dt, bar.callback,
            controller=None if controller is None else controller.resolve(spec, batch).core(),
        )
    finally:
        bar.close()
    curve = Curve(
        steps=rec,
        risk=np.asarray(res["risk"]),
        meta={**spec.meta, "method": method, "optimizer": optimizer.name, "batch": batch, "steps": steps},
        diverged_at=int(res["diverged_at"]),
        interrupted=bool(res["interrupted"]),
        error_estimate=None if method == "exact" else float(res["error_estimate"]),
    )
    if controller is not None:
        curve.lr = np.asarray(res["lr"])
        curve.meta.update(approximation="deterministic equivalent",
                          controller=controller.resolve(spec, batch).to_dict())
    report_divergence([curve.diverged_at], f"exact_risk(method={method!r})", on_divergence)
    if curve.error_estimate is not None and np.isnan(curve.error_estimate) and not curve.interrupted \
            and curve.diverged_at < 0:
        warnings.warn(f"exact_risk(method={method!r}): no error estimate (NaN): the record steps are closer than "
                      f"dt={dt} in log-time and set most of the grid, so doubling dt cannot measure the error; "
                      "use a smaller dt", 
                      RuntimeWarning, stacklevel=2)
    return curve


# Mode updates (ODE grid points x modes, both resolutions) above which a run is refused: ~1e13 is
# about a day of work, and a grid that fine is a mistake in dt, not a request.
_MAX_ODE_WORK = 1e13


def _check_ode_cost(dt: float, last: int, d: int) -> None:
    points = np.log1p(last) / dt
    work = 1.5 * points * d
    if work > _MAX_ODE_WORK:
        raise ValueError(f"dt={dt} gives about {points:.3g} ODE grid points x {d} nodes ({work:.3g} mode "
                         f"updates, limit {_MAX_ODE_WORK:.0e}): use a larger dt (the default is 0.01)")


def max_stable_lr(spectrum, batch=1) -> float:
    """Largest constant SGD learning rate for which the expected risk stays bounded.

    The SGD moment recursion a_j' = p_j a_j + q_j R2 is a discrete Volterra equation for R2 = 2P
    with kernel norm sum_j lr lambda_j / (B (2 - lr lambda_j (1 + 1/B))); the risk converges iff
    that norm is < 1 (which also makes every mode stable). Solved by bisection to 1e-12.
    """
    spec = as_spectrum(spectrum)
    batch = check.integer("batch", batch, 1)
    return float(_core.max_stable_lr(spec.eigenvalues, spec.multiplicity_or_none(), batch))


def kernel_norm(spectrum, optimizer, batch=1, t=0.0) -> float:
    """Volterra kernel norm of the moment recursion with the coefficients frozen at step t (< 1: stable)."""
    spec = as_spectrum(spectrum)
    check_optimizer(optimizer)
    batch = check.integer("batch", batch, 1)
    t = check.finite("t", t)
    return float(_core.kernel_norm(spec.eigenvalues, spec.multiplicity_or_none(), batch, optimizer, t))
