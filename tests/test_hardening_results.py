"""Issue #15: no silent wrong answers in the analysis. Shuffled steps give the same frontier,
duplicate steps are refused, growing curves are never reliable fits, and invalid fit and plot
parameters are refused with a ValueError naming them."""
import numpy as np
import pytest

import plrf
from plrf import fit

T = np.unique(np.round(np.geomspace(1, 1e6, 200)))
DS = np.unique(np.round(np.geomspace(10, 1e4, 13)).astype(int))


def _curves():
    return {int(d): (T.copy(), T**-0.5 + float(d) ** -1.0) for d in DS}


def test_frontier_with_shuffled_steps_is_unchanged():
    ref = plrf.frontier.frontier(_curves(), n_boot=50, warn=False)
    shuffled = _curves()
    s, r = shuffled[int(DS[4])]
    perm = np.random.default_rng(0).permutation(len(s))
    shuffled[int(DS[4])] = (s[perm], r[perm])
    got = plrf.frontier.frontier(shuffled, n_boot=50, warn=False)
    assert got.isoflop.xi == ref.isoflop.xi and got.approach1.eta == ref.approach1.eta


def test_frontier_duplicate_steps_are_refused():
    curves = _curves()
    s, r = curves[int(DS[2])]
    curves[int(DS[2])] = (np.append(s, s[10]), np.append(r, r[10] * 1.1))
    with pytest.raises(ValueError, match=rf"d={DS[2]} has duplicate steps"):
        plrf.frontier.frontier(curves, n_boot=50)


def test_fit_growing_curve_is_not_reliable():
    t = np.geomspace(1, 1e5, 120)
    for P in (t**0.3, 1 + t**0.5, np.exp(np.log(t) * 0.2)):
        f = fit.power_law(t, P)
        assert not f.reliable and any("growing" in r for r in f.reasons), f
    s = fit.saturated(t, 0.1 + 0.01 * t**0.4)
    assert not s.reliable, s
    decaying = fit.power_law(t, t**-0.5)  # the twin: a clean decay stays reliable
    assert decaying.reliable and decaying.exponent == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize("kwargs, name", [
    (dict(tol=-1), "tol"), (dict(tol=float("nan")), "tol"), (dict(min_decades=0), "min_decades"),
    (dict(min_slope=-0.1), "min_slope"), (dict(per_decade=0), "per_decade"), (dict(level=1.5), "level"),
    (dict(window=(5, 1)), "window"), (dict(window=(1, 2, 3)), "window"), (dict(p_inf=float("inf")), "p_inf"),
])
def test_fit_power_law_invalid_parameters_are_refused(kwargs, name):
    t = np.geomspace(1, 1e4, 80)
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        fit.power_law(t, t**-0.5, **kwargs)


@pytest.mark.parametrize("kwargs, name", [
    (dict(min_fraction=2.0), "min_fraction"), (dict(max_iter=0), "max_iter"), (dict(min_decades=-1), "min_decades"),
    (dict(level=0), "level"), (dict(per_decade=2.5), "per_decade"),
])
def test_fit_saturated_invalid_parameters_are_refused(kwargs, name):
    t = np.geomspace(1, 1e4, 80)
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        fit.saturated(t, 0.1 + t**-0.5, **kwargs)


def test_local_slope_and_frontier_invalid_parameters_are_refused():
    t = np.geomspace(1, 1e4, 80)
    with pytest.raises(ValueError, match="half_width"):
        fit.local_slope(t, t**-0.5, half_width=-1)
    for kwargs, name in ((dict(level=2), "level"), (dict(fit_range=(10, 1)), "fit_range"), (dict(seed=-1), "seed"),
                         (dict(per_decade=1), "per_decade")):
        with pytest.raises(ValueError, match=name):
            plrf.frontier.frontier(_curves(), **kwargs)


def test_plot_invalid_parameters_are_refused():
    pytest.importorskip("matplotlib")
    from plrf import plot

    c = plrf.Curve(np.array([0, 1, 10]), np.array([1.0, 0.5, 0.2]))
    fr = plrf.frontier.frontier(_curves(), n_boot=20, warn=False)
    cases = [
        (lambda: plot.curves(c, band=(0.9, 0.1)), "band"),
        (lambda: plot.curves(c, band=(0.1, 1.5)), "band"),
        (lambda: plot.curves([c, c], labels=["one"]), "labels"),
        (lambda: plot.curves([c, "x"]), "items"),
        (lambda: plot.curves(c, exact=5), "exact"),
        (lambda: plot.curves([c], labels=3), "labels"),
        (lambda: plot.frontier(fr, theory="eta"), "theory"),
        (lambda: plot.phase_diagram(measured=[1, 2]), "measured"),
        (lambda: plot.frontier(fr, n_isoflop=0), "n_isoflop"),
        (lambda: plot.frontier("fr"), "fr"),
        (lambda: plot.phase_diagram("zeta"), "quantity"),
        (lambda: plot.phase_diagram(n=1), "n"),
        (lambda: plot.phase_diagram(alpha=(1.0, 0.5)), "alpha"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=rf"\b{name}\b"):
            call()


@pytest.mark.parametrize("name,make", [
    ("tau", lambda: plrf.Schedule.power_law(1.0, float("nan"), -0.5)),
    ("c", lambda: plrf.Schedule.power_law(float("inf"), 1.0, -0.5)),
    ("p", lambda: plrf.Schedule.power_law(1.0, 1.0, float("nan"))),
])
def test_schedule_parameters_are_named_when_not_finite(name, make):
    with pytest.raises(ValueError, match=f"schedule parameter {name} must be finite"):
        make()


def test_theory_spectrum_refuses_an_alpha_whose_eigenvalues_underflow():
    with pytest.raises(ValueError, match="alpha=1e\\+19 is too large"):
        plrf.Spectrum.theory(1e19, 0.5, 100)
    assert plrf.Spectrum.theory(50.0, 0.5, 100).eigenvalues[-1] > 0  # 2 alpha ln d = 460: still representable
