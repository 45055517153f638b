"""
plrf C++ core
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['Controller', 'GenMomentum', 'STREAMS_VERSION', 'Schedule', 'check_record', 'exact_risk', 'exact_risk_experts', 'feature_rows', 'isa', 'kernel_norm', 'max_stable_lr', 'normals', 'philox4x32_10', 'spectral_setup_eigen', 'theory_densities', 'theory_p_inf', 'uniforms', 'words']
class Schedule:
    """
    A hyperparameter schedule evaluated at step t = 0, 1, ...
    """
    class Kind:
        """
        Members:
        
          constant
        
          power_law
        
          array
        """
        __members__: typing.ClassVar[dict[str, Schedule.Kind]]
        array: typing.ClassVar[Schedule.Kind]
        constant: typing.ClassVar[Schedule.Kind]
        power_law: typing.ClassVar[Schedule.Kind]
        @typing.overload
        def __eq__(self, other: Schedule.Kind) -> bool:
            ...
        @typing.overload
        def __eq__(self, other: typing.Any) -> bool:
            ...
        def __getstate__(self) -> int:
            ...
        def __hash__(self) -> int:
            ...
        def __index__(self) -> int:
            ...
        def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
            ...
        def __int__(self) -> int:
            ...
        @typing.overload
        def __ne__(self, other: Schedule.Kind) -> bool:
            ...
        @typing.overload
        def __ne__(self, other: typing.Any) -> bool:
            ...
        def __repr__(self) -> str:
            ...
        def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
            ...
        def __str__(self) -> str:
            ...
        @property
        def name(self) -> str:
            ...
        @property
        def value(self) -> int:
            ...
    __hash__: typing.ClassVar[None] = None
    @staticmethod
    def array(values: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex]) -> Schedule:
        """
        values[t] (must cover every step)
        """
    @staticmethod
    def constant(c: typing.SupportsFloat | typing.SupportsIndex) -> Schedule:
        ...
    @staticmethod
    def power_law(c: typing.SupportsFloat | typing.SupportsIndex, tau: typing.SupportsFloat | typing.SupportsIndex, p: typing.SupportsFloat | typing.SupportsIndex) -> Schedule:
        """
        c * (1 + t / tau)**p
        """
    def __call__(self, t: typing.SupportsFloat | typing.SupportsIndex) -> float:
        """
        schedule(t) for a step t >= 0 (a negative, NaN or infinite t is refused naming it)
        """
    def __eq__(self, arg0: Schedule) -> bool:
        ...
    def __getstate__(self) -> tuple:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    @property
    def c(self) -> float:
        ...
    @property
    def kind(self) -> Schedule.Kind:
        ...
    @property
    def p(self) -> float:
        ...
    @property
    def tau(self) -> float:
        ...
    @property
    def values(self) -> list[float]:
        ...
class GenMomentum:
    """
    Gen-Mom-SGD: y' = (1 - delta) y + gamma1 g; theta' = theta - gamma2 g - gamma3 y'
    """
    __hash__: typing.ClassVar[None] = None
    def __eq__(self, arg0: GenMomentum) -> bool:
        ...
    def __getstate__(self) -> tuple:
        ...
    def __init__(self, gamma1: Schedule, gamma2: Schedule, gamma3: Schedule, delta: Schedule, name: str = 'gen_momentum', *, l2: Schedule = ..., decay: Schedule = ..., noise: Schedule = ..., svag_l: typing.SupportsFloat | typing.SupportsIndex = 1.0, clip: typing.SupportsFloat | typing.SupportsIndex = ..., clip_noise: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> None:
        """
        l2 (ridge), decay (decoupled weight decay) and noise (injected noise std) are schedules, svag_l >= 1 the SVAG parameter (docs/families.md §2-3); clip (> 0, oo = off) and clip_noise (the noise multiplier) are DP-SGD's per-sample clipping (docs/privacy.md); see plrf.with_decay, plrf.svag and plrf.clip.
        """
    def __repr__(self) -> str:
        ...
    def __setstate__(self, arg0: tuple) -> None:
        ...
    def check_length(self, steps: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def coefficients(self, t: typing.SupportsFloat | typing.SupportsIndex) -> dict:
        """
        The four hyperparameters at step t (gamma2, gamma3 already divided by SVAG's l), and l2, decay, noise, svag_l when any of those knobs is on.
        """
    def has_affine_knobs(self) -> bool:
        """
        True if ridge, decay or noise is on (the exact recursion then carries five moments per mode).
        """
    def is_sgd(self) -> bool:
        ...
    @property
    def clip(self) -> float:
        ...
    @property
    def clip_noise(self) -> float:
        ...
    @property
    def decay(self) -> Schedule:
        ...
    @property
    def delta(self) -> Schedule:
        ...
    @property
    def gamma1(self) -> Schedule:
        ...
    @property
    def gamma2(self) -> Schedule:
        ...
    @property
    def gamma3(self) -> Schedule:
        ...
    @property
    def l2(self) -> Schedule:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def noise(self) -> Schedule:
        ...
    @property
    def svag_l(self) -> float:
        ...
class Controller:
    """
    A step-size controller (build it with plrf.controllers)
    """
    def __init__(self, name: str, placement: typing.SupportsInt | typing.SupportsIndex, G: typing.SupportsFloat | typing.SupportsIndex = 1.0, b0: typing.SupportsFloat | typing.SupportsIndex = 1.0, c: typing.SupportsFloat | typing.SupportsIndex = 0.5, floor: typing.SupportsFloat | typing.SupportsIndex = 0.0, beta: typing.SupportsFloat | typing.SupportsIndex = 0.99, eps: typing.SupportsFloat | typing.SupportsIndex = 0.0, delta: typing.SupportsFloat | typing.SupportsIndex = 8.0) -> None:
        ...
    def multiplier(self, t: typing.SupportsFloat | typing.SupportsIndex, grad2: typing.SupportsFloat | typing.SupportsIndex, risk: typing.SupportsFloat | typing.SupportsIndex, batch_loss: typing.SupportsFloat | typing.SupportsIndex, k2: typing.SupportsFloat | typing.SupportsIndex, k3: typing.SupportsFloat | typing.SupportsIndex, state: typing.SupportsFloat | typing.SupportsIndex, batch: typing.SupportsFloat | typing.SupportsIndex, trace2: typing.SupportsFloat | typing.SupportsIndex) -> tuple[float, float]:
        """
        (m_t, next state) for the given statistics.
        """
    def start(self) -> float:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def placement(self) -> int:
        ...
class _CoordRule:
    """
    A coordinate-wise update rule (plrf/optim/coordinatewise.hpp).
    """
    def __init__(self, *, rule: str, lr: Schedule, b1: typing.SupportsFloat | typing.SupportsIndex, b2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: Schedule, decoupled: bool, diag: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], clip: typing.SupportsFloat | typing.SupportsIndex, clip_norm: typing.SupportsFloat | typing.SupportsIndex, delta: typing.SupportsFloat | typing.SupportsIndex = 8.0, kappa: typing.SupportsFloat | typing.SupportsIndex = 1.0, g3: typing.SupportsFloat | typing.SupportsIndex = 1.0, clipsnr: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> None:
        ...
def _chi_square_variates(k: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, step: typing.SupportsInt | typing.SupportsIndex, n: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Chi-square(k) variates number 0..n-1 of (seed, kScalars) at `step` (exposed for tests).
    """
def _param_gradients(*, eigenvalues: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], p_inf: typing.SupportsFloat | typing.SupportsIndex, batch: typing.SupportsInt | typing.SupportsIndex, seeds: numpy.ndarray, step: typing.SupportsInt | typing.SupportsIndex, e: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], threads: typing.SupportsInt | typing.SupportsIndex = 0) -> numpy.typing.NDArray[numpy.float64]:
    """
    The eigenbasis batch gradients g_e (seeds x d) at errors e and step `step`: the parameter-basis engine's draws, for a Python update rule (plrf.coordinatewise).
    """
