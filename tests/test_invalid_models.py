"""Invalid models: each must fail with the exact location, message and hint of every error.

Each case is a small inline model. Errors are compared as ``(line, col, message)`` or
``(line, col, message, hint)`` tuples, in the order ``SnnErrors`` reports them (source order).
"""
from __future__ import annotations

import os
import pytest

from snnc.build import load, load_text
from snnc.errors import SnnError, SnnErrors


def src(*lines: str) -> str:
    return "\n".join(lines) + "\n"


MODEL = "model m"
TIME = "time { dt = 1 ms; steps = 10 }"
INPUT = "input x[4] = rate"
LAYER = "layer l = dense(x, 4) with IF"
OUTPUT = "output l = count"
HEAD = (MODEL, TIME, INPUT)   # lines 1-3; a layer written next is on line 4


def neuron_model(*body: str, use: str = "with N") -> str:
    """A model whose neuron N is defined on lines 3.. (``body`` lines follow ``neuron N {``)."""
    return src(MODEL, TIME, "neuron N {", *body, "}", INPUT, f"layer l = dense(x, 4) {use}", OUTPUT)


def errors_of(text: str) -> list[SnnError]:
    with pytest.raises((SnnError, SnnErrors)) as info:
        load_text(text, "bad.snn")
    exc = info.value
    return exc.errors if isinstance(exc, SnnErrors) else [exc]


def assert_errors(text: str, expected: list[tuple]) -> None:
    errs = errors_of(text)
    got = []
    for e, want in zip(errs, expected):
        assert e.severity == "error"
        assert e.loc is not None and e.loc.path == "bad.snn"
        item = (e.line, e.col, e.message) + ((e.hint,) if len(want) == 4 else ())
        got.append(item)
    got += [(e.line, e.col, e.message, e.hint) for e in errs[len(expected):]]
    assert got == expected


OVERFLOWS = "is out of range (it overflows floating point, beyond 1.8e308)"

