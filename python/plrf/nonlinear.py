"""Nonlinear random features: exact second-order data of sigma(W^T x) without sampling (docs/nonlinear.md).

The pre-activations u = W^T x are Gaussian, u ~ N(0, S) with S = W^T D W, jointly Gaussian with the
target y = <x, b> (Cov(u, y) = c = W^T D b, E y^2 = sum D_j b_j^2). Everything an engine needs is a
second moment, so it has a closed form or a convergent series in S:

* K = E[sigma(u) sigma(u)^T] (uncentred). ReLU: the arc-cosine kernel; erf: the arcsine kernel;
  every other activation (tanh, GELU, a user function): the Hermite (Mehler) series
  K_ik = sum_n g_n(S_ii) g_n(S_kk) r_ik^n, r = the correlation matrix of S and
  g_n(a) = E[sigma(sqrt(a) Z) He_n(Z)] / sqrt(n!), truncated at order N with the entrywise bound
  |remainder_ik| <= |r_ik|^(N+1) sqrt(T_i T_k), T_i = E sigma(u_i)^2 - sum_{n<=N} g_n(S_ii)^2
  (Cauchy-Schwarz on the tail; T_i is computed, not estimated). The diagonal is exact: E sigma(u_i)^2.
* The constant spike: a nonzero activation mean mu_i = E sigma(u_i) = g_0(S_ii) is the n = 0 term,
  mu mu^T, a rank-one part of K. It is kept inside K exactly (the closed forms contain it, the series
  starts at n = 0), so the eigensolve sees the spike (an eigenvalue near |mu|^2) and nothing is
  centred away; meta["spike"] = |mu|^2 says how big it is.
* h = E[sigma(u) y] by Stein's lemma: y - (c_i / S_ii) u_i is independent of u_i, so
  h_i = (c_i / S_ii) E[sigma(u_i) u_i] = c_i g_1(S_ii) / sqrt(S_ii).
* theta* = K^{-1} h and P_inf = (E y^2 - h^T theta*) / 2. Of it, (E y^2 - c^T S^{-1} c) / 2 is the
  linear part (what the best linear function of u misses) and the rest is the nonlinear part
  (meta "p_inf_linear", "p_inf_nonlinear").

Cost O(N d^2) after S (N = 1 for the closed forms), about 4 d^2 doubles, checked before allocating.
Vectorised NumPy, not C++: every step is a BLAS-1 pass or an elementwise ufunc over d x d arrays,
which NumPy already runs at memory bandwidth; the O(v d^2) pass that forms S and the O(d^3)
eigensolve dominate and are shared with the linear problem.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _validate as check

ACTIVATIONS = ("identity", "relu", "tanh", "erf", "gelu")
CORE_CODES = {"identity": 0, "relu": 1, "tanh": 2, "erf": 3, "gelu": 4}  # the full path's enum (C++)
HERMITE_TOL = 1e-12     # target for the largest entrywise truncation bound, relative to max K_ii
HERMITE_MAX_ORDER = 120  # the series stops here even if the bound is larger (reported in meta)


_ERF = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf and scipy is not a dependency


def _erf(u):
    return _ERF(np.asarray(u, dtype=np.float64)).astype(np.float64)


def _gelu(u):
    u = np.asarray(u, dtype=np.float64)
    return 0.5 * u * (1.0 + _erf(u / math.sqrt(2.0)))


_FUNCTIONS = {
    "identity": lambda u: u,
    "relu": lambda u: np.maximum(u, 0.0),
    "tanh": np.tanh,
    "erf": _erf,
    "gelu": _gelu,
}


@dataclass(frozen=True)
class Activation:
    """A named activation (with a compiled full path) or a user function (NumPy ufunc-like), applied as
    fn(scale * u): `scale` sets the pre-activations' size (u = W^T x has variance ~ tr D / d, small)."""
    name: str
    fn: Callable
    scale: float = 1.0

    @property
    def is_identity(self) -> bool:
        return self.name == "identity"

    @property
    def core_code(self) -> int | None:
        """The C++ enum value, or None for a user function (no compiled full path)."""
        return CORE_CODES.get(self.name)

    def __reduce__(self):  # named activations pickle by name; a user function pickles as itself
        return (resolve, (self.name if self.name in _FUNCTIONS else self.fn, self.scale))

    def __call__(self, u):
        return np.asarray(self.fn(self.scale * np.asarray(u, dtype=np.float64)), dtype=np.float64)

    def describe(self) -> dict:
        """JSON-able identification for meta."""
        return {"activation": self.name, **({} if self.scale == 1.0 else {"preactivation_scale": self.scale})}


