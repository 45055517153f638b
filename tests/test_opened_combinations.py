"""Combinations opened by issue 22 item 4 (docs/families.md §5), each checked by Monte Carlo against the
exact engine or, for a controller, its deterministic equivalent (DE):

1. a step-size controller with ridge/decay/noise (ADana's pieces): the DE is approximate, so the check is a
   tabulated relative error, at B = 16 and 64 on (alpha, beta) = (0.3, 0.7), d = 256 (inside the DE's
   validity region, docs/adaptive.md §3). Measured max |DE / MC - 1| over records t >= 10 (200 seeds, MC
   relative SE <= 0.5%): E[P] 0.24%-0.58%, mean lr 0.13%-0.63%. Bound: 3%. Planted twin: the DE with the
   knobs dropped (what an engine that ignored them would print) is 28%-48% off, and must be > 10% off.
2. experts with ridge/decay/noise, and 3. SVAG with experts: exact in law, so z = (MC mean - exact) / SE
   at the 11 log-spaced records 1 .. 100 (d = 20), maximised over experts; pass if max |z| < Z_MAX = 4.
   Planted twins (each must give max |z| > Z_MAX): decay applied only when a sample reaches the expert
   (in expectation decay p_i), and SVAG's noise left at 1/B instead of l/B (sgd(lr / l), no SVAG).
Seeds: simulate's default seeds 0 .. SEEDS-1. The slow tests repeat 2 and 3 with 10x the seeds.
"""
import numpy as np
import pytest

import plrf
from plrf import controllers

Z_MAX = 4.0
STEPS = 100
RECORD = np.unique(np.geomspace(1, STEPS, 12).astype(int))
ALL = np.arange(STEPS + 1)
P = (0.3, 0.7)
KNOBS = dict(l2=0.05, decay=0.03, noise=0.05)


# ---- 1. controller + ridge/decay/noise: DE against Monte Carlo (tabulated error) ------------------
DE_BOUND = 0.03
CTRL_SPEC = plrf.Spectrum.theory(0.3, 0.7, 256)
CTRL_T, CTRL_SEEDS = 1000, 200
CTRL_REC = plrf.record_grid(CTRL_T, 12)


def ctrl_case(name):
    if name == "adagrad_norm":
        return plrf.sgd(1.0), controllers.adagrad_norm()
    return plrf.sgd(0.02), controllers.ema_norm(0.99, placement=("gamma2",))


@pytest.mark.parametrize("batch", [16, 64])
@pytest.mark.parametrize("name", ["adagrad_norm", "ema_norm"])
@pytest.mark.parametrize("knobs", [dict(decay=0.005, l2=0.02), dict(decay=0.005, noise=0.005)])
def test_controller_with_decay_de_tracks_monte_carlo(batch, name, knobs):
    base, ctrl = ctrl_case(name)
    opt = plrf.with_decay(base, **knobs)
    mc = plrf.simulate(CTRL_SPEC, plrf.chain(opt, ctrl), CTRL_T, batch=batch, seeds=CTRL_SEEDS, record=CTRL_REC)
    de = plrf.exact_risk(CTRL_SPEC, plrf.chain(opt, ctrl), CTRL_T, batch=batch, record=CTRL_REC)
    twin = plrf.exact_risk(CTRL_SPEC, plrf.chain(base, ctrl), CTRL_T, batch=batch, record=CTRL_REC)
    late = CTRL_REC >= 10
    mean = mc.risk.mean(axis=0)[late]
    assert np.max(np.abs(de.risk[late] / mean - 1)) < DE_BOUND
    assert np.max(np.abs(de.lr[late] / mc.lr.mean(axis=0)[late] - 1)) < DE_BOUND
    assert np.max(np.abs(twin.risk[late] / mean - 1)) > 0.1  # the knobs matter: dropping them is caught
    assert de.meta["approximation"] == "deterministic equivalent" and de.meta["decay"] is not None


def test_controller_with_decay_runs_on_the_full_path_and_the_explicit_sampler():
    problem = plrf.PLRF(alpha=0.3, beta=0.7, v=40, d=20, seed=0)
    opt = plrf.with_decay(plrf.sgd(0.5), decay=0.01, l2=0.01, noise=0.01)
    for kw in (dict(space="full"), dict(space=plrf.engines.eigen(sampler="explicit"))):
        c = plrf.simulate(problem, plrf.chain(opt, controllers.adagrad_norm()), 50, batch=4, seeds=4, **kw)
        assert np.all(np.isfinite(c.risk)) and np.all(np.isfinite(c.lr[:, 1:]))  # lr[0]: no step yet


def test_controller_still_refuses_svag_and_the_ode_still_refuses_decay():
    spec = plrf.Spectrum.theory(0.3, 0.7, 32)
    with pytest.raises(ValueError, match="SVAG"):
        plrf.simulate(spec, plrf.chain(plrf.svag(plrf.sgd(0.5), 2.0), controllers.adagrad_norm()), 10)
    with pytest.raises(ValueError, match="SVAG"):
        plrf.exact_risk(spec, plrf.chain(plrf.svag(plrf.sgd(0.5), 2.0), controllers.adagrad_norm()), 10)
    with pytest.raises(ValueError, match="method='exact'"):
        plrf.exact_risk(spec, plrf.chain(plrf.with_decay(plrf.sgd(0.5), decay=0.01), controllers.adagrad_norm()), 10, method="ode")


