"""The Verilog backend's generator (no simulator needed): code builder, identifiers, the top's
structure and manifest, memory files, located errors for what it cannot build yet, and
`snnc compile`. The co-simulation against the golden model is tests/hw/test_network_cosim.py."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re

import pytest

import snnc
import snnc.hw
from snnc.backends.verilog import CodeBuilder, generate, verilog_ident
from snnc.cli import main
from snnc.errors import SnnErrors
from snnc.weights import random_weights, save_weights

from snn_models import CONV, ROOT

DIGITS = ROOT / "examples" / "digits.snn"
IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

KINDS = """model kinds
time {
    dt = 1 ms
    steps = 10
}
input x[7] = rate(gain = 1.0)
layer a = dense(x, 6) with IF(threshold = 0.5, reset = zero)
layer b = dense(a, 5) with CubaLIF(tau_mem = 10 ms, tau_syn = 5 ms, threshold = 0.5, refractory = 2)
layer c = dense(b, 4) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.3, threshold = 0.4)
layer d = dense(c, 3) with LIF(tau_mem = 8 ms, threshold = 0.3, leak = shift, reset = none)
output d = count
hardware { lanes = 3 }
"""


def test_code_builder_indents_lines():
    out = CodeBuilder()
    out.line("module m (")
    with out.indent():
        out.line("input wire clk")
        with out.indent(2):
            out.line("// deep")
        out.line("")
    out.line(");")
    assert out.text() == "module m (\n    input wire clk\n            // deep\n\n);\n"
    assert len(out) == 5
    with pytest.raises(ValueError):
        out.line("two\nlines")


def test_verilog_ident_sanitises_and_deduplicates():
    used: set[str] = set()
    assert verilog_ident("hidden", used) == "hidden"
    assert verilog_ident("hidden layer/1", used) == "hidden_layer_1"
    assert verilog_ident("hidden-layer.1", used) == "hidden_layer_1_2"
    assert verilog_ident("reg", used) == "reg_l"
    assert verilog_ident("module", used) == "module_l"
    assert verilog_ident("3rd", used) == "n3rd"
    assert verilog_ident("_x", used) == "x"
    assert verilog_ident("snn_top", used) == "snn_top_l"       # never a library module name
    assert verilog_ident("Ω", used) == "n"
    assert all(IDENT.match(s) for s in used)


def _renamed(model, names: list[str]):
    """The model's graph with its layers renamed (sources and outputs follow)."""
    g = model.graph
    old = [l.name for l in g.layers]
    mapping = dict(zip(old, names))
    layers = tuple(dataclasses.replace(l, name=mapping[l.name],
                                       source=mapping.get(l.source, l.source))
                   for l in g.layers)
    outputs = tuple(dataclasses.replace(o, source=mapping.get(o.source, o.source))
                    for o in g.outputs)
    return dataclasses.replace(g, layers=layers, outputs=outputs)


def test_awkward_layer_names(tmp_path):
    m = snnc.load(DIGITS)
    g = _renamed(m, ["hidden layer/1", "module"])
    from snnc.quantize import quantize

    q = quantize(g, random_weights(g, seed=0))
    man = generate(q, tmp_path)
    idents = [l["ident"] for l in man["layers"]]
    assert idents == ["hidden_layer_1", "module_l"]
    assert [l["name"] for l in man["layers"]] == ["hidden layer/1", "module"]
    top = (tmp_path / "snn_top.v").read_text()
    assert "u_l0_hidden_layer_1 (" in top and "u_l1_module_l (" in top
    assert (tmp_path / "w_hidden_layer_1.mem").exists() and (tmp_path / "w_module_l.mem").exists()
    # every declared name is a plain identifier
    for name in re.findall(r"\bu_(\w+) \(", top):
        assert IDENT.match(name)


def test_memory_file_names_of_long_and_case_variant_layer_names(tmp_path):
    # a 250-character name made a file name over 255 bytes (internal error); 'a' and 'A' made
    # w_a.mem and w_A.mem, one file on a case-insensitive file system
    m = snnc.load(DIGITS)
    long = "c" * 250
    g = _renamed(m, [long, "C" + "c" * 249])
    from snnc.quantize import quantize

    man = generate(quantize(g, random_weights(g, seed=0)), tmp_path)
    files = [l["parameters"]["WEIGHT_FILE"] for l in man["layers"]]
    assert files[0] == f"w_{'c' * 91}_{hashlib.sha256(long.encode()).hexdigest()[:8]}.mem"
    assert len(files[1]) < 120 and files[0].lower() != files[1].lower()
    assert all((tmp_path / f).exists() for f in files) and man["memory_files"] == files
    g = _renamed(m, ["a", "A"])
    man = generate(quantize(g, random_weights(g, seed=0)), tmp_path / "case")
    assert [l["parameters"]["WEIGHT_FILE"] for l in man["layers"]] == ["w_a.mem", "w_A_2.mem"]


