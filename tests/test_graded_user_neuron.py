"""User-defined neurons with graded spikes (`spike when COND emit HEIGHT`, docs/language.md section
8): the language and its located errors, the graph, the golden model (float and integers) against
a scalar reference of docs/semantics.md, the torch target (float == float simulator, QAT == golden
bit for bit, surrogate gradients through the height), the HLS C simulation bit for bit, and
examples/asn_user.snn == the built-in ASN of examples/asn_digits.snn (spikes, payloads, readouts,
saturation counts and accuracy)."""
from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch

import snnc
from snnc import expr as E
from snnc import intexpr as I
from snnc import ir
from snnc.backends.golden.float_sim import simulate_float
from snnc.backends.golden.golden_sim import simulate_golden
from snnc.backends.torch.model import SNN
from snnc.build import load_text
from snnc.datasets import load_dataset
from snnc.dsl.parser import parse_text
from snnc.errors import SnnError, SnnErrors
from snnc.fixedpoint import coef, rshift_round
from snnc.quantize import quantize
from snnc.serialize import dump, graph_from_json, graph_hash, graph_to_json
from snnc.weights import random_weights

from snn_models import ROOT

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")


def src(*lines: str) -> str:
    return "\n".join(lines) + "\n"


#: A graded neuron on lines 3-9: the height is the membrane above half the threshold.
GRADED = src(
    "model m",
    "time { dt = 1 ms; steps = 25 }",
    "neuron G {",
    "    param threshold = 0.5",
    "    state u = 0",
    "    update { u = decay(10 ms) * u + input }",
    "    spike when u > threshold emit u - threshold / 2",
    "    on spike { u = u - threshold }",
    "}",
    "input x[6] = direct(scale = 1.0)",
    "layer h = dense(x, 7) with G",
    "layer o = dense(h, 4) with LIF(tau_mem = 10 ms)",
    "output o = membrane")


def errors_of(text: str) -> list[SnnError]:
    with pytest.raises((SnnError, SnnErrors)) as info:
        load_text(text, "bad.snn")
    exc = info.value
    return exc.errors if isinstance(exc, SnnErrors) else [exc]


def neuron_model(spike_line: str, layer: str = "layer l = dense(x, 4) with N") -> str:
    """A neuron N on lines 3-8 whose spike line (line 7) is ``spike_line``."""
    return src("model m", "time { dt = 1 ms; steps = 10 }", "neuron N {",
               "    param th = 1.0", "    state v = 0", "    update { v = v + input }",
               spike_line, "}", "input x[4] = rate", layer, "output l = count")


def weights(graph, seed: int, gain: float) -> dict:
    w = random_weights(graph, seed=seed)
    return {layer: {k: np.asarray(v) * gain for k, v in t.items()} for layer, t in w.items()}


# ====================================================================== language and graph


def test_emit_is_parsed_with_its_location():
    mod = parse_text(GRADED, "g.snn")
    nd = next(s for s in mod.statements if type(s).__name__ == "NeuronDef")
    assert len(nd.spike) == 1 and len(nd.emit) == 1
    h = nd.emit[0]
    assert (h.loc.line, h.loc.col) == (7, 35)
    assert type(h).__name__ == "BinOp" and h.op == "-"
    plain = parse_text(GRADED.replace(" emit u - threshold / 2", ""), "p.snn")
    nd = next(s for s in plain.statements if type(s).__name__ == "NeuronDef")
    assert nd.emit == (None,)


