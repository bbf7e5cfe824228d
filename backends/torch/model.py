"""The PyTorch target: a typed graph as a ``torch.nn.Module`` built from modules.

    model = SNN(graph)                        # random weights (snnc.weights.random_weights)
    x = model.encode(images, seed=0, sample_ids=ids)   # the shared encoders: [T, B, *shape]
    out = model(x)                            # SNNOutput
    loss = F.cross_entropy(out.readout, labels) + reg * sum(s.mean() for s in out.spikes.values())

Layers run one after another over all ``T`` steps (docs/semantics.md section 1 within a step is
equivalent, since a layer reads its source's spikes of the same or earlier steps only): a layer's
feed-forward input for all steps is one matmul / convolution over ``T*B`` frames, then its neuron
recurrence runs over ``t`` (:mod:`snnc.backends.torch.neurons`). With ``qat=True`` the forward pass
is the golden model's integer arithmetic, bit for bit, with straight-through gradients.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from snnc import ir
from snnc.backends.torch.layers import LayerModule, is_static
from snnc.backends.torch.qat import layer_plans, quantize_input
from snnc.backends.torch.surrogates import Surrogate, resolve


# ====================================================================== readouts and predictions


def first_spike_time(spikes: torch.Tensor) -> torch.Tensor:
    """The first step with a spike (``T`` if none) of ``spikes`` ``[T, B, N]``, differentiable.

    Computed as ``sum_t t * S[t] * prod_{u<t} (1 - S[u]) + T * prod_u (1 - S[u])``: the exact step
    index in the forward pass, with gradients through the spikes' surrogates.
    """
    T = spikes.shape[0]
    silent = torch.cumprod(1.0 - spikes, dim=0)                 # no spike up to and including t
    before = torch.cat([torch.ones_like(silent[:1]), silent[:-1]])
    first = spikes * before                                     # 1 at the first spike only
    steps = torch.arange(T, dtype=spikes.dtype, device=spikes.device)
    steps = steps.reshape(T, *[1] * (spikes.dim() - 1))
    return (first * steps).sum(0) + T * silent[-1]


#: Float types too narrow for a readout: bfloat16 counts 256 + 1 as 256, float16 stops at 2048.
_HALF = (torch.float16, torch.bfloat16)


def _wide(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float32 where its type is a 16-bit float (readouts are sums over the steps and
    step indices: a bfloat16 module's spike count of 257 was 256, and predictions flipped)."""
    return t.float() if t.dtype in _HALF else t


def _first_of_best(primary: torch.Tensor, secondary: torch.Tensor | None = None) -> torch.Tensor:
    """Per row, the lowest index maximising ``primary``, ties broken by the largest ``secondary``."""
    primary = primary.detach()
    best = primary == primary.max(dim=1, keepdim=True).values
    if secondary is not None:
        secondary = secondary.detach()
        masked = torch.where(best, secondary, torch.full_like(secondary, -float("inf")))
        best &= masked == masked.max(dim=1, keepdim=True).values
    return best.to(torch.uint8).argmax(dim=1)


class Readout:
    """The readouts of one output layer, neurons flattened row-major to ``N`` (all ``[B, N]``).

    ``count`` (spikes summed over steps), ``membrane`` (membrane after each step summed over steps,
    real units: multiply by ``2^Fm`` for the golden model's integers in QAT mode) and
    ``first_spike`` (first step with a spike, ``T`` if none) are differentiable; ``value`` is the
    declared one, ``predictions`` the class of each sample (docs/semantics.md section 5).
    """

    def __init__(self, readout: str, spikes: torch.Tensor, membrane: torch.Tensor,
                 count: torch.Tensor | None = None):
        self.readout = readout
        T, B = spikes.shape[:2]
        self.spikes = spikes.reshape(T, B, -1)
        self.membranes = membrane.reshape(T, B, -1)
        self._cache: dict = {}
        if count is not None and count.dtype not in _HALF:
            # counted by the layer (the neuron loop): equal to the sum
            self._cache["count"] = count.reshape(B, -1)

    @property
    def count(self) -> torch.Tensor:
        if "count" not in self._cache:
            self._cache["count"] = _wide(self.spikes).sum(0)
        return self._cache["count"]

    @property
    def membrane(self) -> torch.Tensor:
        if "membrane" not in self._cache:
            self._cache["membrane"] = _wide(self.membranes).sum(0)
        return self._cache["membrane"]

    @property
    def first_spike(self) -> torch.Tensor:
        if "first_spike" not in self._cache:
            self._cache["first_spike"] = first_spike_time(_wide(self.spikes))
        return self._cache["first_spike"]

    @property
    def value(self) -> torch.Tensor:
        return getattr(self, self.readout)

    @property
    def predictions(self) -> torch.Tensor:
        if self.readout == "count":
            return _first_of_best(self.count, self.membrane)
        if self.readout == "membrane":
            return _first_of_best(self.membrane)
        if self.readout == "first_spike":
            return _first_of_best(-self.first_spike, self.count)
        raise ValueError(f"unknown readout {self.readout!r}")


