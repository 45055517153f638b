"""plrf.families_theory: the heavy-ball oscillation boundary under sparse updates, checked against the
eigenvalues of the mean map that the MoE/sparse recursion uses (plrf.testing.moments)."""
import numpy as np
import pytest

from plrf import families_theory as ft
from plrf.testing import moments


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
