"""What each optimizer transform means on each engine, and the rules for combining them (docs/design.md).

This module is the one place that says which chains an engine runs:

- every transform class declares, per engine, one word of VALUES (its `DECLARES`, possibly refined
  per instance by `capability(engine)`);
- RULES says, once per pair of transform kinds, whether the two compose, and why;
- `check(chain, engine)` combines both and returns the chain's label on that engine, or raises a
  ValueError naming the member and the engine and listing the engines that would run the chain.

It imports nothing from plrf: the transform modules import it (no import cycle).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENGINES", "VALUES", "Transform", "Rule", "RULES", "KINDS", "check", "label", "engines_for", "table"]

# exact_risk(method=...) engines, then simulate(space=...) paths (param: the parameter basis).
DETERMINISTIC = ("exact", "fast", "ode", "continuous")
MONTE_CARLO = ("eigen", "full", "param")
ENGINES = DETERMINISTIC + MONTE_CARLO

EXACT = "exact"
APPROXIMATE = "approximate (deterministic equivalent)"
IN_LAW = "runs, exact in law"
MODEL_LAW = "runs, a model's law (not the optimizer's)"
UNDEFINED = "not defined"
VALUES = {"deterministic": (EXACT, APPROXIMATE, UNDEFINED), "monte_carlo": (IN_LAW, MODEL_LAW, UNDEFINED)}


def engine_name(engine: str) -> str:
    """How a user spells the engine: exact_risk(method=...) or simulate(space=...)."""
    return f"exact_risk(method={engine!r})" if engine in DETERMINISTIC else f"simulate(space={engine!r})"


KINDS: dict = {}  # kind -> transform class, filled by Transform.__init_subclass__


class Transform:
    """Base of every chain member. A subclass sets KIND (its name in RULES and tables) and DECLARES
    (engine -> one word of VALUES); defining a transform without a full declaration fails at import."""

    KIND: str = ""
    DECLARES: dict = {}
    REFINES: str = ""  # where an instance's parameters narrow DECLARES (said in the generated table)
    __slots__ = ()

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.__dict__.get("KIND"):
            _check_declaration(cls)
            KINDS[cls.KIND] = cls

    def capability(self, engine: str) -> str:
        """This member's word on `engine` (a subclass refines it where parameters matter)."""
        return self.DECLARES[engine]


def _check_declaration(cls) -> None:
    missing = [e for e in ENGINES if e not in cls.DECLARES]
    if missing:
        raise TypeError(f"transform {cls.__name__} declares no capability for engines {missing}")
    for e, word in cls.DECLARES.items():
        allowed = VALUES["deterministic" if e in DETERMINISTIC else "monte_carlo"]
        if word not in allowed:
            raise TypeError(f"transform {cls.__name__}: {word!r} on engine {e!r} is not one of {allowed}")


@dataclass(frozen=True)
class Rule:
    """Whether two transform kinds compose in one chain, and why."""

    composes: bool
    reason: str


