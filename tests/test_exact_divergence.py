"""Divergence of the expected risk: max_stable_lr, kernel norm, reporting with the step."""
import warnings

import numpy as np
import pytest

import plrf
from plrf import DivergenceError, DivergenceWarning, exact_risk
from plrf.exact import kernel_norm


@pytest.fixture(scope="module")
def spec():
    return plrf.PLRF(1.0, 0.8, 100, seed=0).spectrum()


@pytest.mark.parametrize("batch", [1, 5])
def test_max_stable_lr_is_the_kernel_norm_boundary(spec, batch):
    lr = plrf.max_stable_lr(spec, batch)
    assert kernel_norm(spec, plrf.sgd(lr), batch) == pytest.approx(1.0, abs=1e-9)
    # the closed form of the SGD kernel norm, written out independently
    lam = spec.eigenvalues
    for f in (0.5, 0.9):
        g = f * lr
        want = np.sum(g * lam / (batch * (2 - g * lam * (1 + 1 / batch))))
        assert kernel_norm(spec, plrf.sgd(g), batch) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("method", ["exact", "fast"])
def test_slightly_above_diverges_slightly_below_does_not(spec, batch, method):
    lr = plrf.max_stable_lr(spec, batch)
    steps = 20_000 if method == "exact" else 10**7
    below = exact_risk(spec, plrf.sgd(0.99 * lr), steps, batch=batch, method=method)
    assert below.diverged_at == -1 and np.all(np.isfinite(below.risk))
    with pytest.warns(DivergenceWarning, match="step"):
        above = exact_risk(spec, plrf.sgd(1.01 * lr), steps, batch=batch, method=method)
    assert above.diverged_at > 0
    assert np.all(np.isnan(above.risk[above.steps >= above.diverged_at]))
    assert np.all(np.isfinite(above.risk[above.steps < above.diverged_at]))


@pytest.mark.parametrize("l2, decay", [(0.2, 0.0), (0.0, 0.05), (0.1, 0.02)])
def test_kernel_norm_sees_ridge_and_decay(spec, l2, decay):
    """SGD with ridge L and decay w, written out: mode j contracts by A_j = 1 - w - G (lambda_j + L),
    its own noise adds G^2 lambda_j^2 / B and its response to R2 is G^2 lambda_j / B. Ignoring the
    knobs (the plain norm, 1.26 here) fails by >10%. Injected noise forces but cannot destabilise:
    with ridge on (the affine map's linear part) it must leave the norm alone."""
    g = 1.1 * plrf.max_stable_lr(spec, 1)
    lam = spec.eigenvalues
    a = 1 - decay - g * (lam + l2)
    want = np.sum(g**2 * lam**2 / (1 - a**2 - g**2 * lam**2))
    assert kernel_norm(spec, plrf.with_decay(plrf.sgd(g), l2=l2, decay=decay)) == pytest.approx(want, rel=1e-10)
    noisy = plrf.with_decay(plrf.sgd(g), l2=l2, decay=decay, noise=0.3)
    assert kernel_norm(spec, noisy) == kernel_norm(spec, plrf.with_decay(plrf.sgd(g), l2=l2, decay=decay))


def test_ridge_decides_stability_as_the_kernel_norm_says(spec):
    """At 1.1x the plain SGD bound (which diverges), ridge 0.2 brings the norm to 0.97 and the exact
    recursion stays bounded for 20000 steps; ridge 0.05 leaves it at 1.12 and the recursion diverges."""
    g = 1.1 * plrf.max_stable_lr(spec, 1)
    stable, unstable = (plrf.with_decay(plrf.sgd(g), l2=l2) for l2 in (0.2, 0.05))
    assert kernel_norm(spec, stable) < 0.98 and kernel_norm(spec, unstable) > 1.1
    assert exact_risk(spec, stable, 20_000, method="exact").diverged_at == -1
    with pytest.raises(DivergenceError), plrf.errstate(divergence="raise"):
        exact_risk(spec, unstable, 20_000, method="exact")


def test_a_mode_unstable_on_its_own_gives_infinity(spec):
    """Heavy ball far past its per-mode bound (G lambda_1 < 2 (1 + m)): the top mode blows up alone,
    whatever (I - M)^-1 b of the others says."""
    hb = plrf.sgd_momentum(5.0 / spec.eigenvalues[0], 0.5)
    assert kernel_norm(spec, hb) == np.inf
    with pytest.raises(DivergenceError), plrf.errstate(divergence="raise"):
        exact_risk(spec, hb, 2_000, method="exact")


def test_kernel_norm_stays_finite_where_modes_sit_at_rounding_distance_from_one():
    """A d = 1e9 theory spectrum reaches lambda = 1e-18, where 1 - G lambda rounds to 1; DANA frozen at
    t = 1e12 has momentum 1 - 1e-12, and a mode's three eigenvalues cluster at 1. Such modes are
    marginal, not unstable (a strict eigenvalue test called them unstable, and the 3x3 solve found
    I - M singular for SGD): the norms stay finite, below 1, and SGD's barely moves with d."""
    norms = {}
    for d in (10**6, 10**9):
        spec = plrf.Spectrum.theory(1.0, 0.8, d)
        opts = plrf.defaults(spec, 1)
        norms[d] = kernel_norm(spec, opts["sgd"])
        for name in ("dana_constant", "dana_decaying"):
            assert 0 < kernel_norm(spec, opts[name], 1, 1e12) < 1, (d, name)
    assert norms[10**9] == pytest.approx(norms[10**6], rel=1e-3)


def test_batch_raises_the_stable_lr(spec):
    lrs = [plrf.max_stable_lr(spec, b) for b in (1, 2, 8, 64)]
    assert np.all(np.diff(lrs) > 0)
    assert lrs[-1] < 2 / spec.eigenvalues[0]  # the largest mode alone is stable only below 2/lambda_1


@pytest.mark.parametrize("method", ["exact", "fast", "ode"])
def test_divergence_raise_mode(spec, method):
    opt = plrf.sgd(3.0 / spec.eigenvalues[0])
    with pytest.raises(DivergenceError) as info, plrf.errstate(divergence="raise"):
        exact_risk(spec, opt, 10_000, method=method)
    assert info.value.step > 0


def test_momentum_divergence_is_reported(spec):
    """DANA with a gamma3 prefactor far above the recipe (docs/theory.md §8: 30x diverged at d=1e5)."""
    opt = plrf.dana_decaying(0.3 / spec.trace, 1000.0, 3.0, 1.0)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        c = exact_risk(spec, opt, 10_000)
    assert c.diverged_at > 0 and any(issubclass(x.category, DivergenceWarning) for x in w)
