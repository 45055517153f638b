"""Scaling-law theory of the PLRF model (docs/theory.md §7-8): phases, loss-term exponents and the
compute-optimal exponents xi (d* ~ f^xi) and eta (P* ~ f^-eta), with flops f = steps x B x d.

Every formula here is written exactly as docs/theory.md §8 states it, with its source flag kept:
"paper" ([P], read in the papers' public text) or "derived" ([D], obtained by balancing the
asymptotic loss terms; a hypothesis the engines must confirm). Two SGD entries that docs/theory.md §8 leaves
as "see [D] note" (xi in phase Ic, eta in phase IVb) are filled in by the same balancing and
flagged "derived"; `balance()` re-derives every table entry from the per-term exponents, which the
tests use to check the table independently.

Units: the batch-averaged SGD step is gamma, s = gamma * t. Above the high-dimensional line
(2 alpha > 1) gamma is O(1); below it the stable step scales like 1/tr K ~ d^(2 alpha - 1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import _validate as check
from ..optim import NAMES
# Mixtures of experts and sparse-update momentum (docs/families.md §1), defined once in families_theory:
# the heavy-ball oscillation boundary (Delta + gamma3 p lambda)^2 = 4 gamma3 p lambda and the MoE
# total-risk exponent min(sigma, 1 - 1/zeta).
from ..families_theory import critical_delta, heavy_ball_oscillates, heavy_ball_roots, moe_exponent, timescale_ratio

__all__ = [
    "PHASES",
    "ALPHA_IV",
    "OPTIMIZERS",
    "phase",
    "sigma",
    "fpp_exponent",
    "fac_exponent",
    "f0_exponent",
    "noise_exponent",
    "effective_time_exponents",
    "Optimal",
    "compute_optimal",
    "Term",
    "loss_terms",
    "balance",
    "heavy_ball_roots",
    "heavy_ball_oscillates",
    "critical_delta",
    "timescale_ratio",
    "moe_exponent",
]

PHASES = ("Ia", "Ib", "Ic", "II", "III", "IVa", "IVb")
OPTIMIZERS = NAMES
ALPHA_IV = 1.0 - 1.0 / math.sqrt(2.0)  # IVa/IVb boundary (docs/theory.md §8, [D])


def _pair(alpha, beta):
    return check.positive("alpha", alpha), check.positive("beta", beta)


def _optimizer(name) -> str:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    return name


# ---- phases ----------------------------------------------------------------------------------
def phase(alpha, beta) -> str:
    """The SGD phase of (alpha, beta): "Ia", "Ib", "Ic", "II", "III", "IVa", "IVb" or "outside".

    "outside" means the degenerate region 2(alpha + beta) <= 1. Points on a boundary go to the
    phase on the larger-alpha / larger-beta side: the line 2 alpha = 1 to Ia/II/III, 2 beta = 1 to
    II/III/IV, alpha = beta to III, alpha = 1/4 to IVb, alpha = 1 - 1/sqrt 2 to IVa (eta is
    continuous across every boundary, so the choice only matters for xi at the IVa/IVb line).

    docs/theory.md §8 leaves {alpha < 1/4, 2 beta < 1, 2(alpha + beta) > 1} unassigned (Ib is stated for
    alpha > 1/4, Ic for 2 beta > 1). It is returned as "Ib": the paper states it believes Ib holds
    there, and balancing F_pp against F_0 there gives Ib's formulas.
    """
    alpha, beta = _pair(alpha, beta)
    if 2.0 * (alpha + beta) <= 1.0:
        return "outside"
    if 2.0 * beta < 1.0:
        return "Ia" if 2.0 * alpha >= 1.0 else "Ib"
    if 2.0 * alpha >= 1.0:
        return "II" if beta < alpha else "III"
    if alpha >= ALPHA_IV:
        return "IVa"
    return "IVb" if alpha >= 0.25 else "Ic"


# ---- per-term exponents (docs/theory.md §8, SGD; time in units s = gamma t) -----------------------------
def sigma(alpha, beta) -> float:
    """F_pp(t) ~ s^-sigma with sigma = (2 alpha + 2 beta - 1) / (2 alpha)  [P]."""
    alpha, beta = _pair(alpha, beta)
    return (2.0 * alpha + 2.0 * beta - 1.0) / (2.0 * alpha)


def fpp_exponent(alpha, beta, optimizer="sgd") -> float:
    """Slope of F_pp against steps t at fixed d: sigma * q, with q from effective_time_exponents.

    alpha = 1, beta = 0.3 gives 0.8 (SGD, SGD-M), 1.6 (DANA-constant, t >> d), 1.2 (DANA-decaying).
    """
    q, _ = effective_time_exponents(optimizer, alpha)
    return sigma(alpha, beta) * q


def fac_exponent(alpha) -> float:
    """F_ac ~ d^-1 s^-(1 - 1/(2 alpha)); present only when 2 beta > 1 and 2 alpha > 1  [P]."""
    alpha = check.positive("alpha", alpha)
    return 1.0 - 1.0 / (2.0 * alpha)


def f0_exponent(alpha, beta) -> float:
    """F_0 ~ d^-(2 alpha - max(0, 1 - 2 beta)): the limit loss (model capacity)  [P]."""
    alpha, beta = _pair(alpha, beta)
    return 2.0 * alpha - max(0.0, 1.0 - 2.0 * beta)


def noise_exponent(alpha) -> float:
    """SGD noise ~ gamma s^-(2 - 1/(2 alpha))  [P, shape D]; it matters when 2 beta > 1."""
    alpha = check.positive("alpha", alpha)
    return 2.0 - 1.0 / (2.0 * alpha)


def effective_time_exponents(optimizer, alpha) -> tuple[float, float]:
    """(q, mu) with effective time tau = t^q d^-mu (docs/theory.md §8).

    SGD and SGD-M: (1, 0) above the line 2 alpha > 1; below it the step scales like d^(2 alpha - 1),
    so tau = t d^(2 alpha - 1) and mu = 1 - 2 alpha. DANA-constant: (2, 1). DANA-decaying:
    (2 - 1/(2 alpha), 0). docs/theory.md §8 gives DANA's effective time only for 2 alpha > 1; below the line
    this raises NotImplementedError.
    """
    optimizer = _optimizer(optimizer)
    alpha = check.positive("alpha", alpha)
    if optimizer in ("sgd", "sgd_momentum"):
        return 1.0, max(0.0, 1.0 - 2.0 * alpha)
    if 2.0 * alpha < 1.0:
        raise NotImplementedError(
            f"{optimizer}: docs/theory.md §8 gives DANA's effective time only above the line 2 alpha > 1 "
            f"(alpha = {alpha}); measure it with plrf.frontier instead"
        )
    if optimizer == "dana_constant":
        return 2.0, 1.0
    return 2.0 - 1.0 / (2.0 * alpha), 0.0


# ---- compute-optimal exponents -----------------------------------------------------------------
@dataclass(frozen=True)
class Optimal:
    """Compute-optimal exponents: d* ~ f^xi and P* ~ f^-eta (f = steps x B x d).

    source is "paper" or "derived" exactly as docs/theory.md §8 flags the entry; note says where the formula
    comes from.
    """

    alpha: float
    beta: float
    optimizer: str
    phase: str
    xi: float
    eta: float
    source: str
    note: str = ""


def _sgd_table(ph: str, a: float, b: float):
    """(xi, eta, source, note) of the SGD phase table of docs/theory.md §8 (formula of phase `ph` at (a, b))."""
    e = 2 * a + 2 * b - 1
    if ph == "Ia":
        return 1 / (2 * a + 1), e / (2 * a + 1), "derived", "docs/theory.md §8 table [D]"
    if ph == "Ib":
        return 0.5, e / 2, "derived", "docs/theory.md §8 table [D]"
    if ph == "II":
        return b / (a + b), e / (2 * (a + b)), "derived", "docs/theory.md §8 table [D]"
    if ph == "III":
        return 0.5, 1 - 1 / (4 * a), "paper", "docs/theory.md §8 table [P] (checked in the paper at alpha = beta = 0.7)"
    if ph == "IVa":
        return 0.5, a, "derived", "docs/theory.md §8 table [D]"
    if ph == "IVb":
        xi = (b - a) / (2 * b - a - 2 * a * b)
        return xi, e * (1 - 2 * a) / (2 * (2 * b - a - 2 * a * b)), "derived", (
            "xi: docs/theory.md §8 table [D]; eta: not written in docs/theory.md §8, obtained by balancing F_pp against SGD noise"
        )
    if ph == "Ic":
        xi = e / (2 * (3 * a + 2 * b - 2 * a * b - 1))
        return xi, 2 * a * xi, "derived", (
            "eta = 2 alpha xi: docs/theory.md §8 table [D]; xi: not written in docs/theory.md §8, obtained by balancing F_pp against F_0"
        )
    raise ValueError(f"phase must be one of {PHASES}, got {ph!r}")


def _momentum_formula(ph: str, a: float, b: float, q: float, mu: float):
    """docs/theory.md §8's compute-optimal formulas with effective time tau = t^q d^-mu (phases Ia and II)."""
    if ph == "Ia":
        xi = q / (q + 2 * a + mu)
        return xi, (2 * a + 2 * b - 1) * xi
    if ph == "II":
        xi = q * b / (q * b + a + mu * b)
        return xi, (2 * a + 2 * b - 1) / (2 * b) * xi
    raise NotImplementedError(
        f"docs/theory.md §8 gives the momentum compute-optimal formulas only in phases Ia and II, not {ph} "
        "(the noise term under momentum is not given); measure it with plrf.frontier"
    )


