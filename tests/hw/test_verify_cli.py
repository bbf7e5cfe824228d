"""``snnc verify``: the Verilog accelerator co-simulated on Verilator against the golden model.

* the digits model trained with QAT (once per session) on 200 test images, 16 lanes: bit-exact
  (spikes of both layers at every step, final states, saturation counters), the hardware's
  accuracy equal to the golden model's, every JSON figure equal to one computed here from the
  golden model, and the measured cycles within 1.10x of the bound
  ``sum over steps and layers of (events * ceil(fan-out / P) + ceil(N / P))`` (and within the
  manifest's bound, which adds ``S_L + STEP_OVERHEAD`` per layer and step);
* text output with random weights;
* a mutation: one corrupted weight in the memory file (the test hook of ``verify_verilog``) gives
  exit 1 and exactly the first mismatch the golden model predicts for the corrupted weight;
* user errors: located messages, exit 2.

All runs share one Verilator build (digits at 16 lanes, FIFO depth 16).
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tbutil import need_verilator

ROOT = Path(__file__).resolve().parents[2]
DIGITS = str(ROOT / "examples" / "digits.snn")
LANES = 16


@pytest.fixture(scope="session")
def trained_digits(tmp_path_factory):
    """Weights of examples/digits.snn trained briefly with QAT (10 epochs, the last one QAT)."""
    pytest.importorskip("torch")
    import snnc
    from snnc.backends.torch.train import config_for, train
    from snnc.datasets import load_dataset
    from snnc.weights import save_weights

    graph = snnc.load(DIGITS).graph
    cfg = config_for(graph, epochs=10, qat=True, seed=0)
    result = train(graph, load_dataset("digits", graph), cfg)
    path = tmp_path_factory.mktemp("digits") / "weights.npz"
    save_weights(path, graph, result.weights, notes="tests/hw/test_verify_cli.py")
    return str(path)


def _verify(argv, capsys) -> tuple[int, dict | str]:
    from snnc.cli import main

    rc = main(["verify", *argv])
    out = capsys.readouterr()
    if "--json" in argv and rc in (0, 1):
        return rc, json.loads(out.out)
    return rc, out.out + out.err


def _golden(weights_path: str, samples: int, seed: int = 0):
    import snnc
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.datasets import load_dataset
    from snnc.quantize import quantize
    from snnc.weights import load_weights

    graph = snnc.load(DIGITS).graph
    q = quantize(graph, load_weights(weights_path, graph))
    ds = load_dataset("digits", graph)
    x, y = ds.x_test[:samples], ds.y_test[:samples]
    return q, x, y, simulate_golden(q, x, seed=seed, sample_ids=np.arange(samples), record=True)


def test_verify_hls_trained_digits_200_images(trained_digits, capsys):
    """The HLS C++ of the trained digits model (C simulation with g++): bit-exact on 200 test
    images (the output layer's membrane compared every step too), the same accuracy and
    predictions as the golden model, count ties decided by the C simulation's own membrane."""
    import shutil

    if shutil.which("g++") is None:
        pytest.skip("g++ not installed")
    n = 200
    rc, s = _verify([DIGITS, "--weights", trained_digits, "--samples", str(n), "--backend", "hls",
                     "--json"], capsys)
    assert rc == 0, s
    q, x, y, g = _golden(trained_digits, n)
    assert s["match"] is True and s["mismatches"] == 0 and s["backend"] == "hls"
    golden_acc = float((g.predictions == y).mean())
    assert golden_acc >= 0.8, golden_acc
    assert s["golden_accuracy"] == golden_acc and s["hardware_accuracy"] == golden_acc
    assert s["prediction_agreement"] == 1.0
    assert s["spikes_per_sample"] == g.totals.spikes / n
    assert s["sops_per_sample"] == g.totals.sops / n
    count = next(iter(g.outputs.values())).count
    ties = int(((count == count.max(axis=1, keepdims=True)).sum(axis=1) > 1).sum())
    assert ties > 0, "no count tie among the samples: the membrane tie-break is not exercised"
    assert "membrane_decided_samples" not in s
    # the C simulation's clamp counters are reported (they were compared, never shown)
    assert s["saturation"] == {name: {k: v for k, v in st.saturation.items() if v}
                               for name, st in g.stats.items() if name in ("hidden", "out")}


def test_verify_trained_digits_200_images(trained_digits, capsys):
    need_verilator()
    n = 200
    rc, s = _verify([DIGITS, "--weights", trained_digits, "--samples", str(n), "--lanes",
                     str(LANES), "--json"], capsys)
    assert rc == 0, s
    q, x, y, g = _golden(trained_digits, n)
    assert s["match"] is True and s["mismatches"] == 0 and s["first_mismatch"] is None
    assert s["samples"] == n and s["steps"] == 25 and s["lanes"] == LANES
    # compared: spikes of both layers per step, every golden final state, 3 counters per layer
    states = sum(len(g.final_state[name]) * n * units for name, units in (("hidden", 128),
                                                                          ("out", 10)))
    assert s["compared"] == 25 * n * (128 + 10) + states + 2 * 3
    golden_acc = float((g.predictions == y).mean())
    assert s["golden_accuracy"] == golden_acc
    assert golden_acc >= 0.8, golden_acc             # the model did learn
    assert s["hardware_accuracy"] == golden_acc
    assert s["prediction_agreement"] == 1.0
    assert s["spikes_per_sample"] == g.totals.spikes / n
    assert s["sops_per_sample"] == g.totals.sops / n
    assert s["counts_from"] == "hardware"
    # the cycle model: manifest bound and the bound, evaluated here from the golden run
    words = {"hidden": math.ceil(128 / LANES), "out": math.ceil(10 / LANES)}
    ev = {name: np.asarray(g.spikes[name]).reshape(25, n, -1).sum(axis=2)
          for name in ("pixels", "hidden", "out")}
    ideal = ((ev["pixels"] * words["hidden"] + words["hidden"])
             + (ev["hidden"] * words["out"] + words["out"])).sum(axis=0)
    manifest = ideal + (ev["hidden"] + ev["out"] + 2 * 4).sum(axis=0)   # + S_L + STEP_OVERHEAD
    assert s["ideal_bound"]["mean"] == float(ideal.mean())
    assert s["cycle_bound"]["mean"] == float(manifest.mean())
    assert s["cycle_bound"]["max"] == int(manifest.max())
    cycles_total = s["cycles"]["total"]
    assert cycles_total == round(s["cycles"]["mean"] * n)
    assert cycles_total <= 1.10 * ideal.sum(), (cycles_total, ideal.sum())
    assert s["cycles_over_ideal"] <= 1.10
    assert s["cycles"]["max"] <= int(manifest.max())
    assert s["max_sample_cycles_over_bound"] <= 1.0
    assert s["sops_per_cycle"] == g.totals.sops / cycles_total
    assert s["latency_us"]["mean"] == s["cycles"]["mean"] / 50e6 * 1e6


def test_verify_text_output_random_weights(tmp_path, capsys):
    need_verilator()
    import snnc
    from snnc.weights import random_weights, save_weights

    graph = snnc.load(DIGITS).graph
    w = tmp_path / "random.npz"
    save_weights(w, graph, random_weights(graph, seed=3))
    rc, text = _verify([DIGITS, "--weights", str(w), "--samples", "3", "--lanes", str(LANES)],
                       capsys)
    assert rc == 0, text
    _, _, y, g = _golden(str(w), 3)
    acc = 100 * float((g.predictions == y).mean())
    lines = text.splitlines()
    assert lines[0].startswith("model 'digits'") and "3 test samples of 'digits'" in lines[0]
    assert lines[1].startswith("match: the verilog hardware equals the golden model bit for bit "
                               "on 3 samples x 25 steps")
    assert lines[2].startswith(f"accuracy: golden {acc:.2f}%, verilog {acc:.2f}%; predictions "
                               "agree on 100.00%")
    assert lines[3] == (f"per sample: {g.totals.spikes / 3:.1f} spikes, "
                        f"{g.totals.sops / 3:.0f} synaptic operations (hardware)")
    clamped = {n: c for n, c in ((n, {k: v for k, v in g.stats[n].saturation.items() if v})
                                 for n in ("hidden", "out")) if c}
    assert lines[4] == "saturation (the hardware's counters, all samples): " + (
        "; ".join(f"layer {n}: " + ", ".join(f"{k} {v}" for k, v in c.items())
                  for n, c in clamped.items()) if clamped else "none")
    assert lines[5].startswith("cycles per inference: mean ")
    assert "latency at 50 MHz" in lines[7]


def _corrupt_most_active(q, x, seed):
    """The corrupted weight: the sign bit of W_out[0, j] for the hidden neuron j that spikes most
    (as the Verilog bench's mutation); returns (mutated quantised model, j)."""
    from snnc.backends.golden.golden_sim import simulate_golden

    r = simulate_golden(q, x, seed=seed, sample_ids=np.arange(len(x)), record=True)
    j = int(np.argmax(r.spikes["hidden"].sum(axis=(0, 1))))
    w = np.array(q.weights["out"]["weight"], dtype=np.int64)
    bits = q.formats.weights.width
    raw = (int(w[0, j]) & ((1 << bits) - 1)) ^ (1 << (bits - 1))
    w[0, j] = raw - (1 << bits) if raw >> (bits - 1) else raw
    weights = dict(q.weights)
    weights["out"] = dict(weights["out"], weight=w)
    return dataclasses.replace(q, weights=weights), j


def test_verify_reports_first_mismatch_of_corrupted_weight(trained_digits, capsys, monkeypatch):
    """Mutation check: one corrupted weight in the memory file -> exit 1 and the first mismatch
    exactly where the golden model with that weight first differs."""
    need_verilator()
    import snnc.hw
    from snnc.backends.compare import BackendRun, compare
    from snnc.backends.verilog import cosim

    n = 6
    q, x, y, g = _golden(trained_digits, n)
    q_bad, j = _corrupt_most_active(q, x, 0)
    from snnc.backends.golden.golden_sim import simulate_golden

    g_bad = simulate_golden(q_bad, x, seed=0, sample_ids=np.arange(n), record=True)
    expected = compare(g, BackendRun("mutant", 25, n, {k: g_bad.spikes[k] for k in ("hidden", "out")},
                                     {k: dict(v) for k, v in g_bad.final_state.items()},
                                     {k: dict(s.saturation) for k, s in g_bad.stats.items()
                                      if k in ("hidden", "out")}),
                       ["hidden", "out"])
    assert not expected.match

    def corrupt(design, manifest):
        lay = manifest["layers"][-1]
        words = snnc.hw.weight_words(q_bad.weights["out"]["weight"], lay["lanes"],
                                     lay["parameters"]["W_W"])
        snnc.hw.write_memh(design / lay["weights"]["file"], words, lay["weights"]["word_bits"])

    original = cosim.verify_verilog
    monkeypatch.setattr(cosim, "verify_verilog",
                        lambda *a, **k: original(*a, **dict(k, mutate=corrupt)))
    rc, s = _verify([DIGITS, "--weights", trained_digits, "--samples", str(n), "--lanes",
                     str(LANES), "--json"], capsys)
    assert rc == 1
    assert s["match"] is False
    assert s["first_mismatch"] == expected.first.as_dict()
    assert s["first_mismatch"]["layer"] == "out"
    assert s["mismatches"] == expected.mismatches
    assert s["first_mismatch_text"] == expected.first.describe()
    rc, text = _verify([DIGITS, "--weights", trained_digits, "--samples", str(n), "--lanes",
                        str(LANES)], capsys)
    assert rc == 1
    assert f"MISMATCH: {expected.mismatches} of " in text
    assert expected.first.describe() in text


CONV = """model conv
time {
    dt = 1 ms
    steps = 4
}
input img[1, 6, 6] = rate(gain = 1.0)
layer c = conv2d(img, 2, kernel = 3) with LIF(tau_mem = 10 ms)
layer f = flatten(c)
layer out = dense(f, 3) with LIF(tau_mem = 10 ms)
output out = count
train { dataset = digits }
"""


def test_verify_user_errors(tmp_path, capsys):
    import snnc
    from snnc.weights import random_weights, save_weights

    graph = snnc.load(DIGITS).graph
    w = tmp_path / "w.npz"
    save_weights(w, graph, random_weights(graph, seed=0))
    # a missing weights file
    rc, text = _verify([DIGITS, "--weights", str(tmp_path / "none.npz")], capsys)
    assert rc == 2 and "none.npz" in text and "Traceback" not in text
    # waves must be an .fst file in an existing folder
    rc, text = _verify([DIGITS, "--weights", str(w), "--waves", str(tmp_path / "t.vcd")],
                       capsys)
    if "not installed" not in text:
        assert rc == 2 and "FST" in text, text
        rc, text = _verify([DIGITS, "--weights", str(w), "--waves",
                            str(tmp_path / "no" / "t.fst")], capsys)
        assert rc == 2 and "does not exist" in text, text
        (tmp_path / "d.fst").mkdir()            # wrote nothing and said "wrote d.fst"
        rc, text = _verify([DIGITS, "--weights", str(w), "--waves", str(tmp_path / "d.fst")],
                           capsys)
        assert rc == 2 and f"--waves {tmp_path / 'd.fst'}: it is a folder" in text, text
    # an unknown data set
    rc, text = _verify([DIGITS, "--weights", str(w), "--dataset", "nope"], capsys)
    assert rc == 2 and "nope" in text and "Traceback" not in text
    # a construct the Verilog backend cannot build: located at the layer
    model = tmp_path / "conv.snn"
    model.write_text(CONV)
    cgraph = snnc.load(str(model)).graph
    cw = tmp_path / "conv.npz"
    save_weights(cw, cgraph, random_weights(cgraph, seed=0))
    rc, text = _verify([str(model), "--weights", str(cw)], capsys)
    assert rc == 2 and "Traceback" not in text, text
    assert "conv.snn:7:" in text and "conv2d layer 'c' is not supported by the Verilog backend" \
        in text, text


def test_verify_hls_backend(tmp_path, capsys):
    """--backend hls goes to snnc.backends.hls.verify_hls (a clear error, exit 2, where it is not
    installed); Verilog-only options are refused with it."""
    import importlib

    import snnc
    from snnc.weights import random_weights, save_weights

    graph = snnc.load(DIGITS).graph
    w = tmp_path / "w.npz"
    save_weights(w, graph, random_weights(graph, seed=0))
    rc, text = _verify([DIGITS, "--weights", str(w), "--samples", "2", "--backend", "hls",
                        "--waves", str(tmp_path / "t.fst")], capsys)
    assert rc == 2 and "--waves needs --backend verilog" in text, text
    rc, text = _verify([DIGITS, "--weights", str(w), "--samples", "2", "--backend", "hls",
                        "--lanes", "4"], capsys)
    assert rc == 2 and "--lanes needs --backend verilog" in text, text
    try:
        importlib.import_module("snnc.backends.hls").verify_hls   # noqa: B018
    except (ImportError, AttributeError):
        rc, text = _verify([DIGITS, "--weights", str(w), "--samples", "2", "--backend", "hls"],
                           capsys)
        assert rc == 2 and "verify_hls" in text and "Traceback" not in text, text


def _uniform_data(tmp_path, inputs: int, classes: int):
    """A small npz data set (4 training, 2 test samples of ``inputs`` uniform values)."""
    rng = np.random.default_rng(0)
    data = tmp_path / "data.npz"
    np.savez(data, x_train=rng.uniform(size=(4, inputs)).astype(np.float32),
             y_train=np.arange(4) % classes,
             x_test=rng.uniform(size=(2, inputs)).astype(np.float32), y_test=np.arange(2))
    return data


def _model_files(tmp_path, text: str, name: str, seed: int, scale: float, inputs: int,
                 classes: int):
    """``text`` written as ``name``, random weights (``seed``, ``scale``) saved beside it and a
    small data set (:func:`_uniform_data`): their paths ``(model, weights, data)``."""
    import snnc
    from snnc.weights import random_weights, save_weights

    model = tmp_path / name
    model.write_text(text)
    graph = snnc.load(str(model)).graph
    w = tmp_path / "w.npz"
    save_weights(w, graph, random_weights(graph, seed=seed, scale=scale))
    return model, w, _uniform_data(tmp_path, inputs=inputs, classes=classes)


SMALL = """model small
time {
    dt = 1 ms
    steps = 6
}
input x[12] = rate(gain = 0.8)
layer reg = dense(x, 9) with LIF(tau_mem = 10 ms, threshold = 0.5)
layer out = dense(reg, 5) with LIF(tau_mem = 10 ms, threshold = 0.5, reset = zero)
output out = count
hardware { lanes = 2 }
"""


def test_verify_writes_waves(tmp_path, capsys):
    """--waves FILE.fst: a Verilator FST trace of the co-simulation (a traced build)."""
    need_verilator()
    model, w, data = _model_files(tmp_path, SMALL, "small.snn", 1, 3.0, inputs=12, classes=5)
    fst = tmp_path / "trace.fst"
    argv = [str(model), "--weights", str(w), "--dataset", f"npz:{data}", "--samples", "2",
            "--waves", str(fst), "--json"]
    from snnc.backends.verilog.sim import waves_problem

    problem = waves_problem()
    if problem:          # no lz4/zlib headers here: a clear error, not a failed build
        rc, text = _verify(argv, capsys)
        assert rc == 2 and "FST trace writer needs" in text and "Traceback" not in text, text
        return
    rc, s = _verify(argv, capsys)
    assert rc == 0, s
    assert s["match"] is True and s["waves"] == str(fst) and s["lanes"] == 2
    head = fst.read_bytes()[:1]
    assert fst.stat().st_size > 1000 and head == b"\x00"      # FST: a header block first


def test_cosim_work_dir_relative_to_the_current_folder(tmp_path, monkeypatch):
    """A relative work folder (as `snnc demo`'s default `--out demo_out` gives) works: the
    simulator runs in its own folder, so the co-simulation's files are named absolutely."""
    need_verilator()
    import snnc
    from snnc.backends.verilog.cosim import verify_verilog

    monkeypatch.chdir(tmp_path)
    m = snnc.load(DIGITS)
    q = m.quantize(m.random_weights(seed=2))
    x = np.random.default_rng(0).uniform(0, 1, size=(2, 64))
    run, comp = verify_verilog(q, x, np.arange(2), 0, lanes=4, work_dir="rel/cosim")
    assert comp.match and comp.mismatches == 0 and run.batch == 2
    assert (tmp_path / "rel" / "cosim" / "cosim.json").is_file()


CHATTY = """model chatty
time {
    dt = 1 ms
    steps = 30
}
input x[1] = direct(scale = 1.0)
layer rec = recurrent(x, 96, bias = true) with LIF(tau_mem = 2 ms, threshold = 0.25)
layer out = dense(rec, 4) with LIF(tau_mem = 10 ms, reset = none)
output out = membrane
hardware { lanes = 4 }
"""


def test_verify_a_network_whose_spikes_outnumber_its_inputs(tmp_path, capsys):
    """One input value per step drives a recurrent layer that spikes on most steps: the bench's
    hang limit follows the cycle bound of every layer's events (it counted the input events only
    and stopped this run as a hang at a fraction of its cycles)."""
    need_verilator()
    import snnc
    from snnc.weights import random_weights, save_weights

    model = tmp_path / "chatty.snn"
    model.write_text(CHATTY)
    graph = snnc.load(str(model)).graph
    weights = random_weights(graph, seed=3, scale=3.0)
    weights["rec"]["bias"] = np.full(96, 0.5, dtype=np.float32)
    w = tmp_path / "w.npz"
    save_weights(w, graph, weights)
    data = _uniform_data(tmp_path, inputs=1, classes=4)
    rc, s = _verify([str(model), "--weights", str(w), "--dataset", f"npz:{data}", "--samples",
                     "2", "--json"], capsys)
    assert rc == 0, s
    assert s["match"] is True
    spikes_per_input = s["spikes_per_sample"] / 30
    assert spikes_per_input > 20, s          # the regime the old limit could not follow


def test_a_model_without_a_hardware_block_is_timed_at_50_mhz(tmp_path, capsys):
    """verify converted cycles at 100 MHz where report --efficiency and the docs use the hardware
    block's default clock, 50 MHz."""
    import snnc
    from snnc.weights import random_weights, save_weights

    text = Path(DIGITS).read_text()
    start = text.index("hardware {")
    model = tmp_path / "nohw.snn"
    model.write_text(text[:start] + text[text.index("}", start) + 1:])
    graph = snnc.load(model).graph
    assert graph.hardware is None
    w = tmp_path / "w.npz"
    save_weights(w, graph, random_weights(graph, seed=0))
    rc, out = _verify([str(model), "--weights", str(w), "--samples", "2", "--backend", "hls",
                       "--json"], capsys)
    assert rc == 0, out
    assert out["clock_hz"] == 50e6


def test_verify_reports_the_inputs_clamped_before_the_hardware_and_its_notes(tmp_path, capsys):
    """A direct input's values clamped to the inputs format (before the hardware, whose counters
    cannot see them) were reported as "saturation: none"; the notes (clipped weights) were only
    on standard error, not in the JSON."""
    import snnc
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.datasets import load_dataset
    from snnc.quantize import quantize
    from snnc.weights import random_weights, save_weights

    text = (ROOT / "examples" / "asn_digits.snn").read_text()
    assert "direct(scale = 0.0488)" in text
    model = tmp_path / "loud.snn"
    model.write_text(text.replace("direct(scale = 0.0488)", "direct(scale = 1.0)"))
    graph = snnc.load(model).graph
    w = {layer: {t: 40 * a for t, a in tensors.items()}
         for layer, tensors in random_weights(graph, seed=0).items()}
    path = tmp_path / "w.npz"
    save_weights(path, graph, w)
    q = quantize(graph, snnc.load(model, weights=path).weights)
    x = load_dataset("digits", graph).x_test[:3]
    golden = simulate_golden(q, x, seed=0, sample_ids=np.arange(3))
    expected = {k: v for k, v in golden.stats["pixels"].saturation.items() if v}
    assert expected and sum(expected.values()) > 0
    rc, s = _verify([str(model), "--weights", str(path), "--samples", "3", "--backend", "hls",
                     "--json"], capsys)
    assert rc == 0, s
    assert s["input_saturation"] == {"pixels": expected}
    assert any("weights clipped" in n for n in s["notes"]), s["notes"]
    assert s["notes"] == q.all_notes()
    rc, text_out = _verify([str(model), "--weights", str(path), "--samples", "3", "--backend",
                            "hls"], capsys)
    assert rc == 0
    line = ("saturation of the inputs (clamped to the inputs format before the hardware, all "
            "samples): pixels: " + ", ".join(f"{k} {v}" for k, v in expected.items()))
    assert line in text_out, text_out


def test_verify_a_design_with_narrow_sweeps(tmp_path, capsys):
    """A model for the iCE40 HX8K whose later layers sweep through fewer units than their lanes
    (b: 2 of 4, c: 1 of 4): bit-exact through ``snnc verify`` (its bench reads the states back in
    words of the sweep units' lanes), within the manifest's cycle bound (its sweep words), and
    the summary says so."""
    need_verilator()
    from test_verilog_backend import NARROW

    model, w, data = _model_files(tmp_path, NARROW, "narrow.snn", 2, 2.0, inputs=24, classes=3)
    rc, s = _verify([str(model), "--weights", str(w), "--dataset", f"npz:{data}", "--samples",
                     "2", "--json"], capsys)
    assert rc == 0, s
    assert s["match"] is True and s["mismatches"] == 0
    assert s["lanes_by_layer"] == {"a": 4, "b": 4, "c": 4}
    assert s["sweep_units_by_layer"] == {"a": 4, "b": 2, "c": 1}
    assert s["spikes_per_sample"] > 0
    assert s["max_sample_cycles_over_bound"] <= 1.0, s
    rc, out = _verify([str(model), "--weights", str(w), "--dataset", f"npz:{data}", "--samples",
                       "2"], capsys)
    # the bound grants every layer only ceil(N/P) sweep cycles, narrow or not
    assert rc == 0 and "vs sum(events*ceil(fanout/P) + ceil(N/P)) = " in out, out
