"""``snnc demo``: train digits with QAT (a short run), compile to Verilog, co-simulate on Verilator.

The printed figures must parse and agree with each other and with the files the demo wrote:
the golden accuracy on the co-simulated images recomputed from the weights it saved, the RTL's
accuracy equal to it, cycles and latency consistent with the clock of the hardware block.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DIGITS = str(ROOT / "examples" / "digits.snn")


def test_demo_trains_compiles_and_matches(tmp_path, capsys):
    pytest.importorskip("torch")
    from snnc.backends.verilog.sim import toolchain_problem

    problem = toolchain_problem()
    if problem:
        pytest.skip(problem)
    import snnc
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.cli import main
    from snnc.datasets import load_dataset
    from snnc.quantize import quantize
    from snnc.weights import load_weights

    out = tmp_path / "demo"
    n = 24
    rc = main(["demo", DIGITS, "--epochs", "2", "--samples", str(n), "--lanes", "16", "--out",
               str(out), "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0, text
    lines = text.splitlines()
    assert lines[0].startswith("[1/4] training 'digits'") and "2 epochs" in lines[0]
    m = re.search(r"float (\d+\.\d\d)%, golden \(bit-exact fixed point\) (\d+\.\d\d)%", lines[1])
    assert m, lines[1]
    float_acc, golden_acc = float(m.group(1)), float(m.group(2))
    summary = [line.strip() for line in lines if line.startswith("      ")]
    body = "\n".join(summary)
    assert "match: the verilog hardware equals the golden model bit for bit on "\
           f"{n} samples x 25 steps" in body
    m = re.search(r"accuracy: golden (\d+\.\d\d)%, verilog (\d+\.\d\d)%; predictions agree on "
                  r"100\.00% of the samples", body)
    assert m, body
    gold_n, rtl_n = float(m.group(1)), float(m.group(2))
    assert gold_n == rtl_n
    m = re.search(r"per sample: (\d+\.\d) spikes, (\d+) synaptic operations \(hardware\)", body)
    assert m, body
    spikes, sops = float(m.group(1)), int(m.group(2))
    m = re.search(r"cycles per inference: mean (\d+\.\d), max (\d+); cycle bound mean (\d+\.\d), "
                  r"max (\d+); ratio (\d\.\d{3})", body)
    assert m, body
    c_mean, c_max, b_mean, b_max, ratio = (float(v) for v in m.groups())
    assert c_mean <= c_max <= b_max and c_mean <= b_mean and ratio <= 1.0
    m = re.search(r"latency at 50 MHz: mean (\d+\.\d) us, max (\d+\.\d) us per inference", body)
    assert m, body
    assert abs(float(m.group(1)) - c_mean / 50) < 0.051
    assert abs(float(m.group(2)) - c_max / 50) < 0.051
    assert lines[-1] == "PASS: the Verilog is bit-exact with the golden model"

    # the files: weights, Verilog, the numbers recomputed from the saved weights
    assert (out / "verilog" / "snn_top.v").exists()
    manifest = json.loads((out / "verilog" / "manifest.json").read_text())
    assert [l["lanes"] for l in manifest["layers"]] == [16, 16]
    graph = snnc.load(DIGITS).graph
    q = quantize(graph, load_weights(out / "weights.npz", graph))
    ds = load_dataset("digits", graph)
    r = simulate_golden(q, ds.x_test[:n], seed=0, sample_ids=np.arange(n))
    assert f"{100 * float((r.predictions == ds.y_test[:n]).mean()):.2f}" == f"{gold_n:.2f}"
    assert f"{r.totals.spikes / n:.1f}" == f"{spikes:.1f}"
    assert f"{r.totals.sops / n:.0f}" == str(sops)
    full = simulate_golden(q, ds.x_test, seed=0, sample_ids=np.arange(len(ds.x_test)))
    assert f"{100 * float((full.predictions == ds.y_test).mean()):.2f}" == f"{golden_acc:.2f}"
    assert 0.0 < float_acc <= 100.0


def test_demo_refuses_what_verilog_cannot_build_before_training(tmp_path, capsys, monkeypatch):
    """A ReLU model was trained for minutes before the Verilog backend refused it."""
    from snnc.cli import main
    import snnc.backends.torch.train as train_mod

    def no_training(*a, **k):
        raise AssertionError("trained before the backend check")

    monkeypatch.setattr(train_mod, "train", no_training)
    model = str(ROOT / "examples" / "digits_relu.snn")
    out = tmp_path / "demo"
    assert main(["demo", model, "--epochs", "1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "the non-spiking ReLU unit of layer 'hidden' is not built by the Verilog backend" in err, err
    assert not out.exists()
