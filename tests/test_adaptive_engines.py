"""The C++ engines with step-size controllers (issue 12) against the plain NumPy reference of the
same rules (plrf.testing.adaptive, docs/adaptive.md).

* simulate(..., plrf.chain(opt, C)), exact in law: two-sample z-tests of the mean risk and the mean
  learning rate at every record of a 60-step run (d = 20, v = 80) between plrf.simulate (fast and
  explicit eigen samplers, full space) and plrf.testing.adaptive.monte_carlo (eigenbasis and full
  space). About 9 correlated records per curve: |z| < 4 has a false-alarm rate of ~1e-3 per curve.
  The default suite runs a Latin square of (pair, B, controller, engine); the rest is slow.
* Planted bugs in the reference (||g||^2 of the previous step; AdaGrad-Norm's S without the current
  gradient) must give |z| > 4 against the C++ engine.
* exact_risk(..., plrf.chain(opt, C)): the deterministic equivalent, equal to the NumPy DE to 1e-12 (method
  "exact"), tending to it (method "ode"), and meeting docs/theory.md §12.4's oracles.
"""
import functools
import pickle

import numpy as np
import pytest

import plrf
from hardening_tools import CtrlCBar
from family_cases import CASES, PAIRS
from plrf import adaptive_theory as theory
from plrf import controllers, simulation
from plrf.testing.adaptive import controller as reference_controller
from plrf.testing.adaptive import deterministic_equivalent, monte_carlo

Z_MAX = 4.0
STEPS = 60
SEEDS = 4000
ENGINES = ("fast", "explicit", "full")
RECORD = plrf.record_grid(STEPS, 4)


@functools.lru_cache(maxsize=None)
def problem(alpha, beta):
    return plrf.PLRF(alpha, beta, 20, seed=3)


def optimizer(pair, batch, case):
    opt_name = CASES[case][2]
    return plrf.sgd(1.0) if opt_name == "sgd1" else plrf.defaults(problem(*pair).spectrum(), batch)[opt_name]


@functools.lru_cache(maxsize=None)
def reference(pair, batch, case, space="eigen", bug=None):
    name, params, _ = CASES[case]
    seeds = SEEDS if space == "eigen" else 1500
    return monte_carlo(problem(*pair), optimizer(pair, batch, case), reference_controller(name, **params), STEPS,
                       batch=batch, seeds=seeds, seed=11, space=space, record=RECORD, bug=bug,
                       on_divergence="ignore" if bug else "warn")


def cpp(pair, batch, case, engine, seeds=SEEDS, **kw):
    name, params, _ = CASES[case]
    space, sampler = ("full", "fast") if engine == "full" else ("eigen", engine)
    return plrf.simulate(problem(*pair), plrf.chain(optimizer(pair, batch, case), controllers.get(name, **params)), STEPS, batch=batch, seeds=seeds, record=RECORD, space=plrf.engines.get(space, sampler=sampler), **kw)


def stats(run, which):
    """(mean, standard error) over the seeds that did not diverge, for a Curves or a reference Paths."""
    ok = run.diverged_at < 0
    x = getattr(run, which)[ok]
    return x.mean(axis=0), x.std(axis=0, ddof=1) / np.sqrt(x.shape[0])


def max_z(p, q):
    """Largest |z| over both quantities and every record; records deterministic on both sides (step
    0, the first learning rate of rules that read only theta_0) must agree to rounding instead."""
    if np.any(p.diverged_at >= 0) != np.any(q.diverged_at >= 0):
        return np.inf  # one side diverged and the other did not
    zs = []
    for which in ("risk", "lr"):
        (mp, sp), (mq, sq) = stats(p, which), stats(q, which)
        se = np.hypot(sp, sq)
        finite = np.isfinite(se)
        fixed = finite & (se <= 1e-9 * np.abs(mq))
        np.testing.assert_allclose(mp[fixed], mq[fixed], rtol=1e-9)
        zs.append(np.abs((mp - mq)[finite & ~fixed] / se[finite & ~fixed]))
    return float(np.max(np.concatenate(zs)))


def reference_space(engine):
    return "full" if engine == "full" else "eigen"


# A Latin square over (pair, B, controller, engine) for the default suite; the rest is slow.
DEFAULT = [
    (PAIRS[0], 1, "adagrad_norm/sgd", "fast"),
    (PAIRS[1], 8, "adagrad_norm/dana", "explicit"),
    (PAIRS[0], 8, "ema_norm/dana", "full"),
    (PAIRS[1], 1, "polyak/sgd", "fast"),
    (PAIRS[0], 8, "line_search/sgd", "explicit"),
    (PAIRS[1], 8, "risk_norm/dana", "fast"),
    (PAIRS[0], 1, "rmsprop_dana/dana", "fast"),
]
ALL = [(pair, b, case, engine) for pair in PAIRS for b in (1, 8) for case in CASES for engine in ENGINES
       if not (engine == "full" and CASES[case][0] in ("polyak", "line_search"))]
