"""Argument types shared by the ``snnc`` subcommands: integers with a lower bound. A bad value is
an ``argparse.ArgumentTypeError``, which argparse reports with the option's name (exit code 2)."""
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


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    return _int_at_least(text, 1, "expected a positive integer, got {}")


def nonnegative_int(text: str) -> int:
    """An integer of at least 0."""
    return _int_at_least(text, 0, "must be 0 or more, not {}")
