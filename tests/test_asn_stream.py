"""Streaming classification without resets (snnc.backends.golden.stream) with ASN networks."""
from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

from snnc.backends.golden.golden_sim import simulate_golden
from snnc.backends.golden.stream import simulate_stream
from snnc.build import load, load_text
from snnc.quantize import quantize
from snnc.weights import random_weights

ROOT = pathlib.Path(__file__).resolve().parent.parent

NET = """model s
time { dt = 1 ms; steps = 15 }
input x[10] = direct(scale = 0.2)
layer h = dense(x, 12, bias = true) with ASN(tau_beta = 8 ms, threshold = 0.1, m_f = 0.3)
layer o = dense(h, 4) with ASN(tau_beta = 8 ms, threshold = 0.1)
output o = membrane
"""

# with a recurrent layer
REC = """model r
time { dt = 1 ms; steps = 12 }
input x[3] = direct(scale = 1.0)
layer h = recurrent(x, 6) with LIF(tau_mem = 5 ms, threshold = 0.5)
layer o = dense(h, 2) with LIF(tau_mem = 5 ms)
output o = count
"""


# the recurrent network: a recurrent layer's SOPs add its own previous step's spikes times its
# units, and its ANN MACs count the recurrent product once per step of the frame
@pytest.mark.parametrize("text, size, steps, seed, x_seed", [(NET, 10, 15, 1, 0),
                                                              (REC, 3, 12, 3, 2)])
def test_one_frame_is_the_plain_simulation(text, size, steps, seed, x_seed):
    g = load_text(text, "s.snn").graph
    w = random_weights(g, seed=seed, scale=4.0)
    q = quantize(g, w)
    x = np.random.default_rng(x_seed).random((1, size))
    plain = simulate_golden(q, x)
    st = simulate_stream(q, x, steps)
    assert plain.stats["h"].spikes > 0
    assert st.predictions.tolist() == plain.predictions.tolist()
    for name in ("h", "o"):
        assert st.events[name].tolist() == [plain.stats[name].spikes]
        assert st.sops[name].tolist() == [plain.stats[name].sops]
        assert st.ann_macs[name] == plain.stats[name].macs


def test_state_carries_over_between_frames():
    g = load_text(NET, "s.snn").graph
    w = random_weights(g, seed=2, scale=4.0)
    q = quantize(g, w)
    frames = np.random.default_rng(1).random((3, 10))
    st = simulate_stream(q, frames, 15)
    alone = simulate_stream(q, frames[1:2], 15)
    assert st.events["h"][0] > 0
    settled = simulate_stream(q, frames, 15, settle=5)
    assert settled.sops["o"].tolist() == st.sops["o"].tolist()      # settle changes the readout only
    # frame 1 starts from the state frame 0 left: not what a fresh network does
    assert (st.events["h"][1], st.sops["o"][1]) != (alone.events["h"][0], alone.sops["o"][0])
    f = simulate_stream(g, frames, 15, weights=w, backend="float")
    assert f.predictions.shape == (3,)


def test_stream_of_digits_through_a_converted_asn_network():
    from snnc.ann import ann_from_graph
    from snnc.backends.torch.train import config_for, train
    from snnc.conversion import Options, convert
    from snnc.datasets import load_dataset

    graph = load(ROOT / "examples" / "digits_relu.snn").graph
    data = load_dataset("digits", graph)
    weights = train(graph, data, config_for(graph, epochs=10, seed=0)).weights
    ann = ann_from_graph(graph, weights)
    frames, labels = data.x_test[:120], data.y_test[:120]
    ann_acc = float(np.mean(ann.predict(frames) == labels))
    c = convert(ann, Options(to="asn"), data.x_train)
    snn = load_text(c.text, "asn.snn").graph
    # the kernels (tau_beta = 30 ms, two layers) need ~30 steps to forget most of the previous frame
    st = simulate_stream(quantize(snn, c.weights), frames, 60, settle=30)
    acc = float(np.mean(st.predictions == labels))
    print(f"stream: ANN {ann_acc:.3f}, ASN without resets {acc:.3f} at 60 steps/frame; "
          f"SOPs/frame {st.sops_per_frame.mean():.0f} (into the output layer "
          f"{st.sops['out'].mean():.0f}), ANN MACs/frame {st.macs_per_frame}")
    assert acc >= ann_acc - 0.05
    assert st.macs_per_frame == 64 * 128 + 128 * 10


