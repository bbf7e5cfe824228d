"""A held direct input (``direct(hold = true)``): its events carry the changes of its values and
the layers reading it keep their accumulators, so the states and spikes are those of plain
``direct`` while a static input costs its synaptic operations once (docs/semantics.md section 1).
The hardware backends' equality is in tests/hw/test_held_cosim.py."""
from __future__ import annotations

import numpy as np
import pytest

import snnc
from snnc import ir
from snnc.build import load_text
from snnc.errors import SnnErrors

HELD = """model held
time { dt = 1 ms; steps = 8 }
input x[6] = direct(scale = 0.5, hold = true)
layer h = dense(x, 5, bias = true, delay = 1) with LIF(tau_mem = 10 ms, threshold = 0.3)
layer o = dense(h, 3) with ASN(tau_beta = 20 ms, threshold = 0.2, m_f = 0.5, tau_gamma = 15 ms)
output o = membrane
"""


def _pair():
    held = snnc.loads(HELD, "held.snn")
    plain = snnc.loads(HELD.replace(", hold = true", ""), "plain.snn")
    return held, plain


def test_the_language_parses_hold():
    held, plain = _pair()
    assert held.graph.inputs[0].encoding == ir.Direct(scale=0.5, hold=True)
    assert plain.graph.inputs[0].encoding == ir.Direct(scale=0.5, hold=False)
    assert held.graph.held("x") and not held.graph.held("h") and not plain.graph.held("x")
    with pytest.raises(SnnErrors) as e:
        load_text(HELD.replace("hold = true", "hold = 1"), "bad.snn")
    err = e.value.errors[0]
    assert (err.line, err.col, err.message) == (
        3, 41, "parameter 'hold' of encoding direct must be true or false")


@pytest.mark.parametrize("layer,col", [("recurrent(x, 5)", 1), ("avgpool(x, 2)", 1)])
def test_only_dense_and_conv_layers_read_a_held_input(layer, col):
    text = ("model r\ntime { dt = 1 ms; steps = 4 }\ninput x[1, 4, 4] = direct(hold = true)\n"
            + ("layer f = flatten(x)\nlayer h = recurrent(f, 5) with LIF(tau_mem = 10 ms)\n"
               if layer.startswith("recurrent") else
               "layer h = avgpool(x, 2) with IF(threshold = 0.5)\n")
            + "output h = count\n")
    with pytest.raises(SnnErrors) as e:
        load_text(text, "r.snn")
    err = e.value.errors[0]
    assert (err.line, err.col) == (5 if layer.startswith("recurrent") else 4, col)
    assert err.message == ("layer 'h' reads the held input 'x' (direct(hold = true)); only dense "
                           "and conv2d layers keep their accumulators from step to step (use "
                           "hold = false)")


@pytest.mark.parametrize("backend", ["golden", "float"])
def test_states_and_spikes_equal_plain_direct_and_sops_count_the_changes(backend):
    held, plain = _pair()
    weights = held.random_weights(seed=2)
    rng = np.random.default_rng(0)
    # a sequence: values that stay for a few steps, then change (some of them)
    x = np.repeat(rng.uniform(-1, 1, size=(3, 2, 6)), 4, axis=1)      # [B, T = 8, 6]
    x[:, 4:, :2] = x[:, :4, :2]                     # inputs 0 and 1 never change
    kw = dict(weights=weights, backend=backend, record=True)
    a, b = held.simulate(x, **kw), plain.simulate(x, **kw)
    for name in ("h", "o"):
        np.testing.assert_array_equal(a.spikes[name], b.spikes[name])
        np.testing.assert_array_equal(a.membranes[name], b.membranes[name])
        for key, value in b.final_state[name].items():
            np.testing.assert_array_equal(a.final_state[name][key], value)
    np.testing.assert_array_equal(a.outputs["o"].membrane, b.outputs["o"].membrane)
    values = np.asarray(b.spikes["x"])                          # [T, B, 6], as the layer sees them
    steps_changed = 1 + np.count_nonzero(values[1:] != values[:-1], axis=0)     # [B, 6]
    sent = int(np.count_nonzero(values[0])) + int(np.count_nonzero(values[1:] != values[:-1]))
    assert sent == int(steps_changed.sum()) == 3 * (6 + 4)        # every value once, 4 change once
    np.testing.assert_array_equal(a.delivered("x")[0], values[0])
    np.testing.assert_array_equal(a.delivered("x")[4], values[4] - values[3])
    assert a.stats["x"].spikes == sent and b.stats["x"].spikes == 3 * 8 * 6
    # h is delayed by a step: its last step sees the changes of step 6 at the latest
    delayed = np.count_nonzero(a.delivered("x")[:-1])
    assert a.stats["h"].sops == delayed * 5 and b.stats["h"].sops == 3 * 7 * 6 * 5
    assert a.stats["o"].sops == b.stats["o"].sops


