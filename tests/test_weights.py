"""The weights file (snnc.weights, docs/weights.md): round trip, random init, every error, the warning."""
from __future__ import annotations

import json

import numpy as np
import pytest

from snnc.build import load_text
from snnc.errors import SnnError, SnnErrors
from snnc.ir import weight_shapes
from snnc.serialize import graph_hash
from snnc.weights import (DEFAULT_SCALE, LoadedWeights, load_weights, random_weights,
                          save_weights)

MODEL = """\
model net
time { dt = 1 ms; steps = 10 }
input x[6] = rate
layer h = dense(x, 4, bias = true) with LIF(tau_mem = 10 ms)
layer r = recurrent(h, 3) with LIF(tau_mem = 10 ms)
layer out = dense(r, 2) with LIF(tau_mem = 10 ms)
output out = count
"""
H_LINE = "layer h = dense(x, 4, bias = true) with LIF(tau_mem = 10 ms)"

CONV = """\
model cnet
time { dt = 1 ms; steps = 5 }
input img[2, 6, 6] = rate
layer c = conv2d(img, 3, [3, 2], bias = true) with IF
layer p = sumpool(c, 2) with IF
layer f = flatten(p)
layer out = dense(f, 2) with IF
output out = count
"""


def graph(text=MODEL, path="net.snn"):
    return load_text(text, path).graph


def write_raw(path, arrays, meta=None, model="net", g=None):
    if meta is None:
        meta = {"format": "snnc-weights", "version": 1, "model": model,
                "graph_hash": graph_hash(g) if g is not None else "0" * 64, "created_by": "test"}
    if meta is not False:
        arrays = {**arrays, "__meta__": np.array(meta if isinstance(meta, str) else json.dumps(meta))}
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return str(path)


def flat(w):
    return {f"{l}/{t}": a for l, ts in w.items() for t, a in ts.items()}


def one_error(exc_info) -> SnnError:
    err = exc_info.value
    assert isinstance(err, SnnError), err
    return err


# ------------------------------------------------------------------ random init and round trip


def test_random_weights_shapes_and_determinism():
    g = graph()
    w = random_weights(g, seed=3)
    assert {l: {t: a.shape for t, a in ts.items()} for l, ts in w.items()} == {
        "h": {"weight": (4, 6), "bias": (4,)},
        "r": {"weight": (3, 4), "recurrent": (3, 3)},
        "out": {"weight": (2, 3)}}
    again = random_weights(g, seed=3)
    other = random_weights(g, seed=4)
    for l in w:
        for t in w[l]:
            assert w[l][t].dtype == np.float32
            np.testing.assert_array_equal(w[l][t], again[l][t])
            assert not np.array_equal(w[l][t], other[l][t])
    # uniform +-scale/sqrt(fan_in)
    assert np.abs(w["h"]["weight"]).max() <= DEFAULT_SCALE / np.sqrt(6)
    assert np.abs(w["out"]["weight"]).max() <= DEFAULT_SCALE / np.sqrt(3)
    assert np.abs(w["r"]["recurrent"]).max() <= 0.5 * DEFAULT_SCALE / np.sqrt(3)


def test_random_weights_are_independent_of_other_layers_and_capped_at_the_format():
    g = graph()
    g2 = graph(MODEL.replace("layer out = dense(r, 2)", "layer out = dense(r, 5)"))
    np.testing.assert_array_equal(random_weights(g)["h"]["weight"], random_weights(g2)["h"]["weight"])
    # fan-in 1: the bound 3 is capped at the largest fixed<8,6> value, 1.984375
    tiny = graph("model t\ntime { dt = 1 ms; steps = 3 }\ninput x[1] = rate\n"
                 "layer o = dense(x, 200) with IF\noutput o = count\n")
    assert np.abs(random_weights(tiny)["o"]["weight"]).max() <= 1.984375
    with pytest.raises(ValueError):
        random_weights(g, scale=0)


