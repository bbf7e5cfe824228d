"""The Verilog backend's plan of a quantised model: one :class:`LayerHW` per layer core (its
parameters, memory images and widths), and the located errors for what the backend cannot build
(``check_supported``)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc import ir
from snnc.backends.hardware_checks import structure_errors
from snnc.backends.verilog.emitter import verilog_ident
from snnc.backends.verilog.userneuron import (USER_KIND, UserHW, UserLoweringError,
                                              lower_program)
from snnc.errors import SnnError, SnnErrors
from snnc.quantize import NeuronConsts, QuantizedModel

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


def bits_to_hold(n: int) -> int:
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
    su: int = 0               # sweep units (``SU``; 0 is read as ``p``: no narrow sweep)

    def __post_init__(self):
        if not self.su:
            object.__setattr__(self, "su", self.p)
        if self.p % self.su:
            raise ValueError(f"sweep units {self.su} do not divide the {self.p} lanes")

    @property
    def groups(self) -> int:
        """Groups of ``su`` lanes a word's sweep takes, one per cycle (1: no narrow sweep)."""
        return self.p // self.su

    @property
    def state_lanes(self) -> int:
        """Lanes of a state word (the read-back's ``rd_data``): the sweep units."""
        return self.su

    @property
    def state_words(self) -> int:
        """Words of the state memory (the read-back's addresses): ``nw`` words of ``p`` lanes
        laid out as ``nw * groups`` words of ``su`` lanes (word ``a`` holds neuron ``a * su +
        u`` in lane ``u``)."""
        return self.nw * self.groups

    @property
    def state_kw(self) -> int:
        """Width of the core's ``rd_addr``."""
        return max(1, _clog2(self.state_words))

    @property
    def sweep_words(self) -> int:
        """Cycles of the end-of-step sweep: a word issued every ``groups`` cycles
        (:func:`sweep_cycles`, the rule's)."""
        return sweep_cycles(self.n, self.p, self.su)

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
        """Words per weight row (``ceil(n / p)``): the words an event adds into."""
        return -(-self.n // self.p)

    @property
    def wa_w(self) -> int:
        """Width of the core's write address: its largest memory (W, or V when N > M)."""
        rows = max(self.m, self.n) if self.rec else self.m
        return max(1, _clog2(rows * self.nw))

    @property
    def kw(self) -> int:
        """Bits of a word index within a weight row."""
        return max(1, _clog2(self.nw))

    @property
    def state_layout(self) -> list[tuple[str, int, bool]]:
        """The stored fields of one lane, low bits first (the core's ST_I / ST_A select I, A); a
        non-graded user neuron's lane ends in an unused bit, named None (not a field: a user's
        state may be called anything, and one named ``pad`` was overwritten by it on read-back)."""
        pr = self.params
        if self.user is not None:
            from snnc.intexpr import EMIT_KEY

            return [(name, pr["U_W"], True) for name, _ in self.user.states] + \
                [("S", 1, False)] + \
                ([(EMIT_KEY, pr["U_W"], True)] if self.user.graded else [(None, 1, False)])
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
    shape_errors, buildable = structure_errors(g, _not_supported)
    errors += shape_errors
    for layer in buildable:
        plan = qmodel.plan(layer.name)
        if not isinstance(plan.neuron, NeuronConsts):
            f = qmodel.formats
            unsigned = [(what, fmt) for what, fmt in (("weights", f.weights),
                                                      ("membrane", f.membrane))
                        if not fmt.signed]       # unsigned weights were an internal error
            for what, fmt in unsigned:
                errors.append(_not_supported(
                    layer.loc, f"the unsigned {what} format {fmt} of layer '{layer.name}'",
                    "the hardware keeps every state and weight in two's complement: use "
                    "fixed<W,F>"))
            if not unsigned:
                try:
                    _lower_user(qmodel, layer, 0, "snn_user_check")
                except UserLoweringError as e:
                    errors.append(_not_supported(
                        layer.loc, f"{e.what} in layer '{layer.name}'", e.hint))
        elif plan.neuron.kind == "ReLU":
            # by design, as in the HLS backend (not "yet"): an ANN layer, to be converted
            errors.append(SnnError(
                layer.loc, f"the non-spiking ReLU unit of layer '{layer.name}' is not built by "
                           "the Verilog backend",
                "ReLU is an ANN activation; turn the network into a spiking one with `snnc "
                "convert` (ASN or IF neurons)"))
        elif plan.neuron.kind not in _KIND_CODES:
            errors.append(_not_supported(
                layer.loc, f"the {plan.neuron.kind} neuron of layer '{layer.name}'",
                "the hardware library has IF, LIF, CubaLIF, ALIF and ASN neurons"))
        else:
            f = qmodel.formats
            used = [("weights", f.weights), ("membrane", f.membrane)]
            if plan.neuron.kind == "CubaLIF":
                used.append(("current", f.current))
            if plan.neuron.kind in ("ALIF", "ASN"):
                used.append(("adaptation", f.adaptation))
            for what, fmt in used:
                if not fmt.signed and not _unsigned_adaptation_ok(plan.neuron.kind, what, fmt):
                    errors.append(_not_supported(
                        layer.loc, f"the unsigned {what} format {fmt} of layer "
                                   f"'{layer.name}'",
                        "the hardware keeps every state and weight in two's complement: "
                        "use fixed<W,F>"))
    for layer in g.layers:
        delay = int(getattr(layer, "delay", 0) or 0)
        if delay and layer.source in {n.name for n in g.inputs + g.layers}:
            m = int(np.prod(g.node(layer.source).shape))
            need = delay_fifo_events(delay, g.time.steps, m)
            if need > ir.MAX_FIFO_DEPTH:      # it built a 262144-deep FIFO in logic
                errors.append(_not_supported(
                    layer.loc, f"layer '{layer.name}' with delay = {delay}, whose FIFO must hold "
                               f"{need} events (those of {min(delay, g.time.steps) + 1} steps of "
                               f"the {m} neurons of '{layer.source}', with their tokens), more "
                               f"than the {ir.MAX_FIFO_DEPTH} of the deepest FIFO it builds,",
                    "use a shorter delay, or a smaller source layer"))
    prev = g.inputs[0].name if g.inputs else None
    for layer in g.layers:
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


def delay_fifo_events(delay: int, steps: int, m: int) -> int:
    """Entries the ``snn_step_delay`` FIFO of a layer delayed by ``delay`` steps needs: the
    events of its ``m``-neuron source over ``min(delay, steps) + 1`` steps, each step's with its
    token (so the lock step never stalls the source for good)."""
    return (min(delay, steps) + 1) * (m + 1)


def _kind_codes() -> dict:
    from snnc.hw import KIND_CODES

    return {**KIND_CODES, "ASN": ASN_KIND}


_KIND_CODES = _kind_codes()


def _unsigned_adaptation_ok(kind: str, what: str, fmt) -> bool:
    """An ALIF's adaptation is never negative (``A = decay(A) + S``, docs/semantics.md section
    3), so an unsigned format holds it as a signed one a bit wider: the same values, the same
    clamp at the top, the bottom never reached (``adaptation_width``)."""
    from snnc.types import MAX_FIXED_WIDTH

    return kind == "ALIF" and what == "adaptation" and fmt.width < MAX_FIXED_WIDTH


def adaptation_width(fmt) -> int:
    """``A_W``: the adaptation format's width, one more for an unsigned format (an ALIF's
    non-negative ``A`` in two's complement)."""
    return fmt.width + (0 if fmt.signed else 1)


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
        "OUT_AW": bits_to_hold(layer.units - 1), "OUT_PW": f.membrane.width if user.graded else 1,
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
        "USER_INIT": VerilogLiteral(lane_bits, user.init_word),
    }


