"""Smoke tests of the scaling-law benches of docs/coordinatewise.md (bench/coordinatewise_exponents.py and
bench/rmsprop_break.py): tiny runs of their code paths, and the RMSprop floor model's two limits."""
from __future__ import annotations

import importlib.util
import math
import pathlib

import numpy as np
import pytest

import plrf

BENCH = pathlib.Path(__file__).resolve().parents[1] / "bench"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def exponents():
    return _load("coordinatewise_exponents")


@pytest.fixture(scope="module")
def rmsprop_break():
    return _load("rmsprop_break")


def test_exponents_bench_runs_one_case_with_the_mc_design(exponents, capsys):
    """--cases picks a phase; the Monte Carlo runs to t = flops / d at each d, and the DE is also cut to that
    design ("signSGD DE @MC") for the like-for-like eta."""
    (alpha, beta, fits, isos, _), = exponents.main(
        ["--cases", "III", "--steps", "8192", "512", "512", "--seeds", "2", "--d-mc", "16", "32", "64",
         "--d-de", "16", "32", "64"])
    assert (alpha, beta) == exponents.CASES["III"]
    assert set(isos) >= {"signSGD", "Adam", "signSGD DE @MC"}
    assert sorted(fits["signSGD DE @MC"]) == [16, 32, 64]
    out = capsys.readouterr().out
    assert "phase III" in out and "signSGD DE @MC" in out


def test_exponents_mc_steps_follow_the_flop_budget(exponents, monkeypatch):
    """Each Monte Carlo d runs flops // d steps (the same budget t d), with its seeds from mc_seeds."""
    calls = []

    def fake(problem, opt, steps, seeds, record, space, progress):
        calls.append((problem.d, steps, seeds))
        return type("C", (), {"risk": np.ones((seeds, len(record)))})()

    monkeypatch.setattr(exponents.plrf, "simulate", fake)
    exponents.curves_at(1.0, 0.3, 32, (4096, 64, 64), 8, True)
    exponents.curves_at(1.0, 0.3, 512, (4096 * 16, 64, 64), 8, True)
    assert calls == [(32, 128, 8), (32, 128, 8), (512, 128, 4), (512, 128, 4)]


def test_derivation_applies_only_where_f_pp_dominates(exponents):
    """The [D] prediction of signSGD/Adam is given in phases Ia and II and withheld ("no theory") in III."""
    assert math.isclose(exponents.theory_loss(1.0, 0.3, "signSGD"), 2 * 0.8 / 1.2)
    assert math.isclose(exponents.theory_loss(1.0, 0.7, "Adam"), 3.0)
    assert math.isnan(exponents.theory_loss(0.7, 1.0, "signSGD"))
    assert math.isclose(exponents.theory_loss(0.7, 1.0, "SGD", d=1024), 2 - 1 / 1.4)  # the noise term


def test_rmsprop_break_is_kappa_free_in_the_sde_limit(rmsprop_break):
    """At a tiny lr the curvature term vanishes: the floor is the same at every kappa (to 1e-3), and it solves
    P (1 - N) = P_inf; at the table's lr it rises with kappa."""
    spec = plrf.PLRF(alpha=1.0, beta=0.5, d=32, v=64, seed=0).spectrum()
    small = rmsprop_break.floors(spec, lr=1e-7)
    assert all(abs(P / small[1][0] - 1) < 1e-3 for P, _ in small.values())
    big = rmsprop_break.floors(spec)
    ratios = [big[k][0] / big[1][0] for k in rmsprop_break.KAPPAS]
    assert all(b > a for a, b in zip(ratios, ratios[1:]))
    for k in (1, 4):  # the mean gradient in v only lengthens v, so it only lowers the floor
        assert spec.p_inf < rmsprop_break.floor_with_mean(spec, rmsprop_break.LR, k) <= big[k][0] * (1 + 1e-9)
    assert math.isclose(rmsprop_break.floor_with_mean(spec, 1e-7, 4), small[4][0], rel_tol=1e-3)
    lam = np.linalg.eigvalsh(np.diag([1.0, 2.0]))
    P = rmsprop_break.floor(lam, 0.1, 0.01, 2)
    n = rmsprop_break.kernel_norm(lam, 2 * 0.01 / math.sqrt(2 * P), 2)
    assert math.isclose(P * (1 - n), 0.1, rel_tol=1e-9)


def test_rmsprop_break_runs_the_rule_at_chosen_kappas_and_seeds(rmsprop_break):
    """runs() drives scaling_rules_table.mc_rule at the kappas asked for, on a list of seeds (the fresh
    seeds of the replication), and late_cells reports kappa = 1 as the reference."""
    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=16, v=32, seed=0)
    rr, points = rmsprop_break.runs(problem, (1, 4), 2048, [64, 65, 66])
    assert sorted(rr) == [1, 4] and all(len(r.late) == 3 for r in rr.values())
    assert rmsprop_break.late_cells(rr, 1)[0] == "reference"
    assert rmsprop_break.late_cells(rr, 4)[0].endswith(")")