SLOW = [c for c in ALL if c not in DEFAULT]


@pytest.mark.parametrize("pair,batch,case,engine", DEFAULT)
def test_simulate_with_controller_agrees_with_numpy_reference(pair, batch, case, engine):
    z = max_z(cpp(pair, batch, case, engine, seeds=SEEDS if engine != "full" else 1000),
              reference(pair, batch, case, reference_space(engine)))
    assert z < Z_MAX, z


@pytest.mark.slow
@pytest.mark.parametrize("pair,batch,case,engine", SLOW)
def test_every_controller_and_engine_agrees_with_numpy_reference(pair, batch, case, engine):
    z = max_z(cpp(pair, batch, case, engine, seeds=SEEDS if engine != "full" else 1000),
              reference(pair, batch, case, reference_space(engine)))
    assert z < Z_MAX, z


@pytest.mark.parametrize("bug,engine", [("lagged", "fast"), ("stale_grad2", "explicit")])
def test_planted_bug_in_reference_fails(bug, engine):
    z = max_z(cpp(PAIRS[0], 1, "adagrad_norm/sgd", engine), reference(PAIRS[0], 1, "adagrad_norm/sgd", bug=bug))
    assert z > Z_MAX, z


# ---- the lr curve, resume, divergence, bad input ---------------------------------------------------
def test_lr_curve_is_recorded_pickled_and_nan_at_step_zero():
    curves = cpp(PAIRS[0], 2, "adagrad_norm/sgd", "fast", seeds=3)
    assert curves.lr.shape == curves.risk.shape
    assert np.all(np.isnan(curves.lr[:, 0])) and np.all(np.isfinite(curves.lr[:, 1:]))
    assert np.all(np.diff(curves.lr[:, 1:], axis=1) <= 0)  # AdaGrad-Norm's step only shrinks
    back = pickle.loads(pickle.dumps(curves))
    np.testing.assert_array_equal(back.lr, curves.lr)
    np.testing.assert_array_equal(curves.to_dataframe().lr.to_numpy(), curves.lr.ravel())
    assert curves.meta["controller"]["name"] == "adagrad_norm"


def test_default_G_and_b0_follow_the_rule():
    spec = problem(*PAIRS[0]).spectrum()
    ctrl = controllers.adagrad_norm().resolve(spec, 4)
    lam, rho = spec.eigenvalues, spec.rho
    b0 = np.sqrt(1.25 * lam**2 @ rho + lam.sum() * (2 * spec.p_inf + lam @ rho) / 4)
    g2 = 0.375 * min(2 / 5, 1 / lam.sum())
    assert ctrl.b0 == pytest.approx(b0, rel=1e-12) and ctrl.G == pytest.approx(2 * 2 * g2 * np.sqrt(2) * b0, rel=1e-12)


@pytest.mark.parametrize("case", ["adagrad_norm/sgd", "ema_norm/dana"])
def test_chopped_run_is_bitwise(tmp_path, case, monkeypatch):
    """checkpoint_every ~ 0 makes every advance stop after <= 16 steps and rebuild its steppers from
    the state arrays: the controller state must travel with them for the result to be bitwise."""
    monkeypatch.setattr(simulation, "MIN_CHECKPOINT_EVERY", 0.0)  # pause as often as asked (floor: 1 s)
    whole = cpp(PAIRS[0], 2, case, "fast", seeds=3)
    chopped = cpp(PAIRS[0], 2, case, "fast", seeds=3, checkpoint=plrf.checkpoint.Target(str(tmp_path / "run.ckpt"), every=1e-9))
    np.testing.assert_array_equal(chopped.risk, whole.risk)
    np.testing.assert_array_equal(chopped.lr, whole.lr)
    job, state = plrf.checkpoint.load(tmp_path / "run.ckpt")
    assert job["controller"] == controllers.get(CASES[case][0], **CASES[case][1])
    np.testing.assert_array_equal(state["lr"], whole.lr)


