"""pytest-benchmark: spectral setup, plrf vs the NumPy reference (run: pytest bench/bench_setup.py)."""
import pytest

import plrf
from plrf.testing import numpy_setup

SIZES = [250, 500, 1000]


@pytest.mark.parametrize("d", SIZES)
def test_setup_plrf(benchmark, d):
    benchmark.pedantic(lambda: plrf.PLRF(1.0, 0.5, d, 4 * d, 0).spectrum(), rounds=3, iterations=1)


@pytest.mark.parametrize("d", SIZES)
def test_setup_numpy(benchmark, d):
    benchmark.pedantic(lambda: numpy_setup(1.0, 0.5, d, 4 * d, 0), rounds=3, iterations=1)
