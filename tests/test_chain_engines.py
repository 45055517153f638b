"""simulate and exact_risk run a plrf.chain by its capability: label in meta, refusals naming member and engine."""
import inspect
import numpy as np
import pytest

import plrf


def _spec(d=16):
    j = np.arange(1.0, d + 1.0)
    return plrf.Spectrum(1.0 / j**2, 0.5 / j**3, 1e-4)


def test_exact_risk_labels_a_chain_exact_or_approximate():
    spec = _spec()
    exact = plrf.exact_risk(spec, plrf.chain(plrf.sgd(0.2), plrf.svag(2)), 100, progress=False)
    assert exact.meta["capability"] == "exact" and exact.meta["chain"] == "sgd + svag(2)"
    de = plrf.exact_risk(spec, plrf.chain(plrf.sgd(0.2), plrf.controllers.risk_norm()), 100, progress=False)
    assert de.meta["capability"] == "approximate (deterministic equivalent)"


def test_simulate_labels_a_model_law():
    c = plrf.simulate(_spec(), plrf.chain(plrf.sgd(0.2), plrf.hsgd(2)), 50, seeds=2, threads=1, progress=False)
    assert c.meta["law"] == "runs, a model's law (not the optimizer's)" and c.meta["dynamics"] == "hsgd"


def test_an_undefined_member_is_refused_naming_it_and_the_engines_that_run_it():
    with pytest.raises(ValueError, match=r"decay\(decay\) is not defined for exact_risk\(method='fast'\); engines "
                                         r"that run this chain: exact_risk\(method='exact'\), simulate"):
        plrf.exact_risk(_spec(), plrf.chain(plrf.sgd(0.2), plrf.decay(decay=0.01)), 100, method="fast")
    with pytest.raises(ValueError, match=r"Experts\(m=2.*is not defined for simulate\(space='full'\)"):
        plrf.simulate(plrf.PLRF(1.0, 0.5, d=8, v=16, seed=0), plrf.chain(plrf.sgd(0.2), plrf.Experts.two(0.3)), 10,
                      space="full")


def test_the_family_keywords_are_gone_and_the_signatures_are_short():
    """#22: routing, controllers and gradient models are chain members, engine options live with their
    engine (plrf.engines), divergence in plrf.errstate and the save interval in checkpoint.Target."""
    for engine, gone in ((plrf.simulate, ("experts", "controller", "dynamics", "substeps", "sampler",
                                          "checkpoint_every", "on_divergence")),
                         (plrf.exact_risk, ("experts", "controller", "model", "substeps", "rtol", "dt", "compress",
                                            "on_divergence"))):
        params = inspect.signature(engine).parameters
        assert len(params) <= 10 and not set(gone) & set(params), (engine.__name__, list(params))
    with pytest.raises(TypeError, match="controller"):
        plrf.exact_risk(_spec(), plrf.sgd(0.2), 10, controller=plrf.controllers.get("risk_norm"))
    with pytest.raises(TypeError, match="dynamics"):
        plrf.simulate(_spec(), plrf.sgd(0.2), 10, dynamics="hsgd")


def test_a_chained_run_resumes_bitwise_from_its_checkpoint(tmp_path):
    opt = plrf.chain(plrf.sgd(0.2), plrf.decay(l2=1e-3, noise=1e-3), plrf.svag(2))
    path = tmp_path / "run.ckpt"
    full = plrf.simulate(_spec(), opt, 200, seeds=2, threads=1, progress=False)

    calls = []

    def stop_once(done):  # a Ctrl-C half way: the run saves its checkpoint and returns partial curves
        if done > 100 and not calls:
            calls.append(done)
            raise KeyboardInterrupt

    part = plrf.simulate(_spec(), opt, 200, seeds=2, threads=1, progress=stop_once, checkpoint=path)
    assert part.interrupted
    again = plrf.resume(path, progress=False)
    np.testing.assert_array_equal(again.risk, full.risk)


def test_todays_spelling_is_labelled_too():
    spec = _spec()
    assert plrf.exact_risk(spec, plrf.sgd(0.2), 50, progress=False).meta["capability"] == "exact"
    de = plrf.exact_risk(spec, plrf.chain(plrf.sgd(0.2), plrf.controllers.get("risk_norm")), 50, method="ode", progress=False)
    assert de.meta["capability"] == "approximate (deterministic equivalent)"
    sde = plrf.simulate(spec, plrf.chain(plrf.sgd(0.2), plrf.ito(substeps=2)), 20, threads=1, progress=False)
    assert sde.meta["law"] == "runs, a model's law (not the optimizer's)"
    mc = plrf.simulate(spec, plrf.chain(plrf.sgd(0.2), plrf.Experts.two(0.3)), 20, threads=1, progress=False)
    assert mc.meta["law"] == "runs, exact in law"
