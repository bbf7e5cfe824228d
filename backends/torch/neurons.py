"""Neuron recurrences over all time steps: the built-in kinds as one custom autograd "scan"
(user-defined neurons: :mod:`snnc.backends.torch.user_neurons`).

Built-in neurons (IF, LIF, CubaLIF, ALIF; docs/semantics.md section 3) run in :class:`NeuronScan`,
a ``torch.autograd.Function`` that takes the synaptic input of *every* step at once (``X``,
``[T, B, *shape]``, computed by one matmul/conv over ``T*B`` frames), loops over ``t`` without
building an autograd graph, and saves only what the backward pass needs (the membrane, the spikes,
the adaptive threshold and the refractory mask). Its backward pass runs the BPTT recursion in
reverse with these conventions:

* the spike's derivative is the layer's surrogate ``h(U - theta_now)`` (zero while refractory);
* gradients flow through the state recursions: ``U`` (factor ``b``), the current ``I`` (``a``), the
  adaptation ``A`` (``r``, and ``A += S_prev``, so a spike's effect on later thresholds is
  differentiated, as in the LSNN of Bellec et al.), and through ``V S[t-1]`` in recurrent layers;
* **the reset uses the detached previous spike** (snnTorch's convention): ``- theta_prev *
  S_prev`` (subtract) and ``(1 - S_prev) * b * U`` (zero) carry no gradient to ``S_prev``; the
  ALIF threshold ``theta_prev = theta + beta*A`` in the subtract reset is still differentiated
  with respect to ``A``;
* the refractory counter and its input mask carry no gradient;
* truncated BPTT (``tbptt = K > 0``): at every step ``t`` that is a multiple of ``K`` the state
  coming from step ``t - 1`` (``U``, ``I``, ``A``, ``S_prev`` and the recurrent input) is treated
  as a constant, so no gradient crosses the boundary. Synaptic delays between layers are not
  truncated.

:func:`reference_scan` implements the same forward pass and the same conventions with plain
autograd, one step at a time; the tests check the scan's gradients against it.

For float32/float64 CPU tensors of layers without recurrent weights, the forward loop and the
backward recursion each run as one call of a fused native loop (:mod:`.native_scan`, compiled on
first use), which performs the same float operations per element in the same order as the torch
operations here, so its results are identical; ``SNNC_NATIVE_SCAN=0`` (or a missing compiler)
selects the Python loops below.

In quantization-aware mode (``qat``) the scan's forward pass runs the integer arithmetic of section
4 exactly (int64), and its backward pass is the float one with the *effective* quantised
coefficients (straight-through: rounding and saturation count as identity).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.autograd.function import once_differentiable

from snnc.backends.torch import native_scan
from snnc.backends.torch.surrogates import Surrogate

KINDS = ("IF", "LIF", "CubaLIF", "ALIF")


@dataclass(frozen=True)
class IntConsts:
    """The integer side of a built-in neuron in QAT mode (docs/semantics.md section 4)."""

    acc_frac: int        # fractional bits of the synaptic accumulator
    in_frac: int         # ... of the neuron input (Fm, or Fi for CubaLIF)
    fm: int
    fi: int
    fa: int
    theta: int           # membrane units
    leak: str            # none, multiply, shift
    mem: int | None      # 16-bit coefficients (multiply) or shift amounts (shift)
    syn: int | None
    adapt: int | None
    beta: int | None     # 16 fractional bits
    u_range: tuple[int, int]
    i_range: tuple[int, int]
    a_range: tuple[int, int]


@dataclass(frozen=True)
class NeuronCfg:
    """A built-in neuron as the scan needs it.

    ``b, a, r, beta, theta`` are reals (the float model's, or in QAT mode the effective values of the
    quantised constants, used by the backward pass); ``ints`` is set in QAT mode.
    """

    kind: str
    reset: str
    refractory: int
    theta: float
    b: float = 1.0
    a: float = 0.0
    r: float = 0.0
    beta: float = 0.0
    surrogate: Surrogate = Surrogate("fast_sigmoid", 25.0)
    ints: IntConsts | None = None


def float_cfg(neuron, dt: float, surrogate: Surrogate) -> NeuronCfg:
    """The float constants of a built-in neuron (section 3)."""
    kind = type(neuron).__name__
    if kind not in KINDS:
        raise TypeError(f"not a built-in neuron: {kind}")
    b = 1.0 if kind == "IF" else math.exp(-dt / neuron.tau_mem)
    a = math.exp(-dt / neuron.tau_syn) if kind == "CubaLIF" else 0.0
    r = math.exp(-dt / neuron.tau_adapt) if kind == "ALIF" else 0.0
    beta = float(neuron.beta) if kind == "ALIF" else 0.0
    return NeuronCfg(kind, neuron.reset, int(neuron.refractory), float(neuron.threshold), b, a, r,
                     beta, surrogate)


def _effective(leak: str, c: int | None) -> float:
    if c is None or leak == "none":
        return 1.0
    if leak == "shift":
        return 1.0 - 2.0 ** -c
    return c / 65536.0


def qat_cfg(plan, formats, surrogate: Surrogate) -> NeuronCfg:
    """The integer constants of a built-in neuron from the quantizer's :class:`LayerPlan`."""
    n = plan.neuron
    fm, fi, fa = formats.membrane.frac, formats.current.frac, formats.adaptation.frac
    rng = lambda f: (f.min_int, f.max_int)  # noqa: E731
    ints = IntConsts(plan.acc_frac, plan.in_frac, fm, fi, fa, n.threshold, n.leak, n.mem_decay,
                     n.syn_decay, n.adapt_decay, n.beta, rng(formats.membrane),
                     rng(formats.current), rng(formats.adaptation))
    b = _effective(n.leak, n.mem_decay) if n.kind != "IF" else 1.0
    a = _effective(n.leak, n.syn_decay) if n.kind == "CubaLIF" else 0.0
    r = _effective(n.leak, n.adapt_decay) if n.kind == "ALIF" else 0.0
    beta = n.beta / 65536.0 if n.kind == "ALIF" else 0.0
    return NeuronCfg(n.kind, n.reset, int(n.refractory), n.threshold * 2.0 ** -fm, b, a, r, beta,
                     surrogate, ints)


