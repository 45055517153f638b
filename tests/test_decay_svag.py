"""Weight decay, ridge, injected noise (docs/families.md §2) and SVAG (§3) in the C++ engines.

- Exact recursion: equals the NumPy oracles plrf.testing.decay / svag to 1e-12, and with the knobs
  off (or l = 1) is bit-identical to today's engines (exact, fast, ode; simulate's samplers too).
- Monte Carlo (simulate, eigen path, fast and explicit samplers; full path for decay): z = (MC mean
  - exact) / SE at the 11 log-spaced steps 1 .. 100 with 2000 seeds; pass if max |z| < Z_MAX = 4
  (under the null P(any of ~11 correlated |z| > 4) is about 1e-3). Each family has a planted-bug
  twin in the oracle (weight decay: the s_j cross term dropped; SVAG: l/B replaced by 1/B) that must
  give max |z| > 4 on the same runs (measured: decay 37-263, SVAG 9-32; docs/families.md §2-3).
- Grid: (alpha, beta) in {(1, 0.7), (0.7, 0.3)} x B in {1, 4} x {SGD, DANA-decaying}: a Latin square
  by default, the other half (and the explicit sampler on it) under -m slow.
"""
import pickle
from functools import lru_cache

import numpy as np
import pytest

import plrf
from plrf.families_theory import sgd_stationary_risk
from plrf.testing import families as fam

Z_MAX = 4.0
STEPS, SEEDS, D = 100, 2000, 20
RECORD = np.unique(np.geomspace(1, STEPS, 12).astype(int))
GRID_REC = np.concatenate([[0], RECORD])
KNOBS = dict(l2=0.01, decay=plrf.adana_decay(0.05), noise=0.003)  # ridge, ADana's omega/t, DP-style noise
SVAG_L = 4.0

FAST = [((1.0, 0.7), 1, "sgd"), ((0.7, 0.3), 1, "dana_decaying"), ((0.7, 0.3), 4, "sgd"), ((1.0, 0.7), 4, "dana_decaying")]
SLOW = [((0.7, 0.3), 1, "sgd"), ((1.0, 0.7), 1, "dana_decaying"), ((1.0, 0.7), 4, "sgd"), ((0.7, 0.3), 4, "dana_decaying")]


def _ids(c):
    return f"{c[0]}-B{c[1]}-{c[2]}"


GRID = [pytest.param(*c, "fast", id=_ids(c) + "-fast") for c in FAST] + [
    pytest.param(*c, "explicit", id=_ids(c) + "-explicit") for c in FAST[:2]] + [
    pytest.param(*c, s, id=f"{_ids(c)}-{s}", marks=pytest.mark.slow) for c in SLOW for s in ("fast", "explicit")] + [
    pytest.param(*c, "explicit", id=_ids(c) + "-explicit", marks=pytest.mark.slow) for c in FAST[2:]]


@lru_cache(maxsize=None)
def spectrum(ab):
    return plrf.Spectrum.theory(ab[0], ab[1], D)


def optimizer(ab, batch, name):
    return plrf.defaults(spectrum(ab), batch)[name]


def exact_curve(spec, opt, batch, steps=STEPS, **kw):
    return plrf.exact_risk(spec, opt, steps, batch, record=np.arange(steps + 1), **kw).risk


def zmax(runs, exact):
    r = runs.risk[:, 1:]
    z = (r.mean(axis=0) - np.asarray(exact)[RECORD]) / (r.std(axis=0, ddof=1) / np.sqrt(r.shape[0]))
    return float(np.max(np.abs(z)))


# ---- exact recursion against the NumPy oracles ----------------------------------------------------
ORACLE = [(b, n) for b in (1, 4) for n in ("sgd", "sgd_momentum", "dana_decaying")]


@pytest.mark.parametrize("batch, name", ORACLE)
def test_decay_recursion_equals_the_oracle(batch, name):
    spec, opt = spectrum((1.0, 0.7)), optimizer((1.0, 0.7), batch, name)
    knobs = dict(l2=0.02, decay=plrf.Schedule.array(list(np.linspace(0.05, 0.0, STEPS))), noise=plrf.adana_decay(0.01))
    ours = exact_curve(spec, plrf.with_decay(opt, **knobs), batch)
    np.testing.assert_allclose(ours, fam.decay_risk(spec, opt, STEPS, batch, **knobs), rtol=1e-12, atol=0)


