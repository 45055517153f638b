"""Polar factors of stacks of matrices: exact (SVD) and Muon's Newton-Schulz approximation.

polar(G) = U sign(S) V^T for the thin SVD G = U S V^T: singular values at rounding level count as
zero, so a rank-r gradient gives a factor with exactly r unit singular values (a plain U V^T would
add arbitrary directions for the zero ones).
"""
from __future__ import annotations

import numpy as np

NS_COEFFS = (3.4445, -4.7750, 2.0315)  # the quintic of Muon as used in practice (Jordan et al.)
NS_STEPS = 5
NS_EPS = 1e-7


def polar(g: np.ndarray) -> np.ndarray:
    """Exact polar factor of each matrix of the stack g (..., p, q), through LAPACK's SVD."""
    u, s, vh = np.linalg.svd(g, full_matrices=False)
    tol = s[..., :1] * max(g.shape[-2:]) * np.finfo(np.float64).eps
    keep = (s > tol).astype(np.float64)
    return (u * keep[..., None, :]) @ vh


def polar_of_product(x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """polar(x^T r) for x (..., B, p), r (..., B, q), exactly, in O(B^2 (p + q)) instead of O(p q min(p, q)).

    With x^T = Q1 R1 (thin QR, Q1 orthonormal columns), x^T r = Q1 (R1 r) and polar(Q1 A) = Q1 polar(A)."""
    q1, r1 = np.linalg.qr(np.swapaxes(x, -1, -2))
    return q1 @ polar(r1 @ r)


def newton_schulz(g: np.ndarray, steps: int = NS_STEPS, coeffs=NS_COEFFS) -> np.ndarray:
    """Muon's approximate polar factor: Frobenius normalisation, then `steps` quintic iterations
    X <- a X + (b A + c A^2) X with A = X X^T, on the wide orientation (fewer rows than columns).
    Its singular values land in about (0.68, 1.14), not at 1 (docs/muon.md measures the distance)."""
    if g.ndim > 2:  # one matrix at a time: 2-D products let NumPy use BLAS's symmetric rank-k update
        return np.stack([newton_schulz(x, steps, coeffs) for x in g.reshape(-1, *g.shape[-2:])]).reshape(g.shape)
    a, b, c = coeffs
    x = g.T if g.shape[0] > g.shape[1] else g
    x = x / (np.linalg.norm(x) + NS_EPS)
    for _ in range(steps):
        gram = x @ x.T              # symmetric: syrk, half a product
        poly = b * gram + c * (gram @ gram.T)  # gram^2 = gram gram^T, again a syrk
        x = a * x + poly @ x
    return x.T if g.shape[0] > g.shape[1] else x


def newton_schulz_map(s: np.ndarray, steps: int = NS_STEPS, coeffs=NS_COEFFS) -> np.ndarray:
    """What newton_schulz does to each singular value s of a Frobenius-normalised matrix: `steps` of the
    quintic p(x) = a x + b x^3 + c x^5 (the matrix iteration acts on each singular value alone)."""
    a, b, c = coeffs
    x = np.asarray(s, dtype=np.float64)
    for _ in range(steps):
        x2 = x * x
        x = x * (a + x2 * (b + c * x2))
    return x
