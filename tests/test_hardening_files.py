"""Issue #21 item 1 and 6: plrf never overwrites a file the user did not give it, never writes a
special file, and checks a checkpoint against itself after its checksum."""
import os
import socket
import stat
import tempfile

import numpy as np
import pytest

import plrf
from plrf import checkpoint
from plrf._sealed import seal, unseal
from plrf.checkpoint import CheckpointError
from plrf.cli import main
from plrf.sweep import store as S
from hardening_tools import run_capped

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="module")
def spec():
    return plrf.Spectrum.theory(1.0, 0.5, 30)


@pytest.fixture
def short_dir():
    """A folder with a short path (a unix socket's path must fit in 108 bytes)."""
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="plrf") as d:
        yield d


def special_files(folder, name="x.npz") -> dict:
    """One of each special file plrf must never write: a device (a /dev/null twin as root, where
    the old code replaced it; /dev/null itself otherwise), a FIFO, a socket, a symlink to a FIFO."""
    out = {}
    if IS_ROOT:
        out["device"] = os.path.join(folder, "dev-" + name)
        os.mknod(out["device"], stat.S_IFCHR | 0o666, os.makedev(1, 3))
    else:
        out["device"] = os.devnull
    out["fifo"] = os.path.join(folder, "fifo-" + name)
    os.mkfifo(out["fifo"])
    out["socket"] = os.path.join(folder, "sock-" + name)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(out["socket"])
    sock.close()
    out["symlink"] = os.path.join(folder, "link-" + name)
    os.symlink(out["fifo"], out["symlink"])
    return out


def assert_still_special(paths):
    for kind, path in paths.items():
        mode = os.stat(path).st_mode
        assert not stat.S_ISREG(mode), f"the {kind} at {path} was replaced by a regular file"


# ---- checkpoints ----------------------------------------------------------------------------------
def test_checkpoint_never_replaces_a_user_file(spec, tmp_path):
    mine = tmp_path / "mydata.csv"
    mine.write_text("x")
    with pytest.raises(ValueError, match=r"mydata\.csv.*not a plrf checkpoint"):
        plrf.simulate(spec, plrf.sgd(0.2), 20, checkpoint=mine)
    with pytest.raises(ValueError, match=r"mydata\.csv.*not a plrf checkpoint"):  # overwrite= is for checkpoints
        plrf.simulate(spec, plrf.sgd(0.2), 20, checkpoint=checkpoint.Target(str(mine), overwrite=True))
    assert mine.read_text() == "x"


@pytest.mark.parametrize("kind", ["device", "fifo", "socket", "symlink"])
def test_checkpoint_never_writes_a_special_file(spec, short_dir, kind):
    paths = special_files(short_dir, "run.ckpt")
    with pytest.raises(ValueError, match=r"checkpoint: .*(device|FIFO|socket).*special"):
        plrf.simulate(spec, plrf.sgd(0.2), 20, checkpoint=paths[kind])
    assert_still_special(paths)


def test_checkpoint_of_another_run_is_refused_offering_resume_or_overwrite(spec, tmp_path):
    path = tmp_path / "run.ckpt"
    first = plrf.simulate(spec, plrf.sgd(0.2), 20, seeds=2, checkpoint=path)
    with pytest.raises(CheckpointError, match=r"another run's checkpoint \(steps differs\).*plrf\.resume.*"
                                              r"overwrite=True"):
        plrf.simulate(spec, plrf.sgd(0.2), 10, seeds=2, checkpoint=path)
    np.testing.assert_array_equal(plrf.resume(path).risk, first.risk)  # still the first run's
    second = plrf.simulate(spec, plrf.sgd(0.2), 10, seeds=2, checkpoint=checkpoint.Target(str(path), overwrite=True))
    np.testing.assert_array_equal(plrf.resume(path).risk, second.risk)


def test_checkpoint_of_the_same_run_is_rewritten(spec, tmp_path):
    path = tmp_path / "run.ckpt"
    first = plrf.simulate(spec, plrf.sgd(0.2), 30, seeds=2, checkpoint=path)
    again = plrf.simulate(spec, plrf.sgd(0.2), 30, seeds=2, checkpoint=plrf.checkpoint.Target(path, every=1e3), threads=1)
    np.testing.assert_array_equal(again.risk, first.risk)
    with pytest.raises(CheckpointError, match=r"seeds differs"):
        plrf.simulate(spec, plrf.sgd(0.2), 30, seeds=[5, 6], checkpoint=path)
    full = tmp_path / "full.ckpt"  # the problem's threads= draw the same W: the same run
    plrf.simulate(plrf.PLRF(1.0, 0.5, 8, seed=3), plrf.sgd(0.1), 10, space="full", checkpoint=full)
    plrf.simulate(plrf.PLRF(1.0, 0.5, 8, seed=3, threads=1), plrf.sgd(0.1), 10, space="full", checkpoint=full)


