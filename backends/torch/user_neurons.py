"""User-defined neurons (``neuron NAME { ... }``) in torch: their expression IR compiled to torch
operations, run one step at a time with plain autograd (the built-in kinds run in
:class:`snnc.backends.torch.neurons.NeuronScan`).

:class:`UserFloat` evaluates the float semantics (the surrogate in place of the spike's
derivative), :class:`UserInt` the golden model's integer program exactly (int64, quantization-aware
training: straight-through gradients), and :func:`run_user` runs either over all time steps,
with truncated BPTT and a recurrent input as :func:`snnc.backends.torch.neurons.scan` does.
"""
from __future__ import annotations

import math

import torch

from snnc import ir
from snnc.intexpr import EMIT_KEY
from snnc.backends.torch.neurons import rescale, rshift_round, to_int
from snnc.backends.torch.surrogates import Surrogate


class _FloatOps:
    """The torch operation table of :func:`snnc.expr.evaluate` (float mode)."""

    def __init__(self, spike, like: torch.Tensor, dt: float):
        self.spike, self.like, self.dt = spike, like, dt

    def _t(self, v):
        return v if torch.is_tensor(v) else torch.tensor(float(v), dtype=self.like.dtype,
                                                         device=self.like.device)

    @staticmethod
    def _both_const(a, b):
        return not torch.is_tensor(a) and not torch.is_tensor(b)

    def const(self, v):
        return float(v)

    def neg(self, x):
        return -x

    def not_(self, x):
        return 1.0 - x

    def add(self, a, b):
        return a + b

    def sub(self, a, b):
        return a - b

    def mul(self, a, b):
        return a * b

    def div(self, a, b):
        return a / b

    def gt(self, a, b):
        return float(a > b) if self._both_const(a, b) else self.spike(self._t(a - b))

    def lt(self, a, b):
        return self.gt(b, a)

    def ge(self, a, b):
        if self._both_const(a, b):
            return float(a >= b)
        d = self._t(b - a)
        # 1 - H(b - a), except where an operand is NaN: a >= b is false there (as numpy's)
        return (1.0 - self.spike(d)) * (d == d).to(d.dtype)

    def le(self, a, b):
        return self.ge(b, a)

    def eq(self, a, b):
        if self._both_const(a, b):
            return float(a == b)
        return (self._t(a) == self._t(b)).to(self.like.dtype)

    def ne(self, a, b):
        return 1.0 - self.eq(a, b)

    def and_(self, a, b):
        return a * b

    def or_(self, a, b):
        return a + b - a * b

    def min_(self, a, b):
        return min(a, b) if self._both_const(a, b) else torch.minimum(self._t(a), self._t(b))

    def max_(self, a, b):
        return max(a, b) if self._both_const(a, b) else torch.maximum(self._t(a), self._t(b))

    def clip(self, x, lo, hi):
        return self.min_(self.max_(x, lo), hi)

    def exp(self, x):
        return math.exp(x) if not torch.is_tensor(x) else torch.exp(x)

    def abs_(self, x):
        return abs(x) if not torch.is_tensor(x) else x.abs()

    def decay(self, tau):
        return math.exp(-self.dt / tau) if not torch.is_tensor(tau) else torch.exp(-self.dt / tau)


class UserFloat:
    """A user-defined neuron (section 3) in float, one step at a time with autograd.

    The spike condition's comparisons use the layer's surrogate (``a > b`` is ``H(a - b)``; ``and``,
    ``or``, ``not`` are products on 0/1 values); the ``on spike`` statements are selected by the
    *detached* spike, so no gradient flows through the reset (as for the built-in kinds). A graded
    neuron's event value (``H`` after each step) is ``S * emit``, differentiated through the
    spike's surrogate and the height expression, as an ASN's ``h = S * theta``.
    """

    def __init__(self, neuron: ir.CustomNeuron, dt: float, surrogate: Surrogate, like: torch.Tensor):
        from snnc import expr as E

        self.E = E
        self.neuron = neuron
        self.params = {k: float(v) for k, v in neuron.params}
        self.dt = float(dt)
        self.ops = _FloatOps(surrogate.spike, like, self.dt)
        self.shape, self.like = like.shape, like
        self.first = neuron.states[0].name
        self.graded = neuron.emit is not None
        self.H = None

    def _full(self, v):
        if torch.is_tensor(v):
            return v.expand(self.shape) if v.shape != self.shape else v
        return torch.full(self.shape, float(v), dtype=self.like.dtype, device=self.like.device)

    def initial(self) -> dict:
        def lookup(ref):
            if ref.kind == "param":
                return self.params[ref.name]
            if ref.kind == "dt":
                return self.dt
            raise ValueError(f"initial value of a state reads {ref.kind} '{ref.name}'")

        return {s.name: self._full(self.E.evaluate(s.init, lookup, self.ops))
                for s in self.neuron.states}

    @staticmethod
    def detach(states: dict) -> dict:
        return {k: v.detach() for k, v in states.items()}

    def step(self, states: dict, x: torch.Tensor):
        """One step: returns ``(S, U, states)`` (``U`` the first state after the step)."""
        states = dict(states)
        E, ops = self.E, self.ops

        def lookup(ref):
            if ref.kind == "state":
                return states[ref.name]
            if ref.kind == "input":
                return x
            if ref.kind == "param":
                return self.params[ref.name]
            if ref.kind == "dt":
                return self.dt
            if ref.kind == "height":
                return height
            raise ValueError(f"unknown reference {ref.kind!r}")

        for a in self.neuron.update:
            states[a.target] = self._full(E.evaluate(a.value, lookup, ops))
        s = self._full(E.evaluate(self.neuron.spike, lookup, ops))
        fired = s.detach() > 0
        h = height = None
        if self.neuron.emit is not None:
            # the graded event S * height: differentiable through the spike and the height; the
            # `on spike` statements read the height itself (the jumps use the detached spike)
            height = self._full(E.evaluate(self.neuron.emit, lookup, ops))
            h = s * height
        for a in self.neuron.on_spike:
            states[a.target] = torch.where(fired, self._full(E.evaluate(a.value, lookup, ops)),
                                           states[a.target])
        self.H = h
        return s, states[self.first], states

    def saturation(self) -> dict:
        return {}


