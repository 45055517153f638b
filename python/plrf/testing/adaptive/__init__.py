"""NumPy groundwork for adaptive step sizes (issue 12): controllers, an exact-in-law Monte Carlo
(full v-dimensional space and eigenbasis) and the deterministic equivalent. The C++ engines port
these and test against them; docs/adaptive.md describes the plan and the measured DE accuracy.
"""
from .controllers import (
    NAMES, AdaGradNorm, Constant, Context, Controller, EmaNorm, LineSearch, Polyak, RiskNormalised, Stats, controller,
)
from .de import DECurve, deterministic_equivalent
from .montecarlo import BUGS, Paths, monte_carlo

__all__ = [
    "NAMES", "BUGS", "AdaGradNorm", "Constant", "Context", "Controller", "EmaNorm", "LineSearch", "Polyak",
    "RiskNormalised", "Stats", "controller", "DECurve", "deterministic_equivalent", "Paths", "monte_carlo",
]