def test_digits_top_manifest_and_memories(tmp_path):
    m = snnc.load(DIGITS)
    q = m.quantize(m.random_weights(seed=3))
    man = generate(q, tmp_path)
    assert man["format"] == "snnc-verilog" and man["top"] == "snn_top" and man["steps"] == 25
    for f in man["files"]:
        assert (tmp_path / f).is_file()
    assert set(man["files"]) == {p.name for p in snnc.hw.sources("snn_layer_core")} | {
        "snn_event_fifo.v", "snn_top.v"}
    saved = json.loads((tmp_path / "manifest.json").read_text())
    assert saved == json.loads(json.dumps(man))
    hidden, out = man["layers"]
    assert (hidden["neurons"], hidden["inputs"], hidden["lanes"]) == (128, 64, 4)
    assert (out["neurons"], out["inputs"], out["words_per_row"]) == (10, 128, 3)
    plan = q.plan("hidden")
    prm = hidden["parameters"]
    assert prm["ACC_W"] == plan.acc_bits and prm["ACC_FRAC"] == plan.acc_frac
    assert prm["THRESHOLD"] == plan.neuron.threshold == 256
    assert prm["MEM_DECAY"] == plan.neuron.mem_decay and prm["KIND"] == 1
    assert prm["IN_AW"] == 6 and prm["OUT_AW"] == 7 and out["parameters"]["IN_AW"] == 7
    assert prm["WEIGHT_FILE"] == "w_hidden.mem"
    # the memory image is the quantised weights, word by word
    lines = (tmp_path / "w_out.mem").read_text().split()
    assert len(lines) == 128 * 3 and all(len(s) == 8 for s in lines)
    words = snnc.hw.weight_words(q.weights["out"]["weight"], 4, 8)
    assert [int(s, 16) for s in lines] == words
    assert [p["name"] for p in man["ports"]][:3] == ["clk", "rst", "clear"]
    widths = {p["name"]: p["width"] for p in man["ports"]}
    assert widths["s_addr"] == 6 and widths["m_addr"] == 4 and widths["rd_layer"] == 1
    assert widths["rd_data"] == 4 * hidden["state"]["lane_bits"]
    # a LIF layer stores U, S_prev and R only (no I, no A): 16 + 1 + 1 bits per lane
    assert [f["name"] for f in hidden["state"]["fields"]] == ["U", "S", "R"]
    assert [f["offset"] for f in hidden["state"]["fields"]] == [0, 16, 17]
    assert hidden["state"]["lane_bits"] == 18 and prm["ST_I"] == 0 and prm["ST_A"] == 0
    assert man["memory_map"]["weights"][1] == {"w_layer": 1, "layer": "out", "words": 384,
                                               "word_bits": 32, "file": "w_out.mem", "w_mem": 0}
    assert man["memory_map"]["recurrent"] == [] and man["memory_map"]["bias"] == []
    assert hidden["recurrent"] is None and hidden["bias"] is None
    assert prm["REC"] == 0 and prm["BIAS"] == 0 and prm["AUX_SHIFT"] == 0
    assert man["memory_files"] == ["w_hidden.mem", "w_out.mem"]
    assert man["write_select"] is None and widths["w_addr"] == 11         # 64 rows * 32 words
    assert "(E_L + R_L) * words_L" in man["cycle_bound"]["formula"]
    # what an integrator needs beyond the ports (found by writing a bench from the docs alone):
    # the encoder's settings, how a membrane readout is read, what survives rst
    assert man["input"]["encoder"] == {"kind": "rate", "gain": 1.0}
    assert "runs outside the design" in man["input"]["encoder_doc"]
    assert "add their field U over the steps" in man["output"]["doc"]
    docs = {p["name"]: p["doc"] for p in man["ports"]}
    assert "weight memories keep their contents" in docs["rst"]
    assert "is ignored" in docs["w_addr"] and "unspecified word" in docs["rd_addr"]
    top = (tmp_path / "snn_top.v").read_text()
    assert top.count("snn_layer_core #(") == 2 and top.count("snn_event_fifo #(") == 2
    assert "module snn_top (" in top and top.rstrip().endswith("`default_nettype wire")


def test_every_builtin_kind_and_lanes_override(tmp_path):
    q = snnc.loads(KINDS).quantize(None)
    man = generate(q, tmp_path, lanes=2, fifo_depth=4)
    kinds = [l["parameters"]["KIND"] for l in man["layers"]]
    assert kinds == [0, 2, 3, 1]
    assert [l["lanes"] for l in man["layers"]] == [2, 2, 2, 2]
    b = man["layers"][1]["parameters"]
    assert b["REFRACTORY"] == 2 and b["R_W"] == 2 and b["SYN_DECAY"] > 0
    assert man["layers"][2]["parameters"]["BETA"] == q.plan("c").neuron.beta
    d = man["layers"][3]["parameters"]
    assert d["LEAK"] == 2 and d["RESET"] == 2 and d["MEM_DECAY"] == q.plan("d").neuron.mem_decay
    assert man["layers"][0]["fifo_depth"] == 4
    with pytest.raises(ValueError, match="power of two from 2 to 65536, not 6"):
        generate(q, tmp_path, fifo_depth=6)
    # the bound `snnc compile --fifo-depth` has holds for the Python API too
    with pytest.raises(ValueError, match="not 131072"):
        generate(q, tmp_path, fifo_depth=1 << 17)
    with pytest.raises(TypeError, match="integer, not float"):
        generate(q, tmp_path, fifo_depth=16.0)


