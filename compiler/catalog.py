"""What the language knows by name: built-in neuron kinds, encodings, surrogates, layer operators,
readouts, and the keys of the ``time``, ``train`` and ``hardware`` blocks, each as parameter specs."""
from __future__ import annotations

from snnc import ir
# The language's keywords (docs/language.md section 1), defined by the parser, which keeps them
# whole: not names of inputs, layers, neurons, parameters or states (where one could be lexed as
# the keyword, its uses failed with errors that did not say why, e.g. `dense(input, 4)`).
from snnc.dsl.parser import KEYWORDS
from snnc.values import (ParamSpec, at_least_one, learning_rate, non_negative, positive,
                         step_count)

# ------------------------------------------------------------------ neurons

def coefficient(v) -> str | None:
    """A multiplier the integer semantics holds in 16 fractional bits of a 32-bit integer."""
    return None if 0 <= v < 32768 else "must be at least 0 and below 32768"


_THRESHOLD = ParamSpec("threshold", "real", 1.0, check=positive, doc="firing threshold")
_RESET = ParamSpec("reset", "enum", "subtract", options=ir.RESETS,
                   doc="what a spike does to the membrane")
_REFRACTORY = ParamSpec("refractory", "steps", 0, check=non_negative,
                        doc="steps after a spike during which input is ignored")
_LEAK = ParamSpec("leak", "enum", None, options=ir.LEAKS,
                  doc="how the integer model applies the decay: quantised multiply or shift "
                      "(default: the hardware block's `decay`)")
_TAU_MEM = ParamSpec("tau_mem", "time", required=True, check=positive, doc="membrane time constant")

NEURONS: dict[str, tuple[type, list[ParamSpec]]] = {
    "IF": (ir.IF, [_THRESHOLD, _RESET, _REFRACTORY]),
    "LIF": (ir.LIF, [_TAU_MEM, _THRESHOLD, _RESET, _REFRACTORY, _LEAK]),
    "CubaLIF": (ir.CubaLIF, [_TAU_MEM,
                             ParamSpec("tau_syn", "time", required=True, check=positive,
                                       doc="synaptic current time constant"),
                             _THRESHOLD, _RESET, _REFRACTORY, _LEAK]),
    "ALIF": (ir.ALIF, [_TAU_MEM,
                       ParamSpec("tau_adapt", "time", required=True, check=positive,
                                 doc="time constant of threshold adaptation"),
                       ParamSpec("beta", "real", 1.8, check=coefficient,
                                 doc="threshold increase per unit of adaptation"),
                       _THRESHOLD, _RESET, _REFRACTORY, _LEAK]),
    "ASN": (ir.ASN, [ParamSpec("tau_beta", "time", required=True, check=positive,
                               doc="time constant of the input (decoding) kernel"),
                     ParamSpec("threshold", "real", 0.1, check=positive,
                               doc="resting threshold theta0"),
                     ParamSpec("m_f", "real", 0.1, check=coefficient,
                               doc="multiplicative adaptation: each spike adds m_f * theta"),
                     ParamSpec("tau_gamma", "time", 0.015, check=positive,
                               doc="time constant of the threshold adaptation"),
                     ParamSpec("tau_eta", "time", None, check=positive,
                               doc="time constant of the self-prediction (default tau_beta)"),
                     _LEAK]),
    "ReLU": (ir.ReLU, []),
}
NEURONS["relu"] = NEURONS["ReLU"]     # `with relu` reads as the activation it is

# ------------------------------------------------------------------ encodings

_UNIT_INTERVAL = ParamSpec("threshold", "real", 0.01, check=non_negative)

ENCODINGS: dict[str, tuple[type, list[ParamSpec]]] = {
    "rate": (ir.Rate, [ParamSpec("gain", "real", 1.0, check=positive,
                                 doc="spike probability per step is clip(gain * x, 0, 1)")]),
    "latency": (ir.Latency, [_UNIT_INTERVAL]),
    "delta": (ir.Delta, [ParamSpec("threshold", "real", 0.1, check=positive)]),
    "direct": (ir.Direct, [ParamSpec("scale", "real", 1.0, check=lambda v: None if v != 0 else
                                     "must not be 0 (every input value would be 0)"),
                           ParamSpec("hold", "bool", False,
                                     doc="send each value's changes, not the value at every step: "
                                         "the reading layers hold their input (ir.Direct)")]),
}

# ------------------------------------------------------------------ surrogate gradients

SURROGATES: dict[str, list[ParamSpec]] = {
    "fast_sigmoid": [ParamSpec("slope", "real", 25.0, check=positive)],
    "triangle": [ParamSpec("width", "real", 1.0, check=positive)],
    "exponential": [ParamSpec("slope", "real", 5.0, check=positive)],
    "atan": [ParamSpec("alpha", "real", 2.0, check=positive)],
    "sigmoid": [ParamSpec("slope", "real", 5.0, check=positive)],
    "rectangular": [ParamSpec("width", "real", 1.0, check=positive)],
}
#: Other names users know these by.
SURROGATE_ALIASES = {"superspike": "fast_sigmoid", "piecewise_linear": "triangle",
                     "boxcar": "rectangular", "straight_through": "rectangular"}
DEFAULT_SURROGATE = ir.Surrogate("fast_sigmoid", (("slope", 25.0),))