def test_graph_records_the_height_and_gradedness():
    g = load_text(GRADED, "g.snn").graph
    n = g.layers[0].neuron
    assert isinstance(n, ir.CustomNeuron) and ir.is_graded(n)
    assert n.emit == E.Binary("-", E.Ref("state", "u"),
                              E.Binary("/", E.Ref("param", "threshold"), E.Const(2.0)))
    assert g.graded("h") == "membrane" and g.graded("o") is None and g.graded("x") == "inputs"
    back = graph_from_json(json.loads(json.dumps(graph_to_json(g))))
    assert back == g and back.layers[0].neuron.emit == n.emit
    assert "spike when u > threshold emit u - (threshold / 2)" in dump(g)
    plain = load_text(GRADED.replace(" emit u - threshold / 2", ""), "p.snn").graph
    assert plain.layers[0].neuron.emit is None and plain.graded("h") is None
    assert graph_from_json(graph_to_json(plain)) == plain
    assert graph_hash(plain) != graph_hash(g)
    # the quantizer lowers the height like any other expression: u - 0.25 in membrane units
    q = quantize(g, random_weights(g, seed=0))
    prog = q.plan("h").neuron
    assert prog.emit == I.IArith("-", I.IState("u"), I.IConst(64)) and prog.graded
    # and the consumer accumulates weight x payload (Fw + Fm fractional bits)
    f = q.formats
    assert q.plan("o").acc_frac == f.weights.frac + f.membrane.frac


@pytest.mark.parametrize("spike_line, expected", [
    ("    spike when v > th emit w + 1",
     [(7, 28, "unknown name 'w'")]),
    ("    spike when v > th emit v > th",
     [(7, 28, "the spike height after `emit` must be a number, not a condition")]),
    ("    spike when v > th emit dt",
     [(7, 28, "the spike height after `emit` must be a plain number (it multiplies the weights "
               "of the layers reading the spikes), got a time")]),
    ("    spike when v > th emit input * dt",
     [(7, 28, "the spike height after `emit` must be a plain number (it multiplies the weights "
               "of the layers reading the spikes), got a time")]),
    ("    spike when v > th emit",
     [(8, 1, "unexpected '}', expected one of "
             "'(', '+', '-', 'input', 'not', a name, a number, a number with a unit")]),
    ("    emit v",
     None),
])
def test_misused_emit_is_a_located_error(spike_line, expected):
    errs = errors_of(neuron_model(spike_line))
    if expected is None:           # `emit` without `spike when`: a syntax error at `emit`
        assert [(e.line, e.col) for e in errs] == [(7, 5)]
        assert errs[0].message.startswith("unexpected 'emit'")
        return
    assert [(e.line, e.col, e.message) for e in errs] == expected
    assert all(e.loc.path == "bad.snn" for e in errs)
    text = errs[0].format()
    assert "bad.snn:%d:%d" % expected[0][:2] in text
    caret = text.splitlines()[-1] if "^" in text.splitlines()[-1] else \
        next(line for line in text.splitlines() if line.strip().endswith("^"))
    assert caret.index("^") - caret.index("|") - 2 == expected[0][1] - 1   # under the column


def _height_model(*body: str) -> str:
    """A neuron N on lines 3.. with ``body`` after ``neuron N {``."""
    return src("model m", "time { dt = 1 ms; steps = 10 }", "neuron N {", *body, "}",
               "input x[4] = rate", "layer l = dense(x, 4) with N", "output l = count")


def test_height_in_on_spike_and_its_misuse():
    ok = load_text(_height_model("    state v = 0", "    state p = 0",
                                 "    update { v = v + input }",
                                 "    spike when v > 1 emit v - p",
                                 "    on spike { p = p + height; v = 0 }"), "ok.snn").graph
    n = ok.layers[0].neuron
    assert n.on_spike[0].value == E.Binary("+", E.Ref("state", "p"), E.Ref("height", "height"))
    q = quantize(ok, random_weights(ok, seed=0))
    assert q.plan("l").neuron.on_spike[0].value == I.IArith("+", I.IState("p"),
                                                            I.IState(I.EMIT_KEY))
    cases = [
        # no `emit`: `height` is unknown, with a hint saying where it is known
        ((_height_model("    state v = 0", "    update { v = v + input }",
                        "    spike when v > 1", "    on spike { v = height }")),
         [(7, 20, "unknown name 'height'",
           "`height` is the spike's height, known in `on spike` of a neuron whose spike "
           "condition has `emit HEIGHT`")]),
        # with `emit`, but in `update` (before any spike)
        ((_height_model("    state v = 0", "    update { v = v + height }",
                        "    spike when v > 1 emit v")),
         [(5, 22, "unknown name 'height'",
           "`height` is the spike's height, known in `on spike` of a neuron whose spike "
           "condition has `emit HEIGHT`")]),
        # assigned to
        ((_height_model("    state v = 0", "    update { v = v + input }",
                        "    spike when v > 1 emit v", "    on spike { height = 0 }")),
         [(7, 16, "cannot assign to 'height', the height of the spike; only state variables "
                  "change", None)]),
        # a graded neuron cannot declare its own `height`
        ((_height_model("    param height = 2.0", "    state v = 0", "    update { v = v + input }",
                        "    spike when v > 1 emit v * height")),
         [(4, 11, "'height' is the spike height in `on spike` of a neuron with `emit`; rename "
                  "this parameter", None)]),
    ]
    for text, expected in cases:
        errs = errors_of(text)
        assert [(e.line, e.col, e.message, e.hint) for e in errs] == expected
    # a plain neuron may still use `height` as a name of its own
    plain = load_text(_height_model("    param height = 2.0", "    state v = 0",
                                    "    update { v = v + input }", "    spike when v > height"),
                      "p.snn").graph
    assert plain.layers[0].neuron.param("height") == 2.0


