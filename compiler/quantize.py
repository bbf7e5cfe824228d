"""The quantizer pass: float graph + float weights -> integer constants, formats and integer weights.

Follows docs/semantics.md section 4. Deterministic; reports per layer how many weights were clipped
and the largest quantisation error; rejects thresholds, decays and constants the formats cannot
represent with an error located where the value is written (its ``ir.Located`` or expression
``loc``), else at the layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np

from snnc import ir
from snnc.intexpr import IntProgram
from snnc.intrange import INPUT_WHAT, MAX_BITS, RangeError, check, check_program
from snnc.types import Fixed


@dataclass(frozen=True)
class Formats:
    """The fixed-point formats of a model (docs/semantics.md, "Formats")."""

    weights: Fixed
    membrane: Fixed
    current: Fixed
    adaptation: Fixed
    inputs: Fixed


@dataclass(frozen=True)
class NeuronConsts:
    """A built-in neuron in integers.

    ``leak`` is ``none`` (IF, ReLU), ``multiply`` (decays are 16-fractional-bit coefficients) or
    ``shift`` (decays are shift amounts ``k``). ``threshold`` is in membrane units; ``beta`` has 16
    fractional bits; decays not used by the kind are None. ASN: ``threshold`` is theta0,
    ``mem_decay`` tau_beta's (the input current ``U``), ``adapt_decay`` tau_gamma's, ``pred_decay``
    tau_eta's, ``m_f`` 16 fractional bits. ReLU: threshold 0, no decays.
    """

    kind: str                 # IF, LIF, CubaLIF, ALIF, ASN, ReLU
    threshold: int
    reset: str
    refractory: int
    leak: str
    mem_decay: int | None
    syn_decay: int | None = None
    adapt_decay: int | None = None
    beta: int | None = None
    pred_decay: int | None = None     # ASN: decay of the self-prediction P (tau_eta)
    m_f: int | None = None            # ASN: adaptation factor, 16 fractional bits

    @property
    def graded(self) -> bool:
        """Whether the neuron's events carry a payload (ASN heights, ReLU values; membrane units)."""
        return self.kind in ("ASN", "ReLU")


@dataclass(frozen=True)
class LayerPlan:
    """How one layer computes in integers."""

    name: str
    acc_frac: int             # fractional bits of the synaptic accumulator
    in_frac: int              # fractional bits of the neuron input (Fm, or Fi for CubaLIF)
    acc_bits: int             # accumulator width that can never overflow
    neuron: Union[NeuronConsts, IntProgram, None]   # None for flatten
    pool_weight: int | None = None                  # per-spike increment of pool layers (acc units)


@dataclass
class LayerReport:
    name: str
    weights: int = 0
    clipped: int = 0
    max_error: float = 0.0
    notes: list[str] = field(default_factory=list)
    clip_note: str = ""         # the note of ``clipped`` (also in ``notes``), where it is not 0


def require_quantized(obj, fn: str) -> None:
    """A TypeError unless ``obj`` is a :class:`QuantizedModel` (a CompiledModel or a graph failed
    with an AttributeError deep inside ``fn``)."""
    if not isinstance(obj, QuantizedModel):
        raise TypeError(f"{fn} takes a QuantizedModel (snnc.load(...).quantize(weights)), not "
                        f"{type(obj).__name__}")


@dataclass(frozen=True)
class QuantizedModel:
    """The fixed-point model the golden simulator and the hardware generators consume."""

    graph: ir.Graph
    formats: Formats
    plans: tuple[LayerPlan, ...]
    weights: dict            # layer name -> {tensor name -> int64 array}
    report: tuple            # LayerReport per layer, plus model-level notes in report_notes
    notes: tuple[str, ...] = ()

    def all_notes(self) -> list[str]:
        """The model's notes, then each layer's (clipped weights, rounded decays and constants),
        prefixed with the layer's name."""
        return list(self.notes) + [f"layer '{r.name}': {n}" for r in self.report for n in r.notes]

    def clipping_notes(self) -> list[str]:
        """The notes of the layers whose weights were clipped to their format (values changed,
        not only rounded)."""
        return [f"layer '{r.name}': {r.clip_note}" for r in self.report if r.clip_note]

    def plan(self, name: str) -> LayerPlan:
        for p in self.plans:
            if p.name == name:
                return p
        raise KeyError(f"model '{self.graph.name}' has no layer '{name}' (its layers: "
                       f"{', '.join(p.name for p in self.plans)})")


