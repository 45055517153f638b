"""plrf's analysis tools on plrf.matrix runs (#27 item 6): frontier takes them like any curves."""
from __future__ import annotations

import numpy as np

from plrf import matrix as M
from plrf.frontier import as_curve_table, frontier


def test_frontier_takes_a_list_of_matrix_curves_keyed_by_their_meta_d():
    """Accepted and read as the plain (steps, risk) table. (In this model d is the data dimension too, so
    no d has an approximation floor and the optimum sits at the d-grid edge: the envelope, not the fits.)"""
    curves = [M.dynamics(M.MatrixPLRF(1.0, 0.5, d, 32, sigma=0.0), M.signsvd(0.3), 2000, batch=1) for d in (8, 16, 32)]
    f = frontier(curves, batch=1, n_boot=20, warn=False)
    same = frontier({c.meta["d"]: (c.steps, c.risk) for c in curves}, batch=1, n_boot=20, warn=False)
    assert f.d.tolist() == [8, 16, 32] and np.isfinite(f.envelope).any()
    assert np.array_equal(f.envelope, same.envelope, equal_nan=True) and np.array_equal(f.d_env, same.d_env, equal_nan=True)


def test_frontier_averages_monte_carlo_matrix_curves_over_seeds():
    curves = [M.simulate(M.MatrixPLRF(1.0, 0.5, d, 8, sigma=0.1), M.signsvd(0.05), 200, batch=2, seeds=3,
                         progress=False) for d in (4, 8, 16)]
    table = as_curve_table(curves)
    for c in curves:
        s, r = table[c.meta["d"]]
        assert np.allclose(r, c.risk.mean(axis=0)[np.isin(c.steps, s)])
