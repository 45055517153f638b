"""Spectral data: the eigenvalues of K, the initial error weights rho, and P_inf (docs/theory.md §1).

Every engine consumes a Spectrum. It can come from a sampled problem (PLRF.spectrum), from
theory with no W (Spectrum.theory, the deterministic equivalent of docs/theory.md §6), or straight from the
user for any Gaussian least-squares problem.

An entry may be a node (docs/theory.md §10): one eigenvalue shared by `multiplicity` eigen-directions, whose
rho is the sum over those directions. The exact engines treat a node exactly (its moments are the
sums of its modes'; only the noise forcing sees the multiplicity); `d` counts directions.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from . import _compress, _core
from . import _validate as check
from ._paths import regular_file, writable_file
from ._progress import Progress

_ARRAYS = ("eigenvalues", "rho", "multiplicity", "eigenvectors", "theta_star")


class Spectrum:
    """Spectral data (lambda, rho, P_inf), eigenvalues in descending order.

    Parameters
    ----------
    eigenvalues : (n,) positive eigenvalues of K = W^T D W (sorted descending if they are not).
    rho : (n,) squared initial error on each eigenvector, rho_j = (U^T (theta_0 - theta*))_j^2,
        summed over the directions of a node.
    p_inf : the limit loss P(theta*) >= 0.
    multiplicity : optional (n,) whole numbers >= 1, the eigen-directions each entry stands for
        (default all 1). Then d = sum(multiplicity) and n = n_nodes.
    eigenvectors : optional (d, d) matrix U whose columns match `eigenvalues` (multiplicity 1 only).
    theta_star : optional (d,) optimum, so that theta = theta_star + U e for an eigenbasis error e.
    meta : optional JSON-able dict of parameters (alpha, beta, d, v, seed, source, ...).
    """

    def __init__(self, eigenvalues, rho, p_inf, *, multiplicity=None, eigenvectors=None, theta_star=None, meta=None):
        # every array is plrf's own read-only copy: a later edit of the caller's array cannot change it
        lam = check.float_array("eigenvalues", eigenvalues, 1, copy=True)
        d = lam.shape[0]
        if d < 1:
            raise ValueError("eigenvalues must be non-empty")
        if np.any(lam <= 0):
            raise ValueError("eigenvalues must be > 0 (K is positive definite)")
        rho = check.float_array("rho", rho, 1, shape=(d,), copy=True)
        if np.any(rho < 0):
            raise ValueError("rho must be >= 0 (it is a squared projection)")
        p_inf = check.finite("p_inf", p_inf)
        if p_inf < 0:
            raise ValueError(f"p_inf must be >= 0, got {p_inf}")
        mult = _multiplicity(multiplicity, d)
        if (eigenvectors is not None or theta_star is not None) and np.any(mult != 1):
            raise ValueError("multiplicity must be all 1 for a spectrum with eigenvectors/theta_star")
        U = None if eigenvectors is None else check.float_array("eigenvectors", eigenvectors, 2, shape=(d, d), copy=True)
        ts = None if theta_star is None else check.float_array("theta_star", theta_star, 1, shape=(d,), copy=True)
        if np.any(lam[1:] > lam[:-1]):
            order = np.argsort(-lam, kind="stable")
            lam, rho, mult = lam[order], rho[order], mult[order]
            U = None if U is None else U[:, order]
        self.eigenvalues, self.rho, self.multiplicity, self.eigenvectors, self.theta_star = check.frozen(
            lam, rho, mult, U, ts)
        self.p_inf = p_inf
        self.meta = check.meta("meta", meta)  # JSON: it must survive .npz round trips
        with np.errstate(over="ignore", invalid="ignore"):
            sums = (("risk0", self.risk0), ("trace", self.trace))
        for field, value in sums:
            if not np.isfinite(value):  # each entry finite, yet the sums overflow float64
                raise ValueError(f"the spectrum's {field} overflows float64 ({value}): eigenvalues or rho too large")

    # ---- derived quantities -------------------------------------------------------------
    @property
    def d(self) -> int:
        """The model dimension: the number of eigen-directions, sum(multiplicity)."""
        return int(self.multiplicity.sum())

    @property
    def n_nodes(self) -> int:
        """The number of entries (nodes); equals d when every multiplicity is 1."""
        return int(self.eigenvalues.shape[0])

    @property
    def has_nodes(self) -> bool:
        """True when some entry stands for more than one eigen-direction."""
        return bool(np.any(self.multiplicity != 1))

    def multiplicity_or_none(self) -> np.ndarray | None:
        """The multiplicities as float64 for the C++ engines, or None when they are all 1."""
        return self.multiplicity.astype(np.float64) if self.has_nodes else None

    @property
    def trace(self) -> float:
        """tr K = sum of multiplicity x eigenvalue."""
        return float(self.multiplicity.astype(np.float64) @ self.eigenvalues)

    @property
    def risk0(self) -> float:
        """Initial risk P(theta_0) = P_inf + 1/2 sum lambda_j rho_j."""
        return self.risk_of_error2(self.rho)

    def risk_of_error2(self, err2) -> np.ndarray | float:
        """Risk for squared eigenbasis errors err2 (shape (..., n), summed per node): P_inf + 1/2 sum lambda err2."""
        return self.p_inf + 0.5 * np.asarray(err2) @ self.eigenvalues

    def risk_of_error(self, err) -> np.ndarray | float:
        """Risk of eigenbasis errors e = U^T (theta - theta*) (shape (..., d))."""
        err = np.asarray(err, dtype=np.float64)
        return self.risk_of_error2(err * err)

    def theta_of_error(self, err) -> np.ndarray:
        """Map eigenbasis errors e (shape (..., d)) back to theta = theta* + U e."""
        if self.eigenvectors is None or self.theta_star is None:
            raise ValueError("this spectrum has no eigenvectors/theta_star (theory or user spectrum)")
        return self.theta_star + np.asarray(err) @ self.eigenvectors.T

    # ---- construction from theory (no W) -----------------------------------------------
    @classmethod
    def theory(cls, alpha, beta, d, v=None, method="closed-form", **kwargs) -> "Spectrum":
        """Spectral data from the deterministic equivalent (docs/theory.md §6), with no W (see theory_spectrum)."""
        return theory_spectrum(alpha, beta, d, v=v, method=method, **kwargs)

    # ---- nodes ------------------------------------------------------------------------------
    def expand(self) -> "Spectrum":
        """The same spectrum with every node split into its directions (multiplicity 1 each, equal rho).

        For engines that need one entry per direction (simulate). Refused before allocating when
        d entries would not fit in memory.
        """
        if not self.has_nodes:
            return self
        check.memory(48.0 * self.d, f"Spectrum.expand() to d={self.d} entries")
        m = self.multiplicity
        return Spectrum(np.repeat(self.eigenvalues, m), np.repeat(self.rho / m, m), self.p_inf,
                        meta={**self.meta, "expanded_from_nodes": self.n_nodes})

    def compress(self, rtol=1e-4, head=64) -> "Spectrum":
        """Nodes for the exact engines: the top `head` entries kept, the rest merged in log-lambda bins.

        Entries whose eigenvalues lie in one bin of log-width h = 2 sqrt(rtol) become one node: the
        multiplicities and rho add, and lambda is the multiplicity-weighted mean, so d, tr K and sum rho
        are kept exactly. A bin whose rho-weighted mean lambda is off that node by more than rtol / 4
        (rho per direction not flat across it) is halved until it is not, so rho is never moved to
        another eigenvalue (plrf._compress). The risk curve of every exact engine then moves by less
        than rtol, except where the risk sits in modes deep in their decay (docs/theory.md §10; measured
        over adversarial spectra in docs/exact.md); exact_risk(compress=rtol) checks that a posteriori.
        Deterministic; meta["compressed"] says how many nodes it made. A bin of one entry is kept as
        it is, so the head of a power-law spectrum stays exact by itself.
        """
        rtol = check.compress_rtol("rtol", rtol)
        if rtol is None:
            raise ValueError("rtol must be in (0, 0.1], got None or False")
        head = check.integer("head", head, 0)
        lam, mult = self.eigenvalues, self.multiplicity.astype(np.float64)
        starts = _compress.node_starts(lam, self.rho, mult, rtol, head)
        m = np.add.reduceat(mult, starts)
        node_lam = np.add.reduceat(mult * lam, starts) / m
        info = dict(rtol=rtol, head=head, nodes=int(starts.size), entries=self.n_nodes)
        return Spectrum(node_lam, np.add.reduceat(self.rho, starts), self.p_inf,
                        multiplicity=m.astype(np.int64), meta={**self.meta, "compressed": info})

    # ---- persistence ----------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write to a .npz file (".npz" is appended to a path without it, as NumPy does), with
        `meta` stored as JSON. An existing regular file at that path is replaced, as np.savez
        does; a folder or a special file (device, FIFO, socket) is refused naming it."""
        path = check.path("path", path)
        if not str(path).endswith(".npz"):
            path = path.with_name(path.name + ".npz")
        writable_file("path", path)
        arrays = {k: getattr(self, k) for k in _ARRAYS if getattr(self, k) is not None}
        np.savez(path, p_inf=np.float64(self.p_inf), meta=np.array(json.dumps(self.meta)), **arrays)
        return path

    @classmethod
    def load(cls, path) -> "Spectrum":
        """Read a file written by save() (no pickle); a damaged or foreign file is refused naming it."""
        path = regular_file("path", path)  # never a FIFO or device: the read would block or never end
        try:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:  # our handle: closed even when
                opt = {k: f[k] for k in ("multiplicity", "eigenvectors", "theta_star")  # the zip is damaged
                       if k in f.files}
                arrays = f["eigenvalues"], f["rho"], float(f["p_inf"])
                meta = json.loads(str(f["meta"]))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"path {str(path)!r} is not a readable plrf Spectrum file: {exc}") from None
        return cls(*arrays, meta=meta, **opt)

    def __eq__(self, other):
        if not isinstance(other, Spectrum):
            return NotImplemented
        same = lambda a, b: (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
        return self.p_inf == other.p_inf and self.meta == other.meta and all(
            same(getattr(self, k), getattr(other, k)) for k in _ARRAYS
        )

    def __repr__(self):
        src = ", ".join(f"{k}={v}" for k, v in self.meta.items() if k in ("source", "alpha", "beta", "v"))
        nodes = f", nodes={self.n_nodes}" if self.has_nodes else ""
        return (
            f"Spectrum(d={self.d}{nodes}, lambda=[{self.eigenvalues[0]:.4g} .. {self.eigenvalues[-1]:.4g}], "
            f"risk0={self.risk0:.6g}, p_inf={self.p_inf:.6g}{', ' + src if src else ''})"
        )


def as_spectrum(source, name: str = "spectrum") -> Spectrum:
    """The one way spectral inputs are resolved: a Spectrum as it is, or the .spectrum() of a
    problem (e.g. PLRF); anything else is refused naming the argument `name`."""
    if isinstance(source, Spectrum):
        return source
    if callable(getattr(source, "spectrum", None)):
        return source.spectrum()
    raise ValueError(f"{name} must be a plrf.Spectrum or a problem with .spectrum() (e.g. plrf.PLRF), "
                     f"got {type(source).__name__}")



compress_bin_width = _compress.bin_width


def _multiplicity(x, n) -> np.ndarray:
    """Multiplicities as int64: whole numbers >= 1, one per eigenvalue (default all 1)."""
    if x is None:
        return np.ones(n, dtype=np.int64)
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu" or arr.dtype == np.bool_:
        raise ValueError(f"multiplicity must be an array of whole numbers, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"multiplicity has shape {arr.shape}; it must have one entry per eigenvalue, ({n},)")
    f = arr.astype(np.float64)
    if not np.all(np.isfinite(f)):
        raise ValueError("multiplicity must be finite (no NaN or inf)")
    if np.any(f < 1):
        raise ValueError(f"multiplicity must be >= 1 (a count of directions), got {f.min()}")
    if np.any(f != np.floor(f)) or np.any(f > 2.0**53):
        raise ValueError("multiplicity must hold whole numbers (below 2**53)")
    if f.sum() > 2.0**53:  # d = the sum: as int64 it would wrap past 2**63 to a negative d
        raise ValueError(f"multiplicity must sum to at most 2**53 (d, a float64 count), got {f.sum():.4g}")
    return arr.astype(np.int64)


# ---- the deterministic equivalent (docs/theory.md §6) ------------------------------------------------
# Spectral data from the deterministic equivalent: no W, and at any d when compressed.
#
# closed-form      the authors' surrogate: lambda_j = j^{-2 alpha}, rho_j = j^{-2 beta} + c_beta / d.
#                  Compressed, the nodes are the bins of Spectrum.compress built directly: sums of
#                  j^{-s} over each bin in closed form (Euler-Maclaurin), O(nodes) time and memory.
# self-consistent  solve the resolvent equation for m(z) on a log grid just above the real axis
#                  (C++, sums over j compressed, no v x grid arrays), read off the eigenvalue density
#                  nu and the rho density w (through a kernel with O(eta^3) tails, so that spikes keep
#                  their mass), and place eigenvalues at the quantiles N(lambda_k) = k - 1/2 of the
#                  counting function; rho_k is the w-mass of the k-th bin. Compressed, the top `head`
#                  eigenvalues are placed so and the rest merged into log-lambda nodes of whole counts
#                  (lambda: the count-weighted mean x over the node, rho: its w-mass).
# Both take P_inf from the z -> 0 limit of the same equation (the kappa fixed point).
THEORY_METHODS = check.THEORY_METHODS
AUTO_COMPRESS_D = 10**5  # Spectrum.theory compresses above this d unless told otherwise (so d = 1e6 is nodes)
_HEAD = 64               # entries kept individual by every compression
_GRID_BYTES = 160.0      # per point of the self-consistent grid (x, nu, w, their sums): ~80 measured, x2 margin


def theory_spectrum(alpha, beta, d, v=None, method="closed-form", *, compress=None, eta=0.01, j_exact=2000,
                    progress=None):
    """Spectrum (eigenvalues, rho, P_inf) of PLRF(alpha, beta, d, v) from theory, without sampling W.

    compress : None (default: one entry per direction for d <= 1e5, nodes at rtol 1e-4 above, so
        that any d up to 1e12 costs O(log d)), False (one entry per direction, memory-checked), True
        (nodes at rtol 1e-4) or an rtol in (0, 0.1]. meta["compressed"] says what was done.
    eta : relative distance above the real axis, z = x (1 + i eta) (self-consistent only); the
        eigenvalue density is resolved on that relative scale.
    j_exact : data directions summed exactly; beyond, sums use bins of relative width eta / 5.
    """
    alpha, beta, d, v = check.problem(alpha, beta, d, v, theory=True)
    if d >= 2**53 or v >= 2**53:
        raise ValueError(f"d and v must be < 2**53 (float64 counts), got d={d}, v={v}")
    if 2.0 * alpha * np.log(max(d, 2)) > 700.0:  # lambda_d ~ d^(-2 alpha) would underflow float64
        raise ValueError(f"alpha={alpha} is too large at d={d}: the smallest eigenvalue d^(-2 alpha) underflows "
                         "float64 (need 2 alpha ln d <= 700)")
    check.choice("method", method, THEORY_METHODS)
    rtol = _theory_rtol(compress, d)
    eta = check.positive("eta", eta)
    if eta > 0.2:
        raise ValueError(f"eta must be <= 0.2, got {eta}")
    j_exact = check.integer("j_exact", j_exact, 1)
    if rtol is None:
        check.memory(48.0 * d, f"Spectrum.theory at d={d} without compression (pass compress=True)")
    kappa, p_inf = _core.theory_p_inf(alpha, beta, d, v)
    meta = dict(alpha=alpha, beta=beta, d=d, v=v, source=f"theory-{method}", kappa=kappa)
    if method == "closed-form":
        lam, rho, mult = _closed_form(alpha, beta, d, rtol)
    else:
        lam, rho, mult, mass = _self_consistent(alpha, beta, d, v, p_inf, eta, j_exact, progress, rtol)
        meta.update(eta=eta, density_mass=mass)
    if rtol is not None:
        meta["compressed"] = dict(rtol=rtol, head=_HEAD, nodes=int(lam.size), entries=d)
    return Spectrum(lam, rho, p_inf, multiplicity=mult, meta=meta)


def _theory_rtol(compress, d):
    if compress is None:
        return 1e-4 if d > AUTO_COMPRESS_D else None
    return check.compress_rtol("compress (the compression rtol)", compress)


def power_sum(s, a, b):
    """sum_{j=a}^{b} j^{-s} for integers 1 <= a <= b (arrays allowed), in O(1) per pair.

    Terms below 64 are added exactly; beyond, Euler-Maclaurin with two correction terms, whose
    remainder is below 1e-15 relative there.
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    head = np.arange(1, 64, dtype=np.float64)
    in_head = (head >= a[..., None]) & (head <= b[..., None])
    out = np.sum(np.where(in_head, head ** -s, 0.0), axis=-1)
    lo = np.maximum(a, 64.0)
    tail = b >= lo
    lo, hi = np.where(tail, lo, 64.0), np.where(tail, b, 64.0)
    if s == 1.0:
        integral = np.log(hi / lo)
    else:
        integral = lo ** (1.0 - s) * np.expm1((1.0 - s) * np.log(hi / lo)) / (1.0 - s)
    f = lambda x: x**-s
    d1 = lambda x: -s * x ** (-s - 1.0)
    d3 = lambda x: -s * (s + 1.0) * (s + 2.0) * x ** (-s - 3.0)
    em = integral + 0.5 * (f(lo) + f(hi)) + (d1(hi) - d1(lo)) / 12.0 - (d3(hi) - d3(lo)) / 720.0
    return out + np.where(tail, em, 0.0)


def _closed_form(alpha, beta, d, rtol):
    c_beta = float(power_sum(2.0 * beta, 1, d)) if (beta > 0.5 and alpha > 0.5) else 0.0
    if rtol is None:
        j = np.arange(1, d + 1, dtype=np.float64)
        return j ** (-2.0 * alpha), j ** (-2.0 * beta) + c_beta / d, None
    # the bins of Spectrum.compress: floor(ln(lambda_1 / lambda_j) / h) = floor(2 alpha ln j / h)
    h = compress_bin_width(rtol) / (2.0 * alpha)  # bin log-width in j
    head = min(d, _HEAD)
    k = np.arange(np.floor(np.log(head + 1) / h), np.ceil(np.log(d + 1) / h) + 1)
    edges = np.unique(np.clip(np.ceil(np.exp(k * h)), head + 1, d + 1))
    starts = np.concatenate([np.arange(1, head + 1, dtype=np.float64), edges[edges <= d]])
    ends = np.concatenate([starts[1:] - 1, [float(d)]])
    m = ends - starts + 1
    lam = power_sum(2.0 * alpha, starts, ends) / m
    rho = power_sum(2.0 * beta, starts, ends) + m * (c_beta / d)
    return lam, rho, m.astype(np.int64)


def _grid(alpha, d, v, eta):
    """Descending log grid from above the top of the spectrum to below its bottom."""
    top = 2.0 * (1.0 + float(power_sum(2.0 * alpha, 1, v)) / d)
    bottom = 1e-3 * (d ** (-2.0 * alpha)) * (1.0 - np.sqrt(d / v)) ** 2
    n = int(np.ceil(np.log(top / bottom) / (0.5 * eta))) + 1
    check.memory(_GRID_BYTES * n, f"eta={eta:g} (a self-consistent grid of {n} points)", "use a larger eta")
    return np.geomspace(top, bottom, n)


def _self_consistent(alpha, beta, d, v, p_inf, eta, j_exact, progress, rtol):
    x = _grid(alpha, d, v, eta)
    bar = Progress(progress, unit="point", desc="Spectrum.theory")
    try:
        nu, w = _core.theory_densities(alpha, beta, d, v, p_inf, memoryview(x), eta, j_exact, eta / 5.0, bar.callback)
    finally:
        bar.close()
    # cumulative masses from the top (trapezoid in ln x); the densities come through a unit-mass kernel
    dlog = np.log(x[:-1] / x[1:])
    steps = lambda f: 0.5 * (f[1:] + f[:-1]) * dlog
    trapezoid = lambda f: np.concatenate([[0.0], np.cumsum(steps(f))])
    count, weight = trapezoid(nu), trapezoid(w)
    mass = float(count[-1])
    count *= d / mass  # place exactly d eigenvalues; `mass` (meta density_mass) should be ~1
    # int x dN from each grid point down to the bottom, summed from the bottom up so that the
    # smallest nodes (x ~ d^{-2 alpha}, far below tr K) keep their relative precision
    below = np.concatenate([np.cumsum(steps(x * nu)[::-1])[::-1], [0.0]]) * (d / mass)
    head = d if rtol is None else min(d, _HEAD)
    lam = np.exp(np.interp(np.arange(head) + 0.5, count, np.log(x)))
    cuts = np.arange(head + 1, dtype=np.float64)
    mult = np.ones(head, dtype=np.int64)
    if head < d:  # the tail in log-lambda nodes of whole counts, as Spectrum.compress would make them
        h = compress_bin_width(rtol)
        edges = np.log(lam[0]) - h * np.arange(1, np.ceil(np.log(lam[0] / x[-1]) / h) + 1)
        at = np.round(np.interp(-edges, -np.log(x), count))
        tail = np.unique(np.concatenate([at[(at > head) & (at < d)], [float(d)]]))
        lo = np.concatenate([[float(head)], tail[:-1]])
        moment = np.interp(lo, count, below) - np.interp(tail, count, below)
        lam = np.concatenate([lam, moment / (tail - lo)])
        cuts = np.concatenate([cuts, tail])
        mult = np.concatenate([mult, (tail - lo).astype(np.int64)])
    rho = np.maximum(np.diff(np.interp(cuts, count, weight)), 0.0)
    return lam, rho, (None if rtol is None else mult), mass
