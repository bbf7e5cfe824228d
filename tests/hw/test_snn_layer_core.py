"""cocotb bench of hw/snn_layer_core.v: an event-driven dense layer against the Python model.

Random weights (from a $readmemh file, or written through the run-time port) and random spike
trains (for a recurrent layer with a bias, also random recurrent weights and biases: the core's own
spikes of step t come back as events of step t + 1, docs/semantics.md section 1) (graded payloads for a GRADED core, repeated addresses for back-to-back updates of one
accumulator word, out-of-range addresses that must be ignored), random input bursts and output
stalls. Driver (input events + end-of-step tokens) -> core -> Sink (random m_ready); the Monitor
splits the output stream into steps at the tokens and checks the handshake; the Model is
``hw_models.LayerModel`` (golden neuron step + exact accumulation); the Checker compares the spikes
of every step, the final state of every neuron (read through the rd port), the saturation counters
and the step count, all exactly. A mutation run (one corrupted weight in the memory file) must make
the Checker see a difference; so must one corrupted recurrent weight.
"""
from __future__ import annotations

import dataclasses
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from corebench import Comparer, EventDriver, core_reset, read_core_state, wait_idle
from hw_models import LayerModel, NeuronHW
from snnc.fixedpoint import coef
from snnc.quantize import NeuronConsts
from snnc.types import Fixed

TOP = "snn_layer_core"
SEED = int(os.environ.get("SNNC_HW_SEED", "20240611"))
WEIGHT_FILE = "weights.mem"
V_FILE = "recurrent.mem"
BIAS_FILE = "bias.mem"


def _bits(n: int) -> int:
    return max(1, (n).bit_length())


