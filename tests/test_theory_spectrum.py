"""Theory spectra (docs/theory.md §6) against identities that hold for every W, and against sampled-W spectra.

Identities (no sampling noise): the initial risk P(0) = 1/2 sum_{j<=v} D_j b_j^2 for every W, and
E tr K = sum_{j<=v} D_j (tr K fluctuates by ~1e-3 at d = 300).
Risk curves: SGD at lr = 0.375 / tr K to T = 1e7 (method="fast"), compared with the average of 5 (d = 300)
or 20 (d = 2000) sampled-W spectra at every record up to the point where that average flattens (within 5% of its final value):
within 5%. P_inf: within 2%.
NOISY: at alpha >= 1 and beta >= 0.8 the risk before the flattening is carried by a few top
eigen-directions whose rho fluctuates by O(1) between seeds (per-seed sd of the risk up to 31% of the
mean), so a 5-seed average itself strays more than 5% from a 200-seed average in most draws (65% and 73%
of draws at alpha = 1, beta = 0.8 and 1.5; 94% and 100% at alpha = 1.5), while the theory is within 1.0,
1.3, 1.5 and 2.2% of the 200-seed average. There the check also accepts 3 standard errors of the 5-seed
average.
"""
import functools
import os
import subprocess
import sys

import numpy as np
import pytest

import plrf
from plrf import exact_risk
from plrf.spectrum import theory_spectrum

ALPHAS, BETAS = (0.4, 0.7, 1.0, 1.5), (0.3, 0.8, 1.5)
GRID = [(a, b) for a in ALPHAS for b in BETAS]
SEEDS = 5
SEEDS_D2000 = 20  # 5-seed means at d = 2000 strayed 2.6-8.7% (0.7, 0.8) and 5-14% (1.5, 0.8) between disjoint blocks
T = 10**7


@functools.lru_cache(maxsize=None)
def sampled(alpha, beta, d, seeds=SEEDS):
    """Risk curves (seeds x records) and P_inf of 5 sampled-W spectra, with the shared SGD rate."""
    specs = [plrf.PLRF(alpha, beta, d, seed=s).spectrum(keep_vectors=False) for s in range(seeds)]
    lr = 0.375 * min(1.0, 1.0 / np.mean([s.trace for s in specs]))
    rec = plrf.record_grid(T, 10)
    curves = np.array([exact_risk(s, plrf.sgd(lr), T, record=rec, method=plrf.engines.fast(rtol=1e-3)).risk for s in specs])
    return lr, rec, curves, np.array([s.p_inf for s in specs])


NOISY = {(1.0, 0.8), (1.0, 1.5), (1.5, 0.8), (1.5, 1.5)}


def within(gap, tol, se, lenient):
    """gap <= tol, or (lenient) <= 3 standard errors of the seed average."""
    return (gap <= tol) | (lenient & (gap <= 3 * se))


def risk_check(risk, curves, lenient):
    """(pass per record, relative gap) up to the point where the seed average flattens."""
    mean, se = curves.mean(0), curves.std(0, ddof=1) / np.sqrt(len(curves))
    flat = np.flatnonzero(mean <= 1.05 * mean[-1])
    upto = flat[0] + 1 if flat.size else len(mean)
    gap = np.abs(risk - mean)[:upto]
    return within(gap, 0.05 * mean[:upto], se[:upto], lenient), gap / mean[:upto]


def compare(spec, alpha, beta, d, lenient):
    """(risk passes, max relative risk error, P_inf passes, relative P_inf error) against the 5-seed average."""
    lr, rec, curves, pinfs = sampled(alpha, beta, d, SEEDS_D2000 if d == 2000 else SEEDS)
    risk = exact_risk(spec, plrf.sgd(lr), T, record=rec, method=plrf.engines.fast(rtol=1e-3)).risk
    ok, rel = risk_check(risk, curves, lenient)
    pinf_gap, pinf_se = abs(spec.p_inf - pinfs.mean()), pinfs.std(ddof=1) / np.sqrt(len(pinfs))
    pinf_ok = within(pinf_gap, 0.02 * pinfs.mean(), pinf_se, lenient)
    return bool(ok.all()), float(rel.max()), bool(pinf_ok), pinf_gap / pinfs.mean()


def compare_p_inf(spec, alpha, beta, d):
    """(gap, standard error, within 2% or 3 standard errors, relative gap) of P_inf against the 5-seed
    mean (the cached draws of sampled(): nothing is sampled again)."""
    pinfs = sampled(alpha, beta, d, SEEDS_D2000 if d == 2000 else SEEDS)[3]
    gap, se = abs(spec.p_inf - pinfs.mean()), pinfs.std(ddof=1) / np.sqrt(len(pinfs))
    return gap, se, bool(within(gap, 0.02 * pinfs.mean(), se, True)), gap / pinfs.mean()


