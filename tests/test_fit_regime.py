"""Fits that know their regime: saturated windows, windows theory gives to another term, theory's window."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

import plrf
from plrf import fit, theory

T = np.geomspace(1, 1e9, 400)


def _saturated_reason(f):
    return not f.reliable and any(r.startswith("saturated") for r in f.reasons)


@pytest.fixture(scope="module")
def readme_curve():
    """The README's d = 1000 DANA-decaying curve (README.md, first python block)."""
    spec = plrf.PLRF(alpha=1.0, beta=0.5, d=1000, seed=0).spectrum()
    opt = plrf.defaults(spec, batch=8)["dana_decaying"]
    ex = plrf.exact_risk(spec, opt, steps=10**9, batch=8, method="fast")
    return ex.steps[1:], ex.risk[1:], spec.p_inf


def test_readme_dana_fit_is_flagged_saturated(readme_curve):
    t, P, p_inf = readme_curve
    f = fit.power_law(t, P, p_inf=p_inf)
    assert _saturated_reason(f), str(f)  # before: 0.094 on [2.5e5, 6.3e7], reliable=True, theory 1.5
    assert "floor p_inf" in f.reasons[0] and f.window[0] > 1e4
    twin = fit.power_law(t, P, p_inf=p_inf, saturation=None)  # planted twin: saturation check off
    assert not _saturated_reason(twin) and twin.reliable


def test_readme_dana_fit_inside_theory_window(readme_curve):
    t, P, p_inf = readme_curve
    sh = theory.shape(1.0, 0.5, "dana_decaying", d=1000, batch=8)  # F_pp[tau] from t = 25 to ~2.9e4
    f = fit.power_law(t, P, p_inf=p_inf, theory=sh)
    assert (f.term, f.theory) == ("F_pp[tau]", 1.5)
    assert 250 <= f.window[0] and f.window[1] <= 2930 and not _saturated_reason(f)
    # d = 1000 leaves one decade between the trimmed crossovers: 1.29 [0.93, 1.64], flagged "no plateau"
    assert f.interval[0] < 1.5 < f.interval[1] and not f.reliable
    assert "theory 1.5, F_pp[tau]" in str(f)


@pytest.mark.parametrize("window", [None, (1e5, 1e9), (1e7, 1e9)])
def test_a_power_law_still_falling_at_the_end_is_never_saturated(window):
    """Shallow exponents up to the last point: the curve has no floor of its own."""
    f = fit.power_law(T, 3 * T**-0.3, window)
    assert f.reliable and not f.reasons and f.exponent == pytest.approx(0.3, abs=1e-6)


def test_window_within_a_factor_2_of_p_inf_is_saturated():
    P = 1e-3 + T**-1.0  # P < 2 p_inf from t = 1e3 on
    assert _saturated_reason(fit.power_law(T, P, (1e4, 1e6), p_inf=1e-3))
    early = fit.power_law(T, P, (1, 100), p_inf=1e-3)
    assert early.reliable and early.exponent == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="saturation"):
        fit.power_law(T, P, p_inf=1e-3, saturation=0.5)


def test_window_near_the_final_level_of_a_curve_that_ends_flat_is_saturated():
    P = 1e-4 * (1 + (T / 1e5) ** -0.5)  # no p_inf given: the curve's own final level is the floor
    f = fit.power_law(T, P, (1e5, 1e6))
    assert _saturated_reason(f) and "final level" in " ".join(f.reasons)
    assert not _saturated_reason(fit.power_law(T, P, (1, 1e3)))
    assert not _saturated_reason(fit.power_law(T, P, (1e5, 1e6), saturation=None))


def test_learning_rate_fit_knows_its_floor_too():
    lr = 1e-2 * (1 + (T / 1e4) ** -0.5)
    curve = SimpleNamespace(steps=T, lr=lr)
    assert _saturated_reason(fit.learning_rate(curve, (1e4, 1e5)))
    assert not _saturated_reason(fit.learning_rate(curve, (1, 100)))


@pytest.fixture(scope="module")
def phase2_curve():
    d = 10**5
    spec = plrf.Spectrum.theory(1.0, 0.7, d, compress=1e-4)
    spec.meta.setdefault("alpha", 1.0)
    spec.meta.setdefault("beta", 0.7)
    ex = plrf.exact_risk(spec, plrf.defaults(spec)["sgd"], 10**13, record=plrf.record_grid(10**13, 20), method="fast")
    return ex.steps[1:], ex.risk[1:], spec.p_inf, theory.shape(1.0, 0.7, "sgd", d=d)


def test_theory_window_fits_the_predicted_stretch(phase2_curve):
    t, P, p_inf, sh = phase2_curve
    f = fit.power_law(t, P, p_inf=p_inf, theory=sh)  # default margin: 1 decade
    assert f.term == "F_pp" and f.theory == pytest.approx(1.2) and f.window[1] <= 10 ** (5 / 0.7 - 1)
    # the F_pp -> F_ac bend is ~2 decades wide (slopes 1.2 and 0.5): with a 2-decade margin the fit
    # gives theory's value (1.1995 measured; local slopes still range over [1.15, 1.22] at d = 1e5)
    f2 = fit.power_law(t, P, sh.window(margin=2), p_inf=p_inf, theory=sh)
    assert abs(f2.exponent - 1.2) < 0.01 and f2.interval[0] < 1.2 < f2.interval[1], str(f2)


def test_window_theory_gives_to_another_term_is_flagged(phase2_curve):
    t, P, p_inf, sh = phase2_curve
    mixed = fit.power_law(t, P, (1e3, 1e9), p_inf=p_inf, theory=sh)  # F_pp until ~1.4e7, then F_ac
    assert not mixed.reliable and any(r.startswith("regime: theory says F_ac") for r in mixed.reasons)
    late = fit.power_law(t, P, (1e8, 1e12), p_inf=p_inf, theory=sh)  # F_0 from ~1e10
    assert any("F_0 dominates" in r for r in late.reasons if r.startswith("saturated"))
    inside = fit.power_law(t, P, (1e3, 1e6), p_inf=p_inf, theory=sh)
    assert inside.term == "F_pp" and not any(r.startswith(("regime", "saturated")) for r in inside.reasons)


@pytest.mark.parametrize("n", [5, 50])
@pytest.mark.parametrize("c", [1.0, 0.3, 1e-6])
def test_saturated_on_a_constant_curve_is_all_floor(c, n):
    """Before: exponent -0 with P_inf 0, reliable=True."""
    t = np.geomspace(1, 1e6, n)
    g = fit.saturated(t, np.full(n, c))
    assert g.p_inf == pytest.approx(c, rel=1e-12) and g.prefactor == 0.0
    assert math.isnan(g.exponent) and not g.reliable and g.reasons[0].startswith("flat curve")
