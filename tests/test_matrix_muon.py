"""plrf.matrix: the matrix-valued PLRF, SignSVD / Muon / SignSGD, their Monte Carlo and dynamics
(docs/muon.md, docs/theory.md §13). Statistical checks state their tolerance; each has a planted
twin (a deliberately wrong variant) that the same check rejects."""
import numpy as np
import pytest

import plrf
from plrf import matrix as M
from plrf.matrix.constants import isotropic_ratio, sign_gain
from plrf.matrix.optimizers import Batch
from plrf.matrix.polar import NS_COEFFS

from hardening_tools import run_capped


# ---- the isotropic constant ----------------------------------------------------------------------
def _drift_ratio(d, m, B, draws, seed=0, eps=0.02, sigma=1.0):
    """MC: SignSGD's over SignSVD's expected descent per unit Frobenius step at a small error E
    (antithetic: the steps at E and -E share x and noise), with its delta-method standard error."""
    rng = np.random.default_rng(seed)
    E = eps * rng.standard_normal((d, m))
    out = np.empty((draws, 2))
    for k in range(draws):
        x, noise = rng.standard_normal((1, B, d)), sigma * rng.standard_normal((1, B, m))
        for i, (opt, norm) in enumerate(((M.signsvd(1.0), np.sqrt(min(B, d, m))), (M.signsgd(1.0), np.sqrt(d * m)))):
            up = opt.step(Batch(x, x @ E - noise), {}, 0) - opt.step(Batch(x, -(x @ E) - noise), {}, 0)
            out[k, i] = np.sum(E * up[0]) / (2 * norm)
    mu, cov = out.mean(0), np.cov(out.T) / draws
    r = mu[1] / mu[0]
    se = abs(r) * np.sqrt(cov[1, 1] / mu[1] ** 2 + cov[0, 0] / mu[0] ** 2 - 2 * cov[0, 1] / (mu[0] * mu[1]))
    return r, se


ISO_TOL = 0.02  # relative: the O(eps^2 d) nonlinearity and finite m/B leave ~0.3% here; SE ~0.1%


def test_isotropic_signsgd_is_signsvd_times_the_stated_constant():
    d, m, B = 16, 256, 64
    r, se = _drift_ratio(d, m, B, draws=300)
    stated = isotropic_ratio(d, B)  # 0.8213: k_B / sqrt(B) / E_MP sqrt(lambda)(1/4)
    assert abs(r / stated - 1) < ISO_TOL, (r, se, stated)
    assert se / r < ISO_TOL / 4  # the check can fail: the noise is well below the tolerance
    # planted twins: the same measurement rejects the wrong constants
    for wrong in (1.0, 2 / np.pi, np.sqrt(2 / np.pi), sign_gain(B) / np.sqrt(B)):
        assert abs(r / wrong - 1) > ISO_TOL, wrong


# ---- polar factors -------------------------------------------------------------------------------
def _sv(a):
    return np.linalg.svd(a, compute_uv=False)


@pytest.mark.parametrize("B", [1, 5, 40])
def test_signsvd_update_is_orthogonal_to_rounding(B):
    """All singular values of the SignSVD step are 1 (rank min(B, d, m)), the rest exactly 0."""
    p = M.MatrixPLRF(1.0, 0.5, 24, 30, sigma=0.5, seed=3)
    rng = np.random.default_rng(B)
    x = rng.standard_normal((2, B, 24))
    r = x @ (-p.theta_star) - 0.5 * rng.standard_normal((2, B, 30))
    for opt, state in ((M.signsvd(1.0), {}), (M.signsvd(1.0, momentum=0.5), {"M": np.zeros((2, 24, 30))})):
        for s in _sv(opt.step(Batch(x, r), state, 0)):
            k = min(B, 24)
            np.testing.assert_allclose(s[:k], 1.0, atol=1e-12)
            np.testing.assert_allclose(s[k:], 0.0, atol=1e-12)


def test_signsvd_at_batch_one_is_the_normalised_rank_one_step():
    rng = np.random.default_rng(0)
    f, r = rng.standard_normal((1, 1, 7)), rng.standard_normal((1, 1, 9))
    step = M.signsvd(1.0).step(Batch(f, r), {}, 0)[0]
    expect = np.outer(f[0, 0] / np.linalg.norm(f), r[0, 0] / np.linalg.norm(r))
    np.testing.assert_allclose(step, expect, atol=1e-14)
    np.testing.assert_array_equal(M.signsgd(1.0).step(Batch(f, r), {}, 0)[0], np.outer(np.sign(f), np.sign(r)))


