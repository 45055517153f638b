"""Issue #15 (Python side): cost and memory are checked before work, every refusal names its
argument, integers beyond the bindings are refused by name, and the CLI fails in one line.
Also #14: one problem/seeds/spectrum validator shared by the public API and sweep configs.

The memory cases run in a fresh interpreter under RLIMIT_AS (see hardening_tools.run_capped) and
check that the refusal comes before the allocation: the child's peak RSS stays under 200 MB."""
import subprocess
import sys

import numpy as np
import pytest

import plrf
from plrf import _validate as check
from plrf.sweep import config as sweep_config
from plrf.sweep import tasks as sweep_tasks

from hardening_tools import GiB, child_env, refusal, run_capped

PEAK_LIMIT_MB = 200
SETUP = "import numpy as np, plrf\nspec = plrf.Spectrum.theory(1.0, 0.5, 100)\n"


# ---- memory before work ------------------------------------------------------------------------
def test_huge_v_spectrum_refused_before_allocating():
    kind, msg, peak = refusal("import plrf\nplrf.PLRF(1.0, 0.5, 100, v=10**9).spectrum()")
    assert kind == "MemoryError" and "v=1000000000" in msg and "GiB" in msg, msg
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak:.0f} MB at the refusal"


def test_huge_seeds_refused_before_allocating():
    kind, msg, peak = refusal(SETUP + "plrf.simulate(spec, plrf.sgd(0.1), 50, seeds=10**9)")
    assert kind == "MemoryError" and "seeds=1000000000" in msg and "GiB" in msg, msg
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak:.0f} MB at the refusal"


def test_seeds_times_d_state_is_checked():
    """A moderate seed count at a large d: the seeds x d state is what does not fit."""
    code = "spec = plrf.Spectrum(np.ones(200_000), np.ones(200_000), 0.0)\nplrf.simulate(spec, plrf.sgd(1e-6), 5, seeds=2000)"
    kind, msg, peak = refusal("import numpy as np, plrf\n" + code, cap_gib=2.0)
    assert kind == "MemoryError" and "seeds=2000" in msg and "d=200000" in msg, msg
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak:.0f} MB at the refusal"


FRONTIER_CURVES = """
t = np.unique(np.round(np.geomspace(1, 1e6, 200)))
curves = {d: (t, t**-0.5 + float(d) ** -1.0) for d in np.unique(np.round(np.geomspace(10, 1e4, 13)).astype(int))}
"""


def test_huge_bootstrap_refused_before_allocating():
    code = "import numpy as np, plrf\n" + FRONTIER_CURVES + "plrf.frontier.frontier(curves, n_boot=10**7, warn=False)"
    kind, msg, peak = refusal(code, cap_gib=2.0)
    assert kind == "MemoryError" and "n_boot=10000000" in msg and "GiB" in msg, msg
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak:.0f} MB at the refusal"


@pytest.mark.parametrize("code, name", [
    ("t = np.geomspace(1, 1e6, 30000)\nplrf.fit.power_law(t, t**-0.5, per_decade=2000)", "per_decade=2000"),
    ("p = plrf.PLRF(1.0, 0.5, 100, v=10**6)\np.risk(np.zeros((100_000, 100)))", "theta with 100000 rows"),
])
def test_analysis_sizes_refused_before_allocating(code, name):
    kind, msg, peak = refusal("import numpy as np, plrf\n" + code, cap_gib=1.5)
    assert kind == "MemoryError" and name in msg and "GiB" in msg, msg
    assert peak < PEAK_LIMIT_MB, f"peak RSS {peak:.0f} MB at the refusal"


def test_huge_sweep_grid_and_pool_are_refused(tmp_path):
    with pytest.raises(MemoryError, match=r"grid of 1000000000000 configs"):
        plrf.sweep.grid(alpha=1.0, beta=0.5, d=range(1, 10**6 + 1), steps=range(1, 10**6 + 1), optimizer="sgd")
    with pytest.raises(ValueError, match=r"\bworkers\b"):
        plrf.sweep.run(plrf.sweep.grid(alpha=1.0, beta=0.5, d=10, optimizer="sgd", steps=5), store=tmp_path,
                       workers=10**6, progress=False)


