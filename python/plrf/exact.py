"""Expected risk without Monte Carlo (docs/theory.md §4-5).

method="exact": the discrete moment recursion, exact for every t, d and B, O(d) per step.
method="fast":  the same curve in O(d log T): geometric blocks, each an exact per-mode matrix power
                with frozen coefficients; only the rank-one coupling R2 is interpolated (linearly,
                solved implicitly) across a block. Reports an a-posteriori error estimate.
method="ode":   the continuized dynamics, implicit Euler on tau = ln(1 + t) (the authors' scheme),
                returning P (not 2P).
method="continuous": SGD's continuous-time models (the chain's gradient model: plrf.hsgd(), plrf.ito()
                or plrf.continuized(), docs/families.md §4) with the step frozen on each unit of time, exact to rounding:
                O(d) Taylor terms of the diagonal-plus-rank-one rate matrix per unit.
"""
from __future__ import annotations


import dataclasses
import warnings

import numpy as np

from . import _compress, _core
from . import _cost
from . import _validate as check
from ._progress import Progress
from . import engines
from .capabilities import DETERMINISTIC
from .curves import Curve, check_record, report_divergence
from .errstate import geterr
from .optim import check_optimizer, knobs_of
from .spectrum import as_spectrum
from .transforms import Lowered, as_chain

__all__ = ["exact_risk", "max_stable_lr"]

METHODS = DETERMINISTIC  # the engines of plrf.capabilities (options: plrf.engines)
# measured by bench/adaptive_de_map.py (docs/adaptive.md §3): where the controller DE can be trusted
DE_VALIDITY = ("B = 1: within 5% of Monte Carlo (E[P] and mean lr, t in [1e2, 1e4]) for 2 alpha < 1 and d >= 256 "
               "(line_search: nowhere); 14% or more off at alpha >= 1 whatever d; docs/adaptive.md §3")


def exact_risk(spectrum, optimizer, steps, batch=1, record=None, method="exact", threads=None,
               progress="auto") -> Curve:
    """Expected population risk P (half the MSE) of a Gen-Mom-SGD run, at the record steps.

    Parameters
    ----------
    spectrum : plrf.Spectrum, or a problem with .spectrum() (e.g. plrf.PLRF).
    optimizer : plrf.GenMomentum (plrf.sgd, sgd_momentum, dana_constant, dana_decaying, ...) or a plrf.chain
        of transforms (docs/design.md), run when every member is defined for `method` (docs/families.md
        §5): ridge/decay/noise (plrf.decay: method "exact"), SVAG (plrf.svag(l): every discrete method),
        a mixture of experts (plrf.Experts: risk is then the total sum_i w_i P_i, parts[i] expert i's
        curve, meta["experts"] the probabilities), a step-size controller (plrf.controllers; methods
        "exact" and "ode": the deterministic equivalent, an approximation, with its learning-rate curve
        in Curve.lr), or on method "continuous" a gradient model of plain SGD: plrf.hsgd() (default;
        homogenized SGD), plrf.ito() (the Ito SDE with SGD's covariance, SVAG's l -> oo limit) or
        plrf.continuized() (SGD at the jumps of a rate-1 Poisson clock); plrf.hsgd(substeps=n) /
        plrf.ito(substeps=n) is the exact mean of the Monte Carlo with n substeps per step.
        meta["capability"] labels the curve "exact" or "approximate (deterministic equivalent)".
    steps : number of optimizer steps; the schedules are evaluated at t = 0 .. steps-1.
    batch : batch size B (the gradient is batch-averaged).
    record : steps at which to report the risk (default plrf.record_grid(steps)); risk[i] is P after
        record[i] steps, record 0 being the initial risk.
    method : "exact" | "fast" | "ode" | "continuous" (see the module docstring), or the engine with its
        options: plrf.engines.fast(rtol=1e-4) (target relative accuracy, sets the block growth),
        plrf.engines.ode(dt=0.01) (step in log-time tau = ln(1 + t)), and on every method
        compress= : None (default: "fast" and "ode" run on spectrum.compress(rtol / 10) when the
        spectrum has more than 10,000 entries and the nodes halve them at least; "exact" and
        "continuous", the references, never compress unless asked), False (the spectrum as given),
        True (spectrum.compress(1e-4)) or an rtol in (0, 0.1]: run on spectrum.compress(rtol), whose
        nodes move the curve by less than rtol and make the cost independent of d. A compressed run is
        checked a posteriori against nodes at 4x the rtol (about half its cost again):
        meta["compressed"]["error_estimate"], and a RuntimeWarning when that passes half the rtol.
        meta["compressed"] says what was done in every case (docs/exact.md).
    threads : threads over modes (default: all cores; only used for large d). Results do not depend on it.
    progress : "auto" (default: a bar when the call is estimated to take more than ~5 s), False/None,
        True (a tqdm bar), a tqdm-like class or object, or a callable taking the work done: steps
        ("exact", "continuous"), ODE grid points ("ode") or percent of the estimated blocks ("fast")
        (the rule of plrf._progress, shared by every entry point).

    A diverged run is recorded (diverged_at, NaN from there) and warned about unless
    plrf.errstate(divergence="raise" | "ignore") says otherwise.
    """
    engine = engines.resolve(method, "method", METHODS)
    c = as_chain(optimizer)
    capability = c.check(engine.name)
    low = c.lower()
    if low.optimizer.clip != float("inf"):  # DP-SGD clipping: its deterministic equivalent (docs/privacy.md)
        from .privacy.de import clipped_risk
        curve = clipped_risk(spectrum, low.optimizer, steps, batch, record)
        report_divergence([curve.diverged_at], "exact_risk(clip)", geterr()["divergence"])
    else:
        curve = _exact_risk(spectrum, low, steps, batch, record, engine, threads, progress, geterr()["divergence"])
    curve.meta.update(chain=c.name, capability=capability)
    return curve


