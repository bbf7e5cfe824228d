"""One ``nn.Module`` per layer of the graph: its trainable tensors, its synaptic input for all time
steps at once (one matmul / conv / pooling over ``T*B`` frames, docs/semantics.md section 1) and
its neurons (:mod:`snnc.backends.torch.neurons`, :mod:`snnc.backends.torch.user_neurons`)."""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from snnc import ir
from snnc.backends.torch import event_synapse
from snnc.backends.torch import neurons as N
from snnc.backends.torch import user_neurons as UN
from snnc.backends.torch.qat import ste_quantize
from snnc.backends.torch.surrogates import Surrogate


FLOAT64_BITS = 53                 # float64's significand: integers below 2^53 are exact
EXACT_FLOAT64 = 2.0 ** FLOAT64_BITS


def delayed(seq: torch.Tensor, d: int) -> torch.Tensor:
    """``seq[t - d]`` along the time axis, zeros before the first step."""
    if d == 0:
        return seq
    T = seq.shape[0]
    if d >= T:
        return torch.zeros_like(seq)
    return torch.cat([seq.new_zeros((d, *seq.shape[1:])), seq[:T - d]])


def is_static(seq: torch.Tensor) -> bool:
    """Whether ``seq`` ``[T, ...]`` is one frame expanded over time (stride 0 along ``T``), as
    :func:`snnc.backends.torch.model.encode_batch` makes for a static direct-encoded input."""
    return seq.dim() > 0 and seq.shape[0] > 1 and seq.stride(0) == 0


class LayerRun(NamedTuple):
    """What a layer computes for a batch, all ``[T, B, *shape]`` unless said: its spikes (events)
    ``S``, membrane ``U``, a dict state -> clamp count (QAT; empty in float mode), the graded
    events' values ``H`` (ASN, ReLU, `emit` layers; ``None`` otherwise: ``S`` feeds the next
    layer), and the spike count ``S.sum(0)`` ``[B, *shape]`` when it was asked for and the layer
    counts it in its neuron loop (built-in neurons; else ``None``: the readout sums ``S``)."""
    S: torch.Tensor
    U: torch.Tensor
    saturation: dict
    H: torch.Tensor | None = None
    count: torch.Tensor | None = None


