"""`snnc train` end to end on examples/digits.snn, a few epochs (fast): the files it writes, --json,
determinism, --qat (whose golden accuracy is its QAT torch accuracy exactly), clean errors."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from snnc.build import load  # noqa: E402
from snnc.cli import main  # noqa: E402
from snnc.weights import load_weights  # noqa: E402

from snn_models import ROOT  # noqa: E402

DIGITS = str(ROOT / "examples" / "digits.snn")
EPOCHS = 2
LOG_FIELDS = {"epoch", "loss", "train_accuracy", "test_accuracy", "spike_rate", "qat", "seconds",
              "lr"}
SUMMARY_FIELDS = {"model", "dataset", "epochs", "seed", "qat", "train_samples", "test_samples",
                  "float_accuracy", "golden_accuracy", "qat_accuracy", "weights", "log",
                  "final_loss", "spike_rate", "notes"}


def train(capsys, out_dir, *extra):
    code = main(["train", DIGITS, "--epochs", str(EPOCHS), "--seed", "3", "--out", str(out_dir),
                 *map(str, extra)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err
    return code, out, err


@pytest.fixture(scope="module")
def graph():
    return load(DIGITS).graph


def _check_files(out_dir, graph, qat: bool) -> dict:
    weights = load_weights(out_dir / "weights.npz", graph)
    assert set(weights) == {"hidden", "out"}
    assert weights["hidden"]["weight"].shape == (128, 64)
    assert weights["out"]["weight"].shape == (10, 128)
    assert weights.warnings == []
    lines = (out_dir / "train_log.jsonl").read_text().splitlines()
    assert len(lines) == EPOCHS
    logs = [json.loads(line) for line in lines]
    for i, log in enumerate(logs, 1):
        assert set(log) == LOG_FIELDS
        assert log["epoch"] == i
        assert math.isfinite(log["loss"]) and log["loss"] > 0
        assert 0 <= log["train_accuracy"] <= 1 and 0 <= log["test_accuracy"] <= 1
        assert 0 < log["spike_rate"] < 1
        assert log["seconds"] > 0
    # with --qat the last 10% of the epochs (at least one) run the integer forward pass
    assert [log["qat"] for log in logs] == [False] * (EPOCHS - 1) + [qat]
    # the QAT epochs fine-tune at a tenth of the train block's learning rate (digits: 2e-3)
    assert [log["lr"] for log in logs] == pytest.approx([2e-3] * (EPOCHS - 1)
                                                        + [2e-4 if qat else 2e-3])
    summary = json.loads((out_dir / "summary.json").read_text())
    assert set(summary) == SUMMARY_FIELDS
    assert summary["model"] == "digits" and summary["dataset"] == "digits"
    assert summary["epochs"] == EPOCHS and summary["seed"] == 3 and summary["qat"] is qat
    assert (summary["train_samples"], summary["test_samples"]) == (1400, 397)
    assert summary["final_loss"] == logs[-1]["loss"]
    assert summary["spike_rate"] == logs[-1]["spike_rate"]
    assert summary["notes"] == []                   # digits: nothing to say
    for key in ("float_accuracy", "golden_accuracy"):
        assert 0 <= summary[key] <= 1
    # two epochs already learn something (chance is 10%; with --qat the second epoch runs at a
    # tenth of the learning rate)
    assert summary["golden_accuracy"] > 0.2
    return summary


def test_train_writes_weights_log_and_summary_and_is_deterministic(capsys, tmp_path, graph):
    code, out, err = train(capsys, tmp_path / "a")
    assert code == 0, err
    assert "digits: test accuracy float " in out and "golden (bit-exact fixed point)" in out
    assert "on 397 test samples" in out and "weights: " in out
    first = _check_files(tmp_path / "a", graph, qat=False)
    assert first["qat_accuracy"] is None
    assert f"float {100 * first['float_accuracy']:.2f}%" in out
    # not a terminal: one progress line per epoch on stderr
    assert [line.startswith(f"epoch {i}/{EPOCHS}:") for i, line in
            enumerate(err.splitlines(), 1)] == [True] * EPOCHS

    # the same seed again, with --json: identical weights and accuracies; only JSON on stdout
    code, out, err = train(capsys, tmp_path / "b", "--json")
    assert code == 0, err
    assert err == ""
    summary = json.loads(out)
    assert summary == json.loads((tmp_path / "b" / "summary.json").read_text())
    second = _check_files(tmp_path / "b", graph, qat=False)
    a = load_weights(tmp_path / "a" / "weights.npz", graph)
    b = load_weights(tmp_path / "b" / "weights.npz", graph)
    for layer in a:
        for tensor in a[layer]:
            np.testing.assert_array_equal(a[layer][tensor], b[layer][tensor])
    for key in ("float_accuracy", "golden_accuracy", "final_loss", "spike_rate"):
        assert first[key] == second[key], key


def test_qat_golden_accuracy_equals_qat_accuracy(capsys, tmp_path, graph):
    code, out, err = train(capsys, tmp_path, "--qat", "--json")
    assert code == 0, err
    summary = _check_files(tmp_path, graph, qat=True)
    assert summary == json.loads(out)
    # the QAT forward pass is the golden model's integer arithmetic, bit for bit
    assert summary["qat_accuracy"] == summary["golden_accuracy"]


@pytest.mark.parametrize("dataset, message", [
    ("mnsit1d", "error: unknown data set 'mnsit1d'"),
    ("npz:no-such-file.npz", "error: data set file 'no-such-file.npz' does not exist"),
])
def test_a_bad_dataset_exits_2_with_a_message(capsys, tmp_path, monkeypatch, dataset, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = train(capsys, tmp_path / "out", "--dataset", dataset)
    assert code == 2
    assert out == ""
    assert err.startswith(message)
    assert not (tmp_path / "out").exists()


def test_a_model_without_a_dataset_exits_2(capsys, tmp_path):
    source = (ROOT / "examples" / "digits.snn").read_text()
    assert "    dataset = digits\n" in source
    model = tmp_path / "nodata.snn"
    model.write_text(source.replace("    dataset = digits\n", ""))
    code = main(["train", str(model), "--epochs", "1", "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err
    assert "no data set: give --dataset or `dataset = ...`" in err
    assert not (tmp_path / "out").exists()


def _easy(tmp_path, shape=(64,), classes=4, n=64):
    """A small npz data set: class k lights the k-th quarter of the input."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, classes, n)
    x = rng.random((n, *shape)).astype(np.float32) * 0.2
    flat = x.reshape(n, -1)
    q = flat.shape[1] // classes
    for i, k in enumerate(y):
        flat[i, k * q:(k + 1) * q] += 0.8
    path = tmp_path / "easy.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:16], y_test=y[:16])
    return f"npz:{path}"