# One entry per pair of kinds; a pair absent here composes wherever both members are defined.
# A refusal that the C++ engines lift becomes composes=True with its reason, one line.
RULES = {
    frozenset({"decay", "svag"}): Rule(True, "SVAG rescales the steps and draws two batches; ridge, decay and noise "
                                             "are affine in the state, so the moment map keeps its form"),
    frozenset({"controller", "decay"}): Rule(True, "the controller scales gamma1..gamma3, the linear part of the affine "
                                                   "map (it multiplies g + l2 theta); decay and noise are added outside "
                                                   "the scaled step, and the DE's E[g^2] reads only the second moments "
                                                   "the affine recursion carries"),
    frozenset({"controller", "svag"}): Rule(False, "a controller reads one batch's statistics; SVAG's step combines "
                                                   "two batches, whose statistics no controller rule defines"),
    frozenset({"controller", "experts"}): Rule(False, "a controller runs one learner; a mixture has one per expert"),
    frozenset({"controller", "gradient_model"}): Rule(False, "controllers read the true batch gradient's "
                                                             "statistics, which a gradient model replaces"),
    frozenset({"experts", "decay"}): Rule(True, "each expert's recursion is the affine map routed like the plain one; "
                                                "ridge, decay and noise act on every expert at every step, routed or "
                                                "not"),
    frozenset({"experts", "svag"}): Rule(True, "SVAG's two batches are independent draws of the whole step, routing "
                                               "included: the exact map is the routed map with 1/B -> l/B"),
    frozenset({"experts", "gradient_model"}): Rule(False, "the gradient models are SDEs of one learner"),
    frozenset({"decay", "gradient_model"}): Rule(False, "the gradient models replace SGD's gradient; the knobs are "
                                                        "defined on the true batch gradient only"),
    frozenset({"momentum", "coordinatewise"}): Rule(False, "each is the whole update rule: a chain holds one of them"),
    frozenset({"coordinatewise", "decay"}): Rule(False, "a coordinate-wise rule has its own weight_decay (L2 or "
                                                        "decoupled); Gen-Mom's ridge/decay/noise act on momentum"),
    frozenset({"coordinatewise", "controller"}): Rule(False, "the controllers scale Gen-Mom's step sizes; a "
                                                             "coordinate-wise rule has its own normalisation"),
    frozenset({"coordinatewise", "clip"}): Rule(False, "DP-SGD clips each sample's gradient before the mean; a "
                                                       "coordinate-wise rule clips the mean (clip=, clip_norm=)"),
    frozenset({"svag", "gradient_model"}): Rule(False, "SVAG is itself a discretisation of the Ito model; "
                                                       "combining it with another model defines nothing"),
    # DP-SGD clipping (plrf.privacy.clip): it acts on each sample's gradient, so it needs a plain batch of samples
    frozenset({"clip", "svag"}): Rule(False, "clipping acts per sample of one batch; SVAG's step combines two batches "
                                             "with weights of both signs, which no clipping rule defines"),
    frozenset({"clip", "controller"}): Rule(False, "the controllers read the unclipped batch gradient's statistics; "
                                                   "their rules with a clipped, noised gradient are not defined"),
    frozenset({"clip", "experts"}): Rule(False, "routed steps draw through the fast sampler, which forms no per-sample "
                                                "gradient to clip"),
    frozenset({"clip", "gradient_model"}): Rule(False, "the gradient models replace SGD's samples; clipping needs them"),
    frozenset({"clip", "decay"}): Rule(False, "DP-SGD's noise is the clip member's own; ridge with clipping has no "
                                              "deterministic equivalent here yet (docs/limits.md)"),
}


def check(members, engine: str) -> str:
    """The chain's label on `engine` (EXACT, APPROXIMATE, IN_LAW or MODEL_LAW); ValueError otherwise."""
    problem = _why_not(members, engine)
    if problem:
        others = engines_for(members)
        where = ", ".join(engine_name(e) for e in others) if others else "no engine"
        raise ValueError(f"optimizer: {problem}; engines that run this chain: {where}")
    return label(members, engine)


def label(members, engine: str) -> str:
    """The weakest member's word (approximate beats exact; a model's law beats exact in law)."""
    words = {m.capability(engine) for m in members}
    for word in (APPROXIMATE, MODEL_LAW):
        if word in words:
            return word
    return EXACT if engine in DETERMINISTIC else IN_LAW


def engines_for(members) -> list:
    """The engines that run the chain."""
    return [e for e in ENGINES if not _why_not(members, e)]


def _why_not(members, engine) -> str:
    """'' when `engine` runs the chain, else the reason naming the member(s)."""
    kinds = [m.KIND for m in members]
    if len(set(kinds)) != len(kinds):
        return "a chain holds at most one member of each kind"
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            rule = RULES.get(frozenset({a.KIND, b.KIND}))
            if rule is not None and not rule.composes:
                return f"{a!r} and {b!r} do not compose ({rule.reason})"
    for m in members:
        if m.capability(engine) == UNDEFINED:
            return f"{m!r} is not defined for {engine_name(engine)}"
    return ""


def table() -> str:
    """docs/families.md §5, generated: each kind's declaration per engine, then the pair rules."""
    head = "| transform | " + " | ".join(ENGINES) + " |"
    lines = [head, "|" + "---|" * (len(ENGINES) + 1)]
    for kind, cls in sorted(KINDS.items()):
        lines.append(f"| {kind} | " + " | ".join(cls.DECLARES[e] for e in ENGINES) + " |")
    lines += [""] + [f"- {kind}: {cls.REFINES}" for kind, cls in sorted(KINDS.items()) if cls.REFINES]
    lines += ["", "| pair | composes | why |", "|---|---|---|"]
    for pair, rule in RULES.items():
        a, b = sorted(pair)
        lines.append(f"| {a} + {b} | {'yes' if rule.composes else 'refused'} | {rule.reason} |")
    return "\n".join(lines)
