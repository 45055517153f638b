"""One optimizer concept: a chain of transforms (docs/design.md).

    opt = plrf.chain(plrf.dana_decaying(g2, g3, delta, alpha), plrf.decay(decay=plrf.adana_decay(0.5)))
    plrf.exact_risk(spec, opt, 10**5)            # meta["capability"]: "exact"
    plrf.simulate(spec, plrf.chain(plrf.sgd(0.1), plrf.hsgd(substeps=4)), 1000, seeds=100)

Each member is a small immutable object backed by one C++ definition: Gen-Mom momentum (a
plrf.GenMomentum), ridge/decay/noise (plrf.decay), SVAG (plrf.svag(l)), a step-size controller
(plrf.controllers.Controller), routing (plrf.Experts) and the gradient model (GradientModel). Each
declares what it is on every engine (plrf.capabilities); the engines read a chain's capability,
then `lower` turns it into today's C++ arguments, in this one place.
"""
from __future__ import annotations

import math

from dataclasses import dataclass
from typing import NamedTuple

from . import _validate as check
from . import capabilities as cap
from .controllers import Controller
from .experts import Experts
from .optim import Decay, GenMomentum, Momentum, Schedule, Svag, check_optimizer, svag, with_decay
from .privacy import clipping as dp

__all__ = ["GradientModel", "Chain", "chain", "hsgd", "ito", "gaussianised",
           "continuized", "gradient_model", "MODELS"]


MODELS = ("hsgd", "ito", "gaussianised", "continuized")


@dataclass(frozen=True, repr=False)
class GradientModel(cap.Transform):
    """A stochastic model of SGD's batch gradient (docs/families.md §4), a chain member read by simulate's
    eigen path and by exact_risk(method="continuous"). substeps: None for the continuous-time model itself
    (exact_risk; simulate then runs 1 substep), or n >= 1 substeps per step with the path risk frozen."""

    model: str
    substeps: int | None = None
    KIND = "gradient_model"
    REFINES = ("hsgd and ito: plain SGD momentum only; eigen: hsgd, ito, gaussianised; continuous: hsgd, ito, "
               "continuized.")
    DECLARES = {"exact": cap.UNDEFINED, "fast": cap.UNDEFINED, "ode": cap.UNDEFINED, "continuous": cap.EXACT,
                "eigen": cap.MODEL_LAW, "full": cap.UNDEFINED, "param": cap.UNDEFINED}

    def __post_init__(self):
        check.choice("model", self.model, MODELS)
        if self.substeps is not None and self.model not in ("hsgd", "ito"):
            raise ValueError(f"substeps is read by plrf.hsgd() and plrf.ito() only, got substeps={self.substeps!r} "
                             f"with plrf.{self.model}()")
        if self.substeps is not None:
            object.__setattr__(self, "substeps", check.integer("substeps", self.substeps, 1, 2**31 - 1))

    def capability(self, engine):
        if engine == "eigen" and self.model == "continuized":  # no simulator draws the Poisson clock
            return cap.UNDEFINED
        if engine == "continuous" and self.model == "gaussianised":  # its mean is SGD's: method="exact"
            return cap.UNDEFINED
        return self.DECLARES[engine]

    def __repr__(self):
        return f"{self.model}(substeps={self.substeps})" if self.substeps is not None else f"{self.model}()"


def hsgd(substeps=None) -> GradientModel:
    """Homogenized SGD (plain SGD only)."""
    return GradientModel("hsgd", substeps)


def ito(substeps=None) -> GradientModel:
    """The Ito SDE with SGD's covariance (plain SGD only)."""
    return GradientModel("ito", substeps)


def gaussianised() -> GradientModel:
    """A Gaussian gradient with SGD's conditional mean and covariance (any momentum; simulate only)."""
    return GradientModel("gaussianised")


def continuized() -> GradientModel:
    """SGD at the jumps of a rate-1 Poisson clock (exact_risk(method="continuous") only)."""
    return GradientModel("continuized")


def gradient_model(name, substeps=None) -> GradientModel | None:
    """The gradient model called `name` ("sgd": the true batch gradient, no member, so None)."""
    return None if name == "sgd" else GradientModel(name, substeps)


# The Monte Carlo job's gradient model ("sgd": the true batch gradient); checkpoints re-check it on
# resume, so it lives here rather than in simulation (no import cycle).
DYNAMICS = ("sgd", "hsgd", "ito", "gaussianised")