def _stream_files(tmp_path):
    from snnc.weights import save_weights

    model = tmp_path / "s.snn"
    model.write_text(NET)
    g = load(model).graph
    w = random_weights(g, seed=1, scale=4.0)
    wpath = tmp_path / "w.npz"
    save_weights(wpath, g, w)
    rng = np.random.default_rng(5)
    frames = rng.random((6, 10))
    labels = np.array([0, 1, 2, 3, 0, 1])
    data = tmp_path / "frames.npz"
    np.savez(data, x_train=frames, y_train=labels, x_test=frames, y_test=labels)
    return model, g, w, wpath, frames, labels, data


def test_cli_streams_the_frames_and_counts_the_updates(tmp_path, capsys):
    import json

    from snnc.cli import main

    model, g, w, wpath, frames, labels, data = _stream_files(tmp_path)
    assert main(["simulate", str(model), "--weights", str(wpath), "--backend", "golden",
                 "--dataset", f"npz:{data}", "--stream", "15", "--settle", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["stream"]
    st = simulate_stream(quantize(g, w), frames, 15, settle=5)
    assert out["frames"] == 6 and out["steps_per_frame"] == 15 and out["settle"] == 5
    assert out["predictions"] == st.predictions.tolist()
    assert out["correct"] == int((st.predictions == labels).sum())
    assert out["accuracy"] == out["correct"] / 6
    assert out["events_per_frame"] == {n: float(st.events[n].mean()) for n in ("h", "o")}
    assert out["sops_per_frame"] == {n: float(st.sops[n].mean()) for n in ("h", "o")}
    assert out["ann_macs_per_frame"] == {"h": 120, "o": 48}
    assert out["totals"]["ann_macs_per_frame"] == 168
    assert out["totals"]["sops_per_frame"] == float(st.sops_per_frame.mean())
    assert out["per_frame"]["sops"] == st.sops_per_frame.tolist()
    assert out["totals"]["events_per_frame"] > 0
    # the first frame starts from rest: the same as a one-frame stream
    first = simulate_stream(quantize(g, w), frames[:1], 15, settle=5)
    assert out["per_frame"]["sops"][0] == int(first.sops_per_frame[0])
    assert main(["simulate", str(model), "--weights", str(wpath), "--backend", "golden",
                 "--dataset", f"npz:{data}", "--stream", "15", "--settle", "5"]) == 0
    text = capsys.readouterr().out
    assert (f"per-frame accuracy: {100 * out['accuracy']:.2f}% ({out['correct']}/6)") in text
    assert (f"SOPs per frame / ANN MACs per frame: "
            f"{out['totals']['sops_per_frame'] / 168:.3f}") in text
    # the float simulator streams too
    assert main(["simulate", str(model), "--weights", str(wpath), "--dataset", f"npz:{data}",
                 "--stream", "15", "--json"]) == 0
    f = json.loads(capsys.readouterr().out)["stream"]
    assert f["predictions"] == simulate_stream(g, frames, 15, weights=w,
                                               backend="float").predictions.tolist()


def test_cli_stream_errors(tmp_path, capsys):
    from snnc.cli import main

    model, g, w, wpath, frames, labels, data = _stream_files(tmp_path)
    base = ["simulate", str(model), "--weights", str(wpath), "--dataset", f"npz:{data}"]
    assert main(base + ["--stream", "15", "--settle", "15"]) == 2
    assert "--settle must be in [0, 15) for --stream 15, not 15" in capsys.readouterr().err
    # no bound let --stream 99999999 allocate tens of GiB (an internal MemoryError)
    assert main(base + ["--stream", "99999999"]) == 2
    n = len(frames)
    assert (f"--stream 99999999 with {n} samples is a stream of {n * 99999999} steps; at most "
            "1000000 are simulated") in capsys.readouterr().err
    assert main(base + ["--settle", "3"]) == 2
    assert "--settle applies to --stream only" in capsys.readouterr().err
    rate = tmp_path / "r.snn"
    rate.write_text(NET.replace("direct(scale = 0.2)", "rate(gain = 1.0)"))
    assert main(["simulate", str(rate), "--weights", str(wpath), "--dataset", f"npz:{data}",
                 "--stream", "15"]) == 2
    err = capsys.readouterr().err
    assert "r.snn:3:1" in err and ("--stream needs one input with a sequence encoding (direct or "
                                   "delta); input 'x' is rate-encoded") in err


def test_cli_stream_of_sequence_samples_is_a_located_error(capsys):
    """A data set whose samples are sequences (digits' 8 rows of 8 for an input of 8) cannot be
    held as frames: a located error (a ValueError from the stream simulator before)."""
    from snnc.cli import main

    path = ROOT / "examples" / "delta_sequence.snn"
    assert main(["simulate", str(path), "--dataset", "digits", "--samples", "4", "--stream",
                 "7"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:19:1: error: --stream holds each sample for STEPS_PER_FRAME steps as one " \
           "frame of input 'rows' [8]; the samples of the test split of 'digits' are sequences " \
           "[8, 8]" in err, err


def test_cli_stream_of_long_sequences_is_refused_without_a_note_first(tmp_path, capsys):
    """Sequences longer than the model's steps: plain `simulate` notes the unused tail; with
    --stream, which refuses sequences, the note (which said the tail is not used) is not printed
    before the error."""
    from snnc.cli import main

    path = ROOT / "examples" / "delta_sequence.snn"
    x = tmp_path / "x.npy"
    np.save(x, np.random.default_rng(0).random((2, 12, 8)))
    assert main(["simulate", str(path), "--input", str(x)]) == 0
    assert (f"note: input file '{x}': each sample is a sequence of 12 steps and model "
            "'digits_rows' runs 8: its last 4 steps are not used") in capsys.readouterr().err
    assert main(["simulate", str(path), "--input", str(x), "--stream", "7"]) == 2
    err = capsys.readouterr().err
    assert "note:" not in err and "--stream holds each sample" in err, err


def test_cli_stream_of_short_sequences_is_refused_as_sequences(tmp_path, capsys):
    """Sequences shorter than the model's steps: --stream said "set `steps = 5`" (a hint that
    cannot help: --stream refuses sequences whatever their length)."""
    from snnc.cli import main

    path = ROOT / "examples" / "delta_sequence.snn"
    x = tmp_path / "x.npy"
    np.save(x, np.random.default_rng(0).random((2, 5, 8)))
    assert main(["simulate", str(path), "--input", str(x), "--stream", "3"]) == 2
    err = capsys.readouterr().err
    assert (f"--stream holds each sample for STEPS_PER_FRAME steps as one frame of input 'rows' "
            f"[8]; the samples of '{x}' are sequences [5, 8]") in err and "steps = 5" not in err


SATURATING = """model sat
time { dt = 1 ms; steps = 10 }
input px[6] = direct(scale = 4.0)
layer h = dense(px, 5) with LIF(tau_mem = 100 ms, reset = none, threshold = 1.0)
layer out = dense(h, 3) with LIF(tau_mem = 10 ms)
output out = count
hardware { weights = fixed<8,6>; state = fixed<8,4>; inputs = fixed<8,4> }
"""


def test_cli_stream_reports_saturation_and_clipped_weights(tmp_path, capsys):
    """--stream ran the golden model and said nothing of its clamps or of the weights the
    quantizer clipped (plain simulate reports both)."""
    import json

    from snnc.cli import main
    from snnc.weights import save_weights

    model = tmp_path / "sat.snn"
    model.write_text(SATURATING)
    g = load(model).graph
    w = {n: {t: a * 20.0 for t, a in ts.items()} for n, ts in random_weights(g, seed=0).items()}
    wpath = tmp_path / "w.npz"
    save_weights(wpath, g, w)
    x = np.random.default_rng(0).random((3, 6))
    np.save(tmp_path / "x.npy", x)
    base = ["simulate", str(model), "--weights", str(wpath), "--backend", "golden",
            "--input", str(tmp_path / "x.npy")]
    # one frame of 10 steps is the plain 10-step run: the same clamps
    np.save(tmp_path / "x1.npy", x[:1])
    one = base[:-1] + [str(tmp_path / "x1.npy")]
    assert main(one + ["--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main(one + ["--stream", "10", "--json"]) == 0
    streamed = json.loads(capsys.readouterr().out)
    expect = {n: e["saturation_by_state"] for n, e in plain["stats"].items()
              if e["saturation"]}
    assert expect and streamed["stream"]["saturation"] == expect
    assert streamed["stream"]["saturation_total"] == plain["totals"]["saturation"]
    assert streamed["quantization"] == plain["quantization"]
    assert any(layer["clipped"] for layer in streamed["quantization"]["layers"])
    # three frames: the stream's own run, in JSON and in the text
    assert main(base + ["--stream", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["stream"]
    st = simulate_stream(quantize(g, w), x, 10)
    assert out["saturation"] == st.saturation and st.saturation
    assert main(base + ["--stream", "10"]) == 0
    text = capsys.readouterr().out
    by_node = "; ".join(f"{n}: " + ", ".join(f"{k} {v}" for k, v in s.items())
                        for n, s in st.saturation.items())
    total = sum(sum(s.values()) for s in st.saturation.values())
    assert (f"saturation (the golden model's clamps over the whole stream): {by_node}; total "
            f"{total}") in text.splitlines()
    assert "quantization: weights fixed<8,6>" in text


def test_cli_streams_static_samples_whose_shape_only_reshapes(tmp_path, capsys):
    """Samples [8, 8] for an input of 64 are static (reshaped row-major, as plain `simulate`
    takes them); --stream called them sequences [8, 8]."""
    import json

    from snnc.cli import main

    path = tmp_path / "m.snn"
    path.write_text(NET.replace("x[10]", "x[64]"))
    x = np.random.default_rng(0).random((4, 8, 8))
    np.save(tmp_path / "x.npy", x)
    assert main(["simulate", str(path), "--input", str(tmp_path / "x.npy"), "--stream", "5",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["stream"]
    assert out["frames"] == 4
    np.save(tmp_path / "flat.npy", x.reshape(4, 64))
    assert main(["simulate", str(path), "--input", str(tmp_path / "flat.npy"), "--stream", "5",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stream"] == out


def test_cli_stream_says_why_an_if_layer_saturates(tmp_path, capsys):
    """A leak-free IF layer streamed over frames keeps integrating (a converted IF network lost
    its accuracy in a stream, with only the saturation count to show for it)."""
    import json

    from snnc.cli import main
    from snnc.weights import save_weights

    x = np.random.default_rng(0).random((3, 6))
    np.save(tmp_path / "x.npy", x)
    for neuron, said in (("IF(reset = none, threshold = 1.0)", True),
                         ("LIF(tau_mem = 100 ms, reset = none, threshold = 1.0)", False)):
        model = tmp_path / "m.snn"
        model.write_text(SATURATING.replace(
            "LIF(tau_mem = 100 ms, reset = none, threshold = 1.0)", neuron))
        g = load(model).graph
        w = {n: {t: np.abs(a) * 20.0 for t, a in ts.items()}
             for n, ts in random_weights(g, seed=0).items()}
        save_weights(tmp_path / "w.npz", g, w)
        base = ["simulate", str(model), "--weights", str(tmp_path / "w.npz"), "--backend",
                "golden", "--input", str(tmp_path / "x.npy"), "--stream", "10"]
        assert main(base + ["--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        sat = out["stream"]["saturation"]
        assert sat.get("h", {}).get("U"), sat
        note = (f"layer 'h' (IF) saturated its membrane {sat['h']['U']} times over the stream: an "
                "IF neuron does not leak, so what it integrates in one frame stays for the next; "
                "leaky neurons (LIF, ASN) forget")
        assert (note in out["notes"]) == said, out["notes"]
        assert main(base) == 0
        assert (f"note: {note}" in capsys.readouterr().err.splitlines()) == said



def test_stream_refuses_what_it_cannot_run():
    g = load_text(NET, "s.snn").graph
    q = quantize(g, random_weights(g, seed=1))
    rate = load_text(NET.replace("direct(scale = 0.2)", "rate"), "s.snn").graph
    frames = np.zeros((2, 10))
    for call, message in [
            (lambda: simulate_stream(quantize(rate, random_weights(rate, seed=1)), frames, 5),
             "streaming needs one input with a sequence encoding (direct or delta)"),
            (lambda: simulate_stream(q, frames, 0),
             "steps_per_frame must be at least 1 and settle in [0, steps_per_frame)"),
            (lambda: simulate_stream(q, frames, 5, settle=5),
             "steps_per_frame must be at least 1 and settle in [0, steps_per_frame)"),
            (lambda: simulate_stream(q, np.zeros((2, 9)), 5),
             "frames of shape [9] do not fit input 'x' [10]"),
            (lambda: simulate_stream(q, frames, 5, backend="spice"), "unknown backend 'spice'")]:
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            call()
