"""Network co-simulation of user-defined neurons on the Verilog accelerator (``KIND = 5``: the
core's ``snn_user_neuron``, the datapaths the generator lowers from the integer programs onto the
``hw/snn_op_*`` primitives), bit-exact against the golden model
(``snnc.backends.verilog.cosim.verify_verilog``: every layer's events per step with their
payloads, every layer's final states by name, the saturation counters of every state).

* ``examples/asn_user.snn``: the ASN written as a user-defined neuron, graded events (``spike
  when ... emit ...``, ``height`` in ``on spike``) from a direct input into 128 and then 10 such
  neurons with biases, membrane readout (every sample replayed step by step), at full speed
  within the cycle bound and with input gaps and output stalls;
* a chain with a LIF-like user neuron in a *recurrent* layer (refractory gate, ``clip``, a
  comparison and ``not`` in the spike test, on-spike reset: the select ``S ? on-spike value :
  update value``, non-zero initial states loaded by the core's initialisation pass), a graded user
  neuron using every operation with a narrow membrane format (clamps of every state, two per
  state and step, and of the heights), into a built-in LIF layer (3 lanes, padding lanes);
* a corrupted weight of a user-neuron layer is found;
* ``snnc verify`` on ``examples/asn_user.snn``;
* the generated design lints clean (Verilator ``-Wall``; Icarus and Yosys where installed).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hw_models import USER_NEURONS
from tbutil import (assert_rtl_equals_golden, cosim_with_gaps_and_stalls, digits_samples,
                    need_verilator, verify_cli_random)

ROOT = Path(__file__).resolve().parents[2]
ASN_USER = ROOT / "examples" / "asn_user.snn"

CHAIN = """model user_chain
time { dt = 1 ms; steps = 25 }

