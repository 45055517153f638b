import plrf
"""Plots that cannot mislead (issue 20): approximate curves are labelled approximate from their meta and
never "exact"; plot.curves draws exact curves alone and every one it is given, and refuses an empty
figure; the frontier figure draws the colour key and the theory lines its legend names. Checked on
the Axes' artists and labels, not on images."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import plrf  # noqa: E402
from plrf import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def spec():
    return plrf.Spectrum.theory(1.0, 0.5, 100)


def labels(fig, i=0):
    return [line.get_label() for line in fig.axes[i].get_lines()]


def test_exact_curves_alone_are_drawn(spec):
    o = plrf.defaults(spec, 1)
    c1, c2 = (plrf.exact_risk(spec, o[n], 1000) for n in ("sgd", "dana_decaying"))
    fig = plot.curves({}, exact=[c1, c2])
    assert labels(fig) == ["sgd: exact E[P]", "dana_decaying: exact E[P]"]


def test_exact_curves_beyond_the_items_are_not_dropped(spec):
    o = plrf.defaults(spec, 1)
    mc = plrf.simulate(spec, o["sgd"], 300, seeds=2)
    extra = [plrf.exact_risk(spec, o[n], 300) for n in ("sgd", "sgd_momentum", "dana_decaying")]
    fig = plot.curves({"mc": mc}, exact=extra)
    drawn = labels(fig)
    assert "mc: exact E[P]" in drawn and "sgd_momentum: exact E[P]" in drawn and "dana_decaying: exact E[P]" in drawn
    colors = [line.get_color() for line in fig.axes[0].get_lines()][-2:]
    assert colors[0] != colors[1]


def test_an_empty_figure_is_refused():
    with pytest.raises(ValueError, match="nothing to draw"):
        plot.curves({})
    with pytest.raises(ValueError, match="nothing to draw"):
        plot.curves([], exact=[])


def test_a_deterministic_equivalent_is_labelled_approximate(spec):
    opt = plrf.defaults(spec, 1)["sgd"]
    de = plrf.exact_risk(spec, plrf.chain(opt, plrf.controllers.adagrad_norm()), 1000)
    assert de.meta["approximation"]
    mc = plrf.simulate(spec, plrf.chain(opt, plrf.controllers.adagrad_norm()), 1000, seeds=2)
    for fig in (plot.curves({"ada": mc}, exact=[de]), plot.curves({"ada": de}), plot.curves({}, exact=de)):
        (label,) = [t for t in labels(fig) if "seed" not in t]
        assert "approximate" in label and "exact" not in label, label


@pytest.mark.parametrize("method,word", [("ode", "continuized ODE (approximate)"), ("fast", "E[P], fast solver"),
                                         ("continuous", "hsgd model of SGD (approximate)")])
def test_each_method_is_labelled_by_what_it_is(spec, method, word):
    c = plrf.exact_risk(spec, plrf.defaults(spec, 1)["sgd"], 1000, method=method)
    assert labels(plot.curves({}, exact=[c])) == [f"sgd: {word}"]


@pytest.fixture(scope="module")
def small_frontier():
    curves = {}
    for d in (16, 32, 64, 128, 256, 512):
        spec = plrf.Spectrum.theory(1.0, 0.3, d)
        curves[d] = plrf.exact_risk(spec, plrf.defaults(spec, 1)["sgd"], 200_000, method="fast")
    return plrf.frontier.frontier({d: (c.steps, c.risk) for d, c in curves.items()}, batch=1, n_boot=50, warn=False)


def test_the_frontier_draws_its_colour_key_and_theory_lines(small_frontier):
    th = plrf.theory.compute_optimal(1.0, 0.3, "sgd")
    fig = plot.frontier(small_frontier, theory=th)
    colorbars = [ax for ax in fig.axes if ax.get_ylabel() == "model size d"]
    assert len(colorbars) == 1  # the key of the per-d colours
    for i, name in ((0, "eta"), (2, "xi")):
        (line,) = [ln for ln in fig.axes[i].get_lines() if ln.get_label().startswith("theory")]
        x, y = line.get_xdata(), line.get_ydata()
        assert len(x) >= 2 and np.all(np.isfinite(y))  # a drawn line, not an empty legend entry
        slope = np.polyfit(np.log(x), np.log(y), 1)[0]
        assert slope == pytest.approx(-th.eta if name == "eta" else th.xi, rel=1e-9)