def test_interrupt_then_resume_carries_controller_state(tmp_path):
    spec = problem(*PAIRS[0]).spectrum()
    kw = dict(batch=2, seeds=[4, 5])
    opt = plrf.chain(plrf.sgd(1.0), controllers.adagrad_norm())
    # long enough that the first progress poll (which sends Ctrl-C) comes before the run ends
    path, steps = tmp_path / "cut.ckpt", 3_000_000
    part = plrf.simulate(spec, opt, steps, checkpoint=path, progress=CtrlCBar(), **kw)
    assert part.interrupted and np.all(part.meta["steps_done"] < steps)
    _, state = plrf.checkpoint.load(path)
    assert np.all(state["ctrl"][:, 0] > 0.5**2)  # S has grown since b0^2
    resumed = plrf.resume(path)
    whole = plrf.simulate(spec, opt, steps, **kw)
    np.testing.assert_array_equal(resumed.risk, whole.risk)
    np.testing.assert_array_equal(resumed.lr, whole.lr)


def test_divergence_under_controller_is_reported_with_its_step():
    spec = problem(*PAIRS[0]).spectrum()
    with pytest.warns(plrf.DivergenceWarning, match="first at step"):
        curves = plrf.simulate(spec, plrf.chain(plrf.sgd(1.0), controllers.polyak(c=1e-3)), 20, seeds=10)
    assert np.all(curves.diverged_at > 0) and np.all(np.isnan(curves.lr[:, -1]))


@pytest.mark.parametrize("build, word", [
    (lambda: controllers.adagrad_norm(G=0.0), "G"),
    (lambda: controllers.adagrad_norm(G=float("nan")), "G"),
    (lambda: controllers.adagrad_norm(b0=-1.0), "b0"),
    (lambda: controllers.adagrad_norm(b0=float("nan")), "b0"),
    (lambda: controllers.polyak(c=0.0), "c"),
    (lambda: controllers.polyak(floor=-1.0), "floor"),
    (lambda: controllers.ema_norm(beta=1.0), "beta"),
    (lambda: controllers.adagrad_norm(placement="delta"), "placement"),
    (lambda: controllers.get("adamw"), "controller"),
    (lambda: controllers.get("polyak", G=1.0), "G"),
])
def test_bad_controller_arguments_are_named(build, word):
    with pytest.raises(ValueError, match=word):
        build()


def test_engine_that_cannot_run_the_controller_is_refused():
    prob = problem(*PAIRS[0])
    with pytest.raises(ValueError, match="space"):
        plrf.simulate(prob, plrf.chain(plrf.sgd(1.0), controllers.line_search()), 5, space="full")
    with pytest.raises(ValueError, match="controller"):
        plrf.simulate(prob, plrf.chain(plrf.sgd(1.0), plrf.controllers.get("adamw")), 5)
    with pytest.raises(ValueError, match="controller"):
        plrf.simulate(prob, plrf.chain(plrf.sgd(1.0), 3), 5)


# ---- exact_risk with a controller: the deterministic equivalent -------------------------------------
DE_CASES = [(name, params, opt) for name, params, opt in CASES.values()]


@pytest.mark.parametrize("nodes", [False, True])
@pytest.mark.parametrize("name,params,opt_name", DE_CASES)
def test_exact_de_equals_numpy_de(name, params, opt_name, nodes):
    """method="exact" with a controller is plrf.testing.adaptive.deterministic_equivalent to 1e-12
    (measured <= 1e-15), per mode and on compressed nodes (multiplicities)."""
    k = np.arange(1, 301, dtype=float)
    spec = plrf.Spectrum(k**-1.4, k**-0.9, 0.05, meta={"alpha": 0.7, "beta": 0.45})
    spec = spec.compress(1e-3) if nodes else spec
    opt = plrf.sgd(1.0) if opt_name == "sgd1" else plrf.defaults(spec, 2)[opt_name]
    rec = plrf.record_grid(400)
    ref = deterministic_equivalent(spec, opt, reference_controller(name, **params), 400, batch=2, record=rec,
                                   multiplicity=spec.multiplicity)
    got = plrf.exact_risk(spec, plrf.chain(opt, controllers.get(name, **params)), 400, batch=2, record=rec)
    np.testing.assert_allclose(got.risk, ref.risk, rtol=1e-12)
    np.testing.assert_allclose(got.lr, ref.lr, rtol=1e-12)
    assert got.meta["approximation"] == "deterministic equivalent" and np.isnan(got.lr[0])


