"""The C simulation's read-back functions of ``snn_top.cpp``: ``snn_probe_spikes``, ``_states``,
``_counters`` (saturation, then the two dropped-input-event counters), ``_payloads`` and
``_membrane``, compiled ``#ifndef __SYNTHESIS__`` only. The testbench calls them after each step;
the synthesised IP has none of them (its only outputs are the output event stream and the
AXI4-Lite control), so a membrane or state readout exists in C simulation only (docs/hls.md).
"""
from __future__ import annotations

from snnc.backends.hls.exprgen import _ascii
from snnc.backends.hls.plan import layer_prefix
from snnc.backends.verilog.emitter import CodeBuilder


def emit_probes(o: CodeBuilder, layers, outs) -> None:
    """The ``snn_probe_*`` functions of ``snn_top.cpp`` (compiled ``#ifndef __SYNTHESIS__``)."""
    o.line("#ifndef __SYNTHESIS__")
    o.line("void snn_probe_spikes(unsigned char* out) {")
    with o.indent():
        o.line("int k = 0;")
        for l in layers:
            o.line(f"for (int n = 0; n < {l.n}; n++) out[k++] = "
                   f"spk_{layer_prefix(l)}[n] ? 1 : 0;")
    o.line("}")
    o.line("")
    o.line("void snn_probe_states(long long* out) {")
    with o.indent():
        o.line("int k = 0;")
        for l in layers:
            for s in l.states:
                o.line(f"for (int n = 0; n < {l.n}; n++) out[k++] = "
                       f"st_{layer_prefix(l)}[n].{s.field}.to_int64();   // {_ascii(l.name)} "
                       f"{_ascii(s.name)}")
    o.line("}")
    o.line("")
    o.line("void snn_probe_counters(long long* out) {")
    with o.indent():
        o.line("int k = 0;")
        for l in layers:
            fields = {s.name: s.field for s in l.states}
            for name in l.sat_names:
                field = fields[name] if not l.builtin else name.lower()
                o.line(f"out[k++] = cnt_{layer_prefix(l)}.{field}.to_int64();   "
                       f"// {_ascii(l.name)} {_ascii(name)}")
        o.line("out[k++] = dropped_out_of_range.to_int64();")
        o.line("out[k++] = dropped_over_capacity.to_int64();")
    o.line("}")
    o.line("")
    o.line("void snn_probe_payloads(long long* out) {")
    with o.indent():
        graded = [l for l in layers if l.graded]
        if graded:
            o.line("int k = 0;")
        else:
            o.line("(void)out;   // no layer sends graded events")
        for l in graded:
            o.line(f"for (int n = 0; n < {l.n}; n++) out[k++] = "
                   f"st_{layer_prefix(l)}[n].h.to_int64();   // {_ascii(l.name)} H")
    o.line("}")
    o.line("")
    # the membrane a `membrane` readout sums (and a `count` readout breaks its ties with): U, or
    # a user-defined neuron's first state
    o.line("void snn_probe_membrane(long long* out) {")
    with o.indent():
        o.line("int k = 0;")
        for l in outs:
            s = l.states[0]
            o.line(f"for (int n = 0; n < {l.n}; n++) out[k++] = "
                   f"st_{layer_prefix(l)}[n].{s.field}.to_int64();   // {_ascii(l.name)} "
                   f"{_ascii(s.name)}")
    o.line("}")
    o.line("#endif")
