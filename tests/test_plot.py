"""plrf.plot writes non-empty figures (Agg backend), and says how to install matplotlib when absent."""
import builtins
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")  # an optional extra ("plrf[plot]"); CI installs it
matplotlib.use("Agg")

from plrf import Curve, Curves, plot  # noqa: E402
from plrf.frontier import FrontierWarning, frontier  # noqa: E402
from plrf.theory import compute_optimal  # noqa: E402


def _png_ok(path):
    data = path.read_bytes()
    return len(data) > 5000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def test_curves_with_seed_bands_and_exact_overlay(tmp_path):
    steps = np.concatenate([[0], np.unique(np.round(np.geomspace(1, 1e4, 40)))]).astype(np.int64)
    rng = np.random.default_rng(0)
    mean = 1.0 / (1 + steps) ** 0.8
    mc = Curves(steps, mean * np.exp(0.1 * rng.standard_normal((16, steps.size))), np.arange(16), meta={"optimizer": "sgd"})
    exact = Curve(steps, mean)
    fig = plot.curves(mc, exact, path=tmp_path / "curves.png")
    assert _png_ok(tmp_path / "curves.png")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and "steps" in ax.get_xlabel()


def test_frontier_figure(tmp_path):
    steps = np.unique(np.round(np.geomspace(1, 1e7, 120)))
    curves = {int(d): (steps, steps**-0.5 + d**-1.0) for d in np.geomspace(10, 1e4, 13).round()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrontierWarning)
        fr = frontier(curves, 2)
    fig = plot.frontier(fr, theory=compute_optimal(1.0, 0.3), path=tmp_path / "frontier.png")
    assert _png_ok(tmp_path / "frontier.png")
    assert "flops f = steps x B x d" in fig.axes[0].get_xlabel()


def test_frontier_figure_without_an_interior_optimum_warns_nothing(tmp_path):
    """Risk that only falls with d puts every optimum at the d-grid's edge: no fit, nothing labelled
    in the d* panel, and matplotlib's "No artists with labels" warning must not reach the user."""
    steps = np.unique(np.round(np.geomspace(1, 1e5, 60)))
    curves = {int(d): (steps, 1.0 + 0.0 * steps + 1.0 / d) for d in np.geomspace(10, 1e3, 7).round()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FrontierWarning)
        fr = frontier(curves, 1)
    assert len(fr.isoflop.flops) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot.frontier(fr, path=tmp_path / "edge.png")
    assert _png_ok(tmp_path / "edge.png")


def test_phase_diagram(tmp_path):
    plot.phase_diagram("eta", "sgd", measured={(1.0, 0.3): 0.52}, n=60, path=tmp_path / "phases.png")
    assert _png_ok(tmp_path / "phases.png")
    plot.phase_diagram("xi", "dana_decaying", n=40, path=tmp_path / "dana.png")
    assert _png_ok(tmp_path / "dana.png")
    with pytest.raises(ValueError, match="quantity"):
        plot.phase_diagram("zeta")


def test_missing_matplotlib_message(monkeypatch):
    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"pip install \"plrf\[plot\]\""):
        plot._pyplot()
