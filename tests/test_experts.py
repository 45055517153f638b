"""Mixtures of experts and sparse updates (docs/families.md §1): the C++ engines against the NumPy
oracle plrf.testing.moe, their exact reductions, and the C++ Monte Carlo against the C++ recursion.

Statistics: as in test_families_oracle.py, z = (MC mean - exact) / SE at the 11 log-spaced records
1 .. 100 of d = 20 runs (8000 seeds: the C++ runs are cheap), maximised over experts; pass if
max |z| < Z_MAX = 4 (under the null P(any of ~22 correlated |z| > 4) is about 1e-3). The planted bug
"p instead of p(2 - p) in the lambda^2 term" lives in the oracle (plrf.testing.moe,
bug="p_not_p(2-p)"): the same Monte Carlo compared with the buggy curve must give max |z| > Z_MAX.
"""
from functools import lru_cache

import numpy as np
import pytest

import plrf
from family_cases import D, FAST, GRID, SLOW, optimizer, spectrum
from plrf import families_theory
from plrf.testing import moe as oracle

Z_MAX = 4.0
STEPS, SEEDS = 100, 8000
RECORD = np.unique(np.geomspace(1, STEPS, 12).astype(int))
ALL = np.arange(STEPS + 1)
P = (0.3, 0.7)


# ---- the exact engines against the oracle, and their reductions ---------------------------------
@pytest.mark.parametrize("name", ["sgd", "dana_decaying"])
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("clock", ["shared", "expert"])
def test_exact_equals_numpy_oracle(name, batch, clock):
    ab = (1.0, 0.7)
    spec, opt = spectrum(ab), optimizer(ab, batch, name)
    p = oracle.zipf_probabilities(3, 1.0)
    c = plrf.exact_risk(spec, plrf.chain(opt, plrf.Experts(p, clock=clock)), STEPS, batch=batch, record=ALL)
    total, per = oracle.moe_risk(spec, opt, STEPS, batch, p, clock="global" if clock == "shared" else "expert")
    np.testing.assert_allclose(c.parts, per.T, rtol=1e-12, atol=0)
    np.testing.assert_allclose(c.risk, total, rtol=1e-12, atol=0)
    assert c.meta["experts"] == list(p) and c.meta["clock"] == clock


