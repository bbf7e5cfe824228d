"""Graded-event neurons in torch: the adaptive spiking neuron (ASN) and the non-spiking ReLU unit.

Their events carry a value (docs/semantics.md sections 3-4): an ASN spike carries its height, the
threshold ``theta`` at spike time; a ReLU unit sends ``max(U, 0)``. A layer of them returns
``(S, U, saturation, H)``: the events ``S`` (0/1, differentiable through the layer's surrogate),
the membrane ``U`` (the ASN's input current, the ReLU's input), clamp counts (QAT) and the values
``H`` the next layer multiplies its weights by (real units; in QAT mode exact multiples of
``2^-Fm``).

The ASN runs as one autograd node over all steps (:class:`ASNScan`, :class:`ASNIntScan`: a
forward loop without an autograd graph, and a hand-written reverse recursion), checked against
step-by-step autograd references (:func:`asn_reference`, :func:`asn_int_reference`).
Gradient conventions, as for the built-in kinds: the spike's derivative is the surrogate of
``U - P - theta/2``; the jumps of the self-prediction ``P += h`` and of the adaptation
``A += m_f h`` use the *detached* spike (like a reset), while ``h = S * theta`` itself is
differentiated through ``S`` and ``theta``; truncated BPTT detaches ``U``, ``P``, ``A`` at every
multiple of ``tbptt``. In QAT mode the forward pass is the golden model's integer arithmetic bit
for bit (int64), and the backward pass is the float one with the effective quantised constants
(rounding and saturation count as identity), as for the built-in kinds.
"""
from __future__ import annotations

import math

import torch
from torch.autograd.function import once_differentiable

from snnc import ir
from snnc.backends.torch.neurons import _effective, rescale as _rescale
from snnc.backends.torch.neurons import int_decay as _decay
from snnc.backends.torch.surrogates import Surrogate

COEF_FRAC = 16


# ---------------------------------------------------------------------- integer primitives


def _to_int(real: torch.Tensor, frac: int) -> torch.Tensor:
    return torch.round(real.detach().to(torch.float64) * (2.0 ** frac)).to(torch.int64)


def _st(exact_int: torch.Tensor, real: torch.Tensor, scale: float) -> torch.Tensor:
    """``exact_int * scale`` in the forward pass, ``real``'s gradient in the backward pass."""
    exact = exact_int.to(torch.float64) * scale
    if torch.is_tensor(real) and real.requires_grad:
        return exact + (real - real.detach())
    return exact