def test_conv_fan_in():
    g = graph(CONV, "cnet.snn")
    w = random_weights(g, scale=1.0)
    assert set(w) == {"c", "out"}
    assert w["c"]["weight"].shape == (3, 2, 3, 2)
    assert np.abs(w["c"]["weight"]).max() <= 1 / np.sqrt(12)
    assert np.abs(w["c"]["weight"]).max() > 0.8 / np.sqrt(12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip(tmp_path, dtype):
    g = graph()
    w = {l: {t: a.astype(dtype) for t, a in ts.items()} for l, ts in random_weights(g, 1).items()}
    path = tmp_path / "w.npz"
    save_weights(path, g, w, notes="unit test")
    assert path.exists() and not (tmp_path / "w.npz.npz").exists()
    back = load_weights(path, g)
    assert isinstance(back, LoadedWeights) and isinstance(back, dict)
    assert back.warnings == []
    assert back.meta["model"] == "net" and back.meta["notes"] == "unit test"
    assert back.meta["format"] == "snnc-weights" and back.meta["version"] == 1
    assert back.meta["graph_hash"] == graph_hash(g)
    assert back.meta["created_by"].startswith("snnc")
    for l in w:
        for t in w[l]:
            assert back[l][t].dtype == dtype
            np.testing.assert_array_equal(back[l][t], w[l][t])


def test_file_layout(tmp_path):
    g = graph()
    path = tmp_path / "w.npz"
    save_weights(path, g, random_weights(g))
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == ["__meta__", "h/bias", "h/weight", "out/weight", "r/recurrent",
                                   "r/weight"]
        meta = f["__meta__"]
        assert meta.shape == () and meta.dtype.kind == "U"
        assert set(json.loads(str(meta))) == {"format", "version", "model", "graph_hash", "created_by"}


def test_save_refuses_weights_that_do_not_fit(tmp_path):
    g = graph()
    w = random_weights(g)
    w["h"]["weight"] = np.zeros((6, 4))
    with pytest.raises(SnnError) as e:
        save_weights(tmp_path / "w.npz", g, w)
    assert e.value.message == (f"weights file '{tmp_path / 'w.npz'}': tensor 'h/weight' has shape "
                               "[6, 4], but layer 'h' needs [4, 6]")
    assert not (tmp_path / "w.npz").exists()


# ------------------------------------------------------------------ file-level errors


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.npz")
    with pytest.raises(SnnError) as e:
        load_weights(path, graph())
    assert e.value.message == f"weights file '{path}' does not exist"
    assert e.value.loc is None


def test_not_an_npz(tmp_path):
    g = graph()
    text = tmp_path / "w.npz"
    text.write_text("hello")
    with pytest.raises(SnnError) as e:
        load_weights(text, g)
    assert e.value.message == f"weights file '{text}' is not an .npz archive"
    npy = tmp_path / "w.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(SnnError) as e:
        load_weights(npy, g)
    assert e.value.message == f"weights file '{npy}' is a single .npy array, not an .npz archive"
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(SnnError) as e:
        load_weights(broken, g)
    assert e.value.message.startswith(f"weights file '{broken}' is not a valid .npz archive")


@pytest.mark.parametrize("entry", ["out/weight.npy", "__meta__.npy"])
def test_an_entry_that_is_not_an_array(tmp_path, entry):
    # numpy hands back a member that is not a .npy file as raw bytes
    import zipfile

    g = graph()
    good = write_raw(tmp_path / "good.npz", flat(random_weights(g)), g=g)
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, b"notnpy" if name == entry else src.read(name))
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert e.value.message == (f"weights file '{path}' is not a valid .npz archive (entry "
                               f"'{entry[:-4]}' is not a .npy array)")


def test_big_endian_floats_are_the_same_weights(tmp_path):
    g = graph()
    w = random_weights(g, seed=1)
    swapped = {k: a.astype(a.dtype.newbyteorder(">")) for k, a in flat(w).items()}
    path = write_raw(tmp_path / "w.npz", swapped, g=g)
    got = load_weights(path, g)
    for layer, tensors in w.items():
        for tensor, a in tensors.items():
            assert got[layer][tensor].dtype == np.float32
            np.testing.assert_array_equal(got[layer][tensor], a)