def resolve(activation, scale=1.0) -> Activation:
    """An Activation from a name in ACTIVATIONS, an Activation, or a callable f(u) on float64 arrays;
    scale > 0 multiplies the pre-activations (1 for the identity, whose features are W^T x)."""
    scale = check.positive("preactivation_scale", scale)
    if isinstance(activation, Activation):
        return activation if scale == 1.0 else Activation(activation.name, activation.fn, activation.scale * scale)
    if isinstance(activation, str):
        check.choice("activation", activation, ACTIVATIONS)
        if activation == "identity" and scale != 1.0:
            raise ValueError(f"preactivation_scale must be 1 with the identity activation, got {scale}")
        return Activation(activation, _FUNCTIONS[activation], scale)
    if callable(activation):
        probe = np.asarray(activation(np.array([-1.0, 0.0, 0.5])), dtype=np.float64)
        if probe.shape != (3,) or not np.all(np.isfinite(probe)):
            raise ValueError("activation: a user function must map a float64 array elementwise to finite values "
                             f"of the same shape (got {probe!r} for [-1, 0, 0.5])")
        return Activation(f"user:{getattr(activation, '__name__', type(activation).__name__)}", activation, scale)
    raise ValueError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))} or a callable, "
                     f"got {activation!r:.80}")


# ---- one-dimensional Gaussian moments (Gauss-Hermite) ------------------------------------------------
_NODES = 300


