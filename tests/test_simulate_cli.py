"""`snnc simulate`: both backends on examples/digits.snn, JSON, plots, and clean errors (exit 2)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from snnc.build import load
from snnc.cli import main
from snnc.weights import random_weights, save_weights

from snn_models import ROOT

DIGITS = str(ROOT / "examples" / "digits.snn")


def run(capsys, *argv):
    code = main(["simulate", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def graph():
    return load(DIGITS).graph


@pytest.mark.parametrize("backend", ["float", "golden"])
def test_text_report(capsys, backend):
    code, out, err = run(capsys, DIGITS, "--backend", backend, "--samples", 20)
    assert code == 0, err
    assert "note: no --weights given: simulating with random weights (seed 0" in err
    assert out.startswith("model 'digits' (") and f"backend {backend}" in out.splitlines()[0]
    assert "20 samples of the test split of 'digits'" in out
    assert "predictions:" in out and "labels:" in out
    assert "accuracy: " in out
    table = out[out.index("statistics"):].splitlines()
    assert table[1].split()[:4] == ["layer", "kind", "neurons", "spikes/sample"]
    assert [line.split()[0] for line in table[2:]] == ["pixels", "hidden", "out", "total"]
    hidden = table[3].split()
    assert hidden[1:3] == ["dense", "128"] and hidden[-1] == "8192"   # ANN MACs 128 * 64
    if backend == "golden":
        assert "quantization: weights fixed<8,6>, membrane fixed<16,8>" in out
        assert "  hidden     8192        0" in out
    else:
        assert "quantization" not in out


@pytest.mark.parametrize("backend", ["float", "golden"])
def test_json(capsys, graph, backend):
    code, out, err = run(capsys, DIGITS, "--backend", backend, "--samples", 30, "--seed", 3,
                         "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {"model", "backend", "steps", "seed", "weights", "data", "samples", "predictions",
            "labels", "correct", "accuracy", "outputs", "stats", "totals", "quantization",
            "warnings", "notes", "plot"} <= set(data)
    assert data["model"] == "digits" and data["backend"] == backend and data["seed"] == 3
    assert data["weights"] == {"file": None, "random": True, "seed": 3, "scale": 3.0}
    assert data["data"] == {"source": "dataset", "name": "digits", "split": "test"}
    assert data["samples"] == 30 and len(data["predictions"]) == 30 and len(data["labels"]) == 30
    assert data["correct"] == sum(p == y for p, y in zip(data["predictions"], data["labels"]))
    assert data["accuracy"] == pytest.approx(data["correct"] / 30)
    assert set(data["stats"]) == {"pixels", "hidden", "out"}
    for name, s in data["stats"].items():
        assert {"kind", "neurons", "spikes", "sops", "saturation", "saturation_by_state",
                "macs", "rate"} <= set(s)
    assert data["stats"]["out"]["macs"] == 1280 and data["totals"]["macs"] == 8192 + 1280
    assert data["totals"]["spikes"] == data["stats"]["hidden"]["spikes"] + data["stats"]["out"]["spikes"]
    assert data["stats"]["hidden"]["spikes"] > 0 and data["stats"]["out"]["spikes"] > 0
    assert data["outputs"]["out"]["readout"] == "count"
    assert np.array(data["outputs"]["out"]["values"]).shape == (30, 10)
    if backend == "golden":
        q = data["quantization"]
        assert q["formats"]["weights"] == "fixed<8,6>"
        assert [(l["name"], l["weights"], l["clipped"]) for l in q["layers"]] == [
            ("hidden", 8192, 0), ("out", 1280, 0)]
        assert all(0 < l["max_error"] <= 2 ** -7 for l in q["layers"])
    else:
        assert data["quantization"] is None
    # the same as calling the simulator directly
    from snnc.backends.golden.float_sim import simulate_float
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.datasets import load_dataset
    from snnc.quantize import quantize

    ds = load_dataset("digits", graph)
    w = random_weights(graph, seed=3)
    if backend == "float":
        r = simulate_float(graph, w, ds.x_test[:30], seed=3)
    else:
        r = simulate_golden(quantize(graph, w), ds.x_test[:30], seed=3)
    assert data["predictions"] == r.predictions.tolist()
    assert data["stats"]["hidden"]["sops"] == r.stats["hidden"].sops


def test_weights_file_and_chunking(capsys, graph, tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    save_weights(path, graph, random_weights(graph, seed=0), notes="random init")
    code, out, err = run(capsys, DIGITS, "--weights", path, "--samples", 40, "--json")
    assert code == 0 and "note:" not in err
    with_file = json.loads(out)
    assert with_file["weights"]["file"] == str(path) and with_file["weights"]["notes"] == "random init"
    import snnc.simulate_cmd as sc

    monkeypatch.setattr(sc, "CHUNK", 16)                       # 40 samples in 3 chunks
    code, out, _ = run(capsys, DIGITS, "--samples", 40, "--json")
    chunked = json.loads(out)
    assert chunked["predictions"] == with_file["predictions"]
    assert chunked["stats"] == with_file["stats"]


def test_plot_writes_a_png(capsys, tmp_path):
    png = tmp_path / "raster.png"
    code, out, err = run(capsys, DIGITS, "--backend", "golden", "--samples", 5, "--plot", png)
    assert code == 0, err
    assert f"wrote {png}" in out
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


@pytest.mark.parametrize("backend", ["golden", "float"])
def test_plot_of_a_direct_input_model(capsys, tmp_path, backend):
    # a direct input is drawn as an image of its values (in input units), not as a raster
    png = tmp_path / "asn.png"
    code, out, err = run(capsys, str(ROOT / "examples" / "asn_digits.snn"), "--backend", backend,
                         "--samples", 2, "--plot", png)
    assert code == 0, err
    assert f"wrote {png}" in out
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_input_npy(capsys, tmp_path, graph):
    x = np.random.default_rng(0).random((7, 64))
    np.save(tmp_path / "x.npy", x)
    code, out, err = run(capsys, DIGITS, "--input", tmp_path / "x.npy", "--samples", 5, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["samples"] == 5 and data["labels"] is None and data["accuracy"] is None
    np.save(tmp_path / "one.npy", x[0])                         # one sample, no batch dimension
    code, out, _ = run(capsys, DIGITS, "--input", tmp_path / "one.npy", "--json")
    assert code == 0 and json.loads(out)["predictions"] == data["predictions"][:1]
    code, out, _ = run(capsys, DIGITS, "--input", tmp_path / "one.npy")
    assert "accuracy" not in out and out.count("predictions:") == 1


def test_as_many_static_samples_as_steps_are_said_to_be_a_batch(capsys, tmp_path):
    """One sequence of a `delta` model saved without its batch axis ([8, 1] for an 8-step model
    of input [1]) was read as 8 static samples without a word; it still is (the first axis is
    the batch), with a note saying how to save one sequence."""
    model = tmp_path / "d.snn"
    model.write_text("model d\ntime { dt = 1 ms; steps = 8 }\ninput x[1] = delta(threshold = 0.1)\n"
                     "layer o = dense(x, 2) with LIF(tau_mem = 10 ms)\noutput o = count\n")
    seq = np.linspace(0.0, 1.0, 8)
    note = ("note: input file '{}' of shape {} is read as 8 samples of [1] (the first axis is the "
            "batch), not as one sequence of 8 steps; save one sequence as [1, 8, 1]")
    for name, x, shape in (("a.npy", seq[:, None], "[8, 1]"), ("b.npy", seq, "[8]")):
        np.save(tmp_path / name, x)
        code, out, err = run(capsys, model, "--input", tmp_path / name)
        assert code == 0, err
        assert note.format(tmp_path / name, shape) in err.splitlines()
        assert "8 samples of" in out
        code, out, _ = run(capsys, model, "--input", tmp_path / name, "--json")
        assert json.loads(out)["notes"][0] == note.format(tmp_path / name, shape)[len("note: "):]
    for name, x in (("c.npy", seq[None, :, None]), ("d.npy", seq[:7, None])):
        np.save(tmp_path / name, x)                 # one sequence; 7 samples: no note
        code, out, err = run(capsys, model, "--input", tmp_path / name)
        assert code == 0 and "first axis is the batch" not in err, err
    assert "1 sample of" in run(capsys, model, "--input", tmp_path / "c.npy")[1]


# ------------------------------------------------------------------ errors: exit 2, located


def test_bad_weights_shape_is_located(capsys, graph, tmp_path):
    w = random_weights(graph)
    arrays = {f"{l}/{t}": a for l, ts in w.items() for t, a in ts.items()}
    arrays["out/weight"] = np.zeros((10, 100), np.float32)
    meta = {"format": "snnc-weights", "version": 1, "model": "digits", "graph_hash": "x",
            "created_by": "test"}
    path = tmp_path / "w.npz"
    with open(path, "wb") as f:
        np.savez(f, **arrays, __meta__=np.array(json.dumps(meta)))
    code, out, err = run(capsys, DIGITS, "--weights", path)
    assert code == 2 and out == ""
    line = next(i for i, l in enumerate(open(DIGITS).read().splitlines(), 1)
                if l.startswith("layer out"))
    assert err.startswith(f"{DIGITS}:{line}:1: error: weights file '{path}': tensor 'out/weight' "
                          "has shape [10, 100], but layer 'out' needs [10, 128]")
    assert "layer out = dense(hidden, 10)" in err


def test_bad_weights_file_in_a_subprocess(tmp_path):
    bad = tmp_path / "w.npz"
    bad.write_text("not weights")
    env = dict(os.environ)
    env.pop("SNNC_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "snnc", "simulate", DIGITS, "--weights", str(bad),
                           "--samples", "2"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[0] == f"error: weights file '{bad}' is not an .npz archive"
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_other_errors_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, DIGITS, "--weights", tmp_path / "missing.npz")
    assert code == 2 and f"error: weights file '{tmp_path / 'missing.npz'}' does not exist" in err
    np.save(tmp_path / "x.npy", np.zeros((2, 10)))
    code, _, err = run(capsys, DIGITS, "--input", tmp_path / "x.npy")
    assert code == 2 and "samples of shape [10] do not fit input 'pixels'" in err
    assert err.startswith(f"{DIGITS}:")            # located at the input declaration
    code, _, err = run(capsys, DIGITS, "--dataset", "digitz")
    assert code == 2 and "unknown data set 'digitz'" in err and "did you mean 'digits'?" in err
    code, _, err = run(capsys, DIGITS, "--input", tmp_path / "nope.npy")
    assert code == 2 and "does not exist" in err
    code, _, err = run(capsys, DIGITS, "--samples", 2, "--plot", tmp_path / "no" / "dir" / "r.png")
    assert code == 2 and "cannot write plot" in err
    for name in ("r.jpg", ""):                    # PNG bytes in r.jpg; "" was ignored
        code, _, err = run(capsys, DIGITS, "--samples", 2, "--plot", name)
        assert code == 2 and f"error: --plot '{name}': the plot is a PNG image; name it FILE.png" \
            in err, err
    (tmp_path / "d.npz").mkdir()
    code, _, err = run(capsys, DIGITS, "--input", tmp_path / "d.npz")
    assert code == 2 and f"input file '{tmp_path / 'd.npz'}' is a directory" in err, err
    model = tmp_path / "m.snn"
    model.write_text(open(DIGITS).read().replace("dataset = digits", ""))
    code, _, err = run(capsys, model)
    assert code == 2 and "no data to simulate: give --input FILE.npy or --dataset NAME" in err


def test_changed_model_warns(capsys, graph, tmp_path):
    path = tmp_path / "w.npz"
    save_weights(path, graph, random_weights(graph))
    model = tmp_path / "digits.snn"
    model.write_text(open(DIGITS).read().replace("threshold = 1.0)", "threshold = 0.9)"))
    code, out, err = run(capsys, model, "--weights", path, "--samples", 2)
    assert code == 0
    assert "warning: weights file" in err and "different version of model 'digits'" in err


OVERFLOWING = f"""model izh
use "{ROOT / 'examples' / 'neurons' / 'library.snn'}"
time {{ dt = 1 ms; steps = 26 }}
input x[1] = direct(scale = 1.0)
layer h = dense(x, 2) with Izhikevich()
output h = membrane
"""


def test_a_float_state_that_overflows_is_a_warning_and_null_in_json(capsys, tmp_path):
    """An Izhikevich neuron driven by a large negative input runs to -inf, then NaN: the float
    simulator says so (it had only printed numpy's RuntimeWarnings), writes the NaN readout as
    null (JSON has no NaN), and torch in float64 spikes as the simulator does (its `a >= b` was
    true for a NaN operand)."""
    import snnc
    import torch

    model = tmp_path / "izh.snn"
    model.write_text(OVERFLOWING)
    w = {"h": {"weight": np.array([[1.0], [0.0]])}}
    save_weights(tmp_path / "w.npz", load(model).graph, w)
    np.save(tmp_path / "x.npy", np.full((1, 1), -1000.0))
    args = ["simulate", str(model), "--backend", "float", "--weights", str(tmp_path / "w.npz"),
            "--input", str(tmp_path / "x.npy"), "--json"]
    assert main(args) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    values = out["outputs"]["h"]["values"][0]
    assert values[0] is None and isinstance(values[1], float)     # neuron 1 has no input
    assert [wn["message"] for wn in out["warnings"]] == [
        "the float state of layer 'h' became inf or NaN in 1 of 2 (neuron, sample) pairs (2 "
        "neuron(s), 1 sample(s)): its "
        "spikes and readout after that are not meaningful"]
    assert "RuntimeWarning" not in captured.err
    np.save(tmp_path / "x3.npy", np.full((3, 1), -1000.0))       # each sample counts
    assert main(args[:-3] + ["--input", str(tmp_path / "x3.npy"), "--json"]) == 0
    assert [wn["message"] for wn in json.loads(capsys.readouterr().out)["warnings"]] == [
        "the float state of layer 'h' became inf or NaN in 3 of 6 (neuron, sample) pairs (2 "
        "neuron(s), 3 sample(s)): its spikes and readout after that are not meaningful"]
    m = snnc.load(model)
    r = m.simulate(np.full((1, 1), -1000.0), weights=w, backend="float", record=True)
    assert r.stats["h"].nonfinite == 1
    net = m.to_torch(w).double()
    with torch.no_grad():
        o = net(net.encode(np.full((1, 1), -1000.0)))
    np.testing.assert_array_equal(o.spikes["h"].numpy(), r.spikes["h"])


def test_a_float_state_that_overflows_in_a_stream_is_a_warning(capsys, tmp_path):
    model = tmp_path / "izh.snn"
    model.write_text(OVERFLOWING)
    save_weights(tmp_path / "w.npz", load(model).graph, {"h": {"weight": np.array([[1.0], [0.0]])}})
    np.save(tmp_path / "x.npy", np.full((3, 1), -1000.0))
    assert main(["simulate", str(model), "--backend", "float", "--weights",
                 str(tmp_path / "w.npz"), "--input", str(tmp_path / "x.npy"), "--stream", "10",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [wn["message"] for wn in out["warnings"]] == [
        "the float state of layer 'h' became inf or NaN in 1 of its 2 neuron(s) over a stream: its "
        "spikes and readout after that are not meaningful"]


def test_more_samples_than_the_test_split_is_noted(capsys):
    # as snnc report --efficiency says it (simulate and verify cut the count silently)
    code, _, err = run(capsys, DIGITS, "--samples", 5000)
    assert code == 0
    assert ("note: --samples 5000: the test split of 'digits' has only 397 samples; all of them "
            "are used") in err
    # --json's notes hold every note printed (they held only the random-weights one)
    code, out, err = run(capsys, DIGITS, "--samples", 5000, "--json")
    printed = [line[len("note: "):] for line in err.splitlines() if line.startswith("note: ")]
    assert code == 0 and len(printed) == 2
    assert json.loads(out)["notes"] == printed


def test_a_layer_named_total_is_not_the_totals_row(capsys, tmp_path):
    model = tmp_path / "tot.snn"
    model.write_text("model m\ntime { dt = 1 ms; steps = 10 }\ninput x[64] = rate\n"
                     "layer total = dense(x, 10) with IF\noutput total = count\n"
                     "train { dataset = digits }\n")
    code, out, _ = run(capsys, model, "--samples", 3)
    assert code == 0
    rows = [l.split()[0] for l in out.splitlines() if l.startswith(("total", "(total)"))]
    assert rows == ["total", "(total)"], out


def test_an_empty_test_split_is_an_error_without_a_note_first(capsys, tmp_path):
    # "note: --samples 5: the test split ... has only 0 samples; all of them are used", then the
    # error that it holds none
    data = tmp_path / "d.npz"
    np.savez(data, x_train=np.ones((4, 64)), y_train=np.arange(4), x_test=np.zeros((0, 64)),
             y_test=np.zeros(0, dtype=np.int64))
    code, out, err = run(capsys, DIGITS, "--dataset", f"npz:{data}", "--samples", 5)
    assert code == 2 and out == ""
    assert err.splitlines() == [f"error: the test split of 'npz:{data}' holds no samples"]


def test_a_named_pipe_as_the_train_blocks_data_set_is_refused(capsys, tmp_path):
    # np.load waited on the named pipe for a writer for ever (the alarm ends the wait)
    from hostile_files import no_hang

    fifo = tmp_path / "d.npz"
    os.mkfifo(fifo)
    model = tmp_path / "m.snn"
    model.write_text(open(DIGITS).read().replace("dataset = digits", f'dataset = "npz:{fifo}"'))
    with no_hang():
        code, _, err = run(capsys, model, "--samples", 2)
    assert code == 2
    # located at the train block's value (the loader's error; simulate's own check said it
    # without a location)
    line = next(i for i, l in enumerate(model.read_text().splitlines(), 1) if "npz:" in l)
    lines = err.splitlines()
    assert lines[0] == (f"{model}:{line}:15: error: data set file '{fifo}' is a named pipe "
                        "(FIFO), not a regular file")
    assert lines[2].strip().startswith("|") and lines[2].count("^") == len(f'"npz:{fifo}"')
