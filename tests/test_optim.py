"""Optimizers as data: named members, schedules, pickling, defaults."""
import pickle

import numpy as np
import pytest

import plrf


def test_named_members_follow_the_spec():
    c = plrf.sgd(0.1).coefficients(5)
    assert c == dict(gamma1=0.0, gamma2=0.1, gamma3=0.0, delta=1.0)
    c = plrf.sgd_momentum(0.1, 0.9).coefficients(3)
    assert c == pytest.approx(dict(gamma1=1.0, gamma2=0.0, gamma3=0.1, delta=0.1))
    c = plrf.dana_constant(0.2, 0.5, 3.0, d=10).coefficients(4)
    assert c == pytest.approx(dict(gamma1=1.0, gamma2=0.2, gamma3=0.05, delta=3.0 / 5))
    c = plrf.dana_decaying(0.2, 0.1, 3.0, alpha=0.5).coefficients(3)
    assert c == pytest.approx(dict(gamma1=1.0, gamma2=0.2, gamma3=0.1 * 4 ** -1.0, delta=3.0 / 4))
    assert plrf.sgd(0.1).is_sgd() and not plrf.sgd_momentum(0.1, 0.5).is_sgd()


def test_schedules():
    s = plrf.Schedule.power_law(2.0, 10.0, -0.5)
    assert s(30) == pytest.approx(2.0 * 4 ** -0.5)
    arr = plrf.schedule([0.1, 0.2, 0.3])
    assert arr(2) == 0.3
    with pytest.raises(ValueError, match="covers|values"):
        plrf.sgd(arr).check_length(4)
    with pytest.raises(ValueError):
        plrf.schedule([0.1, np.nan])
    with pytest.raises(ValueError):
        plrf.Schedule.power_law(1.0, 0.0, 1.0)


def test_optimizers_pickle_and_repr():
    for opt in (plrf.sgd(0.1), plrf.sgd_momentum(0.05, 0.9), plrf.dana_decaying(0.1, 0.1, 3.0, 1.0),
                plrf.sgd(plrf.schedule([0.1, 0.2]))):
        clone = pickle.loads(pickle.dumps(opt))
        assert clone == opt
        assert repr(clone) == repr(opt)
    assert "dana_decaying" in repr(plrf.dana_decaying(0.1, 0.1, 3.0, 1.0))


def test_defaults_recipe():
    spec = plrf.PLRF(1.0, 0.5, d=20, v=80).spectrum()
    opts = plrf.defaults(spec, batch=4)
    tr = np.sum(np.arange(1, 81.0) ** -2.0)
    g2 = 0.375 * min(2 / 5, 1 / tr)
    assert opts["sgd"].coefficients(0)["gamma2"] == pytest.approx(g2)
    delta = max(2 + 0 / 1.0, 2 - 1.0) + 1
    assert opts["dana_decaying"].coefficients(0)["delta"] == pytest.approx(delta)
    assert opts["dana_constant"].coefficients(0)["gamma3"] == pytest.approx(0.1 / (20 * tr))
    with pytest.raises(ValueError, match="batch"):
        plrf.defaults(spec, batch=0)


def test_defaults_say_why_a_name_is_missing():
    spec = plrf.Spectrum(np.array([1.0, 0.5]), np.array([1.0, 1.0]), 0.0)  # no alpha/beta in meta
    d = plrf.defaults(spec)
    assert set(d) == {"sgd", "sgd_momentum"}
    with pytest.raises(KeyError, match="needs alpha and beta"):
        d["dana_decaying"]
    with pytest.raises(KeyError, match="not a named optimizer"):
        d["adam"]