class UserInt:
    """A user-defined neuron in integers (its :class:`snnc.intexpr.IntProgram`), exactly as the
    golden model, with straight-through gradients.

    Every value is a pair (int64 exact, float64 real with gradient) whose real part is replaced by
    ``int * 2^-Fm`` after each operation (the gradient passes straight through rounding and
    saturation); comparisons take the surrogate of the real difference. ``step`` takes the
    accumulator in real units (``acc_frac`` fractional bits).
    """

    def __init__(self, program, acc_frac: int, fmt, surrogate: Surrogate, like: torch.Tensor):
        self.program, self.acc_frac, self.fmt, self.surrogate = program, acc_frac, fmt, surrogate
        self.fm = fmt.frac
        self.scale = 2.0 ** -self.fm
        self.shape, self.dev, self.dtype = like.shape, like.device, like.dtype
        self.sat = {name: torch.zeros((), dtype=torch.int64, device=self.dev)
                    for name, _ in program.states}
        self.graded = program.emit is not None
        if self.graded:
            self.sat[EMIT_KEY] = torch.zeros((), dtype=torch.int64, device=self.dev)
        self.H = None
        self.first = program.states[0][0]

    def _real(self, i, r):
        """``r`` with its value replaced by ``i * 2^-Fm`` (straight-through)."""
        exact = i.to(self.dtype) * self.scale
        return exact + (r - r.detach()) if torch.is_tensor(r) and r.requires_grad else exact

    def initial(self) -> dict:
        return {name: (torch.full(self.shape, v, dtype=torch.int64, device=self.dev),
                       torch.full(self.shape, v * self.scale, dtype=self.dtype, device=self.dev))
                for name, v in self.program.states}

    @staticmethod
    def detach(states: dict) -> dict:
        return {k: (i, r.detach()) for k, (i, r) in states.items()}

    def _const(self, value: int, boolean: bool):
        real = float(value) if boolean else value * self.scale
        return (torch.tensor(value, dtype=torch.int64, device=self.dev),
                torch.tensor(real, dtype=self.dtype, device=self.dev))

    def ev(self, e, states, inp, boolean=False):
        from snnc import intexpr as I

        ev = self.ev
        if isinstance(e, I.IConst):
            return self._const(e.value, boolean)
        if isinstance(e, I.IState):
            return states[e.name]
        if isinstance(e, I.IInput):
            return inp
        if isinstance(e, I.INeg):
            i, r = ev(e.operand, states, inp)
            return -i, -r
        if isinstance(e, I.IArith):
            (i1, r1), (i2, r2) = ev(e.left, states, inp), ev(e.right, states, inp)
            return (i1 + i2, r1 + r2) if e.op == "+" else (i1 - i2, r1 - r2)
        if isinstance(e, I.ICoefMul):
            i, r = ev(e.operand, states, inp)
            io = rshift_round(i * e.coef, 16)
            return io, self._real(io, r * (e.coef / 65536.0))
        if isinstance(e, I.IMul):
            (i1, r1), (i2, r2) = ev(e.left, states, inp), ev(e.right, states, inp)
            io = rshift_round(i1 * i2, self.fm) if self.fm > 0 else i1 * i2
            return io, self._real(io, r1 * r2)
        if isinstance(e, I.IFunc):
            args = [ev(a, states, inp) for a in e.args]
            if e.name == "abs":
                (i, r), = args
                return i.abs(), r.abs()
            if e.name in ("min", "max"):
                (i1, r1), (i2, r2) = args
                f = torch.minimum if e.name == "min" else torch.maximum
                io = f(i1, i2)
                return io, self._real(io, f(r1, r2))
            if e.name == "clip":
                (i, r), (il, rl), (ih, rh) = args
                io = torch.minimum(torch.maximum(i, il), ih)
                return io, self._real(io, torch.minimum(torch.maximum(r, rl), rh))
            raise ValueError(f"unknown integer function {e.name!r}")
        if isinstance(e, I.ICompare):
            (i1, r1), (i2, r2) = ev(e.left, states, inp), ev(e.right, states, inp)
            res = {"<": torch.lt, "<=": torch.le, ">": torch.gt, ">=": torch.ge, "==": torch.eq,
                   "!=": torch.ne}[e.op](i1, i2)
            exact = res.to(self.dtype)
            if e.op in (">", ">="):
                soft = self.surrogate.spike(r1 - r2)
            elif e.op in ("<", "<="):
                soft = self.surrogate.spike(r2 - r1)
            else:
                return res.to(torch.int64), exact
            return res.to(torch.int64), exact + (soft - soft.detach())
        if isinstance(e, I.ILogic):
            args = [ev(o, states, inp, boolean=True) for o in e.operands]
            if e.op == "not":
                (i, r), = args
                return 1 - i, 1.0 - r
            (i1, r1), (i2, r2) = args
            if e.op == "and":
                return i1 & i2, r1 * r2
            return i1 | i2, r1 + r2 - r1 * r2
        raise TypeError(f"not an integer expression: {e!r}")

    def _broadcast(self, pair):
        i, r = pair
        return i.expand(self.shape), r.expand(self.shape)

    def _saturate(self, name, pair, where=None):
        i, r = pair
        lo, hi = self.fmt.min_int, self.fmt.max_int
        out = (i < lo) | (i > hi)
        self.sat[name] += (out & where).sum() if where is not None else out.sum()
        ic = i.clamp(lo, hi)
        return ic, self._real(ic, r)

    def step(self, states: dict, x: torch.Tensor):
        """One step with accumulator ``x`` (real units): returns ``(S, U, states)``."""
        states = dict(states)
        xi = rescale(to_int(x.detach(), self.acc_frac), self.acc_frac, self.fm)
        inp = (xi, self._real(xi, x))
        p = self.program
        for a in p.update:
            states[a.target] = self._saturate(a.target, self._broadcast(self.ev(a.value, states, inp)))
        si, sr = self._broadcast(self.ev(p.spike, states, inp, boolean=True))
        fired = si > 0
        if p.emit is not None:
            # the event's height: sat_H(emit) where it spiked (0 .. max(membrane), counted), else 0;
            # straight-through to S * emit in the real track
            hi, hr = self._broadcast(self.ev(p.emit, states, inp))
            out = (hi < 0) | (hi > self.fmt.max_int)
            self.sat[EMIT_KEY] += (out & fired).sum()
            hi = torch.where(fired, hi.clamp(0, self.fmt.max_int), torch.zeros_like(hi))
            self.H = self._real(hi, sr * hr)
            states[EMIT_KEY] = (hi, self._real(hi, hr))     # `height` in `on spike`
        for a in p.on_spike:
            vi, vr = self._saturate(a.target, self._broadcast(self.ev(a.value, states, inp)), fired)
            oi, orr = states[a.target]
            states[a.target] = (torch.where(fired, vi, oi), torch.where(fired, vr, orr))
        return sr, states[self.first][1], states

    def saturation(self) -> dict:
        return dict(self.sat)


def run_user(runner, X: torch.Tensor, tbptt: int = 0, V: torch.Tensor | None = None):
    """Run a :class:`UserFloat` / :class:`UserInt` over all steps of ``X`` ``[T, B, N]``: returns
    ``(S, U)`` ``[T, B, N]``, and ``H`` (the event values) for a graded neuron (``emit``). With
    ``V`` (a recurrent layer) ``V S[t-1]`` is added to each step's input. TBPTT detaches the state (and the previous spikes) at every multiple of ``tbptt``."""
    states = runner.initial()
    spikes, mems, heights = [], [], []
    s_prev = None
    for t, x in enumerate(X.unbind(0)):
        if t > 0 and tbptt and t % tbptt == 0:
            states = runner.detach(states)
            s_prev = s_prev.detach()
        if V is not None and s_prev is not None:
            x = x + s_prev @ V.t()
        s, u, states = runner.step(states, x)
        spikes.append(s)
        mems.append(u)
        if getattr(runner, "graded", False):
            heights.append(runner.H)
        s_prev = s
    if heights:
        return torch.stack(spikes), torch.stack(mems), torch.stack(heights)
    return torch.stack(spikes), torch.stack(mems)
