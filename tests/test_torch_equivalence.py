"""The PyTorch target against the reference simulators.

* QAT mode (``qat=True``) against the golden model: every layer's spikes, every membrane, the
  saturation counts and the predictions equal, bit for bit, on random networks (every neuron kind
  incl. user-defined ones, dense / recurrent / conv / pooling / flatten / delays / bias, both leak
  modes, every encoding) and on every ``examples/*.snn`` with random weights.
* Float mode against the float reference simulator: the same spikes and membranes within 1e-9
  (float64), on the same networks.
"""
import pathlib
import random
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

torch = pytest.importorskip("torch")

from snn_models import INLINE_MODELS, example_files  # noqa: E402
from test_pipeline_properties import mutated  # noqa: E402
from snnc import ir  # noqa: E402
from snnc.backends.golden.float_sim import simulate_float  # noqa: E402
from snnc.backends.golden.golden_sim import simulate_golden  # noqa: E402
from snnc.backends.torch import SNN  # noqa: E402
from snnc.build import load, load_text  # noqa: E402
from snnc.quantize import quantize  # noqa: E402
from snnc.weights import random_weights  # noqa: E402


pytestmark = pytest.mark.usefixtures("torch_one_thread")


USER_NEURONS = """
neuron Leaky2 {
    param tau: time = 8 ms
    param theta: real = 0.9
    param floor: real = -2.0
    state v = 0
    state a = 0.25
    update {
        v = max(decay(tau) * v + input - a * v / 4, floor)
        a = clip(a * 0.5 + 0.1, 0, 1)
    }
    spike when v > theta + a or (v >= 3 and not (a < 0))
    on spike { v = v - theta; a = a + 0.5 }
}
neuron Counter {
    state u = 0
    state n = 0
    update { u = u + abs(input) - min(n, 2) * 0.125 }
    spike when u >= 1.5
    on spike { u = 0; n = n + 1 }
}
"""


def random_neuron(rng: random.Random) -> str:
    kind = rng.choice(["IF", "LIF", "CubaLIF", "ALIF", "Leaky2", "Counter"])
    theta = rng.choice([0.5, 0.75, 1.0, 1.25])
    common = [f"threshold = {theta}", f"reset = {rng.choice(['subtract', 'zero', 'none'])}",
              f"refractory = {rng.choice([0, 0, 1, 3])}"]
    leak = [f"leak = {rng.choice(['multiply', 'shift'])}"] if rng.random() < 0.5 else []
    if kind == "IF":
        args = common
    elif kind == "LIF":
        args = [f"tau_mem = {rng.choice([4, 10, 20])} ms"] + common + leak
    elif kind == "CubaLIF":
        args = [f"tau_mem = {rng.choice([8, 16])} ms", f"tau_syn = {rng.choice([2, 4])} ms"]
        args += common + leak
    elif kind == "ALIF":
        args = [f"tau_mem = {rng.choice([10, 16])} ms", f"tau_adapt = {rng.choice([50, 200])} ms",
                f"beta = {rng.choice([0.2, 0.5, 1.5])}"] + common + leak
    elif kind == "Leaky2":
        args = [f"tau = {rng.choice([5, 12])} ms"]
    else:
        args = []
    return f"{kind}({', '.join(args)})"


