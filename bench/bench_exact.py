"""pytest-benchmark for plrf.exact_risk and theory spectra
(run: PYTHONPATH=python pytest bench/bench_exact.py; the full table: python bench/exact_table.py)."""
import pytest

import plrf
from plrf.testing import power_law_spectrum


@pytest.mark.parametrize("name", ["sgd", "dana_decaying"])
@pytest.mark.parametrize("d", [1_000, 100_000])
def test_exact_recursion(benchmark, d, name):
    spec = power_law_spectrum(d)
    opt = plrf.defaults(spec, 1)[name]
    steps = int(1e8 / d)
    benchmark(lambda: plrf.exact_risk(spec, opt, steps, record=[0, steps], threads=1))


@pytest.mark.parametrize("name", ["sgd", "dana_decaying"])
def test_fast_1e9_steps_d1e4(benchmark, name):
    spec = power_law_spectrum(10_000)
    opt = plrf.defaults(spec, 1)[name]
    benchmark(lambda: plrf.exact_risk(spec, opt, 10**9, method="fast"))


def test_ode_1e6_steps_d1000(benchmark):
    spec = power_law_spectrum(1_000)
    opt = plrf.defaults(spec, 1)["dana_decaying"]
    benchmark(lambda: plrf.exact_risk(spec, opt, 10**6, method="ode"))


@pytest.mark.parametrize("method", ["closed-form", "self-consistent"])
def test_theory_spectrum_d1e5(benchmark, method):
    benchmark(lambda: plrf.Spectrum.theory(1.0, 0.8, 100_000, method=method))


def test_theory_spectrum_d1e9_compressed(benchmark):
    benchmark(lambda: plrf.Spectrum.theory(1.0, 0.8, 10**9))


def test_fast_d1e9_to_1e12_compressed(benchmark):
    spec = plrf.Spectrum.theory(1.0, 0.8, 10**9)
    opt = plrf.defaults(spec, 1)["dana_decaying"]
    benchmark(lambda: plrf.exact_risk(spec, opt, 10**12, method="fast", threads=1))