@dataclass
class SNNOutput:
    """What :class:`SNN` returns for a batch.

    * ``spikes``: node name -> ``[T, B, *shape]``, every input (its encoded or, in QAT mode,
      quantised values) and every layer; differentiable (surrogate gradients).
    * ``membranes``: layer name -> ``[T, B, *shape]`` membrane after each step (a user neuron's
      first state); flatten layers have none.
    * ``outputs``: output layer name -> :class:`Readout`, in the graph's order.
    * ``saturation`` (QAT): node name -> state -> clamp count (0-d int64 tensors; ``inputs`` for a
      direct input), as the golden model's statistics.
    * ``payloads``: graded layer (ASN, ReLU) -> ``[T, B, *shape]`` the values its events carry
      (``spikes`` holds its events, 0/1), what the next layer multiplies its weights by.
    """

    spikes: dict[str, torch.Tensor]
    membranes: dict[str, torch.Tensor]
    outputs: dict[str, Readout]
    saturation: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    payloads: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def first(self) -> Readout:
        return next(iter(self.outputs.values()))

    @property
    def readout(self) -> torch.Tensor:
        """The first output's declared readout ``[B, N]`` (what the loss is computed on)."""
        return self.first.value

    @property
    def predictions(self) -> torch.Tensor:
        """``[B]`` class of each sample from the first output (section 5 tie rules)."""
        return self.first.predictions

    def spike_counts(self) -> dict[str, torch.Tensor]:
        """Layer name -> spikes per neuron summed over steps ``[B, *shape]`` (differentiable
        through the surrogate, except a ReLU layer's events, ``X > 0``: the regulariser takes its
        ``payloads``). Flatten layers (copies) are left out."""
        return {name: self.spikes[name].sum(0) for name in self.layers if name in self.membranes}

    def saturation_counts(self) -> dict[str, dict[str, int]]:
        return {node: {k: int(v) for k, v in d.items()} for node, d in self.saturation.items()}


# ====================================================================== the module


def _module_key(name: str, taken=()) -> str:
    """A ModuleDict key for a layer name: a name that is an attribute of a ModuleDict (of the
    class, ``keys``, or of every instance, ``training``, ``_modules``), or a key already
    ``taken`` by another layer (``keys`` became ``keys_``, and a layer ``keys_`` too), gets '_'
    until it is neither."""
    key = name
    while hasattr(_EMPTY_MODULE_DICT, key) or key in taken:
        key += "_"
    return key


_EMPTY_MODULE_DICT = nn.ModuleDict()


def _numpy_weights(t: torch.Tensor) -> np.ndarray:
    t = t.detach()
    if t.dtype != torch.float64:
        t = t.to(torch.float32)
    return t.cpu().numpy().copy()


