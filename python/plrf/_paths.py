"""Where plrf may write (and read): the one check every writer makes before it writes a file.

A special file (a device such as /dev/null, a FIFO, a socket, or a symlink to one) is never
written: replacing it would destroy it (as root) or hang (a FIFO). Nor is it read: a FIFO blocks
its reader forever, a device may never end. A folder is never a file path. A writer that replaces files only of its own kind (checkpoints, result records) passes
`ours`, a test of the existing file, and a regular file failing it is refused naming it: plrf
never overwrites a file it did not write.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from . import _validate as check

_SPECIAL = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
            (stat.S_ISSOCK, "a socket"))


def writable_file(name: str, path, ours=None, kind: str = "") -> Path:
    """The real path (symlinks resolved) that argument `name` may write, else ValueError naming both.

    ours : None (any regular file may be replaced, as NumPy and matplotlib do), or a predicate on
        an existing file's real path: a regular file failing it is refused as "not a <kind>"."""
    given = check.path(name, path)
    real = Path(os.path.realpath(given))
    shown = repr(str(given)) + ("" if str(real) == os.path.abspath(given) else f" (-> {str(real)!r})")
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return real
    except OSError as exc:
        raise ValueError(f"{name}: {shown} cannot be inspected ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise ValueError(f"{name}: {shown} is a folder; give a file path")
    _refuse_special(name, shown, mode, "writes to")
    if ours is not None and not ours(real):
        raise ValueError(f"{name}: {shown} exists and is not a {kind}; plrf does not overwrite files it did "
                         "not write: delete it or choose another path")
    return real


def regular_file(name: str, path) -> Path:
    """An existing file to read, refused naming it when it is a folder or a special file. A missing
    file passes (the reader reports it)."""
    given = check.path(name, path)
    try:
        mode = os.stat(given).st_mode
    except OSError:
        return given
    if stat.S_ISDIR(mode):
        raise ValueError(f"{name}: {str(given)!r} is a folder, not a file")
    _refuse_special(name, repr(str(given)), mode, "reads")
    return given


def _refuse_special(name, shown, mode, verb):
    for test, what in _SPECIAL:
        if test(mode):
            raise ValueError(f"{name}: {shown} is {what}, not a regular file; plrf never {verb} special files")


def figure_path(name: str, path) -> str:
    """The file matplotlib's savefig will write for `path` (it appends its default format's
    extension to a name without one), checked by writable_file."""
    import matplotlib

    given = os.fspath(check.path(name, path))
    if not os.path.splitext(given)[1]:
        given = f"{given.rstrip('.')}.{matplotlib.rcParams['savefig.format']}"
    writable_file(name, given)
    return given
