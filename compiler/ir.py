"""The typed graph: small frozen dataclasses, one per input encoding, neuron kind, layer and readout.

A :class:`Graph` is plain data. It is built from a checked ``.snn`` file by :func:`snnc.build.build`,
checked again by :meth:`Graph.verify`, written as JSON by :mod:`snnc.serialize`, and compiled or
simulated by functions in ``snnc.backends`` -- never by methods here.

All physical values are SI floats (seconds, hertz). Time advances in ``steps`` steps of ``dt``.
The normative meaning of every node, float and integer, is ``docs/semantics.md``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from snnc.errors import Loc
from snnc.expr import Assignment, Expr
from snnc.types import Fixed

RESETS = ("subtract", "zero", "none")
LEAKS = ("multiply", "shift")
READOUTS = ("count", "membrane", "first_spike")

_LOC = field(default=None, compare=False, repr=False)


class Located(float):
    """A built-in neuron's parameter value that remembers where it was written (``loc``), so that
    the quantizer can point at it (a threshold the membrane format cannot hold). It is the plain
    float in every other respect: equality, hash, JSON, and any arithmetic on it."""

    __slots__ = ("loc",)

    def __new__(cls, value: float, loc: Loc | None):
        self = super().__new__(cls, value)
        self.loc = loc
        return self

    def __reduce__(self):
        return Located, (float(self), self.loc)


def loc_of(value, default: Loc | None) -> Loc | None:
    """Where ``value`` was written (a :class:`Located` value), else ``default``."""
    return getattr(value, "loc", None) or default


@dataclass(frozen=True)
class TimeSpec:
    """Simulated time: ``steps`` steps of ``dt`` seconds."""

    dt: float
    steps: int


# ------------------------------------------------------------------ input encodings


@dataclass(frozen=True)
class Rate:
    """Bernoulli rate coding: each step, ``s[t] = (u[t] < p)`` with ``p = clip(gain * x, 0, 1)``."""

    gain: float = 1.0


@dataclass(frozen=True)
class Latency:
    """Time-to-first-spike coding: one spike at step ``round((1 - x) * (steps - 1))`` if ``x > threshold``."""

    threshold: float = 0.01


@dataclass(frozen=True)
class Delta:
    """Delta coding of a sequence ``x[t]``: spike when ``x[t] - ref >= threshold`` (a rise), and
    ``ref = x[t]`` after any change of at least ``threshold`` either way (falls are not signalled)."""

    threshold: float = 0.1


@dataclass(frozen=True)
class Direct:
    """Real values injected as input current every step: ``I[t] = scale * x``.

    ``hold``: the same values, sent as their changes. The events of step ``t`` carry
    ``q[t] - q[t-1]`` (``q`` the values in the ``inputs`` format, ``q[-1] = 0``; only the non-zero
    ones are events), and each layer reading the input keeps its accumulator from step to step, so
    it holds ``W q[t]`` as with plain ``direct``: the states and spikes are the same, but a static
    input costs its synaptic operations once, not at every step.
    """

    scale: float = 1.0
    hold: bool = False


Encoding = Union[Rate, Latency, Delta, Direct]


@dataclass(frozen=True)
class Input:
    name: str
    shape: tuple[int, ...]
    encoding: Encoding
    loc: Loc | None = _LOC


# ------------------------------------------------------------------ neurons


@dataclass(frozen=True)
class IF:
    """Integrate-and-fire: ``U[t] = U[t-1] + I[t]``; ``S[t] = H(U[t] - threshold)``; then reset.

    ``reset``: ``subtract`` (U -= threshold), ``zero`` (U = 0) or ``none``. After a spike the neuron
    ignores input for ``refractory`` steps.
    """

    threshold: float = 1.0
    reset: str = "subtract"
    refractory: int = 0


@dataclass(frozen=True)
class LIF:
    """Leaky integrate-and-fire: ``U[t] = b*U[t-1] + I[t]``, ``b = exp(-dt/tau_mem)``; spike and reset as IF.

    ``leak`` says how the integer model applies ``b``: ``multiply`` by a quantised constant or
    ``shift`` (``U - (U >> k)`` with ``2**-k`` the closest power of two to ``1 - b``); None means the
    hardware block's ``decay`` setting.
    """

    tau_mem: float
    threshold: float = 1.0
    reset: str = "subtract"
    refractory: int = 0
    leak: str | None = None


@dataclass(frozen=True)
class CubaLIF:
    """Current-based LIF: ``I[t] = a*I[t-1] + W s[t]``, ``U[t] = b*U[t-1] + I[t]``.

    ``a = exp(-dt/tau_syn)``, ``b = exp(-dt/tau_mem)``; spike and reset act on ``U`` as in LIF.
    """

    tau_mem: float
    tau_syn: float
    threshold: float = 1.0
    reset: str = "subtract"
    refractory: int = 0
    leak: str | None = None


@dataclass(frozen=True)
class ALIF:
    """Adaptive-threshold LIF: ``U[t] = b*U[t-1] + I[t]``, ``A[t] = r*A[t-1] + S[t-1]``,
    ``theta[t] = threshold + beta*A[t]``, ``S[t] = H(U[t] - theta[t])``.

    ``r = exp(-dt/tau_adapt)``; a subtractive reset removes ``theta[t]``.
    """

    tau_mem: float
    tau_adapt: float
    beta: float = 1.8
    threshold: float = 1.0
    reset: str = "subtract"
    refractory: int = 0
    leak: str | None = None


@dataclass(frozen=True)
class ASN:
    """Adaptive spiking neuron (sigma-delta; Zambrano & Bohte 2016), graded spikes. Per step:

    ``U[t] = b*U[t-1] + I[t]`` (the input current ``S`` of the paper, ``b = exp(-dt/tau_beta)``;
    ``I[t] = W h_in[t]``, the weighted *heights* of the incoming spikes),
    ``A = g*A`` (``g = exp(-dt/tau_gamma)``), ``P = e*P`` (the self-prediction ``S^``,
    ``e = exp(-dt/tau_eta)``), ``theta = threshold + A``, ``S[t] = H(U - P - theta/2)``; where it
    spikes, the spike carries the height ``h = theta``, and ``P += h``, ``A += m_f*h``.

    ``tau_eta`` None means ``tau_beta`` (the downstream decoding kernel, when all layers use the same
    one). ``leak`` as for LIF.
    """

    tau_beta: float
    threshold: float = 0.1
    m_f: float = 0.1
    tau_gamma: float = 0.015
    tau_eta: float | None = None
    leak: str | None = None

    @property
    def eta(self) -> float:
        """The self-prediction's time constant (``tau_eta``, default ``tau_beta``)."""
        return self.tau_eta if self.tau_eta is not None else self.tau_beta


