"""plrf.custom_rule with an optax GradientTransformation (the plrf[jax] extra): the same draws as the
built-in rules, float64, one optimizer state per seed. Run by tests/test_optax_rule.py in a fresh
interpreter, so that JAX (its threads and its fork warning) never enters the main test process."""
import sys

import numpy as np
import pytest

import plrf

optax = pytest.importorskip("optax")
jax = pytest.importorskip("jax")

RECORD = [0, 1, 5, 20, 40]
RUN = dict(batch=3, seeds=6, record=RECORD, space="param", progress=False)


@pytest.fixture(autouse=True)
def x64():
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


@pytest.fixture(scope="module")
def problem():
    return plrf.PLRF(alpha=1.0, beta=0.5, d=32, v=128, seed=0)


def test_optax_adam_follows_plrf_adam_draw_for_draw(problem):
    """optax.adam through custom_rule equals plrf.adam to 1e-12 relative (measured 7e-16); the planted twin,
    optax.adam with b2 = 0.98 instead of 0.99, is off by more than 1e-3 (measured 4%)."""
    built_in = plrf.simulate(problem, plrf.adam(0.02, 0.9, 0.99, 1e-8), 40, **RUN)
    ours = plrf.simulate(problem, plrf.custom_rule(optax.adam(0.02, 0.9, 0.99, 1e-8), name="optax_adam"), 40, **RUN)
    assert ours.meta["chain"] == "optax_adam"
    np.testing.assert_allclose(ours.risk, built_in.risk, rtol=1e-12, atol=0)
    twin = plrf.simulate(problem, plrf.custom_rule(optax.adam(0.02, 0.9, 0.98, 1e-8)), 40, **RUN)
    assert np.abs(twin.risk / built_in.risk - 1).max() > 1e-3


def _one_leaf(tx):
    """The planted twin of the per-seed vmap: the whole (seeds x d) array as one parameter leaf."""
    def update(g, state, t):
        state = tx.init(jax.numpy.zeros_like(g)) if state is None else state
        delta, state = tx.update(jax.numpy.asarray(g), state)
        return np.asarray(delta), state
    return update


def test_an_optax_rule_runs_each_seed_alone(problem):
    """A transformation that reads all coordinates (global-norm clipping) sees one seed only: seed 4's curve
    is the same run with or without companion seeds. Treating the array as one leaf (the twin) mixes seeds."""
    tx = optax.chain(optax.clip_by_global_norm(0.05), optax.sgd(0.3))
    kw = dict(RUN, seeds=None)
    alone = plrf.simulate(problem, plrf.custom_rule(tx), 40, **dict(kw, seeds=[4]))
    together = plrf.simulate(problem, plrf.custom_rule(tx), 40, **dict(kw, seeds=[2, 3, 4]))
    np.testing.assert_allclose(together.risk[2], alone.risk[0], rtol=1e-13)
    twin = plrf.simulate(problem, plrf.custom_rule(_one_leaf(tx)), 40, **dict(kw, seeds=[2, 3, 4]))
    assert np.abs(twin.risk[2] / alone.risk[0] - 1).max() > 1e-3


def test_an_optax_rule_refuses_float32():
    jax.config.update("jax_enable_x64", False)
    with pytest.raises(ValueError, match="jax_enable_x64"):
        plrf.custom_rule(optax.adam(0.01))


def test_an_optax_rule_without_jax_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax raises ImportError
    with pytest.raises(ImportError, match=r"pip install plrf\[jax\]"):
        plrf.custom_rule(optax.adam(0.01))
