"""The structural checks the fixed-point hardware backends (Verilog, HLS) share: what an
event-driven layer core can be fed and built from. Each backend adds its own (the Verilog chain,
neuron kinds, formats) and words the errors with its name."""
from __future__ import annotations

from typing import Callable

from snnc import ir
from snnc.errors import SnnError

#: ``(loc, what, hint) -> SnnError``: "<what> is not supported by the <backend> ..."
NotSupported = Callable[..., SnnError]


def structure_errors(g: ir.Graph, not_supported: NotSupported,
                     layer_hint: str | None = None) -> tuple[list[SnnError], list[ir.Layer]]:
    """Located errors for inputs that are not 1-D, a model without layers, and layers other than
    dense and recurrent ones (conv2d, pool, flatten: ``layer_hint`` says what the backend
    builds); and the dense / recurrent layers, for the backend's own checks."""
    errors: list[SnnError] = []
    for inp in g.inputs:
        if len(inp.shape) != 1:
            errors.append(not_supported(inp.loc, f"input '{inp.name}' of shape "
                                                 f"{list(inp.shape)} (only 1-D inputs)"))
    if not g.layers:
        errors.append(SnnError(None, "the model has no layers"))
    buildable = []
    for layer in g.layers:
        if isinstance(layer, (ir.Dense, ir.Recurrent)):
            buildable.append(layer)
            continue
        if isinstance(layer, (ir.Conv2d, ir.Pool, ir.Flatten)):
            kind = {ir.Conv2d: "conv2d", ir.Pool: "pool", ir.Flatten: "flatten"}[type(layer)]
            errors.append(not_supported(layer.loc, f"{kind} layer '{layer.name}'", layer_hint))
        else:
            errors.append(not_supported(layer.loc, f"{type(layer).__name__.lower()} layer "
                                                   f"'{layer.name}'"))
    return errors, buildable
