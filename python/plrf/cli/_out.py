"""The one --out convention of every subcommand: --out is the path of the file written, and its suffix
names the format (.png, .pdf, .svg, ... for the figures of demo and frontier; .json for bench); ''
writes nothing. Checked before any work, so a typo costs no run; a folder or a special file (device,
FIFO, socket) is refused, a regular file is replaced (as matplotlib and NumPy do)."""
from __future__ import annotations

from pathlib import Path

from .._paths import writable_file

FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".webp")
OUT_HELP = "path of the {what} to write; its suffix names the format ({suffixes}); '' for none (default {default})"


def out_path(out, suffixes=FIGURE_SUFFIXES, what="figure"):
    """--out as a Path (None for ''), or a ValueError naming --out when its suffix is not one of `suffixes`."""
    if out is None or out == "":
        return None
    path = Path(out)
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"--out is the path of the {what} to write and its suffix names the format "
                         f"({', '.join(suffixes)}); got {out!r}")
    writable_file("--out", path)  # never a folder or a special file; a regular file is replaced
    return path


def out_help(default, suffixes=FIGURE_SUFFIXES, what="figure") -> str:
    return OUT_HELP.format(what=what, suffixes=", ".join(suffixes[:3]) + (", ..." if len(suffixes) > 3 else ""),
                           default=default or "none")
