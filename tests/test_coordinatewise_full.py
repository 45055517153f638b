"""The coordinate-wise rules on the honest full path (simulate(..., space="full"), issue #23 item 1).

On the full path theta's own coordinates are the parameter basis, so the rule reads the honest batch-mean
gradient W^T X^T (X W theta - X b) / B directly. The parameter-basis engine (space="param") draws the same
gradient's law from the eigen path's fast sampler and rotates it: the two must agree in law. They use
different streams (kFullSamples vs kEigenSamples), so with the same seeds their runs are independent and
a two-sample z-test on E[P] applies. Planted twins (the parameter path with the wrong rotation, or Adam
without its bias correction) must fail the same test.
"""
import shutil

import numpy as np
import pytest

import plrf
from plrf import simulation

D, V, BATCH, STEPS, SEEDS = 16, 32, 4, 300, 256
RECORD = [10, 30, 100, 300]
Z_BOUND = 4.5  # two-sided, per time: P(|z| > 4.5) ~ 7e-6, so < 1e-4 over the 8 times x rules tested here


@pytest.fixture(scope="module")
def problem():
    return plrf.PLRF(alpha=1.0, beta=0.5, d=D, v=V, seed=0)


def run(source, opt, space, **kw):
    kw = {"batch": BATCH, "seeds": SEEDS, "record": RECORD, "progress": False, **kw}
    return plrf.simulate(source, opt, STEPS, space=space, **kw)


def z_scores(a, b):
    """(E_a[P] - E_b[P]) / its standard error at each recorded time, for independent runs a and b."""
    se2 = a.risk.var(0, ddof=1) / a.risk.shape[0] + b.risk.var(0, ddof=1) / b.risk.shape[0]
    return (a.risk.mean(0) - b.risk.mean(0)) / np.sqrt(se2)


RULES = {"adam": lambda: plrf.adam(0.01), "sign_sgd": lambda: plrf.sign_sgd(0.01),
         "adana_coord": lambda: plrf.adana_coord(0.01, kappa=0.85),
         "dana_star": lambda: plrf.dana_star(0.01, kappa=0.85)}


@pytest.fixture(scope="module")
def full_runs(problem):
    return {name: run(problem, make(), "full") for name, make in RULES.items()}


@pytest.mark.parametrize("name", list(RULES))
def test_full_and_param_paths_agree_in_law(problem, full_runs, name):
    """E[P] of the full path and of the parameter-basis path agree within Z_BOUND standard errors at every
    recorded time (256 seeds each, d = 16, v = 32, B = 4)."""
    full, param = full_runs[name], run(problem, RULES[name](), "param")
    assert full.meta["space"] == "full" and full.meta["law"] == plrf.capabilities.IN_LAW
    assert full.meta["chain"] == param.meta["chain"] == name
    assert not np.isnan(full.risk).any() and full.risk[:, -1].mean() < 0.2 * full.risk[:, 0].mean()  # it learns
    z = z_scores(full, param)
    assert np.all(np.abs(z) < Z_BOUND), z


@pytest.mark.parametrize("name", list(RULES))
def test_twin_param_path_with_the_wrong_rotation_fails(problem, full_runs, name):
    """Planted twin: the parameter path told that K's eigenvectors are the identity (the same spectrum and
    start, another parameter basis). The rules are not rotation invariant, so the z-test must reject it."""
    spec = problem.spectrum(keep_vectors=True)
    wrong = plrf.Spectrum(spec.eigenvalues, spec.rho, spec.p_inf, eigenvectors=np.eye(D),
                          theta_star=spec.theta_star @ spec.eigenvectors)
    assert np.max(np.abs(z_scores(full_runs[name], run(wrong, RULES[name](), "param")))) > Z_BOUND


def test_twin_adam_without_bias_correction_fails(problem, full_runs):
    """Planted twin: Adam without its bias correction (a Python rule on the parameter path's draws)."""
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01

    def update(g, state, t):
        m, v = state
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        return -lr * m / (np.sqrt(v) + eps), (m, v)

    twin = plrf.custom_rule(update, init=lambda theta: (0 * theta, 0 * theta), name="adam_no_bias_correction")
    assert np.max(np.abs(z_scores(full_runs["adam"], run(problem, twin, "param")))) > Z_BOUND


def stepwise(advance, zero_tau):
    """_simulate_advance run one step per call (steps = t, the records up to t, else t alone), with zero_tau
    tau set to 0 after each: the full path with a Dana-Star that forgets its rate estimate every step."""
    def run_steps(**kw):
        risk, record = kw["risk"], kw["record"]
        for t in range(1, kw["steps"] + 1):
            k = sum(r <= t for r in record)
            part = np.ascontiguousarray(risk[:, :k]) if k else np.empty((len(risk), 1))
            advance(**{**kw, "steps": t, "record": record[:k] or [t], "risk": part})
            risk[:, :k] = part[:, :k]
            if zero_tau:
                kw["tau"][:] = 0.0
        return False, True
    return run_steps


