"""A held direct input (``direct(hold = true)``) on both hardware backends, bit-exact against the
golden model: the input's events carry the changes of its values (a static image: one event per
non-zero pixel, all at step 0) and the first layer's accumulators keep their sum (Verilog
``HOLD = 1``, the HLS sweep's ``HOLD``), with a bias, an axonal delay, ASN layers (graded events)
and an unsigned input format, whose changes are signed and one bit wider. Without the hold the
first layer would see nothing after step 0 (its events stop), so its later spikes test it.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from tbutil import assert_rtl_equals_golden, need_verilator

HELD = """model held_hw
time { dt = 1 ms; steps = 12 }
input pixels[64] = direct(scale = 0.0488, hold = true)
layer hidden = dense(pixels, 24, bias = true, delay = 2)
               with ASN(tau_beta = 20 ms, threshold = 0.5, m_f = 0.5, tau_gamma = 15 ms)
layer out    = dense(hidden, 10, bias = true)
               with ASN(tau_beta = 20 ms, threshold = 0.5, m_f = 0.5, tau_gamma = 15 ms)
output out = membrane
hardware { lanes = 3; weights = fixed<12,10>; state = fixed<16,9>; inputs = ufixed<12,11> }
"""


def _design(samples: int = 4):
    import snnc
    from snnc.datasets import load_dataset

    m = snnc.loads(HELD, "held_hw.snn")
    q = m.quantize(m.random_weights(seed=4))
    x = load_dataset("digits", m.graph).x_test[:samples]
    return q, x, np.arange(samples)


def _held_matters(golden) -> None:
    """The input's events are at step 0 only, and the first layer fires later on."""
    sent = np.asarray(golden.delivered("pixels"))
    assert sent[0].any() and not sent[1:].any()
    assert np.asarray(golden.spikes["hidden"])[6:].sum() > 0


def test_verilog_matches_golden_with_a_held_input():
    need_verilator()
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    q, x, ids = _design()
    info = CosimInfo()
    run, comp = verify_verilog(q, x, ids, 0, info=info)
    assert_rtl_equals_golden(run, comp, info, q)
    _held_matters(info.golden)
    assert (run.cycles <= run.cycle_bound).all(), (run.cycles, run.cycle_bound)
    # input gaps and output stalls (the few input events of a held input do not back up, so
    # tbutil.cosim_with_gaps_and_stalls's check of input back-pressure does not apply)
    info = CosimInfo()
    run, comp = verify_verilog(q, x, ids, 0, info=info, stall=0.3, gaps=0.3, rng_seed=5)
    assert_rtl_equals_golden(run, comp, info, q)


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_hls_matches_golden_with_a_held_input():
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.backends.hls import verify_hls

    q, x, ids = _design()
    run, comp = verify_hls(q, x, ids, 0)
    assert comp.match and comp.mismatches == 0, comp.first
    golden = simulate_golden(q, x, sample_ids=ids, record=True)
    _held_matters(golden)
    steps, batch = q.graph.time.steps, len(x)
    for name in ("hidden", "out"):
        np.testing.assert_array_equal(run.spikes[name],
                                      np.asarray(golden.spikes[name]).reshape(steps, batch, -1))
        np.testing.assert_array_equal(run.payloads[name],
                                      np.asarray(golden.payloads[name]).reshape(steps, batch, -1))
        for key, value in golden.final_state[name].items():
            np.testing.assert_array_equal(run.final_state[name][key],
                                          np.asarray(value).reshape(batch, -1).astype(np.int64))
