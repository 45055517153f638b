"""Nodes with a guarantee: the binning behind Spectrum.compress (docs/theory.md §10, docs/exact.md).

Every exact engine sees a spectrum through two measures on lambda: the initial error rho (the
signal, one curve per unit of rho) and the direction count m (the noise forcing, m lambda R2 / B).
A node is a one-point quadrature of both. Its lambda is the count-weighted mean of its bin, which
keeps the first moment of m exactly; rho's first moment is kept only when rho per direction is
flat enough across the bin. So a bin is split (halved in log-width, again and again) until its
rho-weighted and count-weighted mean eigenvalues agree to SHIFT x rtol relative; a bin of one
eigenvalue (or of equal eigenvalues) always passes. What is left is second order in the width for
both measures. Vectorised: O(n) per halving, and smooth spectra seldom halve.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import _validate as check

SHIFT = 0.25  # allowed relative gap between a node's rho-weighted and count-weighted mean lambda, / rtol
WARN_AT = 0.5  # warn when the a-posteriori estimate passes WARN_AT x rtol (it was 0.9-4x the error near rtol)
_LEVELS = 64  # halvings at most: 2**-64 of a bin is below float64 resolution, so every bin passes by then


def bin_width(rtol) -> float:
    """Log-width of the compression bins for a target relative accuracy rtol (h^2 / 4 = rtol)."""
    return 2.0 * np.sqrt(rtol)


def node_starts(lam, rho, mult, rtol, head) -> np.ndarray:
    """First entry of every node: log-lambda bins of width bin_width(rtol), the top `head` entries
    alone, each bin halved until rho and the counts place it at the same lambda (module docstring).
    Each pass looks only at the entries of the bins still misplaced."""
    u = np.log(lam[0] / lam) / bin_width(rtol)  # in bin widths, >= 0, ascending
    done = []
    idx = np.arange(lam.size)  # entries of the bins still to place, all at the current level
    for level in range(_LEVELS):
        key = np.floor(u[idx] * 2.0**level)
        if level == 0:
            key[:head] = -1.0 - np.arange(min(head, lam.size))[::-1]  # one bin each, below every other bin
        starts = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]) | (idx[1:] != idx[:-1] + 1)])
        bad = _misplaced(lam[idx], rho[idx], mult[idx], starts, rtol)
        done.append(idx[starts[~bad]])
        if not bad.any():
            break
        idx = idx[np.repeat(bad, np.diff(np.r_[starts, idx.size]))]
    else:
        done.append(idx[starts[bad]])  # below float64 resolution: as they are
    return np.sort(np.concatenate(done))


def _misplaced(lam, rho, mult, starts, rtol) -> np.ndarray:
    """Per bin: True where the rho-weighted mean lambda is off the count-weighted one by more than
    SHIFT x rtol (relative), so that a node at the latter would move rho to the wrong place."""
    m = np.add.reduceat(mult, starts)
    at_m = np.add.reduceat(mult * lam, starts) / m
    r = np.add.reduceat(rho, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        at_rho = np.add.reduceat(rho * lam, starts) / r
    gap = np.where(r > 0, np.abs(at_rho / at_m - 1.0), 0.0)
    return gap > SHIFT * rtol


# ---- the default rule of exact_risk (docs/exact.md "Nodes and compression") ----------------------------
AUTO_METHODS = ("fast", "ode")  # their cost grows with d at any horizon; "exact" is the reference
AUTO_ENTRIES = 10_000           # spectra with more entries than this are compressed by default
AUTO_SHARE = 0.1                # ... at this fraction of the method's own rtol
CHECK_FACTOR = 4.0              # the a-posteriori check reruns on bins twice as wide (4x the rtol)


def plan(compress, method, rtol, entries) -> tuple[float | None, str]:
    """The rtol exact_risk compresses at (None: it does not) and why, for meta["compressed"]."""
    if compress is None:
        if method not in AUTO_METHODS:
            return None, f"not compressed: method={method!r} runs the spectrum as given (pass compress=rtol)"
        if entries <= AUTO_ENTRIES:
            return None, f"not compressed: below the threshold ({entries} entries <= {AUTO_ENTRIES})"
        return AUTO_SHARE * rtol, "by default"
    rtol_c = check.compress_rtol("compress (the compression rtol)", compress)
    return (None, "not compressed: compress=False") if rtol_c is None else (rtol_c, "on request")


def apply(spec, compress, method, rtol):
    """(the spectrum to run, the rtol it was compressed at or None, what was done) for exact_risk. The
    default gives up where the nodes would not save at least half of the entries (rho too rough to
    merge): the run would cost as much, and its check as much again."""
    rtol_c, how = plan(compress, method, rtol, spec.n_nodes)
    if rtol_c is None:
        return spec, None, how
    nodes = spec.compress(rtol_c)
    if how == "by default" and nodes.n_nodes > spec.n_nodes // 2:
        return spec, None, (f"not compressed: rho too rough to merge ({nodes.n_nodes} nodes of {spec.n_nodes} "
                            f"entries at rtol {rtol_c:g})")
    return nodes, rtol_c, how


def check_rtol(rtol_c) -> float:
    """The rtol of the a-posteriori check: 4x coarser, or 4x finer where that would pass compress's limit 0.1."""
    return CHECK_FACTOR * rtol_c if CHECK_FACTOR * rtol_c <= 0.1 else rtol_c / CHECK_FACTOR


def check_spectrum(given, compressed, rtol_c):
    """The nodes of the check: the compressed spectrum merged further (O(nodes), not O(d)), or, for a
    finer check, the given spectrum compressed anew."""
    r = check_rtol(rtol_c)
    return (compressed if r > rtol_c else given).compress(r)


def estimate(risk, coarse_risk, rtol_c) -> float:
    """A-posteriori error of the nodes at rtol_c: both terms of the error scale like rtol (docs/theory.md
    §10), so the gap to the run at r = check_rtol(rtol_c) is |1 - r / rtol_c| times the error (Richardson)."""
    ok = np.isfinite(risk) & np.isfinite(coarse_risk) & (risk != 0)
    if not ok.any():
        return float("nan")
    gap = float(np.max(np.abs(coarse_risk[ok] / risk[ok] - 1.0)))
    return gap / abs(1.0 - check_rtol(rtol_c) / rtol_c)


def warn_if_above(info) -> None:
    """A RuntimeWarning when the a-posteriori estimate says the nodes may miss their rtol."""
    est = info["error_estimate"]
    if est > WARN_AT * info["rtol"]:
        warnings.warn(f"exact_risk: the compressed spectrum ({info['nodes']} nodes at rtol {info['rtol']:g}, "
                      f"{info['by']}) may move the curve by about {est:.2g} relative, near or above its rtol "
                      "(the risk sits in modes deep in their decay, docs/exact.md); pass a smaller compress= "
                      "or compress=False", RuntimeWarning, stacklevel=3)
