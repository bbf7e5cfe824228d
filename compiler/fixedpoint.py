"""Fixed-point primitives of docs/semantics.md section 4, vectorised over numpy int64 arrays.

Every integer target (golden model, PyTorch QAT, Verilog, HLS) implements exactly these operations.
"""
from __future__ import annotations

import math

import numpy as np

from snnc.types import Fixed

#: Fractional bits of coefficients (decay factors, beta, constants multiplying a variable).
COEF_FRAC = 16


#: quantize_real's results are clipped to +-2^62 (any format, at most 32 bits wide, then
#: saturates them as it would the exact value; int64 could not hold every float)
_INT_LIMIT = float(1 << 62)


def quantize_real(values, frac: int) -> np.ndarray:
    """Round reals to ``frac`` fractional bits, half up: ``floor(v * 2^frac + 0.5)``, as int64
    (no saturation to a format; beyond +-2^62 the result is +-2^62, never a wrapped value)."""
    v = np.asarray(values, dtype=np.float64)
    return np.clip(np.floor(v * (2.0 ** frac) + 0.5), -_INT_LIMIT, _INT_LIMIT).astype(np.int64)


def real_to_int(value: float, frac: int) -> int:
    """One real rounded to ``frac`` fractional bits, half up, as an exact Python integer (a
    constant of the model, which the caller range-checks). Exact beyond 2^52 too, where every
    float is a whole number (``value * 2^frac`` could overflow floating point there)."""
    if abs(value) >= 2.0 ** 52 and frac >= 0:
        return int(value) << frac
    return int(math.floor(value * (2.0 ** frac) + 0.5))


def saturate(q, fmt: Fixed) -> tuple[np.ndarray, int]:
    """Clamp integers to ``fmt``'s range; returns the clamped array and how many values were clamped."""
    q = np.asarray(q, dtype=np.int64)
    low, high = fmt.min_int, fmt.max_int
    clipped = int(np.count_nonzero((q < low) | (q > high)))
    if clipped:
        q = np.clip(q, low, high)
    return q, clipped


def quantize(values, fmt: Fixed) -> tuple[np.ndarray, int]:
    """Reals to ``fmt``: round half up, then saturate. Returns (integers, number clipped)."""
    return saturate(quantize_real(values, fmt.frac), fmt)


def dequantize(q, fmt_or_frac) -> np.ndarray:
    frac = fmt_or_frac.frac if isinstance(fmt_or_frac, Fixed) else int(fmt_or_frac)
    return np.asarray(q, dtype=np.float64) * (2.0 ** -frac)


def rshift_round(x, s: int):
    """``(x + 2^(s-1)) >> s``: divide by ``2^s`` rounding half up (towards +inf on ties)."""
    if s <= 0:
        raise ValueError("rshift_round needs a positive shift")
    return (x + (1 << (s - 1))) >> s


def rescale(x, from_frac: int, to_frac: int):
    """Move integers from ``from_frac`` to ``to_frac`` fractional bits (exact left or rounded right shift)."""
    if to_frac >= from_frac:
        return x << (to_frac - from_frac) if to_frac > from_frac else x
    return rshift_round(x, from_frac - to_frac)


def coef(value: float) -> int:
    """A real coefficient in 16 fractional bits (round half up)."""
    return real_to_int(value, COEF_FRAC)


def signed_digits(c: int) -> int:
    """How many non-zero digits the canonical signed-digit form of the integer ``c`` has (the
    adders a constant multiplier by ``c`` needs, plus one)."""
    n, c = 0, abs(int(c))
    while c:
        if c & 1:
            c -= 2 - (c & 3)         # digit +1 (c = ...01) or -1 (c = ...11)
            n += 1
        c >>= 1
    return n


def csd_round(c: int, digits: int) -> int:
    """The integer nearest to ``c`` that is a sum of at most ``digits`` signed powers of two (ties:
    the one of smaller magnitude); ``c`` itself when it already is. Each term is one of the two
    powers of two around what is left to approximate (tested against exhaustive search)."""
    if digits < 1:
        raise ValueError("digits must be at least 1")

    def sums(v: int, k: int) -> set:
        # every sum of at most k terms, each one of the two powers of two around what is left
        if v == 0 or k == 0:
            return {0}
        sign, a = (1, v) if v > 0 else (-1, -v)
        low = 1 << (a.bit_length() - 1)
        return {sign * t + rest for t in (low, low << 1) for rest in sums(v - sign * t, k - 1)}

    c = int(c)
    if signed_digits(c) <= digits:
        return c
    return min(sums(c, digits), key=lambda s: (abs(c - s), abs(s)))


def cmul(c: int, x):
    """Multiply by a quantised coefficient: ``rshift_round(c * x, 16)``."""
    return rshift_round(c * x, COEF_FRAC)


def shift_for_decay(factor: float) -> int:
    """The shift ``k`` whose ``1 - 2^-k`` is closest (in log2) to a decay ``factor``, within [1, 30]."""
    if factor >= 1.0:
        return 30
    if factor <= 0.0:
        return 1
    k = math.floor(-math.log2(1.0 - factor) + 0.5)
    return int(min(max(k, 1), 30))


def decay_shift(x, k: int):
    """``x - (x >> k)`` with an arithmetic (flooring) shift."""
    return x - (x >> k)


def matmul_exact_bound(fan_in: int, max_abs_weight: int, max_abs_input: int) -> bool:
    """Whether a float64 matmul of such integers is exact: every partial sum stays below 2^53."""
    return fan_in * max_abs_weight * max_abs_input < (1 << 53)


def int_matmul(x: np.ndarray, w: np.ndarray, max_abs_input: int | None = None) -> np.ndarray:
    """Exact ``x @ w.T`` for integer arrays: float64 BLAS when the bound proves it exact, else int64."""
    fan_in = w.shape[1]
    max_w = int(np.abs(w).max()) if w.size else 0
    max_x = int(np.abs(x).max()) if (max_abs_input is None and x.size) else (max_abs_input or 0)
    if matmul_exact_bound(fan_in, max_w, max_x):
        return (x.astype(np.float64) @ w.T.astype(np.float64)).astype(np.int64)
    return x.astype(np.int64) @ w.T.astype(np.int64)
