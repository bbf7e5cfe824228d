"""The PyTorch module: weights in and out, inputs, readouts and predictions, surrogates per layer,
TBPTT, QAT gradients, training, and the ``snnc.load`` API."""
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import snnc  # noqa: E402
from snn_models import CONV, CUSTOM, DIGITS, ROOT  # noqa: E402
from snnc import ir  # noqa: E402
from snnc.backends.golden.encoders import encode  # noqa: E402
from snnc.backends.golden.result import Readout as NpReadout, predict  # noqa: E402
from snnc.backends.torch import SNN, first_spike_time  # noqa: E402
from snnc.backends.torch.model import Readout  # noqa: E402
from snnc.backends.torch.surrogates import Surrogate  # noqa: E402
from snnc.build import load_text  # noqa: E402
from snnc.weights import random_weights, save_weights  # noqa: E402


pytestmark = pytest.mark.usefixtures("torch_one_thread")


MLP = """model mlp
time { dt = 1 ms; steps = 10 }
input x[6] = direct(scale = 1.0)
layer h = dense(x, 8, bias = true, delay = 2)
    with CubaLIF(tau_mem = 10 ms, tau_syn = 3 ms, refractory = 1)
layer r = recurrent(h, 5, bias = true) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.3)
output r = count
train { surrogate = sigmoid(slope = 4); tbptt = 4 }
"""


def graph(text, name="m.snn"):
    return load_text(text, name).graph


def test_weights_round_trip_and_parameter_names():
    g = graph(DIGITS)
    w = random_weights(g, 3)
    m = SNN(g, w)
    out = m.export_weights()
    assert set(out) == {"hidden", "out"}
    for layer, tensors in w.items():
        for k, v in tensors.items():
            np.testing.assert_array_equal(out[layer][k], v)
            assert out[layer][k].dtype == np.float32
    assert sorted(n for n, _ in m.named_parameters()) == ["layers.hidden.weight", "layers.out.weight"]
    m2 = SNN(g, random_weights(g, 4))
    m2.load_weights(out)
    assert all(torch.equal(a, b) for a, b in zip(m.parameters(), m2.parameters()))
    m3 = SNN(g, random_weights(g, 5))
    m3.load_state_dict(m.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(m.parameters(), m3.parameters()))


def test_weight_errors(tmp_path):
    """SNN(graph, weights) and load_weights check the weights as to_torch and the weights files
    do (a NaN was copied in, an extra layer dropped, a missing one a bare KeyError)."""
    from snnc.errors import SnnError
    from snnc.weights import save_weights

    g = graph(DIGITS)
    m = SNN(g)
    w = random_weights(g)
    nan = {**w, "out": {"weight": np.full((10, 128), np.nan)}}
    for bad, message in (
            ({**w, "out": {"weight": np.zeros((3, 128))}},
             "weights dict: tensor 'out/weight' has shape [3, 128], but layer 'out' needs "
             "[10, 128]"),
            ({"hidden": w["hidden"]},
             "weights dict has no tensor 'out/weight' (layer 'out' needs shape [10, 128])"),
            ({**w, "typo": {"weight": np.zeros(2)}},
             "weights dict has a tensor 'typo/weight' for no layer of model 'digits'")):
        with pytest.raises(SnnError) as e:
            m.load_weights(bad)
        assert e.value.message == message
    with pytest.raises(SnnError, match="non-finite"):
        SNN(g, nan)
    # a weights file, a model from snnc.load, parameters that require grad are taken
    path = str(tmp_path / "w.npz")
    save_weights(path, g, w)
    m.load_weights(path)
    other = SNN(snnc.loads(DIGITS, "d.snn"), {l: {t: torch.nn.Parameter(torch.as_tensor(a))
                                                  for t, a in ts.items()} for l, ts in w.items()})
    assert all(torch.equal(a, b) for a, b in zip(m.parameters(), other.parameters()))
    # a qat that is not a bool ("no" switched QAT on), unknown layers named
    with pytest.raises(TypeError, match="qat must be True or False, not 'no'"):
        SNN(g, qat="no")
    with pytest.raises(TypeError, match="enabled must be True or False, not 'no'"):
        m.set_qat("no")
    with pytest.raises(KeyError, match="no layer 'typo' with weights in model 'digits'"):
        m.set_surrogate("atan", layer="typo")
    with pytest.raises(KeyError, match="no layer 'typo'"):
        m.layer("typo")


