"""cocotb benches of the adaptive spiking neuron (ASN, ``KIND = 4``) in the hardware library,
against the golden integer semantics (docs/semantics.md section 4, "ASN and ReLU in integers").

* **Neuron units** (``tb_asn_units``, a generated wrapper): ASN ``snn_neuron_unit``s side by side
  with different formats (acc->membrane shifts right, left and none; adaptation fraction above,
  below and equal to the membrane's, so ``rescale(A)`` and ``rescale(m_f h)`` shift both ways),
  both leaks, thresholds from 1 to the membrane maximum (the payload clamps), m_f from 0 to 2.5
  (A saturates), one registered unit (LATENCY = 1) with random stalls, two units with
  ``DECAYED_IN = 1`` (U, P, A arrive decayed, as the layer core's pipelined sweep hands them; the
  Model steps the undecayed state). Random states (extremes
  included) and closed-loop trajectories. Driver -> DUT -> Monitor -> Checker: every output (U,
  P, A, the payload H, the spike, every saturation flag; I and R are 0) equals the Model: the
  golden simulator's ASN stepper (``neuron_for_plan``), cross-checked with a local reference
  (``hw_models.asn_step``) that gives the per-neuron flags.
* **Layer core** (``snn_layer_core`` with ``KIND = 4``, ``GRADED = 1``, a bias): graded input
  events (signed payloads, as from a direct input) with input gaps and output stalls; every step's
  output events (address *and* payload: the spike's height), the final U, P, A, S, H of every
  neuron through the read-back port, the U/P/A/H saturation counters and the step count equal
  the Model (``hw_models.ASNLayerModel``: exact accumulation + the golden ASN). A mutation run
  (one corrupted weight in the memory file) must be detected.
"""
from __future__ import annotations

import math
import os
import random
import tempfile
from pathlib import Path

import numpy as np
import pytest

from corebench import Comparer, EventDriver, core_reset, read_core_state, wait_idle
from hw_models import ASNHW, ASNLayerModel, asn_model_step, decay, golden_asn
from snnc.fixedpoint import coef
from snnc.quantize import NeuronConsts
from snnc.types import Fixed
from tbutil import Bus, param_list, write_generated
from unitbench import UnitChecker, UnitDriver, UnitMonitor, mix, run_units

SEED = int(os.environ.get("SNNC_HW_SEED", "20240611"))
UNITS_TOP = "tb_asn_units"
CORE_TOP = "snn_layer_core"
TAG_W = 16
WEIGHT_FILE = "weights.mem"
BIAS_FILE = "bias.mem"


def _asn(theta: int, leak: str, beta, gamma, eta, m_f: float) -> NeuronConsts:
    return NeuronConsts("ASN", theta, "none", 0, leak, beta, adapt_decay=gamma, pred_decay=eta,
                        m_f=coef(m_f))


def _mult(tau_ms: float) -> int:
    return coef(math.exp(-1.0 / tau_ms))


# ---------------------------------------------------------------------- neuron units


