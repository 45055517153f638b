"""Run control of plrf.simulate: reproducibility across threads, checkpoint/resume, Ctrl-C,
divergence and argument checking."""
import os
import pickle
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import plrf
from hardening_tools import CtrlCBar
from plrf import simulation


@pytest.fixture(scope="module")
def problem():
    return plrf.PLRF(1.0, 0.5, 20, 80, seed=1)


@pytest.fixture(scope="module")
def big_spectrum():
    d = 2000
    j = np.arange(1, d + 1, dtype=float)
    return plrf.Spectrum(j**-1.0, j**-1.0, 1e-3)


def same(a, b):
    np.testing.assert_array_equal(a.risk, b.risk)
    np.testing.assert_array_equal(a.diverged_at, b.diverged_at)


@pytest.mark.parametrize("space,sampler", [("eigen", "fast"), ("eigen", "explicit"), ("full", "fast")])
def test_threads_bitwise(problem, space, sampler):
    opt = plrf.defaults(problem.spectrum(), 4)["dana_decaying"]
    runs = [plrf.simulate(problem, opt, 300, batch=4, seeds=[3, 1, 4, 15, 9], space=plrf.engines.get(space, sampler=sampler), threads=t)
            for t in (1, 2)]
    same(*runs)
    # A seed's curve does not depend on which other seeds run with it.
    alone = plrf.simulate(problem, opt, 300, batch=4, seeds=[4], space=plrf.engines.get(space, sampler=sampler), threads=1)
    np.testing.assert_array_equal(alone.risk[0], runs[0].risk[2])


@pytest.mark.parametrize("space,sampler", [("eigen", "fast"), ("eigen", "explicit"), ("full", "fast")])
def test_schedule_is_read_at_the_step_index(problem, space, sampler):
    """docs/theory.md §3's time convention, with no randomness involved: lr[t] drives the update from step t to
    t + 1, so five zero rates leave risk[0..5] at risk0 exactly and the first real step moves risk[6].
    Reading lr[t + 1] (or lr[t - 1]) breaks one of the two assertions. "Moves", not "lowers": one noisy
    step at B = 2 raises the risk for ~6% of seeds."""
    spec = problem.spectrum()
    lr = plrf.Schedule.array([0.0] * 5 + [0.3 / spec.trace] * 20)
    c = plrf.simulate(problem, plrf.sgd(lr), 25, batch=2, seeds=3, record=np.arange(26), space=plrf.engines.get(space, sampler=sampler))
    np.testing.assert_allclose(c.risk[:, :6], spec.risk0, rtol=1e-12)
    assert np.all(np.abs(c.risk[:, 6] - spec.risk0) > 1e-9 * spec.risk0)


@pytest.mark.parametrize("space", ["eigen", "full"])
def test_checkpointed_run_is_bitwise_uninterrupted(problem, tmp_path, space, monkeypatch):
    """Pausing every few steps (to checkpoint) and continuing changes nothing."""
    saves = []
    monkeypatch.setattr(simulation, "MIN_CHECKPOINT_EVERY", 0.0)  # pause as often as asked (floor: 1 s)
    original = simulation._save
    monkeypatch.setattr(simulation, "_save", lambda job, state: (saves.append(state["step"].copy()), original(job, state)))
    opt = plrf.defaults(problem.spectrum(), 2)["sgd_momentum"]
    kw = dict(batch=2, seeds=4, space=space, threads=2)
    ref = plrf.simulate(problem, opt, 3000, **kw)
    path = tmp_path / "run.ckpt"
    paused = plrf.simulate(problem, opt, 3000, checkpoint=plrf.checkpoint.Target(path, every=1e-6), **kw)
    assert len(saves) > 10 and any(np.any((s > 0) & (s < 3000)) for s in saves)  # it did pause mid-run
    same(ref, paused)
    same(ref, plrf.resume(path))  # resuming a finished run returns its curves