def test_default_weights_are_the_shared_random_weights():
    g = graph(CONV)
    m = SNN(g)
    for layer, tensors in random_weights(g, 0).items():
        for k, v in tensors.items():
            np.testing.assert_array_equal(m.export_weights()[layer][k], v)


def test_encode_uses_the_shared_encoders():
    g = graph(DIGITS)
    x = np.random.default_rng(0).random((5, 64))
    ids = np.arange(10, 15)
    m = SNN(g)
    got = m.encode(x, seed=3, sample_ids=ids)
    assert got.shape == (25, 5, 64) and got.dtype == torch.float32
    np.testing.assert_array_equal(got.numpy(), encode(g.inputs[0], x, 25, 3, ids))
    assert not torch.equal(got, m.encode(x, seed=4, sample_ids=ids))


def test_static_direct_input_is_computed_once_and_equals_the_full_sequence():
    g = graph(MLP)
    m = SNN(g).double()
    x = np.random.default_rng(1).random((3, 6)) * 2
    static = m.encode(x)
    assert static.stride(0) == 0                          # one frame expanded over time
    full = static.contiguous()
    a, b = m(static), m(full)
    for name in a.spikes:
        assert torch.equal(a.spikes[name], b.spikes[name]), name
    for name in a.membranes:
        torch.testing.assert_close(a.membranes[name], b.membranes[name], rtol=0, atol=1e-12)
    ga = torch.autograd.grad(a.readout.sum() + a.first.membrane.sum(), list(m.parameters()))
    gb = torch.autograd.grad(b.readout.sum() + b.first.membrane.sum(), list(m.parameters()))
    for u, v in zip(ga, gb):
        torch.testing.assert_close(u, v, rtol=1e-10, atol=1e-12)
    mq = SNN(g, m.export_weights(), qat=True)
    qa, qb = mq(mq.encode(x)), mq(full)
    assert all(torch.equal(qa.spikes[n], qb.spikes[n]) for n in qa.spikes)


def test_readouts_and_predictions_follow_the_tie_rules():
    # 3 samples x 4 neurons x 5 steps, crafted ties
    S = torch.zeros(5, 3, 4)
    S[[0, 2], 0, 1] = 1
    S[[1, 3], 0, 2] = 1                # sample 0: counts tie 2/2 -> larger membrane decides
    S[4, 1, 3] = 1
    S[4, 1, 0] = 1                     # sample 1: first spikes tie at 4 -> lowest index
    U = torch.zeros(5, 3, 4)
    U[:, 0, 2] = 0.5
    U[:, 2, 3] = 1.0
    U[:, 2, 1] = 1.0                   # sample 2: membrane tie -> lowest index (1)
    for kind in ("count", "membrane", "first_spike"):
        r = Readout(kind, S, U)
        np_r = NpReadout(kind, r.count.numpy().astype(np.int64), r.membrane.numpy().astype(np.float64),
                         r.first_spike.numpy().astype(np.int64))
        np.testing.assert_array_equal(r.predictions.numpy(), predict(np_r))
    assert Readout("count", S, U).predictions.tolist() == [2, 0, 1]
    assert Readout("membrane", S, U).predictions.tolist() == [2, 0, 1]
    assert Readout("first_spike", S, U).predictions.tolist() == [1, 0, 0]
    assert Readout("first_spike", S, U).first_spike.tolist()[1] == [4, 5, 5, 4]