@functools.lru_cache(maxsize=4)
def _quadrature(n):
    """Nodes and weights of E[f(Z)], Z ~ N(0, 1), exact for polynomials of degree < 2n (cached: ~0.3 s at 300)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / w.sum()
    z.flags.writeable = w.flags.writeable = False
    return z, w


def hermite_coefficients(fn, scales, order, nodes=None):
    """g[n, i] = E[fn(sqrt(scales_i) Z) h_n(Z)] for n = 0..order (h_n = He_n / sqrt(n!)), and m2_i =
    E fn(sqrt(scales_i) Z)^2. Gauss-Hermite with `nodes` points (default 300, the most numpy's
    hermegauss computes without overflow; exact for polynomial parts of degree < 600)."""
    z, w = _quadrature(nodes or _NODES)
    f = np.asarray(fn(np.sqrt(scales)[:, None] * z[None, :]), dtype=np.float64)  # (d, nodes)
    m2 = (f * f) @ w
    g = np.empty((order + 1, len(scales)))
    h_prev, h = np.zeros_like(z), np.ones_like(z)
    for n in range(order + 1):
        g[n] = f @ (w * h)
        h_prev, h = h, (z * h - math.sqrt(n) * h_prev) / math.sqrt(n + 1)  # orthonormal recurrence
    return g, m2


# ---- kernels ---------------------------------------------------------------------------------------
def _correlation(S):
    """sqrt(diag S) and the correlation matrix of S, clipped to [-1, 1] against rounding."""
    s = np.sqrt(np.diag(S))
    r = S / s[:, None]
    r /= s[None, :]
    np.clip(r, -1.0, 1.0, out=r)
    np.fill_diagonal(r, 1.0)
    return s, r


def relu_kernel(S):
    """E[relu(u) relu(u)^T] for u ~ N(0, S): (s_i s_k / 2 pi)(sin t + (pi - t) cos t), t = arccos r_ik."""
    s, r = _correlation(S)
    t = np.arccos(r)
    K = np.sin(t)
    K += (np.pi - t) * r
    K *= s[:, None] * s[None, :] / (2.0 * np.pi)
    return K


def erf_kernel(S):
    """E[erf(u) erf(u)^T] for u ~ N(0, S): (2/pi) arcsin(2 S_ik / sqrt((1 + 2 S_ii)(1 + 2 S_kk)))."""
    q = 1.0 / np.sqrt(1.0 + 2.0 * np.diag(S))
    K = 2.0 * S * q[:, None]
    K *= q[None, :]
    np.clip(K, -1.0, 1.0, out=K)
    return (2.0 / np.pi) * np.arcsin(K)


def hermite_kernel(S, fn, tol=HERMITE_TOL, max_order=HERMITE_MAX_ORDER):
    """E[fn(u) fn(u)^T] by the Mehler series, truncated where the stated bound is below tol * max K_ii.

    Returns (K, bound, order): bound is the (d, d) entrywise truncation bound |r|^(N+1) sqrt(T_i T_k)
    (zero on the diagonal, which is exact). The quadrature error of g_n is separate and measured by
    comparing two quadrature sizes (meta "quadrature_error")."""
    s, r = _correlation(S)
    a = s * s
    g, m2 = hermite_coefficients(fn, a, max_order)
    tail = np.maximum(m2 - np.cumsum(g * g, axis=0), 0.0)  # T_i after order n, shape (max_order+1, d)
    off = np.abs(r - np.eye(len(s))).max() if len(s) > 1 else 0.0
    scale = tol * max(float(m2.max()), np.finfo(float).tiny)
    worst = off ** np.arange(1, max_order + 2) * tail.max(axis=1)  # a bound on the largest entry's bound
    order = int(np.argmax(worst <= scale)) if np.any(worst <= scale) else max_order
    K = np.outer(g[0], g[0])
    power = np.ones_like(r)
    for n in range(1, order + 1):
        power *= r
        K += power * np.outer(g[n], g[n])  # one d^2 temporary at a time
    np.fill_diagonal(K, m2)
    bound = np.abs(power * r)
    bound *= np.sqrt(tail[order])[:, None]
    bound *= np.sqrt(tail[order])[None, :]
    np.fill_diagonal(bound, 0.0)
    return K, bound, order


# ---- the second-order data of a problem --------------------------------------------------------------
def feature_moments(S, c, ey2, activation):
    """(K, h, info) for features sigma(u), u ~ N(0, S), target y with Cov(u, y) = c and E y^2 = ey2.

    info is JSON-able: the activation, the method per kernel, the spike |mu|^2, and for the Hermite
    series its order, largest truncation bound and quadrature error."""
    act = resolve(activation)
    S, c = S * act.scale**2, c * act.scale  # sigma(scale u): u -> scale u; the kernels below see fn itself
    d = S.shape[0]
    check.memory(8.0 * 7 * d * d, f"the nonlinear ({act.name}) kernel at d={d}", "use a smaller d")
    a = np.diag(S).copy()
    if np.any(a <= 0):
        raise ValueError("the pre-activation covariance W^T D W has a zero diagonal entry (a zero column of W)")
    g01, _ = hermite_coefficients(act.fn, a, 1)
    if act.name == "relu":  # its kink slows Gauss-Hermite: the closed forms E relu(u) = sqrt(a / 2 pi), E relu'(u) = 1/2
        g01 = np.stack([np.sqrt(a / (2.0 * np.pi)), 0.5 * np.sqrt(a)])
    elif act.name == "erf":  # E erf(u) = 0, E erf'(u) = 2 / sqrt(pi (1 + 2 a))
        g01 = np.stack([np.zeros_like(a), 2.0 * np.sqrt(a / (np.pi * (1.0 + 2.0 * a)))])
    info = dict(act.describe(), spike=float(g01[0] @ g01[0]))
    if act.name == "relu":
        K, info["kernel"] = relu_kernel(S), "arc-cosine (closed form)"
    elif act.name == "erf":
        K, info["kernel"] = erf_kernel(S), "arcsine (closed form)"
    elif act.is_identity:
        K, info["kernel"] = S.copy(), "linear"
    else:
        K, bound, order = hermite_kernel(S, act.fn)
        g_lo, _ = hermite_coefficients(act.fn, a, order, nodes=_NODES - 100)
        g_hi, _ = hermite_coefficients(act.fn, a, order)
        info.update(kernel="Hermite series", hermite_order=order, truncation_bound=float(bound.max()),
                    quadrature_error=float(np.abs(g_hi - g_lo).max()))
    h = c * (g01[1] / np.sqrt(a))  # Stein's lemma: E[sigma(u_i) y] = c_i E sigma'(u_i) = c_i g_1 / sqrt(a_i)
    return K, h, info


def linear_p_inf(S, c, ey2) -> float:
    """(E y^2 - c^T S^{-1} c) / 2: the loss of the best linear function of the pre-activations."""
    L = np.linalg.cholesky(S)
    z = np.linalg.solve(L, c)  # c^T S^{-1} c = |L^{-1} c|^2
    return max(0.0, 0.5 * (ey2 - float(z @ z)))
