"""Test helpers shipped with plrf, used by its tests and by `python -m plrf bench`.

- `spec4_risk`: the one NumPy oracle of the moment recursion (docs/theory.md section 4);
- `power_law_spectrum`, `simulator_spectrum`: the problem fixtures shared by tests and benchmarks;
- `numpy_eigen`, `numpy_full`, `numpy_setup`: the NumPy references the speed ratios are taken against.
"""
from .oracle import BUGS, spec4_risk
from .problems import power_law_spectrum, simulator_spectrum
from .references import numpy_eigen, numpy_full, numpy_setup

__all__ = ["BUGS", "spec4_risk", "power_law_spectrum", "simulator_spectrum", "numpy_eigen", "numpy_full",
           "numpy_setup"]
