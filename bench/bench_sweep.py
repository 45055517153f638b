"""pytest-benchmark: a small exact-risk sweep, serial vs a 2-worker local pool
(run: pytest bench/bench_sweep.py; CI: --benchmark-disable as a smoke test)."""
import pytest

import plrf
from plrf.cli.bench import sweep_configs
from plrf.sweep import run as sweep

pytestmark = pytest.mark.skipif(not hasattr(plrf, "exact_risk"), reason="plrf.exact_risk not in this build")


@pytest.mark.parametrize("workers", [1, 2])
def test_sweep_exact(benchmark, tmp_path, workers):
    grid = sweep_configs(n_configs=40, steps=2_000)
    stores = iter(range(10**6))
    rep = benchmark.pedantic(lambda: sweep(grid, store=tmp_path / str(next(stores)), workers=workers, progress=False),
                             rounds=1, iterations=1)
    assert rep.computed == len(grid) and not rep.failed
