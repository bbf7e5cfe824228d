"""The Verilog backend's user-defined neurons without a simulator: what the generator writes for
them (``snn_user.v``: one combinational module per layer built only from ``hw/`` primitives, the
``snn_user_neuron`` dispatcher; the core parameters; the manifest), and the located errors for
what it cannot build. The co-simulations are in tests/hw/test_user_cosim.py and
tests/hw/test_user_neuron_hw.py."""
from __future__ import annotations

import re

import pytest

import snnc
from snnc.backends.verilog import generate
from snnc.errors import SnnErrors

from test_verilog_backend import HEAD, _errors

GATE = HEAD + """neuron Gate {
    param tau: time = 10 ms
    state v = 0.25
    state r = 0
    update {
        v = decay(tau) * v + (1 - min(r, 1)) * input
        r = max(r - 1, 0)
    }
    spike when v > 0.5 and not (r > 0)
    on spike {
        v = v - 1
        r = 2
    }
}
input x[6] = rate(gain = 1.0)
layer wire = recurrent(x, 5) with Gate
layer out = dense(wire, 3) with LIF(tau_mem = 10 ms)
output out = count
hardware { weights = fixed<8,6>; state = fixed<10,4>; lanes = 2 }
"""


def test_generated_user_design(tmp_path):
    import snnc.hw

    m = snnc.loads(GATE, "gate.snn")
    man = generate(m.quantize(m.random_weights(seed=0)), tmp_path)
    lay, out = man["layers"]
    # a sanitised identifier ('wire' is a Verilog keyword) names the datapath module
    assert lay["ident"] == "wire_l" and lay["user_neuron"]["module"] == "snn_user_l0_wire_l"
    p = lay["parameters"]
    assert (p["KIND"], p["USER_ID"], p["USER_NS"], p["USER_GRADED"]) == (5, 0, 2, 0)
    assert p["USER_INIT"] == 4                      # v = 0.25 in fixed<10,4>, r = 0
    assert p["REC"] == 1 and p["OUT_PW"] == 1
    assert [(f["name"], f["offset"], f["width"]) for f in lay["state"]["fields"]] == [
        ("v", 0, 10), ("r", 10, 10), ("S", 20, 1)]
    assert lay["state"]["lane_bits"] == 22           # and one unused bit, not a field
    assert lay["saturation"] == {"v": "sat_u_count", "r": "sat_i_count"}
    assert lay["membrane"] == "v" and out["membrane"] == "U"
    assert out["parameters"]["GRADED"] == 0
    top = (tmp_path / "snn_top.v").read_text()
    assert ".USER_INIT(1024'h4)" in top
    assert "user-defined neuron 'Gate'" in top
    # snn_user.v only wires up and parametrises library modules (and its own datapaths)
    text = (tmp_path / "snn_user.v").read_text()
    modules = set(re.findall(r"^module (\w+)", text, flags=re.M))
    assert modules == {"snn_user_l0_wire_l", "snn_user_neuron"}
    used = set(re.findall(r"^\s*(\w+) (?:#\(.*\) )?u_\w+ \(", text, flags=re.M))
    assert used and used <= set(snnc.hw.MODULE_SOURCES) | modules, used
    assert not re.search(r"always|assign \w+ = [^{;]*[-+*&|?<>]", text)   # no logic of its own
    for name in used - modules:
        for src in snnc.hw.sources(name):
            assert src.name in man["files"]
    assert man["files"].index("snn_user.v") < man["files"].index("snn_top.v")


