"""How much memory a simulation or a binned data set takes, checked against what the machine has.

The golden model and the float reference hold every time step of every layer (``[T, B, N]``
arrays), and an event data set is binned into ``[samples, T, P, H, W]`` counts. A model of a
million steps, or ten thousand event samples, needs more memory than a machine has: numpy raised
MemoryError (an internal error) or the process was killed. These helpers size the work first:
callers simulate in chunks of :func:`samples_per_chunk` samples, and :func:`check_fits` refuses
work that cannot fit with a clear error.
"""
from __future__ import annotations

import math
import os

from snnc import ir
from snnc.errors import SnnError

#: Working memory one chunk of samples may take (the simulators chunk their batches to stay under).
CHUNK_BYTES = 1 << 30


def available_bytes() -> int | None:
    """Memory this process can still take: MemAvailable (Linux), else the physical memory, else
    None (unknown: nothing is refused)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def size_text(n: int) -> str:
    """``n`` bytes in words: ``'512 MiB'``, ``'30.5 GiB'``."""
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def bytes_per_sample(graph: ir.Graph, record: bool = False) -> int:
    """A bound on what simulating one sample of ``graph`` holds at once: per step, each input's
    encoding (int64 random bits and values: 24 bytes an element) and each layer's accumulator,
    spikes, payloads and readout sums (int64 or float64: 26 bytes a neuron; 8 more with
    ``record``)."""
    steps = graph.time.steps
    per_step = sum(24 * math.prod(i.shape) for i in graph.inputs)
    # (a node of an unknown type has no shape: the simulator's own error names it)
    per_step += sum((34 if record else 26) * math.prod(getattr(layer, "shape", ()))
                    for layer in graph.layers)
    return max(1, steps * per_step)


def samples_per_chunk(graph: ir.Graph, record: bool = False, most: int = 256) -> int:
    """How many samples to simulate at once: at most ``most``, fewer where a chunk would take more
    than :data:`CHUNK_BYTES` (at least one)."""
    return max(1, min(most, CHUNK_BYTES // bytes_per_sample(graph, record)))


def chunks(count: int, graph: ir.Graph, record: bool = False, most: int = 256):
    """The ``slice``s of ``count`` samples to simulate one after the other, each of at most
    :func:`samples_per_chunk` samples."""
    size = samples_per_chunk(graph, record, most)
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


def check_fits(need: int, doing: str, hint: str) -> None:
    """Refuse work of ``need`` bytes that is larger than the memory available (an SnnError
    ``"<doing> needs about X, more than the Y of memory available"``)."""
    have = available_bytes()
    if have is not None and need > have:
        raise SnnError(None, f"{doing} needs about {size_text(need)} of memory, more than the "
                             f"{size_text(have)} available", hint)


def check_simulation_fits(graph: ir.Graph, batch: int, record: bool = False) -> None:
    """:func:`check_fits` for simulating ``batch`` samples of ``graph`` at once."""
    steps = graph.time.steps
    check_fits(batch * bytes_per_sample(graph, record),
               f"simulating {batch} sample(s) of model '{graph.name}' over {steps} steps at once",
               "the simulators hold every step of every layer: "
               + ("use fewer steps or neurons" if batch == 1 else
                  "simulate fewer samples at a time, or use fewer steps or neurons"))


#: What the torch model holds per step and sample, in bytes (measured with torch 2.13 on CPU, a
#: LIF, CubaLIF or ALIF layer of 1024 neurons over 500 steps): each input element's encoding, and
#: each neuron's states in a forward pass without gradients (evaluation), kept for the backward
#: pass (training), and with the integer arithmetic's extra tensors (QAT).
TORCH_INPUT_BYTES = 16
TORCH_NEURON_BYTES = {"eval": 12, "train": 17, "qat": 34}


def torch_bytes_per_sample(graph: ir.Graph, mode: str = "train") -> int:
    """About what the torch model holds for one sample of ``graph`` over all its steps in
    ``mode`` (``eval``, ``train`` or ``qat``; see :data:`TORCH_NEURON_BYTES`)."""
    per_step = TORCH_INPUT_BYTES * sum(math.prod(i.shape) for i in graph.inputs)
    per_step += TORCH_NEURON_BYTES[mode] * sum(math.prod(getattr(layer, "shape", ()))
                                               for layer in graph.layers)
    return max(1, graph.time.steps * per_step)


def torch_batch(graph: ir.Graph, most: int, mode: str = "eval") -> int:
    """Samples per batch of a torch pass without gradients: at most ``most``, fewer where a batch
    would take more than :data:`CHUNK_BYTES` (at least one)."""
    return max(1, min(most, CHUNK_BYTES // torch_bytes_per_sample(graph, mode)))


def check_training_fits(graph: ir.Graph, batch: int, qat: bool) -> None:
    """:func:`check_fits` for one training batch of ``batch`` samples (BPTT keeps every step of
    every layer for the gradients; QAT more)."""
    mode = "qat" if qat else "train"
    check_fits(batch * torch_bytes_per_sample(graph, mode),
               f"training model '{graph.name}' on batches of {batch} sample(s) over "
               f"{graph.time.steps} steps" + (" with QAT" if qat else ""),
               "backpropagation through time keeps every step of every layer: "
               + ("use fewer steps or neurons" if batch == 1 else
                  "use a smaller --batch-size, or fewer steps or neurons"))
