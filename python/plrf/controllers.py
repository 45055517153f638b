"""Step-size controllers (docs/adaptive.md): rules that turn the statistics of each step into a
multiplier m_t of some of the Gen-Mom-SGD coefficients (their *placement*),
gamma_i(t) -> m_t gamma_i(t), so they compose with any optimizer of the family and its schedules.

    plrf.simulate(problem, plrf.chain(plrf.sgd(0.1), plrf.controllers.adagrad_norm()), 10_000, seeds=100)

The rules live once, in C++ (cpp/include/plrf/optim/controller.hpp); this module builds and checks
them, and fills AdaGrad-Norm's defaults from the spectrum (docs/adaptive.md §4):
b0 = sqrt(E||g_0||^2) and G = 2 sqrt(B) g2 sqrt(2) b0 with g2 = 0.375 min(2/(B+1), 1/tr K).
"""
from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass

from . import _core
from . import capabilities as cap

__all__ = ["NAMES", "COEFFICIENTS", "Controller", "adagrad_norm", "polyak", "line_search", "risk_norm", "rmsprop_dana",
           "ema_norm", "get", "defaults"]

COEFFICIENTS = ("gamma1", "gamma2", "gamma3")
NAMES = ("adagrad_norm", "polyak", "line_search", "risk_norm", "rmsprop_dana", "ema_norm")
FULL_REFUSED = ("polyak", "line_search")  # the full path has neither the batch loss nor K e
# Rules outside NAMES (the rules every method runs, which tables and the bitwise baselines list):
# log_ema_norm, ADana's normaliser (plrf.adana), is a per-step rule with no ODE form.
PER_STEP_ONLY = ("log_ema_norm",)
# The DE's measured error against Monte Carlo where a rule has its own table (exact_risk's
# meta["approximation_error"]; the other rules carry exact.DE_VALIDITY, docs/adaptive.md §3).
DE_MEASURED = {"log_ema_norm": "plrf.adana (log_ema_norm): E[P] within 1.4% of Monte Carlo for 2 alpha < 1 (d = 200, "
                                "1000; B = 1, 16; t in [10, 1e4]); 10-35% off at alpha = 1; docs/families.md §6"}


@dataclass(frozen=True)
class Controller(cap.Transform):
    """A controller: its rule's name, placement and parameters (plain data; checkpoints keep it).

    G and b0 (AdaGrad-Norm) may be None until a run knows the spectrum and batch: resolve() fills them.
    """

    name: str
    placement: tuple = ("gamma2",)
    G: float | None = None
    b0: float | None = None
    c: float = 0.5
    floor: float = 0.0
    beta: float = 0.99
    eps: float = 0.0
    delta: float | None = None  # log_ema_norm only (None elsewhere, so other rules' dicts are unchanged)
    KIND = "controller"
    REFINES = "full: adagrad_norm, ema_norm, risk_norm, rmsprop_dana (polyak and line_search need the batch loss or K e)."
    # The controller's expected risk has no closed recursion: exact and ode run its deterministic equivalent.
    DECLARES = {"exact": cap.APPROXIMATE, "fast": cap.UNDEFINED, "ode": cap.APPROXIMATE, "continuous": cap.UNDEFINED,
                "eigen": cap.IN_LAW, "full": cap.IN_LAW, "param": cap.UNDEFINED}
    REFINES += " log_ema_norm: full as ema_norm; ode: not defined (a per-step rule)."

    def capability(self, engine):
        if engine == "full" and self.name in FULL_REFUSED:  # they need the batch loss or K e
            return cap.UNDEFINED
        if engine == "ode" and self.name in PER_STEP_ONLY:
            return cap.UNDEFINED
        return self.DECLARES[engine]

    def __repr__(self):
        return f"controllers.{self.name}()"

    def resolve(self, spectrum, batch: int) -> Controller:
        """The same controller with AdaGrad-Norm's default G and b0 computed for this spectrum and batch."""
        if self.name != "adagrad_norm" or (self.G is not None and self.b0 is not None):
            return self
        b0 = self.b0 if self.b0 is not None else default_b0(spectrum, batch)
        G = self.G if self.G is not None else default_G(spectrum, batch, b0)
        return dataclasses.replace(self, G=_positive("G", G), b0=_positive("b0", b0))

    def core(self) -> _core.Controller:
        """The C++ controller (call resolve() first)."""
        mask = sum(1 << COEFFICIENTS.index(p) for p in self.placement)
        G, b0 = (1.0 if v is None else v for v in (self.G, self.b0))
        delta = 8.0 if self.delta is None else self.delta
        return _core.Controller(self.name, mask, G=G, b0=b0, c=self.c, floor=self.floor, beta=self.beta, eps=self.eps,
                                delta=delta)

    def approximation_error(self, default: str) -> str:
        """The DE's measured error against Monte Carlo: this rule's own (DE_MEASURED) or `default`."""
        return DE_MEASURED.get(self.name, default)

    def to_dict(self) -> dict:
        d = dict(dataclasses.asdict(self), placement=list(self.placement))
        if d["delta"] is None:  # the rules without delta keep their stored form (sweep keys, checkpoints)
            del d["delta"]
        return d

    @classmethod
    def from_dict(cls, d) -> Controller:
        d = dict(d)
        name = d.pop("name")
        allowed = inspect.signature(_BUILDERS.get(name, get)).parameters
        return get(name, **{k: v for k, v in d.items() if k in allowed})


