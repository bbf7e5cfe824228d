"""``generate_hls(qmodel, out_dir)``: write the C++ project of a quantised model for Vitis HLS.

Files written into ``out_dir``:

* ``snn_top.h``, ``snn_top.cpp`` — the top function ``snn_top`` (one call = one time step: input
  events in, output spikes and a token out, on ``hls::stream``s) built by a code builder from the
  graph, instantiating the hand-written templates of ``hw/hls``;
* ``snn_weights.h`` — the integer weights as constant arrays;
* ``tb_snn_top.cpp`` — the C simulation testbench (reads an events file, writes output events,
  every layer's spikes, final states and saturation counters);
* copies of the ``hw/hls`` headers; ``run_hls.tcl`` and the project's ``hls_config.tcl`` (the FPGA
  part: ``generate_hls(..., part=...)``, ``snnc compile --part``, default :data:`DEFAULT_PART`;
  ``run_hls.tcl``'s C simulation needs an events file, :mod:`snnc.backends.hls.events`);
* ``manifest.json`` — interface, layout of the read-back files, formats and the latency estimate.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from snnc import ir
from snnc.backends.hls import codegen
from snnc.backends.hls.plan import bits_for, input_address_bits, output_layers, plan_layers
from snnc.quantize import NeuronConsts, QuantizedModel

MANIFEST_FORMAT = "snnc-hls"
MANIFEST_VERSION = 2     # 2: two dropped-event counters (probe.dropped), a wider input address
LIBRARY = ("hls_compat.h", "snn_fixed.h", "snn_neuron.h", "snn_layer.h", "snn_testbench.h")
#: the FPGA part written into hls_config.tcl unless generate_hls is given one (``snnc compile
#: --part``); the model's `hardware { device }` names the Verilog flow's iCE40/ECP5 targets only
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


def check_part(part: str) -> str:
    """``part`` if it can be a Vitis part name (letters, digits, ``-``, ``_``, ``.``: it is
    written into hls_config.tcl as a Tcl word); else ValueError. Whether Vitis knows the part is
    checked by Vitis (``set_part``)."""
    if not isinstance(part, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", part):
        raise ValueError(f"{part!r} is not an FPGA part name (letters, digits, '-', '_' and "
                         f"'.' only, e.g. {DEFAULT_PART})")
    return part


def _clock_ns(qmodel: QuantizedModel) -> float:
    hw = qmodel.graph.hardware
    hz = hw.clock if hw is not None and hw.clock else DEFAULT_CLOCK_HZ
    return 1e9 / hz


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
        "excludes": [
            "the clear pass of a sample's first call (clear = 1): about padded_L cycles per "
            "layer L (one neuron per cycle) plus the delay lines' resets",
            "the delay lines' copies: each delayed layer copies its source's events of the step, "
            "about one cycle per event",
            "the AXI4-Lite control: writing `clear`, ap_start and waiting for ap_done around "
            "every call (one call per step), and the function's entry and exit",
            "stalls of the AXI4-Stream ports (an input event not yet available, a full output)",
        ],
    }


def build_manifest(qmodel: QuantizedModel, inputs, layers, outs, files,
                   part: str = DEFAULT_PART) -> dict:
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
        "top": codegen.TOP, "steps": g.time.steps, "files": files, "part": part,
        "event": {
            "fields": ["last", "payload", "address"],
            "struct_members": ["address", "payload", "last"],
            "in": {"address_bits": input_address_bits(n_in),
                   "payload_bits": f.inputs.width if graded else 1,
                   "payload_signed": bool(graded and f.inputs.signed)},
            "out": {"address_bits": bits_for(n_out - 1),
                    "payload_bits": f.membrane.width if graded_out else 1,
                    "payload_signed": bool(graded_out and f.membrane.signed)},
            "doc": "one call of snn_top is one time step (clear = 1 on the first call of every "
                   "sample: it resets the neurons and loads the biases): the step's input events "
                   "in any order, then an end-of-step token (last = 1); out: the output layers' "
                   "spikes, ascending per layer, then a token. Input addresses are those of "
                   "`inputs` (0 .. total size - 1); the address field is one bit wider, and an "
                   "address past the inputs is dropped and counted, as is an event beyond an "
                   "input's per-step capacity (its size). The input payload is the direct "
                   "input's value in the `inputs` format (ap_int, or ap_uint for a ufixed "
                   "format; one bit when no input is direct); a spike input's payload is not "
                   "read. A value the field cannot hold cannot be sent: assigned to the field "
                   "it keeps its low bits (wraps), uncounted. A graded (ASN or emit) layer's "
                   "events carry their height (membrane units) as payload, plain spikes 1. The "
                   "struct (members in `struct_members` order) is one TDATA word on the axis "
                   "ports, aggregated by Vitis HLS: address at the least significant bits, "
                   "members padded rather than bit-packed, `last` a TDATA bit and not TLAST "
                   "(UG1399; not checked here: read the port widths from the synthesis report)",
        },
        "inputs": [{"name": i.name, "ident": i.ident, "size": i.size, "offset": i.offset,
                    "graded": i.graded} for i in inputs],
        "outputs": [{"layer": l.name, "offset": out_offsets[l.name], "size": l.n}
                    for l in outs],
        "formats": {"weights": str(f.weights), "membrane": str(f.membrane),
                    "current": str(f.current), "adaptation": str(f.adaptation),
                    "inputs": str(f.inputs)},
        "layers": layer_entries,
        "probe": {"spikes": spikes_off, "states": states_off, "counters": counters_off + 2,
                  "dropped": {"out_of_range": counters_off, "over_capacity": counters_off + 1},
                  "payloads": payloads_off, "membrane": sum(l.n for l in outs),
                  "doc": "C simulation only (the snn_probe_* functions, #ifndef __SYNTHESIS__): "
                         "the synthesised IP's only outputs are the output event stream and the "
                         "AXI4-Lite control, no state, membrane or counter readout. Testbench "
                         "read-back sizes: spikes per step, states per sample, saturation "
                         "counters then the input events dropped for an address past the inputs "
                         "and those over an input's capacity (offsets in `dropped`), graded "
                         "layers' event heights per step, output layers' membranes per step "
                         "(in the order of `outputs`: what a `membrane` readout sums)"},
        "latency": latency_model(layers, inputs, outs),
    }


def generate_hls(qmodel: QuantizedModel, out_dir, lanes: int | None = None,
                 part: str = DEFAULT_PART) -> dict:
    """Write the HLS C++ project of ``qmodel`` into ``out_dir``; returns the manifest (also
    written as ``manifest.json``). ``part``: the FPGA part of hls_config.tcl (``set_part``).
    Unsupported constructs raise located SnnErrors; a malformed part name ValueError."""
    from snnc.quantize import require_quantized

    require_quantized(qmodel, "generate_hls")
    check_part(part)
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
        codegen.build_tcl_config(qmodel, files, part, _clock_ns(qmodel)))
    shutil.copyfile(Path(__file__).resolve().parent / "run_hls.tcl", out / "run_hls.tcl")
    files += ["hls_config.tcl", "run_hls.tcl"]
    manifest = build_manifest(qmodel, inputs, layers, outs, files, part)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
