"""Problem fixtures shared by the test suite and the benchmarks: small spectra with known laws.

Each is a pure power law, so its results do not depend on a sampled W and are cheap to rebuild
in any process (a spawned sweep worker, a fresh venv running `python -m plrf bench`).
"""
from __future__ import annotations

import numpy as np

from ..spectrum import Spectrum


def power_law_spectrum(d, alpha=1.0, beta=0.8, p_inf_fraction=1e-3):
    """lambda_j = j^{-2 alpha}, rho_j = j^{-2 beta}, P_inf a fixed fraction of the initial excess risk.

    The spectrum the exact-risk tests and tables use (the closed-form deterministic equivalent
    without its c_beta/d floor, docs/theory.md section 6), with v = 4 d in meta.
    """
    j = np.arange(1, d + 1, dtype=np.float64)
    lam, rho = j ** (-2.0 * alpha), j ** (-2.0 * beta)
    return Spectrum(lam, rho, p_inf_fraction * (lam @ rho), meta=dict(alpha=alpha, beta=beta, v=4 * d))


def simulator_spectrum(d):
    """lambda_j = j^-2, rho_j = j^-1 / d, P_inf = 1e-4: the simulator benchmarks' eigenbasis problem.

    The eigenbasis simulator's speed does not depend on the values, only on d.
    """
    j = np.arange(1, d + 1, dtype=np.float64)
    return Spectrum(j**-2.0, j**-1.0 / d, 1e-4, meta={"alpha": 1.0, "beta": 0.5, "v": 4 * d})
