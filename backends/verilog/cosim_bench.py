"""The cocotb test module of ``snnc verify`` (run inside the simulator by
:func:`snnc.backends.verilog.cosim.verify_verilog`, on ``snn_cosim_harness``).

Organised as Driver / Monitor / Model / Checker:

* **Driver** — configures the harness's input timing (back-to-back, random gaps, bursts) and
  output stalls, releases one sample (``go``: the harness streams that sample's events and tokens
  from the stimulus file), clears the state between samples; in step-by-step mode it releases one
  step at a time;
* **Monitor** — waits for ``done`` (the output layer's last token of the sample), takes the
  harness's cycle and event counters, reads every layer's final state through the top's read-back
  port (``rd_*``, the fields of the manifest's state layout), at the end the saturation counters of
  every layer (``rd_layer``; the states the manifest lists per layer); the spikes and their
  payloads are written to the capture file by the harness;
* **Model** — what the stimulus promises: input events (spikes, or graded direct values) and
  tokens per sample and step;
* **Checker** — protocol invariants checked in the simulator: every input event of the sample
  was accepted, no output event outside a sample, the network goes idle, ``step_count`` advances by
  ``steps`` per sample, the stimulus file is not exhausted early. The bit-exact comparison with the
  golden model happens outside (:func:`snnc.backends.compare.compare`) on the results this module
  writes (JSON, ``SNNC_COSIM_OUT``).

Configuration: the JSON file named by ``SNNC_COSIM_CFG`` (written by ``verify_verilog``).
"""
from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, with_timeout

FULL = 65536          # probability 1 in the harness's 17-bit thresholds


async def read_states(dut, layers: list[dict]) -> dict:
    """Every field of the ``layers``' states (manifest entries) through the top's muxed read-back
    port (``rd_en``, ``rd_layer``, ``rd_addr`` -> ``rd_data`` the cycle after): layer -> field ->
    [N], signed fields sign-extended. Word ``k`` holds neuron ``k * lanes + u`` in lane ``u``,
    ``lanes`` the state's (a narrow sweep's units; the layer's lanes in manifests without)."""
    out = {}
    for lay in layers:
        fields = lay["state"]["fields"]
        bits, n = lay["state"]["lane_bits"], lay["neurons"]
        p = lay["state"].get("lanes", lay["lanes"])
        vals = {f["name"]: [0] * n for f in fields}
        for k in range(lay["state"]["words"]):
            await FallingEdge(dut.clk)
            dut.rd_en.value = 1
            dut.rd_layer.value = lay["index"]
            dut.rd_addr.value = k
            await FallingEdge(dut.clk)
            dut.rd_en.value = 0
            word = dut.rd_data.value.to_unsigned()
            for lane in range(p):
                i = k * p + lane
                if i >= n:
                    continue
                v_lane = word >> (lane * bits)
                for f in fields:
                    v = (v_lane >> f["offset"]) & ((1 << f["width"]) - 1)
                    if f["signed"] and v >> (f["width"] - 1):
                        v -= 1 << f["width"]
                    vals[f["name"]][i] = v
        out[lay["name"]] = vals
    return out


class Model:
    """The stimulus: per sample, input spikes per step (the harness streams them from the file)."""

    def __init__(self, cfg: dict):
        self.steps = cfg["steps"]
        self.events = cfg["events"]            # [sample][step] input events
        self.bounds = cfg["step_bounds"]       # [sample][step] the manifest's cycle bound
        self.batch = len(self.events)
        self.replay = cfg["replay"]            # samples to replay step by step

    def sample_events(self, b: int) -> int:
        return sum(self.events[b])


class Checker:
    def __init__(self):
        self.errors: list[str] = []

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.errors.append(what)


class Driver:
    def __init__(self, dut, cfg: dict):
        self.dut = dut
        self.p_valid = int(round(cfg["p_valid"] * FULL))
        self.p_ready = int(round(cfg["p_ready"] * FULL))
        self.burst = int(bool(cfg["burst"]))
        self.seed = cfg["seed"] & 0xFFFFFFFF

    async def reset(self) -> None:
        dut = self.dut
        for sig in ("go", "tag", "steps", "clear", "rd_en", "rd_layer", "rd_addr"):
            getattr(dut, sig).value = 0
        dut.p_valid.value = self.p_valid
        dut.p_ready.value = self.p_ready
        dut.burst.value = self.burst
        dut.rng_seed.value = self.seed
        dut.rst.value = 1
        for _ in range(3):
            await RisingEdge(dut.clk)
        dut.rst.value = 0

    async def release(self, steps: int, tag: int) -> None:
        """One ``go`` pulse: the harness streams the next ``steps`` steps of the stimulus."""
        dut = self.dut
        await FallingEdge(dut.clk)
        dut.steps.value = steps
        dut.tag.value = tag
        dut.go.value = 1
        await FallingEdge(dut.clk)
        dut.go.value = 0

    async def clear(self) -> None:
        dut = self.dut
        await FallingEdge(dut.clk)
        dut.clear.value = 1
        await FallingEdge(dut.clk)
        dut.clear.value = 0