def default_b0(spectrum, batch) -> float:
    """sqrt(E||g_0||^2) = sqrt((1 + 1/B) sum lambda^2 rho + tr K 2 P_0 / B)  (docs/adaptive.md §4).

    1 for a run that starts at a noiseless optimum (rho = 0, P_inf = 0): every gradient is then 0 and the
    run stays there whatever b0 is, while b0 = 0 would be refused (AdaGrad-Norm divides by b0)."""
    lam, rho = spectrum.eigenvalues, spectrum.rho
    trace = float(spectrum.multiplicity @ lam)
    two_p0 = 2.0 * spectrum.p_inf + float(lam @ rho)
    return math.sqrt((1.0 + 1.0 / batch) * float(lam**2 @ rho) + trace * two_p0 / batch) or 1.0


def default_G(spectrum, batch, b0) -> float:
    """2 sqrt(B) g2 sqrt(2) b0, g2 the SGD recipe's step: the first step is ~2 sqrt(B) times the recipe's."""
    trace = float(spectrum.multiplicity @ spectrum.eigenvalues)
    g2 = 0.375 * min(2.0 / (batch + 1), 1.0 / trace)
    return 2.0 * math.sqrt(batch) * g2 * math.sqrt(2.0) * b0


def _positive(name, x) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number > 0, got {x!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {x}")
    return x


def _placement(placement) -> tuple:
    place = (placement,) if isinstance(placement, str) else tuple(placement)
    if not place or any(p not in COEFFICIENTS for p in place) or len(set(place)) != len(place):
        raise ValueError(f"placement must be a non-empty subset of {COEFFICIENTS}, got {placement!r}")
    return tuple(p for p in COEFFICIENTS if p in place)


def adagrad_norm(G=None, b0=None, placement=("gamma2", "gamma3")) -> Controller:
    """AdaGrad-Norm: S_0 = b0^2, S_{t+1} = S_t + ||g_t||^2, m_t = G / sqrt(S_{t+1}).
    G, b0 default to docs/adaptive.md §4's rule (computed from the spectrum when the run starts)."""
    G = None if G is None else _positive("G", G)
    b0 = None if b0 is None else _positive("b0", b0)
    return Controller("adagrad_norm", _placement(placement), G=G, b0=b0)


def polyak(c=0.5, floor=0.0, placement=("gamma2", "gamma3")) -> Controller:
    """Stochastic Polyak: m_t = max(f_B - floor, 0) / (c ||g_t||^2); floor = 0 does not subtract P_inf."""
    floor = float(floor)
    if not math.isfinite(floor) or floor < 0:
        raise ValueError(f"floor must be a finite number >= 0, got {floor}")
    return Controller("polyak", _placement(placement), c=_positive("c", c), floor=floor)


def line_search(placement=("gamma2",)) -> Controller:
    """Idealised exact line search (an oracle: it reads the true error):
    m_t = ||K e||^2 / ((1 + 1/B) e^T K^3 e + tr K^2 2P / B)."""
    return Controller("line_search", _placement(placement))


def risk_norm(placement=("gamma3",)) -> Controller:
    """gamma3 / sqrt(2 P(theta_t)): the authors' "adam" mode (a risk-normalised scalar step, not Adam)."""
    return Controller("risk_norm", _placement(placement))


def rmsprop_dana(placement=("gamma1",)) -> Controller:
    """The authors' "rmsprop_dana" mode: gamma1 / sqrt(2 P(theta_t))."""
    return Controller("rmsprop_dana", _placement(placement))


def ema_norm(beta=0.99, eps=0.0, placement=("gamma3",)) -> Controller:
    """EMA of ||g||^2 with bias correction: m_t = 1 / sqrt(v_{t+1} / (1 - beta^{t+1}) + eps)."""
    beta, eps = float(beta), float(eps)
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number >= 0, got {eps}")
    return Controller("ema_norm", _placement(placement), beta=beta, eps=eps)


_BUILDERS = {"adagrad_norm": adagrad_norm, "polyak": polyak, "line_search": line_search, "risk_norm": risk_norm,
             "rmsprop_dana": rmsprop_dana, "ema_norm": ema_norm}


def get(name, **params) -> Controller:
    """A controller by name (one of NAMES) with its builder's keywords."""
    if name not in _BUILDERS:
        raise ValueError(f"controller must be one of {NAMES + PER_STEP_ONLY}, got {name!r}")
    allowed = inspect.signature(_BUILDERS[name]).parameters
    for key in params:
        if key not in allowed:
            raise ValueError(f"controller {name!r} takes {tuple(allowed)}, not {key!r}")
    return _BUILDERS[name](**params)


def log_ema_norm(delta=8.0, eps=0.0, placement=("gamma2", "gamma3")) -> Controller:
    """ADana's normaliser: v_{t+1} = (1 - a_t) v_t + a_t ||g_t||^2 with the log-time weight a_t = delta / (delta + t)
    (a_0 = 1, so no bias correction), m_t = 1 / sqrt(v_{t+1} + eps). Per step only (no ODE form)."""
    eps = float(eps)
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number >= 0, got {eps}")
    return Controller("log_ema_norm", _placement(placement), eps=eps, delta=_positive("delta", delta))


# A rule outside NAMES (PER_STEP_ONLY): get() and from_dict() build it by name like the others.
_BUILDERS["log_ema_norm"] = log_ema_norm
__all__ += ["log_ema_norm"]


def defaults(spectrum, batch=1) -> dict:
    """Every controller by name with its default parameters, AdaGrad-Norm's G and b0 computed for this
    spectrum and batch (docs/adaptive.md §4); the companion of plrf.defaults, which gives the optimizers."""
    return {name: get(name).resolve(spectrum, batch) for name in NAMES}


def check(controller):
    """A controller as a sweep config or the CLI spells it (None, a Controller, a name or a
    {"name": ..., **params} dict) as a Controller; which engines run it is its declaration's business
    (plrf.capabilities)."""
    if controller is None:
        return None
    if isinstance(controller, str):  # a name (sweep options, the CLI) with the builder's defaults
        controller = get(controller)
    elif isinstance(controller, dict):  # {"name": ..., **params}: JSON-able, as sweep configs store it
        controller = get(**controller) if "name" in controller else controller
    if not isinstance(controller, Controller):
        raise ValueError(f"controller must be built by plrf.controllers (e.g. plrf.controllers.adagrad_norm()), got "
                         f"{type(controller).__name__}")
    return controller