CASES = [
    # ------------------------------------------------------------------ constants out of range
    # (each was an internal error of `snnc compile` / `simulate --backend golden`, and passed
    # `snnc check`: the float model computed inf or nan)
    ("user neuron: exp() of a constant overflows",
     neuron_model("state v = 0", "update { v = exp(1000) * v + input }", "spike when v > 1"),
     [(5, 14, f"`exp(1000)` {OVERFLOWS}", None)]),
    ("user neuron: a product of constants overflows",
     neuron_model("state v = 0", "update { v = v + 1e200 * 1e200 * input }", "spike when v > 1"),
     [(5, 18, f"`1e+200 * 1e+200` {OVERFLOWS}", None)]),
    ("user neuron: an initial value overflows",
     neuron_model("state v = exp(800)", "update { v = v + input }", "spike when v > 1"),
     [(4, 11, f"`exp(800)` {OVERFLOWS}", None)]),
    ("user neuron: a constant overflows with the parameters a layer gives",
     neuron_model("param k = 1.0", "state v = 0", "update { v = v + k * k * input }",
                  "spike when v > 1", use="with N(k = 1e200)"),
     [(6, 18, f"`k * k` {OVERFLOWS}", "k = 1e+200 in the use of 'N' at bad.snn:10:28")]),
    ("user neuron: division by a constant that is 0",
     neuron_model("state v = 0", "update { v = v / (1 - 1) + input }", "spike when v > 1"),
     [(5, 19, "division by zero", None)]),
    ("constants: a sum beyond floating point",
     src(MODEL, "time { dt = 1 ms; steps = 1e308 + 1e308 }", INPUT,
         "layer l = dense(x, 4) with LIF(tau_mem = 10 ms, threshold = 1e308 - -1e308)", OUTPUT),
     [(2, 27, "value is out of range", None), (4, 61, "value is out of range", None)]),
    ("constants: a quantity whose SI value is beyond floating point",
     src(*HEAD, LAYER, OUTPUT, "hardware { clock = 1e308 MHz }"),
     [(6, 20, "number 1e308 MHz is out of range", None)]),
    # a clock beyond any FPGA's (1e7 MHz was taken; the HLS period was written as 0 ns)
    ("clock above 5000 MHz", src(*HEAD, LAYER, OUTPUT, "hardware { clock = 1e7 MHz }"),
     [(6, 20, "'clock' must be between 1 kHz and 5000 MHz, got 1e+07 MHz", None)]),
    ("clock below 1 kHz", src(*HEAD, LAYER, OUTPUT, "hardware { clock = 500 Hz }"),
     [(6, 20, "'clock' must be between 1 kHz and 5000 MHz, got 500 Hz", None)]),
    # a value just past a limit is shown with the digits that tell it from the limit
    ("clock just above 5000 MHz", src(*HEAD, LAYER, OUTPUT, "hardware { clock = 5000.0001 MHz }"),
     [(6, 20, "'clock' must be between 1 kHz and 5000 MHz, got 5000.0001 MHz", None)]),
    ("tau just below 0", src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = -0.0000001 ms)",
                             OUTPUT),
     [(4, 42, "parameter 'tau_mem' of LIF must be positive, got -0.0001 us", None)]),
    # units the lexer does not know ("unexpected ';', expected '='" said nothing of the unit)
    ("unknown unit: ns", src(MODEL, "time { dt = 1 ns; steps = 10 }", INPUT, LAYER, OUTPUT),
     [(2, 15, "unknown unit 'ns'", "units: us, ms, s, Hz, kHz, MHz, uV, mV, V")]),
    ("unknown unit: GHz", src(*HEAD, LAYER, OUTPUT, "hardware { clock = 1 GHz }"),
     [(6, 22, "unknown unit 'GHz'", "units: us, ms, s, Hz, kHz, MHz, uV, mV, V")]),
    ("unknown unit: micro sign", src(MODEL, "time { dt = 10 \u00b5s; steps = 10 }", INPUT, LAYER,
                                     OUTPUT),
     [(2, 16, "unknown unit '\u00b5s'", "units: us, ms, s, Hz, kHz, MHz, uV, mV, V (micro is written u: `10 us`)")]),
    ("unknown unit: capitals", src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = 10 MS)", OUTPUT),
     [(4, 45, "unknown unit 'MS'", "units: us, ms, s, Hz, kHz, MHz, uV, mV, V")]),
    # the word read as the next key (items need no separator), the fault on the next line
    ("unknown unit: the next setting on its own line",
     src(MODEL, "time {", "  dt = 1 ns", "  steps = 10", "}", INPUT, LAYER, OUTPUT),
     [(3, 10, "unknown unit 'ns'", "units: us, ms, s, Hz, kHz, MHz, uV, mV, V")]),
    # A number and a word the parser accepted are valid code (items on one line need no
    # separator): the guesses blamed them for any fault later on the line, or on the next line
    ("syntax: items on one line, the fault after them",
     neuron_model("state v = 0", "update { v = 2 v = v + }", "spike when v > 1"),
     [(5, 24, "unexpected '}', expected one of '(', '+', '-', 'input', a name, a number, a "
              "number with a unit", None)]),
    ("syntax: settings on one line, the fault after them",
     src(MODEL, "time { steps = 5 dt = 1 ms; x }", INPUT, LAYER, OUTPUT),
     [(2, 31, "unexpected '}', expected '='", None)]),
    ("syntax: a key without its '=' after a number",
     src(MODEL, "time { steps = 5 dt 1 ms }", INPUT, LAYER, OUTPUT),
     [(2, 21, "unexpected '1 ms', expected '='", None)]),
    ("syntax: a keyword after a number is no unit",
     neuron_model("state v = 0", "update { v = v + input }", "spike when v > 1 or }"),
     [(6, 21, "unexpected '}', expected one of '(', '+', '-', 'input', 'not', a name, a number, "
              "a number with a unit", None)]),
    ("syntax: a comma missing before a keyword argument",
     src(*HEAD, "layer l = dense(x, 4) with IF(threshold = 2 reset = zero)", OUTPUT),
     [(4, 45, "unexpected 'reset', expected one of ')', ','",
       "a ',' is missing before 'reset': arguments are separated by commas")]),
    ("syntax: a valid dashed expression on the line before the fault",
     neuron_model("state v = 0", "update { v = v-1e-3", "  v = v + input + }", "spike when v > 1"),
     [(6, 19, "unexpected '}', expected one of '(', '+', '-', 'input', a name, a number, a "
              "number with a unit", None)]),
    ("syntax: a hexadecimal number", src(MODEL, "time { dt = 1 ms; steps = 0x10 }", INPUT,
                                         LAYER, OUTPUT),
     [(2, 28, "unexpected 'x10'", "numbers are written in decimal: 0x10 is 16")]),
    # ------------------------------------------------------------------ non-ASCII text
    # (digits other than 0-9 were read as numbers: `٥` as 5, `1e٥` as 100000)
    ("syntax: an Arabic-Indic digit",
     src(MODEL, "time { dt = 1 ms; steps = 2\u0665 }", "input x[\u0664] = rate", LAYER, OUTPUT),
     [(2, 28, "unexpected character '\u0665' (ARABIC-INDIC DIGIT FIVE)",
       "numbers are written with the ASCII digits 0-9")]),
    ("syntax: a fullwidth digit in a shape",
     src(MODEL, TIME, "input x[\uff14] = rate", LAYER, OUTPUT),
     [(3, 9, "unexpected character '\uff14' (FULLWIDTH DIGIT FOUR)",
       "numbers are written with the ASCII digits 0-9")]),
    ("syntax: a no-break space",
     src(MODEL, "time { dt = 1\u00a0ms; steps = 10 }", INPUT, LAYER, OUTPUT),
     [(2, 14, "unexpected character '\\u00a0' (NO-BREAK SPACE)",
       "words are separated by ASCII spaces, tabs and newlines: retype it as a plain space")]),
    ("a fixed-point format with a non-ASCII digit",
     src(*HEAD, LAYER, OUTPUT, "hardware { weights = fixed<\u0668,6>; state = fixed<16,\u00a08> }"),
     [(6, 22, "invalid fixed-point format fixed<\u0668,6>: expected fixed<WIDTH,FRAC> or "
              "ufixed<WIDTH,FRAC>"),
      (6, 42, "invalid fixed-point format fixed<16,\u00a08>: expected fixed<WIDTH,FRAC> or "
              "ufixed<WIDTH,FRAC>")]),
    # ------------------------------------------------------------------ nesting
    # the 101st level: `1 + ...` after the 101st `(` (2:27 is the first); a chain is one level
    ("syntax: 101 levels of nesting",
     src(MODEL, "time { dt = 1 ms; steps = " + "(1 + " * 101 + "1" + ")" * 101 + " }"),
     [(2, 528, "expression is nested too deeply (more than 100 levels of operators, calls or "
               "lists)", "split it into smaller parts")]),
    # 202 terms, 201 operators one inside another: at the innermost `1 + 1`
    ("syntax: a chain of 201 operators",
     src(MODEL, "time { dt = 1 ms; steps = " + " + ".join(["1"] * 202) + " }"),
     [(2, 27, "expression is nested too deeply (more than 200 operations one inside another, "
              "each operator of a chain such as a + b + c counting one)",
       "split it into smaller parts")]),
    ("use of an empty path", src(MODEL, 'use ""', TIME, INPUT, LAYER, OUTPUT),
     [(2, 5, "`use` needs the path of a file, got an empty string",
       'write e.g. use "neurons/library.snn"')]),
    # ------------------------------------------------------------------ later fixes
    ("duplicate setting names the first", src(MODEL, "time { dt = 1 ms; steps = 5; dt = 2 ms }",
                                             INPUT, LAYER, OUTPUT),
     [(2, 30, "setting 'dt' is given twice in `time`", "first given at bad.snn:2:8")]),
    ("positional neuron parameter is one error", src(*HEAD, "layer l = dense(x, 4) with LIF(5 ms)",
                                                     OUTPUT),
     [(4, 32, "LIF takes parameters by name only, e.g. tau_mem = 20 ms")]),
    ("decay of a zero time constant", neuron_model("param tau: time = 0 ms", "state v = 0",
                                                   "update { v = decay(tau) * v + input }",
                                                   "spike when v > 1"),
     # at the argument (it was at the use, 10:28), the use's values in the hint
     [(6, 20, "decay(tau) needs a positive time constant, got 0 s",
       "tau = 0 in the use of 'N' at bad.snn:10:28")]),
    ("decay of a written non-positive time constant",
     neuron_model("state v = 0", "update { v = decay(5 ms - 5 ms) * v + input }",
                  "spike when v > 1"),
     [(5, 20, "decay(5 ms - 5 ms) needs a positive time constant, got 0 s")]),
    ("clip with reversed constant bounds",
     neuron_model("param lo = 1", "state v = 0", "update { v = clip(v + input, lo, -1) }",
                  "spike when v > 0.5"),
     # every backend would give -1 whatever v: located at the call, the use's values in the hint
     [(6, 14, "clip(v + input, lo, -1) has its lower bound 1 above its upper bound -1",
       "lo = 1 in the use of 'N' at bad.snn:10:28")]),
    ("a layer's lanes out of range", src(*HEAD, "layer l = dense(x, 4, lanes = 0) with IF",
                                         "layer m = recurrent(l, 2, lanes = 65) with IF",
                                         "output m = count"),
     [(4, 31, "parameter 'lanes' of dense must be between 1 and 64, got 0"),
      (5, 35, "parameter 'lanes' of recurrent must be between 1 and 64, got 65")]),
    ("leak_digits out of range", src(*HEAD, LAYER, OUTPUT, "hardware { leak_digits = 0 }"),
     [(6, 26, "'leak_digits' must be between 1 and 16, got 0")]),
    # ------------------------------------------------------------------ syntax
    ("syntax: unexpected token", src(MODEL, TIME, "input x[4 5] = rate"),
     [(3, 11, "unexpected number 5, expected one of ',', ']'")]),
    ("syntax: unexpected name", src("model 3"),
     [(1, 7, "unexpected number 3, expected a name")]),
    ("syntax: unexpected character", src(MODEL, TIME, "input x[4@] = rate"),
     [(3, 10, "unexpected character '@', expected one of ',', ']'")]),
    ("syntax: unexpected end of file", src(*HEAD, "layer l = dense(x, 4"),
     [(4, 21, "unexpected end of file, expected one of ')', ','")]),
    ("syntax: end of file inside a block", "model m\ntime { dt = 1 ms",
     [(2, 17, "unexpected end of file, expected one of ',', ';', 'state', '}', a name")]),
    # where only a name may come, a keyword is read as one: the error fell on the word after it
    ("syntax: a keyword after `with`", src(*HEAD, "layer h = dense(x, 3) with", "output h = count"),
     [(5, 1, "expected a neuron after `with`, got keyword 'output'")]),
    ("syntax: `with` at the end of the file", src(*HEAD, "layer h = dense(x, 3) with"),
     [(4, 23, "expected a neuron after `with`, got the end of the file")]),
    ("syntax: a keyword after `layer`", src(*HEAD, "layer", "output h = count"),
     [(5, 1, "expected a name after `layer`, got keyword 'output'")]),
    ("syntax: a keyword after `model`", src("model", TIME, INPUT, LAYER, OUTPUT),
     [(2, 1, "expected a name after `model`, got keyword 'time'")]),
    ("syntax: unterminated string", src(MODEL, 'use "neurons.snn'),
     [(2, 5, "unterminated string", "a string ends with '\"' on the same line")]),
    ("syntax: NUL byte", "model m\ntime {\x00}\n",
     [(2, 7, "file contains a NUL byte: is it a binary file?")]),
    ("syntax: number out of range", src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = 1e999 ms)",
                                         OUTPUT),
     [(4, 42, "number 1e999 ms is out of range")]),
    # a number out of range does not hide the file's other errors, nor add one of its own (it
    # reads as 1 in the checks: `-1e999 mV` would be a negative threshold)
    ("syntax: numbers out of range among other errors",
     src(MODEL, "time { dt = 1 ms; steps = 0 }", INPUT,
         "layer l = dense(x, 4) with LIF(tau_mem = 1e999 ms, threshold = -1e999 mV)",
         "layer k = dense(l, " + "9" * 400 + ") with IF", "output k = cont"),
     [(2, 27, "'steps' must be at least 1, got 0"),
      (4, 42, "number 1e999 ms is out of range"),
      (4, 65, "number 1e999 mV is out of range"),
      (5, 20, f"number {'9' * 400} is out of range"),
      (6, 12, "unknown readout 'cont': expected count, membrane or first_spike",
       "did you mean 'count'?")]),
    # at the 101st `-` (2:27 is the first): the statement around it is no level
    ("syntax: nesting too deep", src(MODEL, "time { dt = 1 ms; steps = " + "-" * 300 + "1 }"),
     [(2, 127, "expression is nested too deeply (more than 100 levels of operators, calls or "
               "lists)", "split it into smaller parts")]),
    # ------------------------------------------------------------------ unknown names
    ("unknown neuron", src(*HEAD, "layer l = dense(x, 4) with LIFF(tau_mem = 5 ms)", OUTPUT),
     [(4, 28, "unknown neuron 'LIFF'", "did you mean 'LIF'?")]),
    ("unknown neuron, nothing close", src(*HEAD, "layer l = dense(x, 4) with Izhikevich", OUTPUT),
     [(4, 28, "unknown neuron 'Izhikevich'", "built-in neurons: IF, LIF, CubaLIF, ALIF, ASN, ReLU")]),
    ("unknown layer operator", src(*HEAD, "layer l = dense2(x, 4) with IF", OUTPUT),
     [(4, 11, "unknown layer operator 'dense2'", "did you mean 'dense'?")]),
    ("unknown layer operator: its neuron is still checked",
     src(*HEAD, "layer l = dens(x, 4) with LIF(tau_mem = -1 ms)", OUTPUT),
     [(4, 11, "unknown layer operator 'dens'", "did you mean 'dense'?"),
      (4, 41, "parameter 'tau_mem' of LIF must be positive, got -1 ms")]),
    ("unknown layer operator conv", src(*HEAD, "layer l = conv(x, 4, 3) with IF", OUTPUT),
     [(4, 11, "unknown layer operator 'conv'", "did you mean 'conv2d'?")]),
    ("unknown source", src(*HEAD, "layer l = dense(xx, 4) with IF", OUTPUT),
     [(4, 17, "unknown input or layer 'xx'", "did you mean 'x'?")]),
    ("unknown encoding", src(MODEL, TIME, "input x[4] = rat(gain = 2)", LAYER, OUTPUT),
     [(3, 14, "unknown encoding 'rat'", "did you mean 'rate'?")]),
    ("unknown neuron parameter", src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = 5 ms, "
                                            "treshold = 2)", OUTPUT),
     [(4, 48, "unknown parameter 'treshold' for LIF", "did you mean 'threshold'?")]),
    ("unknown encoding parameter", src(MODEL, TIME, "input x[4] = rate(gian = 2)", LAYER, OUTPUT),
     [(3, 19, "unknown parameter 'gian' for encoding rate", "did you mean 'gain'?")]),
    ("unknown setting", src(MODEL, "time { dt = 1 ms; step = 10 }", INPUT, LAYER, OUTPUT),
     [(2, 19, "unknown setting 'step' in `time` block", "did you mean 'steps'?")]),
    ("unknown hardware setting", src(*HEAD, LAYER, OUTPUT, "hardware { weigths = fixed<8,6> }"),
     [(6, 12, "unknown setting 'weigths' in `hardware` block", "did you mean 'weights'?")]),
    ("unknown surrogate", src(*HEAD, "layer l = dense(x, 4, surrogate = fast_sigmod) with IF",
                              OUTPUT),
     [(4, 35, "unknown surrogate 'fast_sigmod'", "did you mean 'fast_sigmoid'?")]),
    ("unknown surrogate in train", src(*HEAD, LAYER, OUTPUT, "train { surrogate = atann }"),
     [(6, 21, "unknown surrogate 'atann'", "did you mean 'atan'?")]),
    ("unknown readout", src(*HEAD, LAYER, "output l = cont"),
     [(5, 12, "unknown readout 'cont': expected count, membrane or first_spike",
       "did you mean 'count'?")]),
    ("readout with arguments", src(*HEAD, LAYER, "output l = membrane(1)"),
     [(5, 12, "the readout 'membrane' takes no arguments", "write `membrane`")]),
    ("readout as a string", src(*HEAD, LAYER, 'output l = "count"'),
     [(5, 12, "a readout is a word, not a string", "write `count` without quotes")]),
    ("readout as a number", src(*HEAD, LAYER, "output l = 3"),
     [(5, 12, "a readout is one of the words count, membrane or first_spike", None)]),
    ("unknown output layer", src(*HEAD, LAYER, "output ll = count"),
     [(5, 8, "unknown layer 'll'", "did you mean 'l'?")]),
    ("unknown function in neuron", neuron_model(
        "  param tau = 5 ms", "  state v = 0", "  update { v = v * decy(tau) + input }",
        "  spike when v > 1"),
     [(6, 20, "unknown function 'decy'", "did you mean 'decay'?")]),
    ("unknown state variable", neuron_model(
        "  state v = 0", "  update { vv = v + input }", "  spike when v > 1"),
     [(5, 12, "unknown state variable 'vv' in neuron 'N'", "did you mean 'v'?")]),
    ("unknown name in neuron expression", neuron_model(
        "  param tau = 5 ms", "  state v = 0", "  update { v = v * decay(taw) + input }",
        "  spike when v > 1"),
     [(6, 26, "unknown name 'taw'", "did you mean 'tau'?")]),
    ("unknown parameter type", neuron_model(
        "  param tau: tme = 5 ms", "  state v = 0", "  update { v = v * decay(tau) + input }",
        "  spike when v > 1"),
     # only one error: the later uses of 'tau' are not reported again
     [(4, 14, "unknown parameter type 'tme'", "did you mean 'time'?")]),
    # ------------------------------------------------------------------ duplicates
    ("duplicate layer", src(*HEAD, LAYER, LAYER, OUTPUT),
     [(5, 7, "duplicate name 'l'", "first declared at bad.snn:4:7")]),
    ("duplicate input", src(*HEAD, INPUT, LAYER, OUTPUT),
     [(4, 7, "duplicate name 'x'", "first declared at bad.snn:3:7")]),
    ("layer named like an input", src(*HEAD, "layer x = dense(x, 4) with IF", OUTPUT),
     [(4, 7, "duplicate name 'x'", "first declared at bad.snn:3:7"),
      (5, 8, "unknown layer 'l'", None)]),
    ("duplicate neuron", src(MODEL, TIME,
                             "neuron N { state v = 0; update { v = v + input }; spike when v > 1 }",
                             "neuron N { state u = 0; update { u = input }; spike when u > 1 }",
                             INPUT, "layer l = dense(x, 4) with N", OUTPUT),
     [(4, 8, "duplicate neuron 'N'", "first defined at bad.snn:3:8")]),
    ("neuron named like a built-in", src(MODEL, TIME, "neuron LIF { state v = 0; spike when v > 1 }",
                                         INPUT, LAYER, OUTPUT),
     [(3, 8, "'LIF' is a built-in neuron kind; choose another name", None)]),
    ("duplicate setting", src(MODEL, "time { dt = 1 ms; steps = 10; dt = 2 ms }", INPUT, LAYER,
                              OUTPUT),
     [(2, 31, "setting 'dt' is given twice in `time`")]),
    ("duplicate block", src(*HEAD, LAYER, OUTPUT, TIME),
     [(6, 1, "duplicate `time` block", "first given at bad.snn:2:1")]),
    ("duplicate model", src(MODEL, TIME, "model other", INPUT, LAYER, OUTPUT),
     [(3, 1, "duplicate `model` declaration", "first given at bad.snn:1:1")]),
    ("duplicate parameter", src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = 5 ms, "
                                       "tau_mem = 6 ms)", OUTPUT),
     [(4, 48, "parameter 'tau_mem' of LIF is given twice")]),
    ("duplicate neuron parameter", neuron_model(
        "  param a = 1", "  param a = 2", "  state v = 0", "  update { v = v + input }",
        "  spike when v > a"),
     [(5, 9, "duplicate name 'a' in neuron 'N'", "first declared at bad.snn:4:9")]),
    ("duplicate output", src(*HEAD, LAYER, OUTPUT, "output l = membrane"),
     [(6, 8, "layer 'l' is already an output", "first at bad.snn:5:8")]),
    # ------------------------------------------------------------------ shapes
    ("dense on a 3-D input", src(MODEL, TIME, "input img[1, 8, 8] = rate",
                                 "layer l = dense(img, 4) with IF", OUTPUT),
     [(4, 17, "dense layer 'l' needs a 1-D input [n], but 'img' has shape [1, 8, 8]",
       "insert `layer img_flat = flatten(img)`")]),
    ("conv2d on a 1-D input", src(*HEAD, "layer l = conv2d(x, 4, 3) with IF", OUTPUT),
     [(4, 18, "conv2d layer 'l' needs an input of shape [channels, height, width], but 'x' has "
              "shape [4]")]),
    ("a stride of 0 is shown as written", src(MODEL, TIME, "input img[1, 4, 4] = rate",
                                              "layer c = conv2d(img, 2, 3, stride = 0) with IF",
                                              "layer d = conv2d(c, 2, [3, 0]) with IF",
                                              "layer f = flatten(d)", "layer l = dense(f, 2) with IF",
                                              OUTPUT),
     [(4, 38, "parameter 'stride' of conv2d must be at least 1, got 0"),      # was [0, 0]
      (5, 24, "parameter 'kernel' of conv2d must be at least 1, got [3, 0]")]),
    ("kernel larger than input", src(MODEL, TIME, "input img[1, 4, 4] = rate",
                                     "layer c = conv2d(img, 2, 5) with IF",
                                     "layer f = flatten(c)", "layer l = dense(f, 2) with IF",
                                     OUTPUT),
     [(4, 26, "conv2d layer 'c': kernel 5x5 is larger than its (padded) input 4x4 ('img' has "
              "shape [1, 4, 4])")]),
    ("kernel larger than padded input", src(MODEL, TIME, "input img[1, 4, 4] = rate",
                                            "layer c = conv2d(img, 2, kernel = [3, 7], padding = 1)"
                                            " with IF", "layer f = flatten(c)",
                                            "layer l = dense(f, 2) with IF", OUTPUT),
     [(4, 26, "conv2d layer 'c': kernel 3x7 is larger than its (padded) input 6x6 ('img' has "
              "shape [1, 4, 4])")]),
    ("pool kernel larger than input", src(MODEL, TIME, "input img[2, 3, 3] = rate",
                                          "layer p = sumpool(img, [2, 4]) with IF",
                                          "layer f = flatten(p)", "layer l = dense(f, 2) with IF",
                                          OUTPUT),
     [(4, 24, "sumpool layer 'p': kernel 2x4 is larger than its (padded) input 3x3 ('img' has "
              "shape [2, 3, 3])")]),
    ("input without shape", src(MODEL, TIME, "input x[] = rate", LAYER, OUTPUT),
     [(3, 8, "input 'x' needs a shape, e.g. [64] or [1, 28, 28]")]),
    ("input with 4 dimensions", src(MODEL, TIME, "input x[1, 2, 2, 2] = rate", LAYER, OUTPUT),
     [(3, 8, "input 'x' has 4 dimensions; at most 3 ([channels, height, width]) are supported")]),
    ("input with an empty dimension", src(MODEL, TIME, "input x[0] = rate", LAYER, OUTPUT),
     [(3, 8, "input 'x' has an empty dimension; sizes must be at least 1")]),
    # a dimension is an integer as section 5 takes them: 4.0 and 1e2 load (test_robustness_dsl)
    ("input with a dimension that is not an integer",
     src(MODEL, TIME, "input x[2.5] = rate", LAYER, OUTPUT),
     [(3, 9, "dimension 1 of input 'x' must be an integer, got 2.5")]),
    ("input with a negative dimension", src(MODEL, TIME, "input x[4, -2] = rate", LAYER, OUTPUT),
     [(3, 12, "dimension 2 of input 'x' is negative (-2); sizes must be at least 1")]),
    ("input with a dimension beyond 32 bits",
     src(MODEL, TIME, "input x[1e10] = rate", LAYER, OUTPUT),
     [(3, 9, "dimension 1 of input 'x' is too large (10000000000; at most 2147483647)")]),
    ("input with too many elements", src(MODEL, TIME, "input x[4e3, 4e3, 2.0] = rate", LAYER,
                                         OUTPUT),
     [(3, 8, "input 'x' has 32000000 elements; at most 16777216 are supported")]),
    ("input with a time as a dimension", src(MODEL, TIME, "input x[2 ms] = rate", LAYER, OUTPUT),
     [(3, 9, "dimension 1 of input 'x' must be a plain integer, got a time")]),
    ("input with an unknown unit in its shape", src(MODEL, TIME, "input x[1 e2] = rate", LAYER,
                                                    OUTPUT),
     [(3, 11, "unknown unit 'e2'", "units: us, ms, s, Hz, kHz, MHz, uV, mV, V")]),
    ("input with an expression as a dimension",
     src(MODEL, TIME, "input x[8 * 8] = rate", LAYER, OUTPUT),
     [(3, 11, "unexpected '*', expected one of ',', ']'")]),
    ("input with a hexadecimal dimension", src(MODEL, TIME, "input x[0x10] = rate", LAYER,
                                               OUTPUT),
     [(3, 10, "unexpected 'x10'", "numbers are written in decimal: 0x10 is 16")]),
    ("dense with zero units", src(*HEAD, "layer l = dense(x, 0) with IF", OUTPUT),
     [(4, 20, "parameter 'units' of dense must be at least 1, got 0")]),
    # ------------------------------------------------------------------ units
    ("time constant without unit", src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = 5)",
                                       OUTPUT),
     [(4, 42, "parameter 'tau_mem' of LIF needs a time (us, ms, s), got a plain number 5",
       "write e.g. tau_mem = 20 ms")]),
    ("threshold with a time unit", src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = 5 ms, "
                                              "threshold = 1 ms)", OUTPUT),
     [(4, 60, "parameter 'threshold' of LIF needs a plain number, got a time", None)]),
    ("dt as a frequency", src(MODEL, "time { dt = 1 kHz; steps = 10 }", INPUT, LAYER, OUTPUT),
     [(2, 13, "'dt' needs a time (us, ms, s), got a frequency", "write e.g. dt = 20 ms")]),
    ("adding a voltage and a time", neuron_model(
        "  state v = 0 mV", "  update { v = v + 2 ms }", "  spike when v > 1 mV"),
     [(5, 16, "cannot add a voltage and a time")]),
    ("comparing a voltage with a number", neuron_model(
        "  state v = 0 mV", "  update { v = v + input * 1 mV }", "  spike when v > 1"),
     [(6, 14, "cannot compare a voltage and a plain number")]),
    ("exp of a time", neuron_model(
        "  param tau = 5 ms", "  state v = 0", "  update { v = v * exp(tau) + input }",
        "  spike when v > 1"),
     [(6, 24, "exp() needs a plain number, got a time")]),
    ("decay of a plain number", neuron_model(
        "  state v = 0", "  update { v = v * decay(5) + input }", "  spike when v > 1"),
     [(5, 26, "decay() needs a time constant, got a plain number")]),
    ("assigning a voltage to a dimensionless state", neuron_model(
        "  state v = 0", "  update { v = 5 mV }", "  spike when v > 1"),
     [(5, 16, "cannot assign a voltage to 'v', which is a plain number")]),
    ("min of different dimensions", neuron_model(
        "  state v = 0", "  update { v = min(v, 1 ms) }", "  spike when v > 1"),
     [(5, 23, "min() needs arguments of one dimension, got a plain number and a time")]),
    # ------------------------------------------------------------------ missing or bad parameters
    ("LIF without tau_mem", src(*HEAD, "layer l = dense(x, 4) with LIF(threshold = 2)", OUTPUT),
     [(4, 28, "LIF needs parameter 'tau_mem' (a time (us, ms, s))", "add tau_mem = 20 ms")]),
    ("LIF without arguments", src(*HEAD, "layer l = dense(x, 4) with LIF", OUTPUT),
     [(4, 28, "LIF needs parameter 'tau_mem' (a time (us, ms, s))", "add tau_mem = 20 ms")]),
    ("dense without units", src(*HEAD, "layer l = dense(x) with IF", OUTPUT),
     [(4, 11, "dense needs parameter 'units' (an integer)", "add units = 10")]),
    ("time block without steps", src(MODEL, "time { dt = 1 ms }", INPUT, LAYER, OUTPUT),
     [(2, 1, "`time` block needs 'steps' (an integer)", "add steps = 10")]),
    ("custom neuron parameter not given", neuron_model(
        "  param tau: time", "  state v = 0", "  update { v = v * decay(tau) + input }",
        "  spike when v > 1"),
     [(10, 28, "N needs parameter 'tau' (a time (us, ms, s))", "add tau = 20 ms")]),
    ("custom neuron parameter without type or default", neuron_model(
        "param tau", "state v = 0", "update { v = v + input }", "spike when v > 1"),
     [(4, 7, "parameter 'tau' needs a type or a default value",
       "write e.g. param tau: real = 1.0")]),
    ("custom neuron parameter default is a name", neuron_model(
        "param tau = foo", "state v = 0", "update { v = v + input }", "spike when v > 1"),
     [(4, 13, "expected a constant number here, got the name 'foo'")]),
    ("custom neuron parameter of an unusual dimension", neuron_model(
        "param tau = 2 ms * 3 mV", "state v = 0", "update { v = v + input }", "spike when v > 1"),
     [(4, 13, "a parameter cannot be time*voltage")]),
    ("custom neuron parameter default of the wrong dimension", neuron_model(
        "param tau: time = 3", "state v = 0", "update { v = v * decay(tau) + input }",
        "spike when v > 1"),
     [(4, 19, "default of parameter 'tau' needs a time (us, ms, s), got a plain number 3",
       "write e.g. tau = 20 ms")]),
    ("custom neuron state starts as a condition", neuron_model(
        "state v = 1 > 0", "update { v = v + input }", "spike when v > 1"),
     [(4, 11, "initial value of 'v' is a condition, not a number")]),
    ("custom neuron assigns a condition", neuron_model(
        "state v = 0", "update { v = v > 1 }", "spike when v > 1"),
     [(5, 14, "cannot assign a condition to 'v'")]),
    ("custom neuron: 'and' of numbers", neuron_model(
        "state v = 0", "update { v = v + input }", "spike when v and 1"),
     [(6, 12, "'and' needs conditions, got a number")]),
    ("custom neuron: 'not' of a number", neuron_model(
        "state v = 0", "update { v = v + input }", "spike when not v"),
     [(6, 16, "'not' needs conditions, got a number")]),
    ("custom neuron: a function with a named argument", neuron_model(
        "state v = 0", "update { v = max(v, b = 0) + input }", "spike when v > 1"),
     [(5, 21, "max() takes positional arguments only")]),
    ("custom neuron: a condition added", neuron_model(
        "state v = 0", "update { v = (v > 1) + input }", "spike when v > 1"),
     [(5, 15, "'+' needs a number, got a condition")]),
    ("unknown custom neuron parameter", neuron_model(
        "  param tau = 5 ms", "  state v = 0", "  update { v = v * decay(tau) + input }",
        "  spike when v > 1", use="with N(tua = 2 ms)"),
     [(10, 30, "unknown parameter 'tua' for N", "did you mean 'tau'?")]),
    ("positional neuron argument", src(*HEAD, "layer l = dense(x, 4) with IF(2)", OUTPUT),
     [(4, 31, "IF takes parameters by name only, e.g. threshold = 1.0")]),
    # several arguments too many: one error, at the first (there was one per argument)
    ("positional neuron arguments", src(*HEAD, "layer l = dense(x, 4) with IF(1.0, zero, 2)",
                                        OUTPUT),
     [(4, 31, "IF takes parameters by name only, e.g. threshold = 1.0")]),
    ("too many positional layer arguments", src(*HEAD, "layer l = dense(x, 4, true, 3, 9) with IF",
                                                OUTPUT),
     [(4, 23, "dense takes at most 2 positional arguments, got 5")]),
    ("positional argument after a named one",
     src(*HEAD, "layer l = dense(x, units = 4, true) with IF", OUTPUT),
     [(4, 31, "positional argument after a named one")]),
    ("kernel of three", src(MODEL, TIME, "input x[1, 8, 8] = rate",
                            "layer c = conv2d(x, 2, [3, 3, 3]) with IF", "layer f = flatten(c)",
                            "layer l = dense(f, 2) with IF", OUTPUT),
     [(4, 24, "parameter 'kernel' of conv2d must be an integer or a list of two integers "
              "[height, width], got a list of 3")]),
    ("delay in volts", src(*HEAD, "layer l = dense(x, 4, delay = 1 V) with IF", OUTPUT),
     [(4, 31, "parameter 'delay' of dense needs a number of steps or a time, got a voltage")]),
    ("refractory in millivolts", src(*HEAD, "layer l = dense(x, 4) with IF(refractory = 2 mV)",
                                     OUTPUT),
     [(4, 44, "parameter 'refractory' of IF needs a number of steps or a time, got a voltage")]),
    ("a name where a number is expected",
     src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = foo)", OUTPUT),
     [(4, 42, "parameter 'tau_mem' of LIF must be a number, got the name 'foo'")]),
    ("a call where a number is expected",
     src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = exp(1))", OUTPUT),
     [(4, 42, "parameter 'tau_mem' of LIF must be a number, got a call to 'exp'")]),
    ("a format where a number is expected",
     src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = fixed<8,4>)", OUTPUT),
     [(4, 42, "parameter 'tau_mem' of LIF must be a number, got a fixed-point format")]),
    ("learning rate 0", src(*HEAD, LAYER, OUTPUT, "train { lr = 0 }"),
     [(6, 14, "'lr' must be positive, got 0")]),
    ("clock without a unit", src(*HEAD, LAYER, OUTPUT, "hardware { clock = 50 }"),
     [(6, 20, "'clock' needs a frequency (Hz, kHz, MHz), got a plain number 50",
       "write e.g. clock = 50 MHz")]),
    ("bad enum value", src(*HEAD, "layer l = dense(x, 4) with IF(reset = substract)", OUTPUT),
     [(4, 39, "invalid value 'substract' for parameter 'reset' of IF: expected subtract, zero or "
              "none", "did you mean 'subtract'?")]),
    ("string where a number is expected", src(*HEAD, 'layer l = dense(x, "4") with IF', OUTPUT),
     [(4, 20, "parameter 'units' of dense must be a number, got a string")]),
    ("fixed format given as a number", src(*HEAD, LAYER, OUTPUT, "hardware { weights = 8 }"),
     [(6, 22, "'weights' must be a fixed-point format such as fixed<8,6>, got the number 8")]),
    ("device name with a dash written as a word", src(*HEAD, LAYER, OUTPUT,
                                                      "hardware { device = ice40-up5k }"),
     [(6, 21, "'device' must be one of ice40-up5k, ice40-hx8k, ecp5-25k or generic, got an "
              "expression", 'a value with a dash is written as a string: "ice40-up5k"')]),
    ("steps given as a time, too many", src(*HEAD, "layer l = dense(x, 4) with IF(refractory = "
                                                    "1e30 ms)", OUTPUT),
     [(4, 44, "parameter 'refractory' of IF of 1e+27 s is too large (1e+30 steps of dt = 1 ms)")]),
    # 2**31 passed and wrapped to -2**31 in the Verilog `integer` and the HLS `int`: the refractory
    # period was gone in both (the golden model kept it), a delay went negative
    ("integer one past a 32-bit int", src(*HEAD, "layer l = dense(x, 4) with IF(refractory = "
                                                 "2147483648)", OUTPUT),
     [(4, 44, "parameter 'refractory' of IF is too large (2147483648; at most 2147483647)")]),
    ("steps given as a time, one past a 32-bit int",
     src(*HEAD, "layer l = dense(x, 4, delay = 2147483648 ms) with IF", OUTPUT),
     [(4, 31, "parameter 'delay' of dense of 2.14748e+06 s is too large (2.14748e+09 steps of "
              "dt = 1 ms)")]),
    # ------------------------------------------------------------------ fixed-point formats
    # W and F are digits (docs/language.md section 12), not integers in the forms of section 5
    ("fixed width written with a fraction", src(*HEAD, LAYER, OUTPUT,
                                                "hardware { weights = fixed<16.0,8> }"),
     [(6, 22, "invalid fixed-point format fixed<16.0,8>: expected fixed<WIDTH,FRAC> or "
              "ufixed<WIDTH,FRAC>")]),
    ("fixed width too large", src(*HEAD, LAYER, OUTPUT, "hardware { weights = fixed<40,2> }"),
     [(6, 22, "invalid fixed-point format fixed<40,2>: width must be between 2 and 32 bits")]),
    ("fixed fraction too large", src(*HEAD, LAYER, OUTPUT, "hardware { weights = fixed<8,9> }"),
     [(6, 22, "invalid fixed-point format fixed<8,9>: fraction bits must be between 0 and 7 "
              "(one bit is the sign)")]),
    ("fixed without fraction", src(*HEAD, LAYER, OUTPUT, "hardware { weights = fixed<8> }"),
     [(6, 22, "invalid fixed-point format fixed<8>: expected fixed<WIDTH,FRAC> or "
              "ufixed<WIDTH,FRAC>")]),
    ("ufixed of width 0", src(*HEAD, LAYER, OUTPUT, "hardware { state = ufixed<0,0> }"),
     [(6, 20, "invalid fixed-point format ufixed<0,0>: width must be between 1 and 32 bits")]),
    # ------------------------------------------------------------------ cycles
    ("layer reading itself", src(*HEAD, "layer l = dense(l, 4) with IF", OUTPUT),
     [(4, 17, "layer 'l' takes its own output as input",
       "feedback is only allowed as the self-connection of a `recurrent` layer")]),
    ("two layers in a cycle", src(*HEAD, "layer a = dense(b, 4) with IF",
                                  "layer b = dense(a, 4) with IF", "output b = count"),
     [(5, 17, "layers 'b' -> 'a' -> 'b' form a cycle",
       "feedback is only allowed as the self-connection of a `recurrent` layer")]),
    ("three layers in a cycle", src(*HEAD, "layer a = dense(c, 4) with IF",
                                    "layer b = dense(a, 4) with IF", "layer c = dense(b, 4) with IF",
                                    "output c = count"),
     [(5, 17, "layers 'b' -> 'c' -> 'a' -> 'b' form a cycle")]),
    # ------------------------------------------------------------------ time
    ("steps = 0", src(MODEL, "time { dt = 1 ms; steps = 0 }", INPUT, LAYER, OUTPUT),
     [(2, 27, "'steps' must be at least 1, got 0")]),
    ("steps not an integer", src(MODEL, "time { dt = 1 ms; steps = 2.5 }", INPUT, LAYER, OUTPUT),
     [(2, 27, "'steps' must be an integer, got 2.5")]),
    ("dt negative", src(MODEL, "time { dt = -1 ms; steps = 10 }", INPUT, LAYER, OUTPUT),
     [(2, 13, "'dt' must be positive, got -1 ms")]),
    ("dt zero", src(MODEL, "time { dt = 0 ms; steps = 10 }", INPUT, LAYER, OUTPUT),
     [(2, 13, "'dt' must be positive, got 0")]),
    ("refractory not a whole number of steps", src(*HEAD, "layer l = dense(x, 4) with "
                                                          "LIF(tau_mem = 5 ms, refractory = 2.5 ms)",
                                                   OUTPUT),
     [(4, 61, "parameter 'refractory' of LIF of 2.5 ms is not a whole number of steps of "
              "dt = 1 ms (2.5 steps)")]),
    # a non-zero time below a step was rounded to 0 steps (the tolerance was 1e-6 steps), and
    # one a millionth of a step off showed rounded (`of 2 ms`)
    ("delay below one step", src(*HEAD, "layer l = dense(x, 4, delay = 1e-7 ms) with IF",
                                 OUTPUT),
     [(4, 31, "parameter 'delay' of dense of 1e-7 ms is not a whole number of steps of "
              "dt = 1 ms (1e-07 steps)")]),
    ("delay a millionth of a step off", src(*HEAD, "layer l = dense(x, 4, delay = 2.000001 ms) "
                                                   "with IF", OUTPUT),
     [(4, 31, "parameter 'delay' of dense of 2.000001 ms is not a whole number of steps of "
              "dt = 1 ms (2.000001 steps)")]),
    # ------------------------------------------------------------------ structure
    ("no model", src(TIME, INPUT, LAYER, OUTPUT),
     [(1, 1, "no `model` declaration", "a model file starts with `model NAME`")]),
    ("no time", src(MODEL, INPUT, LAYER, OUTPUT),
     [(1, 1, "no `time` block", "add e.g. time { dt = 1 ms; steps = 25 }")]),
    ("no output", src(*HEAD, LAYER),
     [(1, 1, "the model has no `output`", "add e.g. `output LAYER = count`")]),
    ("empty file", "",
     [(1, 1, "no `model` declaration"), (1, 1, "no `time` block"),
      (1, 1, "the model has no `output`")]),
    ("layer without neuron", src(*HEAD, "layer l = dense(x, 4)", OUTPUT),
     [(4, 7, "layer 'l' needs a neuron", "add e.g. `with LIF(tau_mem = 10 ms)` after the operator")]),
    ("flatten with a neuron", src(MODEL, TIME, "input img[1, 2, 2] = rate",
                                  "layer f = flatten(img) with IF", "layer l = dense(f, 4) with IF",
                                  OUTPUT),
     [(4, 29, "flatten has no neurons; remove the `with` part")]),
    ("output of a flatten layer", src(MODEL, TIME, "input img[1, 2, 2] = rate",
                                      "layer l = flatten(img)", OUTPUT),
     [(5, 8, "output 'l' is a flatten layer, which has no neurons; read the layer before it")]),
    ("output of an input", src(*HEAD, LAYER, OUTPUT, "output x = count"),
     [(6, 8, "output 'x' is an input; outputs read a layer")]),
    ("use of a missing file", src(MODEL, 'use "no_such_neurons.snn"', TIME, INPUT, LAYER, OUTPUT),
     [(2, 5, "cannot find used file 'no_such_neurons.snn'", "looked for no_such_neurons.snn")]),
    # the neurons of a file that could not be read are not "unknown" a second time per layer
    ("use of a missing file, its neuron used twice",
     src(MODEL, 'use "no_such_neurons.snn"', TIME, INPUT, "layer h = dense(x, 4) with Mine",
         "layer l = dense(h, 4) with Mine", OUTPUT),
     [(2, 5, "cannot find used file 'no_such_neurons.snn'", "looked for no_such_neurons.snn")]),
    ("direct input of scale 0", src(MODEL, TIME, "input x[4] = direct(scale = 0)", LAYER, OUTPUT),
     [(3, 29, "parameter 'scale' of encoding direct must not be 0 (every input value would be "
              "0), got 0")]),
    ("lanes on a conv2d layer", src(MODEL, TIME, "input img[1, 4, 4] = rate",
                                     "layer c = conv2d(img, 2, 3, lanes = 2) with IF",
                                     "layer f = flatten(c)", "layer l = dense(f, 4) with IF", OUTPUT),
     [(4, 29, "unknown parameter 'lanes' for conv2d", "`lanes` is a parameter of dense and "
              "recurrent layers only (the hardware's neurons updated per cycle)")]),
    ("use of a folder", src(MODEL, 'use "/"', TIME, INPUT, LAYER, OUTPUT),
     [(2, 5, "used file '/' is a folder", "use a .snn file of neuron definitions")]),
    ("use of a device", src(MODEL, 'use "/dev/null"', TIME, INPUT, LAYER, OUTPUT),
     [(2, 5, "used file '/dev/null' is not a regular file", "use a .snn file of neuron "
                                                            "definitions")]),
    # ------------------------------------------------------------------ neuron definitions
    ("neuron without spike condition", neuron_model("  state v = 0", "  update { v = v + input }"),
     [(3, 8, "neuron 'N' has no spike condition", "add e.g. spike when v > 1")]),
    ("initial value reading a state", neuron_model("  state v = 0", "  state w = v",
                                                    "  update { v = v + input }", "  spike when v > 1"),
     [(5, 13, "the initial value of 'w' reads state variable 'v'", "an initial value is a "
              "constant: numbers, the neuron's parameters and dt")]),
    ("neuron without state", neuron_model("  spike when input > 1"),
     [(3, 8, "neuron 'N' has no state variables", "declare one, e.g. state v = 0")]),
    ("spike condition not a comparison", neuron_model("  state v = 0", "  spike when v + 1"),
     [(5, 14, "the spike condition must be a comparison, e.g. v > threshold")]),
    ("assigning to a parameter", neuron_model(
        "  param a = 1", "  state v = 0", "  update { a = 2 }", "  spike when v > a"),
     [(6, 12, "cannot assign to parameter 'a'; only state variables change")]),
    ("reserved name", neuron_model("  param dt = 1", "  state v = 0", "  spike when v > 1"),
     [(4, 9, "'dt' is a reserved name and cannot be a parameter")]),
    # a state 'emit' shared the graded height's key (wrong results in every backend, HLS did not
    # build); a state 'S' the spikes' (HLS: internal error); their uses are not reported again
    ("state named emit", neuron_model(
        "  state emit = 0", "  update { emit = emit + input }", "  spike when emit > 1 emit 0.5",
        "  on spike { emit = emit - height }"),
     [(4, 9, "'emit' is a keyword and cannot be the name of a state variable",
       "choose another name")]),
    ("state named S", neuron_model(
        "  state v = 0", "  state S = 0", "  update { v = v + input; S = S + 1 }",
        "  spike when v > 1"),
     [(5, 9, "'S' cannot be a state variable: the results use it for the neuron's spikes",
       "choose another name")]),
    # keywords as names: `dense(input, 4)` failed with "the first argument of dense is the name
    # of an input or layer"
    ("keyword as a layer name", src(*HEAD, "layer input = dense(x, 4) with IF", "output input = count"),
     [(4, 7, "'input' is a keyword and cannot be the name of a layer", "choose another name")]),
    ("keyword as an input name", src(MODEL, TIME, "input spike[4] = rate",
                                     "layer l = dense(spike, 4) with IF", OUTPUT),
     [(3, 7, "'spike' is a keyword and cannot be the name of an input", "choose another name")]),
    ("keyword as a parameter name", neuron_model("  param on = 1", "  state v = 0",
                                                 "  spike when v > 1"),
     [(4, 9, "'on' is a keyword and cannot be the name of a parameter", "choose another name")]),
    ("input in a state's initial value", neuron_model(
        "  state v = input", "  update { v = v + 1 }", "  spike when v > 1"),
     # the uses of 'v' are not reported again
     [(4, 13, "'input' is only known inside update, spike and on spike")]),
    ("division by zero", neuron_model("  state v = 0", "  update { v = v / 0 }", "  spike when v > 1"),
     [(5, 20, "division by zero")]),
    ("wrong number of arguments", neuron_model(
        "  state v = 0", "  update { v = exp(v, 1) }", "  spike when v > 1"),
     [(5, 16, "exp() takes 1 argument, got 2")]),
    # ------------------------------------------------------------------ several errors at once
    ("several errors in one run", src(*HEAD,
                                      "layer a = dense(x, 4) with LIF(tau_mem = 5)",
                                      "layer b = dense(a, 4) with LIFF",
                                      "output b = cnt",
                                      "hardware { weights = fixed<8,9> }"),
     [(4, 42, "parameter 'tau_mem' of LIF needs a time (us, ms, s), got a plain number 5",
       "write e.g. tau_mem = 20 ms"),
      (5, 28, "unknown neuron 'LIFF'", "did you mean 'LIF'?"),
      (6, 12, "unknown readout 'cnt': expected count, membrane or first_spike",
       "did you mean 'count'?"),
      (7, 22, "invalid fixed-point format fixed<8,9>: fraction bits must be between 0 and 7 "
              "(one bit is the sign)")]),
    # a step count of an infinite time was an internal error (round(inf)); large negatives
    # were "too large"
    ("steps of an infinite or hugely negative time",
     src(*HEAD, "layer l = dense(x, 4, delay = -1e308 ms) with LIF(tau_mem = 10 ms, "
                "refractory = 1e308 s)", OUTPUT, "train { tbptt = -3e9 }"),
     [(4, 31, "parameter 'delay' of dense must not be negative, got -1e+305 s"),
      (4, 81, "parameter 'refractory' of LIF of 1e+308 s is too large (inf steps of dt = 1 ms)"),
      (6, 17, "'tbptt' must not be negative, got -3000000000")]),
    ("a hugely negative dimension", src(MODEL, TIME, "input x[-3000000000] = rate", LAYER, OUTPUT),
     [(3, 9, "dimension 1 of input 'x' is too small (-3000000000; at least -2147483648)")]),
    # where only a keyword may come, the lexer took one from the start of a longer word: `modelm`
    # was `model m` (accepted), `inputs x[4]` "unexpected 'x', expected '['"
    ("a keyword glued to the next word", src("modelm", TIME, INPUT, LAYER, OUTPUT),
     [(1, 1, "unexpected 'modelm'", "did you mean 'model'? (a keyword is a word of its own)")]),
    ("a keyword with letters added", src(MODEL, TIME, "inputs x[4] = rate", LAYER, OUTPUT),
     [(3, 1, "unexpected 'inputs'", "did you mean 'input'? (a keyword is a word of its own)")]),
    # the tokens the parser accepts there, not every lookahead of its state (';', ']',
    # 'hardware' inside a call)
    ("only the tokens a call takes", src(*HEAD, "layer l = dense(x, 4 spike) with IF", OUTPUT),
     [(4, 22, "unexpected 'spike', expected one of ')', ','")]),
    # a list of a dozen tokens, 'hardware' among them, none saying what was wrong
    ("a chained comparison",
     neuron_model("state v = 0", "update { v = v + input }", "spike when v < 1 + 1 < 2"),
     [(6, 22, "unexpected '<': an expression holds one comparison",
       "write `a < b and b < c` for a range")]),
    ("spike and when run together",
     neuron_model("state v = 0", "update { v = v + input }", "spikewhen v > 1"),
     [(6, 1, "unexpected 'spikewhen'", "did you mean 'spike'? (a keyword is a word of its own)")]),
    # `layer héllo` was "unexpected character 'é', expected '='": as if the name were `h`
    ("a non-ASCII letter in a name",
     src(*HEAD, "layer h\u00e9llo = dense(x, 4) with IF", OUTPUT),
     [(4, 8, "unexpected character '\u00e9' (LATIN SMALL LETTER E WITH ACUTE)",
       "names are written with the ASCII letters a-z and A-Z, the digits 0-9 and '_'")]),
    # a non-zero literal below the smallest float: reported as "must be positive, got 0"
    ("a number too small for a float",
     src(MODEL, TIME, "input x[4] = rate(gain = 1e-400)",
         "layer l = dense(x, 4) with LIF(tau_mem = 1e-320 us)", OUTPUT),
     [(3, 26, "number 1e-400 is out of range (too small: a 64-bit float reads it as 0)"),
      (4, 42, "number 1e-320 us is out of range (too small: a 64-bit float reads it as 0)")]),
    # a format split over two lines, or a comment inside it: `fixed` had been read as a name
    # compared with 8, and the error fell on the 6 ("unexpected number 6")
    ("a fixed-point format split over two lines",
     src(*HEAD, LAYER, OUTPUT, "hardware { weights = fixed<8,", "    6> }"),
     [(6, 22, "'fixed<' is not closed with '>'",
       "a fixed-point format is written on one line, without comments: fixed<WIDTH,FRAC>")]),
    ("a comment inside a fixed-point format",
     src(*HEAD, LAYER, OUTPUT, "hardware { state = ufixed<16, # bits", "  8> }"),
     [(6, 20, "'ufixed<' is not closed with '>'",
       "a fixed-point format is written on one line, without comments: ufixed<WIDTH,FRAC>")]),
    # the format ran to the next '>': "invalid fixed-point format fixed<8,6; state = fixed<16,8>"
    ("a fixed-point format that a ';' ends",
     src(*HEAD, LAYER, OUTPUT, "hardware { weights = fixed<8,6; state = fixed<16,8> }"),
     [(6, 22, "'fixed<' is not closed with '>'",
       "a fixed-point format is written on one line, without comments: fixed<WIDTH,FRAC>")]),
    # `dense(x, 2 with IF` was "unknown unit 'with'"
    ("a keyword after a number is no unit", src(*HEAD, "layer l = dense(x, 4 with IF", OUTPUT),
     [(4, 22, "unexpected 'with', expected one of ')', ','")]),
    ("a fixed-point format without its '>'",
     src(*HEAD, LAYER, OUTPUT, "hardware { weights = fixed<8, 6 }"),
     [(6, 22, "'fixed<' is not closed with '>'",
       "a fixed-point format is written on one line, without comments: fixed<WIDTH,FRAC>")]),
    ("several errors across blocks", src(MODEL, "time { dt = 0 ms; steps = 0 }",
                                         "input x[0] = rat", "layer l = dens(x, 4) with IF",
                                         OUTPUT),
     [(2, 13, "'dt' must be positive, got 0"),
      (2, 27, "'steps' must be at least 1, got 0"),
      (3, 8, "input 'x' has an empty dimension; sizes must be at least 1"),
      (3, 14, "unknown encoding 'rat'", "did you mean 'rate'?"),
      (4, 11, "unknown layer operator 'dens'", "did you mean 'dense'?")]),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_model(text, expected):
    assert_errors(text, expected)


