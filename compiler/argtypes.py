"""Argument types shared by the ``snnc`` subcommands: integers with a lower bound (one, or a
comma-separated list), seeds and lanes in the ranges a model takes, finite numbers with a bound. A bad value is an ``argparse.ArgumentTypeError``, which argparse reports with the
option's name (exit code 2)."""
from __future__ import annotations

import argparse


def _int_at_least(text: str, least: int, too_small: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if v < least:
        raise argparse.ArgumentTypeError(too_small.format(v))
    return v


#: the largest count an option takes, as the integers of a model's blocks (`epochs`, `tbptt`)
MAX_COUNT = 2**31


def _count(v: int) -> int:
    if v > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_COUNT}, not {v}")
    return v


def positive_int(text: str) -> int:
    """An integer from 1 to ``MAX_COUNT``."""
    return _count(_int_at_least(text, 1, "expected a positive integer, got {}"))


def nonnegative_int(text: str) -> int:
    """An integer from 0 to ``MAX_COUNT``."""
    return _count(_int_at_least(text, 0, "must be 0 or more, not {}"))


MAX_SEED = 2**31       # the largest integer a model's `train { seed = ... }` takes


def _int_between(text: str, low: int, high: int) -> int:
    v = _int_at_least(text, low, f"must be between {low} and {high}, not {{}}")
    if v > high:
        raise argparse.ArgumentTypeError(f"must be between {low} and {high}, not {v}")
    return v


def seed(text: str) -> int:
    """A random seed: an integer from 0 to ``MAX_SEED``, as in a model's train block."""
    return _int_between(text, 0, MAX_SEED)


def lanes(text: str) -> int:
    """Lanes per layer: an integer from 1 to ``MAX_LANES``, as in a model's hardware block."""
    from snnc.ir import MAX_LANES

    return _int_between(text, 1, MAX_LANES)


def int_list(least: int, what: str):
    """A type for comma-separated integers, each at least ``least`` (``what`` says so in the
    message, e.g. "positive")."""
    def parse(text: str) -> tuple[int, ...]:
        try:
            values = tuple(int(t) for t in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of "
                                             "integers") from None
        if any(v < least for v in values):
            raise argparse.ArgumentTypeError(f"the values must be {what}, not '{text}'")
        return values
    return parse


def finite_float(text: str) -> float:
    """A finite number (no nan, no inf)."""
    return _float(text)


def _float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return v


def positive_float(text: str) -> float:
    """A finite number above 0."""
    v = _float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return v


def nonnegative_float(text: str) -> float:
    """A finite number of at least 0."""
    v = _float(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return v
