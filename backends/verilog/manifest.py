"""The generated design's ``manifest.json``: ports, per-layer parameters, memory map, formats
and the cycle bound."""
from __future__ import annotations

from snnc import ir
from snnc.backends.verilog.plan import (CNT_W, STEP_OVERHEAD, LayerHW, VerilogLiteral,
                                        bits_to_hold)
from snnc.backends.verilog.top import (TOP, delay_depth, mem_select, read_addr_bits,
                                       read_data_bits, sat_ports, word_bits)
from snnc.quantize import QuantizedModel

MANIFEST_FORMAT = "snnc-verilog"
MANIFEST_VERSION = 1

def _output_doc(readouts: list[str], last: LayerHW) -> str:
    """How a user gets the model's outputs from the design."""
    parts = ["the top emits the output layer's spikes (m_* ports)"]
    if any(r in ("count", "first_spike") for r in readouts):
        parts.append("count and first_spike readouts are taken from them outside the design "
                     "(docs/semantics.md section 5; count breaks ties by the summed membrane, "
                     "first_spike by the count)")
    if any(r in ("count", "membrane") for r in readouts):
        field = last.state_layout[0][0]
        parts.append(f"the summed membrane (the membrane readout, and count's tie-break) has no "
                     f"accumulator in the design: run a sample one step at a time (the step's "
                     f"events and token, then wait for idle), read the output layer's state "
                     f"words and add their field {field} over the steps")
    return "; ".join(parts)


