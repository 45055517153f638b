"""`python -m plrf demo --optimizers` (issue #23): SGD, DANA, signSGD and Adam side by side, table and figure."""
import re

import numpy as np

from plrf.cli import main
from plrf.cli.optimizers_demo import LR_GRID


def test_demo_optimizers_prints_four_rows_and_writes_the_figure(tmp_path, capsys):
    out = tmp_path / "d.png"
    assert main(["demo", "--optimizers", "--d", "24", "--steps", "60", "--seeds", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^(sgd|dana_decaying|sign_sgd|adam) .*$", text, re.M)}
    assert set(rows) == {"sgd", "dana_decaying", "sign_sgd", "adam"}
    assert "DE" in rows["sign_sgd"] and rows["adam"].split()[5] == "-"  # signSGD's DE at B = 1; Adam has none
    for name in ("sign_sgd", "adam"):  # the tuned lr is a grid point
        assert np.isclose(float(rows[name].split()[1]), LR_GRID, rtol=2e-3).any()
    png = tmp_path / "d-optimizers.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_optimizers_without_figure(capsys):
    args = ["demo", "--optimizers", "--d", "16", "--steps", "20", "--seeds", "2", "--batch", "4", "--out", ""]
    assert main(args) == 0
    assert "sign_sgd" in capsys.readouterr().out  # at B = 4 signSGD has no DE: the row says "-"


def test_sign_de_is_labelled_approximate_in_figures():
    """The demo's figure draws signSGD's DE: its legend must say approximate, not exact or "reference"."""
    import plrf
    from plrf.sign_de import sign_sgd_de

    spec = plrf.PLRF(alpha=1.0, beta=0.5, d=16, v=32, seed=0).spectrum(keep_vectors=True)
    assert "approximate" in plrf.plot._what(sign_sgd_de(spec, 1e-3, 10))
