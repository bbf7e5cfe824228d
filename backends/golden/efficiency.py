"""Efficiency of a spiking model on a data set: spikes, synaptic operations, the equivalent ANN's
multiply-accumulates, accuracy, time to a stable decision, an energy estimate and the cycle model
of the event-driven accelerator (``snnc report MODEL --weights W --efficiency``;
docs/efficiency.md).

Everything is measured on the bit-exact golden model (``simulate_golden(..., record=True)``), the
integer semantics the hardware implements. Plain functions:

* :func:`measure` runs the test samples and returns an :class:`Efficiency` (raw counts);
* :func:`efficiency_report` turns it into the JSON-able report section, with the energy of
  :func:`energy` from stated per-operation costs (:class:`EnergyCosts`, by default the 45 nm
  figures of Horowitz, ISSCC 2014);
* :func:`report_lines` prints that section, :func:`write_plots` draws it (matplotlib, Agg).

Smaller building blocks, usable on any recorded :class:`~snnc.backends.golden.result.SimResult`:
:func:`running_predictions` (the class the declared readout gives after each step),
:func:`decision_steps` (steps until that class no longer changes), :func:`graded_sources` (which
nodes send graded events) and :func:`cycles_per_sample` (the Verilog core's cycle bound).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from snnc import ir
from snnc.backends.golden import synapse
from snnc.backends.golden.result import Readout, predict

#: The source of the default energy figures.
HOROWITZ = ('M. Horowitz, "Computing\'s energy problem (and what we can do about it)", '
            "IEEE ISSCC 2014, pp. 10-14 (45 nm, 0.9 V)")

def step_overhead() -> int:
    """Cycles of fixed overhead per layer and step in the Verilog core's cycle bound (the
    manifest's ``cycle_bound.overhead_per_layer``, ``plan.STEP_OVERHEAD``)."""
    from snnc.backends.verilog.plan import STEP_OVERHEAD

    return int(STEP_OVERHEAD)


@dataclass(frozen=True)
class EnergyCosts:
    """Energy per operation in picojoules.

    ``add_pj``: one accumulate (a 32-bit floating-point add, 0.9 pJ in 45 nm); ``mul_pj``: one
    multiply (32-bit floating-point, 3.7 pJ); ``mac_pj``: one multiply-accumulate of the ANN (4.6 pJ
    = 3.7 + 0.9). ``payload_multiply``: whether a graded event's SOP also pays ``mul_pj`` (the
    receiving accumulator multiplies weight x payload; a binary spike's SOP is an add only).
    """

    add_pj: float = 0.9
    mul_pj: float = 3.7
    mac_pj: float = 4.6
    payload_multiply: bool = True
    source: str = HOROWITZ


def _encoding_name(graph: ir.Graph, inp: ir.Input) -> str:
    """An input's row label: its encoding, ``direct(hold)`` for a held direct input."""
    return "direct(hold)" if graph.held(inp.name) else type(inp.encoding).__name__.lower()


@dataclass
class LayerCounts:
    """Counts of one layer summed over the measured samples (SOPs split by the kind of event)."""

    name: str
    kind: str                     # dense, recurrent, conv2d, pool, flatten, input
    neuron: str                   # ASN, IF, ReLU, ...; the encoding for an input
    neurons: int
    spikes: int = 0               # events emitted (an input: its events)
    sops: int = 0                 # all synaptic operations
    graded_sops: int = 0          # those delivering a graded event (weight x payload)
    input_sops: int = 0           # those delivering a model input's events (not recurrent ones)
    macs_per_inference: int = 0   # of the equivalent ANN, one inference
    cycles: int = 0               # cycle-model cycles, all samples
    graded_input: bool = False    # its source sends graded events
    #: the golden model's clamps per state, all samples (``inputs`` for a direct input)
    saturation: dict = field(default_factory=dict)


