"""snnc.backends.compare: a backend run equal to the golden model matches; a flipped spike, a
wrong final state or a wrong saturation count is found and located."""
import numpy as np

import snnc
from snnc.backends.compare import BackendRun, compare
from snnc.backends.golden.golden_sim import simulate_golden

from snn_models import DIGITS
from test_graded_user_neuron import ZERO_HEIGHT


def _golden():
    m = snnc.loads(DIGITS, "digits.snn")
    q = m.quantize(m.random_weights(seed=3))
    x = np.random.default_rng(0).uniform(0, 1, size=(4,) + tuple(q.graph.inputs[0].shape))
    r = simulate_golden(q, x, seed=1, record=True)
    return q, r


def _as_run(q, r) -> BackendRun:
    names = [l.name for l in q.graph.layers]
    return BackendRun("copy", r.steps, r.batch,
                      spikes={n: r.spikes[n].copy() for n in names},
                      final_state={n: {k: np.asarray(v).copy() for k, v in r.final_state[n].items()}
                                   for n in names},
                      saturation={n: dict(r.stats[n].saturation) for n in names})


def test_identical_run_matches():
    q, r = _golden()
    c = compare(r, _as_run(q, r), [l.name for l in q.graph.layers])
    assert c.match and c.mismatches == 0 and c.first is None and c.compared > 0


def test_flipped_spike_is_located():
    q, r = _golden()
    run = _as_run(q, r)
    last = q.graph.layers[-1].name
    s = run.spikes[last].reshape(r.steps, r.batch, -1)
    s[5, 2, 1] ^= 1
    s[7, 3, 0] ^= 1
    c = compare(r, run, [l.name for l in q.graph.layers])
    assert not c.match and c.mismatches == 2
    assert (c.first.what, c.first.layer, c.first.sample, c.first.step, c.first.neuron) == \
        ("spike", last, 2, 5, 1)
    assert "sample 2, step 5, neuron 1" in c.first.describe()


def test_wrong_state_and_saturation_are_found():
    q, r = _golden()
    run = _as_run(q, r)
    first = q.graph.layers[0].name
    run.final_state[first]["U"].reshape(r.batch, -1)[1, 3] += 1
    run.saturation[first]["U"] = run.saturation[first].get("U", 0) + 1
    c = compare(r, run, [l.name for l in q.graph.layers])
    assert c.mismatches == 2
    assert (c.first.what, c.first.sample, c.first.neuron) == ("final state U", 1, 3)


def test_membranes_are_compared_per_step():
    """A run that exposes the output layer's membrane every step (the HLS C simulation) has it
    compared; one wrong value is found at its sample, step and neuron."""
    q, r = _golden()
    run = _as_run(q, r)
    last = q.graph.layers[-1].name
    run.membranes = {last: np.asarray(r.membranes[last]).copy()}
    names = [l.name for l in q.graph.layers]
    base = compare(r, _as_run(q, r), names).compared
    ok = compare(r, run, names)
    assert ok.match and ok.compared == base + r.steps * r.batch * int(np.prod(q.graph.layers[-1].shape))
    run.membranes[last].reshape(r.steps, r.batch, -1)[9, 1, 4] -= 1
    c = compare(r, run, names)
    assert c.mismatches == 1
    assert (c.first.what, c.first.layer, c.first.sample, c.first.step, c.first.neuron) == \
        ("membrane", last, 1, 9, 4)


SOP_MODELS = {
    "recurrent, delayed": """model rec
time { dt = 1 ms; steps = 10 }
input pixels[64] = rate
layer h = recurrent(pixels, 20) with LIF(tau_mem = 10 ms)
layer out = dense(h, 10, delay = 3) with LIF(tau_mem = 10 ms)
output out = count
""",
    "two layers on the input": """model skip
time { dt = 1 ms; steps = 10 }
input pixels[64] = direct
layer wide = dense(pixels, 200) with LIF(tau_mem = 10 ms)
layer out = dense(pixels, 10) with LIF(tau_mem = 10 ms)
output out = count
output wide = count
""",
    # the zero-height graded user neuron of test_graded_user_neuron, wider and delayed
    "graded events of height 0": (
        ZERO_HEIGHT.replace("input x[2] = direct", "input pixels[64] = rate")
        .replace("dense(x, 3)", "dense(pixels, 30)").replace("dense(h, 2)", "dense(h, 10, delay = 2)")),
}


def test_hardware_sops_are_the_golden_models_for_the_same_events():
    """`snnc verify` counts SOPs from the hardware's own events; for events equal to the golden
    model's they are the golden model's SOPs (section 6): each layer's own source and delay, the
    recurrent events, no SOP for a graded event of height 0. It assumed a chain of layers read
    from the first input and ignored delays and recurrent events: 4318 against 4902 SOPs per
    sample on the first model, 44134 against 41160 on the second."""
    from snnc.verify_cmd import hardware_sops

    for name, text in SOP_MODELS.items():
        m = snnc.loads(text, "m.snn")
        q = m.quantize(m.random_weights(seed=3))
        x = np.random.default_rng(0).uniform(0, 1, size=(4,) + tuple(q.graph.inputs[0].shape))
        r = simulate_golden(q, x, seed=1, record=True)
        assert r.totals.sops > 0
        assert hardware_sops(q.graph, r, _as_run(q, r)) == r.totals.sops, name