def _exact_risk(spectrum, low: Lowered, steps, batch, record, engine: engines.Engine, threads, progress,
                on_divergence) -> Curve:
    """exact_risk of a lowered chain (plrf.transforms.Chain.lower) whose members run on `engine`."""
    optimizer, experts, controller = low.optimizer, low.experts, low.controller
    method, rtol, dt, compress = engine.name, engine.rtol, engine.dt, engine.compress
    spec = as_spectrum(spectrum)
    steps = check.integer("steps", steps, 1, check.MAX_STEPS)
    batch = check.integer("batch", batch, 1)
    threads = check.threads(threads)
    rec = check_record(record, steps)
    check_optimizer(optimizer, rec[-1])
    model = ("hsgd" if low.model is None else low.model) if method == "continuous" else None
    substeps = low.substeps
    given = spec  # after every argument is checked: compression is O(d) work
    spec, rtol_c, how = _compress.apply(spec, compress, method, rtol)
    _check_cost(method, dt, int(rec[-1]), spec.n_nodes * (1 if experts is None else experts.m), substeps)
    bar = _bar(progress, method, optimizer, spec, experts, rec, rtol, dt)
    try:
        if experts is None:
            res = _core.exact_risk(
                spec.eigenvalues, spec.rho, spec.multiplicity_or_none(), spec.p_inf, batch, optimizer, rec.tolist(),
                steps, method, rtol, threads, dt, bar.callback, model=model or "hsgd", substeps=substeps or 0,
                controller=None if controller is None else controller.resolve(spec, batch).core(),
            )
        else:
            res = _experts_run(spec, batch, optimizer, experts, rec, steps, method, rtol, threads, dt, bar.callback)
        if not res["interrupted"]:
            bar.finish()
    finally:
        bar.close()
    meta = {**spec.meta, "method": method, "optimizer": optimizer.name, "batch": batch, "steps": steps,
            **_METHOD_META.get(method, {})}
    curve = Curve(
        steps=rec,
        risk=np.asarray(res["risk"]),
        meta={**meta, **knobs_of(optimizer), **({"model": model} if model else {}),
              **({"substeps": substeps} if substeps else {})} if experts is None else {**meta, **experts.meta()},
        diverged_at=int(res["diverged_at"]),
        interrupted=bool(res["interrupted"]),
        error_estimate=None if method in ("exact", "continuous") else float(res["error_estimate"]),
        parts=res.get("parts"),
    )
    if controller is not None:
        curve.lr = np.asarray(res["lr"])
        curve.meta.update(approximation="deterministic equivalent",
                          approximation_error=controller.approximation_error(DE_VALIDITY),
                          controller=controller.resolve(spec, batch).to_dict())
    if rtol_c is None:
        curve.meta.setdefault("compressed", how)  # a spectrum compressed before keeps its own record
    else:  # the a-posteriori check: the same run on coarser nodes (docs/exact.md)
        coarse = curve.risk * np.nan if curve.interrupted else _exact_risk(
            _compress.check_spectrum(given, spec, rtol_c), low, steps, batch, rec,
            dataclasses.replace(engine, compress=False), threads or None, False, "ignore").risk
        curve.meta["compressed"] = {**spec.meta["compressed"], "by": how,
                                    "error_estimate": _compress.estimate(curve.risk, coarse, rtol_c)}
        _compress.warn_if_above(curve.meta["compressed"])
    report_divergence([curve.diverged_at], f"exact_risk(method={method!r})", on_divergence)
    if curve.error_estimate is not None and np.isnan(curve.error_estimate) and not curve.interrupted \
            and curve.diverged_at < 0:
        warnings.warn(f"exact_risk(method={method!r}): no error estimate (NaN): the record steps are closer than "
                      f"dt={dt} in log-time and set most of the grid, so doubling dt cannot measure the error; "
                      "use a smaller dt", 
                      RuntimeWarning, stacklevel=3)
    return curve