def test_there_are_enough_cases():
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


def test_errors_print_like_a_compiler():
    errs = errors_of(src(*HEAD, "layer l = dense(x, 4) with LIFF", OUTPUT))
    assert errs[0].format().splitlines() == [
        "bad.snn:4:28: error: unknown neuron 'LIFF'",
        "    4 | layer l = dense(x, 4) with LIFF",
        "      |                            ^^^^",
        "      = hint: did you mean 'LIF'?",
    ]


def test_control_characters_of_a_line_print_as_question_marks():
    """An escape sequence in a model's line (`ESC [2J`) cleared the terminal when the error
    printed it; each control character shows as one '?' and the caret keeps its column."""
    errs = errors_of(src(MODEL + "\x1b[2J", TIME, INPUT, LAYER, OUTPUT))
    assert errs[0].format().splitlines()[:3] == [
        "bad.snn:1:8: error: unexpected character '\\u001b', expected one of ';', 'hardware', "
        "'input', 'layer', 'model', 'neuron', 'output', 'time', ...",
        "    1 | model m?[2J",
        "      |        ^",
    ]


def test_error_spans_cover_the_offending_text():
    (err,) = errors_of(src(*HEAD, "layer l = dense(x, 4) with LIF(tau_mem = 5)", OUTPUT))
    assert (err.loc.end_line, err.loc.end_col) == (4, 43)
    (err,) = errors_of(src(*HEAD, LAYER, OUTPUT, "hardware { weights = fixed<40,2> }"))
    assert (err.loc.line, err.loc.col, err.loc.end_col) == (6, 22, 33)


