"""method="exact" against an independent float64 NumPy transcription of SPEC section 4."""
import numpy as np
import pytest

import plrf
from plrf import exact_risk

TOL = 1e-10  # relative, at every step: both sides are float64 transcriptions of the same recursion


def spec4_reference(spec, opt, steps, batch, planted_bug=None):
    """SPEC 4 line by line (vectorised over modes); returns P after 0..steps steps."""
    lam = spec.eigenvalues
    a, s, c = spec.rho.copy(), np.zeros_like(lam), np.zeros_like(lam)
    out = [spec.p_inf + 0.5 * lam @ a]
    for t in range(steps):
        k = opt.coefficients(t)
        g1, g2, g3, delta = k["gamma1"], k["gamma2"], k["gamma3"], k["delta"]
        G, m = g2 + g1 * g3, 1.0 - delta
        A = 1.0 - G * lam
        R2 = 2.0 * spec.p_inf + lam @ a
        B = batch if planted_bug != "missing_1/B" else 1
        xi = (lam**2 * a + lam * R2) / B
        sign = -1.0 if planted_bug != "wrong_sign" else 1.0
        a2 = A**2 * a + (g3 * m) ** 2 * s + sign * 2 * A * g3 * m * c + G**2 * xi
        s2 = (g1 * lam) ** 2 * a + m**2 * s + 2 * g1 * lam * m * c + g1**2 * xi
        c2 = A * g1 * lam * a - g3 * m**2 * s + (A * m - g3 * m * g1 * lam) * c - G * g1 * xi
        a, s, c = a2, s2, c2
        out.append(spec.p_inf + 0.5 * lam @ a)
    return np.array(out)


@pytest.fixture(scope="module")
def spec():
    return plrf.PLRF(0.8, 0.6, 60, seed=3).spectrum()


def max_rel(x, y):
    return float(np.max(np.abs(x - y) / np.abs(y)))


@pytest.mark.parametrize("batch", [1, 7])
@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "dana_constant", "dana_decaying"])
def test_matches_numpy_transcription(spec, name, batch):
    opt = plrf.defaults(spec, batch)[name]
    steps = 400
    ref = spec4_reference(spec, opt, steps, batch)
    curve = exact_risk(spec, opt, steps, batch=batch, record=np.arange(steps + 1))
    assert curve.diverged_at == -1
    assert max_rel(curve.risk, ref) < TOL


@pytest.mark.parametrize("bug", ["wrong_sign", "missing_1/B"])
def test_planted_bug_is_rejected(spec, bug):
    """The 1e-10 check can fail: a transcription with a planted bug is far outside it."""
    opt = plrf.defaults(spec, 7)["dana_decaying"]
    ref_bad = spec4_reference(spec, opt, 200, 7, planted_bug=bug)
    curve = exact_risk(spec, opt, 200, batch=7, record=np.arange(201))
    assert max_rel(curve.risk, ref_bad) > 1e3 * TOL


def test_general_path_equals_sgd_path(spec):
    """SGD written as a general member (gamma1 = 1, gamma3 = 0) takes the 3-moment path."""
    lr = 0.5 / spec.trace
    general = plrf.GenMomentum(*(plrf.schedule(x) for x in (1.0, lr, 0.0, 1.0)))
    assert not general.is_sgd()
    a = exact_risk(spec, plrf.sgd(lr), 300).risk
    b = exact_risk(spec, general, 300).risk
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_threads_and_record_do_not_change_the_answer():
    lam = np.arange(1, 300_001, dtype=float) ** -1.2
    spec = plrf.Spectrum(lam, lam**0.3, 1e-3)
    opt = plrf.sgd_momentum(0.05 / spec.trace, 0.9)
    one = exact_risk(spec, opt, 30, threads=1, record=np.arange(31))
    two = exact_risk(spec, opt, 30, threads=2, record=np.array([0, 7, 30]))
    np.testing.assert_array_equal(one.risk[[0, 7, 30]], two.risk)


def test_accepts_a_problem_and_schedule_convention():
    prob = plrf.PLRF(1.0, 0.7, 40, seed=1)
    lr = plrf.Schedule.array([0.0] * 5 + [0.3 / prob.spectrum().trace] * 20)
    c = exact_risk(prob, plrf.sgd(lr), 25, record=np.arange(26))
    # lr is 0 for t = 0..4, so the risk after 0..5 steps is the initial risk
    np.testing.assert_allclose(c.risk[:6], prob.spectrum().risk0, rtol=1e-14)
    assert c.risk[6] < c.risk[5]


def test_returns_half_mse(spec):
    c = exact_risk(spec, plrf.sgd(0.1), 1, record=np.array([0]))
    assert c.risk[0] == pytest.approx(spec.risk0)
    assert c.risk[0] == pytest.approx(spec.p_inf + 0.5 * spec.eigenvalues @ spec.rho)
