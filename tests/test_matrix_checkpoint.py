"""Checkpoints and bitwise resume of plrf.matrix.simulate (docs/muon.md, Monte Carlo)."""
from __future__ import annotations

import importlib
import os
import shutil
import signal

import numpy as np
import pytest

import plrf
from plrf import matrix as M
from plrf.checkpoint import CheckpointError, Target
from plrf.matrix import checkpoint as saved

msim = importlib.import_module("plrf.matrix.simulate")  # the module (plrf.matrix.simulate is also the function)

P = M.MatrixPLRF(1.0, 0.5, 8, 12, sigma=0.3)
RUN = {"steps": 40, "batch": 2, "seeds": 5, "chunk": 2}
OPTIMIZERS = {
    "muon": lambda: M.muon(0.05),  # momentum 0.95 with Nesterov: a buffer that must survive
    "signsvd": lambda: M.signsvd(0.05),
    "signsgd_momentum": lambda: M.signsgd(0.01, momentum=0.9),
    "dana": lambda: M.dana(plrf.dana_decaying(0.05, 0.01, 1.0, 1.0)),
}


def _same(a, b):
    return (np.array_equal(a.risk, b.risk, equal_nan=True) and np.array_equal(a.modes, b.modes, equal_nan=True)
            and np.array_equal(a.diverged_at, b.diverged_at))


def _stop_at(call):
    seen = [0]

    def progress(done):
        seen[0] += 1
        if seen[0] == call:
            raise KeyboardInterrupt
    return progress


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("call", [1, 7, 40, 41, 100])  # first step, mid-chunk, chunk ends, the last chunk
def test_interrupted_run_resumes_to_the_uninterrupted_bits(tmp_path, name, call):
    full = M.simulate(P, OPTIMIZERS[name](), progress=False, **RUN)
    path = tmp_path / "run.ckpt"
    cut = M.simulate(P, OPTIMIZERS[name](), progress=_stop_at(call), checkpoint=path, **RUN)
    assert cut.interrupted and not _same(cut, full)
    done = M.resume(path, progress=False)
    assert not done.interrupted and _same(done, full)
    assert _same(M.resume(path, progress=False), full)  # a finished checkpoint gives the same curves again


def test_interrupt_twice_then_resume(tmp_path):
    full = M.simulate(P, M.muon(0.05), progress=False, **RUN)
    path = tmp_path / "run.ckpt"
    M.simulate(P, M.muon(0.05), progress=_stop_at(13), checkpoint=path, **RUN)
    assert M.resume(path, progress=_stop_at(30)).interrupted
    assert _same(M.resume(path, progress=False), full)


def test_real_sigint_mid_step_is_held_to_the_step_end(tmp_path, monkeypatch):
    """A SIGINT that arrives inside a step (here during the data draw of step 5, before Theta and the
    momentum buffer move) waits for the step to finish, so the saved state is consistent."""
    full = M.simulate(P, M.muon(0.05), progress=False, **RUN)
    draw = msim._draw

    def draw_then_sigint(stream, seeds, step, n):
        if step == 5 and stream == msim.MATRIX_DATA and int(seeds[0]) == 0:
            os.kill(os.getpid(), signal.SIGINT)
        return draw(stream, seeds, step, n)

    monkeypatch.setattr(msim, "_draw", draw_then_sigint)
    path = tmp_path / "run.ckpt"
    assert M.simulate(P, M.muon(0.05), progress=False, checkpoint=path, **RUN).interrupted
    _, state = saved.load(path)
    assert (int(state["lo"]), int(state["t"])) == (0, 6)
    monkeypatch.undo()
    assert _same(M.resume(path, progress=False), full)