# ------------------------------------------------------------------ warnings


def test_unused_input_and_layer_are_warnings():
    loaded = load_text(src(*HEAD, "input unused[3] = rate", LAYER, "layer spare = dense(x, 2) with IF",
                           OUTPUT), "warn.snn")
    got = [(w.severity, w.line, w.col, w.message) for w in loaded.warnings]
    assert got == [
        ("warning", 4, 1, "input 'unused' does not reach any output"),
        ("warning", 6, 1, "layer 'spare' does not reach any output"),
    ]
    assert [l.name for l in loaded.graph.layers] == ["l", "spare"]


@pytest.mark.parametrize("loss, readout, warned", [
    ("first_spike", "count", True), ("first_spike", "membrane", True),
    ("mse_count", "first_spike", True), ("mse_count", "membrane", True),
    ("first_spike", "first_spike", False), ("mse_count", "count", False),
    ("cross_entropy", "count", False), ("cross_entropy", "first_spike", False)])
def test_a_loss_that_does_not_train_the_readout_is_a_warning(loss, readout, warned):
    loaded = load_text(src(*HEAD, LAYER, f"output l = {readout}", f"train {{ loss = {loss} }}"),
                       "warn.snn")
    got = [(w.line, w.col, w.message) for w in loaded.warnings]
    trains = "first-spike times" if loss == "first_spike" else "spike counts"
    assert got == ([(6, 16, f"loss = {loss} trains the output's {trains}, but output 'l' "
                            f"predicts from its {readout} readout")] if warned else [])


