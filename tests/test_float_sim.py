"""The float reference simulator (docs/semantics.md sections 1-3, 5, 7).

Neurons are driven through a dense layer of identity weights from a direct-encoded input, so the
layer input is exactly the given sequence.
"""
import math

import numpy as np
import pytest

from snnc import expr as E
from snnc import ir
from snnc.backends.golden.float_sim import simulate_float
from snnc.build import load_text

DT = 1e-3


def tau(factor: float) -> float:
    return -DT / math.log(factor)


def run(neuron, inputs, record=True, **kw):
    """inputs [T, n] -> SimResult of n neurons driven by exactly those inputs."""
    inputs = np.asarray(inputs, dtype=np.float64)
    steps, n = inputs.shape
    g = ir.Graph("f", ir.TimeSpec(DT, steps), (ir.Input("x", (n,), ir.Direct(1.0)),),
                 (ir.Dense("h", "x", (n,), n, neuron),), (ir.Output("h", "count"),))
    return simulate_float(g, {"h": {"weight": np.eye(n)}}, inputs[None], record=record, **kw)


def test_lif_hand_trace():
    r = run(ir.LIF(tau(0.75), 1.0), [[0.8], [0.8], [0.8], [0.0], [-0.4]])
    u = r.membranes["h"][:, 0, 0]
    # U = 0.75 U + in - 1.0 * S_prev:
    # 0.8; 0.6 + 0.8 = 1.4 spike; 1.05 + 0.8 - 1 = 0.85; 0.6375; 0.478125 - 0.4 = 0.078125
    np.testing.assert_allclose(u, [0.8, 1.4, 0.85, 0.6375, 0.078125], rtol=1e-12)
    assert r.spikes["h"][:, 0, 0].tolist() == [0, 1, 0, 0, 0]
    assert r.outputs["h"].count.tolist() == [[1]]
    assert r.outputs["h"].first_spike.tolist() == [[1]]
    np.testing.assert_allclose(r.outputs["h"].membrane, [[0.8 + 1.4 + 0.85 + 0.6375 + 0.078125]])
    assert r.stats["h"].saturation == {}
    assert r.arithmetic == "float"


def test_lif_zero_reset_and_refractory_hand_trace():
    r = run(ir.LIF(tau(0.5), 1.0, reset="zero", refractory=1), [[1.5], [1.5], [0.5], [0.8], [0.2]])
    # t0: 1.5 spike (R=1); t1: refractory, input ignored, zero reset: 0; t2: 0.5
    # t3: 0.25 + 0.8 = 1.05 spike; t4: refractory: 0
    np.testing.assert_allclose(r.membranes["h"][:, 0, 0], [1.5, 0.0, 0.5, 1.05, 0.0], atol=1e-12)
    assert r.spikes["h"][:, 0, 0].tolist() == [1, 0, 0, 1, 0]


