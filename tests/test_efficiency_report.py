"""``snnc report --efficiency`` and ``snnc.backends.golden.efficiency``: hand-computed counts on a
tiny model with known weights, the decision-step rule, the energy arithmetic, the cycle model
against the Verilog manifest's, the CLI (JSON keys, text, plots) and its errors.

The tiny model: 3 direct inputs -> 2 IF -> 2 IF, 4 steps, weights exact in fixed<8,4>:

    W_h = [[1.5, 0, 0], [0, 0.75, 0]]       W_o = [[1.25, 0], [0, 1.25]]

Sample 0, x = [1, 0.5, 0]: h0 gets 1.5 per step and spikes at steps 0-3; h1 gets 0.375 and spikes
at step 2 (U = 1.125); o0 gets 1.25 per h0 spike and spikes at 0-3; o1 spikes at step 2.
Sample 1, x = [0.25, 0.875, 0]: h0 gets 0.375 and spikes at step 2; h1 gets 0.65625 and spikes at
steps 1 (U = 1.3125) and 3 (U = 1.625); o0 spikes at step 2, o1 at steps 1 and 3.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest

from snnc.backends.golden import efficiency as eff
from snnc.backends.golden.golden_sim import simulate_golden
from snnc.build import load_text
from snnc.cli import main
from snnc.quantize import quantize
from snnc.weights import save_weights

TINY = """\
model tiny
time { dt = 1 ms; steps = 4 }
input x[3] = direct(scale = 1.0)
layer h = dense(x, 2) with IF(threshold = 1.0, reset = subtract)
layer o = dense(h, 2) with IF(threshold = 1.0, reset = subtract)
output o = count
hardware { weights = fixed<8,4>; state = fixed<16,8>; inputs = fixed<8,4>; lanes = 1; clock = 10 MHz }
"""
W = {"h": {"weight": np.array([[1.5, 0.0, 0.0], [0.0, 0.75, 0.0]])},
     "o": {"weight": np.array([[1.25, 0.0], [0.0, 1.25]])}}
X = np.array([[1.0, 0.5, 0.0], [0.25, 0.875, 0.0]])
Y = np.array([0, 1])


def _qmodel(text: str = TINY, steps: int | None = None):
    if steps is not None:
        text = text.replace("steps = 4", f"steps = {steps}")
    graph = load_text(text, "<tiny>").graph
    return quantize(graph, W)


@pytest.fixture(scope="module")
def measured():
    q = _qmodel()
    return q, eff.measure(q, X, Y)


# ------------------------------------------------------------------ counts by hand


def test_spikes_sops_macs_match_the_hand_count(measured):
    _, m = measured
    rows = {c.name: c for c in m.layers}
    assert rows["x"].spikes == 16                       # 2 non-zero inputs x 4 steps x 2 samples
    assert rows["h"].spikes == 5 + 3 and rows["o"].spikes == 5 + 3
    assert rows["h"].sops == 2 * (2 * 2 * 4)            # 2 events x fan-out 2 x 4 steps, 2 samples
    assert rows["h"].graded_sops == rows["h"].sops      # direct values are graded events
    assert rows["o"].sops == (5 + 3) * 2 and rows["o"].graded_sops == 0     # binary IF spikes
    assert rows["h"].macs_per_inference == 3 * 2 and rows["o"].macs_per_inference == 2 * 2
    assert m.spikes_by_step.tolist() == [2 + 0, 2 + 2, 4 + 2, 2 + 2]      # h + o events per step
    r = eff.efficiency_report(m)
    assert r["spikes_per_inference"] == 8.0
    assert r["sops_per_inference"] == 24.0 and r["graded_sops_per_inference"] == 16.0
    assert r["input_sops_per_inference"] == 16.0
    assert r["ann_macs_per_inference"] == 10
    assert r["accuracy"] == 1.0


def test_running_predictions_and_decision_steps(measured):
    q, m = measured
    # sample 0 says class 0 from step 0; sample 1 says 0 (all tied at 0), then 1 from step 1 on
    assert m.decision.tolist() == [1, 2]
    assert m.correct_by_step.tolist() == [1, 2, 2, 2]
    r = eff.efficiency_report(m)
    assert r["decision"]["accuracy_by_step"] == [0.5, 1.0, 1.0, 1.0]
    assert r["decision"]["histogram"] == [1, 1, 0, 0]
    assert r["decision"]["mean_steps"] == 1.5 and r["decision"]["max_steps"] == 2
    # the running prediction after k steps is what a model of k steps predicts
    res = simulate_golden(q, X, record=True)
    preds = eff.running_predictions(res, q.graph)
    for k in range(1, 5):
        assert preds[k - 1].tolist() == simulate_golden(_qmodel(steps=k), X).predictions.tolist()


@pytest.mark.parametrize("neuron,readout", [
    ("ASN(tau_beta = 20 ms, threshold = 0.2, m_f = 0.5, tau_gamma = 15 ms)", "membrane"),
    ("LIF(tau_mem = 10 ms, threshold = 0.3)", "first_spike"),
    ("LIF(tau_mem = 10 ms, threshold = 0.3)", "count")])
def test_running_prediction_is_the_shorter_runs_prediction(neuron, readout):
    from snnc.weights import random_weights

    text = ("model r\ntime { dt = 1 ms; steps = 6 }\ninput x[8] = direct(scale = 0.5)\n"
            f"layer h = dense(x, 12, bias = true) with {neuron}\n"
            f"layer o = dense(h, 4) with {neuron}\noutput o = {readout}\n")
    graph = load_text(text, "<r>").graph
    w = random_weights(graph, seed=3, scale=3.0)
    x = np.random.default_rng(0).uniform(0, 1, (40, 8))
    res = simulate_golden(quantize(graph, w), x, record=True)
    preds = eff.running_predictions(res, graph)
    assert len({tuple(p) for p in preds}) > 1          # the prediction does change over the steps
    for k in range(1, 7):
        g = load_text(text.replace("steps = 6", f"steps = {k}"), "<r>").graph
        assert preds[k - 1].tolist() == simulate_golden(quantize(g, w), x).predictions.tolist()


def test_spike_count_only_running_predictions(measured):
    q, _ = measured
    res = simulate_golden(q, X, record=True)
    # output spike counts after each step: sample 0 [1,0] [2,0] [3,1] [4,1]; sample 1 [0,0] [0,1]
    # [1,1] [1,2]: ties (no spike yet included) are undecided (-1)
    preds = eff.running_predictions(res, q.graph, spikes_only=True)
    assert preds.T.tolist() == [[0, 0, 0, 0], [-1, 1, -1, 1]]
    assert eff.decision_steps(preds).tolist() == [1, 4]


def test_decision_steps_on_a_constructed_case():
    # columns: samples; rows: running prediction after steps 1..5
    preds = np.array([[3, 0, 1, 2, 4],
                      [3, 1, 1, 2, 4],
                      [3, 1, 0, 2, 4],
                      [3, 1, 0, 7, 4],
                      [3, 1, 0, 7, 5]])
    assert eff.decision_steps(preds).tolist() == [1, 2, 3, 4, 5]
    assert eff.decision_steps(np.array([[2, 2]])).tolist() == [1, 1]


def test_energy_arithmetic(measured):
    _, m = measured
    r = eff.efficiency_report(m)
    e = r["energy"]
    # per inference: 24 SOPs x 0.9 pJ + 16 graded SOPs x 3.7 pJ; ANN 10 MACs x 4.6 pJ
    assert e["snn_nj_per_inference"] == pytest.approx((24 * 0.9 + 16 * 3.7) / 1e3)
    assert e["snn_add_only_nj_per_inference"] == pytest.approx(24 * 0.9 / 1e3)
    assert e["ann_nj_per_inference"] == pytest.approx(10 * 4.6 / 1e3)
    assert e["ann_over_snn"] == pytest.approx(46.0 / 80.8)
    assert e["payload_multiply_counted"] is True and "Horowitz" in e["source"]
    r2 = eff.efficiency_report(m, eff.EnergyCosts(add_pj=1.0, mul_pj=2.0, mac_pj=3.0,
                                                  payload_multiply=False))
    assert r2["energy"]["snn_nj_per_inference"] == pytest.approx(24e-3)
    assert r2["energy"]["ann_nj_per_inference"] == pytest.approx(30e-3)
    layers = {l["name"]: l for l in r["layers"]}
    assert layers["o"]["snn_energy_nj"] == pytest.approx(8 * 0.9 / 1e3)
    assert layers["h"]["snn_energy_nj"] == pytest.approx(16 * (0.9 + 3.7) / 1e3)


def test_cycles_by_hand_and_against_the_verilog_manifest(measured, tmp_path):
    q, m = measured
    # lanes 1, overhead v per layer and step (4 in the core today):
    # h: sum_t (2 events * 2 + 2 + S_h + v) = 4 (6 + v) + S_h;  o: sum_t (S_h * 2 + 2 + S_o + v)
    v = eff.step_overhead()
    assert m.lanes == 1 and m.clock_hz == 10e6
    c0 = (4 * (6 + v) + 5) + (2 * 5 + 4 * (2 + v) + 5)
    c1 = (4 * (6 + v) + 3) + (2 * 3 + 4 * (2 + v) + 3)
    assert m.cycles.tolist() == [c0, c1]
    if v == 4:
        assert (c0, c1) == (84, 76)
    r = eff.efficiency_report(m)
    assert r["cycles"]["mean_per_inference"] == (c0 + c1) / 2
    assert r["cycles"]["max_per_inference"] == c0
    assert r["cycles"]["latency_us"] == pytest.approx((c0 + c1) / 2 / 10)
    assert "model estimate" in r["cycles"]["label"]
    # the same numbers as the manifest's cycle_bound evaluated by the co-simulation (lanes 1 and 2)
    from snnc.backends.verilog.cosim import cycle_bounds
    from snnc.backends.verilog.generator import generate

    res = simulate_golden(q, X, record=True)
    # cycle_bounds sums the recorded values per step; a direct input's are its quantised values,
    # not its event count, so hand it the events (1 per non-zero value) instead
    events = copy.copy(res)
    events.spikes = {**res.spikes, "x": (np.asarray(res.spikes["x"]) != 0).astype(np.uint8)}
    for lanes in (1, 2):
        manifest = generate(q, tmp_path / f"v{lanes}", lanes=lanes)
        bound, _ = cycle_bounds(manifest, events, 4, 2, "x")
        assert eff.cycles_per_sample(q.graph, res, lanes).tolist() == bound.tolist()
    # lanes 2: ceil(2/2) = 1 word per event and per sweep
    assert eff.cycles_per_sample(q.graph, res, 2).tolist() == [
        (4 * (3 + v) + 5) + (5 + 4 * (1 + v) + 5), (4 * (3 + v) + 3) + (3 + 4 * (1 + v) + 3)]


def test_a_model_verilog_cannot_build_says_its_cycles_are_extrapolated(measured):
    # the cycles were labelled the Verilog core's bound with no word that no design exists
    assert not any("cannot build" in n for n in measured[1].notes)
    relu = _qmodel(TINY.replace("with IF(threshold = 1.0, reset = subtract)\nlayer o",
                                "with ReLU\nlayer o"))
    notes = eff.measure(relu, X, Y).notes
    assert ("the Verilog backend cannot build this model (the non-spiking ReLU unit of layer 'h' "
            "is not built by the Verilog backend): its cycles are the cycle model's formula "
            "applied to the model, not a design's bound") in notes


def test_graded_sources():
    text = ("model g\ntime { dt = 1 ms; steps = 2 }\ninput x[4] = rate(gain = 1.0)\n"
            "layer a = dense(x, 3) with ASN(tau_beta = 20 ms, threshold = 0.5)\n"
            "layer b = dense(a, 3) with LIF(tau_mem = 10 ms, threshold = 1.0)\n"
            "layer c = dense(b, 2) with relu\noutput c = membrane\n")
    graph = load_text(text, "<g>").graph
    assert eff.graded_sources(graph) == {"a", "c"}
    assert eff.graded_sources(load_text(TINY, "<t>").graph) == {"x"}


# ------------------------------------------------------------------ the command


def _files(tmp_path: Path) -> tuple[str, str, str]:
    model = tmp_path / "tiny.snn"
    model.write_text(TINY)
    graph = load_text(TINY, str(model)).graph
    weights = tmp_path / "w.npz"
    save_weights(str(weights), graph, W)
    data = tmp_path / "data.npz"
    np.savez(data, x_train=X, y_train=Y, x_test=X, y_test=Y)
    return str(model), str(weights), f"npz:{data}"


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def test_cli_json(tmp_path):
    model, weights, data = _files(tmp_path)
    rc, out, err = _run(["report", model, "--weights", weights, "--efficiency", "--dataset", data,
                         "--json"])
    assert rc == 0, err
    r = json.loads(out)["efficiency"]
    assert set(r) >= {"accuracy", "spikes_per_inference", "sops_per_inference",
                      "graded_sops_per_inference", "ann_macs_per_inference", "layers", "decision",
                      "energy", "cycles", "samples", "steps", "dataset"}
    assert r["samples"] == 2 and r["accuracy"] == 1.0 and r["sops_per_inference"] == 24.0
    assert r["energy"]["snn_nj_per_inference"] == pytest.approx(0.0808)
    d = 8 * (eff.step_overhead() - 4)      # 2 layers x 4 steps of per-layer overhead
    assert r["cycles"]["mean_per_inference"] == 80.0 + d and r["cycles"]["clock_mhz"] == 10.0
    assert [l["name"] for l in r["layers"]] == ["x", "h", "o"]
    # costs are options; --samples takes the first N; --lanes overrides the hardware block
    rc, out, err = _run(["report", model, "--weights", weights, "--efficiency", "--dataset", data,
                         "--samples", "1", "--lanes", "2", "--e-add", "1", "--e-mac", "3",
                         "--no-payload-multiply", "--json"])
    assert rc == 0, err
    r = json.loads(out)["efficiency"]
    assert r["samples"] == 1 and r["sops_per_inference"] == 26.0      # 16 + 5 spikes x 2
    assert r["energy"]["snn_nj_per_inference"] == pytest.approx(26e-3)
    assert r["energy"]["ann_nj_per_inference"] == pytest.approx(30e-3)
    assert r["energy"]["payload_multiply_counted"] is False
    assert r["cycles"]["lanes"] == 2 and r["cycles"]["mean_per_inference"] == 63.0 + d
    # costs of one's own are not attributed to Horowitz's table (they were)
    assert r["energy"]["source"].startswith("given on the command line (--e-add 1, --e-mac 3; "
                                            "the other costs: ")
    rc, out, err = _run(["report", model, "--weights", weights, "--efficiency", "--dataset", data,
                         "--e-add", "0.5", "--json"])
    source = json.loads(out)["efficiency"]["energy"]["source"]
    assert source.startswith("given on the command line (--e-add 0.5; the other costs: "
                             "M. Horowitz, ") and source.endswith("ISSCC 2014, pp. 10-14 (45 nm, "
                                                                  "0.9 V))")


def test_cli_text_and_plots(tmp_path):
    model, weights, data = _files(tmp_path)
    plots = tmp_path / "plots"
    rc, out, err = _run(["report", model, "--weights", weights, "--efficiency", "--dataset", data,
                         "--plots", str(plots)])
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "tiny:"
    assert "  accuracy 100.00%" in lines
    assert ("  per inference: 8.0 spikes, 24 SOPs (16 graded), equivalent ANN 10 MACs" in lines)
    assert any(l.startswith("  steps to a stable decision: mean 1.50, median 1.5, max 2 of 4")
               for l in lines)
    assert any("ISSCC 2014" in l for l in lines)
    d = 8 * (eff.step_overhead() - 4)
    assert any("model estimate" in l and f"mean {80 + d}, max {84 + d}" in l
               and f"{(80 + d) / 10:.2f} us at 10 MHz" in l for l in lines)
    for name in ("accuracy_vs_step.png", "spikes_per_layer.png"):
        p = plots / name
        assert p.is_file() and p.stat().st_size > 1000
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_missing_weights_is_an_error(tmp_path, capsys):
    model, _, data = _files(tmp_path)
    assert main(["report", model, "--efficiency", "--dataset", data]) == 2
    err = capsys.readouterr().err
    assert "error: --efficiency needs the model's trained weights" in err
    assert "hint: pass --weights W.npz (from snnc train or snnc convert)" in err


def test_cli_unknown_dataset_is_an_error(tmp_path, capsys):
    model, weights, _ = _files(tmp_path)
    assert main(["report", model, "--weights", weights, "--efficiency", "--dataset", "cifar"]) == 2
    err = capsys.readouterr().err
    assert "error: unknown data set 'cifar'" in err and "Traceback" not in err


def test_cli_no_dataset_is_an_error(tmp_path, capsys):
    model, weights, _ = _files(tmp_path)
    assert main(["report", model, "--weights", weights, "--efficiency"]) == 2
    err = capsys.readouterr().err
    assert "error: --efficiency: model 'tiny' names no data set" in err


def test_cli_empty_test_split_is_the_error_simulate_gives(tmp_path, capsys):
    model, weights, _ = _files(tmp_path)
    data = tmp_path / "empty.npz"
    np.savez(data, x_train=X, y_train=Y, x_test=X[:0], y_test=Y[:0])
    for argv in (["report", model, "--weights", weights, "--efficiency"],
                 ["simulate", model, "--weights", weights]):
        assert main(argv + ["--dataset", f"npz:{data}"]) == 2
        assert capsys.readouterr().err == f"error: the test split of 'npz:{data}' holds no samples\n"


@pytest.mark.parametrize("cost, message", [
    ("-1", "-1: must be an energy from 0 to 1e+06 pJ"),
    ("1e308", "1e308: must be an energy from 0 to 1e+06 pJ"),
    ("inf", "'inf' is not a finite number"),
    # float() took other scripts' digits and read 1e-400 as 0
    ("١", "'١' is not a number (write the number with the ASCII digits 0-9)"),
    ("1e-400", "'1e-400' is too small a number: it underflows to 0")])
def test_cost_out_of_range_is_an_argparse_error(tmp_path, capsys, cost, message):
    # 1e308 pJ per add overflowed the totals to inf (and the JSON to Infinity / NaN)
    model, weights, data = _files(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["report", model, "--weights", weights, "--efficiency", "--dataset", data,
              "--e-add", cost])
    assert exc.value.code == 2
    assert f"argument --e-add: {message}" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--dataset", "digits"], ["--e-add", "1"], ["--e-mac", "2"],
                                    ["--no-payload-multiply"]])
def test_efficiency_options_without_efficiency_are_refused(tmp_path, capsys, option):
    model, weights, _ = _files(tmp_path)
    assert main(["report", model, "--weights", weights, "--fpga", "ice40-hx8k", *option]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {option[0]}: options of --efficiency, which is not given"]
    # with --json, as JSON on standard output (it was argparse's usage on stderr only)
    assert main(["report", model, "--weights", weights, "--fpga", "ice40-hx8k", *option,
                 "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["errors"][0]["message"] == (
        f"{option[0]}: options of --efficiency, which is not given")


def test_a_run_without_synaptic_operations_prints_its_energy_like_the_others():
    q = _qmodel()
    r = eff.efficiency_report(eff.measure(q, np.zeros_like(X), Y))
    assert r["energy"]["snn_nj_per_inference"] == 0 and r["energy"]["ann_over_snn"] is None
    line = next(s for s in eff.report_lines(r) if "energy estimate" in s)
    assert line == ("  energy estimate per inference: SNN 0.000 nJ (no synaptic operations), ANN "
                    f"0.046 nJ ({r['energy']['ann_definition']})")


def test_zero_costs_are_not_called_no_synaptic_operations(measured):
    _, e = measured
    r = eff.efficiency_report(e, eff.EnergyCosts(add_pj=0.0, mul_pj=0.0, mac_pj=4.6))
    assert r["sops_per_inference"] > 0 and r["energy"]["ann_over_snn"] is None
    line = next(s for s in eff.report_lines(r) if "energy estimate" in s)
    assert line == ("  energy estimate per inference: SNN 0.000 nJ (SOPs x add + graded SOPs x "
                    "multiply, at the costs given, which are 0), ANN "
                    f"{r['energy']['ann_nj_per_inference']:.3f} nJ (MACs x mac)")


def test_saturation_is_counted_per_layer_and_in_the_json_notes(tmp_path):
    """The report ran the golden model and never said that it saturated, and its JSON left out
    the quantizer's notes on clipped weights (printed on stderr only)."""
    text = TINY.replace("state = fixed<16,8>", "state = fixed<6,4>")
    model = tmp_path / "sat.snn"
    model.write_text(text)
    graph = load_text(text, str(model)).graph
    w = {"h": {"weight": W["h"]["weight"] * 5.0}, "o": W["o"]}     # a state of fixed<6,4> saturates
    w["h"]["weight"][0, 0] = 20.0                                   # clipped to 7.9375
    weights = tmp_path / "w.npz"
    save_weights(str(weights), graph, w)
    data = tmp_path / "data.npz"
    np.savez(data, x_train=X, y_train=Y, x_test=X, y_test=Y)
    q = quantize(graph, w)
    res = simulate_golden(q, X, sample_ids=np.arange(len(X)))
    expect = {name: {k: int(v) for k, v in sorted(st.saturation.items()) if v}
              for name, st in res.stats.items()}
    assert sum(sum(v.values()) for v in expect.values()) > 0
    rc, out, err = _run(["report", str(model), "--weights", str(weights), "--efficiency",
                         "--dataset", f"npz:{data}", "--json"])
    assert rc == 0, err
    doc = json.loads(out)
    r = doc["efficiency"]
    assert {l["name"]: l["saturation"] for l in r["layers"]} == expect
    assert r["saturation"]["total"] == sum(sum(v.values()) for v in expect.values())
    assert q.all_notes() and all(n in doc["notes"] for n in q.all_notes())
    rc, out, _ = _run(["report", str(model), "--weights", str(weights), "--efficiency",
                       "--dataset", f"npz:{data}"])
    by_layer = "; ".join(f"{n}: " + ", ".join(f"{k} {v}" for k, v in s.items())
                         for n, s in expect.items() if s)
    assert (f"  saturation (the golden model's clamps, all samples): {by_layer}; total "
            f"{r['saturation']['total']}") in out.splitlines()


