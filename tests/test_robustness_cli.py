"""Hostile paths on the command line: named pipes given as input files (a command waited on them
for ever), and `snnc compile -o DIR` into a folder that already holds files (an earlier compile's,
or the user's)."""
from __future__ import annotations

import json
import os

import pytest
from hostile_files import no_hang

from snnc.cli import main

MODEL = """\
model tiny
time { dt = 1 ms; steps = 4 }
input x[6] = rate(gain = 1.0)
layer h1 = dense(x, 5) with LIF(tau_mem = 10 ms)
layer h2 = dense(h1, 4) with LIF(tau_mem = 10 ms)
layer out = dense(h2, 3) with LIF(tau_mem = 10 ms)
output out = count
"""
#: the same model without the second hidden layer
FEWER = MODEL.replace("layer h2 = dense(h1, 4) with LIF(tau_mem = 10 ms)\n", "").replace(
    "dense(h2, 3)", "dense(h1, 3)")


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "tiny.snn"
    path.write_text(MODEL)
    return str(path)


# ------------------------------------------------------------------ named pipes


@pytest.mark.parametrize("argv, option", [
    (["simulate", "{fifo}"], "MODEL"),
    (["simulate", "{model}", "--weights", "{fifo}"], "--weights"),
    (["simulate", "{model}", "--input", "{fifo}"], "--input"),
    (["compile", "{fifo}", "--target", "verilog", "-o", "{out}"], "MODEL"),
    (["compile", "{model}", "--target", "hls", "--weights", "{fifo}", "-o", "{out}"], "--weights"),
    (["convert", "{fifo}", "--out", "{out}"], "ANN"),
    (["convert", "{model}", "--weights", "{fifo}", "--out", "{out}"], "--weights"),
])
def test_a_named_pipe_as_an_input_file_is_an_option_error(tmp_path, model, argv, option, capsys):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    argv = [a.format(fifo=fifo, model=model, out=tmp_path / "o") for a in argv]
    with no_hang(), pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"snnc {argv[0]}: error: argument {option}: '{fifo}' is a named pipe (FIFO), not a "
        "regular file")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("cmd", [["simulate", "{model}"],
                                 ["convert", "{model}", "--out", "{out}"]])
def test_a_named_pipe_as_a_data_set_file_is_an_option_error(tmp_path, model, cmd, capsys):
    fifo = tmp_path / "data.npz"
    os.mkfifo(fifo)
    argv = [a.format(model=model, out=tmp_path / "o") for a in cmd] + ["--dataset", f"npz:{fifo}"]
    with no_hang(), pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"snnc {cmd[0]}: error: argument --dataset: data set file '{fifo}' is a named pipe "
        "(FIFO), not a regular file")


# ------------------------------------------------------------------ compile -o DIR


def _compile(model, out, target="verilog"):
    return main(["compile", str(model), "--target", target, "-o", str(out)])


def _listed(out) -> set[str]:
    manifest = json.loads((out / "manifest.json").read_text())
    return {*manifest["files"], *manifest.get("memory_files", []), "manifest.json"}


def test_a_compile_replaces_the_previous_compiles_files_and_keeps_the_users(tmp_path, model,
                                                                          capsys):
    # the HLS project was written beside the Verilog one: snn_top.v, the .mem files and the
    # Verilog library stayed, and the manifest described only half of the folder
    out = tmp_path / "hw"
    assert _compile(model, out, "verilog") == 0
    assert "w_h2.mem" in os.listdir(out)
    (out / "notes.txt").write_text("my synthesis notes\n")
    assert _compile(model, out, "hls") == 0
    assert set(os.listdir(out)) == _listed(out) | {"notes.txt"}
    assert not any(n.endswith((".v", ".mem")) for n in os.listdir(out))
    assert (out / "notes.txt").read_text() == "my synthesis notes\n"
    # back to Verilog with a model of fewer layers: no w_h2.mem of the layer it does not have
    assert _compile(model, out, "verilog") == 0
    fewer = tmp_path / "fewer.snn"
    fewer.write_text(FEWER)
    assert _compile(fewer, out, "verilog") == 0
    assert set(os.listdir(out)) == _listed(out) | {"notes.txt"}
    assert "w_h2.mem" not in os.listdir(out) and "w_h1.mem" in os.listdir(out)
    capsys.readouterr()