NS_DISTANCE = 0.32  # ||NS_5(G) - polar(G)||_2 for cond(G) <= 10, min(p, q) <= 256 (docs/muon.md: measured 0.318)


def _conditioned(rng, p, q, cond):
    u, _ = np.linalg.qr(rng.standard_normal((p, min(p, q))))
    v, _ = np.linalg.qr(rng.standard_normal((q, min(p, q))))
    return (u * np.geomspace(1, 1 / cond, min(p, q)) * rng.uniform(0.1, 10)) @ v.T


def test_newton_schulz_within_the_stated_distance_of_the_polar_factor():
    rng = np.random.default_rng(1)
    worst = {5: 0.0, 3: 0.0}
    for p, q in ((64, 64), (32, 128), (128, 32), (256, 200)):
        for cond in (1.0, 3.0, 10.0):
            g = _conditioned(rng, p, q, cond)
            for steps in worst:
                dist = np.linalg.norm(M.newton_schulz(g, steps) - M.polar(g), 2)
                worst[steps] = max(worst[steps], dist)
    assert 0.25 < worst[5] <= NS_DISTANCE  # the quintic does not converge to 1: it settles in [0.68, 1.14]
    assert worst[3] > NS_DISTANCE          # planted twin: 3 iterations leave small singular values behind


def test_newton_schulz_coefficients_are_muons():
    assert NS_COEFFS == (3.4445, -4.7750, 2.0315)
    assert M.muon(0.1).ns_steps == 5 and M.muon(0.1).nesterov


# ---- Monte Carlo ---------------------------------------------------------------------------------
def test_simulate_does_not_depend_on_chunking():
    p = M.MatrixPLRF(0.8, 0.4, 12, 20, sigma=0.2)
    for opt in (M.muon(0.02), M.signsvd(0.02), M.signsgd(0.002)):
        a = M.simulate(p, opt, 30, batch=3, seeds=[4, 9, 11], progress=False)
        b = M.simulate(p, opt, 30, batch=3, seeds=[4, 9, 11], chunk=1, progress=False)
        np.testing.assert_array_equal(a.risk, b.risk)
        np.testing.assert_array_equal(a.modes, b.modes)


def test_signsvd_is_rotation_equivariant():
    """SignSVD sees the same error in eigen-coordinates whatever the basis Q: the Haar problem's
    risk equals the eigenbasis problem's up to rounding (SignSGD's does not: it is not equivariant)."""
    kw = dict(alpha=1.0, beta=0.3, d=10, m=14, sigma=0.3, seed=2)
    haar, eig = M.MatrixPLRF(basis="haar", **kw), M.MatrixPLRF(basis="eigen", **kw)
    a = M.simulate(haar, M.signsvd(0.05), 40, batch=4, seeds=4, progress=False)
    b = M.simulate(eig, M.signsvd(0.05), 40, batch=4, seeds=4, progress=False)
    np.testing.assert_allclose(a.risk, b.risk, rtol=1e-9)
    c = M.simulate(haar, M.signsgd(0.005), 40, batch=4, seeds=4, progress=False)
    e = M.simulate(eig, M.signsgd(0.005), 40, batch=4, seeds=4, progress=False)
    assert np.max(np.abs(c.risk / e.risk - 1)) > 1e-3


def test_ctrl_c_returns_partial_curves_marked_interrupted():
    p = M.MatrixPLRF(1.0, 0.5, 8, 8)
    calls = []

    def interrupt(done):
        calls.append(done)
        if done >= 20:
            raise KeyboardInterrupt

    c = M.simulate(p, M.signsvd(0.01), 1000, batch=2, seeds=2, progress=interrupt)
    assert c.interrupted and np.isfinite(c.risk[:, 0]).all() and np.isnan(c.risk[:, -1]).all()


def test_divergence_is_recorded_not_crashed():
    p = M.MatrixPLRF(1.0, 0.5, 6, 6)
    with pytest.warns(plrf.DivergenceWarning):
        c = M.simulate(p, M.sgd(50.0), 2000, batch=1, seeds=2, progress=False)
    assert (c.diverged_at > 0).all()