@dataclass(frozen=True)
class ReLU:
    """A non-spiking rectified linear unit, for ANNs written as ``.snn`` models (and converted by
    ``snnc convert``): ``U[t] = I[t]``, the output is the graded value ``h[t] = max(U[t], 0)``."""


@dataclass(frozen=True)
class StateVar:
    name: str
    init: Expr


@dataclass(frozen=True)
class CustomNeuron:
    """A user-defined neuron. Each step: run ``update`` (in order, ``input`` is this step's synaptic
    input), spike where ``spike`` holds, then run ``on_spike`` where it spiked.

    ``params`` holds the values after the layer's overrides, in declaration order. ``emit`` is the
    height of its spikes (``spike when ... emit HEIGHT``), evaluated where it spiked right after the
    spike test and before ``on_spike``: the neuron then sends graded events like an ASN (its
    consumers multiply each weight by the height); None: plain spikes (height 1).
    """

    name: str
    params: tuple[tuple[str, float], ...]
    states: tuple[StateVar, ...]
    update: tuple[Assignment, ...]
    spike: Expr
    on_spike: tuple[Assignment, ...]
    emit: Expr | None = None
    #: each parameter's declared kind (``time``, ``voltage``, ``frequency``, ``real``, ``int``),
    #: for showing its value with its unit; changes no result (not hashed)
    param_kinds: tuple[tuple[str, str], ...] | None = field(default=None, compare=False)

    def param(self, name: str) -> float:
        return dict(self.params)[name]


