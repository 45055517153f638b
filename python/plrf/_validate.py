"""Argument checks shared by every public entry point. Each raises ValueError naming the argument.

Also the one owner of the problem rules shared by the public API and sweep configs (v = 4 d by
default, seeds, spectrum sources) and of the memory guard (MemoryError naming the argument and
the GiB, before anything is allocated, within ulimit -v and cgroup limits).
"""
from __future__ import annotations

import math
import os
import numbers
from pathlib import Path

try:
    import resource
except ImportError:  # not on Windows: no ulimit there
    resource = None

import numpy as np

INT64_MAX = 2**63 - 1  # the bindings take signed 64-bit integers: larger ones are refused here, by name
MAX_STEPS = 2**62  # the C++ core's kMaxSteps (plrf/runtime/record_grid.hpp): t + n never overflows


def finite(name: str, x) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(float(x)):
        raise ValueError(f"{name} must be a finite real number, got {x!r}")
    return float(x)


def positive(name: str, x) -> float:
    x = finite(name, x)
    if x <= 0:
        raise ValueError(f"{name} must be > 0, got {x!r}")
    return x


def integer(name: str, x, minimum: int | None = None, maximum: int = INT64_MAX) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {x!r:.80}")
    x = int(x)
    if minimum is not None and x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    if x > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {x}")
    return x


def choice(name: str, x, allowed) -> str:
    if x not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {x!r}")
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
    x, cap = integer("threads", x, 1), max_threads()
    if x > cap:
        raise ValueError(f"threads must be <= {cap} (4 x the {cap // 4} CPUs available to this process), got {x}")
    return x


def seed(name: str, x) -> int:
    return integer(name, x, 0, 2**64 - 1)


def length(name: str, x) -> int | None:
    """len(x) of a sequence (range, list, tuple, 1-D array), read without converting it (a range of 1e9
    is not materialised); None for a scalar; ValueError naming `name` for a string or an n-D array."""
    if isinstance(x, (str, bytes)) or (isinstance(x, np.ndarray) and x.ndim > 1):
        raise ValueError(f"{name} must be a 1-D sequence, got {x!r:.80}")
    if isinstance(x, np.ndarray) and x.ndim == 0 or not hasattr(x, "__len__"):
        return None
    return len(x)


SEEDS_RULE = "seeds must be an integer n (seeds 0..n-1) or a 1-D sequence of integer seeds"


def seed_count(x) -> int:
    """How many seeds `x` names (an int n means seeds 0..n-1), without materialising them."""
    if isinstance(x, (str, bytes)):
        raise ValueError(f"{SEEDS_RULE}, got {x!r:.80}")
    n = length("seeds", x)
    return integer("seeds", x, 1) if n is None else n


def seeds(x, bytes_per_seed: float = 0.0, what: str = "") -> np.ndarray:
    """The one seeds rule: n -> 0..n-1, or a non-empty sequence of distinct integers in [0, 2**64).

    The memory for len(seeds) x bytes_per_seed (the caller's per-seed state) is checked first."""
    n = seed_count(x)
    if n == 0:
        raise ValueError("seeds must be non-empty")
    memory(n * (32.0 + bytes_per_seed), f"seeds={n}{what}")  # 32: the seed array, a copy and its sort
    if length("seeds", x) is None:
        return np.arange(n, dtype=np.uint64)
    if isinstance(x, range) and x.step > 0 and x.start >= 0 and x[-1] <= INT64_MAX:  # distinct, at C speed
        return np.arange(x.start, x.stop, x.step, dtype=np.uint64)
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{SEEDS_RULE}, got {x!r:.80}")
    if arr.dtype.kind in "iu" and (arr.dtype.kind == "u" or arr.min() >= 0):  # checked at C speed
        vals = arr.astype(np.uint64)
    else:
        vals = np.array([seed("seeds", s) for s in x], dtype=np.uint64)
    if len(np.unique(vals)) != n:
        raise ValueError(f"seeds must be distinct (a repeated seed repeats its run), got {vals.tolist()!r:.120}")
    return vals


def compress_rtol(name: str, x) -> float | None:
    """The one rule for a compression request: None/False -> None (no compression), True -> the
    default 1e-4, else an rtol in (0, 0.1] (the nodes change the risk curve by about rtol)."""
    if x is None or x is False:
        return None
    if x is True:
        return 1e-4
    x = positive(name, x)
    if x > 0.1:
        raise ValueError(f"{name} must be in (0, 0.1], got {x}")
    return x