# ====================================================================== the pass

import math  # noqa: E402

from snnc import expr as E  # noqa: E402
from snnc import intexpr as I  # noqa: E402
from snnc.errors import SnnError, SnnErrors  # noqa: E402
from snnc.fixedpoint import COEF_FRAC, coef, csd_round, quantize as quantize_fixed, real_to_int, shift_for_decay  # noqa: E402,E501
from snnc.types import Quantity, TIME  # noqa: E402



class FloatOnly(SnnError):
    """A user-defined neuron's construct the integer semantics does not have (a division by a
    variable, ``exp()`` or ``decay()`` of a state): no fixed-point target (golden model, QAT,
    Verilog, HLS) builds the model, but the float reference and float training run it."""


DEFAULT_FORMATS = Formats(weights=Fixed(8, 6), membrane=Fixed(16, 8), current=Fixed(16, 8),
                          adaptation=Fixed(16, 8), inputs=Fixed(12, 8))


def model_formats(graph: ir.Graph) -> tuple[Formats, list[str]]:
    """The formats of a model: its hardware block's, or the defaults (with a note saying so)."""
    hw = graph.hardware
    if hw is None:
        d = DEFAULT_FORMATS
        return d, [f"no `hardware` block: using default formats weights {d.weights}, state "
                   f"{d.membrane}, inputs {d.inputs}"]
    return Formats(hw.weights, hw.membrane, hw.current, hw.adaptation, hw.inputs), []


@dataclass(frozen=True)
class Quantize:
    """The quantizer as a compiler pass: ``Quantize(weights).run(graph) -> QuantizedModel``."""

    weights: dict
    name: str = "quantize"

    def run(self, graph: ir.Graph) -> QuantizedModel:
        return quantize(graph, self.weights)


def quantize(graph: ir.Graph, weights: dict) -> QuantizedModel:
    """Quantise a float model. Raises SnnErrors (located at the values, else at the layers) for
    unrepresentable constants."""
    formats, notes = model_formats(graph)
    decay_default = graph.hardware.decay if graph.hardware is not None else "multiply"
    errors: list[SnnError] = []
    plans: list[LayerPlan] = []
    reports: list[LayerReport] = []
    int_weights: dict = {}
    for layer in graph.layers:
        report = LayerReport(layer.name)
        reports.append(report)
        if isinstance(layer, ir.Flatten):
            plans.append(LayerPlan(layer.name, 0, 0, 0, None))
            continue
        # graded events (direct inputs, ASN heights, ReLU values) multiply the weights by their
        # payload: the accumulator gains the payload's fractional bits and width
        graded = graph.graded(layer.source)
        payload_fmt = {"inputs": formats.inputs, "membrane": formats.membrane}.get(graded)
        extra_frac = payload_fmt.frac if payload_fmt is not None else 0
        extra_bits = payload_fmt.width if payload_fmt is not None else 0
        int_weights[layer.name] = _quantize_tensors(layer, weights, formats.weights, report)
        neuron = layer.neuron
        in_frac = formats.current.frac if isinstance(neuron, ir.CubaLIF) else formats.membrane.frac
        if isinstance(layer, ir.Pool):
            k = layer.kernel[0] * layer.kernel[1]
            scale = 1 << formats.membrane.frac
            pool_weight = scale if layer.mode == "sum" else int(math.floor(scale / k + 0.5))
            if layer.mode == "avg" and not _avg_weight_ok(layer, k, pool_weight, formats.membrane,
                                                          report, errors):
                continue
            acc_frac = formats.membrane.frac + extra_frac
            acc_bits = max((formats.membrane.width + 2) + extra_bits + _bits(k),
                           _sum_bits(k, pool_weight * _magnitude(payload_fmt)))
        else:
            pool_weight = None
            acc_frac = formats.weights.frac + extra_frac
            fan = _fan_in(layer)
            term = _magnitude(formats.weights) * _magnitude(payload_fmt)
            if payload_fmt is not None and (isinstance(layer, ir.Recurrent)
                                            or getattr(layer, "bias", False)):
                # recurrent weights and the bias enter as w << payload frac
                term = max(term, _magnitude(formats.weights) << max(extra_frac, 0))
            acc_bits = max(formats.weights.width + extra_bits + _bits(fan), _sum_bits(fan, term))
        if acc_bits > MAX_BITS:
            what = f"weights {formats.weights}" + (f" times payloads {payload_fmt}"
                                                   if payload_fmt is not None else "")
            errors.append(SnnError(layer.loc, f"the synaptic accumulator of layer '{layer.name}' "
                                              f"needs {acc_bits} bits ({what}), more than the "
                                              f"{MAX_BITS}-bit integers the integer semantics "
                                              "computes in",
                                   "use narrower weight or input formats"))
            continue
        try:
            consts = _neuron_plan(layer, neuron, formats, graph.time.dt, decay_default, report,
                                  graph.hardware.leak_digits if graph.hardware else None)
            if isinstance(consts, IntProgram):
                _check_int64(layer, consts, formats.membrane, acc_bits, acc_frac)
            else:
                _check_rescales(layer, consts, formats, acc_bits, acc_frac, in_frac)
        except (SnnError, SnnErrors) as err:
            errors.extend(err.errors if isinstance(err, SnnErrors) else [err])
            continue
        plans.append(LayerPlan(layer.name, acc_frac, in_frac, acc_bits, consts, pool_weight))
    if errors:
        raise SnnErrors(errors)
    return QuantizedModel(graph, formats, tuple(plans), int_weights, tuple(reports), tuple(notes))


