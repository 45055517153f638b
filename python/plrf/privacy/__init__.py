"""Differential privacy on PLRF (docs/privacy.md): DP-SGD's clipping member (plrf.clip), its
deterministic equivalent, privacy accounting through dp-accounting (optional extra), and the
privacy-utility curve.

    opt = plrf.chain(plrf.sgd(0.1), plrf.clip(1.0, noise_multiplier=0.8))
    curve = plrf.exact_risk(spectrum, opt, n // B, batch=B)      # approximate: meta says so
    eps = plrf.privacy.epsilon_curve(curve.steps, 0.8, delta=1e-5, mode="one_pass")
"""
from .accounting import ACCOUNTANTS, ADJACENCY, MODES, epsilon, epsilon_curve, noise_for_epsilon
from .clipping import Clip, clip

__all__ = ["Clip", "clip", "epsilon", "epsilon_curve", "noise_for_epsilon", "MODES", "ADJACENCY", "ACCOUNTANTS"]