@pytest.mark.parametrize("delay, warned", [("9", False), ("10", True), ("12 ms", True)])
def test_a_delay_of_the_models_steps_or_more_is_a_warning(delay, warned):
    """Such a layer receives nothing in a sample; it was accepted silently (and the HLS backend
    built a delay line of that many steps: a delay of 1e9 did not link). Located at the `delay`
    argument (it was at the start of the layer's statement)."""
    loaded = load_text(src(*HEAD, f"layer l = dense(x, 4, delay = {delay}) with IF", OUTPUT),
                       "warn.snn")
    d = delay.split()[0]
    got = [(w.line, w.col, w.message) for w in loaded.warnings]
    assert got == ([(4, 23, f"layer 'l' has delay = {d} steps, not fewer than the model's 10 "
                           "steps: it receives no input in a sample")] if warned else [])


@pytest.mark.parametrize("body, warned", [
    (("state v = 0", "update { v = v + 1 }", "spike when v > 3"), True),
    (("state v = 0", "update { v = v + 1 }", "spike when v + input > 3"), False),
    (("state v = 0", "update { v = v + 1 }", "spike when v > 3", "on spike { v = input }"), False),
])
def test_a_user_neuron_that_never_reads_its_input_is_a_warning(body, warned):
    loaded = load_text(neuron_model(*body), "warn.snn")
    got = [(w.line, w.col, w.message, w.hint) for w in loaded.warnings]
    assert got == ([(3, 8, "neuron 'N' never reads `input`: the synaptic input of a layer of it "
                           "changes nothing", "add `input` to an update, e.g. v = v + input")]
                   if warned else [])


