"""The number formats of docs/results_asn.md, shared by scripts/asn_render.py and
scripts/asn_trained.py ("—" for a figure that does not exist)."""
from __future__ import annotations

import statistics


def pct(v) -> str:
    return "—" if v is None else f"{100 * v:.2f}"


def num(v, fmt="{:.0f}") -> str:
    return "—" if v is None else fmt.format(v)


def mean_sd(vals: list[float], fmt="{:.2f}", scale=1.0) -> str:
    """The mean ± standard deviation of the figures that exist (one figure alone)."""
    vals = [v * scale for v in vals if v is not None]
    if not vals:
        return "—"
    if len(vals) == 1:
        return fmt.format(vals[0])
    return f"{fmt.format(statistics.mean(vals))} ± {fmt.format(statistics.stdev(vals))}"


def ratio(a, b) -> str:
    return "—" if a is None or b in (None, 0) else f"{a / b:.1f}x"


def span(vals: list[float]) -> str:
    """The range of ratios, ``lo-hix`` (one figure where they agree to a decimal)."""
    lo, hi = f"{min(vals):.1f}", f"{max(vals):.1f}"
    return f"{lo}x" if lo == hi else f"{lo}-{hi}x"