def _check_int64(layer, program: IntProgram, fmt: Fixed, acc_bits: int, acc_frac: int) -> None:
    """A located error if a value of the user-defined neuron can leave the 64-bit integers in
    which every backend computes it (:mod:`snnc.intrange`)."""
    try:
        check_program(program, u_w=fmt.width, u_frac=fmt.frac, acc_w=acc_bits, acc_frac=acc_frac)
    except RangeError as exc:
        hint = ("use narrower weights or inputs, or a membrane format with fewer fractional bits "
                f"than {fmt}" if exc.what == INPUT_WHAT else
                f"use a narrower membrane format than {fmt}, or smaller constants")
        raise SnnError(layer.loc, f"neuron '{program.name}' in layer '{layer.name}': {exc.what} "
                                  f"needs up to {exc.bits} bits, more than the {MAX_BITS}-bit "
                                  "integers the integer semantics computes in", hint) from None


def _check_rescales(layer, c: NeuronConsts, formats: Formats, acc_bits: int, acc_frac: int,
                    in_frac: int) -> None:
    """A located error if a built-in neuron's rescaling of a value to more fractional bits (a
    left shift, exact in Verilog) followed by its addition could leave the 64-bit integers the
    golden model, torch and HLS compute in (docs/semantics.md section 4); they wrapped there."""
    fm, fi, fa = formats.membrane, formats.current, formats.adaptation

    def signed_bits(v: int) -> int:
        return abs(int(v)).bit_length() + 1

    # (what, its width before the shift, from_frac, to_frac, the format to make narrower)
    checks = [("the synaptic input", acc_bits, acc_frac, in_frac,
               "narrower weights or inputs, or a state format with fewer fractional bits")]
    if c.kind == "CubaLIF":
        checks.append(("the current I in membrane units", fi.width, fi.frac, fm.frac,
                       "a current format with more fractional bits"))
    if c.kind == "ALIF":
        checks.append(("beta * A in membrane units", signed_bits(c.beta) + fa.width,
                       COEF_FRAC + fa.frac, fm.frac, "a smaller beta, or closer fractional bits "
                                                     "of the membrane and adaptation formats"))
    if c.kind == "ASN":
        checks.append(("the adaptation A in membrane units", fa.width, fa.frac, fm.frac,
                       "an adaptation format with more fractional bits"))
        checks.append(("the adaptation jump m_f * h", signed_bits(c.m_f) + fm.width,
                       COEF_FRAC + fm.frac, fa.frac, "a smaller m_f, or closer fractional bits "
                                                     "of the membrane and adaptation formats"))
    for what, width, src, dst, fix in checks:
        bits = width + max(0, dst - src) + 1           # the left shift, then one addition
        if bits > MAX_BITS:
            raise SnnError(layer.loc, f"{what} of layer '{layer.name}' is shifted from {src} to "
                                      f"{dst} fractional bits and then added: it needs up to "
                                      f"{bits} bits, more than the {MAX_BITS}-bit integers the "
                                      "integer semantics computes in", f"use {fix}")


