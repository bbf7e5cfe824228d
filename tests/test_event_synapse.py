"""The event-driven synaptic input of the torch target (backends/torch/event_synapse.cpp): a dense
layer's input and weight gradient from its input's non-zeros, against ``F.linear`` and its autograd
(equal up to rounding in float32; exactly equal on integer-valued data, which is what QAT computes),
its dispatch by density, and whole models with it and without it."""
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from snnc.backends.torch import SNN  # noqa: E402
from snnc.backends.torch import event_synapse as ES  # noqa: E402
from snnc.backends.torch import native_scan as NS  # noqa: E402
from snnc.build import load_text  # noqa: E402
from snnc.weights import random_weights  # noqa: E402

pytestmark = [
    pytest.mark.skipif(NS._compiler() is None, reason="no C++ compiler: the kernels are not built"),
]


@pytest.fixture(autouse=True)
def _event_on(monkeypatch):
    monkeypatch.delenv("SNNC_EVENT_SYNAPSE", raising=False)


def sparse(shape, density, dtype, seed, graded=False):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(shape, generator=g) < density).to(dtype)
    if graded:                                   # graded events (ASN): any value, still sparse
        x = x * torch.randn(shape, generator=g, dtype=dtype)
    return x


def both(x, w, b, grad_events=True):
    """(output, input grad, weight grad, bias grad) by the event kernel and by F.linear."""
    out = []
    g = torch.randn(x.shape[0], w.shape[0], generator=torch.Generator().manual_seed(7),
                    dtype=x.dtype)
    for event in (True, False):
        xi = x.clone().requires_grad_(True)
        wi = w.clone().requires_grad_(True)
        bi = None if b is None else b.clone().requires_grad_(True)
        y = ES.EventLinear.apply(xi, wi, bi, grad_events) if event else F.linear(xi, wi, bi)
        (y * g).sum().backward()
        out.append((y.detach(), xi.grad, wi.grad, None if bi is None else bi.grad))
    return out


