"""Random spectra that stress compression (tests/test_compress_property.py, bench/compress_table.py).

Four kinds: a power law (rho a power of the index, possibly rising), a geometric spectrum whose rho
per direction is rough (exponential noise), clustered multiplicities (5% of the entries carry
10-3000 directions) and adversarial (rough rho, heavy multiplicities, and five rho spikes x1000).
"""
import numpy as np

from ..spectrum import Spectrum, compress_bin_width

KINDS = ("power", "geometric", "clustered", "adversarial")


def random_spectrum(kind, seed, n):
    """A spectrum of n entries with tr K = 1 (the scale of the theory spectra, where the recipe is stable)."""
    rng = np.random.default_rng(seed)
    mult = None
    if kind == "power":
        j = np.arange(1.0, n + 1)
        lam, rho = j ** -rng.uniform(0.6, 3.0), j ** -rng.uniform(-0.6, 3.0)
    else:
        lam = np.geomspace(1.0, 10.0 ** -rng.uniform(2, 8), n)
        rho = lam ** rng.uniform(-0.5, 1.5)
    if kind in ("geometric", "adversarial"):
        rho = rho * rng.exponential(size=n)  # rho per direction not smooth in lambda
    if kind in ("clustered", "adversarial"):
        mult = rng.integers(1, 3, n)
        heavy = rng.choice(n, max(1, n // 20), replace=False)
        mult[heavy] = rng.integers(10, 3000, heavy.size)
    if kind == "adversarial":
        rho[rng.choice(n, 5, replace=False)] *= 1e3  # high-rho entries beside heavy neighbours
    mult_f = np.ones(n) if mult is None else mult.astype(float)
    lam = lam / (mult_f @ lam)
    p_inf = rng.choice([0.0, 1e-3, 0.1]) * (lam @ rho)
    return Spectrum(lam, rho, p_inf, multiplicity=mult, meta=dict(alpha=0.5, beta=0.5))


def count_weighted_nodes(spec, rtol=1e-4, head=64):
    """The planted twin of Spectrum.compress: the nodes before issue 21 (count-weighted lambda, summed rho,
    bins never split), which move a high-rho eigenvalue to its heavy neighbour."""
    lam, mult = spec.eigenvalues, spec.multiplicity.astype(float)
    bins = np.floor(np.log(lam[0] / lam) / compress_bin_width(rtol))
    bins[:head] = -1.0 - np.arange(min(head, lam.size))[::-1]
    starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    m = np.add.reduceat(mult, starts)
    info = dict(rtol=rtol, head=head, nodes=int(starts.size), entries=spec.n_nodes)
    return Spectrum(np.add.reduceat(mult * lam, starts) / m, np.add.reduceat(spec.rho, starts), spec.p_inf,
                    multiplicity=m.astype(np.int64), meta={**spec.meta, "compressed": info})
