"""SGD's continuous-time models and SDE simulators (docs/families.md §4) in C++, against the NumPy oracles of
plrf.testing.sde (continuous_risk by matrix exponential, hsgd_risk) and docs/theory.md §4.

Statistics: d = 20, 100 steps, 2000 seeds, curves compared at the 11 log-spaced records 1 .. 100;
z = (MC mean - exact) / SE; pass if max |z| < Z_MAX = 4 (P(any of ~11 correlated |z| > 4) ~ 1e-3 under
the null). Each check has a planted-bug twin on the same runs that must exceed Z_MAX.
"""
from functools import lru_cache

import numpy as np
import pytest
from scipy.stats import poisson

import plrf
from family_cases import converges_at_first_order, variance_z
from plrf.testing import spec4_risk
from plrf.testing import sde as oracle

Z_MAX = 4.0
STEPS, SEEDS, D, SUBSTEPS = 100, 2000, 20, 8
RECORD = np.unique(np.geomspace(1, STEPS, 12).astype(int))
MODELS = ("hsgd", "ito", "continuized")


@lru_cache(maxsize=None)
def spectrum(ab, d=D):
    return plrf.Spectrum.theory(ab[0], ab[1], d)


def recipe_lr(ab, batch):
    return plrf.defaults(spectrum(ab), batch)["sgd"].coefficients(0)["gamma2"]


def continuous(spec, lr, batch, model, steps=STEPS, record=None, substeps=None):
    return plrf.exact_risk(spec, plrf.chain(plrf.sgd(lr), plrf.gradient_model(model, substeps=substeps)), steps, batch=batch, method="continuous", record=np.arange(steps + 1) if record is None else record).risk


def zmax(curves, exact):
    r = curves.risk
    return float(np.max(np.abs((r.mean(axis=0) - exact) / (r.std(axis=0, ddof=1) / np.sqrt(r.shape[0])))))


# ---- method="continuous" against the oracles ------------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("ab, batch, d", [((1.0, 0.7), 1, 20), ((0.7, 0.3), 4, 60)])
def test_continuous_matches_the_matrix_exponential(model, ab, batch, d):
    """Exact to rounding (measured <= 2e-15), also with a decaying step (rates change every unit; the
    oracle's matrix exponential per unit is slow, so that case runs 20 units)."""
    spec = spectrum(ab, d)
    for lr, steps in ((0.3, STEPS), (plrf.Schedule.power_law(0.3, 3.0, -0.5), 20)):
        ref = oracle.continuous_risk(spec, lr, steps, batch, model)
        got = plrf.exact_risk(spec, plrf.chain(plrf.sgd(lr), plrf.gradient_model(model)), steps, batch=batch, method="continuous", record=np.arange(steps + 1))
        assert np.max(np.abs(got.risk / ref - 1)) < 1e-12
        assert got.meta["model"] == model and got.error_estimate is None


@pytest.mark.parametrize("model", ["hsgd", "ito"])
def test_substep_mean_matches_the_numpy_scheme(model):
    """substeps=n: the exact mean of simulate(dynamics=model, substeps=n) (measured <= 9e-15), which
    converges at first order to the continuous model (error halves with each doubling)."""
    for ab, batch in (((1.0, 0.7), 1), ((0.7, 0.3), 4)):
        spec = spectrum(ab)
        for lr in (0.3, plrf.Schedule.power_law(0.3, 3.0, -0.5)):
            ref = oracle.hsgd_risk(spec, lr, STEPS, batch, substeps=SUBSTEPS, rank_one=model == "ito")
            assert np.max(np.abs(continuous(spec, lr, batch, model, substeps=SUBSTEPS) / ref - 1)) < 1e-12
    spec = spectrum((1.0, 0.7))
    means = [continuous(spec, 0.25, 1, model, substeps=n) for n in (4, 8, 16)]
    assert converges_at_first_order(means, continuous(spec, 0.25, 1, model))
    # twin: the same means against the other SDE's model stall at the gap between the two models
    other = "hsgd" if model == "ito" else "ito"
    assert not converges_at_first_order(means, continuous(spec, 0.25, 1, other))