@dataclass
class Efficiency:
    """What :func:`measure` counted on ``samples`` samples of ``steps`` steps."""

    model: str
    samples: int
    steps: int
    readout: str
    layers: list[LayerCounts]
    correct: int
    correct_by_step: np.ndarray            # [T] samples whose running prediction is right at t
    spikes_by_step: np.ndarray             # [T] events of all layers at step t, all samples
    decision: np.ndarray                   # [samples] steps to a stable decision (1..T)
    decided_correct: np.ndarray            # [samples] bool: the final prediction is right
    cycles: np.ndarray                     # [samples] cycle-model cycles per inference
    lanes: int                             # lanes of the layers without their own
    clock_hz: float
    notes: list[str] = field(default_factory=list)
    lanes_by_layer: dict[str, int] = field(default_factory=dict)
    device: str | None = None              # the device of the cycle model's sweep units
    #: sweep units per layer (:func:`sweep_units_by_layer`; the lanes but on a device whose
    #: leaks are logic)
    sweep_units: dict[str, int] = field(default_factory=dict)


# ====================================================================== building blocks


def graded_sources(graph: ir.Graph) -> set[str]:
    """Nodes whose events carry a payload: direct inputs, layers of graded neurons (ASN, ReLU, a
    user-defined neuron with ``emit``), flatten of those."""
    out = {i.name for i in graph.inputs if isinstance(i.encoding, ir.Direct)}
    for layer in graph.layers:
        if isinstance(layer, ir.Flatten):
            if layer.source in out:
                out.add(layer.name)
        elif getattr(layer, "neuron", None) is not None and ir.is_graded(layer.neuron):
            out.add(layer.name)
    return out


def running_predictions(result, graph: ir.Graph, spikes_only: bool = False) -> np.ndarray:
    """[T, B] the class the first output's declared readout gives over steps ``0..t`` (a model
    run for ``t + 1`` steps would give the same; docs/semantics.md section 5 tie rules).

    ``spikes_only`` (a ``count`` readout only): decide by the spike counts alone, without the
    membrane tie-break; a tie for the most spikes (no spike yet included) gives ``-1``, no
    decision -- the usual readout of a rate-coded network. ``result`` must come from a simulation
    with ``record=True``."""
    if result.spikes is None or result.membranes is None:
        raise ValueError("running_predictions needs a recorded simulation (record=True)")
    out = graph.outputs[0]
    steps, batch = result.steps, result.batch
    s = np.asarray(result.spikes[out.source]).reshape(steps, batch, -1) != 0
    m = np.asarray(result.membranes[out.source]).reshape(steps, batch, -1)
    counts = np.cumsum(s, axis=0, dtype=np.int64)
    mems = np.cumsum(m, axis=0)
    fired = np.cumsum(s, axis=0) > 0
    idx = np.arange(steps).reshape(steps, 1, 1)
    # first spike so far: the earliest step with a spike, or ``t + 1`` (none yet; as a model of
    # t + 1 steps reports ``steps``)
    first_any = np.where(s, idx, steps)
    first = np.minimum.accumulate(first_any, axis=0)
    if spikes_only:
        if out.readout != "count":
            raise ValueError(f"spikes_only needs a count readout, not {out.readout!r}")
        top = counts.max(axis=2, keepdims=True)
        unique = (counts == top).sum(axis=2) == 1
        return np.where(unique, np.argmax(counts, axis=2), -1).astype(np.int64)
    preds = np.empty((steps, batch), dtype=np.int64)
    for t in range(steps):
        f = np.where(fired[t], first[t], t + 1)
        preds[t] = predict(Readout(out.readout, counts[t], mems[t], f))
    return preds


def decision_steps(preds: np.ndarray) -> np.ndarray:
    """[B] for running predictions [T, B]: the number of steps ``k`` (1..T) after which the
    prediction no longer changes (``preds[k-1:]`` all equal ``preds[-1]``)."""
    preds = np.asarray(preds)
    steps = preds.shape[0]
    if steps <= 1:
        return np.full(preds.shape[1:], steps, dtype=np.int64)
    changed = preds[1:] != preds[:-1]                        # [T-1, B]: a change into step t+1
    any_change = changed.any(axis=0)
    last = steps - 2 - np.argmax(changed[::-1], axis=0)      # index of the last change
    return np.where(any_change, last + 2, 1).astype(np.int64)


def _events(values: np.ndarray, steps: int, batch: int) -> np.ndarray:
    """[T, B, M] bool: where a node sent an event."""
    return np.asarray(values).reshape(steps, batch, -1) != 0


