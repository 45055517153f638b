import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def fake_engines():
    """Register the cheap engines of tests/sweep_fakes.py for one test, then restore the registry."""
    import sweep_fakes
    from plrf.sweep import tasks as sweep_tasks

    saved = dict(sweep_tasks.ENGINES)
    for name in ("numpy_exact", "noisy_seeds", "sleepy", "failing", "exploding", "interrupted"):
        sweep_tasks.register_engine(name, getattr(sweep_fakes, name), seeded=name == "noisy_seeds")
    yield
    sweep_tasks.ENGINES.clear()
    sweep_tasks.ENGINES.update(saved)
