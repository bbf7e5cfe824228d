"""The HLS C++ backend: ``generate_hls(qmodel, out_dir)`` writes a Vitis HLS project built from the
hand-written templates of ``snnc.hw`` (``hw/hls``); ``verify_hls`` C-simulates it with plain
``g++`` and compares it with the golden model bit for bit (docs/hls.md)."""
from snnc.backends.hls.csim import (CsimError, compile_project, compiler_available, run_csim,
                                    verify_hls)
from snnc.backends.hls.generator import generate_hls
from snnc.backends.hls.plan import c_ident, check_supported, plan_layers

__all__ = ["CsimError", "compile_project", "compiler_available", "run_csim", "verify_hls",
           "generate_hls", "c_ident", "check_supported", "plan_layers"]