# ------------------------------------------------------------------ layers


def non_negative_pair(v) -> str | None:
    return None if all(x >= 0 for x in v) else "must not be negative"


def _source() -> ParamSpec:
    return ParamSpec("source", "source", required=True)


_DELAY = ParamSpec("delay", "steps", 0, check=non_negative, doc="synaptic delay in steps")
_BIAS = ParamSpec("bias", "bool", False)
_SURROGATE = ParamSpec("surrogate", "surrogate", None)


def _clock_range(v) -> str | None:
    """An FPGA clock: 1 kHz to 5 GHz (1e7 MHz was taken, and the HLS project's period was
    written as 0 ns)."""
    return None if 1e3 <= v <= 5e9 else "must be between 1 kHz and 5000 MHz"


def _lanes_range(v) -> str | None:
    return None if 1 <= v <= ir.MAX_LANES else f"must be between 1 and {ir.MAX_LANES}"


_LANES = ParamSpec("lanes", "int", None,
                   check=_lanes_range,
                   doc="neurons the accelerator updates per cycle in this layer (default: the "
                       "hardware block's `lanes`)")

#: operator -> (parameter specs, how many may be positional)
LAYER_OPS: dict[str, tuple[list[ParamSpec], int]] = {
    "dense": ([_source(), ParamSpec("units", "int", required=True, check=at_least_one),
               _BIAS, _DELAY, _SURROGATE, _LANES], 2),
    "recurrent": ([_source(), ParamSpec("units", "int", required=True, check=at_least_one),
                   _BIAS, _DELAY, _SURROGATE, _LANES], 2),
    "conv2d": ([_source(), ParamSpec("channels", "int", required=True, check=at_least_one),
                ParamSpec("kernel", "ints", required=True, check=at_least_one),
                ParamSpec("stride", "ints", (1, 1), check=at_least_one),
                ParamSpec("padding", "ints", (0, 0), check=non_negative_pair),
                _BIAS, _DELAY, _SURROGATE], 3),
    "sumpool": ([_source(), ParamSpec("kernel", "ints", required=True, check=at_least_one),
                 ParamSpec("stride", "ints", None, check=at_least_one), _DELAY, _SURROGATE], 2),
    "avgpool": ([_source(), ParamSpec("kernel", "ints", required=True, check=at_least_one),
                 ParamSpec("stride", "ints", None, check=at_least_one), _DELAY, _SURROGATE], 2),
    "flatten": ([_source()], 1),
}


READOUTS = ir.READOUTS



def keyword_error(name: str, loc, what: str):
    """The error for a keyword ``name`` declared as ``what``, or None."""
    from snnc.errors import SnnError

    if name not in KEYWORDS:
        return None
    return SnnError(loc, f"'{name}' is a keyword and cannot be the name of {what}",
                    "choose another name")

# ------------------------------------------------------------------ blocks

TIME_SETTINGS = [
    ParamSpec("dt", "time", required=True, check=positive, doc="length of one time step"),
    ParamSpec("steps", "int", required=True, check=step_count, doc="number of time steps"),
]

LOSSES = ("cross_entropy", "first_spike", "mse_count")
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("none", "cosine", "step")

TRAIN_SETTINGS = [
    ParamSpec("surrogate", "surrogate", None, doc="default surrogate for all layers"),
    ParamSpec("loss", "enum", "cross_entropy", options=LOSSES),
    ParamSpec("optimizer", "enum", "adam", options=OPTIMIZERS),
    ParamSpec("lr", "real", 1e-3, check=learning_rate),
    ParamSpec("epochs", "int", 10, check=at_least_one),
    ParamSpec("batch_size", "int", 64, check=at_least_one),
    ParamSpec("dataset", "name", None),
    ParamSpec("seed", "int", 0, check=non_negative),
    ParamSpec("spike_reg", "real", 0.0, check=non_negative, doc="spike-rate regulariser weight"),
    ParamSpec("tbptt", "steps", 0, check=non_negative, doc="truncated BPTT window (0: full BPTT)"),
    ParamSpec("schedule", "enum", "none", options=SCHEDULES),
]

DEVICES = ("ice40-up5k", "ice40-hx8k", "ecp5-25k", "generic")

HARDWARE_SETTINGS = [
    ParamSpec("weights", "fixed", None, doc="format of synaptic weights"),
    ParamSpec("state", "fixed", None, doc="default format of all neuron state"),
    ParamSpec("membrane", "fixed", None),
    ParamSpec("current", "fixed", None),
    ParamSpec("adaptation", "fixed", None),
    ParamSpec("inputs", "fixed", None, doc="format of direct-encoded input values"),
    ParamSpec("lanes", "int", 4, check=_lanes_range),
    ParamSpec("clock", "frequency", 50e6, check=_clock_range),
    ParamSpec("device", "enum", "ice40-up5k", options=DEVICES),
    ParamSpec("decay", "enum", "multiply", options=ir.LEAKS),
    ParamSpec("leak_digits", "int", None,
              check=lambda v: None if 1 <= v <= 16 else "must be between 1 and 16",
              doc="multiply leak: each built-in neuron's decay coefficient rounded to the nearest "
                  "sum of at most this many signed powers of two (fewer adders in hardware)"),
]
