"""#22: engine options live with their engine (plrf.engines), divergence policy is ambient (plrf.errstate)."""
import threading
import warnings

import numpy as np
import pytest

import plrf


@pytest.fixture(scope="module")
def spec():
    return plrf.Spectrum.theory(1.0, 0.5, 50)


def test_a_name_is_the_engine_with_its_defaults(spec):
    opt = plrf.sgd(0.2)
    for name in ("exact", "fast", "ode", "continuous"):
        a = plrf.exact_risk(spec, opt, 300, method=name)
        b = plrf.exact_risk(spec, opt, 300, method=plrf.engines.get(name))
        assert np.array_equal(a.risk, b.risk), name
    fine = plrf.exact_risk(spec, opt, 10**5, method=plrf.engines.fast(rtol=1e-7))
    coarse = plrf.exact_risk(spec, opt, 10**5, method="fast")
    assert fine.error_estimate < coarse.error_estimate  # the option reaches the engine


def test_options_are_strict_by_name_and_get_passes_each_engine_what_it_reads():
    with pytest.raises(TypeError, match="dt"):
        plrf.engines.exact(dt=0.1)
    with pytest.raises(TypeError, match="sampler"):
        plrf.engines.full(sampler="explicit")
    assert plrf.engines.get("exact", rtol=1e-6, dt=0.5) == plrf.engines.exact()
    assert plrf.engines.get("ode", rtol=1e-6, dt=0.5) == plrf.engines.ode(dt=0.5, rtol=1e-6)
    with pytest.raises(TypeError, match="rtoll"):
        plrf.engines.get("fast", rtoll=1e-6)
    with pytest.raises(ValueError, match="method"):
        plrf.exact_risk(plrf.Spectrum.theory(1.0, 0.5, 10), plrf.sgd(0.1), 10, method=plrf.engines.eigen())
    with pytest.raises(ValueError, match="space"):
        plrf.simulate(plrf.Spectrum.theory(1.0, 0.5, 10), plrf.sgd(0.1), 10, space="exact")


def test_errstate_sets_the_policy_for_every_engine_and_restores_it(spec):
    unstable = plrf.sgd(4.0 / spec.eigenvalues[0])
    assert plrf.geterr() == {"divergence": "warn"}
    with plrf.errstate(divergence="raise"):
        with pytest.raises(plrf.DivergenceError):
            plrf.exact_risk(spec, unstable, 2000)
        with pytest.raises(plrf.DivergenceError):
            plrf.simulate(spec, unstable, 2000, seeds=2)
    assert plrf.geterr() == {"divergence": "warn"}
    with plrf.errstate(divergence="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        c = plrf.exact_risk(spec, unstable, 2000)  # recorded, not said
    assert c.diverged_at > 0
    with pytest.warns(plrf.DivergenceWarning):  # twin: outside the block the default warns again
        plrf.exact_risk(spec, unstable, 2000)
    with pytest.raises(ValueError, match="divergence"):
        plrf.errstate(divergence="panic").__enter__()


def test_seterr_returns_the_old_policy_and_threads_see_their_own(spec):
    old = plrf.seterr(divergence="ignore")
    try:
        seen = {}
        t = threading.Thread(target=lambda: seen.setdefault("policy", plrf.geterr()["divergence"]))
        t.start()
        t.join()
        assert old == {"divergence": "warn"} and plrf.geterr()["divergence"] == "ignore"
        assert seen["policy"] == "warn"  # a context variable: a new thread starts from the default
    finally:
        plrf.seterr(**old)


def test_resume_follows_the_callers_policy(spec, tmp_path):
    unstable = plrf.sgd(4.0 / spec.eigenvalues[0])
    with plrf.errstate(divergence="ignore"):
        plrf.simulate(spec, unstable, 2000, seeds=2, checkpoint=tmp_path / "run.ckpt")
    with plrf.errstate(divergence="raise"), pytest.raises(plrf.DivergenceError):
        plrf.resume(tmp_path / "run.ckpt")


def test_the_checkpoint_interval_lives_in_the_target(tmp_path):
    spec = plrf.Spectrum.theory(1.0, 0.5, 20)
    target = plrf.checkpoint.Target(str(tmp_path / "run.ckpt"), every=30.0)
    plrf.simulate(spec, plrf.sgd(0.2), 50, seeds=2, checkpoint=target)
    job, _ = plrf.checkpoint.load(tmp_path / "run.ckpt")
    assert job["checkpoint_every"] == 30.0