def test_interrupt_then_resume_is_bitwise(big_spectrum, tmp_path):
    opt = plrf.sgd(0.1)
    kw = dict(batch=4, seeds=[7, 8], threads=2)
    steps = 40_000
    path = tmp_path / "interrupted.ckpt"
    part = plrf.simulate(big_spectrum, opt, steps, checkpoint=path, progress=CtrlCBar(), **kw)
    assert part.interrupted
    assert np.all(part.meta["steps_done"] < steps)
    assert np.isnan(part.risk[:, -1]).all() and np.isfinite(part.risk[:, 0]).all()
    _, state = plrf.checkpoint.load(path)
    np.testing.assert_array_equal(state["step"], part.meta["steps_done"])
    resumed = plrf.resume(path)
    assert not resumed.interrupted
    same(resumed, plrf.simulate(big_spectrum, opt, steps, **kw))


def test_interrupt_without_checkpoint_returns_partial_curves(big_spectrum):
    part = plrf.simulate(big_spectrum, plrf.sgd(0.1), 10**7, seeds=2, threads=2, progress=CtrlCBar())
    assert part.interrupted and np.isnan(part.risk[:, -1]).all() and np.all(part.ok)


def test_interrupt_by_sigint_in_a_subprocess():
    """A real Ctrl-C (SIGINT) to a running `python -c` returns partial curves within seconds."""
    code = (
        "import numpy as np, plrf, sys\n"
        "spec = plrf.Spectrum(np.arange(1, 2001.0)**-1, np.arange(1, 2001.0)**-1, 1e-3)\n"
        "print('ready', flush=True)\n"
        "c = plrf.simulate(spec, plrf.sgd(0.1), 10**8, seeds=2, threads=2)\n"
        "print('interrupted', c.interrupted, int(c.meta['steps_done'].min()) > 0, flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.strip() == "interrupted True True"


def test_progress_bar_runs(problem, capsys):
    curves = plrf.simulate(problem, plrf.sgd(0.1), 2000, seeds=3, progress=True)
    assert curves.risk.shape == (3, len(plrf.record_grid(2000)))
    assert "6000/6000" in capsys.readouterr().err  # tqdm counts steps x seeds


@pytest.mark.parametrize("space", ["eigen", "full"])
def test_divergence_is_recorded_and_reported(problem, space):
    spec = problem.spectrum()
    opt = plrf.sgd(4.0 / spec.eigenvalues[0])  # unstable on the top mode
    with pytest.warns(plrf.DivergenceWarning, match="diverged"):
        curves = plrf.simulate(problem, opt, 2000, seeds=3, space=space)
    assert np.all(curves.diverged_at > 0)
    for i, t in enumerate(curves.diverged_at):
        after = curves.steps >= t
        assert np.isnan(curves.risk[i, after]).all() and np.isfinite(curves.risk[i, ~after]).all()
    with pytest.raises(plrf.DivergenceError), plrf.errstate(divergence="raise"):
        plrf.simulate(problem, opt, 2000, seeds=1, space=space)


def test_stable_run_does_not_warn(problem):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        curves = plrf.simulate(problem, plrf.sgd(0.1), 500, seeds=2)
    assert np.all(curves.ok) and np.isfinite(curves.risk).all()


def test_curves_metadata(problem):
    c = plrf.simulate(problem, plrf.sgd(0.1), 100, batch=3, seeds=[5, 6], record=[0, 10, 100])
    assert c.steps.tolist() == [0, 10, 100] and c.seeds.tolist() == [5, 6]
    assert c.meta["batch"] == 3 and c.meta["space"] == "eigen" and c.meta["alpha"] == 1.0
    assert c.risk[0, 0] == pytest.approx(problem.spectrum().risk0)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(steps=0), "steps"),
        (dict(steps=2.5), "steps"),
        (dict(batch=0), "batch"),
        (dict(seeds=[]), "seeds"),
        (dict(seeds=0), "seeds"),
        (dict(seeds=[-1]), "seeds"),
        (dict(record=[0, 11]), "record"),
        (dict(record=[-1, 5]), "record"),
        (dict(space="theta"), "space"),
        (dict(space=lambda: plrf.engines.eigen(sampler="slow")), "sampler"),
        (dict(space=lambda: plrf.engines.fast()), "space"),
        (dict(threads=0), "threads"),
        (dict(checkpoint=lambda: plrf.checkpoint.Target("ck.plrf", every=0)), "every"),
        (dict(optimizer="sgd"), "optimizer"),
        (dict(optimizer=plrf.sgd([0.1] * 5)), "gamma2"),
        (dict(problem_or_spectrum=np.ones(3)), "problem_or_spectrum"),
    ],
)
def test_bad_inputs(problem, kwargs, name):
    args = dict(problem_or_spectrum=problem, optimizer=plrf.sgd(0.1), steps=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        args.update({k: v() for k, v in args.items() if k in ("space", "checkpoint") and callable(v)})
        plrf.simulate(**args)


def test_full_space_needs_features(problem):
    with pytest.raises(ValueError, match="space='full'"):
        plrf.simulate(problem.spectrum(), plrf.sgd(0.1), 10, space="full")


def test_resume_rejects_other_files(tmp_path):
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="checkpoint"):
        plrf.resume(path)


