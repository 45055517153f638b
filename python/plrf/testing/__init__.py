"""Test helpers shipped with plrf: the NumPy oracle of the moment recursion (docs/theory.md)."""
from .oracle import BUGS, spec4_risk

__all__ = ["BUGS", "spec4_risk"]