@dataclass(frozen=True)
class LayerConfig:
    n: int
    p: int
    m: int
    neuron: NeuronHW
    w_bits: int = 8
    graded: bool = False
    in_pw: int = 1
    in_aw: int = 4
    rec: bool = False              # recurrent weights V (REC = 1)
    bias: bool = False             # a bias per neuron (BIAS = 1)
    aux_shift: int = 0             # V and the bias enter the accumulator << aux_shift
    su: int = 0                    # sweep units (SU; 0: P), a narrow sweep when < P

    @property
    def words(self) -> int:
        return -(-self.n // self.p)

    @property
    def groups(self) -> int:
        """Sweep cycles per word: P / SU (1 without a narrow sweep)."""
        return self.p // self.su if self.su else 1

    def params(self) -> dict:
        out = dict(N=self.n, P=self.p, M=self.m, W_W=self.w_bits, IN_AW=self.in_aw,
                   IN_PW=self.in_pw, GRADED=int(self.graded), OUT_AW=_bits(self.n - 1),
                   OUT_PW=1, **self.neuron.params(), CNT_W=32, WEIGHT_FILE=f'"{WEIGHT_FILE}"')
        if self.rec or self.bias:
            out.update(REC=int(self.rec), BIAS=int(self.bias), AUX_SHIFT=self.aux_shift)
        if self.rec:
            out["V_FILE"] = f'"{V_FILE}"'
        if self.bias:
            out["BIAS_FILE"] = f'"{BIAS_FILE}"'
        if self.su:
            out["SU"] = self.su
        return out


def _acc_w(w_bits, m, extra=0):
    return w_bits + extra + _bits(m)        # the quantizer's acc_bits


CONFIGS = {
    # LIF, subtract, multiply leak; a narrow membrane so it saturates at both ends; 3 words
    "lif_p4": LayerConfig(
        10, 4, 12, NeuronHW(NeuronConsts("LIF", 256, "subtract", 0, "multiply", coef(0.9)),
                            u=Fixed(12, 8), acc_w=_acc_w(8, 12), acc_frac=6, r_w=1)),
    # ALIF, zero reset, shift leak, refractory; graded signed payloads (Fx = 2); one word per
    # row, so every event updates the same accumulator word back to back
    "alif_graded_nw1": LayerConfig(
        3, 4, 6, NeuronHW(NeuronConsts("ALIF", 200, "zero", 2, "shift", 3, adapt_decay=4,
                                       beta=coef(0.5)),
                          a=Fixed(12, 8), acc_w=_acc_w(8, 6, 4), acc_frac=8, r_w=2),
        graded=True, in_pw=4, in_aw=3),
    # CubaLIF, no reset, multiply leak, refractory 1; 3 lanes, 8 neurons: 3 words, padding lane
    "cuba_p3": LayerConfig(
        8, 3, 9, NeuronHW(NeuronConsts("CubaLIF", 300, "none", 1, "multiply", coef(0.9),
                                       syn_decay=coef(0.8)),
                          i=Fixed(14, 8), acc_w=_acc_w(8, 9), acc_frac=6, r_w=1)),
    # recurrent LIF with a bias: 10 neurons in 3 words (padding lanes), 6 inputs (3 address
    # bits: out-of-range events), the recurrent row address (4 bits) wider than the input's;
    # acc_bits counts inputs + recurrent inputs + bias (the quantizer's fan-in)
    "rec_lif_bias": LayerConfig(
        10, 4, 6, NeuronHW(NeuronConsts("LIF", 256, "subtract", 0, "multiply", coef(0.85)),
                           u=Fixed(12, 8), acc_w=_acc_w(8, 6 + 10 + 1), acc_frac=6, r_w=1),
        in_aw=3, rec=True, bias=True),
    # recurrent ALIF, graded payloads (a direct input: Fx = 2, so V and the bias enter shifted
    # left by 2), one word per row: recurrent and input events hit the same word back to back
    "rec_alif_graded": LayerConfig(
        3, 4, 6, NeuronHW(NeuronConsts("ALIF", 200, "subtract", 1, "shift", 3, adapt_decay=4,
                                       beta=coef(0.5)),
                          a=Fixed(12, 8), acc_w=_acc_w(8, 6 + 3 + 1, 4), acc_frac=8, r_w=1),
        graded=True, in_pw=4, in_aw=3, rec=True, bias=True, aux_shift=2),
}
# the narrow sweep (SU < P: one group of SU lanes per cycle): the same layers, bit-exact
CONFIGS.update({
    "lif_p4_su1": dataclasses.replace(CONFIGS["lif_p4"], su=1),
    "cuba_p3_su1": dataclasses.replace(CONFIGS["cuba_p3"], su=1),
    "alif_graded_nw1_su2": dataclasses.replace(CONFIGS["alif_graded_nw1"], su=2),
    "rec_lif_bias_su2": dataclasses.replace(CONFIGS["rec_lif_bias"], su=2),
})


def config() -> tuple[str, LayerConfig]:
    name = os.environ["SNNC_HW_CONFIG"]
    return name, CONFIGS[name]


def random_weights(cfg: LayerConfig, seed: int) -> np.ndarray:
    """[N, M] weights, mostly excitatory, sized so that a few events make a neuron fire."""
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << (cfg.w_bits - 1)), (1 << (cfg.w_bits - 1)) - 1
    w = rng.integers(-hi // 2, hi // 2 + 1, size=(cfg.n, cfg.m))
    w[rng.random(w.shape) < 0.03] = lo                  # the extremes too
    w[rng.random(w.shape) < 0.03] = hi
    return w


def random_aux(cfg: LayerConfig, seed: int):
    """(recurrent weights [N, N], biases [N]) of a recurrent / biased config (None otherwise):
    mixed signs, the extremes included, small enough that the layer does not fire constantly."""
    rng = np.random.default_rng(seed + 1000)
    lo, hi = -(1 << (cfg.w_bits - 1)), (1 << (cfg.w_bits - 1)) - 1
    v = b = None
    if cfg.rec:
        v = rng.integers(-hi // 2, hi // 3 + 1, size=(cfg.n, cfg.n))
        v[rng.random(v.shape) < 0.05] = lo
        v[rng.random(v.shape) < 0.05] = hi
    if cfg.bias:
        b = rng.integers(-hi // 3, hi // 3 + 1, size=cfg.n)
        b[0], b[-1] = lo, hi
    return v, b


def layer_model(cfg: LayerConfig, weights, aux) -> LayerModel:
    v, b = aux
    return LayerModel(cfg.neuron, weights, graded=cfg.graded, recurrent=v, bias=b,
                      aux_shift=cfg.aux_shift)


def spike_trains(cfg: LayerConfig, steps: int, seed: int) -> list[list[tuple[int, int]]]:
    """Events per step: each input fires with a random rate; shuffled; some repeats and some
    out-of-range addresses (when the address width allows them)."""
    rng = random.Random(seed)
    rates = [rng.uniform(0.02, 0.4) for _ in range(cfg.m)]
    out = []
    for t in range(steps):
        events = [j for j in range(cfg.m) if rng.random() < rates[j]]
        if t % 7 == 3:
            events = []                                  # silent steps: leak only
        events += [rng.choice(events) for _ in range(rng.randint(0, 3))] if events else []
        if (1 << cfg.in_aw) > cfg.m and rng.random() < 0.3:
            events.append(rng.randrange(cfg.m, 1 << cfg.in_aw))
        rng.shuffle(events)
        pay_lo, pay_hi = -(1 << (cfg.in_pw - 1)), (1 << (cfg.in_pw - 1)) - 1
        out.append([(j, (rng.randint(1, pay_hi) if rng.random() < 0.7 else
                         rng.randint(pay_lo, 0)) if cfg.graded else 1) for j in events])
    return out


def mutated_weights(cfg: LayerConfig, w: np.ndarray, trains) -> np.ndarray:
    """One corrupted weight: the sign bit of neuron 0's weight from the busiest input."""
    counts = np.zeros(cfg.m, dtype=int)
    for events in trains:
        for j, _ in events:
            if j < cfg.m:
                counts[j] += 1
    j = int(np.argmax(counts))
    bad = w.copy()
    raw = int(bad[0, j]) & ((1 << cfg.w_bits) - 1)
    raw ^= 1 << (cfg.w_bits - 1)
    bad[0, j] = raw - (1 << cfg.w_bits) if raw >> (cfg.w_bits - 1) else raw
    return bad


# ---------------------------------------------------------------------- bench components


class Sink:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.p_ready = 1.0
        self.ready = True

    def drive(self, dut) -> None:
        self.ready = self.rng.random() < self.p_ready
        dut.m_ready.value = int(self.ready)


class OutputMonitor:
    """Output side: spikes of the current step until the token; checks valid/data stability."""

    def __init__(self, checker: "Checker"):
        self.checker = checker
        self.current: list[int] = []
        self.held = None

    def sample(self, dut, ready: bool) -> None:
        if not int(dut.m_valid.value):
            assert self.held is None, "m_valid dropped before the event was taken"
            return
        ev = (int(dut.m_last.value), int(dut.m_payload.value), int(dut.m_addr.value))
        if self.held is not None:
            assert ev == self.held, f"output event changed while stalled: {self.held} -> {ev}"
        if not ready:
            self.held = ev
            return
        self.held = None
        last, pay, addr = ev
        if last:
            self.checker.step(self.current)
            self.current = []
        else:
            assert pay == 1, f"spike event with payload {pay}"
            self.current.append(addr)


class Checker(Comparer):
    """Exact comparison with the Model; in mutation mode, counts differences instead."""

    def __init__(self, expected_steps: list[list[int]], expect_mismatch: bool, log):
        super().__init__(expect_mismatch)
        self.expected = expected_steps
        self.log = log
        self.steps = 0

    def step(self, spikes: list[int]) -> None:
        t = self.steps
        assert t < len(self.expected), "more end-of-step tokens than steps"
        self.compare(f"step {t} spikes", spikes, self.expected[t])
        self.steps += 1


# ---------------------------------------------------------------------- flows


async def _run_steps(dut, cfg: LayerConfig, trains, checker: Checker, rng: random.Random):
    from cocotb.triggers import FallingEdge, ReadOnly

    drv, sink = EventDriver(trains, rng, cfg.in_pw), Sink(rng)
    mon = OutputMonitor(checker)
    in_phases = [1.0, 1.0, 0.3, 0.8]
    out_phases = [1.0, 0.2, 0.6, 0.0, 1.0, 0.5]
    start = checker.steps
    cycles = 0
    while checker.steps < start + len(trains):
        drv.p_valid = in_phases[(cycles // 40) % len(in_phases)]
        sink.p_ready = out_phases[(cycles // 25) % len(out_phases)]
        await FallingEdge(dut.clk)
        drv.drive(dut)
        sink.drive(dut)
        await ReadOnly()
        drv.taken(dut)
        mon.sample(dut, sink.ready)
        cycles += 1
        assert cycles < 200 * (len(drv.items) + 10), "bench hung"
    await FallingEdge(dut.clk)
    dut.s_valid.value = 0
    dut.m_ready.value = 1
    assert drv.done, "outputs finished before all inputs were taken"
    # nothing more may come out
    for _ in range(8):
        await FallingEdge(dut.clk)
        assert not int(dut.m_valid.value), "extra output event after the last token"
    return cycles


async def _read_state(dut, cfg: LayerConfig) -> dict:
    """All neurons' stored state through the rd port."""
    hw = cfg.neuron
    layout = [("u", hw.u.width, True), ("i", hw.i.width, True), ("a", hw.a.width, True),
              ("s", 1, False), ("r", hw.r_w, False)]
    # a narrow sweep's state memory holds SU lanes per word (hw/README.md, "Narrow sweep")
    return await read_core_state(dut, cfg.n, cfg.su or cfg.p, layout)


async def _check_final(dut, cfg, model: LayerModel, checker: Checker, steps_total: int):
    await wait_idle(dut)
    state = await _read_state(dut, cfg)
    for name in ("u", "i", "a", "s", "r"):
        checker.compare(f"final {name}", state[name].tolist(), model.state[name].tolist())
    got = {"u": int(dut.sat_u_count.value), "i": int(dut.sat_i_count.value),
           "a": int(dut.sat_a_count.value)}
    checker.compare("saturation counts", got, model.sat_counts)
    checker.compare("step count", int(dut.step_count.value), steps_total)


try:
    import cocotb

    @cocotb.test()
    async def spike_trains_from_memory_file(dut):
        """Weights from the $readmemh file; 60 random steps with stalls; spikes, state, counts."""
        name, cfg = config()
        rng = random.Random(SEED)
        weights = random_weights(cfg, SEED)
        trains = spike_trains(cfg, 60, SEED + 1)
        model = layer_model(cfg, weights, random_aux(cfg, SEED))
        expected = model.run(trains)
        expect_mismatch = bool(int(os.environ.get("SNNC_HW_EXPECT_MISMATCH", "0")))
        checker = Checker(expected, expect_mismatch, dut._log)
        await core_reset(dut)
        cycles = await _run_steps(dut, cfg, trains, checker, rng)
        await _check_final(dut, cfg, model, checker, len(trains))
        spikes = sum(len(s) for s in expected)
        dut._log.info("%s: %d steps, %d input events, %d spikes, %d cycles, saturations %s",
                      name, len(trains), sum(len(s) for s in trains), spikes, cycles,
                      model.sat_counts)
        assert 0 < spikes < cfg.n * len(trains) // 2, "degenerate test: too few or many spikes"
        if expect_mismatch:
            assert checker.mismatches, "corrupted weight memory went unnoticed"
            dut._log.info("mutation detected: %d differences, first: %s",
                          len(checker.mismatches), checker.mismatches[0])

    @cocotb.test()
    async def full_speed_timing(dut):
        """No stalls anywhere: events are taken back to back (one word per cycle, no bubble),
        and a step's token leaves within NW + spikes + 8 cycles of the input token (the sweep
        pipeline: issue, st0, st1, p2, p3, p4, spike queue, emitter, output slice; + 3 - NW at NW <= 2,
        where a sweep word waits for the previous sweep's write of the same word)."""
        from cocotb.triggers import FallingEdge, ReadOnly

        name, cfg = config()
        rng = random.Random(SEED + 20)
        weights = random_weights(cfg, SEED)
        trains = spike_trains(cfg, 20, SEED + 21)
        model = layer_model(cfg, weights, random_aux(cfg, SEED))
        checker = Checker(model.run(trains), False, dut._log)
        await core_reset(dut)
        await wait_idle(dut)
        drv, mon = EventDriver(trains, rng, cfg.in_pw), OutputMonitor(checker)
        accepted: list[int] = []          # cycle each input item was taken
        token_out: list[int] = []
        cycle = 0
        dut.m_ready.value = 1
        while checker.steps < len(trains):
            await FallingEdge(dut.clk)
            drv.drive(dut)
            await ReadOnly()
            if drv.valid and int(dut.s_ready.value):
                drv.valid = False
                drv.next += 1
                accepted.append(cycle)
            if int(dut.m_valid.value) and int(dut.m_last.value):
                token_out.append(cycle)
            mon.sample(dut, True)
            cycle += 1
            assert cycle < 100000, "bench hung"
        # back-to-back events within a step: NW cycles apart (1 after an ignored address); in a
        # recurrent core the previous step's spikes are delivered first (NW cycles each, at most
        # as many as that step had)
        gaps, step, extra = 0, 0, 0
        for i in range(1, len(drv.items)):
            prev, cur = drv.items[i - 1], drv.items[i]
            if prev[0]:
                step, extra = step + 1, 0
            if prev[0] or cur[0]:
                continue
            want = cfg.words if prev[2] < cfg.m else 1
            gap = accepted[i] - accepted[i - 1]
            if cfg.rec:
                assert gap >= want and (gap - want) % cfg.words == 0, \
                    f"event {i}: taken {gap} cycles after the previous one"
                extra += (gap - want) // cfg.words
                assert extra <= len(checker.expected[step - 1]) if step else extra == 0, \
                    f"step {step}: more recurrent events than the previous step's spikes"
            else:
                assert gap == want, f"event {i}: taken {gap} cycles after the previous one"
            gaps += 1
        tokens_in = [accepted[i] for i, item in enumerate(drv.items) if item[0]]
        worst = 0
        # a narrow sweep issues a word every G cycles and has one stage more (g3)
        LATENCY_SLACK = 8 + max(0, 3 - cfg.words) + (cfg.groups > 1)
        sweep = cfg.words * cfg.groups
        for t, (c_in, c_out) in enumerate(zip(tokens_in, token_out)):
            spikes = len(checker.expected[t])
            assert c_out - c_in <= sweep + spikes + LATENCY_SLACK, \
                f"step {t}: token out {c_out - c_in} cycles after the token in ({spikes} spikes)"
            worst = max(worst, c_out - c_in - spikes)
        dut._log.info("%s: %d back-to-back event pairs at %d cycle(s) each; token latency "
                      "<= NW * G + spikes + %d", name, gaps, cfg.words, worst - sweep)

    @cocotb.test()
    async def runtime_weights_and_clear(dut):
        """Weights written through the port; run; `clear`; run again from rest."""
        from cocotb.triggers import FallingEdge

        import snnc.hw

        name, cfg = config()

        rng = random.Random(SEED + 2)
        weights = random_weights(cfg, SEED + 3)
        await core_reset(dut)
        aux = random_aux(cfg, SEED + 4)
        # garbage in the padding lanes (neurons >= N) of each row's last word: must be ignored
        pad = [p for p in range(cfg.p) if (cfg.words - 1) * cfg.p + p >= cfg.n]
        mems = [(0, weights)]                              # (w_mem, [N, rows] matrix)
        if cfg.rec:
            mems.append((1, aux[0]))
        if cfg.bias:
            mems.append((2, aux[1][:, None]))
        writes = []
        for sel, mat in mems:
            words = snnc.hw.weight_words(mat, cfg.p, cfg.w_bits)
            for row in range(mat.shape[1]):
                for p in pad:
                    words[row * cfg.words + cfg.words - 1] |= \
                        ((1 << (cfg.w_bits - 2)) - 1 + p) << (p * cfg.w_bits)
            writes += [(sel, addr, word) for addr, word in enumerate(words)]
        if cfg.rec:   # past the end of the smaller memories: ignored (would alias otherwise)
            depth = max(cfg.m, cfg.n) * cfg.words
            writes += [(2, depth - 1, (1 << (cfg.p * cfg.w_bits)) - 1)]
            if cfg.n < cfg.m:
                writes += [(1, depth - 1, (1 << (cfg.p * cfg.w_bits)) - 1)]
            if cfg.m < cfg.n:
                writes += [(0, depth - 1, (1 << (cfg.p * cfg.w_bits)) - 1)]
        rng.shuffle(writes)
        for sel, addr, word in writes:
            await FallingEdge(dut.clk)
            dut.w_we.value = 1
            dut.w_mem.value = sel
            dut.w_addr.value = addr
            dut.w_data.value = word
        await FallingEdge(dut.clk)
        dut.w_we.value = 0
        dut.w_mem.value = 0
        total = 0
        for part in range(2):
            trains = spike_trains(cfg, 25, SEED + 10 + part)
            model = layer_model(cfg, weights, aux)
            checker = Checker(model.run(trains), False, dut._log)
            checker.steps = 0
            await _run_steps(dut, cfg, trains, checker, rng)
            total += len(trains)
            await wait_idle(dut)
            state = await _read_state(dut, cfg)
            for key in ("u", "i", "a", "s", "r"):
                checker.compare(f"part {part} final {key}", state[key].tolist(),
                                model.state[key].tolist())
            checker.compare("step count", int(dut.step_count.value), total)
            await FallingEdge(dut.clk)
            dut.clear.value = 1
            await FallingEdge(dut.clk)
            dut.clear.value = 0
            await wait_idle(dut)
        dut._log.info("%s: run-time weights and clear: OK", name)
except ImportError:
    pass


# ---------------------------------------------------------------------- pytest runner


def _run(name: str, weights_for_file: np.ndarray, expect_mismatch: bool, testcase=None,
         recurrent_for_file: np.ndarray | None = None):
    import snnc.hw

    import hwsim

    problem = hwsim.toolchain_problem()
    if problem:
        pytest.skip(problem)
    cfg = CONFIGS[name]
    bdir = hwsim.build(TOP, hwsim.hw_sources(TOP), cfg.params())
    test_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=bdir))
    snnc.hw.write_memh(test_dir / WEIGHT_FILE,
                       snnc.hw.weight_words(weights_for_file, cfg.p, cfg.w_bits),
                       cfg.p * cfg.w_bits)
    v, b = random_aux(cfg, SEED)
    if recurrent_for_file is not None:
        v = recurrent_for_file
    if cfg.rec:
        snnc.hw.write_memh(test_dir / V_FILE, snnc.hw.weight_words(v, cfg.p, cfg.w_bits),
                           cfg.p * cfg.w_bits)
    if cfg.bias:
        snnc.hw.write_memh(test_dir / BIAS_FILE,
                           snnc.hw.weight_words(b[:, None], cfg.p, cfg.w_bits),
                           cfg.p * cfg.w_bits)
    hwsim.run(TOP, bdir, "test_snn_layer_core", test_dir=test_dir, testcase=testcase,
              extra_env={"SNNC_HW_CONFIG": name,
                         "SNNC_HW_EXPECT_MISMATCH": "1" if expect_mismatch else "0"})


@pytest.mark.parametrize("name", list(CONFIGS))
def test_snn_layer_core(name):
    cfg = CONFIGS[name]
    _run(name, random_weights(cfg, SEED), False)


def test_snn_layer_core_detects_corrupted_weight():
    """Mutation check: one flipped weight bit in the memory file must make the bench fail."""
    name = "lif_p4"
    cfg = CONFIGS[name]
    w = random_weights(cfg, SEED)
    bad = mutated_weights(cfg, w, spike_trains(cfg, 60, SEED + 1))
    assert int(np.count_nonzero(bad != w)) == 1
    _run(name, bad, True, testcase="spike_trains_from_memory_file")


def test_snn_layer_core_detects_corrupted_recurrent_weight():
    """Mutation check on V: the sign bit of neuron 0's recurrent weight from the neuron that
    spikes most, flipped in the recurrent memory file, must make the bench fail."""
    name = "rec_lif_bias"
    cfg = CONFIGS[name]
    w = random_weights(cfg, SEED)
    v, b = random_aux(cfg, SEED)
    model = layer_model(cfg, w, (v, b))
    counts = np.zeros(cfg.n, dtype=int)
    for spikes in model.run(spike_trains(cfg, 60, SEED + 1)):
        counts[spikes] += 1
    j = int(np.argmax(counts))
    assert counts[j] > 0
    bad = v.copy()
    raw = (int(bad[0, j]) & ((1 << cfg.w_bits) - 1)) ^ (1 << (cfg.w_bits - 1))
    bad[0, j] = raw - (1 << cfg.w_bits) if raw >> (cfg.w_bits - 1) else raw
    assert int(np.count_nonzero(bad != v)) == 1
    _run(name, w, True, testcase="spike_trains_from_memory_file", recurrent_for_file=bad)
