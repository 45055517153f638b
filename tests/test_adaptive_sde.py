"""The Malladi et al. RMSprop and Adam SDEs (plrf.adaptive_sde) against the discrete parameter-basis Monte
Carlo, each check with a planted twin that must fail."""
import numpy as np
import pytest

import plrf
from plrf import adaptive_sde

C1, C2 = 100.0, 25.0  # (1 - b1)/lr^2 and (1 - b2)/lr^2, held fixed as lr -> 0 (the SDE's scaling)


@pytest.fixture(scope="module")
def small():
    return plrf.PLRF(alpha=1.0, beta=0.5, d=16, v=64, seed=0)


def _records(steps):
    return np.unique(np.geomspace(steps / 100, steps, 5).astype(np.int64))


def _adam_pair(problem, lr, batch, T, seeds):
    steps = int(round(T / lr**2))
    rec, b1, b2 = _records(steps), 1 - C1 * lr**2, 1 - C2 * lr**2
    mc = plrf.simulate(problem, plrf.adam(lr, b1, b2), steps, batch=batch, seeds=seeds, record=rec, space="param",
                       progress=False)
    return mc, lambda: adaptive_sde.adam_sde(problem, lr, steps, b1, b2, batch=batch, seeds=seeds, record=rec)


def _cov_and_se(x):
    """Sample covariance of the rows of x and its entrywise standard error."""
    c = x - x.mean(0)
    prods = c[:, :, None] * c[:, None, :]
    return prods.mean(0), prods.std(0) / np.sqrt(len(x))


def test_isserlis_noise_has_the_batch_gradients_covariance():
    """Batch-mean gradients drawn from features f ~ N(0, K) and label noise (1e5 batches of 3) have the
    covariance (K e e^T K + R2 K)/B, and so do the SDE's draws (K e xi0 + sqrt(R2) K^{1/2} xi)/sqrt(B), entrywise
    within 5 standard errors (measured max 2.3); diag Sigma is exact. Twins (> 20 standard errors off):
    the covariance without 1/B, and without K e e^T K."""
    rng = np.random.default_rng(0)
    d, B, n, s2 = 4, 3, 100_000, 0.3
    U = np.linalg.qr(rng.standard_normal((d, d)))[0]
    lam = np.array([1.0, 0.5, 0.2, 0.05])
    K, Kh = (U * lam) @ U.T, (U * np.sqrt(lam)) @ U.T
    e = rng.standard_normal(d)
    f = rng.standard_normal((n, B, d)) @ Kh
    r = f @ e - np.sqrt(s2) * rng.standard_normal((n, B))
    sample, se = _cov_and_se((f * r[..., None]).mean(axis=1))  # gradients of (f.e - noise)^2 / 2
    KE, R2 = np.tile(K @ e, (n, 1)), np.full(n, e @ K @ e + s2)
    noise, var = adaptive_sde._noise(KE, R2, rng.standard_normal((n, d + 1)), Kh, np.diag(K), B)
    drawn, se_drawn = _cov_and_se(noise)
    exact = (np.outer(K @ e, K @ e) + R2[0] * K) / B
    assert np.abs((sample - exact) / se).max() < 5
    assert np.abs((drawn - exact) / se_drawn).max() < 5
    np.testing.assert_allclose(var[0], np.diag(exact), rtol=1e-13)
    for twin in (exact * B, exact - np.outer(K @ e, K @ e) / B):
        assert np.abs((sample - twin) / se).max() > 20