def build_manifest(qmodel: QuantizedModel, layers: list[LayerHW], fifo_depth: int,
                   files: list[str]) -> dict:
    g = qmodel.graph
    f = qmodel.formats
    first, last = layers[0], layers[-1]
    sel_w = bits_to_hold(len(layers) - 1)
    inp = g.inputs[0]
    direct = isinstance(inp.encoding, ir.Direct)
    in_doc = (f"the input value quantised to {f.inputs} (two's complement, {first.in_pw} bits"
              + ("" if f.inputs.signed else ", never negative") + "); 0 for a token"
              if direct else "1 for a spike, 0 for a token")
    if g.held(inp.name):
        in_doc = (f"the change of the input value quantised to {f.inputs} since the previous "
                  f"step (two's complement, {first.in_pw} bits; the first layer's accumulators "
                  "hold their sum, HOLD = 1; the first step's is the value, and a value that "
                  "does not change sends no event); 0 for a token")
    out_doc = (f"the spike's height h in membrane units ({f.membrane}, two's complement); 0 for "
               "a token" if last.graded_out else "1 for a spike")
    sat_names = {"u": "U", "i": "I", "a": "A", "p": "P (ASN)", "h": "H (ASN payload)"}
    ports = [
        {"name": "clk", "dir": "in", "width": 1, "doc": "clock (rising edge)"},
        {"name": "rst", "dir": "in", "width": 1,
         "doc": "synchronous active-high reset: empties the event FIFOs and pipelines, zeroes "
                "every neuron state (state.words cycles after it, idle low) and the step and "
                "saturation counters; the weight memories keep their contents (run-time writes "
                "survive it: the .mem images are loaded only when the design starts)"},
        {"name": "clear", "dir": "in", "width": 1,
         "doc": "one-cycle pulse between samples, given while idle: zeroes every neuron state "
                "(the cores take state.words cycles, with idle low; events sent meanwhile wait "
                "in the FIFOs); counters and weights are kept"},
        {"name": "s_valid", "dir": "in", "width": 1, "doc": "input event valid"},
        {"name": "s_ready", "dir": "out", "width": 1, "doc": "input event accepted when high"},
        {"name": "s_last", "dir": "in", "width": 1, "doc": "1: end-of-step token"},
        {"name": "s_payload", "dir": "in", "width": first.in_pw, "doc": in_doc},
        {"name": "s_addr", "dir": "in", "width": first.in_aw,
         "doc": f"input neuron index (0 .. {first.m - 1}); larger addresses are ignored"},
        {"name": "m_valid", "dir": "out", "width": 1, "doc": "output event valid"},
        {"name": "m_ready", "dir": "in", "width": 1, "doc": "output event taken when high"},
        {"name": "m_last", "dir": "out", "width": 1, "doc": "1: the output layer's token"},
        {"name": "m_payload", "dir": "out", "width": last.out_pw, "doc": out_doc},
        {"name": "m_addr", "dir": "out", "width": last.out_aw,
         "doc": "spiking output neuron (ascending within a step)"},
        {"name": "w_we", "dir": "in", "width": 1, "doc": "weight write (only while idle)"},
        {"name": "w_layer", "dir": "in", "width": sel_w, "doc": "layer index of the write"},
        {"name": "w_addr", "dir": "in",
         "width": word_bits(layers) + (2 if mem_select(layers) else 0),
         "doc": "weight word address j * words_per_row + k" + (
             f"; bits [{word_bits(layers) + 1}:{word_bits(layers)}] select the memory: 0 "
             "weights, 1 recurrent weights, 2 biases (write_select)"
             if mem_select(layers) else "") + "; a write at or past the memory's words (or to "
             "a memory the layer does not have) is ignored"},
        {"name": "w_data", "dir": "in", "width": max(l.p * l.params["W_W"] for l in layers),
         "doc": "weight word: lane p in bits [p*W_W +: W_W]; a write replaces the whole word "
                "(all its lanes) and there is no weight read-back, so changing one weight takes "
                "the word's other weights from the loaded image (the .mem file, or what was "
                "written since)"},
        {"name": "rd_en", "dir": "in", "width": 1, "doc": "state read (only while idle)"},
        {"name": "rd_layer", "dir": "in", "width": sel_w, "doc": "layer index of the read"},
        {"name": "rd_addr", "dir": "in", "width": read_addr_bits(layers),
         "doc": "state word k (neurons k*L .. k*L+L-1, L the layer's state lanes: state.lanes, "
                "its sweep units), k below the layer's state words (state.words, "
                "memory_map.state); a larger k reads an unspecified word"},
        {"name": "rd_data", "dir": "out", "width": read_data_bits(layers),
         "doc": "state word, the cycle after rd_en; lane u in bits [u*lane_bits +: lane_bits] "
                "(u below state.lanes; the bits above a narrower layer's word read 0)"},
        {"name": "idle", "dir": "out", "width": 1,
         "doc": "no event, sweep, output or state zeroing (after rst or clear) in flight"},
        {"name": "step_count", "dir": "out", "width": CNT_W,
         "doc": "time steps completed by the output layer since reset"},
    ] + [{"name": f"sat_{k}_count", "dir": "out", "width": CNT_W,
          "doc": f"clamps of {sat_names[k]} in layer rd_layer since reset (combinational)"}
         for k in sat_ports(layers)]
    layer_entries = []
    for l in layers:
        offset, fields = 0, []
        for name, w, signed in l.state_layout:
            if name is None:                    # an unused bit
                offset += w
                continue
            fields.append({"name": name, "offset": offset, "width": w, "signed": signed})
            offset += w
        layer_entries.append({
            "index": l.index, "name": l.name, "ident": l.ident,
            "instance": f"u_l{l.index}_{l.ident}", "neurons": l.n, "inputs": l.m, "lanes": l.p,
            "words_per_row": l.nw, "sweep_units": l.su, "kind": l.kind,
            "parameters": {k: int(v) if isinstance(v, VerilogLiteral) else v
                           for k, v in l.params.items()},
            "graded_input": bool(l.params["GRADED"]),
            "payload": {"width": l.out_pw, "signed": l.graded_out, "graded": l.graded_out,
                        "doc": ("the spike's height h (membrane units), the next core's GRADED "
                                "payload" if l.graded_out else "1 for every spike")},
            "saturation": {k: f"sat_{c}_count" for k, c in l.sat_map.items()},
            "membrane": l.state_layout[0][0],
            "user_neuron": ({"name": qmodel.plan(l.name).neuron.name, "module": l.user.module,
                             "user_id": l.index, "states": [n for n, _ in l.user.states],
                             "graded": l.user.graded}
                            if l.user is not None else None),
            "weights": {"file": l.weight_file, "words": len(l.words),
                        "word_bits": l.p * l.params["W_W"], "w_layer": l.index, "w_mem": 0,
                        "address": "j * words_per_row + k holds W[k*lanes + p, j] in lane p"},
            "recurrent": ({"file": l.rec_file, "words": len(l.rec_words),
                           "word_bits": l.p * l.params["W_W"], "w_layer": l.index, "w_mem": 1,
                           "address": "j * words_per_row + k holds V[k*lanes + p, j] in lane p "
                                      "(j: the layer's own neuron, spiking the step before)"}
                          if l.rec else None),
            "bias": ({"file": l.bias_file, "words": len(l.bias_words),
                      "word_bits": l.p * l.params["W_W"], "w_layer": l.index, "w_mem": 2,
                      "address": "k holds bias[k*lanes + p] in lane p (weights format, "
                                 "<< AUX_SHIFT into the accumulator)"}
                     if l.bias else None),
            "state": {"rd_layer": l.index, "words": l.state_words, "lanes": l.state_lanes,
                      "lane_bits": l.state_bits, "fields": fields,
                      "address": "word k holds neuron k * lanes + u in lane u (past the "
                                 "neurons: padding)"},
            "fifo_depth": delay_depth(l, fifo_depth) if l.delay else fifo_depth,
            "delay": l.delay,
        })
    return {
        "format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "model": g.name, "top": TOP,
        "steps": g.time.steps,
        "files": files,
        "memory_files": [f for l in layers for f in (l.weight_file, l.rec_file, l.bias_file) if f],
        "write_select": ({"shift": word_bits(layers), "bits": 2,
                          "values": {"weights": 0, "recurrent": 1, "bias": 2},
                          "doc": "w_addr = (w_mem << shift) | word"}
                         if mem_select(layers) else None),
        "ports": ports,
        "event": {"fields": ["last", "payload", "address"],
                  "doc": "events of step t in any order, then a token; spikes leave a layer in "
                         "ascending order followed by its token; a graded event's payload is a "
                         "signed integer multiplying the weights (direct inputs: the quantised "
                         "value, a held input's its change; ASN spikes: their height)"},
        "input": {"name": inp.name, "size": first.m,
                  "encoding": type(inp.encoding).__name__.lower(),
                  "encoder": {"kind": type(inp.encoding).__name__.lower(),
                              **{k: v if isinstance(v, bool) else float(v)
                                 for k, v in vars(inp.encoding).items()}},
                  "encoder_doc": "the encoder runs outside the design (docs/semantics.md section "
                                 "2; snnc.backends.golden.encoders.encode gives its events, the "
                                 "rate encoder's random numbers included): "
                                 + ("the payload of input j is scale * x[j] quantised to "
                                    f"{f.inputs} (semantics section 4)" if direct else
                                    "the design takes its spikes as events"),
                  "addr_width": first.in_aw,
                  "payload_width": first.in_pw, "graded": direct,
                  "payload_format": str(f.inputs) if direct else None,
                  "doc": ("one event per non-zero quantised value (zeros add nothing)" if direct
                          else "one event per spike, payload 1")},
        "output": {"layer": last.name, "size": last.n,
                   "readouts": [o.readout for o in g.outputs],
                   "doc": _output_doc([o.readout for o in g.outputs], last)},
        "formats": {"weights": str(f.weights), "membrane": str(f.membrane),
                    "current": str(f.current), "adaptation": str(f.adaptation),
                    "inputs": str(f.inputs)},
        "layers": layer_entries,
        "memory_map": {
            "weights": [{"w_layer": l.index, "layer": l.name, "words": len(l.words),
                         "word_bits": l.p * l.params["W_W"], "file": l.weight_file, "w_mem": 0}
                        for l in layers],
            "recurrent": [{"w_layer": l.index, "layer": l.name, "words": len(l.rec_words),
                           "word_bits": l.p * l.params["W_W"], "file": l.rec_file, "w_mem": 1}
                          for l in layers if l.rec],
            "bias": [{"w_layer": l.index, "layer": l.name, "words": len(l.bias_words),
                      "word_bits": l.p * l.params["W_W"], "file": l.bias_file, "w_mem": 2}
                     for l in layers if l.bias],
            "state": [{"rd_layer": l.index, "layer": l.name, "words": l.state_words,
                       "lanes": l.state_lanes, "word_bits": l.state_lanes * l.state_bits}
                      for l in layers],
        },
        "cycle_bound": {
            "formula": "cycles(sample) <= sum over its steps and layers L of ((E_L + R_L) * "
                       f"words_L + sweep_words_L + S_L + {STEP_OVERHEAD}), E_L = input events "
                       "of L in the step, R_L = recurrent events of L in the step (a recurrent "
                       "layer's spikes of the step before; 0 at step 0 and for other layers), "
                       "S_L = spikes of L in the step, words_L = ceil(neurons_L / lanes), "
                       "sweep_words_L = words_L * lanes / sweep_units_L (the sweep's cycles: "
                       "words_L without a narrow sweep); with delay = d, E_L at step t counts "
                       "the source's events of step t - d. A single step can take a few cycles "
                       "more than its term (the first: the pipeline's fill)",
            "words": {l.name: l.nw for l in layers},
            "sweep_words": {l.name: l.sweep_words for l in layers},
            "recurrent_layers": [l.name for l in layers if l.rec],
            "delays": {l.name: l.delay for l in layers if l.delay},
            "overhead_per_layer": STEP_OVERHEAD,
            "status": "from the core's documented throughput; holds in the co-simulation "
                      "benches at full speed (no input gaps, no output stalls), not proven; a "
                      "layer of a few neurons run for a few steps can exceed it by a few cycles "
                      "(the pipeline's drain after the last step; one more per layer with a "
                      "narrow sweep, whose group stage adds a cycle of latency)",
        },
        "notes": ["weights files are read with $readmemh by relative name: simulate from this "
                  "folder (or copy the .mem files into the simulator's working directory)",
                  "a recurrent layer's spikes of the last step are delivered to its accumulators "
                  "after the last token; pulse `clear` (when idle) before the next sample"],
    }