def test_pickled_objects_are_refused(tmp_path):
    g = graph()
    path = tmp_path / "w.npz"
    with open(path, "wb") as f:
        np.savez(f, **flat(random_weights(g)), __meta__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert "pickles" in e.value.message


def test_no_meta(tmp_path):
    g = graph()
    path = write_raw(tmp_path / "w.npz", flat(random_weights(g)), meta=False)
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert e.value.message == (f"weights file '{path}' has no '__meta__' entry: it is not an snnc "
                               "weights file")


@pytest.mark.parametrize("meta, message", [
    ("{not json", "'__meta__' is not valid JSON"),
    ("[1, 2]", "'__meta__' must be a JSON object"),
    ({"format": "other", "version": 1, "model": "net", "graph_hash": "x"},
     "'__meta__' has format \"other\", expected \"snnc-weights\""),
    ({"format": "snnc-weights", "version": 2, "model": "net", "graph_hash": "x"},
     "has version 2; this snnc reads version 1"),
    ({"format": "snnc-weights", "version": 1, "graph_hash": "x"},
     "'__meta__' needs string fields 'model' and 'graph_hash'"),
    ({"format": "snnc-weights", "version": True, "model": "net", "graph_hash": "x"},
     "has version true; this snnc reads version 1"),
    ({"format": "snnc-weights", "version": 1.0, "model": "net", "graph_hash": "x"},
     "has version 1.0; this snnc reads version 1"),
    ("[" * 100000, "'__meta__' is not valid JSON (nested too deeply)"),
])
def test_bad_meta(tmp_path, meta, message):
    g = graph()
    path = write_raw(tmp_path / "w.npz", flat(random_weights(g)), meta=meta)
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert path in e.value.message and message in e.value.message


def test_meta_not_a_string(tmp_path):
    g = graph()
    arrays = {**flat(random_weights(g)), "__meta__": np.zeros(3)}
    path = write_raw(tmp_path / "w.npz", arrays, meta=False)
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert "'__meta__' must be a JSON string" in e.value.message


def test_another_model(tmp_path):
    g = graph()
    other = graph(MODEL.replace("model net", "model other"), "other.snn")
    path = str(tmp_path / "w.npz")
    save_weights(path, other, random_weights(other))
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert e.value.message == f"weights file '{path}' was made for model 'other', not 'net'"
    assert (e.value.loc.path, e.value.loc.line, e.value.loc.col) == ("net.snn", 1, 7)


# ------------------------------------------------------------------ tensor errors, located


def test_missing_tensor(tmp_path):
    g = graph()
    arrays = flat(random_weights(g))
    del arrays["h/bias"]
    path = write_raw(tmp_path / "w.npz", arrays, g=g)
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    err = one_error(e)
    assert err.message == f"weights file '{path}' has no tensor 'h/bias' (layer 'h' needs shape [4])"
    assert (err.loc.path, err.loc.line, err.loc.col) == ("net.snn", 4, 1)
    assert H_LINE in err.format()


def test_wrong_shape(tmp_path):
    g = graph()
    arrays = flat(random_weights(g))
    arrays["r/recurrent"] = np.zeros((3, 4), np.float32)
    path = write_raw(tmp_path / "w.npz", arrays, g=g)
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert e.value.message == (f"weights file '{path}': tensor 'r/recurrent' has shape [3, 4], "
                               "but layer 'r' needs [3, 3]")
    assert (e.value.loc.line, e.value.loc.col) == (5, 1)


def test_extra_tensors(tmp_path):
    g = graph()
    arrays = flat(random_weights(g))
    arrays["out/bias"] = np.zeros(2, np.float32)
    arrays["hh/weight"] = np.zeros(2, np.float32)
    path = write_raw(tmp_path / "w.npz", arrays, g=g)
    with pytest.raises(SnnErrors) as e:
        load_weights(path, g)
    errs = e.value.errors           # in source order: the model line, then layer 'out'
    assert [(x.loc.line, x.message) for x in errs] == [
        (1, f"weights file '{path}' has a tensor 'hh/weight' for no layer of model 'net'"),
        (6, f"weights file '{path}' has an extra tensor 'out/bias': layer 'out' has tensors "
            "'weight'"),
    ]
    assert errs[0].hint == "did you mean 'h'?"
    assert errs[1].hint == "add `bias = true` to layer 'out', or drop the tensor"


def test_several_errors_are_reported_together(tmp_path):
    g = graph()
    arrays = flat(random_weights(g))
    del arrays["out/weight"]
    arrays["h/weight"] = np.zeros((1, 1), np.float32)
    path = write_raw(tmp_path / "w.npz", arrays, g=g)
    with pytest.raises(SnnErrors) as e:
        load_weights(path, g)
    assert [x.loc.line for x in e.value.errors] == [4, 6]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite(tmp_path, bad):
    g = graph()
    arrays = flat(random_weights(g))
    arrays["out/weight"] = arrays["out/weight"].copy()
    arrays["out/weight"][1, 2] = bad
    path = write_raw(tmp_path / "w.npz", arrays, g=g)
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert e.value.message == (f"weights file '{path}': tensor 'out/weight' has 1 non-finite value "
                               f"(the first, {np.float32(bad)}, at index [1, 2])")
    assert e.value.loc.line == 6


def test_integer_tensor_is_refused(tmp_path):
    g = graph()
    arrays = flat(random_weights(g))
    arrays["out/weight"] = np.zeros((2, 3), np.int32)
    path = write_raw(tmp_path / "w.npz", arrays, g=g)
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert e.value.message == (f"weights file '{path}': tensor 'out/weight' has dtype int32; "
                               "weights are float32 or float64")


# ------------------------------------------------------------------ the warning


def test_same_model_other_version_warns(tmp_path):
    old = graph()
    new = graph(MODEL.replace("layer out = dense(r, 2) with LIF(tau_mem = 10 ms)",
                              "layer out = dense(r, 2) with LIF(tau_mem = 20 ms)"))
    assert graph_hash(old) != graph_hash(new)
    path = str(tmp_path / "w.npz")
    w = random_weights(old)
    save_weights(path, old, w)
    back = load_weights(path, new)
    assert len(back.warnings) == 1
    warn = back.warnings[0]
    assert warn.severity == "warning"
    assert warn.message == (f"weights file '{path}' was made for a different version of model "
                            "'net' (the graph hash differs); every tensor has the right shape, "
                            "so the weights are used")
    assert warn.loc.line == 1
    np.testing.assert_array_equal(back["out"]["weight"], w["out"]["weight"])


HW = "hardware { lanes = 2; clock = 100 MHz }\n"


def test_hash_ignores_the_hardware_settings_that_change_no_result(tmp_path):
    """Lanes, clock and device set the cycles, not the numbers: weights made for one lane count
    load into another without the "different version" warning (they warned, with a hint about
    neurons and formats); formats, the decay and leak_digits change results and warn."""
    g = graph(MODEL + HW)
    path = str(tmp_path / "w.npz")
    save_weights(path, g, random_weights(g))
    for same in ('hardware { lanes = 8; clock = 25 MHz; device = "ecp5-25k" }\n', HW):
        assert graph_hash(graph(MODEL + same)) == graph_hash(g)
        assert load_weights(path, graph(MODEL + same)).warnings == []
    for other in ("hardware { lanes = 2; state = fixed<12,6> }\n",
                  "hardware { decay = shift }\n", "hardware { leak_digits = 3 }\n"):
        assert graph_hash(graph(MODEL + other)) != graph_hash(g)
        assert len(load_weights(path, graph(MODEL + other)).warnings) == 1


def test_weights_saved_with_the_older_hash_load_without_a_warning(tmp_path):
    """Before 2026-12-02 the hash covered the hardware block's lanes, clock and device: the hash
    those versions wrote for this model (a literal from them) is still accepted."""
    g = graph(MODEL + HW)
    older = "aa3c55871ec8bbdb8c8d291ce224930d41caabd92ca6b28f4e443669f7e734bc"
    assert graph_hash(g) != older
    path = write_raw(tmp_path / "w.npz", flat(random_weights(g)),
                     {"format": "snnc-weights", "version": 1, "model": "net", "graph_hash": older,
                      "created_by": "snnc before 2026-12-02"})
    assert load_weights(path, g).warnings == []
    # the same older file for a model whose lanes changed since: its old hash differs, so it warns
    assert len(load_weights(path, graph(MODEL + HW.replace("lanes = 2", "lanes = 4")))
               .warnings) == 1


def test_hash_ignores_comments_and_train_block(tmp_path):
    g = graph()
    path = str(tmp_path / "w.npz")
    save_weights(path, g, random_weights(g))
    edited = graph("# a comment\n" + MODEL + "train { lr = 0.1; epochs = 2 }\n")
    assert load_weights(path, edited).warnings == []


def test_every_example_round_trips(tmp_path):
    import pathlib

    from snnc.build import load

    root = pathlib.Path(__file__).resolve().parent.parent / "examples"
    for f in sorted(root.glob("*.snn")):
        g = load(f).graph
        w = random_weights(g)
        assert set(w) == {l.name for l in g.layers if weight_shapes(l)}
        save_weights(tmp_path / f"{f.stem}.npz", g, w)
        back = load_weights(tmp_path / f"{f.stem}.npz", g)
        assert back.warnings == [] and set(back) == set(w)


# ------------------------------------------------------------------ robustness (a QA pass)


def _compressed_weights(tmp_path, g):
    """A compressed weights file of ``g`` (deflate members) and its bytes."""
    path = tmp_path / "w.npz"
    meta = {"format": "snnc-weights", "version": 1, "model": g.name, "graph_hash": graph_hash(g),
            "created_by": "test"}
    with open(path, "wb") as f:
        np.savez_compressed(f, **flat(random_weights(g)), __meta__=np.array(json.dumps(meta)))
    return path, bytearray(path.read_bytes())


def _central_entry(data: bytearray, name: bytes) -> int:
    """The offset of the zip central directory's entry of member ``name``."""
    i = data.find(b"PK\x01\x02")
    while data[i + 46:i + 46 + len(name)] != name:
        i = data.find(b"PK\x01\x02", i + 1)
    return i


def test_a_damaged_compressed_member_is_an_snn_error(tmp_path):
    # a valid zip directory whose deflate data is damaged: zlib.error, an internal error (exit 70)
    from hostile_files import damage_deflate_member

    g = graph()
    path, _ = _compressed_weights(tmp_path, g)
    said = damage_deflate_member(path, "h/weight.npy")
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert e.value.message == (f"weights file '{path}' is not a valid .npz archive (entry "
                               f"'h/weight': {said})")
    assert e.value.hint == "save weights with snnc.weights.save_weights"


@pytest.mark.parametrize("offset, value, detail", [
    (8, 1, "File 'h/weight.npy' is encrypted, password required for extraction"),  # RuntimeError
    (10, 99, "That compression method is not supported"),                       # NotImplementedError
])
def test_an_encrypted_or_unknown_member_is_an_snn_error(tmp_path, offset, value, detail):
    g = graph()
    path, data = _compressed_weights(tmp_path, g)
    entry = _central_entry(data, b"h/weight.npy")
    data[entry + offset:entry + offset + 2] = value.to_bytes(2, "little")
    path.write_bytes(data)
    with pytest.raises(SnnError) as e:
        load_weights(path, g)
    assert e.value.message == (f"weights file '{path}' is not a valid .npz archive (entry "
                               f"'h/weight': {detail})")


def test_random_weights_seeds_are_integers_in_range():
    g = graph()
    base = random_weights(g, 0)
    # 2**32 was seed 0 (masked to 32 bits), 1.7 was seed 1, -1 was 2**32 - 1
    assert not np.array_equal(random_weights(g, 2**32)["h"]["weight"], base["h"]["weight"])
    np.testing.assert_array_equal(random_weights(g, np.uint64(7))["h"]["weight"],
                                  random_weights(g, 7)["h"]["weight"])
    assert random_weights(g, 2**64 - 1)["h"]["weight"].shape == (4, 6)
    for bad in (1.7, None, True, "3"):
        with pytest.raises(TypeError) as e:         # None: int() argument must be a string...
            random_weights(g, bad)
        assert str(e.value) == f"seed must be an integer, not {bad!r}"
    for bad in (-1, 2**64):
        with pytest.raises(ValueError) as e:
            random_weights(g, bad)
        assert str(e.value) == f"seed must be an integer from 0 to 2**64 - 1, not {bad}"


def test_save_weights_notes_are_text(tmp_path):
    g = graph()
    with pytest.raises(TypeError) as e:
        save_weights(tmp_path / "w.npz", g, random_weights(g), notes=3)
    assert str(e.value) == "notes must be a str or None, not int"
    assert not (tmp_path / "w.npz").exists()
    save_weights(tmp_path / "w.npz", g, random_weights(g), notes="made by a test")
    assert load_weights(tmp_path / "w.npz", g)["h"]["weight"].shape == (4, 6)


def test_save_and_load_take_a_compiled_model(tmp_path):
    # snnc.load(...) where the graph is wanted: AttributeError 'CompiledModel' has no 'layers'
    import snnc

    m = snnc.loads(MODEL, "net.snn")
    path = tmp_path / "w.npz"
    save_weights(path, m, random_weights(m, 2))
    back = load_weights(path, m)
    np.testing.assert_array_equal(back["h"]["weight"], random_weights(m.graph, 2)["h"]["weight"])
    for fn, call in (("save_weights", lambda: save_weights(path, "net.snn", back)),
                     ("load_weights", lambda: load_weights(path, None)),
                     ("random_weights", lambda: random_weights({"layers": []}))):
        with pytest.raises(TypeError) as e:
            call()
        kind = {"save_weights": "str", "load_weights": "NoneType", "random_weights": "dict"}[fn]
        assert str(e.value) == (f"{fn} takes a model (snnc.load(...)) or its graph "
                                f"(snnc.ir.Graph), not {kind}")


def test_save_refuses_integers_float64_cannot_hold(tmp_path):
    # int64 / uint64 beyond 2**53 were rounded to float64 without a word
    g = graph()
    w = random_weights(g)
    path = tmp_path / "w.npz"
    for values, big, dtype in (([2**53 + 1, 0, 1, 2], 2**53 + 1, np.int64),
                               ([0, 2**64 - 1, 1, 2], 2**64 - 1, np.uint64),
                               ([0, -2**63, 1, 2], -2**63, np.int64)):
        w["h"]["bias"] = np.array(values, dtype)
        with pytest.raises(SnnError) as e:
            save_weights(path, g, w)
        assert e.value.message == (f"tensor 'h/bias' holds the integer {big} ({np.dtype(dtype)}), "
                                   "which float64 cannot hold exactly (integers up to 2**53 in "
                                   "magnitude)")
        assert not path.exists()
    w["h"]["bias"] = np.array([2**53, -2**53, 1, 0], np.int64)       # exact: stored
    save_weights(path, g, w)
    assert load_weights(path, g)["h"]["bias"].tolist() == [2**53, -2**53, 1, 0]


def test_save_to_a_folder_or_an_unwritable_place(tmp_path):
    # a folder: raw IsADirectoryError from os.replace
    g = graph()
    w = random_weights(g)
    with pytest.raises(SnnError) as e:
        save_weights(tmp_path, g, w)
    assert e.value.message == f"cannot write weights file '{tmp_path}': it is a directory"
    (tmp_path / "afile").write_text("")
    inside = tmp_path / "afile" / "w.npz"
    with pytest.raises(SnnError) as e:
        save_weights(inside, g, w)
    assert e.value.message == (f"cannot write weights file '{inside}': cannot create folder "
                               f"'{tmp_path / 'afile'}' (File exists)")
    assert list(tmp_path.iterdir()) == [tmp_path / "afile"]


def test_half_precision_arrays_are_widened_as_half_tensors_are():
    """A torch float16 tensor was widened (exactly) and a numpy float16 array refused ("weights
    are float32 or float64"): both are taken now, as the same float32 values."""
    import torch

    from snnc.weights import check_weights

    g = graph()
    w = random_weights(g)
    half = {k: {t: v.astype(np.float16) for t, v in d.items()} for k, d in w.items()}
    as_np = check_weights(g, half)
    as_torch = check_weights(g, {k: {t: torch.as_tensor(v) for t, v in d.items()}
                                 for k, d in half.items()})
    for k, d in half.items():
        for t, v in d.items():
            assert as_np[k][t].dtype == np.float32
            np.testing.assert_array_equal(as_np[k][t], v.astype(np.float32))
            np.testing.assert_array_equal(as_torch[k][t], as_np[k][t])