def test_continuized_model_is_poisson_average_of_sgd():
    """SGD at the jumps of a rate-1 Poisson clock: sum_n Poisson(n; t) P_SGD(n) (measured 2e-14)."""
    spec, batch, lr = spectrum((1.0, 0.7)), 4, 0.3
    n = np.arange(400)
    sgd = spec4_risk(spec, plrf.sgd(lr), n[-1], batch)
    cont = continuous(spec, lr, batch, "continuized", steps=60)
    for t in (1, 7, 30, 60):
        assert abs(poisson.pmf(n, t) @ sgd / cont[t] - 1) < 1e-12


def test_continuous_with_nodes_equals_the_expanded_spectrum():
    """A node of multiplicity m forces with m lambda R2 / B, as in every exact method (docs/theory.md §10)."""
    m = np.array([3, 1, 2, 1, 4])
    j = np.arange(1.0, 6.0)
    lam, rho = j**-2.0, m * j**-1.2
    nodes = plrf.Spectrum(lam, rho, 1e-3, multiplicity=m)
    modes = plrf.Spectrum(np.repeat(lam, m), np.repeat(rho / m, m), 1e-3)
    for model, substeps in [(m, None) for m in MODELS] + [("hsgd", 3), ("ito", 3)]:
        a = continuous(nodes, 0.2, 2, model, steps=300, substeps=substeps)
        b = continuous(modes, 0.2, 2, model, steps=300, substeps=substeps)
        assert np.max(np.abs(a / b - 1)) < 1e-13


def test_continuous_models_differ_where_sgd_departs_from_its_sde():
    """At a large step the three models separate in the order of their lambda^2 terms, and all tend to SGD
    as the step shrinks (docs/theory.md §11.5: "all agree once gamma lambda_max << 1")."""
    spec = spectrum((1.0, 0.7))
    big = {m: continuous(spec, 0.5, 1, m)[STEPS] for m in MODELS}
    assert big["hsgd"] < big["ito"] < big["continuized"]
    small = {m: continuous(spec, 0.005, 1, m, steps=2000)[2000] for m in MODELS}
    sgd = spec4_risk(spec, plrf.sgd(0.005), 2000, 1)[2000]
    assert all(abs(v / sgd - 1) < 1e-3 for v in small.values())


def test_continuous_reports_divergence_with_its_step():
    spec = spectrum((1.0, 0.7))
    with pytest.warns(plrf.DivergenceWarning):
        c = plrf.exact_risk(spec, plrf.chain(plrf.sgd(3.0), plrf.continuized()), 200, method="continuous")
    assert 0 < c.diverged_at <= 200 and np.isnan(c.risk[-1])


# ---- the SDE simulator against its expected risk ---------------------------------------------------
SIM = [((1.0, 0.7), 1, "hsgd"), ((0.7, 0.3), 4, "hsgd"), ((1.0, 0.7), 4, "ito"), ((0.7, 0.3), 1, "ito")]
SIM_SLOW = [((1.0, 0.7), 4, "hsgd"), ((0.7, 0.3), 1, "hsgd"), ((1.0, 0.7), 1, "ito"), ((0.7, 0.3), 4, "ito")]
SIM_GRID = [pytest.param(*c, id=f"{c[0]}-B{c[1]}-{c[2]}") for c in SIM] + [
    pytest.param(*c, id=f"{c[0]}-B{c[1]}-{c[2]}", marks=pytest.mark.slow) for c in SIM_SLOW
]


@lru_cache(maxsize=None)
def sde_runs(ab, batch, dynamics, lr=None):
    lr = recipe_lr(ab, batch) if lr is None else lr
    return plrf.simulate(spectrum(ab), plrf.chain(plrf.sgd(lr), plrf.gradient_model(dynamics, substeps=SUBSTEPS)), STEPS, batch=batch, seeds=SEEDS, record=RECORD)