# ---- deterministic dynamics against Monte Carlo --------------------------------------------------
@pytest.mark.parametrize("make", [lambda: M.sgd(0.3),
                                  lambda: M.dana(plrf.dana_decaying(0.3, 0.5, 3.0, 1.0))], ids=["sgd", "dana"])
def test_exact_dynamics_match_monte_carlo_within_4_se(make):
    """SGD and DANA: the dynamics are exact (plrf.exact_risk per column); 64 seeds, |z| < 4 at every
    record step after 0. Planted twin: the dynamics at batch B + 1 are rejected."""
    p = M.MatrixPLRF(1.0, 0.5, 16, 24, sigma=0.2, seed=1)
    rec = [0, 1, 3, 10, 30, 100, 200]
    mc = M.simulate(p, make(), 200, batch=2, seeds=64, record=rec, progress=False)
    z = (M.dynamics(p, make(), 200, batch=2, record=rec).risk - mc.mean)[1:] / mc.sem[1:]
    assert np.max(np.abs(z)) < 4, z
    twin = (M.dynamics(p, make(), 200, batch=3, record=rec).risk - mc.mean)[1:] / mc.sem[1:]
    assert np.max(np.abs(twin)) > 4, twin


def test_approximate_dynamics_are_labelled_and_close_where_noise_dominates():
    """SignSVD's recursion is approximate (meta exact=False); noise-dominated it is within 1% of
    64-seed Monte Carlo (measured 0.0-0.4%, docs/muon.md table 2)."""
    p = M.MatrixPLRF(1.0, 0.5, 16, 128, sigma=3.0, basis="eigen")
    rec = [0, 50, 200]
    mc = M.simulate(p, M.signsvd(0.05), 200, batch=8, seeds=64, record=rec, progress=False)
    de = M.dynamics(p, M.signsvd(0.05), 200, batch=8, record=rec)
    assert de.meta["exact"] is False
    assert np.max(np.abs(de.risk / mc.mean - 1)) < 0.01


# ---- inputs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw, name", [(dict(alpha=-1), "alpha"), (dict(d=0), "d"), (dict(m=1.5), "m"),
                                      (dict(sigma=-0.1), "sigma"), (dict(basis="qr"), "basis")])
def test_bad_problem_arguments_are_named(kw, name):
    args = dict(alpha=1.0, beta=0.5, d=4, m=4) | kw
    with pytest.raises(ValueError, match=name):
        M.MatrixPLRF(**args)


def test_bad_run_arguments_are_named():
    p = M.MatrixPLRF(1.0, 0.5, 4, 4)
    with pytest.raises(ValueError, match="optimizer"):
        M.simulate(p, plrf.sgd(0.1), 10)
    with pytest.raises(ValueError, match="batch"):
        M.simulate(p, M.signsvd(0.1), 10, batch=0)
    with pytest.raises(ValueError, match="optimizer"):
        M.dynamics(p, M.signsgd(0.1, momentum=0.9), 10)  # Muon has dynamics since §13.7; SignSGD with momentum has none
    with pytest.raises(ValueError, match="nesterov"):
        M.muon(0.1, nesterov=1)


def test_huge_problem_refused_before_allocation():
    code = ("import plrf.matrix as M\n"
            "try:\n    M.MatrixPLRF(1.0, 0.5, d=2**20, m=2**24)\nexcept MemoryError as e:\n    print('refused', 'd=' in str(e))\n")
    rc, out, err, peak = run_capped(code, cap_gib=1.5, timeout=60)
    assert rc == 0 and "refused True" in out, err


def test_curves_feed_fit_and_plots(tmp_path):
    p = M.MatrixPLRF(1.0, 0.5, 8, 8, sigma=0.1)
    mc = M.simulate(p, M.sgd(0.3), 300, batch=2, seeds=4, progress=False)
    de = M.dynamics(p, M.sgd(0.3), 300, batch=2)
    assert isinstance(mc, plrf.Curves) and isinstance(de, plrf.Curve)
    plrf.fit.power_law(de.steps[1:], de.risk[1:], p_inf=p.p_inf)
    plrf.plot.curves({"sgd": mc}, exact=[de], path=str(tmp_path / "c.png"))