def check_dynamics(dynamics, substeps, optimizer, space, sampler) -> int:
    """The conditions on a gradient model that depend on its neighbours' parameters (the pair rules of
    plrf.capabilities cover the rest); returns substeps as an int."""
    check.choice("dynamics", dynamics, DYNAMICS)
    substeps = check.integer("substeps", substeps, 1, 2**31 - 1)
    if dynamics == "sgd":
        return 1 if substeps == 1 else _no_substeps(dynamics, substeps)
    if space != "eigen" or sampler != "fast":
        raise ValueError(f"space: plrf.{dynamics}() runs on the eigen path, whose sampler then draws no batch; got "
                         f"space={space!r}, sampler={sampler!r}")
    if dynamics == "gaussianised":
        return 1 if substeps == 1 else _no_substeps(dynamics, substeps)
    if not optimizer.is_sgd():
        raise ValueError(f"optimizer: plrf.{dynamics}() is an SDE of plain SGD, so its momentum must be plrf.sgd "
                         f"(gamma1 = gamma3 = 0), got {optimizer.name}; plrf.gaussianised() takes any momentum")
    return substeps


def _no_substeps(dynamics, substeps):
    raise ValueError(f"substeps is read by plrf.hsgd() and plrf.ito() only; got substeps={substeps} with the "
                     f"gradient model {dynamics!r}")


class Lowered(NamedTuple):
    """A chain as today's C++ arguments: the GenMomentum (with its knobs) and the engine options."""

    optimizer: GenMomentum
    controller: Controller | None
    experts: Experts | None
    model: str | None
    substeps: int | None


@dataclass(frozen=True, repr=False)
class Chain:
    """Transforms applied together, at most one of each kind, exactly one momentum. The engines apply
    them in one fixed order (docs/design.md), so a chain's order does not change its numbers."""

    members: tuple

    def get(self, kind):
        return next((m for m in self.members if m.KIND == kind), None)

    @property
    def name(self) -> str:
        return " + ".join(repr(m) for m in self.members)

    def check(self, engine: str) -> str:
        """The chain's label on `engine` (plrf.capabilities), or ValueError naming the member."""
        return cap.check(self.members, engine)

    def engines(self) -> list:
        return cap.engines_for(self.members)

    def lower(self) -> Lowered:
        """The one place a chain becomes today's C++ arguments (a GenMomentum carries ridge/decay/noise
        and SVAG; the controller, routing and gradient model are engine arguments)."""
        opt = self.get("momentum").optimizer
        d, s, g = self.get("decay"), self.get("svag"), self.get("gradient_model")
        if d is not None:
            opt = with_decay(opt, l2=d.l2, decay=d.decay, noise=d.noise)
        if s is not None:
            opt = svag(opt, s.l)
        opt = dp.lower(opt, self.get("clip"))  # DP-SGD's clip knobs (docs/privacy.md)
        return Lowered(opt, self.get("controller"), self.get("experts"), None if g is None else g.model,
                       None if g is None else g.substeps)

    def __repr__(self):
        return f"chain({self.name})"


def _split(opt: GenMomentum) -> list:
    """A GenMomentum with knobs (plrf.with_decay / plrf.svag) as its members: momentum, decay, svag."""
    base = GenMomentum(opt.gamma1, opt.gamma2, opt.gamma3, opt.delta, opt.name.split("+")[0])
    out = [Momentum(base)]
    if opt.has_affine_knobs():
        out.append(Decay(opt.l2, opt.decay, opt.noise))
    if opt.svag_l != 1.0:
        out.append(Svag(opt.svag_l))
    if opt.clip != math.inf:  # DP-SGD's knobs (a lowered chain handed back): its clip member
        out.append(dp.clip(opt.clip, noise_multiplier=opt.clip_noise))
    return out


