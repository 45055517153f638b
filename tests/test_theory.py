"""plrf.theory: phases, docs/theory.md §8 worked values, continuity at every phase boundary, and an
independent re-derivation of the tables by balancing the loss terms."""
import math

import numpy as np
import pytest

from plrf import theory as th
from plrf.theory import ALPHA_IV, balance, compute_optimal, loss_terms, phase

EPS = 1e-9

# (phase on each side, points on the shared boundary, optimizers whose tables cover both sides)
BOUNDARIES = [
    ("Ia", "II", [(a, 0.5) for a in (0.6, 1.0, 2.0)], th.OPTIMIZERS),
    ("II", "III", [(a, a) for a in (0.6, 0.7, 1.5)], ("sgd", "sgd_momentum")),
    ("Ia", "Ib", [(0.5, b) for b in (0.05, 0.3, 0.45)], ("sgd", "sgd_momentum")),
    ("III", "IVa", [(0.5, b) for b in (0.6, 1.0, 3.0)], ("sgd", "sgd_momentum")),
    ("Ib", "IVa", [(a, 0.5) for a in (0.3, 0.4, 0.49)], ("sgd", "sgd_momentum")),
    ("Ib", "IVb", [(a, 0.5) for a in (0.26, 0.28)], ("sgd", "sgd_momentum")),
    ("IVa", "IVb", [(ALPHA_IV, b) for b in (0.6, 1.0, 3.0)], ("sgd", "sgd_momentum")),
    ("IVb", "Ic", [(0.25, b) for b in (0.6, 1.0, 3.0)], ("sgd", "sgd_momentum")),
    ("Ib", "Ic", [(a, 0.5) for a in (0.05, 0.15, 0.24)], ("sgd", "sgd_momentum")),
]


def _jump(left, right, points, optimizer, what):
    """Largest |difference| of `what` between two phases' formulas on their shared boundary."""
    return max(
        abs(getattr(compute_optimal(a, b, optimizer, phase_name=left), what)
            - getattr(compute_optimal(a, b, optimizer, phase_name=right), what))
        for a, b in points
    )


@pytest.mark.parametrize("left,right,points,optimizers", BOUNDARIES)
def test_eta_continuous_across_every_boundary(left, right, points, optimizers):
    for opt in optimizers:
        assert _jump(left, right, points, opt, "eta") < EPS, (left, right, opt)


@pytest.mark.parametrize("left,right,points,optimizers", [b for b in BOUNDARIES if b[:2] != ("IVa", "IVb")])
def test_xi_continuous_except_ivab(left, right, points, optimizers):
    for opt in optimizers:
        assert _jump(left, right, points, opt, "xi") < EPS, (left, right, opt)


def test_xi_jumps_at_iva_ivb_where_the_optimum_is_flat():
    """At alpha = 1 - 1/sqrt 2 the noise exponent does not depend on the split x, so every x between
    the two xi's is optimal: eta is continuous, xi is not (reported, not hidden)."""
    assert _jump("IVa", "IVb", [(ALPHA_IV, 1.0)], "sgd", "xi") > 0.05
    for b in (0.6, 1.0):
        terms = [t for t in loss_terms(ALPHA_IV, b) if t.name == "noise"]
        assert abs(terms[0].a_t - terms[0].a_d) < 1e-12  # flat in x


def test_continuity_check_rejects_a_planted_wrong_formula(monkeypatch):
    """Power: Ib with Ia's eta (2a+2b-1)/(2a+1) breaks continuity at the IVa boundary."""
    real = th.laws._sgd_table

    def planted(ph, a, b):
        xi, eta, s, n = real(ph, a, b)
        return (xi, (2 * a + 2 * b - 1) / (2 * a + 1), s, n) if ph == "Ib" else (xi, eta, s, n)

    monkeypatch.setattr(th.laws, "_sgd_table", planted)
    assert _jump("Ib", "IVa", [(0.4, 0.5)], "sgd", "eta") > 0.01


