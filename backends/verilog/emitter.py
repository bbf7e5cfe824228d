"""A small code builder for generated Verilog: lines at an indentation level.

    out = CodeBuilder()
    out.line("module top (")
    with out.indent():
        out.line("input wire clk")
    out.line(");")
    text = out.text()

Generators build their output line by line from the model (never by splicing text into a
template); :func:`verilog_ident` turns model names into safe Verilog identifiers.
"""
from __future__ import annotations

from contextlib import contextmanager

from snnc.idents import sanitise


class CodeBuilder:
    """Lines of text with an indentation level (like amaranth's ``_Emitter``)."""

    def __init__(self, unit: str = "    "):
        self._unit = unit
        self._level = 0
        self._lines: list[str] = []

    def line(self, text: str = "") -> None:
        """Append one line at the current indentation (an empty line has no indentation)."""
        if "\n" in text:
            raise ValueError("CodeBuilder.line takes one line; call it once per line")
        self._lines.append(self._unit * self._level + text if text else "")

    @contextmanager
    def indent(self, levels: int = 1):
        """Lines appended inside the ``with`` block are indented ``levels`` more."""
        self._level += levels
        try:
            yield self
        finally:
            self._level -= levels

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"

    def __len__(self) -> int:
        return len(self._lines)


#: Verilog-2005 and SystemVerilog-2017 reserved words (a generated name must be none of them).
KEYWORDS = frozenset("""
accept_on alias always always_comb always_ff always_latch and assert assign assume automatic before
begin bind bins binsof bit break buf bufif0 bufif1 byte case casex casez cell chandle checker class
clocking cmos config const constraint context continue cover covergroup coverpoint cross deassign
default defparam design disable dist do edge else end endcase endchecker endclass endclocking
endconfig endfunction endgenerate endgroup endinterface endmodule endpackage endprimitive
endprogram endproperty endspecify endsequence endtable endtask enum event eventually expect
export extends extern final first_match for force foreach forever fork forkjoin function generate
genvar global highz0 highz1 if iff ifnone ignore_bins illegal_bins implements implies import
incdir include initial inout input inside instance int integer interconnect interface intersect
join join_any join_none large let liblist library local localparam logic longint macromodule
matches medium modport module nand negedge nettype new nexttime nmos nor noshowcancelled not
notif0 notif1 null or output package packed parameter pmos posedge primitive priority program
property protected pull0 pull1 pulldown pullup pulsestyle_ondetect pulsestyle_onevent pure rand
randc randcase randsequence rcmos real realtime ref reg reject_on release repeat restrict return
rnmos rpmos rtran rtranif0 rtranif1 s_always s_eventually s_nexttime s_until s_until_with scalared
sequence shortint shortreal showcancelled signed small soft solve specify specparam static string
strong strong0 strong1 struct super supply0 supply1 sync_accept_on sync_reject_on table tagged
task this throughout time timeprecision timeunit tran tranif0 tranif1 tri tri0 tri1 triand trior
trireg type typedef union unique unique0 unsigned until until_with untyped use uwire var vectored
virtual void wait wait_order wand weak weak0 weak1 while wildcard wire with within wor xnor xor
""".split())

def verilog_ident(name: str, used: set[str] | None = None) -> str:
    """A plain Verilog identifier for ``name`` (:func:`snnc.idents.sanitise`): reserved words (in
    any case) and names starting with ``snn_`` (the library's modules) get a suffix."""
    return sanitise(name, used, lambda s: s.lower() in KEYWORDS or s.startswith("snn_"))
