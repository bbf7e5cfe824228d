"""Random networks on the Verilog accelerator, chosen by hypothesis: sizes, lanes (with padding
lanes), neuron kinds, fixed-point formats, weight scales (some saturate the states), input rates,
recurrent layers and biases. Each drawn network is generated, built with Verilator and
co-simulated (snnc.backends.verilog.cosim.verify_verilog) against the installed golden model:
spikes of every layer and step, final states and saturation counters must be equal, bit for bit.

Every example is its own Verilator build (the parameters differ), so the number of examples is
small; `derandomize=True` keeps CI reproducible (the same networks on every run).
"""
from __future__ import annotations

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from snnc.backends.verilog.sim import toolchain_problem  # noqa: E402

pytestmark = pytest.mark.skipif(bool(toolchain_problem()), reason=str(toolchain_problem()))

NEURONS = {
    "IF": "IF(threshold = {th})",
    "LIF": "LIF(tau_mem = {tau} ms, threshold = {th})",
    "LIFshift": "LIF(tau_mem = {tau} ms, threshold = {th}, leak = shift, reset = zero)",
    "CubaLIF": "CubaLIF(tau_mem = {tau} ms, tau_syn = 5 ms, threshold = {th})",
    "ALIF": "ALIF(tau_mem = {tau} ms, tau_adapt = 40 ms, beta = 0.3, threshold = {th})",
}


@st.composite
def networks(draw):
    m = draw(st.integers(2, 20))
    hidden = draw(st.integers(1, 24))
    out = draw(st.integers(1, 8))
    lanes = draw(st.integers(1, 5))
    kinds = [draw(st.sampled_from(sorted(NEURONS))) for _ in range(2)]
    recurrent = draw(st.booleans())
    bias = draw(st.booleans())
    w_bits = draw(st.integers(4, 9))
    w_frac = draw(st.integers(1, w_bits - 2))
    s_bits = draw(st.integers(10, 18))
    s_frac = draw(st.integers(4, s_bits - 4))
    gain = draw(st.sampled_from([0.3, 0.6, 1.0]))
    steps = draw(st.integers(4, 14))
    scale = draw(st.sampled_from([0.5, 1.0, 4.0]))          # 4.0: states saturate
    tau = draw(st.sampled_from([4, 10, 20]))
    th = draw(st.sampled_from([0.25, 0.5, 1.0]))
    seed = draw(st.integers(0, 2**16))
    first = "recurrent" if recurrent else "dense"
    text = (f"model rnd\ntime {{ dt = 1 ms; steps = {steps} }}\n"
            f"input x[{m}] = rate(gain = {gain})\n"
            f"layer h = {first}(x, {hidden}{', bias = true' if bias else ''}) with "
            f"{NEURONS[kinds[0]].format(tau=tau, th=th)}\n"
            f"layer o = dense(h, {out}) with {NEURONS[kinds[1]].format(tau=tau, th=th)}\n"
            f"output o = count\n"
            f"hardware {{ lanes = {lanes}; weights = fixed<{w_bits},{w_frac}>; "
            f"state = fixed<{s_bits},{s_frac}> }}\n")
    return text, m, scale, seed


@settings(max_examples=4, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(networks())
def test_random_network_is_bit_exact(tmp_path_factory, net):
    import snnc
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog
    from snnc.weights import random_weights

    text, m, scale, seed = net
    model = snnc.loads(text, "rnd.snn")
    qmodel = model.quantize(random_weights(model.graph, seed=seed, scale=scale))
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(3, m))
    info = CosimInfo()
    run, comp = verify_verilog(qmodel, x, np.arange(3), seed, info=info,
                               work_dir=tmp_path_factory.mktemp("rnd"))
    assert comp.match, f"{text}\nfirst mismatch: {comp.first.describe()}"
    golden = info.golden
    for layer in ("h", "o"):
        np.testing.assert_array_equal(np.asarray(run.spikes[layer], dtype=np.int64),
                                      np.asarray(golden.spikes[layer], dtype=np.int64))
        for key, values in golden.final_state[layer].items():
            np.testing.assert_array_equal(run.final_state[layer][key], values)
    assert comp.compared > 0
