"""A layer's own ``lanes`` (``dense(..., lanes = P)``, ``recurrent(..., lanes = P)``): the neurons
the accelerator updates per cycle in that layer, in place of the hardware block's ``lanes``.

Its precedence (the layer's own, else ``--lanes``, else the hardware block's, else 4), the graph's
JSON (left out when unset) and hash (never part of it: it changes no result), the Verilog and HLS
plans, the cycle model against the Verilog manifest's cycle bound, and ``snnc compile``. (The
co-simulations of designs whose layers differ in lanes are in tests/hw/test_network_cosim.py and
tests/test_hls_backend.py.)
"""
from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest

from snnc import ir
from snnc.backends.golden import efficiency as eff
from snnc.backends.golden.golden_sim import simulate_golden
from snnc.build import load_text
from snnc.cli import main
from snnc.quantize import quantize
from snnc.serialize import graph_from_json, graph_hash, graph_to_json
from snnc.weights import random_weights

TEXT = """model m
time { dt = 1 ms; steps = 6 }
input x[5] = rate(gain = 1.0)
layer h = dense(x, 7) with LIF(tau_mem = 10 ms, threshold = 0.3)
layer o = dense(h, 3, lanes = 1) with LIF(tau_mem = 10 ms, threshold = 0.3)
output o = count
hardware { lanes = 4 }
"""
PLAIN = TEXT.replace(", lanes = 1", "")


def graph(text=TEXT):
    return load_text(text, "m.snn").graph


def test_precedence_own_then_command_line_then_hardware_block():
    g = graph()
    assert g.layers[1].lanes == 1 and g.layers[0].lanes is None
    assert ir.lanes_by_layer(g) == {"h": 4, "o": 1}
    assert ir.lanes_by_layer(g, 2) == {"h": 2, "o": 1}          # --lanes: the others only
    assert ir.lanes_by_layer(dataclasses.replace(g, hardware=None)) == {"h": 4, "o": 1}
    assert ir.describe_lanes(ir.lanes_by_layer(g)) == "lanes per layer: h 4, o 1"
    assert ir.describe_lanes(ir.lanes_by_layer(graph(PLAIN))) == "4 lane(s) per layer"
    with pytest.raises(ValueError, match="lanes must be between 1 and 64, not 0"):
        ir.lanes_of(g, g.layers[0], 0)


def test_json_round_trip_and_hash():
    g, plain = graph(), graph(PLAIN)
    assert graph_from_json(json.loads(json.dumps(graph_to_json(g)))) == g
    layers = graph_to_json(plain)["graph"]["layers"]
    assert all("lanes" not in layer for layer in layers)        # unset: JSON as before
    assert graph_to_json(g)["graph"]["layers"][1]["lanes"] == 1
    # lanes change no result: weights made for one load into the other without a warning (the
    # hardware block's lanes too since 2026-12-02)
    assert graph_hash(g) == graph_hash(plain)
    assert graph_hash(g) == graph_hash(graph(PLAIN.replace("lanes = 4", "lanes = 2")))


def test_verilog_and_hls_plans_and_the_cycle_model(tmp_path):
    from snnc.backends.hls.plan import plan_layers as hls_plan
    from snnc.backends.verilog.cosim import cycle_bounds
    from snnc.backends.verilog.generator import generate

    g = graph()
    q = quantize(g, random_weights(g, seed=3, scale=3.0))
    # one golden run (lanes change no result): its events for the manifest's bound
    x = np.random.default_rng(0).uniform(0, 1, (4, 5))
    res = simulate_golden(q, x, record=True)
    events = copy.copy(res)
    events.spikes = {**res.spikes, "x": (np.asarray(res.spikes["x"]) != 0).astype(np.uint8)}
    assert res.stats["h"].spikes > 0 and res.stats["o"].spikes > 0
    for lanes, want in ((None, [4, 1]), (2, [2, 1])):
        manifest = generate(q, tmp_path / f"v{lanes}", lanes=lanes)
        assert [l["lanes"] for l in manifest["layers"]] == want
        assert manifest["cycle_bound"]["words"] == {"h": -(-7 // want[0]), "o": 3}
        assert [l.p for l in hls_plan(q, lanes)[1]] == want
        # the golden model's cycle model (snnc report --efficiency) is the manifest's bound
        bound, _ = cycle_bounds(manifest, events, 6, 4, "x")
        cycles = eff.cycles_per_sample(g, res, lanes)
        assert cycles.tolist() == bound.tolist()
    # against the same model with o at 4 lanes (the same run): o's sweep and h's events cost
    # more words at one lane
    plain = graph(PLAIN)
    assert (eff.cycles_per_sample(g, res, None) > eff.cycles_per_sample(plain, res, None)).all()


def test_snnc_compile_reports_each_layers_lanes(tmp_path, capsys):
    model = tmp_path / "m.snn"
    model.write_text(TEXT)
    out = tmp_path / "v"
    assert main(["compile", str(model), "--target", "verilog", "--lanes", "2", "-o", str(out),
                 "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [(l["name"], l["lanes"]) for l in info["layers"]] == [("h", 2), ("o", 1)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [l["lanes"] for l in manifest["layers"]] == [2, 1]
    assert main(["compile", str(model), "--target", "hls", "-o", str(tmp_path / "h")]) == 0
    text = capsys.readouterr().out.splitlines()[0]
    assert text.endswith(": h (7), o (3); lanes per layer: h 4, o 1")
