"""Nonlinear random features (plrf.nonlinear, docs/nonlinear.md): the exact kernels against Monte Carlo,
Stein's cross-covariance, the unreachable loss, the identity left bitwise alone, and the spectra fed to
save/load, pickle, fit, frontier and sweeps.

Monte Carlo checks use 1e6 samples of u = W^T x (numpy Generator) and a 4-standard-error entrywise
tolerance (the largest |z| over the 21-36 entries of a 6x6 or 5x5 kernel exceeds 4 with probability
< 1e-3 when the formula is right); each has a planted twin that must fail.
"""
import pickle
import warnings

import numpy as np
import pytest

import plrf
from plrf import nonlinear as nl
from plrf import nonlinear_full

N_MC = 10**6
Z = 4.0


@pytest.fixture(scope="module")
def gaussian():
    """A small problem's S = W^T D W, c = W^T D b, E y^2, and 1e6 samples (u, y), drawn in chunks."""
    rng = np.random.default_rng(20261207)
    d, v = 5, 20
    W = rng.standard_normal((v, d)) / np.sqrt(d)
    D, b = np.arange(1, v + 1) ** -2.0, np.arange(1, v + 1) ** -0.7
    S, c, ey2 = W.T @ (D[:, None] * W), W.T @ (D * b), float(D @ (b * b))
    x = rng.standard_normal((N_MC, v)) * np.sqrt(D)
    return S, c, ey2, x @ W, x @ b


def _moments(F, y):
    """MC means and standard errors of F F^T and F y (from sums of products: no n x d x d array)."""
    n = F.shape[0]
    m, m2 = F.T @ F / n, (F * F).T @ (F * F) / n
    hy = (F * y[:, None]).mean(0)
    return m, np.sqrt((m2 - m * m) / n), hy, (F * y[:, None]).std(0) / np.sqrt(n)


def _zmax(exact, mc, se):
    return float(np.max(np.abs(exact - mc) / se))


@pytest.mark.parametrize("name", ["relu", "erf"])
def test_closed_form_kernels_match_monte_carlo_within_4_se(gaussian, name):
    S, c, ey2, u, y = gaussian
    for scale in (1.0, 3.0):  # a homogeneous (relu) and a saturating (erf) regime
        act = nl.resolve(name, scale)
        K, h, _ = nl.feature_moments(S, c, ey2, act)
        m, se, hm, hse = _moments(act(u), y)
        assert _zmax(K, m, se) < Z
        assert _zmax(h, hm, hse) < Z  # Stein's lemma


def test_wrong_arc_cosine_normalisation_fails(gaussian):
    """Planted twin: Cho & Saul's arc-cosine kernel (1/pi)|u||u'| J(theta) is twice E[relu relu]."""
    S, c, ey2, u, y = gaussian
    m, se, _, _ = _moments(np.maximum(u, 0.0), y)
    assert _zmax(nl.relu_kernel(S), m, se) < Z
    assert _zmax(2.0 * nl.relu_kernel(S), m, se) > 100


@pytest.mark.parametrize("name,scale", [("tanh", 8.0)] + [
    pytest.param(n, c, marks=pytest.mark.slow) for n, c in (("tanh", 1.0), ("gelu", 4.0))])
def test_hermite_kernel_within_its_truncation_bound(gaussian, name, scale):
    S, _, _, u, y = gaussian
    act = nl.resolve(name, scale)
    m, se, _, _ = _moments(act(u), y)
    K, bound, order = nl.hermite_kernel(S * scale**2, act.fn)
    assert order < nl.HERMITE_MAX_ORDER and bound.max() <= nl.HERMITE_TOL * np.diag(K).max()
    assert np.all(np.abs(K - m) <= bound + Z * se)
    # a short series: the stated bound holds against the converged one, and is not vacuous
    K3, bound3, order3 = nl.hermite_kernel(S * scale**2, act.fn, max_order=3)
    err = np.abs(K3 - K)
    assert order3 == 3 and np.all(err <= bound3 + 1e-15) and err.max() > 1e-3 * bound3.max()