def test_first_spike_time_is_exact_and_differentiable():
    s = torch.tensor([[0., 1., 0.],          # t = 0: neuron 1 spikes
                      [1., 1., 0.],          # t = 1
                      [1., 0., 0.]]).reshape(3, 1, 3)   # neuron 2 never spikes
    v = s.clone().requires_grad_()
    t = first_spike_time(v)
    assert t.tolist() == [[1.0, 0.0, 3.0]]
    t.sum().backward()
    assert v.grad.abs().sum() > 0


def test_layer_surrogates_and_overrides():
    g = graph(CONV)            # train block: atan(2.5); no layer overrides
    assert set(SNN(g).surrogates.values()) == {Surrogate("atan", 2.5)}
    g = snnc.load(ROOT / "examples" / "conv.snn").graph    # conv2 uses its own atan(alpha = 2)
    s = SNN(g).surrogates
    assert s["conv2"] == Surrogate("atan", 2.0) and s["conv1"] == Surrogate("fast_sigmoid", 25.0)
    m = SNN(g, surrogate="triangle")
    assert set(m.surrogates.values()) == {Surrogate("triangle", 1.0)}
    m.set_surrogate(ir.Surrogate("exponential", (("slope", 3.0),)), layer="out")
    assert m.surrogates["out"] == Surrogate("exponential", 3.0)


def test_tbptt_from_the_train_block_and_full_bptt():
    g = graph(MLP)
    x = np.random.default_rng(2).random((4, 6)) * 2
    m = SNN(g).double()
    assert m.tbptt == 4
    full = SNN(g, m.export_weights(), tbptt=0).double()
    same = SNN(g, m.export_weights(), tbptt=g.time.steps).double()

    def grads(model):
        out = model(model.encode(x))
        return torch.autograd.grad(out.readout.sum(), list(model.parameters()))

    g_trunc, g_full, g_same = grads(m), grads(full), grads(same)
    for a, b in zip(g_full, g_same):
        torch.testing.assert_close(a, b)
    assert any(not torch.allclose(a, b) for a, b in zip(g_trunc, g_full))


def test_user_neurons_with_several_inputs_train_in_float():
    g = graph(CUSTOM)
    m = SNN(g).double()
    rng = np.random.default_rng(0)
    x = {"events": rng.random((3, 50, 32)), "bias": rng.random((3, 8))}
    out = m(m.encode(x))
    assert list(out.outputs) == ["o", "b"]
    assert out.readout.shape == (3, 2)
    loss = out.readout.sum() + out.outputs["b"].count.sum() + sum(
        c.sum() for c in out.spike_counts().values())
    loss.backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert m.layer("r").weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="pass a dict"):
        m(torch.zeros(50, 3, 32))


def test_input_shape_is_checked():
    m = SNN(graph(DIGITS))
    with pytest.raises(ValueError, match=r"must be encoded as \[T=25, B, 64\]"):
        m(torch.zeros(3, 64))


def test_qat_weights_and_gradients():
    g = graph(DIGITS)
    w = random_weights(g, 0)
    w["hidden"]["weight"][0, :3] = [5.0, 0.0078125, -0.0234375]    # saturates; ties round up
    m = SNN(g, w, qat=True)
    q = m.layer("hidden").tensors(qat=True)["weight"]
    assert q.dtype == torch.float64
    assert q[0, :3].tolist() == [127 / 64, 1 / 64, -1 / 64]
    x = np.random.default_rng(0).random((16, 64))
    out = m(m.encode(x))
    out.readout.sum().backward()
    gq = m.layer("hidden").weight.grad.clone()
    f = SNN(g, w)
    fo = f(f.encode(x))
    fo.readout.sum().backward()
    gf = f.layer("hidden").weight.grad
    assert gq.dtype == torch.float32 and torch.isfinite(gq).all()
    cos = torch.nn.functional.cosine_similarity(gq.flatten(), gf.flatten(), dim=0)
    assert cos > 0.7                  # straight-through QAT gradients point where float ones do


