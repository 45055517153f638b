"""DP-SGD's clipping member (plrf.clip, docs/privacy.md) on the engines.

- Off (C = oo) the member is the identity: every engine runs bit for bit as without it. With a finite C
  that never clips and no noise, the C++ clipping path runs and is still bitwise the explicit sampler.
- C above every gradient norm with noise s: the Monte Carlo equals the injected-noise recursion
  (plrf.decay(noise = lr s C / B)), z-test max |z| < Z_MAX = 4 over 11 log-spaced steps (under the null
  about 1e-3); its twin (noise std s instead of s C) must give max |z| > 4. The DE is that recursion
  to rounding there.
- Clipping active: the eigen path (explicit per-sample gradients) and the full path agree in law: a
  two-sample z-test of the means, max |z| < 4; twin: the full path against an unclipped eigen run fails.
- Threads and seed subsets do not change a clipped run; bad inputs name their argument.
"""
import math
from functools import lru_cache

import numpy as np
import pytest

import plrf

Z_MAX = 4.0
D, STEPS, B = 20, 100, 2
RECORD = np.unique(np.geomspace(1, STEPS, 12).astype(int))
GRID_REC = np.concatenate([[0], RECORD])


@lru_cache(maxsize=None)
def problem():
    return plrf.PLRF(0.7, 0.4, D, v=2 * D, seed=3)


def spectrum():
    return problem().spectrum()


def typical_norm(spec):
    """sqrt(tr K R2(0)): the typical per-sample gradient norm at the start."""
    return math.sqrt(spec.trace * 2.0 * spec.risk0)


def zmax(runs, mean, se2=0.0):
    r = runs.risk[:, 1:]
    se = np.sqrt(r.var(axis=0, ddof=1) / r.shape[0] + se2)
    return float(np.max(np.abs((r.mean(axis=0) - np.asarray(mean)) / se)))


# ---- off is today, bit for bit ----------------------------------------------------------------
@pytest.mark.parametrize("space, sampler", [("eigen", "fast"), ("eigen", "explicit"), ("full", "fast")])
def test_clip_off_is_bitwise_today_on_simulate(space, sampler):
    src, opt = problem() if space == "full" else spectrum(), plrf.sgd_momentum(0.05, 0.5)
    engine = plrf.engines.get(space, sampler=sampler)
    ref = plrf.simulate(src, opt, 40, B, seeds=3, space=engine).risk
    off = plrf.simulate(src, plrf.chain(opt, plrf.clip(math.inf)), 40, B, seeds=3, space=engine).risk
    assert np.array_equal(off, ref)


@pytest.mark.parametrize("method", ["exact", "fast", "ode"])
def test_clip_off_is_bitwise_today_on_exact_risk(method):
    opt = plrf.sgd(0.2)
    ref = plrf.exact_risk(spectrum(), opt, 500, B, method=method).risk
    assert np.array_equal(plrf.exact_risk(spectrum(), plrf.chain(opt, plrf.clip(math.inf)), 500, B,
                                          method=method).risk, ref)


@pytest.mark.parametrize("space", ["eigen", "full"])
def test_clip_that_never_clips_without_noise_is_bitwise_the_explicit_sampler(space):
    """The C++ clip path with factor 1 and no noise changes no bit (the eigen path's explicit sampler,
    the full path's features path)."""
    src, opt = problem() if space == "full" else spectrum(), plrf.sgd(0.1)
    ref = plrf.simulate(src, opt, 40, B, seeds=3, space=plrf.engines.get(space, sampler="explicit")).risk
    run = plrf.simulate(src, plrf.chain(opt, plrf.clip(1e150)), 40, B, seeds=3, space=space)
    assert run.meta["clip"] == 1e150 and (space == "full" or run.meta["sampler"] == "explicit")
    assert np.array_equal(run.risk, ref)


# ---- C >> |g| with noise: the injected-noise recursion ----------------------------------------
LR, S = 0.1, 0.5


def noise_member(spec):
    C = 1e4 * typical_norm(spec)  # never reached; the noise std on the averaged step is LR S C / B
    return plrf.clip(C, noise_multiplier=S * 0.02 / C * B / LR)  # so that LR s C / B = 0.01


def test_unclipped_noise_equals_the_injected_noise_recursion():
    spec = spectrum()
    member = noise_member(spec)
    injected = plrf.exact_risk(spec, plrf.chain(plrf.sgd(LR), plrf.decay(noise=0.01)), STEPS, B,
                               record=RECORD).risk
    runs = plrf.simulate(spec, plrf.chain(plrf.sgd(LR), member), STEPS, B, seeds=2000, record=GRID_REC)
    assert zmax(runs, injected) < Z_MAX
    # twin: the noise std read as s (not s C) on the batch sum, i.e. no injected noise at all
    twin = plrf.exact_risk(spec, plrf.sgd(LR), STEPS, B, record=RECORD).risk
    assert zmax(runs, twin) > Z_MAX
    de = plrf.exact_risk(spec, plrf.chain(plrf.sgd(LR), member), STEPS, B, record=RECORD)
    np.testing.assert_allclose(de.risk, injected, rtol=1e-12)
    assert de.meta["capability"] == plrf.capabilities.APPROXIMATE