# ====================================================================== integer primitives (torch)


def rshift_round(x: torch.Tensor, s: int) -> torch.Tensor:
    """``(x + 2^(s-1)) >> s`` on int64 tensors."""
    return (x + (1 << (s - 1))) >> s


def rescale(x: torch.Tensor, from_frac: int, to_frac: int) -> torch.Tensor:
    if to_frac > from_frac:
        return x << (to_frac - from_frac)
    if to_frac < from_frac:
        return rshift_round(x, from_frac - to_frac)
    return x


def int_decay(v: torch.Tensor, leak: str, c: int | None) -> torch.Tensor:
    if leak == "multiply":
        return rshift_round(v * c, 16)
    if leak == "shift":
        return v - (v >> c)
    return v


def to_int(real: torch.Tensor, frac: int) -> torch.Tensor:
    """A real that is an exact multiple of ``2^-frac`` (float64) -> that multiple as int64."""
    return torch.round(real * (2.0 ** frac)).to(torch.int64)


class _Saturator:
    """Clamps to a range and counts the clamps (a device-side counter, no sync per step)."""

    def __init__(self, lo: int, hi: int, device):
        self.lo, self.hi = lo, hi
        self.count = torch.zeros((), dtype=torch.int64, device=device)

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        self.count += ((v < self.lo) | (v > self.hi)).sum()
        return v.clamp(self.lo, self.hi)


# ====================================================================== forward passes


def _empty(X: torch.Tensor) -> torch.Tensor:
    """A contiguous tensor of ``X``'s shape (``X`` may be a stride-0 expanded view over time)."""
    return torch.empty(X.shape, dtype=X.dtype, device=X.device)