def sweep_units_by_layer(graph: ir.Graph, lanes: int | None,
                         device: str | None = None) -> dict[str, int]:
    """The sweep units of every layer but flatten layers (the Verilog generator's rule,
    :func:`snnc.backends.verilog.plan.sweep_units`; a flatten passes its source's sweep on);
    ``device`` None: the model's hardware block's."""
    from snnc.backends.verilog.plan import (check_device, model_device, sweep_cycles,
                                            sweep_units)

    check_device(device)
    device = model_device(graph) if device is None else device
    sweeps: dict[str, int] = {}             # node -> its sweep's cycles (inputs: none)
    out: dict[str, int] = {}
    for layer in graph.layers:
        if isinstance(layer, ir.Flatten):
            if layer.source in sweeps:
                sweeps[layer.name] = sweeps[layer.source]
            continue
        p, n = ir.lanes_of(graph, layer, lanes), int(np.prod(layer.shape))
        su = sweep_units(n, p, sweeps.get(layer.source), device=device,
                         user=isinstance(layer.neuron, ir.CustomNeuron))
        out[layer.name] = su
        sweeps[layer.name] = sweep_cycles(n, p, su)
    return out


def cycles_per_sample(graph: ir.Graph, result, lanes: int | None, overhead: int | None = None,
                      by_layer: dict | None = None, device: str | None = None) -> np.ndarray:
    """[B] cycles per inference of the event-driven core's cycle model (the Verilog manifest's
    ``cycle_bound``), summed over steps and layers: ``Σ_events ⌈fan_out/P⌉ + ⌈N/P⌉·P/SU + S +
    overhead``, plus a recurrent layer's spikes of the step before times ``⌈units/P⌉``, with
    ``P`` each layer's lanes (:func:`snnc.ir.lanes_of`: its own, else ``lanes``, else the hardware
    block's) and ``SU`` its sweep units on ``device`` (:func:`sweep_units_by_layer`; None: the
    model's hardware block's device; ``SU = P`` but on a device whose leaks are logic). Flatten
    layers cost nothing (wiring). ``by_layer`` (optional) receives the cycles per layer summed
    over the batch."""
    from snnc.backends.verilog.plan import sweep_cycles

    if overhead is None:
        overhead = step_overhead()
    if lanes is not None and not 1 <= lanes <= ir.MAX_LANES:
        raise ValueError(f"lanes must be between 1 and {ir.MAX_LANES}, not {lanes}")
    default = lanes
    units = sweep_units_by_layer(graph, lanes, device)
    steps, batch = result.steps, result.batch
    total = np.zeros(batch, dtype=np.int64)
    for layer in graph.layers:
        if isinstance(layer, ir.Flatten):
            continue
        lanes = ir.lanes_of(graph, layer, default)
        src = synapse.delayed(_events(result.spikes[layer.source], steps, batch), layer.delay)
        words_in = -(-synapse.fan_out(layer) // lanes)                   # ⌈fan_out/P⌉ per input
        e = src.astype(np.int64) @ words_in                              # [T, B]
        n = int(np.prod(layer.shape))
        s = _events(result.spikes[layer.name], steps, batch).sum(axis=2, dtype=np.int64)
        c = e + sweep_cycles(n, lanes, units[layer.name]) + s + overhead
        if isinstance(layer, ir.Recurrent):
            c[1:] += s[:-1] * (-(-layer.units // lanes))
        per = c.sum(axis=0)
        total += per
        if by_layer is not None:
            by_layer[layer.name] = by_layer.get(layer.name, 0) + int(per.sum())
    return total


def _neuron_name(layer) -> str:
    n = getattr(layer, "neuron", None)
    if n is None:
        return "-"
    return ir.neuron_kind(n)


def _layer_kind(layer) -> str:
    return type(layer).__name__.lower()


# ====================================================================== measuring


def _verilog_problem(qmodel) -> str | None:
    """What the Verilog backend refuses in ``qmodel`` (its first error's message), or None."""
    from snnc.backends.verilog import check_supported
    from snnc.errors import SnnError, SnnErrors

    try:
        check_supported(qmodel)
    except (SnnError, SnnErrors) as err:
        first = err.errors[0] if isinstance(err, SnnErrors) else err
        return first.message
    return None


def measure(qmodel, x, y, *, seed: int = 0, lanes: int | None = None, clock_hz: float | None = None,
            batch: int = 128, device: str | None = None) -> Efficiency:
    """Simulate ``x`` (labels ``y``) on the golden model of ``qmodel`` and count everything;
    ``device``: the FPGA of the cycle model's sweep units (None: the hardware block's)."""
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.backends.verilog.plan import model_device
    from snnc.memory import chunks

    graph = qmodel.graph
    notes: list[str] = []
    hw = graph.hardware
    by_layer_lanes = ir.lanes_by_layer(graph, lanes)
    units = sweep_units_by_layer(graph, lanes, device)
    device = model_device(graph) if device is None else device
    if lanes is None:
        lanes = ir.default_lanes(graph)
        if hw is None:
            notes.append("the model has no hardware block: the cycle model uses 4 lanes "
                         "(in the layers without their own `lanes`)")
    if clock_hz is None:
        clock_hz = float(hw.clock) if hw is not None and hw.clock else ir.DEFAULT_CLOCK_HZ
        if hw is None:
            notes.append("the model has no hardware block: cycles are converted at 50 MHz")
    unbuilt = _verilog_problem(qmodel)
    if unbuilt:
        notes.append(f"the Verilog backend cannot build this model ({unbuilt}): its cycles "
                     "are the cycle model's formula applied to the model, not a design's bound")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) == 0:
        raise ValueError("no samples to measure")
    graded = graded_sources(graph)
    inputs = {i.name for i in graph.inputs}
    for layer in graph.layers:
        if isinstance(layer, ir.Flatten) and layer.source in inputs:
            inputs.add(layer.name)
    steps = graph.time.steps
    layers = [LayerCounts(i.name, "input", _encoding_name(graph, i), int(np.prod(i.shape)),
                          graded_input=False) for i in graph.inputs]
    by_name = {c.name: c for c in layers}
    for layer in graph.layers:
        c = LayerCounts(layer.name, _layer_kind(layer), _neuron_name(layer),
                        int(np.prod(layer.shape)), graded_input=layer.source in graded)
        layers.append(c)
        by_name[layer.name] = c
    correct = 0
    correct_by_step = np.zeros(steps, dtype=np.int64)
    spikes_by_step = np.zeros(steps, dtype=np.int64)
    decision, decided_ok, cycles = [], [], []
    layer_cycles: dict[str, int] = {}
    counted = [l.name for l in graph.layers if not isinstance(l, ir.Flatten)]
    for part in chunks(len(x), graph, record=True, most=batch):
        xb, yb = x[part], y[part]
        ids = np.arange(part.start, part.stop)
        res = simulate_golden(qmodel, xb, seed=seed, sample_ids=ids, record=True)
        for name, st in res.stats.items():
            c = by_name[name]
            c.spikes += st.spikes
            c.sops += st.sops
            c.macs_per_inference = st.macs
            for state, count in st.saturation.items():
                c.saturation[state] = c.saturation.get(state, 0) + int(count)
        for layer in graph.layers:
            if isinstance(layer, ir.Flatten) or (layer.source not in graded
                                                 and layer.source not in inputs):
                continue
            delivered = synapse.delayed(np.asarray(res.delivered(layer.source)), layer.delay)
            fed = synapse.sops(layer, delivered)
            if layer.source in graded:
                by_name[layer.name].graded_sops += fed
            if layer.source in inputs:
                by_name[layer.name].input_sops += fed
        for name in counted:
            spikes_by_step += _events(res.spikes[name], steps, len(xb)).sum(axis=(1, 2))
        preds = running_predictions(res, graph)
        if not np.array_equal(preds[-1], res.predictions):
            raise AssertionError("running prediction at the last step differs from the readout's")
        ok = preds == yb[None, :]
        correct_by_step += ok.sum(axis=1)
        correct += int(ok[-1].sum())
        decision.append(decision_steps(preds))
        decided_ok.append(ok[-1])
        cycles.append(cycles_per_sample(graph, res, lanes, by_layer=layer_cycles,
                                        device=device))
    for name, cyc in layer_cycles.items():
        by_name[name].cycles = cyc
    return Efficiency(graph.name, len(x), steps, graph.outputs[0].readout, layers, correct,
                      correct_by_step, spikes_by_step, np.concatenate(decision),
                      np.concatenate(decided_ok), np.concatenate(cycles), int(lanes),
                      float(clock_hz), notes, by_layer_lanes, device, units)


# ====================================================================== energy and the report


def energy(sops: int, graded_sops: int, macs: int, costs: EnergyCosts) -> dict:
    """Energy in pJ: the SNN's ``sops * add (+ graded_sops * mul)`` and the ANN's ``macs * mac``."""
    snn = sops * costs.add_pj + (graded_sops * costs.mul_pj if costs.payload_multiply else 0.0)
    ann = macs * costs.mac_pj
    return {"snn_pj": snn, "ann_pj": ann, "snn_add_only_pj": sops * costs.add_pj,
            "ann_over_snn": (ann / snn) if snn > 0 else None}


def _r(v: float, digits: int = 4) -> float:
    return float(f"{v:.{digits}g}") if v else 0.0


def efficiency_report(eff: Efficiency, costs: EnergyCosts = EnergyCosts()) -> dict:
    """The JSON-able report section (all per-inference figures are means over the samples)."""
    n = eff.samples
    graph_layers = []
    tot_spikes = tot_sops = tot_graded = tot_macs = tot_input = 0
    for c in eff.layers:
        e = energy(c.sops, c.graded_sops, c.macs_per_inference * n, costs)
        row = {"name": c.name, "kind": c.kind, "neuron": c.neuron, "neurons": c.neurons,
               "spikes_per_inference": c.spikes / n, "sops_per_inference": c.sops / n,
               "graded_sops_per_inference": c.graded_sops / n,
               "macs_per_inference": c.macs_per_inference,
               "snn_energy_nj": e["snn_pj"] / n / 1e3, "ann_energy_nj": e["ann_pj"] / n / 1e3,
               "cycles_per_inference": c.cycles / n if c.kind not in ("input", "flatten") else 0.0,
               "graded_input": c.graded_input,
               "saturation": {k: v for k, v in sorted(c.saturation.items()) if v}}
        graph_layers.append(row)
        if c.kind not in ("input", "flatten"):
            tot_spikes += c.spikes
        tot_sops += c.sops
        tot_input += c.input_sops
        tot_graded += c.graded_sops
        tot_macs += c.macs_per_inference
    e = energy(tot_sops, tot_graded, tot_macs * n, costs)
    acc_by_step = (eff.correct_by_step / n).tolist()
    hist = np.bincount(eff.decision, minlength=eff.steps + 1)[1:]
    dec = eff.decision
    cyc = eff.cycles
    return {
        "model": eff.model, "samples": n, "steps": eff.steps, "readout": eff.readout,
        "simulator": "golden (bit-exact integer model)",
        "accuracy": eff.correct / n,
        "spikes_per_inference": tot_spikes / n,
        "sops_per_inference": tot_sops / n,
        "graded_sops_per_inference": tot_graded / n,
        "input_sops_per_inference": tot_input / n,
        "ann_macs_per_inference": tot_macs,
        "layers": graph_layers,
        "saturation": {
            "definition": "the golden model's clamps (saturated states, clipped direct inputs) "
                          "over all samples, per layer and state",
            "total": sum(sum(row["saturation"].values()) for row in graph_layers),
        },
        "decision": {
            "definition": "steps k after which the running prediction (the declared readout over "
                          "steps 0..t) no longer changes",
            "mean_steps": float(dec.mean()), "median_steps": float(np.median(dec)),
            "max_steps": int(dec.max()),
            "mean_steps_correct": float(dec[eff.decided_correct].mean())
            if eff.decided_correct.any() else None,
            "histogram": [int(v) for v in hist],          # samples deciding at k = 1..T
            "accuracy_by_step": acc_by_step,
            "spikes_by_step_per_inference": (eff.spikes_by_step / n).tolist(),
        },
        "energy": {
            "costs_pj": {"add": costs.add_pj, "multiply": costs.mul_pj, "mac": costs.mac_pj},
            "payload_multiply_counted": costs.payload_multiply,
            "source": costs.source,
            "snn_definition": "SOPs x add" + (" + graded SOPs x multiply" if costs.payload_multiply
                                             else " (graded payload multiplies not counted)"),
            "ann_definition": "MACs x mac",
            "snn_nj_per_inference": e["snn_pj"] / n / 1e3,
            "snn_add_only_nj_per_inference": e["snn_add_only_pj"] / n / 1e3,
            "ann_nj_per_inference": e["ann_pj"] / n / 1e3,
            "ann_over_snn": e["ann_over_snn"],
        },
        "cycles": {
            "label": "model estimate: the Verilog core's cycle bound (manifest cycle_bound), "
                     "not a measurement",
            "formula": "sum over steps and layers of events*ceil(fan_out/P) + ceil(N/P)*P/SU "
                       f"+ spikes + {step_overhead()} (+ recurrent spikes of the step before * "
                       "ceil(units/P)); SU: the layer's sweep units (P but with a narrow sweep)",
            "lanes": eff.lanes, "lanes_by_layer": dict(eff.lanes_by_layer),
            "device": eff.device, "sweep_units_by_layer": dict(eff.sweep_units),
            "clock_mhz": eff.clock_hz / 1e6,
            "mean_per_inference": float(cyc.mean()), "max_per_inference": int(cyc.max()),
            "latency_us": float(cyc.mean()) / eff.clock_hz * 1e6,
            "inferences_per_s": eff.clock_hz / float(cyc.mean()) if cyc.mean() > 0 else None,
        },
        "notes": list(eff.notes),
    }


def report_lines(r: dict) -> list[str]:
    """The section as text."""
    en, cy, dec = r["energy"], r["cycles"], r["decision"]
    out = [f"efficiency on {r['samples']} test samples ({r['steps']} steps, {r['simulator']}):",
           f"  accuracy {100 * r['accuracy']:.2f}%",
           f"  per inference: {r['spikes_per_inference']:.1f} spikes, "
           f"{r['sops_per_inference']:.0f} SOPs ({r['graded_sops_per_inference']:.0f} graded), "
           f"equivalent ANN {r['ann_macs_per_inference']} MACs"]
    # the text columns as wide as their longest entry (a long layer or neuron name shifted the row)
    wn, wk, wu = (max([len(head)] + [len(l[key]) for l in r["layers"]])
                  for key, head in (("name", "layer" + " " * 7), ("kind", "kind" + " " * 6),
                                    ("neuron", "neuron" + " " * 2)))
    out.append(f"  {'layer':<{wn}} {'kind':<{wk}} {'neuron':<{wu}} neurons  spikes/inf    SOPs/inf "
               " ANN MACs   cycles/inf")
    for l in r["layers"]:
        out.append(f"  {l['name']:<{wn}} {l['kind']:<{wk}} {l['neuron']:<{wu}} {l['neurons']:>7} "
                   f"{l['spikes_per_inference']:>11.1f} {l['sops_per_inference']:>11.0f} "
                   f"{l['macs_per_inference']:>9} {l['cycles_per_inference']:>12.0f}")
    if any(l["neuron"] == "ReLU" for l in r["layers"]):
        out.append("  (a ReLU layer's spikes are its non-zero values: the events it sends)")
    if any(l["kind"] == "input" and l["neuron"] == "direct" for l in r["layers"]):
        out.append("  (a direct input's spikes are its non-zero values, sent as graded events "
                   "every step; they are not counted in the spikes per inference)")
    if any(l["kind"] == "input" and l["neuron"] == "direct(hold)" for l in r["layers"]):
        out.append("  (a held direct input's spikes are the non-zero changes of its values, sent "
                   "as graded events; they are not counted in the spikes per inference)")
    by_layer = "; ".join(f"{l['name']}: " + ", ".join(f"{k} {v}" for k, v in l["saturation"].items())
                         for l in r["layers"] if l["saturation"])
    total = r["saturation"]["total"]
    out.append("  saturation (the golden model's clamps, all samples): "
               + (f"{by_layer}; total {total}" if by_layer else "none"))
    out.append(f"  steps to a stable decision: mean {dec['mean_steps']:.2f}, median "
               f"{dec['median_steps']:g}, max {dec['max_steps']} of {r['steps']}")
    acc = dec["accuracy_by_step"]
    marks = sorted({k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500) if k <= len(acc)} | {len(acc)})
    out.append("  accuracy after k steps: " + ", ".join(f"{k}: {100 * acc[k - 1]:.1f}%"
                                                         for k in marks))
    ratio = en["ann_over_snn"]
    if ratio is not None:
        out.append(f"  energy estimate per inference: SNN {en['snn_nj_per_inference']:.3f} nJ "
                   f"({en['snn_definition']}), ANN {en['ann_nj_per_inference']:.3f} nJ "
                   f"({en['ann_definition']}); ANN/SNN {ratio:.3g}")
    else:
        why = ("no synaptic operations" if r["sops_per_inference"] == 0 else
               f"{en['snn_definition']}, at the costs given, which are 0")
        out.append(f"  energy estimate per inference: SNN {0:.3f} nJ ({why}), ANN "
                   f"{en['ann_nj_per_inference']:.3f} nJ ({en['ann_definition']})")
    c = en["costs_pj"]
    mul = f"{c['multiply']:g} pJ" if en["payload_multiply_counted"] else "not counted"
    out.append(f"    costs: add {c['add']:g} pJ, multiply {mul}, MAC {c['mac']:g} pJ "
               f"-- {en['source']}")
    ips = cy["inferences_per_s"]
    out.append(f"  accelerator cycles ({cy['label']}): mean {cy['mean_per_inference']:.0f}, max "
               f"{cy['max_per_inference']} per inference at "
               f"{ir.describe_lanes(cy['lanes_by_layer'] or {'': cy['lanes']})}"
               f"{narrow_sweep_text(cy)}; "
               f"{cy['latency_us']:.2f} us at {cy['clock_mhz']:g} MHz"
               + (f" ({ips:.0f} inferences/s)" if ips else ""))
    return out


def narrow_sweep_text(cycles: dict) -> str:
    """`` (narrow sweep on DEVICE: out 1 sweep unit(s))`` for the layers of a report's cycles
    section whose sweep units are fewer than their lanes; empty when none are."""
    narrow = ir.describe_narrow_sweeps(cycles.get("lanes_by_layer") or {},
                                       cycles.get("sweep_units_by_layer") or {})
    return f" (narrow sweep on {cycles.get('device')}: {narrow})" if narrow else ""


def write_plots(r: dict, out_dir: str) -> list[str]:
    """``accuracy_vs_step.png`` and ``spikes_per_layer.png`` in ``out_dir``; returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    acc = np.asarray(r["decision"]["accuracy_by_step"]) * 100
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.arange(1, len(acc) + 1), acc, marker="." if len(acc) <= 100 else None)
    ax.set_xlabel("time steps")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{r['model']}: accuracy of the running prediction")
    ax.grid(True, alpha=0.3)
    p = os.path.join(out_dir, "accuracy_vs_step.png")
    fig.tight_layout()
    fig.savefig(p, dpi=100)
    plt.close(fig)
    paths.append(p)
    rows = [l for l in r["layers"] if l["kind"] not in ("input", "flatten")]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar([l["name"] for l in rows], [l["spikes_per_inference"] for l in rows])
    ax.set_ylabel("spikes per inference")
    ax.set_title(f"{r['model']}: spikes per layer ({r['samples']} samples)")
    p = os.path.join(out_dir, "spikes_per_layer.png")
    fig.tight_layout()
    fig.savefig(p, dpi=100)
    plt.close(fig)
    paths.append(p)
    return paths


__all__ = ["EnergyCosts", "Efficiency", "LayerCounts", "HOROWITZ", "graded_sources",
           "running_predictions", "decision_steps", "cycles_per_sample", "sweep_units_by_layer",
           "measure", "energy",
           "efficiency_report", "report_lines", "write_plots", "step_overhead"]