def test_more_lanes_than_neurons_is_a_warning():
    loaded = load_text(src(*HEAD, "layer l = dense(x, 3, lanes = 8) with IF", OUTPUT), "warn.snn")
    assert [(w.line, w.col, w.message, w.hint) for w in loaded.warnings] == [
        (4, 23, "layer 'l' has 3 neurons and lanes = 8: 5 lanes never hold a neuron",
         "lanes = 3 updates them all in one cycle as well")]
    assert load_text(src(*HEAD, "layer l = dense(x, 3, lanes = 3) with IF", OUTPUT),
                     "ok.snn").warnings == []


def test_a_valid_model_has_no_warnings():
    assert load_text(src(*HEAD, LAYER, OUTPUT), "ok.snn").warnings == []


# ------------------------------------------------------------------ `use`d files


def test_use_reports_errors_in_the_used_file(tmp_path):
    (tmp_path / "neurons.snn").write_text(src("neuron N {", "  state v = 0", "  update { v = v + 1 ms }",
                                              "  spike when v > 1", "}"))
    (tmp_path / "model.snn").write_text(src(MODEL, 'use "neurons.snn"', TIME, INPUT,
                                            "layer l = dense(x, 4) with N", OUTPUT))
    with pytest.raises((SnnError, SnnErrors)) as info:
        load(tmp_path / "model.snn")
    errs = info.value.errors if isinstance(info.value, SnnErrors) else [info.value]
    assert [(e.loc.path, e.line, e.col, e.message) for e in errs] == [
        (str(tmp_path / "neurons.snn"), 3, 16, "cannot add a plain number and a time")]