class _Counter:
    def __init__(self, lo: int, hi: int, device):
        self.lo, self.hi = lo, hi
        self.count = torch.zeros((), dtype=torch.int64, device=device)

    def __call__(self, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        out = (v < self.lo) | (v > self.hi)
        self.count += (out & mask).sum() if mask is not None else out.sum()
        return v.clamp(self.lo, self.hi)


def _cut(t: int, tbptt: int) -> bool:
    return t > 0 and tbptt > 0 and t % tbptt == 0


# ---------------------------------------------------------------------- ASN


class ASNScan(torch.autograd.Function):
    """The float ASN over all steps as one autograd node: ``(X, consts, surrogate, tbptt) ->
    (S, U, H)``. The forward loop builds no graph and saves ``U - P - theta/2``, ``theta`` and
    ``S``; the backward pass runs the recursion of :func:`asn_reference` in reverse (same
    conventions: the jumps of ``P`` and ``A`` by the detached spike, TBPTT cuts)."""

    @staticmethod
    def forward(ctx, X, consts, surrogate, tbptt):
        b, g, e, theta0, mf = consts
        T = X.shape[0]
        S, U_all, H = (torch.empty(X.shape, dtype=X.dtype, device=X.device) for _ in range(3))
        V, TH = torch.empty_like(S), torch.empty_like(S)
        U = P = A = torch.zeros(X.shape[1:], dtype=X.dtype, device=X.device)
        for t in range(T):
            U = torch.add(X[t], U, alpha=b) if t else X[t].clone()
            A = A * g
            P = P * e
            th = torch.add(A, theta0, out=TH[t])
            v = torch.sub(U, P, out=V[t]).sub_(th, alpha=0.5)
            s = S[t].copy_(v > 0)
            h = torch.mul(s, th, out=H[t])
            P = P + h
            A = A.add(h, alpha=mf)
            U_all[t] = U
        ctx.consts, ctx.surrogate, ctx.tbptt = consts, surrogate, int(tbptt or 0)
        ctx.save_for_backward(V, TH, S)
        return S, U_all, H

    @staticmethod
    @once_differentiable
    def backward(ctx, gS, gU, gH):
        V, TH, S = ctx.saved_tensors
        return _asn_backward(ctx.consts, ctx.surrogate, ctx.tbptt, V, TH, S, gS, gU, gH), \
            None, None, None


def _asn_backward(consts, surrogate, tbptt, V, TH, S, gS, gU, gH):
    """Reverse-mode recursion of the ASN (see :func:`asn_reference`): the gradient w.r.t. ``X``.

    ``V = U - P - theta/2``, ``TH = theta`` and ``S`` per step; ``consts = (b, g, e, theta0, m_f)``.
    """
    b, g, e, theta0, mf = consts
    T = V.shape[0]
    zeros = torch.zeros_like(V[0])
    gS = zeros.expand_as(V) if gS is None else gS
    gU = zeros.expand_as(V) if gU is None else gU
    gH = zeros.expand_as(V) if gH is None else gH
    dh = surrogate.derivative(V)                      # dS/dv
    gX = torch.empty_like(V)
    cU = cP = cA = zeros                              # dL/dU_t, dL/dP_t, dL/dA_t from t+1
    for t in range(T - 1, -1, -1):
        s, th = S[t], TH[t]
        gv = (gS[t] + gH[t] * th) * dh[t]             # through S[t] (and h = S theta)
        gth = gH[t] * s + (cP + mf * cA) * s - 0.5 * gv
        dU = gU[t] + cU + gv
        gX[t] = dU
        if t == 0 or (tbptt and t % tbptt == 0):
            cU = cP = cA = zeros
            continue
        cU = b * dU                                   # U_t = b U_{t-1} + x_t
        cP = e * (cP - gv)                            # P'_t = e P_{t-1}; v = U - P' - theta/2
        cA = g * (cA + gth)                           # A'_t = g A_{t-1}; theta = theta0 + A'
    return gX


@torch.compiler.disable
def asn_float(X: torch.Tensor, n: ir.ASN, dt: float, surrogate: Surrogate, tbptt: int = 0):
    """The float ASN over all steps of ``X`` ``[T, B, ...]`` (:class:`ASNScan`): ``(S, U, H)``."""
    consts = (math.exp(-dt / n.tau_beta), math.exp(-dt / n.tau_gamma), math.exp(-dt / n.eta),
              float(n.threshold), float(n.m_f))
    return ASNScan.apply(X, consts, surrogate, int(tbptt or 0))


def asn_reference(X: torch.Tensor, n: ir.ASN, dt: float, surrogate: Surrogate, tbptt: int = 0):
    """The float ASN step by step with plain autograd: the readable specification of
    :class:`ASNScan`'s forward and backward passes (the tests compare them). ``(S, U, H)``."""
    b, g, e = math.exp(-dt / n.tau_beta), math.exp(-dt / n.tau_gamma), math.exp(-dt / n.eta)
    theta0, mf = float(n.threshold), float(n.m_f)
    zeros = torch.zeros_like(X[0])
    U = P = A = zeros
    spikes, mems, heights = [], [], []
    for t in range(X.shape[0]):
        if _cut(t, tbptt):
            U, P, A = U.detach(), P.detach(), A.detach()
        U = b * U + X[t]
        A = g * A
        P = e * P
        theta = theta0 + A
        s = surrogate.spike(U - P - 0.5 * theta)       # S - S^ > theta / 2
        h = s * theta
        hd = s.detach() * theta
        P = P + hd
        A = A + mf * hd
        spikes.append(s)
        mems.append(U)
        heights.append(h)
    return torch.stack(spikes), torch.stack(mems), torch.stack(heights)


class ASNIntScan(torch.autograd.Function):
    """The ASN in the golden model's integers as one autograd node: ``(X, qconsts, acc_frac,
    formats, surrogate, tbptt) -> (S, U, H, saturation [4]: U, P, A, H)``. The forward loop is
    exact int64 (:func:`asn_int_reference` without the real-valued track); the backward pass is the
    float one (:func:`_asn_backward`) with the effective quantised constants, rounding and
    saturation passing the gradient straight through -- what the reference's straight-through
    tracks compute."""

    @staticmethod
    def forward(ctx, X, q, acc_frac, formats, surrogate, tbptt):
        fm, fa = formats.membrane.frac, formats.adaptation.frac
        sm = 2.0 ** -fm
        leak = q.leak
        dev = X.device
        mem = (formats.membrane.min_int, formats.membrane.max_int)
        sat = {"U": _Counter(*mem, dev), "P": _Counter(*mem, dev),
               "A": _Counter(formats.adaptation.min_int, formats.adaptation.max_int, dev),
               "H": _Counter(*mem, dev)}
        Xf = X.detach().to(torch.float64)
        shape = Xf.shape
        S, U_all, H = (torch.empty(shape, dtype=torch.float64, device=dev) for _ in range(3))
        V, TH = torch.empty_like(S), torch.empty_like(S)
        U = P = A = torch.zeros(shape[1:], dtype=torch.int64, device=dev)
        for t in range(shape[0]):
            xi = _rescale(_to_int(Xf[t], acc_frac), acc_frac, fm)
            U = sat["U"](_decay(U, leak, q.mem_decay) + xi)
            A = _decay(A, leak, q.adapt_decay)
            P = _decay(P, leak, q.pred_decay)
            th = q.threshold + _rescale(A, fa, fm)
            d = 2 * (U - P) - th
            s = d > 0
            h = sat["H"](torch.where(s, th, 0), s)
            P = torch.where(s, sat["P"](P + h, s), P)
            A = torch.where(s, sat["A"](A + _rescale(q.m_f * h, COEF_FRAC + fm, fa), s), A)
            S[t] = s
            # int64 * a Python float would compute in the default dtype (float32): exact only
            # below 2^24, so every conversion is to float64 first (exact below 2^53)
            U_all[t] = U.to(torch.float64) * sm
            H[t] = h.to(torch.float64) * sm
            V[t] = d.to(torch.float64) * (0.5 * sm)    # U - P - theta/2, real units
            TH[t] = th.to(torch.float64) * sm
        ctx.consts = (_effective(leak, q.mem_decay), _effective(leak, q.adapt_decay),
                      _effective(leak, q.pred_decay), q.threshold * sm, q.m_f / 65536.0)
        ctx.surrogate, ctx.tbptt = surrogate, int(tbptt or 0)
        ctx.save_for_backward(V, TH, S)
        counts = torch.stack([sat[k].count for k in ("U", "P", "A", "H")])
        ctx.mark_non_differentiable(counts)
        return S, U_all, H, counts

    @staticmethod
    @once_differentiable
    def backward(ctx, gS, gU, gH, _gsat):
        V, TH, S = ctx.saved_tensors
        gX = _asn_backward(ctx.consts, ctx.surrogate, ctx.tbptt, V, TH, S, gS, gU, gH)
        return gX, None, None, None, None, None


@torch.compiler.disable
def asn_int(X: torch.Tensor, consts, acc_frac: int, formats, surrogate: Surrogate, tbptt: int = 0):
    """The ASN in the golden model's integers (:class:`ASNIntScan`): ``(S, U, H, saturation)``."""
    S, U, H, counts = ASNIntScan.apply(X, consts, acc_frac, formats, surrogate, int(tbptt or 0))
    return S, U, H, dict(zip(("U", "P", "A", "H"), counts.unbind(0)))


def asn_int_reference(X: torch.Tensor, consts, acc_frac: int, formats, surrogate: Surrogate,
                      tbptt: int = 0):
    """The ASN in the golden model's integers (``consts``: the quantizer's ``NeuronConsts``), with
    straight-through gradients, step by step with plain autograd: every value is a pair of the
    exact integer and a real track whose value is replaced by the integer's. ``X`` is the
    accumulator in real units (float64, exact multiples of ``2^-acc_frac``). Returns
    ``(S, U, H, saturation)``; the specification of :class:`ASNIntScan`."""
    fm, fa = formats.membrane.frac, formats.adaptation.frac
    sm, sa = 2.0 ** -fm, 2.0 ** -fa
    leak = consts.leak
    be, ge, ee = (_effective(leak, consts.mem_decay), _effective(leak, consts.adapt_decay),
                  _effective(leak, consts.pred_decay))
    mf_e = consts.m_f / 65536.0
    dev = X.device
    mem = (formats.membrane.min_int, formats.membrane.max_int)
    sat = {"U": _Counter(*mem, dev), "P": _Counter(*mem, dev),
           "A": _Counter(formats.adaptation.min_int, formats.adaptation.max_int, dev),
           "H": _Counter(*mem, dev)}
    Xf = X.to(torch.float64)
    zi = torch.zeros(X.shape[1:], dtype=torch.int64, device=dev)
    zr = torch.zeros(X.shape[1:], dtype=torch.float64, device=dev)
    Ui = Pi = Ai = zi
    Ur = Pr = Ar = zr
    theta0 = consts.threshold
    spikes, mems, heights = [], [], []
    for t in range(X.shape[0]):
        if _cut(t, tbptt):
            Ur, Pr, Ar = Ur.detach(), Pr.detach(), Ar.detach()
        x = Xf[t]
        xi = _rescale(_to_int(x, acc_frac), acc_frac, fm)
        Ui = sat["U"](_decay(Ui, leak, consts.mem_decay) + xi)
        Ur = _st(Ui, be * Ur + x, sm)
        Ai = _decay(Ai, leak, consts.adapt_decay)
        Ar = _st(Ai, ge * Ar, sa)
        Pi = _decay(Pi, leak, consts.pred_decay)
        Pr = _st(Pi, ee * Pr, sm)
        thi = theta0 + _rescale(Ai, fa, fm)
        thr = _st(thi, theta0 * sm + Ar, sm)
        si = 2 * (Ui - Pi) > thi
        soft = surrogate.spike(Ur - Pr - 0.5 * thr)
        sr = si.to(torch.float64) + (soft - soft.detach()) if soft.requires_grad \
            else si.to(torch.float64)
        hi = sat["H"](torch.where(si, thi, 0), si)
        hr = _st(hi, sr * thr, sm)
        hd = _st(hi, si.to(torch.float64) * thr, sm)      # the jump, with the detached spike
        Pi = torch.where(si, sat["P"](Pi + hi, si), Pi)
        Pr = _st(Pi, Pr + hd, sm)
        Ai = torch.where(si, sat["A"](Ai + _rescale(consts.m_f * hi, COEF_FRAC + fm, fa), si), Ai)
        Ar = _st(Ai, Ar + mf_e * hd, sa)
        spikes.append(sr)
        mems.append(Ur)
        heights.append(hr)
    counts = {k: c.count for k, c in sat.items()}
    return torch.stack(spikes), torch.stack(mems), torch.stack(heights), counts


# ---------------------------------------------------------------------- ReLU


def relu_float(X: torch.Tensor):
    """``(S, U, H)`` of a ReLU layer: events where ``X > 0``, ``U = X``, ``H = relu(X)``."""
    H = torch.relu(X)
    return (X > 0).to(X.dtype), X, H


def relu_int(X: torch.Tensor, acc_frac: int, fmt):
    """The integer ReLU: ``U = sat(rescale(acc, acc_frac, Fm))``, ``H = max(U, 0)`` (exact), with
    straight-through gradients. Returns ``(S, U, H, saturation)``."""
    Xf = X.to(torch.float64)
    counter = _Counter(fmt.min_int, fmt.max_int, X.device)
    Ui = counter(_rescale(_to_int(Xf, acc_frac), acc_frac, fmt.frac))
    scale = 2.0 ** -fmt.frac
    Ur = _st(Ui, Xf, scale)
    Hi = Ui.clamp(min=0)
    Hr = _st(Hi, torch.relu(Xf), scale)
    return (Hi > 0).to(torch.float64), Ur, Hr, {"U": counter.count}


# ---------------------------------------------------------------------- a layer


def run_graded(module, X: torch.Tensor, qat: bool, tbptt: int = 0):
    """The neurons of a graded layer (``module``: its :class:`LayerModule`) on the synaptic input
    ``X`` ``[T, B, *shape]``: returns ``(S, U, saturation, H)``, all ``[T, B, *shape]``."""
    n = module.layer.neuron
    shape = X.shape
    if isinstance(n, ir.ReLU):
        if qat:
            S, U, H, sat = relu_int(X, module.plan.acc_frac, module.formats.membrane)
        else:
            (S, U, H), sat = relu_float(X), {}
        return S, U, sat, H
    if not isinstance(n, ir.ASN):
        raise TypeError(f"not a graded neuron: {type(n).__name__}")
    T, B = shape[:2]
    flat = X.reshape(T, B, -1)
    if qat:
        S, U, H, sat = asn_int(flat, module.plan.neuron, module.plan.acc_frac, module.formats,
                               module.surrogate, tbptt)
    else:
        (S, U, H), sat = asn_float(flat, n, module.dt, module.surrogate, tbptt), {}
    return S.reshape(shape), U.reshape(shape), sat, H.reshape(shape)
