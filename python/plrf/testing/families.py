"""NumPy oracles for the optimizer families of issue 11 (docs/theory.md §11; design note docs/families.md).

Each family has an exact expected-risk recursion (per-mode moments, like oracle.py for docs/theory.md §4) with a
`bug=` switch that plants a named error, and a Monte Carlo in K's eigenbasis that is exact in law:

* mixtures of experts / sparse updates (moe.py): moe_risk, sparse_momentum_risk, moe_monte_carlo,
  sparse_monte_carlo, binomial_average; bug "p_not_p(2-p)".
* weight decay, ridge and injected noise (decay.py): decay_risk, decay_monte_carlo, adana_decay;
  bug "no_cross_term".
* SVAG (svag.py): svag_risk, svag_monte_carlo; bug "1/B_not_l/B".
* continuous-time models and homogenized SGD (sde.py): continuous_risk, hsgd_risk, hsgd_monte_carlo;
  Gaussianised SGD: eigen_mc.genmom_monte_carlo(..., gaussian=True).
"""
from .decay import adana_decay, decay_monte_carlo, decay_risk
from .eigen_mc import Runs, genmom_monte_carlo
from .moe import (
    binomial_average,
    check_probabilities,
    moe_monte_carlo,
    moe_risk,
    sparse_momentum_risk,
    sparse_monte_carlo,
    zipf_probabilities,
)
from .sde import MODELS, continuous_risk, hsgd_monte_carlo, hsgd_risk
from .svag import svag_monte_carlo, svag_risk, svag_weights

__all__ = [
    "MODELS", "Runs", "adana_decay", "binomial_average", "check_probabilities", "continuous_risk",
    "decay_monte_carlo", "decay_risk", "genmom_monte_carlo", "hsgd_monte_carlo", "hsgd_risk",
    "moe_monte_carlo", "moe_risk", "sparse_momentum_risk", "sparse_monte_carlo", "svag_monte_carlo",
    "svag_risk", "svag_weights", "zipf_probabilities",
]