# shapes with partial column tiles (M not a multiple of 128 / 64), inputs not a multiple of 16,
# rows not a multiple of the 64-row blocks, a single row
SHAPES = [(300, 17, 33), (1000, 512, 512), (257, 130, 300), (64, 64, 128), (1, 40, 129)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("graded", [False, True])
def test_equals_the_matmul_to_rounding(dtype, shape, bias, graded):
    R, N, M = shape
    x = sparse((R, N), 0.15, dtype, seed=R + N, graded=graded)
    w = torch.randn(M, N, generator=torch.Generator().manual_seed(M), dtype=dtype)
    b = torch.randn(M, dtype=dtype) if bias else None
    (y, gx, gw, gb), (y0, gx0, gw0, gb0) = both(x, w, b)
    tol = dict(rtol=1e-5, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-11)
    torch.testing.assert_close(y, y0, **tol)
    torch.testing.assert_close(gw, gw0, **tol)
    torch.testing.assert_close(gx, gx0, rtol=0, atol=0)       # the same matmul
    if bias:
        torch.testing.assert_close(gb, gb0, rtol=0, atol=0)
    assert y.abs().sum() > 0 and gw.abs().sum() > 0


@settings(max_examples=40, deadline=None)
@given(R=st.integers(1, 200), N=st.integers(1, 90), M=st.integers(1, 300),
       density=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_exact_on_integer_data(R, N, M, density, seed):
    """Integer-valued data (QAT: quantised weights, 0/1 spikes, float64): every product and sum is
    exact, so the event kernel equals the matmul exactly, whatever the order of summation."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(R, N, generator=g) < density).double() * torch.randint(
        -3, 4, (R, N), generator=g).double()
    w = torch.randint(-128, 128, (M, N), generator=g).double() / 64
    b = torch.randint(-50, 50, (M,), generator=g).double() / 8
    (y, _, gw, _), (y0, _, gw0, _) = both(x, w, b)
    # the weight gradient's factor g is random: check it on an integer gradient too
    gi = torch.randint(-5, 6, (R, M), generator=g).double()
    np.testing.assert_array_equal(y.numpy(), y0.numpy())
    np.testing.assert_array_equal(ES.weight_grad_events(x.contiguous(), gi).numpy(),
                                  (gi.t() @ x).numpy())


def test_an_empty_input_gives_the_bias():
    x = torch.zeros(300, 50)
    w = torch.randn(40, 50)
    b = torch.randn(40)
    y = ES.forward_events(x, w, b)
    np.testing.assert_array_equal(y.numpy(), b.expand(300, 40).numpy())
    np.testing.assert_array_equal(ES.weight_grad_events(x, torch.randn(300, 40)).numpy(),
                                  np.zeros((40, 50), np.float32))


def node_names(y) -> set:
    """The names of ``y``'s autograd node and of the nodes it takes its inputs from."""
    fn = y.grad_fn
    return {type(fn).__name__} | {type(f).__name__ for f, _ in fn.next_functions if f is not None}


def path(x, w, b=None):
    """Which path ``linear`` took: ``EventLinearBackward`` or the matmul's node."""
    names = node_names(ES.linear(x, w.requires_grad_(True), b))
    return "EventLinearBackward" if "EventLinearBackward" in names else "matmul"


def test_dispatch_by_density_size_and_switch(monkeypatch):
    w = torch.randn(64, 100)
    assert path(sparse((20, 16, 100), 0.1, torch.float32, 1), w) == "EventLinearBackward"
    assert ES.density(sparse((20, 16, 100), 0.1, torch.float32, 1).reshape(-1, 100)) == \
        pytest.approx(0.1, abs=0.02)
    assert path(sparse((20, 16, 100), 0.6, torch.float32, 1), w) != "EventLinearBackward"
    assert path(sparse((20, 16, 100), 0.1, torch.float32, 1), torch.randn(8, 100)) != \
        "EventLinearBackward"                        # few outputs: the matmul
    assert path(sparse((2, 16, 100), 0.1, torch.float32, 1), w) != "EventLinearBackward"  # rows
    assert path(sparse((20, 16, 100), 0.1, torch.float16, 1), w.half()) != "EventLinearBackward"
    monkeypatch.setenv("SNNC_EVENT_SYNAPSE", "0")
    assert path(sparse((20, 16, 100), 0.1, torch.float32, 1), w) != "EventLinearBackward"


def test_dense_enough_for_the_forward_pass_only(monkeypatch):
    """Between GRAD_MAX_DENSITY and FORWARD_MAX_DENSITY the weight gradient is the matmul's."""
    calls = []
    orig = ES.weight_grad_events
    monkeypatch.setattr(ES, "weight_grad_events", lambda *a: calls.append(1) or orig(*a))
    w = torch.randn(64, 100)
    for density, expected in ((0.1, [1]), (0.5 * (ES.GRAD_MAX_DENSITY + ES.FORWARD_MAX_DENSITY),
                                           [])):
        calls.clear()
        wi = w.clone().requires_grad_(True)
        y = ES.linear(sparse((40, 16, 100), density, torch.float32, 3), wi)
        assert "EventLinearBackward" in node_names(y)
        y.sum().backward()
        assert calls == expected


MODEL = textwrap.dedent("""
    model m
    time { dt = 1 ms; steps = 20 }
    input x[60] = rate(gain = 1.0)
    layer a = dense(x, 80) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.3)
    layer b = dense(a, 40) with CubaLIF(tau_mem = 8 ms, tau_syn = 4 ms)
    layer c = dense(b, 5) with LIF(tau_mem = 10 ms)
    output c = count
    hardware { weights = fixed<8,6>; state = fixed<16,8> }
""")


def run_model(monkeypatch, event: bool, qat: bool):
    monkeypatch.setenv("SNNC_EVENT_SYNAPSE", "1" if event else "0")
    g = load_text(MODEL, "m.snn").graph
    m = SNN(g, random_weights(g, 4), qat=qat)
    x = (torch.rand(20, 16, 60, generator=torch.Generator().manual_seed(2)) < 0.2).float()
    calls = []
    orig = ES.forward_events
    monkeypatch.setattr(ES, "forward_events", lambda *a: calls.append(1) or orig(*a))
    out = m(x)
    loss = out.readout.sum() + sum(u.sum() for u in out.membranes.values())
    grads = torch.autograd.grad(loss, list(m.parameters()))
    monkeypatch.setattr(ES, "forward_events", orig)
    return out, grads, len(calls)


def test_qat_model_is_exactly_the_same(monkeypatch):
    """QAT (the golden model's integers, in float64): spikes, membranes and gradients identical
    with the event kernels and without."""
    (o1, g1, n1), (o0, g0, n0) = (run_model(monkeypatch, e, qat=True) for e in (True, False))
    assert n1 == 2 and n0 == 0            # layers a and b (c has 5 outputs: the matmul)
    for name in o1.spikes:
        np.testing.assert_array_equal(o1.spikes[name].detach().numpy(),
                                      o0.spikes[name].detach().numpy())
    for name in o1.membranes:
        np.testing.assert_array_equal(o1.membranes[name].detach().numpy(),
                                      o0.membranes[name].detach().numpy())
    for a, b in zip(g1, g0):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)
        assert a.abs().sum() > 0


def test_float_model_agrees(monkeypatch):
    (o1, g1, n1), (o0, g0, n0) = (run_model(monkeypatch, e, qat=False) for e in (True, False))
    assert n1 == 2 and n0 == 0
    for name in o1.spikes:                 # float32: a spike may flip where U is at the threshold
        assert (o1.spikes[name] != o0.spikes[name]).float().mean() < 1e-3
    for a, b in zip(g1, g0):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-3)
