"""plrf.matrix.dynamics for Muon and SignSVD with momentum (docs/theory.md §13.7): derived here, not the
paper's equations, approximate. The pieces are checked exactly (Newton-Schulz's scalar map, the buffer's
weights); the whole recursion is measured against Monte Carlo with 64 seeds, and planted twins that drop
one ingredient are rejected."""
import sys

import numpy as np
import pytest

from plrf import matrix as M
from plrf.matrix.polar import NS_EPS, newton_schulz, newton_schulz_map

D = sys.modules["plrf.matrix.dynamics"]  # the module (plrf.matrix.dynamics is the function)


def test_newton_schulz_map_is_what_newton_schulz_does_to_each_singular_value():
    rng = np.random.default_rng(3)
    u = np.linalg.qr(rng.normal(size=(12, 12)))[0]
    v = np.linalg.qr(rng.normal(size=(20, 12)))[0]
    s = np.geomspace(1.0, 1e-4, 12)  # across the quintic's whole range: saturated to tiny (gain ~ a^5)
    out = np.linalg.svd(newton_schulz(u @ np.diag(s) @ v.T), compute_uv=False)
    want = np.sort(newton_schulz_map(s / (np.linalg.norm(s) + NS_EPS)))[::-1]
    assert np.allclose(out, want, rtol=1e-10, atol=1e-13)
    assert not np.allclose(out, 1.0, atol=0.05)  # not the polar factor: the map matters


@pytest.mark.parametrize("nesterov", [False, True])
def test_the_buffers_effective_batch_is_its_weights_ratio(nesterov):
    """B_eff = B (sum w)^2 / sum w^2 over the weights w_k of the gradients in the buffer (or Muon's
    Nesterov direction G + mu M), for a time-varying momentum, checked against the weights written out."""
    mu = lambda t: 0.9 - 0.5 / (t + 2)  # noqa: E731
    opt = M.muon(0.1, momentum=np.array([mu(t) for t in range(40)]), nesterov=nesterov)
    buf, w = D._Buffer(opt), np.zeros(0)
    for t in range(40):
        b_eff, held = buf.step(t, 3)
        w = np.concatenate([[1.0], mu(t) * w])  # M = mu M + G: weights on G_t, G_{t-1}, ...
        n = mu(t) * w + np.eye(len(w))[0] if nesterov else w  # Nesterov: G + mu M
        assert held == t + 1 and b_eff == pytest.approx(3 * n.sum() ** 2 / (n**2).sum(), rel=1e-12)
    assert D._Buffer(M.signsvd(0.1)).step(5, 3) == (3, 1)  # no momentum: the batch itself


@pytest.mark.slow
def test_muon_dynamics_against_monte_carlo_and_planted_twins(monkeypatch):
    """64 seeds, d = 16, m = 48, B = 4, sigma = 0.5, 200 steps. Tolerance: max |DE / MC - 1| <= 10% over
    t = 3 .. 200 (measured 4.6% for Muon, mu = 0.95 with Nesterov, and 2.8% for SignSVD, mu = 0.9). The Monte
    Carlo resolves the bias (|z| up to ~140), so this bounds an approximation; it is not an exactness test.
    Twins, each rejected by the same bound: the buffer ignored (the momentum-free recursion; measured 31%
    off for Muon, 58% for SignSVD) and the exact polar factor in place of Newton-Schulz (31% off)."""
    rec = [0, 3, 10, 30, 100, 200]
    p = M.MatrixPLRF(1.0, 0.5, 16, 48, sigma=0.5, seed=2)

    def err(opt, mc):
        return np.max(np.abs(M.dynamics(p, opt, 200, batch=4, record=rec).risk[1:] / mc.mean[1:] - 1))

    muon = M.muon(0.03)
    for opt in (muon, M.signsvd(0.03, momentum=0.9)):
        meta = M.dynamics(p, opt, 5, batch=4).meta
        assert meta["exact"] is False and "§13.7" in meta["approximation"]  # labelled approximate, and where from
    mc = M.simulate(p, muon, 200, batch=4, seeds=64, record=rec, progress=False)
    assert err(muon, mc) <= 0.10
    with monkeypatch.context() as twin:
        twin.setattr(D, "_is_zero", lambda schedule: True)  # the buffer ignored: Muon without momentum
        assert err(muon, mc) > 0.10
    with monkeypatch.context() as twin:
        twin.setattr(D, "newton_schulz_map", lambda s, *a: np.ones_like(s))
        assert err(muon, mc) > 0.10
    heavy = M.signsvd(0.03, momentum=0.9)
    mc = M.simulate(p, heavy, 200, batch=4, seeds=64, record=rec, progress=False)
    assert err(heavy, mc) <= 0.10
    with monkeypatch.context() as twin:
        twin.setattr(D, "_is_zero", lambda schedule: True)
        assert err(heavy, mc) > 0.10
