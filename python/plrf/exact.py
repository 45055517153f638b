"""Expected risk without Monte Carlo (docs/theory.md §4-5).

method="exact": the discrete moment recursion, exact for every t, d and B, O(d) per step.
method="fast":  the same curve in O(d log T): geometric blocks, each an exact per-mode matrix power
                with frozen coefficients; only the rank-one coupling R2 is interpolated (linearly,
                solved implicitly) across a block. Reports an a-posteriori error estimate.
method="ode":   the continuized dynamics, implicit Euler on tau = ln(1 + t) (the authors' scheme),
                returning P (not 2P).
method="continuous": SGD's continuous-time models (model="hsgd" | "ito" | "continuized",
                docs/families.md §4) with the step frozen on each unit of time, exact to rounding:
                O(d) Taylor terms of the diagonal-plus-rank-one rate matrix per unit.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import _compress, _core
from . import _cost
from . import _validate as check
from . import controllers
from ._progress import Progress
from .experts import check_experts
from .curves import ON_DIVERGENCE, Curve, check_record, report_divergence
from .optim import check_optimizer, knobs_of
from .spectrum import as_spectrum
from .transforms import GradientModel, label_of, lower_for

__all__ = ["exact_risk", "max_stable_lr"]

METHODS = ("exact", "fast", "ode", "continuous")
MODELS = ("hsgd", "ito", "continuized")  # method="continuous" (docs/families.md §4)
# measured by bench/adaptive_de_map.py (docs/adaptive.md §3): where the controller DE can be trusted
DE_VALIDITY = ("B = 1: within 5% of Monte Carlo (E[P] and mean lr, t in [1e2, 1e4]) for 2 alpha < 1 and d >= 256 "
               "(line_search: nowhere); 14% or more off at alpha >= 1 whatever d; docs/adaptive.md §3")


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
    progress="auto",
    compress=None,
    experts=None,
    model=None,
    substeps=None,
    controller=None,
) -> Curve:
    """Expected population risk P (half the MSE) of a Gen-Mom-SGD run, at the record steps.

    Parameters
    ----------
    spectrum : plrf.Spectrum, or a problem with .spectrum() (e.g. plrf.PLRF).
    optimizer : plrf.GenMomentum (plrf.sgd, sgd_momentum, dana_constant, dana_decaying, ...), optionally with
        ridge/decay/noise (plrf.with_decay: method="exact" only) or SVAG (plrf.svag: every method), or a
        plrf.chain of transforms (docs/design.md), run when every member is defined for `method`
        (docs/families.md §5); meta["capability"] then labels the curve "exact" or "approximate
        (deterministic equivalent)".
    steps : number of optimizer steps; the schedules are evaluated at t = 0 .. steps-1.
    batch : batch size B (the gradient is batch-averaged).
    record : steps at which to report the risk (default plrf.record_grid(steps)); risk[i] is P after
        record[i] steps, record 0 being the initial risk.
    method : "exact" | "fast" | "ode" | "continuous" (see the module docstring).
    rtol : target relative accuracy of method="fast" (sets the block growth).
    threads : threads over modes (default: all cores; only used for large d). Results do not depend on it.
    on_divergence : "warn" (DivergenceWarning), "raise" (DivergenceError) or "ignore".
    dt : step in log-time tau = ln(1 + t) for method="ode".
    progress : "auto" (default: a bar when the call is estimated to take more than ~5 s), False/None,
        True (a tqdm bar), a tqdm-like class or object, or a callable taking the work done: steps
        ("exact", "continuous"), ODE grid points ("ode") or percent of the estimated blocks ("fast")
        (the rule of plrf._progress, shared by every entry point).
    compress : None (default: methods "fast" and "ode" run on spectrum.compress(rtol / 10) when the
        spectrum has more than 10,000 entries and the nodes halve them at least; "exact" and
        "continuous", the references, never compress unless asked), False (the spectrum as given),
        True (spectrum.compress(1e-4)) or an rtol in (0, 0.1]: run on spectrum.compress(rtol), whose
        nodes move the curve by less than rtol and make the cost independent of d. A compressed run is
        checked a posteriori against nodes at 4x the rtol (about half its cost again):
        meta["compressed"]["error_estimate"], and a RuntimeWarning when that passes half the rtol.
        meta["compressed"] says what was done in every case (docs/exact.md).
    experts : None, or a plrf.Experts (mixture of experts or sparse blocks, docs/families.md §1): risk is
        then the total sum_i w_i P_i, parts[i] expert i's curve, meta["experts"] the probabilities.
    model : method="continuous" only (plain SGD): "hsgd" (default; homogenized SGD, the mean of
        simulate(dynamics="hsgd") as its substeps -> oo), "ito" (the Ito SDE with SGD's covariance, the
        mean of dynamics="ito" and SVAG's l -> oo limit) or "continuized" (SGD at the jumps of a
        rate-1 Poisson clock: sum_n Poisson(n; t) P_SGD(n)).
    substeps : method="continuous" with model "hsgd" or "ito" only: None (default) for the continuous-time
        model, or n >= 1 for the exact mean of simulate(dynamics=model, substeps=n), whose path risk is
        frozen over each substep (first order in 1/n towards the model).
    controller : a step-size controller (plrf.controllers; docs/adaptive.md) for method "exact" or "ode".
        The result is then the deterministic equivalent, an approximation (meta["approximation"]),
        with its learning-rate curve in Curve.lr.
    """
    given = {k: v for k, v in (("experts", experts), ("model", model), ("substeps", substeps),
                               ("controller", controller)) if v is not None}
    lowered, label = lower_for(optimizer, check.choice("method", method, METHODS), given)
    if lowered is None:
        curve = _exact_risk(spectrum, optimizer, steps, batch, record, method, rtol, threads, on_divergence, dt,
                            progress, compress, experts, model, substeps, controller)
        curve.meta["capability"] = label_of(optimizer, method, experts, controllers.check(controller, "eigen", method),
                                            GradientModel(model or "hsgd", substeps) if method == "continuous" else None)
        return curve
    if lowered.optimizer.clip != float("inf"):  # DP-SGD clipping: its deterministic equivalent (docs/privacy.md)
        from .privacy.de import clipped_risk
        curve = clipped_risk(spectrum, lowered.optimizer, steps, batch, record)
        report_divergence([curve.diverged_at], "exact_risk(clip)", check.choice("on_divergence", on_divergence, ON_DIVERGENCE))
    else:
        curve = _exact_risk(spectrum, lowered.optimizer, steps, batch, record, method, rtol, threads, on_divergence, dt,
                            progress, compress, lowered.experts, lowered.model, lowered.substeps, lowered.controller)
    curve.meta.update(chain=optimizer.name, capability=label)
    return curve


def _exact_risk(spectrum, optimizer, steps, batch, record, method, rtol, threads, on_divergence, dt, progress,
                compress, experts, model, substeps, controller) -> Curve:
    spec = as_spectrum(spectrum)
    if compress is not None:
        check.compress_rtol("compress (the compression rtol)", compress)
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
    experts = check_experts(experts)
    _check_combination(optimizer, experts, controller)
    if method != "exact" and optimizer.has_affine_knobs():
        raise ValueError(f"optimizer: decay/l2/noise need method='exact' (method={method!r} propagates the linear "
                         "moment map only; SVAG works with every discrete method)")
    model = _continuous_model(method, model, optimizer, experts)
    substeps = _substeps(model, substeps)
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
                          approximation_error=DE_VALIDITY,
                          controller=controller.resolve(spec, batch).to_dict())
    if rtol_c is None:
        curve.meta.setdefault("compressed", how)  # a spectrum compressed before keeps its own record
    else:  # the a-posteriori check: the same run on coarser nodes (docs/exact.md)
        coarse = curve.risk * np.nan if curve.interrupted else exact_risk(
            _compress.check_spectrum(given, spec, rtol_c), optimizer, steps, batch=batch, record=rec, method=method,
            rtol=rtol, threads=threads or None, on_divergence="ignore", dt=dt, progress=False, compress=False,
            experts=experts, model=model, substeps=substeps, controller=controller).risk
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


def _check_combination(optimizer, experts, controller):
    """The families compose with plain Gen-Mom-SGD, not with each other (docs/families.md, docs/adaptive.md)."""
    if controller is None:
        return
    if experts is not None:
        raise ValueError("controller: a step-size controller runs one learner, not a mixture of experts")
    if optimizer.svag_l != 1.0:  # decay/l2/noise compose (method="exact": the controller scales the linear part)
        raise ValueError(f"controller: a step-size controller reads one batch gradient, not SVAG's two; "
                         f"{optimizer.name} has SVAG knobs")


def _continuous_model(method, model, optimizer, experts):
    """The continuous-time model (method="continuous", plain single-learner SGD only), or None for the others."""
    if method != "continuous":
        if model is not None:
            raise ValueError(f"model is read by method='continuous' only, got model={model!r} with method={method!r}")
        return None
    model = check.choice("model", "hsgd" if model is None else model, MODELS)
    if not optimizer.is_sgd() or optimizer.svag_l != 1.0:
        raise ValueError(f"optimizer must be plain SGD for method='continuous' (the continuous-time models are SDEs "
                         f"of SGD), got {optimizer.name}; method='ode' is the continuized model of any member")
    if experts is not None:
        raise ValueError("experts: method='continuous' runs one learner; use 'exact', 'fast' or 'ode' for a mixture")
    return model


def _substeps(model, substeps):
    if substeps is None:
        return None
    if model not in ("hsgd", "ito"):
        raise ValueError(f"substeps is read by method='continuous' with model 'hsgd' or 'ito' only (the mean of "
                         f"simulate(dynamics=model, substeps=n)); got substeps={substeps!r} with model={model!r}")
    return check.integer("substeps", substeps, 1, 2**31 - 1)


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
