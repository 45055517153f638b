"""Privacy accounting (plrf.privacy, docs/privacy.md) through dp-accounting, an optional extra.

- One pass, replace-one adjacency: each sample moves the noised batch sum by at most 2C, a Gaussian
  mechanism that is rho-zCDP with rho = (2C)^2 / (2 (s C)^2) = 2 / s^2 (1 / (2 s^2) under add/remove).
  The RDP accountant's epsilon equals that closed form, converted to (epsilon, delta) by the
  standard RDP conversion over the accountant's orders, to 1e-6 relative; the planted twin (sensitivity
  C under replace-one, rho = 1 / (2 s^2)) is rejected. The PLD accountant matches the analytic
  Gaussian mechanism's closed-form delta(epsilon) to its discretisation (1e-3).
- The missing library gives an ImportError saying how to install the extra; bad inputs name the argument.
"""
import math
import sys

import numpy as np
import pytest

from plrf import privacy

ORDERS_RTOL = 1e-6


def zcdp_epsilon(rho, delta, orders):
    """(epsilon, delta) of rho-zCDP (RDP rho * a at order a) by the conversion of Canonne-Kamath-Steinke /
    Asoodeh et al.: eps = min_a rho a + log(1 - 1/a) - log(delta a) / (a - 1), written out here."""
    a = np.asarray([o for o in orders if o > 1.01], dtype=np.float64)
    return float(np.min(rho * a + np.log1p(-1.0 / a) - np.log(delta * a) / (a - 1.0)))


def gaussian_delta(eps, mu):
    """Analytic Gaussian mechanism (Balle & Wang 2018) with sensitivity / std = mu."""
    phi = lambda x: 0.5 * math.erfc(-x / math.sqrt(2.0))
    return phi(mu / 2 - eps / mu) - math.exp(eps) * phi(-mu / 2 - eps / mu)


@pytest.mark.parametrize("s, delta", [(0.7, 1e-5), (4.0, 1e-8)])
def test_one_pass_replace_one_matches_the_zcdp_closed_form(s, delta):
    dpa = pytest.importorskip("dp_accounting")
    orders = dpa.rdp.RdpAccountant()._orders
    eps = privacy.epsilon(s, delta, mode="one_pass", adjacency="replace_one", accountant="rdp")
    assert eps == pytest.approx(zcdp_epsilon(2.0 / s**2, delta, orders), rel=ORDERS_RTOL)
    # planted twin: sensitivity C (not 2C) under replace-one
    assert abs(eps / zcdp_epsilon(1.0 / (2.0 * s**2), delta, orders) - 1) > 0.1
    # and add/remove is exactly that twin's convention
    eps_ar = privacy.epsilon(s, delta, mode="one_pass", adjacency="add_remove", accountant="rdp")
    assert eps_ar == pytest.approx(zcdp_epsilon(1.0 / (2.0 * s**2), delta, orders), rel=ORDERS_RTOL)


@pytest.mark.slow  # the PLD accountant: ~3 s
def test_one_pass_pld_matches_the_analytic_gaussian_mechanism():
    pytest.importorskip("dp_accounting")
    s, delta = 1.2, 1e-5
    eps = privacy.epsilon(s, delta, adjacency="replace_one", accountant="pld")
    assert gaussian_delta(eps, 2.0 / s) == pytest.approx(delta, rel=1e-2)
    assert gaussian_delta(eps, 1.0 / s) != pytest.approx(delta, rel=0.5)  # twin: sensitivity C


def test_poisson_epsilon_grows_along_the_run_and_one_pass_is_flat():
    pytest.importorskip("dp_accounting")
    steps = np.array([0, 10, 100])
    pois = privacy.epsilon_curve(steps, 1.0, 1e-5, mode="poisson", sample_rate=0.01)
    assert pois[0] == 0 and np.all(np.diff(pois) > 0)
    one = privacy.epsilon_curve(steps, 1.0, 1e-5)
    assert one[0] == 0 and np.all(one[1:] == one[1])
    # a noise multiplier calibrated to a target epsilon gives that epsilon
    s = privacy.noise_for_epsilon(2.0, 1e-5)
    assert privacy.epsilon(s, 1e-5) == pytest.approx(2.0, abs=1e-3)


@pytest.mark.parametrize("kw, name", [
    (dict(noise_multiplier=-1.0, delta=1e-5), "noise_multiplier"),
    (dict(noise_multiplier=1.0, delta=None), "delta"),
    (dict(noise_multiplier=1.0, delta=0.0), "delta"),
    (dict(noise_multiplier=1.0, delta=1.0), "delta"),
    (dict(noise_multiplier=1.0, delta=1e-5, mode="epochs"), "mode"),
    (dict(noise_multiplier=1.0, delta=1e-5, mode="poisson", steps=10), "sample_rate"),
    (dict(noise_multiplier=1.0, delta=1e-5, mode="poisson", sample_rate=0.1, steps=10, adjacency="replace_one"),
     "adjacency"),
])
def test_bad_accounting_inputs_name_the_argument(kw, name):
    with pytest.raises(ValueError, match=name):
        privacy.epsilon(**kw)


def test_an_epsilon_target_without_delta_is_refused():
    with pytest.raises(ValueError, match="delta"):
        privacy.noise_for_epsilon(1.0, None)


def test_missing_dp_accounting_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dp_accounting", None)  # import then raises ImportError
    with pytest.raises(ImportError, match=r'pip install "plrf\[privacy\]"'):
        privacy.epsilon(1.0, 1e-5)


def test_the_core_package_does_not_import_dp_accounting():
    import subprocess
    code = "import sys, plrf; assert 'dp_accounting' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env={**__import__("os").environ})
