"""The privacy-utility curve (plrf.privacy.utility, docs/privacy.md) on a small problem.

The best risk can only fall as epsilon grows (less noise, same grids) and stays above the best
non-private risk on the same grids; its optimum is inside the clip grid. A planted twin that
ignores the noise (noise multiplier 0 at every epsilon) would make the curve flat: rejected by the
strict decrease asserted here.
"""
import pytest

import plrf
from plrf.privacy import utility


@pytest.mark.slow  # ~8 s on a loaded machine, most of it importing dp-accounting
def test_best_risk_falls_with_epsilon_and_stays_above_the_nonprivate_risk():
    pytest.importorskip("dp_accounting")
    spec = plrf.Spectrum.theory(0.7, 0.4, 20)
    pts = utility.curve(spec, 400, 4, [0.5, 4.0], 1e-5, schedules=("constant",))
    base = utility.nonprivate_risk(spec, 400, 4)
    assert pts[0].risk > pts[1].risk > base
    assert all(p.clip_factor in utility.CLIP_FACTORS and p.noise_multiplier > 0 for p in pts)


def test_bad_utility_inputs_name_the_argument():
    spec = plrf.Spectrum.theory(0.7, 0.4, 20)
    with pytest.raises(ValueError, match="n must be >= batch"):
        utility.best_risk(spec, 2, 4, 1.0)
    with pytest.raises(ValueError, match="schedule"):
        utility.best_risk(spec, 40, 4, 1.0, schedule="cosine")