def test_periodic_saves_resume_bitwise(tmp_path, monkeypatch):
    monkeypatch.setattr(msim, "MIN_CHECKPOINT_EVERY", 0.0)  # save after every step
    path, copy = tmp_path / "run.ckpt", tmp_path / "mid.ckpt"
    seen = [0]

    def grab(done):
        seen[0] += 1
        if seen[0] == 25:  # the file now holds the save of an earlier step of the second chunk
            shutil.copy(path, copy)

    full = M.simulate(P, M.muon(0.05), progress=grab, checkpoint=Target(str(path), every=1e-9), **RUN)
    _, state = saved.load(copy)
    assert int(state["lo"]) < RUN["seeds"] and 0 < int(state["t"]) < RUN["steps"]  # a mid-run save
    assert _same(M.resume(copy, progress=False), full)


def _resave_without_momentum(path):
    job, state = saved.load(path)
    state["opt"] = {}
    saved.save(path, job, state)


def test_checkpoint_without_the_momentum_buffer_is_refused(tmp_path):
    """Planted twin: a state without Muon's momentum buffer would resume from M = 0, off the run."""
    path = tmp_path / "run.ckpt"
    M.simulate(P, M.muon(0.05), progress=_stop_at(7), checkpoint=path, **RUN)
    _resave_without_momentum(path)
    with pytest.raises(CheckpointError, match="state_opt.*muon keeps \\['M'\\]"):
        M.resume(path, progress=False)


def test_foreign_file_is_never_overwritten(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my notes")
    with pytest.raises(ValueError, match="checkpoint"):
        M.simulate(P, M.muon(0.05), progress=False, checkpoint=path, **RUN)
    with pytest.raises(ValueError, match="checkpoint"):
        M.simulate(P, M.muon(0.05), progress=False, checkpoint=Target(str(path), overwrite=True), **RUN)
    assert path.read_text() == "my notes"
    with pytest.raises(ValueError, match="notes.txt.* is not a plrf checkpoint"):
        M.resume(path)


def test_another_runs_checkpoint_needs_overwrite(tmp_path):
    path = tmp_path / "run.ckpt"
    M.simulate(P, M.muon(0.05), progress=_stop_at(7), checkpoint=path, **RUN)
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="another run's checkpoint \\(optimizer differs\\).*overwrite=True"):
        M.simulate(P, M.muon(0.06), progress=False, checkpoint=path, **RUN)
    with pytest.raises(CheckpointError, match="problem differs"):
        M.simulate(M.MatrixPLRF(1.0, 0.5, 8, 12, sigma=0.3, seed=1), M.muon(0.05), progress=False, checkpoint=path,
                   **RUN)
    assert path.read_bytes() == before
    M.simulate(P, M.muon(0.05), progress=False, checkpoint=path, **{**RUN, "chunk": 3})  # the same run (chunk
    # changes no bit): rerun in place
    other = M.simulate(P, M.muon(0.06), progress=False, checkpoint=Target(str(path), overwrite=True), **RUN)
    assert _same(M.resume(path, progress=False), other)


def test_plrf_and_matrix_checkpoints_are_told_apart(tmp_path):
    mat, flat = tmp_path / "m.ckpt", tmp_path / "p.ckpt"
    M.simulate(P, M.muon(0.05), progress=False, checkpoint=mat, **RUN)
    plrf.simulate(plrf.PLRF(1.0, 0.5, 8, v=16, seed=0), plrf.sgd(0.1), 20, seeds=2, progress=False, checkpoint=flat)
    with pytest.raises(CheckpointError, match="plrf.matrix.checkpoint"):
        plrf.resume(mat)
    with pytest.raises(CheckpointError, match="plrf.simulate.checkpoint.*plrf.resume"):
        M.resume(flat)
    with pytest.raises(CheckpointError, match="another run's checkpoint"):  # no silent cross-kind replace
        M.simulate(P, M.muon(0.05), progress=False, checkpoint=flat, **RUN)


def test_damaged_checkpoint_is_refused_by_name(tmp_path):
    path = tmp_path / "run.ckpt"
    M.simulate(P, M.signsvd(0.05), progress=False, checkpoint=path, **RUN)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(CheckpointError, match="run.ckpt"):
        M.resume(path)
