"""The bit-exact fixed-point golden model (docs/semantics.md section 4).

Exact int64 arithmetic: synaptic accumulation is exact (``int_matmul`` uses float64 BLAS only where
its bound proves the result exact), the accumulator is rescaled to the neuron's input fraction, the
neurons step with the quantizer's integer constants, and states saturate once, at the end of their
update, every clamp counted. The integer targets (PyTorch QAT, Verilog, HLS) must agree bit for bit.
"""
from __future__ import annotations

import numpy as np

from snnc import intexpr as I
from snnc import ir
from snnc.backends.golden.common import Backend, Synapses, run
from snnc.backends.golden.neurons import (ASNNeuron, ASNSpec, BuiltinNeuron, BuiltinSpec,
                                          ProgramNeuron, ReLUNeuron)
from snnc.backends.golden.result import SimResult
from snnc.fixedpoint import COEF_FRAC, cmul, int_matmul, quantize, rescale, rshift_round
from snnc.quantize import Formats, LayerPlan, NeuronConsts, QuantizedModel


def simulate_golden(qmodel: QuantizedModel, x, *, seed: int = 0, sample_ids=None,
                    record: bool = False) -> SimResult:
    """Simulate the quantised model ``qmodel`` bit-exactly on the batch ``x``.

    ``x`` and ``sample_ids`` as for :func:`simulate_float`. Membrane readouts, traces and final
    states are int64 in their formats' units (membrane ``Fm``, current ``Fi``, adaptation ``Fa``).
    """
    return run(qmodel.graph, x, GoldenBackend(qmodel), seed=seed, sample_ids=sample_ids,
               record=record)


#: float32 BLAS is exact when every partial sum of integer products stays below 2^24.
_F32_EXACT = 1 << 24


