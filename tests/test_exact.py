"""method="exact" against an independent float64 NumPy transcription of docs/theory.md §4."""
import numpy as np
import pytest

import plrf
from plrf import exact_risk
from plrf.testing import spec4_risk

TOL = 1e-10  # relative, at every step: both sides are float64 transcriptions of the same recursion


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
    ref = spec4_risk(spec, opt, steps, batch)
    curve = exact_risk(spec, opt, steps, batch=batch, record=np.arange(steps + 1))
    assert curve.diverged_at == -1
    assert max_rel(curve.risk, ref) < TOL


@pytest.mark.parametrize("bug", ["wrong_sign", "missing_1/B"])
def test_planted_bug_is_rejected(spec, bug):
    """The 1e-10 check can fail: a transcription with a planted bug is far outside it."""
    opt = plrf.defaults(spec, 7)["dana_decaying"]
    ref_bad = spec4_risk(spec, opt, 200, 7, bug=bug)
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


def test_fast_sgd_does_not_depend_on_threads():
    """fast splits its modes from 2 x 8192 on (a block costs ~10 ns per mode even for SGD's closed sums)."""
    j = np.arange(1, 20_001, dtype=float)
    spec = plrf.Spectrum(j**-2.0, j**-1.6, 1e-4)
    one = exact_risk(spec, plrf.sgd(0.5), 10**6, method="fast", threads=1)
    two = exact_risk(spec, plrf.sgd(0.5), 10**6, method="fast", threads=2)
    np.testing.assert_array_equal(one.risk, two.risk)


@pytest.mark.parametrize("method", ["exact", "fast", "ode"])
def test_methods_do_not_depend_on_threads(method):
    # Threads split the modes only from 262144 modes on (kParallelMin): go just past it.
    j = np.arange(1, 270_001, dtype=float)
    spec = plrf.Spectrum(j**-2.0, j**-1.6, 1e-4, meta=dict(alpha=1.0, beta=0.8, v=1_080_000))
    opt = plrf.defaults(spec, 1)["dana_decaying"]
    one = exact_risk(spec, opt, 300, method=plrf.engines.get(method, dt=0.05), threads=1)
    two = exact_risk(spec, opt, 300, method=plrf.engines.get(method, dt=0.05), threads=2)
    np.testing.assert_array_equal(one.risk, two.risk)
