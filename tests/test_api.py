"""The Python API (snnc.load / CompiledModel): what it refuses, with which exception and message,
and that what it accepts is the same computation (found by an API QA pass: each case was silently
wrong or failed deep inside numpy / torch)."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import snnc
from snnc.errors import SnnError, SnnErrors
from snnc.weights import save_weights

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits.snn"


@pytest.fixture(scope="module")
def m():
    return snnc.load(DIGITS)


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).random((3, 64))


def _messages(exc) -> list[str]:
    return [e.message for e in (exc.errors if isinstance(exc, SnnErrors) else [exc])]


# ------------------------------------------------------------------ inputs, seeds, sample ids


def test_encode_checks_sample_ids_as_simulate_does(m, x):
    # a single id was broadcast over the batch (every sample encoded as sample 5)
    with pytest.raises(ValueError, match=r"sample_ids must have shape \[3\], got \[1\]"):
        m.encode(x, sample_ids=[5])
    with pytest.raises(ValueError, match=r"sample_ids must be integers from 0 to 2\*\*63 - 1, "
                                         "not float64"):
        m.simulate(x, sample_ids=[0.5, 1.5, 2.5])       # was truncated to 0, 1, 2
    with pytest.raises(ValueError, match="sample_ids must be integers from 0"):
        m.simulate(x, sample_ids=[-1, 0, 1])
    # a uint64 id of 2**63 wrapped to a negative int64; a set was "got []"
    with pytest.raises(ValueError, match=r"from 0 to 2\*\*63 - 1, not uint64 values "
                                         r"\[9223372036854775808, 0, 1\]"):
        m.simulate(x, sample_ids=np.array([2**63, 0, 1], dtype=np.uint64))
    with pytest.raises(TypeError, match="sample_ids must be a sequence or an array"):
        m.simulate(x, sample_ids={0, 1, 2})
    ids = [7, 8, 9]
    np.testing.assert_array_equal(m.encode(x, sample_ids=ids)["pixels"],
                                  m.encode(x, sample_ids=np.array(ids, np.uint32))["pixels"])


def test_numpy_integer_seeds_work_and_others_are_a_type_error(m, x):
    # np.int64(3) overflowed in the rate encoder's hash
    a = m.simulate(x, seed=np.int64(3), backend="golden")
    b = m.simulate(x, seed=3, backend="golden")
    np.testing.assert_array_equal(a.outputs["out"].count, b.outputs["out"].count)
    np.testing.assert_array_equal(m.encode(x, seed=np.uint32(9))["pixels"],
                                  m.encode(x, seed=9)["pixels"])
    for bad in (1.5, None, True):
        with pytest.raises(TypeError, match="seed must be an integer"):
            m.encode(x, seed=bad)


@pytest.mark.parametrize("backend", ["float", "golden", "torch"])
def test_seeds_out_of_range_are_refused_as_random_weights_refuses_them(m, x, backend):
    # -1 was hashed as 2**64 - 1 and 2**64 as 0 by the rate encoder, where random_weights
    # refused both
    np.testing.assert_array_equal(m.encode(x, seed=2**64 - 1)["pixels"],
                                  m.encode(x, seed=np.uint64(2**64 - 1))["pixels"])
    assert not np.array_equal(m.encode(x, seed=2**64 - 1)["pixels"], m.encode(x, seed=0)["pixels"])
    for bad in (-1, 2**64):
        with pytest.raises(ValueError) as e:
            m.simulate(x, seed=bad, backend=backend)
        assert str(e.value) == f"seed must be an integer from 0 to 2**64 - 1, not {bad}"
        with pytest.raises(ValueError) as e:
            m.encode(x, seed=bad)
        assert str(e.value) == f"seed must be an integer from 0 to 2**64 - 1, not {bad}"


def test_input_data_that_is_not_real_numbers(m, x):
    with pytest.raises(TypeError, match="data for input 'pixels' must be real numbers, not "
                                        "complex128"):
        m.simulate(x.astype(complex))                   # lost its imaginary part
    with pytest.raises(TypeError, match="must be real numbers, not <U"):
        m.simulate(np.array([["a"] * 64]))
    with pytest.raises(ValueError, match="data for input 'pixels' is not a regular array"):
        m.simulate([[0.0] * 64, [0.0] * 63])


def test_input_dict_names_unknown_inputs(m, x):
    with pytest.raises(ValueError) as e:
        m.simulate({"pixel": x})
    assert str(e.value) == ("no data for input(s) pixels; model 'digits' has no input(s) pixel "
                            "(its inputs: pixels)")
    with pytest.raises(ValueError, match=r"has no input\(s\) extra"):
        m.simulate({"pixels": x, "extra": x})           # was ignored


def test_torch_tensors_that_require_grad_are_data(m, x):
    torch = pytest.importorskip("torch")
    t = torch.tensor(x, requires_grad=True)
    np.testing.assert_array_equal(m.simulate(t, backend="golden").outputs["out"].count,
                                  m.simulate(x, backend="golden").outputs["out"].count)


# ------------------------------------------------------------------ weights dicts


def test_weights_dicts_are_checked_as_files_are(m, x):
    w = m.random_weights(0)
    extra = {**w, "out": {**w["out"], "bias": np.full(10, 1.5, np.float32)}}
    for call in (lambda: m.simulate(x, weights=extra), lambda: m.quantize(extra),
                 lambda: snnc.load(DIGITS, weights=extra)):
        with pytest.raises(SnnError) as e:                 # the bias was silently unused
            call()
        assert e.value.message == ("weights dict has an extra tensor 'out/bias': layer 'out' "
                                   "has tensors 'weight'")
    missing = {"hidden": w["hidden"]}
    with pytest.raises(SnnError) as e:                     # was stored by load, failed later
        snnc.load(DIGITS, weights=missing)
    assert e.value.message == "weights dict has no tensor 'out/weight' (layer 'out' needs shape [10, 128])"
    nan = {"hidden": w["hidden"], "out": {"weight": w["out"]["weight"].copy()}}
    nan["out"]["weight"][3, 7] = np.nan
    with pytest.raises(SnnError, match="weights dict: tensor 'out/weight' has 1 non-finite value"):
        m.to_torch(nan, qat=True)                           # QAT computed with 0 for the NaN
    with pytest.raises(SnnError, match="tensor 'out/weight' has dtype complex128"):
        m.simulate(x, weights={"hidden": w["hidden"],
                               "out": {"weight": w["out"]["weight"].astype(complex)}})


def test_weights_dict_values_may_be_integers_or_tensors(m, x):
    torch = pytest.importorskip("torch")
    w = m.random_weights(0)
    as_tensors = {l: {t: torch.tensor(a, requires_grad=True) for t, a in ts.items()}
                  for l, ts in w.items()}
    np.testing.assert_array_equal(m.simulate(x, weights=as_tensors, backend="golden")
                                  .outputs["out"].count,
                                  m.simulate(x, weights=w, backend="golden").outputs["out"].count)
    ints = {l: {t: np.zeros(a.shape, np.int32) for t, a in ts.items()} for l, ts in w.items()}
    assert m.simulate(x, weights=ints, backend="golden").stats["out"].spikes == 0


def test_a_weights_file_warning_reaches_the_api_user(m, x, tmp_path):
    # the graph-hash warning of load_weights was dropped when a path was passed
    path = tmp_path / "w.npz"
    other = snnc.loads(DIGITS.read_text().replace("tau_mem = 10 ms, threshold = 1.0",
                                                  "tau_mem = 12 ms, threshold = 1.0"),
                       str(DIGITS))
    save_weights(path, other.graph, other.random_weights(0))
    with pytest.warns(UserWarning, match="was made for a different version of model 'digits'"):
        m.simulate(x, weights=str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.simulate(x, weights=snnc.load(DIGITS).load_weights(path))   # its .warnings hold it


# ------------------------------------------------------------------ the other entry points


def test_a_compiled_model_where_a_quantized_model_or_graph_is_wanted(m, tmp_path):
    from snnc.backends.hls import generate_hls
    from snnc.backends.verilog import generate
    from snnc.datasets import load_dataset

    for fn, name in ((generate, "generate"), (generate_hls, "generate_hls")):
        with pytest.raises(TypeError) as e:       # AttributeError: no attribute 'plan'
            fn(m, tmp_path / name)
        assert str(e.value) == (f"{name} takes a QuantizedModel (snnc.load(...).quantize("
                                "weights)), not CompiledModel")
    q = m.quantize(m.random_weights(0))
    with pytest.raises(TypeError, match="lanes must be an integer, not 2.5"):
        generate_hls(q, tmp_path / "h", lanes=2.5)          # wrote 2 lanes
    ds = load_dataset("digits", m)                          # AttributeError: no 'inputs'
    assert ds.x_test.shape[1:] == (64,)


def test_hls_sample_ids_are_checked(m, x, tmp_path):
    from snnc.backends.hls.csim import input_payloads

    q = m.quantize(m.random_weights(0))
    with pytest.raises(ValueError, match=r"sample_ids must have shape \[3\], got \[2\]"):
        input_payloads(q, x, 0, [0, 1])                     # a numpy broadcast error


def test_smaller_misuses_say_what_is_wrong(m, x):
    with pytest.raises(TypeError, match="loads takes the model's text as a str, not bytes"):
        snnc.loads(DIGITS.read_bytes())
    with pytest.raises(TypeError, match="not NoneType"):
        snnc.loads(None)
    assert snnc.load(bytes(DIGITS)).path == str(DIGITS)     # was kept as bytes
    q = m.quantize(m.random_weights(0))
    with pytest.raises(KeyError, match="model 'digits' has no layer 'nope' \\(its layers: "
                                       "hidden, out\\)"):
        q.plan("nope")
    r = m.simulate(x)
    with pytest.raises(ValueError, match="delivered\\(\\) needs the recorded events"):
        r.delivered("hidden")
    assert r.stats["out"].as_dict()["nonfinite"] == 0 and r.totals.nonfinite == 0


def test_torch_surrogate_of_a_wrong_type(m):
    pytest.importorskip("torch")
    with pytest.raises(TypeError, match="a surrogate is a name .* not int"):
        m.to_torch(surrogate=123)                           # AttributeError: no 'name'


def test_torch_forward_of_an_empty_batch(m, x):
    pytest.importorskip("torch")
    net = m.to_torch()
    e = net.encode(x)
    with pytest.raises(ValueError, match="the batch holds no samples"):
        net({k: v[:, :0] for k, v in e.items()} if isinstance(e, dict) else e[:, :0])


def test_yes_no_arguments_take_bools_only(m, x):
    # record="no" was true (and kept every layer's record); qat="False" built a QAT module
    with pytest.raises(TypeError, match="record must be True or False, not 'no'"):
        m.simulate(x, record="no")
    with pytest.raises(TypeError, match="record must be True or False, not 1"):
        m.simulate(x, backend="golden", record=1)
    r = m.simulate(x, record=np.bool_(True))
    assert r.delivered("hidden").shape[:2] == (m.graph.time.steps, 3)
    pytest.importorskip("torch")
    with pytest.raises(TypeError, match="qat must be True or False, not 'False'"):
        m.to_torch(qat="False")


# ------------------------------------------------------------------ weights read from a file


def test_loaded_weights_are_checked_again_for_the_model_they_are_used_with(m, x, tmp_path):
    # a LoadedWeights was trusted as "checked when it was read": read for another model, or
    # edited since (a NaN), it was used without a word
    path = tmp_path / "w.npz"
    save_weights(path, m.graph, m.random_weights(0))
    renamed = snnc.loads(DIGITS.read_text().replace("model digits", "model other"), str(DIGITS))
    with pytest.raises(SnnError) as e:
        renamed.simulate(x, weights=m.load_weights(path))
    assert e.value.message == f"weights file '{path}' was made for model 'digits', not 'other'"
    wider = snnc.loads(DIGITS.read_text().replace("dense(pixels, 128)", "dense(pixels, 100)"),
                       str(DIGITS))
    with pytest.raises(SnnErrors) as e:
        wider.quantize(snnc.load(DIGITS).load_weights(path))
    assert _messages(e.value) == [
        f"weights loaded from '{path}': tensor 'hidden/weight' has shape [128, 64], but layer "
        "'hidden' needs [100, 64]",
        f"weights loaded from '{path}': tensor 'out/weight' has shape [10, 128], but layer 'out' "
        "needs [10, 100]"]
    model = snnc.load(DIGITS)
    w = model.load_weights(path)
    w["out"]["weight"][3, 7] = np.nan
    for call in (lambda: model.simulate(x, weights=w), lambda: model.simulate(x)):
        with pytest.raises(SnnError) as e:
            call()
        assert e.value.message == (f"weights loaded from '{path}': tensor 'out/weight' has 1 "
                                   "non-finite value (the first, nan, at index [3, 7])")


def test_loaded_weights_of_another_version_of_the_model_warn(m, x, tmp_path):
    path = tmp_path / "w.npz"
    save_weights(path, m.graph, m.random_weights(0))
    loaded = snnc.load(DIGITS).load_weights(path)
    assert loaded.warnings == []
    other = snnc.loads(DIGITS.read_text().replace("tau_mem = 10 ms, threshold = 1.0",
                                                  "tau_mem = 12 ms, threshold = 1.0"), str(DIGITS))
    with pytest.warns(UserWarning, match="was made for a different version of model 'digits'"):
        other.simulate(x, weights=loaded)


def test_the_weights_file_warning_points_at_the_caller(x, tmp_path):
    # stacklevel=3 named snnc/__init__.py for snnc.loads(text, weights=PATH)
    path = tmp_path / "w.npz"
    m = snnc.load(DIGITS)
    save_weights(path, m.graph, m.random_weights(0))
    text = DIGITS.read_text().replace("tau_mem = 10 ms, threshold = 1.0",
                                      "tau_mem = 12 ms, threshold = 1.0")
    for call in (lambda: snnc.loads(text, str(DIGITS), weights=path),
                 lambda: snnc.loads(text, str(DIGITS)).simulate(x, weights=path)):
        with pytest.warns(UserWarning, match="made for a different version") as record:
            call()
        assert [w.filename for w in record] == [__file__]


def test_load_dataset_takes_a_path_object(m, tmp_path):
    # "no data set given": a pathlib.Path was not a name
    from snnc.datasets import load_dataset

    path = tmp_path / "d.npz"
    np.savez(path, x_train=np.zeros((3, 64)), y_train=np.arange(3), x_test=np.zeros((2, 64)),
             y_test=np.arange(2))
    ds = load_dataset(path, m)
    assert ds.name == f"npz:{path}" and ds.y_train.tolist() == [0, 1, 2]


def test_load_dataset_and_simulate_refuse_or_take_odd_arguments(m):
    """load_dataset("digits", None) was an AttributeError, load_dataset(3, m) "no data set
    given"; a bfloat16 tensor given to simulate was torch's "unsupported ScalarType"."""
    import torch

    from snnc.datasets import load_dataset

    with pytest.raises(TypeError, match="load_dataset needs the model .* not NoneType"):
        load_dataset("digits", None)
    with pytest.raises(TypeError, match="a data set's name is a str .* not int"):
        load_dataset(3, m)
    x = torch.rand(3, 64)
    got = m.simulate(x.to(torch.bfloat16), backend="golden").predictions
    want = m.simulate(x.to(torch.bfloat16).float(), backend="golden").predictions
    assert got.tolist() == want.tolist()