def test_memory_guard_respects_ulimit():
    rc, out, err, _ = run_capped("import plrf\nprint(plrf._validate.available_memory())", cap_gib=1.0)
    assert rc == 0, err
    assert 0 < int(out.split()[-1]) < 1.0 * GiB


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_memory_guard_respects_cgroup_limits(tmp_path, monkeypatch, version):
    """memory.max - memory.current (v2, at every level) or limit_in_bytes - usage_in_bytes (v1)."""
    proc = tmp_path / "cgroup"
    if version == "v2":
        proc.write_text("0::/user.slice/job\n")
        leaf = tmp_path / "sys" / "user.slice" / "job"
        leaf.mkdir(parents=True)
        (leaf / "memory.max").write_text("max\n")  # no limit on the leaf: the parent's applies
        (leaf.parent / "memory.max").write_text(f"{3 * GiB}\n")
        (leaf.parent / "memory.current").write_text(f"{2 * GiB}\n")
        monkeypatch.setattr(check, "CGROUP_V2", tmp_path / "sys")
    else:
        proc.write_text("4:memory:/job\n1:cpu:/job\n")
        leaf = tmp_path / "sys1" / "job"
        leaf.mkdir(parents=True)
        (leaf / "memory.limit_in_bytes").write_text(f"{3 * GiB}\n")
        (leaf / "memory.usage_in_bytes").write_text(f"{2 * GiB}\n")
        monkeypatch.setattr(check, "CGROUP_V1", tmp_path / "sys1")
    monkeypatch.setattr(check, "PROC_CGROUP", proc)
    assert check.available_memory() == GiB
    with pytest.raises(MemoryError, match=r"seeds=1000000 .*GiB"):
        plrf.simulate(plrf.Spectrum.theory(1.0, 0.5, 100), plrf.sgd(0.1), 5, seeds=10**6)


# ---- integers beyond the bindings, and messages that name the argument ----------------------------
@pytest.fixture(scope="module")
def spec():
    return plrf.Spectrum.theory(1.0, 0.5, 50)


