"""plrf.load: reads what it is given, by what it is.

- a sweep result store (a folder, or a plrf.sweep Store): its tidy table (plrf.sweep.load);
- a spectrum file (.npz written by Spectrum.save): the Spectrum (Spectrum.load);
anything else is refused with an error naming the path and what is accepted.
"""
from __future__ import annotations

from pathlib import Path

ACCEPTS = "a sweep result store (a folder written by plrf.sweep.run) or a spectrum file (.npz, Spectrum.save)"


def load(path, seeds: str = "mean"):
    """A store folder -> pandas DataFrame (seeds: "mean" or "all", see plrf.sweep.load);
    a spectrum .npz file -> plrf.Spectrum. Anything else: ValueError naming the path."""
    from .spectrum import Spectrum
    from .sweep import store

    if isinstance(path, store.Store):
        return store.load(path, seeds)
    if not isinstance(path, (str, Path)):
        raise ValueError(f"plrf.load takes a path to {ACCEPTS}; got a {type(path).__name__}")
    p = Path(path)
    if p.is_dir():
        return store.load(p, seeds)
    if p.suffix == ".npz" and p.is_file():
        return Spectrum.load(p)
    what = "does not exist" if not p.exists() else "is neither"
    raise ValueError(f"plrf.load takes {ACCEPTS}; {str(p)!r} {what}")
