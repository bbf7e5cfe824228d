"""The Python API: load a ``.snn`` model once and use it with every backend.

    import snnc
    m = snnc.load("examples/digits.snn")          # parse, check, build the typed graph
    w = m.random_weights(seed=0)                   # or snnc.load(path, weights="w.npz")
    r = m.simulate(x, weights=w, backend="golden") # SimResult: outputs, predictions, stats
    net = m.to_torch(w)                            # a torch.nn.Module (torch imported only here)
    out = net(net.encode(x))                       # SNNOutput: readout, spikes, predictions
    q = m.quantize(w)                              # QuantizedModel: formats, integer weights

Nothing here imports torch until :meth:`CompiledModel.to_torch` is called.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from snnc import ir

Weights = dict


def _warn(message: str) -> None:
    """A Python warning attributed to the first caller outside snnc (``snnc.loads`` and the
    methods here call each other: a fixed stacklevel pointed inside snnc)."""
    import sys
    import warnings

    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "snnc":
        frame, level = frame.f_back, level + 1
    warnings.warn(message, stacklevel=level)


def _flag(name: str, value) -> bool:
    """A yes/no argument: a bool (numpy's too), not a value that merely has a truth value
    (``record="no"`` was true)."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, not {value!r}")


@dataclass
class CompiledModel:
    """A checked model: its typed graph, the loader's warnings and, optionally, its weights.

    ``weights`` (a dict ``{layer: {tensor: array}}``) is what the methods use when they are not
    given weights of their own.
    """

    graph: ir.Graph
    warnings: list = field(default_factory=list)
    path: str | None = None
    weights: dict | None = None

    @property
    def name(self) -> str:
        return self.graph.name

    # ------------------------------------------------------------------ weights
    def random_weights(self, seed: int = 0, scale: float | None = None) -> dict:
        """Random float32 weights for every trainable tensor (:func:`snnc.weights.random_weights`;
        ``scale``: its bound's scale, default ``snnc.weights.DEFAULT_SCALE``)."""
        from snnc.weights import DEFAULT_SCALE, random_weights

        return random_weights(self.graph, seed, DEFAULT_SCALE if scale is None else scale)

    def load_weights(self, path) -> dict:
        """Read and check a weights file (``.npz``) for this model; also sets ``self.weights``."""
        from snnc.weights import load_weights

        self.weights = load_weights(path, self.graph)
        return self.weights

    def _weights(self, weights, seed: int = 0) -> dict:
        """Weights to use: a dict (checked as a weights file is: missing, extra, misshapen or
        non-finite tensors are an SnnError; an extra tensor was silently unused), a weights
        file (its warnings, e.g. a graph-hash mismatch, as Python warnings), ``self.weights``,
        else random ones. Weights read from a file (a LoadedWeights) are checked again: they may
        have been read for another model, or edited (a NaN) since; a warning of this model's
        that they do not carry yet (read for another version of it) is a Python warning."""
        if weights is None:
            weights = self.weights
        if weights is None:
            return self.random_weights(seed)
        if isinstance(weights, (str, bytes, os.PathLike)):
            from snnc.weights import load_weights

            loaded = load_weights(os.fsdecode(weights), self.graph)
            for w in loaded.warnings:
                _warn(w.headline())
            return loaded
        from snnc.weights import LoadedWeights, check_weights

        checked = check_weights(self.graph, weights)
        if isinstance(weights, LoadedWeights):
            known = {w.headline() for w in weights.warnings}
            for w in checked.warnings:
                if w.headline() not in known:
                    _warn(w.headline())
        return checked

    # ------------------------------------------------------------------ passes and backends
    def quantize(self, weights=None):
        """The quantizer pass (docs/semantics.md section 4): a :class:`snnc.quantize.QuantizedModel`.

        ``weights``: a dict, a weights file, or None for ``self.weights`` (random if unset)."""
        from snnc.quantize import quantize

        return quantize(self.graph, self._weights(weights))

    def encode(self, x, seed: int = 0, sample_ids=None) -> dict:
        """The encoded inputs (numpy, ``[T, B, *shape]``) per input name, from the encoders every
        backend shares: spikes (uint8) for ``rate``, ``latency`` and ``delta`` inputs, the same for
        every backend; real values ``scale * x`` (float64) for a ``direct`` input, which is what
        the float model takes. The fixed-point targets (golden model, Verilog, HLS) then quantise
        a direct input's values to the hardware block's ``inputs`` format (round half up,
        saturate, clamps counted as ``inputs`` saturation): those integers are their events'
        payloads."""
        from snnc.backends.golden.common import batch_inputs, sample_id_array
        from snnc.backends.golden.encoders import encode

        data = batch_inputs(self.graph, x)
        self._warn_data(data)
        ids = sample_id_array(sample_ids, next(iter(data.values())).shape[0])
        return {inp.name: encode(inp, data[inp.name], self.graph.time.steps, seed, ids)
                for inp in self.graph.inputs}

    def _warn_data(self, data) -> None:
        """A warning per input whose samples are sequences longer than the model's ``steps``
        (the encoders use the first ``steps``) or whose values its rate or latency encoder clips,
        ``snnc simulate``'s notes. ``data``: checked batches, input name -> array, or one array
        for a single-input model."""
        from snnc.datasets import batch_data_notes

        for note in batch_data_notes(data, self.graph):
            _warn(note)

    def simulate(self, x, weights=None, backend: str = "float", seed: int = 0, sample_ids=None,
                 record: bool = False):
        """Simulate a batch with the float reference (``backend="float"``) or the bit-exact golden
        model (``"golden"``); returns a :class:`snnc.backends.golden.result.SimResult`.

        ``x``: ``[B, *shape]`` (or a sequence ``[B, T', *shape]``), or a dict input name -> batch.
        ``weights``: a dict, a weights file, or None for ``self.weights`` (random weights drawn
        with ``seed`` if unset, as ``snnc simulate`` does). ``seed`` and ``sample_ids`` feed the
        rate encoder; ``record`` keeps every layer's spikes and membranes.

        Nothing is raised for what went out of range: the result counts it per layer,
        ``stats[layer].saturation`` (the golden model's clamps per state) and
        ``stats[layer].nonfinite`` (float: neurons whose state overflowed to inf / NaN; their
        later spikes are not meaningful). ``snnc simulate`` reports both as warnings. What the
        result cannot show is a Python warning (UserWarning), as ``snnc simulate`` notes it:
        weights the golden model's quantizer clipped to their format, and the steps of input
        sequences beyond the model's ``steps`` (not used).
        """
        record = _flag("record", record)
        w = self._weights(weights, seed)
        if backend == "float":
            from snnc.backends.golden.float_sim import simulate_float

            result = simulate_float(self.graph, w, x, seed=seed, sample_ids=sample_ids,
                                    record=record)
        elif backend == "golden":
            from snnc.backends.golden.golden_sim import simulate_golden
            from snnc.quantize import quantize

            q = quantize(self.graph, w)
            for note in q.clipping_notes():
                _warn(note)
            result = simulate_golden(q, x, seed=seed, sample_ids=sample_ids, record=record)
        else:
            raise ValueError(f"unknown backend {backend!r}: use 'float' or 'golden'")
        self._warn_data(x)        # the simulation has checked the batches
        return result

    def to_torch(self, weights=None, qat: bool = False, *, surrogate=None, tbptt=None,
                 seed: int = 0):
        """The model as a :class:`snnc.backends.torch.SNN` (a ``torch.nn.Module``).

        ``weights``: a dict, a weights file, or None for ``self.weights`` (random weights drawn with
        ``seed`` if unset). ``qat``: quantization-aware mode (the golden model's integer forward
        pass, straight-through gradients). ``surrogate`` overrides every layer's surrogate
        gradient; ``tbptt`` the train block's truncated-BPTT window (steps, 0 = full BPTT).
        """
        from snnc.backends.torch import SNN

        qat = _flag("qat", qat)
        return SNN(self.graph, self._weights(weights, seed), qat=qat, surrogate=surrogate,
                   tbptt=tbptt)


def load(path, weights=None) -> CompiledModel:
    """Parse, check and build the model in ``path``; raises SnnError / SnnErrors on bad input.

    ``weights``: optional weights (a dict, or a weights file read and checked against the model).
    """
    from snnc.build import load as build_load

    path = os.fsdecode(path)                 # bytes paths too (their .path was bytes)
    loaded = build_load(path)
    model = CompiledModel(loaded.graph, list(loaded.warnings), path)
    if weights is not None:
        model.weights = model._weights(weights)
    return model


def loads(text: str, path: str = "<input>", weights=None) -> CompiledModel:
    """Like :func:`load`, for the text of a model."""
    from snnc.build import load_text

    if not isinstance(text, str):
        raise TypeError(f"loads takes the model's text as a str, not {type(text).__name__}"
                        + (" (decode the bytes first)" if isinstance(text, bytes) else ""))
    loaded = load_text(text, path)
    model = CompiledModel(loaded.graph, list(loaded.warnings), None)
    if weights is not None:
        model.weights = model._weights(weights)
    return model