class SNN(nn.Module):
    """A ``.snn`` graph as a trainable module.

    ``SNN(graph, weights=None, qat=False, surrogate=None, tbptt=None)``:

    * ``weights``: ``{layer: {"weight"|"recurrent"|"bias": array}}`` (``snnc.ir.weight_shapes``);
      None draws :func:`snnc.weights.random_weights` (``seed``).
    * ``qat``: quantization-aware mode (the golden model's integers in the forward pass; computes
      in float64; raises the quantizer's located errors for unrepresentable constants).
    * ``surrogate``: overrides every layer's surrogate (an ``ir.Surrogate`` or a name); by default a
      layer uses its own ``surrogate``, else the train block's, else ``fast_sigmoid(25)``.
    * ``tbptt``: truncated BPTT window in steps (0: full BPTT); default the train block's.

    ``forward(x)`` takes the encoded input ``[T, B, *shape]`` (a dict name -> tensor for a model
    with several inputs), e.g. from :meth:`encode`, and returns an :class:`SNNOutput`.
    """

    def __init__(self, graph: ir.Graph, weights: dict | None = None, *, qat: bool = False,
                 surrogate=None, tbptt: int | None = None, seed: int = 0):
        super().__init__()
        graph = getattr(graph, "graph", graph)     # a model from snnc.load (AttributeError)
        if not isinstance(graph, ir.Graph):
            raise TypeError(f"SNN takes a model's graph (or a model from snnc.load), not "
                            f"{type(graph).__name__}")
        if not isinstance(qat, (bool, np.bool_)):
            raise TypeError(f"qat must be True or False, not {qat!r}")   # "no" switched it on
        self.graph = graph
        train = graph.train
        default = resolve(surrogate if surrogate is not None else
                          (train.surrogate if train is not None else None))
        tbptt = tbptt if tbptt is not None else (train.tbptt if train is not None else 0)
        if (isinstance(tbptt, bool) or not isinstance(tbptt, (int, float, np.integer, np.floating))
                or not math.isfinite(tbptt) or int(tbptt) != tbptt or tbptt < 0):
            raise ValueError(f"tbptt must be a whole number of steps, 0 or more, not {tbptt!r}")
        self.tbptt = int(tbptt)
        self.layers = nn.ModuleDict()
        self._keys: dict[str, str] = {}
        for layer in graph.layers:
            if isinstance(layer, ir.Flatten):
                continue
            own = surrogate is None and layer.surrogate is not None
            s = resolve(layer.surrogate) if own else default
            key = _module_key(layer.name, set(self._keys.values()))
            self._keys[layer.name] = key
            self.layers[key] = LayerModule(layer, graph.time.dt, s)
        self.formats = None
        self.qat = False
        self._clip_warned = False       # QAT: the weights' clipping said (once per module)
        if weights is None:
            from snnc.weights import random_weights

            weights = random_weights(graph, seed)
        self.load_weights(weights)
        if qat:
            self.set_qat(True)

    # ------------------------------------------------------------------ configuration
    def layer(self, name: str) -> LayerModule:
        """The module of layer ``name`` (flatten layers have none)."""
        if name not in self._keys:
            raise KeyError(self._no_layer(name))
        return self.layers[self._keys[name]]

    def _no_layer(self, name) -> str:
        return (f"no layer {name!r} with weights in model '{self.graph.name}' (layers: "
                f"{', '.join(self._keys)})")

    def set_qat(self, enabled: bool = True) -> "SNN":
        """Switch quantization-aware mode on or off (formats from the graph's hardware block)."""
        if not isinstance(enabled, (bool, np.bool_)):
            raise TypeError(f"enabled must be True or False, not {enabled!r}")
        if enabled and self.formats is None:
            formats, plans = layer_plans(self.graph)
            direct = {i.name for i in self.graph.inputs if isinstance(i.encoding, ir.Direct)}
            for name, key in self._keys.items():
                mod = self.layers[key]
                mod.set_quantization(plans[name], formats, mod.layer.source in direct)
            self.formats = formats
        self.qat = bool(enabled)
        return self

    def set_surrogate(self, surrogate, layer: str | None = None) -> None:
        """Use ``surrogate`` for every layer, or for the layer named ``layer``."""
        s = resolve(surrogate)
        if layer is not None and layer not in self._keys:
            raise KeyError(self._no_layer(layer))           # was silently nothing
        for name, key in self._keys.items():
            if layer is None or name == layer:
                self.layers[key].set_surrogate(s)

    @property
    def surrogates(self) -> dict[str, Surrogate]:
        return {name: self.layers[key].surrogate for name, key in self._keys.items()}

    # ------------------------------------------------------------------ weights
    def load_weights(self, weights) -> None:
        """Copy ``{layer: {tensor: array}}`` (or a weights file's) into the parameters, checked as
        :func:`snnc.weights.check_weights` checks them: every tensor given, none extra, the
        right shapes, finite (an SnnError; they were copied unchecked, a NaN too, and an extra
        layer was dropped without a word)."""
        import os
        import warnings as _warnings

        from snnc.weights import check_weights, load_weights as read_weights

        if isinstance(weights, (str, bytes, os.PathLike)):
            weights = read_weights(os.fsdecode(weights), self.graph)
            for w in weights.warnings:
                _warnings.warn(w.headline(), UserWarning, stacklevel=2)
        else:
            weights = check_weights(self.graph, weights)
        for layer in self.graph.layers:
            shapes = ir.weight_shapes(layer)
            if not shapes:
                continue
            given = weights.get(layer.name)
            if given is None:
                raise KeyError(f"no weights for layer '{layer.name}'")
            mod = self.layer(layer.name)
            for tensor, shape in shapes.items():
                if tensor not in given:
                    raise KeyError(f"no '{tensor}' weights for layer '{layer.name}'")
                value = torch.as_tensor(np.asarray(given[tensor]))
                if tuple(value.shape) != tuple(shape):
                    raise ValueError(f"weights '{layer.name}/{tensor}' have shape "
                                     f"{list(value.shape)}, the layer needs {list(shape)}")
                p = mod._parameters.get(tensor)
                if p is None:
                    raise ValueError(f"weights '{layer.name}/{tensor}' are computed by a "
                                     "parametrization or pruning hook, not held in a parameter: "
                                     "load the weights before adding it (or remove it first)")
                cast = value.to(p.dtype)
                if p.dtype.is_floating_point and not bool(torch.isfinite(cast).all()):
                    # finite as given (checked), beyond the parameters' float type: 1e39 became
                    # inf in a float32 module, and the membranes NaN, without a word
                    from snnc.errors import SnnError

                    big = float(value.abs().max())
                    kind = str(p.dtype).replace("torch.", "")
                    raise SnnError(layer.loc, f"weights '{layer.name}/{tensor}' hold {big:g}, "
                                              f"beyond the range of the module's {kind} "
                                              f"parameters (largest {torch.finfo(p.dtype).max:g})",
                                   "scale the weights down, or use a float64 module "
                                   "(module.double() before loading them)")
                with torch.no_grad():
                    p.copy_(cast)
                mod.keep_exact(tensor, value)    # QAT quantises the value given

    def export_weights(self) -> dict:
        """The weights as used, ``{layer: {tensor: numpy array}}``: float64 for a float64
        module, else float32 (bfloat16 and float16 parameters are widened: exact); a tensor
        that still holds the float64 value it was loaded with is exported as that value (QAT
        quantises it, not the parameter's rounding of it). A pruned or
        parametrized weight is exported as its hook or parametrization computes it."""
        out = {}
        for layer in self.graph.layers:
            shapes = ir.weight_shapes(layer)
            if shapes:
                mod = self.layer(layer.name)
                out[layer.name] = {t: _numpy_weights(mod.exact_value(t, getattr(mod, t)))
                                   for t in shapes}
        return out

    # ------------------------------------------------------------------ inputs
    @property
    def _dtype(self) -> torch.dtype:
        for p in self.parameters():
            return p.dtype
        return torch.get_default_dtype()

    @property
    def _device(self) -> torch.device:
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    def encode(self, x, seed: int = 0, sample_ids=None) -> torch.Tensor | dict[str, torch.Tensor]:
        """Encode a batch with the shared numpy encoders (so the same seed gives the same spikes as
        every other backend): ``[T, B, *shape]`` on the module's device, in the module's dtype
        (float64 for direct inputs in QAT mode). ``x``: an array ``[B, *shape]`` (or a sequence
        ``[B, T', *shape]``), or a dict name -> array for several inputs. Sequences longer than
        the model's steps (the steps after them are not used) and values a rate or latency
        encoder clips are a UserWarning, as ``model.encode`` says them."""
        return self._encode(x, seed, sample_ids, warn=True)

    def _encode(self, x, seed: int = 0, sample_ids=None, warn: bool = False):
        """:meth:`encode`, its warning only with ``warn`` (training says its data's notes
        itself)."""
        return encode_batch(self.graph, x, seed=seed, sample_ids=sample_ids, dtype=self._dtype,
                            device=self._device, qat=self.qat, warn=warn)

    def _input_dict(self, x) -> dict[str, torch.Tensor]:
        if isinstance(x, Mapping):
            # an unknown name first: {'nope': x} was told "no data for input(s) pixels"
            names = {i.name for i in self.graph.inputs}
            extra = [str(k) for k in x if k not in names]
            if extra:                           # was ignored (simulate refuses it)
                raise ValueError(f"model '{self.graph.name}' has no input(s) "
                                 f"{', '.join(extra)} (inputs: {', '.join(sorted(names))})")
            missing = [i.name for i in self.graph.inputs if i.name not in x]
            if missing:
                raise ValueError(f"no data for input(s) {', '.join(missing)}")
            return {i.name: x[i.name] for i in self.graph.inputs}
        if len(self.graph.inputs) != 1:
            names = ", ".join(i.name for i in self.graph.inputs)
            raise ValueError(f"model '{self.graph.name}' has inputs {names}: pass a dict")
        return {self.graph.inputs[0].name: x}

    # ------------------------------------------------------------------ forward
    def _warn_clipped_weights(self) -> None:
        """QAT clips weights beyond the weights format, as the golden model does; that warns
        ("N of M weights clipped"), QAT did not: say it once per module, after the first forward
        pass that clips (loaded so, or drifted there in training), from the clamps its layers'
        quantisation counted."""
        import warnings as _warnings

        fmt = self.formats.weights
        said = []
        for name, key in self._keys.items():
            clipped, total = self.layers[key].weight_clips
            if int(clipped):
                said.append(f"layer '{name}': {int(clipped)} of {total} weights clipped to the "
                            f"range of {fmt} [{fmt.min_value:g}, {fmt.max_value:g}]")
        if said:
            self._clip_warned = True
            _warnings.warn("QAT: " + "; ".join(said), UserWarning, stacklevel=3)

    def forward(self, x) -> SNNOutput:
        g = self.graph
        T = g.time.steps
        data = self._input_dict(x)
        if self._dtype.is_complex:                  # float mode failed deep in torch, QAT and
            raise TypeError(f"the module's parameters are {self._dtype}; an SNN computes in "
                            "real numbers (use .float() or .double())")   # export cast silently
        values: dict[str, torch.Tensor] = {}
        membranes: dict[str, torch.Tensor] = {}
        saturation: dict[str, dict[str, torch.Tensor]] = {}
        events: dict[str, torch.Tensor] = {}          # graded layers: their events (0/1)
        dtype = self._dtype
        batch = None
        for inp in g.inputs:
            given = data[inp.name]
            try:
                if (isinstance(given, (list, tuple)) and given
                        and all(isinstance(t, torch.Tensor) for t in given)):
                    v = torch.stack(list(given))      # one tensor per step, as simulate takes
                else:
                    v = torch.as_tensor(given)
                if v.layout != torch.strided:           # sparse: failed deep in a reshape
                    v = v.to_dense()
            except (TypeError, ValueError, RuntimeError):
                raise TypeError(f"input '{inp.name}' must be a tensor or an array of numbers, not "
                                f"{type(data[inp.name]).__name__}") from None
            if v.is_complex():
                raise TypeError(f"input '{inp.name}' is complex ({v.dtype}); inputs are real")
            if v.dim() != len(inp.shape) + 2 or v.shape[0] != T or \
                    tuple(v.shape[2:]) != tuple(inp.shape):
                raise ValueError(f"input '{inp.name}' must be encoded as [T={T}, B, "
                                 f"{', '.join(map(str, inp.shape))}], got {list(v.shape)}")
            if v.shape[1] == 0:                  # failed in a reshape of 0 elements
                raise ValueError("the batch holds no samples")
            if batch is not None and v.shape[1] != batch:      # ran each at its own batch size
                raise ValueError(f"inputs have different batch sizes ({batch} and "
                                 f"{v.shape[1]} for input '{inp.name}')")
            batch = v.shape[1]
            if self.qat:
                v = v.to(device=self._device, dtype=torch.float64)
                if not bool(torch.isfinite(v).all()):    # predicted class 0 without a word
                    raise ValueError(f"input '{inp.name}' holds non-finite values (NaN or inf), "
                                     "which the integer model cannot quantise")
                if isinstance(inp.encoding, ir.Direct):
                    if is_static(v):
                        q, clamped = quantize_input(v[:1], self.formats.inputs)
                        v, clamped = q.expand(v.shape), clamped * T
                    else:
                        v, clamped = quantize_input(v, self.formats.inputs)
                    saturation[inp.name] = {"inputs": clamped}
                else:
                    bad = v[(v != 0) & (v != 1)]     # ran as weights times 3 or -1 "spikes"
                    if bad.numel():
                        kind = type(inp.encoding).__name__.lower()
                        raise ValueError(
                            f"input '{inp.name}' is {kind}-encoded: its events are spikes, 0 or "
                            f"1, which the integer model counts, but it holds {bad[0].item():g} "
                            "(encode the samples with SNN.encode)")
            else:
                v = v.to(device=self._device, dtype=dtype)
            values[inp.name] = v
        counted = {o.source for o in g.outputs if o.readout == "count"}
        counts: dict[str, torch.Tensor] = {}
        for layer in g.layers:
            src = values[layer.source]
            if isinstance(layer, ir.Flatten):
                values[layer.name] = src.reshape(T, src.shape[1], -1)
                if layer.source in events:      # a graded source's events (heights may be 0)
                    events[layer.name] = events[layer.source].reshape(T, src.shape[1], -1)
                continue
            run = self.layer(layer.name)(src, qat=self.qat, tbptt=self.tbptt,
                                         count=layer.name in counted)
            graded = run.H is not None
            values[layer.name] = run.H if graded else run.S   # ASN / ReLU: the events' values
            if graded:
                events[layer.name] = run.S
            membranes[layer.name] = run.U
            if run.count is not None:
                counts[layer.name] = run.count
            if self.qat:
                saturation[layer.name] = run.saturation
        if self.qat and not self._clip_warned:
            self._warn_clipped_weights()
        outputs = {o.source: Readout(o.readout, events.get(o.source, values[o.source]),
                                     membranes[o.source], counts.get(o.source))
                   for o in g.outputs}
        return SNNOutput({**values, **events}, membranes, outputs, saturation,
                         tuple(layer.name for layer in g.layers),
                         {k: values[k] for k in events})

    @torch.no_grad()
    def predict(self, x) -> torch.Tensor:
        """``[B]`` predicted classes of an encoded batch."""
        return self(x).predictions


