"""Python reference models for the hardware benches: the golden integer semantics.

``neuron_step`` is one step of a built-in neuron exactly as docs/semantics.md sections 3 and 4
write it, built from the snnc.fixedpoint primitives (rescale, cmul, decay_shift, saturate) on numpy
int64 arrays; ``layer_step``/``LayerModel`` add the event-driven synaptic accumulation of a dense
layer (section 4, "Synaptic accumulation"). ``model_step`` is what the benches compare with: the golden
simulator's own neuron stepper (``snnc.backends.golden.golden_sim.neuron_for_plan``) when it is
installed, required to agree with ``neuron_step`` on every state and saturation count.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snnc.fixedpoint import COEF_FRAC, cmul, decay_shift, rescale, saturate
from snnc.hw import KIND_CODES, LEAK_CODES, RESET_CODES
from snnc.quantize import NeuronConsts
from snnc.types import Fixed

STATE_NAMES = ("u", "i", "a", "s", "r")


@dataclass(frozen=True)
class NeuronHW:
    """A built-in neuron as the hardware sees it: integer constants plus every width."""

    consts: NeuronConsts
    u: Fixed = Fixed(16, 8)
    i: Fixed = Fixed(16, 8)
    a: Fixed = Fixed(16, 8)
    acc_w: int = 16
    acc_frac: int = 6
    r_w: int = 8

    @property
    def in_frac(self) -> int:
        return self.i.frac if self.consts.kind == "CubaLIF" else self.u.frac

    @property
    def r_max(self) -> int:
        return self.consts.refractory

    def params(self) -> dict:
        """The snn_neuron_unit parameters of this neuron."""
        c = self.consts
        return {
            "KIND": KIND_CODES[c.kind], "RESET": RESET_CODES[c.reset], "LEAK": LEAK_CODES[c.leak],
            "ACC_W": self.acc_w, "ACC_FRAC": self.acc_frac,
            "U_W": self.u.width, "U_FRAC": self.u.frac,
            "I_W": self.i.width, "I_FRAC": self.i.frac,
            "A_W": self.a.width, "A_FRAC": self.a.frac,
            "R_W": self.r_w,
            "MEM_DECAY": c.mem_decay or 0, "SYN_DECAY": c.syn_decay or 0,
            "ADAPT_DECAY": c.adapt_decay or 0,
            "THRESHOLD": c.threshold, "BETA": c.beta or 0, "REFRACTORY": c.refractory,
        }

    def zero_state(self, n: int) -> dict:
        return {k: np.zeros(n, dtype=np.int64) for k in STATE_NAMES}


def decay(c: NeuronConsts, v: np.ndarray, factor) -> np.ndarray:
    if c.leak == "multiply":
        return cmul(int(factor), v)
    if c.leak == "shift":
        return decay_shift(v, int(factor))
    return v


def _sat(v: np.ndarray, fmt: Fixed) -> tuple[np.ndarray, np.ndarray]:
    """Saturate with snnc.fixedpoint.saturate, plus the per-element 'was clamped' flags."""
    flags = (v < fmt.min_int) | (v > fmt.max_int)
    q, count = saturate(v, fmt)
    assert count == int(flags.sum())
    return q, flags


def neuron_step(hw: NeuronHW, state: dict, acc) -> tuple[dict, dict]:
    """One step (docs/semantics.md section 3 in the integers of section 4).

    ``state``: arrays u, i, a, s (S_prev, 0/1), r; ``acc``: accumulated input (acc_frac bits).
    Returns (new state, saturation flags {"u", "i", "a"}); the spike is the new state's ``s``.
    """
    c = hw.consts
    u = np.asarray(state["u"], dtype=np.int64)
    i = np.asarray(state["i"], dtype=np.int64)
    a = np.asarray(state["a"], dtype=np.int64)
    s = np.asarray(state["s"], dtype=np.int64)
    r = np.asarray(state["r"], dtype=np.int64)
    acc = np.asarray(acc, dtype=np.int64)
    zeros = np.zeros_like(u)
    no = np.zeros(u.shape, dtype=bool)

    refr = (r > 0) & (c.refractory > 0)      # R only ever leaves 0 with a refractory period
    inp = rescale(acc, hw.acc_frac, hw.in_frac)
    if c.kind == "CubaLIF":
        i_new, sat_i = _sat(decay(c, i, c.syn_decay) + inp, hw.i)   # integrates while refractory
        x = rescale(i_new, hw.i.frac, hw.u.frac)
    else:
        i_new, sat_i, x = zeros, no, inp
    x = np.where(refr, 0, x)

    theta = np.int64(c.threshold)
    if c.kind == "ALIF":
        shift_from = COEF_FRAC + hw.a.frac
        th_prev = theta + rescale(np.int64(c.beta) * a, shift_from, hw.u.frac)
        a_new, sat_a = _sat(decay(c, a, c.adapt_decay) + s * (1 << hw.a.frac), hw.a)
        th_now = theta + rescale(np.int64(c.beta) * a_new, shift_from, hw.u.frac)
    else:
        a_new, sat_a = zeros, no
        th_prev = th_now = theta + zeros

    u_dec = u if c.kind == "IF" else decay(c, u, c.mem_decay)
    if c.reset == "subtract":
        u_raw = u_dec + x - th_prev * s
    elif c.reset == "zero":
        u_raw = np.where(s != 0, 0, u_dec) + x
    elif c.reset == "none":
        u_raw = u_dec + x
    else:
        raise ValueError(f"unknown reset {c.reset!r}")
    u_new, sat_u = _sat(u_raw, hw.u)

    spike = (u_new > th_now) & ~refr
    r_new = np.where(spike, c.refractory, np.where(refr, r - 1, 0))   # max(R - 1, 0)
    new = {"u": u_new, "i": i_new, "a": a_new, "s": spike.astype(np.int64), "r": r_new}
    return new, {"u": sat_u, "i": sat_i, "a": sat_a}


def golden_neuron(hw: NeuronHW, n: int):
    """The golden simulator's integer neuron stepper (``neuron_for_plan``) for ``n`` neurons of
    this configuration, or None when the golden backend is not importable."""
    try:
        from snnc.backends.golden.golden_sim import neuron_for_plan
    except ImportError:
        return None
    from snnc.quantize import Formats, LayerPlan

    plan = LayerPlan("hw", hw.acc_frac, hw.in_frac, hw.acc_w, hw.consts)
    formats = Formats(weights=Fixed(8, 6), membrane=hw.u, current=hw.i, adaptation=hw.a,
                      inputs=Fixed(12, 8))
    return neuron_for_plan(plan, formats, (n,))


def _golden_state(g, n: int) -> dict:
    st = g.state()
    zeros = np.zeros(n, dtype=np.int64)
    return {"u": np.asarray(st["U"], dtype=np.int64),
            "i": np.asarray(st.get("I", zeros), dtype=np.int64),
            "a": np.asarray(st.get("A", zeros), dtype=np.int64),
            "s": np.asarray(st["S"], dtype=np.int64), "r": np.asarray(st["R"], dtype=np.int64)}


def _cross_check(hw: NeuronHW, ref: dict, ref_sats: dict, gold: dict, gold_sats: dict) -> None:
    for k in STATE_NAMES:
        if not np.array_equal(ref[k], gold[k]):
            bad = int(np.flatnonzero(ref[k] != gold[k])[0])
            raise AssertionError(f"local reference and golden model disagree on {k} "
                                 f"(neuron {bad}: {ref[k][bad]} vs {gold[k][bad]}), {hw}")
    for k, name in (("u", "U"), ("i", "I"), ("a", "A")):
        if int(ref_sats[k].sum()) != gold_sats.get(name, 0):
            raise AssertionError(f"saturation count of {name}: local {int(ref_sats[k].sum())}, "
                                 f"golden {gold_sats.get(name, 0)}, {hw}")


def model_step(hw: NeuronHW, state: dict, acc) -> tuple[dict, dict]:
    """The Model's step: the golden simulator's neuron when installed (its states and
    saturation counts), cross-checked against ``neuron_step``, whose per-neuron saturation flags
    (the golden model only counts them) are returned with it."""
    ref, flags = neuron_step(hw, state, acc)
    n = len(np.atleast_1d(acc))
    g = golden_neuron(hw, n)
    if g is None:
        return ref, flags
    g.U = np.array(state["u"], dtype=np.int64)
    if g.I is not None:
        g.I = np.array(state["i"], dtype=np.int64)
    if g.A is not None:
        g.A = np.array(state["a"], dtype=np.int64)
    g.S = np.asarray(state["s"]).astype(bool)
    g.R = np.array(state["r"], dtype=np.int64)
    g.step(rescale(np.asarray(acc, dtype=np.int64), hw.acc_frac, hw.in_frac))
    gold = _golden_state(g, n)
    _cross_check(hw, ref, flags, gold, g.saturation)
    return gold, flags


# ---------------------------------------------------------------------- dense layer


@dataclass
class LayerModel:
    """A dense layer driven by events: acc[n] = sum over events of W[n, addr] * payload, plus
    (docs/semantics.md section 1) ``V[n, j] << aux_shift`` for every spike ``j`` of the layer's
    previous step when ``recurrent`` is given, and ``bias[n] << aux_shift`` every step."""

    hw: NeuronHW
    weights: np.ndarray            # [neurons N, inputs M] integers (acc = W @ s)
    graded: bool = False
    recurrent: np.ndarray | None = None     # [N, N] integers (acc += V @ S_prev)
    bias: np.ndarray | None = None          # [N] integers
    aux_shift: int = 0
    state: dict = field(init=False)
    acc: np.ndarray = field(init=False)
    sat_counts: dict = field(init=False)

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=np.int64)
        n = self.weights.shape[0]
        if self.recurrent is not None:
            self.recurrent = np.asarray(self.recurrent, dtype=np.int64)
            assert self.recurrent.shape == (n, n)
        if self.bias is not None:
            self.bias = np.asarray(self.bias, dtype=np.int64)
            assert self.bias.shape == (n,)
        self.state = self.hw.zero_state(n)
        self.acc = np.zeros(n, dtype=np.int64)
        self.sat_counts = {"u": 0, "i": 0, "a": 0}
        self._golden = golden_neuron(self.hw, n)

    def event(self, addr: int, payload: int = 1) -> None:
        if not 0 <= addr < self.weights.shape[1]:
            return  # out-of-range addresses are ignored by the core
        self.acc += self.weights[:, addr] * (payload if self.graded else 1)

    def end_step(self) -> list[int]:
        """The neuron update; returns the indices of the neurons that spiked, ascending.

        Steps the golden simulator's neuron (when installed) and the local reference side by
        side and requires them to agree."""
        acc = self.acc.copy()
        if self.bias is not None:
            acc += self.bias << self.aux_shift
        ref, sats = neuron_step(self.hw, self.state, acc)
        if self._golden is not None:
            before = dict(self._golden.saturation)
            self._golden.step(rescale(acc, self.hw.acc_frac, self.hw.in_frac))
            step_counts = {k: v - before[k] for k, v in self._golden.saturation.items()}
            gold = _golden_state(self._golden, len(self.acc))
            _cross_check(self.hw, ref, sats, gold, step_counts)
        self.state = ref
        for k in self.sat_counts:
            self.sat_counts[k] += int(sats[k].sum())
        spikes = np.flatnonzero(self.state["s"])
        self.acc[:] = 0
        if self.recurrent is not None:          # this step's spikes reach the next step
            self.acc += self.recurrent[:, spikes].sum(axis=1) << self.aux_shift
        return [int(n) for n in spikes]

    def run(self, steps: list[list[tuple[int, int]]]) -> list[list[int]]:
        """Events per step ([(addr, payload), ...]) -> spiking neurons per step."""
        out = []
        for events in steps:
            for addr, payload in events:
                self.event(addr, payload)
            out.append(self.end_step())
        return out


# ---------------------------------------------------------------------- ASN (adaptive spiking neuron)

ASN_STATE_NAMES = ("u", "p", "a", "h", "s")


@dataclass(frozen=True)
class ASNHW:
    """An ASN as the hardware sees it (snn_neuron_unit KIND 4): the quantizer's constants plus
    every width. ``consts`` is a ``NeuronConsts("ASN", ...)`` (mem_decay: tau_beta,
    adapt_decay: tau_gamma, pred_decay: tau_eta, m_f: 16 fractional bits)."""

    consts: NeuronConsts
    u: Fixed = Fixed(16, 8)
    a: Fixed = Fixed(16, 8)
    acc_w: int = 24
    acc_frac: int = 14

    @property
    def in_frac(self) -> int:
        return self.u.frac

    def params(self) -> dict:
        """The snn_neuron_unit / snn_layer_core neuron parameters of this ASN."""
        c = self.consts
        return {
            "KIND": 4, "RESET": RESET_CODES["none"], "LEAK": LEAK_CODES[c.leak],
            "ACC_W": self.acc_w, "ACC_FRAC": self.acc_frac,
            "U_W": self.u.width, "U_FRAC": self.u.frac,
            "A_W": self.a.width, "A_FRAC": self.a.frac, "R_W": 1,
            "MEM_DECAY": c.mem_decay, "ADAPT_DECAY": c.adapt_decay,
            "PRED_DECAY": c.pred_decay, "THRESHOLD": c.threshold, "M_F": c.m_f,
        }

    def zero_state(self, n: int) -> dict:
        return {k: np.zeros(n, dtype=np.int64) for k in ASN_STATE_NAMES}


def asn_step(hw: ASNHW, state: dict, acc) -> tuple[dict, dict]:
    """One ASN step as docs/semantics.md section 4 ("ASN and ReLU in integers") writes it, from
    the snnc.fixedpoint primitives. ``state``: arrays u, p, a (h, s are outputs only); returns
    (new state u, p, a, h, s; per-neuron saturation flags u, p, a, h)."""
    c = hw.consts
    u = np.asarray(state["u"], dtype=np.int64)
    p = np.asarray(state["p"], dtype=np.int64)
    a = np.asarray(state["a"], dtype=np.int64)
    inp = rescale(np.asarray(acc, dtype=np.int64), hw.acc_frac, hw.u.frac)
    u_new, sat_u = _sat(decay(c, u, c.mem_decay) + inp, hw.u)
    a_dec = decay(c, a, c.adapt_decay)
    p_dec = decay(c, p, c.pred_decay)
    theta = np.int64(c.threshold) + rescale(a_dec, hw.a.frac, hw.u.frac)
    s = 2 * (u_new - p_dec) > theta
    h_all, h_flags = _sat(theta, hw.u)
    h = np.where(s, h_all, 0)
    p_all, p_flags = _sat(p_dec + h_all, hw.u)
    a_all, a_flags = _sat(a_dec + rescale(np.int64(c.m_f) * h_all, COEF_FRAC + hw.u.frac,
                                          hw.a.frac), hw.a)
    new = {"u": u_new, "p": np.where(s, p_all, p_dec), "a": np.where(s, a_all, a_dec),
           "h": h, "s": s.astype(np.int64)}
    return new, {"u": sat_u, "p": p_flags & s, "a": a_flags & s, "h": h_flags & s}


def golden_asn(hw: ASNHW, n: int):
    """The golden simulator's ASN stepper (``neuron_for_plan``) for ``n`` neurons."""
    from snnc.backends.golden.golden_sim import neuron_for_plan
    from snnc.quantize import Formats, LayerPlan

    plan = LayerPlan("hw", hw.acc_frac, hw.in_frac, hw.acc_w, hw.consts)
    formats = Formats(weights=Fixed(8, 6), membrane=hw.u, current=hw.u, adaptation=hw.a,
                      inputs=Fixed(12, 8))
    return neuron_for_plan(plan, formats, (n,))


