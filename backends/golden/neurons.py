"""Neuron state machines of docs/semantics.md section 3, generic over the arithmetic.

:class:`BuiltinNeuron` runs IF/LIF/CubaLIF/ALIF with decay, ``beta * A`` and saturation functions
supplied by the float simulator (exact reals, no saturation) or the golden model (section 4
integers). :class:`ProgramNeuron` runs a user-defined neuron (update, spike test, on-spike block)
with an expression evaluator supplied likewise. Both step a whole batch of neurons at once:
``step(inp)`` takes this step's input of every neuron and returns ``(S, U)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from snnc.fixedpoint import saturate
from snnc.intexpr import EMIT_KEY
from snnc.types import Fixed

Fn = Callable[[np.ndarray], np.ndarray]


def _identity(v):
    return v


@dataclass(frozen=True)
class BuiltinSpec:
    """A built-in neuron in one arithmetic.

    ``decay_*`` apply ``b``, ``a``, ``r``; ``beta_a(A)`` is ``beta * A`` in membrane units;
    ``spike_inc`` is what one spike adds to ``A``; ``cur_to_mem(I)`` brings the current to membrane
    units; ``formats`` maps ``U``/``I``/``A`` to the format they saturate to (empty: no saturation).
    """

    kind: str                 # IF, LIF, CubaLIF, ALIF
    threshold: Any
    reset: str
    refractory: int
    dtype: Any
    decay_mem: Fn = _identity
    decay_syn: Fn = _identity
    decay_adapt: Fn = _identity
    beta_a: Fn | None = None
    spike_inc: Any = 1
    cur_to_mem: Fn = _identity
    formats: dict | None = None


class _Saturating:
    def __init__(self, formats: dict | None, names):
        self.formats = formats or {}
        self.saturation = {n: 0 for n in names} if formats else {}

    def _sat(self, name: str, v: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        fmt: Fixed | None = self.formats.get(name)
        if fmt is None:
            return v
        if mask is None:
            if v.size == 0 or (v.min() >= fmt.min_int and v.max() <= fmt.max_int):
                return v                                   # the common case: nothing to clamp
            q, n = saturate(v, fmt)
        else:
            out = (v < fmt.min_int) | (v > fmt.max_int)
            n = int(np.count_nonzero(out & mask))
            q = np.clip(v, fmt.min_int, fmt.max_int) if out.any() else v
        self.saturation[name] += n
        return q


class BuiltinNeuron(_Saturating):
    """IF, LIF, CubaLIF or ALIF over an array of neurons of shape ``shape`` (section 3)."""

    def __init__(self, spec: BuiltinSpec, shape: tuple[int, ...]):
        if spec.kind not in ("IF", "LIF", "CubaLIF", "ALIF"):
            raise TypeError(f"unknown built-in neuron kind {spec.kind!r}")
        if spec.reset not in ("subtract", "zero", "none"):
            raise ValueError(f"unknown reset {spec.reset!r}")
        names = ["U"] + {"CubaLIF": ["I"], "ALIF": ["A"]}.get(spec.kind, [])
        super().__init__(spec.formats, names)
        self.spec = spec
        self.U = np.zeros(shape, dtype=spec.dtype)
        self.I = np.zeros(shape, dtype=spec.dtype) if spec.kind == "CubaLIF" else None
        self.A = np.zeros(shape, dtype=spec.dtype) if spec.kind == "ALIF" else None
        self.S = np.zeros(shape, dtype=bool)
        self.R = np.zeros(shape, dtype=np.int64)

    def step(self, inp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sp = self.spec
        refr = self.R > 0 if sp.refractory else None
        if sp.kind == "CubaLIF":
            # the current integrates `in` even while refractory; the membrane then receives 0
            self.I = self._sat("I", sp.decay_syn(self.I) + inp)
            x = sp.cur_to_mem(self.I)
        else:
            x = inp
        if refr is not None:
            x = np.where(refr, 0, x)
        s_prev = self.S
        if sp.kind == "ALIF":
            th_prev = sp.threshold + sp.beta_a(self.A)
            self.A = self._sat("A", sp.decay_adapt(self.A) + s_prev * sp.spike_inc)
            th_now = sp.threshold + sp.beta_a(self.A)
        else:
            th_prev = th_now = sp.threshold
        if sp.reset == "subtract":
            u = sp.decay_mem(self.U) + x - th_prev * s_prev
        elif sp.reset == "zero":
            u = np.where(s_prev, 0, sp.decay_mem(self.U)) + x
        else:
            u = sp.decay_mem(self.U) + x
        self.U = self._sat("U", u)
        s = self.U > th_now
        if refr is not None:
            s &= ~refr
            self.R = np.where(s, sp.refractory, np.maximum(self.R - 1, 0))
        self.S = s
        return s, self.U

    def state(self) -> dict[str, np.ndarray]:
        out = {"U": self.U}
        if self.I is not None:
            out["I"] = self.I
        if self.A is not None:
            out["A"] = self.A
        out["S"] = self.S
        out["R"] = self.R
        return out


@dataclass(frozen=True)
class ASNSpec:
    """An adaptive spiking neuron (docs/semantics.md sections 3-4) in one arithmetic.

    ``decay_u``, ``decay_a``, ``decay_p`` apply ``exp(-dt/tau_beta)``, ``exp(-dt/tau_gamma)``,
    ``exp(-dt/tau_eta)``; ``a_to_mem(A)`` brings the adaptation to membrane units; ``adapt_inc(h)``
    is ``m_f * h`` in adaptation units; ``formats`` maps ``U``/``P``/``A``/``H`` (the payload) to
    the format they saturate to (empty: no saturation).
    """

    threshold: Any
    dtype: Any
    decay_u: Fn = _identity
    decay_a: Fn = _identity
    decay_p: Fn = _identity
    a_to_mem: Fn = _identity
    adapt_inc: Fn = _identity
    formats: dict | None = None


class ASNNeuron(_Saturating):
    """The adaptive spiking neuron over an array of neurons: ``step(inp)`` returns ``(S, U)``;
    ``H`` holds the step's graded events (the spike heights, 0 where no spike)."""

    graded = True

    def __init__(self, spec: ASNSpec, shape: tuple[int, ...]):
        super().__init__(spec.formats, ["U", "P", "A", "H"])
        self.spec = spec
        self.U = np.zeros(shape, dtype=spec.dtype)
        self.P = np.zeros(shape, dtype=spec.dtype)
        self.A = np.zeros(shape, dtype=spec.dtype)
        self.H = np.zeros(shape, dtype=spec.dtype)
        self.S = np.zeros(shape, dtype=bool)

    def step(self, inp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sp = self.spec
        self.U = self._sat("U", sp.decay_u(self.U) + inp)
        self.A = sp.decay_a(self.A)
        self.P = sp.decay_p(self.P)
        theta = sp.threshold + sp.a_to_mem(self.A)
        s = 2 * (self.U - self.P) > theta                 # S - S^ > theta / 2
        h = self._sat("H", np.where(s, theta, 0).astype(sp.dtype, copy=False), s)
        if s.any():
            self.P = np.where(s, self._sat("P", self.P + h, s), self.P)
            self.A = np.where(s, self._sat("A", self.A + sp.adapt_inc(h), s), self.A)
        self.H = h
        self.S = s
        return s, self.U

    def state(self) -> dict[str, np.ndarray]:
        return {"U": self.U, "P": self.P, "A": self.A, "H": self.H, "S": self.S}


class ReLUNeuron(_Saturating):
    """A non-spiking ReLU unit: ``U = in`` (saturated in integers), the graded event is
    ``H = max(U, 0)`` and an event is sent where ``H > 0``."""

    graded = True

    def __init__(self, dtype, shape: tuple[int, ...], fmt: Fixed | None = None):
        super().__init__({"U": fmt} if fmt is not None else None, ["U"])
        self.dtype = dtype
        self.U = np.zeros(shape, dtype=dtype)
        self.H = np.zeros(shape, dtype=dtype)
        self.S = np.zeros(shape, dtype=bool)

    def step(self, inp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.U = self._sat("U", np.asarray(inp, dtype=self.dtype))
        self.H = np.maximum(self.U, 0)
        self.S = self.H > 0
        return self.S, self.U

    def state(self) -> dict[str, np.ndarray]:
        return {"U": self.U, "H": self.H, "S": self.S}


Evaluator = Callable[[Any, dict, np.ndarray], Any]


@dataclass(frozen=True)
class PayloadRange:
    """The range a graded event's payload saturates to (``0 .. max(membrane)``)."""

    min_int: int
    max_int: int


class ProgramNeuron(_Saturating):
    """A user-defined neuron: ``update`` in order, ``S = spike``, the height ``H = emit`` where
    ``S`` (a graded neuron; saturated to ``0 .. max(fmt)`` and counted under ``emit``), then
    ``on_spike`` where ``S`` (reading ``H`` as the state ``emit``: ``height`` in the language).

    ``states`` are (name, initial value) pairs (the first is the membrane); statements are
    (target, expression) pairs evaluated by ``evaluate(expr, states, inp)``; with ``fmt`` every
    assignment saturates to it (and is counted, on-spike ones only where they run).
    """

    def __init__(self, states, update, spike, on_spike, evaluate: Evaluator, shape, dtype,
                 fmt: Fixed | None = None, emit=None):
        names = [n for n, _ in states]
        formats = {n: fmt for n in names} if fmt is not None else None
        if formats is not None and emit is not None:
            # the payload's range: 0 .. max(membrane), as an ASN's (docs/semantics.md section 4)
            formats[EMIT_KEY] = PayloadRange(0, fmt.max_int)
        super().__init__(formats, names + ([EMIT_KEY] if emit is not None else []))
        self.names = names
        self.values = {n: np.full(shape, v, dtype=dtype) for n, v in states}
        self.update, self.spike, self.on_spike = tuple(update), spike, tuple(on_spike)
        self.emit = emit
        #: a graded neuron (``emit``): ``H`` holds the step's event heights (0 where no spike)
        self.graded = emit is not None
        self.H = np.zeros(shape, dtype=dtype) if emit is not None else None
        self.evaluate = evaluate
        self.shape, self.dtype = shape, dtype
        self.S = np.zeros(shape, dtype=bool)

    def _value(self, e, inp) -> np.ndarray:
        v = self.evaluate(e, self.values, inp)
        return np.broadcast_to(np.asarray(v, dtype=self.dtype), self.shape)

    def step(self, inp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        for target, e in self.update:
            self.values[target] = self._sat(target, self._value(e, inp))
        s = np.broadcast_to(np.asarray(self.evaluate(self.spike, self.values, inp), dtype=bool),
                            self.shape).copy()
        if self.emit is not None:
            # the height, on the state the spike test saw (before `on spike`); 0 without a spike
            h = np.where(s, self._value(self.emit, inp), 0).astype(self.dtype, copy=False)
            self.H = self._sat(EMIT_KEY, h, s)
            self.values[EMIT_KEY] = self.H          # `height` in `on spike`
        if s.any():
            for target, e in self.on_spike:
                v = self._sat(target, self._value(e, inp), s)
                self.values[target] = np.where(s, v, self.values[target])
        self.S = s
        return s, self.values[self.names[0]]

    def state(self) -> dict[str, np.ndarray]:
        out = {n: self.values[n] for n in self.names}
        out["S"] = self.S
        if self.emit is not None:
            out[EMIT_KEY] = self.H
        return out
