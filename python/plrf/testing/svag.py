"""SVAG (Li, Malladi, Arora 2021): exact expected risk and Monte Carlo (docs/theory.md §11.4).

With l >= 1, each step draws two independent batches and combines their gradients as
g_l = c+ g1 + c- g2, c+- = (1 +- sqrt(2l - 1)) / 2 (c+ + c- = 1, c+^2 + c-^2 = l), and takes the step
gamma / l. g_l has the batch gradient's mean and l times its covariance, so the exact recursion is
docs/theory.md §4 with the step coefficients gamma2, gamma3 divided by l and xi multiplied by l (1/B -> l/B in
both the (1 + 1/B) lambda^2 a factor and the forcing). gamma1 and Delta are left alone: for SGD this
is SVAG exactly; for momentum members it is the literal "step gamma / l" (a time-rescaled heavy ball
would also need Delta / l). Schedules are evaluated at the SVAG step index; SVAG step k is SGD time k / l.
"""
from __future__ import annotations

import numpy as np

from . import eigen_mc, moments

BUGS = ("1/B_not_l/B",)


def svag_weights(l):
    """(c+, c-) for l >= 1, else ValueError."""
    l = float(l)
    if not l >= 1.0:
        raise ValueError(f"l must be >= 1, got {l}")
    r = np.sqrt(2.0 * l - 1.0)
    return (1.0 + r) / 2.0, (1.0 - r) / 2.0


def svag_coefficients(opt, t, l):
    """The optimizer's coefficients at step t with the step sizes gamma2, gamma3 divided by l."""
    k = dict(opt.coefficients(t))
    k["gamma2"] /= l
    k["gamma3"] /= l
    return k


def svag_risk(spec, opt, steps, batch, l, *, bug=None) -> np.ndarray:
    """E[P(theta_k)] for SVAG steps k = 0 .. steps."""
    assert bug in (None, *BUGS), bug
    svag_weights(l)
    lam, q = spec.eigenvalues, spec.rho
    boost = 1.0 if bug == "1/B_not_l/B" else float(l)
    mo = moments.initial(q)
    out = [moments.risk(spec, mo.a)]
    for t in range(steps):
        xi = boost * (lam**2 * mo.a + lam * (2.0 * spec.p_inf + lam @ mo.a)) / batch
        mo = moments.step(mo, q, svag_coefficients(opt, t, l), lam, xi)
        out.append(moments.risk(spec, mo.a))
    return np.array(out)


def svag_monte_carlo(spec, opt, steps, batch, l, seeds, *, seed=0) -> eigen_mc.Runs:
    """Exact-in-law SVAG runs: two independent batches per step, combined with (c+, c-)."""
    cp, cm = svag_weights(l)
    rng = eigen_mc.generator(seed, 3)

    def step(t, e, y):
        g = cp * eigen_mc.batch_gradient(spec, e, batch, rng) + cm * eigen_mc.batch_gradient(spec, e, batch, rng)
        return eigen_mc.momentum_update(e, y, g, svag_coefficients(opt, t, l))

    return eigen_mc.run(spec, steps, seeds, step)