@pytest.mark.parametrize("batch, name", ORACLE)
def test_svag_recursion_equals_the_oracle(batch, name):
    spec, opt = spectrum((0.7, 0.3)), optimizer((0.7, 0.3), batch, name)
    ours = exact_curve(spec, plrf.svag(opt, 2.5), batch)
    np.testing.assert_allclose(ours, fam.svag_risk(spec, opt, STEPS, batch, 2.5), rtol=1e-12, atol=0)


def test_affine_recursion_on_nodes_equals_the_expanded_spectrum():
    """A node of multiplicity m takes m times the injected noise (like the lambda R2 forcing)."""
    spec = plrf.Spectrum.theory(1.0, 0.7, 400).compress(1e-2)
    assert spec.has_nodes
    opt = plrf.with_decay(plrf.defaults(spec, 2)["dana_decaying"], **KNOBS)
    np.testing.assert_allclose(exact_curve(spec, opt, 2), exact_curve(spec.expand(), opt, 2), rtol=1e-12)


# ---- reductions: knobs off is today's engine ----------------------------------------------------
@pytest.mark.parametrize("method", ["exact", "fast", "ode"])
@pytest.mark.parametrize("name", ["sgd", "dana_decaying"])
def test_knobs_off_and_l_one_are_bitwise_todays_engine(method, name):
    spec, opt = spectrum((1.0, 0.7)), optimizer((1.0, 0.7), 4, name)
    ref = plrf.exact_risk(spec, opt, 2000, 4, method=method).risk
    for off in (plrf.with_decay(opt), plrf.svag(opt, 1.0), plrf.with_decay(plrf.svag(opt, 1), noise=0.0)):
        assert not off.has_affine_knobs() and off.svag_l == 1.0
        assert np.array_equal(plrf.exact_risk(spec, off, 2000, 4, method=method).risk, ref)
    if method == "exact":  # an all-zero array schedule is "on": the affine recursion runs, and agrees
        zeros = plrf.with_decay(opt, l2=[0.0] * 2000, noise=[0.0] * 2000)
        assert zeros.has_affine_knobs()
        np.testing.assert_allclose(plrf.exact_risk(spec, zeros, 2000, 4).risk, ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("sampler", ["fast", "explicit"])
def test_simulate_with_knobs_off_is_bitwise_today(sampler):
    spec, opt = spectrum((0.7, 0.3)), optimizer((0.7, 0.3), 3, "dana_decaying")
    ref = plrf.simulate(spec, opt, 50, 3, seeds=4, space=plrf.engines.eigen(sampler=sampler)).risk
    for off in (plrf.with_decay(opt), plrf.svag(opt, 1.0)):
        assert np.array_equal(plrf.simulate(spec, off, 50, 3, seeds=4, space=plrf.engines.eigen(sampler=sampler)).risk, ref)


# ---- Monte Carlo against the recursion, and the planted bugs ------------------------------------
@lru_cache(maxsize=None)
def decay_mc(ab, batch, name, sampler):
    opt = plrf.with_decay(optimizer(ab, batch, name), **KNOBS)
    return plrf.simulate(spectrum(ab), opt, STEPS, batch, seeds=SEEDS, record=GRID_REC, space=plrf.engines.eigen(sampler=sampler))


@lru_cache(maxsize=None)
def svag_mc(ab, batch, name, sampler):
    opt = plrf.svag(optimizer(ab, batch, name), SVAG_L)
    return plrf.simulate(spectrum(ab), opt, STEPS, batch, seeds=range(10**6, 10**6 + SEEDS), record=GRID_REC, space=plrf.engines.eigen(sampler=sampler))


def decay_z(ab, batch, name, sampler, bug=None):
    if bug is None:  # the engine's own recursion (equal to the oracle, tested above)
        ex = exact_curve(spectrum(ab), plrf.with_decay(optimizer(ab, batch, name), **KNOBS), batch)
    else:
        ex = fam.decay_risk(spectrum(ab), optimizer(ab, batch, name), STEPS, batch, bug=bug, **KNOBS)
    return zmax(decay_mc(ab, batch, name, sampler), ex)


def svag_z(ab, batch, name, sampler, bug=None):
    if bug is None:
        ex = exact_curve(spectrum(ab), plrf.svag(optimizer(ab, batch, name), SVAG_L), batch)
    else:
        ex = fam.svag_risk(spectrum(ab), optimizer(ab, batch, name), STEPS, batch, SVAG_L, bug=bug)
    return zmax(svag_mc(ab, batch, name, sampler), ex)


@pytest.mark.parametrize("ab, batch, name, sampler", GRID)
def test_decay_simulation_matches_the_recursion(ab, batch, name, sampler):
    assert decay_z(ab, batch, name, sampler) < Z_MAX


@pytest.mark.parametrize("ab, batch, name, sampler", GRID)
def test_svag_simulation_matches_the_recursion(ab, batch, name, sampler):
    assert svag_z(ab, batch, name, sampler) < Z_MAX


@pytest.mark.parametrize("case", FAST[:2], ids=_ids)
def test_decay_planted_bug_fails(case):
    """The cross term 2 h (M mu) dropped from the second moments (in the oracle): rejected."""
    assert decay_z(*case, "fast", bug="no_cross_term") > Z_MAX


@pytest.mark.parametrize("case", FAST[:2], ids=_ids)
def test_svag_planted_bug_fails(case):
    """l/B replaced by 1/B in the gradient noise (in the oracle): rejected."""
    assert svag_z(*case, "fast", bug="1/B_not_l/B") > Z_MAX


def test_decay_on_the_full_path_matches_the_recursion():
    """space='full' applies the knobs to theta itself; its twin (cross term dropped) fails."""
    prob = plrf.PLRF(1.0, 0.7, D, v=4 * D, seed=1)
    spec, opt = prob.spectrum(), plrf.sgd(0.3)
    runs = plrf.simulate(prob, plrf.with_decay(opt, **KNOBS), STEPS, 1, seeds=1000, record=GRID_REC, space="full")
    assert zmax(runs, exact_curve(spec, plrf.with_decay(opt, **KNOBS), 1)) < Z_MAX
    assert zmax(runs, fam.decay_risk(spec, opt, STEPS, 1, bug="no_cross_term", **KNOBS)) > Z_MAX


# ---- long runs ------------------------------------------------------------------------------
def test_constant_knobs_reach_the_stationary_risk():
    """The exact recursion converges to plrf.families_theory.sgd_stationary_risk (its fixed point)."""
    spec = spectrum((1.0, 0.7))
    for knobs in (dict(l2=0.05), dict(decay=0.02, noise=0.01), dict(l2=0.01, decay=0.01, noise=0.003)):
        curve = plrf.exact_risk(spec, plrf.with_decay(plrf.sgd(0.5), **knobs), 3000, 2, record=[3000])
        np.testing.assert_allclose(curve.risk[-1], sgd_stationary_risk(spec, 0.5, 2, **knobs), rtol=1e-10)


def test_svag_runs_in_fast_and_ode():
    """SVAG is only coefficients, so the block solver and the ODE run it (to their usual accuracy)."""
    spec = spectrum((1.0, 0.7))
    opt = plrf.svag(optimizer((1.0, 0.7), 1, "dana_decaying"), 3.0)
    exact = plrf.exact_risk(spec, opt, 10**4).risk
    np.testing.assert_allclose(plrf.exact_risk(spec, opt, 10**4, method=plrf.engines.fast(rtol=1e-5)).risk, exact, rtol=1e-3)
    ode = plrf.exact_risk(spec, opt, 10**4, method="ode")  # continuized: a few % off over the first ~50 steps
    np.testing.assert_allclose(ode.risk[ode.steps >= 100], exact[ode.steps >= 100], rtol=0.01)


# ---- the optimizer object: name, meta, pickle, checkpoint, sweeps ------------------------------
def test_knobs_are_recorded_and_survive_pickle_and_checkpoints(tmp_path):
    spec = spectrum((1.0, 0.7))
    opt = plrf.svag(plrf.with_decay(plrf.sgd(0.2), decay=plrf.adana_decay(0.1), noise=[0.01] * 30), 2.0)
    assert opt.name == "sgd+decay+noise+svag2"
    c = opt.coefficients(3)
    assert c["gamma2"] == 0.1 and c["decay"] == pytest.approx(0.025) and c["noise"] == 0.01 and c["svag_l"] == 2.0
    assert pickle.loads(pickle.dumps(opt)) == opt and opt != plrf.svag(plrf.sgd(0.2), 2.0)
    meta = plrf.exact_risk(spec, opt, 30).meta
    assert meta["optimizer"] == opt.name and meta["svag_l"] == 2.0 and "adana" not in meta["decay"]
    path = tmp_path / "run.ckpt"
    full = plrf.simulate(spec, opt, 30, seeds=3, checkpoint=path)
    again = plrf.resume(path)
    assert np.array_equal(again.risk, full.risk) and again.meta["svag_l"] == 2.0
    assert plrf.checkpoint.load(path)[0]["optimizer"] == opt


def test_sweeps_key_and_run_the_knobs():
    from plrf.sweep import config

    plain, knobbed = plrf.sgd(0.1), plrf.with_decay(plrf.sgd(0.1), decay=0.01)
    assert "decay" not in config.optimizer_state(plain)  # existing keys (and stores) unchanged
    assert config.optimizer_state(knobbed)["decay"][1] == 0.01
    assert config.optimizer_label(plain) != config.optimizer_label(knobbed)


# ---- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("arg", ["l2", "decay", "noise"])
@pytest.mark.parametrize("value", [-0.1, np.nan, [0.1, -0.1], plrf.Schedule.power_law(-1.0, 1.0, -1.0)])
def test_negative_or_nan_knobs_are_refused_by_name(arg, value):
    with pytest.raises(ValueError, match=arg):
        plrf.with_decay(plrf.sgd(0.1), **{arg: value})


def test_bad_svag_and_unsupported_combinations_are_refused():
    spec, opt = spectrum((1.0, 0.7)), plrf.sgd(0.1)
    for bad in (0.5, np.nan, np.inf, -1):
        with pytest.raises(ValueError, match="l must be"):
            plrf.svag(opt, bad)
    with pytest.raises(ValueError, match="svag"):
        plrf.GenMomentum(opt.gamma1, opt.gamma2, opt.gamma3, opt.delta, svag_l=0.9)
    with pytest.raises(ValueError, match="noise"):
        plrf.GenMomentum(opt.gamma1, opt.gamma2, opt.gamma3, opt.delta, noise=plrf.Schedule.constant(-1.0))
    decayed = plrf.with_decay(opt, decay=0.01)
    for method in ("fast", "ode"):
        with pytest.raises(ValueError, match=r"decay\(decay\) is not defined for exact_risk\(method='(fast|ode)'\)"):
            plrf.exact_risk(spec, decayed, 100, method=method)
    with pytest.raises(ValueError, match=r"svag\(2\) is not defined for simulate\(space='full'\)"):
        plrf.simulate(plrf.PLRF(1.0, 0.7, 10, v=40), plrf.svag(opt, 2.0), 10, space="full")
    with pytest.raises(ValueError, match="noise"):
        plrf.exact_risk(spec, plrf.with_decay(opt, noise=[0.1] * 5), 10)  # too short an array schedule


def test_sweep_config_knobs_reach_the_engines(tmp_path):
    """grid(..., decay=[...], svag=...) applies the knobs to the named optimizer; off values keep old keys."""
    from plrf.sweep import config, tasks

    base = dict(alpha=1.0, beta=0.7, d=D, spectrum="theory", optimizer="sgd", steps=50)
    engines = tasks.ENGINES
    assert config.config_key(config.normalize(dict(base, decay=0.0, svag=1), engines)) == \
        config.config_key(config.normalize(base, engines))
    with pytest.raises(ValueError, match="svag"):
        config.normalize(dict(base, svag=0.5), engines)
    rep = plrf.sweep.run(plrf.sweep.grid(**base, decay=[0.0, 0.02], svag=[1.0, 2.0]), store=tmp_path, progress=False)
    df = plrf.load(tmp_path)
    assert set(df["optimizer"]) == {"sgd", "sgd+decay0.02", "sgd+svag2", "sgd+decay0.02+svag2"}
    spec = spectrum((1.0, 0.7))
    opt = plrf.svag(plrf.with_decay(plrf.defaults(spec)["sgd"], decay=0.02), 2.0)
    last = df[(df.optimizer == "sgd+decay0.02+svag2") & (df.step == 50)].risk.item()
    assert last == pytest.approx(plrf.exact_risk(spec, opt, 50, record=[50]).risk[-1], rel=1e-12)


def test_cli_frontier_takes_svag(capsys):
    from plrf.cli import main
    from plrf.cli.frontier import measure_curves

    curves = measure_curves(1.0, 0.7, "sgd", [10], 200, 2, log=lambda *a: None, svag=2.0)
    spec = plrf.Spectrum.theory(1.0, 0.7, 10, compress=True)
    ref = plrf.exact_risk(spec, plrf.svag(plrf.defaults(spec, 2)["sgd"], 2.0), 200, 2, record=curves[10].steps,
                          method="fast")
    assert curves[10].meta["optimizer"] == "sgd+svag2" and np.array_equal(curves[10].risk, ref.risk)
    assert main(["frontier", "--alpha", "1", "--beta", "0.7", "--svag", "0.5"]) == 2
    assert "--svag must be" in capsys.readouterr().err