def test_spec8_worked_values():
    a, b = 1.0, 0.3
    assert th.fpp_exponent(a, b, "sgd") == pytest.approx(0.8)
    assert th.fpp_exponent(a, b, "dana_constant") == pytest.approx(1.6)
    assert th.fpp_exponent(a, b, "dana_decaying") == pytest.approx(1.2)
    etas = [compute_optimal(a, b, o).eta for o in ("sgd", "dana_constant", "dana_decaying")]
    assert np.round(etas, 3).tolist() == [0.533, 0.64, 0.686]
    o = compute_optimal(0.7, 0.7, "sgd")
    assert round(o.eta, 3) == 0.643 and o.xi == pytest.approx(0.5)
    assert o.phase == "III" and o.source == "paper"


def test_spec8_preliminary_check_values():
    """docs/theory.md §8 quotes theory eta 0.706 (II, SGD) and 0.878 (II, DANA-decaying, alpha=1, beta=0.7)."""
    assert round(compute_optimal(1.0, 0.7, "sgd").eta, 3) == 0.706
    assert round(compute_optimal(1.0, 0.7, "dana_decaying").eta, 3) == 0.878


@pytest.mark.parametrize(
    "ab,name",
    [((1, 0.3), "Ia"), ((0.4, 0.3), "Ib"), ((0.2, 0.45), "Ib"), ((0.2, 0.8), "Ic"), ((1, 0.7), "II"),
     ((0.7, 1.0), "III"), ((0.4, 0.8), "IVa"), ((0.27, 0.8), "IVb"), ((0.2, 0.2), "outside"),
     ((0.25, 0.25), "outside"), ((0.7, 0.7), "III"), ((0.5, 0.3), "Ia")],
)
def test_phase(ab, name):
    assert phase(*ab) == name


def test_sources_kept_as_spec_flags():
    assert compute_optimal(1, 0.3).source == "derived"
    assert compute_optimal(0.7, 1.0).source == "paper"
    assert compute_optimal(0.7, 1.0, "sgd_momentum").source == "paper"
    assert compute_optimal(1, 0.3, "dana_decaying").source == "derived"
    assert "not written in docs/theory.md §8" in compute_optimal(0.27, 0.8).note  # IVb eta
    assert "not written in docs/theory.md §8" in compute_optimal(0.2, 0.8).note  # Ic xi


def test_momentum_outside_ia_ii_is_not_implemented():
    with pytest.raises(NotImplementedError, match="phases Ia and II"):
        compute_optimal(0.7, 1.0, "dana_decaying")
    with pytest.raises(NotImplementedError, match="above the line"):
        compute_optimal(0.4, 0.3, "dana_constant")


def test_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        phase(-1, 0.5)
    with pytest.raises(ValueError, match="optimizer"):
        compute_optimal(1, 0.3, "adam")
    with pytest.raises(ValueError, match="degenerate"):
        compute_optimal(0.2, 0.2)


def test_effective_time():
    assert th.effective_time_exponents("sgd", 1.0) == (1.0, 0.0)
    assert th.effective_time_exponents("sgd", 0.3) == pytest.approx((1.0, 0.4))
    assert th.effective_time_exponents("dana_constant", 1.0) == (2.0, 1.0)
    assert th.effective_time_exponents("dana_decaying", 1.0) == (1.5, 0.0)
    # Away from alpha = 1 too, so a formula hard-coded at the worked values fails (values from docs/theory.md §8 by hand):
    assert th.effective_time_exponents("dana_decaying", 1.5) == pytest.approx((5 / 3, 0.0))
    assert th.fpp_exponent(0.7, 0.8, "sgd") == pytest.approx(10 / 7)  # sigma = (1.4 + 1.6 - 1) / 1.4
    assert th.fpp_exponent(1.5, 0.3, "dana_decaying") == pytest.approx(13 / 9)  # sigma q = (2.6/3)(5/3)
    assert compute_optimal(1.5, 0.3, "dana_decaying").eta == pytest.approx(13 / 14)  # Ia: xi = 5/14, eta = 2.6 xi


