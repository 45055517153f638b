"""The authors' per-coordinate ADana and Dana-Star (plrf.adana_coord, plrf.dana_star; issue #23): draw for
draw against a NumPy reference written from their equations (docs/coordinatewise.md), planted twins with
one constant wrong, bitwise resume with the extra buffer tau, and thread-invariant bits."""
import numpy as np
import pytest

import plrf
from plrf.param_run import run_state
from test_param_checkpoint import KW, STEPS, chopped_run

STEPS_REF = 30
TOL = 1e-12  # relative, on theta after STEPS_REF steps: only the rotation's rounding differs


@pytest.fixture(scope="module")
def problem():
    return plrf.PLRF(alpha=1.0, beta=0.5, d=24, v=48, seed=3)


def numpy_dana(lr, kappa, delta, eps, wd, g3, clipsnr, star, clock=1, exponent=None):
    """Their update on (seeds x d) arrays, their step s = t + clock (clock=1: the PyTorch count), damping
    exponent 1 - kappa unless `exponent` is given (the planted twins change one of these)."""
    power = 1.0 - kappa if exponent is None else exponent

    def init(theta):
        return theta, np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)

    def update(g, state, t):
        theta, m, v, tau = state
        s = t + clock
        a = delta / (delta + s)
        m = m + a * (g - m)  # torch's lerp_
        v = v * (1 - a) + a * g * g
        root = np.sqrt(v) + eps
        if star:
            tau = tau + a * (np.abs(g) / (np.abs(g) + root) - tau)
            clipped = np.minimum(tau, 0.5)
            r = np.maximum(clipped / (1 - clipped), 1 / (1 + s))
            clock_time = np.maximum(tau * s, 1.0)
        else:
            r, clock_time = 1.0, 1.0 + s
        norm = np.sqrt(r) / root
        m_norm = np.abs(m) * norm
        damped = clock_time**power * m_norm / r
        if clipsnr:
            damped = np.minimum(damped, clipsnr)
        step = -lr(t) * g * norm - lr(t) * g3 * np.sign(m) * (r * damped + m_norm)
        new = (theta + step) * (1 - wd(t))
        return new - theta, (new, m, v, tau)

    return init, update


LR = plrf.Schedule.array(np.linspace(0.03, 0.01, STEPS))  # covers both run lengths
CASES = {  # name: the plrf member (the reference reads its hyperparameters)
    "adana": plrf.adana_coord(LR, kappa=0.85, delta=8.0),
    "adana_mk4_decay": plrf.adana_coord(0.02, kappa=0.7, delta=6.0, weight_decay=plrf.adana_decay(4.0, 11.0), g3=0.5,
                                        clipsnr=2.0),
    "dana_star": plrf.dana_star(LR, kappa=0.85, delta=8.0, weight_decay=1e-3),
    "dana_star_mk4": plrf.dana_star(0.02, kappa=0.6, delta=4.0, g3=2.0, clipsnr=1.0),
}


def reference_for(name, **twin):
    r = CASES[name].get("coordinatewise")
    init, update = numpy_dana(r.lr, r.kappa, r.delta, r.eps, r.weight_decay, r.g3, r.clipsnr, r.rule == "dana_star",
                              **twin)
    return plrf.custom_rule(update, init, name=f"numpy_{name}")


def theta_after(problem, opt):
    return run_state(problem, opt, STEPS_REF, batch=3, seeds=5, threads=1)[0]["theta"]


