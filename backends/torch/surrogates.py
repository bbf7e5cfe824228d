"""Surrogate gradients: the Heaviside spike in the forward pass, a smooth derivative in the backward.

Every surrogate is a :class:`torch.autograd.Function` whose forward is ``H(v) = 1 if v > 0 else 0``
(``v = U - theta``, strictly greater, docs/semantics.md section 3) and whose backward multiplies the
incoming gradient by the surrogate derivative ``h(v)``:

==============  ==================================================  ===========================
name            ``h(v)``                                            area under ``h``
==============  ==================================================  ===========================
fast_sigmoid    ``1 / (slope*|v| + 1)^2`` (SuperSpike, snnTorch)    ``2 / slope``
triangle        ``max(0, 1 - |v|/width) / width``                   1
exponential     ``slope/2 * exp(-slope*|v|)``                       1
atan            ``alpha/2 / (1 + (pi/2*alpha*v)^2)`` (snnTorch)     1
sigmoid         ``slope * sig(slope*v) * (1 - sig(slope*v))``       1
rectangular     ``1/width`` where ``|v| < width/2``, else 0          1
==============  ==================================================  ===========================

``triangle``, ``exponential`` and ``rectangular`` are normalised to unit area, like ``atan`` and
``sigmoid`` (each is then the derivative of a smoothed step that goes from 0 to 1); ``width`` is
the half-width of the triangle's support and the full width of the rectangle. ``fast_sigmoid``
keeps the un-normalised SuperSpike form (peak 1) that snnTorch uses.

Each surrogate also has a ``primitive``: the smooth step whose derivative ``h`` is, so that tests can
check the backward pass against ``torch.autograd`` on the primitive.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from snnc import catalog, ir

__all__ = ["SURROGATES", "Surrogate", "resolve", "spike_function", "derivative"]


# Each surrogate: h(v) written in place on a fresh tensor ``v`` (the scans' backward pass calls it on
# a temporary, so no extra passes over memory), and its primitive (for tests).


def _fast_sigmoid(v, slope):
    return v.abs_().mul_(slope).add_(1.0).square_().reciprocal_()


def _fast_sigmoid_p(v, slope):
    return v / (1.0 + slope * v.abs())


def _triangle(v, width):
    return v.abs_().mul_(-1.0 / width).add_(1.0).clamp_(min=0.0).mul_(1.0 / width)


def _triangle_p(v, width):
    u = torch.clamp(v / width, -1.0, 1.0)
    return torch.where(u < 0, 0.5 * (1 + u) ** 2, 1 - 0.5 * (1 - u) ** 2)


def _exponential(v, slope):
    return v.abs_().mul_(-slope).exp_().mul_(0.5 * slope)


def _exponential_p(v, slope):
    return torch.where(v < 0, 0.5 * torch.exp(slope * v), 1 - 0.5 * torch.exp(-slope * v))


def _atan(v, alpha):
    return v.mul_(0.5 * math.pi * alpha).square_().add_(1.0).reciprocal_().mul_(0.5 * alpha)


def _atan_p(v, alpha):
    return torch.atan(0.5 * math.pi * alpha * v) / math.pi + 0.5


def _sigmoid(v, slope):
    s = v.mul_(slope).sigmoid_()
    return s.mul_(1.0 - s).mul_(slope)


def _sigmoid_p(v, slope):
    return torch.sigmoid(slope * v)


def _rectangular(v, width):
    return (v.abs_() < 0.5 * width).to(v.dtype).mul_(1.0 / width)


def _rectangular_p(v, width):
    return torch.clamp(v / width + 0.5, 0.0, 1.0)


@dataclass(frozen=True)
class _Kind:
    param: str
    derivative: Callable
    primitive: Callable


_KINDS = {
    "fast_sigmoid": _Kind("slope", _fast_sigmoid, _fast_sigmoid_p),
    "triangle": _Kind("width", _triangle, _triangle_p),
    "exponential": _Kind("slope", _exponential, _exponential_p),
    "atan": _Kind("alpha", _atan, _atan_p),
    "sigmoid": _Kind("slope", _sigmoid, _sigmoid_p),
    "rectangular": _Kind("width", _rectangular, _rectangular_p),
}


class _SpikeBase(torch.autograd.Function):
    """Heaviside forward, surrogate derivative backward (subclasses set ``_h``)."""

    _h: Callable = staticmethod(_fast_sigmoid)

    @staticmethod
    def forward(ctx, v, p):
        ctx.save_for_backward(v)
        ctx.p = p
        return (v > 0).to(v.dtype)

    @classmethod
    def backward(cls, ctx, grad):
        (v,) = ctx.saved_tensors
        return cls._h(v.clone(), ctx.p).mul_(grad), None


def _make(name: str, kind: _Kind):
    cls_name = "".join(w.capitalize() for w in name.split("_")) + "Spike"
    return type(cls_name, (_SpikeBase,), {"_h": staticmethod(kind.derivative),
                                          "__doc__": f"Heaviside spike with the {name} surrogate."})


FastSigmoidSpike = _make("fast_sigmoid", _KINDS["fast_sigmoid"])
TriangleSpike = _make("triangle", _KINDS["triangle"])
ExponentialSpike = _make("exponential", _KINDS["exponential"])
AtanSpike = _make("atan", _KINDS["atan"])
SigmoidSpike = _make("sigmoid", _KINDS["sigmoid"])
RectangularSpike = _make("rectangular", _KINDS["rectangular"])

#: surrogate name -> its autograd Function
SURROGATES: dict[str, type] = {
    "fast_sigmoid": FastSigmoidSpike, "triangle": TriangleSpike, "exponential": ExponentialSpike,
    "atan": AtanSpike, "sigmoid": SigmoidSpike, "rectangular": RectangularSpike,
}


@dataclass(frozen=True)
class Surrogate:
    """A resolved surrogate: canonical name and its one parameter's value."""

    name: str
    param: float

    def spike(self, v: torch.Tensor) -> torch.Tensor:
        """``H(v)`` with this surrogate's gradient."""
        return SURROGATES[self.name].apply(v, self.param)

    def derivative(self, v: torch.Tensor) -> torch.Tensor:
        """``h(v)``, vectorised (``v`` is not modified)."""
        return _KINDS[self.name].derivative(v.clone(), self.param)

    def derivative_(self, v: torch.Tensor) -> torch.Tensor:
        """``h(v)`` computed in place in ``v`` (for temporaries; the scans' backward pass)."""
        return _KINDS[self.name].derivative(v, self.param)

    def primitive(self, v: torch.Tensor) -> torch.Tensor:
        """The smooth step whose derivative is ``h`` (for tests)."""
        return _KINDS[self.name].primitive(v, self.param)


