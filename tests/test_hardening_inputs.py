"""Issue #21 items 3, 7-10 (inputs): validated objects keep their own copies, one rule for meta,
guards before allocation, and messages that name their argument."""
import math

import numpy as np
import pytest

import plrf
from plrf import _validate as check
from hardening_tools import refusal, run_capped


# ---- copies on construction (item 8) -------------------------------------------------------------
def test_spectrum_keeps_its_own_copy_of_every_array():
    lam, rho, ts = np.array([2.0, 1.0]), np.array([0.5, 0.25]), np.array([1.0, -1.0])
    U = np.eye(2)
    spec = plrf.Spectrum(lam, rho, 0.0, eigenvectors=U, theta_star=ts)
    nodes_m = np.array([3, 1])
    nodes = plrf.Spectrum(lam, rho, 0.0, multiplicity=nodes_m)
    for a in (lam, rho, ts, U, nodes_m):
        a[...] = -7  # the caller edits its arrays after validation
    np.testing.assert_array_equal(spec.eigenvalues, [2.0, 1.0])
    np.testing.assert_array_equal(spec.rho, [0.5, 0.25])
    np.testing.assert_array_equal(spec.eigenvectors, np.eye(2))
    np.testing.assert_array_equal(spec.theta_star, [1.0, -1.0])
    assert nodes.d == 4
    with pytest.raises(ValueError, match="read-only"):
        spec.rho[0] = -1.0  # nor can the validated object be edited in place


def test_from_features_keeps_its_own_copy_of_W():
    W = plrf.PLRF(1.0, 0.5, 6, seed=1).W.copy()
    prob = plrf.PLRF.from_features(W, 1.0, 0.5)
    before = prob.spectrum().eigenvalues.copy()
    W[:] = 0.0
    np.testing.assert_array_equal(plrf.PLRF.from_features(prob.W, 1.0, 0.5).spectrum().eigenvalues, before)
    assert not prob.W.flags.writeable


def test_copies_are_memory_checked_naming_the_argument(monkeypatch):
    monkeypatch.setattr(check, "available_memory", lambda: 2**20)
    big = np.ones(5 * 10**6)  # 40 MB: above the guard's small-size shortcut
    with pytest.raises(MemoryError, match=r"eigenvalues of shape \(5000000,\).*GiB"):
        plrf.Spectrum(big, big, 0.0)
    with pytest.raises(MemoryError, match=r"W of shape \(5000000, 1\).*GiB"):
        plrf.PLRF.from_features(big[:, None], 1.0, 0.5)


def test_array_schedule_peak_is_one_float64_copy():
    """A 1e7-long lr used to peak at ~6x its size (a list of Python floats on the way to C++)."""
    rc, out, err, _ = run_capped(
        "import numpy as np, plrf\n"
        "status = lambda k: int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith(k)))\n"
        "lr = np.full(10**7, 0.1)\n"
        "before = status('VmRSS')\n"
        "opt = plrf.sgd(lr)\n"
        "print('RATIO', (status('VmHWM') - before) * 1024 / lr.nbytes)\n", cap_gib=3.0)
    assert rc == 0, err[-2000:]
    ratio = float(next(l for l in out.splitlines() if l.startswith("RATIO")).split()[1])
    assert ratio < 3.0, f"an array schedule peaked at {ratio:.2f} x its size (one copy in C++, at most two transiently)"


# ---- one rule for meta (item 9) ------------------------------------------------------------------
@pytest.mark.parametrize("meta, key", [({"a": {"b": math.nan}}, r"meta\['a'\]\['b'\]"),
                                       ({"x": [1.0, math.inf]}, r"meta\['x'\]\[1\]"),
                                       ({"f": object()}, r"meta\['f'\]"),
                                       ({"g": {1: 2}}, r"meta\['g'\] has the key 1")])
def test_meta_with_non_finite_or_non_json_values_is_refused_naming_the_key(meta, key):
    with pytest.raises(ValueError, match=key):
        plrf.Spectrum([1.0], [1.0], 0.0, meta=meta)


def test_nan_meta_cannot_lose_a_checkpointed_run(tmp_path):
    """The battery's case: NaN meta was accepted, then the run died at its first checkpoint save."""
    with pytest.raises(ValueError, match=r"meta\['lr_note'\] must be finite"):
        spec = plrf.Spectrum([1.0, 0.5], [1.0, 1.0], 0.0, meta={"lr_note": float("nan")})
        plrf.simulate(spec, plrf.sgd(0.1), 20, checkpoint=tmp_path / "run.ckpt")