def test_multiply_costs_that_count_for_nothing_are_refused_or_said(tmp_path, capsys):
    """`--no-payload-multiply --e-mul 50` listed the 50 pJ among the costs used; on a model
    without graded events (rate input, IF) both options changed nothing without a word."""
    model, weights, data = _files(tmp_path)
    assert main(["report", model, "--weights", weights, "--efficiency", "--dataset", data,
                 "--no-payload-multiply", "--e-mul", "50"]) == 2
    assert capsys.readouterr().err.splitlines()[-2:] == [
        "error: --e-mul and --no-payload-multiply conflict: --e-mul is the cost of a graded "
        "event's multiply, which --no-payload-multiply leaves uncounted",
        "      = hint: give one of the two"]
    rate = tmp_path / "rate.snn"
    text = TINY.replace("model tiny", "model rate").replace("input x[3] = direct(scale = 1.0)",
                                                            "input x[3] = rate(gain = 1.0)")
    rate.write_text(text)
    rate_weights = tmp_path / "rate.npz"
    save_weights(str(rate_weights), load_text(text, str(rate)).graph, W)
    for extra, said in ((["--e-mul", "50"], "--e-mul"),
                        (["--no-payload-multiply"], "--no-payload-multiply")):
        rc, out, err = _run(["report", str(rate), "--weights", str(rate_weights), "--efficiency",
                             "--dataset", data, *extra])
        assert rc == 0, err
        assert (f"note: {said} changes nothing: model 'rate' has no graded events (its spikes "
                "cost an add each)") in err.splitlines()
    rc, out, err = _run(["report", model, "--weights", weights, "--efficiency", "--dataset", data,
                         "--e-mul", "50"])              # a direct input's events are graded
    assert rc == 0 and "changes nothing" not in err, err