Neuron = Union[IF, LIF, CubaLIF, ALIF, ASN, ReLU, CustomNeuron]

#: Neuron kinds whose output events carry a value (graded spikes) rather than a plain 1 (and a
#: user-defined neuron with ``emit``: see :func:`is_graded`).
GRADED_NEURONS = (ASN, ReLU)


def is_graded(neuron) -> bool:
    """Whether the neuron's events carry a value in membrane units (ASN heights, ReLU values, the
    ``emit`` height of a user-defined neuron) rather than a plain 1."""
    if isinstance(neuron, CustomNeuron):
        return neuron.emit is not None
    return isinstance(neuron, GRADED_NEURONS)


def neuron_kind(neuron: Neuron) -> str:
    return neuron.name if isinstance(neuron, CustomNeuron) else type(neuron).__name__


# ------------------------------------------------------------------ surrogate gradients


@dataclass(frozen=True)
class Surrogate:
    """The derivative training uses in place of the Heaviside step's: a name and its parameters."""

    name: str
    params: tuple[tuple[str, float], ...] = ()


# ------------------------------------------------------------------ layers


@dataclass(frozen=True)
class Dense:
    """``I[t] = W s_in[t - delay] (+ bias)``, ``W`` of shape ``[units, in]``, into ``units`` neurons.

    ``lanes``: neurons the accelerator updates per cycle in this layer (``None``: the hardware
    block's); a mapping choice that changes no result.
    """

    name: str
    source: str
    in_shape: tuple[int, ...]
    units: int
    neuron: Neuron
    bias: bool = False
    delay: int = 0
    surrogate: Surrogate | None = None
    loc: Loc | None = _LOC
    lanes: int | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.units,)


@dataclass(frozen=True)
class Recurrent:
    """Dense plus a self-connection from the previous step: ``I[t] = W s_in[t - delay] + V s_out[t-1]``.

    ``V`` has shape ``[units, units]``; ``lanes`` as for :class:`Dense`.
    """

    name: str
    source: str
    in_shape: tuple[int, ...]
    units: int
    neuron: Neuron
    bias: bool = False
    delay: int = 0
    surrogate: Surrogate | None = None
    loc: Loc | None = _LOC
    lanes: int | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.units,)


@dataclass(frozen=True)
class Conv2d:
    """``I[t] = conv2d(s_in[t - delay], W)``, ``W`` of shape ``[channels, in_channels, kh, kw]``.

    Input ``[C, H, W]``; output ``[channels, (H + 2*ph - kh) // sh + 1, (W + 2*pw - kw) // sw + 1]``.
    """

    name: str
    source: str
    in_shape: tuple[int, ...]
    channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    neuron: Neuron
    bias: bool = False
    delay: int = 0
    surrogate: Surrogate | None = None
    loc: Loc | None = _LOC

    @property
    def shape(self) -> tuple[int, ...]:
        c, h, w = self.in_shape
        oh = (h + 2 * self.padding[0] - self.kernel[0]) // self.stride[0] + 1
        ow = (w + 2 * self.padding[1] - self.kernel[1]) // self.stride[1] + 1
        return (self.channels, oh, ow)