def test_qat_quantises_float64_weights_as_given_until_they_change():
    # float32 parameters round a float64 weight: 1 + 2^-26 (on the fixed<28,26> grid) to 1, and a
    # weight 2^-40 below a rounding tie of fixed<16,14> onto the tie, which rounds up; the golden
    # model quantises the float64 values: QAT must too
    text = """model f
time { dt = 1 ms; steps = 2 }
input x[2] = direct(scale = 1.0)
layer h = dense(x, 2) with IF(threshold = 0.5, reset = none)
output h = membrane
hardware { weights = fixed<28,26>; state = fixed<32,26>; inputs = fixed<12,8> }
"""
    for fmt, frac, values in (("fixed<28,26>", 26, [1 + 2.0 ** -26, -(1 + 3 * 2.0 ** -26)]),
                              ("fixed<16,14>", 14, [100.5 * 2.0 ** -14 - 2.0 ** -40,
                                                    -(7.5 * 2.0 ** -14) + 2.0 ** -40])):
        model = snnc.loads(text.replace("fixed<28,26>", fmt).replace("fixed<32,26>",
                                                                     f"fixed<32,{frac}>"))
        w = {"h": {"weight": np.array([values, values[::-1]], dtype=np.float64)}}
        x = np.array([[1.0, 0.5]])
        golden = model.simulate(x, weights=w, backend="golden", record=True)
        net = model.to_torch(w, qat=True)
        assert net.layer("h").weight.dtype == torch.float32
        out = net(net.encode(x))
        got = out.membranes["h"].detach().double().numpy() * 2.0 ** frac
        np.testing.assert_array_equal(got, np.asarray(golden.membranes["h"], dtype=np.float64))
        # a move to float64 parameters keeps the values given
        moved = model.to_torch(w, qat=True).double()
        np.testing.assert_array_equal(moved(moved.encode(x)).membranes["h"].detach().numpy()
                                      * 2.0 ** frac, got)
        # the gradient still reaches the parameter, and once it changes, it is what QAT uses
        out.readout.sum().backward()
        assert net.layer("h").weight.grad.abs().sum() > 0
        with torch.no_grad():
            net.layer("h").weight.add_(0.25)
        net.layer("h").tensors(qat=True)
        assert not net.layer("h")._exact
        # loading float32 values drops what an earlier float64 load kept
        net.load_weights(w)
        assert net.layer("h")._exact
        net.load_weights({"h": {"weight": w["h"]["weight"].astype(np.float32)}})
        assert not net.layer("h")._exact


def test_export_keeps_the_float64_values_qat_quantises():
    """A float32 module loaded with float64 weights just below rounding ties quantises them as
    the golden model does; export_weights gave the float32 parameters, whose golden model then
    predicted otherwise (67% agreement in a QA worst case)."""
    g = graph(DIGITS)
    w = random_weights(g, 0)
    below = {l: {t: (np.round(np.float64(a) * 64) + 0.5) / 64 - 1e-12     # 1e-12 below each
                 for t, a in ts.items()} for l, ts in w.items()}        # tie of fixed<8,6>
    net = SNN(g, below, qat=True)
    out = net.export_weights()
    for layer, tensors in below.items():
        for k, v in tensors.items():
            assert out[layer][k].dtype == np.float64
            np.testing.assert_array_equal(out[layer][k], v)
    with torch.no_grad():                                  # a training step: the parameter again
        net.layer("out").weight.add_(1.0)
    assert net.export_weights()["out"]["weight"].dtype == np.float32


