"""Data sets (snnc.datasets, docs/datasets.md): digits, mnist1d, npz files (dense and event lists)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from snnc.build import load_text
from snnc.datasets import bin_events, fit_input, load_dataset, sequence_notes, stratified_split
from snnc.errors import SnnError

MODEL = """\
model d
time {{ dt = 1 ms; steps = {steps} }}
input x{shape} = {enc}
{flatten}layer out = dense({src}, {classes}) with LIF(tau_mem = 10 ms)
output out = count
"""


def model(shape="[64]", enc="rate", steps=25, classes=10):
    """A one-layer model whose input ``x`` has ``shape`` (flattened first when it is not 1-D)."""
    multi = "," in shape
    return load_text(MODEL.format(shape=shape, enc=enc, steps=steps, classes=classes,
                                  flatten="layer xf = flatten(x)\n" if multi else "",
                                  src="xf" if multi else "x"), "d.snn").graph


# ------------------------------------------------------------------ digits


def test_digits_shapes_split_and_scaling():
    ds = load_dataset("digits", model())
    assert ds.name == "digits"
    assert ds.x_train.shape == (1400, 64) and ds.x_test.shape == (397, 64)
    assert ds.y_train.shape == (1400,) and ds.y_test.shape == (397,)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    # stratified: every class is ~22% test
    counts = np.bincount(ds.y_test, minlength=10)
    assert counts.sum() == 397 and counts.min() >= 39 and counts.max() <= 40
    # the split is fixed: same arrays on every call, no sample in both splits
    again = load_dataset("digits", model())
    np.testing.assert_array_equal(ds.x_test, again.x_test)
    np.testing.assert_array_equal(ds.y_train, again.y_train)
    train_rows = {r.tobytes() for r in ds.x_train}
    from sklearn.datasets import load_digits

    d = load_digits()
    tr, te = stratified_split(d.target, 397, 0)
    assert len(set(tr) & set(te)) == 0 and len(tr) + len(te) == 1797
    np.testing.assert_array_equal(ds.x_test, (d.data[te] / 16).astype(np.float32))
    assert sum(r.tobytes() in train_rows for r in ds.x_test) <= 5


def test_digits_as_images():
    ds = load_dataset("digits", model("[1, 8, 8]"))
    assert ds.x_train.shape == (1400, 1, 8, 8) and ds.x_test.shape == (397, 1, 8, 8)
    flat = load_dataset("digits", model())
    np.testing.assert_array_equal(ds.x_test.reshape(397, 64), flat.x_test)


def test_stratified_split_is_proportional():
    y = np.repeat(np.arange(3), [50, 30, 20])
    tr, te = stratified_split(y, 10, seed=5)
    assert np.bincount(y[te]).tolist() == [5, 3, 2]
    assert np.array_equal(te, np.sort(te)) and len(tr) == 90
    assert np.array_equal(te, stratified_split(y, 10, seed=5)[1])


# ------------------------------------------------------------------ mnist1d


@pytest.fixture(scope="module")
def mnist1d_cache(tmp_path_factory):
    """One cache directory for the module: MNIST-1D is generated once (a few seconds)."""
    pytest.importorskip("mnist1d")
    return tmp_path_factory.mktemp("snnc-cache")


def test_mnist1d_generates_and_caches(mnist1d_cache, monkeypatch):
    tmp_path = mnist1d_cache
    monkeypatch.setenv("SNNC_CACHE", str(tmp_path))
    state = np.random.get_state()[1].copy()
    seq = model("[1]", "delta(threshold = 0.05)", steps=40)
    ds = load_dataset("mnist1d", seq)
    assert np.array_equal(np.random.get_state()[1], state)     # the global generator is untouched
    assert ds.x_train.shape == (4000, 40, 1) and ds.x_test.shape == (1000, 40, 1)
    assert ds.y_train.shape == (4000,) and set(np.unique(ds.y_test)) == set(range(10))
    assert (tmp_path / "mnist1d-v1.npz").exists()
    # from the cache: the same data, and a static model of input [40] gets [N, 40]
    static = load_dataset("mnist1d", model("[40]"))
    assert static.x_train.shape == (4000, 40)
    np.testing.assert_array_equal(static.x_test, ds.x_test[:, :, 0])
    # a damaged cache is regenerated
    (tmp_path / "mnist1d-v1.npz").write_bytes(b"junk")
    np.testing.assert_array_equal(load_dataset("mnist1d", seq).y_test, ds.y_test)


def test_mnist1d_sequence_too_short_for_the_model(mnist1d_cache, monkeypatch):
    monkeypatch.setenv("SNNC_CACHE", str(mnist1d_cache))
    with pytest.raises(SnnError) as e:
        load_dataset("mnist1d", model("[1]", "delta", steps=50))
    assert e.value.message == ("data set 'mnist1d': samples are sequences of 40 "
                               "steps of [1], but model 'd' runs 50 steps")
    assert e.value.loc.line == 3


# ------------------------------------------------------------------ fitting


def test_fit_input_rules():
    g = model("[2, 3]", "direct", steps=4)
    assert fit_input(np.zeros((5, 2, 3)), g, "x").shape == (5, 2, 3)
    assert fit_input(np.zeros((5, 6)), g, "x").shape == (5, 2, 3)
    assert fit_input(np.zeros((5, 4, 6)), g, "x").shape == (5, 4, 2, 3)
    assert fit_input(np.zeros((5, 7, 2, 3)), g, "x").shape == (5, 7, 2, 3)
    with pytest.raises(SnnError) as e:
        fit_input(np.zeros((5, 3, 6)), g, "x")
    assert "3 steps" in e.value.message
    with pytest.raises(SnnError) as e:
        fit_input(np.zeros((5, 5)), g, "x")
    assert e.value.message == ("x: samples of shape [5] do not fit input 'x', which takes [2, 3] "
                               "or a sequence [L, 2, 3] with L >= 4")
    with pytest.raises(SnnError) as e:      # was "sequences of 0 steps", hint "set steps = 0"
        fit_input(np.zeros((5, 0)), g, "x")
    assert e.value.message == ("x: samples of shape [0] do not fit input 'x', which takes [2, 3] "
                               "or a sequence [L, 2, 3] with L >= 4")
    rate = model("[6]", "rate", steps=4)
    with pytest.raises(SnnError) as e:
        fit_input(np.zeros((5, 4, 6)), rate, "x")
    assert e.value.message == "x: samples of shape [4, 6] do not fit input 'x', which takes [6] (or 6 values)"
    assert "rate encoding takes static samples" in e.value.hint
    with pytest.raises(SnnError, match="non-finite"):
        fit_input(np.full((2, 6), np.nan), rate, "x")


def test_sequences_longer_than_the_model_are_noted(mnist1d_cache, monkeypatch, capsys):
    """A sequence longer than ``steps`` is simulated on its first ``steps`` frames; the rest is
    said to be left out (a note on every command that loads the data), never silently."""
    g = model("[2, 3]", "direct", steps=4)
    assert sequence_notes(np.zeros((5, 7, 2, 3)), g, "x") == (
        "x: each sample is a sequence of 7 steps and model 'd' runs 4: its last 3 steps are not "
        "used",)
    for fits in (np.zeros((5, 4, 6)), np.zeros((5, 6)), np.zeros((5, 2, 3))):
        assert sequence_notes(fits, g, "x") == ()
    assert sequence_notes(np.zeros((5, 12)), model("[6]", "rate", steps=1), "x") == ()
    monkeypatch.setenv("SNNC_CACHE", str(mnist1d_cache))
    ds = load_dataset("mnist1d", model("[1]", "direct", steps=30))
    assert ds.notes == ("data set 'mnist1d': each sample is a sequence of 40 steps and model 'd' "
                        "runs 30: its last 10 steps are not used",)
    assert load_dataset("mnist1d", model("[1]", "direct", steps=40)).notes == ()


# ------------------------------------------------------------------ npz, dense


def test_npz_dense(tmp_path):
    path = tmp_path / "data.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.random((30, 8, 8)), y_train=rng.integers(0, 10, 30),
             x_test=rng.random((7, 64)), y_test=np.arange(7))
    ds = load_dataset(f"npz:{path}", model("[1, 8, 8]"))
    assert ds.name == f"npz:{path}"
    assert ds.x_train.shape == (30, 1, 8, 8) and ds.x_test.shape == (7, 1, 8, 8)
    assert ds.y_test.tolist() == list(range(7))


def test_npz_dense_errors(tmp_path):
    g = model()
    path = tmp_path / "data.npz"
    np.savez(path, x_train=np.zeros((3, 64)), y_train=np.zeros(3), x_test=np.zeros((2, 64)))
    with pytest.raises(SnnError) as e:
        load_dataset(f"npz:{path}", g)
    assert e.value.message == f"data set file '{path}' has no key 'y_test'"
    np.savez(path, x_train=np.zeros((3, 63)), y_train=np.zeros(3), x_test=np.zeros((2, 64)),
             y_test=np.zeros(2))
    with pytest.raises(SnnError) as e:
        load_dataset(f"npz:{path}", g)
    assert e.value.message == (f"data set file '{path}', x_train: samples of shape [63] do not fit "
                               "input 'x', which takes [64] (or 64 values)")
    assert e.value.loc.line == 3
    np.savez(path, x_train=np.zeros((3, 64)), y_train=np.array([0, 1, 10]),
             x_test=np.zeros((2, 64)), y_test=np.zeros(2, int))
    with pytest.raises(SnnError) as e:
        load_dataset(f"npz:{path}", g)
    assert e.value.message == (f"data set 'npz:{path}' has labels 0..10 in its training split, but "
                               "output 'out' has 10 neurons (classes 0..9)")
    np.savez(path, x_train=np.zeros((3, 64)), y_train=np.zeros(4, int),
             x_test=np.zeros((2, 64)), y_test=np.zeros(2, int))
    with pytest.raises(SnnError, match="the training split has 3 samples but labels of shape"):
        load_dataset(f"npz:{path}", g)
    np.savez(path, x_train=np.zeros((3, 64)), y_train=np.array([0.5, 1, 2]),
             x_test=np.zeros((2, 64)), y_test=np.zeros(2, int))
    with pytest.raises(SnnError, match="labels must be integers"):
        load_dataset(f"npz:{path}", g)
    np.savez(path, images=np.zeros(3))
    with pytest.raises(SnnError) as e:
        load_dataset(f"npz:{path}", g)
    assert e.value.message.startswith(f"data set file '{path}' holds neither a dense data set")
    assert e.value.message.endswith("it has images")


# ------------------------------------------------------------------ npz, event lists


def test_bin_events_exact_counts():
    # steps 4, duration 8: t = 0, 1 -> step 0; 2 -> 1; 7 -> 3 (docs/datasets.md example)
    out = bin_events(t=[0, 1, 2, 7], x=[1, 1, 1, 1], y=[0, 0, 0, 0], p=[0, 0, 0, 0],
                     sample=[0, 0, 0, 0], n_samples=1, steps=4, shape=(1, 1, 2), duration=8)
    assert out.shape == (1, 4, 1, 1, 2)
    assert out[0, :, 0, 0, 1].tolist() == [2, 1, 0, 1]
    assert out[0, :, 0, 0, 0].tolist() == [0, 0, 0, 0]
    # t >= duration dropped; default duration floor(max t) + 1
    out = bin_events([0, 9], [0, 0], [0, 0], [0, 0], [0, 0], 1, 2, (1, 1, 1), duration=8)
    assert out.sum() == 1
    out = bin_events([0.5, 4.5, 9.2], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], 1, 2, (1, 1, 1))
    assert out[0, :, 0, 0, 0].tolist() == [2, 1]     # duration 10: bins [0, 5), [5, 10)


def events_file(path, **over):
    # 3 samples of a 2x2x3 input (P=2, H=2, W=3); 5 steps over a duration of 10
    ev = dict(t=np.array([0, 1, 2, 9, 5, 5, 3, 0]),
              x=np.array([0, 0, 2, 2, 1, 1, 0, 2]),
              y=np.array([1, 1, 0, 0, 1, 1, 0, 1]),
              p=np.array([0, 0, 1, 1, 0, 0, 1, 1]),
              sample=np.array([0, 0, 0, 0, 1, 1, 2, 2]),
              label=np.array([3, 1, 4]), duration=np.array(10))
    ev.update(over)
    ev = {k: v for k, v in ev.items() if v is not None}
    np.savez(path, **ev)
    return f"npz:{path}"


def test_npz_events_binned(tmp_path):
    g = model("[2, 2, 3]", "direct(scale = 1.0)", steps=5, classes=5)
    name = events_file(tmp_path / "ev.npz", test=np.array([False, True, False]))
    ds = load_dataset(name, g)
    assert ds.x_train.shape == (2, 5, 2, 2, 3) and ds.x_test.shape == (1, 5, 2, 2, 3)
    assert ds.y_train.tolist() == [3, 4] and ds.y_test.tolist() == [1]
    s0 = ds.x_train[0]
    assert s0.sum() == 4
    assert s0[0, 0, 1, 0] == 2           # t = 0 and 1 -> step 0 (bins of 2 time units)
    assert s0[1, 1, 0, 2] == 1           # t = 2 -> step 1
    assert s0[4, 1, 0, 2] == 1           # t = 9 -> step 4
    assert ds.x_test[0, 2, 0, 1, 1] == 2  # sample 1: two events at t = 5 -> step 2
    s2 = ds.x_train[1]
    assert s2[1, 1, 0, 0] == 1 and s2[0, 1, 1, 2] == 1 and s2.sum() == 2


def test_npz_events_default_split_and_duration(tmp_path):
    g = model("[2, 2, 3]", "direct", steps=5, classes=5)
    ds = load_dataset(events_file(tmp_path / "ev.npz", duration=None), g)
    # 3 samples: the last ceil(3/5) = 1 is the test split; duration = floor(9) + 1 = 10
    assert ds.y_train.tolist() == [3, 1] and ds.y_test.tolist() == [4]
    assert ds.x_test[0].sum() == 2 and ds.x_train[0, 4].sum() == 1


def test_npz_events_errors(tmp_path):
    g = model("[2, 2, 3]", "direct", steps=5, classes=5)
    path = tmp_path / "ev.npz"
    with pytest.raises(SnnError) as e:
        load_dataset(events_file(path, p=np.array([0, 0, 1, 2, 0, 0, 1, 1])), g)
    assert e.value.message == (f"data set file '{path}': 'p' ranges over 0..2, but there are 2 "
                               "polarities (channels of input 'x'): p must lie in 0..1")
    with pytest.raises(SnnError) as e:
        load_dataset(events_file(path, sample=np.array([0, 0, 0, 0, 1, 1, 2, 3])), g)
    assert "'sample' ranges over 0..3, but there are 3 samples" in e.value.message
    with pytest.raises(SnnError) as e:
        load_dataset(events_file(path, label=None), g)
    assert e.value.message == f"data set file '{path}' has no key 'label'"
    with pytest.raises(SnnError) as e:
        load_dataset(events_file(path, t=np.arange(7)), g)
    assert "'t' has 7 entries" not in e.value.message and "has 8 entries, 't' has 7" in e.value.message
    with pytest.raises(SnnError, match="event times 't' must be finite and >= 0"):
        load_dataset(events_file(path, t=np.array([0, -1, 2, 9, 5, 5, 3, 0])), g)
    rate = model("[2, 2, 3]", "rate", steps=5, classes=5)
    with pytest.raises(SnnError) as e:
        load_dataset(events_file(path), rate)
    assert "uses rate encoding, which takes static samples" in e.value.message
    assert e.value.hint == "use `direct(scale = 1.0)` to feed the binned event counts"
    flat = model("[12]", "direct", steps=5, classes=5)
    with pytest.raises(SnnError, match=r"fills an input of shape \[P, H, W\]"):
        load_dataset(events_file(path), flat)
    # the split flags: booleans or 0/1 (-1 was taken as True, a test sample)
    for bad in (np.array([1, 0, -1]), np.array([0, 2, 1]), np.array([0.0, 1.0, 1.0]),
                np.array([True, False])):
        with pytest.raises(SnnError) as e:
            load_dataset(events_file(path, test=bad), g)
        assert e.value.message == f"data set file '{path}': 'test' must be 3 booleans, one per sample"
    ds = load_dataset(events_file(path, test=np.array([1, 0, 1])), g)
    assert ds.y_test.tolist() == [3, 4] and ds.y_train.tolist() == [1]
    # a time of 1.7e308 overflowed the binning to an index of -2^63 (internal error)
    with pytest.raises(SnnError) as e:
        load_dataset(events_file(path, t=np.array([0, 1, 2, 9, 5, 5, 3, 1.7e308])), g)
    assert e.value.message == (f"data set file '{path}': event times 't' must be below 2^53 (the "
                               "largest is 1.7e+308)")


def test_npz_event_coordinates_as_whole_floats(tmp_path):
    # labels stored as whole floats were taken, coordinates not
    g = model("[2, 2, 3]", "direct(scale = 1.0)", steps=5, classes=5)
    as_int = load_dataset(events_file(tmp_path / "a.npz"), g)
    as_float = load_dataset(events_file(tmp_path / "b.npz", x=np.array([0., 0, 2, 2, 1, 1, 0, 2]),
                                        sample=np.array([0., 0, 0, 0, 1, 1, 2, 2])), g)
    np.testing.assert_array_equal(as_float.x_train, as_int.x_train)
    np.testing.assert_array_equal(as_float.x_test, as_int.x_test)
    with pytest.raises(SnnError, match="'x' must hold integers, not float64"):
        load_dataset(events_file(tmp_path / "c.npz", x=np.array([0.5, 0, 2, 2, 1, 1, 0, 2])), g)


def test_npz_keys_not_read_are_noted(tmp_path):
    # a misspelt optional key ('durations') was ignored without a word
    g = model("[2, 2, 3]", "direct", steps=5, classes=5)
    path = tmp_path / "ev.npz"
    ds = load_dataset(events_file(path, duration=None, durations=np.array(5)), g)
    assert ds.notes == (f"data set file '{path}': key 'durations' not read (docs/datasets.md "
                        "lists the keys)",)
    dense = tmp_path / "d.npz"
    np.savez(dense, x_train=np.zeros((3, 64)), y_train=np.zeros(3, int), x_test=np.zeros((2, 64)),
             y_test=np.zeros(2, int), names=np.array(["a", "b"]), test=np.ones(2, bool))
    ds = load_dataset(f"npz:{dense}", model())
    assert ds.notes[-1] == (f"data set file '{dense}': keys 'names', 'test' not read "
                            "(docs/datasets.md lists the keys)")


def test_npz_events_after_the_duration_are_noted(tmp_path):
    g = model("[2, 2, 3]", "direct", steps=5, classes=5)
    path = tmp_path / "ev.npz"
    ds = load_dataset(events_file(path, duration=np.array(5)), g)     # t = 9, 5, 5 are out
    assert ds.notes == (f"data set file '{path}': 3 of 8 events are at or after 'duration' (5) "
                        "and are left out",)
    assert ds.x_train.sum() + ds.x_test.sum() == 5
    # a duration so small that t * steps / duration overflows: every event after it (was an
    # index of -2^63, an internal error)
    ds = load_dataset(events_file(path, duration=np.array(1e-320)), g)
    assert ds.notes[0].startswith(f"data set file '{path}': 6 of 8 events are at or after")
    assert ds.x_train.sum() + ds.x_test.sum() == 2           # the two at t = 0
    assert load_dataset(events_file(path), g).notes == ()


# ------------------------------------------------------------------ names and files


def test_unknown_names():
    g = model()
    with pytest.raises(SnnError) as e:
        load_dataset("digts", g)
    assert e.value.message == "unknown data set 'digts'"
    assert e.value.hint.startswith("did you mean 'digits'?")
    with pytest.raises(SnnError) as e:
        load_dataset("mnist", g)
    assert "snnc cannot download 'mnist'" in e.value.hint
    with pytest.raises(SnnError) as e:
        load_dataset("cifar", g)
    assert e.value.hint == "known data sets: digits, mnist1d, npz:PATH"
    with pytest.raises(SnnError, match="names no file"):
        load_dataset("npz:", g)


def test_npz_file_problems(tmp_path):
    g = model()
    with pytest.raises(SnnError) as e:
        load_dataset(f"npz:{tmp_path / 'nope.npz'}", g)
    assert e.value.message == f"data set file '{tmp_path / 'nope.npz'}' does not exist"
    (tmp_path / "t.npz").write_text("not a zip")
    with pytest.raises(SnnError) as e:
        load_dataset(f"npz:{tmp_path / 't.npz'}", g)
    assert e.value.message == f"data set file '{tmp_path / 't.npz'}' is not an .npz archive"


def test_digits_do_not_fit_another_input():
    with pytest.raises(SnnError) as e:
        load_dataset("digits", model("[10]"))
    assert e.value.message == ("data set 'digits': samples of shape [64] do not "
                               "fit input 'x', which takes [10] (or 10 values)")
    assert (e.value.loc.line, e.value.loc.col) == (3, 1)


@pytest.mark.parametrize("value", ['"digits:bogus"', "bogus", '"npz:nofile.npz"'])
def test_an_error_about_the_train_blocks_data_set_spans_its_value(value):
    # the caret was one character wide, under the value's first character
    from snnc.build import load_text

    from snnc.errors import SnnErrors

    text = ("model m\ntime { dt = 1 ms; steps = 1 }\ninput x[64] = rate\n"
            "layer o = dense(x, 10) with IF\noutput o = count\n"
            f"train {{ dataset = {value} }}\n")
    if value.strip('"').startswith("npz:"):     # a file: found missing when the data are loaded
        g = load_text(text, "m.snn").graph
        with pytest.raises(SnnError) as e:
            load_dataset(g.train.dataset, g)
        err = e.value
    else:                                       # an unknown name: said when the model is read
        with pytest.raises(SnnErrors) as e:
            load_text(text, "m.snn")
        [err] = e.value.errors
        assert err.message == f"unknown data set '{value.strip(chr(34))}'"
    loc = err.loc
    assert (loc.line, loc.col, loc.end_line, loc.end_col) == (6, 19, 6, 19 + len(value))


def test_train_and_convert_refuse_an_empty_split(tmp_path, capsys):
    """An npz data set whose training or test split is empty: `snnc train` (which reports the
    test accuracy) and `snnc convert` (which measures activations on the training split, and with
    --check the test accuracy) say so with exit 2; train crashed on an empty training split
    (ZeroDivisionError) and reported 0.00% on an empty test split, convert fell back to its
    no-data thresholds silently."""
    from pathlib import Path

    from snnc.cli import main
    from snnc.weights import random_weights, save_weights

    rng = np.random.default_rng(0)
    x, y = rng.random((20, 64)).astype(np.float32), rng.integers(0, 10, 20)
    np.savez(tmp_path / "no_train.npz", x_train=x[:0], y_train=y[:0], x_test=x, y_test=y)
    np.savez(tmp_path / "no_test.npz", x_train=x, y_train=y, x_test=x[:0], y_test=y[:0])
    digits = str(Path(__file__).resolve().parent.parent / "examples" / "digits.snn")
    relu = Path(__file__).resolve().parent.parent / "examples" / "digits_relu.snn"
    w = tmp_path / "relu.npz"
    g = load_text(relu.read_text(), str(relu)).graph
    save_weights(str(w), g, random_weights(g, seed=0))
    cases = [
        (["train", digits, "--epochs", "1"], "no_train",
         "error: the training split of 'npz:{}' holds no samples"),
        (["train", digits, "--epochs", "1"], "no_test",
         "error: the test split of 'npz:{}' holds no samples (snnc train reports the test "
         "accuracy)"),
        (["convert", str(relu), "--weights", str(w)], "no_train",
         "error: the training split of 'npz:{}' holds no samples (the conversion measures its "
         "activations)"),
        (["convert", str(relu), "--weights", str(w), "--check", "5"], "no_test",
         "error: the test split of 'npz:{}' holds no samples (--check measures the test "
         "accuracy; --check 0 leaves it out)"),
    ]
    for argv, name, message in cases:
        path = str(tmp_path / f"{name}.npz")
        code = main([*argv, "--dataset", f"npz:{path}", "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert err.strip().splitlines()[-1] == message.format(path), (argv, err)


def test_samples_beyond_float32_and_long_training_sequences(tmp_path):
    """float64 samples beyond float32's range became inf after the cast (an internal error
    later); training sequences longer than the model's steps were cut without the note the test
    split's get."""
    text = ("model m\ntime { dt = 1 ms; steps = 10 }\ninput x[8] = direct\n"
            "layer o = dense(x, 4) with LIF(tau_mem = 10 ms)\noutput o = count\n")
    g = load_text(text, "m.snn").graph
    rng = np.random.default_rng(0)
    big = tmp_path / "big.npz"
    np.savez(big, x_train=rng.random((4, 8)) * 1e39, y_train=np.arange(4), x_test=rng.random((2, 8)),
             y_test=np.arange(2))
    with pytest.raises(SnnError) as info:
        load_dataset(f"npz:{big}", g)
    assert "x_train: the samples reach" in info.value.message and "beyond float32's range" in \
        info.value.message
    long = tmp_path / "long.npz"
    np.savez(long, x_train=rng.random((4, 15, 8)), y_train=np.arange(4),
             x_test=rng.random((2, 10, 8)), y_test=np.arange(2))
    ds = load_dataset(f"npz:{long}", g)
    cut = (f"data set file '{long}', x_train: each sample is a sequence of 15 steps and model "
           "'m' runs 10: its last 5 steps are not used")
    assert ds.notes == () and ds.train_notes == (cut,)