def test_a_folder_that_no_compile_wrote_is_refused(tmp_path, model, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("chapter 1\n")
    assert _compile(model, out) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: output folder {out} is not empty (thesis.tex) and holds no manifest.json of an "
        "earlier snnc compile: snnc compile writes into a new or empty folder, or replaces its "
        "own files in a folder it wrote",
        "      = hint: choose a new folder, or empty this one"]
    assert os.listdir(out) == ["thesis.tex"]
    # an empty folder is fine
    (out / "thesis.tex").unlink()
    assert _compile(model, out) == 0


def test_a_users_file_the_new_compile_would_overwrite_is_refused(tmp_path, model, capsys):
    out = tmp_path / "hw"
    assert _compile(model, out, "verilog") == 0
    before = {n: (out / n).read_bytes() for n in os.listdir(out)}
    (out / "snn_top.cpp").write_text("// my own top\n")       # not listed by the manifest
    capsys.readouterr()
    assert _compile(model, out, "hls") == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: snnc compile would overwrite snn_top.cpp in {out}, which the earlier snnc "
        "compile there did not write (its manifest.json does not list it)",
        "      = hint: choose a new folder, or move the file"]
    assert (out / "snn_top.cpp").read_text() == "// my own top\n"
    assert {n: (out / n).read_bytes() for n in os.listdir(out) if n != "snn_top.cpp"} == before