def test_damaged_checkpoint_is_replaced_only_when_asked(spec, tmp_path):
    path = tmp_path / "run.ckpt"
    plrf.simulate(spec, plrf.sgd(0.2), 20, checkpoint=path)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(CheckpointError, match=r"damaged checkpoint.*overwrite=True"):
        plrf.simulate(spec, plrf.sgd(0.2), 20, checkpoint=path)
    plrf.simulate(spec, plrf.sgd(0.2), 20, checkpoint=checkpoint.Target(str(path), overwrite=True))
    checkpoint.load(path)


def test_checkpoint_through_a_symlink_replaces_its_target_and_keeps_the_link(spec, tmp_path):
    real, link = tmp_path / "real.ckpt", tmp_path / "link.ckpt"
    plrf.simulate(spec, plrf.sgd(0.2), 20, checkpoint=real)
    link.symlink_to(real)
    ref = plrf.simulate(spec, plrf.sgd(0.2), 20, checkpoint=link)
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["link.ckpt", "real.ckpt"]
    np.testing.assert_array_equal(plrf.resume(link).risk, ref.risk)


# ---- checkpoints checked against themselves (item 6) --------------------------------------------
def reseal(path, edit):
    """Open a checkpoint, let edit(header, arrays) change it, and seal it again: a valid sha256."""
    header, arrays = unseal(checkpoint.MAGIC, path.read_bytes())
    edit(header, arrays)
    path.write_bytes(seal(checkpoint.MAGIC, header, arrays))


@pytest.fixture
def saved_eigen(spec, tmp_path):
    path = tmp_path / "run.ckpt"
    plrf.simulate(spec, plrf.sgd(0.2), 20, seeds=2, checkpoint=path)
    return path


@pytest.mark.parametrize("value", [-5, 10**9])
def test_resealed_checkpoint_with_step_out_of_range_is_refused(saved_eigen, value):
    reseal(saved_eigen, lambda h, a: a["state_step"].__setitem__(0, value))
    with pytest.raises(CheckpointError, match=rf"run\.ckpt.*field state_step is {value} .*\[0, steps=20\]"):
        plrf.resume(saved_eigen)


def test_resealed_checkpoint_with_wrong_state_dtype_is_refused(saved_eigen):
    reseal(saved_eigen, lambda h, a: a.update(state_x=a["state_x"].astype(np.float32)))
    with pytest.raises(CheckpointError, match=r"run\.ckpt.*field state_x has dtype float32"):
        plrf.resume(saved_eigen)


def test_resealed_checkpoint_with_unsorted_spectrum_is_refused(saved_eigen):
    reseal(saved_eigen, lambda h, a: a.update(spec_eigenvalues=a["spec_eigenvalues"][::-1].copy(),
                                              spec_rho=a["spec_rho"][::-1].copy()))
    with pytest.raises(CheckpointError, match=r"run\.ckpt.*field spec_eigenvalues is not in descending order"):
        plrf.resume(saved_eigen)


@pytest.fixture
def saved_full(tmp_path):
    prob = plrf.PLRF(1.0, 0.5, 10, seed=3)
    user = plrf.PLRF.from_features(prob.W, 1.0, 0.5)
    path = tmp_path / "user.ckpt"
    plrf.simulate(user, plrf.sgd(0.1), 20, seeds=2, space="full", checkpoint=path)
    return path


def test_resealed_checkpoint_with_wrong_W_shape_is_refused(saved_full):
    # a (40, 10) W stored as (20, 20) has the same bytes: it must not be reinterpreted
    reseal(saved_full, lambda h, a: a.update(problem_W=a["problem_W"].reshape(20, 20)))
    with pytest.raises(CheckpointError, match=r"user\.ckpt.*problem_W has shape \(20, 20\), expected \(v, d\) = "
                                              r"\(40, 10\)"):
        plrf.resume(saved_full)


def test_resealed_checkpoint_with_problem_d_not_the_spectrum_d_is_refused(tmp_path):
    path = tmp_path / "seeded.ckpt"
    plrf.simulate(plrf.PLRF(1.0, 0.5, 10, seed=3), plrf.sgd(0.1), 20, space="full", checkpoint=path)

    def edit(h, a):
        h["problem"].update(d=12, v=48)

    reseal(path, edit)
    with pytest.raises(CheckpointError, match=r"seeded\.ckpt.*field problem\.d is 12, but the spectrum has d=10"):
        plrf.resume(path)


# ---- the result store ---------------------------------------------------------------------------------
def test_store_record_never_replaces_a_foreign_file(tmp_path):
    st = S.Store(tmp_path)
    data = S.encode("k", {}, plrf.Curve(np.array([0, 1]), np.array([1.0, 0.5])))
    (tmp_path / "k.plrf").write_text("my notes")
    with pytest.raises(ValueError, match=r"store: .*k\.plrf.*not a plrf result record"):
        st.write("k", data)
    assert (tmp_path / "k.plrf").read_text() == "my notes"


@pytest.mark.parametrize("kind", [pytest.param("device", marks=pytest.mark.skipif(not IS_ROOT, reason="a device node "
                                                                                   "needs root")),
                                  "fifo", "socket", "symlink"])