def test_a_relu_layers_spikes_are_said_to_be_its_non_zero_values(measured):
    """A ReLU layer's "spikes" in the table are its non-zero values (the events it sends); the
    report called them spikes without a word."""
    line = "  (a ReLU layer's spikes are its non-zero values: the events it sends)"
    relu = TINY.replace("with IF(threshold = 1.0, reset = subtract)\nlayer o", "with ReLU\nlayer o")
    assert relu != TINY
    q = quantize(load_text(relu, "<tiny>").graph, W)
    r = eff.efficiency_report(eff.measure(q, X, Y))
    lines = eff.report_lines(r)
    assert lines[lines.index(line) - 1].startswith("  o ")       # right after the table
    # both of h's values are non-zero in both samples, at each of the 4 steps
    assert [l["spikes_per_inference"] for l in r["layers"] if l["name"] == "h"] == [8.0]
    assert line not in eff.report_lines(eff.efficiency_report(measured[1]))


def test_a_direct_inputs_spikes_are_said_to_be_its_values(measured):
    """The table's input row of a direct input lists its non-zero values as "spikes"; the report
    now says so, and that the total leaves them out."""
    line = ("  (a direct input's spikes are its non-zero values, sent as graded events every "
            "step; they are not counted in the spikes per inference)")
    r = eff.efficiency_report(measured[1])
    assert line in eff.report_lines(r)
    rows = {l["name"]: l for l in r["layers"]}
    assert rows["x"]["kind"] == "input" and rows["x"]["spikes_per_inference"] > 0
    assert r["spikes_per_inference"] == sum(l["spikes_per_inference"] for l in r["layers"]
                                            if l["kind"] != "input")
    rate = TINY.replace("input x[3] = direct(scale = 1.0)", "input x[3] = rate(gain = 1.0)")
    q = quantize(load_text(rate, "<tiny>").graph, W)
    assert line not in eff.report_lines(eff.efficiency_report(eff.measure(q, X, Y)))