def test_graded_user_neuron_cannot_be_recurrent():
    errs = errors_of(neuron_model("    spike when v > th emit v",
                                  layer="layer l = recurrent(x, 4) with N"))
    assert [(e.line, e.col, e.message) for e in errs] == [
        (10, 1, "layer 'l': a N neuron cannot be used in a recurrent layer (use dense)")]


def test_verilog_backend_builds_graded_user_neurons(tmp_path):
    """The Verilog backend lowers a graded user neuron to a datapath (KIND 5): its events are
    graded (the height as the payload, U_W bits, signed) and its state word holds the height
    (tests/hw/test_user_cosim.py co-simulates such designs bit-exact)."""
    from snnc.backends.verilog import generate
    from snnc.backends.verilog.plan import check_supported

    g = load_text(neuron_model("    spike when v > th emit v"), "v.snn").graph
    q = quantize(g, random_weights(g, seed=0))
    check_supported(q)
    man = generate(q, tmp_path)
    (lay,) = man["layers"]
    assert lay["kind"] == "user" and lay["parameters"]["KIND"] == 5
    assert lay["payload"] == {"width": q.formats.membrane.width, "signed": True, "graded": True,
                              "doc": lay["payload"]["doc"]}
    assert [f["name"] for f in lay["state"]["fields"]] == ["v", "S", "emit"]
    assert lay["saturation"] == {"v": "sat_u_count", "emit": "sat_h_count"}
    assert "snn_user.v" in man["files"] and (tmp_path / "snn_user.v").exists()


# ====================================================================== golden model


def _reference_int(q, x):
    """docs/semantics.md section 4 for GRADED, scalar Python integers: the hidden layer's spikes
    and payloads, its saturation counts, and the output layer's accumulated input."""
    f = q.formats
    fm, fw, fx = f.membrane.frac, f.weights.frac, f.inputs.frac
    lo, hi = f.membrane.min_int, f.membrane.max_int
    wh = q.weights["h"]["weight"]
    xq = np.clip(np.floor(x * 2.0 ** fx + 0.5), f.inputs.min_int, f.inputs.max_int).astype(np.int64)
    c = coef(math.exp(-1 / 10))
    th = int(np.floor(0.5 * 2 ** fm + 0.5))
    half = int(np.floor(0.25 * 2 ** fm + 0.5))
    B, T, N = x.shape[0], q.graph.time.steps, wh.shape[0]
    S = np.zeros((T, B, N), dtype=np.int64)
    H = np.zeros((T, B, N), dtype=np.int64)
    sat = {"u": 0, "emit": 0}
    for b in range(B):
        acc = wh @ xq[b]
        inp = [int(rshift_round(np.int64(a), fw + fx - fm)) for a in acc]
        u = [0] * N
        for t in range(T):
            for n in range(N):
                v = int(rshift_round(np.int64(c * u[n]), 16)) + inp[n]
                if v < lo or v > hi:
                    sat["u"] += 1
                u[n] = min(max(v, lo), hi)
                if u[n] > th:
                    S[t, b, n] = 1
                    h = u[n] - half
                    if h < 0 or h > hi:
                        sat["emit"] += 1
                    H[t, b, n] = min(max(h, 0), hi)
                    v = u[n] - th
                    if v < lo or v > hi:
                        sat["u"] += 1
                    u[n] = min(max(v, lo), hi)
    return S, H, sat