@pytest.mark.parametrize("ab, batch, dynamics", SIM_GRID)
def test_sde_simulator_mean_matches_its_expected_risk(ab, batch, dynamics):
    """Against the continuous-time model (8 substeps: frozen-risk bias <= 0.7% of P, <= 0.3 SE; measured
    max |z| 1.1-2.4) and against the substep scheme's own exact expectation (substeps=8, no bias)."""
    spec, lr, runs = spectrum(ab), recipe_lr(ab, batch), sde_runs(ab, batch, dynamics)
    assert zmax(runs, continuous(spec, lr, batch, dynamics, record=RECORD)) < Z_MAX
    assert zmax(runs, continuous(spec, lr, batch, dynamics, record=RECORD, substeps=SUBSTEPS)) < Z_MAX


def test_sde_check_rejects_the_rank_one_term_dropped():
    """Twin: Ito's expected risk against the simulator without the rank-one term (= dynamics="hsgd");
    measured z ~ 9.8 at B = 1 and the recipe step."""
    ab = (1.0, 0.7)
    assert zmax(sde_runs(ab, 1, "hsgd"), continuous(spectrum(ab), recipe_lr(ab, 1), 1, "ito", record=RECORD)) > Z_MAX


@pytest.mark.parametrize("dynamics", ["hsgd", "ito"])
def test_sde_check_tells_the_sde_from_discrete_sgd(dynamics):
    """Twin: at B = 1 and step 0.3 (recipe 0.23) the same check rejects docs/theory.md §4 as the SDE's mean
    (the SVAG question: SGD departs from its SDE at a large step)."""
    ab = (1.0, 0.7)
    runs = sde_runs(ab, 1, dynamics, 0.3)
    assert zmax(runs, continuous(spectrum(ab), 0.3, 1, dynamics, record=RECORD)) < Z_MAX
    assert zmax(runs, spec4_risk(spectrum(ab), plrf.sgd(0.3), STEPS, 1)[RECORD]) > Z_MAX


# ---- Gaussianised SGD: docs/theory.md §4 in expectation, another law ----------------------------------------
def half_step(ab, batch, name):
    """The recipe's optimizer at half its step (at B = 1 the Gaussianised risk is heavy tailed at the full step)."""
    k = plrf.defaults(spectrum(ab), batch)[name].coefficients(0)
    if name == "sgd":
        return plrf.sgd(0.5 * k["gamma2"])
    return plrf.dana_decaying(0.5 * k["gamma2"], 0.05, k["delta"], ab[0])


@lru_cache(maxsize=None)
def gauss_runs(ab, batch, name, dynamics, seeds=SEEDS):
    seeds = range(seeds) if dynamics != "sgd-other" else range(SEEDS, 2 * SEEDS)
    return plrf.simulate(spectrum(ab), plrf.chain(half_step(ab, batch, name), plrf.gradient_model("sgd" if dynamics == "sgd-other" else dynamics)), STEPS, batch=batch, seeds=seeds, record=RECORD)


GAUSS = [((1.0, 0.7), 1, "sgd"), ((0.7, 0.3), 1, "dana_decaying"), ((0.7, 0.3), 4, "sgd"),
         ((1.0, 0.7), 4, "dana_decaying")]


@pytest.mark.parametrize("ab, batch, name", GAUSS)
def test_gaussianised_sgd_has_the_exact_mean(ab, batch, name):
    exact = plrf.exact_risk(spectrum(ab), half_step(ab, batch, name), STEPS, batch=batch, record=RECORD).risk
    assert zmax(gauss_runs(ab, batch, name, "gaussianised"), exact) < Z_MAX


