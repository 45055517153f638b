"""method="fast" (geometric blocks) against the exact recursion at every recorded step."""
import functools

import numpy as np
import pytest

import plrf
from plrf import exact_risk
from plrf.testing import power_law_spectrum

ACCEPT = 1e-3  # issue 4 acceptance: max relative error over ~20 records per decade


def max_rel_error(spec, name, steps, rtols=(1e-4,)):
    """(max relative error of fast vs exact, fast's own estimate) for each rtol (first: the default)."""
    opt = plrf.defaults(spec, 1)[name]
    rec = plrf.record_grid(steps, 20)
    ex = exact_risk(spec, opt, steps, record=rec)
    out = []
    for rtol in rtols:
        fa = exact_risk(spec, opt, steps, record=rec, method=plrf.engines.fast(rtol=rtol))
        assert ex.diverged_at == fa.diverged_at == -1
        out.append((float(np.max(np.abs(fa.risk - ex.risk) / ex.risk)), fa.error_estimate))
    return out if len(rtols) > 1 else out[0]


@functools.lru_cache(maxsize=None)
def sampled_spectrum(alpha, beta, d):
    return plrf.PLRF(alpha, beta, d, seed=0).spectrum(keep_vectors=False)


NAMES = ["sgd", "sgd_momentum", "dana_constant", "dana_decaying"]
# alpha < 1/2, beta > alpha, and the 'usual' phase
AB = [(1.0, 0.8), (0.4, 0.3), (0.7, 1.5)]


@pytest.mark.parametrize("alpha,beta", AB)
@pytest.mark.parametrize("name", NAMES)
def test_fast_matches_exact_small(name, alpha, beta):
    err, est = max_rel_error(power_law_spectrum(300, alpha, beta), name, 30_000)
    assert err < ACCEPT
    assert est < 10 * ACCEPT


@pytest.mark.slow
@pytest.mark.parametrize("alpha,beta", AB)
@pytest.mark.parametrize("name", NAMES)
def test_fast_matches_exact_d4000_1e6_steps(name, alpha, beta):
    """At the default rtol = 1e-4, and at 1e-3 (the coarsest setting the long-horizon benchmark quotes)."""
    for err, est in max_rel_error(sampled_spectrum(alpha, beta, 4000), name, 1_000_000, rtols=(1e-4, 1e-3)):
        assert err < ACCEPT


@functools.lru_cache(maxsize=None)
def theory_nodes(alpha, beta, d):
    return plrf.Spectrum.theory(alpha, beta, d, compress=True)


def fast_error_at_d1e4(alpha, beta, name, batch, rtol=1e-4):
    """(error, estimate) of fast at `rtol` against exact on the nodes of a d = 1e4 theory spectrum, T = 1e6."""
    spec = theory_nodes(alpha, beta, 10_000)
    opt = plrf.defaults(spec, batch)[name]
    rec = plrf.record_grid(10**6, 20)
    ex = exact_risk(spec, opt, 10**6, batch, record=rec).risk
    fa = exact_risk(spec, opt, 10**6, batch, record=rec, method=plrf.engines.fast(rtol=rtol))
    return float(np.max(np.abs(fa.risk / ex - 1))), fa.error_estimate


@pytest.mark.slow
@pytest.mark.parametrize("alpha, beta, name, batch", [(1.0, 0.3, n, 1) for n in NAMES]
                         + [(0.7, 0.8, "dana_decaying", 1), (1.0, 0.3, "dana_decaying", 32)])
def test_fast_meets_its_default_rtol_over_decades(alpha, beta, name, batch):
    """At the default rtol = 1e-4 the error stays below 1e-4 to T = 1e6, and the estimate is not
    smaller than the error (DANA-decaying at B = 1 was 1.4e-4 before the tail split)."""
    err, est = fast_error_at_d1e4(alpha, beta, name, batch)
    assert err < 1e-4 and est >= err


@pytest.mark.slow
def test_fast_rtol_check_has_teeth():
    assert fast_error_at_d1e4(1.0, 0.3, "dana_decaying", 1, rtol=1e-3)[0] > 1e-4


def test_fast_is_exact_for_the_first_steps():
    """Blocks have length 1 while r t < 2: there the block solver is the recursion itself."""
    spec = power_law_spectrum(200)
    opt = plrf.defaults(spec, 1)["dana_decaying"]
    rec = np.arange(30)
    a = exact_risk(spec, opt, 29, record=rec).risk
    b = exact_risk(spec, opt, 29, record=rec, method="fast").risk
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_fast_planted_bug_would_fail():
    """The 1e-3 check has teeth: the exact curve with 1/B dropped (B = 7 vs 1) is far outside it."""
    spec = power_law_spectrum(300)
    opt = plrf.defaults(spec, 1)["sgd"]
    rec = plrf.record_grid(30_000, 20)
    good = exact_risk(spec, opt, 30_000, record=rec, batch=7, method="fast").risk
    bad = exact_risk(spec, opt, 30_000, record=rec, batch=1).risk
    assert np.max(np.abs(good - bad) / bad) > 10 * ACCEPT
    right = exact_risk(spec, opt, 30_000, record=rec, batch=7).risk  # and at B = 7 fast is right, not just different
    assert np.max(np.abs(good - right) / right) < ACCEPT


def test_fast_long_horizon_runs_and_decreases():
    spec = power_law_spectrum(2000)
    c = exact_risk(spec, plrf.defaults(spec, 1)["dana_decaying"], 10**9, method=plrf.engines.fast(rtol=1e-3))
    assert c.diverged_at == -1 and np.all(np.isfinite(c.risk))
    assert c.risk[-1] < c.risk[0] and c.risk[-1] >= spec.p_inf * (1 - 1e-9)