class LayerModule(nn.Module):
    """A layer with neurons (dense, recurrent, conv2d, pooling).

    Parameters are named as in the weights files (``weight``, ``recurrent``, ``bias``; shapes from
    :func:`snnc.ir.weight_shapes`). ``forward(src)`` takes the source's spikes (or direct values)
    ``[T, B, *in_shape]`` and returns a :class:`LayerRun`; with ``count=True`` a layer of built-in
    neurons also counts the spikes, in its neuron loop.
    """

    def __init__(self, layer: ir.Layer, dt: float, surrogate: Surrogate):
        super().__init__()
        self.layer = layer
        self.dt = dt
        self.surrogate = surrogate
        for name, shape in ir.weight_shapes(layer).items():
            self.register_parameter(name, nn.Parameter(torch.zeros(shape)))
        neuron = layer.neuron
        self.custom = isinstance(neuron, ir.CustomNeuron)
        self.graded = ir.is_graded(neuron)      # ASN / ReLU: snnc.backends.torch.asn; or `emit`
        self.float_cfg = None if self.custom or self.graded else N.float_cfg(neuron, dt, surrogate)
        self.plan = None          # the quantizer's LayerPlan (QAT)
        self.formats = None
        self.qat_cfg = None
        self.direct = False       # the source is a direct-encoded input (QAT accumulator units)
        # loaded values the parameters' dtype rounds (float64 weights in float32 parameters):
        # {name: (values in float64, the parameter's dtype when loaded)}
        self._exact: dict = {}
        # QAT: (weights clamped to the format, weights) of the last forward pass's quantisation
        self.weight_clips: tuple = (0, 0)

    # ------------------------------------------------------------------ QAT set-up
    def set_quantization(self, plan, formats, direct: bool) -> None:
        self.plan, self.formats, self.direct = plan, formats, direct
        self.qat_cfg = None if self.custom or self.graded else N.qat_cfg(plan, formats,
                                                                         self.surrogate)

    def set_surrogate(self, surrogate: Surrogate) -> None:
        self.surrogate = surrogate
        if not (self.custom or self.graded):
            self.float_cfg = N.float_cfg(self.layer.neuron, self.dt, surrogate)
            if self.plan is not None:
                self.qat_cfg = N.qat_cfg(self.plan, self.formats, surrogate)

    # ------------------------------------------------------------------ tensors
    def keep_exact(self, name: str, value: torch.Tensor) -> None:
        """Remember the loaded ``value`` of parameter ``name`` where the parameter's dtype
        rounded it: the QAT forward quantises the value given, as the golden model does (a
        float64 weight near a rounding tie, or finer than float32, would otherwise quantise to
        another integer), as long as the parameter holds that value rounded to its dtype (a
        training step, an in-place edit, even through ``.data``, or a parametrization that
        changes it ends this; a dtype or device move keeps it)."""
        p = getattr(self, name)
        exact = value.detach().to("cpu", torch.float64)
        if torch.equal(exact, p.detach().to("cpu", torch.float64)):
            self._exact.pop(name, None)
        else:
            self._exact[name] = (exact, p.dtype)

    def exact_value(self, name: str, p: torch.Tensor) -> torch.Tensor:
        """``p`` (the weight ``name`` as used), or the float64 value loaded into it while the
        parameter still holds that value rounded (what QAT quantises: an export of the float32
        parameter quantised to other integers near rounding ties)."""
        kept = self._exact.get(name)
        if kept is None:
            return p
        exact, dtype = kept
        if p.shape != exact.shape or not torch.equal(p.detach().cpu().to(dtype), exact.to(dtype)):
            return p
        return exact

    def _qat_source(self, name: str, p: torch.Tensor) -> torch.Tensor:
        """The float64 value QAT quantises: the loaded one while the parameter still holds it
        (compared by value on every call: an edit through ``.data`` changes neither the
        parameter's version nor its storage; its gradient still reaches the parameter), else
        the parameter."""
        value = p.to(torch.float64)
        kept = self._exact.get(name)
        if kept is None:
            return value
        exact, dtype = kept
        exact = exact.to(p.device)
        if p.shape != exact.shape or not torch.equal(p.detach().to(dtype), exact.to(dtype)):
            del self._exact[name]
            return value
        return value + (exact - value).detach()

    def tensors(self, qat: bool) -> dict[str, torch.Tensor]:
        """The weights as used: float parameters, or quantised (straight-through) in QAT mode.
        Read by name (:func:`snnc.ir.weight_shapes`), so that a pruned or parametrized weight
        (``torch.nn.utils.prune``, ``torch.nn.utils.parametrize``, weight norm) is used as its
        hook or parametrization computes it."""
        out = {}
        clipped, total = 0, 0
        for name in ir.weight_shapes(self.layer):
            p = getattr(self, name)
            if qat:
                out[name], n = ste_quantize(self._qat_source(name, p), self.formats.weights)
                clipped, total = clipped + n, total + p.numel()
            else:
                out[name] = p
        if qat:
            self.weight_clips = (clipped, total)
        return out

    def synaptic_input(self, src: torch.Tensor, w: dict, qat: bool) -> torch.Tensor:
        """The feed-forward input of every step, ``[T, B, *shape]`` (in QAT mode: the accumulator in
        real units, exact in float64)."""
        L = self.layer
        T, B = src.shape[:2]
        if is_static(src):
            # The same input at every step (a static direct-encoded sample): compute it once (and,
            # with a delay, once for the empty frames before the first one arrives: the bias).
            d = min(L.delay, T)
            if d == 0:
                once = self._feedforward(src[:1], w, qat)
                return once.expand(T, *once.shape[1:])
            two = self._feedforward(torch.cat([torch.zeros_like(src[:1]), src[:1]]), w, qat)
            parts = [two[:1].expand(d, *two.shape[1:]), two[1:].expand(T - d, *two.shape[1:])]
            return torch.cat(parts) if d < T else parts[0]
        return self._feedforward(delayed(src, L.delay), w, qat)

    def _feedforward(self, src: torch.Tensor, w: dict, qat: bool) -> torch.Tensor:
        L = self.layer
        T, B = src.shape[:2]
        if isinstance(L, (ir.Dense, ir.Recurrent)):
            return event_synapse.linear(src, w["weight"], w.get("bias"))
        frames = src.reshape(T * B, *L.in_shape)
        if isinstance(L, ir.Conv2d):
            out = F.conv2d(frames, w["weight"], w.get("bias"), tuple(L.stride), tuple(L.padding))
        elif isinstance(L, ir.Pool):
            out = F.avg_pool2d(frames, tuple(L.kernel), tuple(L.stride), divisor_override=1)
            if qat:
                # the real sum x * pool_weight in units of 2^-acc_frac: acc_frac = Fm (+ Fx of a
                # direct input's payloads, which the real values x already carry)
                out = out * (self.plan.pool_weight * 2.0 ** -self.formats.membrane.frac)
            elif L.mode == "avg":
                out = out * (1.0 / (L.kernel[0] * L.kernel[1]))
        else:
            raise TypeError(f"no synaptic input for {type(L).__name__}")
        return out.reshape(T, B, *L.shape)

    def check_exact_sums(self, src: torch.Tensor, w: dict) -> None:
        """QAT sums the synaptic input in float64, which is the integer accumulation of
        docs/semantics.md section 4 while every product and partial sum stays below 2^53 units of
        ``2^-acc_frac``. A layer whose accumulator can be wider (``plan.acc_bits > 53``: very wide
        weight and input formats) is checked on each batch: the bound ``sum |w| |x|`` (+ ``|b|``,
        + the recurrent weights' ``sum |v|`` times the largest event) of every neuron and step must
        stay below 2^53, or a located error says that this target cannot follow the golden model
        there (it would round where the golden model, Verilog and HLS are exact)."""
        L = self.layer
        with torch.no_grad():
            frames = src[:1] if is_static(src) else src
            absw = {k: v.detach().abs() for k, v in w.items() if k != "recurrent"}
            peak = float(self._feedforward(frames.detach().abs(), absw, qat=True).max()) \
                if frames.numel() else 0.0
            if "recurrent" in w:
                event = 2.0 ** (self.formats.membrane.width - 1 - self.formats.membrane.frac) \
                    if self.graded else 1.0
                peak += float(w["recurrent"].detach().abs().sum(1).max()) * event
        units = peak * 2.0 ** self.plan.acc_frac
        if units >= EXACT_FLOAT64 * (1 - 1e-9):
            from snnc.errors import SnnError

            raise SnnError(L.loc, f"the synaptic input of layer '{L.name}' reaches about "
                                  f"2^{math.log2(units):.1f} units of its accumulator (weights "
                                  f"{self.formats.weights}, {self.plan.acc_bits} bits), beyond the "
                                  "2^53 the torch target's QAT mode sums exactly in float64: its "
                                  "results could differ from the golden model's",
                           "use narrower weight or input formats (the golden model, Verilog and "
                           "HLS compute it exactly: `snnc simulate` and `snnc verify` run it)")

    def forward(self, src: torch.Tensor, qat: bool = False, tbptt: int = 0,
                count: bool = False) -> LayerRun:
        L = self.layer
        w = self.tensors(qat)
        if qat and self.plan.acc_bits > FLOAT64_BITS:
            self.check_exact_sums(src, w)
        X = self.synaptic_input(src, w, qat)
        T, B = X.shape[:2]
        V = w.get("recurrent")
        if self.graded and not self.custom:
            from snnc.backends.torch.asn import run_graded

            return LayerRun(*run_graded(self, X, qat, tbptt))   # H feeds the next layer
        if self.custom:
            flat = X.reshape(T, B, -1)
            like = flat[0]
            if qat:
                runner = UN.UserInt(self.plan.neuron, self.plan.acc_frac, self.formats.membrane,
                                   self.surrogate, like)
            else:
                runner = UN.UserFloat(L.neuron, self.dt, self.surrogate, like)
            S, U, *H = UN.run_user(runner, flat, tbptt, V)
            # a graded user neuron (`emit`): H feeds the next layer, as for an ASN
            return LayerRun(S.reshape(X.shape), U.reshape(X.shape), runner.saturation(),
                            H[0].reshape(X.shape) if H else None)
        cfg = self.qat_cfg if qat else self.float_cfg
        S, U, sat, C = N.scan_counted(X.reshape(T, B, -1) if V is not None else X, cfg, V, tbptt,
                                      count)
        sat_d = {}
        if qat:
            sat_d["U"] = sat[0]
            if cfg.kind == "CubaLIF":
                sat_d["I"] = sat[1]
            if cfg.kind == "ALIF":
                sat_d["A"] = sat[2]
        return LayerRun(S.reshape(X.shape), U.reshape(X.shape), sat_d, None,
                        None if C is None else C.reshape(X.shape[1:]))