def _forward_float(X: torch.Tensor, V: torch.Tensor | None, cfg: NeuronCfg):
    """Float forward of section 3 over all steps; returns S, U, TH (ALIF) and M (refractory).

    A step of LIF/IF with a subtractive reset is three tensor operations (``b*U + x``, ``- theta *
    S_prev``, ``> theta``), written into preallocated ``[T, ...]`` outputs.
    """
    T = X.shape[0]
    kind, reset = cfg.kind, cfg.reset
    alif, cuba, refr = kind == "ALIF", kind == "CubaLIF", cfg.refractory > 0
    U_all, S_all = _empty(X), _empty(X)
    TH_all = _empty(X) if alif else None
    M_all = _empty(X) if refr else None
    zeros = torch.zeros(X.shape[1:], dtype=X.dtype, device=X.device)
    U = S = I = A = R = zeros
    th_prev = None
    b, theta = cfg.b, cfg.theta
    # Per-step views made once (one ``unbind`` instead of T indexing calls per tensor).
    Xs, Us, Ss = X.unbind(0), U_all.unbind(0), S_all.unbind(0)
    THs = TH_all.unbind(0) if alif else None
    Ms = M_all.unbind(0) if refr else None
    for t in range(T):
        x = Xs[t]
        if V is not None and t > 0:
            x = torch.addmm(x, S, V.t())                          # + V S[t-1]
        if refr:
            m = Ms[t]
            torch.le(R, 0, out=m)                                 # not refractory
        if cuba:
            I = torch.add(x, I, alpha=cfg.a) if t > 0 else x      # I = a*I + in
            x = I
        if refr:
            x = x * m
        u = Us[t]
        if alif:
            A = torch.add(S, A, alpha=cfg.r) if t > 0 else S      # A = r*A + S_prev
            th = THs[t]
            torch.mul(A, cfg.beta, out=th)
            th.add_(theta)                                        # theta_now = theta + beta*A
        if t == 0:
            u.copy_(x)
        elif reset == "zero":
            torch.addcmul(x, U, 1.0 - S, value=b, out=u)          # (1 - S_prev) * b*U + x
        else:
            torch.add(x, U, alpha=b, out=u)                       # b*U + x
            if reset == "subtract":
                if alif:
                    u.addcmul_(th_prev, S, value=-1.0)            # - theta_prev * S_prev
                else:
                    u.sub_(S, alpha=theta)
        s = Ss[t]
        if alif:
            torch.gt(u, th, out=s)
            th_prev = th
        else:
            torch.gt(u, theta, out=s)
        if refr:
            s.mul_(m)
            R = torch.where(s > 0, float(cfg.refractory), (R - 1).clamp_(min=0))
        U, S = u, s
    return S_all, U_all, TH_all, M_all


def _forward_int(X: torch.Tensor, V: torch.Tensor | None, cfg: NeuronCfg):
    """Integer forward of section 4 (exact, int64). ``X`` is the accumulator in real units (float64,
    an exact multiple of ``2^-acc_frac``); ``V`` the quantised recurrent weights in real units.

    Returns S, U (real), TH (real, ALIF), M (refractory), saturation counts [U, I, A].
    """
    k = cfg.ints
    T = X.shape[0]
    kind, reset = cfg.kind, cfg.reset
    alif, cuba, refr = kind == "ALIF", kind == "CubaLIF", cfg.refractory > 0
    dev = X.device
    sat_u = _Saturator(*k.u_range, dev)
    sat_i = _Saturator(*k.i_range, dev)
    sat_a = _Saturator(*k.a_range, dev)
    U_all, S_all = _empty(X), _empty(X)
    TH_all = _empty(X) if alif else None
    M_all = _empty(X) if refr else None
    if V is None:
        IN = rescale(to_int(X, k.acc_frac), k.acc_frac, k.in_frac)
    zi = torch.zeros(X.shape[1:], dtype=torch.int64, device=dev)
    U = I = A = R = zi
    S = torch.zeros(X.shape[1:], dtype=torch.bool, device=dev)
    Sf = torch.zeros(X.shape[1:], dtype=X.dtype, device=X.device)
    mem_scale = 2.0 ** -k.fm

    def beta_a(a):
        return rescale(k.beta * a, 16 + k.fa, k.fm)

    th_prev = torch.full_like(zi, k.theta)      # for non-ALIF kinds it stays theta
    for t in range(T):
        if V is None:
            inp = IN[t]
        else:
            acc = torch.addmm(X[t], Sf, V.t()) if t > 0 else X[t]
            inp = rescale(to_int(acc, k.acc_frac), k.acc_frac, k.in_frac)
        if refr:
            refractory = R > 0
            M_all[t] = (~refractory).to(X.dtype)
        if cuba:
            I = sat_i(int_decay(I, k.leak, k.syn) + inp)
            x = rescale(I, k.fi, k.fm)
        else:
            x = inp
        if refr:
            x = torch.where(refractory, 0, x)
        if alif:
            A = sat_a(int_decay(A, k.leak, k.adapt) + S.to(torch.int64) * (1 << k.fa))
            th_now = k.theta + beta_a(A)
        else:
            th_now = k.theta
        if reset == "subtract":
            u = int_decay(U, k.leak, k.mem) + x - th_prev * S.to(torch.int64)
        elif reset == "zero":
            u = torch.where(S, 0, int_decay(U, k.leak, k.mem)) + x
        else:
            u = int_decay(U, k.leak, k.mem) + x
        U = sat_u(u)
        s = U > th_now
        if refr:
            s &= ~refractory
            R = torch.where(s, cfg.refractory, (R - 1).clamp_(min=0))
        S = s
        U_all[t] = U.to(X.dtype) * mem_scale
        S_all[t] = s.to(X.dtype)
        Sf = S_all[t]
        if alif:
            TH_all[t] = th_now.to(X.dtype) * mem_scale
            th_prev = th_now
    sat = torch.stack([sat_u.count, sat_i.count, sat_a.count])
    return S_all, U_all, TH_all, M_all, sat


