"""plrf.theory.shape: the predicted loss-curve shape, checked against exact curves.

Brute-force crossover search: on an exact SGD curve (fast engine, theory spectrum compressed into
nodes), the local log-log slope of P passes the midpoint of two stretches' slopes exactly where the
two terms are equal (for A t^-a + B t^-b the local slope is (a A t^-a + b B t^-b) / P). The
crossover exponent k is the slope of log t_x against log d over d = 1e3, 1e5, 1e7; it must match
theory's k within K_TOL = 0.03. Measured (2026-12): Ia 1.992 (theory 2); II 1.423 (1/0.7 = 1.429) and
1.988 (2): largest error 0.008 (Ia), 0.012 (II). Planted twins, each one term exponent (sigma, F_ac's,
F_0's) off by +-0.1: the largest error is then 0.117 to 0.508, so every twin fails by 4x K_TOL or more.
"""
import math

import numpy as np
import pytest

import plrf
from plrf import theory
from plrf.theory.shape import DEFAULT_MARGIN

DS = (10**3, 10**5, 10**7)
K_TOL = 0.03  # measured error <= 0.0125; a twin with one exponent off by 0.1 moves k by >= 0.117
PHASES = {"Ia": (1.0, 0.3), "II": (1.0, 0.7)}


def _exact_curve(alpha, beta, d):
    spec = plrf.Spectrum.theory(alpha, beta, d, compress=1e-4)
    spec.meta.setdefault("alpha", alpha)
    spec.meta.setdefault("beta", beta)
    steps = int(min(1e18, 1e3 * d ** (2 * alpha)))  # well past saturation (s ~ d^(2 alpha))
    ex = plrf.exact_risk(spec, plrf.defaults(spec)["sgd"], steps, record=plrf.record_grid(steps, 40), method="fast")
    return ex.steps[1:], ex.risk[1:]


@pytest.fixture(scope="module")
def curves():
    return {(ph, d): _exact_curve(*ab, d) for ph, ab in PHASES.items() for d in DS}


def _crossing(t, P, level):
    """log10 t where the local slope of P first falls through `level` (linear interpolation)."""
    x = np.log10(t)
    s = -np.gradient(np.log10(P), x)
    i = np.flatnonzero((s[:-1] >= level) & (s[1:] < level))
    assert len(i) == 1, f"slope crosses {level} {len(i)} times"
    j = i[0]
    return float(np.interp(level, [s[j + 1], s[j]], [x[j + 1], x[j]]))


def _measured_k(curves, ph, shape_at):
    """Measured k of every predicted crossover (midpoint rule), in theory's order."""
    sh = shape_at(DS[0])
    out = []
    for a, b in zip(sh.stretches[:-1], sh.stretches[1:]):
        level = (a.slope + b.slope) / 2
        x = [_crossing(*curves[(ph, d)], level) for d in DS]
        out.append(float(np.polyfit(np.log10(DS), x, 1)[0]))
    return out


def _max_error(curves, ph, shape_fn):
    alpha, beta = PHASES[ph]
    shape_at = lambda d: shape_fn(alpha, beta, "sgd", d=d)
    predicted = [k for k, _, _ in shape_at(DS[0]).crossovers]
    if len(predicted) != len(shape_fn(alpha, beta, "sgd", d=DS[-1]).crossovers):
        return math.inf  # the sequence of terms changes with d: not the shape of these curves
    try:
        measured = _measured_k(curves, ph, shape_at)
    except AssertionError:  # a predicted level the slope never passes (or passes twice)
        return math.inf
    if len(measured) != len(predicted):
        return math.inf
    return max(abs(m - p) for m, p in zip(measured, predicted))


@pytest.mark.parametrize("ph", PHASES)
def test_crossover_exponents_match_brute_force_search_on_exact_curves(curves, ph):
    assert _max_error(curves, ph, theory.shape) < K_TOL