def identity_errors(spec, alpha, beta):
    """Relative errors of P(0) and tr K against their exact (resp. expected) values."""
    j = np.arange(1, spec.meta["v"] + 1, dtype=np.float64)
    D = j ** (-2.0 * alpha)
    return spec.risk0 / (0.5 * np.sum(D * j ** (-2.0 * beta))) - 1, spec.trace / np.sum(D) - 1


# Default suite: a corner of each regime at d = 300, lenient everywhere: finite-d effects of a few % remain
# there (P_inf is 4-5% off in three of these; at alpha = 1.5, beta = 0.3 it is 6% and the late curve 16%
# low, a finite-d effect that is gone by d = 1000).
# Two corners, (1.0, 1.5) and (1.5, 0.8), are left out here: a 5-seed (even a 20-seed) mean at d = 300
# cannot decide them (over eight disjoint 5-seed sets the check passed 5/8 and 3/8 times with streams v2,
# while an 80-seed average stays within 4% of the theory). Both are checked at d = 2000 on 20 sampled W.
@pytest.mark.parametrize("alpha,beta", [(0.4, 0.3), (0.7, 0.8)])
def test_self_consistent_matches_sampled_d300(alpha, beta):
    spec = theory_spectrum(alpha, beta, 300, method="self-consistent")
    ok, err, pinf_ok, pinf_err = compare(spec, alpha, beta, 300, lenient=True)
    assert ok, f"risk error {err:.3f}"
    assert pinf_ok, f"P_inf error {pinf_err:.3f}"


# d = 2000 averages 20 sampled W (seeds 0-19): with streams v2, disjoint 5-seed blocks strayed from the
# theory by 2.6-8.7% at (0.7, 0.8) and 5-14% at (1.5, 0.8), so a 5-seed mean could not decide a 5% bar.
# The per-seed P_inf scatters ~4% around the theory (for NumPy's W as for plrf's), so P_inf is held to
# 2% or 3 standard errors of the mean; the noise-free identities (P(0), E tr K) stay strict at 1e-3.
@pytest.mark.slow
@pytest.mark.parametrize("alpha,beta", GRID)
def test_self_consistent_matches_sampled_d2000(alpha, beta):
    spec = theory_spectrum(alpha, beta, 2000, method="self-consistent")
    ok, err, _, pinf_err = compare(spec, alpha, beta, 2000, lenient=(alpha, beta) in NOISY)
    assert ok, f"risk error {err:.3f}"
    _, _, pinf_ok, _ = compare_p_inf(spec, alpha, beta, 2000)
    assert pinf_ok, f"P_inf error {pinf_err:.3f}, beyond 2% and 3 standard errors of the seed mean"
    assert max(map(abs, identity_errors(spec, alpha, beta))) < 1e-3


# Spikes (the top of the spectrum at alpha < 1/2, the top eigenvalues at alpha >= 1) read through a
# kernel with O(eta) tails lost mass: P(0) was 1.2% low at d = 300 and 4.5% low at d = 1e5 (alpha = 0.4).
@pytest.mark.parametrize("alpha,beta", [(0.4, 1.5), (0.7, 0.8), (1.5, 0.3)])
def test_self_consistent_initial_risk_and_trace_d300(alpha, beta):
    p0_err, trace_err = identity_errors(theory_spectrum(alpha, beta, 300, method="self-consistent"), alpha, beta)
    assert abs(p0_err) < 3e-3 and abs(trace_err) < 3e-3, (p0_err, trace_err)


def test_the_check_rejects_a_wrong_spectrum():
    """Planted bug: rho without the mixing floor (closed form at beta = 0.8 without c_beta / d) fails,
    even with the 3-standard-error allowance of the noisy cases."""
    alpha, beta, d = 0.7, 0.8, 300
    lr, rec, curves, _ = sampled(alpha, beta, d)
    j = np.arange(1, d + 1, dtype=float)
    bad = plrf.Spectrum(j ** (-2 * alpha), j ** (-2 * beta), curves[:, -1].mean())
    risk = exact_risk(bad, plrf.sgd(lr), T, record=rec, method=plrf.engines.fast(rtol=1e-3)).risk
    assert not risk_check(risk, curves, lenient=True)[0].all()


def test_closed_form_shape_and_floor():
    s = theory_spectrum(1.0, 0.8, 100)
    j = np.arange(1, 101, dtype=float)
    np.testing.assert_allclose(s.eigenvalues, j**-2.0)
    np.testing.assert_allclose(s.rho, j**-1.6 + np.sum(j**-1.6) / 100)
    no_floor = theory_spectrum(0.4, 0.8, 100)  # c_beta = 0 unless alpha, beta > 1/2
    np.testing.assert_allclose(no_floor.rho, j**-1.6)


def test_p_inf_is_the_kappa_fixed_point():
    alpha, beta, d, v = 0.7, 0.8, 200, 800
    s = theory_spectrum(alpha, beta, d, v=v)
    D = np.arange(1, v + 1, dtype=float) ** (-2 * alpha)
    kappa = s.meta["kappa"]
    assert np.sum(D / (D + kappa)) == pytest.approx(d, rel=1e-6)
    want = 0.5 * np.sum(D * np.arange(1, v + 1, dtype=float) ** (-2 * beta) * kappa / (D + kappa))
    assert s.p_inf == pytest.approx(want, rel=1e-6)


