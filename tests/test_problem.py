"""PLRF problems and their spectral data against NumPy float64 references (issue 2 acceptance)."""
import pickle

import numpy as np
import pytest

import plrf


def reference(W, alpha, beta):
    """Plain NumPy: dense K, eigh, lstsq residual for P_inf."""
    v, d = W.shape
    j = np.arange(1, v + 1, dtype=float)
    D, b = j ** (-2 * alpha), j ** (-beta)
    A = np.sqrt(D)[:, None] * W
    c = np.sqrt(D) * b
    lam, U = np.linalg.eigh(A.T @ A)
    lam, U = lam[::-1], U[:, ::-1]
    theta, *_ = np.linalg.lstsq(A, c, rcond=None)
    p_inf = 0.5 * np.sum((A @ theta - c) ** 2)
    rho = (U.T @ theta) ** 2
    risk = lambda th: 0.5 * np.sum((A @ th - c) ** 2)
    return lam, rho, p_inf, theta, risk


@pytest.mark.parametrize("alpha,beta,d,v", [(1.0, 0.5, 40, 160), (0.4, 0.3, 30, 60), (1.5, 1.5, 50, 50)])
def test_spectrum_matches_numpy(alpha, beta, d, v, rng):
    W = rng.standard_normal((v, d)) / np.sqrt(d)
    spec = plrf.PLRF.from_features(W, alpha, beta).spectrum()
    lam, rho, p_inf, theta, risk = reference(W, alpha, beta)
    assert np.max(np.abs(spec.eigenvalues - lam)) <= 1e-10 * lam[0]
    assert np.max(np.abs(spec.eigenvalues * spec.rho - lam * rho)) <= 1e-8 * np.sum(lam * rho)
    assert spec.p_inf == pytest.approx(p_inf, rel=1e-8)
    assert risk(spec.theta_star) == pytest.approx(p_inf, rel=1e-8)  # theta* itself may be ill-conditioned
    assert np.all(np.diff(spec.eigenvalues) <= 0)


def test_seeded_problem_matches_numpy_on_its_own_W():
    prob = plrf.PLRF(0.8, 0.6, d=64, v=256, seed=9)
    spec = prob.spectrum()
    lam, rho, p_inf, theta, risk = reference(prob.W, 0.8, 0.6)
    assert np.max(np.abs(spec.eigenvalues - lam)) <= 1e-10 * lam[0]
    assert spec.p_inf == pytest.approx(p_inf, rel=1e-8)
    assert spec.risk0 == pytest.approx(0.5 * np.sum(np.arange(1, 257.0) ** (-2 * 0.8 - 2 * 0.6)), rel=1e-12)


def test_tiny_p_inf_is_accurate(rng):
    # b lies almost in the range of D^{1/2} W: P_inf ~ 1e-12 of the initial risk. A difference of
    # large numbers (||c||^2 - h^T K^{-1} h) would lose every digit here.
    v, d = 60, 40
    W = rng.standard_normal((v, d)) / np.sqrt(d)
    j = np.arange(1, v + 1, dtype=float)
    alpha, beta = 0.5, 0.5
    sqrtD, b = j ** (-alpha), j ** (-beta)
    A = sqrtD[:, None] * W
    # Replace W's column space residual: choose W so that c is nearly representable.
    theta_true = rng.standard_normal(d)
    c = sqrtD * b
    W[:, 0] += (c - A @ theta_true) / sqrtD / theta_true[0] * (1 - 1e-6)
    lam, rho, p_inf, theta, risk = reference(W, alpha, beta)
    spec = plrf.PLRF.from_features(W, alpha, beta).spectrum()
    assert p_inf < 1e-10 * spec.risk0
    assert spec.p_inf == pytest.approx(p_inf, rel=1e-6)


def test_risk_matches_numpy(rng):
    W = rng.standard_normal((120, 30)) / np.sqrt(30)
    prob = plrf.PLRF.from_features(W, 1.2, 0.7)
    *_, risk = reference(W, 1.2, 0.7)
    thetas = rng.standard_normal((5, 30))
    got = prob.risk(thetas)
    want = np.array([risk(t) for t in thetas])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert prob.risk(thetas[0]) == pytest.approx(want[0], rel=1e-12)
    spec = prob.spectrum()
    # Eigenbasis error -> same risk, and the map back to theta is consistent.
    err = spec.eigenvectors.T @ (thetas[1] - spec.theta_star)
    assert spec.risk_of_error(err) == pytest.approx(want[1], rel=1e-9)
    np.testing.assert_allclose(spec.theta_of_error(err), thetas[1], atol=1e-10)