@pytest.mark.parametrize("name", ["risk_norm", "rmsprop_dana", "ema_norm"])
def test_ode_de_tends_to_exact_de(name):
    """The ODE (statistics read at the previous grid point) is off over the first steps like the
    plain ODE, and meets the discrete DE later: measured |P_ode/P_exact - 1| < 1e-4 at t = 1e4."""
    spec = plrf.Spectrum.theory(1.0, 0.7, d=2000)
    opt = plrf.chain(plrf.defaults(spec, 2)["dana_decaying"], controllers.get(name))
    rec = np.array([0, 10, 10_000])
    kw = dict(batch=2, record=rec)
    exact, ode = plrf.exact_risk(spec, opt, 10_000, **kw), plrf.exact_risk(spec, opt, 10_000, method=plrf.engines.ode(dt=1e-3), **kw)
    assert abs(ode.risk[-1] / exact.risk[-1] - 1) < 1e-3 and abs(ode.lr[-1] / exact.lr[-1] - 1) < 1e-3
    assert abs(ode.risk[1] / exact.risk[1] - 1) > 1e-3  # the early transient is the ODE's, not a controller bug


@pytest.mark.parametrize("lam, G, x0, error2", [(1.0, 1.0, 1.5, 1.0), (0.5, 0.7, 1.0, 0.2)])
def test_exact_de_isotropic_adagrad_norm_limit(lam, G, x0, error2):
    """K = lam I_100 (one node of multiplicity 100), noiseless, B = 1: the limiting learning rate of
    the isotropic formula of docs/theory.md §12.4 to 1e-3 (the discrete DE at d = 100 is within 4e-4)."""
    d, c = 100, 102.0
    b0 = G * lam * c / x0
    eta = theory.adagrad_norm_isotropic_limit(lam, d, G, b0, error2)
    steps = int(25 / (eta * lam))
    spec = plrf.Spectrum([lam], [error2], 0.0, multiplicity=[d])
    de = plrf.exact_risk(spec, plrf.chain(plrf.sgd(1.0), controllers.adagrad_norm(G=G, b0=b0)), steps, record=np.array([0, steps]))
    assert abs(de.lr[-1] / eta - 1) < 1e-3


def _line_search_limit(lam1, lam2, d):
    spec = plrf.Spectrum([lam1, lam2], [1.0, 1.0], 0.0, multiplicity=[d // 2, d // 2])
    steps = int(30 * d * lam1 / lam2)
    de = plrf.exact_risk(spec, plrf.chain(plrf.sgd(1.0), controllers.line_search()), steps, record=np.array([0, steps]))
    return de.lr[-1] * d


@pytest.mark.parametrize("lam1, lam2", [(1.0, 0.5), (3.0, 2.0)])
def test_exact_de_two_eigenvalue_line_search_limit(lam1, lam2):
    """Richardson on d = 100, 200 removes the DE's 1/d term and lands within 1e-3 of [HL]'s closed form."""
    ref = theory.line_search_two_eigenvalues(lam1, lam2)
    g1, g2 = _line_search_limit(lam1, lam2, 100), _line_search_limit(lam1, lam2, 200)
    assert abs((2 * g2 - g1) / ref["gamma"] - 1) < 1e-3
    assert abs(g1 / ref["gamma"] - 1) > 1e-3 * (lam1 != lam2)  # the finite-d value is not the limit


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.3), (1.0, 0.1), (0.75, 0.2), (1.0, 0.7)])
def test_de_exponents_match_families_formulas(alpha, beta):
    """lambda_k = k^-2alpha, rho_k = k^-2beta, d = 1e6 compressed to ~1000 nodes, AdaGrad-Norm G = 0.5,
    b0 = 1, B = 1; log-log slopes over t in [1e5, 1e7] by the ODE DE. Measured deviations <= 0.016
    (the exact DE gives the same slopes to 1e-3); the acceptance is 0.03."""
    k = np.arange(1, 10**6 + 1, dtype=float)
    spec = plrf.Spectrum(k ** (-2 * alpha), k ** (-2 * beta), 0.0).compress(1e-4)
    steps = 10**7
    rec = np.concatenate([[0], np.unique(np.round(np.geomspace(1, steps, 61)).astype(np.int64))])
    de = plrf.exact_risk(spec, plrf.chain(plrf.sgd(1.0), controllers.adagrad_norm(G=0.5, b0=1.0)), steps, record=rec, method=plrf.engines.ode(dt=1e-3))
    window = rec >= steps / 100
    slope = lambda y: np.polyfit(np.log(rec[window]), np.log(y[window]), 1)[0]
    want = theory.adagrad_norm_exponents(alpha, beta)
    assert abs(slope(de.lr) + want["lr"]) < 0.03 and abs(slope(de.risk) + want["risk"]) < 0.03