def chain(*transforms) -> Chain:
    """Compose transforms (GenMomentum, Decay, Svag, Controller, Experts, GradientModel, or chains).
    None is skipped, so an optional member composes as plrf.chain(opt, controller_or_none)."""
    members = []
    for t in transforms:
        if t is None:
            continue
        if isinstance(t, Chain):
            members += t.members
        elif isinstance(t, GenMomentum):
            members += _split(check_optimizer(t))
        elif isinstance(t, cap.Transform):
            members.append(t)
        else:
            raise ValueError(f"chain: {type(t).__name__} is not a transform (a plrf.GenMomentum, plrf.decay(...), "
                             "plrf.svag(l), a plrf.controllers controller, a plrf.Experts or a gradient "
                             "model such as plrf.hsgd())")
    if sum(m.KIND in ("momentum", "coordinatewise") for m in members) != 1:
        raise ValueError("chain: a chain needs exactly one momentum (a plrf.GenMomentum such as plrf.sgd(lr)) or one "
                         "coordinate-wise rule (plrf.adam(lr), plrf.sign_sgd(lr), ...)")
    return Chain(tuple(members))


def as_chain(optimizer) -> Chain:
    """The chain an engine runs: a Chain as given, a bare GenMomentum (plrf.sgd(lr), ...) as its chain."""
    if isinstance(optimizer, Chain):
        return optimizer
    if isinstance(optimizer, GenMomentum):
        return chain(optimizer)
    raise ValueError(f"optimizer must be a plrf.GenMomentum (plrf.sgd(lr), plrf.dana_decaying(...), ...) or a "
                     f"plrf.chain(...) of transforms, got {type(optimizer).__name__}")


# ---- a chain as JSON (sweep configs and stores): {"chain": [{"kind": ..., ...}, ...]} --------------
def _schedule_state(s: Schedule) -> list:
    kind, c, tau, p, values = s.__getstate__()
    return [kind, c, tau, p, list(values)]


def _schedule_from(state) -> Schedule:
    s = Schedule.__new__(Schedule)
    kind, c, tau, p, values = state
    s.__setstate__((int(kind), float(c), float(tau), float(p), [float(v) for v in values]))
    return s


def _member_state(m) -> dict:
    if m.KIND == "momentum":
        o = m.optimizer
        return {"kind": "momentum", "name": o.name,
                **{k: _schedule_state(getattr(o, k)) for k in ("gamma1", "gamma2", "gamma3", "delta")}}
    if m.KIND == "decay":
        return {"kind": "decay", **{k: _schedule_state(getattr(m, k)) for k in ("l2", "decay", "noise")}}
    if m.KIND == "svag":
        return {"kind": "svag", "l": m.l}
    if m.KIND == "controller":
        return {"kind": "controller", **m.to_dict()}
    if m.KIND == "clip":
        return {"kind": "clip", "C": m.C, "noise_multiplier": m.noise_multiplier}
    if m.KIND == "experts":
        if m.optimizers is not None:
            raise ValueError("optimizer: a chain whose Experts carry per-expert optimizers has no JSON form yet")
        return {"kind": "experts", "p": m.p.tolist(), "clock": m.clock, "sparse": m.sparse}
    return {"kind": "gradient_model", "model": m.model, "substeps": m.substeps}


def _member_from(d: dict):
    d = dict(d)
    kind = d.pop("kind", None)
    if kind == "momentum":
        g = [_schedule_from(d[k]) for k in ("gamma1", "gamma2", "gamma3", "delta")]
        return Momentum(GenMomentum(*g, d["name"]))
    if kind == "decay":
        return Decay(*(_schedule_from(d[k]) for k in ("l2", "decay", "noise")))
    if kind == "svag":
        return svag(d["l"])
    if kind == "controller":
        return Controller.from_dict(d)
    if kind == "clip":
        return dp.clip(d.get("C"), d.get("noise_multiplier", 0.0))  # a missing C is refused naming it
    if kind == "experts":
        return Experts(d["p"], clock=d["clock"], sparse=d["sparse"])
    if kind == "gradient_model" and d.get("model") in MODELS:
        return GradientModel(d["model"], d["substeps"])
    raise ValueError(f"optimizer: {kind!r} is not a chain member kind (one of {sorted(cap.KINDS)})")


def to_state(c: Chain) -> dict:
    """The chain's JSON-able form (inverse: from_state)."""
    return {"chain": [_member_state(m) for m in c.members]}


def from_state(state: dict) -> Chain:
    if not isinstance(state, dict) or not isinstance(state.get("chain"), list):
        raise ValueError(f"optimizer: a chain state is {{'chain': [members]}}, got {state!r:.120}")
    return chain(*(_member_from(d) for d in state["chain"]))