def test_golden_integer_heights_match_the_semantics():
    g = load_text(GRADED, "g.snn").graph
    q = quantize(g, weights(g, seed=2, gain=2.0))
    x = np.random.default_rng(1).random((3, 6))
    r = simulate_golden(q, x, record=True)
    S, H, sat = _reference_int(q, x)
    np.testing.assert_array_equal(r.spikes["h"], S)
    np.testing.assert_array_equal(r.payloads["h"], H)
    assert r.stats["h"].saturation == sat
    assert S.sum() > 20 and len(np.unique(H[S == 1])) > 5       # graded: heights vary
    np.testing.assert_array_equal(r.final_state["h"]["emit"], H[-1])
    # the consumer adds weight x payload: its first step's input is rescale(W h, Fw + Fm, Fm)
    f = q.formats
    acc = H[0] @ q.weights["o"]["weight"].T
    inp = rshift_round(acc, f.weights.frac)
    np.testing.assert_array_equal(r.membranes["o"][0], np.clip(inp, f.membrane.min_int,
                                                                f.membrane.max_int))


def test_golden_height_saturates_to_the_payload_range_and_counts():
    # a 8-bit membrane with 4 fractional bits: heights above 7.9375 and below 0 are clamped
    text = GRADED.replace("emit u - threshold / 2", "emit 4 * u - 6") + \
        "hardware { state = fixed<8,4>; weights = fixed<8,4> }\n"
    g = load_text(text, "s.snn").graph
    q = quantize(g, weights(g, seed=4, gain=3.0))
    x = np.random.default_rng(3).random((4, 6))
    r = simulate_golden(q, x, record=True)
    h, s = r.payloads["h"], r.spikes["h"]
    top = q.formats.membrane.max_int
    assert (h[s == 1] == top).any() and (h[s == 1] == 0).any()
    assert h.min() >= 0 and h.max() <= top and (h[s == 0] == 0).all()
    # every clamp of a spike's height is counted, where it spiked only: 4u - 6 from the recorded
    # membrane (the state the spike test saw is u before `on spike`: the trace has u after it)
    th = 8                                                  # 0.5 in 4 fractional bits
    u_test = np.where(s == 1, r.membranes["h"] + th, r.membranes["h"])
    raw = np.where(s == 1, rshift_round(np.int64(4 << 16) * u_test, 16) - 96, 0)
    np.testing.assert_array_equal(h, np.where(s == 1, np.clip(raw, 0, top), 0))
    clamped = int(np.count_nonzero((s == 1) & ((raw < 0) | (raw > top))))
    assert clamped > 0 and r.stats["h"].saturation["emit"] == clamped
    # float: no saturation, the heights are the expression's values where it spiked
    rf = simulate_float(g, weights(g, seed=4, gain=3.0), x, record=True)
    assert rf.payloads["h"][rf.spikes["h"] == 1].min() < 0


def test_float_heights_are_the_expression_where_it_spiked():
    g = load_text(GRADED, "g.snn").graph
    w = weights(g, seed=2, gain=2.0)
    x = np.random.default_rng(1).random((3, 6))
    r = simulate_float(g, w, x, record=True)
    b, th = math.exp(-1 / 10), 0.5
    inp = np.einsum("nj,bj->bn", w["h"]["weight"], x)
    u = np.zeros_like(inp)
    for t in range(g.time.steps):
        u = b * u + inp
        s = u > th
        np.testing.assert_array_equal(r.spikes["h"][t], s)
        np.testing.assert_allclose(r.payloads["h"][t], np.where(s, u - th / 2, 0), rtol=1e-12,
                                   atol=1e-12)
        u = np.where(s, u - th, u)
    assert r.stats["h"].spikes > 0


