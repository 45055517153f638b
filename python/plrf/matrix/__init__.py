"""Matrix-valued PLRF: Muon, SignSVD and SignSGD (and SGD, DANA) by Monte Carlo and deterministic
dynamics (docs/muon.md, docs/theory.md §13)."""
from .problem import MatrixPLRF
from .polar import newton_schulz, polar
from .optimizers import dana, muon, sgd, signsgd, signsvd
from .simulate import MatrixCurves, resume, simulate

__all__ = ["MatrixPLRF", "MatrixCurves", "simulate", "resume", "signsvd", "muon", "signsgd", "sgd", "dana", "polar",
           "newton_schulz"]
from .dynamics import MatrixCurve, dynamics

__all__ += ["MatrixCurve", "dynamics"]
