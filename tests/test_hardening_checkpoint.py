"""Issue #15: simulation checkpoints are inert (no pickle), versioned and checksummed; the path
is checked before the run; temp files of interrupted saves are cleaned up; resume stays bitwise."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import plrf
from plrf import _core, checkpoint, simulation
from plrf.checkpoint import CheckpointError


@pytest.fixture(scope="module")
def spec():
    return plrf.Spectrum.theory(1.0, 0.5, 40)


@pytest.fixture
def saved(spec, tmp_path):
    path = tmp_path / "run.ckpt"
    full = plrf.simulate(spec, plrf.sgd(0.2), 400, seeds=3, batch=2, checkpoint=path)
    return path, full


def test_checkpoint_resume_is_bitwise(spec, saved):
    path, full = saved
    again = plrf.resume(path)
    np.testing.assert_array_equal(again.risk, full.risk)
    job, state = checkpoint.load(path)
    assert job["optimizer"] == plrf.sgd(0.2) and job["batch"] == 2 and job["spectrum"].d == spec.d


def test_checkpoint_user_features_full_space_round_trip(tmp_path):
    prob = plrf.PLRF(1.0, 0.5, 12, seed=3)
    user = plrf.PLRF.from_features(prob.W, 1.0, 0.5)
    path = tmp_path / "user.ckpt"
    ref = plrf.simulate(user, plrf.sgd(0.1), 50, seeds=2, space="full", checkpoint=path)
    job, _ = checkpoint.load(path)
    np.testing.assert_array_equal(job["problem"].W, prob.W)
    np.testing.assert_array_equal(plrf.resume(path).risk, ref.risk)


class _Planted:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):  # unpickling this would create the marker file
        return (open, (self.marker, "w"))


def test_crafted_checkpoint_does_not_run_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    path.write_bytes(pickle.dumps({"format": "plrf.simulate/1", "job": _Planted(str(marker))}))
    with pytest.raises(CheckpointError, match="evil.ckpt"):
        plrf.resume(path)
    assert not marker.exists()


def test_checkpoint_bit_flip_is_detected(saved):
    path, _ = saved
    data = path.read_bytes()
    for pos in (10, len(data) // 3, len(data) // 2, len(data) - 50, len(data) - 1):
        flipped = bytearray(data)
        flipped[pos] ^= 0x10
        path.write_bytes(bytes(flipped))
        with pytest.raises(CheckpointError, match=r"run\.ckpt"):
            plrf.resume(path)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really a zip", b"\x00" * 100])
def test_truncated_or_foreign_checkpoint_names_the_file(saved, content, tmp_path):
    path, _ = saved
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(path.read_bytes()[:-7])
    foreign = tmp_path / "foreign.ckpt"
    foreign.write_bytes(content)
    for bad in (truncated, foreign):
        with pytest.raises(CheckpointError, match=bad.name):
            plrf.resume(bad)
    with pytest.raises(CheckpointError, match="missing.ckpt"):
        plrf.resume(tmp_path / "missing.ckpt")


def test_checkpoint_of_other_random_streams_is_refused(saved, monkeypatch):
    path, _ = saved
    monkeypatch.setattr(_core, "STREAMS_VERSION", checkpoint.streams_version() + 1, raising=False)
    with pytest.raises(CheckpointError, match=r"streams version"):
        plrf.resume(path)


def test_checkpoint_path_is_checked_before_the_run(spec, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(_core, "_simulate_advance", lambda *a: calls.append(a))
    with pytest.raises(ValueError, match="checkpoint.*does not exist"):
        plrf.simulate(spec, plrf.sgd(0.1), 10, checkpoint=tmp_path / "nodir" / "run.ckpt")
    with pytest.raises(ValueError, match="checkpoint.*folder"):
        plrf.simulate(spec, plrf.sgd(0.1), 10, checkpoint=tmp_path)
    if sys.platform.startswith("linux"):  # /proc exists but takes no new files, even for root
        with pytest.raises(ValueError, match="checkpoint.*not writable"):
            plrf.simulate(spec, plrf.sgd(0.1), 10, checkpoint="/proc/run.ckpt")
    assert not calls


def test_interrupted_save_temp_files_are_cleaned(spec, tmp_path):
    path = tmp_path / "run.ckpt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    orphan = tmp_path / f".run.ckpt.{dead}.0123abcd.tmp"
    live = tmp_path / f".run.ckpt.{os.getppid()}.0123abcd.tmp"  # a writer that is still running
    orphan.write_bytes(b"half a checkpoint")
    live.write_bytes(b"being written")
    plrf.simulate(spec, plrf.sgd(0.1), 20, checkpoint=path)
    assert not orphan.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, live.name])


def test_damaged_spectrum_file_names_the_file(spec, tmp_path):
    good = spec.save(tmp_path / "spec.npz")
    assert plrf.Spectrum.load(good) == spec
    for name, content in (("empty.npz", b""), ("cut.npz", good.read_bytes()[:100]), ("text.npz", b"hello")):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=name):
            plrf.Spectrum.load(tmp_path / name)


def test_hand_made_checkpoint_with_a_valid_checksum_is_still_checked(saved):
    """The sha256 proves integrity, not sanity: a re-sealed file with bad values is refused too."""
    from plrf._sealed import seal, unseal

    path, _ = saved
    header, arrays = unseal(checkpoint.MAGIC, path.read_bytes())
    for field, bad in (("steps", -5), ("threads", 2**70), ("space", "warp")):
        path.write_bytes(seal(checkpoint.MAGIC, {**header, field: bad}, arrays))
        with pytest.raises(CheckpointError, match=rf"run\.ckpt.*{field}"):
            plrf.resume(path)


def test_ctrl_c_during_a_write_is_held_until_the_file_is_whole(tmp_path, monkeypatch):
    """The CI failure this guards: a KeyboardInterrupt between open() and `with` leaked the file
    (ResourceWarning) and lost the result being stored. Ctrl-C now lands after the write; with the
    hold removed, the interrupt lands inside fsync and the file never appears (the test fails)."""
    import signal
    from plrf import _atomic
    real_fsync = os.fsync

    def fsync_with_ctrl_c(fd):
        os.kill(os.getpid(), signal.SIGINT)
        real_fsync(fd)
    monkeypatch.setattr(_atomic.os, "fsync", fsync_with_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            _atomic.atomic_write(tmp_path / "r.plrf", b"whole result")
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (tmp_path / "r.plrf").read_bytes() == b"whole result"
    assert [p.name for p in tmp_path.iterdir()] == ["r.plrf"]
