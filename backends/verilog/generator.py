"""The Verilog backend: a quantised model -> ``snn_top`` built from the hand-written library.

``generate(qmodel, out_dir)`` writes into ``out_dir``:

* ``snn_top.v`` — the top module, built line by line from the graph: one input FIFO and one
  ``snn_layer_core`` per dense or recurrent layer (a FIFO in front of every core), the input event
  stream in, the output layer's spike stream out, a weight write port (memory selected by layer
  index and, when the model has recurrent layers or biases, by the two bits of ``w_addr`` above
  the word address: 0 weights, 1 recurrent weights, 2 biases) and a state read port selected by
  layer index, ``idle``, the output layer's ``step_count`` and the saturation counters of the
  layer selected by ``rd_layer``;
* ``w_<layer>.mem`` — each layer's weight memory image (``$readmemh``, ``snnc.hw.write_memh``),
  ``v_<layer>.mem`` the recurrent weights of a recurrent layer, ``b_<layer>.mem`` the biases of a
  layer with ``bias = true`` (same word layout, one row); ``<layer>`` is the layer's identifier
  (cut to 100 characters with a digest; a suffix where two differ only in case);
* copies of the library files the top needs (``snnc.hw.sources``);
* ``manifest.json`` — ports, per-layer parameters, memory map, formats and the cycle bound.

Supported: a chain of ``dense`` and ``recurrent`` layers (docs/semantics.md section 1: a recurrent
core feeds its own spikes of step ``t`` back as events of step ``t + 1`` through its second weight
memory), with or without ``bias``, fed by one input, spike-encoded (rate, latency, delta) or
``direct`` (graded events: the payload is the value quantised to the ``inputs`` format, signed, one
bit wider for an unsigned ``ufixed`` format), built-in neurons (IF, LIF, CubaLIF, ALIF) with any
reset, leak and refractory period, and adaptive spiking neurons (ASN, ``KIND = 4``), whose spikes
are graded events carrying their height ``h`` (membrane units, ``U_W`` bits signed) to the next
core (``GRADED = 1``, ``IN_PW = U_W``), axonal delays (``delay = d``: an ``snn_step_delay``
in place of the layer's FIFO), and user-defined neurons (``KIND = 5``): each such layer's integer
program is lowered (:mod:`snnc.backends.verilog.userneuron`) to a combinational module of
``hw/snn_op_*`` primitives in ``snn_user.v``, which also holds ``snn_user_neuron``, the module the
core instantiates and which dispatches on the core's ``USER_ID`` (the layer index); a graded one
(``emit``) sends its heights as graded events like an ASN. Not yet: conv / pool / flatten layers,
ReLU units, unsigned weight / state formats, other topologies, user-defined neurons with more
than five clamp-counted values (states, and the height of a graded one) or intermediates beyond
64 bits; each is a located :class:`SnnError`.

Graded payloads in the manifest: ``ports`` gives ``s_payload`` / ``m_payload`` widths; each layer
entry has ``kind``, ``graded_input`` (its events multiply the weights by their signed payload),
``payload`` (``width``, ``signed`` and ``graded`` of its output events: an ASN layer's carry ``h``,
the others 1), ``saturation`` (the state names its counters report, on the ``sat_<k>_count`` ports),
``membrane`` (the state field a membrane readout sums: ``U``, or a user neuron's first state),
``user_neuron`` (its name, module and states, or None) and, in ``state.fields``, the per-kind
layout of a state word (ASN: ``U, P, A, S, H``; a user neuron: its states by name, ``S``, then
``emit`` (the height) when graded, else a 1-bit ``pad``). The top has ``sat_p_count`` and
``sat_h_count`` ports only when a layer counts with them (an ASN, a user neuron with four or more
states or graded events).
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snnc import ir
from snnc.backends.verilog.emitter import CodeBuilder, verilog_ident
from snnc.backends.verilog.userneuron import (USER_KIND, UserHW, UserLoweringError,
                                              lower_program, user_file)
from snnc.errors import SnnError, SnnErrors
from snnc.quantize import NeuronConsts, QuantizedModel

TOP = "snn_top"
MANIFEST_FORMAT = "snnc-verilog"
MANIFEST_VERSION = 1
DEFAULT_FIFO_DEPTH = 16
#: the deepest event FIFO the generator builds (a block RAM's worth of events and more; the
#: Verilog parameter is a 32-bit integer)
MAX_FIFO_DEPTH = 1 << 16
CNT_W = 32
#: extra cycles per layer and step in the cycle bound (token hand-over, pipeline fill)
STEP_OVERHEAD = 4
#: ``KIND`` of the adaptive spiking neuron in ``snn_neuron_unit`` (the built-in kinds' codes are
#: ``snnc.hw.KIND_CODES``)
ASN_KIND = 4
#: the optional state fields a neuron kind keeps between steps (U and S_prev are always stored;
#: R for the built-in kinds, P and H for the ASN); ``ST_I`` / ``ST_A`` of the core select I and
#: A; a kind not listed here stores every field
KIND_STATE = {"IF": (), "LIF": (), "CubaLIF": ("I",), "ALIF": ("A",), "ASN": ("A",)}


def _bits(n: int) -> int:
    """Bits to hold the values 0 .. n (at least 1)."""
    return max(1, int(n).bit_length())


def _clog2(n: int) -> int:
    return max(0, (int(n) - 1).bit_length())


def _not_supported(loc, what: str, hint: str | None = None) -> SnnError:
    return SnnError(loc, f"{what} is not supported by the Verilog backend yet", hint)


@dataclass(frozen=True)
class LayerHW:
    """One layer core as generated."""

    index: int
    name: str
    ident: str
    n: int            # neurons
    m: int            # inputs
    p: int            # lanes
    in_aw: int
    out_aw: int
    params: dict      # snn_layer_core parameters (WEIGHT_FILE included, unquoted)
    weight_file: str
    words: list
    rec_file: str = ""        # recurrent weights (recurrent layers)
    rec_words: tuple = ()
    bias_file: str = ""       # biases (bias = true)
    bias_words: tuple = ()
    kind: str = "LIF"         # the neuron kind (IF, LIF, CubaLIF, ALIF, ASN, user)
    delay: int = 0            # axonal delay of the layer's input, in steps (snn_step_delay)
    steps: int = 1            # the model's time steps
    user: UserHW | None = None    # a user-defined neuron: its lowered datapath

    @property
    def graded_out(self) -> bool:
        """Whether the layer's events carry a value (ASN, graded user neurons)."""
        return self.asn or (self.user is not None and self.user.graded)

    @property
    def sat_map(self) -> dict:
        """State name -> the letter ``k`` of the core's ``sat_<k>_count`` that counts its
        clamps."""
        if self.user is not None:
            return dict(self.user.sat_map)
        return {k: k.lower() for k in self.sat_keys}

    @property
    def in_pw(self) -> int:
        return int(self.params["IN_PW"])

    @property
    def out_pw(self) -> int:
        return int(self.params["OUT_PW"])

    @property
    def asn(self) -> bool:
        return self.kind == "ASN"

    @property
    def sat_keys(self) -> list[str]:
        """The states whose clamps the core counts (``sat_<k>_count``)."""
        if self.user is not None:
            return list(self.user.sat_map)
        return ["U", "P", "A", "H"] if self.asn else ["U", "I", "A"]

    @property
    def rec(self) -> bool:
        return bool(self.params.get("REC"))

    @property
    def bias(self) -> bool:
        return bool(self.params.get("BIAS"))

    @property
    def nw(self) -> int:
        return -(-self.n // self.p)

    @property
    def wa_w(self) -> int:
        """Width of the core's write address: its largest memory (W, or V when N > M)."""
        rows = max(self.m, self.n) if self.rec else self.m
        return max(1, _clog2(rows * self.nw))

    @property
    def kw(self) -> int:
        return max(1, _clog2(self.nw))

    @property
    def state_layout(self) -> list[tuple[str, int, bool]]:
        """The stored fields of one lane, low bits first (the core's ST_I / ST_A select I, A)."""
        pr = self.params
        if self.user is not None:
            from snnc.intexpr import EMIT_KEY

            return [(name, pr["U_W"], True) for name, _ in self.user.states] + \
                [("S", 1, False)] + \
                ([(EMIT_KEY, pr["U_W"], True)] if self.user.graded else [("pad", 1, False)])
        if self.asn:
            return [("U", pr["U_W"], True), ("P", pr["U_W"], True)] + \
                ([("A", pr["A_W"], True)] if pr.get("ST_A", 1) else []) + \
                [("S", 1, False), ("H", pr["U_W"], True)]
        return [("U", pr["U_W"], True)] + \
            ([("I", pr["I_W"], True)] if pr.get("ST_I", 1) else []) + \
            ([("A", pr["A_W"], True)] if pr.get("ST_A", 1) else []) + \
            [("S", 1, False), ("R", pr["R_W"], False)]

    @property
    def state_bits(self) -> int:
        return sum(w for _, w, _ in self.state_layout)


def check_supported(qmodel: QuantizedModel) -> None:
    """Raise SnnErrors (located at the layers) for everything this backend cannot build yet."""
    g = qmodel.graph
    errors: list[SnnError] = []
    if len(g.inputs) != 1:
        errors.append(_not_supported(g.inputs[1].loc if len(g.inputs) > 1 else None,
                                     f"a model with {len(g.inputs)} inputs"))
    for inp in g.inputs:
        if len(inp.shape) != 1:
            errors.append(_not_supported(inp.loc, f"input '{inp.name}' of shape "
                                                  f"{list(inp.shape)} (only 1-D inputs)"))
    if not g.layers:
        errors.append(SnnError(None, "the model has no layers"))
    prev = g.inputs[0].name if g.inputs else None
    for layer in g.layers:
        kind = type(layer).__name__.lower()
        if isinstance(layer, ir.Conv2d):
            errors.append(_not_supported(layer.loc, f"conv2d layer '{layer.name}'"))
        elif isinstance(layer, ir.Pool):
            errors.append(_not_supported(layer.loc, f"pool layer '{layer.name}'"))
        elif isinstance(layer, ir.Flatten):
            errors.append(_not_supported(layer.loc, f"flatten layer '{layer.name}'"))
        elif not isinstance(layer, (ir.Dense, ir.Recurrent)):
            errors.append(_not_supported(layer.loc, f"{kind} layer '{layer.name}'"))
        else:
            plan = qmodel.plan(layer.name)
            if not isinstance(plan.neuron, NeuronConsts):
                f = qmodel.formats
                if not f.membrane.signed:
                    errors.append(_not_supported(
                        layer.loc, f"the unsigned membrane format {f.membrane} of layer "
                                   f"'{layer.name}'",
                        "the hardware keeps every state in two's complement: use fixed<W,F>"))
                else:
                    try:
                        _lower_user(qmodel, layer, 0, "snn_user_check")
                    except UserLoweringError as e:
                        errors.append(_not_supported(
                            layer.loc, f"{e.what} in layer '{layer.name}'", e.hint))
            elif plan.neuron.kind not in _KIND_CODES:
                errors.append(_not_supported(
                    layer.loc, f"the {plan.neuron.kind} neuron of layer '{layer.name}'",
                    "the hardware library has IF, LIF, CubaLIF, ALIF and ASN neurons (ReLU "
                    "units are for ANN conversion: convert to ASN with `snnc convert`)"))
            else:
                f = qmodel.formats
                used = [("weights", f.weights), ("membrane", f.membrane)]
                if plan.neuron.kind == "CubaLIF":
                    used.append(("current", f.current))
                if plan.neuron.kind in ("ALIF", "ASN"):
                    used.append(("adaptation", f.adaptation))
                for what, fmt in used:
                    if not fmt.signed:
                        errors.append(_not_supported(
                            layer.loc, f"the unsigned {what} format {fmt} of layer "
                                       f"'{layer.name}'",
                            "the hardware keeps every state and weight in two's complement: "
                            "use fixed<W,F>"))
        if getattr(layer, "source", None) != prev:
            errors.append(_not_supported(
                layer.loc, f"layer '{layer.name}' fed by '{layer.source}' (only a chain, each "
                           f"layer fed by the one before it, here '{prev}')"))
        prev = layer.name
    for out in g.outputs:
        if g.layers and out.source != g.layers[-1].name:
            errors.append(_not_supported(out.loc, f"an output of '{out.source}', which is not "
                                                  "the last layer,",
                                         "the Verilog design reads the last layer of its chain; "
                                         "the HLS backend builds outputs of inner layers"))
    if errors:
        raise SnnErrors(errors)


def _kind_codes() -> dict:
    from snnc.hw import KIND_CODES

    return {**KIND_CODES, "ASN": ASN_KIND}


_KIND_CODES = _kind_codes()


def _lower_user(qmodel: QuantizedModel, layer, index: int, module: str) -> UserHW:
    """The datapath of a layer's user-defined neuron (UserLoweringError if it cannot be built)."""
    plan = qmodel.plan(layer.name)
    f = qmodel.formats.membrane
    return lower_program(plan.neuron, u_w=f.width, u_frac=f.frac, acc_w=plan.acc_bits,
                         acc_frac=plan.acc_frac, module=module, title=f"layer {layer.name}")


def user_params(qmodel: QuantizedModel, layer, m: int, in_aw: int, lanes: int,
                weight_file: str, rec_file: str, bias_file: str, user: UserHW, index: int, *,
                in_pw: int = 1, graded: bool = False) -> dict:
    """The ``snn_layer_core`` parameters of a layer with a user-defined neuron (``KIND = 5``:
    ``snn_user_neuron`` with ``USER_ID`` = the layer index; the built-in neuron parameters are
    unused and left at neutral values)."""
    plan = qmodel.plan(layer.name)
    f = qmodel.formats
    ns = user.ns
    lane_bits = ns * f.membrane.width + 1 + (f.membrane.width if user.graded else 1)
    return {
        "N": layer.units, "P": lanes, "M": m, "W_W": f.weights.width,
        "IN_AW": in_aw, "IN_PW": in_pw, "GRADED": int(bool(graded)),
        "OUT_AW": _bits(layer.units - 1), "OUT_PW": f.membrane.width if user.graded else 1,
        "ACC_W": plan.acc_bits, "ACC_FRAC": plan.acc_frac,
        "KIND": USER_KIND, "RESET": 0, "LEAK": 0,
        "U_W": f.membrane.width, "U_FRAC": f.membrane.frac,
        "I_W": f.current.width, "I_FRAC": f.current.frac,
        "A_W": f.adaptation.width, "A_FRAC": f.adaptation.frac,
        "R_W": 1, "MEM_DECAY": 0, "SYN_DECAY": 0, "ADAPT_DECAY": 0,
        "THRESHOLD": 1, "BETA": 0, "REFRACTORY": 0,
        "CNT_W": CNT_W, "WEIGHT_FILE": weight_file,
        "REC": int(isinstance(layer, ir.Recurrent)), "BIAS": int(bool(layer.bias)),
        "AUX_SHIFT": plan.acc_frac - f.weights.frac,
        "V_FILE": rec_file, "BIAS_FILE": bias_file,
        "ST_I": 0, "ST_A": 0,
        "USER_ID": index, "USER_NS": ns, "USER_GRADED": int(user.graded),
        "USER_SAT_W": user.sat_w,
        "USER_INIT": _Literal(lane_bits, user.init_word),
    }


#: the width of the core's USER_INIT parameter (one lane's initial state word)
USER_INIT_BITS = 1024


@dataclass(frozen=True)
class _Literal:
    """A sized Verilog literal parameter value (wider than 32 bits)."""

    width: int
    value: int

    def __int__(self) -> int:
        return self.value

    def verilog(self) -> str:
        return f"{USER_INIT_BITS}'h{self.value:x}"      # the parameter's declared width


def input_payload_width(qmodel: QuantizedModel) -> int:
    """Bits of the input events' payload: 1 for spikes; for a ``direct`` input the ``inputs``
    format's width (signed), one more for an unsigned format (held as a non-negative signed
    value)."""
    inp = qmodel.graph.inputs[0]
    if not isinstance(inp.encoding, ir.Direct):
        return 1
    fmt = qmodel.formats.inputs
    return fmt.width + (0 if fmt.signed else 1)


def layer_params(qmodel: QuantizedModel, layer, m: int, in_aw: int, lanes: int,
                 weight_file: str, rec_file: str = "", bias_file: str = "", *,
                 in_pw: int = 1, graded: bool = False) -> dict:
    """The ``snn_layer_core`` parameters of one dense or recurrent layer.

    ``ACC_W`` is the quantizer's ``acc_bits``, which counts the input, recurrent and bias terms
    of the fan-in (section 4), so the accumulator never wraps whatever the event order.
    ``in_pw`` / ``graded``: the payload width of the layer's input events and whether they are
    graded (a direct input or an ASN layer: the core multiplies each weight by the payload)."""
    plan = qmodel.plan(layer.name)
    c: NeuronConsts = plan.neuron
    f = qmodel.formats
    from snnc.hw import LEAK_CODES, RESET_CODES

    asn = c.kind == "ASN"
    extra = {"PRED_DECAY": c.pred_decay or 0, "M_F": c.m_f or 0} if asn else {}
    return {
        "N": layer.units, "P": lanes, "M": m, "W_W": f.weights.width,
        "IN_AW": in_aw, "IN_PW": in_pw, "GRADED": int(bool(graded)),
        "OUT_AW": _bits(layer.units - 1), "OUT_PW": f.membrane.width if asn else 1,
        "ACC_W": plan.acc_bits, "ACC_FRAC": plan.acc_frac,
        "KIND": _KIND_CODES[c.kind], "RESET": RESET_CODES[c.reset], "LEAK": LEAK_CODES[c.leak],
        "U_W": f.membrane.width, "U_FRAC": f.membrane.frac,
        "I_W": f.current.width, "I_FRAC": f.current.frac,
        "A_W": f.adaptation.width, "A_FRAC": f.adaptation.frac,
        "R_W": _bits(c.refractory),
        "MEM_DECAY": c.mem_decay or 0, "SYN_DECAY": c.syn_decay or 0,
        "ADAPT_DECAY": c.adapt_decay or 0,
        "THRESHOLD": c.threshold, "BETA": c.beta or 0, "REFRACTORY": c.refractory,
        **extra,
        "CNT_W": CNT_W, "WEIGHT_FILE": weight_file,
        "REC": int(isinstance(layer, ir.Recurrent)), "BIAS": int(bool(layer.bias)),
        "AUX_SHIFT": plan.acc_frac - f.weights.frac,
        "V_FILE": rec_file, "BIAS_FILE": bias_file,
        "ST_I": int("I" in KIND_STATE.get(c.kind, "IA")),
        "ST_A": int("A" in KIND_STATE.get(c.kind, "IA")),
    }


#: memory file names keep at most this many characters of the layer's identifier (a 250-character
#: layer name made a file name over the file system's 255 bytes)
MEM_NAME_CHARS = 100


def _mem_file(kind: str, ident: str, files: set[str]) -> str:
    """``<kind>_<ident>.mem``, unique in ``files`` without regard to case (on a case-insensitive
    file system layers ``a`` and ``A`` overwrote each other's file); a long ``ident`` is cut and
    given a digest of the whole."""
    import hashlib

    if len(ident) > MEM_NAME_CHARS:
        digest = hashlib.sha256(ident.encode()).hexdigest()[:8]
        ident = f"{ident[:MEM_NAME_CHARS - 9]}_{digest}"
    name, k = f"{kind}_{ident}.mem", 2
    while name.lower() in files:
        name, k = f"{kind}_{ident}_{k}.mem", k + 1
    files.add(name.lower())
    return name


def plan_layers(qmodel: QuantizedModel, lanes: int | None = None) -> list[LayerHW]:
    import snnc.hw

    check_supported(qmodel)
    g = qmodel.graph
    if lanes is not None and not 1 <= lanes <= ir.MAX_LANES:
        raise ValueError(f"lanes must be between 1 and {ir.MAX_LANES}, not {lanes}")
    default_lanes = lanes
    used: set[str] = set()
    files: set[str] = set()
    out = []
    m = g.inputs[0].shape[0]
    in_aw = _bits(m - 1)
    in_pw = input_payload_width(qmodel)
    graded = isinstance(g.inputs[0].encoding, ir.Direct)
    for k, layer in enumerate(g.layers):
        lanes = ir.lanes_of(g, layer, default_lanes)    # its own, else --lanes, else the block's
        ident = verilog_ident(layer.name, used)
        wfile = _mem_file("w", ident, files)
        rec = isinstance(layer, ir.Recurrent)
        vfile = _mem_file("v", ident, files) if rec else ""
        bfile = _mem_file("b", ident, files) if layer.bias else ""
        neuron = qmodel.plan(layer.name).neuron
        user = None
        if isinstance(neuron, NeuronConsts):
            params = layer_params(qmodel, layer, m, in_aw, lanes, wfile, vfile, bfile,
                                  in_pw=in_pw, graded=graded)
        else:
            user = _lower_user(qmodel, layer, k, f"snn_user_l{k}_{ident}")
            params = user_params(qmodel, layer, m, in_aw, lanes, wfile, vfile, bfile, user, k,
                                 in_pw=in_pw, graded=graded)
        tensors = qmodel.weights[layer.name]
        words = snnc.hw.weight_words(tensors["weight"], lanes, params["W_W"])
        vwords = tuple(snnc.hw.weight_words(tensors["recurrent"], lanes, params["W_W"])) \
            if rec else ()
        bwords = tuple(snnc.hw.weight_words(np.asarray(tensors["bias"])[:, None], lanes,
                                            params["W_W"])) if layer.bias else ()
        kind = neuron.kind if user is None else "user"
        out.append(LayerHW(k, layer.name, ident, layer.units, m, lanes, in_aw, params["OUT_AW"],
                           params, wfile, words, vfile, vwords, bfile, bwords, kind,
                           int(getattr(layer, "delay", 0) or 0), g.time.steps, user))
        m, in_aw = layer.units, params["OUT_AW"]
        in_pw, graded = params["OUT_PW"], out[-1].graded_out
    return out


def _param_value(v) -> str:
    if isinstance(v, _Literal):
        return v.verilog()
    return f'"{v}"' if isinstance(v, str) else str(int(v))


def _ascii(text: str) -> str:
    """Model names in comments: printable ASCII only (escapes for the rest)."""
    return "".join(c if " " <= c <= "~" else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def _low_bits(signal: str, signal_width: int, bits: int) -> str:
    """The low ``bits`` of a port of ``signal_width`` bits (a 1-bit port has no range)."""
    return signal if signal_width == 1 else f"{signal}[{bits - 1}:0]"


def _word_bits(layers: list[LayerHW]) -> int:
    """Bits of the word part of the top's ``w_addr`` (the largest memory of any layer)."""
    return max(l.wa_w for l in layers)


def _mem_select(layers: list[LayerHW]) -> bool:
    """Whether ``w_addr`` carries a 2-bit memory select above the word address."""
    return any(l.rec or l.bias for l in layers)


def _sat_ports(layers: list[LayerHW]) -> list[str]:
    """The saturation counters the top exposes (``sat_<k>_count``): U, I, A, and P, H when a
    layer (an ASN, a user-defined neuron with 4 or more states or graded events) counts with
    them."""
    used = set("uia")
    for l in layers:
        used |= set(l.sat_map.values())
    return [k for k in "uiaph" if k in used]


def delay_depth(l: LayerHW, fifo_depth: int) -> int:
    """The FIFO depth of a delayed layer's ``snn_step_delay``: the source's events of
    ``min(delay, steps) + 1`` steps with their tokens (so the lock step never stalls the source
    for good), at least ``fifo_depth``; a power of two."""
    need = (min(l.delay, l.steps) + 1) * (l.m + 1)
    depth = max(2, fifo_depth)
    while depth < need:
        depth *= 2
    return depth


def build_top(qmodel: QuantizedModel, layers: list[LayerHW], fifo_depth: int) -> str:
    """The text of ``snn_top.v``."""
    g = qmodel.graph
    last = layers[-1]
    n_layers = len(layers)
    sel_w = _bits(n_layers - 1)
    word_w = _word_bits(layers)
    msel = _mem_select(layers)
    wa_w = word_w + (2 if msel else 0)
    kw = max(l.kw for l in layers)
    wd_w = max(l.p * l.params["W_W"] for l in layers)
    rd_w = max(l.p * l.state_bits for l in layers)
    first = layers[0]
    sat_keys = _sat_ports(layers)

    o = CodeBuilder()
    o.line(f"// {TOP}: generated by snnc from model '{_ascii(g.name)}' -- do not edit.")
    o.line("// A chain of snn_layer_core (hw/README.md) with an snn_event_fifo in front of each:")
    chain = _ascii(" -> ".join([g.inputs[0].name] + [f"{l.name} ({l.n})" for l in layers]))
    o.line(f"//   {chain}")
    o.line("// Events are {last, payload, address}; every step ends with a token (last = 1).")
    o.line("`default_nettype none")
    o.line("")
    o.line(f"module {TOP} (")
    with o.indent():
        ports = [
            ("input  wire", 1, "clk"), ("input  wire", 1, "rst"), ("input  wire", 1, "clear"),
            ("input  wire", 1, "s_valid"), ("output wire", 1, "s_ready"),
            ("input  wire", 1, "s_last"), ("input  wire", first.in_pw, "s_payload"),
            ("input  wire", first.in_aw, "s_addr"),
            ("output wire", 1, "m_valid"), ("input  wire", 1, "m_ready"),
            ("output wire", 1, "m_last"), ("output wire", last.out_pw, "m_payload"),
            ("output wire", last.out_aw, "m_addr"),
            ("input  wire", 1, "w_we"), ("input  wire", sel_w, "w_layer"),
            ("input  wire", wa_w, "w_addr"), ("input  wire", wd_w, "w_data"),
            ("input  wire", 1, "rd_en"), ("input  wire", sel_w, "rd_layer"),
            ("input  wire", kw, "rd_addr"), ("output reg ", rd_w, "rd_data"),
            ("output wire", 1, "idle"), ("output wire", CNT_W, "step_count"),
        ] + [("output reg ", CNT_W, f"sat_{k}_count") for k in sat_keys]
        for i, (d, w, name) in enumerate(ports):
            rng = f"[{w - 1}:0] " if w > 1 else ""
            o.line(f"{d} {rng}{name}{',' if i < len(ports) - 1 else ''}")
    o.line(");")
    with o.indent():
        o.line("/* verilator lint_off UNUSEDSIGNAL */")
        o.line("/* verilator lint_off WIDTHTRUNC */")
        o.line("/* verilator lint_off WIDTHEXPAND */")
        o.line("/* verilator lint_off PINCONNECTEMPTY */")
        # --- per-layer wires
        for l in layers:
            pre = f"l{l.index}_{l.ident}"
            ew = 1 + l.in_pw + l.in_aw
            o.line("")
            extras = ((", recurrent" if l.rec else "") + (", bias" if l.bias else "")
                      + (", ASN (graded output events)" if l.asn else "")
                      + (f", user-defined neuron '{_ascii(qmodel.plan(l.name).neuron.name)}'"
                         + (" (graded output events)" if l.user.graded else "")
                         if l.user is not None else "")
                      + (", graded input events" if l.params["GRADED"] else ""))
            o.line(f"// layer {l.index}: '{_ascii(l.name)}', {l.n} neurons, {l.m} inputs, "
                   f"{l.p} lanes{extras}")
            o.line(f"wire            {pre}_in_valid, {pre}_in_ready;")
            o.line(f"wire [{ew - 1}:0] {pre}_in_data;")
            o.line(f"wire            {pre}_q_valid, {pre}_q_ready;")
            o.line(f"wire [{ew - 1}:0] {pre}_q_data;")
            o.line(f"wire            {pre}_fifo_empty;")
            o.line(f"wire            {pre}_out_valid, {pre}_out_ready, {pre}_out_last;")
            o.line(f"wire [{l.out_pw - 1}:0] {pre}_out_payload;" if l.out_pw > 1 else
                   f"wire {pre}_out_payload;")
            o.line(f"wire [{l.out_aw - 1}:0] {pre}_out_addr;" if l.out_aw > 1 else
                   f"wire {pre}_out_addr;")
            o.line(f"wire [{l.p * l.state_bits - 1}:0] {pre}_rd_data;")
            o.line(f"wire            {pre}_idle;")
            o.line(f"wire [{CNT_W - 1}:0] {pre}_step_count;")
            o.line(f"wire [{CNT_W - 1}:0] "
                   + ", ".join(f"{pre}_sat_{k}_count" for k in sat_keys) + ";")
        # --- connections between stages
        o.line("")
        o.line("// the chain: input stream -> fifo -> core -> fifo -> core ... -> output stream")
        for l in layers:
            pre = f"l{l.index}_{l.ident}"
            if l.index == 0:
                o.line(f"assign {pre}_in_valid = s_valid;")
                o.line(f"assign {pre}_in_data  = {{s_last, s_payload, s_addr}};")
                o.line(f"assign s_ready = {pre}_in_ready;")
            else:
                src = layers[l.index - 1]
                sp = f"l{src.index}_{src.ident}"
                o.line(f"assign {pre}_in_valid = {sp}_out_valid;")
                o.line(f"assign {pre}_in_data  = {{{sp}_out_last, {sp}_out_payload, "
                       f"{sp}_out_addr}};")
                o.line(f"assign {sp}_out_ready = {pre}_in_ready;")
        lp = f"l{last.index}_{last.ident}"
        o.line(f"assign m_valid   = {lp}_out_valid;")
        o.line(f"assign {lp}_out_ready = m_ready;")
        o.line(f"assign m_last    = {lp}_out_last;")
        o.line(f"assign m_payload = {lp}_out_payload;")
        o.line(f"assign m_addr    = {lp}_out_addr;")
        o.line(f"assign step_count = {lp}_step_count;")
        idle_terms = []
        for l in layers:
            pre = f"l{l.index}_{l.ident}"
            idle_terms += [f"{pre}_idle", f"{pre}_fifo_empty"]
        o.line("assign idle =")
        with o.indent():
            for i, term in enumerate(idle_terms):
                o.line(f"{term}{' &&' if i < len(idle_terms) - 1 else ';'}")
        # --- instances
        for l in layers:
            pre = f"l{l.index}_{l.ident}"
            ew = 1 + l.in_pw + l.in_aw
            o.line("")
            if l.delay:
                o.line(f"// delay = {l.delay}: the core's step t sees the events of step t - "
                       f"{l.delay}")
                o.line(f"snn_step_delay #(.WIDTH({ew}), .DELAY({l.delay}), .STEPS({l.steps}), "
                       f".DEPTH({delay_depth(l, fifo_depth)})) u_{pre}_delay (")
                with o.indent():
                    o.line(".clk(clk), .rst(rst), .clear(clear),")
                    o.line(f".s_valid({pre}_in_valid), .s_ready({pre}_in_ready), "
                           f".s_data({pre}_in_data),")
                    o.line(f".m_valid({pre}_q_valid), .m_ready({pre}_q_ready), "
                           f".m_data({pre}_q_data),")
                    o.line(f".idle({pre}_fifo_empty)")
                o.line(");")
            else:
                o.line(f"snn_event_fifo #(.WIDTH({ew}), .DEPTH({fifo_depth})) u_{pre}_fifo (")
                with o.indent():
                    o.line(".clk(clk), .rst(rst),")
                    o.line(f".s_valid({pre}_in_valid), .s_ready({pre}_in_ready), "
                           f".s_data({pre}_in_data),")
                    o.line(f".m_valid({pre}_q_valid), .m_ready({pre}_q_ready), "
                           f".m_data({pre}_q_data),")
                    o.line(f".full(), .empty({pre}_fifo_empty), .level()")
                o.line(");")
            o.line("")
            o.line("snn_layer_core #(")
            with o.indent():
                items = list(l.params.items())
                for i, (k, v) in enumerate(items):
                    o.line(f".{k}({_param_value(v)}){',' if i < len(items) - 1 else ''}")
            o.line(f") u_{pre} (")
            with o.indent():
                o.line(".clk(clk), .rst(rst), .clear(clear),")
                o.line(f".s_valid({pre}_q_valid), .s_ready({pre}_q_ready),")
                pay = (f"{pre}_q_data[{ew - 2}]" if l.in_pw == 1 else
                       f"{pre}_q_data[{ew - 2}:{l.in_aw}]")
                o.line(f".s_last({pre}_q_data[{ew - 1}]), .s_payload({pay}), "
                       f".s_addr({pre}_q_data[{l.in_aw - 1}:0]),")
                o.line(f".m_valid({pre}_out_valid), .m_ready({pre}_out_ready), "
                       f".m_last({pre}_out_last),")
                o.line(f".m_payload({pre}_out_payload), .m_addr({pre}_out_addr),")
                w_mem = f"w_addr[{word_w + 1}:{word_w}]" if msel else "2'd0"
                o.line(f".w_we(w_we && w_layer == {sel_w}'d{l.index}), .w_mem({w_mem}), "
                       f".w_addr({_low_bits('w_addr', wa_w, l.wa_w)}), "
                       f".w_data({_low_bits('w_data', wd_w, l.p * l.params['W_W'])}),")
                o.line(f".rd_en(rd_en && rd_layer == {sel_w}'d{l.index}), "
                       f".rd_addr({_low_bits('rd_addr', kw, l.kw)}), .rd_data({pre}_rd_data),")
                o.line(f".idle({pre}_idle),")
                for k in "uiaph":
                    o.line(f".sat_{k}_count({pre}_sat_{k}_count)," if k in sat_keys else
                           f".sat_{k}_count(),")
                o.line(f".step_count({pre}_step_count)")
            o.line(");")
        # --- read-back mux
        o.line("")
        o.line("// state read-back: rd_data is the word of layer rd_layer (as it was at rd_en),")
        o.line("// valid the cycle after rd_en")
        o.line(f"reg [{sel_w - 1}:0] rd_layer_q;" if sel_w > 1 else "reg rd_layer_q;")
        o.line("always @(posedge clk) begin")
        with o.indent():
            o.line("if (rd_en)")
            with o.indent():
                o.line("rd_layer_q <= rd_layer;")
        o.line("end")
        o.line("always @* begin")
        with o.indent():
            o.line(f"rd_data = {rd_w}'d0;")
            o.line("case (rd_layer_q)")
            with o.indent():
                for l in layers:
                    o.line(f"{sel_w}'d{l.index}: rd_data = l{l.index}_{l.ident}_rd_data;")
                o.line("default: rd_data = " + f"{rd_w}'d0;")
            o.line("endcase")
        o.line("end")
        o.line("")
        o.line("// saturation counters (since reset) of layer rd_layer, combinational")
        o.line("always @* begin")
        with o.indent():
            for k in sat_keys:
                o.line(f"sat_{k}_count = {CNT_W}'d0;")
            o.line("case (rd_layer)")
            with o.indent():
                for l in layers:
                    pre = f"l{l.index}_{l.ident}"
                    o.line(f"{sel_w}'d{l.index}: begin")
                    with o.indent():
                        for k in sat_keys:
                            o.line(f"sat_{k}_count = {pre}_sat_{k}_count;")
                    o.line("end")
                o.line("default: ;")
            o.line("endcase")
        o.line("end")
        o.line("/* verilator lint_on PINCONNECTEMPTY */")
        o.line("/* verilator lint_on WIDTHEXPAND */")
        o.line("/* verilator lint_on WIDTHTRUNC */")
        o.line("/* verilator lint_on UNUSEDSIGNAL */")
    o.line("endmodule")
    o.line("")
    o.line("`default_nettype wire")
    return o.text()


def build_manifest(qmodel: QuantizedModel, layers: list[LayerHW], fifo_depth: int,
                   files: list[str]) -> dict:
    g = qmodel.graph
    f = qmodel.formats
    first, last = layers[0], layers[-1]
    sel_w = _bits(len(layers) - 1)
    inp = g.inputs[0]
    direct = isinstance(inp.encoding, ir.Direct)
    in_doc = (f"the input value quantised to {f.inputs} (two's complement, {first.in_pw} bits"
              + ("" if f.inputs.signed else ", never negative") + "); 0 for a token"
              if direct else "1 for a spike, 0 for a token")
    out_doc = (f"the spike's height h in membrane units ({f.membrane}, two's complement); 0 for "
               "a token" if last.graded_out else "1 for a spike")
    sat_names = {"u": "U", "i": "I", "a": "A", "p": "P (ASN)", "h": "H (ASN payload)"}
    ports = [
        {"name": "clk", "dir": "in", "width": 1, "doc": "clock (rising edge)"},
        {"name": "rst", "dir": "in", "width": 1, "doc": "synchronous active-high reset"},
        {"name": "clear", "dir": "in", "width": 1,
         "doc": "one-cycle pulse between samples: re-zero every neuron state (wait for idle)"},
        {"name": "s_valid", "dir": "in", "width": 1, "doc": "input event valid"},
        {"name": "s_ready", "dir": "out", "width": 1, "doc": "input event accepted when high"},
        {"name": "s_last", "dir": "in", "width": 1, "doc": "1: end-of-step token"},
        {"name": "s_payload", "dir": "in", "width": first.in_pw, "doc": in_doc},
        {"name": "s_addr", "dir": "in", "width": first.in_aw,
         "doc": f"input neuron index (0 .. {first.m - 1}); larger addresses are ignored"},
        {"name": "m_valid", "dir": "out", "width": 1, "doc": "output event valid"},
        {"name": "m_ready", "dir": "in", "width": 1, "doc": "output event taken when high"},
        {"name": "m_last", "dir": "out", "width": 1, "doc": "1: the output layer's token"},
        {"name": "m_payload", "dir": "out", "width": last.out_pw, "doc": out_doc},
        {"name": "m_addr", "dir": "out", "width": last.out_aw,
         "doc": "spiking output neuron (ascending within a step)"},
        {"name": "w_we", "dir": "in", "width": 1, "doc": "weight write (only while idle)"},
        {"name": "w_layer", "dir": "in", "width": sel_w, "doc": "layer index of the write"},
        {"name": "w_addr", "dir": "in",
         "width": _word_bits(layers) + (2 if _mem_select(layers) else 0),
         "doc": "weight word address j * words_per_row + k" + (
             f"; bits [{_word_bits(layers) + 1}:{_word_bits(layers)}] select the memory: 0 "
             "weights, 1 recurrent weights, 2 biases (write_select)"
             if _mem_select(layers) else "")},
        {"name": "w_data", "dir": "in", "width": max(l.p * l.params["W_W"] for l in layers),
         "doc": "weight word: lane p in bits [p*W_W +: W_W]"},
        {"name": "rd_en", "dir": "in", "width": 1, "doc": "state read (only while idle)"},
        {"name": "rd_layer", "dir": "in", "width": sel_w, "doc": "layer index of the read"},
        {"name": "rd_addr", "dir": "in", "width": max(l.kw for l in layers),
         "doc": "state word k (neurons k*P .. k*P+P-1)"},
        {"name": "rd_data", "dir": "out", "width": max(l.p * l.state_bits for l in layers),
         "doc": "state word, the cycle after rd_en; lane p in bits [p*state_bits +: state_bits]"},
        {"name": "idle", "dir": "out", "width": 1, "doc": "no event, sweep or output in flight"},
        {"name": "step_count", "dir": "out", "width": CNT_W,
         "doc": "time steps completed by the output layer since reset"},
    ] + [{"name": f"sat_{k}_count", "dir": "out", "width": CNT_W,
          "doc": f"clamps of {sat_names[k]} in layer rd_layer since reset (combinational)"}
         for k in _sat_ports(layers)]
    layer_entries = []
    for l in layers:
        offset, fields = 0, []
        for name, w, signed in l.state_layout:
            fields.append({"name": name, "offset": offset, "width": w, "signed": signed})
            offset += w
        layer_entries.append({
            "index": l.index, "name": l.name, "ident": l.ident,
            "instance": f"u_l{l.index}_{l.ident}", "neurons": l.n, "inputs": l.m, "lanes": l.p,
            "words_per_row": l.nw, "kind": l.kind,
            "parameters": {k: int(v) if isinstance(v, _Literal) else v
                           for k, v in l.params.items()},
            "graded_input": bool(l.params["GRADED"]),
            "payload": {"width": l.out_pw, "signed": l.graded_out, "graded": l.graded_out,
                        "doc": ("the spike's height h (membrane units), the next core's GRADED "
                                "payload" if l.graded_out else "1 for every spike")},
            "saturation": {k: f"sat_{c}_count" for k, c in l.sat_map.items()},
            "membrane": l.state_layout[0][0],
            "user_neuron": ({"name": qmodel.plan(l.name).neuron.name, "module": l.user.module,
                             "user_id": l.index, "states": [n for n, _ in l.user.states],
                             "graded": l.user.graded}
                            if l.user is not None else None),
            "weights": {"file": l.weight_file, "words": len(l.words),
                        "word_bits": l.p * l.params["W_W"], "w_layer": l.index, "w_mem": 0,
                        "address": "j * words_per_row + k holds W[k*lanes + p, j] in lane p"},
            "recurrent": ({"file": l.rec_file, "words": len(l.rec_words),
                           "word_bits": l.p * l.params["W_W"], "w_layer": l.index, "w_mem": 1,
                           "address": "j * words_per_row + k holds V[k*lanes + p, j] in lane p "
                                      "(j: the layer's own neuron, spiking the step before)"}
                          if l.rec else None),
            "bias": ({"file": l.bias_file, "words": len(l.bias_words),
                      "word_bits": l.p * l.params["W_W"], "w_layer": l.index, "w_mem": 2,
                      "address": "k holds bias[k*lanes + p] in lane p (weights format, "
                                 "<< AUX_SHIFT into the accumulator)"}
                     if l.bias else None),
            "state": {"rd_layer": l.index, "words": l.nw, "lane_bits": l.state_bits,
                      "fields": fields},
            "fifo_depth": delay_depth(l, fifo_depth) if l.delay else fifo_depth,
            "delay": l.delay,
        })
    return {
        "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "model": g.name, "top": TOP,
        "steps": g.time.steps,
        "files": files,
        "memory_files": [f for l in layers for f in (l.weight_file, l.rec_file, l.bias_file) if f],
        "write_select": ({"shift": _word_bits(layers), "bits": 2,
                          "values": {"weights": 0, "recurrent": 1, "bias": 2},
                          "doc": "w_addr = (w_mem << shift) | word"}
                         if _mem_select(layers) else None),
        "ports": ports,
        "event": {"fields": ["last", "payload", "address"],
                  "doc": "events of step t in any order, then a token; spikes leave a layer in "
                         "ascending order followed by its token; a graded event's payload is a "
                         "signed integer multiplying the weights (direct inputs: the quantised "
                         "value; ASN spikes: their height)"},
        "input": {"name": inp.name, "size": first.m,
                  "encoding": type(inp.encoding).__name__.lower(), "addr_width": first.in_aw,
                  "payload_width": first.in_pw, "graded": direct,
                  "payload_format": str(f.inputs) if direct else None,
                  "doc": ("one event per non-zero quantised value (zeros add nothing)" if direct
                          else "one event per spike, payload 1")},
        "output": {"layer": last.name, "size": last.n,
                   "readouts": [o.readout for o in g.outputs],
                   "doc": "the top emits the output layer's spikes; readouts are counted outside"},
        "formats": {"weights": str(f.weights), "membrane": str(f.membrane),
                    "current": str(f.current), "adaptation": str(f.adaptation),
                    "inputs": str(f.inputs)},
        "layers": layer_entries,
        "memory_map": {
            "weights": [{"w_layer": l.index, "layer": l.name, "words": len(l.words),
                         "word_bits": l.p * l.params["W_W"], "file": l.weight_file, "w_mem": 0}
                        for l in layers],
            "recurrent": [{"w_layer": l.index, "layer": l.name, "words": len(l.rec_words),
                           "word_bits": l.p * l.params["W_W"], "file": l.rec_file, "w_mem": 1}
                          for l in layers if l.rec],
            "bias": [{"w_layer": l.index, "layer": l.name, "words": len(l.bias_words),
                      "word_bits": l.p * l.params["W_W"], "file": l.bias_file, "w_mem": 2}
                     for l in layers if l.bias],
            "state": [{"rd_layer": l.index, "layer": l.name, "words": l.nw,
                       "word_bits": l.p * l.state_bits} for l in layers],
        },
        "cycle_bound": {
            "formula": "cycles(step) <= sum over layers L of ((E_L + R_L) * words_L + words_L + "
                       f"S_L + {STEP_OVERHEAD}), E_L = input events of L in the step, R_L = "
                       "recurrent events of L in the step (a recurrent layer's spikes of the "
                       "step before; 0 at step 0 and for other layers), S_L = spikes of L in "
                       "the step, words_L = ceil(neurons_L / lanes); with delay = d, E_L at step t counts "
                       "the source's events of step t - d",
            "words": {l.name: l.nw for l in layers},
            "recurrent_layers": [l.name for l in layers if l.rec],
            "delays": {l.name: l.delay for l in layers if l.delay},
            "overhead_per_layer": STEP_OVERHEAD,
            "status": "from the core's documented throughput; holds in the co-simulation "
                      "benches at full speed (no input gaps, no output stalls), not proven; a "
                      "layer of a few neurons run for a few steps can exceed it by a few cycles "
                      "(the pipeline's drain after the last step)",
        },
        "notes": ["weights files are read with $readmemh by relative name: simulate from this "
                  "folder (or copy the .mem files into the simulator's working directory)",
                  "a recurrent layer's spikes of the last step are delivered to its accumulators "
                  "after the last token; pulse `clear` (when idle) before the next sample"],
    }


def check_fifo_depth(fifo_depth) -> None:
    """Refuse an event FIFO depth the generator does not build (ValueError)."""
    import numbers

    if isinstance(fifo_depth, bool) or not isinstance(fifo_depth, numbers.Integral):
        raise TypeError(f"fifo_depth must be an integer, not {type(fifo_depth).__name__}")
    if fifo_depth < 2 or fifo_depth & (fifo_depth - 1) or fifo_depth > MAX_FIFO_DEPTH:
        raise ValueError(f"fifo_depth must be a power of two from 2 to {MAX_FIFO_DEPTH}, "
                         f"not {fifo_depth}")


def generate(qmodel: QuantizedModel, out_dir, *, lanes: int | None = None,
             fifo_depth: int = DEFAULT_FIFO_DEPTH) -> dict:
    """Write the Verilog of ``qmodel`` into ``out_dir``; returns the manifest (also written)."""
    import snnc.hw
    from snnc.quantize import require_quantized

    require_quantized(qmodel, "generate")
    check_fifo_depth(fifo_depth)
    layers = plan_layers(qmodel, lanes)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    modules = ["snn_event_fifo", "snn_layer_core"]
    if any(l.delay for l in layers):
        modules.append("snn_step_delay")
    users = [(l.index, l.user) for l in layers if l.user is not None]
    for _, u in users:
        modules += sorted(u.primitives)
    for module in modules:
        for src in snnc.hw.sources(module):
            if src.name not in files:
                shutil.copyfile(src, out / src.name)
                files.append(src.name)
    if users:
        (out / "snn_user.v").write_text(user_file(users, qmodel.graph.name))
        files.append("snn_user.v")
    top_text = build_top(qmodel, layers, fifo_depth)
    (out / f"{TOP}.v").write_text(top_text)
    files.append(f"{TOP}.v")
    for l in layers:
        snnc.hw.write_memh(out / l.weight_file, l.words, l.p * l.params["W_W"])
        if l.rec:
            snnc.hw.write_memh(out / l.rec_file, list(l.rec_words), l.p * l.params["W_W"])
        if l.bias:
            snnc.hw.write_memh(out / l.bias_file, list(l.bias_words), l.p * l.params["W_W"])
    manifest = build_manifest(qmodel, layers, fifo_depth, files)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
