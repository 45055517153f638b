"""plrf.families_theory: the heavy-ball oscillation boundary under sparse updates, checked against the
eigenvalues of the mean map that the MoE/sparse recursion uses (plrf.testing.moments), and the
stationary risk of SGD with ridge, decay and noise against the long-run weight-decay recursion."""
import numpy as np
import pytest

import plrf
from plrf import families_theory as ft
from plrf.testing import families, moments, spec4_risk


def mean_map(delta, gamma3, p, lam):
    """The (e, y) mean map of moments.step for heavy ball with gain p lambda, read off by probing."""
    k = dict(gamma1=1.0, gamma2=0.0, gamma3=gamma3, delta=delta)
    cols = []
    for u, v in ((1.0, 0.0), (0.0, 1.0)):
        z = np.zeros(1)
        mo = moments.step(moments.Moments(z, z, z, np.array([u]), np.array([v])), z, k, np.array([p * lam]), z)
        cols.append([mo.u[0], mo.v[0]])
    return np.array(cols).T


@pytest.mark.parametrize("p", [0.01, 0.3, 1.0])
def test_oscillation_boundary_matches_the_mean_map(p):
    rng = np.random.default_rng(3)
    for _ in range(200):
        delta, gamma3, lam = rng.uniform(0.001, 1.5), rng.uniform(0.01, 2.0), 10 ** rng.uniform(-3, 0)
        eig = np.linalg.eigvals(mean_map(delta, gamma3, p, lam))
        roots = ft.heavy_ball_roots(delta, gamma3, p, lam)
        assert np.allclose(np.sort_complex(eig), np.sort_complex(np.array(roots)), atol=1e-12)
        assert ft.heavy_ball_oscillates(delta, gamma3, p, lam) == bool(np.any(np.abs(eig.imag) > 1e-12))


def test_critical_delta_gives_a_double_root_and_scales_like_sqrt_p():
    gamma3, lam = 0.2, 0.05
    for p in (0.01, 0.1, 1.0):
        dc = float(ft.critical_delta(gamma3, p, lam))
        z1, z2 = ft.heavy_ball_roots(dc, gamma3, p, lam)
        assert abs(z1 - z2) < 1e-6
        assert not ft.heavy_ball_oscillates(dc * 1.01, gamma3, p, lam)
        assert ft.heavy_ball_oscillates(dc * 0.99, gamma3, p, lam)
        assert abs(ft.timescale_ratio(dc, gamma3, p, lam) - 4.0) < 0.5  # ~4 when x << Delta
    ratio = ft.critical_delta(gamma3, 0.01, lam) / ft.critical_delta(gamma3, 1.0, lam)
    assert abs(ratio / 0.1 - 1) < 0.05  # "spectral conflict": Delta_c ~ sqrt(p)


def test_moe_exponent():
    assert ft.moe_exponent(0.8, 2.0) == 0.5
    assert ft.moe_exponent(0.3, 2.0) == 0.3
    with pytest.raises(ValueError, match="zeta"):
        ft.moe_exponent(0.8, 1.0)


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("knobs", [dict(l2=0.05, noise=0.01), dict(decay=0.01, noise=0.003), dict(l2=0.02, decay=0.01)])
def test_sgd_stationary_risk_is_the_recursions_limit(batch, knobs):
    """The closed-form floor equals the weight-decay recursion after 3000 steps (contraction >= 1e-2
    per step on every mode, so the transient is below 1e-13)."""
    spec = plrf.Spectrum.theory(1.0, 0.7, 20)
    risk = families.decay_risk(spec, plrf.sgd(0.2), 3000, batch, **knobs)
    assert abs(risk[-1] / ft.sgd_stationary_risk(spec, 0.2, batch, **knobs) - 1) < 1e-10


@pytest.mark.slow
def test_noise_floor_without_decay():
    """Noise only: the slowest mode (lr lambda_min = 5e-4) needs ~6e4 steps; the floor is reached."""
    spec = plrf.Spectrum.theory(1.0, 0.7, 20)
    risk = families.decay_risk(spec, plrf.sgd(0.2), 60000, 1, noise=0.003)
    assert abs(risk[-1] / ft.sgd_stationary_risk(spec, 0.2, 1, noise=0.003) - 1) < 1e-8


def test_sgd_stationary_risk_rejects_an_unstable_step():
    with pytest.raises(ValueError, match="lr"):
        ft.sgd_stationary_risk(plrf.Spectrum.theory(1.0, 0.7, 20), 3.0, 1, noise=0.01)


@pytest.mark.slow
def test_moe_total_risk_exponent_is_measured():
    """[derived] t^-min(sigma, 1 - 1/zeta) for Zipf experts, measured with the exact B = 1 SGD binomial
    identity: alpha = 1, beta = 0.7 (sigma = 1.2), P_inf = 0, d = 500, m = 2000 experts (p_m t << 1),
    slope fitted on t in [500, 2e4]. Measured -0.505 (zeta = 2, predicted -0.5), -0.665 (zeta = 3, -0.667)."""
    j = np.arange(1, 501.0)
    spec = plrf.Spectrum(j**-2.0, j**-1.4, 0.0)
    sgd = spec4_risk(spec, plrf.sgd(0.2), 20000, 1)
    ts = np.unique(np.geomspace(500, 20000, 8).astype(int))
    for zeta in (2.0, 3.0):
        p = families.zipf_probabilities(2000, zeta)
        total = [p @ np.array([families.binomial_average(sgd, t, pi) for pi in p]) for t in ts]
        slope = np.polyfit(np.log(ts), np.log(total), 1)[0]
        assert abs(slope + ft.moe_exponent(1.2, zeta)) < 0.02, (zeta, slope)