# ====================================================================== torch


def test_torch_float_and_qat_match_the_golden_model_and_train():
    g = load_text(GRADED, "g.snn").graph
    w = weights(g, seed=2, gain=2.0)
    x = np.random.default_rng(1).random((5, 6))
    rf = simulate_float(g, w, x, record=True)
    q = quantize(g, w)
    rg = simulate_golden(q, x, record=True)
    fm = q.formats.membrane.frac
    for qat, ref, scale in ((False, rf, 1.0), (True, rg, 2.0 ** fm)):
        net = SNN(g, w, qat=qat).to(torch.float64)
        out = net(net.encode(x))
        np.testing.assert_array_equal(out.spikes["h"].detach().numpy(), ref.spikes["h"])
        pay = out.payloads["h"].detach().numpy() * scale
        if qat:
            np.testing.assert_array_equal(pay, ref.payloads["h"])
            np.testing.assert_array_equal(out.membranes["o"].detach().numpy().sum(0) * scale,
                                          ref.outputs["o"].membrane)
            assert {k: int(v) for k, v in out.saturation["h"].items()} == \
                ref.stats["h"].saturation
        else:
            np.testing.assert_allclose(pay, ref.payloads["h"], rtol=1e-12, atol=1e-12)
        # surrogate gradients flow through the height into the hidden layer's weights
        out.readout.sum().backward()
        grad = net.layer("h").weight.grad
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_torch_height_gradient_is_the_height_expression():
    """d(sum H)/dx through `emit u - threshold/2` with the spike fixed: the height's derivative in
    u is 1, so with the surrogate's part removed (a steep surrogate, far from the threshold) the
    gradient of the first step's height w.r.t. its input is the spike."""
    from snnc.backends.torch import user_neurons as N
    from snnc.backends.torch.surrogates import Surrogate, resolve

    g = load_text(GRADED, "g.snn").graph
    n = g.layers[0].neuron
    sur = resolve(ir.Surrogate("fast_sigmoid", (("slope", 1e6),)))
    x = torch.tensor([[2.0, 0.1, 3.0]], dtype=torch.float64, requires_grad=True)
    runner = N.UserFloat(n, 1e-3, sur, x)
    S, U, H = N.run_user(runner, x.unsqueeze(0))
    H.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 0.0, 1.0]], atol=1e-6)
    np.testing.assert_allclose(H.detach().numpy(), [[[1.75, 0.0, 2.75]]])
    assert isinstance(sur, Surrogate)


# ====================================================================== the ASN as a user neuron


def _trained_weights(graph, ds):
    """A ReLU network 64-128-10 (random hidden layer, ridge-regression readout) for the ASN
    models: their input current settles at W x (the input's scale is 1 - b), so biases are
    scaled by 1 - b to settle at the bias."""
    rng = np.random.default_rng(0)
    X, y = ds.x_train.astype(np.float64), ds.y_train
    w1, b1 = rng.normal(0, 0.25, (128, 64)), rng.normal(0, 0.1, 128)
    h = np.hstack([np.maximum(X @ w1.T + b1, 0), np.ones((len(X), 1))])
    sol = np.linalg.solve(h.T @ h + np.eye(129), h.T @ np.eye(10)[y])
    k = 1 - math.exp(-1 / 20)
    return {"hidden": {"weight": w1, "bias": b1 * k}, "out": {"weight": sol[:-1].T,
                                                            "bias": sol[-1] * k}}


@pytest.fixture(scope="module")
def asn_pair():
    user = snnc.load(ROOT / "examples" / "asn_user.snn")
    builtin = snnc.load(ROOT / "examples" / "asn_digits.snn")
    ds = load_dataset("digits", builtin.graph)
    return user.graph, builtin.graph, _trained_weights(builtin.graph, ds), ds


_KEYS = {"u": "U", "p": "P", "a": "A", "emit": "H"}