def compute_optimal(alpha, beta, optimizer="sgd", *, phase_name=None) -> Optimal:
    """Theoretical compute-optimal exponents (docs/theory.md §8) for one optimizer.

    optimizer: "sgd" (all seven phases), "sgd_momentum" (SGD's exponents, [P]), "dana_constant"
    and "dana_decaying" (phases Ia and II only, [D]; other phases raise NotImplementedError).
    phase_name forces the formula of a given phase (used to compare adjacent phases on their
    shared boundary); by default it is phase(alpha, beta).

    >>> round(compute_optimal(0.7, 0.7).eta, 3), compute_optimal(0.7, 0.7).xi
    (0.643, 0.5)
    """
    alpha, beta = _pair(alpha, beta)
    optimizer = _optimizer(optimizer)
    ph = phase(alpha, beta) if phase_name is None else phase_name
    if ph == "outside":
        raise ValueError(f"(alpha, beta) = ({alpha}, {beta}) is degenerate: 2(alpha + beta) <= 1")
    if ph not in PHASES:
        raise ValueError(f"phase_name must be one of {PHASES}, got {ph!r}")
    if optimizer in ("sgd", "sgd_momentum"):
        xi, eta, source, note = _sgd_table(ph, alpha, beta)
        if optimizer == "sgd_momentum":
            note = "SGD-M with constant hyperparameters has SGD's exponents [P]; SGD entry: " + note
    else:
        q, mu = effective_time_exponents(optimizer, alpha)
        xi, eta = _momentum_formula(ph, alpha, beta, q, mu)
        source, note = "derived", f"docs/theory.md §8 momentum formula [D], q = {q:g}, mu = {mu:g}"
        note += _consistency_note(alpha, beta, optimizer, eta)
    return Optimal(alpha, beta, optimizer, ph, float(xi), float(eta), source, note)


