"""Mixtures of experts and sparse-update momentum (docs/families.md §1).

m experts share the features and the target, each with its own parameters. Each sample is routed
to expert i with probability p_i (the counts per step are Multinomial(B, p)); the loss is averaged
over the whole batch. With ``sparse=True`` the p_i are activation probabilities instead: block i
receives each sample independently with probability p_i (Binomial(B, p_i) counts), and they need
not sum to 1. Either way every expert's expected risk is exact (the one moment map with gain
p_i lambda and noise [p_i (2 - p_i) lambda^2 a + p_i lambda R2_i] / B), on every exact method.

    E = plrf.Experts.zipf(10, 2.0)                   # p_i proportional to i^-2
    c = plrf.exact_risk(spec, plrf.chain(opt, E), 10**5)  # c.risk = sum_i p_i P_i, c.parts[i] = P_i
    mc = plrf.simulate(spec, plrf.chain(opt, E), 1000, seeds=100)

Routing is a chain member (plrf.chain, docs/design.md): it describes the learners.

Total risk: sum_i w_i P_i with w = p (w = p / sum p for sparse blocks, whose p need not sum to 1).
"""
from __future__ import annotations

import numpy as np

from . import _validate as check
from . import capabilities as cap
from .optim import GenMomentum, check_optimizer

__all__ = ["Experts", "CLOCKS"]

CLOCKS = ("shared", "expert")
ZIPF_BYTES = 40.0  # per expert: i, i^-zeta, p and its checked copy, and the engines' list of p


class Experts(cap.Transform):
    """Routing of a mixture of experts (or sparse blocks) and, optionally, one optimizer per expert.

    Parameters
    ----------
    p : routing probabilities (non-negative, summing to 1), or with sparse=True activation
        probabilities, each in (0, 1].
    clock : "shared" (every expert's schedules run on the global step t) or "expert" (expert i's
        schedules run on its deterministic clock p_i t; still exact).
    sparse : activation probabilities instead of a routing distribution.
    optimizers : None (the engine's optimizer for every expert) or a list of plrf.GenMomentum, one
        per expert.
    """

    KIND = "experts"
    REFINES = "eigen: the fast sampler, without checkpoints."
    # every expert's expected risk is the one moment map with gain p_i lambda: exact on every discrete method;
    # the routed simulator is the eigen path's fast sampler (routing counts from the kRouting stream)
    DECLARES = {"exact": cap.EXACT, "fast": cap.EXACT, "ode": cap.EXACT, "continuous": cap.UNDEFINED,
                "eigen": cap.IN_LAW, "full": cap.UNDEFINED, "param": cap.UNDEFINED}

    def __init__(self, p, clock="shared", sparse=False, optimizers=None):
        if clock not in CLOCKS:
            raise ValueError(f"clock must be one of {CLOCKS}, got {clock!r}")
        self.sparse = bool(sparse)
        self.p = _probabilities(p, self.sparse)
        self.clock = clock
        self.optimizers = None if optimizers is None else _optimizer_list(optimizers, self.p.size)

    @classmethod
    def zipf(cls, m, zeta, **kw) -> "Experts":
        """p_i proportional to i^{-zeta}, i = 1 .. m."""
        m = check.integer("m", m, 1)
        zeta = check.finite("zeta", zeta)
        check.memory(ZIPF_BYTES * m, f"m={m} experts")  # before the arrays below
        w = np.arange(1, m + 1, dtype=np.float64) ** (-zeta)
        return cls(w / w.sum(), **kw)

    @classmethod
    def two(cls, p, **kw) -> "Experts":
        """Two experts with probabilities (1 - p, p)."""
        p = float(p)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must lie in [0, 1], got {p}")
        return cls([1.0 - p, p], **kw)

    def is_single(self) -> bool:
        """One expert that receives every sample (p = [1]): the plain learner."""
        return self.m == 1 and self.p[0] == 1.0

    @property
    def m(self) -> int:
        return int(self.p.size)

    @property
    def weights(self) -> np.ndarray:
        """Weights of the total risk: p (a routing distribution) or p / sum p (sparse blocks)."""
        return self.p / self.p.sum() if self.sparse else self.p

    def optimizer_list(self, optimizer, steps) -> list:
        """One checked optimizer per expert: the per-expert list, or `optimizer` for all."""
        opts = self.optimizers if self.optimizers is not None else [optimizer] * self.m
        for o in opts:
            check_optimizer(o, steps)  # decay/l2/noise and SVAG compose with routing (docs/families.md §5)
        return opts

    @classmethod
    def from_config(cls, cfg) -> "Experts":
        """From the JSON-able form sweeps keep in a config's options (docs/sweep.md): an Experts, or a dict
        with one of p=[...], zipf=[m, zeta], two=p, and optionally clock and sparse."""
        if isinstance(cfg, Experts):
            return cfg
        forms = ("p", "zipf", "two")
        if not isinstance(cfg, dict) or sum(k in cfg for k in forms) != 1 or set(cfg) - {*forms, "clock", "sparse"}:
            raise ValueError(f"experts must be a plrf.Experts or a dict with one of {forms} (and optionally clock, "
                             f"sparse), got {cfg!r:.120}")
        kw = {k: cfg[k] for k in ("clock", "sparse") if k in cfg}
        if "zipf" in cfg:
            return cls.zipf(*cfg["zipf"], **kw)
        return cls.two(cfg["two"], **kw) if "two" in cfg else cls(cfg["p"], **kw)

    def meta(self) -> dict:
        return {"experts": self.p.tolist(), "clock": self.clock, "sparse": self.sparse}

    def __repr__(self):
        return f"Experts(m={self.m}, clock={self.clock!r}, sparse={self.sparse})"


def check_experts(experts) -> Experts | None:
    if experts is None or isinstance(experts, Experts):
        return experts
    raise ValueError(f"experts must be a plrf.Experts or None, got {type(experts).__name__}")


def _probabilities(p, sparse) -> np.ndarray:
    try:
        p = np.atleast_1d(np.asarray(p, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"p must be a vector of probabilities, got {p!r:.80}") from None
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"p must be a non-empty 1-D vector of probabilities, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"p must be finite (no NaN), got {p}")
    if sparse:
        if np.any(p <= 0) or np.any(p > 1):
            raise ValueError(f"p (activation probabilities, sparse=True) must each lie in (0, 1], got {p}")
        return p
    if np.any(p < 0):
        raise ValueError(f"p must be non-negative, got {p}")
    if abs(p.sum() - 1.0) > 1e-12:
        raise ValueError(f"p must sum to 1 (or pass sparse=True for activation probabilities), got sum {p.sum()!r}")
    return p


def _optimizer_list(optimizers, m) -> list:
    opts = list(optimizers) if isinstance(optimizers, (list, tuple)) else None
    if opts is None or not all(isinstance(o, GenMomentum) for o in opts):
        raise ValueError("optimizers must be a list of plrf.GenMomentum, one per expert")
    if len(opts) != m:
        raise ValueError(f"optimizers has {len(opts)} entries but p has {m} experts")
    return opts
