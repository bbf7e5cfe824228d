"""cocotb bench of hw/snn_event_fifo.v: random stalls on both sides, no event lost or duplicated.

Driver (source with random valid bursts, holding each event until accepted) -> FIFO -> Sink (random
ready). The Monitor samples both handshakes every cycle; the Model is a Python deque of the
accepted events; the Checker compares every popped event with the Model's head, the flags
(full, empty, level, s_ready) with the Model's occupancy, and at the end the sent and received
sequences (so nothing is lost, duplicated or reordered). Events use the snnc format
{last, payload, address} (hw/README.md).
"""
from __future__ import annotations

import json
import os
import random
from collections import deque

import pytest

SEED = int(os.environ.get("SNNC_HW_SEED", "20240611"))

#: (payload bits, address bits, depth) of the parameter sets
PARAM_SETS = [(2, 5, 2), (4, 10, 16)]


def params() -> dict:
    return json.loads(os.environ["SNNC_HW_PARAMS"])


class EventFormat:
    """{last (1), payload (PW, signed), address (AW)} packed MSB to LSB."""

    def __init__(self, pw: int, aw: int):
        self.pw, self.aw = pw, aw
        self.width = 1 + pw + aw

    def pack(self, last: int, payload: int, addr: int) -> int:
        return (last << (self.pw + self.aw)) | ((payload & ((1 << self.pw) - 1)) << self.aw) | addr

    def unpack(self, word: int) -> tuple[int, int, int]:
        addr = word & ((1 << self.aw) - 1)
        payload = (word >> self.aw) & ((1 << self.pw) - 1)
        if payload >> (self.pw - 1):
            payload -= 1 << self.pw
        return word >> (self.pw + self.aw), payload, addr

    def random(self, rng: random.Random) -> int:
        return self.pack(int(rng.random() < 0.1), rng.randint(-(1 << (self.pw - 1)),
                                                               (1 << (self.pw - 1)) - 1),
                         rng.randrange(1 << self.aw))


class Driver:
    """Source: offers events with random gaps, keeps each (and its data) until accepted."""

    def __init__(self, fmt: EventFormat, rng: random.Random, count: int):
        self.events = [fmt.random(rng) for _ in range(count)]
        self.rng = rng
        self.p_valid = 0.5
        self.next = 0
        self.valid = False

    def drive(self, dut) -> None:
        if not self.valid and self.next < len(self.events) and self.rng.random() < self.p_valid:
            self.valid = True
        dut.s_valid.value = int(self.valid)
        dut.s_data.value = self.events[min(self.next, len(self.events) - 1)]


class Sink:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.p_ready = 0.5
        self.ready = False

    def drive(self, dut) -> None:
        self.ready = self.rng.random() < self.p_ready
        dut.m_ready.value = int(self.ready)


class Model:
    """The FIFO's reference: a bounded deque."""

    def __init__(self, depth: int):
        self.depth = depth
        self.q: deque[int] = deque()

    def push(self, word: int) -> None:
        assert len(self.q) < self.depth, "model overflow: DUT accepted while full"
        self.q.append(word)

    def pop(self) -> int:
        return self.q.popleft()


class Monitor:
    """Samples the settled signals before each rising edge: handshakes, flags, stability."""

    def __init__(self, dut, model: Model, checker: "Checker"):
        self.dut, self.model, self.checker = dut, model, checker
        self.held: int | None = None

    def sample(self, drv: Driver, sink: Sink) -> None:
        d = self.dut
        s_ready, m_valid = int(d.s_ready.value), int(d.m_valid.value)
        full, empty, level = int(d.full.value), int(d.empty.value), int(d.level.value)
        self.checker.flags(s_ready, m_valid, full, empty, level, len(self.model.q))
        if m_valid:
            word = d.m_data.value.to_unsigned()
            if self.held is not None:
                assert word == self.held, "m_data changed while stalled"
            if sink.ready:
                self.checker.popped(word, self.model.pop())
                self.held = None
            else:
                self.held = word
        if drv.valid and s_ready:
            self.model.push(drv.events[drv.next])
            self.checker.sent.append(drv.events[drv.next])
            drv.valid = False
            drv.next += 1