@dataclass(frozen=True)
class Pool:
    """Fixed-weight pooling into neurons: ``I[t] = sum`` (``mode = sum``) or ``mean`` (``avg``) of each
    ``kernel`` window of ``s_in[t - delay]``, per channel. No trainable weights."""

    name: str
    source: str
    in_shape: tuple[int, ...]
    mode: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    neuron: Neuron
    delay: int = 0
    surrogate: Surrogate | None = None
    loc: Loc | None = _LOC

    @property
    def shape(self) -> tuple[int, ...]:
        c, h, w = self.in_shape
        return (c, (h - self.kernel[0]) // self.stride[0] + 1, (w - self.kernel[1]) // self.stride[1] + 1)


@dataclass(frozen=True)
class Flatten:
    """Reshape ``[C, H, W]`` spikes to ``[C*H*W]`` (row-major); no neurons, no delay."""

    name: str
    source: str
    in_shape: tuple[int, ...]
    loc: Loc | None = _LOC

    @property
    def shape(self) -> tuple[int, ...]:
        n = 1
        for d in self.in_shape:
            n *= d
        return (n,)


Layer = Union[Dense, Recurrent, Conv2d, Pool, Flatten]


def weight_shapes(layer: Layer) -> dict[str, tuple[int, ...]]:
    """The trainable tensors of a layer and their shapes (the weights file uses these names)."""
    if isinstance(layer, Dense):
        shapes = {"weight": (layer.units, layer.in_shape[0])}
    elif isinstance(layer, Recurrent):
        shapes = {"weight": (layer.units, layer.in_shape[0]), "recurrent": (layer.units, layer.units)}
    elif isinstance(layer, Conv2d):
        shapes = {"weight": (layer.channels, layer.in_shape[0], *layer.kernel)}
    elif isinstance(layer, (Pool, Flatten)):
        return {}
    else:
        raise TypeError(f"unknown layer type {type(layer).__name__}")
    if layer.bias:
        shapes["bias"] = (layer.shape[0],)
    return shapes


def parameter_count(layer: Layer) -> int:
    total = 0
    for shape in weight_shapes(layer).values():
        n = 1
        for d in shape:
            n *= d
        total += n
    return total


# ------------------------------------------------------------------ outputs, training, hardware


@dataclass(frozen=True)
class Output:
    """A readout of a layer: ``count`` (spikes summed over time), ``membrane`` (membrane potential
    summed over time) or ``first_spike`` (step of the first spike; ``steps`` if none)."""

    source: str
    readout: str
    loc: Loc | None = _LOC


@dataclass(frozen=True)
class TrainSpec:
    surrogate: Surrogate
    loss: str
    optimizer: str
    lr: float
    epochs: int
    batch_size: int
    dataset: str | None = None
    seed: int = 0
    spike_reg: float = 0.0
    tbptt: int = 0
    schedule: str = "none"


@dataclass(frozen=True)
class HardwareSpec:
    weights: Fixed
    membrane: Fixed
    current: Fixed
    adaptation: Fixed
    inputs: Fixed
    lanes: int
    clock: float
    device: str
    decay: str = "multiply"
    leak_digits: int | None = None      # multiply leak: coefficients of at most N signed digits


#: Lanes of a layer when neither it, the command line nor the hardware block says.
DEFAULT_LANES = 4

#: The clock of a model without a hardware block: the block's default `clock` (50 MHz).
DEFAULT_CLOCK_HZ = 50e6


def default_lanes(graph: "Graph", default: int | None = None) -> int:
    """Lanes of the layers without their own: ``default`` (a command line's ``--lanes``), else the
    hardware block's ``lanes``, else 4."""
    if default is not None:
        if isinstance(default, bool) or not isinstance(default, int):   # 2.5 was read as 2
            raise TypeError(f"lanes must be an integer, not {default!r}")
        return default
    if graph.hardware is not None and graph.hardware.lanes:
        return graph.hardware.lanes
    return DEFAULT_LANES


MAX_LANES = 64       # the language's range of `lanes` (hardware block and layers)
#: the deepest event FIFO the Verilog generator builds (a block RAM's worth of events and more;
#: the Verilog parameter is a 32-bit integer)
MAX_FIFO_DEPTH = 1 << 16


def lanes_of(graph: "Graph", layer, default: int | None = None) -> int:
    """Neurons the accelerator updates per cycle in ``layer``: its own ``lanes``, else
    :func:`default_lanes`."""
    own = getattr(layer, "lanes", None)
    lanes = own if own is not None else default_lanes(graph, default)
    if not 1 <= lanes <= MAX_LANES:
        raise ValueError(f"lanes must be between 1 and {MAX_LANES}, not {lanes}")
    return int(lanes)


def every_layer_sets_lanes(graph: "Graph") -> bool:
    """Whether every layer that :func:`lanes_of` applies to (all but flatten layers) has its own
    ``lanes``: a default (``--lanes``, the hardware block's) then changes nothing."""
    layers = [layer for layer in graph.layers if not isinstance(layer, Flatten)]
    return bool(layers) and all(getattr(layer, "lanes", None) is not None for layer in layers)


def lanes_by_layer(graph: "Graph", default: int | None = None) -> dict[str, int]:
    """:func:`lanes_of` of every layer but flatten layers (wiring), in graph order."""
    return {layer.name: lanes_of(graph, layer, default) for layer in graph.layers
            if not isinstance(layer, Flatten)}


def describe_lanes(by_layer: dict[str, int]) -> str:
    """``"4 lane(s) per layer"`` when every layer has the same, else ``"lanes per layer: hidden
    4, out 1"``."""
    values = set(by_layer.values())
    if len(values) <= 1:
        return f"{values.pop() if values else DEFAULT_LANES} lane(s) per layer"
    return "lanes per layer: " + ", ".join(f"{name} {p}" for name, p in by_layer.items())


def describe_narrow_sweeps(lanes_by_layer: dict[str, int], units_by_layer: dict[str, int]) -> str:
    """``"b 2, c 1 sweep unit(s)"``: the layers whose sweep units (the Verilog core's ``SU``) are
    fewer than their lanes; empty when none are."""
    narrow = [f"{name} {su}" for name, su in units_by_layer.items()
              if su < lanes_by_layer.get(name, su)]
    return f"{', '.join(narrow)} sweep unit(s)" if narrow else ""


@dataclass(frozen=True)
class Graph:
    name: str
    time: TimeSpec
    inputs: tuple[Input, ...]
    layers: tuple[Layer, ...]          # in topological order
    outputs: tuple[Output, ...]
    train: TrainSpec | None = None
    hardware: HardwareSpec | None = None

    def node(self, name: str) -> Input | Layer:
        for n in self.inputs + self.layers:
            if n.name == name:
                return n
        raise KeyError(name)

    def shape_of(self, name: str) -> tuple[int, ...]:
        return self.node(name).shape

    def graded(self, name: str) -> str | None:
        """What the events of node ``name`` carry: ``"inputs"`` (direct-encoded input values),
        ``"membrane"`` (ASN heights / ReLU values / user ``emit`` heights, membrane units) or None (plain spikes)."""
        node = self.node(name)
        if isinstance(node, Input):
            return "inputs" if isinstance(node.encoding, Direct) else None
        if isinstance(node, Flatten):
            return self.graded(node.source)
        return "membrane" if is_graded(node.neuron) else None

    def held(self, name: str) -> bool:
        """Whether node ``name`` is a ``direct(hold = true)`` input, or a flatten of one: its
        events are its values' changes, and the layers reading it keep their accumulators."""
        node = self.node(name)
        if isinstance(node, Input):
            return isinstance(node.encoding, Direct) and node.encoding.hold
        if isinstance(node, Flatten):
            return self.held(node.source)
        return False

    def verify(self) -> None:
        """Check the graph's invariants; raises SnnErrors naming the node at fault."""
        from snnc.verify import verify_graph

        verify_graph(self)