def test_gaussianised_mean_check_rejects_missing_batch_factor():
    """Twin: docs/theory.md §4 without the 1/B factors (NumPy oracle's planted bug) at B = 4."""
    ab, batch, name = GAUSS[3]
    wrong = spec4_risk(spectrum(ab), half_step(ab, batch, name), STEPS, batch, bug="missing_1/B")[RECORD]
    assert zmax(gauss_runs(ab, batch, name, "gaussianised"), wrong) > Z_MAX


@pytest.mark.parametrize("ab, name", [((1.0, 0.7), "sgd"), ((0.7, 0.3), "dana_decaying")])
def test_gaussianised_sgd_differs_from_sgd_in_law(ab, name):
    """Same conditional mean and covariance per step, another law: the spread of P_t across seeds at
    t = 1, 2 differs from SGD's beyond Z_MAX (fourth-moment SE), while two independent SGD seed sets agree."""
    sgd, gauss = gauss_runs(ab, 1, name, "sgd"), gauss_runs(ab, 1, name, "gaussianised")
    assert np.all(np.abs(variance_z(sgd.risk[:, 1:3], gauss.risk[:, 1:3])) > Z_MAX)
    other = gauss_runs(ab, 1, name, "sgd-other")
    assert np.all(np.abs(variance_z(sgd.risk[:, 1:3], other.risk[:, 1:3])) < Z_MAX)


# ---- plumbing: defaults, determinism, checkpoints, bad input ------------------------------------------
def test_default_dynamics_is_plain_sgd_bit_for_bit():
    spec, opt = spectrum((1.0, 0.7)), plrf.sgd(0.2)
    a = plrf.simulate(spec, opt, 50, batch=3, seeds=4)
    b = plrf.simulate(spec, opt, 50, batch=3, seeds=4)
    assert np.array_equal(a.risk, b.risk) and b.meta["dynamics"] == "sgd"


@pytest.mark.parametrize("dynamics", ["hsgd", "ito", "gaussianised"])
def test_sde_runs_do_not_depend_on_threads_and_resume_bitwise(dynamics, tmp_path):
    spec = spectrum((1.0, 0.7))
    momentum = plrf.sgd(0.2) if dynamics != "gaussianised" else plrf.defaults(spec, 2)["dana_decaying"]
    opt = plrf.chain(momentum, plrf.gradient_model(dynamics, substeps=3 if dynamics != "gaussianised" else None))
    kw = dict(batch=2, seeds=6)
    one = plrf.simulate(spec, opt, 40, threads=1, **kw)
    two = plrf.simulate(spec, opt, 40, threads=2, checkpoint=tmp_path / "run.ckpt", **kw)
    assert np.array_equal(one.risk, two.risk)
    again = plrf.resume(tmp_path / "run.ckpt")
    assert np.array_equal(again.risk, one.risk) and again.meta["dynamics"] == dynamics
    assert not np.array_equal(one.risk, plrf.simulate(spec, opt, 40, **{**kw, "seeds": range(6, 12)}).risk)


def test_sde_divergence_is_reported_with_its_step():
    with pytest.warns(plrf.DivergenceWarning):
        c = plrf.simulate(spectrum((1.0, 0.7)), plrf.chain(plrf.sgd(3.0), plrf.ito(substeps=2)), 300, seeds=2)
    assert np.all((c.diverged_at > 0) & (c.diverged_at <= 300))