def _simulate_advance(*, eigenvalues: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], rho: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], p_inf: typing.SupportsFloat | typing.SupportsIndex, optimizer: GenMomentum, steps: typing.SupportsInt | typing.SupportsIndex, batch: typing.SupportsInt | typing.SupportsIndex, record: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], sampler: str, seeds: numpy.ndarray, x: numpy.ndarray, y: numpy.ndarray, step: numpy.ndarray, diverged_at: numpy.ndarray, risk: numpy.ndarray, W: typing.Any = None, eigenvectors: typing.Any = None, theta_star: typing.Any = None, alpha: typing.SupportsFloat | typing.SupportsIndex = 0.0, beta: typing.SupportsFloat | typing.SupportsIndex = 0.0, threads: typing.SupportsInt | typing.SupportsIndex = 0, budget: typing.SupportsFloat | typing.SupportsIndex = ..., progress: typing.Any = None, dynamics: str = 'sgd', substeps: typing.SupportsInt | typing.SupportsIndex = 1, controller: typing.Any = None, trace2: typing.SupportsFloat | typing.SupportsIndex = 0.0, ctrl: typing.Any = None, lr: typing.Any = None, activation: typing.SupportsInt | typing.SupportsIndex = 0, activation_scale: typing.SupportsFloat | typing.SupportsIndex = 1.0, rule: typing.Any = None, v: typing.Any = None, tau: typing.Any = None) -> tuple:
    """
    Advance a simulation state in place (see plrf.simulation); keywords only. The spectrum (eigenvalues, rho, p_inf), the run (optimizer .. sampler), the per-seed state arrays (seeds .. risk), on the full path W, eigenvectors, theta_star, alpha, beta and the activation (code, pre-activation scale), the dynamics ('sgd', 'hsgd', 'ito', 'gaussianised') with its substeps per step, and with a controller, tr K^2 and the per-seed ctrl (n, 2) and lr (n, records) arrays; on the full path, a coordinate-wise rule (a _CoordRule, optimizer then unused) with its per-seed v (n, d) buffer (y holds its m) and, for dana_star, its tau (n, d) buffer. Returns (interrupted, finished).
    """
