"""cocotb bench of hw/snn_step_delay.v: an axonal delay of DELAY steps, in lock step, with random
stalls on both sides and several samples separated by `clear`.

Driver (the source: STEPS steps of random events per sample, each step closed by a token, with
random gaps) -> snn_step_delay -> Sink (random ready). The Monitor samples both handshakes each
cycle; the Model gives the expected output of a sample (min(DELAY, STEPS) bare tokens, then the
source's steps 0 .. STEPS-DELAY-1 in order); the Checker compares the words, checks the lock step
(output token t only after the source's token t went in, in an earlier cycle), that nothing
leaves after the STEPS-th token and that the module reports idle then. Events use the snnc format
{last, payload, address} (hw/README.md).
"""
from __future__ import annotations

import json
import os
import random

import pytest

SEED = int(os.environ.get("SNNC_HW_SEED", "20240611"))

PW, AW = 3, 3                                   # payload and address bits; M = 8 sources
#: (DELAY, STEPS): a delay inside the run, and one longer than the run
PARAM_SETS = [(3, 8), (7, 5)]


def depth(delay: int, steps: int) -> int:
    """As the generator sizes it: (min(d, steps) + 1) * (M + 1) words, a power of two."""
    need, d = (min(delay, steps) + 1) * ((1 << AW) + 1), 2
    while d < need:
        d *= 2
    return d


def params() -> dict:
    return json.loads(os.environ["SNNC_HW_PARAMS"])


def pack(last: int, payload: int, addr: int) -> int:
    return (last << (PW + AW)) | ((payload & ((1 << PW) - 1)) << AW) | addr


TOKEN = pack(1, 0, 0)


class Driver:
    """The source: one sample's steps (distinct addresses in random order, random payloads, then
    a token), offered with random gaps, each word held until accepted."""

    def __init__(self, rng: random.Random, steps: int):
        self.rng = rng
        self.steps_words = []
        for _ in range(steps):
            addrs = rng.sample(range(1 << AW), rng.randint(0, 1 << AW))
            self.steps_words.append([pack(0, rng.randint(-4, 3), a) for a in addrs] + [TOKEN])
        self.words = [w for step in self.steps_words for w in step]
        self.next = 0
        self.valid = False
        self.p_valid = 0.6

    @property
    def done(self) -> bool:
        return self.next >= len(self.words)

    def drive(self, dut) -> None:
        if not self.valid and not self.done and self.rng.random() < self.p_valid:
            self.valid = True
        dut.s_valid.value = int(self.valid)
        dut.s_data.value = self.words[min(self.next, len(self.words) - 1)]


class Sink:
    def __init__(self, rng: random.Random):
        self.rng, self.p_ready, self.ready = rng, 0.6, False

    def drive(self, dut) -> None:
        self.ready = self.rng.random() < self.p_ready
        dut.m_ready.value = int(self.ready)


class Model:
    """The expected output words of one sample."""

    @staticmethod
    def expected(steps_words: list[list[int]], delay: int, steps: int) -> list[int]:
        lead = min(delay, steps)
        out = [TOKEN] * lead
        for step in steps_words[:steps - lead]:
            out += step
        return out


class Checker:
    def __init__(self, steps: int):
        self.steps = steps
        self.received: list[int] = []
        self.in_tokens = 0
        self.out_tokens = 0
        self.stalls_seen = 0

    def output(self, word: int) -> None:
        assert self.out_tokens < self.steps, f"word {word:#x} after the last token"
        if word >> (PW + AW):
            assert self.in_tokens > self.out_tokens, (
                f"output token {self.out_tokens} before the source's token {self.out_tokens}")
            self.out_tokens += 1
        self.received.append(word)

    def finish(self, expected: list[int]) -> None:
        assert self.received == expected, "events lost, duplicated, reordered or mis-delayed"


class Monitor:
    """Samples the settled signals before each rising edge."""

    def __init__(self, dut, checker: Checker):
        self.dut, self.checker = dut, checker
        self.held: int | None = None

    def sample(self, drv: Driver, sink: Sink) -> None:
        d = self.dut
        if int(d.m_valid.value):
            word = d.m_data.value.to_unsigned()
            if self.held is not None:
                assert word == self.held, "m_data changed while stalled"
            assert not int(d.idle.value), "idle while offering a word"
            if sink.ready:
                self.checker.output(word)          # the source's tokens of earlier cycles only
                self.held = None
            else:
                self.held = word
                self.checker.stalls_seen += 1
        if drv.valid and int(d.s_ready.value):
            if drv.words[drv.next] >> (PW + AW):
                self.checker.in_tokens += 1
            drv.valid = False
            drv.next += 1


async def _cycle(dut, drv, sink, mon):
    from cocotb.triggers import FallingEdge, ReadOnly

    await FallingEdge(dut.clk)
    drv.drive(dut)
    sink.drive(dut)
    await ReadOnly()
    mon.sample(drv, sink)


try:
    import cocotb

    @cocotb.test()
    async def delayed_samples(dut):
        """Six samples, clear between them, random gaps and stalls (one at full speed)."""
        from cocotb.clock import Clock
        from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

        p = params()
        delay, steps = p["DELAY"], p["STEPS"]
        rng = random.Random(SEED + delay)
        Clock(dut.clk, 10, unit="ns").start()
        dut.rst.value, dut.clear.value = 1, 0
        dut.s_valid.value, dut.m_ready.value, dut.s_data.value = 0, 0, 0
        for _ in range(2):
            await RisingEdge(dut.clk)
        dut.rst.value = 0
        for sample in range(6):
            drv, sink = Driver(rng, steps), Sink(rng)
            if sample == 0:
                drv.p_valid = sink.p_ready = 1.0
            chk = Checker(steps)
            mon = Monitor(dut, chk)
            cycles = 0
            while not drv.done or chk.out_tokens < steps:
                await _cycle(dut, drv, sink, mon)
                cycles += 1
                assert cycles < 20000, f"sample {sample}: hung ({chk.out_tokens} tokens out)"
            for _ in range(5):                      # nothing more leaves; the module is idle
                await _cycle(dut, drv, sink, mon)
                assert int(dut.idle.value) == 1
            chk.finish(Model.expected(drv.steps_words, delay, steps))
            await FallingEdge(dut.clk)
            dut.s_valid.value = 0
            dut.clear.value = 1
            await RisingEdge(dut.clk)
            dut.clear.value = 0
            await ReadOnly()
            assert not int(dut.m_valid.value), "a word offered right after clear"
            dut._log.info("sample %d: %d words out in %d cycles, %d stalled cycles", sample,
                          len(chk.received), cycles, chk.stalls_seen)
except ImportError:
    pass


@pytest.mark.parametrize("delay,steps", PARAM_SETS, ids=[f"d{d}-t{t}" for d, t in PARAM_SETS])
def test_snn_step_delay(delay, steps):
    import hwsim

    problem = hwsim.toolchain_problem()
    if problem:
        pytest.skip(problem)
    top = "snn_step_delay"
    verilog = {"WIDTH": 1 + PW + AW, "DELAY": delay, "STEPS": steps, "DEPTH": depth(delay, steps)}
    bdir = hwsim.build(top, hwsim.hw_sources(top), verilog)
    hwsim.run(top, bdir, "test_snn_step_delay",
              extra_env={"SNNC_HW_PARAMS": json.dumps({"DELAY": delay, "STEPS": steps})})
