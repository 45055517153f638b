"""`progress=` follows one rule in every entry point (plrf._progress): False/None, True (a tqdm bar),
a tqdm-like class or object, or a callable taking the work done so far."""
import numpy as np
import pytest

import plrf
from plrf import sweep


class Bar:
    """A tqdm-like object: counts what it is told, and is never closed by plrf (its owner closes it)."""

    def __init__(self, total=None, unit=None, desc=None):
        self.n, self.closed, self.total = 0, False, total

    def update(self, k):
        self.n += k

    def close(self):
        self.closed = True


@pytest.fixture(scope="module")
def spec():
    j = np.arange(1, 101, dtype=float)
    return plrf.Spectrum(j**-2.0, j**-1.0, 1e-3)


def _simulate(spec, progress):
    plrf.simulate(spec, plrf.sgd(0.1), 3000, seeds=2, progress=progress)
    return 3000 * 2  # seed-steps


def _exact(spec, progress):
    plrf.exact_risk(spec, plrf.sgd(0.1), 200_000, progress=progress)


def _sweep(spec, progress, tmp_path):
    g = sweep.grid(alpha=1.0, beta=0.5, d=[8, 12], optimizer="sgd", steps=50, engine="exact")
    sweep.run(g, store=tmp_path, workers=1, progress=progress)
    return len(g)


def test_a_callable_sees_the_work_done_grow(spec, tmp_path):
    for run in (_simulate, _exact):
        seen = []
        total = run(spec, seen.append)
        assert seen and seen == sorted(seen) and all(isinstance(x, int) for x in seen)
        if total:
            assert seen[-1] == total
    seen = []
    assert _sweep(spec, seen.append, tmp_path) == seen[-1] == 2


def test_a_tqdm_like_object_is_advanced_and_left_open(spec, tmp_path):
    bar = Bar()
    _simulate(spec, bar)
    assert bar.n == 6000 and not bar.closed
    bar = Bar()
    _sweep(spec, bar, tmp_path)
    assert bar.n == 2 and not bar.closed


def test_a_tqdm_like_class_makes_a_bar(spec, tmp_path):
    made = []

    class Made(Bar):
        def __init__(self, **kw):
            super().__init__(**kw)
            made.append(self)

    _simulate(spec, Made)
    assert made[-1].total == 6000 and made[-1].n == 6000 and made[-1].closed


@pytest.mark.parametrize("run,desc", [(_simulate, "simulate sgd"), (_exact, "exact_risk exact")])
@pytest.mark.parametrize("progress", [True, False, None])
def test_true_draws_a_tqdm_bar_false_and_none_are_silent(spec, run, desc, progress, capsys):
    run(spec, progress)
    assert (desc in capsys.readouterr().err) == (progress is True)


@pytest.mark.parametrize("run", [_simulate, _exact])
def test_anything_else_is_a_value_error_naming_progress(spec, run):
    with pytest.raises(ValueError, match="progress"):
        run(spec, "yes")


def test_curve_and_curves_meta_agree(spec):
    """meta["optimizer"] is the optimizer's name in Curve (exact_risk) and Curves (simulate) alike."""
    opt = plrf.dana_decaying(0.1, 0.1, 3.0, alpha=1.0)
    mc = plrf.simulate(spec, opt, 100, seeds=2)
    ex = plrf.exact_risk(spec, opt, 100)
    shared = {k for k in mc.meta if k in ex.meta}
    assert {"optimizer", "batch", "steps"} <= shared
    assert {k: mc.meta[k] for k in shared} == {k: ex.meta[k] for k in shared}
    assert ex.meta["optimizer"] == "dana_decaying"