class Monitor:
    def __init__(self, dut, layers: list[dict], clock_ns: int):
        self.dut = dut
        self.layers = layers
        self.clock_ns = clock_ns

    async def wait_done(self, limit_cycles: int) -> None:
        dut = self.dut
        if not int(dut.done.value):
            await with_timeout(RisingEdge(dut.done), limit_cycles * self.clock_ns, "ns")

    async def wait_idle(self, limit: int = 100000) -> bool:
        dut = self.dut
        for _ in range(limit):
            await FallingEdge(dut.clk)
            if int(dut.idle.value) and int(dut.in_ready.value):
                return True
        return False

    async def read_states(self, layers=None) -> dict:
        """Every field of every layer's state through the read-back port: layer -> field -> [N]."""
        return await read_states(self.dut, layers or self.layers)

    async def saturation(self) -> dict:
        dut = self.dut
        out = {}
        for lay in self.layers:
            await FallingEdge(dut.clk)
            dut.rd_layer.value = lay["index"]
            await ReadOnly()
            # the layer's counters (U, I, A; ASN: U, P, A, H)
            keys = lay.get("saturation") or {k: f"sat_{k.lower()}_count" for k in "UIA"}
            out[lay["name"]] = {k: int(getattr(dut, port).value) for k, port in keys.items()}
        await FallingEdge(dut.clk)
        return out


@cocotb.test()
async def cosim(dut):
    """Stream every sample through snn_top; record cycles, final states and counters."""
    with open(os.environ["SNNC_COSIM_CFG"]) as fh:
        cfg = json.load(fh)
    layers = cfg["manifest"]["layers"]
    model = Model(cfg)
    checker = Checker()
    driver = Driver(dut, cfg)
    clock_ns = 10
    monitor = Monitor(dut, layers, clock_ns)
    Clock(dut.clk, clock_ns, unit="ns").start()
    await driver.reset()
    checker.expect(await monitor.wait_idle(), "the network never became idle after reset")

    # a generous hang limit: four times the cycle bound of the golden model's events (every
    # layer's, hidden and recurrent spikes included), slowed by the stalls and gaps
    slow = 1.0 / max(1e-3, min(cfg["p_valid"], cfg["p_ready"])) + (64 if cfg["burst"] else 0)
    results = {"cycles": [], "events": [], "backpressure": [], "states": [], "step_count": [],
               "replay": {}}
    for b in range(model.batch):
        limit = int(sum(model.bounds[b]) * slow * 4 + 10000)
        await driver.release(model.steps, 0)
        await monitor.wait_done(limit)
        await ReadOnly()
        results["cycles"].append(int(dut.cycles.value))
        results["events"].append(int(dut.events_sent.value))
        results["backpressure"].append(int(dut.backpressure.value))
        checker.expect(int(dut.events_sent.value) == model.sample_events(b),
                       f"sample {b}: {int(dut.events_sent.value)} input events accepted, "
                       f"{model.sample_events(b)} sent")
        checker.expect(not int(dut.stim_eof.value), f"sample {b}: stimulus file exhausted")
        checker.expect(await monitor.wait_idle(), f"sample {b}: the network never became idle")
        checker.expect(not int(dut.out_valid.value), f"sample {b}: output event after the last token")
        results["states"].append(await monitor.read_states())
        results["step_count"].append(int(dut.step_count.value))
        checker.expect(int(dut.step_count.value) == model.steps * (b + 1),
                       f"sample {b}: step_count {int(dut.step_count.value)}, expected "
                       f"{model.steps * (b + 1)}")
        await driver.clear()
        checker.expect(await monitor.wait_idle(), f"sample {b}: never idle after clear")
    # saturation counters before the replays (they count since reset: the whole batch)
    results["saturation"] = await monitor.saturation()

    # step-by-step replays: the output layer's membrane after every step (readout tie-breaks)
    out_layer = layers[-1]
    for b in model.replay:
        membrane = [0] * out_layer["neurons"]
        for t in range(model.steps):
            limit = int(model.bounds[b][t] * slow * 4 + 10000)
            await driver.release(1, 1)
            await monitor.wait_done(limit)
            checker.expect(await monitor.wait_idle(), f"replay of sample {b}: never idle")
            # the membrane: U, or a user-defined neuron's first state (the manifest's field)
            key = out_layer.get("membrane") or "U"
            u = (await monitor.read_states([out_layer]))[out_layer["name"]][key]
            membrane = [m + v for m, v in zip(membrane, u)]
        results["replay"][str(b)] = membrane
        await driver.clear()
        checker.expect(await monitor.wait_idle(), f"replay of sample {b}: never idle after clear")
    results["errors"] = checker.errors
    with open(os.environ["SNNC_COSIM_OUT"], "w") as fh:
        json.dump(results, fh)
    dut._log.info("%d samples, %d replays, %d protocol errors", model.batch, len(model.replay),
                  len(checker.errors))
