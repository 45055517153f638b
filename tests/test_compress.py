"""Spectrum.compress: the head kept, the tail merged into log-lambda nodes (docs/theory.md §10). The risk
curve of every exact engine moves by less than the requested rtol; the full acceptance grid
(exact to T = 1e6 at d = 1e4, fast to T = 1e9 at d = 1e6) is bench/compress_table.py."""
import numpy as np
import pytest

import plrf
from plrf.optim import NAMES

# (alpha, beta) across the phases: Ia, Ib, II, III, IVa/IVb (alpha < 1/2), beta > alpha
PHASES = [(1.0, 0.3), (0.4, 0.3), (1.0, 0.7), (0.7, 0.8), (0.35, 0.7), (1.0, 1.2)]


def compression_error(alpha, beta, d, name, batch, steps, rtol=1e-4, method="exact", fast_rtol=1e-6):
    """Largest relative gap, over the records, between the compressed and the full spectrum."""
    spec = plrf.Spectrum.theory(alpha, beta, d, compress=False)
    opt = plrf.defaults(spec, batch)[name]
    rec = plrf.record_grid(steps, 20)
    run = lambda compress: plrf.exact_risk(spec, opt, steps, batch=batch, record=rec,
                                           method=plrf.engines.get(method, rtol=fast_rtol, compress=compress))
    full, comp = run(False).risk, run(rtol).risk
    return float(np.max(np.abs(comp / full - 1)))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("alpha, beta", [(1.0, 0.5), (0.4, 0.3)])
def test_compressed_curve_within_rtol(alpha, beta, name):
    assert compression_error(alpha, beta, 3000, name, 1, 20_000) < 1e-4


def test_planted_bug_coarse_bins_fail_the_check():
    assert compression_error(1.0, 0.5, 3000, "sgd", 1, 20_000, rtol=0.1) > 1e-4  # the check above can fail


@pytest.mark.slow
@pytest.mark.parametrize("alpha, beta", PHASES)
@pytest.mark.parametrize("name", NAMES)
def test_compressed_exact_grid(alpha, beta, name):
    batch = 32 if name in ("sgd_momentum", "dana_constant") else 1
    assert compression_error(alpha, beta, 10_000, name, batch, 30_000) < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("alpha, beta, name", [(1.0, 0.3, "sgd"), (0.4, 0.3, "sgd"), (0.35, 0.7, "sgd")])
def test_compressed_fast_to_1e9(alpha, beta, name):
    assert compression_error(alpha, beta, 100_000, name, 32, 10**9, method="fast", fast_rtol=1e-4) < 1e-4


def test_compress_keeps_counts_and_head():
    spec = plrf.Spectrum.theory(1.0, 0.5, 5000, compress=False)
    c = spec.compress()
    assert c.d == spec.d and c.trace == pytest.approx(spec.trace, rel=1e-12)
    assert c.rho.sum() == pytest.approx(spec.rho.sum(), rel=1e-12) and c.p_inf == spec.p_inf
    np.testing.assert_array_equal(c.eigenvalues[:64], spec.eigenvalues[:64])
    assert c.meta["compressed"] == dict(rtol=1e-4, head=64, nodes=c.n_nodes, entries=5000)
    assert c.n_nodes < 700 and c == spec.compress()  # deterministic
    assert np.all(np.diff(c.eigenvalues) < 0)


@pytest.mark.parametrize("rtol", [0.0, -1e-4, 0.2, float("nan"), "x"])
def test_bad_rtol_is_refused_by_name(rtol):
    spec = plrf.Spectrum.theory(1.0, 0.5, 100, compress=False)
    with pytest.raises(ValueError, match="rtol"):
        spec.compress(rtol)
    with pytest.raises(ValueError, match="rtol"):
        plrf.exact_risk(spec, plrf.sgd(0.1), 10, method=plrf.engines.exact(compress=rtol))
