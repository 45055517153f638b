"""Long loops inside one step, and sizes read before they are built (issue 21, items 2, 3 and 7):

- plrf.hsgd()/plrf.ito() with substeps = 2**31 - 1 stops on Ctrl-C (the substep loop polls), as does
  the full-space path with batch = 1e8; a run whose substeps or batch loops would take weeks is
  refused before work, naming the knob;
- experts route by m binomial draws per step (not one uniform per sample), so batch = 1e9 or 1e11
  costs what batch = 1 does, and stops on Ctrl-C;
- Experts([1.0]) is the plain simulator, bit for bit;
- Experts.zipf(10**9), seeds=range(10**9) and record=range(10**12) are refused by length, naming
  the argument and the memory, before anything is allocated;
- checkpoint_every below MIN_CHECKPOINT_EVERY (1 s) is raised to it.
Runs that could hang or allocate run in a fresh interpreter under a memory cap and a time limit
(hardening_tools); the time limits only detect hangs (nothing here asserts a latency).
"""
import json

import numpy as np
import pytest

import plrf
from family_cases import optimizer, spectrum
from hardening_tools import refusal, run_capped
from plrf import simulation
from plrf.testing import moe as oracle

SETUP = """
import os, signal, threading, time
import numpy as np
import plrf
spec = plrf.Spectrum.theory(1.0, 0.5, 100)
opt = plrf.defaults(spec)["sgd"]

def cut(call, after=0.5):
    '''Sends this process SIGINT `after` seconds into call(); prints whether it came back interrupted.'''
    timer = threading.Timer(after, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    out = call()
    timer.cancel()  # a call that ended first reports interrupted False; no late SIGINT
    print("CUT", out.interrupted, out.meta["steps_done"].tolist(), f"{time.monotonic() - t0 - after:.3f}", flush=True)
"""


def cut_in_child(call: str, timeout: float = 60.0):
    """(interrupted, steps_done) of `call` cut by SIGINT 0.5 s in, in a capped child; fails on a hang."""
    rc, out, err, _ = run_capped(SETUP + f"cut(lambda: {call})\n", cap_gib=2.0, timeout=timeout)
    lines = [line.split() for line in out.splitlines() if line.startswith("CUT")]
    assert rc == 0 and lines, f"no return within {timeout} s of SIGINT, or a crash (rc={rc}):\n{err[-2000:]}"
    _, interrupted, *rest = lines[0]
    return interrupted == "True", json.loads(" ".join(rest[:-1]))


# ---- substeps ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dynamics", ["hsgd", "ito"])
def test_substeps_2_31_stop_on_ctrl_c(dynamics):
    """The issue's reproducer: each step is 2**31 substeps (~20 min); Ctrl-C cuts step 0."""
    interrupted, done = cut_in_child(f"plrf.simulate(spec, plrf.chain(opt, plrf.{dynamics}(substeps=2**31 - 1)), 10)")
    assert interrupted and done == [0]


def test_ctrl_c_mid_step_then_resume_is_bitwise(tmp_path):
    """A step cut between substeps is put back: its checkpoint resumes to the uninterrupted run's bits."""
    path = tmp_path / "sde.ckpt"
    code = SETUP + f"""
small = plrf.Spectrum.theory(1.0, 0.5, 20)
ito = plrf.chain(opt, plrf.ito(substeps=2**19))  # ~0.1-0.5 s per step
cut(lambda: plrf.simulate(small, ito, 6, checkpoint={str(path)!r}, threads=1), after=0.3)
whole = plrf.simulate(small, ito, 6, threads=1)
print("SAME", np.array_equal(plrf.resume({str(path)!r}).risk, whole.risk))
"""
    rc, out, err, _ = run_capped(code, timeout=120.0)
    assert rc == 0, err[-2000:]
    assert "CUT True" in out and "SAME True" in out, out


