"""Shared runner for the cocotb benches of the hand-written Verilog (hw/).

The machinery lives in the installed package, :mod:`snnc.backends.verilog.sim` (so that
``snnc verify`` can use it too); this module re-exports it for the benches and puts this folder on
``sys.path`` (the simulator process imports the bench modules by name through the PYTHONPATH
cocotb builds from ``sys.path``).
"""
from __future__ import annotations

import sys
from pathlib import Path

from snnc.backends.verilog.sim import (  # noqa: F401 - re-exported for the benches
    BUILD_ARGS, KEEP_BUILDS, KEEP_SECONDS, _failures, _make_flags, _prune, _tool_versions, build,
    cache_root, hw_sources, run, setup_verilator, toolchain_problem,
)

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))