def asn_model_step(hw: ASNHW, state: dict, acc, golden=None) -> tuple[dict, dict]:
    """The Model's ASN step: the golden simulator's stepper (its states, payload and saturation
    counts), required to agree with :func:`asn_step`, whose per-neuron flags it returns.
    ``golden``: a stepper to reuse (its state is overwritten)."""
    ref, flags = asn_step(hw, state, acc)
    n = len(np.atleast_1d(acc))
    g = golden if golden is not None else golden_asn(hw, n)
    g.U = np.array(state["u"], dtype=np.int64)
    g.P = np.array(state["p"], dtype=np.int64)
    g.A = np.array(state["a"], dtype=np.int64)
    before = dict(g.saturation)
    g.step(rescale(np.asarray(acc, dtype=np.int64), hw.acc_frac, hw.in_frac))
    st = g.state()
    gold = {"u": st["U"], "p": st["P"], "a": st["A"], "h": st["H"],
            "s": np.asarray(st["S"]).astype(np.int64)}
    for k in ASN_STATE_NAMES:
        if not np.array_equal(ref[k], gold[k]):
            bad = int(np.flatnonzero(ref[k] != gold[k])[0])
            raise AssertionError(f"local ASN reference and golden model disagree on {k} "
                                 f"(neuron {bad}: {ref[k][bad]} vs {gold[k][bad]}), {hw}")
    for k in ("u", "p", "a", "h"):
        got = g.saturation[k.upper()] - before[k.upper()]
        if int(flags[k].sum()) != got:
            raise AssertionError(f"ASN saturation count of {k.upper()}: local "
                                 f"{int(flags[k].sum())}, golden {got}, {hw}")
    return {k: np.asarray(v, dtype=np.int64) for k, v in gold.items()}, flags


