"""The adaptive spiking neuron (ASN) and the ReLU unit: language, graph, quantizer, the golden model
against an independent scalar reference of docs/semantics.md, the float simulator, and the torch
target (float == float simulator, QAT == golden bit for bit, gradients)."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from snnc import ir
from snnc.backends.golden.float_sim import simulate_float
from snnc.backends.golden.golden_sim import simulate_golden
from snnc.backends.torch.model import SNN
from snnc.build import load_text
from snnc.errors import SnnError, SnnErrors
from snnc.fixedpoint import coef, quantize as quantize_fixed
from snnc.quantize import quantize
from snnc.serialize import graph_from_json, graph_to_json
from snnc.weights import random_weights

HEAD = "model m\ntime { dt = 1 ms; steps = 30 }\n"


def model(body: str, steps: int = 30) -> ir.Graph:
    return load_text(HEAD.replace("30", str(steps)) + body, "m.snn").graph


def errors_of(text: str) -> list[SnnError]:
    with pytest.raises((SnnError, SnnErrors)) as info:
        load_text(text, "bad.snn")
    exc = info.value
    return exc.errors if isinstance(exc, SnnErrors) else [exc]


# ====================================================================== language and graph


def test_asn_parameters_defaults_and_round_trip():
    g = model("input x[4] = direct\n"
              "layer h = dense(x, 3) with ASN(tau_beta = 20 ms, m_f = 0.3)\n"
              "layer r = dense(h, 2) with relu\n"
              "output r = membrane\n")
    n = g.layers[0].neuron
    assert n == ir.ASN(tau_beta=0.02, threshold=0.1, m_f=0.3, tau_gamma=0.015, tau_eta=None)
    assert n.eta == 0.02
    assert g.layers[1].neuron == ir.ReLU()
    assert ir.neuron_kind(g.layers[1].neuron) == "ReLU"
    assert g.graded("x") == "inputs" and g.graded("h") == "membrane" and g.graded("r") == "membrane"
    back = graph_from_json(json.loads(json.dumps(graph_to_json(g))))
    assert back == g
    g2 = model("input x[4] = rate\nlayer h = dense(x, 3) with ASN(tau_beta = 5 ms, tau_eta = 7 ms)\n"
               "output h = count\n")
    assert g2.layers[0].neuron.eta == 0.007
    assert g2.graded("x") is None


def test_mismatched_decoding_kernel_is_a_located_warning():
    loaded = load_text(HEAD + "input x[4] = rate\n"
                       "layer h = dense(x, 3) with ASN(tau_beta = 5 ms)\n"
                       "layer o = dense(h, 2) with ASN(tau_beta = 8 ms)\n"
                       "output o = count\n", "w.snn")
    (w,) = loaded.warnings
    assert (w.severity, w.line, w.col) == ("warning", 5, 1)
    assert "tau_eta = 5 ms" in w.message and "tau_eta = 8 ms" in w.hint
    ok = load_text(HEAD + "input x[4] = rate\n"
                   "layer h = dense(x, 3) with ASN(tau_beta = 5 ms, tau_eta = 8 ms)\n"
                   "layer o = dense(h, 2) with ASN(tau_beta = 8 ms)\n"
                   "output o = count\n", "w.snn")
    assert ok.warnings == []


@pytest.mark.parametrize("body,line,col,message", [
    ("input x[4] = rate\nlayer h = recurrent(x, 3) with ASN(tau_beta = 5 ms)\noutput h = count\n",
     4, 1, "cannot be used in a recurrent layer"),
    ("input x[1, 4, 4] = rate\nlayer c = conv2d(x, 2, 3) with ASN(tau_beta = 5 ms)\n"
     "layer p = sumpool(c, 2) with IF\noutput p = count\n", 5, 1, "only dense and conv2d"),
    ("input x[4] = rate\nlayer h = dense(x, 3) with ASN(tau_beta = 5 ms, m_f = -1)\n"
     "output h = count\n", 4, 55, "m_f"),
    ("input x[4] = rate\nlayer h = dense(x, 3) with ASN(threshold = 1)\noutput h = count\n",
     4, 28, "tau_beta"),
    ("input x[4] = rate\nlayer h = dense(x, 3) with relu(threshold = 1)\noutput h = count\n",
     4, 33, "threshold"),
])
def test_located_errors(body, line, col, message):
    errs = errors_of(HEAD + body)
    assert errs[0].loc is not None and errs[0].loc.path == "bad.snn"
    assert (errs[0].line, errs[0].col) == (line, col), errs[0].format()
    assert message in errs[0].message


def test_quantizer_plans_asn_and_graded_accumulators():
    g = model("input x[8] = direct\n"
              "layer h = dense(x, 5, bias = true) with ASN(tau_beta = 20 ms, threshold = 0.25, "
              "m_f = 0.5, tau_gamma = 10 ms, tau_eta = 30 ms)\n"
              "layer o = dense(h, 3) with LIF(tau_mem = 10 ms)\n"
              "output o = count\n"
              "hardware { weights = fixed<10,7>; state = fixed<16,9>; adaptation = fixed<18,11>; "
              "inputs = fixed<12,10> }\n")
    q = quantize(g, random_weights(g, seed=0))
    h, o = q.plan("h"), q.plan("o")
    n = h.neuron
    assert (n.kind, n.threshold, n.leak, n.m_f) == ("ASN", 128, "multiply", coef(0.5))
    assert (n.mem_decay, n.adapt_decay, n.pred_decay) == (
        coef(math.exp(-1 / 20)), coef(math.exp(-1 / 10)), coef(math.exp(-1 / 30)))
    assert n.graded
    assert (h.acc_frac, h.acc_bits) == (7 + 10, 10 + 12 + 4)        # direct input: Fw + Fx
    assert (o.acc_frac, o.acc_bits) == (7 + 9, 10 + 16 + 3)         # ASN heights: Fw + Fm
    shift = dataclasses.replace(g, hardware=dataclasses.replace(g.hardware, decay="shift"))
    ns = quantize(shift, random_weights(g, seed=0)).plan("h").neuron
    assert (ns.leak, ns.mem_decay, ns.adapt_decay, ns.pred_decay) == ("shift", 4, 3, 5)


# ====================================================================== independent references


def _rshift(x: int, s: int) -> int:
    return (x + (1 << (s - 1))) >> s


def _rescale(x: int, f1: int, f2: int) -> int:
    return x << (f2 - f1) if f2 >= f1 else _rshift(x, f1 - f2)


def _decay(v: int, leak: str, c: int) -> int:
    return _rshift(c * v, 16) if leak == "multiply" else v - (v >> c)


def asn_reference_int(inputs, consts, fm_fmt, fa_fmt):
    """docs/semantics.md section 4 for the ASN, one neuron at a time in Python integers.

    ``inputs`` [T, N] in membrane units. Returns spikes, heights, U [T, N] and clamp counts."""
    T, N = inputs.shape
    S = np.zeros((T, N), dtype=np.uint8)
    H = np.zeros((T, N), dtype=np.int64)
    Us = np.zeros((T, N), dtype=np.int64)
    sat = {"U": 0, "P": 0, "A": 0, "H": 0}
    fm, fa = fm_fmt.frac, fa_fmt.frac

    def clamp(v, fmt, key):
        if v < fmt.min_int or v > fmt.max_int:
            sat[key] += 1
            return min(max(v, fmt.min_int), fmt.max_int)
        return v

    for n in range(N):
        U = P = A = 0
        for t in range(T):
            U = clamp(_decay(U, consts.leak, consts.mem_decay) + int(inputs[t, n]), fm_fmt, "U")
            A = _decay(A, consts.leak, consts.adapt_decay)
            P = _decay(P, consts.leak, consts.pred_decay)
            theta = consts.threshold + _rescale(A, fa, fm)
            if 2 * (U - P) > theta:
                h = clamp(theta, fm_fmt, "H")
                P = clamp(P + h, fm_fmt, "P")
                A = clamp(A + _rescale(consts.m_f * h, 16 + fm, fa), fa_fmt, "A")
                S[t, n], H[t, n] = 1, h
            Us[t, n] = U
    return S, H, Us, sat


def asn_reference_float(inputs, n: ir.ASN, dt: float):
    T, N = inputs.shape
    b, g, e = math.exp(-dt / n.tau_beta), math.exp(-dt / n.tau_gamma), math.exp(-dt / n.eta)
    U = np.zeros(N)
    P = np.zeros(N)
    A = np.zeros(N)
    S, H, Us = np.zeros((T, N)), np.zeros((T, N)), np.zeros((T, N))
    for t in range(T):
        U = b * U + inputs[t]
        A, P = g * A, e * P
        theta = n.threshold + A
        s = U - P > theta / 2
        h = np.where(s, theta, 0.0)
        P, A = P + h, A + n.m_f * h
        S[t], H[t], Us[t] = s, h, U
    return S, H, Us


NET = ("input x[12] = direct(scale = {scale})\n"
       "layer h = dense(x, 9, bias = true) with ASN(tau_beta = 8 ms, threshold = {th}, m_f = {mf}, "
       "tau_gamma = 12 ms, leak = {leak})\n"
       "layer o = dense(h, 4) with ASN(tau_beta = 6 ms, threshold = 0.2, m_f = 0.3)\n"
       "output o = membrane\n"
       "hardware {{ weights = fixed<8,6>; state = {state}; inputs = fixed<12,8> }}\n")
NET_CASES = [dict(scale=0.3, th=0.1, mf=0.2, leak="multiply", state="fixed<16,8>"),
             dict(scale=0.5, th=0.05, mf=0.8, leak="shift", state="fixed<16,8>"),
             dict(scale=1.5, th=0.25, mf=1.5, leak="multiply", state="fixed<10,5>")]   # saturates


@pytest.mark.parametrize("case", NET_CASES, ids=["multiply", "shift", "saturating"])
def test_golden_matches_the_scalar_integer_reference(case):
    g = model(NET.format(**case), steps=25)
    w = random_weights(g, seed=3, scale=4.0)
    q = quantize(g, w)
    f = q.formats
    x = np.random.default_rng(1).random((5, 12))
    res = simulate_golden(q, x, record=True)
    xq, _ = quantize_fixed(case["scale"] * x, f.inputs)                       # [B, 12]
    wh, bh = q.weights["h"]["weight"], q.weights["h"]["bias"]
    wo = q.weights["o"]["weight"]
    total = {"U": 0, "P": 0, "A": 0, "H": 0}
    for b in range(5):
        acc = np.tile(wh @ xq[b] + (bh << f.inputs.frac), (25, 1))          # [T, 9]
        inp = np.vectorize(lambda a: _rescale(int(a), f.weights.frac + f.inputs.frac,
                                              f.membrane.frac))(acc)
        S1, H1, U1, sat1 = asn_reference_int(inp, q.plan("h").neuron, f.membrane, f.adaptation)
        acc2 = H1 @ wo.T                                                      # graded: W x height
        inp2 = np.vectorize(lambda a: _rescale(int(a), f.weights.frac + f.membrane.frac,
                                               f.membrane.frac))(acc2)
        S2, H2, U2, sat2 = asn_reference_int(inp2, q.plan("o").neuron, f.membrane, f.adaptation)
        np.testing.assert_array_equal(res.spikes["h"][:, b], S1)
        np.testing.assert_array_equal(res.payloads["h"][:, b], H1)
        np.testing.assert_array_equal(res.membranes["h"][:, b], U1)
        np.testing.assert_array_equal(res.payloads["o"][:, b], H2)
        np.testing.assert_array_equal(res.membranes["o"][:, b], U2)
        np.testing.assert_array_equal(res.outputs["o"].membrane[b], U2.sum(0))
        for k in total:
            total[k] += sat1[k]
    assert res.stats["h"].saturation == total
    assert res.stats["h"].spikes == int(res.spikes["h"].sum())
    # SOPs: every delivered non-zero event reaches `units` synapses
    assert res.stats["o"].sops == int(np.count_nonzero(res.payloads["h"])) * 4
    if case["state"] == "fixed<10,5>":
        assert sum(res.stats["h"].saturation.values()) + sum(res.stats["o"].saturation.values()) > 0


def test_float_simulator_matches_the_float_reference():
    g = model(NET.format(**NET_CASES[0]), steps=25)
    w = random_weights(g, seed=4, scale=4.0)
    x = np.random.default_rng(2).random((3, 12))
    res = simulate_float(g, w, x, record=True)
    n1, n2 = g.layers[0].neuron, g.layers[1].neuron
    for b in range(3):
        inp = np.tile(w["h"]["weight"] @ (0.3 * x[b]) + w["h"]["bias"], (25, 1))
        S1, H1, U1 = asn_reference_float(inp, n1, 1e-3)
        S2, H2, U2 = asn_reference_float(H1 @ w["o"]["weight"].T, n2, 1e-3)
        np.testing.assert_array_equal(res.spikes["h"][:, b], S1)
        np.testing.assert_allclose(res.payloads["h"][:, b], H1, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(res.membranes["o"][:, b], U2, rtol=1e-12, atol=1e-12)
    assert res.stats["h"].spikes > 0


def test_sigma_delta_prediction_tracks_a_steady_input():
    """With a steady input the self-prediction P tracks the input current U: after the transient
    |U - P| stays within the largest threshold, and the decoded output follows ReLU(input)."""
    n = ir.ASN(tau_beta=0.02, threshold=0.05, m_f=0.2, tau_gamma=0.015)
    drive = np.array([0.02, 0.05, 0.1, -0.05])                  # per-step input current
    T = 300
    S, H, U = asn_reference_float(np.tile(drive, (T, 1)), n, 1e-3)
    e = math.exp(-1 / 20)
    P = np.zeros(4)
    for t in range(T):
        P = e * P + H[t]
    steady = drive / (1 - e)
    np.testing.assert_allclose(U[-1], steady, rtol=1e-6)
    assert H[:, 3].sum() == 0                                    # negative input: silent
    decoded = np.zeros((T, 4))
    acc = np.zeros(4)
    for t in range(T):
        acc = e * acc + H[t]
        decoded[t] = acc
    late = decoded[150:].mean(0)
    np.testing.assert_allclose(late[:3], steady[:3], rtol=0.15)


# ====================================================================== torch


TORCH_MODELS = {
    "direct": NET.format(**NET_CASES[0]),
    "shift-saturating": NET.format(**NET_CASES[2]).replace("leak = multiply", "leak = shift"),
    "rate-asn-lif": ("input x[12] = rate\n"
                     "layer h = dense(x, 10) with ASN(tau_beta = 5 ms, threshold = 0.3, m_f = 0.5)\n"
                     "layer o = dense(h, 4, bias = true) with LIF(tau_mem = 8 ms, threshold = 0.5)\n"
                     "output o = count\n"),
    "conv-relu-asn": ("input x[1, 5, 5] = direct(scale = 0.7)\n"
                      "layer c = conv2d(x, 3, 3, padding = 1, bias = true) with relu\n"
                      "layer f = flatten(c)\n"
                      "layer o = dense(f, 4) with ASN(tau_beta = 10 ms, threshold = 0.15, "
                      "m_f = 0.4, tau_eta = 7 ms)\n"
                      "output o = count\n"
                      "hardware { weights = fixed<8,6>; state = fixed<14,7> }\n"),
}


def _inputs(g, seed):
    (inp,) = g.inputs
    return np.random.default_rng(seed).random((6, *inp.shape))


@pytest.mark.parametrize("name", list(TORCH_MODELS))
def test_torch_float_equals_the_float_simulator(name):
    g = model(TORCH_MODELS[name], steps=20)
    w = random_weights(g, seed=5, scale=4.0)
    x = _inputs(g, 6)
    ref = simulate_float(g, w, x, seed=3, record=True)
    net = SNN(g, w).to(torch.float64)
    out = net(net.encode(x, seed=3))
    for layer in g.layers:
        if isinstance(layer, ir.Flatten):
            continue
        np.testing.assert_array_equal(out.spikes[layer.name].detach().numpy(), ref.spikes[layer.name])
        np.testing.assert_allclose(out.membranes[layer.name].detach().numpy(),
                                   ref.membranes[layer.name], rtol=1e-9, atol=1e-9)
        if ir.is_graded(layer.neuron):
            np.testing.assert_allclose(out.payloads[layer.name].detach().numpy(),
                                       ref.payloads[layer.name], rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(out.predictions.numpy(), ref.predictions)


@pytest.mark.parametrize("name", list(TORCH_MODELS))
@pytest.mark.parametrize("seed", [0, 1])
def test_torch_qat_is_bit_exact_with_the_golden_model(name, seed):
    g = model(TORCH_MODELS[name], steps=20)
    w = random_weights(g, seed=seed, scale=4.0)
    x = _inputs(g, seed + 10)
    q = quantize(g, w)
    ref = simulate_golden(q, x, seed=3, record=True)
    net = SNN(g, w, qat=True)
    out = net(net.encode(x, seed=3))
    fm = q.formats.membrane.frac
    for layer in g.layers:
        if isinstance(layer, ir.Flatten):
            continue
        np.testing.assert_array_equal(out.spikes[layer.name].detach().numpy(), ref.spikes[layer.name])
        mem = out.membranes[layer.name].detach().numpy() * 2.0 ** fm
        np.testing.assert_array_equal(mem, ref.membranes[layer.name])
        if ir.is_graded(layer.neuron):
            pay = out.payloads[layer.name].detach().numpy() * 2.0 ** fm
            np.testing.assert_array_equal(pay, ref.payloads[layer.name])
        assert out.saturation_counts()[layer.name] == ref.stats[layer.name].saturation
    np.testing.assert_array_equal(out.predictions.numpy(), ref.predictions)
    if name == "shift-saturating":
        assert sum(sum(ref.stats[n].saturation.values()) for n in ("h", "o")) > 0


@pytest.mark.parametrize("qat", [False, True])
def test_asn_is_trainable_with_surrogate_gradients(qat):
    g = model(TORCH_MODELS["direct"], steps=15)
    w = random_weights(g, seed=2, scale=4.0)
    net = SNN(g, w, qat=qat)
    if not qat:
        net.to(torch.float64)
    x = _inputs(g, 3)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    losses = []
    for _ in range(12):
        out = net(net.encode(x))
        loss = torch.nn.functional.cross_entropy(out.readout / 15, y)
        opt.zero_grad()
        loss.backward()
        grads = [p.grad for p in net.parameters()]
        assert all(gr is not None and torch.isfinite(gr).all() for gr in grads)
        assert float(net.layer("h").weight.grad.abs().sum()) > 0     # through the heights
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]


def test_tbptt_cuts_the_asn_state_gradient():
    g = model(TORCH_MODELS["direct"], steps=10)
    w = random_weights(g, seed=2, scale=4.0)
    x = _inputs(g, 3)
    grads = []
    for tbptt in (0, 3):
        net = SNN(g, w, tbptt=tbptt).to(torch.float64)
        out = net(net.encode(x))
        out.membranes["o"][-1].sum().backward()
        grads.append(net.layer("h").weight.grad.clone())
    assert not torch.allclose(grads[0], grads[1])


def test_user_defined_asn_equals_builtin_with_fixed_threshold():
    """examples/asn_user.snn's neuron with m_f = 0 is the built-in ASN with m_f = 0: its graded
    events (`emit threshold + a`) carry the same heights theta0 (tests/test_graded_user_neuron.py
    compares the example itself, with adaptation, in every backend)."""
    text = open("examples/asn_user.snn").read().replace("m_f = 0.5", "m_f = 0")
    user = load_text(text, "examples/asn_user.snn").graph
    builtin = load_text(open("examples/asn_digits.snn").read().replace("m_f = 0.5", "m_f = 0"),
                        "examples/asn_digits.snn").graph
    w = random_weights(user, seed=1)
    w = {k: {kk: np.asarray(vv) * 4 for kk, vv in v.items()} for k, v in w.items()}
    x = np.random.default_rng(0).random((4, 64))
    a = simulate_float(user, w, x, record=True)
    b = simulate_float(builtin, w, x, record=True)
    for layer in ("hidden", "out"):
        np.testing.assert_array_equal(a.spikes[layer], b.spikes[layer])
        np.testing.assert_array_equal(a.payloads[layer], b.payloads[layer])
    assert a.stats["out"].spikes > 0
    np.testing.assert_array_equal(np.unique(a.payloads["hidden"]), [0.0, 0.5])   # theta0 only


def test_relu_layers_compute_the_ann():
    g = model("input x[6] = direct(scale = 2.0)\n"
              "layer h = dense(x, 5, bias = true) with relu\n"
              "layer o = dense(h, 3, bias = true) with ReLU\n"
              "output o = membrane\n", steps=1)
    w = random_weights(g, seed=7)
    x = np.random.default_rng(8).random((7, 6))
    h = np.maximum(2 * x @ w["h"]["weight"].T + w["h"]["bias"], 0)
    logits = h @ w["o"]["weight"].T + w["o"]["bias"]
    res = simulate_float(g, w, x, record=True)
    np.testing.assert_allclose(res.payloads["h"][0], h, rtol=1e-12)
    np.testing.assert_allclose(res.outputs["o"].membrane, logits, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(res.predictions, np.argmax(logits, axis=1))
    assert res.stats["h"].spikes == int(np.count_nonzero(h))
    # integers: U = sat(rescale(acc)), H = max(U, 0)
    q = quantize(g, w)
    gi = simulate_golden(q, x, record=True)
    f = q.formats
    xq, _ = quantize_fixed(2 * x, f.inputs)
    acc = xq @ q.weights["h"]["weight"].T + (q.weights["h"]["bias"] << f.inputs.frac)
    u = np.vectorize(lambda a: _rescale(int(a), f.weights.frac + f.inputs.frac, f.membrane.frac))(acc)
    np.testing.assert_array_equal(gi.membranes["h"][0], np.clip(u, f.membrane.min_int,
                                                                f.membrane.max_int))
    np.testing.assert_array_equal(gi.payloads["h"][0], np.maximum(gi.membranes["h"][0], 0))


@pytest.mark.parametrize("tbptt", [0, 4])
def test_asn_scan_gradients_equal_the_autograd_reference(tbptt):
    from snnc.backends.torch.asn import asn_float, asn_reference
    from snnc.backends.torch.surrogates import resolve

    n = ir.ASN(tau_beta=0.008, threshold=0.1, m_f=0.4, tau_gamma=0.012, tau_eta=0.006)
    sur = resolve(ir.Surrogate("fast_sigmoid", (("slope", 5.0),)))
    X = torch.rand(14, 3, 7, dtype=torch.float64) * 0.3
    gS, gU, gH = (torch.randn(14, 3, 7, dtype=torch.float64) for _ in range(3))
    outs, grads = [], []
    for fn in (asn_float, asn_reference):
        x = X.clone().requires_grad_(True)
        S, U, H = fn(x, n, 1e-3, sur, tbptt)
        ((S * gS).sum() + (U * gU).sum() + (H * gH).sum()).backward()
        outs.append((S.detach(), U.detach(), H.detach()))
        grads.append(x.grad)
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert outs[0][0].sum() > 0
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("tbptt", [0, 5])
def test_asn_integer_scan_equals_its_straight_through_reference(tbptt):
    from snnc.backends.torch.asn import asn_int, asn_int_reference
    from snnc.backends.torch.surrogates import resolve

    g = model(NET.format(**NET_CASES[2]), steps=16)            # a saturating configuration
    q = quantize(g, random_weights(g, seed=3, scale=4.0))
    plan = q.plan("h")
    sur = resolve(None)
    acc = torch.randint(-3000, 60000, (16, 4, 9), dtype=torch.int64).to(torch.float64)
    X = acc * 2.0 ** -plan.acc_frac
    gS, gU, gH = (torch.randn(16, 4, 9, dtype=torch.float64) for _ in range(3))
    results = []
    for fn in (asn_int, asn_int_reference):
        x = X.clone().requires_grad_(True)
        S, U, H, sat = fn(x, plan.neuron, plan.acc_frac, q.formats, sur, tbptt)
        ((S * gS).sum() + (U * gU).sum() + (H * gH).sum()).backward()
        results.append((S.detach(), U.detach(), H.detach(), {k: int(v) for k, v in sat.items()},
                        x.grad))
    (S1, U1, H1, sat1, g1), (S2, U2, H2, sat2, g2) = results
    assert torch.equal(S1, S2) and torch.equal(U1, U2) and torch.equal(H1, H2)
    assert sat1 == sat2 and sum(sat1.values()) > 0
    torch.testing.assert_close(g1, g2, rtol=1e-10, atol=1e-10)