# every term exponent the two phases' shapes read, each off by +-0.1 (the noise term dominates no
# stretch of Ia or II, so its twin changes nothing: it is not a twin of these shapes)
TWINS = [(ph, name, off) for ph, names in (("Ia", ("sigma", "f0_exponent")),
                                           ("II", ("sigma", "fac_exponent", "f0_exponent")))
         for name in names for off in (-0.1, 0.1)]


@pytest.mark.parametrize("ph, twin, offset", TWINS)
def test_planted_twin_with_one_exponent_off_by_0_1_fails(curves, ph, twin, offset, monkeypatch):
    """The same comparison (K_TOL = 0.03 in k) must reject a shape built from one term exponent off by 0.1."""
    import plrf.theory as th
    from plrf.theory import laws  # where shape reads the term exponents

    orig = getattr(laws, twin)
    monkeypatch.setattr(laws, twin, lambda *a: orig(*a) + offset)
    assert _max_error(curves, ph, th.shape) > K_TOL


def test_phase_sequences_and_exact_crossover_exponents():
    sh = theory.shape(1.0, 0.7, "sgd", d=1e6)
    assert [s.label for s in sh.stretches] == ["F_pp", "F_ac", "F_0"]
    assert [s.slope for s in sh.stretches] == pytest.approx([1.2, 0.5, 0.0])
    assert [k for k, _, _ in sh.crossovers] == pytest.approx([1 / 0.7, 2.0])
    assert sh.saturation == pytest.approx(2.0) and sh.t_saturation == pytest.approx(1e12)
    # DANA-constant: SGD's clock until t ~ d, then tau ~ t^2/d (docs/theory.md §8), saturating at d^1.5
    dc = theory.shape(1.0, 0.3, "dana_constant", d=1e9)
    assert [(s.label, s.slope) for s in dc.stretches] == [("F_pp", pytest.approx(0.8)),
                                                         ("F_pp[tau]", pytest.approx(1.6)), ("F_0", 0.0)]
    assert [k for k, _, _ in dc.crossovers] == pytest.approx([1.0, 1.5])
    # DANA-decaying: the accelerated clock wins from t ~ 1 (k = 0), so SGD's stretch has no length in d
    dd = theory.shape(1.0, 0.5, "dana_decaying", d=1000)
    assert [s.label for s in dd.stretches] == ["F_pp[tau]", "F_0"] and dd.saturation == pytest.approx(4 / 3)
    # phase Ic: the noise term would grow with t (2 - 1/(2 alpha) < 0) and is left out; below
    # alpha = 1/2 the step is ~ d^(2 alpha - 1), so the curve is flat (P_0) until t ~ d^(1 - 2 alpha)
    ic = theory.shape(0.2, 0.7, "sgd", d=1e6)
    assert [s.term for s in ic.stretches] == ["P_0", "F_pp", "F_0"] and ic.crossovers[0][0] == pytest.approx(0.6)


def test_window_is_the_longest_decaying_stretch_trimmed_by_the_margin():
    sh = theory.shape(1.0, 0.7, "sgd", d=1e6)
    lo, hi = sh.window()
    assert sh.stretch().label == "F_pp"  # 8.6 decades, against F_ac's 3.4
    assert (lo, hi) == pytest.approx((10**DEFAULT_MARGIN, 10 ** (6 / 0.7 - DEFAULT_MARGIN)))
    assert sh.window("F_ac", margin=0.5) == pytest.approx((10 ** (6 / 0.7 + 0.5), 10**11.5))
    assert sh.at(1e10).term == "F_ac" and sh.at(1e13).term == "F_0" and sh.at(0.5).term == "F_pp"
    with pytest.raises(ValueError, match="nothing is left"):
        theory.shape(1.0, 0.7, "sgd", d=10).window("F_ac")
    with pytest.raises(ValueError, match="noise"):
        sh.window("noise")
    with pytest.raises(ValueError, match="margin"):
        sh.window(margin=-1)


