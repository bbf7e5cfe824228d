"""`snnc check` from the command line: exit codes, diagnostics, JSON, dumps and hostile input."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

from snnc.cli import main

GOOD = """\
model digits
time { dt = 1 ms; steps = 25 }
input pixels[64] = rate(gain = 1.0)
layer hidden = dense(pixels, 128) with LIF(tau_mem = 10 ms, reset = subtract)
layer out = dense(hidden, 10) with LIF(tau_mem = 10 ms)
output out = count
hardware { weights = fixed<8,6>  state = fixed<16,8> }
"""

BAD = GOOD.replace("with LIF(tau_mem = 10 ms)\n", "with LIF(tau_mem = 10)\n")
BAD_LINE = "layer out = dense(hidden, 10) with LIF(tau_mem = 10)"


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.snn"
    path.write_text(GOOD)
    return str(path)


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "bad.snn"
    path.write_text(BAD)
    return str(path)


def run(capsys, *argv):
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "internal error" not in err
    return code, out, err


# ------------------------------------------------------------------ good and bad files


def test_good_file_prints_a_summary(capsys, good):
    code, out, err = run(capsys, good)
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == ("model digits: 1 input(s), 2 layer(s), 138 neurons, 9472 parameters, "
                        "25 steps of 1 ms")
    assert lines[1].split() == ["input", "pixels", "[64]", "rate"]
    assert lines[2].split()[:5] == ["layer", "hidden", "[128]", "dense", "LIF"]
    assert "8192 params" in lines[2] and lines[2].endswith("<- pixels")
    assert lines[-1].split() == ["output", "out", "count"]


def test_bad_file_prints_located_error_with_caret(capsys, bad):
    code, out, err = run(capsys, bad)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == (f"{bad}:5:50: error: parameter 'tau_mem' of LIF needs a time (us, ms, s), "
                        "got a plain number 10")
    assert lines[1] == f"    5 | {BAD_LINE}"
    assert lines[2] == "      | " + " " * 49 + "^^"
    assert lines[3] == "      = hint: write e.g. tau_mem = 20 ms"
    assert lines[-1] == f"{bad}: 1 error"


def test_warnings_go_to_stderr_and_exit_zero(capsys, tmp_path):
    path = tmp_path / "warn.snn"
    path.write_text(GOOD.replace("output out", "input spare[3] = rate\noutput out"))
    code, out, err = run(capsys, str(path))
    assert code == 0
    assert f"{path}:6:1: warning: input 'spare' does not reach any output" in err
    assert out.startswith("model digits:")


def test_several_files_exit_two_if_any_is_bad(capsys, good, bad):
    code, out, err = run(capsys, good, bad)
    assert code == 2
    assert out.startswith("model digits:")
    assert f"{bad}:5:50: error:" in err


def test_subprocess_good_and_bad(good, bad):
    env = dict(os.environ)
    env.pop("SNNC_DEBUG", None)
    ok = subprocess.run([sys.executable, "-m", "snnc", "check", good], capture_output=True, text=True,
                        env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("model digits: 1 input(s), 2 layer(s)")
    assert ok.stderr == ""
    fail = subprocess.run([sys.executable, "-m", "snnc", "check", bad], capture_output=True,
                          text=True, env=env, timeout=120)
    assert fail.returncode == 2
    assert fail.stdout == ""
    assert fail.stderr.startswith(f"{bad}:5:50: error: parameter 'tau_mem' of LIF needs a time")
    assert f"    5 | {BAD_LINE}\n" in fail.stderr
    assert "Traceback" not in fail.stderr


# ------------------------------------------------------------------ --json and --dump


def test_json_for_a_good_file(capsys, good):
    code, out, err = run(capsys, "--json", good)
    assert code == 0
    data = json.loads(out)
    assert data["file"] == good and data["ok"] is True
    assert data["warnings"] == []
    s = data["summary"]
    assert s["model"] == "digits"
    assert (s["dt_s"], s["steps"]) == (0.001, 25)
    assert s["inputs"] == [{"name": "pixels", "shape": [64], "encoding": "rate"}]
    assert [(l["name"], l["op"], l["shape"], l["neuron"], l["parameters"]) for l in s["layers"]] == [
        ("hidden", "dense", [128], "LIF", 64 * 128), ("out", "dense", [10], "LIF", 128 * 10)]
    assert s["outputs"] == [{"layer": "out", "readout": "count"}]
    assert s["neurons"] == 138 and s["parameters"] == 64 * 128 + 128 * 10
    assert len(s["hash"]) == 64


def test_json_for_a_bad_file(capsys, bad):
    code, out, err = run(capsys, "--json", bad)
    assert code == 2
    assert err == ""
    data = json.loads(out)
    assert data["file"] == bad and data["ok"] is False
    (e,) = data["errors"]
    assert e == {"severity": "error",
                 "message": "parameter 'tau_mem' of LIF needs a time (us, ms, s), got a plain number 10",
                 "hint": "write e.g. tau_mem = 20 ms", "file": bad, "line": 5, "col": 50,
                 "end_line": 5, "end_col": 52}


def test_json_for_several_files_is_a_list(capsys, good, bad):
    code, out, _ = run(capsys, "--json", good, bad)
    assert code == 2
    data = json.loads(out)
    assert [(d["file"], d["ok"]) for d in data] == [(good, True), (bad, False)]


def test_json_for_a_missing_file(capsys, tmp_path):
    missing = str(tmp_path / "nope.snn")
    code, out, _ = run(capsys, "--json", missing)
    assert code == 2
    (e,) = json.loads(out)["errors"]
    assert e["message"] == f"{missing}: no such file" and e["line"] is None


def test_dump_prints_the_typed_graph(capsys, good):
    code, out, err = run(capsys, "--dump", good)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("graph digits  # hash ")
    assert lines[1] == "  time dt=1 ms steps=25"
    assert lines[2] == "  %pixels: spikes[64] = input Rate(gain=1)"
    assert lines[3].startswith("  %hidden: spikes[128] = dense(%pixels: spikes[64], units=128")
    assert lines[4].strip().startswith("neuron LIF(tau_mem=")
    assert "reset=subtract" in lines[4]
    assert lines[5].strip() == "weights weight[128, 64]"
    assert "  output %out readout=count" in lines
    assert any(l.startswith("  hardware HardwareSpec(weights=fixed<8,6>, membrane=fixed<16,8>")
               for l in lines)


def test_dump_fills_in_defaults_taken_from_elsewhere(capsys, tmp_path):
    # leak=None (the hardware block's decay) and an ASN's tau_eta=None (its tau_beta) print the
    # value they take, not None
    path = tmp_path / "d.snn"
    body = ["model d", "time { dt = 1 ms; steps = 5 }", "input x[4] = direct",
            "layer a = dense(x, 3) with LIF(tau_mem = 10 ms, leak = multiply)",
            "layer b = dense(a, 3) with LIF(tau_mem = 10 ms)",
            "layer c = dense(b, 3) with ASN(tau_beta = 20 ms)", "output c = membrane"]
    path.write_text("\n".join(body + ["hardware { decay = shift }"]) + "\n")
    code, out, _ = run(capsys, "--dump", str(path))
    assert code == 0
    neurons = [l.strip() for l in out.splitlines() if l.strip().startswith("neuron ")]
    assert neurons == [
        "neuron LIF(tau_mem=10 ms, threshold=1, reset=subtract, refractory=0, leak=multiply)",
        "neuron LIF(tau_mem=10 ms, threshold=1, reset=subtract, refractory=0, "
        "leak=shift (the hardware block's decay))",
        "neuron ASN(tau_beta=20 ms, threshold=0.1, m_f=0.1, tau_gamma=15 ms, "
        "tau_eta=20 ms (tau_beta), leak=shift (the hardware block's decay))"]
    path.write_text("\n".join(body) + "\n")
    code, out, _ = run(capsys, "--dump", str(path))
    assert "leak=multiply (the default decay))" in out and "None" not in out


def test_json_dump_includes_the_graph(capsys, good):
    from snnc.build import load
    from snnc.serialize import graph_from_json

    code, out, _ = run(capsys, "--json", "--dump", good)
    assert code == 0
    data = json.loads(out)
    assert graph_from_json(data["graph"]) == load(good).graph


# ------------------------------------------------------------------ hostile input


def _check_located(capsys, path, line=None, message=None):
    code, out, err = run(capsys, str(path))
    assert code == 2
    assert out == ""
    first = err.splitlines()[0]
    assert first.startswith(f"{path}:"), first
    where, _, rest = first[len(str(path)) + 1:].partition(": error: ")
    got_line, got_col = (int(x) for x in where.split(":"))
    if line is not None:
        assert got_line == line
    if message is not None:
        assert rest.startswith(message), rest
    assert err.splitlines()[-1].startswith(f"{path}: ")
    return got_line, got_col, rest, err


def test_empty_file(capsys, tmp_path):
    path = tmp_path / "empty.snn"
    path.write_bytes(b"")
    _, _, _, err = _check_located(capsys, path, 1, "no `model` declaration")
    assert err.splitlines()[-1] == f"{path}: 3 errors"


def test_random_binary_garbage(capsys, tmp_path):
    rng = random.Random(1234)
    for i in range(20):
        path = tmp_path / f"garbage{i}.snn"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))))
        _check_located(capsys, path)


def test_non_utf8_byte(capsys, tmp_path):
    path = tmp_path / "latin1.snn"
    path.write_bytes(b"model m\n# caf\xe9\n")
    _check_located(capsys, path, 2, "file is not UTF-8 text (byte 0xe9 at offset 13)")


def test_nul_byte(capsys, tmp_path):
    path = tmp_path / "nul.snn"
    path.write_bytes(GOOD.encode().replace(b"steps = 25", b"steps = \x0025"))
    line, col, _, err = _check_located(capsys, path, 2, "file contains a NUL byte")
    assert col == 27


def test_ten_megabyte_file(capsys, tmp_path):
    path = tmp_path / "huge.snn"
    path.write_bytes(GOOD.encode() + b"# padding padding padding padding\n" * 300_000)
    assert path.stat().st_size > 10_000_000
    _check_located(capsys, path, 1, "file is larger than 8 MiB")


def test_deeply_nested_parentheses(capsys, tmp_path):
    path = tmp_path / "deep.snn"
    depth = 10_000
    path.write_text(GOOD.replace("steps = 25", "steps = " + "(" * depth + "25" + ")" * depth)
                    .replace("output out = count\n", ""))
    # parentheses are accepted however deep; the (deliberate) error is the missing output
    _check_located(capsys, path, 1, "the model has no `output`")


def test_deeply_nested_unclosed_parentheses(capsys, tmp_path):
    path = tmp_path / "deep_open.snn"
    path.write_text("model m\ntime { dt = 1 ms; steps = " + "(" * 10_000 + "1\n")
    _check_located(capsys, path, 2, "unexpected end of file, expected ')'")


def test_deeply_nested_operators(capsys, tmp_path):
    path = tmp_path / "deep_ops.snn"
    path.write_text("model m\ntime { dt = 1 ms; steps = " + "-" * 10_000 + "1 }\n")
    _check_located(capsys, path, 2, "expression is nested too deeply")


def test_deeply_nested_calls(capsys, tmp_path):
    path = tmp_path / "deep_calls.snn"
    path.write_text("model m\ntime { dt = 1 ms; steps = " + "f(" * 5_000 + "1" + ")" * 5_000 + " }\n")
    _check_located(capsys, path, 2, "expression is nested too deeply")


def test_very_long_line(capsys, tmp_path):
    path = tmp_path / "long.snn"
    path.write_text("model m\n" + "x" * 1_000_000 + "\n")
    _, col, rest, err = _check_located(capsys, path, 2, "unexpected 'xxxx")
    assert col == 1
    # the quoted source line is cut short
    assert max(len(l) for l in err.splitlines()) < 400


def test_very_long_sum(capsys, tmp_path):
    path = tmp_path / "sum.snn"
    path.write_text("model m\ntime { dt = 1 ms; steps = 1" + " + 1" * 10_000 + " }\n")
    _check_located(capsys, path, 2, "expression is nested too deeply")


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "missing.snn"
    code, out, err = run(capsys, str(missing))
    assert code == 2
    assert err.splitlines() == [f"error: {missing}: no such file", f"{missing}: 1 error"]


def test_directory(capsys, tmp_path):
    code, out, err = run(capsys, str(tmp_path))
    assert code == 2
    assert err.splitlines()[0] == f"error: {tmp_path}: is a directory, not a .snn file"


def test_no_arguments_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["check"])
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("option,value,message", [
    (["simulate", "--samples"], "0", "argument --samples: expected a positive integer, got 0"),
    (["simulate", "--samples"], "two", "argument --samples: 'two' is not an integer"),
    (["convert", "--calibrate"], "-3", "argument --calibrate: must be 0 or more, not -3"),
    (["train", "--tbptt"], "-3", "argument --tbptt: must be 0 or more, not -3"),
    # counts at most 2^31 - 1, as in a model's train block (--epochs 1e20 ran until killed)
    (["train", "--epochs"], "99999999999999999999",
     "argument --epochs: must be at most 2147483647, not 99999999999999999999"),
    (["train", "--batch-size"], "2147483648",
     "argument --batch-size: must be at most 2147483647, not 2147483648"),
    (["train", "--tbptt"], "2147483648",
     "argument --tbptt: must be at most 2147483647, not 2147483648"),
    # numbers: finite, and bounded where the option needs it (an internal error from the
    # optimiser or the conversion before)
    (["train", "--lr"], "-1", "argument --lr: expected a positive number, got -1"),
    (["train", "--lr"], "nan", "argument --lr: 'nan' is not a finite number"),
    (["train", "--spike-reg"], "-0.5", "argument --spike-reg: must be 0 or more, not -0.5"),
    (["convert", "--tau-beta"], "inf", "argument --tau-beta: 'inf' is not a finite number"),
    (["convert", "--m-f"], "-1", "argument --m-f: must be 0 or more, not -1"),
    (["convert", "--agreement"], "x", "argument --agreement: 'x' is not a number"),
    # a number below the smallest double was read as 0 (--m-f 1e-400 turned the adaptation off)
    (["convert", "--m-f"], "1e-400",
     "argument --m-f: '1e-400' is too small a number: it underflows to 0"),
    (["train", "--lr"], "1e-400",
     "argument --lr: '1e-400' is too small a number: it underflows to 0"),
    (["report", "--e-add"], "0.0001e-330",
     "argument --e-add: '0.0001e-330' is too small a number: it underflows to 0"),
])
def test_bounded_options(option, value, message, capsys):
    from snnc.cli import main

    cmd, flag = option
    with pytest.raises(SystemExit) as exc:
        main([cmd, "examples/digits.snn", flag, value])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("option,value,message", [
    # Python's int() and float() read other scripts' digits: --samples ٥ (Arabic-Indic five)
    # simulated 5 samples; and '_' between digits
    (["simulate", "--samples"], "٥",
     "argument --samples: '٥' is not an integer (write the integer with the ASCII digits 0-9)"),
    (["simulate", "--seed"], "１",
     "argument --seed: '１' is not an integer (write the integer with the ASCII digits 0-9)"),
    (["simulate", "--settle"], "٥",          # was int(): any script, and negative values
     "argument --settle: '٥' is not an integer (write the integer with the ASCII digits "
     "0-9)"),
    (["simulate", "--settle"], "-1", "argument --settle: must be 0 or more, not -1"),
    (["simulate", "--samples"], "1_000", "argument --samples: '1_000' is not an integer"),
    (["train", "--lr"], "٠.١",
     "argument --lr: '٠.١' is not a number (write the number with the ASCII digits 0-9)"),
    (["convert", "--tau-beta"], "3_0", "argument --tau-beta: '3_0' is not a number"),
    (["convert", "--input-shape"], "١,8,8",
     "argument --input-shape: '١,8,8' is not a comma-separated list of integers (write the "
     "integers with the ASCII digits 0-9)"),
    (["convert", "--input-shape"], "1,99999999999,8",
     "argument --input-shape: the values must be at most 2147483647, not '1,99999999999,8'"),
])
def test_numbers_are_ascii(option, value, message, capsys):
    cmd, flag = option
    with pytest.raises(SystemExit) as exc:
        main([cmd, "examples/digits.snn", flag, value])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"snnc {cmd}: error: {message}"


def test_ascii_numbers_still_parse():
    from snnc import argtypes

    assert argtypes.positive_int(" +12 ") == 12
    assert argtypes.finite_float("-1.5e-3") == -1.5e-3
    assert argtypes.finite_float(".5") == 0.5 and argtypes.finite_float("5.") == 5.0
    assert argtypes.int_list(0, "0 or more")("1,2,3") == (1, 2, 3)


@pytest.mark.parametrize("argv,message", [
    (["train", "M", "--seed", "-1", "--out", "o"],
     "snnc train: error: argument --seed: must be between 0 and 18446744073709551615, not -1"),
    (["train", "M", "--seed", "18446744073709551616", "--out", "o"],
     "snnc train: error: argument --seed: must be between 0 and 18446744073709551615, not "
     "18446744073709551616"),
    (["simulate", "M", "--backend", "golden", "--seed", "-1"],
     "snnc simulate: error: argument --seed: must be between 0 and 18446744073709551615, not "
     "-1"),
    (["verify", "M", "--weights", "W", "--seed", "x"],
     "snnc verify: error: argument --seed: 'x' is not an integer"),
    (["compile", "M", "--target", "hls", "-o", "o", "--lanes", "65"],
     "snnc compile: error: argument --lanes: must be between 1 and 64, not 65"),
    (["report", "M", "--efficiency", "--lanes", "100000"],
     "snnc report: error: argument --lanes: must be between 1 and 64, not 100000"),
    (["verify", "M", "--weights", "W", "--lanes", "0"],
     "snnc verify: error: argument --lanes: must be between 1 and 64, not 0"),
])
def test_seed_and_lanes_options_take_the_models_ranges(capsys, argv, message):
    """--seed takes what the Python API does (0 to 2^64 - 1; -1 was an internal error of
    train), --lanes what a hardware block does (1 to 64; --lanes 100000 wrote 13 MB of memory
    files for a 10-neuron layer)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == message