""" + USER_NEURONS + """
input x[12] = rate(gain = 1.0)
layer h = recurrent(x, 9) with GateLIF(tau = 8 ms, threshold = 0.6)
layer o = dense(h, 7, bias = true) with Odd
layer z = dense(o, 5) with LIF(tau_mem = 10 ms, threshold = 0.5)
output z = count
hardware { weights = fixed<8,6>; state = fixed<10,4>; lanes = 3 }
"""


def _chain(samples: int):
    import snnc

    m = snnc.loads(CHAIN, "user_chain.snn")
    q = m.quantize(m.random_weights(seed=1))
    return q, np.random.default_rng(0).random((samples, 12)), np.arange(samples)


def test_asn_user_matches_golden():
    need_verilator()
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    q, x, ids = digits_samples(ASN_USER, 4)
    info = CosimInfo()
    run, comp = verify_verilog(q, x, ids, 0, info=info)
    assert_rtl_equals_golden(run, comp, info, q)
    g = info.golden
    events = {n: int(np.count_nonzero(g.spikes[n])) for n in ("hidden", "out")}
    assert min(events.values()) > 0, events
    heights = np.unique(np.asarray(g.payloads["out"])[np.asarray(g.spikes["out"]) > 0])
    assert len(heights) > 3
    assert set(run.final_state["out"]) == {"u", "p", "a", "S", "emit"}
    values = sum(np.asarray(g.spikes[n]).size for n in ("hidden", "out"))
    assert comp.compared >= values + sum(events.values())      # every height compared
    man = info.manifest
    assert [l["kind"] for l in man["layers"]] == ["user", "user"]
    assert all(l["payload"]["graded"] and l["graded_input"] for l in man["layers"])
    assert man["layers"][1]["membrane"] == "u"
    assert man["layers"][1]["saturation"] == {"u": "sat_u_count", "p": "sat_i_count",
                                              "a": "sat_a_count", "emit": "sat_h_count"}
    assert np.all(run.cycles <= run.cycle_bound), (run.cycles, run.cycle_bound)
    np.testing.assert_array_equal(info.predictions, g.predictions)


def test_asn_user_with_gaps_and_stalls():
    need_verilator()
    q, x, ids = digits_samples(ASN_USER, 6)
    run, comp, info = cosim_with_gaps_and_stalls(q, x[4:], ids[4:])
    assert_rtl_equals_golden(run, comp, info, q)


@pytest.mark.parametrize("stall", [0.0, 0.3])
def test_user_chain_matches_golden(stall):
    """Recurrent LIF-like user neurons (comparison, select, non-zero initial states), a graded
    user neuron with every operation and heavy clamping, into a built-in LIF."""
    need_verilator()
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    q, x, ids = _chain(4)
    info = CosimInfo()
    run, comp = verify_verilog(q, x, ids, 0, info=info, stall=stall, gaps=stall / 2,
                               rng_seed=3)
    assert_rtl_equals_golden(run, comp, info, q)
    g = info.golden
    for name in ("h", "o", "z"):
        assert np.count_nonzero(g.spikes[name]) > 0, f"layer {name} never fired"
    sat = g.stats["o"].saturation
    assert all(sat[k] > 0 for k in ("a", "b", "c", "emit")), sat
    man = info.manifest
    h, o, z = man["layers"]
    assert h["parameters"]["REC"] == 1 and h["parameters"]["USER_NS"] == 2
    assert o["parameters"]["USER_SAT_W"] == 2            # a state clamped twice in one step
    assert (z["parameters"]["GRADED"], z["parameters"]["IN_PW"]) == (1, 10)
    # the state `pad` is read back as itself (the lane's unused last bit is not a field)
    assert [f["name"] for f in h["state"]["fields"]] == ["v", "pad", "S"]
    assert h["state"]["lane_bits"] == 10 + 10 + 1 + 1
    if stall == 0.0:
        assert np.all(run.cycles <= run.cycle_bound), (run.cycles, run.cycle_bound)


def test_user_cosim_detects_corrupted_weight():
    need_verilator()
    import snnc.hw
    from snnc.backends.verilog.cosim import verify_verilog

    q, x, ids = _chain(2)
    bits = q.formats.weights.width
    w = np.array(q.weights["o"]["weight"], dtype=np.int64)
    w[:, :] = -w                         # every weight of the graded user layer negated

    def mutate(design: Path, manifest: dict) -> None:
        lay = manifest["layers"][1]
        snnc.hw.write_memh(design / lay["weights"]["file"],
                           snnc.hw.weight_words(np.clip(w, -(1 << (bits - 1)),
                                                        (1 << (bits - 1)) - 1),
                                            lay["lanes"], bits),
                           lay["weights"]["word_bits"])

    _, comp = verify_verilog(q, x, ids, 0, mutate=mutate)
    assert not comp.match and comp.mismatches > 0
    assert comp.first.layer in ("o", "z"), comp.first.describe()


def test_verify_cli_asn_user(tmp_path, capsys):
    need_verilator()
    rc, text = verify_cli_random(ASN_USER, tmp_path, capsys, samples=3)
    assert rc == 0, text
    lines = text.splitlines()
    assert lines[0].startswith("model 'asn_user'") and "3 test samples" in lines[0]
    assert lines[1].startswith("match: the verilog hardware equals the golden model bit for bit "
                               "on 3 samples x 60 steps"), text


@pytest.mark.parametrize("which", ["asn_user", "chain"])
def test_generated_user_design_lint(which, tmp_path):
    """The generated design (top, snn_user.v, primitives) is clean Verilog-2005: Verilator -Wall
    silent; Icarus -g2005 and Yosys (hierarchy, proc, check -assert) accept it where installed
    (``tbutil.lint_generated``)."""
    import snnc
    from snnc.backends.verilog import generate
    from tbutil import lint_generated

    m = snnc.load(str(ASN_USER)) if which == "asn_user" else snnc.loads(CHAIN, "c.snn")
    manifest = generate(m.quantize(m.random_weights(seed=1)), tmp_path)
    assert "snn_user.v" in manifest["files"]
    if not lint_generated(list(manifest["files"]), "snn_top", tmp_path):
        pytest.skip("no Verilog tool installed")


@pytest.mark.parametrize("seed", [11, 12])
def test_random_user_network(seed):
    """Seeded random user-defined neurons (tests/hw/test_user_neuron_hw.py's grammar) in a
    network: a recurrent layer (dense when the neuron is graded) into a dense layer with a bias,
    co-simulated bit-exact (spikes, payloads, final states, clamp counts) with output stalls."""
    need_verilator()
    import random

    import snnc
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog
    from test_user_neuron_hw import _accepted, _random_neuron

    rng = random.Random(seed)
    neurons = []
    while len(neurons) < 2:
        name = f"R{len(neurons)}x{rng.randrange(1000)}"
        src = _random_neuron(rng, name)
        if _accepted(src, name):
            neurons.append((name, src))
    (n0, s0), (n1, s1) = neurons
    first = "dense" if " emit " in s0 else "recurrent"
    text = "\n".join(["model rnd", "time { dt = 1 ms; steps = 12 }", s0, s1,
                      "input x[8] = rate(gain = 1.0)",
                      f"layer a = {first}(x, 6) with {n0}",
                      f"layer b = dense(a, 5, bias = true) with {n1}",
                      "output b = count",
                      "hardware { weights = fixed<8,6>; state = fixed<12,5>; lanes = 2 }"]) + "\n"
    m = snnc.loads(text, "rnd.snn")
    q = m.quantize(m.random_weights(seed=seed))
    x = np.random.default_rng(seed).random((3, 8))
    info = CosimInfo()
    run, comp = verify_verilog(q, x, np.arange(3), 0, info=info, stall=0.2, rng_seed=seed)
    assert_rtl_equals_golden(run, comp, info, q)