def _bar(progress, method, optimizer, spec, experts, rec, rtol, dt) -> Progress:
    """The run's bar (plrf._cost: its total, units and whether progress="auto" shows it)."""
    copies = 1 if experts is None else experts.m
    seconds = _cost.exact_seconds(method, optimizer.is_sgd(), spec.n_nodes * copies, rec, rtol, dt)
    return Progress(progress, desc=f"exact_risk {method}", seconds=seconds,
                    **_cost.exact_bar(method, rec, rtol, dt, copies))


# What a method's error estimate and divergence step stand for, where that is not the obvious
# (docs/exact.md: the ODE's estimate; docs/limits.md: where each method reports a divergence).
_METHOD_META = {"ode": {
    "error_estimate_measures": "dt discretisation only (|P_dt - P_2dt|), not the ODE's modelling error against "
                               "the discrete recursion",
    "diverged_at_resolution": "the first ODE grid point past the divergence threshold (the ODE's own time, not "
                              "the step method='exact' reports)",
}}


def _experts_run(spec, batch, optimizer, experts, rec, steps, method, rtol, threads, dt, callback) -> dict:
    """Every expert's curve from the C++ engines, and the total risk sum_i w_i P_i."""
    res = _core.exact_risk_experts(
        spec.eigenvalues, spec.rho, spec.multiplicity_or_none(), spec.p_inf, batch,
        experts.optimizer_list(optimizer, rec[-1]), experts.p.tolist(), experts.clock == "expert", rec.tolist(), steps,
        method, rtol, threads, dt, callback,
    )
    parts, div = np.asarray(res["parts"]), np.asarray(res["diverged_at"])
    return dict(risk=experts.weights @ parts, parts=parts, interrupted=res["interrupted"],
                diverged_at=int(div[div >= 0].min()) if np.any(div >= 0) else -1,
                error_estimate=float(np.max(res["error_estimate"])))


# Mode updates (steps, or ODE grid points, x nodes [x substeps]) above which a run is refused: the
# recursion takes ~1 ns per mode and step on one core, so 1e13 is hours to a day of work, and a run
# that long is a mistake in steps, dt or substeps, not a request (method="fast" costs O(d log T)).
_MAX_WORK = 1e13


def _check_cost(method, dt: float, last: int, d: int, substeps) -> None:
    """Refuse, before any work, a run of more than _MAX_WORK mode updates, naming the knob that set it."""
    if method == "fast":  # O(d log T) whatever the horizon
        return
    if method == "ode":
        points = np.log1p(last) / dt
        work = 1.5 * points * d
        if work > _MAX_WORK:
            raise ValueError(f"dt={dt} gives about {points:.3g} ODE grid points x {d} nodes ({work:.3g} mode "
                             f"updates, limit {_MAX_WORK:.0e}): use a larger dt (the default is 0.01)")
        return
    work = float(last) * d
    if work > _MAX_WORK:
        raise ValueError(f"steps={last} x {d} nodes is {work:.3g} mode updates for method={method!r} (limit "
                         f"{_MAX_WORK:.0e}, hours to a day of work): use method='fast' (O(nodes log steps): the "
                         "discrete recursion to rtol) or method='ode' (the continuized model), or fewer steps")
    if substeps and work * substeps > _MAX_WORK:
        raise ValueError(f"substeps={substeps} x steps={last} x {d} nodes is {work * substeps:.3g} mode updates "
                         f"(limit {_MAX_WORK:.0e}, hours to a day of work): use fewer substeps (the scheme tends "
                         "to the continuous-time model like 1/substeps; substeps=None runs the model itself)")


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
    """Volterra kernel norm of the moment recursion with the coefficients frozen at step t (< 1: stable).

    Ridge and decoupled decay (`plrf.with_decay`) are included: they change every mode's contraction.
    Injected noise is not: it forces the recursion but cannot make it diverge. Infinity when a mode is
    unstable on its own (an eigenvalue of its 3x3 moment map outside the unit circle by more than
    1e-5, below which growth is not told apart from rounding), since the risk then diverges whatever
    the norm of the rest. SGD (and SVAG on it) uses the closed form of `max_stable_lr`.
    """
    spec = as_spectrum(spectrum)
    check_optimizer(optimizer)
    batch = check.integer("batch", batch, 1)
    t = check.finite("t", t)
    return float(_core.kernel_norm(spec.eigenvalues, spec.multiplicity_or_none(), batch, optimizer, t))
