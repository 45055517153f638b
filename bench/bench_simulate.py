"""pytest-benchmark: plrf.simulate vs the NumPy references of plrf.testing, and plrf's normals vs NumPy's
(run: PYTHONPATH=python pytest bench/bench_simulate.py; the full table: python bench/simulate_table.py)."""
import numpy as np
import pytest

import plrf
from plrf import _core
from plrf.testing import numpy_eigen, numpy_full, simulator_spectrum

STEPS = 200


@pytest.fixture(scope="module")
def small_problem():
    problem = plrf.PLRF(1.0, 0.5, 1000, seed=0)
    problem.spectrum()
    return problem


@pytest.mark.parametrize("batch", [1, 32, 1024])
@pytest.mark.parametrize("d", [1000, 4000])
def test_eigen_plrf(benchmark, d, batch):
    spec = simulator_spectrum(d)
    opt = plrf.defaults(spec, batch)["dana_decaying"]
    benchmark(lambda: plrf.simulate(spec, opt, STEPS, batch=batch, seeds=1, threads=1, record=[0, STEPS]))


@pytest.mark.parametrize("batch", [1, 32])
@pytest.mark.parametrize("d", [1000, 4000])
def test_eigen_numpy(benchmark, d, batch):
    spec = simulator_spectrum(d)
    opt = plrf.defaults(spec, batch)["dana_decaying"]
    rng = np.random.default_rng(0)
    benchmark(lambda: numpy_eigen(spec, opt, STEPS, batch, 1, rng))


@pytest.mark.parametrize("threads", [1, 2])
def test_eigen_plrf_8_seeds(benchmark, threads):
    spec = simulator_spectrum(4000)
    opt = plrf.defaults(spec, 1)["dana_decaying"]
    benchmark(lambda: plrf.simulate(spec, opt, STEPS, seeds=8, threads=threads, record=[0, STEPS]))


def test_full_plrf(benchmark, small_problem):
    opt = plrf.defaults(small_problem.spectrum(), 1)["dana_decaying"]
    benchmark(lambda: plrf.simulate(small_problem, opt, STEPS, seeds=1, threads=1, space="full", record=[0, STEPS]))


def test_full_numpy(benchmark, small_problem):
    opt = plrf.defaults(small_problem.spectrum(), 1)["dana_decaying"]
    W, rng = small_problem.W, np.random.default_rng(0)
    benchmark(lambda: numpy_full(small_problem, W, opt, STEPS, 1, 1, rng))


@pytest.mark.parametrize("n", [4000, 1_000_000])
def test_normals_plrf(benchmark, n):
    benchmark(lambda: _core.normals(1, 1, 0, 0, n))


@pytest.mark.parametrize("n", [4000, 1_000_000])
def test_normals_numpy(benchmark, n):
    gen = np.random.default_rng(0)
    benchmark(lambda: gen.standard_normal(n))