def reference(kind, inputs, *, b=1.0, a=1.0, rr=1.0, beta=0.0, theta=1.0, reset="subtract",
              refractory=0):
    """Section 3 written out literally, one scalar neuron, plain Python floats."""
    U = I = A = 0.0
    S_prev, R = 0, 0
    us, ss = [], []
    for inp in inputs:
        refr = R > 0
        x = 0.0 if refr else inp
        if kind == "CubaLIF":
            I = a * I + inp              # integrates even when refractory
            x = 0.0 if refr else I
        if kind == "ALIF":
            th_prev = theta + beta * A
            A = rr * A + S_prev
            th_now = theta + beta * A
        else:
            th_prev = th_now = theta
        if reset == "subtract":
            U = b * U + x - th_prev * S_prev
        elif reset == "zero":
            U = (0.0 if S_prev else b * U) + x
        else:
            U = b * U + x
        S = int(U > th_now and not refr)
        R = refractory if S else max(R - 1, 0)
        S_prev = S
        us.append(U)
        ss.append(S)
    return np.array(us), np.array(ss)


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("refractory", [0, 2])
@pytest.mark.parametrize("kind", ["IF", "LIF", "CubaLIF", "ALIF"])
def test_builtin_neurons_follow_the_equations(kind, reset, refractory):
    rng = np.random.default_rng(7)
    inputs = rng.normal(0.4, 0.6, (30, 5))
    b, a, rr, beta = math.exp(-DT / 8e-3), math.exp(-DT / 3e-3), math.exp(-DT / 50e-3), 0.7
    neuron = {"IF": ir.IF(0.9, reset, refractory),
              "LIF": ir.LIF(8e-3, 0.9, reset, refractory),
              "CubaLIF": ir.CubaLIF(8e-3, 3e-3, 0.9, reset, refractory),
              "ALIF": ir.ALIF(8e-3, 50e-3, beta, 0.9, reset, refractory)}[kind]
    r = run(neuron, inputs)
    for j in range(inputs.shape[1]):
        u, s = reference(kind, inputs[:, j], b=1.0 if kind == "IF" else b, a=a, rr=rr, beta=beta,
                         theta=0.9, reset=reset, refractory=refractory)
        np.testing.assert_allclose(r.membranes["h"][:, 0, j], u, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(r.spikes["h"][:, 0, j], s)
    assert r.spikes["h"].any()


def test_user_defined_neuron():
    v, w, inp = E.Ref("state", "v"), E.Ref("state", "w"), E.Ref("input", "input")
    k = E.Ref("param", "k")
    decayed = E.Binary("*", v, E.Func("decay", (E.Const(4e-3),)))
    neuron = ir.CustomNeuron(
        "Toy", (("k", 0.5),), (ir.StateVar("v", E.Const(0.0)), ir.StateVar("w", E.Ref("param", "k"))),
        (E.Assignment("v", E.Binary("-", E.Binary("+", decayed, inp), w)),
         E.Assignment("w", E.Func("max", (E.Binary("-", w, E.Const(0.125)), E.Const(0.0))))),
        E.Binary(">", v, E.Const(1.0)),
        (E.Assignment("v", E.Binary("*", v, k)), E.Assignment("w", E.Binary("+", w, k))))
    r = run(neuron, [[1.0], [1.5], [0.0]])
    d = math.exp(-DT / 0.004)
    # t0: v = 1 - 0.5 = 0.5, w = 0.375; no spike
    # t1: v = 0.5 d + 1.5 - 0.375 = 1.5721..., w = 0.25; spike: v = 0.786..., w = 0.75
    # t2: v = 0.786 d - 0.75, w = 0.625
    v1 = 0.5 * d + 1.5 - 0.375
    expected = [0.5, v1 * 0.5, v1 * 0.5 * d - 0.75]
    np.testing.assert_allclose(r.membranes["h"][:, 0, 0], expected, rtol=1e-12)
    assert r.spikes["h"][:, 0, 0].tolist() == [0, 1, 0]
    np.testing.assert_allclose(r.final_state["h"]["w"], [[0.625]])


def test_avgpool_weight_and_direct_values_are_unquantised():
    g = load_text("""model p
time { dt = 1 ms; steps = 2 }
input img[1, 2, 3] = direct(scale = 0.3)
layer a = avgpool(img, [2, 3]) with IF(threshold = 100)
output a = membrane
""").graph
    x = np.arange(6, dtype=np.float64).reshape(1, 1, 2, 3) / 7
    r = simulate_float(g, {}, x, record=True)
    mean = 0.3 * x.mean()
    np.testing.assert_allclose(r.membranes["a"][:, 0, 0, 0, 0], [mean, 2 * mean], rtol=1e-12)
    np.testing.assert_allclose(r.spikes["img"][0, 0], 0.3 * x[0])
    assert r.stats["a"].sops == 5 * 2          # 5 non-zero values per step, each reaches 1 neuron


def digits_graph(steps=20):
    return load_text(f"""model d
time {{ dt = 1 ms; steps = {steps} }}
input pixels[16] = rate(gain = 0.8)
layer hidden = dense(pixels, 12) with LIF(tau_mem = 10 ms)
layer out = dense(hidden, 3, bias = true) with LIF(tau_mem = 10 ms)
output out = count
""").graph


def weights(g, seed=0):
    rng = np.random.default_rng(seed)
    return {layer.name: {k: rng.normal(0, 0.6, s) for k, s in ir.weight_shapes(layer).items()}
            for layer in g.layers}


def test_deterministic_for_a_fixed_seed_and_batch_independent():
    g = digits_graph()
    w = weights(g)
    x = np.random.default_rng(1).random((5, 16))
    a = simulate_float(g, w, x, seed=3, record=True)
    b = simulate_float(g, w, x, seed=3, record=True)
    for name in ("pixels", "hidden", "out"):
        np.testing.assert_array_equal(a.spikes[name], b.spikes[name])
        np.testing.assert_array_equal(a.membranes.get(name, 0), b.membranes.get(name, 0))
    c = simulate_float(g, w, x, seed=4, record=True)
    assert not np.array_equal(a.spikes["pixels"], c.spikes["pixels"])
    sub = simulate_float(g, w, x[[3, 0]], seed=3, sample_ids=[3, 0], record=True)
    np.testing.assert_array_equal(sub.spikes["hidden"], a.spikes["hidden"][:, [3, 0]])
    np.testing.assert_allclose(sub.outputs["out"].membrane, a.outputs["out"].membrane[[3, 0]])


def test_sequence_input_and_readouts():
    g = load_text("""model s
time { dt = 1 ms; steps = 4 }
input ev[2] = delta(threshold = 0.5)
layer o = dense(ev, 2) with IF(threshold = 0.5, reset = zero)
output o = first_spike
""").graph
    # sample 0: element 1 rises at t1, element 0 at t2; sample 1: only element 0 at t3
    x = np.array([[[0, 0], [0, 1], [1, 1], [1, 1], [9, 9]],
                  [[0, 0], [0, 0], [0, 0], [1, 0], [1, 0]]], dtype=np.float64)
    r = simulate_float(g, {"o": {"weight": np.eye(2)}}, x)
    assert r.outputs["o"].first_spike.tolist() == [[2, 1], [3, 4]]
    assert r.predictions.tolist() == [1, 0]


def test_inputs_by_name_and_errors():
    g = digits_graph()
    w = weights(g)
    x = np.random.default_rng(1).random((2, 16))
    a = simulate_float(g, w, {"pixels": x})
    b = simulate_float(g, w, x)
    np.testing.assert_array_equal(a.outputs["out"].count, b.outputs["out"].count)
    with pytest.raises(ValueError, match="no data"):
        simulate_float(g, w, {"other": x})
    with pytest.raises(ValueError, match="does not fit"):
        simulate_float(g, w, np.zeros((2, 15)))
    with pytest.raises(ValueError, match="no 'bias' weights"):
        simulate_float(g, {"hidden": w["hidden"], "out": {"weight": w["out"]["weight"]}}, x)