def test_a_training_split_note_is_said_only_by_commands_that_train(tmp_path, capsys):
    """`snnc simulate` uses the test split only: it said the training split's sequence-cut note
    of an .npz data set too; `snnc train` says it."""
    from snnc.cli import main
    from snnc.weights import random_weights, save_weights

    text = ("model m\ntime { dt = 1 ms; steps = 10 }\ninput x[8] = direct\n"
            "layer o = dense(x, 4) with LIF(tau_mem = 10 ms)\noutput o = count\n")
    model = tmp_path / "m.snn"
    model.write_text(text)
    g = load_text(text, str(model)).graph
    w = tmp_path / "w.npz"
    save_weights(str(w), g, random_weights(g, seed=0))
    rng = np.random.default_rng(0)
    long = tmp_path / "long.npz"
    np.savez(long, x_train=rng.random((8, 15, 8)), y_train=np.arange(8) % 4,
             x_test=rng.random((4, 10, 8)), y_test=np.arange(4))
    cut = (f"note: data set file '{long}', x_train: each sample is a sequence of 15 steps and "
           "model 'm' runs 10: its last 5 steps are not used")
    assert main(["simulate", str(model), "--weights", str(w), "--dataset", f"npz:{long}"]) == 0
    assert "x_train" not in capsys.readouterr().err
    assert main(["train", str(model), "--dataset", f"npz:{long}", "--epochs", "1",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert cut in capsys.readouterr().err.splitlines()


# ------------------------------------------------------------------ robustness (a QA pass)


def test_a_damaged_compressed_data_set_file_is_a_clear_error(tmp_path, capsys):
    # a valid zip directory whose deflate data is damaged: zlib.error, an internal error (exit 70)
    from hostile_files import damage_deflate_member

    from snnc.cli import main

    path = tmp_path / "d.npz"
    rng = np.random.default_rng(0)
    np.savez_compressed(path, x_train=rng.random((30, 64)), y_train=rng.integers(0, 10, 30),
                        x_test=rng.random((7, 64)), y_test=np.arange(7))
    said = damage_deflate_member(path, "x_train.npy")
    message = f"data set file '{path}' is not a valid .npz archive (entry 'x_train': {said})"
    with pytest.raises(SnnError) as e:
        load_dataset(f"npz:{path}", model())
    assert e.value.message == message
    assert e.value.hint == "see docs/datasets.md for the keys it needs"
    digits = str(Path(__file__).resolve().parent.parent / "examples" / "digits.snn")
    code = main(["simulate", digits, "--dataset", f"npz:{path}"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: {message}"), err


@pytest.mark.parametrize("labels, shown", [
    ([0, 1, 1e30], "0..1e+30"), ([-1e30, 1, 2], "-1e+30..2"), ([0, 1, 10.0], "0..10"),
    (np.array([0, 2**64 - 1, 2], np.uint64), "0..18446744073709551615"),
])
def test_labels_are_checked_as_given(tmp_path, labels, shown):
    # 1e30 was cast to int64 first: "labels -9223372036854775808..1" and a RuntimeWarning
    import warnings

    path = tmp_path / "d.npz"
    np.savez(path, x_train=np.zeros((3, 64)), y_train=np.array(labels),
             x_test=np.zeros((2, 64)), y_test=np.arange(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SnnError) as e:
            load_dataset(f"npz:{path}", model())
    assert e.value.message == (f"data set 'npz:{path}' has labels {shown} in its training split, "
                               "but output 'out' has 10 neurons (classes 0..9)")
    assert e.value.loc.line == 5


def test_event_labels_and_coordinates_are_checked_as_given(tmp_path):
    import warnings

    g = model("[2, 2, 3]", "direct(scale = 1.0)", steps=5, classes=5)
    path = tmp_path / "ev.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SnnError) as e:
            load_dataset(events_file(path, label=np.array([3, 1, 1e30])), g)
        assert e.value.message == (f"data set 'npz:{path}' has labels 1..1e+30, but output 'out' "
                                   "has 5 neurons (classes 0..4)")
        with pytest.raises(SnnError) as e:
            load_dataset(events_file(path, x=np.array([0., 0, 2, 2, 1, 1, 0, 1e30])), g)
        assert e.value.message == (f"data set file '{path}': 'x' ranges over 0..1e+30, but there "
                                   "are 3 columns (width of input 'x'): x must lie in 0..2")


def test_values_a_rate_or_latency_encoder_clips_are_noted(tmp_path):
    """Unscaled images (0..255) or negative values were encoded by rate and latency inputs
    (which clip) without a word; every command that loads the data now says so."""
    from snnc.datasets import data_notes, range_notes

    x = np.array([[-1.0, 0.0, 0.25, 0.5, 0.75, 2.0]])
    assert range_notes(x, model("[6]", "rate"), "x") == (
        "x: 33.3% of the values of input 'x' are outside [0, 1] (min -1, max 2), which its rate "
        "encoder clips (spike probability clip(1 * x, 0, 1)); scale the data to [0, 1]",)
    assert range_notes(x, model("[6]", "rate(gain = 2)"), "x") == (
        "x: 50.0% of the values of input 'x' are outside [0, 0.5] (min -1, max 2), which its rate "
        "encoder clips (spike probability clip(2 * x, 0, 1)); scale the data to [0, 0.5]",)
    assert range_notes(x, model("[6]", "latency"), "x") == (
        "x: 33.3% of the values of input 'x' are outside [0, 1] (min -1, max 2), which its "
        "latency encoder clips (spike time from clip(x, 0, 1)); scale the data to [0, 1]",)
    for enc in ("direct", "delta"):                     # no clip: nothing to say
        assert range_notes(x, model("[6]", enc), "x") == ()
    assert range_notes(np.clip(x, 0, 1), model("[6]", "rate"), "x") == ()
    assert data_notes(x, model("[6]", "rate"), "x") == range_notes(x, model("[6]", "rate"), "x")
    # a data set file: each split its own note, on every command that loads it
    g = model("[6]", "rate")
    path = tmp_path / "u8.npz"
    np.savez(path, x_train=np.full((4, 6), 255, np.uint8), y_train=np.arange(4),
             x_test=np.concatenate([np.zeros((3, 6)), np.full((1, 6), 2.0)]), y_test=np.arange(4))
    ds = load_dataset(f"npz:{path}", g)
    what = f"data set file '{path}'"
    assert ds.notes == (f"{what}, x_test: 25.0% of the values of input 'x' are outside [0, 1] (min 0, "
                        "max 2), which its rate encoder clips (spike probability clip(1 * x, 0, "
                        "1)); scale the data to [0, 1]",)
    assert ds.train_notes == (f"{what}, x_train: 100.0% of the values of input 'x' are outside "
                              "[0, 1] (min 255, max 255), which its rate encoder clips (spike "
                              "probability clip(1 * x, 0, 1)); scale the data to [0, 1]",)
    assert load_dataset("digits", model()).notes == ()         # digits is in [0, 1]


def test_npz_arrays_of_the_wrong_kind(tmp_path):
    g = model()
    path = tmp_path / "a.npz"
    good = dict(x_train=np.zeros((3, 64)), y_train=np.zeros(3, int), x_test=np.zeros((2, 64)),
                y_test=np.zeros(2, int))
    for change, message in (
            ({"x_train": np.array([["a"] * 64] * 3)},
             "x_train: samples must be numbers, not text (<U1)"),
            ({"x_test": np.zeros((2, 64), np.complex64)},
             "x_test: samples must be numbers, not complex numbers (<c8)"),
            ({"x_train": np.array(3.0)},
             "x_train: expected an array of samples [N, ...], got a scalar"),
            ({"y_train": np.array(["a", "b", "c"])},
             "y_train: labels must be integers, not text (<U1)")):
        np.savez(path, **{**good, **change})
        with pytest.raises(SnnError) as e:
            load_dataset(f"npz:{path}", g)
        assert e.value.message == f"data set file '{path}', {message}"
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(SnnError) as e:
        load_dataset(f"npz:{tmp_path / 'dir.npz'}", g)
    assert e.value.message == f"data set file '{tmp_path / 'dir.npz'}' is a directory"
    with pytest.raises(SnnError) as e:
        load_dataset("", g)
    assert (e.value.message, e.value.hint) == ("no data set given",
                                               "known data sets: digits, mnist1d, npz:PATH")


def test_npz_event_arrays_of_the_wrong_shape(tmp_path):
    g = model("[2, 2, 3]", "direct", steps=5, classes=5)
    path = tmp_path / "ev.npz"
    for change, message in (
            ({"label": np.zeros((3, 1), int)}, "'label' must be 1-D (one label per sample)"),
            ({"duration": np.array(-1.0)}, "'duration' must be one positive number"),
            ({"duration": np.array([8.0, 8.0])}, "'duration' must be one positive number"),
            ({"x": np.zeros((8, 1), int)},
             "'x' must be a 1-D array (one entry per event), not shape [8, 1]")):
        with pytest.raises(SnnError) as e:
            load_dataset(events_file(path, **change), g)
        assert e.value.message == f"data set file '{path}': {message}"