def _coef31(layer, name: str, value: float) -> int:
    """``coef(value)`` for a factor the neuron units hold in a 32-bit signed parameter."""
    c = coef(value)
    if abs(c) >= 1 << 31:
        raise SnnError(ir.loc_of(value, layer.loc), f"{name} = {value:g} of layer '{layer.name}' "
                                                    f"is out of range: |{name}| must be below 32768 "
                                                    "(a coefficient of 16 fractional bits in "
                                                    "32-bit signed integers)")
    return c


def _avg_weight_ok(layer, k: int, weight: int, fmt: Fixed, report: LayerReport,
                   errors: list) -> bool:
    """An avgpool's weight 1/k in membrane units: an error where it rounds to 0 (the layer would
    never get an input), a note where it is more than 10% off."""
    if weight == 0:
        need = next(f for f in range(fmt.frac + 1, 64)
                    if abs(math.floor(2.0 ** f / k + 0.5) - 2.0 ** f / k) <= 0.1 * 2.0 ** f / k)
        errors.append(SnnError(layer.loc, f"the weight 1/{k} of avgpool layer '{layer.name}' "
                                          f"rounds to 0 in the membrane format {fmt}: the layer "
                                          "would never receive an input",
                               f"give the membrane format {need} fractional bits (1/{k} within "
                               "10%), or use sumpool"))
        return False
    exact = 2.0 ** fmt.frac / k
    if abs(weight - exact) > 0.1 * exact:
        report.notes.append(f"avgpool weight 1/{k} = {1 / k:.6g} applied as {weight}/2^{fmt.frac}"
                            f" = {weight * 2.0 ** -fmt.frac:.6g} (membrane format {fmt})")
    return True


def _magnitude(fmt: Fixed | None) -> int:
    """The largest |q| of a format's integers (a plain spike, None, is 1)."""
    if fmt is None:
        return 1
    return max(-fmt.min_int, fmt.max_int)


def _sum_bits(n: int, term: int) -> int:
    """Signed bits that hold any sum of ``n`` terms of magnitude at most ``term``. (The sizes
    above, ``weights + payload + bits(fan)``, assume signed formats: an unsigned weight times a
    spike or an unsigned payload needs one bit more.)"""
    return (n * term).bit_length() + 1


def _bits(n: int) -> int:
    """ceil(log2(n + 1)): bits to count up to n."""
    return max(1, math.ceil(math.log2(n + 1)))


def _fan_in(layer) -> int:
    if isinstance(layer, ir.Dense):
        fan = layer.in_shape[0]
    elif isinstance(layer, ir.Recurrent):
        fan = layer.in_shape[0] + layer.units
    elif isinstance(layer, ir.Conv2d):
        fan = layer.in_shape[0] * layer.kernel[0] * layer.kernel[1]
    else:
        raise TypeError(f"no fan-in for {type(layer).__name__}")
    return fan + (1 if getattr(layer, "bias", False) else 0)


