"""The custom autograd scan of the built-in neurons against plain autograd, and its conventions."""
import itertools
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from snnc import ir  # noqa: E402
from snnc.backends.torch import neurons as N  # noqa: E402
from snnc.backends.torch.surrogates import resolve  # noqa: E402


pytestmark = pytest.mark.usefixtures("torch_one_thread")


T, B, UNITS = 12, 3, 5
KINDS = ("IF", "LIF", "CubaLIF", "ALIF")
RESETS = ("subtract", "zero", "none")


def cfg(kind, reset="subtract", refractory=0, surrogate="atan"):
    return N.NeuronCfg(kind, reset, refractory, 0.7, b=1.0 if kind == "IF" else 0.9, a=0.8,
                       r=0.95, beta=0.3, surrogate=resolve(surrogate))


def inputs(seed, recurrent):
    g = torch.Generator().manual_seed(seed)
    X = (torch.randn(T, B, UNITS, generator=g, dtype=torch.float64) * 0.8 + 0.3).requires_grad_()
    V = ((torch.randn(UNITS, UNITS, generator=g, dtype=torch.float64) * 0.4).requires_grad_()
         if recurrent else None)
    gS = torch.randn(T, B, UNITS, generator=g, dtype=torch.float64)
    gU = torch.randn(T, B, UNITS, generator=g, dtype=torch.float64)
    return X, V, gS, gU


CASES = list(itertools.product(KINDS, RESETS, (0, 2), (False, True), (0, 4)))


@pytest.mark.parametrize("kind,reset,refractory,recurrent,tbptt", CASES)
def test_scan_matches_plain_autograd(kind, reset, refractory, recurrent, tbptt):
    c = cfg(kind, reset, refractory)
    X, V, gS, gU = inputs(CASES.index((kind, reset, refractory, recurrent, tbptt)), recurrent)
    S1, U1, sat = N.scan(X, c, V, tbptt)
    S2, U2 = N.reference_scan(X, c, V, tbptt)
    assert torch.equal(S1, S2)
    assert 0 < S1.sum() < S1.numel()
    torch.testing.assert_close(U1, U2, rtol=0, atol=1e-12)
    assert sat.tolist() == [0, 0, 0]
    params = [X] + ([V] if recurrent else [])
    # a loss on both the spikes and the membrane, and one on the spikes only
    for loss1, loss2 in (((S1 * gS).sum() + (U1 * gU).sum(), (S2 * gS).sum() + (U2 * gU).sum()),
                         ((S1 * gS).sum(), (S2 * gS).sum()), ((U1 * gU).sum(), (U2 * gU).sum())):
        g1 = torch.autograd.grad(loss1, params, retain_graph=True)
        g2 = torch.autograd.grad(loss2, params, retain_graph=True)
        for a, b in zip(g1, g2):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_reset_carries_no_gradient_to_the_previous_spike():
    """Subtract reset: U[1] = b U[0] + x[1] - theta S[0] -- dU[1]/dx[0] is b only (no -theta h)."""
    c = cfg("LIF")
    X = torch.tensor([[[1.0]], [[0.2]]], dtype=torch.float64, requires_grad=True)   # spikes at t=0
    S, U, _ = N.scan(X, c)
    assert S[:, 0, 0].tolist() == [1.0, 0.0]
    (g,) = torch.autograd.grad(U[1].sum(), X)
    assert g[:, 0, 0].tolist() == [pytest.approx(0.9), 1.0]


def test_spike_gradient_is_the_surrogate_at_the_membrane_minus_threshold():
    c = cfg("IF", surrogate="fast_sigmoid")
    X = torch.tensor([[[0.5]], [[0.4]]], dtype=torch.float64, requires_grad=True)
    S, U, _ = N.scan(X, c)
    (g,) = torch.autograd.grad(S[1].sum(), X)
    h = 1 / (25 * abs(0.9 - 0.7) + 1) ** 2      # U[1] = 0.9, theta = 0.7
    assert g[:, 0, 0].tolist() == [pytest.approx(h), pytest.approx(h)]


def test_tbptt_stops_gradients_at_window_boundaries():
    c = cfg("CubaLIF")
    X, _, gS, _ = inputs(3, False)
    S, U, _ = N.scan(X, c, None, tbptt=4)
    (g,) = torch.autograd.grad(U[5].sum(), X)          # window 4..7: nothing before step 4
    assert torch.count_nonzero(g[:4]) == 0
    assert torch.count_nonzero(g[4:6]) > 0
    assert torch.count_nonzero(g[6:]) == 0
    (g_full,) = torch.autograd.grad(N.scan(X, c)[1][5].sum(), X)
    assert torch.count_nonzero(g_full[:4]) > 0
    # the forward pass does not depend on the truncation
    assert torch.equal(S, N.scan(X, c)[0])


def test_refractory_steps_get_no_input_gradient():
    c = cfg("LIF", refractory=3)
    X = torch.full((8, 1, 1), 2.0, dtype=torch.float64, requires_grad=True)
    S, U, _ = N.scan(X, c)
    assert S[:, 0, 0].tolist() == [1, 0, 0, 0, 1, 0, 0, 0]
    (g,) = torch.autograd.grad(U.sum(), X)
    assert g[1:4].abs().sum() == 0 and g[5:8].abs().sum() == 0
    assert g[0, 0, 0] > 0 and g[4, 0, 0] > 0


def test_float_forward_follows_the_float_simulator_neuron():
    """The scan's forward pass against the float simulator's neuron (backends/golden/neurons.py)."""
    from snnc.backends.golden.float_sim import FloatBackend

    rng = np.random.default_rng(0)
    for kind, reset, refractory in itertools.product(KINDS, RESETS, (0, 2)):
        n = {"IF": lambda **k: ir.IF(**k),
             "LIF": lambda **k: ir.LIF(tau_mem=-1e-3 / math.log(0.9), **k),
             "CubaLIF": lambda **k: ir.CubaLIF(tau_mem=-1e-3 / math.log(0.9), tau_syn=0.004, **k),
             "ALIF": lambda **k: ir.ALIF(tau_mem=-1e-3 / math.log(0.9), tau_adapt=0.02, beta=0.4,
                                         **k)}[kind](threshold=0.7, reset=reset, refractory=refractory)
        layer = ir.Dense("h", "x", (UNITS,), UNITS, n)
        g = ir.Graph("g", ir.TimeSpec(1e-3, T), (ir.Input("x", (UNITS,), ir.Direct()),), (layer,),
                     (ir.Output("h", "count"),))
        ref = FloatBackend(g, {}).neuron(layer, (B, UNITS))
        X = rng.normal(0.3, 0.8, (T, B, UNITS))
        want = [ref.step(X[t]) for t in range(T)]
        c = N.float_cfg(n, 1e-3, resolve(None))
        S, U, _ = N.scan(torch.tensor(X), c)
        np.testing.assert_array_equal(S.numpy(), np.array([s for s, _ in want], dtype=np.float64))
        np.testing.assert_allclose(U.numpy(), np.array([u for _, u in want]), rtol=0, atol=1e-12)


def test_scan_without_gradients_and_float32():
    c = cfg("ALIF", refractory=1)
    X = torch.randn(T, B, UNITS)
    with torch.no_grad():
        S, U, _ = N.scan(X, c)
    assert S.dtype == torch.float32 and not S.requires_grad
    S2, U2 = N.reference_scan(X, c)
    assert torch.equal(S, S2)
