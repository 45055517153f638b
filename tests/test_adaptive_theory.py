"""plrf.adaptive_theory: the closed forms of docs/theory.md §12.4, checked by their own defining properties
and against the numbers quoted in the design notes (the DE comparisons are in test_adaptive_oracle.py)."""
import math

import pytest

from plrf import adaptive_theory as theory


def test_isotropic_limit_solves_its_equation():
    lam, d, G, b0, A0 = 0.5, 100, 0.7, 40.0, 0.2
    c = 1.0 + (d + 1.0)
    x0 = G * lam * c / b0
    x = theory.adagrad_norm_isotropic_limit(lam, d, G, b0, A0) * lam * c
    assert 0 < x < x0 < 2
    assert math.isclose(math.log(x) + 2 / x, math.log(x0) + 2 / x0 + A0 / (2 * G * G), rel_tol=1e-13)


def test_isotropic_limit_without_initial_error_keeps_the_first_step():
    eta = theory.adagrad_norm_isotropic_limit(1.0, 50, 1.0, 60.0, 0.0, batch=2)
    assert math.isclose(eta, 1.0 / 60.0, rel_tol=1e-12)


def test_isotropic_limit_scales_inversely_with_the_eigenvalue():
    """gamma_inf is inversely proportional to the average eigenvalue at fixed x0 and error."""
    def eta(lam):
        c = 1.0 + 101.0
        return theory.adagrad_norm_isotropic_limit(lam, 100, 1.0, lam * c / 1.2, 0.5)
    assert math.isclose(eta(0.25) / eta(1.0), 4.0, rel_tol=1e-12)


def test_isotropic_limit_from_an_unstable_start_lands_in_the_stable_range():
    c = 1.0 + 101.0
    x = theory.adagrad_norm_isotropic_limit(1.0, 100, 1.0, 1.0, 0.3) * c  # x0 = 102 > 2
    assert 0 < x < 2


def test_noisy_law_is_t_to_the_minus_half():
    lr = [theory.adagrad_norm_noisy_lr(t, 0.5, 3.0, 0.1, batch=4) for t in (1e4, 1e6)]
    ex = [theory.adagrad_norm_noisy_excess(t, 0.5, 3.0, 0.1, batch=4) for t in (1e4, 1e6)]
    assert math.isclose(lr[0] / lr[1], 10.0, rel_tol=1e-12) and math.isclose(ex[0] / ex[1], 10.0, rel_tol=1e-12)
    # the excess is the equilibrium eta tr K P_inf / (2B) at eta_t
    assert math.isclose(ex[1], lr[1] * 3.0 * 0.1 / (2 * 4), rel_tol=1e-12)


@pytest.mark.parametrize("alpha, beta, lr, risk", [
    (1.0, 0.3, 0.167, 0.667), (1.0, 0.1, 0.286, 0.429), (0.75, 0.2, 0.286, 0.429), (1.0, 0.7, 0.0, 1.2),
])
def test_plrf_exponents_match_the_quoted_predictions(alpha, beta, lr, risk):
    """docs/theory.md §12.4's predicted slopes (their DE fits at d = 1e5 were within 0.02 of these)."""
    e = theory.adagrad_norm_exponents(alpha, beta)
    assert abs(e["lr"] - lr) < 1e-3 and abs(e["risk"] - risk) < 1e-3


def test_plrf_exponents_are_continuous_at_the_transition():
    below, above = theory.adagrad_norm_exponents(0.8, 0.5 - 1e-9), theory.adagrad_norm_exponents(0.8, 0.5)
    assert abs(below["lr"]) < 1e-8 and above["lr"] == 0.0
    assert abs(below["risk"] - 1.0) < 1e-8 and above["risk"] == 1.0


def test_plrf_exponents_reject_the_degenerate_model():
    with pytest.raises(ValueError, match="degenerate"):
        theory.adagrad_norm_exponents(0.2, 0.2)


def test_two_eigenvalue_line_search_equal_eigenvalues():
    out = theory.line_search_two_eigenvalues(0.7, 0.7)
    assert math.isclose(out["gamma"] * 0.7, 1.0, rel_tol=1e-12) and math.isclose(out["ratio"], 1.0, rel_tol=1e-12)


def test_two_eigenvalue_line_search_is_a_fixed_point():
    """At the limit the squared-error ratio r = a2 / a1 is stationary under the high-dimensional
    line-search flow: da_i/dt = -2 eta lam_i a_i + eta^2 lam_i (lam1 a1 + lam2 a2) (d = 2 nodes, B = 1,
    time in units of d steps), with gamma = (lam1^2 + lam2^2 r) / (((lam1^2 + lam2^2)/2)(lam1 + lam2 r))."""
    l1, l2 = 1.0, 0.3
    out = theory.line_search_two_eigenvalues(l1, l2)
    r, g = out["ratio"], out["gamma"]
    assert math.isclose(g, (l1**2 + l2**2 * r) / ((l1**2 + l2**2) / 2 * (l1 + l2 * r)), rel_tol=1e-12)
    R = l1 + l2 * r  # twice the risk per unit a1
    rate1 = -2 * g * l1 + g * g * l1 * R / 2  # (1/a1) da1/dt with the half-multiplicity forcing
    rate2 = -2 * g * l2 + g * g * l2 * R / (2 * r)
    assert math.isclose(rate1, rate2, rel_tol=1e-10)


@pytest.mark.parametrize("fn, args, word", [
    (theory.adagrad_norm_isotropic_limit, (1.0, 10, 0.0, 1.0, 1.0), "G"),
    (theory.adagrad_norm_isotropic_limit, (1.0, 10, 1.0, float("nan"), 1.0), "b0"),
    (theory.adagrad_norm_isotropic_limit, (1.0, 10, 1.0, 1.0, -1.0), "error2"),
    (theory.line_search_two_eigenvalues, (1.0, 0.0), "lam2"),
])
def test_bad_input_names_the_argument(fn, args, word):
    with pytest.raises(ValueError, match=word):
        fn(*args)
