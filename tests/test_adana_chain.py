"""ADana as a chain (plrf.adana, docs/families.md §6), measured against Monte Carlo.

1. The chain's schedules are the authors' (mlexpos/adana @ 3eef26f): a_t = delta / (delta + t), the paper's
   damping (1 + t)^(1 - kappa), decay omega / (wd_ts + t); defaults kappa = 0.85, delta = 8, omega = 4.
2. The whole chain (controller included) has no exact engine: its deterministic equivalent (DE) is checked by
   a tabulated relative error. (alpha, beta) = (0.7, 0.3), d = 200, B = 16, T = 1000, 200 seeds: measured
   max |DE / MC - 1| of E[P] over records t >= 10 is 0.62% (MC relative SE <= 0.21%). Bound: DE_BOUND = 2%.
   The mean lr (1 / sqrt(v)): -5.4% at t = 10 (Jensen: v_1 = ||g_0||^2 is one sample), <= 1.1% from t = 100;
   bounds 8% and DE_BOUND. Planted twins, the DE of a wrong chain against the same Monte Carlo (each must
   be > 10% off): omega = 2 instead of 4 (46% off), the decay's form omega / (1 + t) instead of
   omega / (wd_ts + t) (74%), the controller's delta = 2 instead of 8 (50%).
3. With the controller frozen (momentum + decay: exact in law and exact on method="exact"): z = (MC mean -
   exact) / SE at every record 1 <= t <= T; pass if max |z| < Z_MAX = 4 (34 correlated records: false alarm
   ~1e-3), 400 seeds: measured max |z| = 2.31. Step 0 is deterministic on both sides: 1e-12. Planted twins,
   the exact curve of a wrong chain against the same MC (each must give max |z| > Z_MAX): omega = 4.4
   instead of 4 (max |z| = 62), and omega / (1 + t) (356).
4. The log_ema_norm rule inside the engines against the plain NumPy reference (plrf.testing.adaptive): Monte
   Carlo z-test and DE to 1e-12 (section 4 below).
5. damping="code" (the JAX code's g3 (1 + max(t, 1)^(1 - kappa))): its values, and its DE against 200-seed
   Monte Carlo at the config of 2 (measured 1.04%, bound DE_BOUND); the paper damping's DE is 47% off that
   Monte Carlo (must be > 10%: the two forms are told apart).
Seeds: simulate's default seeds 0 .. SEEDS-1.
"""
import numpy as np
import pytest

import plrf
from plrf import controllers
from plrf.adana import adana_momentum

Z_MAX = 4.0
DE_BOUND = 0.02
T = 1000
REC = plrf.record_grid(T, 12)
LATE = REC >= 10
SPEC = plrf.PLRF(0.7, 0.3, 200).spectrum()
B = 16
LR = 0.01


def wrong_delta(lr, wd_ts):
    """The ADana chain with the controller's EMA timescale delta = 2 (the momentum's stays 8)."""
    return plrf.chain(adana_momentum(lr), controllers.log_ema_norm(2.0),
                      plrf.decay(decay=plrf.adana_decay(4.0, wd_ts)))


# ---- 1. the chain and its constants ----------------------------------------------------------------
def test_adana_chain_has_the_authors_schedules_and_defaults():
    opt = plrf.adana(0.1, wd_ts=50)
    momentum, ctrl, dec = (opt.get(k) for k in ("momentum", "controller", "decay"))
    o = momentum.optimizer
    for t in (0, 1, 7, 100, 12345):
        assert o.gamma1(t) == pytest.approx(8.0 / (8.0 + t), rel=1e-14)
        assert o.delta(t) == pytest.approx(8.0 / (8.0 + t), rel=1e-14)
        assert o.gamma2(t) == pytest.approx(0.1, rel=1e-14)
        assert o.gamma3(t) == pytest.approx(0.1 * (1.0 + t) ** 0.15, rel=1e-14)
        assert dec.decay(t) == pytest.approx(4.0 / (50.0 + t), rel=1e-14)
    assert o.gamma1(0) == 1.0  # a_0 = 1: the EMAs need no bias correction
    assert (ctrl.name, ctrl.delta, ctrl.placement) == ("log_ema_norm", 8.0, ("gamma2", "gamma3"))
    assert plrf.adana_decay(4.0) == plrf.Schedule.power_law(4.0, 1.0, -1.0)  # the paper's omega / t from 1
    assert plrf.adana(0.1, wd_ts=50, omega=0).get("decay") is None
    assert opt.engines() == ["exact", "eigen", "full"]


def test_log_ema_norm_rule_is_the_log_time_ema():
    c = controllers.log_ema_norm(delta=2.0).core()
    m, v = c.multiplier(0, 4.0, 0, 0, 0, 0, c.start(), 1, 1)
    assert (m, v) == (0.5, 4.0)  # a_0 = 1: v_1 = ||g_0||^2
    m, v = c.multiplier(2, 16.0, 0, 0, 0, 0, v, 1, 1)  # a_2 = 1/2
    assert (m, v) == (1 / np.sqrt(10.0), 10.0)


