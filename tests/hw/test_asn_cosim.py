"""Network co-simulation of adaptive spiking neurons (ASN) and graded events on the Verilog
accelerator, bit-exact against the golden model (``snnc.backends.verilog.cosim.verify_verilog``:
the generated ``snn_top`` in the co-simulation harness on Verilator, every layer's events per step
*with their payloads*, every layer's final states, saturation counters).

* ``examples/asn_digits.snn`` (a direct input of 64 pixels, graded events into 128 ASNs with a
  bias, their heights into 10 ASNs with a bias, a membrane readout) with random weights from the
  project's weight helpers, on digits test images: at full speed (cycles within the manifest's
  bound) and with input gaps and output stalls;
* a mutation: one corrupted weight of the output layer (its memory file, through the
  ``mutate`` hook) must be reported, at the first sample and step where the golden model of the
  corrupted weights differs;
* a mixed chain: a ``direct`` input in an unsigned format (``ufixed<8,6>``, values above the
  signed range) into a LIF layer with a bias, its spikes into an ASN layer with the shift leak,
  whose graded events feed an ALIF layer (3 lanes, padding lanes);
* the same model built for the iCE40 HX8K at 4 lanes, whose ASN output layer the generator gives
  a narrow sweep (one neuron unit, hw/README.md "Narrow sweep");
* ``snnc verify examples/asn_digits.snn --weights W --samples 20`` prints a match.

One Verilator build per design (the weights are read at run time from the memory files).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tbutil import (assert_rtl_equals_golden, cosim_with_gaps_and_stalls, digits_samples,
                    need_verilator, verify_cli_random)

ROOT = Path(__file__).resolve().parents[2]
ASN_DIGITS = ROOT / "examples" / "asn_digits.snn"

MIXED = """model mixed
time {
    dt = 1 ms
    steps = 20
}
input x[10] = direct(scale = 3.5)
layer a = dense(x, 7, bias = true) with LIF(tau_mem = 10 ms, threshold = 0.4)
layer b = dense(a, 6) with ASN(tau_beta = 10 ms, threshold = 0.3, m_f = 0.4, tau_gamma = 12 ms, leak = shift)
layer c = dense(b, 5, bias = true) with ALIF(tau_mem = 10 ms, tau_adapt = 30 ms, beta = 0.2, threshold = 0.3)
output c = count
hardware { lanes = 3; weights = fixed<8,6>; state = fixed<12,6>; inputs = ufixed<8,6> }
"""


def test_asn_digits_matches_golden():
    need_verilator()
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    q, x, ids = digits_samples(ASN_DIGITS, 4)
    info = CosimInfo()
    run, comp = verify_verilog(q, x, ids, 0, info=info)
    assert_rtl_equals_golden(run, comp, info, q)
    g = info.golden
    # graded events both ways: every ASN layer fired, with varying heights, and both layers'
    # heights were compared event by event (counted in `compared`)
    events = {n: int(np.count_nonzero(g.spikes[n])) for n in ("hidden", "out")}
    assert min(events.values()) > 0, events
    heights = np.unique(np.asarray(g.payloads["out"])[np.asarray(g.spikes["out"]) > 0])
    assert len(heights) > 3 and heights.min() >= q.plan("out").neuron.threshold
    assert set(run.final_state["out"]) == {"U", "P", "A", "H", "S"}
    values = sum(np.asarray(g.spikes[n]).size for n in ("hidden", "out"))
    assert comp.compared >= values + sum(events.values())
    # the manifest describes the graded streams
    man = info.manifest
    ports = {p["name"]: p["width"] for p in man["ports"]}
    assert ports["s_payload"] == 16 and ports["m_payload"] == 16
    assert [l["kind"] for l in man["layers"]] == ["ASN", "ASN"]
    assert all(l["graded_input"] for l in man["layers"])
    # full speed: within the manifest's cycle bound; the RTL's classes are the golden ones
    assert np.all(run.cycles <= run.cycle_bound), (run.cycles, run.cycle_bound)
    np.testing.assert_array_equal(info.predictions, g.predictions)


def test_asn_digits_with_gaps_and_stalls():
    need_verilator()
    q, x, ids = digits_samples(ASN_DIGITS, 6)
    run, comp, info = cosim_with_gaps_and_stalls(q, x[4:], ids[4:])
    assert_rtl_equals_golden(run, comp, info, q)


def test_asn_cosim_detects_corrupted_weight():
    """Flip the sign bit of W_out[0, j] (j: the hidden ASN that fires most) in the memory file:
    the first mismatch is where the golden model of the corrupted weights first differs."""
    need_verilator()
    import snnc.hw
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.backends.verilog.cosim import verify_verilog

    q, x, ids = digits_samples(ASN_DIGITS, 3)
    g0 = simulate_golden(q, x, sample_ids=ids, record=True)
    j = int(np.argmax(np.asarray(g0.spikes["hidden"]).sum(axis=(0, 1))))
    bits = q.formats.weights.width
    w = np.array(q.weights["out"]["weight"], dtype=np.int64)
    raw = (int(w[0, j]) & ((1 << bits) - 1)) ^ (1 << (bits - 1))
    w[0, j] = raw - (1 << bits) if raw >> (bits - 1) else raw
    bad = dataclasses.replace(q, weights={**q.weights, "out": {**q.weights["out"], "weight": w}})
    g1 = simulate_golden(bad, x, sample_ids=ids, record=True)
    # where the corrupted network's output events (or their heights) first differ
    diff = (np.asarray(g0.spikes["out"]) != np.asarray(g1.spikes["out"])) | \
        (np.asarray(g0.payloads["out"]) != np.asarray(g1.payloads["out"]))       # [T, B, N]
    assert diff.any(), "the corruption must change the output layer's events"
    b, t, n = (int(v) for v in np.argwhere(diff.transpose(1, 0, 2))[0])

    def mutate(design: Path, manifest: dict) -> None:
        lay = manifest["layers"][-1]
        snnc.hw.write_memh(design / lay["weights"]["file"],
                           snnc.hw.weight_words(w, lay["lanes"], bits),
                           lay["weights"]["word_bits"])

    run, comp = verify_verilog(q, x, ids, 0, mutate=mutate)
    assert not comp.match and comp.mismatches > 0
    first = comp.first
    assert (first.layer, first.sample, first.step) == ("out", b, t), first.describe()
    assert first.what in ("spike", "payload")
    # the hardware computed what the corrupted weights give: its output events are g1's
    np.testing.assert_array_equal(run.spikes["out"],
                                  np.asarray(g1.spikes["out"]).reshape(run.steps, 3, -1))
    np.testing.assert_array_equal(run.spikes["hidden"],
                                  np.asarray(g0.spikes["hidden"]).reshape(run.steps, 3, -1))


def test_mixed_unsigned_direct_input_lif_asn_alif():
    need_verilator()
    import snnc
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    m = snnc.loads(MIXED, "mixed.snn")
    q = m.quantize(m.random_weights(seed=4))
    assert not q.formats.inputs.signed
    x = np.random.default_rng(0).random((5, 10))
    info = CosimInfo()
    run, comp = verify_verilog(q, x, np.arange(5), 0, info=info, stall=0.2, gaps=0.1)
    assert_rtl_equals_golden(run, comp, info, q)
    g = info.golden
    vals = np.asarray(g.spikes["x"])
    assert vals.max() > q.formats.inputs.max_int // 2, "no input value above the signed range"
    for name in ("a", "b", "c"):
        assert np.count_nonzero(g.spikes[name]) > 0, f"layer {name} never fired"
    man = info.manifest
    a, b, c = man["layers"]
    assert a["parameters"]["IN_PW"] == 9 and a["parameters"]["GRADED"] == 1
    assert a["parameters"]["AUX_SHIFT"] == 6                     # the bias << Fx
    assert (b["parameters"]["GRADED"], b["parameters"]["IN_PW"]) == (0, 1)
    assert b["parameters"]["KIND"] == 4 and b["parameters"]["LEAK"] == 2
    assert (c["parameters"]["GRADED"], c["parameters"]["IN_PW"]) == (1, 12)
    assert man["input"]["payload_width"] == 9 and man["input"]["graded"]


def test_asn_digits_on_the_hx8k_with_a_narrow_sweep(tmp_path):
    """``examples/asn_digits.snn`` built for the iCE40 HX8K (4 lanes): the generator gives its
    10-neuron ASN output layer one sweep unit (12 sweep cycles, within the hidden layer's 32), its
    state memory in words of one lane; graded events, final states (read back one neuron per
    word) and counters bit-exact, the cycles within the manifest's bound."""
    need_verilator()
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    text = ASN_DIGITS.read_text().replace(
        "hardware { ", 'hardware { lanes = 4; device = "ice40-hx8k"; ')
    assert 'device = "ice40-hx8k"' in text
    model = tmp_path / "asn_digits_hx8k.snn"
    model.write_text(text)
    q, x, ids = digits_samples(model, 3)
    info = CosimInfo()
    run, comp = verify_verilog(q, x, ids, 0, info=info)
    assert_rtl_equals_golden(run, comp, info, q)
    hidden, out = info.manifest["layers"]
    assert (hidden["lanes"], hidden["sweep_units"]) == (4, 4)
    assert (out["lanes"], out["sweep_units"]) == (4, 1)
    assert out["state"]["lanes"] == 1 and out["state"]["words"] == 12
    assert info.manifest["cycle_bound"]["sweep_words"] == {"hidden": 32, "out": 12}
    g = info.golden
    assert np.count_nonzero(g.spikes["out"]) > 0
    assert np.all(run.cycles <= run.cycle_bound), (run.cycles, run.cycle_bound)
    np.testing.assert_array_equal(info.predictions, g.predictions)


def test_verify_cli_asn_digits_20_samples(tmp_path, capsys):
    need_verilator()
    rc, text = verify_cli_random(ASN_DIGITS, tmp_path, capsys, samples=20)
    assert rc == 0, text
    lines = text.splitlines()
    assert lines[0].startswith("model 'asn_digits'") and "20 test samples" in lines[0]
    assert lines[1].startswith("match: the verilog hardware equals the golden model bit for bit "
                               "on 20 samples x 60 steps"), text
    assert "predictions agree on 100.00%" in lines[2]


@pytest.mark.parametrize("which", ["asn_digits", "mixed"])
def test_generated_asn_top_lint(which, tmp_path):
    """The generated tops with graded streams are clean Verilog-2005: Verilator -Wall silent,
    Icarus -g2005 and Yosys (hierarchy, proc, check -assert) accept them (each tool skipped when
    not installed)."""
    import snnc
    from snnc.backends.verilog import generate
    from tbutil import lint_generated

    m = snnc.load(str(ASN_DIGITS)) if which == "asn_digits" else snnc.loads(MIXED)
    manifest = generate(m.quantize(m.random_weights(seed=1)), tmp_path)
    if not lint_generated(list(manifest["files"]), "snn_top", tmp_path):
        pytest.skip("no Verilog tool installed")
