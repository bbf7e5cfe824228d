"""Event-driven synaptic input: a dense layer's ``F.linear`` over all ``T*B`` frames computed from the
non-zeros of its input only, forward and weight gradient (``event_synapse.cpp``, built into the
native scan's library).

A spiking layer's input is mostly zeros (spikes, or the graded events of ASN layers), and a dense
matmul multiplies every weight anyway: at 20% input density the event kernels do a fifth of the
arithmetic, adding one weight row per input event (a synaptic operation) where the matmul does a
multiply-accumulate per weight. :func:`linear` measures the input's density on a sample of its
rows and takes

* the event kernel for the forward pass when the density is at most ``FORWARD_MAX_DENSITY``, and
  for the weight gradient when at most ``GRAD_MAX_DENSITY`` (where they were measured faster than
  MKL's matmul on the shared 2-core machine, ``bench/train_vs_snntorch.py``),
* ``F.linear`` otherwise, and for anything else than float32 / float64 CPU tensors, small layers
  (fewer than ``MIN_OUTPUTS`` outputs or ``MIN_ROWS`` frames), or ``SNNC_EVENT_SYNAPSE=0``.

The gradient to the input (a hidden layer's spikes) is dense and stays a matmul. Results equal the
matmul's up to the order of summation: in float mode they agree to rounding (not bit for bit); in
QAT mode every product and sum is exact in float64, so they are equal.
"""
from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from snnc.backends.torch import native_scan

FORWARD_MAX_DENSITY = 0.3
GRAD_MAX_DENSITY = 0.25
MIN_OUTPUTS = 32
MIN_ROWS = 256
SAMPLE_ROWS = 256


def enabled() -> bool:
    """Whether the event kernels are allowed (``SNNC_EVENT_SYNAPSE`` is not ``0``)."""
    return os.environ.get("SNNC_EVENT_SYNAPSE", "1").strip().lower() not in (
        "0", "false", "no", "off")


def density(x: torch.Tensor) -> float:
    """The fraction of non-zeros of ``x`` ``[R, N]``, measured on about ``SAMPLE_ROWS`` rows spread
    evenly over it."""
    step = max(1, x.shape[0] // SAMPLE_ROWS)
    rows = x[::step]
    return int(torch.count_nonzero(rows)) / max(rows.numel(), 1)


def _usable(src: torch.Tensor, weight: torch.Tensor, bias) -> bool:
    return (enabled() and src.device.type == "cpu" and src.dtype in (torch.float32, torch.float64)
            and weight.dtype == src.dtype and weight.dim() == 2 and src.dim() >= 2
            and src.shape[-1] == weight.shape[1] and weight.shape[0] >= MIN_OUTPUTS
            and src.numel() // max(src.shape[-1], 1) >= MIN_ROWS
            and (bias is None or bias.dtype == src.dtype)
            and native_scan.library() is not None)


@torch.compiler.disable
def linear(src: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
           ) -> torch.Tensor:
    """``F.linear(src, weight, bias)`` (``src`` ``[..., N]``, ``weight`` ``[M, N]``), by the event
    kernels where the input is sparse enough (module docstring)."""
    if not _usable(src, weight, bias):
        return F.linear(src, weight, bias)
    x = src.reshape(-1, src.shape[-1])
    d = density(x)
    if d > FORWARD_MAX_DENSITY:
        return F.linear(src, weight, bias)
    y = EventLinear.apply(x.contiguous(), weight, bias, d <= GRAD_MAX_DENSITY)
    return y.reshape(*src.shape[:-1], weight.shape[0])


def forward_events(x: torch.Tensor, weight: torch.Tensor, bias) -> torch.Tensor:
    """``x @ weight.T + bias`` for a contiguous ``x`` ``[R, N]`` by the event kernel."""
    R, N = x.shape
    M = weight.shape[0]
    wt = weight.detach().t().contiguous()
    b = None if bias is None else bias.detach().contiguous()
    y = native_scan.POOL.empty((R, M), x.dtype)
    getattr(native_scan.library(), f"snnc_event_forward_{native_scan._suffix(x.dtype)}")(
        x.data_ptr(), wt.data_ptr(), None if b is None else b.data_ptr(), y.data_ptr(), R, N, M,
        torch.get_num_threads())
    return y


def weight_grad_events(x: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """``grad.T @ x`` (``[M, N]``) for a contiguous ``x`` ``[R, N]`` by the event kernel."""
    R, N = x.shape
    M = grad.shape[1]
    g = grad.contiguous()
    dwt = torch.empty((N, M), dtype=x.dtype)
    getattr(native_scan.library(), f"snnc_event_weight_grad_{native_scan._suffix(x.dtype)}")(
        x.data_ptr(), g.data_ptr(), dwt.data_ptr(), R, N, M, torch.get_num_threads())
    return dwt.t().contiguous()


class EventLinear(torch.autograd.Function):
    """``x @ weight.T + bias`` by the event kernel; backward: the input's gradient by a matmul,
    the weight's by the event kernel (``grad_events``) or a matmul, the bias's by a sum."""

    @staticmethod
    def forward(ctx, x, weight, bias, grad_events: bool):
        ctx.save_for_backward(x, weight)
        ctx.grad_events = grad_events
        ctx.has_bias = bias is not None
        return forward_events(x, weight, bias)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = grad @ weight
        if ctx.needs_input_grad[1]:
            gw = weight_grad_events(x, grad) if ctx.grad_events else grad.t() @ x
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = grad.sum(0)
        return gx, gw, gb, None