def test_full_path_huge_batch_stops_on_ctrl_c():
    """The reassociated full-space gradient draws B samples per step (B = 1e8: minutes); it polls inside."""
    interrupted, done = cut_in_child("plrf.simulate(plrf.PLRF(1.0, 0.5, 100), opt, 10, batch=10**8, space='full')")
    assert interrupted and done == [0]


def test_substep_cost_is_refused_before_work():
    kind, message, _ = refusal("import plrf\nspec = plrf.Spectrum.theory(1.0, 0.5, 100)\n"
                               "plrf.simulate(spec, plrf.chain(plrf.sgd(0.1), plrf.hsgd(substeps=2**31 - 1)), 10**6)")
    assert kind == "ValueError" and "substeps=2147483647" in message and "limit" in message


@pytest.mark.parametrize("kw", ["space=plrf.engines.eigen(sampler='explicit')", "space='full'"])
def test_batch_cost_of_the_sampling_paths_is_refused_before_work(kw):
    """O(batch) per step with no cost check: 1e9 steps of batch 1e7 would take centuries."""
    kind, message, _ = refusal("import plrf\n"
                               f"plrf.simulate(plrf.PLRF(1.0, 0.5, 50), plrf.sgd(0.01), 10**9, batch=10**7, {kw})")
    assert kind == "ValueError" and "batch=10000000" in message and "limit" in message


def test_full_path_batch_beyond_the_stream_addresses_is_refused():
    """batch x v = 3.2e14 >= 2**48: sample indices would wrap around the step's stream (and repeat draws)."""
    kind, message, _ = refusal("import plrf\n"
                               "plrf.simulate(plrf.PLRF(1.0, 0.5, 20), plrf.sgd(0.01), 1, batch=4 * 10**12, space='full')")
    assert kind == "ValueError" and "batch=4000000000000 is too large for space='full'" in message


def test_substep_cost_check_leaves_ordinary_runs_alone():
    spec = plrf.Spectrum.theory(1.0, 0.5, 50)
    c = plrf.simulate(spec, plrf.chain(plrf.sgd(0.1), plrf.hsgd(substeps=1000)), 3, seeds=2)
    assert np.all(np.isfinite(c.risk))


# ---- experts: routing in O(m log B) ------------------------------------------------------------------
def test_experts_huge_batch_finishes():
    """The issue's reproducer at batch = 1e9, and 1e11 (hours with one uniform per sample)."""
    code = ("spec = plrf.Spectrum.theory(1.0, 0.5, 100); opt = plrf.defaults(spec)['sgd']\n"
            "for b in (10**9, 10**11):\n"
            "    c = plrf.simulate(spec, plrf.chain(opt, plrf.Experts([0.3, 0.7])), 10, batch=b)\n"
            "    print('FINITE', bool(np.all(np.isfinite(c.parts))))\n")
    rc, out, err, _ = run_capped("import numpy as np, plrf\n" + code, timeout=60.0)
    assert rc == 0, f"hung or crashed (rc={rc}):\n{err[-2000:]}"
    assert out.count("FINITE True") == 2


def test_experts_huge_batch_stop_on_ctrl_c():
    interrupted, done = cut_in_child("plrf.simulate(spec, plrf.chain(opt, plrf.Experts([0.3, 0.7])), 10**9, batch=10**9)")
    assert interrupted and 0 < done[0] < 10**9


@pytest.mark.parametrize("sparse", [False, True])
def test_monte_carlo_matches_exact_at_batch_1000(sparse):
    """Batch 1000 routes through the binomial recursion (n > 64): the Monte Carlo mean of each expert's
    risk against the recursion, max |z| < 4 over 11 records x 3 experts (2000 seeds; as test_experts.py)."""
    ab, batch, steps, seeds = (1.0, 0.7), 1000, 100, 2000
    record = np.unique(np.geomspace(1, steps, 12).astype(int))
    p = (0.1, 0.5, 0.9) if sparse else (0.2, 0.3, 0.5)
    spec, opt = spectrum(ab), optimizer(ab, batch, "sgd")
    mc = plrf.simulate(spec, plrf.chain(opt, plrf.Experts(p, sparse=sparse)), steps, batch=batch, seeds=seeds, record=record)
    want = oracle.expert_curves(spec, opt, steps, batch, np.array(p)).T[:, record]
    mean, sem = mc.parts.mean(axis=0), mc.parts.std(axis=0, ddof=1) / np.sqrt(seeds)
    assert np.max(np.abs(mean - want) / sem) < 4.0