def test_input_sops_are_the_input_events_only_not_a_recurrent_layers_own_spikes():
    """A recurrent layer reading the input: its SOPs are the input's events x units plus its own
    spikes of the step before x units; `input_sops_per_inference` counts the first part only."""
    from snnc.weights import random_weights

    text = ("model rin\ntime { dt = 1 ms; steps = 5 }\ninput x[3] = direct(scale = 1.0)\n"
            "layer r = recurrent(x, 4) with IF(threshold = 0.25)\n"
            "layer o = dense(r, 2) with IF(threshold = 0.5)\noutput o = count\n")
    graph = load_text(text, "<rin>").graph
    w = random_weights(graph, seed=1, scale=2.0)
    x = np.array([[1.0, 0.0, 0.5], [0.75, 0.25, 0.0]])
    m = eff.measure(quantize(graph, w), x, np.array([0, 1]))
    rows = {c.name: c for c in m.layers}
    input_events = 2 * 5 + 2 * 5                        # non-zero values x steps, both samples
    own = rows["r"].sops - input_events * 4
    assert rows["x"].spikes == input_events and own > 0, (rows["r"].sops, own)
    assert rows["r"].input_sops == input_events * 4 and rows["o"].input_sops == 0
    assert eff.efficiency_report(m)["input_sops_per_inference"] == input_events * 4 / 2