# ---- the two paths agree in law -----------------------------------------------------------------
def test_eigen_and_full_paths_agree_in_law_with_clipping():
    spec, seeds = spectrum(), 1500
    opt = plrf.chain(plrf.sgd(0.2), plrf.clip(0.3 * typical_norm(spec), noise_multiplier=0.5))
    eig = plrf.simulate(spec, opt, STEPS, B, seeds=seeds, record=GRID_REC)
    full = plrf.simulate(problem(), opt, STEPS, B, seeds=range(10**6, 10**6 + seeds), record=GRID_REC, space="full")
    f = full.risk[:, 1:]
    assert zmax(eig, f.mean(axis=0), f.var(axis=0, ddof=1) / seeds) < Z_MAX
    # twin: the full path against the unclipped eigen run (same noise) is rejected
    loose = plrf.chain(plrf.sgd(0.2), plrf.clip(1e4 * typical_norm(spec), noise_multiplier=0.5 * 0.3e-4))
    unclipped = plrf.simulate(spec, loose, STEPS, B, seeds=seeds, record=GRID_REC)
    assert zmax(unclipped, f.mean(axis=0), f.var(axis=0, ddof=1) / seeds) > Z_MAX


def test_clipped_runs_do_not_depend_on_threads_or_seed_subsets():
    spec = spectrum()
    opt = plrf.chain(plrf.sgd(0.2), plrf.clip(0.3 * typical_norm(spec), noise_multiplier=0.5))
    for src, space in ((spec, "eigen"), (problem(), "full")):
        a = plrf.simulate(src, opt, 30, B, seeds=4, threads=1, space=space).risk
        assert np.array_equal(a, plrf.simulate(src, opt, 30, B, seeds=4, threads=2, space=space).risk)
        assert np.array_equal(a[2:], plrf.simulate(src, opt, 30, B, seeds=[2, 3], space=space).risk)


def test_clipped_run_resumes_bitwise(tmp_path):
    """Ctrl-C half way, then plrf.resume: the checkpoint keeps the clip knobs, the noise stream is counter-based."""
    spec = spectrum()
    opt = plrf.chain(plrf.sgd(0.2), plrf.clip(0.3 * typical_norm(spec), noise_multiplier=0.5))
    full = plrf.simulate(spec, opt, 200, B, seeds=2, threads=1, progress=False)
    calls = []

    def stop_once(done):
        if done > 100 and not calls:
            calls.append(done)
            raise KeyboardInterrupt

    path = tmp_path / "run.ckpt"
    assert plrf.simulate(spec, opt, 200, B, seeds=2, threads=1, progress=stop_once, checkpoint=path).interrupted
    np.testing.assert_array_equal(plrf.resume(path, progress=False).risk, full.risk)


# ---- the rules and bad inputs ---------------------------------------------------------------------
@pytest.mark.parametrize("kw, name", [(dict(C=0.0), "C"), (dict(C=-1.0), "C"), (dict(C=float("nan")), "C"),
                                      (dict(C=1.0, noise_multiplier=-0.1), "noise_multiplier"),
                                      (dict(C=1.0, noise_multiplier=float("inf")), "noise_multiplier"),
                                      (dict(C=math.inf, noise_multiplier=1.0), "noise_multiplier")])
def test_bad_clip_arguments_name_the_argument(kw, name):
    with pytest.raises(ValueError, match=name):
        plrf.clip(**kw)


def test_clip_refuses_what_it_does_not_define():
    spec, member = spectrum(), plrf.clip(1.0, 0.5)
    with pytest.raises(ValueError, match="clip"):
        plrf.exact_risk(spec, plrf.chain(plrf.sgd(0.1), member), 10, method="fast")
    with pytest.raises(ValueError, match="plain SGD"):
        plrf.exact_risk(spec, plrf.chain(plrf.sgd_momentum(0.1, 0.5), member), 10)
    for other in (plrf.svag(2.0), plrf.decay(l2=0.1), plrf.hsgd(), plrf.controllers.adagrad_norm()):
        with pytest.raises(ValueError, match="do not compose"):
            plrf.simulate(spec, plrf.chain(plrf.sgd(0.1), member, other), 10)
    # a GenMomentum carrying clip knobs (a lowered chain) enters a chain as its members: one concept
    bare = plrf.chain(plrf.sgd(0.1), member).lower().optimizer
    assert np.array_equal(plrf.exact_risk(spec, bare, 10).risk,
                          plrf.exact_risk(spec, plrf.chain(plrf.sgd(0.1), member), 10).risk)
    with pytest.raises(ValueError, match="clip"):
        plrf.exact_risk(spec, bare, 10, method="fast")


def test_clip_member_round_trips_through_json():
    from plrf.transforms import from_state, to_state
    c = plrf.chain(plrf.sgd(0.1), plrf.clip(2.5, 0.7))
    assert from_state(to_state(c)).lower().optimizer == c.lower().optimizer


def test_a_clip_state_without_C_is_refused_naming_it():
    from plrf.transforms import from_state
    with pytest.raises(ValueError, match="C must be"):
        from_state({"chain": [{"kind": "momentum", **_momentum_state()}, {"kind": "clip"}]})


def _momentum_state():
    from plrf.transforms import to_state
    return {k: v for k, v in to_state(plrf.chain(plrf.sgd(0.1)))["chain"][0].items() if k != "kind"}