def test_twin_full_dana_star_with_tau_reset_every_step_fails(problem, monkeypatch):
    """Planted twin: the full path whose tau is zeroed after every step (the step-by-step driver, checked to give
    the plain run's bits when tau is kept). The z-test against the parameter path must reject it."""
    advance, reference = plrf._core._simulate_advance, run(problem, RULES["dana_star"](), "full", seeds=8)
    monkeypatch.setattr(simulation._core, "_simulate_advance", stepwise(advance, zero_tau=False))
    np.testing.assert_array_equal(run(problem, RULES["dana_star"](), "full", seeds=8).risk, reference.risk)  # faithful
    monkeypatch.setattr(simulation._core, "_simulate_advance", stepwise(advance, zero_tau=True))
    twin = run(problem, RULES["dana_star"](), "full", seeds=16)  # per-call setup costs: few seeds (max |z| = 37 here)
    monkeypatch.undo()
    assert np.max(np.abs(z_scores(twin, run(problem, RULES["dana_star"](), "param")))) > Z_BOUND


def test_full_dana_star_tau_is_in_the_memory_check(problem, monkeypatch):
    """The per-seed state the memory check counts grows by tau's 8 d bytes for dana_star (not for adana_coord)."""
    counted, seeds = [], simulation.check.seeds
    monkeypatch.setattr(simulation.check, "seeds", lambda x, per_seed=0.0, what="": counted.append(per_seed) or
                        seeds(x, per_seed, what))
    for make in (plrf.adana_coord, plrf.dana_star):
        run(problem, make(0.01), "full", seeds=2, record=None)
    assert counted[1] - counted[0] == 8.0 * D


def test_full_sgd_equals_preconditioned_sgd_with_ones(problem):
    """theta - lr g (Gen-Mom SGD) and theta + (-lr * 1 * g) (the rule with P = I) are the same floats."""
    kw = dict(seeds=8, record=None)
    sgd = run(problem, plrf.sgd(0.1), "full", **kw)
    ones = run(problem, plrf.preconditioned_sgd(0.1, np.ones(D)), "full", **kw)
    np.testing.assert_array_equal(sgd.risk, ones.risk)
    assert ones.meta["optimizer"] == "preconditioned_sgd" and sgd.meta["optimizer"] == "sgd"


@pytest.mark.parametrize("make", [lambda: plrf.adamw(0.01, clip_norm=0.5), lambda: plrf.signum(0.01, clip=0.05),
                                  lambda: plrf.dana_star(0.01, clip_norm=0.5)],
                         ids=["adamw_clip_norm", "signum_clip", "dana_star_clip_norm"])
def test_full_rule_is_threads_invariant(problem, make):
    kw = dict(seeds=[1, 2, 5], record=None)
    one = run(problem, make(), "full", threads=1, **kw)
    np.testing.assert_array_equal(one.risk, run(problem, make(), "full", threads=2, **kw).risk)
    np.testing.assert_array_equal(one.risk, run(problem, make(), "full", threads=5, **kw).risk)  # inner threads


def test_full_rule_divergence_is_recorded(problem):
    """A step far too large: every seed diverges, its risk NaN from the step recorded in diverged_at."""
    with plrf.errstate(divergence="ignore"):
        c = run(problem, plrf.preconditioned_sgd(50.0, np.ones(D)), "full", seeds=4, record=None)
    assert np.all(c.diverged_at > 0)
    for s, t in enumerate(c.diverged_at):
        assert np.isnan(c.risk[s, c.steps >= t]).all() and np.isfinite(c.risk[s, c.steps < t]).all()


# ---- checkpoints ------------------------------------------------------------------------------------
ADAM = dict(make=lambda: plrf.adam(plrf.Schedule.array(np.linspace(0.02, 0.005, 64)), weight_decay=1e-3),
            kw=dict(batch=4, seeds=[3, 5, 8], record=np.arange(0, 65, 4), space="full", progress=False, threads=2))
CHOPPED = {"adam": ADAM["make"],  # the rules whose checkpoints are tested (dana_star keeps tau too)
           "dana_star": lambda: plrf.dana_star(plrf.Schedule.array(np.linspace(0.02, 0.005, 64)), weight_decay=1e-3)}


