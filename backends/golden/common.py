"""The simulation driver shared by the float simulator and the golden model.

Layers run one after another over *all* time steps (docs/semantics.md section 1 within a step is
equivalent, since a layer only reads its source's spikes of the same or earlier steps): the
feed-forward input of a layer for every step is one matmul / im2col over ``T * B`` frames, then the
neuron recurrence runs over ``t`` elementwise on ``[B, N]``; recurrent layers add ``V S[t-1]`` per
step. What differs between the two simulators -- input values, weights in accumulator units, the
matmul, the conversion of the accumulator to the neuron input, the neurons -- is a :class:`Backend`.
"""
from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from snnc import ir
from snnc.memory import check_simulation_fits
from snnc.backends.golden import synapse
from snnc.backends.golden.encoders import encode
from snnc.backends.golden.result import LayerStats, SimResult, make_readout, predict, totals


@dataclass
class Synapses:
    """A layer's connectivity in one arithmetic: tensors already in accumulator units."""

    matmul: Callable[[np.ndarray, np.ndarray], np.ndarray]
    to_input: Callable[[np.ndarray], np.ndarray]     # accumulator -> neuron input
    weight: Any = None
    recurrent: Any = None
    bias: Any = None
    pool_scale: Any = None


class Backend:
    """The arithmetic of one simulator. Subclasses implement the four hooks."""

    arithmetic = "?"
    membrane_dtype: Any = np.float64

    def input_values(self, inp: ir.Input, encoded: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
        """Encoded input [T, B, *shape] -> the values layers see, and saturation counts."""
        raise NotImplementedError

    def synapses(self, layer) -> Synapses:
        raise NotImplementedError

    def neuron(self, layer, shape: tuple[int, ...]):
        """A neuron stepper (``step(inp) -> (S, U)``, ``state()``, ``saturation``)."""
        raise NotImplementedError


def batch_inputs(graph: ir.Graph, x) -> dict[str, np.ndarray]:
    """``x`` for the graph's inputs: an array for a single-input model, or a dict name -> array."""
    if isinstance(x, Mapping):
        names = [i.name for i in graph.inputs]
        missing = [n for n in names if n not in x]
        unknown = [str(k) for k in x if k not in names]
        problems = []
        if missing:
            problems.append(f"no data for input(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"model '{graph.name}' has no input(s) {', '.join(unknown)} (its "
                            f"inputs: {', '.join(names)})")
        if problems:
            raise ValueError("; ".join(problems))
        data = {i.name: _data_array(x[i.name], i.name) for i in graph.inputs}
    else:
        if len(graph.inputs) != 1:
            names = ", ".join(i.name for i in graph.inputs)
            raise ValueError(f"model '{graph.name}' has inputs {names}: pass a dict name -> batch")
        data = {graph.inputs[0].name: _data_array(x, graph.inputs[0].name)}
    for inp in graph.inputs:
        shape, got = tuple(inp.shape), data[inp.name].shape
        sequence = isinstance(inp.encoding, (ir.Delta, ir.Direct)) and got[2:] == shape
        if got == shape:
            raise ValueError(f"data of shape {list(got)} for input '{inp.name}' {list(shape)} has "
                             "no batch dimension: pass a batch [B, *shape] (one sample: x[None])")
        arr = data[inp.name]
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            raise ValueError(f"data for input '{inp.name}' holds values that are not finite "
                             "numbers (nan or inf)")
        if got[1:] != shape and not sequence:
            kinds = "[B, *shape] or [B, T, *shape]" if isinstance(inp.encoding, (ir.Delta, ir.Direct)) \
                else "[B, *shape]"
            raise ValueError(f"data of shape {list(got)} does not fit input '{inp.name}' "
                             f"{list(shape)} (expected {kinds})")
    sizes = {a.shape[0] for a in data.values()}
    if len(sizes) != 1:
        raise ValueError(f"inputs have different batch sizes {sorted(sizes)}")
    if sizes == {0}:
        raise ValueError("the batch holds no samples")
    return data


def _numpy(x) -> np.ndarray:
    """``x`` as a numpy array; a torch tensor (also one that requires grad) detached first."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":     # numpy has none: widened (exact)
            x = x.float()
        x = x.numpy()
    return np.asarray(x)


def _data_array(x, name: str) -> np.ndarray:
    """A batch as a numpy array: torch tensors (also ones that require grad) are detached; data
    that is not real numbers is a TypeError naming the input (complex values lost their
    imaginary part, strings failed inside numpy)."""
    try:
        arr = _numpy(x)
    except ValueError as exc:                                 # ragged lists
        raise ValueError(f"data for input '{name}' is not a regular array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"data for input '{name}' must be real numbers, not {arr.dtype}")
    return arr


def sample_id_array(sample_ids, batch: int) -> np.ndarray:
    """``sample_ids`` (default ``0 .. batch - 1``) as an int64 array of shape ``[batch]``:
    integers from 0 to 2^63 - 1."""
    if sample_ids is None:
        return np.arange(batch)
    if isinstance(sample_ids, (set, frozenset)) or not hasattr(sample_ids, "__len__"):
        raise TypeError(f"sample_ids must be a sequence or an array (ordered, one per sample), "
                        f"not {type(sample_ids).__name__}")        # a set was "got []"
    ids = _numpy(sample_ids)
    if ids.shape != (batch,):
        raise ValueError(f"sample_ids must have shape [{batch}], got {list(ids.shape)}")
    if ids.size and (ids.dtype.kind not in "iu" or ids.min() < 0 or int(ids.max()) > _MAX_ID):
        # a uint64 id of 2**63 or more wrapped to a negative int64; a list of such Python ints
        # (an object or float64 array) was "not float64 values"
        raise ValueError(f"sample_ids must be integers from 0 to 2**63 - 1, not {ids.dtype} "
                         f"values {ids[:3].tolist()}{'...' if ids.size > 3 else ''}")
    return ids.astype(np.int64)


_MAX_ID = 2**63 - 1



def input_events(qmodel, x, seed: int = 0, sample_ids=None) -> np.ndarray:
    """The input events of a batch as integer payloads ``[T, B, inputs]`` (0: no event), what the
    hardware backends feed: the encoders' spikes (1), or ``direct`` values quantised to the
    ``inputs`` format (saturating, as the golden model quantises them), for a held input their
    changes; several inputs side by side in their declaration order."""
    from snnc.fixedpoint import quantize

    g = qmodel.graph
    steps = g.time.steps
    data = batch_inputs(g, x)
    batch = next(iter(data.values())).shape[0]
    sample_ids = sample_id_array(sample_ids, batch)       # a wrong length failed in numpy
    parts = []
    for inp in g.inputs:
        enc = encode(inp, data[inp.name], steps, seed, sample_ids)
        if isinstance(inp.encoding, ir.Direct):
            enc, _ = quantize(enc, qmodel.formats.inputs)
        enc = np.asarray(enc, dtype=np.int64).reshape(steps, batch, -1)
        parts.append(synapse.changes(enc) if g.held(inp.name) else enc)
    return np.concatenate(parts, axis=2)

def run(graph: ir.Graph, x, backend: Backend, *, seed: int = 0, sample_ids=None,
        record: bool = False) -> SimResult:
    """Simulate ``graph`` on the batch ``x`` with ``backend``'s arithmetic."""
    steps = graph.time.steps
    data = batch_inputs(graph, x)
    batch = next(iter(data.values())).shape[0]
    sample_ids = sample_id_array(sample_ids, batch)
    check_simulation_fits(graph, batch, record)     # numpy's MemoryError was an internal error

    values: dict[str, np.ndarray] = {}        # node -> [T, B, *shape] spikes (uint8) or values
    events: dict[str, np.ndarray] = {}        # graded layers -> their spikes (the values carry heights)
    stats: dict[str, LayerStats] = {}
    final: dict[str, dict[str, np.ndarray]] = {}
    membrane_sums: dict[str, np.ndarray] = {}
    traces: dict[str, np.ndarray] = {}
    held: dict[str, np.ndarray] = {}         # held input (or its flatten) -> its values' changes
    for inp in graph.inputs:
        encoded = encode(inp, data[inp.name], steps, seed, sample_ids)
        vals, sat = backend.input_values(inp, encoded)
        values[inp.name] = vals
        if graph.held(inp.name):        # its events are its values' changes (ir.Direct)
            held[inp.name] = synapse.changes(vals)
        sent = held.get(inp.name, vals)
        stats[inp.name] = LayerStats(spikes=int(np.count_nonzero(sent)), saturation=sat)

    copies = set()
    for layer in graph.layers:
        src = values[layer.source]
        if isinstance(layer, ir.Flatten):
            values[layer.name] = src.reshape(steps, batch, -1)
            if layer.source in events:
                # a graded source: its events, not its non-zero heights (a height may be 0)
                events[layer.name] = events[layer.source].reshape(steps, batch, -1)
            if layer.source in held:
                held[layer.name] = held[layer.source].reshape(steps, batch, -1)
            sent = held.get(layer.name, events.get(layer.name, values[layer.name]))
            stats[layer.name] = LayerStats(spikes=int(np.count_nonzero(sent)))
            final[layer.name] = {}
            copies.add(layer.name)
            continue
        if not isinstance(layer, (ir.Dense, ir.Recurrent, ir.Conv2d, ir.Pool)):
            raise TypeError(f"unknown layer type {type(layer).__name__}")
        floats = backend.arithmetic == "float"
        # float states may overflow: counted below instead of numpy's RuntimeWarnings
        quiet = np.errstate(over="ignore", invalid="ignore", divide="ignore")
        with quiet if floats else nullcontext():
            spikes, mem_sum, trace, neuron, st, payloads = _run_layer(
                layer, src, backend, steps, batch, record, held=graph.held(layer.source))
        if floats:
            st.nonfinite = _nonfinite_neurons(mem_sum, neuron.state())
        if payloads is not None:
            values[layer.name] = payloads
            events[layer.name] = spikes
        else:
            values[layer.name] = spikes
        membrane_sums[layer.name] = mem_sum
        if record:
            traces[layer.name] = trace
        final[layer.name] = {k: np.array(v).reshape(batch, *layer.shape)
                             for k, v in neuron.state().items()}
        stats[layer.name] = st

    outputs = {o.source: make_readout(o.readout, events.get(o.source, values[o.source]),
                                      membrane_sums[o.source])
               for o in graph.outputs}
    first = graph.outputs[0].source if graph.outputs else None
    predictions = predict(outputs[first]) if first is not None else np.zeros(batch, dtype=np.int64)
    layer_names = {layer.name for layer in graph.layers}
    return SimResult(backend.arithmetic, steps, batch, outputs, predictions, stats,
                     totals(stats, layer_names, copies), final,
                     spikes={**values, **events} if record else None,
                     membranes=traces if record else None,
                     payloads={k: values[k] for k in events} if record else None,
                     held=held if record else None)


def _nonfinite_neurons(mem_sum: np.ndarray, state: dict) -> int:
    """Float arithmetic: the neurons whose summed membrane or final state is inf or NaN."""
    bad = ~np.isfinite(np.asarray(mem_sum, dtype=np.float64)).reshape(mem_sum.shape[0], -1)
    for v in state.values():
        v = np.asarray(v, dtype=np.float64).reshape(bad.shape[0], -1)
        if v.shape == bad.shape:
            bad |= ~np.isfinite(v)
    return int(bad.sum())


def _run_layer(layer, src: np.ndarray, backend: Backend, steps: int, batch: int, record: bool,
               held: bool = False):
    """One layer over all steps. ``held``: its source is a held input, whose events (and so the
    layer's SOPs) are the changes of ``src``; the layer's input is ``W src[t]`` all the same."""
    syn = backend.synapses(layer)
    shape = layer.shape
    size = int(np.prod(shape))
    delivered = synapse.delayed(src, layer.delay)
    frames = delivered.reshape(steps * batch, *layer.in_shape)
    acc = synapse.feedforward(layer, frames, syn.matmul, syn.weight, syn.bias, syn.pool_scale)
    acc = acc.reshape(steps, batch, size)
    recurrent = isinstance(layer, ir.Recurrent)
    if not recurrent:
        acc = syn.to_input(acc)
    neuron = backend.neuron(layer, (batch, size))
    spikes = np.zeros((steps, batch, size), dtype=np.uint8)
    mem_sum = np.zeros((batch, size), dtype=backend.membrane_dtype)
    trace = np.zeros((steps, batch, size), dtype=backend.membrane_dtype) if record else None
    s_prev = np.zeros((batch, size), dtype=np.uint8)
    graded = getattr(neuron, "graded", False)
    payloads = np.zeros((steps, batch, size), dtype=backend.membrane_dtype) if graded else None
    for t in range(steps):
        if recurrent:
            inp = syn.to_input(acc[t] + syn.matmul(s_prev, syn.recurrent))
        else:
            inp = acc[t]
        s, u = neuron.step(inp)
        spikes[t] = s
        if graded:
            payloads[t] = neuron.H
        mem_sum += u
        if record:
            trace[t] = u
        if recurrent:
            s_prev = spikes[t]
    sops = synapse.sops(layer, synapse.changes(delivered) if held else delivered)
    if recurrent and steps > 1:
        sops += int(np.count_nonzero(spikes[:-1])) * layer.units
    st = LayerStats(spikes=int(np.count_nonzero(spikes)), sops=sops,
                    saturation=dict(neuron.saturation), macs=synapse.macs(layer, steps))
    spikes = spikes.reshape(steps, batch, *shape)
    if record:
        trace = trace.reshape(steps, batch, *shape)
    if graded:
        payloads = payloads.reshape(steps, batch, *shape)
    return spikes, mem_sum, trace, neuron, st, payloads