def test_sparse_blocks_and_per_expert_optimizers_equal_the_oracle():
    ab = (0.7, 0.3)
    spec = spectrum(ab)
    act, opts = (0.1, 0.5, 0.9), [plrf.sgd(0.3), optimizer(ab, 1, "dana_decaying"), plrf.sgd_momentum(0.1, 0.9)]
    c = plrf.exact_risk(spec, plrf.chain(opts[0], plrf.Experts(act, sparse=True, optimizers=opts)), STEPS, record=ALL)
    per = oracle.expert_curves(spec, opts, STEPS, 1, np.array(act))
    np.testing.assert_allclose(c.parts, per.T, rtol=1e-12, atol=0)
    np.testing.assert_allclose(c.risk, per @ (np.array(act) / sum(act)), rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", ["exact", "fast", "ode"])
@pytest.mark.parametrize("name", ["sgd", "dana_decaying"])
def test_one_expert_with_p_one_is_todays_engine(method, name):
    """Route(gain 1, lam2 1, clock 1) multiplies by exact ones: the curves are bitwise equal."""
    spec = plrf.Spectrum.theory(1.0, 0.7, 200)
    opt = plrf.defaults(spec, 4)[name]
    plain = plrf.exact_risk(spec, opt, 10_000, batch=4, method=method)
    moe = plrf.exact_risk(spec, plrf.chain(opt, plrf.Experts([1.0])), 10_000, batch=4, method=method)
    np.testing.assert_array_equal(moe.risk, plain.risk)
    np.testing.assert_array_equal(moe.parts[0], plain.risk)


@pytest.mark.parametrize("ab", [(1.0, 0.7), (0.7, 0.3)])
def test_sgd_b1_expert_is_binomial_average_of_sgd(ab):
    spec, opt = spectrum(ab), plrf.sgd(0.4)
    p = (0.2, 0.5, 0.3)
    sgd = plrf.exact_risk(spec, opt, STEPS, record=ALL).risk
    c = plrf.exact_risk(spec, plrf.chain(opt, plrf.Experts(p)), STEPS, record=ALL)
    from scipy.stats import binom

    for i, pi in enumerate(p):
        want = binom.pmf(ALL[None, :], ALL[:, None], pi) @ sgd  # sum_n Binom(n; t, p_i) P_SGD(n), every t
        np.testing.assert_allclose(c.parts[i], want, rtol=1e-12, atol=0)
        assert c.parts[i][STEPS] == pytest.approx(oracle.binomial_average(sgd, STEPS, pi), rel=1e-12)


@pytest.mark.parametrize("name", ["sgd", "dana_decaying"])
def test_fast_and_ode_follow_exact_per_expert(name):
    """fast within its error estimate's scale (rtol 1e-4: measured max 2e-5); the ODE (continuized
    model) within 2e-3 once every expert is past its transient (1000 / min p steps, as test_exact_ode)."""
    spec = plrf.Spectrum.theory(1.0, 0.8, 300)
    opt = plrf.defaults(spec, 1)[name]
    E, T = plrf.Experts(P), 100_000
    rec = plrf.record_grid(T, 10)
    ex = plrf.exact_risk(spec, plrf.chain(opt, E), T, record=rec)
    fa = plrf.exact_risk(spec, plrf.chain(opt, E), T, record=rec, method="fast")
    od = plrf.exact_risk(spec, plrf.chain(opt, E), T, record=rec, method="ode")
    assert np.max(np.abs(fa.parts / ex.parts - 1)) < 1e-3
    late = rec >= 1000 / min(P)
    assert np.max(np.abs(od.parts[:, late] / ex.parts[:, late] - 1)) < 2e-3
    assert fa.error_estimate > 0 and od.error_estimate > 0


# ---- Monte Carlo against the recursion -----------------------------------------------------------
@lru_cache(maxsize=None)
def moe_mc(ab, batch, name, sparse=False):
    E = plrf.Experts((0.1, 0.5, 0.9) if sparse else P, sparse=sparse)
    return plrf.simulate(spectrum(ab), plrf.chain(optimizer(ab, batch, name), E), STEPS, batch=batch, seeds=SEEDS, record=RECORD)


def zmax(mc, parts):
    """max |z| over records t >= 1 and experts; parts: (m, STEPS + 1) expected risk."""
    mean, sem = mc.parts.mean(axis=0), mc.parts.std(axis=0, ddof=1) / np.sqrt(mc.parts.shape[0])
    t = RECORD >= 1
    return float(np.max(np.abs(mean[:, t] - parts[:, RECORD[t]]) / sem[:, t]))


def exact_parts(ab, batch, name, p=P, bug=None):
    return oracle.expert_curves(spectrum(ab), optimizer(ab, batch, name), STEPS, batch, np.array(p), bug=bug).T


@pytest.mark.parametrize("ab, batch, name", GRID)
def test_monte_carlo_matches_exact(ab, batch, name):
    mc = moe_mc(ab, batch, name)
    assert zmax(mc, exact_parts(ab, batch, name)) < Z_MAX
    # the recorded total is the weighted sum of the recorded parts
    np.testing.assert_allclose(mc.risk, np.einsum("smk,m->sk", mc.parts, np.array(P)), rtol=1e-14)


@pytest.mark.parametrize("ab, name", [((1.0, 0.7), "sgd"), ((0.7, 0.3), "dana_decaying")])
def test_planted_bug_fails(ab, name):
    """p instead of p(2 - p) on lambda^2, at B = 1 where that term is largest: the same runs reject it."""
    assert zmax(moe_mc(ab, 1, name), exact_parts(ab, 1, name, bug="p_not_p(2-p)")) > Z_MAX


@pytest.mark.slow
@pytest.mark.parametrize("ab", [(1.0, 0.7), (0.7, 0.3)])
def test_planted_bug_fails_at_b4_with_a_large_step(ab):
    """At B = 4 the lambda^2 term is 4x smaller (bug z ~ 2-3 at the recipe step): SGD at step 0.7, where
    the engine passes and the bug fails."""
    spec, opt = spectrum(ab), plrf.sgd(0.7)
    mc = plrf.simulate(spec, plrf.chain(opt, plrf.Experts(P)), STEPS, batch=4, seeds=SEEDS, record=RECORD)
    for bug, ok in ((None, True), ("p_not_p(2-p)", False)):
        z = zmax(mc, oracle.expert_curves(spec, opt, STEPS, 4, np.array(P), bug=bug).T)
        assert (z < Z_MAX) == ok, (bug, z)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sgd", "dana_decaying"])
def test_sparse_monte_carlo_matches_exact(name):
    ab = (1.0, 0.7)
    assert zmax(moe_mc(ab, 1, name, sparse=True), exact_parts(ab, 1, name, p=(0.1, 0.5, 0.9))) < Z_MAX


@pytest.mark.slow
def test_expert_clock_monte_carlo_matches_exact():
    ab, E = (0.7, 0.3), plrf.Experts.zipf(3, 1.0, clock="expert")
    opt = optimizer(ab, 1, "dana_decaying")
    mc = plrf.simulate(spectrum(ab), plrf.chain(opt, E), STEPS, seeds=SEEDS, record=RECORD)
    _, per = oracle.moe_risk(spectrum(ab), opt, STEPS, 1, E.p, clock="expert")
    assert zmax(mc, per.T) < Z_MAX


def test_monte_carlo_does_not_depend_on_threads():
    spec, opt = spectrum((1.0, 0.7)), plrf.sgd(0.3)
    runs = [plrf.simulate(spec, plrf.chain(opt, plrf.Experts.zipf(3, 1.5)), 30, batch=3, seeds=4, threads=t)
            for t in (1, 2)]
    np.testing.assert_array_equal(runs[0].parts, runs[1].parts)
    assert np.all(np.isfinite(runs[0].parts))


def test_routing_counts_are_multinomial():
    """With B = 1 each step feeds exactly one expert: every other expert's e moves only by momentum, so for
    SGD exactly one expert changes per step; over seeds x steps the fraction routed to i is p_i."""
    spec, p = spectrum((1.0, 0.7)), np.array([0.2, 0.3, 0.5])
    mc = plrf.simulate(spec, plrf.chain(plrf.sgd(0.2), plrf.Experts(p)), 1, seeds=4000, record=np.array([0, 1]))
    moved = mc.parts[:, :, 1] != mc.parts[:, :, 0]
    assert np.all(moved.sum(axis=1) == 1)
    frac = moved.mean(axis=0)
    assert np.all(np.abs(frac - p) < 4 * np.sqrt(p * (1 - p) / 4000))


# ---- API and bad input ----------------------------------------------------------------------------
def test_constructors():
    np.testing.assert_allclose(plrf.Experts.zipf(3, 1.0).p, np.array([1, 1 / 2, 1 / 3]) / (11 / 6))
    np.testing.assert_array_equal(plrf.Experts.two(0.25).p, [0.75, 0.25])
    assert plrf.Experts([0.5, 0.5]).m == 2


@pytest.mark.parametrize("kwargs, word", [
    (dict(p=[-0.1, 1.1]), "p"),
    (dict(p=[0.5, float("nan")]), "p"),
    (dict(p=[0.5, 0.6]), "sum to 1"),
    (dict(p=[]), "p"),
    (dict(p=[0.5, 0.5], clock="wall"), "clock"),
    (dict(p=[0.0, 1.0], sparse=True), "activation"),
    (dict(p=[0.5, 1.5], sparse=True), "activation"),
    (dict(p=[0.5, 0.5], optimizers=[plrf.sgd(0.1)]), "optimizers"),
    (dict(p=[0.5, 0.5], optimizers=[plrf.sgd(0.1), "sgd"]), "optimizers"),
])
def test_bad_experts_name_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=word):
        plrf.Experts(**kwargs)


