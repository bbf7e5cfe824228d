"""What the HLS backend builds for a quantised model: support checks, C identifiers, and one
:class:`LayerHLS` per layer (sizes, lanes, widths, its source and delay, its neuron's states).

Supported: ``dense`` and ``recurrent`` layers (bias, delay), every built-in spiking neuron kind
(IF, LIF, CubaLIF, ALIF, any reset, leak and refractory period; the adaptive spiking neuron ASN,
whose events carry a graded payload), user-defined neurons, any number of 1-D inputs with spike
encodings (rate, latency, delta) or ``direct`` (graded events), any layer as a source (a DAG, not
only a chain), outputs of any layers. Conv, pool and flatten layers, and the non-spiking ``ReLU``
unit (an ANN activation: convert the network with ``snnc convert`` first), are located
:class:`SnnError`.
"""
from __future__ import annotations

from dataclasses import dataclass

from snnc import intexpr as I
from snnc.backends.hardware_checks import structure_errors
from snnc import ir
from snnc.errors import SnnError, SnnErrors
from snnc.idents import sanitise
from snnc.intexpr import EMIT_KEY
from snnc.quantize import NeuronConsts, QuantizedModel
from snnc.types import Fixed

BUILTIN_KINDS = ("IF", "LIF", "CubaLIF", "ALIF", "ASN")

