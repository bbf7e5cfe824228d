"""The HLS C++ backend (snnc.backends.hls): generated C++ compiled with plain g++ and run as a C
simulation must reproduce the golden model bit for bit -- every layer's spikes of every step, the
final states and the saturation counts. Skipped only when g++ is absent."""
from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

import snnc
from snnc.backends.golden.golden_sim import simulate_golden
from snnc.backends.hls import c_ident, generate_hls, verify_hls
from snnc.backends.hls.csim import (CsimError, compile_warnings, estimate_cycles, load_manifest,
                                    run_events_file, run_project, run_records)
from snnc.backends.hls.events import (EVENTS_MAGIC, event_records, input_payloads,
                                      write_event_records, write_events)
from snnc.backends.compare import compare
from snnc.cli import main
from snnc.errors import SnnErrors
from snnc.weights import random_weights, save_weights

from snn_models import ROOT

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")


def _load(tmp_path, text: str, name: str = "m.snn"):
    path = tmp_path / name
    path.write_text(text)
    return snnc.load(path)


def _weights(graph, seed: int, gain: float = 1.0) -> dict:
    w = random_weights(graph, seed=seed)
    return {layer: {k: np.asarray(v) * gain for k, v in t.items()} for layer, t in w.items()}


def _batch(graph, n: int, seed: int, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    x = {i.name: rng.random((n, *i.shape)) * scale for i in graph.inputs}
    return next(iter(x.values())) if len(x) == 1 else x


def _check(q, x, seed: int = 0, sample_ids=None):
    """C-simulate, compare, and assert every layer equal to the golden model, value for value:
    spikes of every step, the graded (ASN) layers' event payloads of every step, final states,
    saturation counts."""
    batch = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
    ids = np.arange(batch) + 100 if sample_ids is None else sample_ids
    run, cmp = verify_hls(q, x, ids, seed)
    golden = simulate_golden(q, x, seed=seed, sample_ids=ids, record=True)
    steps = q.graph.time.steps
    assert sorted(run.payloads) == sorted(golden.payloads)
    for layer in q.graph.layers:
        exp = np.asarray(golden.spikes[layer.name]).reshape(steps, batch, -1)
        np.testing.assert_array_equal(run.spikes[layer.name], exp)
        if layer.name in golden.payloads:
            np.testing.assert_array_equal(
                run.payloads[layer.name],
                np.asarray(golden.payloads[layer.name]).reshape(steps, batch, -1))
        for key, value in golden.final_state[layer.name].items():
            np.testing.assert_array_equal(run.final_state[layer.name][key],
                                          np.asarray(value).reshape(batch, -1).astype(np.int64))
        assert run.saturation[layer.name] == golden.stats[layer.name].saturation
    assert cmp.match and cmp.mismatches == 0 and cmp.first is None
    return run, golden


def test_c_ident_sanitises_and_deduplicates():
    used: set[str] = set()
    assert c_ident("hidden", used) == "hidden"
    assert c_ident("hidden layer/1", used) == "hidden_layer_1"
    assert c_ident("hidden-layer.1", used) == "hidden_layer_1_2"
    assert c_ident("int", used) == "int_l"
    assert c_ident("class", used) == "class_l"
    assert c_ident("3rd", used) == "n3rd"
    assert c_ident("_x", used) == "x"
    assert c_ident("snn_top", used) == "snn_top_l"
    assert c_ident("Ω", used) == "n"
    assert all(re.match(r"^[A-Za-z][A-Za-z0-9_]*$", s) for s in used)


def test_event_records_layout():
    payloads = np.zeros((2, 2, 4), dtype=np.int64)
    payloads[0, 0, [3, 1]] = 1
    payloads[1, 1, 2] = -5
    rec = event_records(payloads)
    np.testing.assert_array_equal(rec, [[0, 1, 1], [0, 1, 3], [1, 0, 0],     # sample 0, step 0
                                        [1, 0, 0],                            # step 1: no event
                                        [1, 0, 0],                            # sample 1, step 0
                                        [0, -5, 2], [1, 0, 0]])


KINDS = {
    "if_subtract": "IF(threshold = 0.5)",
    "if_zero_refractory": "IF(threshold = 0.4, reset = zero, refractory = 2)",
    "lif_multiply": "LIF(tau_mem = 10 ms, threshold = 0.6)",
    "lif_shift_none": "LIF(tau_mem = 8 ms, threshold = 0.3, leak = shift, reset = none)",
    "lif_zero_refractory": "LIF(tau_mem = 5 ms, threshold = 0.5, reset = zero, refractory = 3)",
    "cubalif": "CubaLIF(tau_mem = 10 ms, tau_syn = 5 ms, threshold = 0.5, refractory = 2)",
    "cubalif_shift_zero": "CubaLIF(tau_mem = 6 ms, tau_syn = 3 ms, threshold = 0.4, leak = shift, "
                          "reset = zero)",
    "alif": "ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.3, threshold = 0.4)",
    "alif_shift_refractory": "ALIF(tau_mem = 10 ms, tau_adapt = 30 ms, beta = 1.5, "
                             "threshold = 0.3, leak = shift, refractory = 1, reset = zero)",
}

#: narrow states so that U, I and A saturate (both ends) within a few steps
NARROW = "hardware { weights = fixed<8,5>; membrane = fixed<8,4>; current = fixed<7,4>; " \
         "adaptation = ufixed<6,4>; lanes = 3 }"


@needs_gxx
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_builtin_neuron_kind(tmp_path, kind):
    m = _load(tmp_path, f"""model k
time {{ dt = 1 ms; steps = 16 }}
input x[11] = rate(gain = 1.0)
layer a = dense(x, 10) with {KINDS[kind]}
layer b = dense(a, 7) with {KINDS[kind]}
output b = count
{NARROW}
""")
    q = m.quantize(_weights(m.graph, seed=5, gain=3.0))
    run, golden = _check(q, _batch(m.graph, 12, seed=1))
    assert golden.totals.spikes > 0
    assert golden.stats["a"].saturation["U"] > 0        # the saturation path is exercised
    if "cubalif" in kind:
        assert golden.stats["a"].saturation["I"] > 0
    if kind == "alif_shift_refractory":
        assert golden.stats["a"].saturation["A"] > 0


CUSTOM = """model custom
time { dt = 1 ms; steps = 20 }
neuron Clip {
    state u = 0
    state w = 0.25
    update { u = clip(u + input, -1, 2); w = w * 0.5 + u * u - abs(u) / 4; u = max(u, 0) - min(abs(w), 0.5) }
    spike when u >= 1 or (u == 0.5 and not (w > 1))
    on spike { u = u - 1; w = w + 0.75 }
}
input events[12] = delta(threshold = 0.2)
input level[3] = direct(scale = 0.5)
layer h = dense(events, 9, bias = true) with Clip
layer g = dense(level, 4) with Clip
layer o = dense(h, 5) with LIF(tau_mem = 10 ms)
output o = count
output g = count
hardware { membrane = fixed<8,6>; inputs = fixed<6,3>; lanes = 2 }
"""


@needs_gxx
def test_user_defined_neurons_with_direct_and_delta_inputs(tmp_path):
    m = _load(tmp_path, CUSTOM)
    q = m.quantize(_weights(m.graph, seed=3, gain=2.0))
    rng = np.random.default_rng(4)
    x = {"events": rng.random((10, 20, 12)), "level": rng.normal(0, 3, (10, 20, 3))}
    run, golden = _check(q, x)
    assert golden.stats["h"].saturation["u"] > 0 and golden.stats["h"].spikes > 0
    assert golden.stats["level"].saturation["inputs"] > 0    # direct values clamp (Python side)


@needs_gxx
def test_input_names_that_extend_each_other(tmp_path):
    # inputs 'a' and 'a_t': the type of a's event list was ev_in_a_t, b's list's name (no build)
    text = """model in_t
time { dt = 1 ms; steps = 5 }
input a[4] = rate
input a_t[4] = direct
layer h1 = dense(a, 6) with LIF(tau_mem = 10 ms)
layer h2 = dense(a_t, 6) with LIF(tau_mem = 10 ms)
output h1 = count
output h2 = count
"""
    m = _load(tmp_path, text)
    q = m.quantize(_weights(m.graph, seed=1, gain=2.0))
    run, golden = _check(q, _batch(m.graph, 4, seed=3))
    assert golden.stats["h1"].spikes > 0 and golden.stats["h2"].spikes > 0


@needs_gxx
def test_custom_neuron_example(tmp_path):
    m = snnc.load(ROOT / "examples" / "custom_neuron.snn")
    q = m.quantize(m.random_weights(seed=7))
    run, golden = _check(q, _batch(m.graph, 8, seed=2))
    assert golden.stats["hidden"].spikes > 0


@needs_gxx
def test_recurrent_layers(tmp_path):
    m = snnc.load(ROOT / "examples" / "recurrent_alif.snn")
    q = m.quantize(m.random_weights(seed=1))
    rng = np.random.default_rng(0)
    _check(q, rng.normal(0, 2, (6, 40, 1)))
    m2 = _load(tmp_path, """model r
time { dt = 1 ms; steps = 15 }
input x[6] = latency(threshold = 0.1)
layer r = recurrent(x, 9, bias = true, delay = 1) with LIF(tau_mem = 5 ms, threshold = 0.3, reset = zero)
layer s = recurrent(r, 4, lanes = 3) with CubaLIF(tau_mem = 10 ms, tau_syn = 4 ms, threshold = 0.2)
output s = count
hardware { lanes = 2; leak_digits = 2 }
""", "r.snn")
    q2 = m2.quantize(_weights(m2.graph, seed=2, gain=2.0))
    # decay coefficients of two signed digits (leak_digits): exp(-1/5) 53656 -> 57344 = 2^16 - 2^13
    assert q2.plan("r").neuron.mem_decay == 57344
    # layer s has its own lanes (3, a padding lane), r the hardware block's (2)
    from snnc.backends.hls.plan import plan_layers
    assert [l.p for l in plan_layers(q2)[1]] == [2, 3]
    run, golden = _check(q2, _batch(m2.graph, 9, seed=3))
    assert golden.stats["r"].spikes > 0 and golden.stats["s"].spikes > 0


@needs_gxx
def test_a_delay_of_the_models_steps_or_more_builds_and_delivers_nothing(tmp_path):
    """A delay line of `delay` slots: 1e9 was a static array that did not link (`snnc compile`
    had said nothing); `steps` slots are enough, as nothing arrives within a sample."""
    m = _load(tmp_path, """model d
time { dt = 1 ms; steps = 5 }
input x[4] = rate(gain = 1.0)
layer h = dense(x, 6) with IF(threshold = 0.5)
layer o = dense(h, 3, delay = 1000000000) with IF(threshold = 0.5)
output o = count
""", "d.snn")
    q = m.quantize(_weights(m.graph, seed=1, gain=2.0))
    from snnc.backends.hls.generator import generate_hls

    generate_hls(q, tmp_path / "hls")
    top = (tmp_path / "hls" / "snn_top.cpp").read_text()
    assert "snn::delay_line<5, " in top and "1000000000" not in top.split("delay_line")[1]
    run, golden = _check(q, np.full((3, 4), 0.9))
    assert golden.stats["h"].spikes > 0 and golden.stats["o"].spikes == 0


@needs_gxx
def test_unsigned_weights_at_their_maximum_do_not_wrap_the_accumulator(tmp_path):
    # ufixed weights need one accumulator bit more than fixed ones of the same width: three
    # weights of 15 (ufixed<4,0>) sum to 45, which a 6-bit accumulator wrapped to -19
    m = _load(tmp_path, """model u
time { dt = 1 ms; steps = 3 }
input x[3] = direct(scale = 1.0)
layer h = recurrent(x, 3, bias = true) with IF(threshold = 0.5, reset = none)
layer o = dense(h, 2) with IF(threshold = 3.0, reset = none)
output o = membrane
hardware { weights = ufixed<4,0>; inputs = ufixed<4,2>; state = fixed<24,4> }
""")
    w = {name: {k: np.full(v.shape, 15.0) for k, v in t.items()}
         for name, t in m.random_weights(seed=0).items()}
    q = m.quantize(w)
    # h: 15 * 15 (weight x payload, both unsigned) or 15 << 2 (recurrent, bias) over 7 terms;
    # o: three spikes of weight 15 (the signed rule gave 11 and 6 bits)
    assert q.plan("h").acc_bits == (7 * 15 * 15).bit_length() + 1 == 12
    assert q.plan("o").acc_bits == (3 * 15).bit_length() + 1 == 7
    run, golden = _check(q, np.full((2, 3), 3.75))
    assert golden.spikes["h"].all()
    # o's input, 45 per step, is beyond a 6-bit signed accumulator: U = 3 * 45 (4 frac bits)
    assert golden.final_state["o"]["U"].tolist() == [[3 * 45 * 16] * 2] * 2


@needs_gxx
@pytest.mark.parametrize("case", range(6))
def test_random_networks(tmp_path, case):
    rng = np.random.default_rng(1000 + case)
    kinds = ["IF(threshold = 0.4)", "LIF(tau_mem = 7 ms, threshold = 0.5, reset = zero)",
             "CubaLIF(tau_mem = 9 ms, tau_syn = 3 ms, threshold = 0.3, refractory = 1)",
             "ALIF(tau_mem = 12 ms, tau_adapt = 40 ms, beta = 0.2, threshold = 0.3)"]
    n_in = int(rng.integers(1, 20))
    lines = [f"input x[{n_in}] = rate(gain = 1.0)"]
    prev, names = "x", []
    for k in range(int(rng.integers(1, 4))):
        units = int(rng.integers(1, 17))
        kind = kinds[int(rng.integers(len(kinds)))]
        typ = "recurrent" if rng.random() < 0.3 else "dense"
        bias = ", bias = true" if rng.random() < 0.5 else ""
        delay = f", delay = {int(rng.integers(1, 3))}" if rng.random() < 0.3 else ""
        src = prev if rng.random() < 0.8 else "x"
        lines.append(f"layer l{k} = {typ}({src}, {units}{bias}{delay}) with {kind}")
        prev = f"l{k}"
        names.append(prev)
    wf = int(rng.integers(4, 9))
    mw, mf = int(rng.integers(9, 17)), int(rng.integers(3, 8))
    lanes = int(rng.integers(1, 6))
    text = "\n".join(["model rnd", "time { dt = 1 ms; steps = 12 }", *lines,
                      f"output {names[-1]} = count",
                      f"hardware {{ weights = fixed<{wf + 2},{wf}>; state = fixed<{mw},{mf}>; "
                      f"lanes = {lanes} }}"]) + "\n"
    m = _load(tmp_path, text)
    q = m.quantize(_weights(m.graph, seed=case, gain=float(rng.uniform(1, 4))))
    _check(q, _batch(m.graph, 7, seed=case), seed=case)


@needs_gxx
def test_digits_model_on_50_images(tmp_path):
    m = snnc.load(ROOT / "examples" / "digits.snn")
    q = m.quantize(m.random_weights(seed=11))
    try:
        from snnc.datasets import load_dataset

        x = np.asarray(load_dataset("digits", m.graph).x_test[:50], dtype=np.float64)
    except Exception:                                     # scikit-learn missing: random images
        x = np.random.default_rng(0).random((50, 64))
    assert x.shape == (50, 64)
    run, golden = _check(q, x, seed=4, sample_ids=np.arange(50))
    assert golden.stats["out"].spikes > 0
    np.testing.assert_array_equal(run.spikes["out"].sum(axis=0),
                                  golden.outputs["out"].count)


@needs_gxx
def test_one_wrong_weight_is_detected(tmp_path):
    m = snnc.load(ROOT / "examples" / "digits.snn")
    q = m.quantize(m.random_weights(seed=11))
    x = _batch(m.graph, 20, seed=8)
    project = tmp_path / "prj"
    manifest = generate_hls(q, project)
    payloads = input_payloads(q, x, seed=0)
    golden = simulate_golden(q, x, seed=0, record=True)
    names = [l.name for l in m.graph.layers]
    assert compare(golden, run_project(project, manifest, payloads), names).match
    # corrupt W[j][n] of hidden neuron 5 for the most active input pixel
    j = int(np.argmax(payloads.sum(axis=(0, 1))))
    text = (project / "snn_weights.h").read_text()
    start = text.index("W_l0_hidden[64][128] = {")
    rows = text[start:].split("\n")[1:65]
    values = [int(v) for v in rows[j].strip().strip(",{}").split(", ")]
    values[5] = 127 if values[5] < 0 else -128
    new_row = rows[j].replace(rows[j].strip(), "{" + ", ".join(map(str, values)) + "}"
                              + ("," if rows[j].strip().endswith(",") else ""))
    (project / "snn_weights.h").write_text(text.replace(rows[j], new_row, 1))
    cmp = compare(golden, run_project(project, manifest, payloads), names)
    assert not cmp.match and cmp.mismatches > 0
    assert cmp.first.layer == "hidden" and cmp.first.neuron == 5


@needs_gxx
def test_generated_code_compiles_without_warnings(tmp_path):
    m = _load(tmp_path, CUSTOM)
    q = m.quantize(_weights(m.graph, seed=3))
    generate_hls(q, tmp_path / "custom")
    assert compile_warnings(tmp_path / "custom") == ""
    m2 = snnc.load(ROOT / "examples" / "recurrent_alif.snn")
    generate_hls(m2.quantize(m2.random_weights(seed=0)), tmp_path / "rec")
    assert compile_warnings(tmp_path / "rec") == ""
    # run_hls.tcl hands Vitis HLS -std=c++14 (docs/hls.md): the code compiles as C++14 too
    m3 = snnc.load(ROOT / "examples" / "asn_user.snn")
    generate_hls(m3.quantize(m3.random_weights(seed=0)), tmp_path / "asn")
    for project in ("custom", "rec", "asn"):
        assert compile_warnings(tmp_path / project, ("-std=c++14",)) == ""
    assert '-cflags "-std=c++14"' in (tmp_path / "rec" / "run_hls.tcl").read_text()


def test_unsupported_constructs_are_located_errors(tmp_path):
    m = snnc.load(ROOT / "examples" / "conv.snn")
    q = m.quantize(m.random_weights(seed=0))
    with pytest.raises(SnnErrors) as exc:
        generate_hls(q, tmp_path / "conv")
    got = [(e.loc.line, e.loc.col, e.message) for e in exc.value.errors]
    assert got == [
        (13, 1, "input 'image' of shape [1, 8, 8] (only 1-D inputs) is not supported by the "
                "HLS backend"),
        (16, 1, "conv2d layer 'conv1' is not supported by the HLS backend"),
        (22, 1, "pool layer 'pool1' is not supported by the HLS backend"),
        (26, 1, "conv2d layer 'conv2' is not supported by the HLS backend"),
        (32, 1, "pool layer 'pool2' is not supported by the HLS backend"),
        (35, 1, "flatten layer 'flat' is not supported by the HLS backend"),
    ]
    assert not (tmp_path / "conv").exists()


def test_project_files_manifest_and_latency(tmp_path):
    m = snnc.load(ROOT / "examples" / "digits.snn")
    q = m.quantize(m.random_weights(seed=3))
    man = generate_hls(q, tmp_path, lanes=8)
    assert man["format"] == "snnc-hls" and man["top"] == "snn_top" and man["steps"] == 25
    for f in man["files"]:
        assert (tmp_path / f).is_file()
    assert json.loads((tmp_path / "manifest.json").read_text()) == json.loads(json.dumps(man))
    hidden, out = man["layers"]
    assert (hidden["neurons"], hidden["inputs"], hidden["lanes"], hidden["words"]) == (128, 64, 8, 16)
    assert (out["words"], out["padded"], out["output_offset"]) == (2, 16, 0)
    # 64 input addresses need 6 bits; the field has one more, so that 64 .. 127 can be sent
    assert man["event"]["in"] == {"address_bits": 7, "payload_bits": 1, "payload_signed": False}
    assert man["latency"]["words"] == {"hidden": 16, "out": 2}
    top = (tmp_path / "snn_top.cpp").read_text()
    assert "SNN_HLS(ARRAY_PARTITION variable=W_l0_hidden cyclic factor=8 dim=2)" in top
    assert "SNN_HLS(ARRAY_PARTITION variable=acc_l1_out cyclic factor=8 dim=1)" in top
    assert "snn::sweep<snn::builtin_neuron<cfg_l0_hidden>, 128, 8, 128, 6, 8>" in top
    layer_h = (tmp_path / "snn_layer.h").read_text()
    assert layer_h.count("SNN_HLS(PIPELINE II=1)") >= 4 and "SNN_HLS(UNROLL)" in layer_h
    weights = (tmp_path / "snn_weights.h").read_text()
    assert "static const ap_int<8> W_l0_hidden[64][128] = {" in weights
    tcl = (tmp_path / "hls_config.tcl").read_text()
    assert "set snn_top snn_top" in tcl and "set snn_clock_ns 20" in tcl
    # the estimate for a known event pattern: one input event per step, no spikes anywhere
    payloads = np.zeros((1, 25, 64), dtype=np.int64)
    payloads[0, :, 3] = 1

    class NoSpikes:
        spikes = {"hidden": np.zeros((25, 1, 128), np.uint8), "out": np.zeros((25, 1, 10), np.uint8)}
    per_step = 2 + (16 + 3) * 1 + 16 + 6 + 0 + 2 + 6 + 1
    np.testing.assert_array_equal(estimate_cycles(man, payloads, NoSpikes()), [25 * per_step])


@needs_gxx
def test_snnc_compile_target_hls(tmp_path, capsys):
    m = snnc.load(ROOT / "examples" / "digits.snn")
    w = tmp_path / "w.npz"
    save_weights(w, m.graph, m.random_weights(seed=2))
    out = tmp_path / "hls"
    assert main(["compile", str(ROOT / "examples" / "digits.snn"), "--target", "hls",
                 "--weights", str(w), "--lanes", "2", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["target"] == "hls" and summary["top"] == "snn_top"
    assert [l["lanes"] for l in summary["layers"]] == [2, 2]
    man = load_manifest(out)
    q = m.quantize(m.random_weights(seed=2))
    x = _batch(m.graph, 5, seed=9)
    run = run_project(out, man, input_payloads(q, x, seed=1, sample_ids=np.arange(5)))
    golden = simulate_golden(q, x, seed=1, record=True)
    assert compare(golden, run, ["hidden", "out"]).match


# ---------------------------------------------------------------------- ASN (graded events)

ASN_NETS = {
    # narrow formats and a high threshold that adapts strongly: U, P, A and the payload H clamp
    "narrow_saturating": """model an
time { dt = 1 ms; steps = 24 }
input x[13] = rate(gain = 1.0)
layer h = dense(x, 10) with ASN(tau_beta = 10 ms, threshold = 2.5, m_f = 1.0, tau_gamma = 30 ms)
layer o = dense(h, 7) with ASN(tau_beta = 10 ms, threshold = 1.5, m_f = 0.8)
output o = count
hardware { weights = fixed<8,5>; membrane = fixed<8,4>; adaptation = fixed<8,4>; lanes = 3 }
""",
    # direct input (graded into an ASN), bias on both layers, shift leak, tau_eta != tau_beta,
    # an unsigned adaptation format, five lanes (a padding lane)
    "shift_direct_bias": """model as
time { dt = 1 ms; steps = 30 }
input v[6] = direct(scale = 0.8)
layer h = dense(v, 12, bias = true)
          with ASN(tau_beta = 16 ms, tau_eta = 8 ms, threshold = 0.2, m_f = 0.3, leak = shift)
layer o = dense(h, 4, bias = true) with ASN(tau_beta = 8 ms, threshold = 0.1, m_f = 0.0)
output o = membrane
hardware { weights = fixed<9,6>; membrane = fixed<14,8>; adaptation = ufixed<12,9>;
           inputs = fixed<10,7>; lanes = 5 }
""",
    # an unsigned membrane format: U, P and the heights live in ap_uint, U clamps at 0 from
    # below; the output stream's payload is unsigned
    "unsigned_membrane": """model au
time { dt = 1 ms; steps = 25 }
input x[10] = rate(gain = 1.0)
layer h = dense(x, 8) with ASN(tau_beta = 10 ms, threshold = 0.5, m_f = 1.0)
layer o = dense(h, 6, bias = true) with ASN(tau_beta = 10 ms, threshold = 0.5, m_f = 0.5)
output o = count
hardware { weights = fixed<8,6>; membrane = ufixed<10,5>; adaptation = fixed<12,6>; lanes = 4 }
""",
    # ASN events into a LIF layer with a delay, into a second ASN layer and into a user-defined
    # neuron with a delay; the LIF and ASN layers are outputs, so the output stream carries
    # heights and plain spikes side by side
    "mixed_outputs_delay": """model am
time { dt = 1 ms; steps = 20 }
neuron Leaky {
    param tau: time = 8 ms
    state u = 0
    update { u = decay(tau) * u + input }
    spike when u > 0.5
    on spike { u = u - 0.5 }
}
input x[8] = rate(gain = 1.0)
layer a = dense(x, 9, bias = true) with ASN(tau_beta = 12 ms, threshold = 0.3, m_f = 0.5)
layer b = dense(a, 6, delay = 2) with LIF(tau_mem = 10 ms, threshold = 0.5)
layer c = dense(a, 5, bias = true) with ASN(tau_beta = 12 ms, threshold = 0.25, m_f = 0.2)
layer d = dense(a, 4, delay = 1) with Leaky
output c = count
output b = count
hardware { weights = fixed<8,6>; state = fixed<16,8>; lanes = 2 }
""",
}


@needs_gxx
@pytest.mark.parametrize("name", sorted(ASN_NETS))
def test_asn_networks_are_bit_exact(tmp_path, name):
    m = _load(tmp_path, ASN_NETS[name])
    q = m.quantize(_weights(m.graph, seed=7, gain=3.0))
    if name == "shift_direct_bias":
        x = np.random.default_rng(5).normal(0.5, 1.0, (9, 30, 6))      # a sequence, with negatives
    else:
        x = _batch(m.graph, 9, seed=5)
    run, golden = _check(q, x)
    asn = [l.name for l in m.graph.layers if getattr(q.plan(l.name).neuron, "kind", "") == "ASN"]
    for layer in asn:
        pay = run.payloads[layer]
        spk = run.spikes[layer]
        assert spk.sum() > 0 and golden.stats[layer].spikes == int(spk.sum())
        np.testing.assert_array_equal(pay > 0, spk == 1)      # an event <=> a payload
        if q.plan(layer).neuron.m_f > 0:
            assert len(np.unique(pay[pay > 0])) > 1           # graded: heights vary
        np.testing.assert_array_equal(run.final_state[layer]["H"], pay[-1])
    sat = golden.stats
    if name == "narrow_saturating":
        for key in ("U", "P", "A", "H"):
            assert sat["h"].saturation[key] > 0 or sat["o"].saturation[key] > 0, key
        top = q.formats.membrane.max_int
        assert (run.payloads["h"] == top).any()               # the clamped height is sent
    if name == "unsigned_membrane":
        assert sat["h"].saturation["U"] > 0 and sat["h"].saturation["P"] > 0
        man = generate_hls(q, tmp_path / "unsigned")
        assert man["event"]["out"] == {"address_bits": 3, "payload_bits": 10,
                                       "payload_signed": False}
        assert "ap_uint<10> payload;" in (tmp_path / "unsigned" / "snn_top.h").read_text()
    if name == "mixed_outputs_delay":
        assert golden.stats["b"].spikes > 0 and golden.stats["d"].spikes > 0
        generate_hls(q, tmp_path / "mixed")
        assert compile_warnings(tmp_path / "mixed") == ""


@needs_gxx
def test_asn_digits_network_on_20_images(tmp_path):
    m = snnc.load(ROOT / "examples" / "asn_digits.snn")
    q = m.quantize(m.random_weights(seed=3))
    try:
        from snnc.datasets import load_dataset

        x = np.asarray(load_dataset("digits", m.graph).x_test[:20], dtype=np.float64)
    except Exception:                                     # scikit-learn missing: random images
        x = np.random.default_rng(0).random((20, 64))
    run, golden = _check(q, x, seed=0, sample_ids=np.arange(20))
    assert golden.stats["hidden"].spikes > 1000 and golden.stats["out"].spikes > 100
    np.testing.assert_array_equal(run.spikes["out"].sum(axis=0), golden.outputs["out"].count)
    # the thresholds adapt: heights above theta0 are sent (and multiplied by the next layer)
    assert run.payloads["hidden"].max() > q.plan("hidden").neuron.threshold


def _corrupt_weight(project, array: str, rows: int, j: int, n: int, lo: int, hi: int) -> None:
    """Replace W[j][n] of ``array`` (``rows`` rows) in snn_weights.h by an extreme value."""
    text = (project / "snn_weights.h").read_text()
    start = text.index(f"{array}[{rows}]")
    lines = text[start:].split("\n")[1:rows + 1]
    values = [int(v) for v in lines[j].strip().strip(",{}").split(", ")]
    values[n] = hi if values[n] < 0 else lo
    new = lines[j].replace(lines[j].strip(), "{" + ", ".join(map(str, values)) + "}"
                           + ("," if lines[j].strip().endswith(",") else ""))
    (project / "snn_weights.h").write_text(text.replace(lines[j], new, 1))


@needs_gxx
def test_one_wrong_weight_in_an_asn_net_is_detected(tmp_path):
    from snnc.backends.hls.csim import compare_payloads

    m = snnc.load(ROOT / "examples" / "asn_digits.snn")
    q = m.quantize(m.random_weights(seed=3))
    x = np.random.default_rng(8).random((10, 64))
    project = tmp_path / "prj"
    manifest = generate_hls(q, project)
    payloads = input_payloads(q, x, seed=0)
    golden = simulate_golden(q, x, seed=0, record=True)
    names = [l.name for l in m.graph.layers]
    run = run_project(project, manifest, payloads)
    assert compare_payloads(golden, run, names, compare(golden, run, names)).match
    # corrupt W[j][3] of the output layer for the hidden neuron whose events weigh most
    j = int(np.argmax(np.asarray(golden.payloads["hidden"]).sum(axis=(0, 1))))
    _corrupt_weight(project, "W_l1_out", 128, j, 3, -2048, 2047)
    bad = run_project(project, manifest, payloads)
    cmp = compare_payloads(golden, bad, names, compare(golden, bad, names))
    assert not cmp.match and cmp.mismatches > 0
    assert cmp.first.layer == "out" and cmp.first.neuron == 3
    # the hidden layer is untouched: its spikes and payloads are still equal
    np.testing.assert_array_equal(bad.payloads["hidden"], run.payloads["hidden"])
    assert not np.array_equal(bad.final_state["out"]["U"], run.final_state["out"]["U"])


def test_payload_comparison_names_the_first_wrong_height():
    from snnc.backends.compare import BackendRun
    from snnc.backends.hls.csim import compare_payloads

    class Golden:
        steps, batch = 3, 2
        payloads = {"h": np.zeros((3, 2, 4), dtype=np.int64)}
    run = BackendRun("hls-csim", 3, 2, {})
    run.payloads = {"h": np.zeros((3, 2, 4), dtype=np.int64)}
    ok = compare_payloads(Golden, run, ["h"])
    assert (ok.compared, ok.mismatches, ok.first, ok.match) == (24, 0, None, True)
    run.payloads["h"][2, 0, 1] = 7
    run.payloads["h"][1, 1, 3] = 5
    bad = compare_payloads(Golden, run, ["h"])
    assert bad.mismatches == 2
    assert bad.first.describe() == "payload differs at layer 'h', sample 0, step 2, neuron 1: " \
                                   "expected 0, got 7"


@needs_gxx
def test_snnc_verify_asn_digits_with_the_hls_backend(tmp_path, capsys):
    pytest.importorskip("sklearn")
    model = ROOT / "examples" / "asn_digits.snn"
    m = snnc.load(model)
    w = tmp_path / "w.npz"
    save_weights(w, m.graph, m.random_weights(seed=3))
    assert main(["verify", str(model), "--weights", str(w), "--backend", "hls",
                 "--samples", "20", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["match"], s["mismatches"], s["backend"], s["samples"]) == (True, 0, "hls", 20)
    # spikes and payloads of both layers per step, the output layer's membrane per step, their
    # 5 final states, 4 counters each
    per_step = 20 * 60 * (128 + 10)
    assert s["compared"] == 2 * per_step + 20 * 60 * 10 + 20 * 5 * (128 + 10) + 8
    assert s["prediction_agreement"] == 1.0
    assert main(["verify", str(model), "--weights", str(w), "--backend", "hls",
                 "--samples", "20"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("match: the hls hardware equals")


@needs_gxx
def test_asn_project_manifest_events_and_latency(tmp_path):
    m = snnc.load(ROOT / "examples" / "asn_digits.snn")
    q = m.quantize(m.random_weights(seed=0))
    man = generate_hls(q, tmp_path)
    assert man["event"]["in"] == {"address_bits": 7, "payload_bits": 16, "payload_signed": True}
    assert man["event"]["out"] == {"address_bits": 4, "payload_bits": 16, "payload_signed": True}
    hidden, out = man["layers"]
    assert (hidden["neuron"], hidden["graded"], hidden["source_graded"]) == ("ASN", True, True)
    assert (out["graded"], out["source_graded"], out["payloads_offset"]) == (True, True, 128)
    assert [s["name"] for s in out["states"]] == ["U", "P", "A", "H", "S"]
    assert [c["name"] for c in out["saturation"]] == ["U", "P", "A", "H"]
    assert man["probe"]["payloads"] == 138
    assert man["latency"]["depths"] == {
        "hidden": {"acc": 4, "recurrent_acc": 3, "sweep": 8},
        "out": {"acc": 4, "recurrent_acc": 3, "sweep": 8}}
    top = (tmp_path / "snn_top.cpp").read_text()
    assert "snn::sweep<snn::asn_neuron<cfg_l0_hidden>, 128, 4, 128, 25, 9>" in top
    assert "snn::consume_events<4, 128, 12, 0, true>(acc_l1_out, W_l1_out, ev_l0_hidden);" in top
    assert "typedef snn::event_list<128, ap_uint<7>, ap_int<16>> ev_l0_hidden_t;" in top
    assert "ev.payload = ev_l1_out.pay[e];" in top
    assert "static const snn::i64 M_F = snn::i64(32768);" in top
    assert "ap_int<16> payload;" in (tmp_path / "snn_top.h").read_text()
    assert compile_warnings(tmp_path) == ""
    # the estimate for a known event pattern: one input event per step, 2 hidden events and
    # 1 output event per step (words: 32 and 3; graded sources: acc 4; ASN sweeps: 8)
    payloads = np.zeros((1, 60, 64), dtype=np.int64)
    payloads[0, :, 5] = 300

    class Events:
        spikes = {"hidden": np.zeros((60, 1, 128), np.uint8),
                  "out": np.zeros((60, 1, 10), np.uint8)}
    Events.spikes["hidden"][:, 0, [3, 70]] = 1
    Events.spikes["out"][:, 0, 2] = 1
    per_step = (1 + 1) + (1 * (32 + 4) + 32 + 8) + (2 * (3 + 4) + 3 + 8) + (1 + 1)
    np.testing.assert_array_equal(estimate_cycles(man, payloads, Events()), [60 * per_step])


def test_relu_and_asn_conv_flatten_are_located_errors(tmp_path, capsys):
    relu = ROOT / "examples" / "digits_relu.snn"
    m = snnc.load(relu)
    with pytest.raises(SnnErrors) as exc:
        generate_hls(m.quantize(m.random_weights(seed=0)), tmp_path / "relu")
    got = [(e.loc.line, e.loc.col, e.message) for e in exc.value.errors]
    assert got == [
        (18, 1, "the non-spiking ReLU unit of layer 'hidden' is not supported by the HLS backend"),
        (21, 1, "the non-spiking ReLU unit of layer 'out' is not supported by the HLS backend"),
    ]
    assert all("snnc convert" in e.hint for e in exc.value.errors)
    assert not (tmp_path / "relu").exists()
    w = tmp_path / "w.npz"
    save_weights(w, m.graph, m.random_weights(seed=0))
    assert main(["compile", str(relu), "--target", "hls", "--weights", str(w),
                 "-o", str(tmp_path / "relu_cli")]) == 2
    err = capsys.readouterr().err
    assert f"{relu}:18:1: error: the non-spiking ReLU unit of layer 'hidden' is not supported " \
           "by the HLS backend" in err
    conv = _load(tmp_path, """model c
time { dt = 1 ms; steps = 10 }
input img[1, 6, 6] = direct(scale = 0.1)
layer conv = conv2d(img, 4, 3) with ASN(tau_beta = 10 ms)
layer flat = flatten(conv)
  layer out = dense(flat, 3) with ASN(tau_beta = 10 ms)
output out = count
""", "c.snn")
    with pytest.raises(SnnErrors) as exc:
        generate_hls(conv.quantize(conv.random_weights(seed=0)), tmp_path / "conv")
    got = [(e.loc.line, e.loc.col, e.message) for e in exc.value.errors]
    assert got == [
        (3, 1, "input 'img' of shape [1, 6, 6] (only 1-D inputs) is not supported by the HLS "
               "backend"),
        (4, 1, "conv2d layer 'conv' is not supported by the HLS backend"),
        (5, 1, "flatten layer 'flat' is not supported by the HLS backend"),
    ]


@needs_gxx
def test_a_cache_that_cannot_be_a_folder_builds_uncached(tmp_path, monkeypatch):
    # SNNC_HLS_CACHE naming a file was an internal error (NotADirectoryError)
    from snnc.backends.hls.csim import compile_project

    a_file = tmp_path / "cache"
    a_file.write_text("not a folder")
    monkeypatch.setenv("SNNC_HLS_CACHE", str(a_file))
    m = _load(tmp_path, CUSTOM)
    generate_hls(m.quantize(_weights(m.graph, seed=0)), tmp_path / "proj")
    binary = compile_project(tmp_path / "proj")
    assert binary.is_file() and not str(binary).startswith(str(a_file))


# ---------------------------------------------------------------------- the input event stream

#: 16 spike inputs: 4 address bits would be enough, so an address past them used to wrap (16 -> 0)
SPIKES16 = """model oor
time { dt = 1 ms; steps = 12 }
input x[16] = rate(gain = 1.0)
layer h = dense(x, 6) with LIF(tau_mem = 10 ms, threshold = 0.5)
output h = count
"""

#: a direct input with every value non-zero: each step sends all 5 addresses (its capacity)
DIRECT5 = """model cap
time { dt = 1 ms; steps = 10 }
input v[5] = direct(scale = 0.9)
layer h = dense(v, 7, bias = true) with LIF(tau_mem = 8 ms, threshold = 0.4)
output h = count
hardware { weights = fixed<8,6>; membrane = fixed<16,8>; inputs = fixed<10,7> }
"""


def _with_events(rec: np.ndarray, steps: int, extra) -> np.ndarray:
    """``rec`` with records ``{0, payload, address}`` added before the end-of-step token of
    each ``(sample, step, payload, address)`` of ``extra``."""
    tokens = np.flatnonzero(rec[:, 0] == 1)
    at = [tokens[b * steps + t] for b, t, _, _ in extra]
    return np.insert(rec, at, [[0, p, a] for _, _, p, a in extra], axis=0)


def _golden_match(q, x, run, seed: int = 0) -> None:
    golden = simulate_golden(q, x, seed=seed, sample_ids=np.arange(len(x)), record=True)
    steps = q.graph.time.steps
    for layer in q.graph.layers:
        np.testing.assert_array_equal(
            run.spikes[layer.name],
            np.asarray(golden.spikes[layer.name]).reshape(steps, len(x), -1))
        for key, value in golden.final_state[layer.name].items():
            np.testing.assert_array_equal(run.final_state[layer.name][key],
                                          np.asarray(value).reshape(len(x), -1))
    assert compare(golden, run, [l.name for l in q.graph.layers]).match


@needs_gxx
def test_out_of_range_input_addresses_are_dropped_and_counted(tmp_path):
    m = _load(tmp_path, SPIKES16)
    q = m.quantize(_weights(m.graph, seed=5))
    man = generate_hls(q, tmp_path / "prj")
    assert man["event"]["in"]["address_bits"] == 5
    assert "ap_uint<5> address;" in (tmp_path / "prj" / "snn_top.h").read_text()
    x = _batch(m.graph, 3, seed=2)
    payloads = input_payloads(q, x, seed=0, sample_ids=np.arange(3))
    # in the last step of two samples (a wrapped address would change the final U) and mid-way
    # through the third: 16 and 31 were 0 and 15 in a 4-bit field
    extra = [(0, 11, 1, 16), (1, 11, 1, 31), (2, 5, 1, 20), (2, 11, 1, 16)]
    rec = _with_events(event_records(payloads), 12, extra)
    run = run_records(tmp_path / "prj", man, rec, 3, 12)
    assert (run.dropped_out_of_range, run.dropped_over_capacity, run.dropped_events) == (4, 0, 4)
    _golden_match(q, x, run)


@needs_gxx
def test_events_over_an_inputs_capacity_are_dropped_and_counted_apart(tmp_path):
    m = _load(tmp_path, DIRECT5)
    q = m.quantize(_weights(m.graph, seed=1, gain=2.0))
    man = generate_hls(q, tmp_path / "prj")
    assert man["event"]["in"] == {"address_bits": 4, "payload_bits": 10, "payload_signed": True}
    assert man["probe"]["dropped"] == {"out_of_range": 1, "over_capacity": 2}
    assert man["probe"]["counters"] == 3
    x = 0.2 + 0.8 * np.random.default_rng(3).random((3, 5))
    payloads = input_payloads(q, x, seed=0, sample_ids=np.arange(3))
    assert np.count_nonzero(payloads) == payloads.size       # every step fills the capacity
    # a sixth event of the step (a repeated address: beyond the input's 5) is dropped, whatever
    # its payload; addresses 5 .. 15 fit the field and are past the input
    extra = [(0, 3, 37, 2), (1, 9, -5, 4), (2, 0, 100, 5), (2, 7, -512, 15)]
    run = run_records(tmp_path / "prj", man, _with_events(event_records(payloads), 10, extra),
                      3, 10)
    assert (run.dropped_out_of_range, run.dropped_over_capacity) == (2, 2)
    _golden_match(q, x, run)


def test_the_events_writer_refuses_what_the_fields_cannot_hold(tmp_path):
    m = _load(tmp_path, DIRECT5)
    q = m.quantize(_weights(m.graph, seed=1))
    man = generate_hls(q, tmp_path / "prj")
    path = tmp_path / "events.bin"
    payloads = np.zeros((2, 3, 5), dtype=np.int64)
    payloads[1, 2, 3] = 512                            # ap_int<10> holds -512 .. 511
    with pytest.raises(ValueError) as exc:
        write_events(path, payloads, man)
    assert str(exc.value) == (
        "event record 5 (sample 1, step 2): payload 512 does not fit the input event's payload "
        "field ap_int<10> (-512 .. 511): it would wrap (quantise the value to the `inputs` "
        "format, saturating, as input_payloads does)")
    payloads[1, 2, 3] = -512
    write_events(path, payloads, man)                  # the most negative value fits
    assert path.stat().st_size == 4 * (4 + 3 * 7)
    rec = _with_events(event_records(payloads), 3, [(0, 1, 7, 16)])
    with pytest.raises(ValueError) as exc:
        write_event_records(path, rec, 2, 3, man)
    assert str(exc.value) == (
        "event record 1 (sample 0, step 1): address 16 does not fit the input event's address "
        "field ap_uint<4> (0 .. 15): it would wrap (addresses 5 .. 15 are representable and "
        "dropped by snn_top; wider ones cannot be sent)")
    with pytest.raises(ValueError) as exc:
        write_event_records(path, event_records(payloads)[:-1], 2, 3, man)
    assert str(exc.value) == ("the events have 5 end-of-step tokens (records with last = 1), "
                              "expected one per sample and step (2 x 3 = 6)")
    with pytest.raises(ValueError) as exc:
        write_event_records(path, np.vstack([event_records(payloads), [[0, 1, 2]]]), 2, 3, man)
    assert str(exc.value) == ("the last event record is not an end-of-step token (last = 1): "
                              "the last step would never end")
    # a spike input's events carry payload 1: the `inputs` format hint was wrong there
    spikes = _load(tmp_path, SPIKES16)
    sman = generate_hls(spikes.quantize(_weights(spikes.graph, seed=1)), tmp_path / "sprj")
    with pytest.raises(ValueError) as exc:
        write_event_records(path, [[0, 5, 3], [1, 0, 0]], 1, 1, sman)
    assert str(exc.value) == (
        "event record 0 (sample 0, step 0): payload 5 does not fit the input event's payload "
        "field ap_uint<1> (0 .. 1): it would wrap (the model's inputs send spikes, whose events "
        "carry payload 1)")
    bad = np.insert(event_records(payloads), 1, [2, 0, 0], axis=0)
    with pytest.raises(ValueError) as exc:
        write_event_records(path, bad, 2, 3, man)
    assert str(exc.value) == ("event record 1 (sample 0, step 1): last = 2; it must be 0 (an "
                              "event) or 1 (the end-of-step token)")
    with pytest.raises(ValueError) as exc:
        write_events(path, np.zeros((2, 3, 4)), man)
    assert str(exc.value) == ("payloads must be [samples, steps, 5] (the project's input "
                              "addresses), not of shape [2, 3, 4]")
    # spike inputs only: a one-bit payload
    m2 = _load(tmp_path, SPIKES16, "s.snn")
    man2 = generate_hls(m2.quantize(_weights(m2.graph, seed=0)), tmp_path / "prj2")
    spikes = np.zeros((1, 2, 16), dtype=np.int64)
    spikes[0, 1, 15] = 2
    with pytest.raises(ValueError, match=r"^event record 1 \(sample 0, step 1\): payload 2 does "
                                         r"not fit the input event's payload field ap_uint<1> "
                                         r"\(0 \.\. 1\)"):
        write_events(path, spikes, man2)


def _raw_events(path, batch: int, steps: int, records) -> None:
    """An events file written without the writer's checks (as a hand-made one might be)."""
    header = np.array([EVENTS_MAGIC, 1, batch, steps], dtype="<i4")
    path.write_bytes(header.tobytes() + np.asarray(records, dtype="<i4").tobytes())


@needs_gxx
def test_the_testbench_refuses_records_that_would_wrap_and_a_missing_token(tmp_path):
    m = _load(tmp_path, DIRECT5)
    q = m.quantize(_weights(m.graph, seed=1))
    man = generate_hls(q, tmp_path / "prj")
    ev = tmp_path / "events.bin"
    cases = [
        ([[0, 3, 1], [1, 0, 0], [0, 600, 2], [1, 0, 0]],
         "sample 0, step 1: payload 600 does not fit the input event's payload field (it would "
         "wrap to -424)"),
        ([[1, 0, 0], [0, 5, 16], [1, 0, 0]],
         "sample 0, step 1: address 16 does not fit the input event's address field (it would "
         "wrap to 0)"),
        ([[0, 3, 1], [1, 0, 0], [0, 2, 4]],
         "sample 0, step 1: the events file ends before the step's end-of-step token (a record "
         "{1, 0, 0}); every step must end with one"),
        ([[0, 3, 1], [3, 0, 0], [1, 0, 0]],
         "sample 0, step 0: a record has last = 3 (0: an event, 1: the end-of-step token)"),
    ]
    for records, message in cases:
        _raw_events(ev, 1, 2, records)
        with pytest.raises(CsimError) as exc:
            run_events_file(tmp_path / "prj", man, ev)
        assert str(exc.value) == f"the testbench failed (exit status 1): tb_snn_top: {ev}: " \
                                 f"{message}"
    # the header's counts: -1 samples ran nothing and exited 0; records past them were ignored
    for samples, steps, records, message in (
            (-1, 2, [[1, 0, 0]], "the header gives -1 samples of 2 steps; both must be at least 1"),
            (1, 0, [[1, 0, 0]], "the header gives 1 samples of 0 steps; both must be at least 1"),
            (1, 1, [[1, 0, 0], [0, 3, 1], [1, 0, 0]],
             "data after the last step of the last sample (the header gives 1 samples of 1 "
             "steps)")):
        _raw_events(ev, samples, steps, records)
        with pytest.raises(CsimError) as exc:
            run_events_file(tmp_path / "prj", man, ev)
        assert str(exc.value) == f"the testbench failed (exit status 1): tb_snn_top: {ev}: " \
                                 f"{message}"
    # a valid hand-made file: an address past the input (5 .. 15 fit) is dropped and counted
    _raw_events(ev, 1, 2, [[0, 3, 1], [0, 9, 15], [1, 0, 0], [1, 0, 0]])
    run = run_events_file(tmp_path / "prj", man, ev)
    assert (run.dropped_out_of_range, run.dropped_over_capacity) == (1, 0)


MISSING_TOKEN_MAIN = r"""
#include <cstdio>
#include <exception>
#include "snn_top.h"
int main() {
    hls::stream<snn_in_event_t> in("in_events");
    hls::stream<snn_out_event_t> out("out_events");
    snn_in_event_t e;
    e.address = 1;
    e.payload = 1;
    e.last = 0;
    in.write(e);                       // an event, but no end-of-step token
    try {
        snn_top(in, out, true);
    } catch (const std::exception& ex) {
        std::printf("%s\n", ex.what());
        return 3;
    }
    return 0;
}
"""


@needs_gxx
def test_a_step_without_its_token_is_a_clear_error_in_c_simulation(tmp_path):
    import subprocess

    m = _load(tmp_path, SPIKES16)
    generate_hls(m.quantize(_weights(m.graph, seed=0)), tmp_path / "prj")
    (tmp_path / "main.cpp").write_text(MISSING_TOKEN_MAIN)
    exe = tmp_path / "t"
    subprocess.run(["g++", "-O2", "-std=c++17", "-DSNN_HLS_COMPAT_FALLBACK", "-I",
                    str(tmp_path / "prj"), str(tmp_path / "prj" / "snn_top.cpp"),
                    str(tmp_path / "main.cpp"), "-o", str(exe)], check=True)
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 3
    assert proc.stdout == (
        "snn_top: the input stream ran empty before the step's end-of-step token (an event with "
        "last = 1); every call needs its step's events followed by the token (synthesised, this "
        "read would block: the hardware waits for the token)\n")


def test_the_fpga_part_is_an_option(tmp_path, capsys):
    m = _load(tmp_path, SPIKES16)
    q = m.quantize(_weights(m.graph, seed=0))
    man = generate_hls(q, tmp_path / "default")
    assert man["part"] == "xc7z020clg400-1"
    assert "set snn_part xc7z020clg400-1\n" in (tmp_path / "default" / "hls_config.tcl").read_text()
    man = generate_hls(q, tmp_path / "u250", part="xcu250-figd2104-2L-e")
    assert man["part"] == "xcu250-figd2104-2L-e"
    assert "set snn_part xcu250-figd2104-2L-e\n" in (tmp_path / "u250" / "hls_config.tcl").read_text()
    with pytest.raises(ValueError) as exc:
        generate_hls(q, tmp_path / "bad", part="xc7z020 [exit]")
    assert str(exc.value) == ("'xc7z020 [exit]' is not an FPGA part name (letters, digits, '-', "
                              "'_' and '.' only, e.g. xc7z020clg400-1)")
    model = tmp_path / "m.snn"
    assert main(["compile", str(model), "--target", "hls", "--part", "xczu9eg-ffvb1156-2-e",
                 "-o", str(tmp_path / "cli")]) == 0
    assert load_manifest(tmp_path / "cli")["part"] == "xczu9eg-ffvb1156-2-e"
    capsys.readouterr()
    assert main(["compile", str(model), "--target", "verilog", "--part", "xc7z020clg400-1",
                 "-o", str(tmp_path / "v")]) == 2
    assert "error: --part is for --target hls" in capsys.readouterr().err
    assert main(["compile", str(model), "--target", "hls", "--part", "a b",
                 "-o", str(tmp_path / "cli2")]) == 2
    assert "error: --part 'a b' is not an FPGA part name" in capsys.readouterr().err


def test_manifest_describes_the_stream_and_what_is_c_simulation_only(tmp_path):
    m = _load(tmp_path, DIRECT5.replace("inputs = fixed<10,7>", "inputs = ufixed<9,7>"))
    man = generate_hls(m.quantize(_weights(m.graph, seed=0)), tmp_path / "prj")
    # an unsigned inputs format: the payload field is an ap_uint, and the manifest says so
    assert man["event"]["in"] == {"address_bits": 4, "payload_bits": 9, "payload_signed": False}
    assert "ap_uint<9> payload;" in (tmp_path / "prj" / "snn_top.h").read_text()
    assert man["event"]["struct_members"] == ["address", "payload", "last"]
    doc = man["event"]["doc"]
    assert "clear = 1 on the first call of every sample" in doc
    assert "not TLAST" in doc and "padded rather than bit-packed" in doc
    assert man["probe"]["doc"].startswith("C simulation only")
    excludes = " ".join(man["latency"]["excludes"])
    assert "clear pass" in excludes and "delay lines' copies" in excludes and "AXI4-Lite" in excludes


def test_snnc_verify_hls_without_a_compiler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    """Without g++ (and no cached binary) `snnc verify --backend hls` was an internal error
    (FileNotFoundError, exit 70); the Verilog path says what is missing."""
    import snnc.backends.hls.csim as csim

    pytest.importorskip("sklearn")
    monkeypatch.setattr(csim, "CXX", str(tmp_path / "no-such-g++"))
    monkeypatch.setenv("SNNC_HLS_CACHE", str(tmp_path / "cache"))
    model = ROOT / "examples" / "digits.snn"
    m = snnc.load(model)
    w = tmp_path / "w.npz"
    save_weights(w, m.graph, m.random_weights(seed=3))
    assert main(["verify", str(model), "--weights", str(w), "--backend", "hls",
                 "--samples", "2"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-2:] == [
        f"error: cannot co-simulate the HLS C++: cannot run the C++ compiler "
        f"'{tmp_path / 'no-such-g++'}' ($CXX, default g++): No such file or directory",
        "      = hint: a C++17 compiler is needed: install g++ (e.g. apt-get install g++) or name "
        "one in $CXX"]


UFIXED32_INPUT = """\
model r2
time { dt = 1 ms; steps = 4 }
input x[3] = direct(scale = 40000.0)
layer o = dense(x, 2) with LIF(tau_mem = 5 ms, threshold = 1.0)
output o = count
hardware { weights = fixed<8,6>; membrane = fixed<16,8>; inputs = ufixed<32,16> }
"""

UFIXED32_ASN_OUT = """\
model asn32
time { dt = 1 ms; steps = 8 }
input x[4] = rate(gain = 1.0)
layer o = dense(x, 3, bias = true) with ASN(tau_beta = 50 ms, threshold = 9000000, m_f = 0.5)
output o = count
hardware { weights = fixed<32,4>; membrane = ufixed<32,8>; adaptation = ufixed<32,8> }
"""


@needs_gxx
@pytest.mark.parametrize("text, weights, x", [
    (UFIXED32_INPUT, None, np.array([[1.0, 0.5, 0.2], [0.9, 0.1, 0.0]])),
    (UFIXED32_ASN_OUT, {"o": {"weight": np.full((3, 4), 2.0e7), "bias": np.full(3, 1.0e7)}},
     np.ones((2, 4))),
])
def test_32_bit_unsigned_payloads_cross_the_testbench(tmp_path, text, weights, x):
    """The testbench's int32 event records refused a ufixed<32,16> input payload of 2621440000
    (an internal error) and read an ap_uint<32> ASN height of 2304000000 back as negative; a
    32-bit unsigned field's record is now its bit pattern, and the C simulation matches."""
    m = snnc.loads(text, "m.snn")
    q = m.quantize(weights if weights is not None else m.random_weights(0))
    ref = simulate_golden(q, x, record=True)
    big = max(int(np.max(ref.payloads["o"])) if "o" in (ref.payloads or {}) else 0,
              int(np.max(input_payloads(q, x)) if weights is None else 0))
    assert big >= 1 << 31                       # the case: a payload beyond int32
    run, comp = verify_hls(q, x, np.arange(len(x)), 0, work_dir=tmp_path)
    assert comp.match, comp.first


@needs_gxx
def test_the_most_negative_constant_is_written_without_a_warning(tmp_path):
    """-2^63 as a constant was written `snn::i64(-9223372036854775808)`, whose literal has no
    signed type: g++ warned; the results were right."""
    m = _load(tmp_path, """model minc
time { dt = 1 ms; steps = 6 }
neuron Low { state v = 0
    update { v = max(v + input, -9223372036854775808) }
    spike when v > 2 on spike { v = 0 } }
input x[4] = rate(gain = 0.8)
layer h = dense(x, 3) with Low
output h = count
hardware { weights = fixed<8,0>; membrane = fixed<16,0> }
""")
    q = m.quantize(_weights(m.graph, seed=2, gain=4.0))
    generate_hls(q, tmp_path / "prj")
    code = "".join(p.read_text() for p in (tmp_path / "prj").iterdir() if p.suffix in (".h", ".cpp"))
    assert "snn::i64(-9223372036854775807LL - 1)" in code and "9223372036854775808" not in code
    assert compile_warnings(tmp_path / "prj") == ""
    _check(q, _batch(m.graph, 5, seed=1))


def test_verify_hls_reports_what_it_cannot_build_before_loading_data(tmp_path, capsys):
    """A conv model verified on digits (8x8 images flat, [64]) was told the data's shape did not
    fit (the Verilog backend's errors came first, the HLS backend's after the data)."""
    m = snnc.load(ROOT / "examples" / "conv.snn")
    w = tmp_path / "w.npz"
    save_weights(w, m.graph, random_weights(m.graph, seed=0))
    assert main(["verify", str(ROOT / "examples" / "conv.snn"), "--weights", str(w),
                 "--backend", "hls", "--dataset", "digits", "--samples", "2"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0].endswith(":13:1: error: input 'image' of shape [1, 8, 8] (only "
                                        "1-D inputs) is not supported by the HLS backend"), err
    assert "conv2d layer 'conv1' is not supported by the HLS backend" in err


def test_latency_estimate_of_a_delayed_recurrent_layer(tmp_path):
    # the two terms the estimate has for such a layer: its source's events arrive `delay` steps
    # late (none before), and its own spikes of the previous step are read back (recurrent)
    g = snnc.loads("""model r
time { dt = 1 ms; steps = 6 }
input x[4] = rate
layer h = recurrent(x, 8, delay = 2) with LIF(tau_mem = 5 ms)
layer o = dense(h, 2) with LIF(tau_mem = 5 ms)
output o = count
hardware { lanes = 4 }
""")
    man = generate_hls(g.quantize(g.random_weights(seed=0)), tmp_path)
    assert man["latency"]["words"] == {"h": 2, "o": 1}
    d = man["latency"]["depths"]
    acc, rec_acc, sweep = d["h"]["acc"], d["h"]["recurrent_acc"], d["h"]["sweep"]
    o_acc, o_sweep = d["o"]["acc"], d["o"]["sweep"]
    payloads = np.zeros((1, 6, 4), dtype=np.int64)
    payloads[0, :, 1] = 1                       # one input event per step
    payloads[0, 0, 2] = 1                       # and a second one at step 0

    class Events:
        spikes = {"h": np.zeros((6, 1, 8), np.uint8), "o": np.zeros((6, 1, 2), np.uint8)}
    Events.spikes["h"][3, 0, [0, 5]] = 1        # h spikes twice at step 3
    Events.spikes["o"][4, 0, 1] = 1             # o once at step 4
    e_in = [2, 1, 1, 1, 1, 1]
    e_h = [0, 0, 2, 1, 1, 1]                    # the input's events, 2 steps late
    r_h = [0, 0, 0, 0, 2, 0]                    # h's own spikes of the step before
    e_o = [0, 0, 0, 2, 0, 0]                    # h's spikes reach o in the same step
    expected = sum((e_in[t] + 1)
                   + e_h[t] * (2 + acc) + r_h[t] * (2 + rec_acc) + 2 + sweep
                   + e_o[t] * (1 + o_acc) + 1 + o_sweep
                   for t in range(6)) + 1 + 6   # o's one output event, one token per step
    np.testing.assert_array_equal(estimate_cycles(man, payloads, Events()), [expected])


CONSTANT_SPIKE = """model m
time { dt = 1 ms; steps = 5 }
neuron N {
  state v = 0
  update { v = UPDATE }
  spike when SPIKE
  on spike { v = 0 }
}
input x[3] = direct(scale = 1.0)
layer l = dense(x, 4) with N
layer o = dense(l, 2) with LIF(tau_mem = 5 ms)
output o = count
"""


@needs_gxx
@pytest.mark.parametrize("update, spike, spikes", [
    ("v + input", "not (1 > 2)", 4 * 5 * 4),       # a condition folded to true: every step
    ("v + input", "1 > 2", 0),                     # ... to false: never
    ("v + input + clip(3, 0, 2)", "v > 3", None),  # a function of constants folded
])
def test_user_neurons_with_constant_parts(tmp_path, update, spike, spikes):
    g = snnc.loads(CONSTANT_SPIKE.replace("UPDATE", update).replace("SPIKE", spike))
    q = g.quantize(g.random_weights(seed=0))
    x = np.random.default_rng(0).random((4, 3))
    golden = simulate_golden(q, x)
    if spikes is not None:
        assert golden.stats["l"].spikes == spikes
    _, comparison = verify_hls(q, x, work_dir=tmp_path)
    assert comparison.compared > 0 and comparison.mismatches == 0
