"""plrf.testing.param_timing: the NumPy Adam loop that `python -m plrf bench` and bench/coordinatewise_speed.py
time plrf against must be the same optimizer in law, or the speed ratio compares different work.

Final risk of 512 seeds after 40 steps at d = 24, B = 4: the NumPy loop against simulate(space="param"),
z-test on the difference of means (|z| < 4.5). Planted twin: the loop at half the lr must fail it (|z| ~ 20)."""
from __future__ import annotations

import numpy as np
import pytest

import plrf
from plrf.testing.param_timing import numpy_adam, rotation_spectrum

D, B, SEEDS, STEPS, LR = 24, 4, 512, 40, 0.02


def numpy_risks(spec, lr):
    theta = numpy_adam(spec, STEPS, B, SEEDS, np.random.default_rng(7), lr=lr)
    e = (theta - spec.theta_star) @ spec.eigenvectors
    return spec.p_inf + 0.5 * (e * e) @ spec.eigenvalues


def z_score(a, b):
    return (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))


@pytest.mark.parametrize("lr_factor, agrees", [(1.0, True), (0.5, False)], ids=["same", "twin_half_lr"])
def test_numpy_adam_has_the_law_of_plrf_adam(lr_factor, agrees):
    spec = rotation_spectrum(D)
    curves = plrf.simulate(spec, plrf.adam(LR), STEPS, batch=B, seeds=SEEDS, record=[STEPS], space="param",
                           progress=False)
    z = z_score(numpy_risks(spec, LR * lr_factor), curves.risk[:, -1])
    assert (abs(z) < 4.5) == agrees, f"z = {z:.2f}"
