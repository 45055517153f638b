"""The one NumPy transcription of the moment recursion (docs/theory.md section 4), the oracle
for every engine, in the tests, the sweep test engines and the benchmarks.

Written line by line from the recursion, independently of plrf's C++: a = E[e^2], s = E[y^2],
c = E[e y] per mode. `opt` is anything with `coefficients(t)` returning gamma1, gamma2, gamma3
and delta at step t (a plrf optimizer, or a stand-in for another code's hyperparameters).
`bug` plants a known error so tests can show their check would catch it: "missing_1/B" forgets
the 1/B of the gradient noise; "wrong_sign" flips the e-y cross term in a'; "no_multiplicity"
leaves a node's multiplicity out of its noise forcing (docs/theory.md section 10: m lambda R2 / B).
"""
import numpy as np

BUGS = ("missing_1/B", "wrong_sign", "no_multiplicity")


def spec4_risk(spec, opt, steps, batch, bug=None, record=None):
    """E[P(theta_t)] for t = 0 .. steps (steps + 1 values), or at the steps in `record` only."""
    if bug not in (None, *BUGS):
        raise ValueError(f"bug must be one of {BUGS} or None, got {bug!r}")
    lam, p_inf = spec.eigenvalues, spec.p_inf
    want = None if record is None else set(int(r) for r in record)
    mult = np.ones_like(lam) if bug == "no_multiplicity" else spec.multiplicity.astype(np.float64)
    a, s, c = spec.rho.copy(), np.zeros_like(lam), np.zeros_like(lam)
    out = []
    for t in range(steps + 1):
        if want is None or t in want:
            out.append(p_inf + 0.5 * lam @ a)
        if t == steps:
            break
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
    return np.array(out)
