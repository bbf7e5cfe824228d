"""Hand-written Verilog of the snnc event-driven accelerator (package data; see README.md here).

``sources(module)`` lists the files a module needs, in compile order, for generators and
simulators; ``path(name)`` is one file.
"""
from __future__ import annotations

from pathlib import Path

HW_DIR = Path(__file__).resolve().parent

_FIXED = ["snn_sat.v", "snn_rescale.v", "snn_decay.v"]

#: module -> the files it needs (dependencies first)
MODULE_SOURCES = {
    "snn_sat": ["snn_sat.v"],
    "snn_rescale": ["snn_rescale.v"],
    "snn_decay": ["snn_decay.v"],
    "snn_event_fifo": ["snn_event_fifo.v"],
    "snn_neuron_unit": _FIXED + ["snn_neuron_unit.v"],
    "snn_layer_core": _FIXED + ["snn_neuron_unit.v", "snn_layer_core.v"],
}

#: neuron kind / reset / leak encodings of the KIND, RESET and LEAK parameters
KIND_CODES = {"IF": 0, "LIF": 1, "CubaLIF": 2, "ALIF": 3}
RESET_CODES = {"subtract": 0, "zero": 1, "none": 2}
LEAK_CODES = {"none": 0, "multiply": 1, "shift": 2}


def path(name: str) -> Path:
    """The path of one Verilog file of the library."""
    p = HW_DIR / name
    if not p.is_file():
        raise FileNotFoundError(f"no hardware source {name!r} in {HW_DIR}")
    return p


def sources(module: str) -> list[Path]:
    """The Verilog files ``module`` needs, dependencies first (KeyError for an unknown module)."""
    return [path(n) for n in MODULE_SOURCES[module]]
