"""Spectra with multiplicities (nodes, docs/theory.md §10): a node of m equal eigenvalues is exact in every
exact engine, and everything that counts directions (d, trace, defaults, max_stable_lr) honours m."""
import pickle

import numpy as np
import pytest

import plrf
from plrf.optim import NAMES
from plrf.testing import spec4_risk


def node_pair(mult=(3, 1, 2, 1, 4), alpha=1.0, beta=0.6):
    """A node spectrum and the same spectrum with every node split into equal modes."""
    m = np.asarray(mult)
    j = np.arange(1, len(m) + 1, dtype=np.float64)
    lam, rho = j ** (-2 * alpha), m * j ** (-2 * beta)
    meta = dict(alpha=alpha, beta=beta)
    nodes = plrf.Spectrum(lam, rho, 1e-3, multiplicity=m, meta=meta)
    modes = plrf.Spectrum(np.repeat(lam, m), np.repeat(rho / m, m), 1e-3, meta=meta)
    return nodes, modes


def rel(a, b):
    return float(np.max(np.abs(a / b - 1)))


@pytest.mark.parametrize("method", ["exact", "fast", "ode"])
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch", [1, 3])
def test_doubled_eigenvalues_equal_the_node_form(method, name, batch):
    nodes, modes = node_pair()
    opt = plrf.defaults(modes, batch)[name]
    run = lambda s: plrf.exact_risk(s, opt, 3000, batch=batch, method=method).risk
    assert rel(run(nodes), run(modes)) < 1e-13


def node_oracle_error(bug=None):
    """Largest relative gap between the C++ recursion on a node spectrum and the NumPy oracle."""
    nodes, _ = node_pair()
    opt = plrf.defaults(nodes, 2)["dana_decaying"]
    want = spec4_risk(nodes, opt, 400, 2, bug=bug)
    got = plrf.exact_risk(nodes, opt, 400, batch=2, record=np.arange(401)).risk
    return rel(got, want)


def test_node_recursion_matches_the_oracle():
    assert node_oracle_error() < 1e-12


def test_planted_bug_multiplicity_left_out_of_the_noise_is_caught():
    assert node_oracle_error(bug="no_multiplicity") > 1e-3  # the check above would fail


def test_counts_follow_the_multiplicity():
    nodes, modes = node_pair()
    assert nodes.d == modes.d == 11 and nodes.n_nodes == 5 and nodes.has_nodes and not modes.has_nodes
    assert nodes.trace == pytest.approx(modes.trace, rel=1e-15)
    assert nodes.risk0 == pytest.approx(modes.risk0, rel=1e-15)
    assert plrf.max_stable_lr(nodes, 4) == pytest.approx(plrf.max_stable_lr(modes, 4), rel=1e-12)
    for name in NAMES:
        a, b = plrf.defaults(nodes, 2)[name], plrf.defaults(modes, 2)[name]
        assert a.coefficients(7) == b.coefficients(7)
    assert "nodes=5" in repr(nodes)


def test_expand_gives_the_modes():
    nodes, modes = node_pair()
    ex = nodes.expand()
    np.testing.assert_array_equal(ex.eigenvalues, modes.eigenvalues)
    np.testing.assert_allclose(ex.rho, modes.rho, rtol=1e-15)
    assert modes.expand() is modes


def test_expand_beyond_memory_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(plrf._validate, "available_memory", lambda: 2**30)
    huge = plrf.Spectrum([1.0, 0.5], [1.0, 1.0], 0.0, multiplicity=[1, 10**12])
    with pytest.raises(MemoryError, match="expand"):
        huge.expand()


def test_simulate_asks_for_expand():
    nodes, _ = node_pair()
    with pytest.raises(ValueError, match=r"expand\(\)"):
        plrf.simulate(nodes, plrf.sgd(0.1), 10, seeds=2)


def test_persistence_keeps_the_multiplicity(tmp_path):
    nodes, _ = node_pair()
    assert pickle.loads(pickle.dumps(nodes)) == nodes
    back = plrf.Spectrum.load(nodes.save(tmp_path / "n.npz"))
    assert back == nodes and back.d == 11
    np.testing.assert_array_equal(back.multiplicity, [3, 1, 2, 1, 4])


def test_sorting_carries_the_multiplicity():
    s = plrf.Spectrum([1.0, 3.0], [1.0, 2.0], 0.0, multiplicity=[5, 2])
    np.testing.assert_array_equal(s.multiplicity, [2, 5])


@pytest.mark.parametrize("mult, match", [
    ([1, -2], ">= 1"),
    ([1, 1.5], "whole numbers"),
    ([1, np.nan], "finite"),
    ([1, 1, 1], "one entry per eigenvalue"),
    (["a", "b"], "whole numbers"),
    ([1, 0], ">= 1"),
])
def test_bad_multiplicity_is_refused_by_name(mult, match):
    with pytest.raises(ValueError, match="multiplicity") as err:
        plrf.Spectrum([1.0, 0.5], [1.0, 1.0], 0.0, multiplicity=mult)
    assert err.match(match)


def test_multiplicity_with_eigenvectors_is_refused():
    with pytest.raises(ValueError, match="multiplicity"):
        plrf.Spectrum([1.0, 0.5], [1.0, 1.0], 0.0, multiplicity=[1, 2], eigenvectors=np.eye(2))
