"""The converted model's text (``Converted``: the text, the weights and what was chosen) and
the pieces both conversions write it with: fixed-point formats picked from a range of values, layer
declarations, numbers and times as the model text writes them."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from snnc.ann import AnnLayer


@dataclass
class Converted:
    text: str
    weights: dict
    info: dict


# ====================================================================== formats


def int_bits(max_abs: float) -> int:
    """Integer bits (sign excluded) a signed format needs to hold ``max_abs``."""
    if not max_abs > 0:
        return 0
    return max(0, int(math.floor(math.log2(max_abs))) + 1)


def fits(width: int, frac: int, max_abs: float) -> bool:
    """Whether ``max_abs`` rounded to ``frac`` fractional bits (a tie rounded up) is at most the
    largest value of the signed ``width``-bit format."""
    return math.floor(max_abs * 2.0 ** frac + 0.5) <= (1 << (width - 1)) - 1


def fixed_format(width: int, max_abs: float) -> tuple[int, int]:
    """The signed format of ``width`` bits with the most fractional bits that holds ``max_abs``
    after rounding: 0.99995 needs 1 integer bit in 12 bits (fixed<12,10>), as it rounds to 1.0,
    beyond fixed<12,11>'s 0.99951."""
    frac = max(0, width - 1 - int_bits(max_abs))
    while frac > 0 and not fits(width, frac, max_abs):
        frac -= 1
    return width, frac


# ====================================================================== model text


def layer_decl(layer: AnnLayer, src: str, neuron: str) -> str:
    bias = ", bias = true" if layer.bias is not None else ""
    if layer.kind == "flatten":
        return f"layer {layer.name} = flatten({src})"
    if layer.kind == "dense":
        lanes = f", lanes = {layer.lanes}" if layer.lanes is not None else ""
        return f"layer {layer.name} = dense({src}, {layer.units}{bias}{lanes}) with {neuron}"
    k, s, p = layer.kernel, layer.stride, layer.padding
    return (f"layer {layer.name} = conv2d({src}, {layer.units}, kernel = [{k[0]}, {k[1]}], "
            f"stride = [{s[0]}, {s[1]}], padding = [{p[0]}, {p[1]}]{bias}) with {neuron}")


def number_text(v: float) -> str:
    return repr(float(v))


def ms_text(seconds: float) -> str:
    """A time in ms as the model text writes it: the fewest digits that read back (``30`` ms is
    ``30 * 1e-3``) as the same number of seconds (``:g``'s six lost digits: --tau-beta 12.3456789
    was written as 12.3457 ms, not the kernel the conversion computed with)."""
    ms = seconds * 1e3
    for digits in range(6, 18):
        text = f"{ms:.{digits}g}"
        if float(text) * 1e-3 == seconds:
            return text
    return repr(ms)


def dataset_text(name: str) -> str:
    return name if name.isidentifier() else json.dumps(name)