def test_self_consistent_large_d_is_well_formed():
    s = plrf.Spectrum.theory(1.0, 0.8, 100_000, method="self-consistent")
    assert s.d == 100_000 and np.all(np.diff(s.eigenvalues) <= 0) and np.all(s.rho >= 0)
    assert s.meta["density_mass"] == pytest.approx(1.0, abs=1e-3)
    assert max(map(abs, identity_errors(s, 1.0, 0.8))) < 1e-3  # was -0.4% before the O(eta^3) kernel
    assert s.meta["source"] == "theory-self-consistent"


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(alpha=-1.0), "alpha"),
        (dict(d=0), "d"),
        (dict(v=10), "v"),
        (dict(method="exact"), "method"),
        (dict(eta=0.0, method="self-consistent"), "eta"),
        (dict(beta=float("nan")), "beta"),
    ],
)
def test_bad_inputs(kwargs, name):
    args = dict(alpha=1.0, beta=0.8, d=50)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        theory_spectrum(**args)


def compressed_gap(method, alpha, beta, d, steps, names=("sgd", "dana_decaying"), rtol=1e-6):
    """Largest relative gap between the risk curves of the direct nodes and the per-direction spectrum
    (method="fast" at accuracy rtol on both)."""
    full = theory_spectrum(alpha, beta, d, method=method, compress=False)
    nodes = theory_spectrum(alpha, beta, d, method=method, compress=True)
    assert nodes.d == d and nodes.has_nodes and nodes.meta["compressed"]["nodes"] == nodes.n_nodes
    gap = 0.0
    for name in names:
        opt = plrf.defaults(full, 1)[name]
        rec = plrf.record_grid(steps, 20)
        a, b = (exact_risk(s, opt, steps, record=rec, method=plrf.engines.fast(rtol=rtol)).risk for s in (full, nodes))
        gap = max(gap, float(np.max(np.abs(b / a - 1))))
    return gap


@pytest.mark.parametrize("method", ["closed-form", "self-consistent"])
def test_direct_nodes_match_the_full_theory_spectrum(method):
    assert compressed_gap(method, 1.0, 0.5, 10_000, 10**6) < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("method", ["closed-form", "self-consistent"])
def test_direct_nodes_match_the_full_theory_spectrum_at_1e6(method):
    assert compressed_gap(method, 0.7, 0.8, 10**6, 10**8, names=("sgd",), rtol=1e-4) < 1e-4  # SGD: fast is cheap at 1e6


def test_closed_form_nodes_at_1e12_cost_nothing():
    s = plrf.Spectrum.theory(1.0, 0.5, 10**12)  # compressed by default above d = 1e5
    assert s.d == 10**12 and s.n_nodes < 5000 and s.meta["compressed"]["rtol"] == 1e-4
    assert s.trace == pytest.approx(float(plrf.spectrum.power_sum(2.0, 1, 10**12)), rel=1e-12)
    assert np.all(np.diff(s.eigenvalues) < 0)
    curve = exact_risk(s, plrf.defaults(s)["dana_decaying"], 10**12, method="fast")
    assert np.all(np.isfinite(curve.risk)) and curve.risk[-1] < curve.risk[0]


def test_huge_v_costs_nothing():
    s = plrf.Spectrum.theory(1.0, 0.5, 100, v=10**12)
    g2 = plrf.defaults(s)["sgd"].coefficients(0)["gamma2"]
    assert g2 == pytest.approx(0.375 / float(plrf.spectrum.power_sum(2.0, 1, 10**12)), rel=1e-12)


def test_power_sum_is_exact():
    j = np.arange(1, 300_001, dtype=float)
    for s in (0.3, 1.0, 1.4, 2.0):
        assert plrf.spectrum.power_sum(s, 1, 300_000) == pytest.approx(np.sum(j**-s), rel=1e-13)
        assert plrf.spectrum.power_sum(s, 100, 5000) == pytest.approx(np.sum(j[99:5000] ** -s), rel=1e-13)


@pytest.mark.parametrize("compress", [0.5, -1e-4, 0.0])
def test_bad_compress_names_rtol(compress):
    with pytest.raises(ValueError, match="rtol"):
        theory_spectrum(1.0, 0.5, 100, compress=compress)


@pytest.mark.parametrize("method", ["closed-form", "self-consistent"])
def test_theory_spectrum_at_1e9_peak_memory_under_1gb(method):
    code = (f"import resource, plrf; s = plrf.Spectrum.theory(1.0, 0.5, 10**9, method={method!r}); plrf.defaults(s); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(plrf.__file__)),
                                                       os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) < 2**20  # kB: peak RSS of the whole interpreter below 1 GiB (measured: ~40 MB)