# ---- problems and spectrum sources: one rule for the public API and sweep configs ------------------
THEORY_METHODS = ("closed-form", "self-consistent")
SPECTRUM_SOURCES = ("sampled", "theory")


def default_v(d: int) -> int:
    """Data dimension when none is given: v = 4 d."""
    return 4 * d


def problem(alpha, beta, d, v=None, *, theory=False) -> tuple[float, float, int, int]:
    """(alpha, beta, d, v) checked; v defaults to 4 d. A sampled W needs v >= d; the
    deterministic equivalent (theory) needs v > d."""
    alpha, beta = positive("alpha", alpha), finite("beta", beta)
    d = integer("d", d, 1)
    v = default_v(d) if v is None else integer("v", v, 1)
    if theory and v <= d:
        raise ValueError(f"v must be > d for a theory spectrum (the deterministic equivalent), got v={v}, d={d}")
    if v < d:
        raise ValueError(f"v must be >= d, got v={v}, d={d}")
    # the data variances j^(-2 alpha) and squared targets j^(-2 beta), j <= v, must be float64
    # numbers (theory sums underflowing terms as zeros, and checks lambda_d at d itself)
    if not theory and 2.0 * alpha * math.log(max(v, 2)) > 700.0:
        raise ValueError(f"alpha={alpha} is too large at v={v}: the data variance v^(-2 alpha) underflows float64 "
                         "(need 2 alpha ln v <= 700)")
    if -2.0 * beta * math.log(max(v, 2)) > 700.0:
        raise ValueError(f"beta={beta} is too negative at v={v}: the squared target v^(-2 beta) overflows float64 "
                         "(need -2 beta ln v <= 700)")
    return alpha, beta, d, v


def spectrum_source(x) -> tuple[str, str | None]:
    """A sweep's spectrum source: "sampled", "theory" or "theory:<method>" -> (kind, method or None)."""
    kind, _, method = x.partition(":") if isinstance(x, str) else (None, "", "")
    if kind not in SPECTRUM_SOURCES or (method and kind != "theory"):
        raise ValueError(f"spectrum must be one of {SPECTRUM_SOURCES} or 'theory:<method>', got {x!r}")
    if method:
        choice("spectrum method", method, THEORY_METHODS)
    return kind, method or None


def float_array(name: str, x, ndim: int | tuple[int, ...], shape=None, *, copy=False) -> np.ndarray:
    """A float64 view/copy of x, after checking dtype kind, dimensions, shape and finiteness.

    copy=True: always a fresh array (memory-checked first), so that a later edit of the caller's
    array cannot change the object that validated it."""
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
    if copy:
        memory(8.0 * arr.size, f"{name} of shape {arr.shape} (plrf keeps its own copy)")
        arr = np.array(arr, dtype=np.float64, order="C")  # np.array copies by default
    else:
        arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values")
    return arr


def frozen(*arrays):
    """Mark arrays read-only (an object's validated state), passing None through."""
    for a in arrays:
        if a is not None:
            a.flags.writeable = False
    return arrays


def meta(name: str, x) -> dict:
    """The one rule for user metadata: a dict whose keys are strings and whose values are JSON
    (None, bools, ints, finite floats, strings, and lists or dicts of them; NumPy scalars and
    arrays become their Python values). Returned in its JSON form, so that it reads back equal
    from any file; else ValueError naming the key."""
    if x is None:
        return {}
    if not isinstance(x, dict):
        raise ValueError(f"{name} must be a dict, got {type(x).__name__}")
    return _json_value(name, x)


def _json_value(where: str, x):
    if isinstance(x, (np.generic, np.ndarray)) and x.dtype.kind in "biufU":
        x = x.tolist()
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"{where} must be finite (JSON has no NaN or inf), got {x!r}")
        return x
    if isinstance(x, (list, tuple)):
        return [_json_value(f"{where}[{i}]", v) for i, v in enumerate(x)]
    if isinstance(x, dict):
        bad = next((k for k in x if not isinstance(k, str)), None)
        if bad is not None:
            raise ValueError(f"{where} has the key {bad!r}; keys must be strings (JSON)")
        return {k: _json_value(f"{where}[{k!r}]", v) for k, v in x.items()}
    raise ValueError(f"{where} must be JSON (None, bool, int, finite float, str, list, dict), "
                     f"got {type(x).__name__}")