def _grid(name):
    pts = [(a, b) for a in np.linspace(0.05, 2.5, 50) for b in np.linspace(0.05, 2.5, 50)]
    return [(a, b) for a, b in pts if phase(a, b) == name]


@pytest.mark.parametrize("name", th.PHASES)
def test_sgd_table_matches_term_balancing(name):
    """Independent check: eta = max_x min_k e_k(x) from docs/theory.md §8's loss terms reproduces the table."""
    pts = _grid(name)
    assert len(pts) >= 3
    for a, b in pts:
        o = compute_optimal(a, b)
        xi, eta = balance(loss_terms(a, b))
        assert eta == pytest.approx(o.eta, abs=1e-9), (a, b)
        assert xi == pytest.approx(o.xi, abs=1e-9), (a, b)


def _fac_grows_with_d(a, opt):
    """Phase II formulas balance F_pp against F_ac; that is the optimum only while F_ac's decay
    exponent in f, e(x), does not decrease with the split x (d = f^x): 1 - e mu >= q e, e = 1 - 1/(2a)."""
    q, mu = th.effective_time_exponents(opt, a)
    e = th.fac_exponent(a)
    return 1 - e * mu > q * e  # strictly: where it is flat, xi is not unique


@pytest.mark.parametrize("opt", ["dana_decaying", "dana_constant"])
def test_momentum_formulas_match_term_balancing(opt):
    for name in ("Ia", "II"):
        for a, b in _grid(name):
            if name == "II" and not _fac_grows_with_d(a, opt):
                continue
            o = compute_optimal(a, b, opt)
            assert balance(loss_terms(a, b, opt)) == pytest.approx((o.xi, o.eta), abs=1e-9), (a, b)
            assert "WARNING" not in o.note


@pytest.mark.parametrize("opt,alpha_max", [("dana_constant", 0.75), ("dana_decaying", (3 + 5**0.5) / 4)])
def test_momentum_phase_ii_formula_breaks_down_beyond(opt, alpha_max):
    """Reported docs/theory.md §8 inconsistency: beyond alpha_max (DANA-constant 3/4, DANA-decaying (3+sqrt5)/4)
    the Phase II formula is not the maximum of min_k e_k(x) of docs/theory.md §8's own terms; balancing gives a
    larger eta. compute_optimal keeps the value of docs/theory.md §8 and says so in .note."""
    assert _fac_grows_with_d(alpha_max - 1e-6, opt) and not _fac_grows_with_d(alpha_max + 1e-6, opt)
    a = alpha_max + 0.3
    o = compute_optimal(a, 0.6, opt)
    assert o.phase == "II" and "WARNING" in o.note
    assert balance(loss_terms(a, 0.6, opt))[1] > o.eta + 1e-3


def test_dana_constant_phase_ii_disagrees_with_its_own_terms():
    """Reported inconsistency in docs/theory.md §8 (not tuned away): with tau = t^2/d, F_ac = d^-1 tau^-(1-1/2a)
    decays more slowly as d grows at fixed f, so the F_pp = F_ac crossing used by the Phase II formula
    is not the optimum; F_0 against F_ac is. At (1, 0.7): formula (0.452, 0.774), balance (0.4, 0.8)."""
    o = compute_optimal(1.0, 0.7, "dana_constant")
    xi, eta = balance(loss_terms(1.0, 0.7, "dana_constant"))
    assert (round(o.xi, 3), round(o.eta, 3)) == (0.452, 0.774)
    assert (round(xi, 3), round(eta, 3)) == (0.4, 0.8)
    assert eta > o.eta  # the formula's allocation is not compute-optimal under docs/theory.md §8's own terms


def test_balance_simple():
    # t^-a + d^-b: xi = a/(a+b), eta = ab/(a+b)
    xi, eta = balance([th.Term("t", 1.0, 0.0), th.Term("d", 0.0, 0.5)])
    assert (xi, eta) == pytest.approx((2 / 3, 1 / 3))
    assert math.isclose(ALPHA_IV, 1 - 2**-0.5)
