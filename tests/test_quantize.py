"""The quantizer pass: formats, integer constants, reports and located errors."""
import numpy as np
import pytest

from snnc import intexpr as I
from snnc.build import load_text
from snnc.errors import SnnErrors
from snnc.quantize import NeuronConsts, Quantize, quantize

BASE = """model q
time {{ dt = 1 ms; steps = 10 }}
input x[4] = rate
layer h = dense(x, 3) with {neuron}
output h = count
{hardware}
"""


def graph(neuron="LIF(tau_mem = 10 ms)", hardware="hardware { weights = fixed<8,6>; state = fixed<16,8> }",
          extra=""):
    return load_text(BASE.format(neuron=neuron, hardware=hardware) + extra, "q.snn").graph


def weights(g, value=None, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for layer in g.layers:
        from snnc.ir import weight_shapes
        out[layer.name] = {k: (np.full(s, value) if value is not None else rng.normal(0, 0.5, s))
                           for k, s in weight_shapes(layer).items()}
    return out


def test_lif_constants_and_formats():
    g = graph()
    q = quantize(g, weights(g, 0.25))
    plan = q.plan("h")
    # b = exp(-1/10) = 0.904837..., * 65536 = 59299.5 -> 59299 (floor(x + 0.5))
    assert plan.neuron == NeuronConsts("LIF", threshold=256, reset="subtract", refractory=0,
                                       leak="multiply", mem_decay=59299)
    assert (plan.acc_frac, plan.in_frac) == (6, 8)
    assert plan.acc_bits == 8 + 3          # fan-in 4 -> ceil(log2(5)) = 3
    np.testing.assert_array_equal(q.weights["h"]["weight"], np.full((3, 4), 16))
    assert q.notes == ()


def test_defaults_are_reported():
    g = graph(hardware="")
    q = quantize(g, weights(g, 0.1))
    assert q.notes == ("no `hardware` block: using default formats weights fixed<8,6>, state "
                       "fixed<16,8>, inputs fixed<12,8>",)


def test_clipping_is_counted_and_max_error_reported():
    g = graph()
    w = weights(g, 0.0)
    w["h"]["weight"][0, 0] = 5.0      # max of fixed<8,6> is 1.984375
    w["h"]["weight"][1, 1] = -3.0     # min is -2
    w["h"]["weight"][2, 2] = 0.01     # 0.64 LSB -> 1 LSB, error 0.005625
    q = quantize(g, w)
    report = q.report[0]
    assert (report.weights, report.clipped) == (12, 2)
    assert report.max_error == pytest.approx(5.0 - 127 / 64)
    assert report.notes == ["2 of 12 weights clipped to the range of fixed<8,6> [-2, 1.98438]"]


def test_a_tensor_that_rounds_to_zero_everywhere_is_a_note():
    # weights far below the format's step all became 0 without a word: a layer silently cut off
    g = graph()
    w = weights(g, 0.0)
    w["h"]["weight"][0, 0] = 0.007     # 0.45 LSB of fixed<8,6>
    w["h"]["weight"][1, 2] = -0.003
    q = quantize(g, w)
    assert not q.weights["h"]["weight"].any()
    assert q.report[0].notes == [
        "all 2 non-zero 'weight' weights round to 0 in fixed<8,6> (the largest is "
        "0.007, half a step 0.0078125): the layer gets nothing through them"]
    assert f"layer 'h': {q.report[0].notes[0]}" in q.all_notes()
    w["h"]["weight"][2, 2] = 0.01       # one value survives: no note
    assert quantize(g, w).report[0].notes == []
    assert quantize(g, weights(g, 0.0)).report[0].notes == []     # all zero as given: no note


def _error(g, w=None):
    with pytest.raises(SnnErrors) as info:
        quantize(g, w if w is not None else weights(g, 0.1))
    return [(e.line, e.col, e.message, e.hint) for e in info.value.errors]


def test_threshold_too_large_is_a_located_error():
    """Located at the threshold as written (4:61, `200`), not at the layer (4:1)."""
    g = graph("LIF(tau_mem = 10 ms, threshold = 200)")
    assert _error(g) == [(4, 61, "threshold 200 of layer 'h' does not fit the membrane format "
                                "fixed<16,8> (largest value 127.99609375)",
                          "use a format with more integer bits, or a smaller threshold")]


def test_threshold_beyond_int64_is_too_large_not_zero():
    """A threshold whose scaled value int64 cannot hold is quantised exactly (it wrapped to -2^63
    and was reported as rounding to 0)."""
    g = graph("LIF(tau_mem = 10 ms, threshold = 1e30)")
    assert _error(g) == [(4, 61, "threshold 1e+30 of layer 'h' does not fit the membrane format "
                                "fixed<16,8> (largest value 127.99609375)",
                          "use a format with more integer bits, or a smaller threshold")]


def test_a_default_threshold_is_located_at_the_neuron():
    """A threshold not written (the default 1.0) is located at the neuron, `LIF(...)` at 4:28."""
    g = graph("LIF(tau_mem = 10 ms)", hardware="hardware { state = fixed<4,3> }")
    assert _error(g) == [(4, 28, "threshold 1 of layer 'h' does not fit the membrane format "
                                 "fixed<4,3> (largest value 0.875)",
                          "use a format with more integer bits, or a smaller threshold")]
    with pytest.raises(SnnErrors) as info:
        quantize(g, weights(g, 0.1))
    assert (info.value.errors[0].loc.end_line, info.value.errors[0].loc.end_col) == (4, 48)


def test_threshold_below_resolution_is_a_located_error():
    g = graph("IF(threshold = 0.001)")
    assert _error(g) == [(4, 43, "threshold 0.001 of layer 'h' rounds to 0 in the membrane format "
                                "fixed<16,8> (resolution 0.00390625)",
                          "use a format with more fractional bits, or a larger threshold")]


def test_decay_that_rounds_to_one_is_rejected():
    g = graph("LIF(tau_mem = 1000 s)")
    [(line, col, msg, hint)] = _error(g)
    assert (line, col) == (4, 42)            # `1000 s`
    assert msg == ("decay exp(-dt/tau_mem) = 0.9999990 of layer 'h' rounds to 1 with 16 fractional "
                   "bits: the state would never decay")
    assert hint == ("tau_mem = 1000 s is too long for dt = 1 ms; use a shorter time constant, or an "
                    "IF neuron")


def test_shift_leak_and_its_report():
    g = graph("CubaLIF(tau_mem = 20 ms, tau_syn = 5 ms, leak = shift)")
    q = quantize(g, weights(g, 0.1))
    n = q.plan("h").neuron
    # exp(-1/20) = 0.9512 -> 1 - b = 0.0488 -> -log2 = 4.36 -> k = 4; exp(-1/5) = 0.8187 -> 2.47 -> 2
    assert (n.kind, n.leak, n.mem_decay, n.syn_decay) == ("CubaLIF", "shift", 4, 2)
    assert q.report[0].notes == [
        "tau_mem = 20 ms: decay 0.951229 applied as v - (v >> 4), an effective factor 0.937500",
        "tau_syn = 5 ms: decay 0.818731 applied as v - (v >> 2), an effective factor 0.750000"]


def test_leak_digits_rounds_the_multiply_coefficients_and_reports():
    hw = "hardware { weights = fixed<8,6>; state = fixed<16,8>; leak_digits = 4 }"
    g = graph("CubaLIF(tau_mem = 10 ms, tau_syn = 5 ms)", hardware=hw)
    q = quantize(g, weights(g, 0.1))
    n = q.plan("h").neuron
    # 59299 = round(exp(-1/10) 2^16) has 7 signed digits; 59328 = 2^16 - 2^13 + 2^11 - 2^6
    assert (n.mem_decay, n.syn_decay) == (59328, 53760)
    assert q.report[0].notes == [
        "tau_mem = 10 ms: decay coefficient 59299/2^16 rounded to 59328/2^16 (4 signed digits, "
        "leak_digits): an effective factor 0.905273, tau 10.0484 ms",
        "tau_syn = 5 ms: decay coefficient 53656/2^16 rounded to 53760/2^16 (4 signed digits, "
        "leak_digits): an effective factor 0.820312, tau 5.04872 ms"]
    plain = quantize(graph("CubaLIF(tau_mem = 10 ms, tau_syn = 5 ms)"), weights(g, 0.1))
    assert (plain.plan("h").neuron.mem_decay, plain.plan("h").neuron.syn_decay) == (59299, 53656)
    # a shift leak is not affected; a coefficient with few digits already is kept
    g = graph("LIF(tau_mem = 20 ms, leak = shift)", hardware=hw)
    assert quantize(g, weights(g, 0.1)).plan("h").neuron.mem_decay == 4
    g = graph("LIF(tau_mem = 20 ms)", hardware=hw.replace("4 }", "5 }"))
    assert quantize(g, weights(g, 0.1)).plan("h").neuron.mem_decay == 62340   # 5 digits


def test_leak_digits_that_round_a_decay_to_one_are_a_located_error():
    hw = "hardware { weights = fixed<8,6>; state = fixed<16,8>; leak_digits = 1 }"
    assert _error(graph("LIF(tau_mem = 1 s)", hardware=hw)) == [
        (4, 42, "decay exp(-dt/tau_mem) = 0.9990005 of layer 'h' rounds to 1 with leak_digits = 1: "
               "the state would never decay",
         "use a larger leak_digits, or a shorter time constant")]


def test_leak_digits_is_in_the_json_and_hash_only_when_set():
    from snnc.serialize import graph_from_json, graph_hash, graph_to_json

    plain = graph()
    set_ = graph(hardware="hardware { weights = fixed<8,6>; state = fixed<16,8>; "
                          "leak_digits = 4 }")
    assert "leak_digits" not in str(graph_to_json(plain))
    assert graph_from_json(graph_to_json(set_)).hardware.leak_digits == 4
    assert graph_from_json(graph_to_json(plain)).hardware.leak_digits is None
    assert graph_hash(plain) != graph_hash(set_)


def test_hardware_decay_default_and_neuron_override():
    hw = "hardware { decay = shift }"
    g = graph("LIF(tau_mem = 10 ms)", hardware=hw)
    assert quantize(g, weights(g, 0.1)).plan("h").neuron.leak == "shift"
    g = graph("LIF(tau_mem = 10 ms, leak = multiply)", hardware=hw)
    assert quantize(g, weights(g, 0.1)).plan("h").neuron.leak == "multiply"


def test_alif_constants():
    g = graph("ALIF(tau_mem = 20 ms, tau_adapt = 100 ms, beta = 0.5, threshold = 0.75)")
    n = quantize(g, weights(g, 0.1)).plan("h").neuron
    # exp(-1/100) * 65536 = 64883.906 -> 64884; exp(-1/20) * 65536 = 62339.77 -> 62340
    assert (n.threshold, n.beta, n.adapt_decay, n.mem_decay) == (192, 32768, 64884, 62340)


CUSTOM = """
neuron Adapt {
    param tau: time = 10 ms
    param theta: real = 1.0
    state v = 0
    state a = 0.5
    update {
        v = decay(tau) * v + input - a * v
        a = a / 2 + 0.25
    }
    spike when v > theta + 2 * a
    on spike { v = 0 }
}
"""


def test_custom_neuron_lowering():
    g = graph("Adapt(theta = 1.5)", extra=CUSTOM)
    prog = quantize(g, weights(g, 0.1)).plan("h").neuron
    assert prog.states == (("v", 0), ("a", 128))
    v, a = I.IState("v"), I.IState("a")
    assert prog.update == (
        I.IAssign("v", I.IArith("-", I.IArith("+", I.ICoefMul(59299, v), I.IInput()), I.IMul(a, v))),
        I.IAssign("a", I.IArith("+", I.ICoefMul(32768, a), I.IConst(64))),
    )
    assert prog.spike == I.ICompare(">", v, I.IArith("+", I.IConst(384), I.ICoefMul(131072, a)))
    assert prog.on_spike == (I.IAssign("v", I.IConst(0)),)


@pytest.mark.parametrize("update,message", [
    ("v = v / a", "neuron 'Bad' in layer 'h': division by a variable is not supported in the integer "
                  "semantics (in `v / a`)"),
    ("v = exp(a)", "neuron 'Bad' in layer 'h': exp() of a state variable is not supported in the "
                   "integer semantics; its argument must be constant (in `exp(a)`)"),
])
def test_custom_neuron_unsupported_in_integers(update, message):
    extra = ("neuron Bad { state v = 0; state a = 1; update { " + update + " } "
             "spike when v > 1; on spike { v = 0 } }")
    g = graph("Bad", extra=extra)
    assert _error(g) == [(7, 53, message, None)]          # at `v / a`, `exp(a)`


def test_quantizer_is_deterministic_and_a_pass():
    g = graph()
    w = weights(g, seed=3)
    a, b = quantize(g, w), Quantize(w).run(g)
    assert a.plans == b.plans
    for name in a.weights:
        for k in a.weights[name]:
            np.testing.assert_array_equal(a.weights[name][k], b.weights[name][k])
    assert Quantize(w).name == "quantize"


@pytest.mark.parametrize("neuron,field,value,message", [
    ("ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 1)", "beta", 32768,
     "beta = 32768 of layer 'h' is out of range: |beta| must be below 32768 (a coefficient of 16 "
     "fractional bits in 32-bit signed integers)"),
    ("ASN(tau_beta = 20 ms, m_f = 1)", "m_f", 1e30,
     "m_f = 1e+30 of layer 'h' is out of range: |m_f| must be below 32768 (a coefficient of 16 "
     "fractional bits in 32-bit signed integers)"),
])
def test_adaptation_factors_beyond_the_units_parameters_are_located_errors(neuron, field, value,
                                                                           message):
    """beta and m_f are 32-bit signed parameters of the neuron units; a larger one would be
    truncated in Verilog and overflow int64 in the golden model: rejected for every backend, by
    the language's parameter check (`snnc check`) and, for graphs built otherwise (`snnc
    convert`, the Python API), by the quantizer."""
    import dataclasses

    text = BASE.format(neuron=neuron.replace(f"{field} = 1", f"{field} = {value:g}"),
                       hardware="")
    with pytest.raises(SnnErrors) as info:
        load_text(text, "q.snn")
    col = text.splitlines()[3].index(f"{field} = ") + len(field) + 4
    assert [(e.line, e.col, e.message) for e in info.value.errors] == [
        (4, col, f"parameter '{field}' of {neuron.split('(')[0]} must be at least 0 and below "
                 f"32768, got {value:g}")]
    g = graph(neuron)
    h = g.layers[0]
    bad = dataclasses.replace(h, neuron=dataclasses.replace(h.neuron, **{field: value}))
    g = dataclasses.replace(g, layers=(bad, *g.layers[1:]))
    assert _error(g) == [(4, 1, message, None)]


def test_adaptation_factor_just_below_the_limit_is_kept():
    g = graph("ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 32767.99)")
    assert quantize(g, weights(g, 0.1)).plan("h").neuron.beta == (1 << 31) - 655     # 0.01 * 2^16 = 655.36 below


@pytest.mark.parametrize("update,where,what", [
    ("v = 1e15 * v + input", (7, 40), "the coefficient 1e+15 needs up to 67 bits"),
    ("v = 1e10 * v + input", (4, 1),
     "the product by the coefficient 1e+10 (a `*` or `/` by a constant) needs up to 66 bits"),
    ("v = v + 1e30", (7, 44), "the constant 1e+30 needs up to 109 bits"),
    ("v = v + 1e300 * 1e8", (7, 44), "the constant 1e+308 needs up to 1033 bits"),
    ("v = v * v * v * v * v * v * v + input", (4, 1),
     "the product of two values needs up to 66 bits"),
])
def test_user_neuron_values_beyond_64_bits_are_located_errors(update, where, what):
    """Every backend computes a user-defined neuron in 64-bit integers (golden int64, torch int64,
    HLS snn::i64, Verilog checked against them): a value that can leave them is the quantizer's
    located error, found by interval arithmetic (snnc.intrange), never a wrapped result. A
    constant is located where it is written (`1e15`, `1e30`), a value that depends on the states'
    range at the layer; a constant beyond float's integers (1e308 * 2^8) is counted exactly, it
    made an internal error (float overflow)."""
    extra = ("neuron Big { state v = 0; update { " + update + " } spike when v > 1; "
             "on spike { v = 0 } }")
    g = graph("Big", extra=extra)
    assert _error(g) == [(*where, f"neuron 'Big' in layer 'h': {what}, more than the 64-bit "
                                "integers the integer semantics computes in",
                          "use a narrower membrane format than fixed<16,8>, or smaller constants")]


def test_user_neuron_ranges_near_64_bits_are_kept():
    """The check is exact, not a margin: the largest products that fit are accepted, and the
    golden model computes them without wrapping."""
    from snnc.intrange import Span, mul, mulc

    assert mul(Span(-(1 << 31), (1 << 31) - 1), Span(-(1 << 31), (1 << 31) - 1), 0).hi == 1 << 62
    with pytest.raises(Exception, match="65 bits"):
        mul(Span(-(1 << 32), 0), Span(-(1 << 31), 0), 0)
    assert mulc(1 << 47, Span(-(1 << 15), (1 << 15) - 1)).lo == -(1 << 46)
    extra = "neuron Near { state v = 0; update { v = 1000 * v + input } spike when v > 1 }"
    g = graph("Near", extra=extra)
    prog = quantize(g, weights(g, 0.1)).plan("h").neuron
    assert prog.update[0].value.left.coef == 1000 << 16


def _with_params(g, **params):
    """``g`` with its first layer's user neuron given other parameter values, past the checks of
    `snnc check` (as the Python API or a graph JSON may)."""
    import dataclasses

    h = g.layers[0]
    n = dataclasses.replace(h.neuron, params=tuple((k, float(params.get(k, v)))
                                                   for k, v in h.neuron.params))
    return dataclasses.replace(g, layers=(dataclasses.replace(h, neuron=n), *g.layers[1:]))


OVERFLOW = "the value is out of range (it overflows floating point, beyond 1.8e308)"


@pytest.mark.parametrize("update,k,where,message", [
    # (each was an internal error: OverflowError in math.exp, or int() of an infinite float)
    ("v = exp(k) * v + input", 1000, (7, 55), f"{OVERFLOW} (in `exp(k)`)"),
    ("v = k * k * v + input", 1e200, (7, 55), f"{OVERFLOW} (in `k * k`)"),
    ("v = v + input + (k + k)", 1e308, (7, 68), f"{OVERFLOW} (in `k + k`)"),
    ("v = v / (k - 1) + input", 1, (7, 60), "division by zero (in `v / (k - 1)`)"),
    ("v = v / k + input", 1e-320, (7, 59),
     "1 / 9.99989e-321 is out of range (it overflows floating point, beyond 1.8e308) (in `v / k`)"),
    ("v = decay(k * 1 ms) * v + input", 0, (7, 55),
     "decay() needs a positive time constant, got 0 s (in `decay(k * 0.001)`)"),
])
def test_user_neuron_constants_beyond_floating_point_are_located_errors(update, k, where, message):
    """A user neuron's constant part that overflows floating point (or divides by 0) is a located
    error of the quantizer, at that part, for `snnc compile` and the golden model (`snnc check`
    rejects it first where the model is written so: tests/test_invalid_models.py)."""
    extra = ("neuron Big { param k = 2.0; state v = 0; update { " + update + " } "
             "spike when v > 1; on spike { v = 0 } }")
    g = _with_params(graph("Big", extra=extra), k=k)
    assert _error(g) == [(*where, f"neuron 'Big' in layer 'h': {message}", None)]


def test_user_neuron_errors_without_source_places_are_at_the_layer():
    """A graph read back from JSON has its layers' places but not its expressions': the error is
    at the layer."""
    from snnc.serialize import graph_from_json, graph_to_json

    extra = ("neuron Big { param k = 2.0; state v = 0; update { v = exp(k) * v + input } "
             "spike when v > 1; on spike { v = 0 } }")
    g = graph_from_json(graph_to_json(_with_params(graph("Big", extra=extra), k=1000)))
    assert _error(g) == [(4, 1, f"neuron 'Big' in layer 'h': {OVERFLOW} (in `exp(k)`)", None)]


def test_user_neuron_initial_values_are_located():
    extra = "neuron Init { state v = 0; state w = 300; update { v = v + input } spike when v > 1 }"
    g = graph("Init", extra=extra)
    assert _error(g) == [(7, 38, "initial value 300 of 'w' in neuron 'Init' does not fit the "
                                 "membrane format fixed<16,8>", None)]


def test_huge_weights_saturate_at_their_own_end_and_are_counted():
    """A weight beyond int64 after scaling saturates like any other too-large weight (it was a
    wrapped cast to -2^63 before: a huge positive weight became the most negative one)."""
    g = graph()
    w = weights(g, 0.1)
    w["h"]["weight"][0, :2] = (1e30, -1e30)
    q = quantize(g, w)
    assert q.weights["h"]["weight"][0, :2].tolist() == [127, -128]
    assert q.report[0].clipped == 2


def test_an_accumulator_beyond_64_bits_is_a_located_error():
    """32-bit weights times 31-bit direct input values over 5 synapses need 67 bits: every backend
    accumulates in 64 (the golden model's int64 would wrap; the HLS fallback header refused it
    at compile time)."""
    text = ("model q\ntime { dt = 1 ms; steps = 4 }\ninput x[4] = direct\n"
            "layer h = dense(x, 3, bias = true) with LIF(tau_mem = 10 ms)\noutput h = count\n"
            "hardware { weights = fixed<32,16>; state = fixed<16,8>; inputs = fixed<31,30> }\n")
    g = load_text(text, "q.snn").graph
    assert _error(g) == [(4, 1, "the synaptic accumulator of layer 'h' needs 66 bits (weights "
                                "fixed<32,16> times payloads fixed<31,30>), more than the 64-bit "
                                "integers the integer semantics computes in",
                          "use narrower weight or input formats")]
    ok = load_text(text.replace("fixed<31,30>", "fixed<16,15>"), "q.snn").graph
    assert quantize(ok, weights(ok, 0.1)).plan("h").acc_bits == 32 + 16 + 3


SI_TIME_STATE = """model p
time { dt = 1 ms; steps = 12 }
neuron R {
    state v = 0
    state ref = 0 ms
    update {
        ref = max(ref - dt, 0)
        v = v + 0.5 * input
    }
    spike when v > 1 and not (ref > 0)
    on spike { ref = 3 ms; v = 0 }
}
input x[1] = direct
layer h = dense(x, 1) with R
output h = count
hardware { state = fixed<16,8> }
"""


def test_user_neuron_constants_that_round_away_are_noted():
    """A user neuron's time constants are seconds in the membrane format: with 8 fractional bits
    `dt` (0.001) rounds to 0 and 3 ms to 0.0039; both are noted (the golden model's refractory
    count never ran down, silently); 0.5 (exact) is not, nor anything with 16 fractional bits."""
    from snnc.build import load_text

    hint = ("(a user neuron's states and constants are in SI units, a time in seconds: give the "
            "format more fractional bits, or count steps)")
    g = load_text(SI_TIME_STATE, "p.snn").graph
    q = quantize(g, {"h": {"weight": np.ones((1, 1))}})
    assert q.report[0].notes == [
        f"neuron 'R': the constant 0.001 becomes 0 as a value in the membrane format fixed<16,8> "
        f"{hint}",
        f"neuron 'R': the constant 0.003 becomes 0.00390625 (30% off) as a value in the membrane "
        f"format fixed<16,8> {hint}"]
    fine = quantize(load_text(SI_TIME_STATE.replace("fixed<16,8>", "fixed<24,16>"), "p.snn").graph,
                    {"h": {"weight": np.ones((1, 1))}})
    assert fine.report[0].notes == []


def test_a_tiny_multiplier_of_a_user_neuron_is_noted():
    from snnc.build import load_text

    for k, note in (("0.000001", "the constant 1e-06 becomes 0 as a multiplier (16 fractional "
                                 "bits)"),
                    ("0.00001", "the constant 1e-05 becomes 1.52588e-05 (53% off) as a "
                                "multiplier (16 fractional bits)")):
        text = SI_TIME_STATE.replace("0.5 * input", f"{k} * input")
        q = quantize(load_text(text, "p.snn").graph, {"h": {"weight": np.ones((1, 1))}})
        assert f"neuron 'R': {note}" in q.report[0].notes


def test_compile_prints_the_layers_quantization_notes(tmp_path, capsys):
    """`snnc compile` (like `verify` and `report`) prints each layer's quantization notes, not
    only the model's: here the user neuron's `dt` that rounds to 0."""
    from snnc.cli import main

    model = tmp_path / "p.snn"
    model.write_text(SI_TIME_STATE)
    assert main(["compile", str(model), "--target", "hls", "-o", str(tmp_path / "h")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert ("note: layer 'h': neuron 'R': the constant 0.001 becomes 0 as a value in the membrane "
            "format fixed<16,8> (a user neuron's states and constants are in SI units, a time in "
            "seconds: give the format more fractional bits, or count steps)") in err


@pytest.mark.parametrize("neuron,hardware,message", [
    ("IF(threshold = 0.5, reset = none)", "weights = fixed<32,2>; state = fixed<32,31>",
     "the synaptic input of layer 'h' is shifted from 2 to 31 fractional bits and then added: "
     "it needs up to 65 bits"),
    ("ASN(tau_beta = 20 ms, threshold = 1e9, m_f = 8, tau_gamma = 15 ms)",
     "weights = fixed<32,0>; membrane = fixed<32,0>; adaptation = fixed<32,31>",
     "the adaptation jump m_f * h of layer 'h' is shifted from 16 to 31 fractional bits and then "
     "added: it needs up to 69 bits"),
    ("ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 30000, threshold = 0.5)",
     "weights = fixed<8,6>; membrane = fixed<32,31>; adaptation = fixed<32,0>",
     "beta * A in membrane units of layer 'h' is shifted from 16 to 31 fractional bits and then "
     "added: it needs up to 80 bits"),
])
def test_left_shifts_beyond_64_bits_are_located_errors(neuron, hardware, message):
    """A value rescaled to more fractional bits is shifted left; the golden model, torch and HLS
    shift in int64 and wrapped (a positive input pinned the membrane at its minimum, the Verilog
    core, exact, disagreed), so such formats are the quantizer's located error."""
    g = graph(neuron, f"hardware {{ {hardware} }}")
    errors = _error(g)
    assert [(line, col, text) for line, col, text, _ in errors] == [
        (4, 1, message + ", more than the 64-bit integers the integer semantics computes in")]


def test_left_shifts_within_64_bits_are_kept():
    """The same kinds with the shift one bit narrower quantise (the bound is exact)."""
    g = graph("IF(threshold = 0.5, reset = none)",
              "hardware { weights = fixed<31,2>; state = fixed<32,31> }")
    assert quantize(g, weights(g, 1.0)).plan("h").acc_bits == 34


POOL = """model p
time { dt = 1 ms; steps = 3 }
input x[1, 6, 6] = rate
layer p = avgpool(x, 3) with IF(threshold = 1)
output p = count
hardware { state = FMT }
"""


@pytest.mark.parametrize("fmt, weight, note", [
    ("fixed<8,0>", None, None),
    ("fixed<8,3>", 1, "avgpool weight 1/9 = 0.111111 applied as 1/2^3 = 0.125 (membrane format "
                      "fixed<8,3>)"),
    ("fixed<16,8>", 28, None),                      # 256 / 9 = 28.4: 1.6% off, no note
])
def test_an_avgpool_weight_that_rounds_to_0_is_an_error_and_a_coarse_one_a_note(fmt, weight, note):
    g = load_text(POOL.replace("FMT", fmt), "p.snn").graph
    if weight is None:
        assert _error(g, {}) == [(4, 1, "the weight 1/9 of avgpool layer 'p' rounds to 0 in the "
                                        "membrane format fixed<8,0>: the layer would never receive "
                                        "an input",
                                  "give the membrane format 6 fractional bits (1/9 within 10%), "
                                  "or use sumpool")]
        return
    q = quantize(g, {})
    assert q.plan("p").pool_weight == weight
    assert q.report[0].notes == ([note] if note else [])


def test_a_threshold_at_the_largest_membrane_value_never_lets_the_neuron_spike():
    """fixed<2,1> tops at 0.5: IF(threshold = 0.5) saturated at 0.5 and never spiked, with no
    word from check, compile or verify. An ASN, whose test is 2 (U - P) > θ, may use it."""
    g = graph("IF(threshold = 0.5)", hardware="hardware { weights = fixed<2,1>; "
                                              "state = fixed<2,1> }")
    assert _error(g) == [(4, 43, "threshold 0.5 of layer 'h' is the largest value of the "
                                 "membrane format fixed<2,1> (0.5): the membrane, saturated "
                                 "there, is never above it, so the neuron never spikes",
                          "use a format with more integer bits, or a smaller threshold")]
    # the error's largest value is not rounded to 1 (1 - 2^-31 was shown as 1)
    g = graph("IF(threshold = 1.5)", hardware="hardware { state = fixed<32,31> }")
    assert "(largest value 0.999999999534)" in _error(g)[0][2]


@pytest.mark.parametrize("hardware,bits", [
    # 32-bit weights, 0 fractional bits, onto a membrane of 31: a left shift past 64 bits
    ("hardware { weights = fixed<32,0>; membrane = fixed<32,31> }", 68),
    # a 64-bit accumulator shifted right: its rounding addend leaves 64 bits
    ("hardware { weights = ufixed<32,32>; inputs = ufixed<31,31>; membrane = fixed<32,0> }", 65)])
def test_user_neuron_input_rescale_beyond_64_bits_is_a_located_error(hardware, bits):
    """A user neuron's `input` (the accumulator rescaled to the membrane's fractional bits) was
    not checked: it wrapped in the golden model and the HLS C++ alike (a large positive input
    read as -1, verify reporting a match); built-in neurons were refused (_check_rescales)."""
    extra = "neuron Acc { state v = 0; update { v = v + input } spike when v > 0.5 }"
    text = BASE.format(neuron="Acc", hardware=hardware) + extra
    g = load_text(text.replace("x[4] = rate", "x[1] = direct(scale = 1.0)", 1), "q.snn").graph
    fmt = "fixed<32,31>" if "31>" in hardware.split("membrane")[1] else "fixed<32,0>"
    assert _error(g, weights(g, 0.5)) == [(
        4, 1, f"neuron 'Acc' in layer 'h': its synaptic input (`input`, the accumulator rescaled "
              f"to the membrane's fraction) needs up to {bits} bits, more than the 64-bit integers "
              "the integer semantics computes in",
        f"use narrower weights or inputs, or a membrane format with fewer fractional bits than "
        f"{fmt}")]