def test_meta_is_stored_in_its_json_form_and_reads_back_equal(tmp_path):
    spec = plrf.Spectrum([1.0], [1.0], 0.0, meta={"n": np.int64(3), "pair": (1, 2.5), "ok": np.bool_(True)})
    assert spec.meta == {"n": 3, "pair": [1, 2.5], "ok": True} and type(spec.meta["n"]) is int
    assert plrf.Spectrum.load(spec.save(tmp_path / "s")) == spec


# ---- guards before allocation (item 7) -------------------------------------------------------------
def test_multiplicities_summing_past_int64_are_refused_naming_multiplicity():
    n = 1100  # 1100 x 2**53 > 2**63: the int64 sum wrapped to a negative d
    with pytest.raises(ValueError, match=r"multiplicity must sum to at most 2\*\*53"):
        plrf.Spectrum(np.ones(n), np.ones(n), 0.0, multiplicity=np.full(n, 2**53))
    assert plrf.Spectrum([1.0, 0.5], [1.0, 1.0], 0.0, multiplicity=[2**52, 2**52]).d == 2**53


def test_self_consistent_tiny_eta_is_refused_before_allocating():
    kind, message, peak = refusal("import plrf\nplrf.Spectrum.theory(1.0, 0.5, 100, method='self-consistent', eta=1e-7)")
    assert kind == "MemoryError" and "eta=1e-07" in message and "GiB" in message, message
    assert peak < 1000, f"peak {peak:.0f} MB: the grid was allocated before the guard"


# ---- messages that name their argument (item 10, low) -----------------------------------------------
def test_plrf_alpha_so_large_that_data_variances_underflow_names_alpha():
    with pytest.raises(ValueError, match=r"alpha=400.0 is too large at v=400"):
        plrf.PLRF(400, 0.5, 100)


def test_plrf_beta_so_negative_that_targets_overflow_names_beta():
    with pytest.raises(ValueError, match=r"beta=-400.0 is too negative at v=400"):
        plrf.PLRF(1.0, -400, 100)
    with pytest.raises(ValueError, match=r"beta=-400.0 is too negative"):
        plrf.Spectrum.theory(1.0, -400, 100)


def test_singular_K_message_names_alpha():
    with pytest.raises(ValueError, match=r"singular.*alpha=8.0 at d=100"):
        plrf.PLRF(8.0, 0.5, 100).spectrum()


@pytest.mark.parametrize("t", [-1, math.nan])
def test_array_schedule_at_a_negative_or_nan_step_names_t(t):
    with pytest.raises(ValueError, match=r"^t must be"):
        plrf.Schedule.array([1.0, 2.0])(t)
    assert plrf.Schedule.array([1.0, 2.0])(1) == 2.0


def test_balance_of_no_terms_names_terms():
    with pytest.raises(ValueError, match="terms must hold at least one"):
        plrf.theory.balance([])


@pytest.mark.parametrize("field, lam, rho", [("risk0", [1e300, 1e300], [1e300, 1e300]),
                                             ("trace", [1e308, 1e308], [0.0, 0.0])])
def test_spectrum_whose_initial_risk_or_trace_overflows_is_refused_naming_it(field, lam, rho):
    with pytest.raises(ValueError, match=rf"{field} overflows float64"):
        plrf.Spectrum(lam, rho, 0.0)


def test_data_variances_of_a_huge_v_are_refused_naming_v():
    kind, message, _ = refusal("import plrf\nplrf.PLRF(1.0, 0.5, 10, v=10**12).data_variances")
    assert kind == "MemoryError" and "v=1000000000000" in message and "GiB" in message, message


def test_checkpoint_read_is_memory_checked_naming_the_file(tmp_path, monkeypatch):
    path = tmp_path / "big.ckpt"  # 8 seeds x d = 1e5: a 13 MB file, 3 x that above the guard's shortcut
    plrf.simulate(plrf.Spectrum.theory(1.0, 0.5, 10**5), plrf.sgd(0.1), 1, seeds=8, checkpoint=path)
    monkeypatch.setattr(check, "available_memory", lambda: 2**20)
    with pytest.raises(MemoryError, match=r"checkpoint .*big\.ckpt.*GiB"):
        plrf.resume(path)