def test_graded_user_neuron_feeds_graded_consumer(tmp_path):
    text = HEAD + """neuron G {
    state v = 0
    update { v = v + input }
    spike when v > 1 emit v
    on spike { v = v - height }
}
input x[4] = rate(gain = 1.0)
layer a = dense(x, 3) with G
layer b = dense(a, 2) with LIF(tau_mem = 10 ms)
output b = count
hardware { weights = fixed<8,6>; state = fixed<12,6> }
"""
    m = snnc.loads(text, "g.snn")
    man = generate(m.quantize(m.random_weights(seed=0)), tmp_path)
    a, b = man["layers"]
    assert a["parameters"]["OUT_PW"] == 12 and a["payload"]["graded"]
    assert (b["parameters"]["GRADED"], b["parameters"]["IN_PW"]) == (1, 12)
    assert a["saturation"] == {"v": "sat_u_count", "emit": "sat_h_count"}
    assert {p["name"] for p in man["ports"] if p["name"].startswith("sat_")} == {
        "sat_u_count", "sat_i_count", "sat_a_count", "sat_h_count"}


def test_user_neuron_rejections_are_located():
    # five states and graded events: six clamp-counted values, the core has five counters
    text = HEAD + ("neuron Five {\n    state v = 0\n    state a = 0\n    state b = 0\n"
                   "    state c = 0\n    state d = 0\n"
                   "    update { v = v + input }\n    spike when v > 1 emit v\n}\n"
                   "input x[4] = rate(gain = 1.0)\n"
                   "layer h = dense(x, 2) with Five\n"
                   "output h = count\n")
    (err,) = _errors(text)
    assert (err.loc.line, err.loc.col) == (16, 1)
    assert err.message == ("neuron 'Five' with 5 states and graded events in layer 'h' is not "
                           "supported by the Verilog backend yet")
    assert "5 values per neuron" in err.hint

    # an intermediate that may need more than 64 bits: the quantizer's error, for every backend
    # (tests/test_quantize.py has more)
    text = HEAD + ("neuron Pow {\n    state v = 0\n"
                   "    update { v = v * v * v * v * v + input }\n    spike when v > 1\n}\n"
                   "input x[4] = rate(gain = 1.0)\n"
                   "layer p = dense(x, 2) with Pow\n"
                   "output p = count\n"
                   "hardware { state = fixed<32,8> }\n")
    with pytest.raises(SnnErrors) as exc:
        snnc.loads(text, "m.snn").quantize(None)
    (err,) = exc.value.errors
    assert (err.loc.line, err.loc.col) == (12, 1)
    assert err.message == ("neuron 'Pow' in layer 'p': the product of two values needs up to 86 "
                           "bits, more than the 64-bit integers the integer semantics computes in")
    assert err.hint == "use a narrower membrane format than fixed<32,8>, or smaller constants"


def test_user_neuron_lowering_widths():
    """Every wire of the datapath is as wide as its exact range needs (interval arithmetic):
    a saturated state is U_W bits, the rescaled input holds the accumulator, and a product of
    two states is twice as wide before its rounding shift."""
    from snnc.backends.verilog.userneuron import lower_program, sbits
    from snnc.intexpr import IArith, IAssign, IConst, IInput, IMul, IntProgram, IState

    prog = IntProgram("T", (("v", 0),),
                      (IAssign("v", IArith("+", IMul(IState("v"), IState("v")), IInput())),),
                      IArith("-", IState("v"), IConst(5)), ())
    u = lower_program(prog, u_w=8, u_frac=4, acc_w=12, acc_frac=6, module="snn_user_t")
    text = "\n".join(u.text)
    assert "snn_op_mul #(.A_W(8), .B_W(8), .OUT_W(12), .SHIFT(4))" in text   # (-128)^2 >> 4
    assert "snn_rescale #(.IN_W(12), .OUT_W(11), .SHIFT(-2))" in text
    assert "snn_sat #(.IN_W(12), .OUT_W(8))" in text          # -1016 - 512 .. 1024 + 512
    assert u.sat_map == {"v": "u"} and u.sat_w == 1 and not u.graded
    assert (sbits(-128, 127), sbits(0, 128), sbits(-1, 0), sbits(0, 0)) == (8, 9, 1, 1)