def test_hermite_bound_without_the_tail_energy_fails(gaussian):
    """Planted twin: a 'bound' from the next term alone, |r|^(N+1) |g_{N+1}(a_i) g_{N+1}(a_k)|, is broken."""
    S = gaussian[0] * 64.0  # tanh(8 u): far from linear
    K = nl.hermite_kernel(S, np.tanh)[0]
    K3 = nl.hermite_kernel(S, np.tanh, max_order=3)[0]
    _, r = nl._correlation(S)
    g, _ = nl.hermite_coefficients(np.tanh, np.diag(S), 5)
    wrong = np.abs(r) ** 4 * np.abs(np.outer(g[4], g[4]))  # tanh is odd: g_4 = 0, the twin says "exact"
    off = ~np.eye(len(S), dtype=bool)
    assert np.any(np.abs(K3 - K)[off] > wrong[off] + 1e-15)


def test_unreachable_loss_includes_the_nonlinear_part(gaussian):
    """P(theta) = P_inf + 1/2 |Lambda^(1/2) U^T (theta - theta*)|^2 equals the MC of 1/2 E(theta.sigma(u) - y)^2."""
    S, c, ey2, u, y = gaussian
    act = nl.resolve("relu", 2.0)
    K, h, _ = nl.feature_moments(S, c, ey2, act)
    theta_star = np.linalg.solve(K, h)
    F = act(u)
    for theta in (theta_star, theta_star + 0.3 * np.random.default_rng(1).standard_normal(len(h))):
        loss = 0.5 * (F @ theta - y) ** 2
        exact = 0.5 * (ey2 - h @ theta_star) + 0.5 * (theta - theta_star) @ K @ (theta - theta_star)
        assert abs(exact - loss.mean()) < Z * loss.std() / np.sqrt(N_MC)
    assert 0.5 * (ey2 - h @ theta_star) > nl.linear_p_inf(S, c, ey2)  # relu(u) loses some of y's linear part


def test_spike_is_the_mean_outer_product(gaussian):
    """The n = 0 chaos term mu mu^T is inside K: the centred kernel is K - mu mu^T, positive semidefinite."""
    S = gaussian[0]
    mu = np.sqrt(np.diag(S) / (2 * np.pi))
    K, _, info = nl.feature_moments(S, np.zeros(len(S)), 1.0, "relu")
    assert info["spike"] == pytest.approx(mu @ mu, rel=1e-14)
    assert np.linalg.eigvalsh(K - np.outer(mu, mu)).min() > 0
    assert np.linalg.eigvalsh(K)[-1] > mu @ mu  # the spike is the top eigenvalue


def test_identity_activation_is_bitwise_the_linear_problem():
    a, b = plrf.PLRF(1.0, 0.7, 40, seed=2), plrf.PLRF(1.0, 0.7, 40, seed=2, activation="identity")
    assert a.spectrum() == b.spectrum() and "activation" not in b.spectrum().meta and repr(a) == repr(b)
    opt = plrf.sgd(0.3)
    ra = plrf.simulate(a, opt, 50, batch=2, seeds=3, space="full", progress=False).risk
    rb = plrf.simulate(b, opt, 50, batch=2, seeds=3, space="full", progress=False).risk
    assert np.array_equal(ra, rb)


def test_problem_risk_and_spectrum_agree_for_nonlinear_features():
    p = plrf.PLRF(1.0, 0.7, 30, seed=1, activation="gelu", preactivation_scale=5.0)
    s = p.spectrum()
    assert s.meta["activation"] == "gelu" and s.meta["preactivation_scale"] == 5.0
    assert s.meta["kernel"] == "Hermite series" and s.meta["truncation_bound"] < 1e-10
    theta = np.random.default_rng(0).standard_normal(30)
    assert p.risk(theta) == pytest.approx(s.risk_of_error((theta - s.theta_star) @ s.eigenvectors), rel=1e-12)
    assert p.risk(s.theta_star) == pytest.approx(s.p_inf, rel=1e-9)
    assert s.meta["p_inf_linear"] + s.meta["p_inf_nonlinear"] == pytest.approx(s.p_inf, rel=1e-12)