def relative_gap(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("name", list(CASES))
def test_dana_rules_follow_the_numpy_reference_draw_for_draw(problem, name):
    """The C++ rule and the NumPy reference, on the same draws, agree to TOL after STEPS_REF steps."""
    ours = theta_after(problem, CASES[name])
    assert np.all(np.isfinite(ours)) and np.max(np.abs(ours)) > 0.01
    assert relative_gap(ours, theta_after(problem, reference_for(name))) < TOL


@pytest.mark.parametrize("twin", [dict(exponent=0.5), dict(clock=0)], ids=["damping_exponent", "jax_clock"])
@pytest.mark.parametrize("name", ["adana", "dana_star"])
def test_a_planted_twin_with_one_constant_wrong_is_rejected(problem, name, twin):
    """The same check rejects the reference with the damping exponent 1/2 instead of 1 - kappa = 0.15, or
    with the JAX code's clock (s = t: a_0 = 1, one step early) instead of PyTorch's s = t + 1."""
    ours = theta_after(problem, CASES[name])
    assert relative_gap(ours, theta_after(problem, reference_for(name, **twin))) > 1e3 * TOL


@pytest.mark.parametrize("name", ["dana_star", "adana_mk4_decay"])
def test_dana_checkpoint_resume_is_bitwise(tmp_path, monkeypatch, name):
    """Pausing at every step and resuming from the middle change no bit; dana_star's tau is kept."""
    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=24, v=48, seed=0)  # test_param_checkpoint's KW fit d = 24
    opt = CASES[name]
    ref = plrf.simulate(problem, opt, STEPS, **KW)
    paused, mid = chopped_run(problem, opt, tmp_path / "run.ckpt", monkeypatch)
    np.testing.assert_array_equal(paused.risk, ref.risk)
    resumed = plrf.resume(mid, progress=False)
    np.testing.assert_array_equal(resumed.risk, ref.risk)
    assert resumed.meta["chain"] == ref.meta["chain"]


def test_dana_star_checkpoint_without_tau_is_another_run(tmp_path, monkeypatch):
    """Planted twin: a checkpoint whose tau was zeroed resumes to other numbers (tau is state)."""
    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=24, v=48, seed=0)
    opt = CASES["dana_star"]
    ref = plrf.simulate(problem, opt, STEPS, **KW)
    _, mid = chopped_run(problem, opt, tmp_path / "run.ckpt", monkeypatch, tamper=lambda s: {**s, "tau": 0 * s["tau"]})
    assert not np.array_equal(plrf.resume(mid, progress=False).risk[:, -1], ref.risk[:, -1])


@pytest.mark.parametrize("name", ["adana", "dana_star"])
def test_dana_bits_do_not_depend_on_threads_or_companion_seeds(problem, name):
    opt = CASES[name]
    kw = dict(batch=2, space="param", progress=False)
    together = plrf.simulate(problem, opt, STEPS_REF, seeds=range(7), threads=1, **kw)
    threaded = plrf.simulate(problem, opt, STEPS_REF, seeds=range(7), threads=2, **kw)
    alone = plrf.simulate(problem, opt, STEPS_REF, seeds=[4], threads=1, **kw)
    assert np.array_equal(together.risk, threaded.risk)
    assert np.array_equal(together.risk[4], alone.risk[0])
    assert not np.array_equal(together.risk[5], alone.risk[0])  # planted twin: another seed differs


def test_dana_rules_run_only_in_the_parameter_basis(problem):
    with pytest.raises(ValueError, match="param"):
        plrf.simulate(problem, plrf.dana_star(0.01), 5, space="eigen", progress=False)


@pytest.mark.parametrize("bad, match", [(dict(delta=0.0), "delta"), (dict(clipsnr=-1.0), "clipsnr"),
                                        (dict(kappa=float("nan")), "kappa"), (dict(g3=float("inf")), "g3")])
def test_bad_dana_hyperparameters_are_refused_by_name(bad, match):
    for member in (plrf.adana_coord, plrf.dana_star):
        with pytest.raises(ValueError, match=match):
            member(0.01, **bad)


def test_a_param_checkpoint_from_before_tau_still_resumes(tmp_path, monkeypatch):
    """A file written without state_tau and the adana scalars (as before this change) loads with an empty
    tau and the default scalars, and an Adam run resumes to the uninterrupted bits."""
    from plrf import param_checkpoint, rule_checkpoint
    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=24, v=48, seed=0)
    ref = plrf.simulate(problem, plrf.adam(0.01), STEPS, **KW)
    monkeypatch.setattr(param_checkpoint, "STATE", tuple(k for k in param_checkpoint.STATE if k != "tau"))
    monkeypatch.setattr(rule_checkpoint, "DANA_RULE", {})
    _, mid = chopped_run(problem, plrf.adam(0.01), tmp_path / "run.ckpt", monkeypatch)
    monkeypatch.undo()
    assert plrf.checkpoint.load(mid)[1]["tau"].shape == (3, 0)
    np.testing.assert_array_equal(plrf.resume(mid, progress=False).risk, ref.risk)