def test_single_expert_is_the_plain_simulator_bitwise():
    """docs/families.md: Experts([1.0]) is the plain simulator (sparse or not, any clock, its own optimizer)."""
    spec = plrf.Spectrum.theory(1.0, 0.5, 100)
    opt = plrf.defaults(spec, 4)["dana_decaying"]
    plain = plrf.simulate(spec, opt, 300, batch=4, seeds=3)
    for E in (plrf.Experts([1.0]), plrf.Experts([1.0], sparse=True, clock="expert"),
              plrf.Experts([1.0], optimizers=[opt])):
        moe = plrf.simulate(spec, plrf.chain(plrf.sgd(0.1) if E.optimizers else opt, E), 300, batch=4, seeds=3)
        np.testing.assert_array_equal(moe.risk, plain.risk)
        np.testing.assert_array_equal(moe.parts[:, 0], plain.risk)
        assert moe.meta["experts"] == [1.0]


# ---- sizes read before they are built ------------------------------------------------------------------
def test_zipf_refuses_a_billion_experts_before_allocating():
    kind, message, peak = refusal("import plrf\nplrf.Experts.zipf(10**9, 2.0)")
    assert kind == "MemoryError" and "m=1000000000" in message and "GiB" in message
    assert peak < 300


@pytest.mark.parametrize("args, name", [("3, 'x'", "zeta"), ("3, float('nan')", "zeta"), ("2.5, 1.0", "m"),
                                        ("0, 1.0", "m")])
def test_zipf_names_its_argument(args, name):
    with pytest.raises(ValueError, match=name):
        eval(f"plrf.Experts.zipf({args})")


@pytest.mark.parametrize("kw, name", [("seeds=range(10**9)", "seeds=1000000000"),
                                      ("record=range(10**12)", "record of 1000000000000 steps")])
def test_ranges_are_refused_by_length(kw, name):
    kind, message, peak = refusal("import plrf\nspec = plrf.Spectrum.theory(1.0, 0.5, 100)\n"
                                  f"plrf.simulate(spec, plrf.sgd(0.1), 10**12, {kw})")
    assert kind == "MemoryError" and name in message and "GiB" in message
    assert peak < 300


def test_small_ranges_still_work():
    spec = plrf.Spectrum.theory(1.0, 0.5, 20)
    c = plrf.simulate(spec, plrf.sgd(0.1), 10, seeds=range(3, 9, 2), record=range(0, 11, 5))
    np.testing.assert_array_equal(c.seeds, [3, 5, 7])
    np.testing.assert_array_equal(c.steps, [0, 5, 10])
    np.testing.assert_array_equal(c.risk, plrf.simulate(spec, plrf.sgd(0.1), 10, seeds=[3, 5, 7],
                                                        record=[0, 5, 10]).risk)


def test_checkpoint_every_has_a_floor(tmp_path, monkeypatch):
    """checkpoint_every=1e-300 used to save after every <= 16 steps (350x slower); now at most once a second."""
    saves = []
    original = simulation._save
    monkeypatch.setattr(simulation, "_save", lambda job, state: (saves.append(1), original(job, state)))
    spec = plrf.Spectrum.theory(1.0, 0.5, 20)
    c = plrf.simulate(spec, plrf.sgd(0.1), 2000, checkpoint=plrf.checkpoint.Target(tmp_path / "run.ckpt", every=1e-300))
    assert len(saves) <= 3  # a 2000-step run (~ms) pauses at most at its deadlines, plus the final save
    assert simulation.MIN_CHECKPOINT_EVERY == 1.0
    np.testing.assert_array_equal(c.risk, plrf.simulate(spec, plrf.sgd(0.1), 2000).risk)