def test_asn_user_example_is_the_builtin_asn_in_integers(asn_pair):
    user, builtin, w, ds = asn_pair
    x, y = ds.x_test[:120], ds.y_test[:120]
    qu, qb = quantize(user, w), quantize(builtin, w)
    ru = simulate_golden(qu, x, record=True)
    rb = simulate_golden(qb, x, record=True)
    for layer in ("hidden", "out"):
        np.testing.assert_array_equal(ru.spikes[layer], rb.spikes[layer])
        np.testing.assert_array_equal(ru.payloads[layer], rb.payloads[layer])
        np.testing.assert_array_equal(ru.membranes[layer], rb.membranes[layer])
        assert {_KEYS[k]: v for k, v in ru.stats[layer].saturation.items()} == \
            rb.stats[layer].saturation
        for k, kb in _KEYS.items():
            np.testing.assert_array_equal(ru.final_state[layer][k], rb.final_state[layer][kb])
    pay = rb.payloads["hidden"][rb.spikes["hidden"] == 1]
    assert rb.stats["hidden"].spikes > 1000 and len(np.unique(pay)) > 10   # graded, varied
    np.testing.assert_array_equal(ru.outputs["out"].membrane, rb.outputs["out"].membrane)
    np.testing.assert_array_equal(ru.predictions, rb.predictions)
    accuracy = float(np.mean(ru.predictions == y))
    assert accuracy == float(np.mean(rb.predictions == y)) and accuracy > 0.9


def test_asn_user_example_equals_the_builtin_asn_when_heights_saturate(asn_pair):
    """With a narrow membrane (fixed<7,5>: at most 1.97) and theta0 = 1.9, the threshold after a
    spike exceeds the payload range: the built-in ASN clamps h and its P and A jump by the clamped
    h; the user neuron's `height` is the clamped height too. Everything saturates, identically."""
    user, builtin, w, ds = asn_pair
    wide = "state = fixed<16,9>"
    texts = []
    for name in ("asn_user", "asn_digits"):
        text = (ROOT / "examples" / f"{name}.snn").read_text()
        assert wide in text and "threshold = 0.5" in text
        texts.append(text.replace(wide, "state = fixed<7,5>").replace("threshold = 0.5",
                                                                       "threshold = 1.9"))
    gu, gb = load_text(texts[0], "u.snn").graph, load_text(texts[1], "b.snn").graph
    w = {k: {kk: vv * 1.5 for kk, vv in v.items()} for k, v in w.items()}
    x = ds.x_test[:30]
    ru = simulate_golden(quantize(gu, w), x, record=True)
    rb = simulate_golden(quantize(gb, w), x, record=True)
    for layer in ("hidden", "out"):
        np.testing.assert_array_equal(ru.spikes[layer], rb.spikes[layer])
        np.testing.assert_array_equal(ru.payloads[layer], rb.payloads[layer])
        sat = {_KEYS[k]: v for k, v in ru.stats[layer].saturation.items()}
        assert sat == rb.stats[layer].saturation
        assert sat["H"] > 0 and sat["P"] > 0 and sat["U"] > 0
    np.testing.assert_array_equal(ru.outputs["out"].membrane, rb.outputs["out"].membrane)
    net = SNN(gu, w, qat=True)
    out = net(net.encode(x))
    for layer in ("hidden", "out"):
        np.testing.assert_array_equal(out.spikes[layer].detach().numpy(), rb.spikes[layer])
        np.testing.assert_array_equal(out.payloads[layer].detach().numpy() * 2.0 ** 5,
                                      rb.payloads[layer])
        assert {_KEYS[k]: int(v) for k, v in out.saturation[layer].items()} == \
            rb.stats[layer].saturation


