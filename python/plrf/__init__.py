"""plrf: exact, fast simulators and risk curves for power-law random features.

Pipeline: PLRF (or a user W) -> Spectrum -> engine (simulate, exact_risk) driven by an optimizer
built from schedules -> Curves -> analysis (fit, frontier, theory) -> plots, CLI and sweeps.
"""
from ._version import __version__
from . import _core
from .spectrum import Spectrum
from .curves import Curve, Curves, DivergenceError, DivergenceWarning, record_grid
from .problem import PLRF
from .exact import exact_risk, max_stable_lr
from .experts import Experts
from . import fit, frontier, plot, theory, shape_fit  # analysis: plrf.theory.compute_optimal, plrf.fit.power_law, ... (plot imports matplotlib lazily)
from .optim import (
    GenMomentum,
    Schedule,
    adana_decay,
    dana_constant,
    dana_decaying,
    defaults,
    schedule,
    sgd,
    sgd_momentum,
    svag,
    decay,
    with_decay,
)
from .transforms import Chain, chain, continuized, gaussianised, gradient_model, hsgd, ito  # one optimizer: a chain of transforms
from . import capabilities  # what each transform means on each engine (docs/families.md §5)
from . import engines  # the engines and their options: method=plrf.engines.fast(rtol=...), space=plrf.engines.eigen(...)
from .errstate import errstate, geterr, seterr  # what an engine does on divergence (as np.errstate)
from . import matrix  # plrf.matrix: Muon, SignSVD, SignSGD on a matrix-valued PLRF (docs/muon.md)
from .simulation import resume, simulate
from .coordinatewise import adam, adamw, custom_rule, preconditioned_sgd, rmsprop, sign_sgd, signum  # simulate(space="param")
from . import adaptive_sde  # plrf.adaptive_sde.rmsprop_sde, adam_sde: the Malladi et al. SDEs (docs/coordinatewise.md)
from . import sign_de  # plrf.sign_de.sign_sgd_de, sign_sgd_fixed_point: signSGD's deterministic equivalent (docs/coordinatewise.md)
from .coordinatewise import adana_coord, dana_star  # the authors' per-coordinate ADana, Dana-Star (space="param")
from . import controllers  # plrf.controllers.adagrad_norm(), ...: step-size controllers (docs/adaptive.md)
from . import checkpoint  # plrf.checkpoint.load, CheckpointError: the inert checkpoint format
from . import sweep  # plrf.sweep.run(grid(...), store=...); plrf.sweep.grid, plrf.sweep.load
from ._load import load  # a store folder -> its table; a spectrum .npz -> Spectrum
from .adana import adana  # ADana as a chain of members (docs/families.md §6)
from . import privacy  # DP-SGD: plrf.clip, plrf.privacy.epsilon (docs/privacy.md)
from .privacy import clip

__all__ = [
    "__version__",
    "PLRF",
    "Spectrum",
    "Curve",
    "Curves",
    "DivergenceError",
    "DivergenceWarning",
    "record_grid",
    "Schedule",
    "GenMomentum",
    "schedule",
    "sgd",
    "sgd_momentum",
    "dana_constant",
    "dana_decaying",
    "with_decay",
    "svag",
    "adana_decay",
    "adana",
    "defaults",
    "simulate",
    "resume",
    "sign_sgd",
    "signum",
    "rmsprop",
    "adam",
    "adamw",
    "preconditioned_sgd",
    "adana_coord",
    "dana_star",
    "custom_rule",
    "exact_risk",
    "max_stable_lr",
    "Experts",
    "sweep",
    "load",
    "controllers",
    "decay",
    "Chain",
    "chain",
    "hsgd",
    "ito",
    "gaussianised",
    "continuized",
    "gradient_model",
    "capabilities",
    "engines",
    "errstate",
    "geterr",
    "seterr",
    "privacy",
    "clip",
    "matrix",
    "adaptive_sde",
    "sign_de",
]
