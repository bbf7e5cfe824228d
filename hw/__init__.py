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
    "snn_step_delay": ["snn_event_fifo.v", "snn_step_delay.v"],
    "snn_neuron_unit": _FIXED + ["snn_neuron_unit.v"],
    "snn_lane_mem": ["snn_lane_mem.v"],
    "snn_layer_core": _FIXED + ["snn_neuron_unit.v", "snn_lane_mem.v", "snn_layer_core.v"],
}
#: the primitives of user-defined neuron datapaths (snnc.backends.verilog.userneuron): each
#: combinational, one module per file
USER_OPS = ("snn_op_add", "snn_op_sub", "snn_op_mulc", "snn_op_mul", "snn_op_minmax",
            "snn_op_abs", "snn_op_cmp", "snn_op_logic", "snn_op_select", "snn_op_sat",
            "snn_op_count")
MODULE_SOURCES.update({name: [f"{name}.v"] for name in USER_OPS})
MODULE_SOURCES["snn_op_mulc"] = ["snn_op_mul.v", "snn_op_mulc.v"]      # a constant operand

#: neuron kind / reset / leak encodings of the KIND, RESET and LEAK parameters
KIND_CODES = {"IF": 0, "LIF": 1, "CubaLIF": 2, "ALIF": 3, "ASN": 4}
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


def weight_words(weights, lanes: int, bits: int) -> list[int]:
    """The weight memory image of ``snn_layer_core``: ``weights`` is the integer matrix
    ``[neurons N, inputs M]`` (``acc[n] += W[n, j]`` for an event from input ``j``). Word
    ``j * ceil(N / lanes) + k`` holds neurons ``k * lanes + p`` in bits ``[p * bits +: bits]``
    (two's complement), zero for the padding lanes past ``N``."""
    import numpy as np

    w = np.asarray(weights, dtype=np.int64)
    n, m = w.shape
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if w.size and (w.min() < lo or w.max() > hi):
        raise ValueError(f"weights outside the {bits}-bit range [{lo}, {hi}]")
    words_per_row = -(-n // lanes)
    mask = (1 << bits) - 1
    words = []
    for j in range(m):
        for k in range(words_per_row):
            word = 0
            for p in range(lanes):
                idx = k * lanes + p
                if idx < n:
                    word |= (int(w[idx, j]) & mask) << (p * bits)
            words.append(word)
    return words


def write_memh(path, words, bits: int) -> None:
    """Write words for ``$readmemh``: one per line, ``ceil(bits / 4)`` hex digits."""
    digits = max(1, -(-bits // 4))
    Path(path).write_text("".join(f"{w:0{digits}x}\n" for w in words))
