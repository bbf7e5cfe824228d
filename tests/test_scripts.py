"""The result scripts (scripts/reproduce_results.py, scripts/reproduce_asn.py): the committed
docs are what the scripts render from the committed measurements, and ``--out`` writes them
elsewhere (a researcher re-running them need not overwrite docs/)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [("reproduce_results.py", "results"), ("reproduce_asn.py", "results_asn")]


def run(script, *args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.parametrize("script,stem", SCRIPTS)
def test_the_docs_are_the_scripts_rendering_of_their_measurements_and_out_writes_elsewhere(
        tmp_path, script, stem):
    out = tmp_path / "new" / "folder"
    before = (ROOT / "docs" / f"{stem}.md").read_text()
    r = run(script, "--from-json", str(ROOT / "docs" / f"{stem}.json"), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == [f"{stem}.md"]       # rendering only: the JSON is the input
    assert (out / f"{stem}.md").read_text() == before       # docs/ is the committed rendering
    assert (ROOT / "docs" / f"{stem}.md").read_text() == before


@pytest.mark.parametrize("script,stem", SCRIPTS)
def test_out_refuses_a_file_and_no_write(tmp_path, script, stem):
    f = tmp_path / "f"
    f.write_text("x")
    r = run(script, "--out", str(f))
    assert r.returncode == 2 and f"argument --out: '{f}' is a file, not a folder" in r.stderr, r.stderr
    r = run(script, "--out", str(tmp_path / "d"), "--no-write")
    assert r.returncode == 2 and "--out and --no-write: --no-write writes nothing" in r.stderr, r.stderr


def bench(script, *args):
    return subprocess.run([sys.executable, str(ROOT / "bench" / script), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_the_quick_benchmarks_still_run():
    """The benchmarks are run by hand (their figures are in docs/performance.md), not by the
    suite; the two quick ones run here at a tiny size so that a change that breaks them shows."""
    r = bench("check_speed.py", "--lines", "60", "--runs", "1")
    assert r.returncode == 0, r.stderr
    assert "ratio to the 1 s target:" in r.stdout and "snnc check (in process" in r.stdout
    r = bench("sim_throughput.py", "--batch", "4", "--steps", "3", "--repeats", "1")
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if "samples/s" in l]
    assert [l.split()[0] for l in lines] == ["digits", "mnist"], r.stdout
    assert all("golden/float" in l for l in lines)


def _asn_trained(monkeypatch):
    """scripts/asn_trained.py, imported as the scripts import it (scripts/ on the path)."""
    import importlib

    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    return importlib.import_module("asn_trained")


CONVERTED = """\
# digits_relu converted to adaptive spiking neurons by `snnc convert --to asn`.
model digits_relu_asn
time { dt = 1 ms; steps = 60 }
input pixels[64] = direct(scale = 0.18, hold = true)
layer hidden = dense(pixels, 16, bias = true) with ASN(tau_beta = 5 ms, tau_eta = 30 ms, threshold = 1.07, m_f = 4.0, tau_gamma = 2 ms)
layer out = dense(hidden, 10, bias = true) with ASN(tau_beta = 30 ms, threshold = 63.998046875, m_f = 4.0, tau_gamma = 2 ms)
output out = membrane            # U summed over the steps ~ steps x logits
train { dataset = digits }
hardware { weights = fixed<12,10>; state = fixed<16,9>; inputs = fixed<16,15> }
"""


def test_the_trained_asn_model_is_the_converted_one_with_a_horizon_and_a_recipe(monkeypatch):
    """scripts/asn_trained.py (the trained ASN of docs/results_asn.md): the text it trains keeps
    the converted model's neurons, input and formats and sets steps and the training recipe."""
    import snnc

    at = _asn_trained(monkeypatch)
    text = at.training_text(CONVERTED, 5, 80)
    g = snnc.loads(text, "trained.snn").graph
    assert g.name == "digits_relu_asn_trained" and g.time.steps == 5
    assert (g.train.loss, g.train.lr, g.train.epochs, g.train.dataset) == (
        "cross_entropy", 2e-3, 80, "digits")
    conv = snnc.loads(CONVERTED, "converted.snn").graph
    assert [l.neuron for l in g.layers] == [l.neuron for l in conv.layers]
    assert g.hardware == conv.hardware and g.held("pixels")
    assert snnc.loads(at.with_steps(text, 30), "t30.snn").graph.time.steps == 30
    with pytest.raises(ValueError, match="one time block with steps and one train block"):
        at.training_text(CONVERTED.replace("train { dataset = digits }\n", ""), 5, 80)


def test_the_spike_regulariser_is_the_most_accurate_on_validation_of_equals_the_largest(
        monkeypatch):
    at = _asn_trained(monkeypatch)
    assert at.choose_spike_reg({0.5: 0.9679, 1.0: 0.9750, 2.0: 0.9714, 4.0: 0.9714}) == 1.0
    assert at.choose_spike_reg({0.5: 0.9750, 1.0: 0.9821, 2.0: 0.9750, 4.0: 0.9643}) == 1.0
    assert at.choose_spike_reg({0.5: 0.9679, 1.0: 0.9643, 2.0: 0.9679, 4.0: 0.9714}) == 4.0
    assert at.choose_spike_reg({0.5: 0.60, 1.0: 0.59, 2.0: 0.60, 4.0: 0.5999}) == 2.0
