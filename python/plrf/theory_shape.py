"""The predicted shape of a loss curve: which term of docs/theory.md §8 dominates when (plrf.theory.shape).

Every loss term is a power of (t, d) (plrf.theory.loss_terms). Writing t = d^u, the size of a term
is d^(-a_t u - a_d) times a prefactor that theory does not give, so for large d the term that
dominates at t = d^u is the one with the largest -a_t u - a_d: the risk's upper envelope of lines
in u. Its breakpoints are the crossover times t = c d^k, with k exact and c an unknown O(1)
constant (measured on plrf's exact curves for SGD: c between 0.1 and 1; docs/theory.md §8.1).

Momentum: a mode advances in the effective time tau ~ gamma2 t + (accelerated part t^q d^-mu)
(docs/theory.md §8), so each forcing term (F_pp, F_ac) is the smaller of its SGD-clock form and its
accelerated form: DANA-constant's F_pp decays like t^-sigma until t ~ d and like t^-2sigma after.
The noise term is left out under momentum (§8 does not give it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import _validate as check
from .theory import effective_time_exponents, loss_terms, phase

__all__ = ["Stretch", "Shape", "shape", "DEFAULT_MARGIN"]

DEFAULT_MARGIN = 1.0  # decades: covers the unknown O(1) prefactor of every crossover time
_EPS = 1e-12


@dataclass(frozen=True)
class Stretch:
    """t in [d^k_start, d^k_end) where `term` dominates and the risk falls like t^-slope.

    clock is "t" (SGD's time, s = gamma t) or "tau" (momentum's accelerated effective time).
    k_end is inf for the last stretch (F_0, the limit loss, once the risk has saturated).
    """

    term: str
    clock: str
    slope: float
    k_start: float
    k_end: float
    d: float

    @property
    def t_start(self) -> float:
        return self.d**self.k_start

    @property
    def t_end(self) -> float:
        return math.inf if math.isinf(self.k_end) else self.d**self.k_end

    @property
    def decades(self) -> float:
        """Length of the stretch in decades of t (inf for the last one)."""
        return (self.k_end - self.k_start) * math.log10(self.d)

    @property
    def label(self) -> str:
        return self.term if self.clock == "t" else f"{self.term}[tau]"

    def __str__(self):
        end = "inf" if math.isinf(self.k_end) else f"d^{self.k_end:.4g} = {self.t_end:.3g}"
        return f"{self.label:10s} {self.law:8s} on t in [d^{self.k_start:.4g}, {end})"

    @property
    def law(self) -> str:
        return "flat" if self.slope == 0 else f"t^-{self.slope:.4g}"


@dataclass(frozen=True)
class Shape:
    """Predicted loss-curve shape at one d: the dominant terms in time order (see the module docstring).

    Crossover times are c d^k with k exact and c = O(1) unknown; times below are printed with c = 1.
    """

    alpha: float
    beta: float
    optimizer: str
    d: float
    phase: str
    stretches: tuple

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
        return self.d**self.saturation

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
        return max(cands, key=lambda s: (s.k_end - s.k_start, -s.k_start))

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
        k = math.log(max(float(t), 1.0)) / math.log(self.d)
        return next(s for s in reversed(self.stretches) if k >= s.k_start - _EPS)

    def __str__(self):
        head = (f"{self.optimizer} at alpha = {self.alpha:g}, beta = {self.beta:g}, d = {self.d:g} (phase {self.phase}); "
                "crossovers at c d^k with c = O(1) unknown (c = 1 shown):")
        return "\n".join([head] + [f"  {s}" for s in self.stretches])

    def __repr__(self):
        parts = ", ".join(f"{s.label} {s.law}" + ("" if math.isinf(s.k_end) else f" to d^{s.k_end:.3g}")
                          for s in self.stretches)
        return f"Shape({self.optimizer}, alpha={self.alpha:g}, beta={self.beta:g}, d={self.d:g}: {parts})"


def _pieces(alpha, beta, optimizer):
    """[(term, clock, a_t, a_d)]: each loss term on each clock (the SGD clock, and momentum's accelerated one).

    A term that would grow with t is left out: the SGD noise for alpha < 1/4 (2 - 1/(2 alpha) < 0),
    where §8 lists only F_pp and F_0 as the terms that matter (phase Ic).
    """
    if optimizer in ("sgd", "sgd_momentum"):
        return [(T.name, "t", T.a_t, T.a_d) for T in loss_terms(alpha, beta, optimizer) if T.a_t >= 0]
    effective_time_exponents(optimizer, alpha)  # DANA below the line: NotImplementedError, as in theory
    sgd_clock = [(T.name, "t", T.a_t, T.a_d) for T in loss_terms(alpha, beta, "sgd", noise=False)]
    fast = [(T.name, "tau", T.a_t, T.a_d) for T in loss_terms(alpha, beta, optimizer) if T.a_t > 0]
    return sgd_clock + fast


def _size(piece, u):
    """log_d of the piece's size at t = d^u (prefactor 1)."""
    return -piece[2] * u - piece[3]


def _dominant(pieces, u):
    """(term, clock, slope) dominating at u: each term takes its faster clock (min), the risk the largest term."""
    best = None
    for name in dict.fromkeys(p[0] for p in pieces):
        own = min((p for p in pieces if p[0] == name), key=lambda p: _size(p, u))
        if best is None or _size(own, u) > _size(best, u) + _EPS:
            best = own
    return best


def _breakpoints(pieces):
    """Every u > 0 where two pieces cross: the envelope can only change there."""
    out = set()
    for i, p in enumerate(pieces):
        for q in pieces[i + 1 :]:
            if abs(p[2] - q[2]) > _EPS:
                u = (q[3] - p[3]) / (p[2] - q[2])
                if u > _EPS:
                    out.add(round(u, 12))
    return sorted(out)


def shape(alpha, beta, optimizer="sgd", d=None) -> Shape:
    """Predicted loss-curve shape of `optimizer` at (alpha, beta) and model size d (see the module docstring).

    >>> print(shape(1.0, 0.7, "sgd", d=1e6))  # doctest: +NORMALIZE_WHITESPACE
    sgd at alpha = 1, beta = 0.7, d = 1e+06 (phase II); crossovers at c d^k with c = O(1) unknown (c = 1 shown):
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
    pieces = _pieces(alpha, beta, optimizer)
    edges = [0.0] + _breakpoints(pieces)
    mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])] + [edges[-1] + 1.0]
    out = []
    for start, u in zip(edges, mids):
        name, clock, a_t, _ = _dominant(pieces, u)
        if out and (out[-1][0], out[-1][1]) == (name, clock):
            continue
        out.append((name, clock, a_t, start))
    stretches = tuple(Stretch(n, c, float(a), float(k0), float(k1), d)
                      for (n, c, a, k0), k1 in zip(out, [o[3] for o in out[1:]] + [math.inf]))
    return Shape(alpha, beta, optimizer, d, ph, stretches)