def _simulate_experts(*, eigenvalues: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], rho: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], p_inf: typing.SupportsFloat | typing.SupportsIndex, optimizers: collections.abc.Sequence[GenMomentum], p: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], weight: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], expert_clock: bool, sparse: bool, steps: typing.SupportsInt | typing.SupportsIndex, batch: typing.SupportsInt | typing.SupportsIndex, record: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], seeds: numpy.ndarray, x: numpy.ndarray, y: numpy.ndarray, step: numpy.ndarray, diverged_at: numpy.ndarray, risk: numpy.ndarray, parts: numpy.ndarray, threads: typing.SupportsInt | typing.SupportsIndex = 0, progress: typing.Any = None) -> tuple:
    """
    Run a mixture-of-experts simulation state in place (see plrf.simulation); keywords only. Returns (interrupted, finished).
    """
def _simulate_param(*, eigenvalues: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], rho: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], p_inf: typing.SupportsFloat | typing.SupportsIndex, eigenvectors: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], rule: str, lr: Schedule, b1: typing.SupportsFloat | typing.SupportsIndex, b2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: Schedule, decoupled: bool, diag: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], clip: typing.SupportsFloat | typing.SupportsIndex, clip_norm: typing.SupportsFloat | typing.SupportsIndex, delta: typing.SupportsFloat | typing.SupportsIndex = 8.0, kappa: typing.SupportsFloat | typing.SupportsIndex = 1.0, g3: typing.SupportsFloat | typing.SupportsIndex = 1.0, clipsnr: typing.SupportsFloat | typing.SupportsIndex = 0.0, momentum: typing.Any, steps: typing.SupportsInt | typing.SupportsIndex, batch: typing.SupportsInt | typing.SupportsIndex, record: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], seeds: numpy.ndarray, e: numpy.ndarray, theta: numpy.ndarray, m: numpy.ndarray, v: numpy.ndarray, step: numpy.ndarray, diverged_at: numpy.ndarray, risk: numpy.ndarray, tau: typing.Any = None, threads: typing.SupportsInt | typing.SupportsIndex = 0, budget: typing.SupportsFloat | typing.SupportsIndex = ..., progress: typing.Any = None, pack_rotation: bool = False) -> tuple:
    """
    Advance a parameter-basis simulation state in place (see plrf.coordinatewise); keywords only. A coordinate-wise rule (rule .. clipsnr; tau: dana_star's buffer) or, with momentum not None, Gen-Mom momentum. pack_rotation: pack U^T and U once per call (2 d^2 doubles more; the same bits, faster). Returns (interrupted, finished).
    """