RNN = """model rnn
time {
    dt = 1 ms
    steps = 5
}
input x[4] = rate(gain = 1.0)
layer r = recurrent(x, 7, bias = true) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.3)
layer o = dense(r, 2, bias = true) with LIF(tau_mem = 10 ms)
layer q = recurrent(o, 3) with LIF(tau_mem = 10 ms)
output q = count
hardware { lanes = 3 }
"""


def test_recurrent_and_bias_layers(tmp_path):
    """Recurrent layers and biases (no longer errors): parameters, memory files and map."""
    q = snnc.loads(RNN, "rnn.snn").quantize(snnc.loads(RNN).random_weights(seed=2))
    man = generate(q, tmp_path)
    r, o, qq = man["layers"]
    assert [(l["parameters"]["REC"], l["parameters"]["BIAS"]) for l in man["layers"]] == \
        [(1, 1), (0, 1), (1, 0)]
    assert r["parameters"]["ACC_W"] == q.plan("r").acc_bits == 8 + 4      # fan-in 4 + 7 + 1
    assert all(l["parameters"]["AUX_SHIFT"] == 0 for l in man["layers"])
    assert r["parameters"]["V_FILE"] == "v_r.mem" and r["parameters"]["BIAS_FILE"] == "b_r.mem"
    assert o["parameters"]["V_FILE"] == "" and qq["parameters"]["BIAS_FILE"] == ""
    assert r["recurrent"]["w_mem"] == 1 and r["recurrent"]["words"] == 7 * 3
    assert r["bias"] == {"file": "b_r.mem", "words": 3, "word_bits": 24, "w_layer": 0,
                         "w_mem": 2, "address": r["bias"]["address"]}
    assert o["recurrent"] is None and qq["bias"] is None
    assert man["memory_files"] == ["w_r.mem", "v_r.mem", "b_r.mem", "w_o.mem", "b_o.mem",
                                   "w_q.mem", "v_q.mem"]
    assert [m["layer"] for m in man["memory_map"]["recurrent"]] == ["r", "q"]
    assert [m["layer"] for m in man["memory_map"]["bias"]] == ["r", "o"]
    assert man["cycle_bound"]["recurrent_layers"] == ["r", "q"]
    for f in man["memory_files"]:
        assert (tmp_path / f).is_file()
    v = [int(x, 16) for x in (tmp_path / "v_r.mem").read_text().split()]
    assert v == snnc.hw.weight_words(q.weights["r"]["recurrent"], 3, 8)
    b = [int(x, 16) for x in (tmp_path / "b_r.mem").read_text().split()]
    assert b == snnc.hw.weight_words(q.weights["r"]["bias"][:, None], 3, 8)
    # the write port: the word address covers the largest memory (V of r: 7 rows * 3 words),
    # two bits above it select the memory; no new port
    widths = {p["name"]: p["width"] for p in man["ports"]}
    assert widths["w_addr"] == 5 + 2 and "w_mem" not in widths
    assert man["write_select"]["shift"] == 5 and man["write_select"]["values"] == {
        "weights": 0, "recurrent": 1, "bias": 2}
    top = (tmp_path / "snn_top.v").read_text()
    assert top.count(".w_mem(w_addr[6:5])") == 3 and "input  wire [6:0] w_addr," in top
    assert ".REC(1)" in top and ".BIAS(1)" in top and '.V_FILE("v_r.mem")' in top


def _errors(text: str) -> list:
    q = snnc.loads(text, "m.snn").quantize(None)
    with pytest.raises(SnnErrors) as exc:
        generate(q, "/nonexistent/never-written")
    errs = exc.value.errors
    assert all("not supported by the Verilog backend yet" in e.message
               or "is not built by the Verilog backend" in e.message for e in errs)
    return errs


HEAD = "model m\ntime {\n    dt = 1 ms\n    steps = 5\n}\n"