def random_model(seed: int) -> str:
    """A small random network; even seeds are convolutional, odd seeds dense/recurrent."""
    rng = random.Random(seed)
    n = lambda: random_neuron(rng)  # noqa: E731
    steps = rng.choice([8, 12])
    hw = (f"hardware {{ weights = fixed<8,{rng.choice([5, 6])}>; membrane = fixed<16,8>; "
          f"current = fixed<16,{rng.choice([8, 10])}>; "
          f"adaptation = {rng.choice(['fixed<16,8>', 'ufixed<12,8>'])}; "
          f"inputs = fixed<12,8>; decay = {rng.choice(['multiply', 'shift'])} }}")
    bias = lambda: rng.choice(["true", "false"])  # noqa: E731
    delay = lambda: rng.choice([0, 0, 1, 2])  # noqa: E731
    lines = [f"model rand{seed}", f"time {{ dt = 1 ms; steps = {steps} }}", USER_NEURONS]
    if seed % 2 == 0:
        enc = rng.choice(["rate(gain = 1.5)", "latency(threshold = 0.1)", "direct(scale = 2.0)"])
        pool = rng.choice(["sumpool", "avgpool"])
        lines += [
            f"input img[2, 6, 6] = {enc}",
            f"layer c1 = conv2d(img, 3, 3, padding = 1, bias = {bias()}, delay = {delay()}) with {n()}",
            f"layer p1 = {pool}(c1, 2) with {n()}",
            f"layer c2 = conv2d(p1, 4, [2, 2], stride = [1, 1]) with {n()}",
            "layer f = flatten(c2)",
            f"layer r = recurrent(f, 7, bias = {bias()}, delay = {delay()}) with {n()}",
            f"layer o = dense(r, 4, delay = {delay()}) with {n()}",
        ]
    else:
        enc = rng.choice(["rate(gain = 1.0)", "delta(threshold = 0.1)", "direct(scale = 1.5)"])
        lines += [
            f"input x[10] = {enc}",
            f"layer h = dense(x, 12, bias = {bias()}, delay = {delay()}) with {n()}",
            f"layer r = recurrent(h, 9, bias = {bias()}) with {n()}",
            f"layer o = dense(r, 4, bias = {bias()}, delay = {delay()}) with {n()}",
        ]
    lines += [f"output o = {rng.choice(['count', 'membrane', 'first_spike'])}", hw]
    return "\n".join(lines) + "\n"


def batch(graph: ir.Graph, size: int, seed: int):
    rng = np.random.default_rng(seed)
    data = {}
    for inp in graph.inputs:
        sequence = isinstance(inp.encoding, ir.Delta) or (
            isinstance(inp.encoding, ir.Direct) and seed % 3 == 0)
        if sequence:
            data[inp.name] = rng.random((size, graph.time.steps, *inp.shape))      # a sequence
        else:
            data[inp.name] = rng.random((size, *inp.shape))
    return data if len(data) > 1 else next(iter(data.values()))


def run_torch(graph, weights, x, qat, seed=5):
    model = SNN(graph, weights, qat=qat)
    if not qat:
        model = model.double()
    out = model(model.encode(x, seed=seed, sample_ids=np.arange(3, 3 + _size(x))))
    return model, out


def _size(x):
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def check_qat(graph, weights, x):
    q = quantize(graph, weights)
    ref = simulate_golden(q, x, seed=5, sample_ids=np.arange(3, 3 + _size(x)), record=True)
    model, out = run_torch(graph, weights, x, qat=True)
    fm, fx = q.formats.membrane.frac, q.formats.inputs.frac
    for name, s in out.spikes.items():
        want = ref.spikes[name]
        got = s.detach().numpy()
        if want.dtype == np.int64:                 # quantised direct input values
            got = got * 2.0 ** fx
        np.testing.assert_array_equal(got, want, err_msg=f"spikes of '{name}'")
    for name, u in out.membranes.items():
        np.testing.assert_array_equal(u.detach().numpy() * 2.0 ** fm, ref.membranes[name],
                                      err_msg=f"membrane of '{name}'")
    for name, sat in out.saturation_counts().items():
        assert sat == ref.stats[name].saturation, name
    for name, r in out.outputs.items():
        want = ref.outputs[name]
        np.testing.assert_array_equal(r.count.detach().numpy(), want.count)
        np.testing.assert_array_equal(r.membrane.detach().numpy() * 2.0 ** fm, want.membrane)
        np.testing.assert_array_equal(r.first_spike.detach().numpy(), want.first_spike)
    np.testing.assert_array_equal(out.predictions.numpy(), ref.predictions)
    return model, out, ref