def chopped_rule(problem, path, monkeypatch, tamper=None, make=ADAM["make"]):
    """Adam (or make()) on the full path paused (and saved) every 16 steps; returns the run and a checkpoint
    taken at step 32, its state rewritten by tamper(state) if given."""
    monkeypatch.setattr(simulation, "MIN_CHECKPOINT_EVERY", 0.0)  # pause as often as asked
    mid, original = path.with_name("mid.ckpt"), simulation._save

    def save(job, state):
        original(job, state)
        if not mid.exists() and state["step"].min() >= 32:
            shutil.copy(path, mid)
            if tamper is not None:
                plrf.checkpoint.save(str(mid), job, tamper({k: v.copy() for k, v in state.items()}))

    monkeypatch.setattr(simulation, "_save", save)
    paused = plrf.simulate(problem, make(), 64, checkpoint=plrf.checkpoint.Target(path, every=1e-9), **ADAM["kw"])
    _, state = plrf.checkpoint.load(mid)
    assert np.all(state["step"] == 32) and "v" in state  # it paused mid-run, with the rule's buffers
    return paused, mid


@pytest.mark.parametrize("name", list(CHOPPED))
def test_full_rule_checkpoint_resume_is_bitwise(problem, tmp_path, monkeypatch, name):
    ref = plrf.simulate(problem, CHOPPED[name](), 64, **ADAM["kw"])
    paused, mid = chopped_rule(problem, tmp_path / "run.ckpt", monkeypatch, make=CHOPPED[name])
    np.testing.assert_array_equal(paused.risk, ref.risk)
    assert ("tau" in plrf.checkpoint.load(mid)[1]) == (name == "dana_star")  # only dana_star stores a tau
    resumed = plrf.resume(mid, progress=False, threads=1)
    np.testing.assert_array_equal(resumed.risk, ref.risk)
    assert resumed.meta["optimizer"] == name and not resumed.interrupted


def test_full_dana_star_checkpoint_twin_without_tau_is_another_run(problem, tmp_path, monkeypatch):
    """Planted twin: a checkpoint whose dana_star tau was zeroed resumes to other numbers (tau is state)."""
    ref = plrf.simulate(problem, CHOPPED["dana_star"](), 64, **ADAM["kw"])
    _, mid = chopped_rule(problem, tmp_path / "run.ckpt", monkeypatch, make=CHOPPED["dana_star"],
                          tamper=lambda s: {**s, "tau": 0 * s["tau"]})
    assert not np.array_equal(plrf.resume(mid, progress=False).risk[:, -1], ref.risk[:, -1])


@pytest.mark.parametrize("name, tamper, match", [
    ("dana_star", lambda s: {k: v for k, v in s.items() if k != "tau"}, "state_tau is missing"),
    ("adam", lambda s: {**s, "tau": 0 * s["v"]}, "state_tau is stored for a rule that keeps no tau")],
    ids=["dana_star_without_tau", "adam_with_tau"])
def test_full_rule_checkpoint_tau_must_match_the_rule(problem, tmp_path, monkeypatch, name, tamper, match):
    _, mid = chopped_rule(problem, tmp_path / "run.ckpt", monkeypatch, make=CHOPPED[name])
    job, state = plrf.checkpoint.load(mid)
    plrf.checkpoint.save(mid, job, tamper(state))
    with pytest.raises(plrf.checkpoint.CheckpointError, match=match):
        plrf.checkpoint.load(mid)


def test_full_rule_checkpoint_twin_without_v_is_another_run(problem, tmp_path, monkeypatch):
    """Planted twin: a checkpoint whose Adam v buffer was dropped (zeroed) resumes to other numbers."""
    ref = plrf.simulate(problem, ADAM["make"](), 64, **ADAM["kw"])
    _, mid = chopped_rule(problem, tmp_path / "run.ckpt", monkeypatch, tamper=lambda s: {**s, "v": 0 * s["v"]})
    assert not np.array_equal(plrf.resume(mid, progress=False).risk[:, -1], ref.risk[:, -1])


def test_full_rule_checkpoint_of_another_rule_is_not_replaced(problem, tmp_path):
    path, kw = tmp_path / "run.ckpt", dict(ADAM["kw"], seeds=2, record=None)
    plrf.simulate(problem, plrf.adam(0.01), 8, checkpoint=path, **kw)
    plrf.simulate(problem, plrf.adam(0.01), 8, checkpoint=path, **kw)  # the same run: rewritten
    with pytest.raises(plrf.checkpoint.CheckpointError, match="rule differs"):
        plrf.simulate(problem, plrf.adam(0.02), 8, checkpoint=path, **kw)


