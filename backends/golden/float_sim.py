"""The float reference simulator (docs/semantics.md sections 1-3, 5 and 7).

float64 throughout, unquantised weights and parameters, no rounding and no saturation; the input
encoders are the shared ones, so spikes are the same as the golden model's.
"""
from __future__ import annotations

import math

import numpy as np

from snnc import expr as E
from snnc import ir
from snnc.backends.golden.common import Backend, Synapses, run
from snnc.backends.golden.neurons import (ASNNeuron, ASNSpec, BuiltinNeuron, BuiltinSpec,
                                          ProgramNeuron, ReLUNeuron)
from snnc.backends.golden.result import SimResult
from snnc.intexpr import EMIT_KEY


def simulate_float(graph: ir.Graph, weights: dict, x, *, seed: int = 0, sample_ids=None,
                   record: bool = False) -> SimResult:
    """Simulate ``graph`` in float64 on the batch ``x``.

    ``weights``: layer name -> {"weight", "recurrent", "bias"} arrays (shapes of
    ``ir.weight_shapes``). ``x``: [B, *shape] (static) or [B, T', *shape] (sequence) for the model's
    input, or a dict input name -> batch for a model with several inputs. ``sample_ids``: each
    sample's index in its data set (default ``0 .. B-1``), which the rate encoder hashes.
    """
    return run(graph, x, FloatBackend(graph, weights), seed=seed, sample_ids=sample_ids,
               record=record)


def _float_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return x.astype(np.float64, copy=False) @ w.T


class FloatOps:
    """Operations of :func:`snnc.expr.evaluate` on float64 numpy arrays."""

    def __init__(self, dt: float):
        self.dt = dt

    const = staticmethod(float)
    neg = staticmethod(np.negative)
    not_ = staticmethod(np.logical_not)
    add = staticmethod(np.add)
    sub = staticmethod(np.subtract)
    mul = staticmethod(np.multiply)
    lt = staticmethod(np.less)
    le = staticmethod(np.less_equal)
    gt = staticmethod(np.greater)
    ge = staticmethod(np.greater_equal)
    eq = staticmethod(np.equal)
    ne = staticmethod(np.not_equal)
    and_ = staticmethod(np.logical_and)
    or_ = staticmethod(np.logical_or)
    min_ = staticmethod(np.minimum)
    max_ = staticmethod(np.maximum)
    exp = staticmethod(np.exp)
    abs_ = staticmethod(np.abs)

    @staticmethod
    def div(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.divide(a, b)

    @staticmethod
    def clip(x, lo, hi):
        return np.minimum(np.maximum(x, lo), hi)

    def decay(self, tau):
        return np.exp(-self.dt / tau)


class FloatBackend(Backend):
    arithmetic = "float"
    membrane_dtype = np.float64

    def __init__(self, graph: ir.Graph, weights: dict):
        self.graph = graph
        self.weights = weights or {}
        self.dt = graph.time.dt
        self.ops = FloatOps(self.dt)

    def input_values(self, inp, encoded):
        return encoded, {}

    def _tensor(self, layer, name: str) -> np.ndarray:
        shape = ir.weight_shapes(layer)[name]
        try:
            w = np.asarray(self.weights[layer.name][name], dtype=np.float64)
        except KeyError:
            raise ValueError(f"no '{name}' weights for layer '{layer.name}'") from None
        if w.shape != tuple(shape):
            raise ValueError(f"weights '{layer.name}/{name}' have shape {list(w.shape)}, "
                             f"the layer needs {list(shape)}")
        return w

    def synapses(self, layer) -> Synapses:
        syn = Synapses(matmul=_float_matmul, to_input=lambda acc: acc)
        if isinstance(layer, ir.Pool):
            syn.pool_scale = 1.0 if layer.mode == "sum" else 1.0 / (layer.kernel[0] * layer.kernel[1])
            return syn
        if not isinstance(layer, (ir.Dense, ir.Recurrent, ir.Conv2d)):
            raise TypeError(f"unknown layer type {type(layer).__name__}")
        syn.weight = self._tensor(layer, "weight")
        if isinstance(layer, ir.Recurrent):
            syn.recurrent = self._tensor(layer, "recurrent")
        if layer.bias:
            syn.bias = self._tensor(layer, "bias")
        return syn

    def neuron(self, layer, shape):
        n = layer.neuron
        if isinstance(n, ir.CustomNeuron):
            return self._custom(n, shape)
        dt = self.dt
        if isinstance(n, ir.ReLU):
            return ReLUNeuron(np.float64, shape)
        if isinstance(n, ir.ASN):
            b, g, e, mf = (math.exp(-dt / n.tau_beta), math.exp(-dt / n.tau_gamma),
                           math.exp(-dt / n.eta), float(n.m_f))
            return ASNNeuron(ASNSpec(float(n.threshold), np.float64, decay_u=lambda v: b * v,
                                     decay_a=lambda v: g * v, decay_p=lambda v: e * v,
                                     adapt_inc=lambda h: mf * h), shape)
        if not isinstance(n, (ir.IF, ir.LIF, ir.CubaLIF, ir.ALIF)):
            raise TypeError(f"unknown neuron type {type(n).__name__}")
        kw = dict(kind=type(n).__name__, threshold=float(n.threshold), reset=n.reset,
                  refractory=int(n.refractory), dtype=np.float64)
        if not isinstance(n, ir.IF):
            b = math.exp(-dt / n.tau_mem)
            kw["decay_mem"] = lambda v: b * v
        if isinstance(n, ir.CubaLIF):
            a = math.exp(-dt / n.tau_syn)
            kw["decay_syn"] = lambda v: a * v
        if isinstance(n, ir.ALIF):
            r = math.exp(-dt / n.tau_adapt)
            beta = float(n.beta)
            kw["decay_adapt"] = lambda v: r * v
            kw["beta_a"] = lambda v: beta * v
            kw["spike_inc"] = 1.0
        return BuiltinNeuron(BuiltinSpec(**kw), shape)

    def _custom(self, n: ir.CustomNeuron, shape):
        params = dict(n.params)
        dt, ops = self.dt, self.ops

        def evaluate(e, states, inp):
            def lookup(ref: E.Ref):
                if ref.kind == "state":
                    return states[ref.name]
                if ref.kind == "input":
                    return inp
                if ref.kind == "param":
                    return params[ref.name]
                if ref.kind == "dt":
                    return dt
                if ref.kind == "height":
                    return states[EMIT_KEY]
                raise ValueError(f"unknown reference kind {ref.kind!r}")
            return E.evaluate(e, lookup, ops)

        init = [(s.name, float(evaluate(s.init, {}, None))) for s in n.states]
        update = [(a.target, a.value) for a in n.update]
        on_spike = [(a.target, a.value) for a in n.on_spike]
        return ProgramNeuron(init, update, n.spike, on_spike, evaluate, shape, np.float64,
                             emit=n.emit)
