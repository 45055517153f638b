"""Checkpoint and bitwise resume of the parameter-basis engine (simulate(..., space="param"), issue #23):
a run paused at every step, or stopped by Ctrl-C, continues with plrf.resume to the uninterrupted run's
bits; a checkpoint without the rule's buffers (the planted twin) does not."""
import shutil

import numpy as np
import pytest

import plrf
from plrf import param_checkpoint, simulation

STEPS = 40


@pytest.fixture(scope="module")
def problem():
    return plrf.PLRF(alpha=1.0, beta=0.5, d=24, v=48, seed=0)


def orthogonal_spectrum(d, seed=0):
    """A spectrum with random eigenvectors (no W to generate: a long run starts at once)."""
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((d, d)))[0]
    lam, rho = np.arange(1.0, d + 1) ** -1.5, np.arange(1.0, d + 1) ** -1.0
    return plrf.Spectrum(lam, rho, 1e-3, eigenvectors=U, theta_star=U @ np.sqrt(rho))


CHAINS = {
    "adam": lambda: plrf.adam(plrf.Schedule.array(np.linspace(0.02, 0.005, STEPS)), weight_decay=1e-3),
    "sgd": lambda: plrf.sgd(0.3),
    "preconditioned_sgd": lambda: plrf.preconditioned_sgd(0.2, np.linspace(0.5, 2.0, 24)),
}
KW = dict(batch=4, seeds=[3, 5, 8], record=np.arange(0, STEPS + 1, 4), space="param", progress=False, threads=2)


def chopped_run(problem, opt, path, monkeypatch, tamper=None):
    """The run paused (and saved) after every step; returns it and a copy of the checkpoint taken mid-run,
    rewritten by tamper(state) if given."""
    monkeypatch.setattr(simulation, "MIN_CHECKPOINT_EVERY", 0.0)  # pause as often as asked (floor: 1 s)
    mid = path.with_name("mid.ckpt")
    original = param_checkpoint.save

    def save(job, state):
        original(job, state)
        if not mid.exists() and state["step"].min() >= STEPS // 2:
            shutil.copy(path, mid)
            if tamper is not None:
                original(type(job)(**{**job.__dict__, "checkpoint": plrf.checkpoint.Target(str(mid))}),
                         tamper({k: v.copy() for k, v in state.items()}))

    monkeypatch.setattr(param_checkpoint, "save", save)
    paused = plrf.simulate(problem, opt, STEPS, checkpoint=plrf.checkpoint.Target(path, every=1e-9), **KW)
    _, state = plrf.checkpoint.load(mid)
    assert np.all(state["step"] == STEPS // 2)  # it paused mid-run
    return paused, mid


@pytest.mark.parametrize("name", list(CHAINS))
def test_param_checkpoint_resume_is_bitwise(problem, tmp_path, monkeypatch, name):
    """Pausing at every step to save, and resuming from the middle, change no bit of the risk."""
    ref = plrf.simulate(problem, CHAINS[name](), STEPS, **KW)
    paused, mid = chopped_run(problem, CHAINS[name](), tmp_path / "run.ckpt", monkeypatch)
    np.testing.assert_array_equal(paused.risk, ref.risk)
    resumed = plrf.resume(mid, progress=False)
    np.testing.assert_array_equal(resumed.risk, ref.risk)
    np.testing.assert_array_equal(resumed.diverged_at, ref.diverged_at)
    assert resumed.meta["chain"] == ref.meta["chain"] and resumed.meta["law"] == ref.meta["law"]
    assert not resumed.interrupted
    np.testing.assert_array_equal(plrf.resume(tmp_path / "run.ckpt", progress=False).risk, ref.risk)  # finished


def test_param_checkpoint_twin_without_the_buffers_is_another_run(problem, tmp_path, monkeypatch):
    """Planted twin: a checkpoint whose Adam moments m, v were not kept (zeroed) resumes to other numbers,
    so the bitwise test above can tell a checkpoint that drops the optimizer state."""
    ref = plrf.simulate(problem, CHAINS["adam"](), STEPS, **KW)
    _, mid = chopped_run(problem, CHAINS["adam"](), tmp_path / "run.ckpt", monkeypatch,
                         tamper=lambda s: {**s, "m": 0 * s["m"], "v": 0 * s["v"]})
    resumed = plrf.resume(mid, progress=False)
    assert not np.array_equal(resumed.risk[:, -1], ref.risk[:, -1])


def test_param_ctrl_c_then_resume_is_bitwise(tmp_path):
    """Ctrl-C (a progress callback raising KeyboardInterrupt at its first poll, 0.1 s in) stops the run at
    a whole step, the checkpoint holds that step, and resume reaches the uninterrupted run's bits."""
    spec = orthogonal_spectrum(64)
    kw = dict(batch=4, seeds=[7, 8], space="param", threads=1)  # 30,000 steps: seconds, far beyond the poll
    steps, path = 30_000, tmp_path / "interrupted.ckpt"

    def ctrl_c(done):
        raise KeyboardInterrupt

    part = plrf.simulate(spec, plrf.adam(3e-3), steps, checkpoint=path, progress=ctrl_c, **kw)
    assert part.interrupted and np.all(part.meta["steps_done"] < steps)
    assert np.isnan(part.risk[:, -1]).all() and np.isfinite(part.risk[:, 0]).all()
    _, state = plrf.checkpoint.load(path)
    np.testing.assert_array_equal(state["step"], part.meta["steps_done"])
    resumed = plrf.resume(path, progress=False)
    assert not resumed.interrupted
    np.testing.assert_array_equal(resumed.risk, plrf.simulate(spec, plrf.adam(3e-3), steps, progress=False, **kw).risk)


def test_param_checkpoint_refuses_a_python_rule(problem, tmp_path):
    rule = plrf.custom_rule(lambda g, s, t: (-0.01 * g, s))
    with pytest.raises(ValueError, match="checkpoint: a Python update rule"):
        plrf.simulate(problem, rule, STEPS, checkpoint=tmp_path / "x.ckpt", **KW)
    assert not (tmp_path / "x.ckpt").exists()


def test_param_checkpoint_of_another_run_is_not_replaced(problem, tmp_path):
    path = tmp_path / "run.ckpt"
    plrf.simulate(problem, plrf.adam(0.01), STEPS, checkpoint=path, **KW)
    plrf.simulate(problem, plrf.adam(0.01), STEPS, checkpoint=path, **KW)  # the same run: rewritten
    with pytest.raises(plrf.checkpoint.CheckpointError, match="another run's checkpoint"):
        plrf.simulate(problem, plrf.adam(0.02), STEPS, checkpoint=path, **KW)
    plrf.simulate(problem, plrf.adam(0.02), STEPS, checkpoint=plrf.checkpoint.Target(path, overwrite=True), **KW)


def test_param_checkpoint_with_a_bad_state_is_refused(problem, tmp_path):
    """A resealed file whose state does not fit its job is refused naming the field."""
    path = tmp_path / "run.ckpt"
    plrf.simulate(problem, plrf.adam(0.01), STEPS, checkpoint=path, **KW)
    fields, state = plrf.checkpoint.load(path)
    job = plrf.param_run.ParamJob(**{k: v for k, v in fields.items() if k != "checkpoint_every"},
                                       checkpoint=plrf.checkpoint.Target(str(path)))
    param_checkpoint.save(job, {**state, "m": state["m"][:, :-1].copy()})
    with pytest.raises(plrf.checkpoint.CheckpointError, match="field state_m has shape"):
        plrf.resume(path)