def _quantize_tensors(layer, weights: dict, fmt: Fixed, report: LayerReport) -> dict:
    shapes = ir.weight_shapes(layer)
    given = weights.get(layer.name, {}) if weights is not None else {}
    out = {}
    for tensor, shape in shapes.items():
        if tensor not in given:
            raise SnnError(layer.loc, f"no '{tensor}' weights for layer '{layer.name}'")
        w = np.asarray(given[tensor], dtype=np.float64)
        if w.shape != tuple(shape):
            raise SnnError(layer.loc, f"weights '{layer.name}/{tensor}' have shape {list(w.shape)}, "
                                      f"the layer needs {list(shape)}")
        if not np.isfinite(w).all():
            raise SnnError(layer.loc, f"weights '{layer.name}/{tensor}' hold "
                                      f"{int(np.count_nonzero(~np.isfinite(w)))} values that are "
                                      "not finite numbers (nan or inf)")
        q, clipped = quantize_fixed(w, fmt)
        out[tensor] = q
        if np.any(w) and not np.any(q):     # a tensor whose every value rounds to 0
            report.notes.append(
                f"all {int(np.count_nonzero(w))} non-zero '{tensor}' weights round to 0 in {fmt} "
                f"(the largest is {float(np.max(np.abs(w))):.3g}, half a step {fmt.scale / 2:g}): "
                "the layer gets nothing through them")
        report.weights += int(w.size)
        report.clipped += clipped
        if w.size:
            err = float(np.max(np.abs(w - q * fmt.scale)))
            report.max_error = max(report.max_error, err)
    if report.clipped:
        report.clip_note = (f"{report.clipped} of {report.weights} weights clipped to the range of "
                            f"{fmt} [{fmt.min_value:g}, {fmt.max_value:g}]")
        report.notes.append(report.clip_note)
    return out


def _threshold(layer, theta: float, fmt: Fixed, strict: bool = True) -> int:
    """θ in the membrane format; ``strict``: the neuron spikes where ``U > θ``, which a θ at
    the format's largest value never lets happen (the saturated U reaches it, no more)."""
    q = real_to_int(theta, fmt.frac)
    loc = ir.loc_of(theta, layer.loc)
    if q < 1:
        raise SnnError(loc, f"threshold {theta:g} of layer '{layer.name}' rounds to 0 in the "
                            f"membrane format {fmt} (resolution {fmt.scale:g})",
                       "use a format with more fractional bits, or a larger threshold")
    if q > fmt.max_int:
        raise SnnError(loc, f"threshold {theta:g} of layer '{layer.name}' does not fit the "
                            f"membrane format {fmt} (largest value {fmt.max_value:.12g})",
                       "use a format with more integer bits, or a smaller threshold")
    if strict and q == fmt.max_int:
        raise SnnError(loc, f"threshold {theta:g} of layer '{layer.name}' is the largest value of "
                            f"the membrane format {fmt} ({fmt.max_value:.12g}): the membrane, "
                            "saturated there, is never above it, so the neuron never spikes",
                       "use a format with more integer bits, or a smaller threshold")
    return q


def _decay(layer, tau_name: str, tau: float, dt: float, leak: str, report: LayerReport,
           digits: int | None = None) -> int:
    factor = math.exp(-dt / tau)
    if leak == "shift":
        k = shift_for_decay(factor)
        report.notes.append(f"{tau_name} = {Quantity(tau, TIME)}: decay {factor:.6f} applied as "
                            f"v - (v >> {k}), an effective factor {1 - 2.0 ** -k:.6f}")
        return k
    c = coef(factor)
    if digits is not None and c < 1 << COEF_FRAC:
        near = csd_round(c, digits)
        if near >= 1 << COEF_FRAC:
            raise SnnError(ir.loc_of(tau, layer.loc),
                           f"decay exp(-dt/{tau_name}) = {factor:.7f} of layer '{layer.name}' "
                           f"rounds to 1 with leak_digits = {digits}: the state would never decay",
                           "use a larger leak_digits, or a shorter time constant")
        if near != c:
            eff = near / (1 << COEF_FRAC)
            tau_eff = -dt / math.log(eff) if 0 < eff < 1 else math.inf
            report.notes.append(
                f"{tau_name} = {Quantity(tau, TIME)}: decay coefficient {c}/2^{COEF_FRAC} rounded "
                f"to {near}/2^{COEF_FRAC} ({digits} signed digits, leak_digits): an effective "
                f"factor {eff:.6f}, tau {Quantity(tau_eff, TIME)}")
        c = near
    if c >= 1 << COEF_FRAC:
        raise SnnError(ir.loc_of(tau, layer.loc),
                       f"decay exp(-dt/{tau_name}) = {factor:.7f} of layer '{layer.name}' "
                       f"rounds to 1 with {COEF_FRAC} fractional bits: the state would never decay",
                       f"{tau_name} = {Quantity(tau, TIME)} is too long for dt = {Quantity(dt, TIME)}; "
                       "use a shorter time constant, or an IF neuron")
    return c


