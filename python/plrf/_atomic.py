"""Atomic file replacement, shared by the result store and simulation checkpoints: a reader sees
the old file or the new one, never a partial write."""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import uuid
from pathlib import Path


def atomic_write(path, data: bytes) -> None:
    """Write data to a unique temporary file beside `path`, fsync it, os.replace it, fsync the folder.

    A Ctrl-C that arrives during the write is held until the write is over (milliseconds), so the
    result is either stored whole or not at all, and no half-open file is left behind. A symlink
    is followed: the file it points to is replaced, the link is kept."""
    path = Path(os.path.realpath(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    with sigint_held():
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        _fsync_dir(path.parent)


@contextlib.contextmanager
def sigint_held():
    """Hold SIGINT for the duration of the block, then deliver it to the handler that was installed.

    Without this, a KeyboardInterrupt can land between open() and the `with` that closes the file.
    Only the main thread receives signals, and only a Python-level handler can be held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):
        yield
        return
    caught = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        previous(signal.SIGINT, caught[0])


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_orphans(path) -> int:
    """Delete the temporary files of interrupted writes of `path` whose writer process is gone
    (the pid is in the name; a live writer's file is left alone)."""
    path, n = Path(path), 0
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        parts = tmp.name[len(path.name) + 2:].split(".")
        if not parts[0].isdigit() or _alive(int(parts[0])):
            continue
        try:
            tmp.unlink()
            n += 1
        except OSError:
            pass
    return n


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process has no write in flight when it cleans up
    return pid_exists(pid)


def pid_exists(pid: int) -> bool:
    """Whether process pid exists on this host (one we may not signal exists too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