def test_names_outside_the_folder_in_a_manifest_are_not_removed(tmp_path, model, capsys):
    out = tmp_path / "hw"
    assert _compile(model, out) == 0
    outside = tmp_path / "keep.txt"
    outside.write_text("keep\n")
    (out / "sub").mkdir()
    (out / "sub" / "x.v").write_text("keep\n")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] += ["../keep.txt", "sub/x.v", str(outside), "sub"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert _compile(model, out, "hls") == 0
    assert outside.read_text() == "keep\n" and (out / "sub" / "x.v").read_text() == "keep\n"
    capsys.readouterr()


def test_a_failed_compile_leaves_the_folder_as_it_was(tmp_path, model, capsys, monkeypatch):
    import snnc.backends.hls.generator as hls

    out = tmp_path / "hw"
    assert _compile(model, out) == 0
    before = {n: (out / n).read_bytes() for n in os.listdir(out)}

    def disk_full(qmodel, folder, **kwargs):
        with open(os.path.join(folder, "snn_top.cpp"), "w") as f:
            f.write("half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(hls, "generate_hls", disk_full)
    capsys.readouterr()
    assert _compile(model, out, "hls") == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: cannot write into output folder {out}: No space left on device"]
    assert {n: (out / n).read_bytes() for n in os.listdir(out)} == before
    # a folder the failed command created is removed
    assert _compile(model, tmp_path / "new" / "hw", "hls") == 2
    assert not (tmp_path / "new" / "hw").exists()


@pytest.mark.parametrize("argv, message", [
    (["check", "{fifo}"], "{fifo}: is a named pipe (FIFO), not a .snn file"),
    (["train", "{fifo}", "--out", "{out}"], "{fifo}: is a named pipe (FIFO), not a .snn file"),
    (["verify", "{model}", "--weights", "{fifo}"],
     "weights file '{fifo}' is a named pipe (FIFO), not a regular file"),
    (["report", "{model}", "--weights", "{fifo}", "--efficiency"],
     "weights file '{fifo}' is a named pipe (FIFO), not a regular file"),
])
def test_a_named_pipe_read_by_the_loaders_is_an_error(tmp_path, model, argv, message, capsys):
    # check, train, verify and report took the path as it was and waited on the pipe for ever:
    # the model parser and the .npz reader refuse it
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    argv = [a.format(fifo=fifo, model=model, out=tmp_path / "o") for a in argv]
    with no_hang():
        code = main(argv)
    assert code == 2
    assert f"error: {message.format(fifo=fifo)}" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["verilog", "hls"])
def test_compile_json_notes_say_what_standard_error_says(tmp_path, model, target, capsys):
    # the JSON's notes held only the random-weights note: clipped weights were on stderr alone
    import snnc
    from snnc.quantize import quantize
    from snnc.weights import random_weights, save_weights

    graph = snnc.load(model).graph
    loud = {layer: {t: 20 * a for t, a in tensors.items()}
            for layer, tensors in random_weights(graph, seed=0).items()}
    w = tmp_path / "w.npz"
    save_weights(w, graph, loud)
    expected = quantize(graph, snnc.load(model, weights=w).weights).all_notes()
    assert any("weights clipped" in n for n in expected), expected
    assert main(["compile", model, "--target", target, "--weights", str(w), "-o",
                 str(tmp_path / "o"), "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["notes"] == expected
    assert out.err.splitlines() == [f"note: {n}" for n in expected]


@pytest.mark.parametrize("argv, name, message", [
    (["compile", "{model}", "--target", "verilog", "-o", "{out}"], "manifest.json",
     "cannot read {out}/manifest.json: it is a named pipe (FIFO), not a regular file"),
    (["train", "{digits}", "--epochs", "1", "--out", "{out}"],
     "train_log.jsonl",
     "cannot write {out}/train_log.jsonl: it is a named pipe (FIFO), not a regular file"),
    (["report", "{model}", "--fpga", "ice40-hx8k", "--keep", "{out}"], "snnc_kept_files.txt",
     "cannot read {out}/snnc_kept_files.txt: it is a named pipe (FIFO), not a regular file"),
])
def test_a_named_pipe_in_the_output_folder_is_an_error(tmp_path, model, argv, name, message,
                                                       capsys):
    # the listing of an earlier run (compile's manifest, report --keep's list) and the training
    # log were opened as they were: the command waited on the pipe for ever
    out = tmp_path / "o"
    out.mkdir()
    os.mkfifo(out / name)
    from snn_models import ROOT

    argv = [a.format(model=model, out=out, digits=ROOT / "examples" / "digits.snn") for a in argv]
    with no_hang():
        code = main(argv)
    assert code == 2
    assert f"error: {message.format(out=out)}\n" in capsys.readouterr().err


def test_a_training_log_on_a_full_disk_is_an_error(tmp_path):
    # a log write that failed after the training was an internal error (exit 70)
    import io

    from snnc.backends.torch import train as training
    from snnc.errors import SnnError

    class FullDisk(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")

    with pytest.raises(SnnError) as e:
        training._write_log(FullDisk(), "o/train_log.jsonl", "{}\n")
    assert e.value.message == ("cannot write the training log o/train_log.jsonl: No space left "
                               "on device")
    (tmp_path / "dev").symlink_to("/dev/full")
    with pytest.raises(SnnError) as e:
        training._open_log(str(tmp_path / "dev"))
    assert e.value.message == (f"cannot write the training log {tmp_path / 'dev'}: it is a "
                               "character device, not a regular file")


def test_a_failed_train_leaves_no_earlier_results(tmp_path, capsys):
    # the previous run's weights and summary were removed, its training log was left behind
    out = tmp_path / "t"
    out.mkdir()
    for name in ("weights.npz", "summary.json", "train_log.jsonl"):
        (out / name).write_text("old")
    from snn_models import ROOT

    assert main(["train", str(ROOT / "examples" / "digits.snn"), "--dataset",
                 f"npz:{tmp_path / 'none.npz'}", "--out", str(out)]) == 2
    assert os.listdir(out) == []