def _neuron_plan(layer, n, formats: Formats, dt: float, decay_default: str, report: LayerReport,
                 digits: int | None = None):
    if isinstance(n, ir.CustomNeuron):
        return lower_custom(layer, n, formats.membrane, dt, report)
    if isinstance(n, ir.ReLU):
        return NeuronConsts("ReLU", 0, "none", 0, "none", None)
    if isinstance(n, ir.ASN):
        theta = _threshold(layer, n.threshold, formats.membrane, strict=False)  # 2(U-P) > θ
        leak = n.leak or decay_default
        beta = _decay(layer, "tau_beta", n.tau_beta, dt, leak, report, digits)
        gamma = _decay(layer, "tau_gamma", n.tau_gamma, dt, leak, report, digits)
        eta = _decay(layer, "tau_eta", n.eta, dt, leak, report, digits)
        return NeuronConsts("ASN", theta, "none", 0, leak, beta, adapt_decay=gamma,
                            pred_decay=eta, m_f=_coef31(layer, "m_f", n.m_f))
    if not isinstance(n, (ir.IF, ir.LIF, ir.CubaLIF, ir.ALIF)):
        raise TypeError(f"unknown neuron type {type(n).__name__}")
    theta = _threshold(layer, n.threshold, formats.membrane)
    if isinstance(n, ir.IF):
        return NeuronConsts("IF", theta, n.reset, n.refractory, "none", None)
    leak = n.leak or decay_default
    mem = _decay(layer, "tau_mem", n.tau_mem, dt, leak, report, digits)
    if isinstance(n, ir.LIF):
        return NeuronConsts("LIF", theta, n.reset, n.refractory, leak, mem)
    if isinstance(n, ir.CubaLIF):
        syn = _decay(layer, "tau_syn", n.tau_syn, dt, leak, report, digits)
        return NeuronConsts("CubaLIF", theta, n.reset, n.refractory, leak, mem, syn_decay=syn)
    adapt = _decay(layer, "tau_adapt", n.tau_adapt, dt, leak, report, digits)
    return NeuronConsts("ALIF", theta, n.reset, n.refractory, leak, mem, adapt_decay=adapt,
                        beta=_coef31(layer, "beta", n.beta))


# ---------------------------------------------------------------------- user-defined neurons


def lower_custom(layer, n: ir.CustomNeuron, fmt: Fixed, dt: float,
                 report: LayerReport | None = None) -> IntProgram:
    """Lower a user-defined neuron to the integer expression IR (docs/semantics.md section 4).

    A constant that its integer form misses by more than ``IMPRECISE`` of its value (a time such as
    ``dt`` in a membrane format with few fractional bits: states and constants are in SI units) is
    noted in ``report``. Errors are located at the expression at fault where it carries its place
    in the source, else at the layer."""
    params = dict(n.params)
    low = _Lowering(layer, n, fmt, dt, params, report)
    states = []
    for s in n.states:
        kind, value = low.lower(s.init)
        if kind != "const":
            raise SnnError(low.loc(s.init), f"initial value of '{s.name}' in neuron '{n.name}' must "
                                            "be a constant")
        q = real_to_int(value, fmt.frac)
        if not fmt.min_int <= q <= fmt.max_int:
            raise SnnError(low.loc(s.init), f"initial value {value:g} of '{s.name}' in neuron "
                                            f"'{n.name}' does not fit the membrane format {fmt}")
        low.k(value, s.init)                        # its precision note
        states.append((s.name, q))
    update = tuple(I.IAssign(a.target, low.value(a.value)) for a in n.update)
    kind, spike = low.lower(n.spike)
    if kind == "const":
        spike = I.IConst(1 if spike else 0)
    on_spike = tuple(I.IAssign(a.target, low.value(a.value)) for a in n.on_spike)
    emit = None
    if n.emit is not None:
        kind, emit = low.lower(n.emit)
        if kind == "bool":
            raise low.error(n.emit, "the spike height after `emit` must be a number")
        emit = low.operand(kind, emit, n.emit)
    return IntProgram(n.name, tuple(states), update, spike, on_spike, emit)