def _matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exact ``x @ w.T`` of integers: float32 BLAS where its bound proves it exact (spikes into
    weights of up to ~16 bits), otherwise :func:`snnc.fixedpoint.int_matmul` (float64 BLAS under
    its 2^53 bound, else int64)."""
    spikes = x.dtype == np.uint8 or x.dtype == np.bool_
    max_x = 1 if spikes else (int(np.abs(x).max()) if x.size else 0)
    max_w = int(np.abs(w).max()) if w.size else 0
    if w.shape[1] * max_w * max_x < _F32_EXACT:
        return (x.astype(np.float32) @ w.T.astype(np.float32)).astype(np.int64)
    return int_matmul(x, w, max_x)


def decay_fn(leak: str, factor: int | None):
    """The integer decay of a state by a quantised factor (``cmul``), a shift ``k``, or none.

    Same values as :func:`snnc.fixedpoint.cmul` / :func:`~snnc.fixedpoint.decay_shift`, computed
    in place on a temporary."""
    if leak == "none" or factor is None:
        return lambda v: v
    if leak == "multiply":
        c, half = np.int64(factor), np.int64(1 << (COEF_FRAC - 1))

        def mul(v):
            t = v * c
            t += half
            t >>= COEF_FRAC
            return t
        return mul
    if leak == "shift":
        k = np.int64(factor)

        def shift(v):
            t = v >> k
            np.subtract(v, t, out=t)
            return t
        return shift
    raise ValueError(f"unknown leak {leak!r}")


# ---------------------------------------------------------------------- user-defined neurons

_COMPARE = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
            "==": np.equal, "!=": np.not_equal}


def eval_int(e: I.IExpr, states: dict, inp, frac: int):
    """Evaluate an integer expression on int64 arrays (``frac``: the membrane's fractional bits)."""
    if isinstance(e, I.IConst):
        return np.int64(e.value)
    if isinstance(e, I.IState):
        return states[e.name]
    if isinstance(e, I.IInput):
        return inp
    if isinstance(e, I.INeg):
        return -eval_int(e.operand, states, inp, frac)
    if isinstance(e, I.IArith):
        a, b = eval_int(e.left, states, inp, frac), eval_int(e.right, states, inp, frac)
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        raise ValueError(f"unknown integer operator {e.op!r}")
    if isinstance(e, I.ICoefMul):
        return cmul(np.int64(e.coef), eval_int(e.operand, states, inp, frac))
    if isinstance(e, I.IMul):
        a, b = eval_int(e.left, states, inp, frac), eval_int(e.right, states, inp, frac)
        return rshift_round(a * b, frac) if frac > 0 else a * b
    if isinstance(e, I.IFunc):
        args = [eval_int(a, states, inp, frac) for a in e.args]
        if e.name == "min":
            return np.minimum(*args)
        if e.name == "max":
            return np.maximum(*args)
        if e.name == "clip":
            return np.minimum(np.maximum(args[0], args[1]), args[2])
        if e.name == "abs":
            return np.abs(args[0])
        raise ValueError(f"unknown integer function {e.name!r}")
    if isinstance(e, I.ICompare):
        fn = _COMPARE.get(e.op)
        if fn is None:
            raise ValueError(f"unknown comparison {e.op!r}")
        return fn(eval_int(e.left, states, inp, frac), eval_int(e.right, states, inp, frac))
    if isinstance(e, I.ILogic):
        args = [eval_int(a, states, inp, frac) != 0 for a in e.operands]
        if e.op == "and":
            return np.logical_and(*args)
        if e.op == "or":
            return np.logical_or(*args)
        if e.op == "not":
            return np.logical_not(args[0])
        raise ValueError(f"unknown logic operator {e.op!r}")
    raise TypeError(f"not an integer expression node: {e!r}")


class GoldenBackend(Backend):
    arithmetic = "golden"
    membrane_dtype = np.int64

    def __init__(self, qmodel: QuantizedModel):
        self.q = qmodel
        self.f = qmodel.formats

    def input_values(self, inp, encoded):
        if isinstance(inp.encoding, ir.Direct):
            q, clipped = quantize(encoded, self.f.inputs)
            return q, {"inputs": clipped}
        return encoded, {}

    def synapses(self, layer) -> Synapses:
        plan = self.q.plan(layer.name)
        acc_frac, in_frac = plan.acc_frac, plan.in_frac
        syn = Synapses(matmul=_matmul, to_input=lambda acc: rescale(acc, acc_frac, in_frac))
        if isinstance(layer, ir.Pool):
            if plan.pool_weight is None:
                raise ValueError(f"pool layer '{layer.name}' has no pool weight in its plan")
            syn.pool_scale = np.int64(plan.pool_weight)
            return syn
        if not isinstance(layer, (ir.Dense, ir.Recurrent, ir.Conv2d)):
            raise TypeError(f"unknown layer type {type(layer).__name__}")
        tensors = self.q.weights[layer.name]
        # W s has acc_frac bits already (Fw, or Fw + Fx for a direct input); V S and the bias have
        # Fw: shift them up exactly to the accumulator's fraction.
        up = acc_frac - self.f.weights.frac
        if up < 0:
            raise ValueError(f"layer '{layer.name}': accumulator fraction {acc_frac} below the "
                             f"weights' {self.f.weights.frac}")
        syn.weight = np.asarray(tensors["weight"], dtype=np.int64)
        if isinstance(layer, ir.Recurrent):
            syn.recurrent = np.asarray(tensors["recurrent"], dtype=np.int64) << up
        if layer.bias:
            syn.bias = np.asarray(tensors["bias"], dtype=np.int64) << up
        return syn

    def neuron(self, layer, shape):
        return neuron_for_plan(self.q.plan(layer.name), self.f, shape)


def neuron_for_plan(plan: LayerPlan, formats: Formats, shape: tuple[int, ...]):
    """The integer neuron stepper of one layer's plan over an array of ``shape`` neurons.

    ``step(inp)`` takes the input in ``plan.in_frac`` fractional bits (the rescaled accumulator)
    and returns ``(S, U)``; ``state()`` and ``saturation`` give the states and clamp counts.
    Hardware co-simulation can drive it step by step.
    """
    n, f = plan.neuron, formats
    if isinstance(n, NeuronConsts) and n.kind == "ReLU":
        return ReLUNeuron(np.int64, shape, f.membrane)
    if isinstance(n, NeuronConsts) and n.kind == "ASN":
        fa, fm, mf = f.adaptation.frac, f.membrane.frac, np.int64(n.m_f)
        return ASNNeuron(ASNSpec(np.int64(n.threshold), np.int64,
                                 decay_u=decay_fn(n.leak, n.mem_decay),
                                 decay_a=decay_fn(n.leak, n.adapt_decay),
                                 decay_p=decay_fn(n.leak, n.pred_decay),
                                 a_to_mem=lambda a: rescale(a, fa, fm),
                                 adapt_inc=lambda h: rescale(mf * h, COEF_FRAC + fm, fa),
                                 formats={"U": f.membrane, "P": f.membrane, "A": f.adaptation,
                                          "H": f.membrane}), shape)
    if isinstance(n, NeuronConsts):
        kw = dict(kind=n.kind, threshold=np.int64(n.threshold), reset=n.reset,
                  refractory=int(n.refractory), dtype=np.int64,
                  decay_mem=decay_fn(n.leak, n.mem_decay),
                  formats={"U": f.membrane, "I": f.current, "A": f.adaptation})
        if n.kind == "CubaLIF":
            fi, fm = plan.in_frac, f.membrane.frac
            kw["decay_syn"] = decay_fn(n.leak, n.syn_decay)
            kw["cur_to_mem"] = lambda v: rescale(v, fi, fm)
        if n.kind == "ALIF":
            beta, fa, fm = np.int64(n.beta), f.adaptation.frac, f.membrane.frac
            kw["decay_adapt"] = decay_fn(n.leak, n.adapt_decay)
            kw["beta_a"] = lambda v: rescale(beta * v, COEF_FRAC + fa, fm)
            kw["spike_inc"] = np.int64(1 << fa)
        return BuiltinNeuron(BuiltinSpec(**kw), shape)
    if isinstance(n, I.IntProgram):
        frac = f.membrane.frac

        def evaluate(e, states, inp):
            return eval_int(e, states, inp, frac)
        return ProgramNeuron(n.states, [(a.target, a.value) for a in n.update], n.spike,
                             [(a.target, a.value) for a in n.on_spike], evaluate, shape,
                             np.int64, fmt=f.membrane, emit=n.emit)
    raise TypeError(f"layer '{plan.name}': unknown neuron plan {type(n).__name__}")
