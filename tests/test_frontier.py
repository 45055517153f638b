"""plrf.frontier on P(t, d) = t^-a + d^-b, whose frontier is known in closed form.

With f = t B d: P = (f/(B d))^-a + d^-b is minimized over d at
    d*(f) = (b/a)^(1/(a+b)) (f/B)^(a/(a+b)),   P*(f) = (1 + b/a) (b/a)^(-b/(a+b)) (f/B)^(-ab/(a+b)),
so xi = a/(a+b) and eta = ab/(a+b) exactly.
"""
import warnings

import numpy as np
import pytest

from plrf import Curve
from plrf.frontier import FrontierWarning, frontier

STEPS = np.unique(np.round(np.geomspace(1, 1e9, 181)))


def _synthetic(a, b, d_lo=10, d_hi=1e5, per_decade=8):
    ds = np.unique(np.round(np.geomspace(d_lo, d_hi, int(per_decade * np.log10(d_hi / d_lo)) + 1))).astype(int)
    return {int(d): (STEPS, STEPS**-a + float(d) ** -b) for d in ds}


def _closed_form(a, b, f, B):
    d_star = (b / a) ** (1 / (a + b)) * (f / B) ** (a / (a + b))
    p_star = (1 + b / a) * (b / a) ** (-b / (a + b)) * (f / B) ** (-a * b / (a + b))
    return d_star, p_star


@pytest.mark.parametrize("a,b,B", [(0.5, 1.0, 1), (0.8, 0.4, 4), (1.2, 0.7, 16)])
def test_recovers_closed_form_exponents(a, b, B):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrontierWarning)  # edges at the ends of the flop range
        fr = frontier(_synthetic(a, b), B)
    xi, eta = a / (a + b), a * b / (a + b)
    iso, ap1 = fr.isoflop, fr.approach1
    assert iso.reliable and ap1.reliable
    assert iso.xi == pytest.approx(xi, abs=2e-3) and iso.eta == pytest.approx(eta, abs=1e-3)
    assert iso.xi_interval[0] - 1e-3 <= xi <= iso.xi_interval[1] + 1e-3
    # approach 1 picks d on a grid of 8 per decade: d* is a staircase, so its slope is looser
    assert ap1.xi == pytest.approx(xi, abs=0.02) and ap1.eta == pytest.approx(eta, abs=2e-3)
    # pointwise: a planted missing B (f = steps x d) would move d* by B^(a/(a+b)) and fail here
    d_star, p_star = _closed_form(a, b, iso.flops, B)
    assert np.max(np.abs(np.log(iso.d_star / d_star))) < 0.04
    assert np.max(np.abs(np.log(iso.p_star / p_star))) < 0.005
    assert np.all(np.abs(np.log(ap1.d_star / d_star)) <= np.log(10) / 8)  # within one grid step


def test_missing_batch_factor_would_be_caught():
    a, b, B = 0.8, 0.4, 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrontierWarning)
        fr = frontier(_synthetic(a, b), 1)  # planted bug: B dropped from the flop count
    d_star, _ = _closed_form(a, b, fr.isoflop.flops, B)
    assert np.max(np.abs(np.log(fr.isoflop.d_star / d_star))) > 0.3


def test_edge_of_d_grid_warns_and_is_excluded():
    curves = _synthetic(0.5, 1.0, d_lo=1000, d_hi=1e4)
    with pytest.warns(FrontierWarning, match="edge of the d grid"):
        fr = frontier(curves)
    assert fr.at_edge and fr.warnings
    assert not np.any(np.isin(fr.isoflop.flops, fr.flops[fr.edge]))
    assert np.all((fr.approach1.d_star > 1000) & (fr.approach1.d_star < 1e4))


def test_too_narrow_grid_is_unreliable():
    curves = {d: (STEPS[:40], STEPS[:40] ** -0.5 + d**-1.0) for d in (100, 120, 150, 180)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrontierWarning)
        fr = frontier(curves)
    assert not fr.isoflop.reliable and fr.isoflop.reasons


def test_accepts_curves_with_meta_d_and_monte_carlo_arrays():
    a, b = 0.5, 1.0
    table = _synthetic(a, b, d_lo=10, d_hi=1e4)
    curves = [Curve(np.concatenate([[0], s]), np.concatenate([[1.0], r]), meta={"d": d}) for d, (s, r) in table.items()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrontierWarning)
        fr = frontier(curves)
        mc = frontier({d: (s, np.stack([r, r])) for d, (s, r) in table.items()})
    assert fr.isoflop.xi == pytest.approx(a / (a + b), abs=2e-3)
    assert mc.isoflop.xi == pytest.approx(fr.isoflop.xi)


def test_bad_input():
    with pytest.raises(ValueError, match="meta"):
        frontier([Curve(STEPS, STEPS**-1.0)])
    with pytest.raises(ValueError, match="at least 3"):
        frontier({10: (STEPS, STEPS**-1.0), 20: (STEPS, STEPS**-1.0)})
    with pytest.raises(ValueError, match="batch"):
        frontier(_synthetic(0.5, 1.0), 0)
    with pytest.raises(ValueError, match="fit_range"):
        frontier(_synthetic(0.5, 1.0), 1, fit_range=(1e6, 1e3))


def test_fit_range_restricts_the_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrontierWarning)
        fr = frontier(_synthetic(0.5, 1.0), 1, fit_range=(1e6, 1e9))
    assert fr.isoflop.flops.min() >= 1e6 and fr.isoflop.flops.max() <= 1e9
    assert fr.isoflop.xi == pytest.approx(1 / 3, abs=3e-3)