# ---- 2 and 3. experts with ridge/decay/noise, and with SVAG: exact in law ------------------------
def spectrum():
    return plrf.Spectrum.theory(1.0, 0.7, 20)


def zmax(mc, parts):
    """max |z| over records and experts; parts: (m, STEPS + 1) expected risk."""
    mean, sem = mc.parts.mean(axis=0), mc.parts.std(axis=0, ddof=1) / np.sqrt(mc.parts.shape[0])
    return float(np.max(np.abs(mean - parts[:, RECORD]) / sem))


def base(name, batch):
    return plrf.defaults(spectrum(), batch)[name]


def experts_case(kind, name, batch, sparse=False, clock="shared"):
    """(Experts, optimizer, twin Experts): the twin's exact curve is the planted mistake."""
    b = base(name, batch)
    p = (0.1, 0.5, 0.9) if sparse else P
    if kind == "knobs":
        opt = plrf.with_decay(b, **KNOBS)
        twin = [plrf.with_decay(b, **{**KNOBS, "decay": KNOBS["decay"] * pi}) for pi in p]  # decay when routed only
    else:  # svag, on SGD so that the twin is expressible: sgd(lr / l) keeps SVAG's step but not its l / B noise
        lr, l = 0.3, 2.0  # inside the light-tailed region: at lr 0.5 (B = 1) the risk is heavy-tailed and the SE unreliable
        opt, twin = plrf.svag(plrf.sgd(lr), l), [plrf.sgd(lr / l)] * len(p)
    experts = plrf.Experts(p, sparse=sparse, clock=clock)
    return experts, opt, plrf.Experts(p, sparse=sparse, clock=clock, optimizers=twin)


def mc_and_exact(kind, name, batch, seeds, **kw):
    E, opt, twin = experts_case(kind, name, batch, **kw)
    mc = plrf.simulate(spectrum(), plrf.chain(opt, E), STEPS, batch=batch, seeds=seeds, record=RECORD)
    ex = plrf.exact_risk(spectrum(), plrf.chain(opt, E), STEPS, batch=batch, record=ALL)
    tw = plrf.exact_risk(spectrum(), plrf.chain(opt, twin), STEPS, batch=batch, record=ALL)
    return mc, ex, tw


CASES = [("knobs", "sgd", 1, {}), ("knobs", "dana_decaying", 4, {}), ("knobs", "sgd", 4, dict(sparse=True)),
         ("knobs", "dana_decaying", 1, dict(clock="expert")), ("svag", "sgd", 1, {}), ("svag", "sgd", 4, {}),
         ("svag", "sgd", 4, dict(sparse=True))]


@pytest.mark.parametrize("kind, name, batch, kw", CASES)
def test_experts_monte_carlo_matches_exact(kind, name, batch, kw):
    mc, ex, tw = mc_and_exact(kind, name, batch, 4000, **kw)
    assert zmax(mc, ex.parts) < Z_MAX
    assert zmax(mc, tw.parts) > Z_MAX  # the planted twin is rejected


@pytest.mark.slow
@pytest.mark.parametrize("kind, name, batch, kw", CASES)
def test_experts_monte_carlo_matches_exact_many_seeds(kind, name, batch, kw):
    mc, ex, tw = mc_and_exact(kind, name, batch, 40_000, **kw)
    assert zmax(mc, ex.parts) < Z_MAX
    assert zmax(mc, tw.parts) > Z_MAX


def test_experts_with_per_expert_knobs_match_exact():
    """One expert with decay/noise, one plain: each expert's model carries its own knobs."""
    b = base("sgd", 2)
    opts = [plrf.with_decay(b, **KNOBS), b]
    E = plrf.Experts(P, optimizers=opts)
    mc = plrf.simulate(spectrum(), plrf.chain(b, E), STEPS, batch=2, seeds=4000, record=RECORD)
    ex = plrf.exact_risk(spectrum(), plrf.chain(b, E), STEPS, batch=2, record=ALL)
    assert zmax(mc, ex.parts) < Z_MAX


@pytest.mark.parametrize("method", ["fast", "ode"])
def test_svag_experts_runs_on_the_other_exact_methods(method):
    """SVAG works with every discrete method; with experts too (fast within 1e-3 of exact, the ODE
    its continuized model, within 5% once past the transient)."""
    E, opt, _ = experts_case("svag", "sgd", 1)
    T = 10_000
    rec = plrf.record_grid(T, 10)
    ex = plrf.exact_risk(spectrum(), plrf.chain(opt, E), T, record=rec)
    other = plrf.exact_risk(spectrum(), plrf.chain(opt, E), T, record=rec, method=method)
    late = rec >= 1000
    assert np.max(np.abs(other.parts[:, late] / ex.parts[:, late] - 1)) < (1e-3 if method == "fast" else 0.05)


def test_one_plain_expert_is_still_bitwise_the_plain_engine():
    """Opening the combinations left the plain mixture alone: a knob-free mixture gives today's numbers,
    and a decayed single expert with p = 1 gives the single learner's."""
    opt = plrf.with_decay(base("sgd", 4), **KNOBS)
    one = plrf.exact_risk(spectrum(), plrf.chain(opt, plrf.Experts([1.0])), STEPS, batch=4, record=ALL)
    np.testing.assert_array_equal(one.risk, plrf.exact_risk(spectrum(), opt, STEPS, batch=4, record=ALL).risk)
