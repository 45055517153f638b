"""Issue 20's small frictions: short reprs, plrf.load by what it is given, one --out convention for
every subcommand, and the demo figure (the fitted large-d curves, their slopes, theory and P_inf,
at a default (alpha, beta) inside a phase)."""
import types

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import plrf  # noqa: E402
from plrf.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def spec():
    return plrf.Spectrum.theory(1.0, 0.3, 400)


# ---- reprs ---------------------------------------------------------------------------------------
def test_reprs_summarise_instead_of_printing_arrays(spec):
    opt = plrf.defaults(spec, 1)["sgd"]
    c = plrf.exact_risk(spec, opt, 10**5, record=plrf.record_grid(10**5, 200), method="fast")
    mc = plrf.simulate(spec, opt, 10**4, seeds=3, record=plrf.record_grid(10**4, 200))
    for obj, head in ((c, "Curve(sgd, method='fast', d=400, "), (mc, "Curves(sgd, d=400, 3 seeds x ")):
        text = repr(obj)
        assert text.startswith(head) and len(text) < 200 and "array" not in text, text
    assert f"-> {c.risk[-1]:.4g}" in repr(c) and f"{len(c.steps)} records" in repr(c)


# ---- plrf.load -----------------------------------------------------------------------------------
def test_load_reads_a_spectrum_file(spec, tmp_path):
    path = spec.save(tmp_path / "spec.npz")
    assert plrf.load(path) == spec
    assert plrf.load(str(path)) == spec


def test_load_reads_a_store_folder(tmp_path):
    cfgs = plrf.sweep.grid(alpha=1.0, beta=0.3, d=[16], optimizer="sgd", steps=100, engine="exact")
    plrf.sweep.run(cfgs, store=tmp_path / "results", progress=False, workers=1)
    df = plrf.load(tmp_path / "results")
    assert list(df.d.unique()) == [16] and "risk" in df.columns


@pytest.mark.parametrize("name,why", [("missing.npz", "does not exist"), ("notes.txt", "is neither")])
def test_load_refuses_anything_else_naming_the_path(tmp_path, name, why):
    path = tmp_path / name
    if name.endswith(".txt"):
        path.write_text("hello")
    with pytest.raises(ValueError, match=why) as exc:
        plrf.load(path)
    assert str(path) in str(exc.value) and "spectrum file" in str(exc.value) and "store" in str(exc.value)


# ---- --out ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["demo", "--out", "plrf-demo"],
    ["frontier", "--alpha", "1", "--beta", "0.3", "--out", "plrf-frontier"],
    ["bench", "--out", "bench.txt"],
])
def test_every_subcommand_takes_out_as_a_path_with_a_suffix(argv, capsys):
    """Refused before any work (exit 2, the option named): the old prefix form of frontier included."""
    assert main(argv) == 2
    assert "--out" in capsys.readouterr().err


@pytest.mark.parametrize("cmd", ["demo", "frontier", "bench"])
def test_out_is_documented_the_same_way(cmd, capsys):
    with pytest.raises(SystemExit):
        main([cmd, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--out OUT path of the" in text and "its suffix names the format" in text


def test_frontier_writes_the_figure_at_the_path_given(tmp_path, capsys):
    from plrf.cli import frontier as cli_frontier

    def fake(alpha, beta, optimizer, ds, steps, batch):
        t = np.unique(np.round(np.geomspace(1, steps, 200)))
        return {d: (t, t**-0.5 + float(d) ** -1.0) for d in ds}

    out = tmp_path / "fr.pdf"
    args = types.SimpleNamespace(alpha=1.0, beta=0.3, optimizer="sgd", d_min=10, d_max=1e4, n_d=9, steps=1e9,
                                 batch=1, out=str(out))
    assert cli_frontier.run(args, measure=fake) == 0
    assert out.read_bytes()[:4] == b"%PDF" and f"wrote {out}" in capsys.readouterr().out


# ---- the demo's figure ---------------------------------------------------------------------------
def test_the_demo_default_lies_inside_a_phase():
    from plrf.cli import demo

    parser = __import__("argparse").ArgumentParser()
    demo.add_parser(parser.add_subparsers())
    args = parser.parse_args(["demo"])
    a, b = args.alpha, args.beta
    around = {plrf.theory.phase(a + da, b + db) for da in (-0.05, 0, 0.05) for db in (-0.05, 0, 0.05)}
    assert around == {plrf.theory.phase(a, b)}, around


def test_the_demo_figure_shows_the_fitted_curves(tmp_path, monkeypatch, capsys):
    from plrf import plot

    figs = []
    finish = plot._finish
    monkeypatch.setattr(plot, "_finish", lambda fig, path: figs.append(fig) or finish(fig, path))
    out = tmp_path / "demo.png"
    assert main(["demo", "--d", "40", "--steps", "300", "--seeds", "2", "--exact-steps", "3000", "--fit-d", "1e7",
                 "--fit-steps", "1e8", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    right = figs[-1].axes[1]
    labels = [line.get_label() for line in right.get_lines()]
    assert [lb for lb in labels if lb in ("sgd", "sgd_momentum", "dana_decaying")] == ["sgd", "sgd_momentum",
                                                                                      "dana_decaying"]
    fits = [lb for lb in labels if lb.startswith("fit t^-")]
    table = capsys.readouterr().out
    assert len(fits) == 3 and all(f"t^-{lb.split('t^-')[1].split()[0]}" for lb in fits)
    for lb in fits:  # the slopes drawn are the table's exponents
        assert f" {lb.split('t^-')[1].split()[0]} [" in table
    assert "theory slopes" in labels and any(lb.startswith("P_inf = ") for lb in labels)
    assert "1e+07" in right.get_title()
    plt.close("all")
