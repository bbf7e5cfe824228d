"""Property tests of the fixed-point primitives (docs/semantics.md section 4)."""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from snnc.fixedpoint import (cmul, coef, csd_round, decay_shift, int_matmul, matmul_exact_bound,
                             quantize, quantize_real, rescale, rshift_round, saturate,
                             shift_for_decay, signed_digits)
from snnc.types import Fixed

ints = st.integers(min_value=-(1 << 40), max_value=1 << 40)
shifts = st.integers(min_value=1, max_value=24)
formats = st.builds(lambda w, f, s: Fixed(w, min(f, w - 1 if s else w), s),
                    st.integers(2, 32), st.integers(0, 31), st.booleans())


@given(ints, shifts)
def test_rshift_round_is_round_half_up(x, s):
    exact = Fraction(x, 1 << s)
    expected = math.floor(exact + Fraction(1, 2))
    assert int(rshift_round(np.int64(x), s)) == expected
    assert rshift_round(x, s) == expected  # plain ints too


def test_rshift_round_negative_ties_go_up():
    assert rshift_round(-3, 1) == -1      # -1.5 -> -1
    assert rshift_round(3, 1) == 2        # 1.5 -> 2
    assert rshift_round(-5, 2) == -1      # -1.25 -> -1
    assert rshift_round(-6, 2) == -1      # -1.5 -> -1
    assert rshift_round(-7, 2) == -2      # -1.75 -> -2


@given(ints, st.integers(0, 20), st.integers(0, 20))
def test_rescale_left_is_exact_and_right_rounds(x, f1, f2):
    y = rescale(x, f1, f2)
    if f2 >= f1:
        assert y == x * (1 << (f2 - f1))
    else:
        assert y == math.floor(Fraction(x, 1 << (f1 - f2)) + Fraction(1, 2))


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 20))
def test_quantize_real_rounds_half_up(v, frac):
    q = int(quantize_real(v, frac))
    assert abs(q - v * 2 ** frac) <= 0.5 + 1e-9 * max(1.0, abs(v) * 2 ** frac)
    # ties go up
    assert int(quantize_real((2 * 7 + 1) / 2 / 2 ** frac, frac)) == 8
    assert int(quantize_real(-(2 * 7 + 1) / 2 / 2 ** frac, frac)) == -7


@given(formats, st.lists(st.integers(-(1 << 34), 1 << 34), min_size=1, max_size=50))
def test_saturate_clamps_and_counts(fmt, values):
    q, n = saturate(np.array(values), fmt)
    assert q.min() >= fmt.min_int and q.max() <= fmt.max_int
    outside = sum(1 for v in values if v < fmt.min_int or v > fmt.max_int)
    assert n == outside
    inside = [(v, r) for v, r in zip(values, q.tolist()) if fmt.min_int <= v <= fmt.max_int]
    assert all(v == r for v, r in inside)


def test_quantize_reports_clipping():
    q, n = quantize([0.5, 1.99, 2.0, -2.0, -2.1, 0.0078125], Fixed(8, 6))
    assert q.tolist() == [32, 127, 127, -128, -128, 1]
    assert n == 2  # 2.0 -> 128 and -2.1 -> -134 are outside [-128, 127]


@given(st.floats(min_value=0.0, max_value=0.99999), st.integers(-(1 << 30), 1 << 30))
def test_cmul_is_rounded_coefficient_product(factor, x):
    c = coef(factor)
    assert c == math.floor(factor * 65536 + 0.5)
    assert cmul(c, x) == math.floor(Fraction(c * x, 65536) + Fraction(1, 2))


@given(st.integers(-(1 << 30), 1 << 30), st.integers(1, 30))
def test_decay_shift_moves_towards_zero_or_minus_infinity(x, k):
    y = decay_shift(x, k)
    assert y == x - math.floor(Fraction(x, 1 << k))
    if x >= 0:
        assert 0 <= y <= x
    else:
        assert x <= y <= 0


def test_decay_shift_examples():
    assert decay_shift(-3, 1) == -1
    assert decay_shift(100, 3) == 100 - 12
    assert decay_shift(-100, 3) == -100 + 13


@pytest.mark.parametrize("factor,k", [(0.5, 1), (0.75, 2), (0.875, 3), (0.9, 3), (0.95, 4),
                                      (0.99, 7), (0.999, 10)])