def test_store_record_never_writes_a_special_file(short_dir, kind):
    paths = special_files(short_dir, "k.plrf")
    os.rename(paths[kind], os.path.join(short_dir, "k.plrf"))
    paths[kind] = os.path.join(short_dir, "k.plrf")
    data = S.encode("k", {}, plrf.Curve(np.array([0, 1]), np.array([1.0, 0.5])))
    with pytest.raises(ValueError, match=r"store: .*k\.plrf.*special"):
        S.Store(short_dir).write("k", data)
    assert not stat.S_ISREG(os.lstat(paths[kind]).st_mode)


def test_store_root_that_is_a_file_is_refused(tmp_path):
    mine = tmp_path / "results.csv"
    mine.write_text("x")
    with pytest.raises(ValueError, match=r"store: .*results\.csv.*not a folder"):
        S.Store(mine)


# ---- Spectrum.save, figures and the CLI's --out ----------------------------------------------------
@pytest.mark.parametrize("kind", ["device", "socket", "symlink"])
def test_spectrum_save_never_writes_a_special_file(spec, short_dir, kind):
    paths = special_files(short_dir)
    reader = os.open(paths["fifo"], os.O_RDONLY | os.O_NONBLOCK)  # the old code would block on the FIFO
    try:
        with pytest.raises(ValueError, match=r"path: .*(device|FIFO|socket).*special"):
            spec.save(paths[kind])
    finally:
        os.close(reader)
    assert_still_special(paths)


def test_spectrum_save_replaces_its_own_file(spec, tmp_path):
    path = tmp_path / "s.npz"
    plrf.Spectrum.theory(1.0, 0.5, 10).save(path)
    assert spec.save(path) == path and plrf.Spectrum.load(path) == spec
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        spec.save(tmp_path / "dir.npz")


@pytest.mark.parametrize("kind", ["device", "socket"])
def test_figure_never_writes_a_special_file(short_dir, kind):
    pytest.importorskip("matplotlib")
    paths = special_files(short_dir, "fig.png")
    curve = plrf.Curve(np.array([0, 1, 10]), np.array([1.0, 0.5, 0.2]))
    with pytest.raises(ValueError, match=r"path: .*(device|socket).*special"):
        plrf.plot.curves(curve, path=paths[kind])
    assert_still_special(paths)


class WorkStarted(Exception):
    """Raised by a stub: the command began its work before checking --out."""


def _boom(*args, **kwargs):
    raise WorkStarted


def test_cli_out_never_names_a_special_file(short_dir, monkeypatch, capsys):
    fifo, fifo_json = os.path.join(short_dir, "out.png"), os.path.join(short_dir, "out.json")
    os.mkfifo(fifo)
    os.mkfifo(fifo_json)
    monkeypatch.setattr(plrf.problem, "PLRF", _boom)
    assert main(["demo", "--out", fifo]) == 2
    monkeypatch.setattr(plrf.cli.bench, "run", _boom)
    assert main(["bench", "--out", fifo_json]) == 2
    from plrf.cli import frontier as cli_frontier

    monkeypatch.setattr(cli_frontier.run, "__defaults__", (_boom,))
    assert main(["frontier", "--alpha", "1", "--beta", "0.3", "--out", fifo]) == 2
    err = capsys.readouterr().err
    assert err.count("--out:") == 3 and "FIFO" in err


def test_readers_never_open_a_fifo(short_dir):
    """A FIFO blocks its reader forever: resume and Spectrum.load refuse it, the store skips it
    (in a child with a time limit: the old code hung here)."""
    fifo = os.path.join(short_dir, "k.plrf")
    os.mkfifo(fifo)
    rc, out, err, _ = run_capped(
        "import plrf\nfrom plrf.sweep.store import Store\n"
        f"for read in (plrf.resume, plrf.Spectrum.load):\n"
        f"    try:\n        read({fifo!r})\n    except ValueError as exc:\n        print('REFUSED', exc)\n"
        f"print('STORE', Store({short_dir!r}).read('k'))\n", timeout=30.0)
    assert rc == 0, err[-2000:]
    refused = [line for line in out.splitlines() if line.startswith("REFUSED")]
    assert len(refused) == 2 and all("k.plrf" in r and "FIFO" in r for r in refused), out
    assert "STORE None" in out


def test_figure_without_extension_checks_the_file_matplotlib_writes(short_dir):
    pytest.importorskip("matplotlib")
    sock = socket.socket(socket.AF_UNIX)  # savefig("fig") writes fig.png: here a socket (a FIFO would hang)
    sock.bind(os.path.join(short_dir, "fig.png"))
    sock.close()
    curve = plrf.Curve(np.array([0, 1, 10]), np.array([1.0, 0.5, 0.2]))
    with pytest.raises(ValueError, match=r"fig\.png.*socket"):
        plrf.plot.curves(curve, path=os.path.join(short_dir, "fig"))