def unit_configs() -> list[tuple[str, ASNHW, int]]:
    """(name, neuron, LATENCY) of every unit of the wrapper."""
    return [
        # in = rshift(acc, 6); A and U share the fraction; the digits example's decays
        ("fm8_mult", ASNHW(_asn(128, "multiply", _mult(20), _mult(15), _mult(20), 0.5),
                           u=Fixed(16, 8), a=Fixed(16, 8), acc_w=24, acc_frac=14), 0),
        # in = acc << 2; A has more fractional bits (theta: rshift of A; m_f h: shift left);
        # theta near the membrane maximum: the payload clamps; m_f = 2.5: A saturates
        ("fm4_shift_bigmf", ASNHW(_asn(2040, "shift", 3, 4, 2, 2.5),
                                  u=Fixed(12, 4), a=Fixed(10, 6), acc_w=14, acc_frac=2), 0),
        # the digits example's formats (acc 35 bits, 25 fractional); A has fewer fractional
        # bits (theta: A << 6); m_f = 0 (no adaptation); theta = 1
        ("fm9_nomf", ASNHW(_asn(1, "multiply", _mult(20), _mult(15), _mult(10), 0.0),
                           u=Fixed(16, 9), a=Fixed(12, 3), acc_w=35, acc_frac=25), 0),
        # in = acc; decays 65535 (almost none: U, A) and 100 (almost total: P)
        ("fm5_extreme_decays", ASNHW(_asn(40, "multiply", 65535, 65535, 100, 0.1),
                                     u=Fixed(10, 5), a=Fixed(16, 8), acc_w=10, acc_frac=5), 0),
        # registered, with stalls
        ("fm8_mult_lat1", ASNHW(_asn(128, "multiply", _mult(20), _mult(15), _mult(20), 0.5),
                                u=Fixed(16, 8), a=Fixed(16, 8), acc_w=24, acc_frac=14), 1),
        # DECAYED_IN = 1 (as in the layer core's pipelined sweep): U, P, A arrive decayed
        ("fm8_mult_decayed_in", ASNHW(_asn(128, "multiply", _mult(20), _mult(15), _mult(10),
                                           0.5),
                                      u=Fixed(16, 8), a=Fixed(16, 8), acc_w=24, acc_frac=14), 1),
        ("fm4_shift_decayed_in", ASNHW(_asn(2040, "shift", 3, 4, 2, 2.5),
                                       u=Fixed(12, 4), a=Fixed(10, 6), acc_w=14, acc_frac=2), 0),
    ]


# units whose U, P, A inputs arrive already decayed (the unit skips its own decays)
DECAYED_IN = {"fm8_mult_decayed_in", "fm4_shift_decayed_in"}


def decayed_inputs(hw: ASNHW, state: dict) -> dict:
    """What the layer core's pre-decay stage hands a DECAYED_IN unit: U, P, A decayed."""
    c = hw.consts
    return {"u": decay(c, np.asarray(state["u"]), c.mem_decay),
            "p": decay(c, np.asarray(state["p"]), c.pred_decay),
            "a": decay(c, np.asarray(state["a"]), c.adapt_decay)}


IN_FIELDS = ("tag", "acc", "u", "p", "a")
OUT_FIELDS = ("tag", "u", "p", "a", "h", "s", "i", "r", "sat_u", "sat_p", "sat_a", "sat_h",
              "sat_i")


def unit_buses(configs):
    stim, resp = Bus(), Bus()
    for k, (_, hw, _) in enumerate(configs):
        p = f"c{k}_"
        stim.add(p + "in_valid", 1)
        stim.add(p + "out_ready", 1)
        stim.add(p + "tag", TAG_W)
        stim.add(p + "acc", hw.acc_w, True)
        stim.add(p + "u", hw.u.width, True)
        stim.add(p + "p", hw.u.width, True)
        stim.add(p + "a", hw.a.width, True)
        stim.add(p + "junk", hw.u.width + 2)          # I, S_prev, R: must be ignored
        resp.add(p + "in_ready", 1)
        resp.add(p + "out_valid", 1)
        resp.add(p + "tag", TAG_W)
        for name, w in (("u", hw.u.width), ("p", hw.u.width), ("a", hw.a.width),
                        ("h", hw.u.width), ("i", hw.u.width)):
            resp.add(p + name, w, True)
        resp.add(p + "s", 1)
        resp.add(p + "r", 1)
        for name in ("sat_u", "sat_p", "sat_a", "sat_h", "sat_i"):
            resp.add(p + name, 1)
    return stim, resp