def _consistency_note(alpha, beta, optimizer, eta) -> str:
    """Say so when balancing docs/theory.md §8's own loss terms gives a different optimum than its formula."""
    xi_b, eta_b = balance(loss_terms(alpha, beta, optimizer))
    if abs(eta_b - eta) <= 1e-9:
        return ""
    return (
        f"; WARNING: balancing docs/theory.md §8's loss terms here gives xi = {xi_b:.4g}, eta = {eta_b:.4g} "
        "(F_ac decays more slowly as d grows at fixed f, so F_0 against F_ac sets the optimum)"
    )


# ---- independent re-derivation by balancing the loss terms -------------------------------------
@dataclass(frozen=True)
class Term:
    """A loss term ~ t^-a_t d^-a_d (at fixed batch)."""

    name: str
    a_t: float
    a_d: float

    def f_exponent(self, x: float) -> float:
        """Decay exponent in f when d = f^x and t = f^(1 - x)."""
        return self.a_t * (1.0 - x) + self.a_d * x


def loss_terms(alpha, beta, optimizer="sgd", *, noise=True) -> list[Term]:
    """docs/theory.md §8's asymptotic loss terms as powers of (t, d) for one optimizer.

    s = gamma t with gamma ~ d^(2 alpha - 1) below the line; momentum replaces s by the effective
    time tau = t^q d^-mu in the forcing terms. The SGD-noise term is included for SGD and SGD-M
    only (docs/theory.md §8 does not give it under momentum).
    """
    alpha, beta = _pair(alpha, beta)
    q, mu = effective_time_exponents(optimizer, alpha)
    sig = sigma(alpha, beta)
    terms = [Term("F_pp", sig * q, -sig * mu), Term("F_0", 0.0, f0_exponent(alpha, beta))]
    if 2 * beta > 1 and 2 * alpha > 1:
        c = fac_exponent(alpha)
        terms.append(Term("F_ac", c * q, 1.0 - c * mu))
    if noise and optimizer in ("sgd", "sgd_momentum"):
        g = max(0.0, 1.0 - 2.0 * alpha)  # gamma ~ d^-g
        n = noise_exponent(alpha)
        terms.append(Term("noise", n * q, g - n * mu))
    return terms


def balance(terms) -> tuple[float, float]:
    """(xi, eta) maximizing the slowest decay min_k e_k(x) over d = f^x, x in [0, 1].

    The loss at budget f is dominated by its slowest-decaying term, so P*(f) ~ f^-eta with
    eta = max_x min_k e_k(x), attained at xi. Exact for piecewise-linear exponents: the maximum
    sits at an endpoint or where two terms cross. When the maximum is flat (a degenerate
    boundary), the smallest maximizing x is returned.
    """
    terms = list(terms)
    if not terms:
        raise ValueError("terms must hold at least one loss term (an empty list has no slowest decay)")
    cands = {0.0, 1.0}
    for i, u in enumerate(terms):
        for v in terms[i + 1 :]:
            du = (u.a_d - u.a_t) - (v.a_d - v.a_t)
            if du != 0.0:
                x = (v.a_t - u.a_t) / du
                if 0.0 <= x <= 1.0:
                    cands.add(x)
    best = max(min(t.f_exponent(x) for t in terms) for x in cands)
    xi = min(x for x in cands if min(t.f_exponent(x) for t in terms) >= best - 1e-12)
    return float(xi), float(best)