def test_use_reports_a_number_out_of_range_with_the_other_errors(tmp_path):
    (tmp_path / "neurons.snn").write_text(src("neuron N {", "  state v = 0",
                                              "  update { v = v * 1e400 + input }",
                                              "  spike when v > 1", "}"))
    (tmp_path / "model.snn").write_text(src(MODEL, 'use "neurons.snn"', TIME, INPUT,
                                            "layer l = dense(x, 4) with N", "output l = cont"))
    with pytest.raises(SnnErrors) as info:
        load(tmp_path / "model.snn")
    assert [(os.path.basename(e.loc.path), e.line, e.col, e.message) for e in info.value.errors] == [
        ("model.snn", 6, 12, "unknown readout 'cont': expected count, membrane or first_spike"),
        ("neurons.snn", 3, 20, "number 1e400 is out of range")]


def test_use_of_a_file_that_defines_more_than_neurons(tmp_path):
    (tmp_path / "lib.snn").write_text(src("neuron N { state v = 0; update { v = v + input }; "
                                          "spike when v > 1 }", "model other"))
    (tmp_path / "model.snn").write_text(src(MODEL, 'use "lib.snn"', TIME, INPUT,
                                            "layer l = dense(x, 4) with N", OUTPUT))
    with pytest.raises((SnnError, SnnErrors)) as info:
        load(tmp_path / "model.snn")
    errs = info.value.errors if isinstance(info.value, SnnErrors) else [info.value]
    assert [(e.loc.path, e.line, e.message, e.hint) for e in errs] == [
        (str(tmp_path / "lib.snn"), 2, "a used file may only define neurons (and use other files)",
         f"used from {tmp_path / 'model.snn'}:2:1")]


def test_use_loads_neurons_and_tolerates_cycles(tmp_path):
    (tmp_path / "a.snn").write_text(src('use "b.snn"', "neuron A { state v = 0; update { v = v + input }; "
                                                       "spike when v > 1 }"))
    (tmp_path / "b.snn").write_text(src('use "a.snn"', "neuron B { state v = 0; update { v = input }; "
                                                       "spike when v > 1 }"))
    (tmp_path / "model.snn").write_text(src(MODEL, 'use "a.snn"', TIME, INPUT,
                                            "layer l = dense(x, 4) with A",
                                            "layer k = dense(l, 2) with B", "output k = count"))
    graph = load(tmp_path / "model.snn").graph
    assert [l.neuron.name for l in graph.layers] == ["A", "B"]


def test_a_file_that_uses_itself_is_an_error(tmp_path):
    """A model or a used file naming itself in `use` (it was silently ignored)."""
    (tmp_path / "lib.snn").write_text(src('use "./lib.snn"', "neuron A { state v = 0; "
                                          "update { v = v + input }; spike when v > 1 }"))
    (tmp_path / "model.snn").write_text(src(MODEL, 'use "model.snn"', 'use "lib.snn"', TIME, INPUT,
                                            "layer l = dense(x, 4) with A", OUTPUT))
    with pytest.raises(SnnErrors) as info:
        load(tmp_path / "model.snn")
    assert [(os.path.basename(e.loc.path), e.line, e.col, e.message, e.hint)
            for e in info.value.errors] == [
        ("lib.snn", 1, 5, "the file uses itself ('./lib.snn')",
         "`use` names another file, of neuron definitions"),
        ("model.snn", 2, 5, "the file uses itself ('model.snn')",
         "`use` names another file, of neuron definitions")]


def test_a_use_through_a_symbolic_link_to_its_folder_is_read_once(tmp_path):
    """`use "lib/x.snn"` in x.snn, with lib a link to x.snn's own folder, is x.snn itself (each
    path through the link was a new file: the checker recursed without end)."""
    (tmp_path / "lib").symlink_to(".")
    (tmp_path / "x.snn").write_text(src('use "lib/lib/x.snn"', "neuron X { state v = 0; "
                                        "update { v = v + input }; spike when v > 1 }"))
    (tmp_path / "model.snn").write_text(src(MODEL, 'use "x.snn"', TIME, INPUT,
                                            "layer l = dense(x, 4) with X", OUTPUT))
    [e] = errors_of_file(tmp_path / "model.snn")
    assert (os.path.basename(e.loc.path), e.line, e.col, e.message) == (
        "x.snn", 1, 5, "the file uses itself ('lib/lib/x.snn')")


def errors_of_file(path) -> list[SnnError]:
    with pytest.raises((SnnError, SnnErrors)) as info:
        load(path)
    exc = info.value
    return exc.errors if isinstance(exc, SnnErrors) else [exc]


# ------------------------------------------------------------------ found by a front-end QA run

def _errs(data: bytes | str, name: str = "m.snn"):
    from snnc.build import build
    from snnc.dsl.parser import parse_bytes

    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises((SnnError, SnnErrors)) as info:
        build(parse_bytes(raw, name))
    exc = info.value
    return exc.errors if isinstance(exc, SnnErrors) else [exc]


BAD_TAU = ("model m\ntime { dt = 1 ms; steps = 25 }{sep}\ninput x[64] = rate\n"
           "layer a = dense(x, 4) with LIF(tau_mem = 10)\noutput a = count\n")


@pytest.mark.parametrize("data,line", [
    (BAD_TAU.replace("{sep}", "  # page\x0cbreak"), 4),        # a form feed inside a comment
    (BAD_TAU.replace("{sep}", "  # a\u2028b"), 4),              # U+2028 inside a comment
    (BAD_TAU.replace("{sep}", "").replace("\n", "\r"), 4),      # CR-only line ends
    (BAD_TAU.replace("{sep}", "").replace("\n", "\r\n"), 4),    # CRLF
])
def test_the_quoted_line_is_the_line_of_the_location(data, line):
    """Lines end at \\n, \\r\\n or \\r; the quoted source line is the located one (it was the line
    str.splitlines() counts, which also breaks at form feeds and U+2028)."""
    [e] = _errs(data)
    assert (e.line, e.col) == (line, 42)
    assert e.format().splitlines()[1] == "    4 | layer a = dense(x, 4) with LIF(tau_mem = 10)"
    assert e.format().splitlines()[2] == "      |" + " " * 42 + "^^"


def test_a_byte_order_mark_is_not_a_column():
    [e] = _errs(b"\xef\xbb\xbfmodel m time { dt = 1; steps = 25 } input x[64] = rate "
                b"layer a = dense(x, 4) with IF output a = count")
    assert (e.line, e.col, e.message) == (1, 21, "'dt' needs a time (us, ms, s), got a plain "
                                                 "number 1")


