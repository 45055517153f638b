"""Scaling-law theory of the PLRF model (docs/theory.md §7-8), in two parts:

- laws: phases, loss-term exponents, the compute-optimal exponents and their paper/derived flags;
- shape: the predicted loss-curve shape (which term dominates when), built on laws' loss terms.

A package so that shape can import laws without an import cycle; everything is read as plrf.theory.X.
"""
from .laws import *  # noqa: F401,F403  (the public names, listed in laws.__all__)
from .laws import __all__ as _LAWS
from .shape import DEFAULT_MARGIN, Shape, Stretch, shape

__all__ = [*_LAWS, "DEFAULT_MARGIN", "Shape", "Stretch", "shape"]
