"""Quantization-aware training: the quantizer's rounding in torch, with straight-through gradients.

In QAT mode the model computes in float64 with values that are exact multiples of their format's
resolution (weights of ``2^-Fw``, direct inputs of ``2^-Fx``, accumulators of ``2^-F_acc``), so a
float64 matmul or convolution is the exact integer accumulation of docs/semantics.md section 4, and
the neuron recurrences run in int64 (:mod:`snnc.backends.torch.neurons`). Quantisers pass the
gradient straight through (``d q(w) / d w = 1``, also where the value saturates).
"""
from __future__ import annotations

import torch

from snnc import ir
from snnc.types import Fixed


def straight_through(exact: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``exact`` in the forward pass, the identity's gradient to ``x`` in the backward pass.

    Written ``exact + (x - x.detach())`` (``x - x.detach()`` is exactly 0), so the forward value is
    ``exact`` bit for bit -- unlike ``x + (exact - x).detach()``, which rounds.
    """
    if not x.requires_grad:
        return exact
    return exact.detach() + (x - x.detach())


def quantize_real(x: torch.Tensor, fmt: Fixed) -> tuple[torch.Tensor, torch.Tensor]:
    """``clamp(floor(x * 2^F + 0.5))`` (round half up, saturate) in float64 -> (integers as float64,
    number clamped)."""
    q = torch.floor(x.detach().to(torch.float64) * (2.0 ** fmt.frac) + 0.5)
    clamped = ((q < fmt.min_int) | (q > fmt.max_int)).sum()
    return q.clamp(fmt.min_int, fmt.max_int), clamped


def ste_quantize(w: torch.Tensor, fmt: Fixed) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights quantised to ``fmt`` (real units, float64) with a straight-through gradient, and
    the number of them clamped to its range."""
    q, clamped = quantize_real(w, fmt)
    return straight_through(q * fmt.scale, w.to(torch.float64)), clamped


def quantize_input(x: torch.Tensor, fmt: Fixed) -> tuple[torch.Tensor, torch.Tensor]:
    """Direct-encoded input values quantised to the ``inputs`` format: (real values, clamps)."""
    q, clamped = quantize_real(x, fmt)
    return straight_through(q * fmt.scale, x.to(torch.float64)), clamped


def layer_plans(graph: ir.Graph):
    """The quantizer's formats and per-layer plans (they do not depend on the weights' values).

    Raises the quantizer's located SnnErrors for constants the formats cannot represent.
    """
    import numpy as np

    from snnc.quantize import quantize

    zeros = {layer.name: {k: np.zeros(s) for k, s in ir.weight_shapes(layer).items()}
             for layer in graph.layers if ir.weight_shapes(layer)}
    q = quantize(graph, zeros)
    return q.formats, {p.name: p for p in q.plans}