@pytest.mark.parametrize("value", ["ecp5-25k", "mnist-1d"])
def test_an_unquoted_dashed_value_is_named(value):
    key = "device" if value.startswith("ecp5") else "dataset"
    block = (f"hardware {{\n  device = {value}\n  lanes = 4\n}}\n" if key == "device" else
             f"train {{ dataset = {value} }}\n")
    text = ("model m\ntime { dt = 1 ms; steps = 25 }\ninput x[64] = rate\n"
            "layer a = dense(x, 4) with LIF(tau_mem = 10 ms)\noutput a = count\n" + block)
    [e] = _errs(text)
    assert (e.line, e.message, e.hint) == (
        6 if key == "dataset" else 7, f"'{value}' is not a name or a number",
        f'a value with a dash is written as a string: "{value}"')


def test_front_end_messages():
    head = "model m\ntime { dt = 1 ms; steps = 25 }\ninput x[64] = rate\n"
    # division by a zero quantity in a neuron
    [e] = _errs(head + "neuron N {\n  state v = 0\n  state w = 1 mV\n"
                       "  update { v = v + input + w / 0 mV }\n  spike when v > 1\n}\n"
                       "layer a = dense(x, 4) with N\noutput a = count\n")
    assert (e.line, e.col, e.message) == (7, 32, "division by zero")
    # an invalid dt is one error, not one per time given in steps or use of dt
    [e] = _errs("model m\ntime { dt = 0 ms; steps = 25 }\ninput x[64] = rate\n"
                "layer a = dense(x, 4, delay = 2 ms) with LIF(tau_mem = 20 * dt, refractory = 2 ms)"
                "\noutput a = count\ntrain { tbptt = 3 ms }\n")
    assert e.message == "'dt' must be positive, got 0"
    # an integer that is not one says which value it got; case-only misspellings get a hint
    errs = _errs(head.replace("steps = 25", "steps = 2.0000000001")
                 + "layer a = dense(x, 4, bias = True) with lif(tau_mem = 10 ms)\n"
                   "output a = count\n")
    assert [(e.message, e.hint) for e in errs] == [
        ("'steps' must be an integer, got 2.0000000001", None),
        ("parameter 'bias' of dense must be true or false", "did you mean 'true'?"),
        ("unknown neuron 'lif'", "did you mean 'LIF'?")]
    # an ASN, not "a ASN"
    [e] = _errs(head + "layer c = recurrent(x, 16) with ASN(tau_beta = 20 ms)\noutput c = count\n")
    assert e.message == "layer 'c': an ASN neuron cannot be used in a recurrent layer (use dense)"


def test_check_json_of_a_missing_file_names_it(tmp_path, capsys):
    import json

    from snnc.cli import main

    path = str(tmp_path / "nothere.snn")
    assert main(["check", "--json", path]) == 2
    [err] = json.loads(capsys.readouterr().out)["errors"]
    assert err == {"severity": "error", "message": f"{path}: no such file", "hint": None,
                   "file": path, "line": None, "col": None, "end_line": None, "end_col": None}


def test_carets_under_wide_characters_long_lines_and_spans_over_lines():
    """The caret sits under its culprit after East Asian wide characters (two cells each), in a
    window of a line longer than 200 characters (it was cut before the culprit), and underlines
    a span over lines to the end of its first line (one caret before)."""
    head = "model m\ntime { dt = 1 ms; steps = 25 }\ninput x[64] = rate\n"
    tail = "\noutput a = count\n"
    [e, _] = _errs(head + 'layer a = dense(x, 4) with LIF(tau_mem = "日本日本日本", '
                          'threshold = 1 mV)' + tail)
    line, carets = e.format().splitlines()[1:3]
    assert carets == "      |" + " " * 42 + "^" * 14                  # 6 wide characters + quotes
    [e] = _errs(head + "layer a = dense(x, 4) with LIF(tau_mem = 10 ms" + " " * 300
                + ", threshold = 1 mV)" + tail)
    line, carets = e.format().splitlines()[1:3]
    assert line.startswith("    4 | ... ") and line.endswith(", threshold = 1 mV)")
    assert line[len(carets) - 4:len(carets)] == "1 mV" and carets.endswith(" ^^^^")
    [e] = _errs(head + "layer a = dense(x, 4) with LIF(tau_mem = 10 ms\n   + 1)" + tail)
    assert e.format().splitlines()[2] == "      |" + " " * 42 + "^^^^^"


@pytest.mark.parametrize("neuron, setting, hint", [
    ("IF", "current = fixed<16,4>", "only CubaLIF neurons have a synaptic current"),
    ("LIF(tau_mem = 5 ms)", "current = fixed<16,4>", "only CubaLIF neurons have a synaptic current"),
    ("LIF(tau_mem = 5 ms)", "adaptation = fixed<16,4>",
     "only ALIF and ASN neurons have an adaptation state"),
    ("IF", "inputs = fixed<12,4>", "only `direct` inputs carry values in this format"),
    ("IF", "decay = shift", "only LIF, CubaLIF, ALIF and ASN neurons decay"),
    ("LIF(tau_mem = 5 ms, leak = shift)", "decay = multiply",
     "no layer takes it: only LIF, CubaLIF, ALIF and ASN neurons decay, and their own `leak` "
     "comes first"),
    ("LIF(tau_mem = 5 ms)", "decay = shift; leak_digits = 4",
     "it rounds the coefficients of a `multiply` leak, and no layer has one"),
    ("IF", "leak_digits = 4", "it rounds the coefficients of a `multiply` leak, and no layer has one"),
    ("IF", "lanes = 2", "every layer sets its own `lanes`"),
])
def test_a_hardware_setting_nothing_reads_is_a_warning(neuron, setting, hint):
    """A format or leak setting that no layer or input of the model uses changed nothing and was
    accepted without a word."""
    own = ", lanes = 4" if setting.startswith("lanes") else ""
    loaded = load_text(src(*HEAD, f"layer l = dense(x, 4{own}) with {neuron}", OUTPUT,
                           f"hardware {{ {setting} }}"), "warn.snn")
    key = setting.split(";")[-1].split("=")[0].strip()
    col = 12 + setting.index(key)
    assert [(w.line, w.col, w.message, w.hint) for w in loaded.warnings] == [
        (6, col, f"hardware setting '{key}' has no effect in model 'm'", hint)]


@pytest.mark.parametrize("neuron, setting", [
    ("CubaLIF(tau_mem = 5 ms, tau_syn = 2 ms)", "current = fixed<16,4>"),
    ("ALIF(tau_mem = 5 ms, tau_adapt = 20 ms)", "adaptation = fixed<16,4>"),
    ("ASN(tau_beta = 20 ms)", "adaptation = fixed<16,4>"),
    ("LIF(tau_mem = 5 ms)", "decay = shift"),
    ("LIF(tau_mem = 5 ms)", "leak_digits = 4"),
    ("LIF(tau_mem = 5 ms, leak = multiply)", "leak_digits = 4"),
    ("IF", "lanes = 2"),
])
def test_a_hardware_setting_a_layer_reads_is_not_a_warning(neuron, setting):
    loaded = load_text(src(*HEAD, f"layer l = dense(x, 4) with {neuron}", OUTPUT,
                           f"hardware {{ {setting} }}"), "warn.snn")
    assert loaded.warnings == []


def test_the_inputs_format_of_a_direct_input_is_not_a_warning():
    loaded = load_text(src(MODEL, TIME, "input x[3] = direct", LAYER, OUTPUT,
                           "hardware { inputs = fixed<12,4> }"), "warn.snn")
    assert loaded.warnings == []


@pytest.mark.parametrize("steps, message", [
    ("1000001", "'steps' must be at most 1000000, got 1000001"),
    # beyond the language's integers: the limit of `steps`, not of every integer, is named
    ("2147483648", "'steps' must be at most 1000000, got 2147483648"),
    ("0", "'steps' must be at least 1, got 0"),
])
def test_steps_out_of_range_names_the_steps_limit(steps, message):
    (err,) = errors_of(src(MODEL, f"time {{ dt = 1 ms; steps = {steps} }}", INPUT, LAYER, OUTPUT))
    assert (err.line, err.col, err.message) == (2, 27, message)


def test_a_surrogate_no_spike_function_uses_is_a_warning():
    """A ReLU layer's own surrogate and a train block's surrogate that every spiking layer
    overrides changed nothing and were accepted without a word."""
    loaded = load_text(src(MODEL, TIME, "input x[3] = direct",
                           "layer h = dense(x, 3, surrogate = atan(alpha = 7)) with relu",
                           "layer l = dense(h, 2, surrogate = triangle) with IF", "output l = count",
                           "train { surrogate = sigmoid(slope = 3) }"), "warn.snn")
    assert [(w.line, w.col, w.message, w.hint) for w in loaded.warnings] == [
        (4, 23, "layer 'h' has no spike function (ReLU): its surrogate has no effect",
         "a surrogate replaces the derivative of a spiking neuron's threshold step"),
        (7, 9, "the train block's surrogate has no effect: every spiking layer sets its own", None)]
    relu = load_text(src(MODEL, TIME, "input x[3] = direct", "layer h = dense(x, 3) with relu",
                         "output h = membrane", "train { surrogate = atan }"), "warn.snn")
    assert [(w.line, w.col, w.message) for w in relu.warnings] == [
        (6, 9, "the train block's surrogate has no effect: no layer spikes (ReLU)")]
    used = load_text(src(MODEL, TIME, "input x[3] = direct", "layer h = dense(x, 3) with relu",
                         "layer l = dense(h, 2) with IF", "output l = count",
                         "train { surrogate = atan }"), "warn.snn")
    assert used.warnings == []


@pytest.mark.parametrize("tbptt, warned", [("9", False), ("0", False), ("10", True), ("12", True)])
def test_a_tbptt_window_of_the_models_steps_or_more_is_a_warning(tbptt, warned):
    loaded = load_text(src(*HEAD, LAYER, OUTPUT, f"train {{ tbptt = {tbptt} }}"), "warn.snn")
    assert [(w.line, w.col, w.message) for w in loaded.warnings] == (
        [(6, 9, f"tbptt = {tbptt} is not shorter than the model's 10 steps: the gradient is never "
                "truncated (full BPTT, as tbptt = 0)")] if warned else [])