#: the width of the core's USER_INIT parameter (one lane's initial state word)
USER_INIT_BITS = 1024


@dataclass(frozen=True)
class VerilogLiteral:
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
    value) or a held input (its events carry the changes of the values)."""
    inp = qmodel.graph.inputs[0]
    if not isinstance(inp.encoding, ir.Direct):
        return 1
    fmt = qmodel.formats.inputs
    if inp.encoding.hold:       # a change of a value: one bit more than the values (signed)
        return fmt.width + 1
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
        "OUT_AW": bits_to_hold(layer.units - 1), "OUT_PW": f.membrane.width if asn else 1,
        "ACC_W": plan.acc_bits, "ACC_FRAC": plan.acc_frac,
        "KIND": _KIND_CODES[c.kind], "RESET": RESET_CODES[c.reset], "LEAK": LEAK_CODES[c.leak],
        "U_W": f.membrane.width, "U_FRAC": f.membrane.frac,
        "I_W": f.current.width, "I_FRAC": f.current.frac,
        "A_W": adaptation_width(f.adaptation), "A_FRAC": f.adaptation.frac,
        "R_W": bits_to_hold(c.refractory),
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


def model_device(graph: ir.Graph) -> str | None:
    """The device of the model's ``hardware`` block (None without one)."""
    return graph.hardware.device if graph.hardware is not None else None


