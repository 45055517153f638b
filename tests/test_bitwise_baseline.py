"""Every family today's API expresses gives the same bits as the recorded baseline (see bitwise_cases.py).

This is the guard of the optimizer-chain refactor: a case whose hash moves names the family whose
numbers changed. The last bits depend on the vector width, so the baseline holds one set per
instruction set; CI also runs this file under PLRF_ISA=avx2 and baseline.
"""
import numpy as np
import pytest

import bitwise_cases


def test_the_baseline_covers_every_case():
    assert sorted(bitwise_cases.expected()) == sorted(bitwise_cases.CASES)


@pytest.mark.parametrize("name", sorted(bitwise_cases.CASES))
def test_same_bits_as_the_baseline(name):
    result = bitwise_cases.CASES[name]()
    if bitwise_cases._is_full(name) and not bitwise_cases.same_lapack():
        # Another numpy brings another LAPACK, whose eigh moves the full path's spectrum by an ulp or so.
        np.testing.assert_allclose(result.risk, bitwise_cases.baseline()["full_values"][name], rtol=1e-10)
        return
    assert bitwise_cases.digest(result) == bitwise_cases.expected()[name], f"{name}: its numbers changed"


def test_the_digest_sees_a_one_ulp_change():
    class R:
        risk = np.array([1.0, 0.5])

    a = bitwise_cases.digest(R())
    R.risk = np.nextafter(R.risk, 2.0)
    assert bitwise_cases.digest(R()) != a
