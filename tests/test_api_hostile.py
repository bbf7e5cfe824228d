"""The Python API given hostile values (a QA pass): each is a clear error or the right answer,
not an obscure exception from numpy or torch, and not a silent wrong result."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import snnc
from snn_models import ROOT
from snnc.cli import main
from snnc.errors import SnnError, SnnErrors
from snnc.weights import load_weights, random_weights, save_weights

DIGITS = ROOT / "examples" / "digits.snn"


@pytest.fixture(scope="module")
def digits():
    return snnc.load(DIGITS)


def test_weights_beyond_the_modules_float_type_are_refused(digits):
    # 1e39 became inf in the float32 parameters: NaN membranes, other predictions, no word
    w = digits.random_weights(0)
    w["out"]["weight"] = w["out"]["weight"].astype(np.float64)
    w["out"]["weight"][3, :] = 1e39
    with pytest.raises(SnnError) as e:
        digits.to_torch(w)
    assert e.value.message == ("weights 'out/weight' hold 1e+39, beyond the range of the module's "
                               "float32 parameters (largest 3.40282e+38)")
    net = digits.to_torch(digits.random_weights(0)).double()
    net.load_weights(w)                                  # a float64 module holds them
    assert net.layer("out").weight[3, 0].item() == 1e39


def test_simulate_input_keeps_float64_samples_as_the_api_does(digits, tmp_path, capsys):
    # --input cast float64 samples to float32: a rate probability on a rounding edge moved
    w = digits.random_weights(0)
    save_weights(tmp_path / "w.npz", digits, w)
    x = np.full((200, 64), (32768 + 0.5) / 65536 - 1e-12)
    np.save(tmp_path / "x.npy", x)
    api = digits.simulate(x, w, backend="golden")
    assert main(["simulate", str(DIGITS), "--weights", str(tmp_path / "w.npz"), "--input",
                 str(tmp_path / "x.npy"), "--backend", "golden", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["stats"]["pixels"]["spikes"] == api.stats["pixels"].spikes
    assert cli["predictions"] == api.predictions.tolist()
    as32 = digits.simulate(x.astype(np.float32), w, backend="golden")
    assert as32.stats["pixels"].spikes != api.stats["pixels"].spikes    # the case matters


def test_a_bfloat16_module_counts_and_times_beyond_256():
    m = snnc.loads("model lat\ntime { dt = 1 ms; steps = 600 }\ninput x[2] = latency(threshold "
                   "= 0.0)\nlayer o = dense(x, 2) with IF(threshold = 0.5)\n"
                   "output o = first_spike\n")
    w = {"o": {"weight": np.array([[2.0, 0.0], [0.0, 1.0]], np.float32)}}
    x = np.array([[1 - 257 / 599, 1 - 256 / 599]])
    golden = m.simulate(x, w)
    assert golden.outputs["o"].first_spike.tolist() == [[257, 256]]
    net = m.to_torch(w).to(torch.bfloat16)
    out = net(net.encode(x))
    assert out.readout.tolist() == [[257.0, 256.0]]        # bfloat16 had [[256, 256]]
    assert out.predictions.tolist() == golden.predictions.tolist() == [1]
    counting = snnc.loads("model c\ntime { dt = 1 ms; steps = 300 }\ninput x[1] = direct\n"
                          "layer o = dense(x, 2) with IF(threshold = 0.5)\noutput o = count\n")
    w = {"o": {"weight": np.array([[1.0], [0.0]], np.float32)}}
    net = counting.to_torch(w).to(torch.bfloat16)
    out = net(net.encode(np.ones((1, 1))))
    assert out.readout.tolist() == [[300.0, 0.0]]
    assert out.readout.dtype == torch.float32


def test_ann_from_graph_checks_the_model_and_weights():
    from snnc.ann import ann_from_graph

    relu = snnc.load(ROOT / "examples" / "digits_relu.snn")
    w = relu.random_weights(0)
    assert len(ann_from_graph(relu, w).layers) == 2          # a CompiledModel is taken
    with pytest.raises(SnnErrors) as e:
        ann_from_graph(relu.graph, {"x": {}})               # was KeyError: 'weight'
    assert "weights dict has no tensor 'hidden/weight' (layer 'hidden' needs shape [128, 64])" \
        in [err.message for err in e.value.errors]
    nan = {k: dict(v) for k, v in w.items()}
    nan["hidden"]["weight"] = np.full_like(w["hidden"]["weight"], np.nan)
    with pytest.raises(SnnError) as e1:
        ann_from_graph(relu.graph, nan)
    assert e1.value.message == ("weights dict: tensor 'hidden/weight' has 8192 non-finite values "
                                "(the first, nan, at index [0, 0])")
    with pytest.raises(TypeError, match="not str"):
        ann_from_graph("digits_relu.snn", w)


@pytest.mark.parametrize("x, y, error, said", [
    (np.zeros((10, 63)), None, ValueError,
     "x_data of shape [10, 63] does not fit the ANN's input [64]: expected [N, 64]"),
    (np.full((10, 64), np.nan), None, ValueError,
     "x_data holds values that are not finite numbers (nan or inf)"),
    (np.zeros((20, 64)), np.zeros(10, np.int64), ValueError,
     "y_data must hold one label per sample, shape [20], not [10]"),
    (np.zeros((20, 64)), np.full(20, 0.5), ValueError,
     "y_data must be integer labels, not float64 values"),
    (np.array([["a"] * 64]), None, TypeError, "x_data must be an array of numbers, not <U1"),
])
def test_convert_checks_its_data(x, y, error, said):
    from snnc.ann import ann_from_graph
    from snnc.conversion import Options, convert

    relu = snnc.load(ROOT / "examples" / "digits_relu.snn")
    ann = ann_from_graph(relu, relu.random_weights(0))
    with pytest.raises(error) as e:
        convert(ann, Options(calibrate=0), x, y)
    assert str(e.value) == said


def test_save_weights_takes_a_bytes_path(digits, tmp_path):
    path = tmp_path / "w.npz"
    w = digits.random_weights(0)
    save_weights(bytes(path), digits, w)                 # was "cannot write ... 'b'/tmp/...''"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]
    np.testing.assert_array_equal(load_weights(bytes(path), digits.graph)["out"]["weight"],
                                  w["out"]["weight"])


def test_random_weights_scale_types(digits):
    a = random_weights(digits.graph, 0, np.float32(2.0))    # was "must be a positive number"
    b = random_weights(digits.graph, 0, 2.0)
    np.testing.assert_array_equal(a["out"]["weight"], b["out"]["weight"])
    with pytest.raises(TypeError, match="scale must be a real number, not bool"):
        random_weights(digits.graph, 0, True)             # was taken as 1
    with pytest.raises(ValueError, match="scale must be a positive number, not -1.0"):
        random_weights(digits.graph, 0, -1)


@pytest.mark.parametrize("tbptt", [float("inf"), float("nan")])
def test_tbptt_not_finite_is_named(digits, tbptt):
    with pytest.raises(ValueError) as e:
        digits.to_torch(digits.random_weights(0), tbptt=tbptt)   # OverflowError before
    assert str(e.value) == f"tbptt must be a whole number of steps, 0 or more, not {tbptt!r}"


def test_delivered_names_the_nodes(digits):
    res = digits.simulate(np.zeros((1, 64)), digits.random_weights(0), record=True)
    with pytest.raises(KeyError) as e:
        res.delivered("nope")
    assert e.value.args[0] == "no node 'nope' in the result (its nodes: pixels, hidden, out)"


def test_the_module_takes_a_list_of_steps_and_a_sparse_tensor(digits):
    # a list of per-step tensors was "must be a tensor ... not list"; a sparse tensor failed in
    # torch ("Could not run 'aten::as_strided' ... SparseCPU")
    net = digits.to_torch(digits.random_weights(0))
    xe = net.encode(np.random.default_rng(0).random((3, 64)))
    want = net(xe).readout
    assert torch.equal(net(list(xe)).readout, want)
    assert torch.equal(net(xe.to_sparse()).readout, want)


def test_compiled_model_random_weights_takes_a_scale(digits):
    # the module function took a scale, the model's method did not (TypeError)
    from snnc.weights import DEFAULT_SCALE

    a = digits.random_weights(1, 8.0)
    np.testing.assert_array_equal(a["out"]["weight"],
                                  random_weights(digits.graph, 1, 8.0)["out"]["weight"])
    np.testing.assert_array_equal(digits.random_weights(1)["out"]["weight"],
                                  random_weights(digits.graph, 1, DEFAULT_SCALE)["out"]["weight"])