@pytest.mark.parametrize("kwargs,match", [
    (dict(activation="sigmoid"), "activation must be one of"),
    (dict(activation=3), "activation must be one of"),
    (dict(activation=lambda u: np.ones(7)), "activation: a user function"),
    (dict(activation="identity", preactivation_scale=2.0), "preactivation_scale must be 1"),
    (dict(activation="relu", preactivation_scale=-1.0), "preactivation_scale must be > 0"),
])
def test_bad_activation_is_refused_naming_it(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plrf.PLRF(1.0, 0.5, 8, **kwargs)


def test_user_activation_has_no_compiled_full_path_but_a_numpy_one():
    p = plrf.PLRF(1.0, 0.7, 8, activation=lambda u: np.maximum(u, 0.0) ** 2, preactivation_scale=4.0)
    with pytest.raises(ValueError, match="user function"):
        plrf.simulate(p, plrf.sgd(0.1), 5, space="full", progress=False)
    c = nonlinear_full.simulate_full(p, 0.1, 5, seeds=2, record=[0, 5])
    assert c.risk.shape == (2, 2) and np.all(np.isfinite(c.risk))


def test_kernel_memory_is_checked_before_allocation(monkeypatch):
    monkeypatch.setattr(plrf._validate, "available_memory", lambda: 10**6)
    with pytest.raises(MemoryError, match="nonlinear"):
        nl.feature_moments(np.eye(1000), np.zeros(1000), 1.0, "tanh")


def test_nonlinear_spectra_save_load_pickle(tmp_path):
    p = plrf.PLRF(1.0, 0.5, 24, seed=4, activation="tanh", preactivation_scale=6.0)
    s = p.spectrum()
    assert plrf.Spectrum.load(s.save(tmp_path / "s")) == s
    assert pickle.loads(pickle.dumps(s)) == s
    q = pickle.loads(pickle.dumps(p))
    assert q.activation == p.activation and q.spectrum() == s


def test_nonlinear_spectra_feed_fit_and_frontier():
    curves = {}
    for d in (16, 32, 64, 128):
        s = plrf.PLRF(1.0, 0.7, d, seed=0, activation="relu").spectrum(keep_vectors=False)
        c = plrf.exact_risk(s, plrf.sgd(0.5 / s.trace), 10**5, method="fast")
        curves[d] = (c.steps, c.risk)
    fit = plrf.fit.power_law(*curves[128], p_inf=plrf.PLRF(1.0, 0.7, 128, activation="relu").spectrum().p_inf)
    assert np.isfinite(fit.exponent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", plrf.frontier.FrontierWarning)
        front = plrf.frontier.frontier(curves, batch=1, n_boot=50)
    assert front is not None


def test_nonlinear_problems_in_sweeps_and_checkpoints(tmp_path):
    from plrf.sweep import grid
    from plrf.sweep import run as run_sweep

    g = grid(alpha=1.0, beta=0.7, d=12, optimizer="sgd", steps=100, engine="exact",
             activation=["identity", "relu"])
    rep = run_sweep(g, store=tmp_path / "store", workers=1, progress=False)
    assert rep.computed == 2 and len(set(rep.keys)) == 2
    lin = plrf.sweep.config.normalize(dict(alpha=1.0, beta=0.7, d=12, optimizer="sgd", steps=100), plrf.sweep.tasks.ENGINES)
    assert "activation" not in lin  # identity configs keep their old keys
    with pytest.raises(ValueError, match="spectrum='sampled'"):
        plrf.sweep.config.normalize(dict(alpha=1.0, beta=0.7, d=12, optimizer="sgd", steps=100, activation="relu",
                                         spectrum="theory"), plrf.sweep.tasks.ENGINES)
    # a checkpointed nonlinear full-path run resumes as the nonlinear problem
    p = plrf.PLRF(1.0, 0.7, 12, activation="erf", preactivation_scale=3.0)
    full = plrf.simulate(p, plrf.sgd(0.2), 40, seeds=2, space="full", progress=False)
    ck = tmp_path / "run.ckpt"
    part = plrf.simulate(p, plrf.sgd(0.2), 40, seeds=2, space="full", progress=False, checkpoint=ck)
    job, _ = plrf.checkpoint.load(ck)
    assert job["problem"].activation == p.activation  # not the linear problem (as before the fix)
    assert np.array_equal(part.risk, full.risk) and np.array_equal(plrf.resume(ck, progress=False).risk, full.risk)


def test_default_step_sizes_use_the_nonlinear_trace():
    """plrf.defaults' trace proxy sum j^(-2 alpha) is the linear tr K only: with tanh at unit pre-activation
    variance, tr K is ~d/3 and the proxy's step diverges (it did, before the fix)."""
    s = plrf.PLRF(1.0, 0.7, 32, activation="tanh", preactivation_scale=np.sqrt(32 / 1.64)).spectrum()
    assert plrf.optim.population_trace(s) == s.trace
    with plrf.errstate(divergence="raise"):
        c = plrf.exact_risk(s, plrf.defaults(s)["sgd"], 2000)
    assert np.all(np.isfinite(c.risk)) and c.risk[-1] < c.risk[0]
