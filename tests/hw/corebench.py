"""Bench pieces shared by the benches that drive a layer core or a generated network through its
event ports (``s_*`` in, ``m_*`` out; test_snn_layer_core.py, test_asn_hw.py,
test_network_cosim.py): reset, waiting for idle, the input-event Driver, the state read-back of one
core, and the Checker's comparison (which, in mutation mode, collects differences instead of
failing).
"""
from __future__ import annotations

import random

import numpy as np

CORE_INPUTS = ("s_valid", "s_last", "s_payload", "s_addr", "m_ready", "w_we", "w_mem", "w_addr",
               "w_data", "rd_en", "rd_addr", "clear")


async def core_reset(dut, inputs=CORE_INPUTS) -> None:
    """Start the clock, zero ``inputs`` and hold reset for two cycles."""
    from cocotb.clock import Clock
    from cocotb.triggers import RisingEdge

    Clock(dut.clk, 10, unit="ns").start()
    for sig in inputs:
        getattr(dut, sig).value = 0
    dut.rst.value = 1
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0


async def wait_idle(dut, limit: int = 10000, what: str = "core") -> None:
    """Wait (on falling edges) until ``idle`` and ``s_ready`` are both high."""
    from cocotb.triggers import FallingEdge

    for _ in range(limit):
        await FallingEdge(dut.clk)
        if int(dut.idle.value) and int(dut.s_ready.value):
            return
    raise AssertionError(f"{what} never became idle")


class EventDriver:
    """Input side: the steps' events ``(address, payload)``, each step closed by an end-of-step
    token; an event is presented with probability ``p_valid`` per cycle and held until taken.
    The payload is masked to ``in_pw`` bits (graded, signed payloads)."""

    def __init__(self, trains, rng: random.Random, in_pw: int, p_valid: float = 1.0):
        self.items = []
        for events in trains:
            self.items += [(0, pay, addr) for addr, pay in events]
            self.items.append((1, 0, 0))
        self.rng, self.in_pw, self.p_valid = rng, in_pw, p_valid
        self.next, self.valid = 0, False

    @property
    def done(self) -> bool:
        return self.next >= len(self.items)

    def drive(self, dut) -> None:
        if not self.valid and not self.done and self.rng.random() < self.p_valid:
            self.valid = True
        last, pay, addr = self.items[min(self.next, len(self.items) - 1)]
        dut.s_valid.value = int(self.valid)
        dut.s_last.value = last
        dut.s_payload.value = pay & ((1 << self.in_pw) - 1)
        dut.s_addr.value = addr

    def taken(self, dut) -> None:
        """Call in the read-only phase: advance when the core took the presented event."""
        if self.valid and int(dut.s_ready.value):
            self.valid = False
            self.next += 1


class Comparer:
    """Exact comparison; with ``expect_mismatch`` (a mutation run) it collects the differences
    instead of failing."""

    def __init__(self, expect_mismatch: bool):
        self.expect_mismatch = expect_mismatch
        self.mismatches: list[str] = []
        self.compared = 0

    def compare(self, what: str, got, exp) -> None:
        self.compared += 1
        if got == exp:
            return
        msg = f"{what}: got {got}, expected {exp}"
        if not self.expect_mismatch:
            raise AssertionError(msg)
        self.mismatches.append(msg)


async def read_core_state(dut, n: int, p: int, layout) -> dict:
    """Every neuron's stored state through one core's ``rd`` port. ``layout``: (field, width,
    signed) per lane from the low bits; ``p`` lanes per word (the core's lanes, or its sweep
    units with a narrow sweep: word ``k`` holds neurons ``k * p ..``)."""
    from cocotb.triggers import FallingEdge

    st_w = sum(w for _, w, _ in layout)
    out = {k: np.zeros(n, dtype=np.int64) for k, _, _ in layout}
    for k in range(-(-n // p)):
        await FallingEdge(dut.clk)
        dut.rd_en.value = 1
        dut.rd_addr.value = k
        await FallingEdge(dut.clk)
        dut.rd_en.value = 0
        word = dut.rd_data.value.to_unsigned()
        assert len(dut.rd_data.value) == p * st_w, "rd_data width"
        for lane_no in range(p):
            i = k * p + lane_no
            if i >= n:
                continue
            lane, off = word >> (lane_no * st_w), 0
            for name, w, signed in layout:
                v = (lane >> off) & ((1 << w) - 1)
                if signed and v >> (w - 1):
                    v -= 1 << w
                out[name][i] = v
                off += w
    return out