def test_bad_input_names_the_argument():
    spec, sgd = spectrum((1.0, 0.7)), plrf.sgd(0.1)
    dana = plrf.defaults(spec, 1)["dana_decaying"]
    with pytest.raises(ValueError, match="model must be one of"):
        plrf.simulate(spec, plrf.chain(sgd, plrf.gradient_model("sde")), 3)
    with pytest.raises(ValueError, match="momentum must be plrf.sgd"):
        plrf.simulate(spec, plrf.chain(dana, plrf.hsgd()), 3)
    with pytest.raises(ValueError, match="substeps"):
        plrf.simulate(spec, plrf.chain(sgd, plrf.gradient_model("gaussianised", substeps=4)), 3)
    with pytest.raises(ValueError, match="substeps"):
        plrf.simulate(spec, plrf.chain(sgd, plrf.ito(substeps=0)), 3)
    with pytest.raises(ValueError, match="sampler"):
        plrf.simulate(spec, plrf.chain(sgd, plrf.ito()), 3, space=plrf.engines.eigen(sampler="explicit"))
    problem = plrf.PLRF(1.0, 0.7, 8, v=16, seed=0)
    with pytest.raises(ValueError, match=r"gaussianised\(\) is not defined for simulate\(space='full'\)"):
        plrf.simulate(problem, plrf.chain(sgd, plrf.gaussianised()), 3, space="full")
    with pytest.raises(ValueError, match="model"):
        plrf.exact_risk(spec, plrf.chain(sgd, plrf.gradient_model("sde")), 3, method="continuous")
    with pytest.raises(ValueError, match=r"ito\(\) is not defined for exact_risk\(method='exact'\)"):
        plrf.exact_risk(spec, plrf.chain(sgd, plrf.ito()), 3, method="exact")
    with pytest.raises(ValueError, match=r"is not defined for exact_risk\(method='continuous'\)"):
        plrf.exact_risk(spec, dana, 3, method="continuous")
    with pytest.raises(ValueError, match="substeps"):
        plrf.exact_risk(spec, plrf.chain(sgd, plrf.gradient_model("continuized", substeps=4)), 3, method="continuous")
    with pytest.raises(ValueError, match="substeps"):
        plrf.exact_risk(spec, plrf.chain(sgd, plrf.ito(substeps=0)), 3, method="continuous")
    with pytest.raises(ValueError, match="substeps"):
        plrf.exact_risk(spec, plrf.chain(sgd, plrf.hsgd(substeps=4)), 3)


def test_sweeps_reach_the_continuous_method_and_the_dynamics(tmp_path):
    """Engine "continuous" with options {"model"}, and simulate's {"dynamics", "substeps"}: a swept result
    is bitwise the direct call."""
    from plrf.sweep import grid, run as run_sweep

    g = grid(alpha=1.0, beta=0.7, d=12, spectrum="theory", optimizer="sgd", steps=60, seeds=[[0, 3]],
             engine=["continuous", "simulate"], options=[{"model": "ito"}, {"dynamics": "ito", "substeps": 2}])
    g = [c for c in g if ("model" in c["options"]) == (c["engine"] == "continuous")]
    rep = run_sweep(g, store=tmp_path, workers=1, progress=False)
    spec = plrf.Spectrum.theory(1.0, 0.7, 12)
    opt = plrf.defaults(spec, 1)["sgd"]
    assert rep.computed == 2
    df = plrf.load(tmp_path, seeds="all")
    want_c = plrf.exact_risk(spec, plrf.chain(opt, plrf.ito()), 60, method="continuous")
    want_s = plrf.simulate(spec, plrf.chain(opt, plrf.ito(substeps=2)), 60, seeds=[0, 3])
    cont = df[df.engine == "continuous"].sort_values("step").risk.to_numpy()
    assert np.array_equal(cont, want_c.risk)
    sim = df[df.engine == "simulate"].sort_values(["seed", "step"]).risk.to_numpy()
    assert np.array_equal(sim, want_s.risk.ravel())


def test_continuous_does_not_depend_on_threads_at_large_d():
    """d above the modes' parallel threshold (262144): chunked sums in a fixed order, bitwise equal."""
    d = 300_000
    j = np.arange(1.0, d + 1)
    spec = plrf.Spectrum(j**-2.0, j**-1.4 / np.sum(j**-1.4), 1e-3)
    for substeps in (None, 2):
        runs = [plrf.exact_risk(spec, plrf.chain(plrf.sgd(0.3), plrf.ito(substeps=substeps)), 4, method="continuous", threads=n).risk for n in (1, 2)]
        assert np.array_equal(*runs)
