"""Counter-based randomness: Philox4x32-10 known answers, addressing, one stream on every
instruction set, and the statistics of the normals.

Every statistical check states its bound as a z-score and has a planted-bug twin that the same
check rejects. Seeds are fixed, so the tests are deterministic; the bounds say how often a correct
generator would fail them on a fresh seed (5 SE: ~6e-7 per check, normal approximation).
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from plrf import _core

Z = 5.0  # bound on every z-score below

# Random123 tests/kat_vectors, every "philox4x32 10" line: counter, key, expected output.
KATS = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]


@pytest.mark.parametrize("counter,key,expected", KATS)
def test_philox_known_answers(counter, key, expected):
    assert _core.philox4x32_10(counter, key) == expected


def reference_words(seed, stream, step, first, n):
    """Words of streams.hpp from the scalar generator: (lanes 0, 1) or (2, 3) of block i // 2."""
    key = [seed & 0xFFFFFFFF, seed >> 32]
    tag = (step >> 32) | stream << 16
    out = []
    for i in range(first, first + n):
        b = _core.philox4x32_10([(i // 2) & 0xFFFFFFFF, (i // 2) >> 32, step & 0xFFFFFFFF, tag], key)
        lo, hi = (b[0], b[1]) if i % 2 == 0 else (b[2], b[3])
        out.append(hi << 32 | lo)
    return np.array(out, dtype=np.uint64)


@pytest.mark.parametrize("seed,stream,step,first", [(0, 0, 0, 0), (2**64 - 1, 255, 2**48 - 1, 2**48 - 41),
                                                     (123456789, 1, 77, 3)])
def test_words_follow_the_documented_packing(seed, stream, step, first):
    # The vector lanes of this process's instruction set against the scalar known-answer generator.
    np.testing.assert_array_equal(_core.words(seed, stream, step, first, 41),
                                  reference_words(seed, stream, step, first, 41))


ISA_PROBE = ("import numpy as np, sys; from plrf import _core; "
             "sys.stdout.buffer.write(_core.words(9, 2, 5, 3, 1001).tobytes() + "
             "_core.normals(9, 2, 5, 3, 200001).tobytes())")


def test_every_instruction_set_gives_the_same_stream():
    # Words bit for bit, and normals too (the fast path is exact integer work plus one multiply).
    want = _core.words(9, 2, 5, 3, 1001).tobytes() + _core.normals(9, 2, 5, 3, 200001).tobytes()
    for cap in ("baseline", "avx2", "avx512"):
        env = dict(os.environ, PLRF_ISA=cap)
        got = subprocess.run([sys.executable, "-c", ISA_PROBE], env=env, capture_output=True, check=True).stdout
        assert got == want, cap


def test_streams_version_is_an_int():
    assert isinstance(_core.STREAMS_VERSION, int) and _core.STREAMS_VERSION == 3


@pytest.mark.parametrize("kw,name", [(dict(stream=256), "stream"), (dict(step=2**48), "step"),
                                     (dict(first=2**48 - 5, n=6), "first")])
def test_addresses_beyond_the_packing_are_rejected(kw, name):
    args = dict(seed=1, stream=1, step=0, first=0, n=3) | kw
    with pytest.raises(ValueError, match=name):
        _core.normals(**args)


def test_normals_are_addressed_by_index():
    whole = _core.normals(3, 1, 17, 0, 1000)
    parts = np.concatenate([_core.normals(3, 1, 17, a, b - a) for a, b in [(0, 1), (1, 6), (6, 333), (333, 1000)]])
    np.testing.assert_array_equal(whole, parts)
    assert not np.array_equal(whole, _core.normals(3, 1, 18, 0, 1000))  # another step
    assert not np.array_equal(whole, _core.normals(3, 2, 17, 0, 1000))  # another stream
    assert not np.array_equal(whole, _core.normals(4, 1, 17, 0, 1000))  # another seed


# ---- statistics ------------------------------------------------------------------------------
def moment_z(x):
    """z-scores of the sample mean, variance, third and fourth moments against N(0, 1).

    Standard errors from the normal law: Var(z) = 1, Var(z^2) = 2, Var(z^3) = 15, Var(z^4) = 96.
    """
    n = x.size
    return np.array([x.mean() / np.sqrt(1 / n), ((x * x).mean() - 1) / np.sqrt(2 / n),
                     (x**3).mean() / np.sqrt(15 / n), ((x**4).mean() - 3) / np.sqrt(96 / n)])


def tail_z(x, cuts):
    """Poisson z-scores of the counts beyond |x| > t, for t in cuts."""
    p = 2 * stats.norm.sf(cuts)
    k = np.array([(np.abs(x) > t).sum() for t in cuts])
    return (k - x.size * p) / np.sqrt(x.size * p)


def corr_z(a, b):
    """z-score of the sample correlation of two independent N(0, 1) samples (SE = 1/sqrt(n))."""
    return np.corrcoef(a, b)[0, 1] * np.sqrt(a.size)


def test_normals_distribution():
    # Kolmogorov-Smirnov on 2e5 draws; p > 1e-4 fails only by chance 1 in 10^4 runs.
    x = _core.normals(11, 1, 0, 0, 200_000)
    assert stats.kstest(x, "norm").pvalue > 1e-4
    assert stats.kstest(x + 0.05, "norm").pvalue < 1e-4  # planted bug: a shifted mean fails the same check


def test_normal_moments_2e6():
    x = _core.normals(12, 1, 0, 0, 2_000_000)
    assert np.all(np.abs(moment_z(x)) < Z)
    assert np.abs(moment_z(np.sqrt(1.01) * x)).max() > Z  # planted bug: variance 1.01 (z ~ 7 here)


def test_lag1_and_stream_independence():
    # Correlations of draws that must be independent, on 1e6 pairs: SE 1e-3, bound 5e-3.
    n = 1_000_000
    x = _core.normals(5, 1, 7, 0, n + 1)
    others = {
        "lag 1 within a step": (x[:-1], x[1:]),
        "next step": (x[:n], _core.normals(5, 1, 8, 0, n)),
        "next seed": (x[:n], _core.normals(6, 1, 7, 0, n)),
        "next stream": (x[:n], _core.normals(5, 2, 7, 0, n)),
        "seed 2**32 apart": (x[:n], _core.normals(5 + 2**32, 1, 7, 0, n)),
    }
    for what, (a, b) in others.items():
        assert abs(corr_z(a, b)) < Z, what
    # Planted bug: a stream that leaks 1% of its neighbour (correlation 0.01, z ~ 10) is caught.
    leaky = x[1:] + 0.01 * x[:-1]
    assert abs(corr_z(x[:-1], leaky)) > Z


def test_lag1_across_steps():
    # Draw i of step t against draw i of step t+1, and the last draw of a step against the first of
    # the next, over 2000 steps of 500 draws: 1e6 and 2000 pairs.
    steps = np.array([_core.normals(21, 2, t, 0, 500) for t in range(2001)])
    assert abs(corr_z(steps[:-1].ravel(), steps[1:].ravel())) < Z
    assert abs(corr_z(steps[:-1, -1], steps[1:, 0])) < Z
    assert abs(corr_z(steps[:-1].ravel(), (steps[1:] + 0.01 * steps[:-1]).ravel())) > Z  # planted bug


@pytest.fixture(scope="module")
def ten_million():
    return _core.normals(2024, 1, 3, 0, 10_000_000)


@pytest.mark.slow
def test_ks_and_moments_1e7(ten_million):
    x = ten_million
    assert stats.kstest(x, "norm").pvalue > 1e-6
    assert np.all(np.abs(moment_z(x)) < Z), moment_z(x)
    bug = np.sqrt(1.01) * x  # planted bug: variance 1.01 fails both (variance z ~ 22)
    assert stats.kstest(bug, "norm").pvalue < 1e-6
    assert np.abs(moment_z(bug)).max() > Z


@pytest.mark.slow
def test_tail_frequencies_to_6_sigma():
    # 1e8 draws in chunks: counts beyond 1 .. 6 sigma against Poisson bounds (expected 0.2 beyond 6,
    # so that cut only catches a gross excess: more than 2 events is p < 1e-3). The tail sampler
    # itself is checked to 6 sigma with 1e6 conditional draws in cpp/tests/test_rng.cpp.
    cuts = np.array([1.0, 2.0, 3.0, 4.0, 4.5, 5.0, 5.5])
    counts, beyond6, n = np.zeros(len(cuts)), 0, 0
    bug_counts = np.zeros(len(cuts))
    for s in range(10):
        x = _core.normals(77, 1, s, 0, 10_000_000)
        n += x.size
        counts += [(np.abs(x) > t).sum() for t in cuts]
        bug_counts += [(np.abs(np.sqrt(1.01) * x) > t).sum() for t in cuts]
        beyond6 += int((np.abs(x) > 6).sum())
    expected = n * 2 * stats.norm.sf(cuts)
    z = (counts - expected) / np.sqrt(expected)
    assert np.all(np.abs(z) < Z), z
    assert beyond6 <= 2
    bug_z = (bug_counts - expected) / np.sqrt(expected)
    assert np.abs(bug_z).max() > Z  # planted bug: variance 1.01 inflates the 3-4 sigma counts


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # hypothesis is in the [test] extra; without it this property is not checked
    given = None

if given is not None:

    @settings(max_examples=60, deadline=None)
    @given(
        seed=st.integers(0, 2**64 - 1),
        step=st.integers(0, 2**48 - 1),
        first=st.integers(0, 2**48 - 64),
        cuts=st.lists(st.integers(0, 64), max_size=5),
    )
    def test_any_split_gives_the_same_draws(seed, step, first, cuts):
        n = 64
        whole = _core.normals(seed, 1, step, first, n)
        bounds = [0] + sorted(cuts) + [n]
        parts = np.concatenate([_core.normals(seed, 1, step, first + a, b - a) for a, b in zip(bounds, bounds[1:])])
        np.testing.assert_array_equal(whole, parts)
