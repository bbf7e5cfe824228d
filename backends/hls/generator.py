"""``generate_hls(qmodel, out_dir)``: write the C++ project of a quantised model for Vitis HLS.

Files written into ``out_dir``:

* ``snn_top.h``, ``snn_top.cpp`` — the top function ``snn_top`` (one call = one time step: input
  events in, output spikes and a token out, on ``hls::stream``s) built by a code builder from the
  graph, instantiating the hand-written templates of ``hw/hls``;
* ``snn_weights.h`` — the integer weights as constant arrays;
* ``tb_snn_top.cpp`` — the C simulation testbench (reads an events file, writes output events,
  every layer's spikes, final states and saturation counters);
* copies of the ``hw/hls`` headers; ``run_hls.tcl`` and the project's ``hls_config.tcl``;
* ``manifest.json`` — interface, layout of the read-back files, formats and the latency estimate.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from snnc import ir
from snnc.backends.hls import codegen
from snnc.backends.hls.plan import bits_for, output_layers, plan_layers
from snnc.quantize import NeuronConsts, QuantizedModel

MANIFEST_FORMAT = "snnc-hls"
MANIFEST_VERSION = 1
LIBRARY = ("hls_compat.h", "snn_fixed.h", "snn_neuron.h", "snn_layer.h", "snn_testbench.h")
DEFAULT_PART = "xc7z020clg400-1"
DEFAULT_CLOCK_HZ = ir.DEFAULT_CLOCK_HZ   # a model without a hardware block (was 100 MHz)
#: pipeline depths assumed by the latency estimate (cycles from a loop's first issue to its last
#: write-back): the accumulate loop reads a weight word, adds, writes the accumulators (a graded
#: source -- a direct input or an ASN layer -- adds one stage: the weight x payload multiply); the
#: sweep rescales, steps the neuron (decay multiply, threshold), saturates and writes back (an ASN
#: adds two: the spike test needs the decayed U, P and A, and the height then feeds the
#: m_f x h multiply and the saturation of P and A).
ACC_DEPTH = 3
SWEEP_DEPTH = 6
GRADED_ACC_DEPTH = ACC_DEPTH + 1
ASN_SWEEP_DEPTH = SWEEP_DEPTH + 2


def library_dir() -> Path:
    import snnc.hw

    return Path(snnc.hw.__file__).resolve().parent / "hls"


def _part(qmodel: QuantizedModel) -> str:
    hw = qmodel.graph.hardware
    dev = (hw.device or "").strip() if hw is not None else ""
    return dev if dev.lower().startswith("xc") else DEFAULT_PART


def _clock_ns(qmodel: QuantizedModel) -> float:
    hw = qmodel.graph.hardware
    hz = hw.clock if hw is not None and hw.clock else DEFAULT_CLOCK_HZ
    return round(1e9 / hz, 3)


def layer_depths(l) -> dict:
    """The pipeline depths the estimate assumes for layer ``l``: accumulate (input events; its own
    recurrent spikes are plain) and sweep."""
    return {"acc": GRADED_ACC_DEPTH if l.source_graded else ACC_DEPTH,
            "recurrent_acc": ACC_DEPTH,
            "sweep": ASN_SWEEP_DEPTH if l.asn else SWEEP_DEPTH}


def latency_model(layers, inputs, outs) -> dict:
    return {
        "formula": "cycles(step) ~= (E_in + 1) + sum over layers L of [E_L * (words_L + "
                   "acc_L) + R_L * (words_L + "
                   f"{ACC_DEPTH}) + words_L + sweep_L] + (S_out + 1); E_in = input events of "
                   "the step, E_L = events reaching L (its source's, delayed; graded events "
                   "count once each), R_L = L's own spikes of the previous step (recurrent "
                   "layers), S_out = output events, words_L = ceil(neurons_L / lanes), acc_L = "
                   f"{ACC_DEPTH} ({GRADED_ACC_DEPTH} behind a graded source: the payload "
                   f"multiply), sweep_L = {SWEEP_DEPTH} ({ASN_SWEEP_DEPTH} for ASN neurons)",
        "initiation_interval": 1,
        "acc_depth": ACC_DEPTH,
        "sweep_depth": SWEEP_DEPTH,
        "depths": {l.name: layer_depths(l) for l in layers},
        "words": {l.name: l.words for l in layers},
        "status": "an estimate from the pragmas' initiation intervals (II = 1 per weight word, per "
                  "neuron word, per input and output event) and assumed pipeline depths; not "
                  "checked by Vitis HLS synthesis or co-simulation here",
    }


def build_manifest(qmodel: QuantizedModel, inputs, layers, outs, files) -> dict:
    g, f = qmodel.graph, qmodel.formats
    n_in = sum(i.size for i in inputs)
    n_out = sum(l.n for l in outs)
    graded = any(i.graded for i in inputs)
    graded_out = any(l.graded for l in outs)
    spikes_off = states_off = counters_off = payloads_off = 0
    out_off = 0
    out_offsets = {}
    for l in outs:
        out_offsets[l.name] = out_off
        out_off += l.n
    layer_entries = []
    for l in layers:
        entry = {
            "index": l.index, "name": l.name, "ident": l.ident,
            "type": type(l.layer).__name__.lower(), "neurons": l.n, "inputs": l.m,
            "lanes": l.p, "words": l.words, "padded": l.np_, "source": l.source,
            "delay": l.delay, "recurrent": l.recurrent, "bias": l.bias,
            "acc_bits": l.acc_bits, "acc_frac": l.acc_frac, "in_frac": l.in_frac,
            "neuron": l.neuron.kind if isinstance(l.neuron, NeuronConsts) else
            f"user:{l.neuron.name}",
            "graded": l.graded, "source_graded": l.source_graded,
            "spikes_offset": spikes_off,
            "states": [], "saturation": [],
        }
        spikes_off += l.n
        if l.graded:
            entry["payloads_offset"] = payloads_off
            payloads_off += l.n
        for s in l.states:
            entry["states"].append({"name": s.name, "field": s.field, "width": s.width,
                                    "signed": s.signed, "offset": states_off})
            states_off += l.n
        for name in l.sat_names:
            entry["saturation"].append({"name": name, "offset": counters_off})
            counters_off += 1
        if l.name in out_offsets:
            entry["output_offset"] = out_offsets[l.name]
        layer_entries.append(entry)
    return {
        "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "model": g.name,
        "top": codegen.TOP, "steps": g.time.steps, "files": files,
        "event": {
            "fields": ["last", "payload", "address"],
            "in": {"address_bits": bits_for(n_in - 1),
                   "payload_bits": f.inputs.width if graded else 1,
                   "payload_signed": graded},
            "out": {"address_bits": bits_for(n_out - 1),
                    "payload_bits": f.membrane.width if graded_out else 1,
                    "payload_signed": bool(graded_out and f.membrane.signed)},
            "doc": "one call of snn_top is one time step: the step's input events in any order "
                   "then a token (last = 1); out: the output layers' spikes, ascending per layer, "
                   "then a token; a graded (ASN or emit) layer's events carry their height "
                   "(membrane units) as payload, plain spikes 1",
        },
        "inputs": [{"name": i.name, "ident": i.ident, "size": i.size, "offset": i.offset,
                    "graded": i.graded} for i in inputs],
        "outputs": [{"layer": l.name, "offset": out_offsets[l.name], "size": l.n}
                    for l in outs],
        "formats": {"weights": str(f.weights), "membrane": str(f.membrane),
                    "current": str(f.current), "adaptation": str(f.adaptation),
                    "inputs": str(f.inputs)},
        "layers": layer_entries,
        "probe": {"spikes": spikes_off, "states": states_off, "counters": counters_off + 1,
                  "payloads": payloads_off, "membrane": sum(l.n for l in outs),
                  "doc": "testbench read-back sizes: spikes per step, states per sample, "
                         "saturation counters then the dropped-input-event count, graded "
                         "layers' event heights per step, output layers' membranes per step "
                         "(in the order of `outputs`)"},
        "latency": latency_model(layers, inputs, outs),
    }


def generate_hls(qmodel: QuantizedModel, out_dir, lanes: int | None = None) -> dict:
    """Write the HLS C++ project of ``qmodel`` into ``out_dir``; returns the manifest (also
    written as ``manifest.json``). Unsupported constructs raise located SnnErrors."""
    from snnc.quantize import require_quantized

    require_quantized(qmodel, "generate_hls")
    inputs, layers = plan_layers(qmodel, lanes)
    outs = output_layers(qmodel, layers)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lib = library_dir()
    files = []
    for name in LIBRARY:
        shutil.copyfile(lib / name, out / name)
        files.append(name)
    generated = {
        f"{codegen.TOP}.h": codegen.build_header(qmodel, inputs, layers, outs),
        "snn_weights.h": codegen.build_weights(qmodel, layers),
        f"{codegen.TOP}.cpp": codegen.build_top(qmodel, inputs, layers, outs),
        f"tb_{codegen.TOP}.cpp": codegen.build_testbench(),
    }
    for name, text in generated.items():
        (out / name).write_text(text)
        files.append(name)
    (out / "hls_config.tcl").write_text(
        codegen.build_tcl_config(qmodel, files, _part(qmodel), _clock_ns(qmodel)))
    shutil.copyfile(Path(__file__).resolve().parent / "run_hls.tcl", out / "run_hls.tcl")
    files += ["hls_config.tcl", "run_hls.tcl"]
    manifest = build_manifest(qmodel, inputs, layers, outs, files)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
