"""Coordinate-wise optimizers (signSGD, signum, RMSprop, Adam, AdamW, fixed diagonal preconditioning)
and the parameter-basis Monte Carlo engine that runs them: simulate(..., space="param").

    problem = plrf.PLRF(alpha=1.0, beta=0.5, d=128, seed=0)
    curves = plrf.simulate(problem, plrf.adam(1e-3), 1000, batch=8, seeds=64, space="param")

These rules act on coordinates, so they are not rotation invariant: the eigenbasis reduction of the
other engines does not apply, and the run needs K's eigenvectors (a PLRF problem, or a Spectrum with
eigenvectors and theta_star). Each rule is one C++ definition (plrf/optim/coordinatewise.hpp), a
chain member of kind "coordinatewise" that takes the place of the momentum. The engine
(plrf.param_run; in C++ plrf/simulate/param_path.hpp) draws the batch-averaged gradient exactly in law with the eigen path's
O(d) fast sampler and rotates it with one GEMM for all seeds; the risk is exact (docs/coordinatewise.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validate as check
from . import capabilities as cap
from .optim import Schedule, schedule
from .problem import PLRF
from .spectrum import Spectrum

__all__ = ["CoordinateWise", "sign_sgd", "signum", "rmsprop", "adam", "adamw", "preconditioned_sgd",
           "adana_coord", "dana_star", "custom_rule", "param_memory", "packed_rotation_bytes", "pack_rotation",
           "max_param_d", "rotation",
           "preconditioned_spectrum"]

RULES = ("sign", "signum", "rmsprop", "adam", "precond", "adana", "dana_star", "python")
DANA = ("adana", "dana_star")  # the authors' rules: their own weight decay, buffers m, v (and tau)


@dataclass(frozen=True, repr=False)
class CoordinateWise(cap.Transform):
    """A coordinate-wise update rule (plrf/optim/coordinatewise.hpp); it replaces the chain's momentum.
    weight_decay is L2 (added to the gradient) unless decoupled (AdamW: theta -= lr wd theta). Every
    built-in rule takes clip= (each coordinate of g into [-clip, clip]) and clip_norm= (g scaled to norm
    at most clip_norm, first), 0 for none."""

    rule: str
    lr: Schedule
    b1: float = 0.0
    b2: float = 0.0
    eps: float = 0.0
    weight_decay: Schedule = field(default_factory=lambda: Schedule.constant(0.0))
    decoupled: bool = False
    diag: tuple = ()
    clip: float = 0.0       # per-coordinate clipping of g (0: off)
    clip_norm: float = 0.0  # global-norm clipping of g per seed (0: off), applied first
    update: object = None  # python: update(grad, state, t) -> (step, state) on (seeds x d) arrays
    init: object = None    # python: init(theta) -> the rule's first state (default None)
    label: str = ""        # python: the rule's name
    delta: float = 8.0     # adana, dana_star: EMA weight delta / (delta + t + 1)
    kappa: float = 1.0     # adana, dana_star: damping exponent 1 - kappa
    g3: float = 1.0        # adana, dana_star: the momentum term's factor (the authors' gamma_3_factor)
    clipsnr: float = 0.0   # adana, dana_star: cap of the damped term (0: off; > 0: their MK4 variants)
    KIND = "coordinatewise"
    DECLARES = {"exact": cap.UNDEFINED, "fast": cap.UNDEFINED, "ode": cap.UNDEFINED, "continuous": cap.UNDEFINED,
                "eigen": cap.UNDEFINED, "full": cap.IN_LAW, "param": cap.IN_LAW}
    REFINES = "full: every built-in rule, dana_star with its tau buffer (a Python rule, plrf.custom_rule: param only)"

    def capability(self, engine: str) -> str:
        if engine == "full" and self.rule == "python":  # the full path runs the C++ rules only
            return cap.UNDEFINED
        return self.DECLARES[engine]

    @property
    def uses_tau(self) -> bool:
        """Whether the rule keeps a third per-coordinate buffer tau (dana_star's rate estimate)."""
        return self.rule == "dana_star"

    def __post_init__(self):
        check.choice("rule", self.rule, RULES)
        for name in ("b1", "b2"):
            x = check.finite(name, getattr(self, name))
            if not 0.0 <= x < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {x}")
        if not check.finite("eps", self.eps) >= 0.0:
            raise ValueError(f"eps must be >= 0, got {self.eps}")
        if self.rule == "precond" and not (len(self.diag) and all(p > 0 for p in self.diag)):
            raise ValueError("diag must be a non-empty sequence of positive numbers (the preconditioner P)")
        for name in ("clip", "clip_norm"):
            if not check.finite(name, getattr(self, name)) >= 0.0:
                raise ValueError(f"{name} must be >= 0 (0: no clipping), got {getattr(self, name)}")
        if not check.finite("delta", self.delta) > 0.0:
            raise ValueError(f"delta must be > 0, got {self.delta}")
        check.finite("kappa", self.kappa), check.finite("g3", self.g3)
        if not check.finite("clipsnr", self.clipsnr) >= 0.0:
            raise ValueError(f"clipsnr must be >= 0 (0: no clipping), got {self.clipsnr}")
        if (self.rule == "python") != callable(self.update):
            raise ValueError("update must be a callable update(grad, state, t) -> (step, state) (plrf.custom_rule)")

    def core_args(self) -> dict:
        return dict(rule=self.rule, lr=self.lr, b1=self.b1, b2=self.b2, eps=self.eps, weight_decay=self.weight_decay,
                    decoupled=self.decoupled, diag=list(self.diag), clip=self.clip, clip_norm=self.clip_norm,
                    delta=self.delta, kappa=self.kappa, g3=self.g3, clipsnr=self.clipsnr, momentum=None)

    def __repr__(self):
        if self.rule == "python":
            return self.label
        if self.rule in DANA:
            return {"adana": "adana_coord", "dana_star": "dana_star"}[self.rule] + ("_mk4" if self.clipsnr else "")
        return {"sign": "sign_sgd", "precond": "preconditioned_sgd"}.get(self.rule, self.rule) + (
            "w" if self.decoupled and self.rule == "adam" else "")


def _member(rule, lr, **kw):
    from .transforms import chain  # chain imports the member kinds; a member module does not import it
    return chain(CoordinateWise(rule, schedule(lr, "lr"), **kw))


def sign_sgd(lr, *, clip=0.0, clip_norm=0.0):
    """signSGD: theta -= lr sign(g)."""
    return _member("sign", lr, clip=clip, clip_norm=clip_norm)


def signum(lr, b1=0.9, *, clip=0.0, clip_norm=0.0):
    """signum: the sign of a momentum buffer m = b1 m + (1 - b1) g."""
    return _member("signum", lr, b1=b1, clip=clip, clip_norm=clip_norm)


def rmsprop(lr, b2=0.99, eps=1e-8, weight_decay=0.0, *, clip=0.0, clip_norm=0.0):
    """RMSprop (PyTorch's form): v = b2 v + (1 - b2) g^2, theta -= lr g / (sqrt(v) + eps); L2 weight decay."""
    return _member("rmsprop", lr, b2=b2, eps=eps, weight_decay=schedule(weight_decay, "weight_decay"), clip=clip,
                   clip_norm=clip_norm)


def adam(lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, *, clip=0.0, clip_norm=0.0):
    """Adam with bias correction (PyTorch's form); weight_decay is L2, added to the gradient."""
    return _member("adam", lr, b1=b1, b2=b2, eps=eps, weight_decay=schedule(weight_decay, "weight_decay"), clip=clip,
                   clip_norm=clip_norm)


def adamw(lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.01, *, clip=0.0, clip_norm=0.0):
    """AdamW: Adam with decoupled weight decay theta -= lr wd theta (from the theta before the step)."""
    return _member("adam", lr, b1=b1, b2=b2, eps=eps, weight_decay=schedule(weight_decay, "weight_decay"),
                   decoupled=True, clip=clip, clip_norm=clip_norm)


def preconditioned_sgd(lr, diag, *, clip=0.0, clip_norm=0.0):
    """SGD with a fixed diagonal preconditioner P: theta -= lr P g (diag: P's d entries, > 0)."""
    p = check.float_array("diag", diag, 1)
    return _member("precond", lr, diag=tuple(float(x) for x in p), clip=clip, clip_norm=clip_norm)


def adana_coord(lr, kappa=0.85, delta=8.0, eps=1e-8, weight_decay=0.0, *, g3=1.0, clipsnr=0.0, clip=0.0,
                clip_norm=0.0):
    """The authors' ADana, per coordinate (mlexpos/adana @ 3eef26f, src/optim/adana.py; docs/coordinatewise.md).

    Counting their step s = t + 1 (t the 0-based step here): a = delta / (delta + s), m and v log-time EMAs
    of g and g^2 (a_1 = delta / (delta + 1): no bias correction), and per coordinate
        theta -= lr [g + g3 (1 + (1 + s)^(1 - kappa)) m] / (sqrt(v) + eps),   then   theta *= 1 - wd(t).
    weight_decay wd(t) is their decay as applied (a number or Schedule; their wd_decaying form
    wd / (1 + s / wd_ts) is plrf.adana_decay(wd * wd_ts, wd_ts + 1)). clipsnr > 0 caps the damped term
    (1 + s)^(1 - kappa) |m| / (sqrt(v) + eps) at clipsnr: their Dana-MK4. The scalar model is plrf.adana."""
    return _dana("adana", lr, kappa, delta, eps, weight_decay, g3, clipsnr, clip, clip_norm)


def dana_star(lr, kappa=0.85, delta=8.0, eps=1e-8, weight_decay=0.0, *, g3=1.0, clipsnr=0.0, clip=0.0,
              clip_norm=0.0):
    """The authors' Dana-Star (mlexpos/adana @ 3eef26f, src/optim/dana_star_mk4.py with clipsnr=None):
    adana_coord with a per-coordinate estimate tau of how often a gradient arrives, which sets the clock
    max(tau s, 1) of the damping and scales the step by sqrt(r), r = max(tau'/(1 - tau'), 1/(1 + s)),
    tau' = min(tau, 1/2) (docs/coordinatewise.md has every equation). clipsnr > 0: Dana-Star-MK4."""
    return _dana("dana_star", lr, kappa, delta, eps, weight_decay, g3, clipsnr, clip, clip_norm)


def _dana(rule, lr, kappa, delta, eps, weight_decay, g3, clipsnr, clip, clip_norm):
    return _member(rule, lr, eps=eps, weight_decay=schedule(weight_decay, "weight_decay"), delta=delta, kappa=kappa,
                   g3=g3, clipsnr=clipsnr, clip=clip, clip_norm=clip_norm)


def custom_rule(update, init=None, name="custom"):
    """Your own update rule, run by the parameter-basis engine on the same draws as the built-in ones.

    update(grad, state, t) -> (step, state): grad is the (seeds x d) batch-averaged gradient at step t
    (0-based), step the (seeds x d) change of theta; state is yours (init(theta) -> first state, or None).
    The loop runs in Python (NumPy matmuls for the rotation), so results follow NumPy's BLAS.
    `update` may also be an optax GradientTransformation (needs plrf[jax]; vmapped over the seeds, float64)."""
    from . import _optax

    if _optax.is_gradient_transformation(update) and init is None:
        update, init = _optax.optax_rule(update)
    if not callable(update) or (init is not None and not callable(init)):
        raise ValueError("update (and init, if given) must be callables: update(grad, state, t) -> (step, state)")
    return _member("python", 0.0, update=update, init=init, label=str(name))


# ---- the engine -------------------------------------------------------------------------------------
def param_memory(d: int, seeds: int, records: int = 0, tau: bool = False) -> float:
    """Bytes the parameter-basis engine allocates besides the caller's U (which it reads in place, U^T
    included): two S x d GEMM buffers, the state (e, theta, m, v: S x d each; tau: dana_star's one more) with
    the risk record, the GEMM's packed S x d operand (rows padded to 8, depth to 256) and its packed panels of
    U (16 MB covers 32 threads)."""
    return 8.0 * ((7.0 if tau else 6.0) * seeds * d + (seeds + 7.0) * (d + 255.0) + seeds * records) + 2.0**24


def packed_rotation_bytes(d: int) -> float:
    """Bytes of U^T and U packed once for the GEMM's kernel (plrf/linalg/packed_right.hpp): about 2 d^2 doubles,
    columns padded to 24 and depth to 256, each on its own huge pages (2 MB alignment)."""
    return 2.0 * (8.0 * (-(-d // 256)) * (-(-d // 24) * 24) * 256 + 2.0**22)


def pack_rotation(d: int, seeds: int, records: int = 0, tau: bool = False) -> bool:
    """Whether the engine packs U^T and U once per call (the same bits, ~1.5x faster products): when the packed
    copies take at most PACK_LIMIT bytes (packing cannot be interrupted: 2 GiB take ~0.4 s, so Ctrl-C still
    stops within a second) and fit, beside the engine's own memory, in half of what is available.
    Otherwise each product packs its panels as it goes, so the largest d (max_param_d) does not shrink."""
    packed = packed_rotation_bytes(d)
    need = param_memory(d, seeds, records, tau) + packed
    return packed <= PACK_LIMIT and (need < check.SMALL_BYTES or need <= 0.5 * check.available_memory())


PACK_LIMIT = 2.0**31  # bytes of packed U^T and U: d up to about 11,500


def max_param_d(nbytes: float, seeds: int = 64) -> int:
    """The largest d whose U (kept by the spectrum) plus param_memory fit in `nbytes`."""
    # 8 d^2 + 8 (7 S + 7) d + 8 (255 (S + 7)) + 2^24 <= nbytes
    a, b, c = 8.0, 56.0 * (seeds + 1.0), 8.0 * 255.0 * (seeds + 7.0) + 2.0**24 - nbytes
    return int((-b + (b * b - 4 * a * c) ** 0.5) / (2 * a))


def rotation(source):
    """(spectrum, U, theta*) of a PLRF problem or a Spectrum that keeps its eigenvectors."""
    if isinstance(source, PLRF):
        check.memory(8.0 * source.d * source.d * 2, f"space='param' at d={source.d} (U and U^T, d x d each)")
        source = source.spectrum(keep_vectors=True)
    if not isinstance(source, Spectrum):
        raise ValueError(f"problem_or_spectrum must be a PLRF problem or a plrf.Spectrum, got {type(source).__name__}")
    if source.eigenvectors is None or source.theta_star is None:
        raise ValueError("space='param' needs K's eigenvectors and theta_star (coordinate-wise rules are not "
                         "rotation invariant): pass a PLRF problem, or a Spectrum with eigenvectors= and theta_star=")
    return source, np.ascontiguousarray(source.eigenvectors), source.theta_star


# ---- a fixed diagonal preconditioner is SGD on P^{1/2} K P^{1/2} -------------------------------------
def preconditioned_spectrum(spectrum: Spectrum, diag) -> Spectrum:
    """The Spectrum on which plain SGD has the law of plrf.preconditioned_sgd(lr, diag) on `spectrum`.

    With phi = P^{-1/2} theta, theta -= lr P g becomes phi -= lr g~ with g~ = P^{1/2} g the SGD gradient
    for features P^{1/2} f (covariance K~ = P^{1/2} K P^{1/2}) and target phi* = P^{-1/2} theta*; the
    risk is the same function of the iterate. So exact_risk(preconditioned_spectrum(spec, p), plrf.sgd(lr))
    is the exact moment recursion (docs/coordinatewise.md), in the eigenbasis of K~."""
    if spectrum.eigenvectors is None or spectrum.theta_star is None:
        raise ValueError("spectrum: a preconditioned spectrum needs K's eigenvectors and theta_star")
    p = check.float_array("diag", diag, 1, shape=(spectrum.d,))
    if not np.all(p > 0):
        raise ValueError("diag must be positive (the preconditioner P)")
    U, lam, sp = spectrum.eigenvectors, spectrum.eigenvalues, np.sqrt(p)
    A = sp[:, None] * U  # K~ = A diag(lam) A^T
    lam2, U2 = np.linalg.eigh((A * lam) @ A.T)
    lam2 = np.clip(lam2, 0.0, None)
    phi_star = spectrum.theta_star / sp
    rho = (U2.T @ phi_star) ** 2  # e0 = U2^T (phi0 - phi*) at phi0 = 0
    return Spectrum(lam2, rho, spectrum.p_inf, eigenvectors=U2, theta_star=phi_star,
                    meta=dict(spectrum.meta, preconditioned=True))