@pytest.mark.parametrize("build, word", [
    (lambda: plrf.adana(0.0, wd_ts=10), "lr"),
    (lambda: plrf.adana(0.1, wd_ts=0), "wd_ts"),
    (lambda: plrf.adana(0.1, wd_ts=0, omega=0), "wd_ts"),
    (lambda: plrf.adana_decay(4.0, tau=-1), "tau"),
    (lambda: plrf.adana(0.1, wd_ts=10, omega=-1), "omega"),
    (lambda: plrf.adana(0.1, wd_ts=10, delta=0), "delta"),
    (lambda: plrf.adana(0.1, wd_ts=10, kappa=float("nan")), "kappa"),
    (lambda: controllers.log_ema_norm(delta=-1.0), "delta"),
    (lambda: controllers.log_ema_norm(eps=-1.0), "eps"),
])
def test_bad_adana_arguments_are_named(build, word):
    with pytest.raises(ValueError, match=word):
        build()


def test_engines_without_a_per_step_normaliser_refuse_adana_naming_it():
    opt = plrf.adana(LR, wd_ts=10)
    for method in ("ode", "fast"):
        with pytest.raises(ValueError, match="controller|decay") as err:
            plrf.exact_risk(SPEC, opt, 10, method=method)
        assert method in str(err.value)
    with pytest.raises(ValueError, match="controller.*ode"):  # the rule alone, without ADana's decay
        plrf.exact_risk(SPEC, plrf.chain(plrf.sgd(0.1), controllers.log_ema_norm()), 10, method="ode")


def test_adana_chain_state_round_trips_and_keeps_other_controllers_dicts():
    from plrf import transforms

    opt = plrf.adana(LR, wd_ts=100, delta=6.0)
    back = transforms.from_state(transforms.to_state(opt))
    assert transforms.to_state(back) == transforms.to_state(opt) and back.get("controller").delta == 6.0
    assert "delta" not in controllers.ema_norm().to_dict()  # stored keys of the other rules are unchanged


# ---- 2. the whole chain: DE against Monte Carlo, a tabulated error -------------------------------------
@pytest.fixture(scope="module")
def adana_mc():
    return plrf.simulate(SPEC, plrf.adana(LR, wd_ts=T / 10), T, batch=B, seeds=200, record=REC, progress=False)


def _de_error(mc, opt):
    de = plrf.exact_risk(SPEC, opt, T, batch=B, record=REC, progress=False)
    return np.max(np.abs(de.risk[LATE] / mc.risk.mean(axis=0)[LATE] - 1)), de


def test_adana_de_tracks_monte_carlo_within_the_tabulated_error(adana_mc):
    err, de = _de_error(adana_mc, plrf.adana(LR, wd_ts=T / 10))
    assert err < DE_BOUND, err
    assert de.meta["capability"] == "approximate (deterministic equivalent)"
    assert "log_ema_norm" in de.meta["approximation_error"]  # ADana's measured error, not the generic one
    # 1 / sqrt(v) of a few samples (v_1 = ||g_0||^2) is above 1 / sqrt(E v): measured lr error -5.4% at t = 10,
    # -1.1% at t = 100, <= 1.1% after
    lr_err = np.abs(de.lr[LATE] / adana_mc.lr[:, LATE].mean(axis=0) - 1)
    assert np.all(lr_err[REC[LATE] >= 100] < DE_BOUND) and np.all(lr_err < 0.08), lr_err


@pytest.mark.parametrize("twin", [
    lambda: plrf.adana(LR, wd_ts=T / 10, omega=2.0),        # wrong constant
    lambda: plrf.adana(LR, wd_ts=1.0),                      # wrong form: omega / (1 + t)
    lambda: wrong_delta(LR, T / 10),                        # the controller's EMA timescale
], ids=["omega2", "omega_over_1_plus_t", "controller_delta2"])
def test_adana_planted_twin_is_caught_by_the_de_check(adana_mc, twin):
    err, _ = _de_error(adana_mc, twin())
    assert err > 0.10, err


# ---- 3. the controller frozen: momentum + decay, exact, a 4-SE z-test ---------------------------------
def frozen(omega=4.0, wd_ts=T / 10):
    return plrf.chain(adana_momentum(0.1 / SPEC.trace), plrf.decay(decay=plrf.adana_decay(omega, wd_ts)))


@pytest.fixture(scope="module")
def frozen_mc():
    return plrf.simulate(SPEC, frozen(), T, batch=B, seeds=400, record=REC, progress=False)


def _max_z(mc, opt):
    ex = plrf.exact_risk(SPEC, opt, T, batch=B, record=REC, progress=False)
    se = mc.risk.std(axis=0, ddof=1)[1:] / np.sqrt(mc.risk.shape[0])
    return np.max(np.abs((mc.risk.mean(axis=0)[1:] - ex.risk[1:]) / se)), ex