def resolve(s: ir.Surrogate | Surrogate | str | None) -> Surrogate:
    """An ``ir.Surrogate`` (or a name, or None for the default) -> :class:`Surrogate`."""
    if isinstance(s, Surrogate):
        return s
    if s is None:
        s = catalog.DEFAULT_SURROGATE
    if isinstance(s, str):
        s = ir.Surrogate(s)
    if not isinstance(s, ir.Surrogate):
        raise TypeError(f"a surrogate is a name (e.g. 'fast_sigmoid'), an ir.Surrogate or a "
                        f"Surrogate, not {type(s).__name__}")
    name = catalog.SURROGATE_ALIASES.get(s.name, s.name)
    if name not in _KINDS:
        raise ValueError(f"unknown surrogate {s.name!r}; known: {', '.join(_KINDS)}")
    kind = _KINDS[name]
    params = dict(s.params)
    unknown = set(params) - {kind.param}
    if unknown:
        raise ValueError(f"surrogate {name} has no parameter {sorted(unknown)[0]!r}")
    default = next(p.default for p in catalog.SURROGATES[name] if p.name == kind.param)
    value = float(params.get(kind.param, default))
    if not value > 0:
        raise ValueError(f"surrogate {name}: {kind.param} must be positive")
    return Surrogate(name, value)


def spike_function(s: ir.Surrogate | Surrogate | str | None) -> Callable[[torch.Tensor], torch.Tensor]:
    return resolve(s).spike


def derivative(s: ir.Surrogate | Surrogate | str | None) -> Callable[[torch.Tensor], torch.Tensor]:
    return resolve(s).derivative