def test_asn_user_example_is_the_builtin_asn_in_float_and_torch(asn_pair):
    user, builtin, w, ds = asn_pair
    x = ds.x_test[:40]
    fu, fb = simulate_float(user, w, x, record=True), simulate_float(builtin, w, x, record=True)
    for layer in ("hidden", "out"):
        np.testing.assert_array_equal(fu.spikes[layer], fb.spikes[layer])
        np.testing.assert_array_equal(fu.payloads[layer], fb.payloads[layer])
    np.testing.assert_array_equal(fu.predictions, fb.predictions)
    # torch QAT: the user neuron and the built-in ASN give the golden model's integers
    rb = simulate_golden(quantize(builtin, w), x, record=True)
    fm = 9
    outs = []
    for g in (user, builtin):
        net = SNN(g, w, qat=True)
        out = net(net.encode(x))
        for layer in ("hidden", "out"):
            np.testing.assert_array_equal(out.spikes[layer].detach().numpy(), rb.spikes[layer])
            np.testing.assert_array_equal(out.payloads[layer].detach().numpy() * 2.0 ** fm,
                                          rb.payloads[layer])
        np.testing.assert_array_equal(out.predictions.numpy(), rb.predictions)
        outs.append(out)
    assert {_KEYS[k]: int(v) for k, v in outs[0].saturation["out"].items()} == \
        {k: int(v) for k, v in outs[1].saturation["out"].items()}


# ====================================================================== HLS


@needs_gxx
@pytest.mark.parametrize("height", ["u - threshold / 2", "4 * u - 6", "u * u", "1.5"])
def test_hls_graded_user_neuron_is_bit_exact(tmp_path, height):
    from snnc.backends.hls import generate_hls
    from snnc.backends.hls.csim import compile_warnings
    from test_hls_backend import _check

    text = GRADED.replace("u - threshold / 2", height).replace(
        "output o = membrane", "output o = membrane\noutput h = count")
    if height == "4 * u - 6":
        text += "hardware { state = fixed<8,4>; weights = fixed<8,4> }\n"
    g = load_text(text, "m.snn").graph
    q = quantize(g, weights(g, seed=7, gain=3.0))
    x = np.random.default_rng(5).random((6, 6))
    run, golden = _check(q, x)
    spk, pay = run.spikes["h"], run.payloads["h"]
    if height == "1.5":        # a constant height: 1.5 in membrane units on every spike
        assert spk.sum() > 0
        np.testing.assert_array_equal(np.unique(pay[spk == 1]), [int(1.5 * 2 ** 8)])
    else:
        assert spk.sum() > 0 and len(np.unique(pay[spk == 1])) > 3
    np.testing.assert_array_equal(run.final_state["h"]["emit"], pay[-1])
    if height == "4 * u - 6":
        assert golden.stats["h"].saturation["emit"] > 0
    generate_hls(q, tmp_path / "proj")
    header = (tmp_path / "proj" / "snn_top.h").read_text()
    assert "payload;" in header
    assert compile_warnings(tmp_path / "proj") == ""


@needs_gxx
def test_hls_asn_user_example_is_bit_exact(tmp_path, asn_pair):
    from test_hls_backend import _check

    user, builtin, w, ds = asn_pair
    x = ds.x_test[:6]
    run, golden = _check(quantize(user, w), x)
    rb = simulate_golden(quantize(builtin, w), x, record=True)
    for layer in ("hidden", "out"):
        np.testing.assert_array_equal(run.payloads[layer],
                                      rb.payloads[layer].reshape(run.payloads[layer].shape))


def test_graded_user_neuron_trains_with_surrogate_gradients():
    """A few epochs of `snnc train`'s loop (float, then one QAT epoch) on the 8x8 digits with a
    graded user neuron as the hidden layer: the loss falls and the trained float, QAT and golden
    models agree on their accuracy's order of magnitude."""
    from types import SimpleNamespace

    from snnc.backends.torch.train import TrainConfig, train

    text = src("model t", "time { dt = 1 ms; steps = 8 }",
               "neuron G {",
               "    param threshold = 0.3",
               "    state u = 0",
               "    update { u = decay(10 ms) * u + input }",
               "    spike when u > threshold emit min(u, 2)",
               "    on spike { u = u - height }",
               "}",
               "input x[64] = direct(scale = 0.5)",
               "layer h = dense(x, 32, bias = true) with G",
               "layer o = dense(h, 10, bias = true) with LIF(tau_mem = 20 ms)",
               "output o = membrane")
    g = load_text(text, "t.snn").graph
    ds = load_dataset("digits", g)
    data = SimpleNamespace(x_train=ds.x_train[:400], y_train=ds.y_train[:400],
                           x_test=ds.x_test[:100], y_test=ds.y_test[:100])
    cfg = TrainConfig(epochs=4, batch_size=50, lr=1e-2, qat=True, qat_from_epoch=4, seed=1)
    result = train(g, data, cfg)
    losses = [h.loss for h in result.history]
    assert losses[-1] < 0.6 * losses[0], losses
    assert result.history[-1].qat and not result.history[0].qat
    assert result.float_accuracy > 0.5 and result.golden_accuracy > 0.5
    assert result.qat_accuracy == result.golden_accuracy      # QAT is the golden model