def check_record(record: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], steps: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Raise ValueError unless record is a valid grid for a run of `steps` steps (plrf/runtime/record_grid.hpp).
    """
def exact_risk(lam: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], rho: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], multiplicity: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, p_inf: typing.SupportsFloat | typing.SupportsIndex, batch: typing.SupportsInt | typing.SupportsIndex, optimizer: GenMomentum, record: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], steps: typing.SupportsInt | typing.SupportsIndex, method: str, rtol: typing.SupportsFloat | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex, dt: typing.SupportsFloat | typing.SupportsIndex, progress: typing.Any = None, model: str = 'hsgd', substeps: typing.SupportsInt | typing.SupportsIndex = 0, controller: typing.Any = None) -> dict:
    """
    Expected risk P at the record steps: dict(risk, diverged_at, interrupted, error_estimate, lr); model ('continuized', 'ito', 'hsgd') and substeps (0: the continuous model; n: the mean of the SDE simulator with n substeps per step) are read by method='continuous' only; with a controller (methods exact, ode) the deterministic equivalent and its lr curve.
    """
def exact_risk_experts(lam: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], rho: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], multiplicity: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, p_inf: typing.SupportsFloat | typing.SupportsIndex, batch: typing.SupportsInt | typing.SupportsIndex, optimizers: collections.abc.Sequence[GenMomentum], p: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], expert_clock: bool, record: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], steps: typing.SupportsInt | typing.SupportsIndex, method: str, rtol: typing.SupportsFloat | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex, dt: typing.SupportsFloat | typing.SupportsIndex, progress: typing.Any = None) -> dict:
    """
    Every expert's expected risk (docs/families.md §1): dict(parts, diverged_at, interrupted, error_estimate).
    """
def feature_rows(seed: typing.SupportsInt | typing.SupportsIndex, d: typing.SupportsInt | typing.SupportsIndex, row0: typing.SupportsInt | typing.SupportsIndex, nrows: typing.SupportsInt | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex = 0) -> numpy.typing.NDArray[numpy.float64]:
    """
    Rows row0..row0+nrows-1 of the (v, d) feature matrix W for this seed (entries N(0, 1/d)).
    """
def isa() -> str:
    """
    Instruction set the hot kernels use on this CPU (PLRF_ISA=baseline|avx2 caps it).
    """
def kernel_norm(lam: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], multiplicity: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, batch: typing.SupportsInt | typing.SupportsIndex, optimizer: GenMomentum, t: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> float:
    """
    Volterra kernel norm of the moment recursion with the coefficients frozen at step t.
    """
def max_stable_lr(lam: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], multiplicity: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, batch: typing.SupportsInt | typing.SupportsIndex) -> float:
    """
    Largest SGD learning rate whose Volterra kernel norm is < 1.
    """
def normals(seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, step: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, n: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Standard normals number first..first+n-1 of stream (seed, stream) at step.
    """
def philox4x32_10(counter: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(4)"], key: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"]) -> typing.Annotated[list[int], "FixedSize(4)"]:
    """
    Philox4x32-10 block for a 4-word counter and 2-word key (32-bit words).
    """
def spectral_setup_eigen(alpha: typing.SupportsFloat | typing.SupportsIndex, beta: typing.SupportsFloat | typing.SupportsIndex, d: typing.SupportsInt | typing.SupportsIndex, v: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple[typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], float]:
    """
    The pure-C++ (Eigen) spectral setup: (eigenvalues, rho, p_inf). For C++ users and benchmarks;
    PLRF.spectrum() is the fast path (LAPACK through numpy).
    """
def theory_densities(alpha: typing.SupportsFloat | typing.SupportsIndex, beta: typing.SupportsFloat | typing.SupportsIndex, d: typing.SupportsInt | typing.SupportsIndex, v: typing.SupportsInt | typing.SupportsIndex, p_inf: typing.SupportsFloat | typing.SupportsIndex, x: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], eta: typing.SupportsFloat | typing.SupportsIndex, j_exact: typing.SupportsInt | typing.SupportsIndex, bin: typing.SupportsFloat | typing.SupportsIndex, progress: typing.Any = None) -> tuple[numpy.typing.NDArray[numpy.float64], numpy.typing.NDArray[numpy.float64]]:
    """
    Per-unit-ln-x eigenvalue density nu and rho density w of the deterministic equivalent on the grid x, read through 2 K_eta - K_2eta (unit mass, O(eta^3) tails), so they come out normalised.
    """
def theory_p_inf(alpha: typing.SupportsFloat | typing.SupportsIndex, beta: typing.SupportsFloat | typing.SupportsIndex, d: typing.SupportsInt | typing.SupportsIndex, v: typing.SupportsInt | typing.SupportsIndex) -> tuple[float, float]:
    """
    (kappa, P_inf) of the deterministic equivalent.
    """
def uniforms(seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, step: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, n: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Uniforms in [0, 1), addressed like normals().
    """
def words(seed: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, step: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, n: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.uint64]:
    """
    Raw 64-bit words number first..first+n-1 of stream (seed, stream) at step.
    """
STREAMS_VERSION: int = 3