def test_unsupported_constructs_are_located_errors():
    errs = _errors(CONV)
    lines = CONV.splitlines()
    kinds = {e.message.split(" ")[0] for e in errs}
    assert {"conv2d", "pool", "flatten"} <= kinds and "delay" not in kinds   # delays: supported
    for e in errs:
        assert e.loc is not None and e.loc.path == "m.snn"
    conv = next(e for e in errs if e.message.startswith("conv2d layer 'c1'"))
    assert lines[conv.loc.line - 1].startswith("layer c1")

    assert (conv.loc.line, conv.loc.col) == (5, 1)
    assert conv.message == "conv2d layer 'c1' is not supported by the Verilog backend yet"


    text = HEAD + ("input x[4] = rate(gain = 1.0)\n"
                   "layer h = dense(x, 3) with ASN(tau_beta = 20 ms)\n"
                   "layer o = dense(h, 2) with ReLU\n"
                   "output o = count\n")
    (err,) = _errors(text)
    assert err.loc.line == 8 and err.message == ("the non-spiking ReLU unit of layer 'o' is not "
                                                 "built by the Verilog backend")
    assert "snnc convert" in err.hint

    text = HEAD + ("input x[4] = rate(gain = 1.0)\n"
                   "layer o = dense(x, 2) with ASN(tau_beta = 20 ms)\n"
                   "output o = count\n"
                   "hardware { adaptation = ufixed<12,6> }\n")
    (err,) = _errors(text)
    assert err.loc.line == 7 and "unsigned adaptation format ufixed<12,6> of layer 'o'" in \
        err.message

    # user-defined neurons are built (tests/test_verilog_user.py); a datapath the core cannot
    # count the clamps of is a located error
    text = HEAD + ("neuron Mine {\n    state v = 0\n    state a = 0\n    state b = 0\n"
                   "    state c = 0\n    state d = 0\n    state e = 0\n"
                   "    update { v = v + input }\n    spike when v > 1\n}\n"
                   "input x[4] = rate(gain = 1.0)\n"
                   "layer o = dense(x, 2) with Mine\n"
                   "output o = count\n")
    (err,) = _errors(text)
    assert (err.loc.line, err.loc.col) == (17, 1)
    assert err.message == ("neuron 'Mine' with 6 states in layer 'o' is not supported by the "
                           "Verilog backend yet")
    assert err.hint == ("the layer core counts the clamps of at most 5 values per neuron: 5 "
                        "states, or 4 states and the height of a graded neuron")

    text = HEAD + ("input x[4] = rate(gain = 1.0)\n"
                   "layer a = dense(x, 3) with LIF(tau_mem = 10 ms)\n"
                   "layer b = dense(x, 2) with LIF(tau_mem = 10 ms)\n"
                   "output b = count\n")
    (err,) = _errors(text)
    assert err.loc.line == 8 and "fed by 'x'" in err.message


