"""Smoke tests of the scaling-rule and coordinate-wise exponent bench scripts at tiny sizes (a few seconds;
the bench stage runs `pytest bench --benchmark-disable`). They check the scripts run end to end, write
their figures, and that the break criterion of the scaling-rule tables can both pass and fail."""
import math

import coordinatewise_exponents as ce
import numpy as np
import scaling_rules_table as sr


def test_scaling_rules_script_runs_and_writes_its_figure(tmp_path, capsys):
    path = tmp_path / "rules.png"
    results = sr.main(["--d", "8", "--seeds", "3", "--samples", "256", "--figure", str(path)])
    assert path.stat().st_size > 0
    out = capsys.readouterr().out
    assert out.count("| 64 |") == 3 * len(sr.PROBLEMS)  # every rule's table reaches kappa = 64
    for res in results:
        assert set(res["rules"]) == {"Adam", "RMSprop", "SGD"}
        assert [run.kappa for run in res["rules"]["SGD"]] == list(sr.KAPPAS)


def test_scaling_rule_break_criterion_passes_and_fails():
    base = sr.RuleRun(1, np.ones(2), np.zeros(2), np.array([1.0, 1.02, 0.98]))
    same = sr.RuleRun(2, np.ones(2), np.zeros(2), np.array([1.01, 0.99, 1.0]))
    far = sr.RuleRun(4, np.ones(2), np.zeros(2), np.array([1.5, 1.52, 1.48]))  # +50%, ~20 standard errors
    noisy = sr.RuleRun(8, np.ones(2), np.zeros(2), np.array([0.2, 2.8, 1.5]))  # +50% but within 3 SE
    assert sr.break_kappa([base, same]) is None
    assert sr.break_kappa([base, same, far]) == 4
    assert sr.break_kappa([base, noisy]) is None
    assert sr.breaks(math.inf, 0.0)  # a diverged run breaks the rule


def test_square_root_rule_clamps_beta1_past_one_over_one_minus_beta1():
    assert math.isclose(sr._beta(8, 0.9), 0.2)
    assert sr._beta(16, 0.9) == 0.0


def test_coordinatewise_exponents_script_runs_and_writes_its_figure(tmp_path, capsys):
    results = ce.main(["--steps", "300", "1000", "3000", "--seeds", "2", "--d-mc", "8", "16", "24",
                       "--d-de", "8", "16", "24"])
    out = capsys.readouterr().out
    assert out.count("| signSGD DE |") >= 3 * len(ce.CASES)
    for alpha, beta, fits, isos, _ in results:  # plus the DE cut to the Monte Carlo's design
        assert set(fits) == set(ce.OPTIMIZERS) | {"signSGD DE @MC"}
    path = tmp_path / "exponents.png"
    fig = ce.figure(results, path)
    assert path.stat().st_size > 0
    for ax in fig.axes[::2]:  # the curve panels: every optimizer's E[P] - p_inf is drawn, not all NaN
        assert len(ax.lines) == len(ce.OPTIMIZERS)
        assert all(np.isfinite(line.get_ydata()).any() for line in ax.lines)


def test_sign_lr_puts_the_sign_sgd_floor_at_its_target():
    import plrf
    from plrf.sign_de import sign_sgd_fixed_point

    spec = plrf.PLRF(alpha=1.0, beta=0.3, d=16, v=32, seed=0).spectrum()
    assert math.isclose(sign_sgd_fixed_point(spec, ce.sign_lr(spec)), ce.FLOOR * spec.p_inf, rel_tol=1e-9)