@pytest.mark.parametrize("plots,said", [
    ("", "error: --plots: the output folder's name is empty"),
    ("FILE", "error: --plots: cannot create output folder {f}: it is a file")])
def test_cli_plots_folder_that_cannot_be_one_is_an_error_before_the_run(tmp_path, capsys, plots,
                                                                        said):
    """`--plots ""` wrote nothing and said nothing (taken as no --plots)."""
    model, weights, data = _files(tmp_path)
    f = tmp_path / "f.txt"
    f.write_text("x")
    plots = str(f) if plots == "FILE" else plots
    assert main(["report", model, "--weights", weights, "--efficiency", "--dataset", data,
                 "--plots", plots]) == 2
    err = capsys.readouterr().err
    assert said.format(f=f) in err.splitlines(), err


def test_text_table_columns_stay_aligned_with_long_names(measured):
    """A layer or neuron name longer than its column shifted the rest of its row."""
    import copy

    _, m = measured
    r = copy.deepcopy(eff.efficiency_report(m))
    r["layers"][1]["name"] = "a_rather_long_layer_name"
    r["layers"][2]["neuron"] = "SigmaDeltaNeuron"
    lines = eff.report_lines(r)
    start = next(i for i, l in enumerate(lines) if l.startswith("  layer "))
    table = lines[start:start + 1 + len(r["layers"])]
    assert len({len(l) for l in table}) == 1, "\n".join(table)
    assert table[0].index("neurons") + len("neurons") == table[2].index(" 2 ") + 2   # right-aligned