def test_adana_with_the_controller_frozen_is_exact_within_4_standard_errors(frozen_mc):
    z, ex = _max_z(frozen_mc, frozen())
    assert ex.meta["capability"] == "exact"
    assert frozen_mc.risk[0, 0] == pytest.approx(ex.risk[0], rel=1e-12)
    assert z < Z_MAX, z


@pytest.mark.parametrize("twin", [lambda: frozen(omega=4.4), lambda: frozen(wd_ts=1.0)],
                         ids=["omega4.4", "omega_over_1_plus_t"])
def test_adana_frozen_planted_twin_fails_the_z_test(frozen_mc, twin):
    z, _ = _max_z(frozen_mc, twin())
    assert z > Z_MAX, z


# ---- 4. the log-time EMA rule in the engines against the plain NumPy reference ------------------------
# plrf.testing.adaptive (docs/adaptive.md §2): the Monte Carlo, exact in law, by a two-sample z-test of the
# mean risk and mean lr at every record of a 60-step run (d = 20, 4000 seeds each, |z| < Z_MAX; measured
# max |z| = 1.82), and the DE equal to the NumPy DE to 1e-12. Planted twin: the reference
# with delta = 4 instead of 8 (max |z| = 46.1, must be > Z_MAX).
REF_PROBLEM = plrf.PLRF(1.0, 0.7, 20, seed=3)
REF_STEPS, REF_SEEDS = 60, 4000
REF_REC = plrf.record_grid(REF_STEPS, 4)


def _ref_max_z(cpp, ref):
    zs = []
    for which in ("risk", "lr"):
        a, b = getattr(cpp, which)[:, 1:], getattr(ref, which)[:, 1:]  # step 0: deterministic, no lr
        se = np.hypot(a.std(axis=0, ddof=1), b.std(axis=0, ddof=1)) / np.sqrt(REF_SEEDS)
        zs.append(np.abs(a.mean(axis=0) - b.mean(axis=0)) / se)
    return float(np.max(zs))


@pytest.fixture(scope="module")
def ref_runs():
    from plrf.testing.adaptive import controller as reference, monte_carlo

    opt = adana_momentum(0.05)
    cpp = plrf.simulate(REF_PROBLEM.spectrum(), plrf.chain(opt, controllers.log_ema_norm()), REF_STEPS,
                        batch=2, seeds=REF_SEEDS, record=REF_REC, progress=False)
    refs = {delta: monte_carlo(REF_PROBLEM, opt, reference("log_ema_norm", delta=delta), REF_STEPS, batch=2,
                               seeds=REF_SEEDS, seed=11, record=REF_REC) for delta in (8.0, 4.0)}
    return cpp, refs


def test_log_ema_norm_monte_carlo_matches_the_numpy_reference_and_its_twin_fails(ref_runs):
    cpp, refs = ref_runs
    assert _ref_max_z(cpp, refs[8.0]) < Z_MAX
    assert _ref_max_z(cpp, refs[4.0]) > Z_MAX


def test_log_ema_norm_de_equals_the_numpy_de():
    from plrf.testing.adaptive import controller as reference, deterministic_equivalent

    spec, opt = SPEC, adana_momentum(LR)
    want = deterministic_equivalent(spec, opt, reference("log_ema_norm"), T, batch=B, record=REC)
    got = plrf.exact_risk(spec, plrf.chain(opt, controllers.log_ema_norm()), T, batch=B, record=REC, progress=False)
    np.testing.assert_allclose(got.risk, want.risk, rtol=1e-12)
    np.testing.assert_allclose(got.lr[1:], want.lr[1:], rtol=1e-12)


# ---- 5. the code's damping (jax/optimizers.py: g3 (1 + max(t, 1)^(1 - kappa))) -------------------------
def test_adana_code_damping_is_the_authors_jax_form():
    o = adana_momentum(0.1, damping="code", steps=50)
    for t in (0, 1, 2, 50):
        assert o.gamma3(t) == pytest.approx(0.1 * (1.0 + max(t, 1) ** 0.15), rel=1e-14)
    assert plrf.adana(0.1, wd_ts=5, damping="code", steps=50).name.startswith("adana_code")
    with pytest.raises(ValueError, match="steps"):
        plrf.adana(0.1, wd_ts=5, damping="code")
    with pytest.raises(ValueError, match="steps"):
        plrf.adana(0.1, wd_ts=5, steps=50)  # the paper's damping is a power law: no steps
    with pytest.raises(ValueError, match="damping"):
        plrf.adana(0.1, wd_ts=5, damping="pytorch")


def test_adana_code_damping_de_tracks_monte_carlo():
    opt = plrf.adana(LR, wd_ts=T / 10, damping="code", steps=T)
    mc = plrf.simulate(SPEC, opt, T, batch=B, seeds=200, record=REC, progress=False)
    err, _ = _de_error(mc, opt)
    assert err < DE_BOUND, err
    paper, _ = _de_error(mc, plrf.adana(LR, wd_ts=T / 10))
    assert paper > 0.10, paper  # the two dampings differ by more than the check resolves
