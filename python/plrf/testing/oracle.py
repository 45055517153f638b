"""The test suite's one NumPy transcription of SPEC section 4, the oracle for every engine.

Written line by line from the spec, independently of plrf's C++: a = E[e^2], s = E[y^2],
c = E[e y] per mode. `bug` plants a known error so tests can show their check would catch it:
"missing_1/B" forgets the 1/B of the gradient noise; "wrong_sign" flips the e-y cross term in a';
"no_multiplicity" leaves a node's multiplicity out of its noise forcing (SPEC 10: m lambda R2 / B).
"""
import numpy as np

BUGS = ("missing_1/B", "wrong_sign", "no_multiplicity")


def spec4_risk(spec, opt, steps, batch, bug=None):
    """E[P(theta_t)] for t = 0 .. steps (an array of steps + 1 values)."""
    assert bug in (None, *BUGS), bug
    lam, p_inf = spec.eigenvalues, spec.p_inf
    mult = np.ones_like(lam) if bug == "no_multiplicity" else spec.multiplicity.astype(np.float64)
    a, s, c = spec.rho.copy(), np.zeros_like(lam), np.zeros_like(lam)
    out = [p_inf + 0.5 * lam @ a]
    for t in range(steps):
        k = opt.coefficients(t)
        g1, g2, g3, m = k["gamma1"], k["gamma2"], k["gamma3"], 1.0 - k["delta"]
        G = g2 + g1 * g3
        A = 1.0 - G * lam
        R2 = 2.0 * p_inf + lam @ a
        xi = (lam**2 * a + mult * lam * R2) / (1 if bug == "missing_1/B" else batch)
        cross = (1.0 if bug == "wrong_sign" else -1.0) * 2.0 * A * g3 * m * c
        a, s, c = (
            A**2 * a + (g3 * m) ** 2 * s + cross + G**2 * xi,
            (g1 * lam) ** 2 * a + m**2 * s + 2.0 * g1 * lam * m * c + g1**2 * xi,
            A * g1 * lam * a - g3 * m**2 * s + (A * m - g3 * m * g1 * lam) * c - G * g1 * xi,
        )
        out.append(p_inf + 0.5 * lam @ a)
    return np.array(out)