def units_verilog(configs) -> str:
    stim, resp = unit_buses(configs)
    lines = ["`default_nettype none",
             "// generated by tests/hw/test_asn_hw.py: ASN snn_neuron_units side by side",
             f"module {UNITS_TOP} (",
             "    input  wire clk,",
             "    input  wire rst,",
             f"    input  wire [{stim.width - 1}:0] stim,",
             f"    output wire [{resp.width - 1}:0] resp",
             ");"]
    for k, (name, hw, latency) in enumerate(configs):
        p = f"c{k}_"
        w = hw.u.width
        params = dict(hw.params(), I_W=w, I_FRAC=hw.u.frac, TAG_W=TAG_W, LATENCY=latency,
                      DECAYED_IN=int(name in DECAYED_IN))
        s = lambda f: "stim" + stim.slice(p + f)  # noqa: E731
        r = lambda f: "resp" + resp.slice(p + f)  # noqa: E731
        junk = stim.fields[p + "junk"].offset
        lines += [f"    // {name}",
                  f"    snn_neuron_unit #({param_list(params)}) u_{k} (",
                  "        .clk(clk), .rst(rst),",
                  f"        .in_valid({s('in_valid')}), .in_ready({r('in_ready')}),",
                  f"        .in_tag({s('tag')}), .acc({s('acc')}),",
                  f"        .u_in({s('u')}), .p_in({s('p')}), .a_in({s('a')}),",
                  f"        .i_in(stim[{junk} +: {w}]), .s_in(stim[{junk + w}]),",
                  f"        .r_in(stim[{junk + w + 1}]),",
                  f"        .out_valid({r('out_valid')}), .out_ready({s('out_ready')}),",
                  f"        .out_tag({r('tag')}), .u_out({r('u')}), .p_out({r('p')}),",
                  f"        .a_out({r('a')}), .h_out({r('h')}), .i_out({r('i')}),",
                  f"        .s_out({r('s')}), .r_out({r('r')}),",
                  f"        .sat_u({r('sat_u')}), .sat_i({r('sat_i')}), .sat_a({r('sat_a')}),",
                  f"        .sat_p({r('sat_p')}), .sat_h({r('sat_h')}));"]
    lines += ["endmodule", "`default_nettype wire", ""]
    return "\n".join(lines)