def test_demo_runs_muon_against_signsgd(tmp_path, capsys):
    from plrf.cli import main

    assert main(["demo", "--muon", "--steps", "20", "--seeds", "2", "--batch", "4", "--out", str(tmp_path / "d.png")]) == 0
    out = capsys.readouterr().out
    assert "muon" in out and "signsgd" in out and (tmp_path / "d-muon.png").exists()


def test_dynamics_report_divergence_without_numpy_warnings():
    p = M.MatrixPLRF(1.0, 0.5, 8, 16)
    with pytest.warns(plrf.DivergenceWarning):
        c = M.dynamics(p, M.signsgd(1e7), 50, batch=4)  # sign steps grow the risk like lr^2 t: past 1e12 x P(0)
    assert c.diverged_at > 0 and np.isnan(c.risk[-1])


@pytest.mark.parametrize("B", [3, 30])
def test_low_rank_polar_equals_the_full_svd_polar(B):
    """polar(x^T r) through the QR of the batch equals the SVD of the d x m gradient (theory §13.3)."""
    from plrf.matrix.polar import polar_of_product

    rng = np.random.default_rng(B)
    x, r = rng.standard_normal((2, B, 12)), rng.standard_normal((2, B, 17))
    np.testing.assert_allclose(polar_of_product(x, r), M.polar(np.swapaxes(x, -1, -2) @ r), atol=1e-12)


def test_muon_step_is_nesterov_newton_schulz_with_the_shape_scale():
    """Two steps by hand: M = mu M + G, N = G + mu M, step = lr sqrt(max(1, m/d)) NS_5(N)."""
    rng = np.random.default_rng(0)
    d, m, mu, lr = 6, 24, 0.9, 0.1
    opt = M.muon(lr, momentum=mu)
    state = opt.new_state((1, d, m))
    buf = np.zeros((d, m))
    for t in range(2):
        x, r = rng.standard_normal((1, 4, d)), rng.standard_normal((1, 4, m))
        g = x[0].T @ r[0] / 4
        buf = mu * buf + g
        expect = lr * 2.0 * M.newton_schulz(g + mu * buf)  # sqrt(m / d) = 2
        np.testing.assert_allclose(opt.step(Batch(x, r), state, t)[0], expect, rtol=1e-12, atol=1e-15)
    plain = M.muon(lr, momentum=mu, nesterov=False)
    st = plain.new_state((1, d, m))
    x, r = rng.standard_normal((1, 4, d)), rng.standard_normal((1, 4, m))
    np.testing.assert_allclose(plain.step(Batch(x, r), st, 0)[0], lr * 2.0 * M.newton_schulz(x[0].T @ r[0] / 4),
                               rtol=1e-12, atol=1e-15)


def test_schedules_drive_every_hyperparameter():
    """An array learning rate with a zero at step 1 freezes Theta for that step, whatever the method."""
    p = M.MatrixPLRF(1.0, 0.5, 6, 8, sigma=0.1)
    for make in (M.signsvd, M.signsgd, M.muon):
        c = M.simulate(p, make(np.array([0.01, 0.0, 0.01])), 3, batch=2, seeds=2, record=[0, 1, 2, 3], progress=False)
        np.testing.assert_array_equal(c.risk[:, 1], c.risk[:, 2])
        assert np.all(c.risk[:, 3] != c.risk[:, 2])


def test_many_seeds_refused_by_name_before_allocation():
    """The modes kept per record step count: 10^4 seeds x 10^6 record steps at d = 4 (~320 GB) are refused,
    naming seeds, before the arrays are made."""
    code = ("import plrf.matrix as M\n"
            "p = M.MatrixPLRF(1.0, 0.5, 4, 4)\n"
            "try:\n    M.simulate(p, M.signsvd(0.1), 10**6, seeds=10**4, record=range(10**6), chunk=1)\n"
            "except MemoryError as e:\n    print('refused', 'seeds=' in str(e))\n")
    rc, out, err, peak = run_capped(code, cap_gib=1.5, timeout=60)
    assert rc == 0 and "refused True" in out, err


def test_repr_is_the_one_line_summary():
    p = M.MatrixPLRF(1.0, 0.5, 4, 4)
    for c in (M.simulate(p, M.signsvd(0.01), 5, seeds=2, progress=False), M.dynamics(p, M.signsvd(0.01), 5)):
        assert "\n" not in repr(c) and "modes" not in repr(c)
