"""PLRF least-squares problems (docs/theory.md §1) and their exact spectral data.

W is never stored for a seeded problem: its rows are regenerated from the counter-based stream
in blocks, so K = W^T D W is accumulated block by block and memory stays O(d^2).
The eigensolve goes to LAPACK's divide-and-conquer through numpy, which is several times
faster than Eigen's solver at d in the thousands (bench/bench_setup.py measures both paths).
"""
from __future__ import annotations

import numpy as np

from . import _core
from . import _validate as check
from . import nonlinear
from .spectrum import Spectrum

_BLOCK_BYTES = 64 * 2**20  # working block of rows of W
_REUSE_BYTES = 2 * 2**30  # keep D^{1/2} W between the two passes of the setup when it is at most this big


class PLRF:
    """A power-law random features problem.

    x_j ~ N(0, j^{-2 alpha}) (j = 1..v), target y = <x, b> with b_j = j^{-beta}, features W^T x with
    W (v x d) having N(0, 1/d) entries drawn from `seed`. Risk is half the mean squared error.
    activation: features sigma(W^T x) with sigma "identity" (default, the linear PLRF), "relu", "tanh",
    "erf", "gelu" or a callable on float64 arrays, applied to preactivation_scale * W^T x (plrf.nonlinear;
    docs/nonlinear.md).
    """

    def __init__(self, alpha, beta, d, v=None, seed=0, *, threads=None, activation="identity", preactivation_scale=1.0):
        self.alpha, self.beta, self.d, self.v = check.problem(alpha, beta, d, v)
        self.seed = check.seed("seed", seed)
        self.threads = check.threads(threads)
        self.activation = nonlinear.resolve(activation, preactivation_scale)
        self._W = None
        self._spectrum = None

    @classmethod
    def from_features(cls, W, alpha, beta, *, activation="identity", preactivation_scale=1.0) -> "PLRF":
        """A problem with a user-given (v, d) feature matrix W (v >= d)."""
        alpha, beta = check.positive("alpha", alpha), check.finite("beta", beta)
        shape = np.shape(W)
        if len(shape) != 2 or shape[1] < 1 or shape[0] < shape[1]:
            raise ValueError(f"W must be a (v, d) array with v >= d >= 1, got shape {shape}")
        prob = cls(alpha, beta, d=shape[1], v=shape[0], seed=0, activation=activation,
                   preactivation_scale=preactivation_scale)
        prob.seed = None
        prob._W, = check.frozen(check.float_array("W", W, 2, copy=True))  # a later edit of W cannot reach it
        return prob

    # ---- data ------------------------------------------------------------------------------
    @property
    def data_variances(self) -> np.ndarray:
        """D_j = j^{-2 alpha}, j = 1..v."""
        check.memory(16.0 * self.v, f"the data variances of v={self.v}")
        return np.arange(1, self.v + 1, dtype=np.float64) ** (-2.0 * self.alpha)

    @property
    def target(self) -> np.ndarray:
        """b_j = j^{-beta}, j = 1..v."""
        check.memory(16.0 * self.v, f"the targets of v={self.v}")
        return np.arange(1, self.v + 1, dtype=np.float64) ** (-self.beta)

    def feature_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows start..stop-1 of W (bitwise the same however the rows are blocked)."""
        start, stop = check.integer("start", start, 0), check.integer("stop", stop, 0)
        if not start <= stop <= self.v:
            raise ValueError(f"need 0 <= start <= stop <= v={self.v}, got start={start}, stop={stop}")
        if self._W is not None:
            return self._W[start:stop]
        return _core.feature_rows(self.seed, self.d, start, stop - start, self.threads)

    @property
    def W(self) -> np.ndarray:
        """The whole (v, d) feature matrix (materialized on demand; prefer row blocks for big v*d)."""
        if self._W is None:
            check.memory(8.0 * self.v * self.d, f"W of shape (v={self.v}, d={self.d})",
                         "use feature_rows() or scaled_blocks() to stream it")
            return self.feature_rows(0, self.v)
        return self._W

    def block_rows(self) -> int:
        return max(1, min(self.v, _BLOCK_BYTES // (8 * self.d)))

    def scaled_blocks(self, block_rows=None):
        """Yield (j0, A_blk, c_blk) with A = D^{1/2} W and c = D^{1/2} b, block by block of rows."""
        step = block_rows or self.block_rows()
        sqrt_d, b = np.sqrt(self.data_variances), self.target
        for j0 in range(0, self.v, step):
            j1 = min(self.v, j0 + step)
            a = self.feature_rows(j0, j1) * sqrt_d[j0:j1, None]
            yield j0, a, sqrt_d[j0:j1] * b[j0:j1]

    # ---- risk ----------------------------------------------------------------------------
    def risk(self, theta) -> float | np.ndarray:
        """Exact population risk 1/2 ||D^{1/2}(W theta - b)||^2 of theta, shape (d,) or (n, d)."""
        th = check.float_array("theta", theta, (1, 2))
        if th.shape[-1] != self.d:
            raise ValueError(f"theta must have last dimension d={self.d}, got shape {th.shape}")
        if not self.activation.is_identity:  # the features are not linear in x: go through the exact spectrum
            spec = self.spectrum()
            return spec.risk_of_error((th - spec.theta_star) @ spec.eigenvectors)
        n = th.shape[0] if th.ndim == 2 else 1
        check.memory(16.0 * n * self.block_rows(), f"theta with {n} rows (a {n} x {self.block_rows()} residual block)")
        total = np.zeros(th.shape[:-1])
        for _, a, c in self.scaled_blocks():
            r = th @ a.T - c  # (..., rows)
            total += 0.5 * np.einsum("...j,...j->...", r, r)
        return float(total) if th.ndim == 1 else total

    # ---- spectral data -------------------------------------------------------------------
    def spectrum(self, theta0=None, *, keep_vectors=True) -> Spectrum:
        """Exact spectral data of this problem: eigenpairs of K, rho for theta0 (default 0), P_inf.

        Cost O(v d^2 + d^3), memory about 5 d^2 doubles; the result for theta0=None is cached.
        """
        if theta0 is None and self._spectrum is not None and (self._spectrum.eigenvectors is not None or not keep_vectors):
            return self._spectrum
        th0 = None if theta0 is None else check.float_array("theta0", theta0, 1, shape=(self.d,))
        d = self.d
        # K, U and eigh's workspace (~5 d^2), two blocks of rows, and the v-vectors D^{1/2} and b
        check.memory(8.0 * (5 * d * d + self.block_rows() * d * 2 + 2 * self.v),
                     f"the spectral setup of PLRF(d={d}, v={self.v})", "use a smaller d or v")
        K = np.zeros((d, d))
        h = np.zeros(d)
        keep = 8.0 * self.v * d <= min(_REUSE_BYTES, 0.25 * check.available_memory())
        blocks = [] if keep else None
        for blk in self.scaled_blocks():
            _, a, c = blk
            K += a.T @ a  # numpy dispatches A^T A to BLAS syrk
            h += a.T @ c
            if keep:
                blocks.append(blk)
        if not self.activation.is_identity:  # K, h are S = W^T D W and c = W^T D b: the pre-activations' moments
            del blocks
            return self._nonlinear_spectrum(K, h, th0, keep_vectors)
        lam, U = np.linalg.eigh(K)
        del K
        lam, U = lam[::-1].copy(), np.ascontiguousarray(U[:, ::-1])
        if lam[-1] <= 0:
            raise ValueError(f"K is singular to working precision (smallest eigenvalue {lam[-1]:.3g}): its spectrum "
                             f"spans more than float64's 16 digits (alpha={self.alpha} at d={d}: d^(-2 alpha) = "
                             f"{float(d) ** (-2.0 * self.alpha):.3g}), or W is rank-deficient")
        coef = (U.T @ h) / lam  # U^T theta*
        theta_star = U @ coef
        p_inf = self._residual_risk(theta_star, blocks)
        del blocks
        e0 = -coef if th0 is None else U.T @ th0 - coef
        spec = Spectrum(
            lam, e0 * e0, p_inf,
            eigenvectors=U if keep_vectors else None,
            theta_star=theta_star,
            meta=self.meta(source="sampled" if self._W is None else "features"),
        )
        if th0 is None:
            self._spectrum = spec
        return spec

    def _nonlinear_spectrum(self, S, c, th0, keep_vectors) -> Spectrum:
        """Spectrum of the features sigma(u), u = W^T x, from the exact moments of plrf.nonlinear."""
        ey2 = float(self.data_variances @ self.target**2)
        K, h, info = nonlinear.feature_moments(S, c, ey2, self.activation)
        p_lin = nonlinear.linear_p_inf(S, c, ey2)
        del S
        lam, U = np.linalg.eigh(K)
        del K
        lam, U = lam[::-1].copy(), np.ascontiguousarray(U[:, ::-1])
        if lam[-1] <= 0:
            raise ValueError(f"the {self.activation.name} feature covariance is singular to working precision "
                             f"(smallest eigenvalue {lam[-1]:.3g}): the activation loses directions at d={self.d}")
        uh = U.T @ h
        coef = uh / lam
        # E y^2 - h^T K^{-1} h: no residual to sum here (the features are not linear in x), so P_inf is
        # exact up to rounding of order eps E y^2 cond(K); clipped at 0 (meta p_inf_raw keeps the value)
        raw = 0.5 * (ey2 - float(uh @ coef))
        e0 = -coef if th0 is None else U.T @ th0 - coef
        meta = self.meta(source="sampled" if self._W is None else "features", **info,
                         p_inf_raw=raw, p_inf_linear=p_lin, p_inf_nonlinear=max(raw, 0.0) - p_lin)
        spec = Spectrum(lam, e0 * e0, max(raw, 0.0), eigenvectors=U if keep_vectors else None,
                        theta_star=U @ coef, meta=meta)
        if th0 is None:
            self._spectrum = spec
        return spec

    def _residual_risk(self, theta, blocks=None) -> float:
        # P_inf from the residual itself: accurate even when it is 1e-12 of the initial risk.
        total = 0.0
        for _, a, c in blocks if blocks is not None else self.scaled_blocks():
            r = a @ theta - c
            total += 0.5 * float(r @ r)
        return total

    def meta(self, **extra) -> dict:
        return {"alpha": self.alpha, "beta": self.beta, "d": self.d, "v": self.v, "seed": self.seed, **extra}

    def __repr__(self):
        src = "user W" if self._W is not None else f"seed={self.seed}"
        a = self.activation
        act = "" if a.is_identity else f", activation={a.name!r}" + ("" if a.scale == 1.0 else f", preactivation_scale={a.scale}")
        return f"PLRF(alpha={self.alpha}, beta={self.beta}, d={self.d}, v={self.v}, {src}{act})"

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_spectrum"] = None  # cheap to rebuild, expensive to ship
        return state
