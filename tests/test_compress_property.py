"""compress(rtol) keeps its bound for any input spectrum (issue 21 item 4; docs/exact.md "Nodes and
compression", docs/theory.md §10).

Property: over random spectra (power law, geometric, clustered multiplicities, adversarial rho: spikes
and rough rho beside heavy multiplicities), for SGD and DANA-decaying with the authors' recipe, the
exact risk on exact_risk(..., compress=rtol) is within rtol of the uncompressed run at every record,
or the a-posteriori check warned. The planted twin `_compress_count_weighted` (the old nodes: lambda
count-weighted, rho summed, no split) must break the bound on the issue's reproducer and on the
adversarial spectra.
"""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

import plrf
from plrf.testing.spectra import KINDS, count_weighted_nodes as _compress_count_weighted, random_spectrum

def issue_reproducer():
    """issue 21: a high-rho eigenvalue beside a high-multiplicity neighbour (the old nodes were 1.5% off)."""
    lam = np.concatenate([np.geomspace(1, 0.1, 64), [0.01, 0.0099], np.geomspace(0.009, 1e-4, 30)])
    rho = np.zeros(lam.size)
    rho[64], rho[:64] = 1.0, 1e-3
    mult = np.ones(lam.size, dtype=int)
    mult[65] = 1000
    return plrf.Spectrum(lam, rho, 0.0, multiplicity=mult)


def compression_outcome(spec, opt, steps, rtol):
    """(max relative error of exact_risk(compress=rtol) against the full run, warned?, the compressed
    curve, the final excess risk over the initial one)."""
    rec = plrf.record_grid(steps, 20)
    full = plrf.exact_risk(spec, opt, steps, record=rec).risk
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        curve = plrf.exact_risk(spec, opt, steps, record=rec, method=plrf.engines.exact(compress=rtol))
    warned = any("compressed spectrum" in str(w.message) for w in caught)
    decay = (full[-1] - spec.p_inf) / (full[0] - spec.p_inf)
    return float(np.max(np.abs(curve.risk / full - 1.0))), warned, curve, decay


@pytest.fixture(params=["fixed", pytest.param("twin", marks=pytest.mark.xfail(reason="planted twin: the old nodes"))])
def compress_variant(request, monkeypatch):
    """The property runs on Spectrum.compress, and again on the planted twin, which must break it."""
    if request.param == "twin":
        monkeypatch.setattr(plrf.Spectrum, "compress", _compress_count_weighted)
    return request.param


def test_issue_reproducer_within_rtol(compress_variant):
    spec = issue_reproducer()
    err, warned, _, _ = compression_outcome(spec, plrf.sgd(0.5 / spec.trace), 10**4, 1e-4)
    assert err <= 1e-4 and not warned  # the twin: 1.5e-2, and its a-posteriori check does not see it


def check_property(compress_variant, kind, seed, n, name, log_steps, rtol):
    """Within rtol or warned; and quiet (and so within rtol) while the excess risk is above 5% of its
    start, where no mode carrying it is deep in its decay (docs/theory.md §10)."""
    spec = random_spectrum(kind, seed, n)
    err, warned, curve, decay = compression_outcome(spec, plrf.defaults(spec)[name], int(10**log_steps), rtol)
    where = f"{kind} seed={seed} n={n} {name} T=1e{log_steps:.2f}: error {err:.3g}, rtol {rtol:g}, decay {decay:.2g}"
    assert np.isfinite(curve.meta["compressed"]["error_estimate"])
    assert err <= rtol or warned, where + ", no warning"
    assert decay < 0.05 or not warned, where + ", warned before the risk decayed"


CASES = dict(kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1), n=st.integers(200, 2000),
             name=st.sampled_from(["sgd", "dana_decaying"]), log_steps=st.floats(3.0, 4.0),
             rtol=st.sampled_from([1e-4, 1e-3]))


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(**CASES)
@example(kind="adversarial", seed=3, n=1000, name="sgd", log_steps=3.5, rtol=1e-4)  # the twin: 1.7e-3
def _property(compress_variant, **case):
    check_property(compress_variant, **case)


def test_compressed_risk_within_rtol_or_warned(compress_variant):
    """The twin fails at once on the adversarial spectra (errors up to ~20x rtol, or a warning while
    the risk has hardly moved)."""
    _property(compress_variant)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(**CASES)
def test_compressed_risk_within_rtol_or_warned_many(**case):
    check_property("fixed", **case)


@pytest.mark.parametrize("alpha, beta", [(1.0, 0.3), (0.4, 0.3), (0.35, 0.7), (1.0, 1.2)])
def test_power_law_no_false_alarm(alpha, beta):
    """On theory spectra the check stays quiet and the error sits an order below rtol (the warning is
    not a blanket)."""
    spec = plrf.Spectrum.theory(alpha, beta, 5000, compress=False)
    err, warned, curve, _ = compression_outcome(spec, plrf.defaults(spec)["dana_decaying"], 10**4, 1e-4)
    assert err < 2e-5 and not warned and curve.meta["compressed"]["error_estimate"] < 2e-5


def test_deep_decay_warns_with_the_estimated_error():
    """Where the bound cannot hold (P_inf = 0, the risk down 1e-7 and carried by modes deep in their
    decay: the error grows like (lambda t)^2 h^2) the check warns, and its estimate is the error to 20%."""
    lam = np.geomspace(1, 0.1, 2000)
    spec = plrf.Spectrum(lam / lam.sum(), np.ones(2000), 0.0)
    err, warned, curve, _ = compression_outcome(spec, plrf.sgd(0.5), 10**5, 1e-4)
    assert err > 1e-4 and warned
    assert curve.meta["compressed"]["error_estimate"] == pytest.approx(err, rel=0.2)


def test_nodes_split_only_where_rho_is_rough():
    """A bin is halved only when its rho-weighted mean lambda is off the node: power laws keep their
    node count, and a spike beside a heavy neighbour gets a node of its own."""
    spec = plrf.Spectrum.theory(1.0, 0.7, 10**4, compress=False)
    assert spec.compress(1e-4).n_nodes <= 1.05 * _compress_count_weighted(spec, 1e-4).n_nodes
    c = issue_reproducer().compress(1e-4)
    assert 0.01 in c.eigenvalues and 0.0099 in c.eigenvalues