def test_cost_line_says_the_multiply_is_not_counted_under_no_payload_multiply(measured):
    _, m = measured
    counted = eff.report_lines(eff.efficiency_report(m))
    uncounted = eff.report_lines(eff.efficiency_report(m, eff.EnergyCosts(payload_multiply=False)))
    assert any(l.startswith("    costs: add 0.9 pJ, multiply 3.7 pJ, MAC 4.6 pJ -- ") for l in counted)
    assert any(l.startswith("    costs: add 0.9 pJ, multiply not counted, MAC 4.6 pJ -- ")
               for l in uncounted), uncounted


def test_cycles_of_a_narrow_sweep_are_the_verilog_manifests(tmp_path):
    """On the iCE40 HX8K a layer after a larger one sweeps through fewer units (the generator's
    rule): the cycle model's sweep term is the manifest's sweep words, per device."""
    from snnc.backends.verilog.cosim import cycle_bounds
    from snnc.backends.verilog.generator import generate
    from snnc.weights import random_weights
    from test_verilog_backend import NARROW

    graph = load_text(NARROW, "narrow.snn").graph
    q = quantize(graph, random_weights(graph, seed=4, scale=3.0))
    x = np.random.default_rng(1).uniform(0.2, 1.0, (3, 24))
    res = simulate_golden(q, x, record=True)
    assert all(res.stats[n].spikes > 0 for n in ("a", "b", "c"))
    assert eff.sweep_units_by_layer(graph, None) == {"a": 4, "b": 2, "c": 1}
    assert eff.sweep_units_by_layer(graph, None, "ecp5-25k") == {"a": 4, "b": 4, "c": 4}
    assert eff.sweep_units_by_layer(graph, 1) == {"a": 1, "b": 1, "c": 1}
    for device in (None, "ice40-up5k"):
        manifest = generate(q, tmp_path / str(device), device=device)
        bound, _ = cycle_bounds(manifest, res, 16, 3, "x")
        assert eff.cycles_per_sample(graph, res, None, device=device).tolist() == bound.tolist()
    # the narrow sweep costs 16 steps x (4 - 2) words in b and 16 x (4 - 1) in c, per sample
    narrow = eff.cycles_per_sample(graph, res, None)
    wide = eff.cycles_per_sample(graph, res, None, device="ice40-up5k")
    assert (narrow - wide).tolist() == [16 * (2 + 3)] * 3
    m = eff.measure(q, x, np.zeros(3, dtype=np.int64))
    assert m.cycles.tolist() == narrow.tolist() and m.device == "ice40-hx8k"
    r = eff.efficiency_report(m)["cycles"]
    assert r["device"] == "ice40-hx8k" and r["sweep_units_by_layer"] == {"a": 4, "b": 2, "c": 1}
    assert "ceil(N/P)*P/SU" in r["formula"]
    line = next(l for l in eff.report_lines(eff.efficiency_report(m)) if "accelerator" in l)
    assert "(narrow sweep on ice40-hx8k: b 2, c 1 sweep unit(s))" in line
    wide_m = eff.measure(q, x, np.zeros(3, dtype=np.int64), device="ice40-up5k")
    assert wide_m.cycles.tolist() == wide.tolist()
    assert "narrow sweep" not in " ".join(eff.report_lines(eff.efficiency_report(wide_m)))


