"""Streaming classification: a continuous stream of inputs, no reset between them.

``simulate_stream`` presents frame ``k`` of a stream for steps ``k*S .. (k+1)*S - 1`` (``S =
steps_per_frame``) to one network whose state carries over from frame to frame (nothing is reset),
and classifies each frame from the output layer's readout over its own window of steps (the
declared readout, docs/semantics.md section 5, restricted to the window; ``first_spike`` counts
from the window's first step). It also counts, per frame and per layer, the events (spikes, graded
events) and synaptic operations, and the multiply-accumulates the equivalent ANN needs per frame
(section 6): what an event-driven network updates per frame against an ANN that recomputes every
layer for every frame. Works with the float simulator and the bit-exact golden model alike.

The model's input must take sequences (``direct`` or ``delta`` encoding); its ``steps`` is ignored.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from snnc import ir
from snnc.backends.golden import synapse
from snnc.backends.golden.common import run
from snnc.backends.golden.result import make_readout, predict


@dataclass
class StreamResult:
    """``predictions`` [K] (one per frame); ``events`` and ``sops``: layer -> [K] per frame;
    ``ann_macs``: layer -> MACs of the equivalent ANN for one frame; ``steps_per_frame``."""

    predictions: np.ndarray
    events: dict[str, np.ndarray]
    sops: dict[str, np.ndarray]
    ann_macs: dict[str, int]
    steps_per_frame: int
    #: float arithmetic: layer -> neurons whose state became inf or NaN (LayerStats.nonfinite)
    nonfinite: dict[str, int] = field(default_factory=dict)
    #: golden model: node -> state -> clamps over the whole stream (LayerStats.saturation; a
    #: direct input's ``inputs``), every node and state that clamped at least once
    saturation: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def sops_per_frame(self) -> np.ndarray:
        return sum(self.sops.values())

    @property
    def macs_per_frame(self) -> int:
        return int(sum(self.ann_macs.values()))


def simulate_stream(model, frames, steps_per_frame: int, *, weights: dict | None = None,
                    backend: str = "golden", seed: int = 0, settle: int = 0) -> StreamResult:
    """Run the stream ``frames`` [K, *input shape] through ``model`` without resets.

    ``settle``: the first ``settle`` steps of each frame's window are left out of its readout (the
    network still runs them: they let it forget the previous frame); 0 reads the whole window.

    ``model``: a :class:`snnc.quantize.QuantizedModel` (``backend="golden"``) or an
    :class:`ir.Graph` with float ``weights`` (``backend="float"``).
    """
    from snnc.backends.golden.float_sim import FloatBackend
    from snnc.backends.golden.golden_sim import GoldenBackend

    if backend not in ("golden", "float"):
        raise ValueError(f"unknown backend {backend!r}")
    graph = model.graph if backend == "golden" else model
    if len(graph.inputs) != 1 or not isinstance(graph.inputs[0].encoding, (ir.Direct, ir.Delta)):
        raise ValueError("streaming needs one input with a sequence encoding (direct or delta)")
    if steps_per_frame < 1 or not 0 <= settle < steps_per_frame:
        raise ValueError("steps_per_frame must be at least 1 and settle in [0, steps_per_frame)")
    frames = np.asarray(frames)
    inp = graph.inputs[0]
    if tuple(frames.shape[1:]) != tuple(inp.shape):
        raise ValueError(f"frames of shape {list(frames.shape[1:])} do not fit input "
                         f"'{inp.name}' {list(inp.shape)}")
    K, S = len(frames), int(steps_per_frame)
    T = K * S
    long = dataclasses.replace(graph, time=ir.TimeSpec(graph.time.dt, T))
    seq = np.repeat(frames, S, axis=0)[None]                        # [1, T, *shape]
    if backend == "golden":
        arith = GoldenBackend(dataclasses.replace(model, graph=long))
    else:
        arith = FloatBackend(long, weights)
    res = run(long, seq, arith, seed=seed, record=True)
    out = graph.outputs[0]
    spikes = res.spikes[out.source].reshape(K, S, 1, -1)           # [K, S, 1, N]
    mems = res.membranes[out.source].reshape(K, S, 1, -1)
    preds = np.empty(K, dtype=np.int64)
    for k in range(K):
        r = make_readout(out.readout, spikes[k, settle:], mems[k, settle:].sum(axis=0))
        preds[k] = predict(r)[0]
    events: dict[str, np.ndarray] = {}
    sops: dict[str, np.ndarray] = {}
    macs: dict[str, int] = {}
    for layer in graph.layers:
        if isinstance(layer, ir.Flatten):
            continue
        s = res.spikes[layer.name].reshape(K, S, -1)
        events[layer.name] = np.count_nonzero(s, axis=(1, 2)).astype(np.int64)
        src = res.delivered(layer.source)                           # [T, 1, *in_shape]
        delivered = synapse.delayed(src, layer.delay).reshape(K, S, 1, -1)
        fan = synapse.fan_out(layer)
        per = np.array([int(np.count_nonzero(delivered[k].reshape(S, -1), axis=0) @ fan)
                        for k in range(K)], dtype=np.int64)
        if isinstance(layer, ir.Recurrent):
            prev = np.concatenate([np.zeros_like(s[:1, :1]), s.reshape(1, T, -1)[:, :-1]], axis=1)
            per += np.count_nonzero(prev.reshape(K, S, -1), axis=(1, 2)) * layer.units
        sops[layer.name] = per
        macs[layer.name] = synapse.macs(layer, S if isinstance(layer, ir.Recurrent) else 1)
    nonfinite = {name: st.nonfinite for name, st in res.stats.items() if st.nonfinite}
    saturation = {name: {k: int(v) for k, v in sorted(st.saturation.items()) if v}
                  for name, st in res.stats.items() if any(st.saturation.values())}
    return StreamResult(preds, events, sops, macs, S, nonfinite, saturation)
