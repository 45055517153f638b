"""A plrf.chain in a sweep config: JSON and back, the same numbers as a direct call, and a resume from the store."""
import json

import numpy as np

import plrf
from plrf import transforms
from plrf.sweep import config as C
from plrf.sweep import grid
from plrf.sweep import run as run_sweep
from plrf.sweep import store as S


def _chains():
    return [plrf.chain(plrf.dana_decaying(0.2, 0.1, 3.0, 1.0), plrf.decay(l2=[1e-3] * 40, decay=plrf.adana_decay(0.5)),
                       plrf.svag(2)),
            plrf.chain(plrf.sgd(0.2), plrf.controllers.ema_norm(beta=0.9)),
            plrf.chain(plrf.sgd(0.2), plrf.Experts.zipf(3, 1.0, clock="expert")),
            plrf.chain(plrf.sgd(0.2), plrf.ito(4))]


def test_a_chain_serialises_to_json_and_back():
    for c in _chains():
        state = json.loads(json.dumps(C.optimizer_state(c), allow_nan=False))
        back = transforms.from_state(state)
        assert back.name == c.name and transforms.to_state(back) == state


def test_a_chain_state_names_an_unknown_member_kind():
    import pytest

    with pytest.raises(ValueError, match="'no_such_kind' is not a chain member kind"):
        transforms.from_state({"chain": [{"kind": "no_such_kind"}]})


def test_a_chained_sweep_equals_direct_calls_and_resumes_from_its_store(tmp_path):
    opt = plrf.chain(plrf.sgd(0.2), plrf.decay(decay=0.01, noise=1e-3), plrf.svag(2))
    g = grid(alpha=1.0, beta=0.5, d=8, spectrum="theory", optimizer=opt, steps=40, engine=["exact", "simulate"],
             seeds=[[0, 1]])
    rep = run_sweep(g, store=tmp_path, workers=1, progress=False)
    assert (rep.computed, rep.skipped) == (2, 0) and not rep.failed
    spec = plrf.Spectrum.theory(1.0, 0.5, 8, v=32)
    want = plrf.exact_risk(spec, opt, 40, progress=False)
    got = S.Store(tmp_path).read(rep.keys[0])
    assert np.array_equal(got["result"].risk, want.risk)
    assert got["config"]["optimizer"] == transforms.to_state(opt)
    again = run_sweep(g, store=tmp_path, workers=1, progress=False)
    assert (again.computed, again.skipped) == (0, 2)


def _direct(spec, cfg, members):
    opt = plrf.chain(plrf.sgd(0.2), *members)
    if cfg["engine"] == "simulate":
        return plrf.simulate(spec, opt, 40, seeds=[0, 1], progress=False)
    return plrf.exact_risk(spec, opt, 40, method=cfg["engine"], progress=False)


# The sweep turns a config's family options (the stored keys) into chain members: the same numbers
# as the chain called directly.
FAMILY_OPTIONS = [
    ("simulate", {"experts": {"zipf": [3, 1.0]}}, [plrf.Experts.zipf(3, 1.0)]),
    ("simulate", {"controller": "risk_norm"}, [plrf.controllers.risk_norm()]),
    ("simulate", {"dynamics": "ito", "substeps": 3}, [plrf.ito(substeps=3)]),
    ("exact", {"experts": {"two": 0.3, "clock": "expert"}}, [plrf.Experts.two(0.3, clock="expert")]),
    ("ode", {"controller": {"name": "ema_norm", "beta": 0.9}}, [plrf.controllers.ema_norm(beta=0.9)]),
    ("continuous", {"model": "ito", "substeps": 4}, [plrf.ito(substeps=4)]),
    ("continuous", {}, []),
]


def test_family_options_in_a_config_run_as_chain_members_with_todays_numbers(tmp_path):
    spec = plrf.Spectrum.theory(1.0, 0.5, 8, v=32)
    for i, (engine, options, keywords) in enumerate(FAMILY_OPTIONS):
        cfg = dict(alpha=1.0, beta=0.5, d=8, spectrum="theory", optimizer=plrf.sgd(0.2), steps=40, engine=engine,
                   options=options, seeds=[0, 1])
        rep = run_sweep([cfg], store=tmp_path / str(i), workers=1, progress=False)
        assert not rep.failed, rep.failed
        got = S.Store(tmp_path / str(i)).read(rep.keys[0])["result"]
        want = _direct(spec, cfg, keywords)
        assert np.array_equal(got.risk, want.risk), (engine, options)
        key = "law" if engine == "simulate" else "capability"
        assert got.meta[key] == want.meta[key]


def test_a_chain_pickles_for_process_pool_workers():
    import pickle

    for c in _chains():
        back = pickle.loads(pickle.dumps(c))
        assert transforms.to_state(back) == transforms.to_state(c)
