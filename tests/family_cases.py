"""Shared cases of the families' statistical tests (tests/test_families_oracle.py, test_experts.py,
test_sde.py, test_adaptive_*.py): the (alpha, beta) x B x optimizer grid, its spectra and
optimizers, the controller cases, and the fourth-moment z of a variance difference."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

import plrf

D = 20  # model size of the families' oracle checks (Spectrum.theory)

# Two (alpha, beta) x B in {1, 4} x {SGD, DANA-decaying}: the default suite runs a Latin square of the
# grid (each pair, each B and each optimizer appears), the slow suite the rest.
FAST = [((1.0, 0.7), 1, "sgd"), ((0.7, 0.3), 1, "dana_decaying"), ((0.7, 0.3), 4, "sgd"), ((1.0, 0.7), 4, "dana_decaying")]
SLOW = [((0.7, 0.3), 1, "sgd"), ((1.0, 0.7), 1, "dana_decaying"), ((1.0, 0.7), 4, "sgd"), ((0.7, 0.3), 4, "dana_decaying")]
GRID = [pytest.param(*c, id=f"{c[0]}-B{c[1]}-{c[2]}") for c in FAST] + [
    pytest.param(*c, id=f"{c[0]}-B{c[1]}-{c[2]}", marks=pytest.mark.slow) for c in SLOW
]

# Step-size controllers (docs/adaptive.md): 2 alpha > 1 and 2 alpha < 1, and each controller with the
# optimizer it is checked on (controller, its parameters, optimizer).
PAIRS = [(1.0, 0.7), (0.4, 0.6)]
CASES = {
    "adagrad_norm/sgd": ("adagrad_norm", {"G": 1.0, "b0": 0.5}, "sgd1"),
    "adagrad_norm/dana": ("adagrad_norm", {"G": 1.0, "b0": 0.5}, "dana_decaying"),
    "polyak/sgd": ("polyak", {}, "sgd1"),
    "line_search/sgd": ("line_search", {}, "sgd1"),
    "risk_norm/dana": ("risk_norm", {}, "dana_decaying"),
    "rmsprop_dana/dana": ("rmsprop_dana", {}, "dana_decaying"),
    "ema_norm/dana": ("ema_norm", {}, "dana_decaying"),
}


@lru_cache(maxsize=None)
def spectrum(ab):
    return plrf.Spectrum.theory(ab[0], ab[1], D)


def optimizer(ab, batch, name):
    return plrf.defaults(spectrum(ab), batch)[name]


def variance_z(x, y):
    """z of Var(x) - Var(y) for independent samples (SE of a variance from the fourth moment)."""
    def var_se(r):
        c = r - r.mean(axis=0)
        v = (c * c).mean(axis=0)
        return v, np.sqrt(((c**4).mean(axis=0) - v * v) / r.shape[0])

    (vx, sx), (vy, sy) = var_se(x), var_se(y)
    return (vx - vy) / np.hypot(sx, sy)


def converges_at_first_order(curves, limit, bound=6e-3):
    """curves at 4, 8, 16 substeps: the max relative error against `limit` halves with each doubling
    (ratio in (1.8, 2.2)) and ends below `bound`."""
    err = [np.max(np.abs(c / limit - 1)) for c in curves]
    return bool(1.8 < err[0] / err[1] < 2.2 and 1.8 < err[1] / err[2] < 2.2 and err[2] < bound)
