"""Regression tests of issue #21's expected-risk loops: Ctrl-C inside the SDE substeps, the cost of
exact / continuous runs checked before work, fast's cost at any horizon, array schedules respected
by fast and ode, numbers in C++ messages, controllers started at the optimum, and the ODE's
labelled error estimate. Anything that could hang runs in a child with a timeout and a memory cap."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import plrf
from hardening_tools import child_env, refusal, run_capped

# The battery's setup, in the children and in this process
SETUP = 'import numpy as np, plrf\nspec = plrf.Spectrum.theory(1.0, 0.5, 100)\nopt = plrf.defaults(spec)["sgd"]\n'
BATTERY = {}
exec(SETUP, BATTERY)


@pytest.fixture
def spec():
    return BATTERY["spec"]


@pytest.fixture
def opt():
    return BATTERY["opt"]


def spike_optimizer():
    lr = np.full(10**5, 0.1)
    lr[5000:5010] = 50
    return plrf.sgd(plrf.Schedule.array(lr))


# ---- item 2: Ctrl-C and cost checks -------------------------------------------------------------
def ctrl_c_seconds(code: str, timeout: float = 60.0) -> tuple[str, float]:
    """Run SETUP + code in a child (which prints 'ready' just before the long call), send SIGINT 1 s
    later; (stdout, seconds from the signal to the child's exit). A child that ignores it is killed
    at `timeout` and fails the test."""
    proc = subprocess.Popen([sys.executable, "-c", SETUP + textwrap.dedent(code)], env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the run ignored Ctrl-C for {timeout} s")
    assert proc.returncode == 0, err
    return out, time.monotonic() - start


@pytest.mark.parametrize("model", ["hsgd", "ito"])
def test_sde_substeps_stop_on_ctrl_c(model):
    # 2**31 - 1 substeps in one unit of time: cancellation was polled only between units.
    out, seconds = ctrl_c_seconds(f"""
        print("ready", flush=True)
        c = plrf.exact_risk(spec, plrf.chain(opt, plrf.{model}(substeps=2**31 - 1)), 10, method="continuous")
        print(c.interrupted, np.isnan(c.risk[-1]), np.isfinite(c.risk[0]))
    """)
    assert out.split() == ["True", "True", "True"]  # the unfinished step is not recorded
    assert seconds < 20, seconds  # a hang detector: it stops within ~0.1 s


def test_substeps_cost_is_checked_before_work_naming_substeps():
    kind, message, _ = refusal(SETUP + """
spec = plrf.Spectrum.theory(1.0, 0.5, 10000)
plrf.exact_risk(spec, plrf.chain(opt, plrf.hsgd(substeps=2**31 - 1)), 10, method="continuous")
""")
    assert kind == "ValueError" and message.startswith("substeps=2147483647"), message


@pytest.mark.parametrize("method", ["exact", "continuous"])
def test_exact_and_continuous_cost_is_checked_before_work_naming_steps(method):
    kind, message, peak = refusal(SETUP + f"plrf.exact_risk(spec, opt, 10**18, method={method!r})")
    assert kind == "ValueError" and message.startswith("steps=1000000000000000000 x 100 nodes"), message
    assert "method='fast'" in message
    assert peak < 300


def test_cost_check_leaves_sensible_runs_alone(spec, opt):
    # twin: 1e4 steps x 100 nodes x 1000 substeps = 1e9 mode updates runs
    c = plrf.exact_risk(spec, plrf.chain(opt, plrf.hsgd(substeps=1000)), 10, method="continuous")
    assert np.all(np.isfinite(c.risk))


# ---- item 3: fast costs the same at every horizon -----------------------------------------------
@pytest.mark.parametrize("record", ["[0, 2 * 10**18]", "[0, 7, 2**62 - 1, 2**62]", "[0, 10**18 + 1, 2 * 10**18]"])
def test_fast_reaches_any_horizon_with_sparse_records(record):
    # A block's distance to the next record was a double: past 2**53 it rounded up, the block
    # overshot the record and every later block was one step long (a run that never ended).
    rc, out, err, _ = run_capped(SETUP + f"""
rec = {record}
c = plrf.exact_risk(spec, opt, rec[-1], method="fast", record=rec)
ref = plrf.exact_risk(spec, opt, rec[-1], method="fast")
print(c.diverged_at, abs(c.risk[-1] / ref.risk[-1] - 1) < 1e-6, np.all(np.isfinite(c.risk)))
""", timeout=60)
    assert rc == 0, err[-2000:]
    assert out.split()[:3] == ["-1", "True", "True"], out


# ---- item 5: array schedules --------------------------------------------------------------------
@pytest.mark.parametrize("record", [None, [0, 4000, 5001, 5002, 5003, 10**5]])
def test_fast_reports_a_spike_divergence_at_exacts_step(spec, record):
    opt = spike_optimizer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", plrf.DivergenceWarning)
        exact, fast = (plrf.exact_risk(spec, opt, 10**5, method=m, record=record) for m in ("exact", "fast"))
    assert exact.diverged_at == fast.diverged_at == 5003
    assert np.array_equal(np.isnan(fast.risk), np.isnan(exact.risk))  # the records before it are kept


@pytest.mark.parametrize("lr_factor", [1.05, 1.5, 4.0])
def test_fast_reports_a_constant_lr_divergence_at_exacts_step(spec, lr_factor):
    opt = plrf.sgd(lr_factor * plrf.max_stable_lr(spec))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", plrf.DivergenceWarning)
        steps = [plrf.exact_risk(spec, opt, 10**6, method=m).diverged_at for m in ("exact", "fast")]
    assert steps[0] > 0 and steps[1] == steps[0]


def test_ode_refuses_an_array_spike_between_its_grid_points(spec):
    with pytest.raises(ValueError, match=r"^optimizer: the array schedule gamma2 .* is 50 at step 50\d\d.*'exact'"):
        plrf.exact_risk(spec, spike_optimizer(), 10**5, method="ode")


def test_ode_takes_monotone_array_schedules(spec):
    # twin: a step decay (a monotone jump) is read at the next grid point, and a smooth array
    # gives the curve of its closed form
    lr = np.full(10**5, 0.1)
    lr[5000:] = 0.05
    c = plrf.exact_risk(spec, plrf.sgd(plrf.Schedule.array(lr)), 10**5, method="ode")
    assert c.diverged_at == -1
    smooth = plrf.Schedule.power_law(0.2, 100.0, -0.5)
    arr = plrf.Schedule.array(0.2 * (1 + np.arange(10**5) / 100.0) ** -0.5)
    a, b = (plrf.exact_risk(spec, plrf.sgd(s), 10**5, method="ode").risk for s in (smooth, arr))
    assert np.max(np.abs(a / b - 1)) < 1e-2


# ---- item 4 (low): messages, controllers at the optimum, the ODE's estimate ---------------------
def test_cpp_messages_print_numbers_in_full(spec):
    with pytest.raises(ValueError, match="rate norm of") as err:
        plrf.exact_risk(spec, plrf.sgd(1e6), 10, method="continuous")
    number = re.search(r"rate norm of (\S+)", str(err.value)).group(1)
    assert not re.fullmatch(r"-?\d+\.\d{6}", number), number  # not std::to_string's "%f"
    assert float(number) > 1e5


@pytest.mark.parametrize("name", plrf.controllers.NAMES)
def test_controllers_started_at_the_optimum_stay_there(name):
    lam = 1.0 / np.arange(1, 51)
    at_optimum = plrf.Spectrum(lam, np.zeros(50), 0.0)  # zero excess risk and no noise: every gradient is 0
    opt = plrf.sgd(0.5 / at_optimum.trace)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("exact", "ode"):
            c = plrf.exact_risk(at_optimum, plrf.chain(opt, plrf.controllers.get(name)), 100, method=method)
            assert c.diverged_at == -1 and np.all(c.risk == 0.0), (method, c.risk)
        sim = plrf.simulate(at_optimum, plrf.chain(opt, plrf.controllers.get(name)), 100, seeds=2)
        assert sim.diverged_at is None or np.all(np.asarray(sim.diverged_at) < 0)
        assert np.all(sim.risk == 0.0)


def test_ode_meta_says_its_error_estimate_measures_dt_only(spec, opt):
    c = plrf.exact_risk(spec, opt, 10**4, method="ode")
    assert c.meta["error_estimate_measures"].startswith("dt discretisation only")
    assert "error_estimate_measures" not in plrf.exact_risk(spec, opt, 10**4, method="fast").meta