def test_a_python_runs_64_bit_seed_repeats_on_the_command_line(capsys):
    """The API takes seeds up to 2^64 - 1 and the CLI took only up to 2^31, so a Python run
    with a larger seed could not be repeated with `snnc simulate --seed`."""
    import snnc

    seed = 2**64 - 5
    code = main(["simulate", "examples/digits.snn", "--backend", "golden", "--dataset",
                 "digits", "--samples", "3", "--seed", str(seed), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["seed"] == seed
    from snnc.datasets import load_dataset

    m = snnc.load("examples/digits.snn")
    data = load_dataset("digits", m.graph)
    res = m.simulate(data.x_test[:3], backend="golden", seed=seed)
    assert out["outputs"]["out"]["values"] == res.outputs["out"].count.tolist()
    assert out["predictions"] == res.predictions.tolist()


def test_errors_of_other_commands_with_json_are_json_too(capsys, tmp_path):
    # only `check --json` printed its errors as JSON; the others printed nothing on stdout
    missing = str(tmp_path / "nope.snn")
    for argv in (["simulate", missing, "--json"],
                 ["compile", missing, "--target", "verilog", "-o", str(tmp_path / "o"), "--json"],
                 ["report", missing, "--efficiency", "--json"]):
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 2
        assert json.loads(out) == {"ok": False, "errors": [
            {"severity": "error", "message": f"{missing}: no such file", "hint": None,
             "file": None, "line": None, "col": None, "end_line": None, "end_col": None}]}
        assert err.startswith(f"error: {missing}: no such file"), err


def test_python_warnings_print_as_one_line(capsys, monkeypatch, good):
    # numpy / torch / snnc warnings printed Python's "path:line: UserWarning: ..." and the line
    import warnings

    import snnc.cli as cli

    def warns(args):
        warnings.warn("the native scan is not available", RuntimeWarning)
        return 0

    monkeypatch.setattr(cli, "cmd_check", warns)
    assert cli.main(["check", good]) == 0
    assert capsys.readouterr().err == "warning: the native scan is not available\n"


def test_an_internal_error_with_json_is_json_too(capsys, monkeypatch, good):
    import snnc.cli as cli

    def bug(args):
        raise RuntimeError("value cannot be converted")

    monkeypatch.setattr(cli, "cmd_check", bug)
    assert cli.main(["check", "--json", good]) == 70
    out, err = capsys.readouterr()
    assert json.loads(out)["errors"][0] == {
        "severity": "internal", "message": "RuntimeError: value cannot be converted", "hint": None,
        "file": None, "line": None, "col": None, "end_line": None, "end_col": None}
    assert "snnc: internal error: RuntimeError: value cannot be converted" in err


def _saved_random_weights(tmp_path, example: str) -> str:
    from snnc.build import load
    from snnc.weights import random_weights, save_weights

    graph = load(f"examples/{example}").graph
    path = str(tmp_path / "w.npz")
    save_weights(path, graph, random_weights(graph, seed=0))
    return path


@pytest.mark.parametrize("example,argv,said", [
    # direct input and weights from a file: nothing random is left for the seed
    ("digits_relu.snn", ["simulate", "--backend", "golden", "--samples", "2", "--seed", "3"],
     "--seed 3 changes nothing here: the weights come from --weights and no input is rate-coded "
     "(the seed feeds the `rate` encoder and random weights only)"),
    ("digits.snn", ["compile", "--target", "verilog", "--seed", "4"],
     "--seed 4 changes nothing here: the weights come from --weights and this command uses the "
     "seed for random weights only"),
    # a rate-coded input uses the seed; a default seed is never remarked on
    ("digits.snn", ["simulate", "--backend", "golden", "--samples", "2", "--seed", "3"], None),
    ("digits_relu.snn", ["simulate", "--backend", "golden", "--samples", "2"], None),
])
def test_a_seed_that_changes_nothing_is_said(capsys, tmp_path, example, argv, said):
    w = _saved_random_weights(tmp_path, example)
    extra = ["-o", str(tmp_path / "out")] if argv[0] == "compile" else []
    code = main([argv[0], f"examples/{example}", "--weights", w, *argv[1:], *extra])
    err = capsys.readouterr().err
    assert code == 0, err
    seed_notes = [l for l in err.splitlines() if l.startswith("note: --seed")]
    assert seed_notes == ([f"note: {said}"] if said else [])


def test_lanes_that_change_nothing_are_said(capsys, tmp_path):
    """--lanes sets the layers without their own `lanes`: with none left it did nothing silently."""
    model = tmp_path / "l.snn"
    model.write_text("model m\ntime { dt = 1 ms; steps = 5 }\ninput x[4] = rate\n"
                     "layer h = dense(x, 3, lanes = 2) with LIF(tau_mem = 10 ms)\n"
                     "output h = count\n")
    for lanes, said in (("3", True), (None, False)):
        out = tmp_path / f"o{lanes}"
        argv = ["compile", str(model), "--target", "verilog", "-o", str(out)]
        assert main(argv + (["--lanes", lanes] if lanes else [])) == 0
        notes = [l for l in capsys.readouterr().err.splitlines() if "--lanes" in l]
        assert notes == (["note: --lanes 3 changes nothing here: every layer sets its own "
                          "`lanes`"] if said else [])
    # a conv layer has no `lanes` of its own: --lanes sets it (the efficiency report's cycle
    # model), so it is not said to change nothing
    import argparse

    from snnc.argtypes import unused_lanes_notes
    from snnc.build import load_text

    conv = load_text("model c\ntime { dt = 1 ms; steps = 5 }\ninput img[1, 4, 4] = rate\n"
                     "layer c = conv2d(img, 2, 3) with IF\nlayer f = flatten(c)\n"
                     "layer h = dense(f, 3, lanes = 2) with IF\noutput h = count\n",
                     "c.snn").graph
    assert unused_lanes_notes(argparse.Namespace(lanes=3), conv) == []


def test_output_folders_under_a_file_are_said_to_be_so(capsys, tmp_path):
    # "cannot create output folder .../sub: Not a directory"
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    assert main(["compile", "examples/digits.snn", "--target", "verilog", "-o",
                 str(a_file / "sub")]) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f"error: cannot create output folder {a_file / 'sub'}: {a_file} is a file")


@pytest.mark.parametrize("argv, dest, value", [
    (["compile", "m.snn", "--backend", "hls", "-o", "o"], "target", "hls"),
    (["compile", "m.snn", "--target", "verilog", "-o", "o"], "target", "verilog"),
    (["verify", "m.snn", "--weights", "w.npz", "--target", "hls"], "backend", "hls"),
    (["verify", "m.snn", "--weights", "w.npz"], "backend", "verilog"),
])
def test_compile_and_verify_take_both_target_and_backend(tmp_path, monkeypatch, argv, dest, value):
    """compile said --target and verify --backend for the same choice; each takes the other's
    name too."""
    from snnc.cli import build_parser

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.snn").write_text("model m\n")
    (tmp_path / "w.npz").write_bytes(b"")
    assert getattr(build_parser().parse_args(argv), dest) == value


@pytest.mark.parametrize("argv, said", [
    (["compile", "m.snn", "--target", "verilog", "--backend", "hls", "-o", "o"],
     "snnc compile: error: argument --target/--backend: given twice with different values "
     "(--target verilog, --backend hls)"),
    (["verify", "m.snn", "--weights", "w.npz", "--backend", "hls", "--target", "verilog"],
     "snnc verify: error: argument --backend/--target: given twice with different values "
     "(--backend hls, --target verilog)"),
])
def test_target_and_backend_given_with_different_values_is_an_option_error(
        tmp_path, monkeypatch, capsys, argv, said):
    # the last one had won without a word
    from snnc.cli import build_parser

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.snn").write_text("model m\n")
    (tmp_path / "w.npz").write_bytes(b"")
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == said
    same = [a if a != "hls" else "verilog" for a in argv]       # the same value twice is fine
    assert build_parser().parse_args(same).__dict__[argv[0] == "compile" and "target"
                                                     or "backend"] == "verilog"


@pytest.mark.parametrize("argv, message", [
    (["simulate", "examples/digits.snn", "--json", "--samples", "0"],
     "argument --samples: expected a positive integer, got 0"),
    (["compile", "examples/digits.snn", "--target", "vhdl", "--json", "-o", "o"],
     "argument --target/--backend: invalid choice: 'vhdl' (choose from 'verilog', 'hls')"),
])
def test_an_option_error_is_json_too_when_json_is_asked_for(capsys, argv, message):
    # scripts that parse --json output got nothing on standard output for a bad option
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert json.loads(out) == {"ok": False, "errors": [{
        "severity": "error", "message": message, "hint": f"see snnc {argv[0]} --help",
        "file": None, "line": None, "col": None, "end_line": None, "end_col": None}]}
    assert err.splitlines()[-1] == f"snnc {argv[0]}: error: {message}"
    with pytest.raises(SystemExit):                     # without --json: standard error only
        main([a for a in argv if a != "--json"])
    assert capsys.readouterr().out == ""


def test_version(capsys):
    import snnc

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"snnc {snnc.__version__}\n"
    import tomllib

    from snn_models import ROOT

    with open(ROOT / "pyproject.toml", "rb") as f:
        assert snnc.__version__ == tomllib.load(f)["project"]["version"]


def test_an_unknown_option_is_said_by_the_commands_parser(capsys):
    # the top-level parser said it ("usage: snnc [-h] COMMAND ..."; the JSON hint "see snnc --help")
    with pytest.raises(SystemExit) as info:
        main(["check", "examples/digits.snn", "--bogus", "--json"])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert err.splitlines()[0].startswith("usage: snnc check ")
    assert err.splitlines()[-1] == "snnc check: error: unrecognized arguments: --bogus"
    assert json.loads(out)["errors"][0]["hint"] == "see snnc check --help"