def test_what_the_result_cannot_show_is_a_warning(m, x):
    """Weights the quantizer clipped and sequence steps beyond the model's were dropped without a
    word by the API, where `snnc simulate` notes both."""
    from snnc.weights import random_weights

    w = random_weights(m.graph, 0)
    w["hidden"]["weight"][:] = 5.0                  # fixed<8,6> reaches 1.98
    with pytest.warns(UserWarning) as got:
        m.simulate(x, weights=w, backend="golden")
    assert [str(r.message) for r in got] == [
        "layer 'hidden': 8192 of 8192 weights clipped to the range of fixed<8,6> [-2, 1.98438]"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # the float model uses them unquantised
        m.simulate(x, weights=w, backend="float")
        m.simulate(x, backend="golden")               # in range: nothing to say
    alif = snnc.load(ROOT / "examples" / "recurrent_alif.snn")     # 40 steps, input [1]
    seq = np.random.default_rng(0).random((2, 43, 1))
    cut = ("input 'signal': each sample is a sequence of 43 steps and model 'mnist1d_alif' runs "
           "40: its last 3 steps are not used")
    for call in (lambda: alif.simulate(seq), lambda: alif.encode(seq),
                 lambda: alif.simulate({"signal": seq}, backend="golden")):
        with pytest.warns(UserWarning) as got:
            call()
        assert [str(r.message) for r in got] == [cut]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        alif.simulate(seq[:, :40])
    # values a rate encoder clips (unscaled 0..255 pixels), in simulate and encode alike
    clip = ("input 'pixels': 99.2% of the values of input 'pixels' are outside [0, 1] (min 0, "
            "max 255), which its rate encoder clips (spike probability clip(1 * x, 0, 1)); "
            "scale the data to [0, 1]")
    u8 = np.random.default_rng(0).integers(0, 256, size=(4, 64)).astype(np.uint8)
    for call in (lambda: m.simulate(u8), lambda: m.encode(u8),
                 lambda: m.to_torch(m.random_weights(0)).encode(u8)):
        with pytest.warns(UserWarning) as got:
            call()
        assert [str(r.message) for r in got] == [clip]


def test_a_direct_input_beyond_float64_is_counted_not_a_numpy_warning():
    """numpy's "overflow encountered in multiply" leaked from the direct encoder; the inf it
    makes is counted as saturated inputs by the golden model."""
    import warnings

    d = snnc.loads("model d\ntime { dt = 1 ms; steps = 2 }\ninput x[2] = direct(scale = 1e300)\n"
                   "layer o = dense(x, 2) with IF\noutput o = count\n", "d.snn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = d.simulate(np.array([[1e300, 1.0]]), backend="golden")
    assert r.stats["x"].saturation == {"inputs": 4}