def check_device(device: str | None) -> None:
    """Refuse a device name the language does not know (ValueError)."""
    from snnc.catalog import DEVICES

    if device is not None and device not in DEVICES:
        raise ValueError(f"unknown device {device!r}: one of {', '.join(DEVICES)}")


def leak_in_logic(device: str | None) -> bool:
    """Whether ``device`` builds its leaks' constant multiplies in logic: an FPGA of
    ``fpga.DEVICES`` without multiplier blocks (the iCE40 HX8K). False for no device, for
    ``generic`` and for the devices with DSP blocks (iCE40 UP5K, ECP5)."""
    from snnc.backends.verilog.fpga import DEVICES

    dev = DEVICES.get(device) if device is not None else None
    return dev is not None and dev.capacity.get("dsp", 0) == 0


def sweep_cycles(n: int, p: int, su: int) -> int:
    """Cycles of a layer's end-of-step sweep: ``ceil(n / p)`` words, each taking ``p / su``
    cycles."""
    return -(-n // p) * (p // su)


def sweep_units(n: int, p: int, source_sweep: int | None, *, device: str | None,
                user: bool = False) -> int:
    """The neuron units ``SU`` of a layer's sweep (``p``: no narrow sweep).

    On a device whose leaks are logic (:func:`leak_in_logic`), a layer of a built-in neuron kind
    (``user`` False) with ``p > 1`` lanes fed by another layer, whose sweep takes
    ``source_sweep`` cycles (None: fed by the model's input), gets the fewest units ``su``, a
    divisor of ``p``, whose sweep (:func:`sweep_cycles`) is no longer than its source's: its
    slower sweep then hides behind the source's, and it builds ``su`` leaks and neuron units
    instead of ``p``. Otherwise (also when no divisor is short enough) ``p``."""
    if user or p <= 1 or source_sweep is None or not leak_in_logic(device):
        return p
    for su in range(1, p):
        if p % su == 0 and sweep_cycles(n, p, su) <= source_sweep:
            return su
    return p


def plan_layers(qmodel: QuantizedModel, lanes: int | None = None,
                device: str | None = None) -> list[LayerHW]:
    """One :class:`LayerHW` per layer of the chain; ``lanes``: of the layers without their own
    (None: the hardware block's); ``device``: the FPGA that decides the sweep units
    (:func:`sweep_units`; None: the model's hardware block's)."""
    import snnc.hw

    check_supported(qmodel)
    g = qmodel.graph
    if lanes is not None and not 1 <= lanes <= ir.MAX_LANES:
        raise ValueError(f"lanes must be between 1 and {ir.MAX_LANES}, not {lanes}")
    check_device(device)
    device = model_device(g) if device is None else device
    source_sweep = None                     # the first layer is fed by the model's input
    default_lanes = lanes
    used: set[str] = set()
    files: set[str] = set()
    out = []
    m = g.inputs[0].shape[0]
    in_aw = bits_to_hold(m - 1)
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
        su = sweep_units(layer.units, lanes, source_sweep, device=device, user=user is not None)
        if su < lanes:
            params["SU"] = su
        if k == 0 and g.held(layer.source):     # the accumulators hold W x (ir.Direct)
            params["HOLD"] = 1
        out.append(LayerHW(k, layer.name, ident, layer.units, m, lanes, in_aw, params["OUT_AW"],
                           params, wfile, words, vfile, vwords, bfile, bwords, kind,
                           int(getattr(layer, "delay", 0) or 0), g.time.steps, user, su))
        source_sweep = out[-1].sweep_words
        m, in_aw = layer.units, params["OUT_AW"]
        in_pw, graded = params["OUT_PW"], out[-1].graded_out
    return out
