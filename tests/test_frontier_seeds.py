"""Frontier intervals on sampled W include the W-to-W variance (curves keyed (d, w)).

Set-up: SGD at (alpha, beta) = (1, 0.3), 20 W seeds, d = 8 .. 91 (8 sizes, sqrt 2 apart), exact
expected risk (fast engine) until s = 100 d^(2 alpha). Measured there (2026-12): the per-W IsoFLOP
exponents scatter over W by several times a single W's bootstrap half-width.

Coverage criteria, from 4 calls over disjoint groups of 5 W seeds (each must be able to fail; the
planted twin shows the old, single-W intervals do):
- spread: each call's prediction interval (`xi_spread`, `eta_spread`) is checked against the 15
  per-W exponents of the other groups: at least 51 of the 60 must lie inside (nominal 95%: 57
  expected, binomial sd 1.7, so 51 is 3.5 sd below);
- mean: each call's interval covers the mean exponent of the other 15 seeds (4 of 4; the interval
  is ~2.4 standard errors of that difference wide at the nominal rate).
"""
import warnings

import numpy as np
import pytest

import plrf
from plrf.frontier import FrontierWarning, frontier

DS = [8, 11, 16, 23, 32, 45, 64, 91]
N_W, GROUP = 20, 5
KW = dict(n_boot=200)


def _curve(d, w):
    spec = plrf.PLRF(1.0, 0.3, d, seed=w).spectrum()
    opt = plrf.defaults(spec)["sgd"]
    steps = int(100 * d**2 / opt.gamma2(0.0))
    return plrf.exact_risk(spec, opt, steps, record=plrf.record_grid(steps, 20), method="fast")


@pytest.fixture(scope="module")
def curves():
    return {(d, w): _curve(d, w) for w in range(N_W) for d in DS}


def _frontier(curves, ws):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrontierWarning)
        return frontier({(d, w): c for (d, w), c in curves.items() if w in ws}, **KW)


@pytest.fixture(scope="module")
def groups(curves):
    return [_frontier(curves, range(g, g + GROUP)) for g in range(0, N_W, GROUP)]


def _per_w(fr, name):
    return {w: getattr(f.isoflop, name) for w, f in fr.per_w.items()}


def _spread_coverage(groups, name):
    """How many per-W exponents of the other groups each group's prediction interval holds, summed."""
    every = {w: v for g in groups for w, v in _per_w(g, name).items()}
    inside = 0
    for g in groups:
        lo, hi = getattr(g.isoflop, name + "_spread")
        inside += sum(lo <= v <= hi for w, v in every.items() if w not in g.per_w)
    return inside


@pytest.mark.parametrize("name", ["xi", "eta"])
def test_prediction_interval_covers_other_w_seeds(groups, name):
    assert _spread_coverage(groups, name) >= 51


@pytest.mark.parametrize("name", ["xi", "eta"])
def test_interval_over_w_covers_the_mean_of_other_seeds(groups, name):
    every = {w: v for g in groups for w, v in _per_w(g, name).items()}
    for g in groups:
        lo, hi = getattr(g.isoflop, name + "_interval")
        assert lo <= np.mean([v for w, v in every.items() if w not in g.per_w]) <= hi
        assert g.n_w == GROUP and g.isoflop.n_w == GROUP and f"over {GROUP} W seeds" in str(g.isoflop)


def test_planted_twin_single_w_interval_misses_the_spread(groups):
    """The interval of one W (the old, conditional one) fails the same spread criterion."""
    every = {w: v for g in groups for w, v in _per_w(g, "xi").items()}
    inside = 0
    for g in groups:
        one = next(iter(g.per_w.values())).isoflop  # a call with one W: its bootstrap interval
        inside += sum(one.xi_interval[0] <= v <= one.xi_interval[1] for w, v in every.items() if w not in g.per_w)
    assert inside < 51, inside


def test_one_w_says_its_interval_is_conditional(curves):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrontierWarning)
        fr = frontier({d: curves[(d, 0)] for d in DS}, **KW)
    assert fr.n_w == 1 and "conditional on the curves given" in fr.table() and "W-to-W variance" in fr.table()


def test_short_repr(groups):
    r = repr(groups[0])
    assert r.startswith("Frontier(d = 8 .. 91 (8 sizes)") and "5 W seeds" in r and len(r) < 300
    assert len(repr(groups[0].isoflop)) < 300


def test_bad_w_keys_are_refused(curves):
    with pytest.raises(ValueError, match="at least 2 W seeds"):
        frontier({(d, 0): curves[(d, 0)] for d in DS})
    with pytest.raises(ValueError, match=r"\(d, w\)"):
        frontier({(d, 0, 1): curves[(d, 0)] for d in DS})
    uneven = {(d, w): curves[(d, w)] for w in range(2) for d in DS if (d, w) != (91, 1)}
    with pytest.raises(ValueError, match="same sizes d"):
        frontier(uneven)


def test_sweep_grid_makes_the_w_seed_an_axis():
    from plrf.sweep import grid
    from plrf.sweep.config import problem_key
    from plrf.sweep.tasks import ENGINES

    from plrf.sweep.config import normalize

    cfgs = grid(alpha=1.0, beta=0.3, d=64, seed=[0, 1, 2], optimizer="sgd", steps=100, engine="fast")
    assert [c["seed"] for c in cfgs] == [0, 1, 2]
    keys = {problem_key(normalize(c, ENGINES)) for c in cfgs}
    assert len(keys) == 3  # one W per seed


@pytest.mark.slow
@pytest.mark.parametrize("name", ["xi", "eta"])
def test_prediction_interval_covers_other_w_seeds_at_larger_d(name):
    """The spread criterion with 24 W seeds, d = 16 .. 256 (9 sizes), 4 calls of 6 seeds: each call's
    prediction interval is checked against the 18 other seeds' exponents; at least 62 of 72 must be
    inside (nominal 95%: 68.4 expected, binomial sd 1.85, so 62 is 3.5 sd below)."""
    ds, n_w, group = [16, 23, 32, 45, 64, 91, 128, 181, 256], 24, 6
    curves = {(d, w): _curve(d, w) for w in range(n_w) for d in ds}
    groups = [_frontier(curves, range(g, g + group)) for g in range(0, n_w, group)]
    assert _spread_coverage(groups, name) >= 62