def test_short_repr_and_table():
    sh = theory.shape(1.0, 0.7, "sgd", d=1e6)
    assert repr(sh) == "Shape(sgd, alpha=1, beta=0.7, d=1e+06: F_pp t^-1.2 to d^1.429, F_ac t^-0.5 to d^2, F_0 flat)"
    assert "c = O(1) unknown" in str(sh) and str(sh).count("\n") == 3


@pytest.mark.parametrize("kwargs, match", [
    (dict(alpha=1.0, beta=0.3), "d is required"),
    (dict(alpha=1.0, beta=0.3, d=1), "d must be > 1"),
    (dict(alpha=0.2, beta=0.2, d=100), "degenerate"),
    (dict(alpha=-1.0, beta=0.3, d=100), "alpha"),
    (dict(alpha=1.0, beta=0.3, d=100, optimizer="adam"), "optimizer"),
])
def test_bad_input_is_refused_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        theory.shape(**kwargs)


def test_dana_below_the_line_is_not_given_by_theory():
    with pytest.raises(NotImplementedError):
        theory.shape(0.4, 0.8, "dana_decaying", d=100)


def test_batch_gives_the_clock_crossover_of_the_recipe():
    """DANA: one term on two clocks, gamma2 t = b t^q d^-mu, so c = (gamma2/b)^(1/(q-1)) from plrf.defaults."""
    dd = theory.shape(1.0, 0.5, "dana_decaying", d=1000, batch=8)
    assert [s.label for s in dd.stretches] == ["F_pp", "F_pp[tau]", "F_0"]
    # recipe at B = 8: gamma2 = 1/12, gamma3 = 0.1 (1+t)^-1/2, delta = 3: b = 0.1 / (1.5 * 4), c = (5)^2
    assert dd.stretches[1].t_start == pytest.approx(25.0, rel=1e-4) and dd.stretches[1].k_start == 0
    dc = theory.shape(1.0, 0.3, "dana_constant", d=1e9, batch=1)
    assert dc.crossovers[0][0] == pytest.approx(1.0) and 10 < dc.stretches[1].c_start < 100
    assert "recipe at B = 1" in str(dc) and "27 d^1" in repr(dc)
    # SGD: batch changes no k (its c are unknown O(1) anyway)
    assert theory.shape(1.0, 0.7, "sgd", d=1e6, batch=8).stretches == theory.shape(1.0, 0.7, "sgd", d=1e6).stretches
    with pytest.raises(ValueError, match="batch"):
        theory.shape(1.0, 0.5, "dana_decaying", d=1000, batch=0)


def test_shape_is_immutable():
    sh = theory.shape(1.0, 0.3, d=100)
    with pytest.raises(AttributeError):
        sh.d = 1000
    assert math.isinf(sh.stretches[-1].t_end)


def test_below_alpha_half_the_curve_is_flat_until_d_to_the_1_minus_2_alpha():
    """IVa (alpha = 0.4, beta = 0.8): the P_0 -> F_pp crossover, located on exact curves at d = 1e4, 1e6,
    1e8 (plrf.shape_fit.crossovers), has k = 0.210 [0.179, 0.241] against 1 - 2 alpha = 0.2 (measured
    2026-12). Without the P_0 stretch the first predicted crossover is F_pp -> noise at k = 0.4."""
    from plrf import shape_fit
    from plrf.cli.frontier import default_steps

    alpha, beta = 0.4, 0.8
    curves = {}
    for d in (10**4, 10**6, 10**8):
        spec = plrf.Spectrum.theory(alpha, beta, d, compress=True)
        spec.meta.setdefault("alpha", alpha)
        n = default_steps(spec, 1)
        curves[d] = plrf.exact_risk(spec, plrf.defaults(spec, 1)["sgd"], n, record=plrf.record_grid(n, 40),
                                    method="fast")
    first = shape_fit.crossovers(curves, lambda d: theory.shape(alpha, beta, "sgd", d=d))[0]
    assert first.label == "P_0 -> F_pp" and first.theory == pytest.approx(1 - 2 * alpha)
    assert first.consistent and abs(first.k - first.theory) < K_TOL, str(first)
