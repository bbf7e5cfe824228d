"""What a simulation returns: readouts, predictions, statistics, final states and traces.

Shared by the float simulator and the golden model (docs/semantics.md sections 5 and 6).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Readout:
    """The readouts of one output layer, neurons flattened row-major to ``N``.

    ``count`` [B, N] int64: spikes summed over steps; ``membrane`` [B, N]: the membrane after each
    step's update summed over steps (float64, or int64 in membrane units in the golden model);
    ``first_spike`` [B, N] int64: first step with a spike, ``steps`` if none. ``readout`` is the
    output's declared kind (``count``, ``membrane`` or ``first_spike``).
    """

    readout: str
    count: np.ndarray
    membrane: np.ndarray
    first_spike: np.ndarray

    @property
    def value(self) -> np.ndarray:
        """The declared readout."""
        return getattr(self, self.readout)


@dataclass
class LayerStats:
    """Statistics of one node over the whole batch (docs/semantics.md section 6).

    ``spikes``: spikes emitted (for an input: its events, i.e. non-zero values; for flatten: the
    spikes it copies); ``sops``: synaptic operations, every delivered input event times the number of
    synapses it reaches (plus delivered recurrent events times ``units``); ``saturation``: clamps per
    state (``U``, ``I``, ``A``, a user neuron's state names, ``inputs`` for direct inputs);
    ``macs``: multiply-accumulates of the equivalent ANN for *one* inference (one sample).
    """

    spikes: int = 0
    sops: int = 0
    saturation: dict[str, int] = field(default_factory=dict)
    macs: int = 0
    #: float arithmetic only: neurons (over the batch) whose state became inf or NaN (an
    #: overflowing neuron; their spikes after it are not meaningful)
    nonfinite: int = 0

    def as_dict(self) -> dict:
        return {"spikes": self.spikes, "sops": self.sops, "saturation": dict(self.saturation),
                "macs": self.macs, "nonfinite": self.nonfinite}


@dataclass
class SimResult:
    """The result of simulating a batch of ``batch`` samples for ``steps`` steps.

    * ``outputs``: output layer name -> :class:`Readout`.
    * ``predictions``: [B] int64 class of each sample from the first output (section 5 tie rules).
    * ``stats``: node name (inputs and layers, graph order) -> :class:`LayerStats`; ``totals`` sums
      the layers' (flatten and inputs excluded from ``spikes``; input saturation included).
    * ``final_state``: layer name -> state name -> [B, *shape] array after the last step
      (``U``, ``I``, ``A``, ``S``, ``R`` for built-in neurons, ``U``, ``P``, ``A``, ``H``, ``S`` for
      ASN (input current, self-prediction, adaptation, last height), ``U``, ``H``, ``S`` for ReLU;
      the state variables and ``S`` for user-defined ones; empty for flatten).
    * ``spikes`` (``record=True``): node name -> [T, B, *shape] uint8 spikes (for a direct input:
      its values, float64 or the quantised int64).
    * ``membranes`` (``record=True``): layer name -> [T, B, *shape] membrane after each step
      (a user neuron's first state; an ASN's input current ``U``; a ReLU's input).
    * ``payloads`` (``record=True``): graded layer (ASN, ReLU) -> [T, B, *shape] the value each
      event carries (0 without an event; float64, or int64 in membrane units); their ``spikes`` are
      the events (uint8).
    * ``held`` (``record=True``): a held input (``direct(hold = true)``) or a flatten of one ->
      [T, B, *shape] the changes of its values, which its events carry (its ``spikes`` are the
      values); empty without one.
    """

    arithmetic: str                     # "float" or "golden"
    steps: int
    batch: int
    outputs: dict[str, Readout]
    predictions: np.ndarray
    stats: dict[str, LayerStats]
    totals: LayerStats
    final_state: dict[str, dict[str, np.ndarray]]
    spikes: dict[str, np.ndarray] | None = None
    membranes: dict[str, np.ndarray] | None = None
    payloads: dict[str, np.ndarray] | None = None
    held: dict[str, np.ndarray] | None = None

    def delivered(self, name: str) -> np.ndarray:
        """What node ``name`` sends downstream, [T, B, *shape] (``record=True``): a graded layer's
        payloads, a held input's changes, else its spikes or input values. Section 6 counts a SOP
        per non-zero value, so an event of height 0 (a graded user neuron's) costs none, though it
        is an event."""
        if self.spikes is None:
            raise ValueError("delivered() needs the recorded events: simulate with record=True")
        if self.payloads is not None and name in self.payloads:
            return self.payloads[name]
        if self.held is not None and name in self.held:
            return self.held[name]
        if name not in self.spikes:             # was a bare KeyError
            raise KeyError(f"no node '{name}' in the result (its nodes: "
                           f"{', '.join(self.spikes)})")
        return self.spikes[name]


def make_readout(kind: str, spikes: np.ndarray, membrane_sum: np.ndarray) -> Readout:
    """Readouts from spikes [T, B, *shape] and the summed membrane [B, *shape]."""
    steps, batch = spikes.shape[:2]
    s = spikes.reshape(steps, batch, -1)
    count = s.sum(axis=0, dtype=np.int64)
    fired = s.any(axis=0)
    first = np.where(fired, np.argmax(s, axis=0), steps).astype(np.int64)
    return Readout(kind, count, membrane_sum.reshape(batch, -1).copy(), first)


def _first_of_best(primary: np.ndarray, secondary: np.ndarray | None = None) -> np.ndarray:
    """Per row, the lowest index maximising ``primary``, ties broken by the largest ``secondary``."""
    best = primary == primary.max(axis=1, keepdims=True)
    if secondary is not None:
        low = -np.inf if secondary.dtype.kind == "f" else np.iinfo(np.int64).min
        masked = np.where(best, secondary, low)
        best &= masked == masked.max(axis=1, keepdims=True)
    return np.argmax(best, axis=1).astype(np.int64)


def predict(r: Readout) -> np.ndarray:
    """The predicted class per sample (docs/semantics.md section 5)."""
    if r.readout == "count":
        return _first_of_best(r.count, r.membrane)
    if r.readout == "membrane":
        return _first_of_best(r.membrane)
    if r.readout == "first_spike":
        return _first_of_best(-r.first_spike, r.count)
    raise ValueError(f"unknown readout {r.readout!r}")


def totals(stats: dict[str, LayerStats], layer_names: set[str], copies: set[str]) -> LayerStats:
    """Sum of the layers' statistics; ``copies`` (flatten) emit no spikes of their own."""
    out = LayerStats()
    for name, s in stats.items():
        if name in layer_names and name not in copies:
            out.spikes += s.spikes
        out.sops += s.sops
        out.macs += s.macs
        out.nonfinite += s.nonfinite
        for k, v in s.saturation.items():
            out.saturation[k] = out.saturation.get(k, 0) + v
    return out
