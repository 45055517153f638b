"""`python -m plrf frontier` prints a verdict per exponent and states the budgets it trims at the grid's ends."""
import types

import numpy as np
import pytest

from plrf.cli import frontier as cli_frontier

pytest.importorskip("matplotlib")


def _fake(alpha, beta, optimizer, ds, steps, batch):
    t = np.unique(np.round(np.geomspace(1, steps, 200)))
    return {d: (t, t**-0.5 + float(d) ** -1.0) for d in ds}  # xi = 1/3, eta = 1/3


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    import contextlib
    import io

    args = types.SimpleNamespace(alpha=1.0, beta=0.3, optimizer="sgd", d_min=10, d_max=1e4, n_d=25,
                                 steps=1e9, batch=1, out=str(tmp_path_factory.mktemp("fr") / "fr.png"))
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        assert cli_frontier.run(args, measure=_fake) == 0
    return text.getvalue()


def test_verdicts_agree_and_disagree_with_theory(out):
    # theory xi = 1/3 agrees with the planted 1/3; theory eta = 0.533 is far from the planted 1/3
    iso = [line for line in out.splitlines() if line.strip().startswith("isoflop") and "xi " in line][0]
    assert "xi agrees" in iso and "eta disagrees (0.5333 is" in iso and "above the interval" in iso
    assert "verdict against theory at the 95% interval" in out


def test_edge_budgets_at_the_ends_are_trimmed_and_stated_not_warned(out):
    assert "left out:" in out and "budgets below f =" in out and "warning" not in out


def test_an_edge_optimum_between_interior_ones_is_a_warning():
    flops = np.geomspace(1, 1e6, 7)
    fr = types.SimpleNamespace(flops=flops, envelope=np.ones(7),
                               edge=np.array([True, False, False, True, False, False, True]))
    lines = cli_frontier.edge_summary(fr)
    assert "left out: 1 budgets below f = 10 and 1 above f = 1e+05" in lines[0]
    assert lines[1].startswith("warning: 1 budgets between interior ones")


@pytest.mark.parametrize("value, expected", [(0.5, "agrees"), (0.3, "disagrees (0.3000 is 0.1000 below"),
                                             (0.8, "disagrees (0.8000 is 0.2000 above")])
def test_verdict_text(value, expected):
    assert cli_frontier.verdict(value, (0.4, 0.6)).startswith(expected)