class Checker:
    def __init__(self, depth: int):
        self.depth = depth
        self.sent: list[int] = []
        self.received: list[int] = []
        self.seen_full = self.seen_empty = 0

    def flags(self, s_ready, m_valid, full, empty, level, occupancy) -> None:
        assert level == occupancy, f"level {level}, model holds {occupancy}"
        assert full == (occupancy == self.depth), f"full={full} with {occupancy}/{self.depth}"
        assert empty == (occupancy == 0), f"empty={empty} with {occupancy}"
        assert s_ready == (not full) and m_valid == (not empty)
        self.seen_full += full
        self.seen_empty += empty

    def popped(self, word: int, expected: int) -> None:
        assert word == expected, f"popped {word:#x}, expected {expected:#x}"
        self.received.append(word)

    def finish(self) -> None:
        assert self.received == self.sent, "events lost, duplicated or reordered"


async def _setup(dut):
    from cocotb.clock import Clock
    from cocotb.triggers import RisingEdge

    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.s_valid.value = 0
    dut.m_ready.value = 0
    dut.s_data.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0


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
    async def random_stalls(dut):
        """Phases of (source rate, sink rate): fill to full, drain to empty, random both."""
        p = params()
        fmt = EventFormat(p["PW"], p["AW"])
        rng = random.Random(SEED)
        await _setup(dut)
        drv, sink = Driver(fmt, rng, 4000), Sink(rng)
        model, chk = Model(p["DEPTH"]), Checker(p["DEPTH"])
        mon = Monitor(dut, model, chk)
        phases = [(0.9, 0.2), (0.2, 0.9), (0.7, 0.7), (1.0, 1.0), (1.0, 0.5), (0.5, 1.0)]
        cycles = 0
        while drv.next < len(drv.events) or model.q:
            drv.p_valid, sink.p_ready = phases[(cycles // 150) % len(phases)]
            if drv.next >= len(drv.events):
                sink.p_ready = 1.0
            await _cycle(dut, drv, sink, mon)
            cycles += 1
            assert cycles < 40000, "bench hung"
        chk.finish()
        assert chk.seen_full and chk.seen_empty, "FIFO never reached full and empty"
        dut._log.info("%d events through in %d cycles; full %d cycles, empty %d cycles",
                      len(chk.received), cycles, chk.seen_full, chk.seen_empty)

    @cocotb.test()
    async def reset_empties(dut):
        """A reset while holding events empties the FIFO; it works normally afterwards."""
        from cocotb.triggers import FallingEdge, RisingEdge

        p = params()
        fmt = EventFormat(p["PW"], p["AW"])
        rng = random.Random(SEED + 1)
        await _setup(dut)
        drv, sink = Driver(fmt, rng, 3 * p["DEPTH"]), Sink(rng)
        drv.p_valid, sink.p_ready = 1.0, 0.0
        model, chk = Model(p["DEPTH"]), Checker(p["DEPTH"])
        mon = Monitor(dut, model, chk)
        for _ in range(p["DEPTH"] + 2):
            await _cycle(dut, drv, sink, mon)
        assert int(dut.full.value) == 1
        await FallingEdge(dut.clk)
        dut.s_valid.value = 0
        dut.rst.value = 1
        await RisingEdge(dut.clk)
        dut.rst.value = 0
        await FallingEdge(dut.clk)
        assert int(dut.empty.value) == 1 and int(dut.level.value) == 0
        drv.valid = False
        mon.held = None
        model.q.clear()
        chk.sent.clear()
        sink.p_ready = 0.6
        while drv.next < len(drv.events) or model.q:
            await _cycle(dut, drv, sink, mon)
        chk.finish()
except ImportError:
    pass


@pytest.mark.parametrize("pw,aw,depth", PARAM_SETS, ids=[f"d{d}" for _, _, d in PARAM_SETS])
def test_snn_event_fifo(pw, aw, depth):
    import hwsim

    problem = hwsim.toolchain_problem()
    if problem:
        pytest.skip(problem)
    top = "snn_event_fifo"
    verilog = {"WIDTH": 1 + pw + aw, "DEPTH": depth}
    bdir = hwsim.build(top, hwsim.hw_sources(top), verilog)
    hwsim.run(top, bdir, "test_snn_event_fifo",
              extra_env={"SNNC_HW_PARAMS": json.dumps({"PW": pw, "AW": aw, "DEPTH": depth})})
