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
from snnc.backends.hls.csim import (compile_warnings, estimate_cycles, event_records,
                                    input_payloads, load_manifest, run_project)
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
    """C-simulate, compare, and assert every layer equal to the golden model, value for value."""
    batch = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
    ids = np.arange(batch) + 100 if sample_ids is None else sample_ids
    run, cmp = verify_hls(q, x, ids, seed)
    golden = simulate_golden(q, x, seed=seed, sample_ids=ids, record=True)
    steps = q.graph.time.steps
    for layer in q.graph.layers:
        exp = np.asarray(golden.spikes[layer.name]).reshape(steps, batch, -1)
        np.testing.assert_array_equal(run.spikes[layer.name], exp)
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
layer s = recurrent(r, 4) with CubaLIF(tau_mem = 10 ms, tau_syn = 4 ms, threshold = 0.2)
output s = count
hardware { lanes = 2 }
""", "r.snn")
    q2 = m2.quantize(_weights(m2.graph, seed=2, gain=2.0))
    run, golden = _check(q2, _batch(m2.graph, 9, seed=3))
    assert golden.stats["r"].spikes > 0 and golden.stats["s"].spikes > 0


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
    assert man["event"]["in"] == {"address_bits": 6, "payload_bits": 1, "payload_signed": False}
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