def random_states(hw: ASNHW, n: int, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
    theta = hw.consts.threshold
    state = {"u": mix(rng, n, hw.u.min_int, hw.u.max_int, theta),
             "p": mix(rng, n, hw.u.min_int, hw.u.max_int, theta),
             # A mostly non-negative (as it is in a run), sometimes anything
             "a": np.where(rng.random(n) < 0.8,
                           mix(rng, n, 0, hw.a.max_int, 1 << hw.a.frac),
                           mix(rng, n, hw.a.min_int, hw.a.max_int, 1 << hw.a.frac))}
    shift = hw.acc_frac - hw.in_frac
    theta_acc = max(1, theta << shift if shift >= 0 else theta >> -shift)
    acc = mix(rng, n, -(1 << (hw.acc_w - 1)), (1 << (hw.acc_w - 1)) - 1, theta_acc)
    return state, acc


def trajectory(hw: ASNHW, k: int, steps: int, rng: np.random.Generator):
    """k neurons for ``steps`` steps from rest, interleaved, each fed its Model state: a steady
    input (different per neuron) plus noise, so the neurons settle into sigma-delta firing."""
    shift = hw.acc_frac - hw.in_frac
    theta = hw.consts.threshold
    theta_acc = max(1, theta << shift if shift >= 0 else theta >> -shift)
    lo, hi = -(1 << (hw.acc_w - 1)), (1 << (hw.acc_w - 1)) - 1
    level = rng.integers(-theta_acc // 4, theta_acc + 1, k)
    state = hw.zero_state(k)
    ins = {name: [] for name in ("u", "p", "a")}
    accs = []
    g = golden_asn(hw, k)
    for _ in range(steps):
        acc = np.clip(level + rng.integers(-theta_acc // 4, theta_acc // 4 + 1, k), lo, hi)
        for name in ins:
            ins[name].append(state[name])
        accs.append(acc)
        state, _ = asn_model_step(hw, state, acc, g)
    return {name: np.concatenate(v) for name, v in ins.items()}, np.concatenate(accs)


class UnitModel:
    """Expected outputs of one unit: the golden ASN (cross-checked, flags from the reference)."""

    def __init__(self, hw: ASNHW):
        self.hw = hw

    def expect(self, state: dict, acc: np.ndarray) -> list[dict]:
        new, flags = asn_model_step(self.hw, state, acc)
        return [{"tag": t % (1 << TAG_W), "u": int(new["u"][t]), "p": int(new["p"][t]),
                 "a": int(new["a"][t]), "h": int(new["h"][t]), "s": int(new["s"][t]),
                 "i": 0, "r": 0, "sat_u": int(flags["u"][t]), "sat_p": int(flags["p"][t]),
                 "sat_a": int(flags["a"][t]), "sat_h": int(flags["h"][t]), "sat_i": 0}
                for t in range(len(acc))]


class ASNChecker(UnitChecker):
    """Exact comparison with the Model, plus coverage of spikes and every saturation."""

    def coverage(self) -> dict:
        e, hw = self.expected, self.hw
        return {
            "spike": sum(x["s"] for x in e),
            "no_spike": sum(1 - x["s"] for x in e),
            "u_sat_high": sum(x["sat_u"] and x["u"] == hw.u.max_int for x in e),
            "u_sat_low": sum(x["sat_u"] and x["u"] == hw.u.min_int for x in e),
            "p_sat": sum(x["sat_p"] for x in e),
            "a_sat": sum(x["sat_a"] for x in e),
            "h_sat": sum(x["sat_h"] for x in e),
        }


def _junk(hw: ASNHW):
    """Random values on the inputs ASN ignores (I, S_prev, R), new every cycle."""
    return lambda rng: {"junk": rng.getrandbits(hw.u.width + 2)}


async def _run_units(dut, stimuli, p_valid=0.8, p_ready=0.8, seed=SEED):
    configs = unit_configs()
    stim_bus, resp_bus = unit_buses(configs)
    rng = random.Random(seed)
    units = []
    for k, (name, hw, latency) in enumerate(configs):
        state, acc = stimuli[k]
        expected = UnitModel(hw).expect(state, acc)
        given = decayed_inputs(hw, state) if name in DECAYED_IN else state
        items = [{"tag": t % (1 << TAG_W), "acc": int(acc[t]),
                  **{f: int(given[f][t]) for f in ("u", "p", "a")}} for t in range(len(acc))]
        pr = p_ready if latency else max(p_ready, 0.9)
        drv = UnitDriver(f"c{k}_", items, random.Random(rng.random()), p_valid, pr,
                         extra=_junk(hw))
        units.append((drv, UnitMonitor(f"c{k}_", name, OUT_FIELDS),
                      ASNChecker(name, hw, expected, state, acc)))
    return await run_units(dut, stim_bus, resp_bus, units, "ASN units")


# ---------------------------------------------------------------------- layer core

N, P, M, W_W, IN_PW = 10, 4, 12, 10, 12
CORE_HW = ASNHW(_asn(256, "multiply", _mult(8), _mult(15), _mult(8), 0.5),
                u=Fixed(14, 8), a=Fixed(14, 8),
                # graded inputs of 12 bits with 9 fractional bits, weights with 8: acc_bits =
                # W_W + IN_PW + bits(M + bias)
                acc_w=W_W + IN_PW + 4, acc_frac=8 + 9)
AUX_SHIFT = 9


def core_params(su: int = 0) -> dict:
    """The ASN core's parameters; ``su``: a narrow sweep (SU units, hw/README.md)."""
    out = dict(N=N, P=P, M=M, W_W=W_W, IN_AW=4, IN_PW=IN_PW, GRADED=1, OUT_AW=4,
               OUT_PW=CORE_HW.u.width + 2, **CORE_HW.params(), I_W=8, I_FRAC=4, CNT_W=32,
               WEIGHT_FILE=f'"{WEIGHT_FILE}"', REC=0, BIAS=1, AUX_SHIFT=AUX_SHIFT,
               BIAS_FILE=f'"{BIAS_FILE}"')
    if su:
        out["SU"] = su
    return out


def core_weights(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hi = (1 << (W_W - 1)) - 1
    w = rng.integers(-hi // 3, hi + 1, size=(N, M))
    w[rng.random(w.shape) < 0.03] = -hi - 1
    w[rng.random(w.shape) < 0.03] = hi
    b = rng.integers(-hi // 4, hi // 2 + 1, size=N)
    b[0], b[-1] = -hi - 1, hi
    return w, b


def graded_trains(steps: int, seed: int) -> list[list[tuple[int, int]]]:
    """Events (address, signed payload) per step: mostly positive values of about a quarter
    of the range, some negative, some extreme; silent steps; repeats; out-of-range addresses."""
    rng = random.Random(seed)
    lo, hi = -(1 << (IN_PW - 1)), (1 << (IN_PW - 1)) - 1
    rates = [rng.uniform(0.1, 0.7) for _ in range(M)]
    out = []
    for t in range(steps):
        events = [j for j in range(M) if rng.random() < rates[j]]
        if t % 9 == 5:
            events = []
        events += [rng.choice(events) for _ in range(rng.randint(0, 2))] if events else []
        if rng.random() < 0.3:
            events.append(rng.randrange(M, 16))
        rng.shuffle(events)
        out.append([(j, rng.choice([rng.randint(1, hi // 4), rng.randint(1, hi // 4),
                                    rng.randint(lo // 8, 0), rng.choice([lo, hi])]))
                    for j in events])
    return out


def core_model(w, b) -> ASNLayerModel:
    return ASNLayerModel(CORE_HW, w, bias=b, aux_shift=AUX_SHIFT)


class GradedMonitor:
    """Output events (address, signed payload) per step, split at the tokens; stability."""

    def __init__(self, checker: "CoreChecker", pw: int):
        self.checker, self.pw = checker, pw
        self.current: list[tuple[int, int]] = []
        self.held = None

    def sample(self, dut, ready: bool) -> None:
        if not int(dut.m_valid.value):
            assert self.held is None, "m_valid dropped before the event was taken"
            return
        ev = (int(dut.m_last.value), dut.m_payload.value.to_signed(), int(dut.m_addr.value))
        if self.held is not None:
            assert ev == self.held, f"output event changed while stalled: {self.held} -> {ev}"
        if not ready:
            self.held = ev
            return
        self.held = None
        last, pay, addr = ev
        if last:
            assert pay == 0 and addr == 0, f"token with payload {pay}, address {addr}"
            self.checker.step(self.current)
            self.current = []
        else:
            self.current.append((addr, pay))


class CoreChecker(Comparer):
    def __init__(self, expected, expect_mismatch: bool):
        super().__init__(expect_mismatch)
        self.expected = expected
        self.steps = 0

    def step(self, events) -> None:
        t = self.steps
        assert t < len(self.expected), "more end-of-step tokens than steps"
        self.compare(f"step {t} events (neuron, height)", events, self.expected[t])
        self.steps += 1


async def _core_read_state(dut) -> dict:
    """U, P, A, S, H of every neuron ({H, S, A, P, U} per lane, U in the low bits)."""
    uw, aw = CORE_HW.u.width, CORE_HW.a.width
    layout = [("u", uw, True), ("p", uw, True), ("a", aw, True), ("s", 1, False),
              ("h", uw, True)]
    # a narrow sweep's state memory holds SU lanes per word (hw/README.md, "Narrow sweep")
    su = int(os.environ.get("SNNC_ASN_SU", "0")) or P
    return await read_core_state(dut, N, su, layout)


# ---------------------------------------------------------------------- cocotb tests

try:
    import cocotb

    @cocotb.test()
    async def asn_units_random(dut):
        """Independent random states and inputs: every field equals the model; coverage."""
        if os.environ.get("SNNC_ASN_BENCH") != "units":
            return
        rng = np.random.default_rng(SEED)
        stimuli = [random_states(hw, 1500, rng) for _, hw, _ in unit_configs()]
        units = await _run_units(dut, stimuli)
        missing = []
        for _, _, chk in units:
            cov = chk.coverage()
            dut._log.info("%-22s %s", chk.name, cov)
            need = ["spike", "no_spike", "u_sat_high", "u_sat_low", "p_sat"]
            if chk.hw.consts.m_f:
                need.append("a_sat")
            missing += [f"{chk.name}: {k}" for k in need if cov[k] == 0]
        h_sat = sum(chk.coverage()["h_sat"] for _, _, chk in units)
        assert h_sat > 0, "no unit clamped its payload"
        assert not missing, f"coverage holes: {missing}"

    @cocotb.test()
    async def asn_units_trajectories(dut):
        """Closed loop: 8 neurons per unit for 150 steps from rest, fed the model's state."""
        if os.environ.get("SNNC_ASN_BENCH") != "units":
            return
        rng = np.random.default_rng(SEED + 1)
        stimuli = [trajectory(hw, 8, 150, rng) for _, hw, _ in unit_configs()]
        units = await _run_units(dut, stimuli, p_valid=0.9, p_ready=0.7, seed=SEED + 1)
        for _, _, chk in units:
            cov = chk.coverage()
            assert cov["spike"] > 0 and cov["no_spike"] > 0, f"{chk.name}: {cov}"

    @cocotb.test()
    async def asn_core_graded(dut):
        """60 steps of graded events with gaps and stalls: events with their heights, final
        states, saturation counters, step count; then `clear` and 20 more steps from rest."""
        from cocotb.triggers import FallingEdge, ReadOnly

        if os.environ.get("SNNC_ASN_BENCH") != "core":
            return
        expect_mismatch = bool(int(os.environ.get("SNNC_HW_EXPECT_MISMATCH", "0")))
        w, b = core_weights(SEED)
        rng = random.Random(SEED)
        await core_reset(dut)
        total_steps = 0
        for part, steps in enumerate((60, 20)):
            trains = graded_trains(steps, SEED + 1 + part)
            model = core_model(w, b)
            expected = model.run(trains)
            checker = CoreChecker(expected, expect_mismatch)
            drv = EventDriver(trains, rng, IN_PW)
            mon = GradedMonitor(checker, core_params()["OUT_PW"])
            in_phases, out_phases = [1.0, 1.0, 0.3, 0.8], [1.0, 0.2, 0.6, 0.0, 1.0, 0.5]
            cycles = 0
            while checker.steps < steps:
                drv.p_valid = in_phases[(cycles // 40) % len(in_phases)]
                ready = rng.random() < out_phases[(cycles // 25) % len(out_phases)]
                await FallingEdge(dut.clk)
                drv.drive(dut)
                dut.m_ready.value = int(ready)
                await ReadOnly()
                drv.taken(dut)
                mon.sample(dut, ready)
                cycles += 1
                assert cycles < 200 * (len(drv.items) + 10), "bench hung"
            await FallingEdge(dut.clk)
            dut.s_valid.value = 0
            dut.m_ready.value = 1
            assert drv.done
            total_steps += steps
            await wait_idle(dut)
            state = await _core_read_state(dut)
            for key in ("u", "p", "a", "s", "h"):
                checker.compare(f"part {part} final {key}", state[key].tolist(),
                                model.state[key].tolist())
            if part == 0:
                got = {k: int(getattr(dut, f"sat_{k}_count").value) for k in "upah"}
                checker.compare("saturation counts", got, model.sat_counts)
                assert int(dut.sat_i_count.value) == 0
            checker.compare("step count", int(dut.step_count.value), total_steps)
            spikes = sum(len(s) for s in expected)
            heights = sorted({h for s in expected for _, h in s})
            dut._log.info("part %d: %d steps, %d events in, %d spikes (heights %d..%d), "
                          "%d cycles, saturations %s", part, steps,
                          sum(len(s) for s in trains), spikes, heights[0] if heights else 0,
                          heights[-1] if heights else 0, cycles, model.sat_counts)
            assert 0 < spikes < N * steps * 3 // 4, "degenerate test"
            assert len(heights) > 3, "the heights never varied"
            if part == 0 and not expect_mismatch:
                assert sum(model.sat_counts.values()) > 0, "no saturation exercised"
            await FallingEdge(dut.clk)
            dut.clear.value = 1
            await FallingEdge(dut.clk)
            dut.clear.value = 0
            await wait_idle(dut)
            if expect_mismatch:
                assert checker.mismatches, "corrupted weight memory went unnoticed"
                dut._log.info("mutation detected: %d differences, first: %s",
                              len(checker.mismatches), checker.mismatches[0])
                return
except ImportError:  # cocotb missing: the pytest runners below skip
    pass


# ---------------------------------------------------------------------- pytest runners


def _tools():
    import hwsim

    problem = hwsim.toolchain_problem()
    if problem:
        pytest.skip(problem)
    return hwsim


def test_asn_neuron_units():
    hwsim = _tools()
    wrapper = write_generated(units_verilog(unit_configs()), UNITS_TOP,
                              hwsim.cache_root() / "generated")
    bdir = hwsim.build(UNITS_TOP, hwsim.hw_sources("snn_neuron_unit") + [wrapper])
    hwsim.run(UNITS_TOP, bdir, "test_asn_hw", extra_env={"SNNC_ASN_BENCH": "units"})


def _run_core(weights: np.ndarray, expect_mismatch: bool, su: int = 0):
    import snnc.hw

    hwsim = _tools()
    bdir = hwsim.build(CORE_TOP, hwsim.hw_sources(CORE_TOP), core_params(su))
    test_dir = Path(tempfile.mkdtemp(prefix="asn-core-", dir=bdir))
    _, b = core_weights(SEED)
    snnc.hw.write_memh(test_dir / WEIGHT_FILE, snnc.hw.weight_words(weights, P, W_W), P * W_W)
    snnc.hw.write_memh(test_dir / BIAS_FILE, snnc.hw.weight_words(b[:, None], P, W_W), P * W_W)
    hwsim.run(CORE_TOP, bdir, "test_asn_hw", test_dir=test_dir, testcase="asn_core_graded",
              extra_env={"SNNC_ASN_BENCH": "core", "SNNC_ASN_SU": str(su),
                         "SNNC_HW_EXPECT_MISMATCH": "1" if expect_mismatch else "0"})


def test_asn_layer_core():
    w, _ = core_weights(SEED)
    _run_core(w, False)


def test_asn_layer_core_narrow_sweep():
    """The same core with one neuron unit for its 4 lanes (SU = 1): payloads, states and
    counters bit-exact as with SU = P."""
    w, _ = core_weights(SEED)
    _run_core(w, False, su=1)


def test_asn_layer_core_detects_corrupted_weight():
    """Mutation: the sign bit of neuron 0's weight from the busiest input, flipped in the file."""
    w, _ = core_weights(SEED)
    counts = np.zeros(M, dtype=int)
    for events in graded_trains(60, SEED + 1):
        for j, _ in events:
            if j < M:
                counts[j] += 1
    j = int(np.argmax(counts))
    bad = w.copy()
    raw = (int(bad[0, j]) & ((1 << W_W) - 1)) ^ (1 << (W_W - 1))
    bad[0, j] = raw - (1 << W_W) if raw >> (W_W - 1) else raw
    assert int(np.count_nonzero(bad != w)) == 1
    _run_core(bad, True)
