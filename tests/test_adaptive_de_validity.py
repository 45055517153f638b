"""The adaptive deterministic equivalent says where it was measured to hold (docs/adaptive.md §3)."""
import pathlib

import plrf
from plrf import controllers

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_de_curve_carries_its_validity_region():
    spec = plrf.Spectrum.theory(0.3, 0.7, 64)
    de = plrf.exact_risk(spec, plrf.chain(plrf.sgd(1.0), controllers.adagrad_norm()), 100)
    assert de.meta["approximation"] == "deterministic equivalent"
    assert "docs/adaptive.md §3" in de.meta["approximation_error"] and "alpha >= 1" in de.meta["approximation_error"]


def test_plain_exact_risk_claims_no_approximation():
    c = plrf.exact_risk(plrf.Spectrum.theory(0.3, 0.7, 64), plrf.sgd(0.1), 100)
    assert "approximation" not in c.meta and "approximation_error" not in c.meta


def test_adaptive_docs_show_the_map_and_its_region():
    text = (REPO / "docs/adaptive.md").read_text()
    assert "bench/adaptive_de_map.py" in text and "(adaptive_de_map.png)" in text
    assert (REPO / "docs/adaptive_de_map.png").is_file() and "**Validity region**" in text
    assert "adaptive_de.png" not in text  # the d = 64 table it replaces