def real_array(name: str, x) -> np.ndarray:
    """A float64 array of x (NaN allowed: callers drop them), else ValueError naming it."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers, got {x!r:.80}") from None
    return arr


def interval(name: str, x, lo_bound: float = 0.0, hi_bound: float = math.inf, closed: bool = False):
    """(lo, hi) with lo_bound < lo < hi < hi_bound (<= at the bounds when closed), else ValueError naming it."""
    if isinstance(x, (str, bytes)) or np.ndim(x) != 1 or len(x) != 2:
        raise ValueError(f"{name} must be a pair (lo, hi), got {x!r:.80}")
    lo, hi = finite(f"{name}[0]", x[0]), finite(f"{name}[1]", x[1])
    inside = (lo_bound <= lo and hi <= hi_bound) if closed else (lo_bound < lo and hi < hi_bound)
    if not (inside and lo < hi):
        sign = "<=" if closed else "<"
        raise ValueError(f"{name} must be (lo, hi) with {lo_bound:g} {sign} lo < hi {sign} {hi_bound:g}, got {tuple(x)}")
    return lo, hi


# ---- memory ------------------------------------------------------------------------------------
def _read_int(path, key=None) -> int | None:
    """An integer from a /proc or /sys file (the value after `key`, or the whole content); None if absent."""
    try:
        with open(path) as fh:
            for line in fh:
                if key is None:
                    word = line.strip()
                    return None if word in ("", "max") else int(word)
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _physical() -> int:
    kib = _read_int("/proc/meminfo", "MemAvailable:")
    return kib * 1024 if kib is not None else os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _address_space() -> float:
    """Room left under `ulimit -v` (RLIMIT_AS minus what this process already maps)."""
    if resource is None:
        return math.inf
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return math.inf
    kib = _read_int("/proc/self/status", "VmSize:")
    return max(0, soft - (kib or 0) * 1024)


PROC_CGROUP = Path("/proc/self/cgroup")
CGROUP_V2, CGROUP_V1 = Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/memory")


def _cgroup() -> float:
    """Room left under the memory limits of this process's cgroup and its ancestors (v2 and v1)."""
    room = math.inf
    try:
        lines = PROC_CGROUP.read_text().splitlines()
    except OSError:
        return room
    for line in lines:
        _, controllers, rel = line.split(":", 2)
        if controllers == "":  # v2: memory.max - memory.current at every level up to the root
            base, files = CGROUP_V2, ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            base, files = CGROUP_V1, ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        folder = base / rel.lstrip("/")
        while True:
            limit, used = _read_int(folder / files[0]), _read_int(folder / files[1])
            if limit is not None and limit < 2**62:  # v1 reports "no limit" as a huge number
                room = min(room, max(0, limit - (used or 0)))
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
    return room


def available_memory() -> int:
    """Bytes this process may still allocate: the least of MemAvailable, the room under
    `ulimit -v` and the room under its cgroup's memory limit."""
    return int(min(_physical(), _address_space(), _cgroup()))


SMALL_BYTES = 32 * 2**20


def memory(nbytes: float, what: str, hint: str = "") -> None:
    """Refuse, before allocating, a job whose working set would not fit in memory.

    `what` names the argument(s) responsible, e.g. "seeds=1000000000 at d=100"."""
    if nbytes < SMALL_BYTES:  # not worth the /proc and cgroup reads (~1 ms) on every small call
        return
    avail = available_memory()
    if nbytes > 0.9 * avail:
        raise MemoryError(
            f"{what} needs about {nbytes / 2**30:.3g} GiB but only {avail / 2**30:.3g} GiB is available "
            f"(free memory, ulimit -v and cgroup limits){'; ' + hint if hint else ''}"
        )


# ---- files ---------------------------------------------------------------------------------------
def path(name: str, x) -> Path:
    if not isinstance(x, (str, os.PathLike)) or str(x) == "":
        raise ValueError(f"{name} must be a file or folder path (str or os.PathLike), got {x!r:.80}")
    return Path(x)


def writable_dir(name: str, folder) -> Path:
    """A folder that exists and in which a file can really be created (probed: catches read-only
    mounts and permissions alike), else ValueError naming the argument."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{name}: folder {str(folder)!r} does not exist (or is not a folder)")
    probe = folder / f".plrf-probe.{os.getpid()}.tmp"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"{name}: folder {str(folder)!r} is not writable ({exc.strerror})") from None
    return folder