#: C++ keywords and names the generated code uses itself (a model name must not become one)
CPP_KEYWORDS = frozenset("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
char32_t class compl concept const consteval constexpr constinit const_cast continue co_await
co_return co_yield decltype default delete do double dynamic_cast else enum explicit export extern
false float for friend goto if inline int long mutable namespace new noexcept not not_eq nullptr
operator or or_eq private protected public register reinterpret_cast requires return short signed
sizeof static static_assert static_cast struct switch template this thread_local throw true try
typedef typeid typename union unsigned using virtual void volatile wchar_t while xor xor_eq
main in st cnt hls snn std ap_int ap_uint
""".split())

def c_ident(name: str, used: set[str] | None = None) -> str:
    """A C/C++ identifier for ``name`` (:func:`snnc.idents.sanitise`): keywords and names starting
    with ``snn`` (the generated code's own) get a suffix; a leading ``_`` never survives (names
    starting with ``_`` are reserved)."""
    return sanitise(name, used, lambda s: s in CPP_KEYWORDS or s.lower().startswith("snn"))


def bits_for(n: int) -> int:
    """Unsigned bits to hold 0 .. n (at least 1)."""
    return max(1, int(n).bit_length())


def input_address_bits(n_in: int) -> int:
    """The input event's address field: one bit more than the ``n_in`` input addresses need, so
    that addresses ``n_in .. 2**bits - 1`` (at least ``2 * n_in - 1``) reach ``snn_top``, which
    drops and counts them, instead of wrapping onto a valid address."""
    return bits_for(n_in - 1) + 1


@dataclass(frozen=True)
class InputHLS:
    name: str
    ident: str
    size: int
    offset: int          # first address of this input on the input event stream
    graded: bool         # direct encoding: events carry the quantised value


@dataclass(frozen=True)
class StateHLS:
    """One state variable of a layer's neurons as the testbench reads it back."""

    name: str            # the golden model's name (U, I, A, S, R, or a user state)
    field: str           # the C++ member of state_t
    width: int
    signed: bool
    fmt: Fixed | None    # saturating format (None for S and R)


@dataclass(frozen=True)
class LayerHLS:
    index: int
    name: str
    ident: str
    layer: object        # ir.Dense | ir.Recurrent
    n: int               # neurons
    m: int               # inputs (source size)
    p: int               # lanes
    source: str          # node name
    source_graded: bool  # the source's events carry a payload (a direct input, a graded layer)
    graded: bool         # this layer's events carry a payload (ASN or `emit`: the spike height)
    delay: int
    recurrent: bool
    bias: bool
    acc_bits: int
    acc_frac: int
    in_frac: int
    up: int              # shift of recurrent weights and bias to the accumulator fraction
    neuron: object       # NeuronConsts | IntProgram
    states: tuple        # StateHLS, in read-back order
    sat_names: tuple     # saturation counters (golden names), in read-back order

    @property
    def np_(self) -> int:
        """Neurons padded to a multiple of the lanes."""
        return -(-self.n // self.p) * self.p

    @property
    def words(self) -> int:
        return -(-self.n // self.p)

    @property
    def builtin(self) -> bool:
        return isinstance(self.neuron, NeuronConsts)

    @property
    def asn(self) -> bool:
        return isinstance(self.neuron, NeuronConsts) and self.neuron.kind == "ASN"


def layer_prefix(l: LayerHLS) -> str:
    """The prefix of a layer's C++ names: ``l<index>_<ident>`` (``W_l0_hidden``, ``st_l0_hidden``)."""
    return f"l{l.index}_{l.ident}"


def _not_supported(loc, what: str, hint: str | None = None) -> SnnError:
    return SnnError(loc, f"{what} is not supported by the HLS backend", hint)


def check_supported(qmodel: QuantizedModel) -> None:
    """Raise SnnErrors (located at the nodes) for everything the HLS backend cannot build."""
    g = qmodel.graph
    errors: list[SnnError] = []
    if not g.inputs:
        errors.append(SnnError(None, "the model has no inputs"))
    shape_errors, buildable = structure_errors(
        g, _not_supported, "the HLS backend builds dense and recurrent layers")
    errors += shape_errors
    for layer in buildable:
        neuron = qmodel.plan(layer.name).neuron
        if isinstance(neuron, NeuronConsts) and neuron.kind == "ReLU":
            errors.append(_not_supported(layer.loc, f"the non-spiking ReLU unit of layer "
                                                    f"'{layer.name}'",
                                         "ReLU is an ANN activation; turn the network into a "
                                         "spiking one with `snnc convert` (ASN or IF neurons)"))
        elif isinstance(neuron, NeuronConsts) and neuron.kind not in BUILTIN_KINDS:
            errors.append(_not_supported(layer.loc, f"the {neuron.kind} neuron of layer "
                                                    f"'{layer.name}'",
                                         "the HLS backend has IF, LIF, CubaLIF, ALIF, ASN and "
                                         "user-defined neurons"))
        elif not isinstance(neuron, (NeuronConsts, I.IntProgram)):
            errors.append(_not_supported(layer.loc, f"the neuron of layer '{layer.name}'"))
    if errors:
        raise SnnErrors(errors)


def _states(qmodel: QuantizedModel, neuron, used_fields: set[str]) -> tuple[tuple, tuple]:
    f = qmodel.formats
    if isinstance(neuron, NeuronConsts) and neuron.kind == "ASN":
        # the golden model's ASN states: U (input current), P (prediction), A (adaptation),
        # H (this step's event height, 0 without a spike), S (this step's spike)
        fm, fa = f.membrane, f.adaptation
        states = (StateHLS("U", "u", fm.width, fm.signed, fm),
                  StateHLS("P", "p", fm.width, fm.signed, fm),
                  StateHLS("A", "a", fa.width, fa.signed, fa),
                  StateHLS("H", "h", fm.width, fm.signed, fm),
                  StateHLS("S", "s", 1, False, None))
        return states, ("U", "P", "A", "H")
    if isinstance(neuron, NeuronConsts):
        states = [StateHLS("U", "u", f.membrane.width, f.membrane.signed, f.membrane)]
        sats = ["U"]
        if neuron.kind == "CubaLIF":
            states.append(StateHLS("I", "i", f.current.width, f.current.signed, f.current))
            sats.append("I")
        if neuron.kind == "ALIF":
            states.append(StateHLS("A", "a", f.adaptation.width, f.adaptation.signed,
                                   f.adaptation))
            sats.append("A")
        states.append(StateHLS("S", "s", 1, False, None))
        states.append(StateHLS("R", "r", bits_for(neuron.refractory), False, None))
        return tuple(states), tuple(sats)
    fm = f.membrane
    states = []
    for name, _ in neuron.states:
        states.append(StateHLS(name, "x_" + c_ident(name, used_fields), fm.width, fm.signed, fm))
    names = tuple(s.name for s in states)
    if neuron.emit is not None:
        # a graded user neuron: this step's event height (the payload), as an ASN's H
        states.append(StateHLS(EMIT_KEY, "h", fm.width, fm.signed, fm))
        names += (EMIT_KEY,)
    states.append(StateHLS("S", "s", 1, False, None))
    return tuple(states), names


def plan_layers(qmodel: QuantizedModel, lanes: int | None = None) -> tuple[list[InputHLS],
                                                                          list[LayerHLS]]:
    """Check support and lay out the inputs (one address space, in graph order) and layers."""
    check_supported(qmodel)
    g = qmodel.graph
    if lanes is not None and not 1 <= lanes <= ir.MAX_LANES:
        raise ValueError(f"lanes must be between 1 and {ir.MAX_LANES}, not {lanes}")
    used: set[str] = set()
    inputs, offset = [], 0
    for inp in g.inputs:
        size = int(inp.shape[0])
        inputs.append(InputHLS(inp.name, c_ident(inp.name, used), size, offset,
                               isinstance(inp.encoding, ir.Direct)))
        offset += size
    sizes = {i.name: i.size for i in inputs}
    layers = []
    wf = qmodel.formats.weights.frac
    for k, layer in enumerate(g.layers):
        plan = qmodel.plan(layer.name)
        states, sats = _states(qmodel, plan.neuron, set())
        layers.append(LayerHLS(
            index=k, name=layer.name, ident=c_ident(layer.name, used), layer=layer,
            n=int(layer.units), m=sizes[layer.source], p=ir.lanes_of(g, layer, lanes),
            source=layer.source,
            source_graded=g.graded(layer.source) is not None,
            graded=g.graded(layer.name) is not None, delay=int(layer.delay),
            recurrent=isinstance(layer, ir.Recurrent), bias=bool(layer.bias),
            acc_bits=plan.acc_bits, acc_frac=plan.acc_frac, in_frac=plan.in_frac,
            up=plan.acc_frac - wf, neuron=plan.neuron, states=states, sat_names=sats))
        sizes[layer.name] = int(layer.units)
    return inputs, layers


def output_layers(qmodel: QuantizedModel, layers: list[LayerHLS]) -> list[LayerHLS]:
    """The layers whose spikes leave on the output stream (graph outputs, first occurrence),
    their addresses concatenated in this order."""
    by_name = {l.name: l for l in layers}
    out, seen = [], set()
    for o in qmodel.graph.outputs:
        if o.source not in seen:
            seen.add(o.source)
            out.append(by_name[o.source])
    return out
