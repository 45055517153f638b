"""Spectral data: the eigenvalues of K, the initial error weights rho, and P_inf (SPEC section 1).

Every engine consumes a Spectrum. It can come from a sampled problem (PLRF.spectrum), from
theory with no W (Spectrum.theory), or straight from the user for any Gaussian least-squares
problem.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from . import _validate as check

_ARRAYS = ("eigenvalues", "rho", "eigenvectors", "theta_star")


class Spectrum:
    """Spectral data (lambda, rho, P_inf), eigenvalues in descending order.

    Parameters
    ----------
    eigenvalues : (d,) positive eigenvalues of K = W^T D W (sorted descending if they are not).
    rho : (d,) squared initial error on each eigenvector, rho_j = (U^T (theta_0 - theta*))_j^2.
    p_inf : the limit loss P(theta*) >= 0.
    eigenvectors : optional (d, d) matrix U whose columns match `eigenvalues`.
    theta_star : optional (d,) optimum, so that theta = theta_star + U e for an eigenbasis error e.
    meta : optional JSON-able dict of parameters (alpha, beta, d, v, seed, source, ...).
    """

    def __init__(self, eigenvalues, rho, p_inf, *, eigenvectors=None, theta_star=None, meta=None):
        lam = check.float_array("eigenvalues", eigenvalues, 1)
        d = lam.shape[0]
        if d < 1:
            raise ValueError("eigenvalues must be non-empty")
        if np.any(lam <= 0):
            raise ValueError("eigenvalues must be > 0 (K is positive definite)")
        rho = check.float_array("rho", rho, 1, shape=(d,))
        if np.any(rho < 0):
            raise ValueError("rho must be >= 0 (it is a squared projection)")
        p_inf = check.finite("p_inf", p_inf)
        if p_inf < 0:
            raise ValueError(f"p_inf must be >= 0, got {p_inf}")
        U = None if eigenvectors is None else check.float_array("eigenvectors", eigenvectors, 2, shape=(d, d))
        ts = None if theta_star is None else check.float_array("theta_star", theta_star, 1, shape=(d,))
        order = np.argsort(-lam, kind="stable")
        if np.any(order != np.arange(d)):
            lam, rho = lam[order], rho[order]
            U = None if U is None else U[:, order]
        self.eigenvalues, self.rho, self.p_inf = lam, rho, p_inf
        self.eigenvectors, self.theta_star = U, ts
        self.meta = dict(meta or {})
        json.dumps(self.meta)  # metadata must survive .npz round trips

    # ---- derived quantities -------------------------------------------------------------
    @property
    def d(self) -> int:
        return int(self.eigenvalues.shape[0])

    @property
    def trace(self) -> float:
        """tr K = sum of eigenvalues."""
        return float(self.eigenvalues.sum())

    @property
    def risk0(self) -> float:
        """Initial risk P(theta_0) = P_inf + 1/2 sum lambda_j rho_j."""
        return self.risk_of_error2(self.rho)

    def risk_of_error2(self, err2) -> np.ndarray | float:
        """Risk for squared eigenbasis errors err2 (shape (..., d)): P_inf + 1/2 sum lambda err2."""
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
        """Spectral data from the deterministic equivalent (SPEC section 6), with no W."""
        from .theory_spectrum import theory_spectrum

        return theory_spectrum(alpha, beta, d, v=v, method=method, **kwargs)

    # ---- persistence ----------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write to a .npz file, with `meta` stored as JSON."""
        path = Path(path)
        arrays = {k: getattr(self, k) for k in _ARRAYS if getattr(self, k) is not None}
        np.savez(path, p_inf=np.float64(self.p_inf), meta=np.array(json.dumps(self.meta)), **arrays)
        return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")

    @classmethod
    def load(cls, path) -> "Spectrum":
        """Read a file written by save() (no pickle); a damaged or foreign file is refused naming it."""
        try:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:  # our handle: closed even when
                opt = {k: f[k] for k in ("eigenvectors", "theta_star") if k in f.files}  # the zip is damaged
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
        return (
            f"Spectrum(d={self.d}, lambda=[{self.eigenvalues[0]:.4g} .. {self.eigenvalues[-1]:.4g}], "
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