def test_full_space_with_user_features(problem):
    """A PLRF built from a user W runs the full path, bitwise like the seeded problem with that W."""
    user = plrf.PLRF.from_features(problem.W, problem.alpha, problem.beta)
    opt = plrf.sgd(0.1)
    a = plrf.simulate(user, opt, 200, batch=2, seeds=2, space="full")
    b = plrf.simulate(problem, opt, 200, batch=2, seeds=2, space="full")
    np.testing.assert_allclose(a.risk, b.risk, rtol=1e-9)  # spectra agree to rounding, samples exactly


@pytest.fixture(scope="module")
def wide_problem():
    """Wide enough (d = 200, v = 800) that the GEMM and the passes over W split across threads."""
    return plrf.PLRF(1.0, 0.5, 200, 800, seed=2)


def full_run(problem, path, monkeypatch, **kw):
    """A full-space run with the gradient evaluation forced ('features' or 'reassociated')."""
    monkeypatch.setenv("PLRF_FULL_PATH", path)
    opt = plrf.defaults(problem.spectrum(), kw.get("batch", 1))["dana_decaying"]
    return plrf.simulate(problem, opt, space="full", **kw)


def test_full_paths_follow_one_trajectory(wide_problem, monkeypatch):
    """Features (F = X W by GEMM) and reassociated (W^T X^T X (W theta - b)) evaluations use the same
    samples: one seed's curves agree to rounding, over steps that cross several feature blocks."""
    kw = dict(steps=600, batch=8, seeds=[7], record=np.arange(0, 601, 10))
    a = full_run(wide_problem, "features", monkeypatch, **kw)
    b = full_run(wide_problem, "reassociated", monkeypatch, **kw)
    assert not np.array_equal(a.risk, b.risk)  # two evaluations really ran
    assert a.risk[0, -1] < 0.5 * a.risk[0, 0]  # and learned something
    np.testing.assert_allclose(a.risk, b.risk, rtol=1e-9)


@pytest.mark.parametrize("path", ["features", "reassociated"])
def test_full_paths_bitwise_across_inner_threads(wide_problem, monkeypatch, path):
    """One seed on 3 threads hands them to its GEMM / passes over W: the same bits as 1 thread."""
    kw = dict(steps=300, batch=4, seeds=[5], record=np.arange(0, 301, 30))
    same(full_run(wide_problem, path, monkeypatch, threads=1, **kw),
         full_run(wide_problem, path, monkeypatch, threads=3, **kw))
