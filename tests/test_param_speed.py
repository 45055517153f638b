"""The parameter-basis engine's speed work (issue 23): what it changed besides time, guarded here.

The engine no longer copies U^T (its GEMM packs U transposed in place), so its memory need is O(S d)
beside the spectrum's own U, and the largest d that fits grows accordingly. (No timing is asserted:
bench/coordinatewise_speed.py and bench/cpp/param_step_split.cpp measure it.)
"""
from plrf.coordinatewise import max_param_d, param_memory


def test_param_memory_counts_no_transposed_copy_of_u():
    d, seeds = 20000, 64
    assert param_memory(d, seeds) < 0.1 * 8.0 * d * d  # O(S d): no d x d buffer besides the caller's U
    assert param_memory(d, seeds) >= 8.0 * 6 * seeds * d  # the S x d state and GEMM buffers are counted


def test_max_param_d_is_the_largest_d_that_fits():
    for nbytes, seeds in ((24e9, 64), (1e9, 1), (4e9, 1000)):
        d = max_param_d(nbytes, seeds)
        assert 8.0 * d * d + param_memory(d, seeds) <= nbytes < 8.0 * (d + 1) ** 2 + param_memory(d + 1, seeds)
    assert max_param_d(24e9, 64) > 54000  # was ~38,600 with the U^T copy