def encode_batch(graph: ir.Graph, x, seed: int = 0, sample_ids=None, dtype=None, device=None,
                 qat: bool = False, warn: bool = False):
    """The encoded input of ``graph`` for a batch, as torch tensors ``[T, B, *shape]`` (a dict for a
    model with several inputs), from the shared numpy encoders
    (:func:`snnc.backends.golden.encoders.encode`). Direct inputs stay float64 in QAT mode so that
    their quantisation is exactly the golden model's. A direct input given as a tensor that
    requires grad stays in the autograd graph (``scale * x``); the spike encoders (rate, latency,
    delta) are not differentiable and detach their data. ``warn``: a UserWarning per input of
    sequences longer than the model's steps or of values its rate or latency encoder clips (for
    :meth:`SNN.encode`'s caller)."""
    from snnc.backends.golden.common import batch_inputs, sample_id_array
    from snnc.backends.golden.encoders import encode

    dtype = dtype or torch.get_default_dtype()
    data = batch_inputs(graph, x)        # the simulators' checks: shapes, one batch size
    if warn:
        import warnings

        from snnc.datasets import batch_data_notes

        for note in batch_data_notes(data, graph):
            warnings.warn(note, UserWarning, stacklevel=4)
    sample_ids = sample_id_array(sample_ids, next(iter(data.values())).shape[0])
    out = {}
    steps = graph.time.steps
    for inp in graph.inputs:
        x_in = data[inp.name]
        direct = isinstance(inp.encoding, ir.Direct)
        static = direct and tuple(x_in.shape[1:]) == tuple(inp.shape)
        # A static direct input is the same at every step: one frame, expanded (stride 0) over
        # time, which lets the first layer compute its synaptic input once.
        arr = encode(inp, x_in, 1 if static else steps, seed, sample_ids)
        dt = torch.float64 if (qat and direct) else dtype
        t = torch.as_tensor(np.ascontiguousarray(arr)).to(device=device, dtype=dt)
        given = x[inp.name] if isinstance(x, Mapping) else x
        if direct and isinstance(given, torch.Tensor) and given.requires_grad:
            # a direct input is scale * x: differentiable, so gradients reach x (the values
            # stay the encoder's, computed in float64)
            g = given.to(device=device, dtype=dt) * inp.encoding.scale
            g = g.unsqueeze(0) if static else g[:, :steps].movedim(1, 0)
            t = t + (g - g.detach())
        out[inp.name] = t.expand(steps, *t.shape[1:]) if static else t
    if isinstance(x, Mapping):
        return out
    return out[graph.inputs[0].name]