def test_integers_beyond_int64_name_the_argument(spec):
    opt = plrf.sgd(0.1)
    cases = [
        (lambda: plrf.exact_risk(spec, opt, 2**64), "steps"),
        (lambda: plrf.exact_risk(spec, opt, 10, batch=2**63), "batch"),
        (lambda: plrf.simulate(spec, opt, 10, batch=2**70), "batch"),
        (lambda: plrf.simulate(spec, opt, 2**64), "steps"),
        (lambda: plrf.simulate(spec, opt, 10, seeds=[2**64]), "seeds"),
        (lambda: plrf.simulate(spec, opt, 10, seeds=2**64), "seeds"),
        (lambda: plrf.PLRF(1.0, 0.5, 2**64), "d"),
        (lambda: plrf.PLRF(1.0, 0.5, 10, seed=2**64), "seed"),
        (lambda: plrf.Spectrum.theory(1.0, 0.5, 10, v=2**70), "v"),
        (lambda: plrf.max_stable_lr(spec, batch=2**64), "batch"),
        (lambda: plrf.record_grid(2**64), "steps"),
        (lambda: plrf.frontier.frontier({10: ([1, 2], [1, 1])}, n_boot=2**64), "n_boot"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=rf"\b{name}\b") as info:
            call()
        assert "incompatible function arguments" not in str(info.value)


def test_bad_values_name_their_argument(spec):
    """A sample of the refusals across the public entry points: each message names the argument."""
    opt = plrf.sgd(0.1)
    cases = [
        (lambda: plrf.simulate(5, opt, 10), "problem_or_spectrum"),
        (lambda: plrf.exact_risk("spec", opt, 10), "spectrum"),
        (lambda: plrf.exact_risk(spec, "sgd", 10), "optimizer"),
        (lambda: plrf.simulate(spec, opt, 10, seeds=[1, 1]), "seeds"),
        (lambda: plrf.simulate(spec, opt, 10, seeds="abc"), "seeds"),
        (lambda: plrf.simulate(spec, opt, 10, record=[0.5]), "record"),
        (lambda: plrf.sgd(float("nan")), "lr"),
        (lambda: plrf.sgd_momentum(0.1, float("inf")), "momentum"),
        (lambda: plrf.dana_decaying(float("nan"), 0.1, 3.0, 1.0), "g2"),
        (lambda: plrf.defaults("not a spectrum"), "spectrum"),
        (lambda: plrf.record_grid(100, per_decade=0), "per_decade"),
        (lambda: plrf.fit.power_law("abc", [1, 2]), "t"),
        (lambda: plrf.fit.power_law([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], window=5), "window"),
        (lambda: plrf.frontier.frontier(5), "curves"),
        (lambda: plrf.frontier.frontier({10: 5, 20: 5, 40: 5}), "curves"),
        (lambda: plrf.Spectrum.theory(1.0, 0.5, 10, method="exact"), "method"),
        (lambda: plrf.sweep.load(5), "store"),
        (lambda: plrf.sweep.run([], store=None), "store"),
        (lambda: plrf.simulate(spec, opt, 10, checkpoint=5), "checkpoint"),
        (lambda: plrf.fit.power_law([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], window=(1, 2)), "window"),
        (lambda: plrf.PLRF(1.0, 0.5, 10).feature_rows(1.5, 3), "start"),
        (lambda: plrf.sweep.to_xarray(5), "df"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=rf"\b{name}\b"):
            call()


# ---- one validator for the public API and sweep configs (#14) --------------------------------------
def test_v_equals_d_theory_sweep_fails_in_run_before_scheduling(tmp_path, monkeypatch):
    scheduled = []
    monkeypatch.setattr(plrf.sweep.driver, "backend_for", lambda *a, **k: scheduled.append(a))
    grid = plrf.sweep.grid(alpha=1.0, beta=0.5, d=[10, 20], v=20, spectrum="theory", optimizer="sgd", steps=10)
    with pytest.raises(ValueError, match=r"v must be > d .*v=20, d=20"):
        plrf.sweep.run(grid, store=tmp_path / "store", progress=False, workers=1)
    assert not scheduled and not list((tmp_path / "store").glob("*.plrf"))
    with pytest.raises(ValueError, match="spectrum method"):
        plrf.sweep.run(plrf.sweep.grid(alpha=1.0, beta=0.5, d=10, spectrum="theory:bogus", optimizer="sgd", steps=5),
                       store=tmp_path / "store", progress=False, workers=1)


def test_default_v_is_written_once(monkeypatch):
    """PLRF, Spectrum.theory and sweep configs all take v from the one rule check.default_v."""
    monkeypatch.setattr(check, "default_v", lambda d: 5 * d)
    assert plrf.PLRF(1.0, 0.5, 10).v == 50
    assert plrf.Spectrum.theory(1.0, 0.5, 10).meta["v"] == 50
    cfg = sweep_config.normalize(dict(alpha=1.0, beta=0.5, d=10, optimizer="sgd", steps=5), sweep_tasks.ENGINES)
    assert cfg["v"] == 50


def test_seeds_are_normalised_by_one_rule():
    spec = plrf.Spectrum.theory(1.0, 0.5, 10)
    norm = lambda s: sweep_config.normalize(dict(alpha=1.0, beta=0.5, d=10, optimizer="sgd", steps=5, seeds=s,
                                                 engine="simulate"), sweep_tasks.ENGINES)["seeds"]
    for seeds in (3, np.int64(3), [2, 0, 7], np.array([5, 1], dtype=np.uint64)):
        assert plrf.simulate(spec, plrf.sgd(0.1), 5, seeds=seeds).seeds.tolist() == norm(seeds)
    for bad, match in (([1, 1], "distinct"), ([2**64], "seeds"), (0, "seeds"), ([], "seeds"), ("x", "seeds")):
        with pytest.raises(ValueError, match=match):
            plrf.simulate(spec, plrf.sgd(0.1), 5, seeds=bad)
        with pytest.raises(ValueError, match=match):
            norm(bad)


# ---- CLI -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, name", [
    (["demo", "--d", "-5"], "d"),
    (["demo", "--d", "abc"], "--d"),
    (["demo", "--seeds", "0", "--d", "20"], "seeds"),
    (["frontier", "--alpha", "-1", "--beta", "0.5"], "--alpha"),
    (["bench", "--repeat", "0"], "--repeat"),
])
def test_cli_errors_are_one_line_and_exit_2(argv, name, tmp_path):
    out = subprocess.run([sys.executable, "-m", "plrf", *argv], capture_output=True, text=True, env=child_env(),
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert "error:" in last and name in last, out.stderr
