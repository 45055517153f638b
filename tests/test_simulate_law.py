"""The simulators against the exact expected-risk recursion (docs/theory.md §4), in law.

The oracle (plrf.testing.spec4_risk) is plain NumPy, independent of any plrf engine. A check passes when the
mean risk over seeds is within Z_BOUND standard errors of the oracle at every recorded step.
With Z_BOUND = 4 a single point fails by chance with probability 6.3e-5 (normal approximation,
hundreds of seeds), so a curve of ~30 points fails with probability <= 2e-3 (Bonferroni; the points
of one curve are strongly correlated, so the real rate is lower). Seeds are fixed: the tests are
deterministic. test_planted_bugs_are_rejected shows the same check rejecting a wrong oracle.
"""
import numpy as np
import pytest
from scipy import stats

import plrf
from plrf.testing import spec4_risk

Z_BOUND = 4.0
OPTIMIZERS = ["sgd", "sgd_momentum", "dana_constant", "dana_decaying"]


@pytest.fixture(scope="module")
def problem():
    return plrf.PLRF(1.0, 0.5, 30, 120, seed=3)


def oracle(spec, opt, steps, batch, record, bug=None):
    """The docs/theory.md §4 oracle (plrf.testing.spec4_risk) at the record steps."""
    return spec4_risk(spec, opt, steps, batch, bug, record=record)


def max_z(curves, expected):
    """Largest |mean - expected| / sem over the recorded steps (step 0 is exact: compared directly)."""
    assert not curves.interrupted and np.all(curves.ok)
    sem = curves.sem
    exact = sem <= 1e-12 * np.abs(curves.mean)  # step 0: every seed starts at the same point
    np.testing.assert_allclose(curves.mean[exact], expected[exact], rtol=1e-12)
    return float(np.max(np.abs(curves.mean[~exact] - expected[~exact]) / sem[~exact]))


def two_sample_max_z(c1, c2):
    se = np.sqrt(c1.sem**2 + c2.sem**2)
    live = se > 1e-12 * np.abs(c1.mean)
    np.testing.assert_allclose(c1.mean[~live], c2.mean[~live], rtol=1e-12)
    return float(np.max(np.abs(c1.mean[live] - c2.mean[live]) / se[live]))


def run(problem, name, batch, seeds, steps=1000, opt=None, **kw):
    spec = problem.spectrum()
    opt = plrf.defaults(spec, batch)[name] if opt is None else opt
    curves = plrf.simulate(problem, opt, steps, batch=batch, seeds=seeds, threads=2, **kw)
    return spec, opt, curves


def half_steps(spec, name):
    """The recipe's optimizer `name` at B = 1 with gamma2 and gamma3 halved (light-tailed risks)."""
    recipe = plrf.defaults(spec, 1)
    g2 = recipe["sgd"].coefficients(0)["gamma2"] / 2
    c = recipe[name].coefficients(0)
    return {"sgd": lambda: plrf.sgd(g2),
            "sgd_momentum": lambda: plrf.sgd_momentum(0.1 * g2, 0.9),
            "dana_constant": lambda: plrf.dana_constant(g2, c["gamma3"] * spec.d / 2, c["delta"], d=spec.d),
            "dana_decaying": lambda: plrf.dana_decaying(g2, c["gamma3"] / 2, c["delta"], 1.0)}[name]()


@pytest.mark.parametrize("batch", [1, 8])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_eigen_fast_matches_oracle(problem, name, batch):
    if (name, batch) == ("dana_decaying", 1):
        # The recipe's DANA-decaying at B = 1 (g2 = 0.229, g3 = 0.1) has heavy-tailed risks here: the
        # top 100 of 1e5 seeds carry 13% of the mean at step 13, so the mean's z-score is far from
        # normal (NumPy's own generator fails this 1000-seed check in 3 of 8 seed sets). Half its
        # g2 and g3 keep the tails light (top 100 carry 0.9%) and the check meaningful.
        spec = problem.spectrum()
        opt = half_steps(spec, name)
        curves = plrf.simulate(problem, opt, 1000, batch=1, seeds=1000, threads=2)
    else:
        spec, opt, curves = run(problem, name, batch, seeds=1000)
    assert max_z(curves, oracle(spec, opt, 1000, batch, curves.steps)) < Z_BOUND


@pytest.mark.parametrize("name", ["sgd", "dana_decaying"])
def test_eigen_explicit_matches_oracle(problem, name):
    spec, opt, curves = run(problem, name, 8, seeds=400, space=plrf.engines.eigen(sampler="explicit"))
    assert max_z(curves, oracle(spec, opt, 1000, 8, curves.steps)) < Z_BOUND