_FOLD = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
         "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
         ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
         "and": lambda a, b: bool(a) and bool(b), "or": lambda a, b: bool(a) or bool(b)}


IMPRECISE = 0.1          # a user neuron's constant noted when its integer form is 10% off


class _Lowering:
    def __init__(self, layer, neuron, fmt: Fixed, dt: float, params: dict,
                 report: LayerReport | None = None):
        self.layer, self.neuron, self.fmt, self.dt, self.params = layer, neuron, fmt, dt, params
        self.report = report
        self.noted: set = set()

    def _note_precision(self, value: float, got: float, what: str) -> None:
        """A note (once per constant) if ``got``, the integer form of ``value``, is imprecise."""
        if self.report is None or value == 0 or abs(got - value) <= IMPRECISE * abs(value) \
                or (value, what) in self.noted:
            return
        self.noted.add((value, what))
        off = "0" if got == 0 else f"{got:g} ({abs(got - value) / abs(value):.0%} off)"
        self.report.notes.append(f"neuron '{self.neuron.name}': the constant {value:g} becomes "
                                 f"{off} as {what}")

    def loc(self, e):
        """Where expression ``e`` was written, else the layer."""
        return getattr(e, "loc", None) or self.layer.loc

    def error(self, e, msg: str, at=None, kind=SnnError) -> SnnError:
        """An error about expression ``e``, located at ``at`` (default ``e``)."""
        return kind(self.loc(at if at is not None else e),
                    f"neuron '{self.neuron.name}' in layer '{self.layer.name}': {msg} "
                    f"(in `{E.to_text(e)}`)")

    def _too_wide(self, e, q: int, what: str) -> None:
        """The error of :func:`_check_int64` at ``e``, for a constant beyond 64-bit integers."""
        try:
            check(q, q, what)
        except RangeError as exc:
            raise SnnError(self.loc(e), f"neuron '{self.neuron.name}' in layer '{self.layer.name}': "
                                        f"{exc.what} needs up to {exc.bits} bits, more than the "
                                        f"{MAX_BITS}-bit integers the integer semantics computes in",
                           f"use a narrower membrane format than {self.fmt}, or smaller "
                           "constants") from None

    def k(self, value: float, e) -> I.IConst:
        """The constant ``value`` (of expression ``e``) in membrane units."""
        q = real_to_int(value, self.fmt.frac)
        self._too_wide(e, q, f"the constant {value:g}")
        if self.fmt.min_int <= q <= self.fmt.max_int:
            self._note_precision(value, q * self.fmt.scale,
                                 f"a value in the membrane format {self.fmt} (a user neuron's "
                                 "states and constants are in SI units, a time in seconds: give "
                                 "the format more fractional bits, or count steps)")
        return I.IConst(q)

    def c(self, value: float, e) -> int:
        """A multiplier (the value of expression ``e``) as a coefficient of ``COEF_FRAC``
        fractional bits."""
        q = coef(value)
        self._too_wide(e, q, f"the coefficient {value:g}")
        self._note_precision(value, q / (1 << COEF_FRAC),
                             f"a multiplier ({COEF_FRAC} fractional bits)")
        return q

    def value(self, e) -> I.IExpr:
        """A numeric expression as IExpr (constants quantised to membrane units)."""
        kind, v = self.lower(e)
        return self.k(v, e) if kind == "const" else v

    def operand(self, kind, v, e) -> I.IExpr:
        return self.k(v, e) if kind == "const" else v

    def const(self, e, value: float):
        """``("const", value)``, the value of expression ``e``: an error where it is beyond the
        range of floating point (inf or nan cannot be rounded to an integer)."""
        if not math.isfinite(value):
            raise self.error(e, "the value is out of range (it overflows floating point, beyond "
                                "1.8e308)")
        return "const", value

    def lower(self, e):
        """-> ("const", float) | ("var", IExpr) | ("bool", IExpr)."""
        if isinstance(e, E.Const):
            return self.const(e, e.value)
        if isinstance(e, E.Ref):
            if e.kind == "param":
                return self.const(e, self.params[e.name])
            if e.kind == "dt":
                return self.const(e, self.dt)
            if e.kind == "state":
                return "var", I.IState(e.name)
            if e.kind == "input":
                return "var", I.IInput()
            if e.kind == "height":          # `height` in `on spike`: the payload just sent
                return "var", I.IState(I.EMIT_KEY)
            raise ValueError(f"unknown reference kind {e.kind!r}")
        if isinstance(e, E.Unary):
            kind, v = self.lower(e.operand)
            if e.op == "neg":
                return ("const", -v) if kind == "const" else ("var", I.INeg(v))
            if kind == "const":
                return "const", not v
            return "bool", I.ILogic("not", (v,))
        if isinstance(e, E.Binary):
            return self._binary(e)
        if isinstance(e, E.Func):
            return self._func(e)
        raise TypeError(f"not an expression node: {e!r}")

    def _binary(self, e: E.Binary):
        (ka, a), (kb, b) = self.lower(e.left), self.lower(e.right)
        if e.op == "/" and kb == "const" and b == 0:
            raise self.error(e, "division by zero", at=e.right)
        if ka == "const" and kb == "const":
            if e.op == "/":
                return self.const(e, a / b)
            result = _FOLD[e.op](a, b)
            return self.const(e, float(result)) if e.op in "+-*" else ("const", bool(result))
        if e.op in ("and", "or"):
            return "bool", I.ILogic(e.op, (self._as_bool(ka, a), self._as_bool(kb, b)))
        if e.op in E.COMPARE_OPS:
            return "bool", I.ICompare(e.op, self.operand(ka, a, e.left),
                                      self.operand(kb, b, e.right))
        if e.op in "+-":
            return "var", I.IArith(e.op, self.operand(ka, a, e.left), self.operand(kb, b, e.right))
        if e.op == "*":
            if ka == "const":
                return "var", I.ICoefMul(self.c(a, e.left), b)
            if kb == "const":
                return "var", I.ICoefMul(self.c(b, e.right), a)
            return "var", I.IMul(a, b)
        if e.op == "/":
            if kb != "const":
                raise self.error(e, "division by a variable is not supported in the integer "
                                    "semantics", kind=FloatOnly)
            if not math.isfinite(1.0 / b):          # b below 1/1.8e308: a denormal number
                raise self.error(e, f"1 / {b:g} is out of range (it overflows floating point, "
                                    "beyond 1.8e308)", at=e.right)
            return "var", I.ICoefMul(self.c(1.0 / b, e.right), a)
        raise ValueError(f"unknown operator {e.op!r}")

    def _as_bool(self, kind, v) -> I.IExpr:
        return I.IConst(1 if v else 0) if kind == "const" else v

    def _func(self, e: E.Func):
        lowered = []
        for a in e.args:        # (a loop: a comprehension's frame would halve the depth allowed)
            lowered.append(self.lower(a))
        if all(kind == "const" for kind, _ in lowered):
            vals = [v for _, v in lowered]
            if e.name == "decay":
                if not vals[0] > 0:
                    raise self.error(e, f"decay() needs a positive time constant, got {vals[0]:g} s")
                return "const", math.exp(-self.dt / vals[0])
            if e.name == "exp":
                try:
                    return "const", math.exp(vals[0])
                except OverflowError:
                    return self.const(e, math.inf)
            if e.name == "clip":
                return "const", min(max(vals[0], vals[1]), vals[2])
            fn = {"min": min, "max": max, "abs": abs}[e.name]
            return "const", float(fn(*vals))
        if e.name in ("exp", "decay"):
            raise self.error(e, f"{e.name}() of a state variable is not supported in the integer "
                                "semantics; its argument must be constant", kind=FloatOnly)
        return "var", I.IFunc(e.name, tuple(self.operand(k, v, a)
                                            for (k, v), a in zip(lowered, e.args)))