ZERO_HEIGHT = """model z
time { dt = 1 ms; steps = 8 }
neuron Z {
    state v = 0
    update { v = v + input }
    spike when v > 0.5 emit v * 0
    on spike { v = 0 }
}
input x[2] = direct
layer h = dense(x, 3) with Z
layer o = dense(h, 2) with IF
output o = count
"""


def test_events_of_height_zero_cost_no_sops_in_every_count():
    """A graded event of height 0 is an event (counted as a spike, and its cycles) but delivers
    nothing: the golden model, the stream simulation and the efficiency report's graded SOPs all
    count no SOP for it (the stream and the report counted one per event and target before)."""
    from snnc.backends.golden import efficiency
    from snnc.backends.golden.stream import simulate_stream

    q = quantize(load_text(ZERO_HEIGHT, "z.snn").graph,
                 {"h": {"weight": np.full((3, 2), 0.5)}, "o": {"weight": np.full((2, 3), 0.5)}})
    frames = np.full((2, 2), 0.8)
    g = simulate_golden(q, np.repeat(frames, 4, axis=0)[None], record=True)
    assert g.stats["h"].spikes == 24 and int(g.payloads["h"].sum()) == 0
    assert g.stats["o"].sops == 0
    s = simulate_stream(q, frames, 4)
    assert s.events["h"].tolist() == [12, 12]
    assert s.sops["o"].tolist() == [0, 0]
    eff = efficiency.measure(q, np.repeat(frames, 4, axis=0)[None], np.zeros(1, np.int64))
    counts = {c.name: c for c in eff.layers}
    assert counts["h"].spikes == 24 and counts["o"].sops == 0 and counts["o"].graded_sops == 0



def test_flatten_of_a_graded_layer_passes_its_events_of_height_zero_on():
    """flatten copies its source's events: a zero-height event stays an event (the golden model
    counted the flatten's non-zero heights, 4 of its source's 8 events, and torch recorded its
    heights as its spikes)."""
    from snnc.backends.torch import SNN

    text = ZERO_HEIGHT.replace("input x[2] = direct", "input x[1, 1, 2] = direct").replace(
        "layer h = dense(x, 3) with Z", "layer g = conv2d(x, 1, 1) with Z\nlayer h = flatten(g)"
    ).replace("emit v * 0", "emit (v - 1) * 0.5")
    w = {"g": {"weight": np.ones((1, 1, 1, 1))}, "o": {"weight": np.ones((2, 2))}}
    q = quantize(load_text(text, "z.snn").graph, w)
    x = np.array([[[[1.0, 2.0]]]])
    g = simulate_golden(q, x, record=True)
    heights = np.asarray(g.payloads["g"]).reshape(8, -1)
    spikes = np.asarray(g.spikes["g"]).reshape(8, -1)
    assert (spikes[heights == 0] == 1).any() and (heights != 0).any()   # zero-height events too
    assert g.stats["h"].spikes == g.stats["g"].spikes == int(spikes.sum())
    np.testing.assert_array_equal(g.spikes["h"], spikes.reshape(8, 1, -1))
    net = SNN(q.graph, w, qat=True)
    out = net(net.encode(x))
    np.testing.assert_array_equal(out.spikes["h"].detach().numpy(), g.spikes["h"])
    np.testing.assert_array_equal(out.payloads["h"].detach().numpy() * 2 ** q.formats.membrane.frac,
                                  g.payloads["h"])