def test_theta0_sets_rho(rng):
    prob = plrf.PLRF(1.0, 0.5, d=20, v=80, seed=1)
    th0 = rng.standard_normal(20)
    spec = prob.spectrum(theta0=th0)
    assert spec.risk0 == pytest.approx(prob.risk(th0), rel=1e-10)


def test_W_bitwise_identical_whatever_the_blocks():
    prob = plrf.PLRF(1.0, 0.5, d=37, v=300, seed=77)
    whole = prob.W
    for step in (1, 7, 64, 299):
        blocks = np.vstack([prob.feature_rows(a, min(300, a + step)) for a in range(0, 300, step)])
        np.testing.assert_array_equal(blocks, whole)
    spec_a = prob.spectrum()
    spec_b = plrf.PLRF(1.0, 0.5, d=37, v=300, seed=77, threads=1).spectrum()
    np.testing.assert_array_equal(spec_a.rho, spec_b.rho)
    assert not np.array_equal(whole, plrf.PLRF(1.0, 0.5, d=37, v=300, seed=78).W)


def test_W_entries_have_variance_one_over_d():
    W = plrf.PLRF(1.0, 0.5, d=100, v=2000, seed=3).W
    # 2e5 entries: the sample variance of d*W^2 has sd sqrt(2/n) ~ 0.003; 6 sd bound.
    assert abs(np.mean(W * W) * 100 - 1) < 6 * np.sqrt(2 / W.size)
    assert abs(np.mean(W)) * 10 < 6 / np.sqrt(W.size)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(alpha=0.0, beta=0.5, d=10), "alpha"),
        (dict(alpha=-1.0, beta=0.5, d=10), "alpha"),
        (dict(alpha=float("nan"), beta=0.5, d=10), "alpha"),
        (dict(alpha=1.0, beta=float("inf"), d=10), "beta"),
        (dict(alpha=1.0, beta=0.5, d=0), "d"),
        (dict(alpha=1.0, beta=0.5, d=2.5), "d"),
        (dict(alpha=1.0, beta=0.5, d=10, v=9), "v"),
        (dict(alpha=1.0, beta=0.5, d=10, seed=-1), "seed"),
    ],
)
def test_bad_problem_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        plrf.PLRF(**kwargs)


@pytest.mark.parametrize(
    "W,name",
    [
        (np.ones((5, 10)), "W"),  # v < d
        (np.ones(10), "W"),  # not 2-D
        (np.ones((10, 4), dtype=complex), "W"),
        (np.array([["a"] * 2] * 4), "W"),
        (np.full((10, 4), np.nan), "W"),
    ],
)
def test_bad_features(W, name):
    with pytest.raises(ValueError, match=name):
        plrf.PLRF.from_features(W, 1.0, 0.5)


def test_bad_theta():
    prob = plrf.PLRF(1.0, 0.5, d=5, v=20)
    with pytest.raises(ValueError, match="theta"):
        prob.risk(np.ones(4))
    with pytest.raises(ValueError, match="theta"):
        prob.risk(np.array([np.inf] * 5))


def test_memory_is_checked_before_allocating():
    prob = plrf.PLRF(1.0, 0.5, d=400_000, v=400_000)  # K alone would be 1.2 TiB
    with pytest.raises(MemoryError, match="GiB"):
        prob.spectrum()


def test_problem_pickles():
    prob = plrf.PLRF(1.0, 0.5, d=10, v=40, seed=4)
    prob.spectrum()
    clone = pickle.loads(pickle.dumps(prob))
    np.testing.assert_array_equal(clone.W, prob.W)


def test_pure_cpp_setup_agrees_with_python_path():
    from plrf import _core

    prob = plrf.PLRF(0.9, 0.4, d=48, v=150, seed=21)
    spec = prob.spectrum()
    lam, rho, p_inf = _core.spectral_setup_eigen(0.9, 0.4, 48, 150, 21)
    assert np.max(np.abs(lam - spec.eigenvalues)) <= 1e-10 * lam[0]
    assert np.max(np.abs(lam * rho - spec.eigenvalues * spec.rho)) <= 1e-8 * np.sum(lam * rho)
    assert p_inf == pytest.approx(spec.p_inf, rel=1e-8)