def check_float(graph, weights, x):
    ref = simulate_float(graph, weights, x, seed=5, sample_ids=np.arange(3, 3 + _size(x)),
                         record=True)
    model, out = run_torch(graph, weights, x, qat=False)
    for name, s in out.spikes.items():
        np.testing.assert_array_equal(s.detach().numpy(), ref.spikes[name], err_msg=name)
    for name, u in out.membranes.items():
        np.testing.assert_allclose(u.detach().numpy(), ref.membranes[name], rtol=1e-9, atol=1e-9,
                                   err_msg=name)
    for name, r in out.outputs.items():
        want = ref.outputs[name]
        np.testing.assert_array_equal(r.count.detach().numpy(), want.count)
        np.testing.assert_allclose(r.membrane.detach().numpy(), want.membrane, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(r.first_spike.detach().numpy(), want.first_spike)
    np.testing.assert_array_equal(out.predictions.numpy(), ref.predictions)
    return model, out, ref


SEEDS = list(range(16))


@pytest.mark.parametrize("seed", SEEDS)
def test_random_network_qat_is_bit_exact(seed):
    g = load_text(random_model(seed), f"rand{seed}.snn").graph
    w = random_weights(g, seed, scale=5.0)
    model, out, ref = check_qat(g, w, batch(g, 4, seed))
    # a network that does something: every layer spikes
    assert all(out.spikes[n].sum() > 0 for n in out.membranes)
    # gradients flow to every trainable tensor
    loss = out.readout.sum() + sum(c.sum() for c in out.spike_counts().values())
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


@pytest.mark.parametrize("seed", SEEDS)
def test_random_network_float_matches_the_float_simulator(seed):
    g = load_text(random_model(seed), f"rand{seed}.snn").graph
    check_float(g, random_weights(g, seed, scale=5.0), batch(g, 4, seed + 100))


def test_random_models_cover_the_language():
    """The random networks above exercise every neuron kind, reset, leak mode and encoding."""
    seen = set()
    for seed in SEEDS:
        g = load_text(random_model(seed), f"rand{seed}.snn").graph
        for layer in g.layers:
            seen.add(type(layer).__name__)
            neuron = getattr(layer, "neuron", None)
            if neuron is not None:
                seen.add(ir.neuron_kind(neuron))
                seen.add(getattr(neuron, "reset", None))
                if getattr(neuron, "refractory", 0):
                    seen.add("refractory")
                seen.add(getattr(neuron, "leak", None) or g.hardware.decay)
            if getattr(layer, "delay", 0):
                seen.add("delay")
            if getattr(layer, "bias", False):
                seen.add("bias")
            if isinstance(layer, ir.Pool):
                seen.add(layer.mode + "pool")
        seen.update(type(i.encoding).__name__ for i in g.inputs)
    assert {"IF", "LIF", "CubaLIF", "ALIF", "Leaky2", "Counter", "subtract", "zero", "none",
            "refractory", "multiply", "shift", "delay", "bias", "sumpool", "avgpool", "Dense",
            "Recurrent", "Conv2d", "Pool", "Flatten", "Rate", "Latency", "Delta",
            "Direct"} <= seen


EXAMPLES = example_files()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_qat_bit_exact_and_float_agree(path):
    g = load(path).graph
    w = random_weights(g, 1)
    x = batch(g, 3, 1)
    check_qat(g, w, x)
    check_float(g, w, x)


@pytest.mark.parametrize("name", sorted(INLINE_MODELS))
def test_inline_models(name):
    g = load_text(INLINE_MODELS[name], f"{name}.snn").graph
    w = random_weights(g, 2)
    x = batch(g, 3, 2)
    check_float(g, w, x)
    if name != "custom":          # its Adex neuron uses exp() of a state: float only
        check_qat(g, w, x)


@pytest.mark.parametrize("state", ["fixed<31,30>", "fixed<32,16>"])
def test_asn_qat_is_bit_exact_with_states_wider_than_float32(state):
    """With a membrane format wider than float32's 24-bit significand, the QAT ASN's membranes
    and heights (which feed the next layer) are still the golden model's integers: the int64
    states are converted to float64, never through the default float32 (which rounded them by
    up to 32 units at 31 bits)."""
    text = (pathlib.Path(__file__).resolve().parent.parent / "examples" / "asn_digits.snn").read_text()
    text = re.sub(r"state = fixed<\d+,\d+>", f"state = {state}", text)
    assert f"state = {state}" in text
    g = load_text(text, "asn_wide.snn").graph
    w = random_weights(g, 0)
    check_qat(g, w, np.random.default_rng(0).random((3, 64)).astype(np.float32))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_mutated_examples_qat_is_bit_exact(case):
    """The examples with numbers, formats (wide ones included) and hardware settings changed
    (tests/test_pipeline_properties.py's mutations): where the model still quantises, QAT is the
    golden model bit for bit."""
    from snnc.build import build
    from snnc.dsl.parser import parse_bytes
    from snnc.errors import SnnError, SnnErrors

    path, data = case
    try:
        g = build(parse_bytes(data, path)).graph
        w = random_weights(g, 0)
        quantize(g, w)
    except (SnnError, SnnErrors):
        return
    if g.time.steps * sum(int(np.prod(layer.shape)) for layer in g.layers) > 200_000:
        return                                      # a mutated `steps`: too slow, nothing new
    rng = np.random.default_rng(0)
    x = {inp.name: rng.random((3, *inp.shape)).astype(np.float32) for inp in g.inputs}
    check_qat(g, w, next(iter(x.values())) if len(x) == 1 else x)


WIDE_ACCUMULATOR = """model wide
time { dt = 1 ms; steps = 4 }
input x[16] = direct(scale = 1.0)
layer h = dense(x, 4) with LIF(tau_mem = 10 ms, threshold = 1.0)
output h = count
hardware { weights = fixed<28,20>; state = fixed<16,8>; inputs = fixed<26,18> }
"""


def _wide_case():
    """Integer weights and inputs of the model above whose products cancel: four terms of about
    +2^52 and four of -2^52 around an exact sum of 2^30 - 1 + 2^29 for neuron 0, which float64 (in order)
    rounds up by one unit (its shift by 30 fractional bits, round half up, then gives 2, not 1)."""
    wi = np.zeros((4, 16), np.int64)
    xi = np.zeros((1, 16), np.int64)
    wi[:, :8] = 2**27 - 1
    xi[0, :4], xi[0, 4:8] = 2**25 - 1, -(2**25 - 1)
    wi[:, 8], xi[0, 8] = [2**15 - 1, 2**15 + 1, 3, 2**14], 2**15 + 1
    wi[:, 9], xi[0, 9] = [64, -5, 3, 1], 2**23
    return {"h": {"weight": wi / 2.0**20}}, xi / 2.0**18


def test_qat_refuses_a_synaptic_sum_that_float64_would_round():
    """A layer whose accumulator can exceed float64's 2^53 (59 bits here) is checked on every
    batch: a sum that would round is the layer's located error, not a result that differs from
    the golden model's (which this input makes it do: the float64 matmul is one unit off)."""
    from snnc.errors import SnnError

    g = load_text(WIDE_ACCUMULATOR, "wide.snn").graph
    w, x = _wide_case()
    assert [p.acc_bits for p in quantize(g, w).plans] == [59]
    xi, wi = (x * 2**18).astype(np.int64)[0], (w["h"]["weight"] * 2**20).astype(np.int64)[0]
    # float64 summing neuron 0's products in order rounds the sum (the matmul's order, and so
    # its error, depends on the BLAS and its threads: one unit up here, four down elsewhere)
    in_order = 0.0
    for a, b in zip(xi.tolist(), wi.tolist()):
        in_order += float(a) * float(b)
    assert int((xi * wi).sum()) == 2**30 - 1 + 2**29 and in_order == 2**30 + 2**29
    model = SNN(g, w, qat=True)
    with pytest.raises(SnnError) as err:
        model(model.encode(x, seed=5))
    assert err.value.format().splitlines()[0] == (
        "wide.snn:4:1: error: the synaptic input of layer 'h' reaches about 2^55.0 units of its "
        "accumulator (weights fixed<28,20>, 59 bits), beyond the 2^53 the torch target's QAT mode "
        "sums exactly in float64: its results could differ from the golden model's")


def test_qat_with_a_wide_accumulator_is_exact_below_2_53():
    """The same 59-bit layer with sums below 2^53 (the inputs scaled down by 2^4 and more): no
    error, and QAT is the golden model bit for bit."""
    g = load_text(WIDE_ACCUMULATOR, "wide.snn").graph
    w, x = _wide_case()
    check_qat(g, w, np.concatenate([x / 16, x / 2**10, -x / 64]))


POOL_ON_DIRECT = """model down
time { dt = 1 ms; steps = 6 }
input image[1, 4, 4] = direct(scale = 1.0)
layer p = avgpool(image, 2) with IF(threshold = 0.5)
layer s = sumpool(image, 2) with LIF(tau_mem = 5 ms, threshold = 0.75)
layer f = flatten(p)
layer out = dense(f, 3) with LIF(tau_mem = 10 ms)
output out = count
"""


def test_qat_pooling_of_a_direct_input_is_the_golden_model():
    """Pooling a direct (analog) input: QAT scaled the pooled real values by 2^-acc_frac, whose
    acc_frac counts the input's Fx, which the real values already carry (2^8 too small)."""
    g = load_text(POOL_ON_DIRECT, "down.snn").graph
    x = np.random.default_rng(1).uniform(-0.5, 2.0, (4, 1, 4, 4))
    _, out, ref = check_qat(g, random_weights(g, 0), x)
    assert ref.stats["p"].spikes > 0 and ref.stats["s"].spikes > 0


def test_layer_names_that_torch_would_merge_stay_separate_modules():
    """`keys` is a ModuleDict attribute, so its module key is `keys_`; a layer named `keys_` took
    the same key and replaced it (one weight for two layers, or a crash with other shapes)."""
    text = """model clash
time { dt = 1 ms; steps = 5 }
input x[4] = direct(scale = 1.0)
layer keys = dense(x, 6) with IF(threshold = 0.5)
layer keys_ = dense(keys, 4) with IF(threshold = 0.5)
layer keys__ = dense(keys_, 3) with IF(threshold = 0.5)
output keys__ = count
"""
    g = load_text(text, "clash.snn").graph
    model, _, _ = check_qat(g, random_weights(g, 0), np.random.default_rng(0).random((3, 4)))
    assert sorted(model.state_dict()) == ["layers.keys_.weight", "layers.keys__.weight",
                                          "layers.keys___.weight"]
    assert len({id(model.layer(n)) for n in ("keys", "keys_", "keys__")}) == 3


@pytest.mark.parametrize("name", ["_modules", "_parameters", "_buffers", "training"])
def test_layer_names_that_are_module_instance_attributes(name):
    """A ModuleDict instance's own attributes (`_modules`, ...) are not attributes of the class:
    a layer named so crashed to_torch, snnc train and QAT ("attribute already exists")."""
    text = f"""model inst
time {{ dt = 1 ms; steps = 5 }}
input x[4] = direct(scale = 1.0)
layer {name} = dense(x, 6) with IF(threshold = 0.5)
layer out = dense({name}, 3) with IF(threshold = 0.5)
output out = count
"""
    g = load_text(text, "inst.snn").graph
    model, _, ref = check_qat(g, random_weights(g, 0), np.random.default_rng(0).random((3, 4)))
    assert sorted(model.state_dict()) == sorted([f"layers.{name}_.weight", "layers.out.weight"])
    assert ref.stats[name].spikes > 0
