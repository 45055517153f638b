"""A sweep whose optimizer is a chain with decay and a controller (plrf.adana) resumes from its store, and a
simulate checkpoint of that chain resumes bitwise (the controller's delta and state are kept; the slow test
cuts a run with Ctrl-C mid-way)."""
import numpy as np
import pytest

import plrf
from hardening_tools import CtrlCBar
from plrf import transforms
from plrf.sweep import grid
from plrf.sweep import run as run_sweep
from plrf.sweep import store as S

SPEC = plrf.Spectrum.theory(1.0, 0.5, 8, v=32)
STEPS = 40


def _grid():
    opts = [plrf.adana(0.05, wd_ts=4, delta=6.0), plrf.adana(0.02, wd_ts=4)]
    return grid(alpha=1.0, beta=0.5, d=8, spectrum="theory", optimizer=opts, steps=STEPS,
                engine=["exact", "simulate"], seeds=[[0, 1, 2]])


def test_a_sweep_of_adana_chains_resumes_from_its_store_with_the_numbers_of_direct_calls(tmp_path):
    configs = _grid()
    first = run_sweep(configs[:1], store=tmp_path, workers=1, progress=False)  # a sweep stopped after one task
    assert (first.computed, first.skipped) == (1, 0) and not first.failed
    rest = run_sweep(configs, store=tmp_path, workers=1, progress=False)
    assert (rest.computed, rest.skipped) == (len(configs) - 1, 1) and not rest.failed
    store = S.Store(tmp_path)
    for cfg, key in zip(configs, rest.keys):
        got = store.read(key)
        opt = cfg["optimizer"]
        assert got["config"]["optimizer"] == transforms.to_state(opt)
        if cfg["engine"] == "exact":
            want = plrf.exact_risk(SPEC, opt, STEPS, progress=False)
            assert got["result"].meta["capability"] == "approximate (deterministic equivalent)"
        else:
            want = plrf.simulate(SPEC, opt, STEPS, seeds=[0, 1, 2], progress=False)
        assert np.array_equal(got["result"].risk, want.risk)
        assert np.array_equal(got["result"].lr, want.lr, equal_nan=True)
    again = run_sweep(configs, store=tmp_path, workers=1, progress=False)
    assert (again.computed, again.skipped) == (0, len(configs))


def test_an_adana_simulate_checkpoint_resumes_bitwise(tmp_path):
    opt = plrf.adana(0.05, wd_ts=4, delta=6.0)
    whole = plrf.simulate(SPEC, opt, STEPS, seeds=[3, 4], progress=False)
    path = tmp_path / "run.ckpt"
    chopped = plrf.simulate(SPEC, opt, STEPS, seeds=[3, 4], checkpoint=plrf.checkpoint.Target(str(path), every=1e-9),
                            progress=False)
    job, state = plrf.checkpoint.load(path)
    assert job["controller"] == plrf.controllers.log_ema_norm(delta=6.0)
    resumed = plrf.resume(path, progress=False)
    for c in (chopped, resumed):
        np.testing.assert_array_equal(c.risk, whole.risk)
        np.testing.assert_array_equal(c.lr, whole.lr)


@pytest.mark.slow
def test_an_adana_run_cut_by_ctrl_c_resumes_bitwise_with_its_ema_state(tmp_path):
    # long enough that the first progress poll (which sends Ctrl-C) comes before the run ends
    opt, steps, path = plrf.adana(0.05, wd_ts=1000, delta=6.0), 3_000_000, tmp_path / "cut.ckpt"
    part = plrf.simulate(SPEC, opt, steps, seeds=[4, 5], checkpoint=path, progress=CtrlCBar())
    assert part.interrupted and np.all(part.meta["steps_done"] < steps)
    _, state = plrf.checkpoint.load(path)
    assert np.all(state["ctrl"][:, 0] > 0)  # v, the log-time EMA of ||g||^2, is carried
    resumed = plrf.resume(path, progress=False)
    whole = plrf.simulate(SPEC, opt, steps, seeds=[4, 5], progress=False)
    np.testing.assert_array_equal(resumed.risk, whole.risk)
    np.testing.assert_array_equal(resumed.lr, whole.lr)
