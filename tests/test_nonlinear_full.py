"""The compiled nonlinear full path (sigma applied to the features of the C++ full simulator) against the
independent NumPy full path (plrf.nonlinear_full), in law: a z-test on the mean risk at each recorded
step, |z| < 4 on the difference of two independent seed means (two-sided p < 7e-5 per step when the
laws agree). A planted twin (the NumPy path with the pre-activations 50% too large) must be rejected.
"""
import copy

import numpy as np
import pytest

import plrf
from plrf import nonlinear_full

RECORD = [10, 60, 200]
SEEDS = 400


def _z(a, b):
    return (a.mean - b.mean) / np.hypot(a.sem, b.sem)


@pytest.mark.parametrize("activation,scale", [("relu", 1.0)] + [
    pytest.param(a, s, marks=pytest.mark.slow) for a, s in (("tanh", 6.0), ("erf", 4.0), ("gelu", 5.0))])
def test_compiled_full_path_matches_numpy_in_law(activation, scale):
    p = plrf.PLRF(1.0, 0.6, 16, seed=5, activation=activation, preactivation_scale=scale)
    lr = 0.6 / p.spectrum().trace
    cpp = plrf.simulate(p, plrf.sgd(lr), 200, batch=2, seeds=SEEDS, record=RECORD, space="full", progress=False)
    ref = nonlinear_full.simulate_full(p, lr, 200, batch=2, seeds=SEEDS, record=RECORD)
    assert np.all(np.abs(_z(cpp, ref)) < 4.0), _z(cpp, ref)


def test_planted_twin_with_wrong_preactivation_scale_is_rejected():
    p = plrf.PLRF(1.0, 0.6, 16, seed=5, activation="tanh", preactivation_scale=6.0)
    twin = copy.copy(p)  # same W and spectrum (the risk), features drawn with tanh(9 u)
    twin.activation = plrf.nonlinear.resolve("tanh", 9.0)
    twin._spectrum = p.spectrum()
    lr = 0.6 / p.spectrum().trace
    cpp = plrf.simulate(p, plrf.sgd(lr), 200, batch=2, seeds=SEEDS, record=RECORD, space="full", progress=False)
    ref = nonlinear_full.simulate_full(twin, lr, 200, batch=2, seeds=SEEDS, record=RECORD)
    assert np.any(np.abs(_z(cpp, ref)) > 4.0), _z(cpp, ref)


def test_nonlinear_full_path_is_bitwise_reproducible_across_threads():
    p = plrf.PLRF(1.0, 0.6, 16, seed=5, activation="gelu", preactivation_scale=3.0)
    opt = plrf.dana_decaying(0.3, 0.05, 1.0, 1.0)
    runs = [plrf.simulate(p, opt, 100, batch=3, seeds=3, space="full", threads=t, progress=False).risk for t in (1, 2)]
    assert np.array_equal(*runs)