def test_adam_sde_matches_monte_carlo_at_small_lr(small):
    """Adam at lr = 0.01, batch 1 (1 - b1 = 100 lr^2, 1 - b2 = 25 lr^2), to t = k lr^2 = 0.5 (5000 steps), 100
    seeds each: MC/SDE - 1 of E[P] within 10% relative at the 5 recorded times (a tolerance on the
    approximation, not a z-test: the SDE is exact only as lr -> 0; measured max 4%, standard errors ~2%).
    Planted twin: the noise without its K e e^T K term (the Isserlis covariance's mean-gradient part) must be
    off by more than 20% somewhere (measured 40%)."""
    mc, sde = _adam_pair(small, 0.01, 1, 0.5, 100)
    ours = sde()
    assert ours.meta["capability"] == plrf.capabilities.MODEL_LAW and "Euler-Maruyama" in ours.meta["scheme"]
    assert np.abs(mc.mean / ours.risk - 1).max() < 0.10
    orig = adaptive_sde._noise

    def without_keek(KE, R2, z, Kh, diagK, batch):
        noise, var = orig(KE, R2, z, Kh, diagK, batch)
        return noise - KE * z[:, :1] / np.sqrt(batch), var - KE * KE / batch

    adaptive_sde._noise = without_keek
    try:
        twin = sde()
    finally:
        adaptive_sde._noise = orig
    assert np.abs(mc.mean / twin.risk - 1).max() > 0.20


def test_sde_seeds_are_counter_based(small):
    """Seed 5's path is the same alone or beside other seeds (each seed has its own Philox stream)."""
    rec = [0, 10, 100]
    alone = adaptive_sde.rmsprop_sde(small, 0.02, 100, batch=2, seeds=[5, 6], record=rec)
    more = adaptive_sde.rmsprop_sde(small, 0.02, 100, batch=2, seeds=[7, 5, 6], record=rec)
    other = adaptive_sde.rmsprop_sde(small, 0.02, 100, batch=2, seeds=[7, 8], record=rec)
    # the mean of seeds {5, 6} is recovered from the three-seed run minus seed 7's share
    seven = adaptive_sde.rmsprop_sde(small, 0.02, 100, batch=2, seeds=[7], record=rec)
    np.testing.assert_allclose(3 * more.risk - seven.risk, 2 * alone.risk, rtol=1e-12)
    assert not np.allclose(other.risk, alone.risk, rtol=1e-3)


def test_sde_bad_input_is_refused(small):
    with pytest.raises(ValueError, match="lr"):
        adaptive_sde.adam_sde(small, -0.1, 10)
    with pytest.raises(ValueError, match="b2"):
        adaptive_sde.rmsprop_sde(small, 0.1, 10, b2=1.0)
    with pytest.raises(ValueError, match="dt must be at most"):
        adaptive_sde.adam_sde(small, 0.1, 10, b1=0.5, dt=0.1)
    with pytest.raises(ValueError, match="eigenvectors"):
        adaptive_sde.adam_sde(plrf.Spectrum(np.ones(3), np.ones(3), 0.0), 0.1, 10)
    with pytest.raises(MemoryError, match="seeds=1000000000"):  # refused before any allocation
        adaptive_sde.adam_sde(small, 0.01, 10, seeds=10**9)


@pytest.mark.slow
@pytest.mark.parametrize("rule", ["rmsprop", "adam"])
def test_sde_error_shrinks_as_lr_goes_to_zero(rule):
    """At fixed t = k lr^2, c's and sigma_0^2 Sigma (batch ~ lr^2), the discrete rule approaches the SDE:
    the largest relative error over 5 times at lr = 0.01, B = 1 (measured 2-7%) is below half the one at
    lr = 0.04, B = 16 (measured 30-80%), d = 32, 400 seeds, t = 1."""
    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=32, v=128, seed=0)
    errors = []
    for lr, batch in ((0.04, 16), (0.01, 1)):
        steps = int(round(1.0 / lr**2))
        rec, b1, b2 = _records(steps), 1 - C1 * lr**2, 1 - C2 * lr**2
        opt = plrf.adam(lr, b1, b2) if rule == "adam" else plrf.rmsprop(lr, b1)
        mc = plrf.simulate(problem, opt, steps, batch=batch, seeds=400, record=rec, space="param", progress=False)
        sde = (adaptive_sde.adam_sde(problem, lr, steps, b1, b2, batch=batch, seeds=400, record=rec) if rule == "adam"
               else adaptive_sde.rmsprop_sde(problem, lr, steps, b1, batch=batch, seeds=400, record=rec))
        errors.append(np.abs(mc.mean / sde.risk - 1).max())
    assert errors[1] < 0.5 * errors[0] and errors[1] < 0.15
