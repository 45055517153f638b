"""A stand-in spectrum for tests that must not depend on Spectrum.theory: SPEC 6's crude closed form
lambda_j = j^-2alpha, rho_j = j^-2beta (exact in law for 2 beta < 1 up to P_inf), with P_inf the
unreachable tail (1/2) sum_{d < j <= 4d} j^-(2alpha + 2beta)."""
import numpy as np

import plrf


def power_spectrum(alpha, beta, d, v=None, method=None, **kw):
    j = np.arange(1, d + 1, dtype=float)
    tail = np.arange(d + 1, 4 * d + 1, dtype=float)
    return plrf.Spectrum(j ** (-2 * alpha), j ** (-2 * beta), 0.5 * np.sum(tail ** (-2 * alpha - 2 * beta)),
                         meta=dict(alpha=alpha, beta=beta, d=d, v=4 * d))