# ====================================================================== the scan


def _cut(t: int, tbptt: int) -> bool:
    """Whether no gradient flows from step ``t`` into step ``t - 1``."""
    return t == 0 or (tbptt > 0 and t % tbptt == 0)


class NeuronScan(torch.autograd.Function):
    """``(X [T, B, *shape], V [N, N] or None, cfg, tbptt, count) -> (S, U, saturation, C)``.

    The neuron recurrence of a built-in kind over all ``T`` steps (float or, with ``cfg.ints``,
    exact integers). ``V`` is the recurrent weight matrix of a recurrent layer (its input ``V
    S[t-1]`` is added inside the loop). ``U`` is the membrane after each step's update (real units);
    ``saturation`` (int64 ``[3]``: clamps of ``U``, ``I``, ``A``; QAT only, zeros otherwise) carries
    no gradient. With ``count``, ``C`` is the spike count ``S.sum(0)`` (counted inside the native
    loop, so the spike-count readout needs no pass over ``S``; its gradient reaches every step),
    else an empty tensor. See the module docstring for the gradient conventions.
    """

    @staticmethod
    def forward(ctx, X, V, cfg: NeuronCfg, tbptt: int, count: bool = False):
        AC = None                # ALIF, native: checkpoints of A, in place of the thresholds TH
        C = None
        if cfg.ints is not None:
            S, U, TH, M, sat = _forward_int(X, V, cfg)
        else:
            if native_scan.usable(X, V, cfg):            # one native loop over all steps
                fused = count and X.shape[0] < (1 << 24)  # 0/1 sums stay exact in the loop
                S, U, AC, M, C = native_scan.forward(X, cfg, count=fused)
                TH = None
            else:
                S, U, TH, M = _forward_float(X, V, cfg)
            sat = torch.zeros(3, dtype=torch.int64, device=X.device)
        if count and C is None:
            C = S.sum(0)
        elif C is None:
            C = S.new_empty(0)
        ctx.cfg, ctx.tbptt = cfg, int(tbptt or 0)
        ctx.has_th, ctx.has_ac = TH is not None, AC is not None
        ctx.has_m, ctx.has_v = M is not None, V is not None
        ctx.save_for_backward(U, S, *(t for t in (TH, AC, M, V) if t is not None))
        ctx.mark_non_differentiable(sat)
        if not count:
            ctx.mark_non_differentiable(C)
        ctx.set_materialize_grads(False)
        return S, U, sat, C

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_S, grad_U, _grad_sat, grad_C):
        cfg, tbptt = ctx.cfg, ctx.tbptt
        saved = list(ctx.saved_tensors)
        U, S = saved[0], saved[1]
        if grad_C is not None and grad_C.numel():    # C = S.sum(0): reaches every step
            per_step = grad_C.unsqueeze(0).expand(S.shape)   # stride 0 over time, not copied
            grad_S = per_step if grad_S is None else grad_S + per_step
        rest = saved[2:]
        TH = rest.pop(0) if ctx.has_th else None
        AC = rest.pop(0) if ctx.has_ac else None
        M = rest.pop(0) if ctx.has_m else None
        V = rest.pop(0) if ctx.has_v else None
        if grad_S is None and grad_U is None:
            return None, None, None, None, None
        gX, gV = backward_scan(cfg, tbptt, U, S, TH, M, V, grad_S, grad_U,
                               need_v=V is not None and ctx.needs_input_grad[1], AC=AC)
        return gX, gV, None, None, None