def test_engines_refuse_what_they_cannot_do():
    spec = spectrum((1.0, 0.7))
    with pytest.raises(ValueError, match="list is not a transform"):  # a bare list is not a plrf.Experts
        plrf.exact_risk(spec, plrf.chain(plrf.sgd(0.1), [0.5, 0.5]), 10)
    with pytest.raises(ValueError, match="sampler"):
        plrf.simulate(spec, plrf.chain(plrf.sgd(0.1), plrf.Experts(P)), 10, space=plrf.engines.eigen(sampler="explicit"))
    with pytest.raises(ValueError, match="checkpoint"):
        plrf.simulate(spec, plrf.chain(plrf.sgd(0.1), plrf.Experts(P)), 10, checkpoint="x.npz")
    with pytest.raises(ValueError, match="zeta"):
        plrf.Experts.zipf(3, float("nan"))
    with pytest.raises(ValueError, match="optimizer"):  # an array schedule too short for a per-expert optimizer
        plrf.exact_risk(spec, plrf.chain(plrf.sgd(0.1), plrf.Experts(P, optimizers=[plrf.sgd([0.1] * 5)] * 2)), 10)


def test_theory_reexports_the_families_formulas():
    """plrf.theory exposes the sparse-update oscillation boundary and the MoE exponent (defined once)."""
    assert plrf.theory.moe_exponent is families_theory.moe_exponent
    assert plrf.theory.heavy_ball_oscillates is families_theory.heavy_ball_oscillates
    assert plrf.theory.moe_exponent(1.2, 2.0) == 0.5
    x = 0.01 * 0.3 * 2.0
    assert plrf.theory.heavy_ball_oscillates(2 * np.sqrt(x) - x - 1e-6, 0.01, 0.3, 2.0)
    assert not plrf.theory.heavy_ball_oscillates(2 * np.sqrt(x) - x + 1e-6, 0.01, 0.3, 2.0)