@dataclass
class ASNLayerModel:
    """A dense ASN layer driven by graded events: acc[n] = sum of W[n, addr] * payload, plus
    ``bias[n] << aux_shift`` every step; the golden ASN steps the neurons."""

    hw: ASNHW
    weights: np.ndarray            # [N, M]
    bias: np.ndarray | None = None
    aux_shift: int = 0
    state: dict = field(init=False)
    acc: np.ndarray = field(init=False)
    sat_counts: dict = field(init=False)

    def __post_init__(self):
        self.weights = np.asarray(self.weights, dtype=np.int64)
        n = self.weights.shape[0]
        self.state = self.hw.zero_state(n)
        self.acc = np.zeros(n, dtype=np.int64)
        self.sat_counts = {"u": 0, "p": 0, "a": 0, "h": 0}
        self._golden = golden_asn(self.hw, n)

    def event(self, addr: int, payload: int) -> None:
        if 0 <= addr < self.weights.shape[1]:
            self.acc += self.weights[:, addr] * payload

    def end_step(self) -> list[tuple[int, int]]:
        """The neuron update; returns (neuron, height) of every spike, ascending."""
        acc = self.acc.copy()
        if self.bias is not None:
            acc += np.asarray(self.bias, dtype=np.int64) << self.aux_shift
        self.state, flags = asn_model_step(self.hw, self.state, acc, self._golden)
        for k in self.sat_counts:
            self.sat_counts[k] += int(flags[k].sum())
        self.acc[:] = 0
        return [(int(n), int(self.state["h"][n])) for n in np.flatnonzero(self.state["s"])]

    def run(self, steps: list[list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
        out = []
        for events in steps:
            for addr, payload in events:
                self.event(addr, payload)
            out.append(self.end_step())
        return out


# Two user-defined neurons that exercise the Verilog lowering (tests/hw/test_user_cosim.py,
# test_user_neuron_hw.py): GateLIF (comparisons, min/max, a select on spike, a non-zero initial
# state); Odd (graded, every operation, one state clamped twice per step).
USER_NEURONS = """
neuron GateLIF {                    # its refractory counter is named `pad`: the name the
    # Verilog layout once gave its unused bit, which overwrote the state on read-back
    param tau: time = 10 ms
    param threshold = 0.5
    param floor = -1.0
    state v = 0.25
    state pad = 0
    update {
        v = decay(tau) * v + (1 - min(pad, 1)) * input
        v = clip(v, floor, 3.5)
        pad = max(pad - 1, 0)
    }
    spike when v > threshold and not (pad > 0)
    on spike {
        v = v - 2 * threshold
        pad = 2
    }
}

neuron Odd {
    param k = 0.75
    state a = -0.5
    state b = 0
    state c = 0
    update {
        a = a + input * 3 - abs(b) / 4
        b = max(a * c, -2) + abs(a) / 2 - min(c, 0.5)
        c = -a + k * b - c * c
    }
    spike when (a > 1 or b <= -1) and not (c == 0) and (c < 2 or a >= b) emit a * 2 - b
    on spike {
        a = a - height
        c = c + height * k
        b = min(b, height)
        a = a + c
    }
}
"""