@pytest.mark.parametrize("body,message,hint", [
    ("layer hidden = dense(pixels, 32) with relu\nlayer out = dense(hidden, 4) with relu\n"
     "output out = count\ntrain { loss = cross_entropy; epochs = 1 }\n",
     "the cross_entropy loss on output 'out' (count readout) has no gradient to train with",
     "a ReLU output (an ANN's logits) trains with `loss = cross_entropy` on its `membrane` "
     "readout"),
    ("layer p = sumpool(img, 4) with IF(threshold = 0.5)\noutput p = count\n",
     "model 'm' has no trainable parameters (no layer with weights)", None),
    ("layer hidden = dense(pixels, 32) with LIF(tau_mem = 10 ms)\n"
     "layer out = dense(hidden, 4) with LIF(tau_mem = 10 ms)\noutput out = membrane\n"
     "train { loss = cross_entropy; lr = 5e-3; epochs = 1; surrogate = rectangular(width = 1e-45) }\n",
     "training diverged: after epoch 1 the weights hidden/weight are not finite",
     "lower the learning rate (--lr), or check the surrogate's parameters and the data's scale"),
    ("layer out = dense(pixels, 4) with relu\noutput out = membrane\n"
     "train { loss = cross_entropy; epochs = 1; spike_reg = 0.1 }\n",
     "the spike-rate regulariser (spike_reg = 0.1) has nothing to penalise in model 'm': no "
     "spiking layer, and no ReLU layer but the output read by its membrane",
     "leave spike_reg at 0 for this model"),
])
def test_untrainable_models_are_clear_errors(capsys, tmp_path, body, message, hint):
    """A readout without a gradient (a ReLU output's count), a model without weights and a
    training run that diverges (a surrogate of width 1e-45) were internal errors (or, for the
    last, an error about the weights' file at the layer's line); a regulariser with nothing to
    penalise (a one-layer ANN) changed nothing without a word."""
    pool = "sumpool" in body
    model = tmp_path / "m.snn"
    model.write_text("model m\ntime { dt = 1 ms; steps = 10 }\n"
                     + ("input img[4, 4, 4] = rate(gain = 1.0)\n" if pool else
                        "input pixels[64] = rate(gain = 1.0)\n") + body)
    data = _easy(tmp_path, (4, 4, 4) if pool else (64,))
    code = main(["train", str(model), "--dataset", data, "--out", str(tmp_path / "o"),
                 "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"error: {message}" in err
    assert (f"= hint: {hint}" in err) if hint else "hint" not in err


def test_output_folder_problems_are_found_before_training(capsys, tmp_path):
    a_file = tmp_path / "afile"
    a_file.write_text("")
    (tmp_path / "w" / "weights.npz").mkdir(parents=True)
    for out, message in ((a_file, f"error: cannot create output folder {a_file}: it is a file"),
                         (tmp_path / "w", f"error: cannot write {tmp_path / 'w' / 'weights.npz'}: "
                                          "it is a folder")):
        assert main(["train", DIGITS, "--out", str(out), "--epochs", "1", "--quiet"]) == 2
        assert capsys.readouterr().err.strip() == message


def test_train_notes_the_golden_models_saturations(capsys, tmp_path):
    """Inputs far beyond the default `inputs` format: the golden accuracy printed by train was far
    below the float one without a word; the saturations (and the default formats) are noted."""
    data = _easy(tmp_path)
    arrays = dict(np.load(data[4:]))
    for k in ("x_train", "x_test"):
        arrays[k] = arrays[k] * 100.0
    np.savez(data[4:], **arrays)
    model = tmp_path / "m.snn"
    model.write_text("model m\ntime { dt = 1 ms; steps = 10 }\ninput pixels[64] = direct\n"
                     "layer hidden = dense(pixels, 32) with LIF(tau_mem = 10 ms)\n"
                     "layer out = dense(hidden, 4) with LIF(tau_mem = 10 ms)\noutput out = count\n")
    assert main(["train", str(model), "--dataset", data, "--out", str(tmp_path / "o"),
                 "--epochs", "1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "note: no `hardware` block: using default formats" in err
    assert "note: the golden model saturated on the test split: 'pixels' inputs " in err, err
    # --json's (and summary.json's) notes are the notes printed (train's JSON had none)
    assert main(["train", str(model), "--dataset", data, "--out", str(tmp_path / "o"),
                 "--epochs", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    printed = [line[len("note: "):] for line in err.splitlines() if line.startswith("note: ")]
    assert len(printed) >= 2 and json.loads(out)["notes"] == printed
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["notes"] == printed


def test_a_data_set_of_the_train_block_is_located(capsys, tmp_path):
    # errors about the block's `dataset = ...` had no file:line
    model = tmp_path / "ds.snn"
    model.write_text((ROOT / "examples" / "digits.snn").read_text()
                     .replace("dataset = digits", "dataset = digitz"))
    code = main(["train", str(model), "--epochs", "1", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    line = next(i for i, l in enumerate(model.read_text().splitlines(), 1) if "digitz" in l)
    col = model.read_text().splitlines()[line - 1].index("digitz") + 1
    assert code == 2 and err.startswith(f"{model}:{line}:{col}: error: unknown data set 'digitz'")


def test_learning_rates_beyond_1e6_are_refused(capsys, tmp_path):
    # from about 4e37 Adam's float32 update overflowed inside torch: an internal error
    with pytest.raises(SystemExit):
        train(capsys, tmp_path / "o", "--lr", "4e37")
    assert "argument --lr: must be at most 1e+06, not 4e37" in capsys.readouterr().err
    model = tmp_path / "lr.snn"
    model.write_text((ROOT / "examples" / "digits.snn").read_text()
                     .replace("lr = 2e-3", "lr = 1e300"))
    code = main(["train", str(model), "--epochs", "1", "--out", str(tmp_path / "o")])
    assert code == 2 and "'lr' must be at most 1e+06" in capsys.readouterr().err


def test_a_failed_run_leaves_no_older_results(capsys, tmp_path, monkeypatch):
    # a diverged run left the previous run's weights.npz and summary.json next to its new log
    import snnc.backends.torch.train as train_mod
    from snnc.errors import SnnError

    out = tmp_path / "out"
    out.mkdir()
    (out / "weights.npz").write_text("old")
    (out / "summary.json").write_text("{}")

    def diverges(*a, **k):
        raise SnnError(None, "training diverged: the loss is nan at epoch 1, batch 1")

    monkeypatch.setattr(train_mod, "train", diverges)
    code, _, err = train(capsys, out)
    assert code == 2 and "training diverged" in err
    assert not (out / "weights.npz").exists() and not (out / "summary.json").exists()


def test_a_run_failing_at_its_data_set_leaves_no_older_results(capsys, tmp_path):
    # the old files were removed only after the data set loaded: a run that failed there left
    # them, though docs/language.md section 11 says a failed run leaves none
    out = tmp_path / "out"
    out.mkdir()
    (out / "weights.npz").write_text("old")
    (out / "summary.json").write_text("{}")
    (out / "train_log.jsonl").write_text("old log\n")
    missing = tmp_path / "missing.npz"
    code, _, err = train(capsys, out, "--dataset", f"npz:{missing}")
    assert code == 2
    assert err.splitlines()[0] == f"error: data set file '{missing}' does not exist"
    assert sorted(p.name for p in out.iterdir()) == []        # the earlier log too


def test_the_float_accuracy_is_the_one_simulate_reports(capsys, tmp_path):
    # train evaluated the float32 torch model: 18.89% where `snnc simulate` (float64) said 18.14%
    conv = str(ROOT / "examples" / "conv.snn")
    assert main(["train", conv, "--epochs", "1", "--seed", "3", "--out", str(tmp_path),
                 "--json", "--quiet"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert main(["simulate", conv, "--weights", str(tmp_path / "weights.npz"), "--dataset",
                 "digits", "--samples", "397", "--seed", "3", "--json"]) == 0
    simulated = json.loads(capsys.readouterr().out)
    assert trained["test_samples"] == 397
    assert trained["float_accuracy"] == simulated["accuracy"]


def test_the_loss_warning_follows_the_loss_used(capsys, tmp_path, monkeypatch):
    import snnc.backends.torch.train as train_mod
    from snnc.errors import SnnError

    def stop(*a, **k):              # the warnings come before training
        raise SnnError(None, "stopped")

    monkeypatch.setattr(train_mod, "train", stop)
    code, _, err = train(capsys, tmp_path / "o", "--loss", "first_spike")   # a count readout
    assert code == 2
    assert ("warning: --loss first_spike trains the output's first-spike times, but output 'out' "
            "predicts from its count readout") in err
    model = tmp_path / "fs.snn"
    model.write_text((ROOT / "examples" / "digits.snn").read_text()
                     .replace("loss = mse_count", "loss = first_spike"))
    assert "loss = first_spike" in model.read_text()
    code = main(["train", str(model), "--loss", "mse_count", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "warning" not in err, err      # the block's loss is not the one used


def test_diverged_weights_are_named_as_in_the_weights_file():
    from snnc.backends.torch.train import _tensor_name

    assert _tensor_name("layers.hidden.weight") == "hidden/weight"
    assert _tensor_name("layers.r.recurrent") == "r/recurrent"


def test_a_run_that_changes_no_weight_says_so(capsys, tmp_path):
    # a surrogate whose derivative underflows to 0 "trained" and saved the random weights
    model = tmp_path / "flat.snn"
    model.write_text("model flat\ntime { dt = 1 ms; steps = 5 }\ninput x[64] = rate\n"
                     "layer h = dense(x, 10) with LIF(tau_mem = 10 ms)\noutput h = count\n"
                     "train { dataset = digits; epochs = 1; loss = mse_count; "
                     "surrogate = fast_sigmoid(slope = 1e30) }\n")
    code = main(["train", str(model), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0
    assert "note: training changed no weight: every gradient was zero" in err


def test_the_spike_rate_regulariser_lowers_spikes_and_relu_activations(capsys, tmp_path):
    """`spike_reg` penalises the spiking layers' spikes (through their surrogate) and a ReLU
    layer's activations: a ReLU layer's events (X > 0) carry no gradient, and `--spike-reg` on an
    ANN trained exactly as without it (the same weights, bit for bit) without a word."""
    import torch

    from snnc.backends.torch.model import SNN
    from snnc.backends.torch.train import activity_layers

    relu_model = str(ROOT / "examples" / "digits_relu.snn")
    g = load(relu_model).graph
    # the ANN's logits (an output read by its membrane, read by no layer) are not penalised
    assert activity_layers(g) == ((), ("hidden",))
    assert activity_layers(load(DIGITS).graph) == (("hidden", "out"), ())
    x = torch.as_tensor(np.random.default_rng(0).random((64, 64)), dtype=torch.float32)
    active = {}
    for model, reg in ((relu_model, 0), (relu_model, 1), (DIGITS, 0), (DIGITS, 20)):
        out_dir = tmp_path / f"{model[-8:-4]}-{reg}"
        assert main(["train", model, "--epochs", "3", "--seed", "1", "--spike-reg", str(reg),
                     "--out", str(out_dir), "--json", "--quiet"]) == 0
        summary = json.loads(capsys.readouterr().out)
        graph = load(model).graph
        net = SNN(graph, load_weights(out_dir / "weights.npz", graph))
        with torch.no_grad():
            run = net(net.encode(x.numpy()))
        hidden = run.payloads["hidden"] if model == relu_model else run.spikes["hidden"]
        active[model, reg] = (float(hidden.mean()), summary["spike_rate"])
    # the mean hidden activation (ANN) and spike rate (SNN) fall, with the logged rate
    for model, reg in ((relu_model, 1), (DIGITS, 20)):
        (a0, r0), (a1, r1) = active[model, 0], active[model, reg]
        assert a1 < 0.8 * a0 and r1 < 0.8 * r0, (model, active)


def test_the_epoch_line_calls_a_relu_layers_rate_events(capsys, tmp_path):
    """The epoch line said "spikes/neuron/step" for an ANN, whose ReLU layers send values."""
    for model, name in ((ROOT / "examples" / "digits_relu.snn", "events"), (DIGITS, "spikes")):
        assert main(["train", str(model), "--epochs", "1", "--out",
                     str(tmp_path / name)]) == 0
        epoch = [l for l in capsys.readouterr().err.splitlines() if l.startswith("epoch 1/1:")]
        assert len(epoch) == 1 and f"  {name}/neuron/step 0." in epoch[0], epoch


def test_a_quantizer_error_comes_before_training(capsys, tmp_path):
    """A threshold beyond the membrane format was refused after every epoch had run, and the
    trained weights were not written; it is refused first, and no output folder is made."""
    model = tmp_path / "q.snn"
    model.write_text((ROOT / "examples" / "digits.snn").read_text()
                     .replace("state = fixed<16,8>", "state = fixed<32,31>"))
    out = tmp_path / "out"
    assert main(["train", str(model), "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: threshold 1 of layer 'hidden' does not fit the membrane format fixed<32,31> " \
           "(largest value 0.999999999534)" in err and "epoch" not in err, err
    assert not out.exists()


def test_a_tbptt_window_of_the_steps_or_more_is_a_warning(capsys, tmp_path, monkeypatch):
    """--tbptt 1000 on a 25-step model is full BPTT: said, as the block's `tbptt = 100`
    (examples/digits.snn runs 25 steps); the block's is not said when --tbptt replaces it."""
    import snnc.backends.torch.train as train_mod
    from snnc.errors import SnnError

    def stop(*a, **k):              # the warnings come before training
        raise SnnError(None, "stopped")

    monkeypatch.setattr(train_mod, "train", stop)
    said = ("warning: --tbptt 25 is not shorter than the model's 25 steps: the gradient is never "
            "truncated (full BPTT, as tbptt = 0)")
    code, _, err = train(capsys, tmp_path / "o", "--tbptt", "25")
    assert code == 2 and said in err.splitlines(), err
    for fine in ("24", "0"):
        code, _, err = train(capsys, tmp_path / "o", "--tbptt", fine)
        assert code == 2 and "warning" not in err, err
    model = tmp_path / "tb.snn"
    model.write_text((ROOT / "examples" / "digits.snn").read_text()
                     .replace("    loss = mse_count", "    tbptt = 100\n    loss = mse_count", 1))
    assert "tbptt = 100" in model.read_text()
    code = main(["train", str(model), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and ("warning: tbptt = 100 is not shorter than the model's 25 steps: the "
                          "gradient is never truncated (full BPTT, as tbptt = 0)") in err, err
    code = main(["train", str(model), "--tbptt", "5", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "warning" not in err, err      # the block's window is not the one used


def test_train_says_which_seed_reproduces_its_accuracies(tmp_path, capsys):
    # simulate's --seed defaults to 0, not to the seed train drew the test split's spikes with
    from snnc.cli import main

    model = tmp_path / "m.snn"
    model.write_text("model m\ntime { dt = 1 ms; steps = 4 }\ninput x[64] = rate\n"
                     "layer o = dense(x, 10) with LIF(tau_mem = 10 ms)\noutput o = count\n"
                     "train { dataset = digits; epochs = 1; seed = 7 }\n")
    assert main(["train", str(model), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    said = ("the test split's rate-coded spikes were drawn with seed 7: snnc simulate --seed 7 "
            "reproduces these accuracies")
    assert capsys.readouterr().out.splitlines()[-1] == said
    assert main(["train", str(model), "--out", str(tmp_path / "o"), "--quiet", "--seed", "0"]) == 0
    assert "drawn with seed" not in capsys.readouterr().out


FLOAT_ONLY = """model divvar
time { dt = 1 ms; steps = 20 }
neuron Shunt {
    param threshold = 1.0
    state v = 0
    state g = 1
    update {
        v = 0.9 * v + input / g
        g = 0.95 * g + 0.05
    }
    spike when v > threshold
    on spike { v = 0; g = g + 1 }
}
input pixels[64] = rate(gain = 1.0)
layer h = dense(pixels, 32) with Shunt()
layer out = dense(h, 10) with LIF(tau_mem = 10 ms)
output out = count
"""


def test_a_float_only_neuron_trains_in_float_without_a_golden_accuracy(capsys, tmp_path):
    """A division by a variable has no integer semantics: training was refused although the
    float reference runs the model; it trains in float, after a located warning."""
    model = tmp_path / "divvar.snn"
    model.write_text(FLOAT_ONLY)
    out = tmp_path / "run"
    args = ["train", str(model), "--dataset", "digits", "--epochs", "1", "--out", str(out)]
    assert main(args + ["--json"]) == 0
    stdout, err = capsys.readouterr()
    lines = err.splitlines()
    at = lines.index(f"{model}:8:23: warning: neuron 'Shunt' in layer 'h': division by a variable "
                     "is not supported in the integer semantics (in `input / g`)")
    assert lines[at + 3] == ("      = hint: only the float semantics runs this neuron: model "
                             "'divvar' trains in float, without a golden accuracy (and no "
                             "fixed-point target builds it: golden model, QAT, Verilog, HLS)")
    summary = json.loads(stdout)
    assert summary["golden_accuracy"] is None and summary["qat_accuracy"] is None
    assert 0.0 < summary["float_accuracy"] <= 1.0
    assert json.loads((out / "summary.json").read_text()) == summary
    assert set(load_weights(str(out / "weights.npz"), load(str(model)).graph)) == {"h", "out"}
    # with --qat the integer semantics is what is trained: an error, before any epoch
    assert main(args + ["--qat", "--out", str(tmp_path / "qat")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{model}:8:23: error: neuron 'Shunt' in layer 'h': division by a "
                          "variable is not supported in the integer semantics (in `input / g`)")
    assert "epoch" not in err and not (tmp_path / "qat").exists()