def test_full_rule_ctrl_c_then_resume_is_bitwise(tmp_path):
    """Ctrl-C (a progress callback raising KeyboardInterrupt at its first poll) stops the run at a whole step,
    the checkpoint holds that step and the buffers, and resume reaches the uninterrupted run's bits."""
    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=D, v=V, seed=1)
    kw = dict(batch=2, seeds=[7, 8], space="full", threads=1)  # 200,000 steps: seconds, far beyond the poll
    steps, path = 200_000, tmp_path / "interrupted.ckpt"

    def ctrl_c(done):
        raise KeyboardInterrupt

    part = plrf.simulate(problem, plrf.adam(1e-3), steps, checkpoint=path, progress=ctrl_c, **kw)
    assert part.interrupted and np.all(part.meta["steps_done"] < steps)
    _, state = plrf.checkpoint.load(path)
    np.testing.assert_array_equal(state["step"], part.meta["steps_done"])
    resumed = plrf.resume(path, progress=False)
    assert not resumed.interrupted
    np.testing.assert_array_equal(resumed.risk,
                                  plrf.simulate(problem, plrf.adam(1e-3), steps, progress=False, **kw).risk)


# ---- refusals ---------------------------------------------------------------------------------------
def test_full_refuses_what_it_does_not_run(problem):
    with pytest.raises(ValueError, match="is not defined for simulate.space='full'.*space='param'"):
        run(problem, plrf.custom_rule(lambda g, s, t: (-0.01 * g, s)), "full")
    with pytest.raises(ValueError, match="do not compose"):
        run(problem, plrf.chain(plrf.adam(0.01), plrf.decay(l2=0.1)), "full")
    with pytest.raises(ValueError, match="do not compose"):
        run(problem, plrf.chain(plrf.adam(0.01), plrf.controllers.adagrad_norm()), "full")
    with pytest.raises(ValueError, match="not defined for simulate.space='eigen'"):
        run(problem, plrf.adam(0.01), "eigen")
    with pytest.raises(ValueError, match="diag has 3 entries; the problem has d=16"):
        run(problem, plrf.preconditioned_sgd(0.1, np.ones(3)), "full")


def test_binding_refuses_a_rule_off_the_full_path():
    spec = plrf.Spectrum(np.array([1.0, 0.5]), np.array([1.0, 1.0]), 0.0)
    rule = plrf._core._CoordRule(rule="adam", lr=plrf.Schedule.constant(0.1), b1=0.9, b2=0.99, eps=1e-8,
                                 weight_decay=plrf.Schedule.constant(0.0), decoupled=False, diag=[], clip=0.0,
                                 clip_norm=0.0)
    z = np.zeros((1, 2))
    with pytest.raises(ValueError, match="coordinate-wise rule runs on the full path"):
        plrf._core._simulate_advance(eigenvalues=spec.eigenvalues, rho=spec.rho, p_inf=0.0, optimizer=plrf.sgd(0.0),
                                     steps=2, batch=1, record=[0, 2], sampler="fast",
                                     seeds=np.zeros(1, dtype=np.uint64), x=z.copy(), y=z.copy(),
                                     step=np.zeros(1, dtype=np.int64), diverged_at=np.full(1, -1, dtype=np.int64),
                                     risk=np.zeros((1, 2)), rule=rule, v=z.copy())


@pytest.mark.parametrize("rule, tau, match", [("dana_star", None, "dana_star rule needs each seed's tau buffer"),
                                              ("adam", np.zeros((1, 2)), "only the dana_star rule keeps a tau")])
def test_binding_full_path_tau_must_match_the_rule(rule, tau, match):
    """The full path's tau buffer: required by dana_star, refused for the rules without one."""
    spec = plrf.Spectrum(np.array([1.0, 0.5]), np.array([1.0, 1.0]), 0.0, eigenvectors=np.eye(2),
                         theta_star=np.ones(2))
    core = plrf._core._CoordRule(rule=rule, lr=plrf.Schedule.constant(0.1), b1=0.9, b2=0.99, eps=1e-8,
                                 weight_decay=plrf.Schedule.constant(0.0), decoupled=False, diag=[], clip=0.0,
                                 clip_norm=0.0)
    z = np.zeros((1, 2))
    with pytest.raises(ValueError, match=match):
        plrf._core._simulate_advance(eigenvalues=spec.eigenvalues, rho=spec.rho, p_inf=0.0, optimizer=plrf.sgd(0.0),
                                     steps=2, batch=1, record=[0, 2], sampler="fast",
                                     seeds=np.zeros(1, dtype=np.uint64), x=z.copy(), y=z.copy(),
                                     step=np.zeros(1, dtype=np.int64), diverged_at=np.full(1, -1, dtype=np.int64),
                                     risk=np.zeros((1, 2)), W=np.eye(2), eigenvectors=np.eye(2),
                                     theta_star=np.ones(2), alpha=1.0, beta=0.5, rule=core, v=z.copy(), tau=tau)