def run_cli(capsys, *argv):
    code = main(["compile", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_compile_random_and_file_weights(capsys, tmp_path):
    code, out, err = run_cli(capsys, DIGITS, "--target", "verilog", "-o", tmp_path / "r")
    assert code == 0, err
    assert "note: no --weights given: random weights (seed 0" in err
    assert "Verilog top 'snn_top'" in out and "hidden (128) -> out (10)" in out
    assert (tmp_path / "r" / "manifest.json").exists()
    m = snnc.load(DIGITS)
    w = m.random_weights(seed=0)
    # the same weights from a file give the same memory images, without the note
    save_weights(tmp_path / "w.npz", m.graph, w)
    code, out, err = run_cli(capsys, DIGITS, "--target", "verilog", "--weights",
                             tmp_path / "w.npz", "-o", tmp_path / "f", "--json", "--lanes", "4")
    assert code == 0, err
    assert "random weights" not in err
    summary = json.loads(out)
    assert summary["files"][-1] == "manifest.json" and summary["layers"][1]["neurons"] == 10
    for name in ("w_hidden.mem", "w_out.mem"):
        assert (tmp_path / "f" / name).read_text() == (tmp_path / "r" / name).read_text()


def test_cli_compile_errors(capsys, tmp_path):
    conv = tmp_path / "conv.snn"
    conv.write_text(CONV)
    code, out, err = run_cli(capsys, conv, "--target", "verilog", "-o", tmp_path / "c")
    assert code == 2 and "conv2d layer 'c1' is not supported by the Verilog backend yet" in err
    assert "Traceback" not in err
    assert not (tmp_path / "c").exists()            # was left behind, empty
    for depth in ("6", "1", str(1 << 17)):
        code, _, err = run_cli(capsys, DIGITS, "--target", "verilog", "--fifo-depth", depth,
                               "-o", tmp_path / "d")
        assert code == 2 and f"error: --fifo-depth {depth}: must be a power of two from 2 to " \
            "65536" in err, err
    with pytest.raises(SystemExit):                 # 2^64 was written into the top
        run_cli(capsys, DIGITS, "--target", "verilog", "--fifo-depth", str(1 << 64), "-o",
                tmp_path / "d")
    assert "argument --fifo-depth: must be at most 2147483647" in capsys.readouterr().err
    code, _, err = run_cli(capsys, DIGITS, "--target", "hls", "--fifo-depth", "8",
                           "-o", tmp_path / "h")          # was accepted and ignored
    assert code == 2 and ("error: --fifo-depth is for --target verilog (the hls design has no "
                          "event FIFOs)") in err
    assert not (tmp_path / "d").exists() and not (tmp_path / "h").exists()
    with pytest.raises(SystemExit):
        main(["compile", str(DIGITS), "--target", "vhdl", "-o", str(tmp_path / "v")])
    capsys.readouterr()


def test_random_weights_are_deterministic(tmp_path):
    m = snnc.load(DIGITS)
    a = generate(m.quantize(m.random_weights(seed=5)), tmp_path / "a")
    b = generate(m.quantize(m.random_weights(seed=5)), tmp_path / "b")
    assert a == b
    assert (tmp_path / "a" / "snn_top.v").read_text() == (tmp_path / "b" / "snn_top.v").read_text()
    generate(m.quantize(m.random_weights(seed=6)), tmp_path / "c")
    assert (tmp_path / "a" / "w_out.mem").read_text() != (tmp_path / "c" / "w_out.mem").read_text()


def test_unsigned_state_format_is_a_located_error():
    """The hardware's states are two's complement: an unsigned format must not be built
    silently (here a CubaLIF's current, which can be negative)."""
    text = HEAD + ("input x[4] = rate(gain = 1.0)\n"
                   "layer r = recurrent(x, 3) with CubaLIF(tau_mem = 10 ms, tau_syn = 5 ms)\n"
                   "output r = count\n"
                   "hardware { current = ufixed<12,6> }\n")
    (err,) = _errors(text)
    assert (err.loc.line, err.loc.col) == (7, 1)
    assert err.message == ("the unsigned current format ufixed<12,6> of layer 'r' is not "
                           "supported by the Verilog backend yet")
    asn = HEAD + ("input x[4] = rate(gain = 1.0)\n"
                  "layer r = dense(x, 3) with ASN(tau_beta = 20 ms)\n"
                  "output r = membrane\n"
                  "hardware { adaptation = ufixed<12,6> }\n")
    (err,) = _errors(asn)
    assert err.message.startswith("the unsigned adaptation format ufixed<12,6> of layer 'r'")


def test_an_alif_adaptation_may_be_unsigned(tmp_path):
    """An ALIF's A is never negative: ufixed<W,F> is held as a W + 1-bit signed field, the same
    values (recurrent_alif.snn's adaptation is ufixed<12,6>; the co-simulation of the recurrent
    bench design, tests/hw/test_network_cosim.py, runs one that saturates)."""
    text = HEAD + ("input x[4] = rate(gain = 1.0)\n"
                   "layer r = recurrent(x, 3) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, "
                   "beta = 0.3)\n"
                   "output r = count\n"
                   "hardware { adaptation = ufixed<12,6> }\n")
    m = snnc.loads(text, "u.snn")
    man = generate(m.quantize(m.random_weights(seed=1)), tmp_path)
    prm = man["layers"][0]["parameters"]
    assert (prm["A_W"], prm["A_FRAC"]) == (13, 6)
    assert ("A", 13, True) in [(f["name"], f["width"], f["signed"])
                               for f in man["layers"][0]["state"]["fields"]]
    widest = HEAD + ("input x[4] = rate(gain = 1.0)\n"
                     "layer r = dense(x, 3) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms)\n"
                     "output r = count\n"
                     "hardware { adaptation = ufixed<32,6> }\n")     # 33 bits: not built
    (err,) = _errors(widest)
    assert err.message.startswith("the unsigned adaptation format ufixed<32,6> of layer 'r'")


ASN_CHAIN = HEAD + """input x[5] = direct(scale = 1.0)
layer h = dense(x, 6, bias = true) with ASN(tau_beta = 20 ms, threshold = 0.5, m_f = 0.5, tau_gamma = 15 ms)
layer l = dense(h, 4) with LIF(tau_mem = 10 ms)
layer o = dense(l, 3) with ASN(tau_beta = 20 ms, leak = shift)
output o = membrane
hardware { weights = fixed<10,8>; state = fixed<14,7>; adaptation = fixed<12,5>; inputs = fixed<10,9> }
"""


def test_asn_layers_and_direct_input(tmp_path):
    """ASN layers (KIND 4) emit graded events: OUT_PW = the membrane width, the consumer is
    GRADED with IN_PW = that width; a direct input is a graded event stream (IN_PW = the inputs
    format's width, AUX_SHIFT = its fraction); the state layout, payload and saturation keys are
    in the manifest; the top carries the payload widths and the P / H counters."""
    q = snnc.loads(ASN_CHAIN, "asn.snn").quantize(snnc.loads(ASN_CHAIN).random_weights(seed=1))
    man = generate(q, tmp_path)
    h, l, o = man["layers"]
    hp, lp, op = h["parameters"], l["parameters"], o["parameters"]
    c = q.plan("h").neuron
    assert (hp["KIND"], hp["RESET"], hp["LEAK"], hp["REFRACTORY"]) == (4, 2, 1, 0)
    assert (hp["MEM_DECAY"], hp["ADAPT_DECAY"], hp["PRED_DECAY"], hp["M_F"]) == (
        c.mem_decay, c.adapt_decay, c.pred_decay, c.m_f) and hp["M_F"] == 32768
    assert hp["THRESHOLD"] == c.threshold == 64
    assert (hp["GRADED"], hp["IN_PW"], hp["AUX_SHIFT"]) == (1, 10, 9)
    assert hp["ACC_W"] == q.plan("h").acc_bits and hp["ACC_FRAC"] == 8 + 9
    assert (hp["OUT_PW"], lp["GRADED"], lp["IN_PW"], lp["AUX_SHIFT"]) == (14, 1, 14, 7)
    assert (lp["KIND"], lp["OUT_PW"], op["GRADED"], op["IN_PW"]) == (1, 1, 0, 1)
    assert op["KIND"] == 4 and op["LEAK"] == 2 and op["OUT_PW"] == 14
    assert "PRED_DECAY" not in lp and "M_F" not in lp
    assert [(f["name"], f["width"], f["signed"]) for f in h["state"]["fields"]] == [
        ("U", 14, True), ("P", 14, True), ("A", 12, True), ("S", 1, False), ("H", 14, True)]
    assert h["state"]["lane_bits"] == 14 + 14 + 12 + 1 + 14
    assert (hp["ST_I"], hp["ST_A"]) == (0, 1)      # the ASN stores P (always) and A
    # the LIF layer between them stores U, S_prev and R only
    assert [f["name"] for f in l["state"]["fields"]] == ["U", "S", "R"]
    assert h["kind"] == "ASN" and h["graded_input"] and h["payload"]["graded"]
    assert man["input"]["encoder"] == {"kind": "direct", "scale": 1.0, "hold": False}
    assert "scale * x[j] quantised to fixed<10,9>" in man["input"]["encoder_doc"]
    assert "count and first_spike" not in man["output"]["doc"]      # a membrane readout
    assert h["payload"]["width"] == 14 and h["payload"]["signed"]
    assert not l["payload"]["graded"] and l["graded_input"] and not o["graded_input"]
    assert h["saturation"] == {"U": "sat_u_count", "P": "sat_p_count", "A": "sat_a_count",
                               "H": "sat_h_count"}
    assert l["saturation"] == {"U": "sat_u_count", "I": "sat_i_count", "A": "sat_a_count"}
    widths = {p["name"]: p["width"] for p in man["ports"]}
    assert widths["s_payload"] == 10 and widths["m_payload"] == 14
    assert {"sat_p_count", "sat_h_count"} <= set(widths)
    assert widths["rd_data"] == 4 * h["state"]["lane_bits"]
    assert man["input"]["graded"] and man["input"]["payload_width"] == 10
    assert man["input"]["payload_format"] == "fixed<10,9>"
    top = (tmp_path / "snn_top.v").read_text()
    assert "input  wire [9:0] s_payload," in top and "output wire [13:0] m_payload," in top
    # the FIFOs carry {last, payload, address}; the core takes the payload slice
    assert "snn_event_fifo #(.WIDTH(14)" in top                    # 1 + 10 + 3
    assert ".s_payload(l0_h_q_data[12:3])" in top
    assert "snn_event_fifo #(.WIDTH(18)" in top                    # 1 + 14 + 3
    assert ".s_payload(l1_l_q_data[16:3])" in top
    assert top.count(".KIND(4)") == 2 and ".M_F(32768)" in top


def test_unsigned_input_format_widens_the_payload(tmp_path):
    """An unsigned ``inputs`` format is carried as a non-negative signed payload, one bit wider."""
    text = HEAD + ("input x[4] = direct(scale = 1.0)\n"
                   "layer o = dense(x, 2) with LIF(tau_mem = 10 ms)\n"
                   "output o = count\n"
                   "hardware { inputs = ufixed<8,6> }\n")
    q = snnc.loads(text, "m.snn").quantize(None)
    man = generate(q, tmp_path)
    prm = man["layers"][0]["parameters"]
    assert (prm["GRADED"], prm["IN_PW"], prm["AUX_SHIFT"]) == (1, 9, 6)
    assert {p["name"]: p["width"] for p in man["ports"]}["s_payload"] == 9
    assert "sat_p_count" not in {p["name"] for p in man["ports"]}


def test_graphs_other_than_a_chain_are_located_errors():
    """The Verilog design is one chain read at its last layer: a second layer on the input and
    an output of an inner layer are located errors with what to do instead."""
    text = HEAD + ("input x[4] = rate(gain = 1.0)\n"
                   "layer a = dense(x, 3) with LIF(tau_mem = 10 ms)\n"
                   "layer b = dense(x, 2) with LIF(tau_mem = 10 ms)\n"
                   "output a = count\n")
    errs = _errors(text)
    assert [(e.loc.line, e.loc.col, e.message, e.hint) for e in errs] == [
        (8, 1, "layer 'b' fed by 'x' (only a chain, each layer fed by the one before it, here "
               "'a') is not supported by the Verilog backend yet", None),
        (9, 1, "an output of 'a', which is not the last layer, is not supported by the Verilog "
               "backend yet", "the Verilog design reads the last layer of its chain; the HLS "
                              "backend builds outputs of inner layers")]


def test_a_delay_fifo_deeper_than_the_generator_builds_is_refused():
    """A 150-step delay after 1000 neurons made a 262144-deep snn_step_delay FIFO (in logic)
    without a word, where --fifo-depth stops at 65536; a delay that fits still builds."""
    big = ("model m\ntime { dt = 1 ms; steps = 200 }\ninput x[4] = rate\n"
           "layer h = dense(x, 1000) with IF\nlayer o = dense(h, 10, delay = 150) with IF\n"
           "output o = count\n")
    (err,) = _errors(big)
    assert (err.loc.line, err.loc.col) == (5, 1)
    assert err.message == ("layer 'o' with delay = 150, whose FIFO must hold 151151 events (those "
                           "of 151 steps of the 1000 neurons of 'h', with their tokens), more "
                           "than the 65536 of the deepest FIFO it builds, is not supported by the "
                           "Verilog backend yet")
    assert err.hint == "use a shorter delay, or a smaller source layer"
    from snnc.backends.verilog import check_supported

    check_supported(snnc.loads(big.replace("dense(x, 1000)", "dense(x, 100)"), "m.snn")
                    .quantize(None))             # 151 x 101 events: a 16384-deep FIFO


@pytest.mark.parametrize("formats, what", [
    ("weights = ufixed<6,5>", "weights format ufixed<6,5>"),
    ("membrane = ufixed<16,8>", "membrane format ufixed<16,8>"),
])
def test_a_user_neuron_layer_with_unsigned_formats_is_refused(formats, what):
    """Unsigned weights with a user-defined neuron were an internal error (weight_words: "weights
    outside the 6-bit range"); a built-in neuron's layer already had this located error."""
    text = ("model r1\ntime { dt = 1 ms; steps = 5 }\ninput x[4] = rate(gain = 1.0)\n"
            "neuron N {\n  state v = 0\n  update { v = v + input }\n  spike when v > 0.5\n"
            "  on spike { v = 0 }\n}\nlayer o = dense(x, 3) with N\noutput o = count\n"
            f"hardware {{ {formats} }}\n")
    (err,) = _errors(text)
    assert (err.loc.line, err.loc.col) == (10, 1)
    assert err.message == (f"the unsigned {what} of layer 'o' is not supported by the Verilog "
                           "backend yet")


# ---------------------------------------------------------------------- narrow sweep (SU)

#: 24 -> 20 -> 6 -> 3 at 4 lanes on the iCE40 HX8K (no DSP blocks): a's sweep takes 5 words; b
#: (recurrent, with a bias) gets SU = 2 (2 words x 2 groups = 4 <= 5), c SU = 1 (1 x 4 <= 4)
NARROW = """model narrow
time {
    dt = 1 ms
    steps = 16
}
input x[24] = rate(gain = 1.0)
layer a = dense(x, 20) with LIF(tau_mem = 10 ms, threshold = 0.5)
layer b = recurrent(a, 6, bias = true) with CubaLIF(tau_mem = 10 ms, tau_syn = 5 ms, threshold = 0.3, refractory = 1)
layer c = dense(b, 3) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.3, threshold = 0.2)
output c = count
hardware {
    lanes = 4
    state = fixed<12,8>
    device = "ice40-hx8k"
}
"""


def test_sweep_units_rule():
    from snnc.backends.verilog.plan import leak_in_logic, sweep_cycles, sweep_units

    assert leak_in_logic("ice40-hx8k")
    assert not any(leak_in_logic(d) for d in ("ice40-up5k", "ecp5-25k", "generic", None))
    hx = {"device": "ice40-hx8k"}
    assert sweep_units(10, 4, 32, **hx) == 1               # digits' output after its hidden layer
    assert sweep_units(128, 4, None, **hx) == 4            # fed by the model's input
    assert sweep_units(6, 4, 5, **hx) == 2                 # 2 words: 8 cycles at 1, 4 at 2
    assert sweep_units(10, 4, 5, **hx) == 4                # 3 words: none shorter than 6; P
    assert sweep_units(6, 6, 3, **hx) == 2                 # the fewest divisor: 2, not 3
    assert sweep_units(10, 4, 32, user=True, **hx) == 4    # a user-defined neuron: never
    assert sweep_units(10, 1, 32, **hx) == 1
    for device in ("ice40-up5k", "ecp5-25k", "generic", None):
        assert sweep_units(10, 4, 32, device=device) == 4
    assert [sweep_cycles(10, 4, su) for su in (1, 2, 4)] == [12, 6, 3]


@pytest.mark.parametrize("lanes, device, want", [
    (4, "ice40-hx8k", [4, 1]), (8, "ice40-hx8k", [8, 1]), (1, "ice40-hx8k", [1, 1]),
    (4, "ice40-up5k", [4, 4]), (4, "ecp5-25k", [4, 4]), (4, None, [4, 4]),
])
def test_digits_sweep_units_per_device(lanes, device, want):
    from snnc.backends.verilog.plan import plan_layers

    m = snnc.load(DIGITS)                    # its hardware block names the UP5K
    q = m.quantize(m.random_weights(seed=3))
    layers = plan_layers(q, lanes, device)
    assert [l.su for l in layers] == want
    assert [l.state_lanes for l in layers] == want
    assert [l.state_words for l in layers] == [-(-l.n // l.p) * l.p // l.su for l in layers]
    assert [l.nw for l in layers] == [-(-128 // lanes), -(-10 // lanes)]     # events: unchanged
    assert [("SU" in l.params) for l in layers] == [su < lanes for su in want]


def test_the_models_device_decides_and_generate_can_override(tmp_path):
    from snnc.backends.verilog.plan import plan_layers

    text = DIGITS.read_text().replace('"ice40-up5k"', '"ice40-hx8k"')
    m = snnc.loads(text, "digits.snn")
    q = m.quantize(m.random_weights(seed=3))
    assert [l.su for l in plan_layers(q)] == [4, 1]
    assert [l["sweep_units"] for l in generate(q, tmp_path / "a")["layers"]] == [4, 1]
    assert [l["sweep_units"] for l in generate(q, tmp_path / "b", device="ice40-up5k")
            ["layers"]] == [4, 4]
    # no hardware block: no device, no narrow sweep
    bare = snnc.loads(text.split("# Fixed-point hardware")[0], "digits.snn")
    assert bare.graph.hardware is None
    assert [l.su for l in plan_layers(bare.quantize(bare.random_weights(seed=3)))] == [4, 4]
    with pytest.raises(ValueError, match="unknown device 'ice40-xx'"):
        generate(q, tmp_path / "c", device="ice40-xx")


def test_a_user_neuron_layer_keeps_its_lanes_as_sweep_units():
    from snnc.backends.verilog.plan import plan_layers

    user = HEAD + """neuron Acc {
    state v = 0
    update { v = v + input }
    spike when v > 0.5
    on spike { v = 0 }
}
input x[8] = rate(gain = 1.0)
layer h = dense(x, 16) with LIF(tau_mem = 10 ms)
layer o = dense(h, 3) with Acc
output o = count
hardware { lanes = 4; device = "ice40-hx8k" }
"""
    for text, want in ((user, [4, 4]), (user.replace("with Acc", "with LIF(tau_mem = 10 ms)"),
                                         [4, 1])):
        m = snnc.loads(text, "m.snn")
        layers = plan_layers(m.quantize(m.random_weights(seed=1)))
        assert [l.su for l in layers] == want
        assert [l.params.get("SU") for l in layers] == [None, None if want[1] == 4 else 1]
        assert layers[1].kind == ("user" if want[1] == 4 else "LIF")


def test_narrow_sweep_manifest_and_top(tmp_path):
    m = snnc.loads(NARROW, "narrow.snn")
    q = m.quantize(m.random_weights(seed=1))
    man = generate(q, tmp_path)
    a, b, c = man["layers"]
    assert [l["sweep_units"] for l in man["layers"]] == [4, 2, 1]
    assert [l["words_per_row"] for l in man["layers"]] == [5, 2, 1]
    assert "SU" not in a["parameters"]
    assert (b["parameters"]["SU"], c["parameters"]["SU"]) == (2, 1)
    # the state memory by sweep group: words * P / SU words of SU lanes
    assert [(l["state"]["words"], l["state"]["lanes"]) for l in man["layers"]] == [
        (5, 4), (4, 2), (4, 1)]
    bits = [l["state"]["lane_bits"] for l in man["layers"]]
    assert bits == [12 + 1 + 1, 12 + 12 + 1 + 1, 12 + 12 + 1 + 1]   # LIF; CubaLIF (I); ALIF (A)
    assert man["memory_map"]["state"] == [
        {"rd_layer": 0, "layer": "a", "words": 5, "lanes": 4, "word_bits": 4 * bits[0]},
        {"rd_layer": 1, "layer": "b", "words": 4, "lanes": 2, "word_bits": 2 * bits[1]},
        {"rd_layer": 2, "layer": "c", "words": 4, "lanes": 1, "word_bits": 1 * bits[2]}]
    widths = {p["name"]: p["width"] for p in man["ports"]}
    assert widths["rd_addr"] == 3                                   # a's 5 words
    assert widths["rd_data"] == max(4 * bits[0], 2 * bits[1], bits[2]) == 56
    # weights are as without a narrow sweep: words_per_row words of P lanes per row
    assert b["weights"]["words"] == 20 * 2 and b["weights"]["word_bits"] == 4 * 8
    bound = man["cycle_bound"]
    assert bound["words"] == {"a": 5, "b": 2, "c": 1}
    assert bound["sweep_words"] == {"a": 5, "b": 4, "c": 4}
    assert "sweep_words_L = words_L * lanes / sweep_units_L" in bound["formula"]
    top = (tmp_path / "snn_top.v").read_text()
    assert top.count(".SU(") == 2 and ".SU(2)" in top and ".SU(1)" in top
    assert f"wire [{2 * bits[1] - 1}:0] l1_b_rd_data;" in top
    assert f"wire [{bits[2] - 1}:0] l2_c_rd_data;" in top
    assert ".rd_addr(rd_addr[1:0]), .rd_data(l1_b_rd_data)" in top
    assert ".rd_addr(rd_addr[2:0]), .rd_data(l0_a_rd_data)" in top
    assert "output reg  [55:0] rd_data" in top and "input  wire [2:0] rd_addr" in top
    assert "sweep units 1 (4 groups)" in top
