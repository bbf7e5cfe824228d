"""Every example model checks, quantises and simulates (float and golden) with random weights."""
import pathlib

import numpy as np
import pytest

from snnc import ir
from snnc.backends.golden.float_sim import simulate_float
from snnc.backends.golden.golden_sim import simulate_golden
from snnc.build import load
from snnc.quantize import quantize
from snnc.weights import random_weights

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parent.parent / "examples").glob("*.snn"))


def test_there_are_examples():
    names = {p.name for p in EXAMPLES}
    assert {"digits.snn", "mnist_mlp.snn", "recurrent_alif.snn", "custom_neuron.snn",
            "conv.snn"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_simulates_with_random_weights(path):
    loaded = load(path)
    assert loaded.warnings == []
    g = loaded.graph
    weights = random_weights(g, seed=1)
    q = quantize(g, weights)
    (inp,) = g.inputs
    rng = np.random.default_rng(0)
    x = rng.random((6, *inp.shape))
    f = simulate_float(g, weights, x, seed=2)
    i = simulate_golden(q, x, seed=2)
    n_out = g.node(g.outputs[0].source).shape[0]
    for result in (f, i):
        assert result.predictions.shape == (6,)
        assert ((0 <= result.predictions) & (result.predictions < n_out)).all()
        for layer in g.layers:
            if isinstance(layer, ir.Flatten):
                continue
            stats = result.stats[layer.name]
            assert stats.spikes > 0, f"{layer.name} never spiked ({result.arithmetic})"
            assert stats.sops > 0
    # the same seed gives the same result
    again = simulate_golden(q, x, seed=2)
    np.testing.assert_array_equal(again.predictions, i.predictions)
    for name, readout in i.outputs.items():
        np.testing.assert_array_equal(again.outputs[name].count, readout.count)
