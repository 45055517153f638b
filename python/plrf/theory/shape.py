"""The predicted shape of a loss curve: which term of docs/theory.md §8 dominates when (plrf.theory.shape).

Every loss term is a power of (t, d) (plrf.theory.loss_terms). Writing t = d^u, the size of a term
is d^(-a_t u - a_d) times a prefactor that theory does not give, so for large d the term that
dominates at t = d^u is the one with the largest -a_t u - a_d: the risk's upper envelope of lines
in u. Its breakpoints are the crossover times t = c d^k, with k exact and c an unknown O(1)
constant (measured on plrf's exact curves for SGD: c between 0.17 and 0.82; docs/theory.md §8.1).

Momentum: a mode advances in the effective time tau ~ gamma2 t + (1/(delta + 1)) sum_s gamma3(s) s
~ gamma2 t + b t^q d^-mu (docs/theory.md §8), so each forcing term (F_pp, F_ac) is the smaller of
its SGD-clock form and its accelerated form: DANA-constant's F_pp decays like t^-sigma until
t ~ c d and like t^-2sigma after. That crossover compares one term on two clocks, so its prefactor
c = (gamma2 / b)^(1/(q-1)) is known once the hyperparameters are: with batch= the shape reads them
from the authors' recipe (plrf.defaults) and gives c (DANA-constant about 30 at alpha = 1; for
DANA-decaying, whose crossover has k = 0, an SGD-like lead-in stretch of c ~ 25-200 steps). Every
other c (term against term) stays O(1) unknown. The noise term is left out under momentum (§8
does not give it). No term exceeds the initial risk (P_0, O(1)): below alpha = 1/2, where the step
shrinks like d^(2 alpha - 1), the curve starts with a flat stretch P_0 until t ~ d^(1 - 2 alpha).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import _validate as check
from .laws import effective_time_exponents, loss_terms, phase

__all__ = ["Stretch", "Shape", "shape", "DEFAULT_MARGIN"]

DEFAULT_MARGIN = 1.0  # decades: covers the unknown O(1) prefactor of every crossover time
_EPS = 1e-12


@dataclass(frozen=True)
class Stretch:
    """t in [c_start d^k_start, c_end d^k_end) where `term` dominates and the risk falls like t^-slope.

    clock is "t" (SGD's time, s = gamma t) or "tau" (momentum's accelerated effective time).
    k_end is inf for the last stretch (F_0, the limit loss, once the risk has saturated).
    """

    term: str
    clock: str
    slope: float
    k_start: float
    k_end: float
    d: float
    c_start: float = 1.0  # prefactor of the start time t = c d^k (1: unknown O(1), or t = 1 at the start)
    c_end: float = 1.0

    @property
    def t_start(self) -> float:
        return self.c_start * self.d**self.k_start

    @property
    def t_end(self) -> float:
        return math.inf if math.isinf(self.k_end) else self.c_end * self.d**self.k_end

    @property
    def decades(self) -> float:
        """Length of the stretch in decades of t (inf for the last one)."""
        return math.log10(self.t_end / self.t_start)

    @property
    def label(self) -> str:
        return self.term if self.clock == "t" else f"{self.term}[tau]"

    def __str__(self):
        end = ("inf" if math.isinf(self.k_end) else _time(self.c_end, self.k_end)
               + ("" if self.k_end == 0 else f" = {self.t_end:.3g}"))
        return f"{self.label:10s} {self.law:8s} on t in [{_time(self.c_start, self.k_start)}, {end})"

    @property
    def law(self) -> str:
        return "flat" if self.slope == 0 else f"t^-{self.slope:.4g}"


def _time(c, k) -> str:
    if k == 0:
        return f"{c:.3g}"
    return f"d^{k:.4g}" if c == 1.0 else f"{c:.3g} d^{k:.4g}"


@dataclass(frozen=True)
class Shape:
    """Predicted loss-curve shape at one d: the dominant terms in time order (see the module docstring).

    Crossover times are c d^k with k exact. c is an unknown O(1) constant, shown as 1, except with
    batch= under momentum: exact between the two clocks, and the recipe's clock factor times an
    unknown O(1) between two terms on the accelerated clock.
    """

    alpha: float
    beta: float
    optimizer: str
    d: float
    phase: str
    stretches: tuple
    batch: int | None = None

    @property
    def crossovers(self) -> tuple:
        """(k, from_label, to_label) of each change of dominant term: t = c d^k."""
        s = self.stretches
        return tuple((b.k_start, a.label, b.label) for a, b in zip(s[:-1], s[1:]))

    @property
    def saturation(self) -> float:
        """k of the time t = c d^k from which the limit loss F_0 dominates (P_inf's level is reached)."""
        return next((s.k_start for s in self.stretches if s.term == "F_0"), math.inf)

    @property
    def t_saturation(self) -> float:
        return next((s.t_start for s in self.stretches if s.term == "F_0"), math.inf)

    def stretch(self, term=None) -> Stretch:
        """The stretch of `term` ("F_pp", "F_pp[tau]", "F_ac", "noise"; its longest if several), or
        by default the longest decaying stretch (the one a fit of the loss exponent should use)."""
        cands = [s for s in self.stretches if s.slope > 0 and not math.isinf(s.k_end)]
        if term is not None:
            cands = [s for s in self.stretches if term in (s.label, s.term)]
            if not cands:
                raise ValueError(f"term {term!r} dominates no stretch here; stretches: "
                                 f"{[s.label for s in self.stretches]}")
        if not cands:
            raise ValueError(f"{self.optimizer} at d = {self.d:g}: no decaying stretch (the limit loss dominates)")
        return max(cands, key=lambda s: (s.decades, -s.t_start))

    def window(self, term=None, margin=DEFAULT_MARGIN) -> tuple[float, float]:
        """(t_lo, t_hi): the stretch of `term` (see stretch()) trimmed by `margin` decades at each end
        (t >= 1), so that the unknown O(1) prefactors of the crossover times cannot move it out."""
        margin = check.finite("margin", margin)
        if margin < 0:
            raise ValueError(f"margin must be >= 0 decades, got {margin}")
        s = self.stretch(term)
        lo = max(s.t_start, 1.0) * 10**margin
        hi = s.t_end / 10**margin
        if not hi > lo:
            raise ValueError(f"{s.label} spans {s.decades:.2f} decades at d = {self.d:g}: nothing is left "
                             f"after trimming {margin:g} decade(s) at each end (use a larger d or a smaller margin)")
        return lo, hi

    def at(self, t) -> Stretch:
        """The stretch that dominates at time t (t >= 1)."""
        t = max(float(t), 1.0)
        return next(s for s in reversed(self.stretches) if t >= s.t_start * (1 - _EPS))

    def __str__(self):
        b = "" if self.batch is None else f", recipe at B = {self.batch}"
        c = ("c = O(1) unknown where not shown" if self.batch is None or self.optimizer in ("sgd", "sgd_momentum") else
             "c exact between momentum's two clocks, else the recipe's clock factor times an unknown O(1)")
        head = (f"{self.optimizer} at alpha = {self.alpha:g}, beta = {self.beta:g}, d = {self.d:g} (phase {self.phase}"
                f"{b}); crossovers at c d^k, {c}:")
        return "\n".join([head] + [f"  {s}" for s in self.stretches])

    def __repr__(self):
        parts = ", ".join(f"{s.label} {s.law}" + ("" if math.isinf(s.k_end) else f" to {_time(s.c_end, round(s.k_end, 3))}")
                          for s in self.stretches)
        return f"Shape({self.optimizer}, alpha={self.alpha:g}, beta={self.beta:g}, d={self.d:g}: {parts})"


def _pieces(alpha, beta, optimizer, clock_ratio=1.0):
    """[(term, clock, a_t, a_d, log10 c)]: each loss term on each clock (SGD's, and momentum's accelerated one).

    clock_ratio: b / gamma2, the accelerated clock's coefficient in units of SGD's (1: unknown).
    A term that would grow with t is left out: the SGD noise for alpha < 1/4 (2 - 1/(2 alpha) < 0),
    where §8 lists only F_pp and F_0 as the terms that matter (phase Ic).
    """
    if optimizer in ("sgd", "sgd_momentum"):
        return [(T.name, "t", T.a_t, T.a_d, 0.0) for T in loss_terms(alpha, beta, optimizer) if T.a_t >= 0]
    q, _ = effective_time_exponents(optimizer, alpha)  # DANA below the line: NotImplementedError, as in theory
    sgd_clock = [(T.name, "t", T.a_t, T.a_d, 0.0) for T in loss_terms(alpha, beta, "sgd", noise=False)]
    # F(tau) = tau^-a with tau = clock_ratio t^q d^-mu: the prefactor is clock_ratio^-a, a = a_t / q
    fast = [(T.name, "tau", T.a_t, T.a_d, -T.a_t / q * math.log10(clock_ratio))
            for T in loss_terms(alpha, beta, optimizer) if T.a_t > 0]
    return sgd_clock + fast


def _clock_ratio(alpha, beta, optimizer, d, batch) -> float:
    """b / gamma2 of the authors' recipe: tau ~ gamma2 t + b t^q d^-mu, with b t^q d^-mu the
    (1/(delta + 1)) sum_{s <= t} gamma3(s) s of docs/theory.md §8 (= gamma3(t) t^2 / (q (delta + 1)))."""
    from ..optim import defaults
    from ..spectrum import Spectrum

    # a one-node stand-in: the recipe reads only (alpha, beta, v, d) and the batch
    stand_in = Spectrum([1.0], [1.0], 0.0, multiplicity=[int(d)],
                        meta={"alpha": alpha, "beta": beta, "v": 4 * int(d)})
    opt = defaults(stand_in, batch)[optimizer]
    q, mu = effective_time_exponents(optimizer, alpha)
    t = 1e6  # where gamma3's (1 + t)^p is t^p to 1e-6
    b = opt.gamma3(t) * t * t / (q * (opt.delta(0.0) + 1.0)) / (t**q * d**-mu)
    return b / opt.gamma2(0.0)


def _size(piece, x, L):
    """log10 of the piece's size at t = 10^x, d = 10^L."""
    return piece[4] - piece[2] * x - piece[3] * L


# The initial risk, O(1): no term can exceed it. Below alpha = 1/2 the step is gamma ~ d^(2 alpha - 1),
# so F_pp = (gamma t)^-sigma would exceed it until t ~ d^(1 - 2 alpha): the curve is flat until then.
START = ("P_0", "t", 0.0, 0.0, 0.0)


def _dominant(pieces, x, L):
    """The piece dominating at x: each term takes its faster clock (min, capped by START's O(1)), the
    risk the largest term."""
    best = None
    for name in dict.fromkeys(p[0] for p in pieces):
        own = min([p for p in pieces if p[0] == name] + [START], key=lambda p: _size(p, x, L))
        if best is None or _size(own, x, L) > _size(best, x, L) + _EPS:
            best = own
    return best


def _crossing(p, q, L):
    """(x, k, c) where pieces p and q are equal: t = 10^x = c d^k (None if parallel)."""
    da = p[2] - q[2]
    if abs(da) <= _EPS:
        return None
    k = (q[3] - p[3]) / da + 0.0  # + 0.0: no -0
    logc = (p[4] - q[4]) / da
    return k * L + logc, k, 10**logc


def _breakpoints(pieces, L):
    """Every x > 0 where two pieces cross: the envelope can only change there."""
    out = set()
    for i, p in enumerate(pieces):
        for q in pieces[i + 1 :]:
            hit = _crossing(p, q, L)
            if hit is not None and hit[0] > _EPS:
                out.add(round(hit[0], 12))
    return sorted(out)


def shape(alpha, beta, optimizer="sgd", d=None, batch=None) -> Shape:
    """Predicted loss-curve shape of `optimizer` at (alpha, beta) and model size d (see the module docstring).

    batch: the batch size of the authors' recipe (plrf.defaults), for DANA's clock crossover c;
    None leaves it O(1) unknown like every other c.

    >>> print(shape(1.0, 0.7, "sgd", d=1e6))  # doctest: +NORMALIZE_WHITESPACE
    sgd at alpha = 1, beta = 0.7, d = 1e+06 (phase II); crossovers at c d^k, c = O(1) unknown where not shown:
      F_pp       t^-1.2   on t in [d^0, d^1.429 = 3.73e+08)
      F_ac       t^-0.5   on t in [d^1.429, d^2 = 1e+12)
      F_0        flat     on t in [d^2, inf)
    """
    alpha, beta = check.positive("alpha", alpha), check.positive("beta", beta)
    if d is None:
        raise ValueError("d is required: the crossover times are powers of d")
    d = check.finite("d", d)
    if not d > 1:
        raise ValueError(f"d must be > 1, got {d}")
    ph = phase(alpha, beta)
    if ph == "outside":
        raise ValueError(f"(alpha, beta) = ({alpha}, {beta}) is degenerate: 2(alpha + beta) <= 1")
    ratio = 1.0
    if batch is not None:
        batch = check.integer("batch", batch, 1)
        if optimizer not in ("sgd", "sgd_momentum"):
            ratio = _clock_ratio(alpha, beta, optimizer, d, batch)
    pieces = _pieces(alpha, beta, optimizer, ratio)
    L = math.log10(d)
    edges = [0.0] + _breakpoints(pieces + [START], L)
    mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])] + [edges[-1] + 1.0]
    runs = []  # (piece, (k, c) of its start)
    for start, x in zip(edges, mids):
        piece = _dominant(pieces, x, L)
        if runs and runs[-1][0][:2] == piece[:2]:
            continue
        runs.append((piece, (0.0, 1.0) if not runs else _crossing(runs[-1][0], piece, L)[1:]))
    ends = [r[1] for r in runs[1:]] + [(math.inf, 1.0)]
    stretches = tuple(Stretch(p[0], p[1], float(p[2]), float(k0), float(k1), d, float(c0), float(c1))
                      for (p, (k0, c0)), (k1, c1) in zip(runs, ends))
    return Shape(alpha, beta, optimizer, d, ph, stretches, batch)
