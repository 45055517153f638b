"""Oracle (issue #23): Adam with b1 = 0, b2 -> 1 and a frozen second moment v is SGD preconditioned by
P = 1/sqrt(v), whose expected risk is the exact recursion on plrf.coordinatewise.preconditioned_spectrum.

The built-in Adam (the C++ rule, on the parameter-basis engine) starts at step T0 = 1e10 with v = diag(K):
b2 = 1 - 1e-8 keeps v within ~1e-6 of where it started over the run, and b2^T0 = e^-100 makes the bias
correction 1 - b2^(t+1) equal 1 in float64; b1 = 0 makes m = g. The Monte Carlo mean over 800 seeds must
agree with the exact recursion, |z| < 4 at every record after the start (measured: |z| <= 1.5); the
planted twins (the wrong power of the preconditioner, diag(K)^(-1/4): max |z| = 32; the same Adam
started at t = 0, bias correction active) must be rejected by |z| > 6."""
import numpy as np
import pytest

import plrf
from plrf.coordinatewise import preconditioned_spectrum
from plrf.param_run import advance, initial_state, make_job

T0 = 10**10
B2 = 1.0 - 1e-8
RECORD = np.array([0, 1, 3, 10, 30, 60])
LR, BATCH, SEEDS = 0.1, 2, 800
Z_PASS, Z_TWIN = 4.0, 6.0


def adam_from_frozen_v(problem, diag_k, t0):
    """The risk (seeds x records) of the built-in Adam started at step t0 with v = diag(K), m = 0."""
    job = make_job(problem, plrf.adam(LR, b1=0.0, b2=B2, eps=0.0), t0 + RECORD[-1], batch=BATCH, seeds=SEEDS,
                   record=t0 + RECORD)
    state = initial_state(job)
    state["step"][:] = t0
    state["v"][:] = diag_k  # the frozen second moment
    assert not advance(job, state, progress=False)
    return state


@pytest.fixture(scope="module")
def setup():
    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=24, v=48, seed=3)
    spec = problem.spectrum(keep_vectors=True)
    diag_k = (spec.eigenvectors**2) @ spec.eigenvalues
    correction = 1.0 - B2 ** (T0 + 1)
    assert correction == 1.0  # a late start: the bias correction is inert
    return problem, spec, diag_k, adam_from_frozen_v(problem, diag_k, T0)


def z_against_recursion(spec, risk, p):
    exact = plrf.exact_risk(preconditioned_spectrum(spec, p), plrf.sgd(LR), int(RECORD[-1]), batch=BATCH,
                            record=RECORD)
    return (risk.mean(0) - exact.risk) / (risk.std(0, ddof=1) / np.sqrt(len(risk)) + 1e-300)


def test_adam_with_frozen_second_moment_is_the_preconditioned_sgd_recursion(setup):
    _, spec, diag_k, state = setup
    np.testing.assert_allclose(state["v"], np.tile(diag_k, (SEEDS, 1)), rtol=1e-5)  # v stayed frozen
    np.testing.assert_allclose(state["risk"][:, 0], spec.risk0, rtol=1e-12)  # the start (no spread: no z)
    z = z_against_recursion(spec, state["risk"], diag_k**-0.5)
    assert np.all(np.abs(z[1:]) < Z_PASS), z


def test_adam_oracle_twin_wrong_preconditioner_power_is_rejected(setup):
    _, spec, diag_k, state = setup
    z = z_against_recursion(spec, state["risk"], diag_k**-0.25)
    assert np.max(np.abs(z[1:])) > Z_TWIN, z


def test_adam_oracle_twin_with_bias_correction_is_rejected(setup):
    """Started at t = 0 instead, v / (1 - b2^(t+1)) is 1e8 v: not the frozen preconditioner."""
    problem, spec, diag_k, _ = setup
    z = z_against_recursion(spec, adam_from_frozen_v(problem, diag_k, 0)["risk"], diag_k**-0.5)
    assert np.max(np.abs(z[1:])) > Z_TWIN, z
