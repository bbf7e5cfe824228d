"""Bench pieces shared by the neuron-unit benches (test_snn_neuron_unit.py, test_asn_hw.py).

Those benches put many ``snn_neuron_unit``s side by side in one generated wrapper whose inputs
travel on one wide ``stim`` vector and outputs on one ``resp`` vector (:class:`tbutil.Bus`). Per
unit: a :class:`UnitDriver` presents stimulus items with random valid gaps and a random
``out_ready``, a :class:`UnitMonitor` samples the handshakes (and checks the output stays put while
stalled), a :class:`UnitChecker` compares every received item with the Model's expected items.
:func:`run_units` clocks them all until every unit has delivered every item.
"""
from __future__ import annotations

import random

import numpy as np


def mix(rng: np.random.Generator, n: int, lo: int, hi: int, scale: int) -> np.ndarray:
    """Integers in [lo, hi]: uniform, near both ends, small (|v| ~ scale), the ends."""
    pick = rng.integers(0, 5, n)
    span = max(1, min(scale, hi - lo))
    uniform = rng.integers(lo, hi + 1, n)
    near_hi = hi - rng.integers(0, span + 1, n)
    near_lo = lo + rng.integers(0, span + 1, n)
    small = rng.integers(-2 * span, 2 * span + 1, n)
    ends = rng.choice(np.array([lo, hi, lo + 1, hi - 1, 0]), n)
    return np.clip(np.choose(pick, [uniform, near_hi, near_lo, small, ends]), lo, hi)


class UnitDriver:
    """Presents one unit's items (dicts of field -> int) with random valid gaps, each held until
    accepted, and a random ``out_ready``. ``extra(rng)`` may add fields drawn anew every cycle
    (e.g. random junk on inputs the unit must ignore)."""

    def __init__(self, prefix: str, items: list[dict], rng: random.Random, p_valid: float,
                 p_ready: float, extra=None):
        self.p, self.items = prefix, items
        self.rng, self.p_valid, self.p_ready = rng, p_valid, p_ready
        self.extra = extra
        self.next, self.valid, self.ready = 0, False, True

    @property
    def done(self) -> bool:
        return self.next >= len(self.items)

    def drive(self) -> dict:
        if not self.valid and not self.done and self.rng.random() < self.p_valid:
            self.valid = True
        self.ready = self.rng.random() < self.p_ready
        item = self.items[min(self.next, len(self.items) - 1)]
        out = {self.p + k: v for k, v in item.items()}
        if self.extra is not None:
            out.update({self.p + k: v for k, v in self.extra(self.rng).items()})
        out[self.p + "in_valid"] = int(self.valid)
        out[self.p + "out_ready"] = int(self.ready)
        return out

    def accepted(self) -> None:
        self.valid = False
        self.next += 1


class UnitMonitor:
    """Samples one unit's handshakes; checks out_valid and the data stay stable while stalled."""

    def __init__(self, prefix: str, name: str, fields: tuple[str, ...]):
        self.p, self.name, self.fields = prefix, name, fields
        self.received: list[dict] = []
        self.stalled: dict | None = None

    def sample(self, r: dict, driver: UnitDriver) -> bool:
        """Returns whether the driver's item was accepted this cycle."""
        out = {f: r[self.p + f] for f in self.fields}
        if self.stalled is not None:
            assert r[self.p + "out_valid"], f"{self.name}: out_valid dropped while stalled"
            assert out == self.stalled, f"{self.name}: output changed while stalled"
        self.stalled = None
        if r[self.p + "out_valid"]:
            if driver.ready:
                self.received.append(out)
            else:
                self.stalled = out
        return driver.valid and bool(r[self.p + "in_ready"])


class UnitChecker:
    """Exact comparison of every received item with the Model's; the failure message shows the
    item's inputs. Subclasses add ``coverage()``."""

    def __init__(self, name: str, hw, expected: list[dict], stim: dict, acc):
        self.name, self.hw, self.expected = name, hw, expected
        self.stim, self.acc = stim, acc
        self.checked = 0

    def check(self, received: list[dict]) -> None:
        while self.checked < len(received):
            t = self.checked
            got, exp = received[t], self.expected[t]
            if got != exp:
                inputs = {k: int(v[t]) for k, v in self.stim.items()}
                raise AssertionError(
                    f"{self.name}: item {t} differs\n  inputs   {inputs} acc={int(self.acc[t])}\n"
                    f"  expected {exp}\n  got      {got}\n  params {self.hw.params()}")
            self.checked += 1

    def finish(self, received: list[dict]) -> None:
        self.check(received)
        assert len(received) == len(self.expected), \
            f"{self.name}: {len(received)} outputs for {len(self.expected)} inputs"


async def run_units(dut, stim_bus, resp_bus, units, what: str = "units"):
    """Clock ``units`` (a list of (driver, monitor, checker)) on the wrapper's ``stim``/``resp``
    vectors until every driver is done and every checker has all its items; then finish them."""
    import cocotb
    from cocotb.clock import Clock
    from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 1
    dut.stim.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    names = list(resp_bus.fields)
    limit = 100 * max(len(c.expected) for _, _, c in units) + 100
    cycles = 0
    while True:
        await FallingEdge(dut.clk)
        values = {}
        for drv, _, _ in units:
            values.update(drv.drive())
        dut.stim.value = stim_bus.pack(values)
        await ReadOnly()
        r = resp_bus.unpack(dut.resp.value.to_unsigned(), names)
        busy = False
        for drv, mon, chk in units:
            if mon.sample(r, drv):
                drv.accepted()
            chk.check(mon.received)
            busy |= (not drv.done) or len(mon.received) < len(chk.expected)
        cycles += 1
        if not busy:
            break
        assert cycles < limit, "bench hung"
    await RisingEdge(dut.clk)
    for _, mon, chk in units:
        chk.finish(mon.received)
    cocotb.log.info("%d %s, %d items each, %d cycles: all outputs equal the model",
                    len(units), what, len(units[0][2].expected), cycles)
    return units