def _alif_thresholds(S: torch.Tensor, cfg: NeuronCfg) -> torch.Tensor:
    """The float ALIF thresholds of every step from the spikes, with the operations of
    :func:`_forward_float` (so the same floats)."""
    TH = torch.empty_like(S)
    A = torch.zeros_like(S[0])
    for t in range(S.shape[0]):
        A = torch.add(S[t - 1], A, alpha=cfg.r) if t > 0 else A   # A = r*A + S_prev
        torch.mul(A, cfg.beta, out=TH[t])
        TH[t].add_(cfg.theta)
    return TH


def backward_scan(cfg: NeuronCfg, tbptt: int, U, S, TH, M, V, grad_S, grad_U, need_v: bool = True,
                  AC=None):
    """BPTT through the recurrence: gradients of the loss with respect to ``X`` (and ``V``). An
    ALIF layer's thresholds are ``TH``, or (native forward pass) recomputed from the spikes and the
    checkpoints ``AC``."""
    if native_scan.usable_backward(U, V, cfg):         # the same recursion in one native loop
        return native_scan.backward(cfg, tbptt, U, S, TH, M, grad_S, grad_U, AC), None
    if cfg.kind == "ALIF" and TH is None:
        TH = _alif_thresholds(S, cfg)
    T = U.shape[0]
    theta = TH if TH is not None else cfg.theta
    h = cfg.surrogate.derivative_(U - theta)              # in place on the temporary
    if M is not None:
        h.mul_(M)
    b, reset = cfg.b, cfg.reset
    alif, cuba = cfg.kind == "ALIF", cfg.kind == "CubaLIF"
    if not alif and V is None:
        # No path from S[t] back into the state: P = dL/dU[t] from this step, then a linear
        # recurrence G[t] = P[t] + c[t+1] G[t+1] (c = b, or b*(1 - S[t]) for the zero reset).
        if grad_S is not None:
            P = h.mul_(grad_S)
            if grad_U is not None:
                P.add_(grad_U)
        else:
            P = torch.empty_like(U).copy_(grad_U)
        if reset == "zero":
            C = (1.0 - S) * b                      # C[t] multiplies G[t+1] into G[t]
        for t in range(T - 2, -1, -1):
            if _cut(t + 1, tbptt):
                continue
            if reset == "zero":
                P[t].addcmul_(C[t], P[t + 1])
            else:
                P[t].add_(P[t + 1], alpha=b)
        G = P if M is None else P.mul_(M)
        if cuba:                                   # dL/dI[t] = G[t]*m[t] + a dL/dI[t+1]
            for t in range(T - 2, -1, -1):
                if not _cut(t + 1, tbptt):
                    G[t].add_(G[t + 1], alpha=cfg.a)
        return G, None

    # The general recursion, one step at a time. Each step writes into preallocated tensors or
    # folds scalars into ``alpha``/``value`` arguments (no temporaries for ``c * tensor``): the
    # carries ``cU`` and ``cI`` are kept unscaled (times ``b`` resp. ``a`` where they are used).
    gX = torch.empty_like(U)
    zeros = torch.zeros_like(U[0])
    cU = cA = cS = cI = zeros
    beta, r, a = cfg.beta, cfg.r, cfg.a
    zero_reset = reset == "zero"
    if zero_reset:
        C = (1.0 - S).mul_(b)                     # C[t - 1] carries dL/dU[t] into U[t - 1]
    alpha_u = 1.0 if zero_reset else b
    plain = M is None and not cuba                # dL/dX[t] is dL/dU[t]: computed in place
    for t in range(T - 1, -1, -1):
        if grad_S is None:
            gS = cS
        else:
            gS = grad_S[t] if cS is zeros else torch.add(grad_S[t], cS)
        hS = torch.mul(gS, h[t])                  # dL/dU[t] through S[t]
        if plain:
            gU = torch.add(hS, cU, alpha=alpha_u, out=gX[t])
        else:
            gU = torch.add(hS, cU, alpha=alpha_u)
        if grad_U is not None:
            gU.add_(grad_U[t])
        if plain:
            gin = gU
        elif cuba:                                # dL/dI[t] = dL/dx[t] + a dL/dI[t+1]
            gin = torch.add(gU if M is None else gU * M[t], cI, alpha=a, out=gX[t])
        else:
            gin = torch.mul(gU, M[t], out=gX[t])
        if _cut(t, tbptt):
            cU = cA = cS = cI = zeros
            continue
        cU = torch.mul(gU, C[t - 1]) if zero_reset else gU
        if cuba:
            cI = gin
        if alif:
            gA = torch.add(cA, hS, alpha=-beta)   # dL/dA[t]
            cA = torch.mul(gA, r)                 # A[t] = r A[t-1] + S[t-1]
            if reset == "subtract":               # - (theta + beta A[t-1]) S[t-1] in U[t]
                cA.addcmul_(S[t - 1], gU, value=-beta)
            cS = gA
        else:
            cS = zeros
        if V is not None:
            cS = torch.addmm(cS, gin, V) if cS is not zeros else gin @ V
    gV = None
    if V is not None and need_v and T > 1:
        n = U.shape[-1]
        gV = gX[1:].reshape(-1, n).t() @ S[:-1].reshape(-1, n)
    elif V is not None and need_v:
        gV = torch.zeros_like(V)
    return gX, gV