@pytest.mark.parametrize("name", ["sgd_momentum", "dana_decaying"])
def test_full_matches_oracle_and_eigen(problem, name):
    spec, opt, full = run(problem, name, 8, seeds=300, steps=600, space="full")
    assert max_z(full, oracle(spec, opt, 600, 8, full.steps)) < Z_BOUND
    _, _, eig = run(problem, name, 8, seeds=range(10_000, 10_600), steps=600)
    assert two_sample_max_z(full, eig) < Z_BOUND


def test_fast_and_explicit_samplers_agree(problem):
    _, _, fast = run(problem, "dana_constant", 8, seeds=600)
    _, _, expl = run(problem, "dana_constant", 8, seeds=range(5000, 5600), space=plrf.engines.eigen(sampler="explicit"))
    assert two_sample_max_z(fast, expl) < Z_BOUND


def test_planted_bugs_are_rejected(problem):
    """The same check with a wrong oracle fails: missing 1/B, and a flipped cross-term sign."""
    spec, opt, curves = run(problem, "dana_decaying", 8, seeds=1000)
    good = oracle(spec, opt, 1000, 8, curves.steps)
    assert max_z(curves, good) < Z_BOUND
    assert max_z(curves, oracle(spec, opt, 1000, 8, curves.steps, bug="missing_1/B")) > 3 * Z_BOUND
    assert max_z(curves, oracle(spec, opt, 1000, 8, curves.steps, bug="wrong_sign")) > 3 * Z_BOUND


def test_planted_sampler_bug_is_rejected(problem):
    """Eigen vs full with the batch size wrong on one side (B=8 vs B=1) fails the two-sample check."""
    _, _, eig = run(problem, "sgd", 8, seeds=400, steps=600)
    spec = problem.spectrum()
    wrong = plrf.simulate(problem, plrf.defaults(spec, 8)["sgd"], 600, batch=1, seeds=range(7000, 7400), threads=2)
    assert two_sample_max_z(eig, wrong) > 3 * Z_BOUND


def test_theory_or_user_spectrum_runs_on_eigen_path():
    lam = np.arange(1, 41, dtype=float) ** -1.5
    spec = plrf.Spectrum(lam, np.arange(1, 41, dtype=float) ** -1.0, 0.01)
    opt = plrf.sgd(0.2)  # well inside the stable range: heavy tails would skew the mean's z-score
    curves = plrf.simulate(spec, opt, 500, batch=4, seeds=800, threads=2)
    assert max_z(curves, oracle(spec, opt, 500, 4, curves.steps)) < Z_BOUND


# ---- the gamma / chi-square sampler behind the fast batch sampler --------------------------
@pytest.mark.parametrize("k", [1, 2, 7, 32, 1023])
def test_chi_square_law(k):
    """Kolmogorov-Smirnov against chi2_k on 20000 draws: p > 1e-4 (and a planted k+1 is rejected)."""
    x = plrf._core._chi_square_variates(float(k), 11, 5, 20000)
    assert stats.kstest(x, stats.chi2(k).cdf).pvalue > 1e-4
    wrong = stats.chi2(k + 1 if k < 32 else k + 40).cdf
    assert stats.kstest(x, wrong).pvalue < 1e-6


def test_chi_square_zero_degrees_is_zero():
    assert np.all(plrf._core._chi_square_variates(0.0, 1, 0, 10) == 0.0)


# ---- large-seed versions -----------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 8])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_slow_all_paths_match_oracle(problem, name, batch):
    """At B = 1 the recipe's steps give heavy-tailed risks here: at 20000 seeds the mean's z-score sits
    near -4 to -5 for plrf and for NumPy's own generator alike (a few rare large runs are missed),
    while the distributions agree (two-sample KS p = 0.4-0.99 at steps 5, 15, 25). Half the steps
    keep the tails light, so the mean's z-score is a valid test there."""
    spec = problem.spectrum()
    opt = half_steps(spec, name) if batch == 1 else plrf.defaults(spec, batch)[name]
    kw = dict(opt=opt, steps=1500)
    _, _, fast = run(problem, name, batch, seeds=range(100_000, 120_000), **kw)
    expected = oracle(spec, opt, 1500, batch, fast.steps)
    assert max_z(fast, expected) < Z_BOUND
    _, _, expl = run(problem, name, batch, seeds=range(200_000, 202_000), space=plrf.engines.eigen(sampler="explicit"), **kw)
    assert max_z(expl, expected) < Z_BOUND
    _, _, full = run(problem, name, batch, seeds=range(300_000, 301_000), space="full", **kw)
    assert max_z(full, expected) < Z_BOUND
    assert two_sample_max_z(full, fast) < Z_BOUND
