"""Argument checks shared by every public entry point. Each raises ValueError naming the argument."""
from __future__ import annotations

import math
import os
import numbers

import numpy as np


def finite(name: str, x) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(float(x)):
        raise ValueError(f"{name} must be a finite real number, got {x!r}")
    return float(x)


def positive(name: str, x) -> float:
    x = finite(name, x)
    if x <= 0:
        raise ValueError(f"{name} must be > 0, got {x!r}")
    return x


def integer(name: str, x, minimum: int | None = None) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {x!r}")
    x = int(x)
    if minimum is not None and x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    return x


def choice(name: str, x, allowed) -> str:
    if x not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {x!r}")
    return x


INT64_MAX = 2**63 - 1
MAX_STEPS = 2**62  # the C++ core's kMaxSteps (plrf/runtime/record_grid.hpp): t + n never overflows


def int64(name: str, x, minimum: int | None = None, maximum: int = INT64_MAX) -> int:
    """An integer the C++ core takes as int64 (at most `maximum`), refused by name beyond it."""
    x = integer(name, x, minimum)
    if x > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {x}")
    return x


def max_threads() -> int:
    """4 x the CPUs this process may run on: more threads cannot help, and thousands of them can
    exhaust the process's thread or address-space limit."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return 4 * max(1, cpus)


def threads(x) -> int:
    """Worker threads: None means all cores (0 for the C++ core), else an integer in [1, max_threads()]."""
    if x is None:
        return 0
    x, cap = int64("threads", x, 1), max_threads()
    if x > cap:
        raise ValueError(f"threads must be <= {cap} (4 x the {cap // 4} CPUs available to this process), got {x}")
    return x


def seed(name: str, x) -> int:
    x = integer(name, x, 0)
    if x >= 2**64:
        raise ValueError(f"{name} must be < 2**64, got {x}")
    return x


def float_array(name: str, x, ndim: int | tuple[int, ...], shape=None) -> np.ndarray:
    """A float64 view/copy of x, after checking dtype kind, dimensions, shape and finiteness."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise ValueError(f"{name} must be a real floating-point array, got dtype {arr.dtype}")
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in ndims:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndims))} dimension(s), got shape {arr.shape}")
    if shape is not None:
        for axis, want in enumerate(shape):
            if want is not None and arr.shape[axis] != want:
                raise ValueError(f"{name} has shape {arr.shape}; axis {axis} must have length {want}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values")
    return arr


def available_memory() -> int:
    """Bytes the OS says are available now (MemAvailable), or total physical memory as a fallback."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory(nbytes: float, what: str) -> None:
    """Refuse, before allocating, a job whose working set would not fit in memory."""
    avail = available_memory()
    if nbytes > 0.9 * avail:
        raise MemoryError(
            f"{what} needs about {nbytes / 2**30:.1f} GiB but only {avail / 2**30:.1f} GiB is available; "
            "use a smaller d, or a theory spectrum (plrf.Spectrum.theory) that needs no W"
        )
