"""Weight decay and injected noise: exact expected risk and Monte Carlo (docs/theory.md §11.3).

The update is Gen-Mom-SGD on g^ = g + l2 theta (ridge), then theta <- theta - w_t theta (decoupled
weight decay, e.g. ADana's w_t = omega / t) plus sigma_t zeta, zeta ~ N(0, I_d) (isotropic noise with
its standard deviation per coordinate as a schedule). All three are rotation invariant, so each
eigenmode evolves alone, but the decay pulls towards theta = 0 rather than theta*, so the second
moments pick up the first moment phi* E[e_j] (the design notes call it s_j; here u_j, since s_j is E y^2
in docs/theory.md §4) and, with momentum, phi* E[y_j] (v_j). The moments close for every Gen-Mom member:
five per mode (a, s, c, u, v), two for SGD (a, u); see moments.py for the map. The risk stays the
unregularised population risk P_inf + 1/2 sum lambda_j a_j.
"""
from __future__ import annotations

import numpy as np

from ..optim import adana_decay  # noqa: F401  (re-exported: the oracles' tests build their decay with it)
from . import eigen_mc, moments

BUGS = ("no_cross_term",)


def _knobs(t, l2, decay, noise):
    """(l2, w, sigma) at step t; each a number or a plrf Schedule; NaN or negative -> ValueError."""
    out = []
    for name, x in (("l2", l2), ("decay", decay), ("noise", noise)):
        v = moments.schedule_at(x, t)
        if not v >= 0:
            raise ValueError(f"{name} must be >= 0 and not NaN, got {v} at step {t}")
        out.append(v)
    return out


def decay_risk(spec, opt, steps, batch, *, l2=0.0, decay=0.0, noise=0.0, bug=None) -> np.ndarray:
    """E[P(theta_t)] for t = 0 .. steps under ridge l2, decoupled decay and update noise."""
    assert bug in (None, *BUGS), bug
    lam, q = spec.eigenvalues, spec.rho
    mo = moments.initial(q)
    out = [moments.risk(spec, mo.a)]
    for t in range(steps):
        l2_t, w_t, sig_t = _knobs(t, l2, decay, noise)
        xi = (lam**2 * mo.a + lam * (2.0 * spec.p_inf + lam @ mo.a)) / batch
        mo = moments.step(mo, q, opt.coefficients(t), lam, xi, w=w_t, l2=l2_t, noise2=sig_t**2,
                          drop_cross=bug == "no_cross_term")
        out.append(moments.risk(spec, mo.a))
    return np.array(out)


def decay_monte_carlo(spec, opt, steps, batch, seeds, *, l2=0.0, decay=0.0, noise=0.0, seed=0):
    """Exact-in-law runs of the same update in the eigenbasis (theta_0 = 0, so phi* = -e_0)."""
    rng = eigen_mc.generator(seed, 2)
    phi_star = eigen_mc.phi_star(spec)

    def step(t, e, y):
        l2_t, w_t, sig_t = _knobs(t, l2, decay, noise)
        g = eigen_mc.batch_gradient(spec, e, batch, rng)
        return eigen_mc.momentum_update(e, y, g, opt.coefficients(t), phi_star, w=w_t, l2=l2_t, noise=sig_t, rng=rng)

    return eigen_mc.run(spec, steps, seeds, step)
