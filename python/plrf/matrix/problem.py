"""The matrix-valued PLRF problem (docs/theory.md §13, docs/muon.md).

x in R^d is Gaussian with covariance K = Q Lambda Q^T, Lambda_jj = j^{-2 alpha}; the m targets are
Y = Theta*^T x + sigma eps with Theta* = Q diag(j^{-beta}) Z, Z (d x m) standard normal; Q is the
identity (basis="eigen") or a Haar rotation (basis="haar", a generic covariance). The risk per
output is P(Theta) = (1/(2m)) E ||Theta^T x - Y||^2 = (1/(2m)) tr(E^T K E) + sigma^2/2, E = Theta - Theta*.
Q and Z come from the counter-based stream (seed, MATRIX_PROBLEM, step 0 / 1), so a problem is
the same on every machine.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from .. import _validate as check

# Stream ids (cpp/include/plrf/rng/streams.hpp reserves them): problem, data rows, label noise.
MATRIX_PROBLEM, MATRIX_DATA, MATRIX_NOISE = 8, 9, 10  # rng/streams.hpp: kMatrix*
BASES = ("haar", "eigen")


def problem_args(alpha, beta, d, m, sigma=0.0, basis="haar", seed=0) -> dict:
    """The validated arguments of MatrixPLRF (ValueError naming the bad one; MemoryError naming d and m
    when Q, Theta* and their products would not fit), checked before anything is drawn."""
    alpha = check.finite("alpha", alpha)  # alpha = 0: isotropic data
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    out = {"alpha": alpha, "beta": check.finite("beta", beta), "d": check.integer("d", d, 1, 2**20),
           "m": check.integer("m", m, 1, 2**24), "sigma": check.finite("sigma", sigma)}
    if out["sigma"] < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    out.update(basis=check.choice("basis", basis, BASES), seed=check.seed("seed", seed))
    check.memory(8.0 * (3 * out["d"] ** 2 + 3 * out["d"] * out["m"]), f"d={out['d']}, m={out['m']}")
    return out


class MatrixPLRF:
    """Matrix-valued least squares with power-law covariance (data exponent alpha, target beta).

    d: input dimension (rows of Theta), m: outputs (columns), sigma: label-noise std per output.
    """

    def __init__(self, alpha, beta, d, m, sigma=0.0, basis="haar", seed=0):
        for k, v in problem_args(alpha, beta, d, m, sigma, basis, seed).items():
            setattr(self, k, v)
        j = np.arange(1, self.d + 1, dtype=np.float64)
        self.eigenvalues = j ** (-2.0 * self.alpha)   # descending
        self.b = j ** (-self.beta)
        self.Q = self._rotation()
        z = _core.normals(self.seed, MATRIX_PROBLEM, 1, 0, self.d * self.m).reshape(self.d, self.m)
        self.target_eigen = self.b[:, None] * z          # Q^T Theta*: the target in eigen-coordinates
        self.theta_star = self.Q @ self.target_eigen if self.basis == "haar" else self.target_eigen.copy()
        self.K = (self.Q * self.eigenvalues) @ self.Q.T
        self.p_inf = 0.5 * self.sigma**2

    def _rotation(self) -> np.ndarray:
        if self.basis == "eigen":
            return np.eye(self.d)
        g = _core.normals(self.seed, MATRIX_PROBLEM, 0, 0, self.d * self.d).reshape(self.d, self.d)
        q, r = np.linalg.qr(g)
        return q * np.sign(np.diag(r))  # the sign fix makes Q Haar-distributed

    def __repr__(self):
        return (f"MatrixPLRF(alpha={self.alpha:g}, beta={self.beta:g}, d={self.d}, m={self.m}, "
                f"sigma={self.sigma:g}, basis={self.basis!r}, seed={self.seed})")

    def modes(self, theta) -> np.ndarray:
        """a_j = ||row j of Q^T (Theta - Theta*)||^2 (summed over outputs); theta (..., d, m)."""
        e = np.asarray(theta, dtype=np.float64) - self.theta_star
        return np.sum((np.swapaxes(self.Q, 0, 1) @ e) ** 2, axis=-1)

    def risk(self, theta) -> np.ndarray:
        """Population risk per output of Theta (or a stack of them, shape (..., d, m))."""
        return self.excess(self.modes(theta)) + self.p_inf

    def excess(self, modes) -> np.ndarray:
        """Excess risk per output from the modes a_j: sum_j lambda_j a_j / (2m). A row-wise sum, not a
        matrix-vector product, whose rounding would depend on how many seeds are stacked."""
        return np.sum(modes * self.eigenvalues, axis=-1) / (2.0 * self.m)

    def initial_modes(self) -> np.ndarray:
        """a_j at Theta = 0."""
        return np.sum(self.target_eigen**2, axis=1)
