"""Surrogate gradients of the PyTorch target: Heaviside forward, analytic derivative backward."""
import math

import pytest

torch = pytest.importorskip("torch")

from snnc import catalog, ir  # noqa: E402
from snnc.backends.torch.surrogates import SURROGATES, Surrogate, resolve  # noqa: E402


pytestmark = pytest.mark.usefixtures("torch_one_thread")


NAMES = sorted(SURROGATES)

#: the analytic derivatives, written independently of the module under test
ANALYTIC = {
    "fast_sigmoid": lambda v, k: 1.0 / (k * abs(v) + 1.0) ** 2,
    "triangle": lambda v, w: max(0.0, 1.0 - abs(v) / w) / w,
    "exponential": lambda v, k: 0.5 * k * math.exp(-k * abs(v)),
    "atan": lambda v, a: (a / 2) / (1 + (math.pi / 2 * a * v) ** 2),
    "sigmoid": lambda v, k: k / (1 + math.exp(-k * v)) * (1 - 1 / (1 + math.exp(-k * v))),
    "rectangular": lambda v, w: 1.0 / w if abs(v) < w / 2 else 0.0,
}

#: points away from the kinks of triangle (|v| = w) and rectangular (|v| = w/2)
POINTS = torch.linspace(-2.013, 2.017, 401, dtype=torch.float64)


def test_every_catalog_surrogate_has_a_function():
    assert set(SURROGATES) == set(catalog.SURROGATES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("param", [0.5, 1.0, 3.0, 25.0])
def test_forward_is_heaviside_and_backward_is_the_analytic_derivative(name, param):
    s = Surrogate(name, param)
    v = POINTS.clone().requires_grad_()
    out = s.spike(v)
    assert torch.equal(out, (POINTS > 0).to(torch.float64))
    assert out.dtype == v.dtype
    (grad,) = torch.autograd.grad(out.sum(), v)
    expected = torch.tensor([ANALYTIC[name](float(x), param) for x in POINTS], dtype=torch.float64)
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-12)
    # the same as autograd on the smooth step whose derivative the surrogate is
    w = POINTS.clone().requires_grad_()
    (grad_p,) = torch.autograd.grad(s.primitive(w).sum(), w)
    torch.testing.assert_close(grad, grad_p, rtol=1e-9, atol=1e-12)
    # the vectorised derivative used by the scans agrees and leaves its input alone
    before = POINTS.clone()
    torch.testing.assert_close(s.derivative(POINTS), expected, rtol=1e-12, atol=1e-12)
    assert torch.equal(POINTS, before)


@pytest.mark.parametrize("name", NAMES)
def test_backward_scales_the_incoming_gradient(name):
    s = resolve(name)
    v = torch.randn(50, dtype=torch.float64, requires_grad=True)
    g = torch.randn(50, dtype=torch.float64)
    (grad,) = torch.autograd.grad(s.spike(v), v, g)
    torch.testing.assert_close(grad, g * s.derivative(v.detach()))


@pytest.mark.parametrize("name", NAMES)
def test_area_under_the_derivative(name):
    """Unit area (a smoothed step from 0 to 1) except fast sigmoid, whose area is 2 / slope."""
    s = resolve(name)
    v = torch.linspace(-200.0, 200.0, 800_001, dtype=torch.float64)
    area = torch.trapezoid(s.derivative(v), v).item()
    expected = 2.0 / s.param if name == "fast_sigmoid" else 1.0
    assert area == pytest.approx(expected, rel=2e-3)


def test_resolve_aliases_defaults_and_errors():
    assert resolve(None) == Surrogate("fast_sigmoid", 25.0)
    assert resolve("superspike") == Surrogate("fast_sigmoid", 25.0)
    assert resolve("boxcar") == Surrogate("rectangular", 1.0)
    assert resolve(ir.Surrogate("atan", (("alpha", 2.5),))) == Surrogate("atan", 2.5)
    assert resolve(ir.Surrogate("piecewise_linear")) == Surrogate("triangle", 1.0)
    with pytest.raises(ValueError, match="unknown surrogate"):
        resolve("nope")
    with pytest.raises(ValueError, match="no parameter"):
        resolve(ir.Surrogate("atan", (("slope", 1.0),)))


def test_float32_and_shapes():
    v = torch.randn(3, 4, 5, requires_grad=True)
    out = resolve("sigmoid").spike(v)
    assert out.shape == v.shape and out.dtype == torch.float32
    out.sum().backward()
    assert v.grad.shape == v.shape
