"""Streaming classification without resets (snnc.backends.golden.stream) with ASN networks."""
from __future__ import annotations

import pathlib

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


def test_one_frame_is_the_plain_simulation():
    g = load_text(NET, "s.snn").graph
    w = random_weights(g, seed=1, scale=4.0)
    q = quantize(g, w)
    x = np.random.default_rng(0).random((1, 10))
    plain = simulate_golden(q, x)
    st = simulate_stream(q, x, 15)
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
    from snnc.backends.torch.train import config_for, train
    from snnc.convert_cmd import Options, ann_from_graph, convert
    from snnc.datasets import load_dataset

    graph = load(ROOT / "examples" / "digits_relu.snn").graph
    data = load_dataset("digits", graph)
    weights = train(graph, data, config_for(graph, epochs=10, seed=0)).weights
    ann = ann_from_graph(graph, weights)
    frames, labels = data.x_test[:120], data.y_test[:120]
    ann_acc = float(np.mean(ann.predict(frames) == labels))
    c = convert(ann, Options(to="asn"), data.x_train)
    snn = load_text(c.text, "asn.snn").graph
    # the kernels (tau_beta = 20 ms, two layers) need ~30 steps to forget the previous frame
    st = simulate_stream(quantize(snn, c.weights), frames, 60, settle=30)
    acc = float(np.mean(st.predictions == labels))
    print(f"stream: ANN {ann_acc:.3f}, ASN without resets {acc:.3f} at 60 steps/frame; "
          f"SOPs/frame {st.sops_per_frame.mean():.0f} (into the output layer "
          f"{st.sops['out'].mean():.0f}), ANN MACs/frame {st.macs_per_frame}")
    assert acc >= ann_acc - 0.05
    assert st.macs_per_frame == 64 * 128 + 128 * 10
