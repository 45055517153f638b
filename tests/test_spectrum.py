"""The Spectrum object: validation, persistence, derived quantities."""
import pickle

import numpy as np
import pytest

import plrf


@pytest.fixture
def spec():
    return plrf.PLRF(1.0, 0.5, d=16, v=64, seed=2).spectrum()


def test_pickle_round_trip(spec):
    clone = pickle.loads(pickle.dumps(spec))
    assert clone == spec
    assert clone.meta["alpha"] == 1.0


def test_npz_round_trip(spec, tmp_path):
    path = spec.save(tmp_path / "s.npz")
    back = plrf.Spectrum.load(path)
    assert back == spec
    assert back.meta == {"alpha": 1.0, "beta": 0.5, "d": 16, "v": 64, "seed": 2, "source": "sampled"}
    bare = plrf.Spectrum([2.0, 1.0], [0.5, 0.5], 0.1)
    bare.save(tmp_path / "bare")
    assert plrf.Spectrum.load(tmp_path / "bare.npz") == bare


def test_user_spectrum_and_derived_values():
    s = plrf.Spectrum(eigenvalues=[1.0, 3.0, 2.0], rho=[1.0, 0.0, 2.0], p_inf=0.25)
    np.testing.assert_array_equal(s.eigenvalues, [3.0, 2.0, 1.0])  # sorted descending, rho follows
    np.testing.assert_array_equal(s.rho, [0.0, 2.0, 1.0])
    assert s.trace == 6.0
    assert s.risk0 == pytest.approx(0.25 + 0.5 * (2 * 2 + 1 * 1))
    assert "d=3" in repr(s)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(eigenvalues=[], rho=[], p_inf=0.0), "eigenvalues"),
        (dict(eigenvalues=[1.0, -1.0], rho=[1, 1], p_inf=0.0), "eigenvalues"),
        (dict(eigenvalues=[1.0, np.nan], rho=[1, 1], p_inf=0.0), "eigenvalues"),
        (dict(eigenvalues=[1.0, 0.5], rho=[1.0], p_inf=0.0), "rho"),
        (dict(eigenvalues=[1.0, 0.5], rho=[1.0, -2.0], p_inf=0.0), "rho"),
        (dict(eigenvalues=[1.0], rho=[1.0], p_inf=-1.0), "p_inf"),
        (dict(eigenvalues=[1.0], rho=[1.0], p_inf=float("nan")), "p_inf"),
        (dict(eigenvalues=[[1.0]], rho=[1.0], p_inf=0.0), "eigenvalues"),
    ],
)
def test_bad_spectrum(kwargs, name):
    with pytest.raises(ValueError, match=name):
        plrf.Spectrum(**kwargs)
