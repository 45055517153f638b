"""`python -m plrf frontier`: help text, the pipeline on synthetic curves, and end to end on the engine."""
import types

import numpy as np
import pytest

from plrf.cli import frontier as cli_frontier
from plrf.__main__ import main

pytest.importorskip("matplotlib")


def test_help_is_there(capsys):
    with pytest.raises(SystemExit) as e:
        main(["frontier", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "f = steps x B x d" in out and "--optimizer" in out and "Example" in out


def test_bad_arguments_are_explained(capsys):
    assert main(["frontier", "--alpha", "0.1", "--beta", "0.2"]) == 2
    assert "degenerate" in capsys.readouterr().err
    assert main(["frontier", "--alpha", "1", "--beta", "0.3", "--d-min", "100", "--d-max", "10"]) == 2
    assert "d-min" in capsys.readouterr().err


def test_pipeline_on_synthetic_curves(tmp_path, capsys):
    def fake(alpha, beta, optimizer, ds, steps, batch):
        t = np.unique(np.round(np.geomspace(1, steps, 200)))
        return {d: (t, t**-0.5 + float(d) ** -1.0) for d in ds}

    args = types.SimpleNamespace(alpha=1.0, beta=0.3, optimizer="sgd", d_min=10, d_max=1e4, n_d=25,
                                 steps=1e9, batch=1, out=str(tmp_path / "fr.png"))
    assert cli_frontier.run(args, measure=fake) == 0
    out = capsys.readouterr().out
    iso = [line for line in out.splitlines() if line.strip().startswith("isoflop")][0]
    assert float(iso.split()[1]) == pytest.approx(1 / 3, abs=3e-3)  # xi = a/(a+b) of the planted curves
    assert "0.3333 (derived)" in out and "phase Ia" in out
    assert (tmp_path / "fr.png").stat().st_size > 5000


def test_end_to_end_on_the_engine(tmp_path, capsys):
    """Theory spectra, exact_risk(method="fast"), frontier, table and PNG, on a tiny grid."""
    out = tmp_path / "e2e.png"
    assert main(["frontier", "--alpha", "1", "--beta", "0.3", "--optimizer", "dana_decaying", "--d-min", "20",
                 "--d-max", "320", "--n-d", "9", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "approach1" in text and "isoflop" in text and "0.4286 (derived)" in text
    assert out.with_suffix(".png").stat().st_size > 5000
