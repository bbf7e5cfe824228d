"""The torch target with torch's own tools: ``torch.compile``, pruning and parametrizations,
in-place edits of the parameters, reduced-precision dtypes, double backward, and gradients to a
direct input through ``encode``."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from snn_models import DIGITS  # noqa: E402
from snnc.backends.torch import SNN  # noqa: E402
from snnc.build import load_text  # noqa: E402
from snnc.weights import random_weights  # noqa: E402


pytestmark = pytest.mark.usefixtures("torch_one_thread")

# big enough for the native kernels: T*B >= 256 frames, >= 32 outputs, sparse input spikes
RECURRENT = """model rec
time { dt = 1 ms; steps = 10 }
input x[64] = rate(gain = 0.5)
layer h = dense(x, 64, bias = true, delay = 2)
    with CubaLIF(tau_mem = 10 ms, tau_syn = 3 ms, refractory = 1)
layer r = recurrent(h, 40, bias = true) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.3)
output r = count
train { surrogate = sigmoid(slope = 4); tbptt = 4 }
"""

DIRECT = """model direct
time { dt = 1 ms; steps = 4 }
input x[6] = direct(scale = 2.0)
layer h = dense(x, 5) with LIF(tau_mem = 10 ms)
output h = count
"""


def graph(text):
    return load_text(text, "m.snn").graph


def run_and_grads(module, net, xe):
    out = module(xe)
    loss = out.readout.double().sum() + sum(u.double().sum() for u in out.membranes.values())
    loss.backward()
    grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    return out.readout.detach(), grads


@pytest.mark.parametrize("qat", [False, True], ids=["float", "qat"])
def test_torch_compile_gives_the_eager_results_and_gradients(qat):
    # the native kernels (event synapse, neuron scans) run eagerly inside a compiled module:
    # compiled, they read fake tensors (float: wrong spikes and NaN gradients; QAT: a crash)
    torch._dynamo.reset()
    g = graph(RECURRENT)
    net = SNN(g, random_weights(g, 1), qat=qat)
    xe = net.encode(np.random.default_rng(0).random((300, 64)))
    ref, ref_grads = run_and_grads(net, net, xe)
    out, grads = run_and_grads(torch.compile(net), net, xe)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    for a, b in zip(grads, ref_grads):
        assert torch.isfinite(a).all()
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_pruned_and_parametrized_weights_are_used_and_exported():
    import torch.nn.utils.prune as prune
    from torch.nn.utils import parametrize

    g = graph(DIGITS)
    w = random_weights(g, 1)
    x = np.random.default_rng(1).random((8, 64))
    pruned = SNN(g, w)
    prune.l1_unstructured(pruned.layer("hidden"), "weight", amount=0.5)
    effective = pruned.export_weights()
    kept = effective["hidden"]["weight"]
    assert (kept == 0).sum() == kept.size // 2
    np.testing.assert_array_equal(kept[kept != 0], w["hidden"]["weight"][kept != 0])
    same = SNN(g, effective)              # the pruned weights, as plain parameters
    xe = same.encode(x)
    torch.testing.assert_close(pruned(xe).readout, same(xe).readout, rtol=0, atol=0)
    pruned.set_qat(True)
    same.set_qat(True)
    torch.testing.assert_close(pruned(xe).readout, same(xe).readout, rtol=0, atol=0)

    class Half(torch.nn.Module):
        def forward(self, weight):
            return weight * 0.5

    halved = SNN(g, w)
    parametrize.register_parametrization(halved.layer("out"), "weight", Half())
    np.testing.assert_array_equal(halved.export_weights()["out"]["weight"],
                                  w["out"]["weight"] * np.float32(0.5))
    with pytest.raises(ValueError, match=r"weights 'out/weight' are computed by a "
                                         r"parametrization or pruning hook"):
        halved.load_weights(w)


def test_qat_follows_an_edit_through_data_of_exactly_loaded_weights():
    # float64 weights that float32 rounds: QAT quantises the loaded values while the parameter
    # holds them, and the parameter once it is changed, even through .data (no version bump)
    g = graph(DIGITS)
    w = random_weights(g, 2)
    w64 = {k: {t: a.astype(np.float64) + 1e-9 for t, a in v.items()} for k, v in w.items()}
    net = SNN(g, w64, qat=True)
    xe = net.encode(np.random.default_rng(2).random((16, 64)))
    before = net(xe).readout.clone()
    net.layer("hidden").weight.data.mul_(0.0)
    after = net(xe).readout
    zero = {**w64, "hidden": {"weight": np.zeros_like(w64["hidden"]["weight"])}}
    torch.testing.assert_close(after, SNN(g, zero, qat=True)(xe).readout, rtol=0, atol=0)
    assert not torch.equal(before, after)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
def test_reduced_precision_modules_export_float32_weights(dtype):
    g = graph(DIGITS)
    w = random_weights(g, 3)
    net = SNN(g, w).to(dtype)
    out = net.export_weights()
    for layer, tensors in w.items():
        got = out[layer]["weight"]
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, torch.as_tensor(tensors["weight"]).to(dtype).float()
                                      .numpy())


def test_double_backward_is_refused_not_silently_incomplete():
    g = graph(RECURRENT)
    net = SNN(g, random_weights(g, 4))
    xe = net.encode(np.random.default_rng(4).random((4, 64)))
    loss = net(xe).membranes["r"].sum()
    (grad,) = torch.autograd.grad(loss, [net.layer("h").weight], create_graph=True)
    with pytest.raises(RuntimeError, match="marked with @once_differentiable"):
        grad.sum().backward()


def test_encode_keeps_a_direct_input_in_the_autograd_graph():
    g = graph(DIRECT)
    net = SNN(g, random_weights(g, 5))
    w = net.layer("h").weight.detach()
    x = torch.rand(3, 6, requires_grad=True)
    xe = net.encode(x)
    assert xe.requires_grad and xe.shape == (4, 3, 6) and xe.stride(0) == 0
    torch.testing.assert_close(xe.detach(), (2.0 * x.detach()).expand(4, 3, 6))
    # the first step's membrane is W (2x) (LIF: U[0] = input): d sum U[0] / dx = 2 sum_j W[j, :]
    net(xe).membranes["h"][0].sum().backward()
    torch.testing.assert_close(x.grad, (2.0 * w.sum(0)).expand(3, 6))
    seq = torch.rand(3, 7, 6, requires_grad=True)         # a sequence longer than the steps
    net(net.encode(seq)).membranes["h"].sum().backward()
    assert seq.grad[:, 4:].abs().sum() == 0 and seq.grad[:, :4].abs().sum() > 0