def test_shift_for_decay(factor, k):
    assert shift_for_decay(factor) == k


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(1, 200), st.integers(2, 16), st.data())
def test_int_matmul_is_exact(fan_in, units, wbits, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    w = rng.integers(-(1 << (wbits - 1)), 1 << (wbits - 1), size=(units, fan_in))
    x = rng.integers(0, 2, size=(5, fan_in))
    exact = np.array([[sum(int(a) * int(b) for a, b in zip(row, col)) for col in w] for row in x])
    np.testing.assert_array_equal(int_matmul(x, w), exact)


def test_int_matmul_falls_back_to_int64_beyond_the_bound():
    # products that fit int64 but not float64's 53-bit mantissa
    w = np.array([[(1 << 30) + 1, (1 << 30) + 3]], dtype=np.int64)
    x = np.array([[(1 << 30) + 5, (1 << 30) + 7]], dtype=np.int64)
    expected = ((1 << 30) + 1) * ((1 << 30) + 5) + ((1 << 30) + 3) * ((1 << 30) + 7)
    assert not matmul_exact_bound(2, (1 << 30) + 3, (1 << 30) + 7)
    assert int(int_matmul(x, w)[0, 0]) == expected
    assert int((x.astype(np.float64) @ w.T.astype(np.float64))[0, 0]) != expected  # float64 is not


# ---------------------------------------------------------------------- signed digits (leak_digits)

def _sums_of_signed_powers(k: int, top: int) -> list[int]:
    """Every sum of at most ``k`` terms +-2^p, 0 <= p < top, sorted (exhaustive)."""
    import itertools

    vals = {0}
    for n in range(1, k + 1):
        for ps in itertools.combinations(range(top), n):
            for signs in itertools.product((1, -1), repeat=n):
                vals.add(sum(s << p for s, p in zip(signs, ps)))
    return sorted(vals)


_SUMS = {k: _sums_of_signed_powers(k, 18) for k in (1, 2, 3, 4)}


def _nearest(c: int, k: int) -> int:
    """The nearest sum of at most ``k`` signed powers of two; ties: the smaller magnitude."""
    import bisect

    vals = _SUMS[k]
    i = bisect.bisect_left(vals, c)
    return min((vals[j] for j in (i - 1, i) if 0 <= j < len(vals)), key=lambda v: (abs(v - c), abs(v)))


def test_signed_digits_is_the_fewest_terms():
    sets = {k: set(v) for k, v in _SUMS.items()}
    for c in range(1, 1 << 12):
        fewest = next((k for k in (1, 2, 3, 4) if c in sets[k]), None)
        if fewest is None:
            assert signed_digits(c) > 4, c
        else:
            assert signed_digits(c) == fewest == signed_digits(-c), c
    assert signed_digits(0) == 0 and signed_digits(59299) == 7


def test_csd_round_is_nearest_for_every_small_value():
    for k in (1, 2, 3):
        for c in range(0, 1 << 12):
            r = csd_round(c, k)
            assert signed_digits(r) <= k
            assert r == _nearest(c, k), (c, k, r)


@settings(max_examples=300, deadline=None)
@given(c=st.integers(0, (1 << 16) - 1), k=st.integers(1, 4))
def test_csd_round_is_nearest_for_coefficients(c, k):
    r = csd_round(c, k)
    assert signed_digits(r) <= k
    assert r == _nearest(c, k)
    if signed_digits(c) <= k:
        assert r == c


def test_csd_round_examples():
    # exp(-1/10) in 16 bits (7 signed digits) to 4 and 3 digits; exp(-1/5) to 4
    assert (csd_round(59299, 4), csd_round(59299, 3), csd_round(53656, 4)) == (59328, 59392, 53760)
    # ties go to the smaller magnitude: exp(-1/15) = 61309/2^16 is 1 from 61308 and from 61310,
    # exp(-1/11.4) = 60032/2^16 is 128 from 59904 and from 60160 (both with 4 digits)
    assert (csd_round(61309, 4), csd_round(60032, 4)) == (61308, 59904)
    with pytest.raises(ValueError):
        csd_round(5, 0)


@pytest.mark.parametrize("value", [2.0**52, -(2.0**52), 1e300, -1.7e308, 2.0**60 + 2.0**8])
def test_real_to_int_is_exact_for_whole_floats_beyond_2_52(value):
    # value * 2^frac overflowed floating point (an OverflowError) for the largest floats
    from snnc.fixedpoint import real_to_int

    assert real_to_int(value, 16) == int(value) * 2**16
    assert coef(value) == int(value) * 2**16
    assert real_to_int(value, 0) == int(value)
    assert real_to_int(value, -4) == int(value) // 16     # a whole number of 16s: exact
