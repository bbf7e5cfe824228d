"""Stress co-simulation of the generated Verilog (``snnc.backends.verilog.cosim.verify_verilog``).

* digits (random weights at 3x the default scale, so both layers spike a lot) with 4 lanes and
  FIFOs of depth 2: 50% random stalls on the output's ready, input bursts (on/off phases), and
  both with random input gaps: still bit-exact against the golden model (spikes of both layers per
  step counted per neuron, so a lost spike reads 0 and a duplicated one 2; final states; saturation
  counters), the input was really pushed back (the first FIFO was full: cycles in which an offered
  event waited), and the stalls cost cycles;
* a dense burst: one layer, every input spiking every step (64 inputs -> 64 neurons, 8 lanes):
  sustained synaptic operations per cycle >= 0.9 * P; an idle sample (no input event) costs only
  its sweeps: exactly ``steps * (words + c)`` cycles with a constant ``c <= STEP_OVERHEAD``.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tbutil import need_verilator

ROOT = Path(__file__).resolve().parents[2]


def _digits(samples: int):
    import snnc
    from snnc.datasets import load_dataset
    from snnc.quantize import quantize
    from snnc.weights import random_weights

    graph = snnc.load(str(ROOT / "examples" / "digits.snn")).graph
    q = quantize(graph, random_weights(graph, seed=5, scale=3.0))
    ds = load_dataset("digits", graph)
    return q, ds.x_test[:samples], np.arange(samples)


@pytest.fixture(scope="module")
def full_speed():
    need_verilator()
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    q, x, ids = _digits(8)
    info = CosimInfo()
    run, comp = verify_verilog(q, x, ids, 0, lanes=4, fifo_depth=2, info=info)
    return q, x, ids, run, comp, info


def test_full_speed_fifo_depth_2(full_speed):
    q, x, ids, run, comp, info = full_speed
    assert comp.match, comp.first.describe()
    assert set(run.spikes) == {"hidden", "out"}
    assert int(run.spikes["out"].sum()) == int(info.golden.stats["out"].spikes) > 100
    assert (run.cycles <= run.cycle_bound).all()


@pytest.mark.parametrize("mode", ["stall", "burst", "stall_burst_gaps"])
def test_stress_still_bit_exact(full_speed, mode):
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    q, x, ids, run0, _, _ = full_speed
    opts = {"stall": dict(stall=0.5), "burst": dict(burst=True),
            "stall_burst_gaps": dict(stall=0.5, burst=True, gaps=0.3)}[mode]
    info = CosimInfo()
    run, comp = verify_verilog(q, x, ids, 0, lanes=4, fifo_depth=2, info=info, rng_seed=7,
                               **opts)
    assert comp.match, comp.first.describe()
    assert comp.mismatches == 0
    # zero lost or duplicated spikes, layer by layer
    for name in ("hidden", "out"):
        assert run.spikes[name].max() == 1
        assert int(run.spikes[name].sum()) == int(info.golden.stats[name].spikes)
    # the stress happened: events waited for a full FIFO, and the run took longer
    assert (info.backpressure > 0).all(), info.backpressure
    assert run.cycles.sum() > run0.cycles.sum()


DENSE = """model dense
time {
    dt = 1 ms
    steps = 10
}
input x[64] = rate(gain = 1.0)
layer h = dense(x, 64) with LIF(tau_mem = 10 ms, threshold = 1.0)
output h = count
hardware { lanes = 8 }
"""


@pytest.fixture(scope="module")
def dense_run():
    need_verilator()
    import snnc
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog
    from snnc.quantize import quantize
    from snnc.weights import random_weights

    graph = snnc.loads(DENSE, "dense.snn").graph
    q = quantize(graph, random_weights(graph, seed=2, scale=0.3))
    x = np.stack([np.ones(64), np.zeros(64), np.ones(64)])   # dense, idle, dense
    info = CosimInfo()
    run, comp = verify_verilog(q, x, np.arange(3), 0, info=info)
    return run, comp, info


def test_dense_burst_sustains_09_P(dense_run):
    run, comp, info = dense_run
    assert comp.match, comp.first.describe()
    p, steps = 8, 10
    sops = 64 * 64 * steps                           # every input spikes every step
    assert int(info.golden.stats["h"].sops) == 2 * sops       # samples 0 and 2
    for b in (0, 2):
        assert sops / run.cycles[b] >= 0.9 * p, (b, run.cycles[b])


def test_idle_step_costs_only_its_sweep(dense_run):
    from snnc.backends.verilog.plan import STEP_OVERHEAD

    run, comp, info = dense_run
    assert comp.match
    words = math.ceil(64 / 8)
    steps = 10
    idle = int(run.cycles[1])
    # no events: each step is its sweep plus a constant hand-over
    assert steps * words <= idle <= steps * (words + STEP_OVERHEAD), idle
    assert int(info.ideal_bound[1]) == steps * words