def test_the_cosim_inputs_are_the_changes():
    from snnc.backends.hls.events import input_payloads
    from snnc.backends.verilog.cosim import input_events
    from snnc.backends.verilog.plan import input_payload_width

    held, plain = _pair()
    weights = held.random_weights(seed=2)
    qh, qp = held.quantize(weights), plain.quantize(weights)
    x = np.random.default_rng(1).uniform(-1, 1, size=(2, 6))          # static: one event each
    ev_h, ev_p = input_events(qh, x, 0, np.arange(2)), input_events(qp, x, 0, np.arange(2))
    np.testing.assert_array_equal(ev_h[0], ev_p[0])
    assert not ev_h[1:].any() and (ev_p == ev_p[:1]).all()
    np.testing.assert_array_equal(input_payloads(qh, x, 0, np.arange(2)),
                                  ev_h.transpose(1, 0, 2))
    # default inputs format fixed<12,8>: a change needs 13 bits
    assert (input_payload_width(qh), input_payload_width(qp)) == (13, 12)


def test_the_generated_designs_hold_the_first_layers_accumulators(tmp_path):
    from snnc.backends.hls import generate_hls
    from snnc.backends.verilog import generate

    held, _ = _pair()
    q = held.quantize(held.random_weights(seed=2))
    manifest = generate(q, tmp_path / "v")
    top = (tmp_path / "v" / "snn_top.v").read_text()
    assert top.count(".HOLD(1)") == 1 and ".IN_PW(13)" in top
    assert manifest["input"]["encoder"] == {"kind": "direct", "scale": 0.5, "hold": True}
    generate_hls(q, tmp_path / "h")
    sweeps = [line.strip() for line in (tmp_path / "h" / "snn_top.cpp").read_text().splitlines()
              if line.strip().startswith("snn::sweep<")]
    assert len(sweeps) == 2, sweeps             # the first layer's holds, the second's does not
    assert sweeps[0].endswith(", 14, 8, true>(acc_l0_h, st_l0_h, spk_l0_h, ev_l0_h, cnt_l0_h,")
    assert sweeps[1].endswith(", 6, 8>(acc_l1_o, st_l1_o, spk_l1_o, ev_l1_o, cnt_l1_o,")


def test_the_efficiency_report_counts_a_held_inputs_changes():
    from snnc.backends.golden import efficiency as eff
    from snnc.quantize import quantize

    text = ("model hin\ntime { dt = 1 ms; steps = 5 }\ninput x[3] = direct(scale = 1.0, "
            "hold = true)\nlayer h = dense(x, 4) with IF(threshold = 0.25)\n"
            "layer o = dense(h, 2) with IF(threshold = 0.5)\noutput o = count\n")
    graph = load_text(text, "<hin>").graph
    x = np.array([[1.0, 0.0, 0.5], [0.75, 0.25, 0.0]])       # static: 2 + 2 non-zero values
    m = eff.measure(quantize(graph, snnc.loads(text, "hin.snn").random_weights(seed=1)), x,
                    np.array([0, 1]))
    rows = {c.name: c for c in m.layers}
    assert rows["x"].neuron == "direct(hold)" and rows["x"].spikes == 4       # once, not 5 times
    assert rows["h"].input_sops == rows["h"].graded_sops == 4 * 4
    report = eff.efficiency_report(m)
    assert report["input_sops_per_inference"] == 4 * 4 / 2
    assert ("  (a held direct input's spikes are the non-zero changes of its values, sent as "
            "graded events; they are not counted in the spikes per inference)"
            in eff.report_lines(report))
