"""Sweeps with the real default engines (exact / fast recursion, simulator): a swept result is
bitwise the direct engine call on the problem's spectrum, whichever backend ran it."""

import numpy as np
import pytest

import plrf
import sweep_fakes
from plrf.sweep import grid
from plrf.sweep import run as run_sweep

has_exact = pytest.mark.skipif(not hasattr(plrf, "exact_risk"), reason="plrf.exact_risk not on this branch")
has_sim = pytest.mark.skipif(not hasattr(plrf, "simulate"), reason="plrf.simulate not on this branch")


def _spec_and_opt(alpha, beta, d, name, batch=1):
    spec = plrf.PLRF(alpha, beta, d).spectrum(keep_vectors=False)
    return spec, plrf.defaults(spec, batch)[name]


@has_exact
def test_exact_engines_match_direct_calls(tmp_path):
    g = grid(alpha=1.0, beta=0.7, d=[16, 24], optimizer=sweep_fakes.OPTIMIZERS, steps=300, batch=2,
             engine=["exact", "fast"])
    rep = run_sweep(g, store=tmp_path, workers=2, progress=False)
    assert rep.computed == 16
    got = sweep_fakes.stored(tmp_path, rep)
    for cfg, key in zip(g, rep.keys):
        spec, opt = _spec_and_opt(cfg["alpha"], cfg["beta"], cfg["d"], cfg["optimizer"], cfg["batch"])
        want = plrf.exact_risk(spec, opt, cfg["steps"], batch=2, method=cfg["engine"])
        assert np.array_equal(got[key].risk, want.risk) and np.array_equal(got[key].steps, want.steps)
    df = plrf.load(tmp_path)
    assert set(df.engine) == {"exact", "fast"} and df.risk.notna().all()


@has_sim
def test_simulate_engine_matches_direct_call(tmp_path):
    g = grid(alpha=1.0, beta=0.3, d=12, optimizer=["sgd", "dana_decaying"], steps=200, seeds=[0, 5],
             engine="simulate")
    rep = run_sweep(g, store=tmp_path, workers=1, progress=False)
    got = sweep_fakes.stored(tmp_path, rep)
    for cfg, key in zip(g, rep.keys):
        spec, opt = _spec_and_opt(1.0, 0.3, 12, cfg["optimizer"])
        want = plrf.simulate(spec, opt, 200, seeds=[0, 5])
        assert np.array_equal(got[key].risk, want.risk) and list(got[key].seeds) == [0, 5]
    assert set(plrf.load(tmp_path, seeds="all").seed) == {0, 5}


def test_theory_spectrum_problems(tmp_path):
    g = grid(alpha=1.0, beta=0.3, d=[32, 64], spectrum=["theory", "theory:self-consistent"], optimizer="sgd",
             steps=100, engine="fast", seed=[0, 1])  # the W seed does not matter for theory spectra
    rep = run_sweep(g, store=tmp_path, workers=1, progress=False)
    df = plrf.load(tmp_path)
    assert rep.computed == 4 and rep.total == 4 and (df.problem_seed == -1).all() and df.risk.notna().all()
    for cfg, key in zip(g, rep.keys):
        method = cfg["spectrum"].partition(":")[2] or "closed-form"
        spec = plrf.Spectrum.theory(1.0, 0.3, cfg["d"], method=method)
        want = plrf.exact_risk(spec, plrf.defaults(spec)["sgd"], 100, method="fast")
        assert np.array_equal(sweep_fakes.stored(tmp_path, rep)[key].risk, want.risk)


@has_exact
def test_theory_sweep_at_d_1e9(tmp_path):
    g = grid(alpha=1.0, beta=0.3, d=[10**9], spectrum="theory", optimizer="dana_decaying", steps=10**12,
             engine="fast")  # the theory spectrum is compressed above d = 1e5: the run costs what d = 1e4 does
    rep = run_sweep(g, store=tmp_path, workers=1, progress=False)
    df = plrf.load(tmp_path)
    assert rep.computed == 1 and df.risk.notna().all() and df.step.max() == 10**12


def test_simulate_on_a_compressed_theory_spectrum_is_refused_when_the_grid_is_checked(tmp_path):
    # above d = 1e5 Spectrum.theory returns nodes, which the simulator cannot run: say so before any
    # work is queued, not on a worker
    g = grid(alpha=1.0, beta=0.3, d=[2 * 10**6], spectrum="theory", optimizer="sgd", steps=10, engine="simulate")
    with pytest.raises(ValueError, match="d=2000000.*simulate needs one entry per direction"):
        run_sweep(g, store=tmp_path, workers=1, progress=False)
