"""The Verilog backend: ``generate(qmodel, out_dir)`` writes ``snn_top`` (a chain of the
hand-written ``snnc.hw`` layer cores), weight memory files, the library sources and a manifest."""
from snnc.backends.verilog.emitter import CodeBuilder, verilog_ident
from snnc.backends.verilog.generator import generate
from snnc.backends.verilog.plan import check_supported, plan_layers
from snnc.backends.verilog.top import TOP

__all__ = ["CodeBuilder", "verilog_ident", "TOP", "check_supported", "generate", "plan_layers"]
