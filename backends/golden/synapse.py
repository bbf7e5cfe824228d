"""Synaptic input of every layer for all time steps at once, and the statistics that depend on it.

docs/semantics.md section 1 (delays, dense, conv2d, pooling, bias) and section 6 (SOPs, MACs). The
arithmetic is supplied by the caller: ``matmul(x, w)`` computes ``x @ w.T`` (float64 in the float
simulator, exact integers in the golden model) and the weights arrive already in accumulator units,
so both simulators share this code.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from snnc import ir

Matmul = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Largest im2col patch matrix built at once (elements); larger inputs are processed in chunks.
IM2COL_CHUNK = 1 << 22


def delayed(seq: np.ndarray, d: int) -> np.ndarray:
    """``seq[t - d]`` along axis 0 (time), zeros before the first step."""
    if d == 0:
        return seq
    out = np.zeros_like(seq)
    if d < seq.shape[0]:
        out[d:] = seq[:seq.shape[0] - d]
    return out


def changes(seq: np.ndarray) -> np.ndarray:
    """``seq[t] - seq[t - 1]`` along axis 0 (time), ``seq[-1] = 0``: the events of a held input
    (``direct(hold = true)``), whose sum over steps ``0 .. t`` is ``seq[t]``."""
    out = np.array(seq, copy=True)
    out[1:] -= seq[:-1]
    return out


def feedforward(layer, src: np.ndarray, matmul: Matmul, weight=None, bias=None,
                pool_scale=None) -> np.ndarray:
    """The feed-forward input of ``layer`` for a batch of frames ``src`` [N, *in_shape].

    Returns [N, *layer.shape]: ``W s (+ bias)`` for dense and recurrent layers (the recurrent term
    is added per step by the caller), ``conv2d(s, W) (+ bias)``, or the window sums times
    ``pool_scale`` for pooling.
    """
    if isinstance(layer, (ir.Dense, ir.Recurrent)):
        acc = matmul(src.reshape(src.shape[0], -1), weight)
        return acc + bias if bias is not None else acc
    if isinstance(layer, ir.Conv2d):
        acc = conv2d(src, weight, layer.stride, layer.padding, matmul)
        return acc + bias[:, None, None] if bias is not None else acc
    if isinstance(layer, ir.Pool):
        return pool_sum(src, layer.kernel, layer.stride) * pool_scale
    raise TypeError(f"no synaptic input for layer type {type(layer).__name__}")


def _windows(x: np.ndarray, kernel, stride) -> np.ndarray:
    """[N, C, H, W] -> view [N, C, oh, ow, kh, kw] of the (strided) windows."""
    kh, kw = kernel
    sh, sw = stride
    v = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    return v[:, :, ::sh, ::sw]


def conv2d(x: np.ndarray, w: np.ndarray, stride, padding, matmul: Matmul) -> np.ndarray:
    """Cross-correlation via im2col: x [N, C, H, W], w [Co, C, kh, kw] -> [N, Co, oh, ow]."""
    n, c, h, wd = x.shape
    co, _, kh, kw = w.shape
    ph, pw = padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - kh) // stride[0] + 1
    ow = (wd + 2 * pw - kw) // stride[1] + 1
    wmat = w.reshape(co, c * kh * kw)
    rows_per_frame = oh * ow * c * kh * kw
    chunk = max(1, IM2COL_CHUNK // max(rows_per_frame, 1))
    parts = []
    for start in range(0, n, chunk):
        win = _windows(x[start:start + chunk], (kh, kw), stride)      # [n', C, oh, ow, kh, kw]
        m = win.shape[0]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(m * oh * ow, c * kh * kw)
        out = matmul(cols, wmat)                                       # [n' * oh * ow, Co]
        parts.append(out.reshape(m, oh, ow, co).transpose(0, 3, 1, 2))
    if not parts:
        return np.zeros((0, co, oh, ow))
    return np.ascontiguousarray(np.concatenate(parts) if len(parts) > 1 else parts[0])


def pool_sum(x: np.ndarray, kernel, stride) -> np.ndarray:
    """Per-channel window sums: x [N, C, H, W] -> [N, C, oh, ow] (int64 for integer input)."""
    dtype = np.float64 if x.dtype.kind == "f" else np.int64
    return _windows(x, kernel, stride).sum(axis=(-2, -1), dtype=dtype)


# ---------------------------------------------------------------------- statistics


def _axis_cover(n_in: int, k: int, s: int, p: int) -> np.ndarray:
    """For each input coordinate, how many output positions along that axis have it in their window."""
    n_out = (n_in + 2 * p - k) // s + 1
    cover = np.zeros(n_in, dtype=np.int64)
    for o in range(n_out):
        lo, hi = max(o * s - p, 0), min(o * s - p + k, n_in)
        if hi > lo:
            cover[lo:hi] += 1
    return cover


def fan_out(layer) -> np.ndarray:
    """Synapses reached by an event at each input element (flat row-major), border effects exact."""
    if isinstance(layer, (ir.Dense, ir.Recurrent)):
        return np.full(layer.in_shape[0], layer.units, dtype=np.int64)
    if isinstance(layer, (ir.Conv2d, ir.Pool)):
        c, h, w = layer.in_shape
        pad = layer.padding if isinstance(layer, ir.Conv2d) else (0, 0)
        per_channel = layer.channels if isinstance(layer, ir.Conv2d) else 1
        cy = _axis_cover(h, layer.kernel[0], layer.stride[0], pad[0])
        cx = _axis_cover(w, layer.kernel[1], layer.stride[1], pad[1])
        plane = per_channel * np.outer(cy, cx)
        return np.broadcast_to(plane, (c, h, w)).reshape(-1)
    raise TypeError(f"no fan-out for layer type {type(layer).__name__}")


def sops(layer, delivered: np.ndarray) -> int:
    """SOPs of the feed-forward events ``delivered`` [T, B, *in_shape] (already delayed)."""
    events = np.count_nonzero(delivered.reshape(-1, delivered[0, 0].size), axis=0)
    return int(events.astype(np.int64) @ fan_out(layer))


def macs(layer, steps: int) -> int:
    """Multiply-accumulates of the equivalent ANN for one inference (section 6).

    Dense and conv once; recurrent layers (input and recurrent matrices) once per step; pooling and
    flatten have no weights and count 0.
    """
    if isinstance(layer, ir.Dense):
        return layer.units * layer.in_shape[0]
    if isinstance(layer, ir.Recurrent):
        return steps * layer.units * (layer.in_shape[0] + layer.units)
    if isinstance(layer, ir.Conv2d):
        co, oh, ow = layer.shape
        return co * oh * ow * layer.in_shape[0] * layer.kernel[0] * layer.kernel[1]
    if isinstance(layer, (ir.Pool, ir.Flatten)):
        return 0
    raise TypeError(f"no MAC count for layer type {type(layer).__name__}")