def test_exact_de_divergence_is_reported_with_its_step():
    spec = problem(*PAIRS[0]).spectrum()
    with pytest.warns(plrf.DivergenceWarning, match="step"):
        de = plrf.exact_risk(spec, plrf.chain(plrf.sgd(1.0), controllers.polyak(c=1e-3)), 20)
    assert de.diverged_at > 0 and np.isnan(de.lr[-1])


def test_method_that_cannot_run_a_controller_is_refused():
    with pytest.raises(ValueError, match="method"):
        plrf.exact_risk(problem(*PAIRS[0]).spectrum(), plrf.chain(plrf.sgd(1.0), controllers.risk_norm()), 10, method="fast")


# ---- analysis reach: fit, plot, sweeps, CLI, defaults -----------------------------------------------
def test_fit_learning_rate_recovers_the_de_exponent():
    k = np.arange(1, 10**5 + 1, dtype=float)
    spec = plrf.Spectrum(k**-2.0, k**-0.2, 0.0).compress(1e-4)  # (alpha, beta) = (1, 0.1)
    de = plrf.exact_risk(spec, plrf.chain(plrf.sgd(1.0), controllers.adagrad_norm(G=0.5, b0=1.0)), 10**7, method=plrf.engines.ode(dt=1e-3))
    f = plrf.fit.learning_rate(de, window=(1e5, 1e7))
    assert abs(f.exponent - theory.adagrad_norm_exponents(1.0, 0.1)["lr"]) < 0.03
    mc = cpp(PAIRS[0], 1, "adagrad_norm/sgd", "fast", seeds=50)
    assert np.isfinite(plrf.fit.learning_rate(mc, min_slope=0.0).exponent)
    with pytest.raises(ValueError, match="controller"):
        plrf.fit.learning_rate(plrf.exact_risk(spec, plrf.sgd(0.5), 100))


def test_plot_draws_learning_rate_curves(tmp_path):
    mc = cpp(PAIRS[0], 1, "adagrad_norm/sgd", "fast", seeds=20)
    de = plrf.exact_risk(problem(*PAIRS[0]).spectrum(), plrf.chain(plrf.sgd(1.0), controllers.get("adagrad_norm", G=1.0, b0=0.5)), STEPS, record=RECORD)
    fig = plrf.plot.curves({"MC": mc}, exact=[de], quantity="lr", path=tmp_path / "lr.png")
    assert (tmp_path / "lr.png").stat().st_size > 0 and "learning-rate" in fig.axes[0].get_ylabel()
    with pytest.raises(ValueError, match="lr"):
        plrf.plot.curves(plrf.exact_risk(problem(*PAIRS[0]).spectrum(), plrf.sgd(0.1), 10), quantity="lr")


def test_sweep_runs_controllers_by_name_and_stores_lr(tmp_path):
    from plrf.sweep import grid
    g = grid(alpha=1.0, beta=0.7, d=12, optimizer="sgd", steps=100, engine=["exact", "simulate"], seeds=[0, 1],
             options={"controller": {"name": "adagrad_norm", "G": 1.0, "b0": 0.5}})
    rep = plrf.sweep.run(g, store=tmp_path, workers=1, progress=False)
    assert rep.computed == 2
    from plrf.sweep.store import Store
    records = [Store(tmp_path).read(k)["result"] for k in rep.keys]
    assert records and all(r.lr is not None and r.lr.shape == r.risk.shape for r in records)
    with pytest.raises(ValueError, match="method"):
        plrf.sweep.run(grid(alpha=1.0, beta=0.7, d=12, optimizer="sgd", steps=10, engine="fast",
                            options={"controller": "risk_norm"}), store=tmp_path / "b", progress=False)
    with pytest.raises(ValueError, match="controller"):
        plrf.sweep.run(grid(alpha=1.0, beta=0.7, d=12, optimizer="sgd", steps=10,
                            options={"controller": "adamw"}), store=tmp_path / "c", progress=False)


def test_controller_defaults_by_name():
    spec = problem(*PAIRS[0]).spectrum()
    table = controllers.defaults(spec, 4)
    assert tuple(table) == controllers.NAMES
    assert table["adagrad_norm"] == controllers.adagrad_norm().resolve(spec, 4) and table["adagrad_norm"].G > 0


def test_cli_demo_takes_a_controller(tmp_path, capsys):
    from plrf.cli import main
    assert main(["demo", "--d", "30", "--steps", "200", "--exact-steps", "1000", "--fit-d", "1e4", "--fit-steps",
                 "1e6", "--seeds", "4", "--out", "", "--controller", "adagrad_norm"]) == 0
    assert "sgd" in capsys.readouterr().out
    assert main(["demo", "--d", "30", "--out", "", "--controller", "adamw"]) == 2
