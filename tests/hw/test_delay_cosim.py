"""Axonal delays on the Verilog accelerator (hw/snn_step_delay.v in front of a delayed layer's
core), co-simulated on Verilator against the installed golden model: spikes of every layer and
step, final states and saturation counters bit for bit; at full speed, with input gaps and output
stalls, and step by step (a membrane readout replays every sample one step at a time, which needs
the delayed core to stay in lock step with its source); a delay longer than the run; a corrupted
weight behind a delay must be caught.
"""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from snnc.backends.verilog.sim import toolchain_problem

pytestmark = pytest.mark.skipif(bool(toolchain_problem()), reason=str(toolchain_problem()))

# delays 2, 1 (on a recurrent ALIF layer with bias) and 3; membrane readout: every sample is
# also replayed step by step
DELAYED = """model delayed
time { dt = 1 ms; steps = 14 }
input x[9] = rate(gain = 0.9)
layer a = dense(x, 7, delay = 2) with LIF(tau_mem = 10 ms, threshold = 0.4)
layer b = recurrent(a, 6, bias = true, delay = 1)
    with ALIF(tau_mem = 8 ms, tau_adapt = 40 ms, beta = 0.2, threshold = 0.3)
layer c = dense(b, 4, delay = 3) with LIF(tau_mem = 12 ms, threshold = 0.3, reset = zero)
output c = membrane
hardware { lanes = 3 }
"""

# the delay is longer than the run: the output layer never sees an event
TOO_LONG = """model toolong
time { dt = 1 ms; steps = 5 }
input x[6] = rate(gain = 1.0)
layer a = dense(x, 5) with IF(threshold = 0.3)
layer o = dense(a, 3, delay = 7, bias = true) with LIF(tau_mem = 10 ms, threshold = 0.2)
output o = count
hardware { lanes = 2 }
"""


def _design(text: str, name: str, samples: int = 4):
    import snnc

    model = snnc.loads(text, f"{name}.snn")
    qmodel = model.quantize(model.random_weights(seed=5))
    rng = np.random.default_rng(11)
    x = rng.uniform(0.1, 1.0, size=(samples, model.graph.inputs[0].shape[0]))
    return qmodel, x, np.arange(samples)


def _check(qmodel, x, ids, tmp_path, **kw):
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    info = CosimInfo()
    run, comp = verify_verilog(qmodel, x, ids, 3, info=info, work_dir=tmp_path, **kw)
    assert comp.match, comp.first.describe()
    golden = info.golden
    for layer in qmodel.graph.layers:
        np.testing.assert_array_equal(np.asarray(run.spikes[layer.name], dtype=np.int64),
                                      np.asarray(golden.spikes[layer.name], dtype=np.int64))
        for key, values in golden.final_state[layer.name].items():
            np.testing.assert_array_equal(run.final_state[layer.name][key], values)
    np.testing.assert_array_equal(info.predictions, golden.predictions)
    return run, info


def test_delayed_chain_is_bit_exact_and_in_lock_step(tmp_path):
    qmodel, x, ids = _design(DELAYED, "delayed")
    run, info = _check(qmodel, x, ids, tmp_path)
    assert info.replayed == list(range(len(x)))             # membrane readout: all replayed
    # the delayed layers do get events: the test is not vacuous
    assert np.asarray(run.spikes["c"]).sum() > 0
    assert (run.cycles <= 1.10 * run.cycle_bound).all(), (run.cycles, run.cycle_bound)


def test_delayed_chain_with_gaps_and_stalls(tmp_path):
    qmodel, x, ids = _design(DELAYED, "delayed", samples=2)
    _check(qmodel, x, ids, tmp_path, stall=0.4, gaps=0.4, rng_seed=7)


def test_delay_longer_than_the_run(tmp_path):
    qmodel, x, ids = _design(TOO_LONG, "toolong")
    run, _ = _check(qmodel, x, ids, tmp_path)
    assert np.asarray(run.spikes["a"]).sum() > 0


def test_corrupted_weight_behind_a_delay_is_caught(tmp_path):
    from snnc.backends.verilog.cosim import verify_verilog

    from snnc.backends.golden.golden_sim import simulate_golden

    qmodel, x, ids = _design(DELAYED, "delayed", samples=2)
    # the source neuron of 'c' that spikes most (its weight row is surely read)
    golden = simulate_golden(qmodel, x, seed=3, sample_ids=ids, record=True)
    j = int(np.asarray(golden.spikes["b"]).sum(axis=(0, 1)).argmax())

    def corrupt(design, manifest):
        lay = next(l for l in manifest["layers"] if l["name"] == "c")
        path = design / lay["weights"]["file"]
        words = path.read_text().split()
        bits = lay["weights"]["word_bits"]
        k = j * lay["words_per_row"]                 # row j, lanes 0..P-1 of the first word
        words[k] = f"{int(words[k], 16) ^ ((1 << bits) - 1):0{len(words[k])}x}"
        path.write_text("\n".join(words) + "\n")

    _, comp = verify_verilog(qmodel, x, ids, 3, work_dir=tmp_path, mutate=corrupt)
    assert not comp.match
    assert comp.first.layer == "c"


def test_delayed_top_lints_clean(tmp_path):
    from snnc.backends.verilog import generate
    from snnc.backends.verilog.sim import setup_verilator

    qmodel, _, _ = _design(DELAYED, "delayed")
    manifest = generate(qmodel, tmp_path)
    assert "snn_step_delay.v" in manifest["files"]
    assert [l["delay"] for l in manifest["layers"]] == [2, 1, 3]
    # a delayed layer's FIFO holds its source's events of min(d, steps) + 1 steps
    assert manifest["layers"][0]["fifo_depth"] >= 3 * 10
    setup_verilator()
    assert shutil.which("verilator")
    files = [str(tmp_path / f) for f in manifest["files"]]
    r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", manifest["top"],
                        *files], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    text = "\n".join(line for line in (r.stdout + r.stderr).splitlines() if line.startswith("%"))
    assert r.returncode == 0 and not text, text