def test_sweeps_reach_experts_through_options(tmp_path):
    """A config's options keep the experts JSON-able; the store keeps each expert's curve."""
    from plrf.sweep import grid
    from plrf.sweep.store import Store

    g = grid(alpha=1.0, beta=0.7, d=20, spectrum="theory", optimizer="sgd", steps=50, engine=["exact", "simulate"],
             seeds=[[0, 1]], options={"experts": {"zipf": [3, 1.0], "clock": "expert"}})
    rep = plrf.sweep.run(g, store=tmp_path, workers=1, progress=False)
    spec = plrf.Spectrum.theory(1.0, 0.7, 20)
    want = plrf.exact_risk(spec, plrf.chain(plrf.defaults(spec)["sgd"], plrf.Experts.zipf(3, 1.0, clock="expert")), 50)
    got = [Store(tmp_path).read(k)["result"] for k in rep.keys]
    exact = next(r for r in got if r.meta.get("method") == "exact")
    np.testing.assert_array_equal(exact.parts, want.parts)
    mc = next(r for r in got if r.meta.get("space") == "eigen")
    assert mc.parts.shape == (2, 3, len(mc.steps)) and mc.meta["clock"] == "expert"
    with pytest.raises(ValueError, match="experts"):
        plrf.Experts.from_config({"zipf": [3, 1.0], "p": [1.0]})


def test_cli_frontier_takes_experts(tmp_path, capsys):
    from plrf.cli import main

    out = tmp_path / "fr.png"
    assert main(["frontier", "--alpha", "1", "--beta", "0.3", "--d-min", "20", "--d-max", "160", "--n-d", "4",
                 "--steps", "2000", "--experts", "4,2", "--expert-clock", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Experts(m=4, clock='expert', sparse=False)" in text and "covers one learner" in text
    assert main(["frontier", "--alpha", "1", "--beta", "0.3", "--experts", "four"]) == 2
    assert "--experts" in capsys.readouterr().err


def test_divergence_is_reported_with_its_step():
    """An expert that diverges stops its own curve; the total records the first divergence."""
    spec = spectrum((1.0, 0.7))
    E = plrf.Experts((0.05, 0.95))
    with pytest.warns(plrf.DivergenceWarning, match="step"):
        c = plrf.exact_risk(spec, plrf.chain(plrf.sgd(2.5), E), STEPS, record=ALL)
    first = np.flatnonzero(~np.isfinite(c.parts[1]))[0]
    assert c.diverged_at == first and np.all(np.isnan(c.risk[first:])) and np.all(np.isfinite(c.risk[:first]))
    with pytest.warns(plrf.DivergenceWarning):
        mc = plrf.simulate(spec, plrf.chain(plrf.sgd(2.5), E), STEPS, seeds=3, record=RECORD)
    assert np.all(mc.diverged_at >= 0)


@pytest.mark.parametrize("name", ["sgd", "dana_decaying"])
def test_one_expert_monte_carlo_is_todays_simulator(name):
    """Experts([1.0]): all B samples reach expert 0, which runs the plain simulator (bit for bit)."""
    spec = spectrum((0.7, 0.3))
    opt = optimizer((0.7, 0.3), 4, name)
    plain = plrf.simulate(spec, opt, 50, batch=4, seeds=3)
    moe = plrf.simulate(spec, plrf.chain(opt, plrf.Experts([1.0])), 50, batch=4, seeds=3)
    np.testing.assert_array_equal(moe.risk, plain.risk)
    np.testing.assert_array_equal(moe.parts[:, 0], plain.risk)