def test_a_flatten_between_a_direct_input_and_its_layer_changes_no_count():
    # the tiny model with its input written [1, 1, 3] and flattened: the flatten passes the
    # input's graded events on (graded SOPs, a graded source), costs no cycle, and its row's
    # events are its source's, not added to the total
    flat_text = TINY.replace("input x[3]", "input x[1, 1, 3]").replace(
        "layer h = dense(x, 2)", "layer f = flatten(x)\nlayer h = dense(f, 2)")
    plain = eff.measure(_qmodel(), X, Y)
    flat = eff.measure(quantize(load_text(flat_text, "<flat>").graph, W), X.reshape(2, 1, 1, 3), Y)
    rows = {c.name: c for c in flat.layers}
    for c in plain.layers:
        assert dataclasses.astuple(rows[c.name]) == dataclasses.astuple(c), c.name
    f = rows["f"]
    assert (f.kind, f.neuron, f.spikes, f.sops, f.cycles) == ("flatten", "-", rows["x"].spikes, 0, 0)
    assert rows["h"].graded_input and rows["h"].graded_sops == plain.layers[1].graded_sops > 0
    np.testing.assert_array_equal(flat.cycles, plain.cycles)
    np.testing.assert_array_equal(flat.spikes_by_step, plain.spikes_by_step)
    assert eff.efficiency_report(flat)["spikes_per_inference"] == \
        eff.efficiency_report(plain)["spikes_per_inference"]