@torch.compiler.disable
def scan(X: torch.Tensor, cfg: NeuronCfg, V: torch.Tensor | None = None, tbptt: int = 0):
    """Run a built-in neuron over all steps: ``(S, U, saturation)`` (see :class:`NeuronScan`)."""
    return NeuronScan.apply(X, V, cfg, int(tbptt or 0), False)[:3]


@torch.compiler.disable
def scan_counted(X: torch.Tensor, cfg: NeuronCfg, V: torch.Tensor | None = None,
                 tbptt: int = 0, count: bool = True):
    """:func:`scan` with the spike count: ``(S, U, saturation, S.sum(0))`` (the count ``None``
    when not asked for)."""
    S, U, sat, C = NeuronScan.apply(X, V, cfg, int(tbptt or 0), count)
    return S, U, sat, C if count else None


def reference_scan(X: torch.Tensor, cfg: NeuronCfg, V: torch.Tensor | None = None,
                   tbptt: int = 0):
    """The float neuron step by step with plain autograd and the same gradient conventions as
    :class:`NeuronScan` (reset by the detached previous spike, TBPTT by detaching the state).
    For tests and as a readable specification; returns ``(S, U)``."""
    if cfg.ints is not None:
        raise ValueError("reference_scan is float only")
    kind, reset = cfg.kind, cfg.reset
    alif, cuba, refr = kind == "ALIF", kind == "CubaLIF", cfg.refractory > 0
    zeros = torch.zeros_like(X[0])
    U = I = A = S = zeros
    R = zeros.detach()
    spikes, mems = [], []
    for t, xt in enumerate(X.unbind(0)):
        if t > 0 and tbptt and t % tbptt == 0:
            U, I, A, S = U.detach(), I.detach(), A.detach(), S.detach()
        x = xt if V is None else xt + S @ V.t()
        m = (R <= 0).to(X.dtype)
        if cuba:
            I = cfg.a * I + x
            x = I
        if refr:
            x = x * m
        if alif:
            th_prev = cfg.theta + cfg.beta * A
            A = cfg.r * A + S
            th_now = cfg.theta + cfg.beta * A
        else:
            th_prev = th_now = cfg.theta
        s_det = S.detach()
        decayed = U if kind == "IF" else cfg.b * U
        if reset == "subtract":
            U = decayed + x - th_prev * s_det
        elif reset == "zero":
            U = decayed * (1.0 - s_det) + x
        else:
            U = decayed + x
        s = cfg.surrogate.spike(U - th_now)
        if refr:
            s = s * m
            R = torch.where(s.detach() > 0, float(cfg.refractory), (R - 1).clamp(min=0))
        S = s
        spikes.append(s)
        mems.append(U)
    return torch.stack(spikes), torch.stack(mems)
