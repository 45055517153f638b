"""No 500x traps (issue 20 item 4): exact_risk(method="fast" | "ode") compresses spectra of more than
10,000 entries by default at a tenth of the method's rtol, Spectrum.theory compresses above d = 1e5,
and meta["compressed"] says what was done in every case (docs/exact.md "Nodes and compression")."""
import numpy as np
import pytest

import plrf

RTOL = 1e-4  # exact_risk's default rtol


def default_and_full(spec, name, steps, method, batch=1):
    """(default run, the same run on the spectrum as given) at 20 records per decade."""
    opt = plrf.defaults(spec, batch)[name]
    rec = plrf.record_grid(steps, 20)
    run = lambda compress=None: plrf.exact_risk(spec, opt, steps, batch=batch, record=rec,
                                                method=plrf.engines.get(method, compress=compress))
    return run(), run(False)


@pytest.mark.parametrize("method, steps", [("fast", 10**7), ("ode", 10**5)])
@pytest.mark.parametrize("name", ["sgd", "dana_decaying"])
def test_default_path_error_below_method_rtol(method, steps, name):
    """Measured over d in {2e4, 1e5} with all four optimizers, and DANA-decaying at d = 1e6, in bench/compress_table.py
    (--part default: worst 2.8e-6 for fast at d <= 1e5 and 3.7e-5 at d = 1e6, where fast's two runs
    choose their own blocks; 4.5e-7 for ode)."""
    spec = plrf.Spectrum.theory(1.0, 0.3, 20_000, compress=False)
    auto, full = default_and_full(spec, name, steps, method)
    info = auto.meta["compressed"]
    assert info["by"] == "by default" and info["rtol"] == RTOL / 10 and info["nodes"] < spec.n_nodes / 4
    assert np.max(np.abs(auto.risk / full.risk - 1)) < RTOL
    assert info["error_estimate"] < RTOL / 10


def test_planted_twin_coarse_default_misses_rtol():
    """The check above can fail: compressing by default at 100x the method's rtol breaks it."""
    spec = plrf.Spectrum.theory(1.0, 0.3, 20_000, compress=False)
    opt = plrf.defaults(spec)["sgd"]
    rec = plrf.record_grid(10**8, 20)
    full = plrf.exact_risk(spec, opt, 10**8, record=rec, method=plrf.engines.fast(compress=False)).risk
    coarse = plrf.exact_risk(spec, opt, 10**8, record=rec, method=plrf.engines.fast(compress=100 * RTOL)).risk
    assert np.max(np.abs(coarse / full - 1)) > RTOL


def test_below_threshold_is_bitwise_the_spectrum_as_given():
    spec = plrf.Spectrum.theory(1.0, 0.3, 10_000, compress=False)  # the documented threshold
    opt = plrf.defaults(spec)["dana_decaying"]
    for method in ("fast", "ode"):
        auto = plrf.exact_risk(spec, opt, 10**5, method=method)
        np.testing.assert_array_equal(auto.risk, plrf.exact_risk(spec, opt, 10**5, method=plrf.engines.get(method, compress=False)).risk)
        assert auto.meta["compressed"] == f"not compressed: below the threshold (10000 entries <= 10000)"


def test_meta_says_what_was_done_in_every_case():
    big = plrf.Spectrum.theory(1.0, 0.3, 20_000, compress=False)
    opt = plrf.sgd(0.1)
    meta = lambda spec, method="exact", **kw: plrf.exact_risk(spec, opt, 100, method=plrf.engines.get(method, **kw)
                                                              ).meta["compressed"]
    assert meta(big).startswith("not compressed: method='exact' runs the spectrum as given")
    assert meta(big, method="continuous").startswith("not compressed: method='continuous'")
    assert meta(big, method="fast", compress=False) == "not compressed: compress=False"
    asked = meta(big, compress=1e-3)
    assert asked["by"] == "on request" and asked["rtol"] == 1e-3 and asked["entries"] == 20_000
    assert asked["error_estimate"] >= 0
    assert meta(big, method="ode", rtol=1e-3)["rtol"] == 1e-4  # a tenth of the method's rtol
    nodes = plrf.Spectrum.theory(1.0, 0.3, 10**6)  # compressed by theory: its record is kept
    assert meta(nodes, method="fast") == nodes.meta["compressed"]


def test_theory_compresses_d_1e6_by_default():
    assert plrf.Spectrum.theory(1.0, 0.5, 10**6).n_nodes < 2000
    assert plrf.Spectrum.theory(1.0, 0.5, 10**5).n_nodes == 10**5  # at and below 1e5: one entry per direction


def test_bad_compress_is_refused_before_work():
    spec = plrf.Spectrum.theory(1.0, 0.3, 100)
    with pytest.raises(ValueError, match="compress"):
        plrf.exact_risk(spec, plrf.sgd(0.1), 10, method=plrf.engines.fast(compress=0.5))


def user_spectrum_1e6():
    """A user's own d = 1e6 spectrum (no theory meta): power-law eigenvalues, rough rho."""
    rng = np.random.default_rng(1)
    j = np.arange(1.0, 10**6 + 1)
    lam = j**-1.0
    return plrf.Spectrum(lam / lam.sum(), j**-0.6 * rng.exponential(size=j.size), 1e-3,
                         meta=dict(alpha=1.0, beta=0.3))  # the recipe's (alpha, beta) for DANA


@pytest.mark.slow
@pytest.mark.parametrize("which, name", [("theory", "dana_decaying"), ("user", "sgd")])
def test_default_fast_at_d_1e6_matches_uncompressed(which, name):
    """issue 20's trap: fast at d = 1e6 to T = 1e9 took 27-106 s; by default it runs on nodes (0.42 s
    CPU against 85 s for DANA-decaying on the full spectrum, docs/exact.md) within rtol of the full run."""
    spec = plrf.Spectrum.theory(1.0, 0.3, 10**6, compress=False) if which == "theory" else user_spectrum_1e6()
    auto, full = default_and_full(spec, name, 10**9, "fast")
    assert auto.meta["compressed"]["by"] == "by default"
    assert np.max(np.abs(auto.risk / full.risk - 1)) < RTOL


def test_default_gives_up_where_rho_is_too_rough_to_merge():
    """Rough rho on a geometric spectrum leaves ~every entry its own node: the default then runs the
    spectrum as given (same bits) instead of paying for nodes and their check."""
    rng = np.random.default_rng(0)
    lam = np.geomspace(1.0, 1e-4, 12_000)
    spec = plrf.Spectrum(lam / lam.sum(), rng.exponential(size=lam.size), 0.01)
    auto = plrf.exact_risk(spec, plrf.sgd(0.3), 10**4, method="fast")
    assert auto.meta["compressed"].startswith("not compressed: rho too rough to merge")
    np.testing.assert_array_equal(auto.risk, plrf.exact_risk(spec, plrf.sgd(0.3), 10**4, method=plrf.engines.fast(compress=False)).risk)
