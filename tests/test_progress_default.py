"""progress="auto" (the default of simulate, resume and exact_risk): a bar when the call is estimated
above plrf._progress.AUTO_SECONDS, silence otherwise or when asked; every bar has a total and a unit
a user understands, and ends full. A fake tqdm is injected, so nothing is printed."""
import numpy as np
import pytest

import plrf
from plrf import _cost, _progress


class FakeBar:
    made = []

    def __init__(self, total=None, unit=None, desc=None):
        self.total, self.unit, self.desc, self.n, self.steps, self.closed = total, unit, desc, 0, [], False
        FakeBar.made.append(self)

    def update(self, k):
        assert k > 0, "a bar never moves back"
        self.n += k
        self.steps.append(self.n)

    def close(self):
        self.closed = True


@pytest.fixture
def bars(monkeypatch):
    FakeBar.made = []
    monkeypatch.setattr(_progress, "_tqdm", lambda: FakeBar)
    return FakeBar.made


@pytest.fixture
def expensive(monkeypatch):
    """Every call is estimated at a minute."""
    monkeypatch.setattr(_cost, "simulate_seconds", lambda job, n: 60.0)
    monkeypatch.setattr(_cost, "exact_seconds", lambda *a: 60.0)


@pytest.fixture(scope="module")
def spec():
    return plrf.Spectrum.theory(1.0, 0.5, 200)


def test_tiny_calls_show_no_bar_by_default(bars, spec):
    opt = plrf.defaults(spec, 1)["sgd"]
    plrf.simulate(spec, opt, 100, seeds=2)
    for method in ("exact", "fast", "ode"):
        plrf.exact_risk(spec, opt, 1000, method=method)
    assert bars == []


def test_a_call_estimated_above_the_threshold_shows_a_bar_by_default(bars, expensive, spec):
    opt = plrf.defaults(spec, 1)["sgd"]
    plrf.simulate(spec, opt, 300, seeds=3)
    (bar,) = bars
    assert (bar.total, bar.unit, bar.n, bar.closed) == (900, "seed-step", 900, True)


def test_progress_false_silences_an_expensive_call(bars, expensive, spec):
    opt = plrf.defaults(spec, 1)["sgd"]
    plrf.simulate(spec, opt, 300, seeds=3, progress=False)
    plrf.exact_risk(spec, opt, 1000, progress=False)
    plrf.exact_risk(spec, opt, 1000, progress=None)
    assert bars == []


def test_the_threshold_is_the_estimate(bars, monkeypatch, spec):
    opt = plrf.defaults(spec, 1)["sgd"]
    for seconds, shown in ((_progress.AUTO_SECONDS * 0.9, 0), (_progress.AUTO_SECONDS * 1.1, 1)):
        monkeypatch.setattr(_cost, "exact_seconds", lambda *a, s=seconds: s)
        bars.clear()
        plrf.exact_risk(spec, opt, 1000)
        assert len(bars) == shown


@pytest.mark.parametrize("method,unit", [("exact", "step"), ("fast", "%"), ("ode", "point"),
                                         ("continuous", "step")])
def test_exact_risk_bars_have_a_total_and_end_full(bars, expensive, spec, method, unit):
    opt = plrf.defaults(spec, 1)["sgd"]
    steps = 3000 if method == "continuous" else 10**6 if method != "exact" else 5000
    plrf.exact_risk(spec, opt, steps, method=method)
    (bar,) = bars
    assert bar.unit == unit and bar.total is not None and bar.total > 0
    assert bar.n == bar.total and bar.closed and np.all(np.diff(bar.steps) > 0)
    if method in ("exact", "continuous"):
        assert bar.total == steps


def test_experts_bars_count_steps_of_one_learner(bars, expensive, spec):
    opt = plrf.defaults(spec, 1)["sgd"]
    plrf.exact_risk(spec, plrf.chain(opt, plrf.Experts.zipf(3, 1.0)), 4000)
    (bar,) = bars
    assert (bar.total, bar.unit, bar.n) == (4000, "step", 4000)


def test_a_callable_gets_the_bars_units_up_to_the_total(spec):
    opt = plrf.defaults(spec, 1)["dana_decaying"]
    seen = []
    plrf.exact_risk(spec, opt, 10**7, method="fast", progress=seen.append)
    assert seen and seen[-1] == 100 and all(isinstance(v, int) for v in seen) and seen == sorted(seen)


def test_resume_defaults_to_auto(bars, expensive, spec, tmp_path):
    opt = plrf.defaults(spec, 1)["sgd"]
    path = tmp_path / "run.ckpt"
    plrf.simulate(spec, opt, 200, seeds=2, checkpoint=path, progress=False)
    bars.clear()
    plrf.resume(path)
    (bar,) = bars
    assert (bar.total, bar.unit, bar.n) == (400, "seed-step", 400)


def test_the_issues_slow_calls_are_estimated_above_the_threshold():
    """exact_risk(method="fast") at d = 1e6 to T = 1e9 (106 s uncompressed, issue 20) and a Monte Carlo
    run of 32 seeds x 1e5 steps at d = 1e4 are estimated above a few seconds; a tiny call far below."""
    rec = plrf.record_grid(10**9)
    assert _cost.exact_seconds("fast", False, 10**6, rec, 1e-4, 0.01) > _progress.AUTO_SECONDS
    assert _cost.exact_seconds("exact", True, 100, plrf.record_grid(1000), 1e-4, 0.01) < 0.01


def test_the_fast_bar_moves_evenly_in_blocks_not_steps():
    """Half the fine pass's blocks are done long before half its steps: the bar follows blocks."""
    rec = plrf.record_grid(10**9)
    bar = _cost.exact_bar("fast", rec, 1e-4, 0.01)
    scale = bar["scale"]
    assert bar["total"] == 100 and scale(0) == 0 and scale(2 * 10**9) == pytest.approx(100)
    assert 20 < scale(10**5) < 50  # 1e-4 of the steps: a large share of the blocks
    assert scale(10**9) < 100 and scale(10**9) == pytest.approx(100 * _cost._fast_blocks(10**9, 10**9, 1e-4, rec)
                                                                 / _cost._fast_blocks(2 * 10**9, 10**9, 1e-4, rec))


def test_auto_is_the_only_string_accepted():
    with pytest.raises(ValueError, match="progress must be 'auto'"):
        _progress.Progress("yes")


def test_sweep_tasks_run_without_a_bar_of_their_own(bars, expensive, tmp_path):
    """A sweep has its own bar (configs); its tasks, run in workers, must not each open another."""
    cfgs = plrf.sweep.grid(alpha=1.0, beta=0.3, d=[16, 32], optimizer="sgd", steps=200, engine="exact")
    plrf.sweep.run(cfgs, store=tmp_path / "store", progress=False, workers=1)
    assert bars == []