def test_a_few_training_steps_reduce_the_loss():
    torch.manual_seed(0)
    g = graph(DIGITS)
    rng = np.random.default_rng(0)
    x = rng.random((32, 64))
    y = torch.as_tensor(rng.integers(0, 10, 32))
    m = SNN(g)
    xe = m.encode(x)
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        out = m(xe)
        loss = torch.nn.functional.cross_entropy(out.readout, y) + 1e-4 * sum(
            c.mean() for c in out.spike_counts().values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    g = graph(MLP)
    x = np.random.default_rng(0).random((4, 6))
    for qat in (False, True):
        cpu = SNN(g, qat=qat).double()
        dev = SNN(g, cpu.export_weights(), qat=qat).double().cuda()
        a, b = cpu(cpu.encode(x)), dev(dev.encode(x))
        for name in a.spikes:
            assert torch.equal(a.spikes[name], b.spikes[name].cpu()), name
        b.readout.sum().backward()


# ---------------------------------------------------------------------- snnc.load


def test_import_snnc_does_not_import_torch():
    code = ("import sys, numpy, snnc; m = snnc.load(sys.argv[1]); m.simulate(numpy.zeros((1, 64)));"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "examples" / "digits.snn")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_api_load_simulate_quantize_to_torch(tmp_path):
    m = snnc.load(ROOT / "examples" / "digits.snn")
    assert m.name == "digits" and m.graph.layers[0].name == "hidden"
    w = m.random_weights(seed=2)
    x = np.random.default_rng(0).random((4, 64))
    r_float = m.simulate(x, weights=w, backend="float", seed=1)
    r_gold = m.simulate(x, weights=w, backend="golden", seed=1, record=True)
    assert r_float.arithmetic == "float" and r_gold.arithmetic == "golden"
    q = m.quantize(w)
    assert q.plan("hidden").neuron.kind == "LIF"
    net = m.to_torch(w, qat=True)
    out = net(net.encode(x, seed=1))
    np.testing.assert_array_equal(out.predictions.numpy(), r_gold.predictions)
    np.testing.assert_array_equal(out.spikes["hidden"].detach().numpy(), r_gold.spikes["hidden"])
    enc = m.encode(x, seed=1)
    np.testing.assert_array_equal(enc["pixels"], out.spikes["pixels"].numpy())
    # weights from a file, at load time or per call
    path = tmp_path / "w.npz"
    save_weights(path, m.graph, w)
    m2 = snnc.load(ROOT / "examples" / "digits.snn", weights=path)
    np.testing.assert_array_equal(m2.to_torch().export_weights()["out"]["weight"], w["out"]["weight"])
    np.testing.assert_array_equal(m.to_torch(str(path)).export_weights()["hidden"]["weight"],
                                  w["hidden"]["weight"])
    r2 = m2.simulate(x, backend="golden", seed=1)
    np.testing.assert_array_equal(r2.predictions, r_gold.predictions)
    # no weights anywhere: random weights drawn with the seed, like `snnc simulate`
    r3 = m.simulate(x, seed=2)
    r4 = m.simulate(x, weights=m.random_weights(2), seed=2)
    np.testing.assert_array_equal(r3.outputs["out"].count, r4.outputs["out"].count)
    with pytest.raises(ValueError, match="unknown backend"):
        m.simulate(x, backend="verilog")
    assert snnc.loads(DIGITS).name == "digits"


TWO_INPUTS = """model two
time { dt = 1 ms; steps = 4 }
input a[4] = direct(scale = 2.0)
input b[3] = rate
layer h = dense(a, 5) with LIF(tau_mem = 5 ms)
layer k = dense(b, 5) with IF
output h = count
output k = membrane
"""


def test_torch_encode_checks_its_batch_as_the_simulators_do():
    """The torch module's encoder refuses what the simulators refuse, with their messages: it
    ran inputs of different batch sizes (outputs of different batches), gave every sample the
    randomness of a single sample id, read one sample without its batch dimension as 64
    samples, and failed on an empty batch or a missing input with numpy / KeyError messages."""
    m = snnc.loads(TWO_INPUTS, "two.snn")
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 4)), rng.random((3, 3))
    net = m.to_torch(qat=True)
    digits = snnc.loads(DIGITS, "digits.snn")
    dnet = digits.to_torch()
    x = rng.random((3, 64))
    cases = [
        (lambda: net.encode({"a": a[:1], "b": b}), "inputs have different batch sizes [1, 3]"),
        (lambda: net.encode({"a": a}), "no data for input(s) b"),
        # forward: an unknown name is named first (it was told "no data for input(s) pixels")
        (lambda: dnet({"nope": torch.zeros(25, 3, 64)}),
         "model 'digits' has no input(s) nope (inputs: pixels)"),
        (lambda: net({"a": torch.zeros(10, 3, 4)}), "no data for input(s) b"),
        (lambda: dnet.encode(x, sample_ids=[7]), "sample_ids must have shape [3], got [1]"),
        (lambda: dnet.encode(x[0]), "data of shape [64] for input 'pixels' [64] has no batch "
                                    "dimension: pass a batch [B, *shape] (one sample: x[None])"),
        (lambda: dnet.encode(x[:0]), "the batch holds no samples"),
        (lambda: dnet.encode(np.where(x > 0.5, np.nan, x)),
         "data for input 'pixels' holds values that are not finite numbers (nan or inf)"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value) == message
    with pytest.raises(ValueError, match=r"^data of shape \[64\] for input 'pixels' \[64\] has no "):
        digits.simulate(x[0], backend="golden")
    with pytest.raises(ValueError, match="^the batch holds no samples$"):
        digits.simulate(x[:0], backend="float")


@pytest.mark.parametrize("tbptt", [-1, 2.5, True])
def test_tbptt_must_be_a_whole_number_of_steps(tbptt):
    with pytest.raises(ValueError, match=r"tbptt must be a whole number of steps, 0 or more"):
        snnc.loads(DIGITS, "digits.snn").to_torch(tbptt=tbptt)


def test_weights_that_are_not_finite_are_the_quantizers_located_error():
    from snnc.errors import SnnError
    from snnc.quantize import quantize

    m = snnc.loads(DIGITS, "digits.snn")
    w = m.random_weights(seed=0)
    w["hidden"]["weight"][0, :3] = [np.nan, np.inf, -np.inf]
    with pytest.raises(SnnError) as info:
        quantize(m.graph, w)
    e = info.value
    assert (e.line, e.message) == (4, "weights 'hidden/weight' hold 3 values that are not finite "
                                      "numbers (nan or inf)")


def test_forward_refuses_what_simulate_refuses():
    """forward ignored an unknown dict key, ran two inputs at different batch sizes, cast
    complex inputs to real, and in QAT predicted class 0 for NaN inputs with no saturation."""
    two = snnc.loads("""model two
time { dt = 1 ms; steps = 4 }
input a[3] = direct
input b[2] = direct
layer ha = dense(a, 2) with IF
layer hb = dense(b, 2) with IF
output ha = count
output hb = count
""", "two.snn")
    net = two.to_torch()
    a, b = torch.zeros(4, 3, 3), torch.zeros(4, 2, 2)
    with pytest.raises(ValueError, match=r"inputs have different batch sizes \(3 and 2 for "
                                         r"input 'b'\)"):
        net({"a": a, "b": b})
    with pytest.raises(ValueError, match="model 'two' has no input\\(s\\) c \\(inputs: a, b\\)"):
        net({"a": a, "b": torch.zeros(4, 3, 2), "c": a})
    with pytest.raises(TypeError, match="input 'a' is complex"):
        net({"a": a.to(torch.complex64), "b": torch.zeros(4, 3, 2)})
    with pytest.raises(TypeError, match="input 'a' must be a tensor or an array of numbers, not "
                                        "NoneType"):
        net({"a": None, "b": b})
    net.set_qat(True)
    with pytest.raises(ValueError, match="input 'a' holds non-finite values"):
        net({"a": torch.full((4, 3, 3), float("nan")), "b": torch.zeros(4, 3, 2)})
    assert net({"a": a, "b": torch.zeros(4, 3, 2)}).outputs["ha"].count.shape == (3, 2)


def test_qat_says_once_that_it_clips_weights():
    """QAT clipped weights beyond the format without a word, where the golden model warns."""
    import warnings

    m = snnc.load(str(ROOT / "examples" / "digits.snn"))
    w = {l: {t: a * 40 for t, a in ts.items()} for l, ts in m.random_weights(0).items()}
    net = m.to_torch(w, qat=True)
    x = net.encode(np.random.default_rng(0).random((2, 64)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net(x)
        net(x)
    said = [str(c.message) for c in caught if "clipped" in str(c.message)]
    golden = m.quantize(w).clipping_notes()
    assert said == ["QAT: " + "; ".join(golden)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m.to_torch(m.random_weights(0), qat=True)(x)
    assert not [c for c in caught if "clipped" in str(c.message)]


def test_snn_encode_warns_of_sequence_steps_it_does_not_use():
    import warnings

    m = snnc.loads("model d\ntime { dt = 1 ms; steps = 4 }\ninput x[2] = direct\n"
                   "layer o = dense(x, 2) with IF\noutput o = count\n", "d.snn")
    net = m.to_torch()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.encode(np.zeros((3, 6, 2)))
        net.encode(np.zeros((3, 4, 2)))
    assert [str(c.message) for c in caught] == [
        "input 'x': each sample is a sequence of 6 steps and model 'd' runs 4: its last 2 steps "
        "are not used"]


def test_a_complex_module_is_refused():
    # float mode failed with "gt_cpu not implemented", QAT dropped the imaginary parts
    net = snnc.load(str(ROOT / "examples" / "digits.snn")).to_torch()
    x = net.encode(np.zeros((2, 64)))
    with pytest.warns(UserWarning, match="Complex modules"):        # torch's own
        net.to(torch.complex64)
    for qat in (False, True):
        net.set_qat(qat)
        with pytest.raises(TypeError, match="parameters are torch.complex64; an SNN computes in "
                                            "real numbers"):
            net(x)


def test_qat_refuses_spike_inputs_that_are_not_0_or_1():
    """In QAT (the golden model's integer arithmetic) a rate input fed 0.5, 3 or -1 "spikes"
    predicted what no golden run can; the float mode keeps taking them (soft inputs)."""
    m = snnc.loads(DIGITS, "digits.snn")
    net = m.to_torch(m.random_weights(0), qat=True)
    spikes = net.encode(np.random.default_rng(0).random((2, 64)))
    assert set(torch.unique(spikes).tolist()) == {0.0, 1.0}
    net(spikes)                                                    # real spikes: fine
    for scale, shown in ((0.5, "0.5"), (3.0, "3"), (-1.0, "-1")):
        with pytest.raises(ValueError) as e:
            net(spikes * scale)
        assert str(e.value) == (f"input 'pixels' is rate-encoded: its events are spikes, 0 or 1, "
                                f"which the integer model counts, but it holds {shown} (encode "
                                "the samples with SNN.encode)")
    net.set_qat(False)
    net(spikes * 0.5)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_qat_after_a_move_to_half_precision_is_the_golden_model_of_its_weights(dtype):
    """A move to bfloat16 / float16 rounds the parameters, as in torch: QAT (still computed in
    float64) and export_weights then both use the rounded weights, so QAT is the golden model of
    the weights the module exports (not of those loaded before the move: docs/torch.md)."""
    from snnc.backends.golden.golden_sim import simulate_golden

    m = snnc.loads(DIGITS, "digits.snn")
    x, ids = np.random.default_rng(0).random((8, 64)), np.arange(8)
    net = m.to_torch(m.random_weights(0), qat=True).to(dtype)
    exported = net.export_weights()
    ref = simulate_golden(m.quantize(exported), x, seed=0, sample_ids=ids, record=True)
    with torch.no_grad():
        out = net(net.encode(x, seed=0, sample_ids=ids))
    for name in ("hidden", "out"):
        np.testing.assert_array_equal(out.spikes[name].to(torch.float64).numpy(), ref.spikes[name])
