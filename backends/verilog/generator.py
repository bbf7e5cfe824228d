"""The Verilog backend: a quantised model -> ``snn_top`` built from the hand-written library.

``generate(qmodel, out_dir)`` writes into ``out_dir``:

* ``snn_top.v`` — the top module, built line by line from the graph: one input FIFO and one
  ``snn_layer_core`` per dense or recurrent layer (a FIFO in front of every core), the input event
  stream in, the output layer's spike stream out, a weight write port (memory selected by layer
  index and, when the model has recurrent layers or biases, by the two bits of ``w_addr`` above
  the word address: 0 weights, 1 recurrent weights, 2 biases) and a state read port selected by
  layer index, ``idle``, the output layer's ``step_count`` and the saturation counters of the
  layer selected by ``rd_layer``;
* ``w_<layer>.mem`` — each layer's weight memory image (``$readmemh``, ``snnc.hw.write_memh``),
  ``v_<layer>.mem`` the recurrent weights of a recurrent layer, ``b_<layer>.mem`` the biases of a
  layer with ``bias = true`` (same word layout, one row); ``<layer>`` is the layer's identifier
  (cut to 100 characters with a digest; a suffix where two differ only in case);
* copies of the library files the top needs (``snnc.hw.sources``);
* ``manifest.json`` — ports, per-layer parameters, memory map, formats and the cycle bound.

Supported: a chain of ``dense`` and ``recurrent`` layers (docs/semantics.md section 1: a recurrent
core feeds its own spikes of step ``t`` back as events of step ``t + 1`` through its second weight
memory), with or without ``bias``, fed by one input, spike-encoded (rate, latency, delta) or
``direct`` (graded events: the payload is the value quantised to the ``inputs`` format, signed, one
bit wider for an unsigned ``ufixed`` format), built-in neurons (IF, LIF, CubaLIF, ALIF) with any
reset, leak and refractory period, and adaptive spiking neurons (ASN, ``KIND = 4``), whose spikes
are graded events carrying their height ``h`` (membrane units, ``U_W`` bits signed) to the next
core (``GRADED = 1``, ``IN_PW = U_W``), axonal delays (``delay = d``: an ``snn_step_delay``
in place of the layer's FIFO), and user-defined neurons (``KIND = 5``): each such layer's integer
program is lowered (:mod:`snnc.backends.verilog.userneuron`) to a combinational module of
``hw/snn_op_*`` primitives in ``snn_user.v``, which also holds ``snn_user_neuron``, the module the
core instantiates and which dispatches on the core's ``USER_ID`` (the layer index); a graded one
(``emit``) sends its heights as graded events like an ASN. Not yet: conv / pool / flatten layers,
ReLU units, unsigned weight / state formats, other topologies, user-defined neurons with more
than five clamp-counted values (states, and the height of a graded one) or intermediates beyond
64 bits; each is a located :class:`SnnError`.

Graded payloads in the manifest: ``ports`` gives ``s_payload`` / ``m_payload`` widths; each layer
entry has ``kind``, ``graded_input`` (its events multiply the weights by their signed payload),
``payload`` (``width``, ``signed`` and ``graded`` of its output events: an ASN layer's carry ``h``,
the others 1), ``saturation`` (the state names its counters report, on the ``sat_<k>_count`` ports),
``membrane`` (the state field a membrane readout sums: ``U``, or a user neuron's first state),
``user_neuron`` (its name, module and states, or None) and, in ``state.fields``, the per-kind
layout of a state word (ASN: ``U, P, A, S, H``; a user neuron: its states by name, ``S``, then
``emit`` (the height) when graded, else one unused bit, not listed). A layer with a narrow sweep
(``SU < P``, ``sweep_units``: chosen by :func:`~snnc.backends.verilog.plan.sweep_units` for the
device) keeps its state in ``state.words`` words of ``state.lanes`` (= ``SU``) lanes; the top's
``rd_addr`` / ``rd_data`` are as wide as the widest layer's. The top has ``sat_p_count`` and
``sat_h_count`` ports only when a layer counts with them (an ASN, a user neuron with four or more
states or graded events).

The work is in three modules: :mod:`~snnc.backends.verilog.plan` (a :class:`LayerHW` per core:
parameters, memory images, and the located errors for what is not supported),
:mod:`~snnc.backends.verilog.top` (the text of ``snn_top.v``) and
:mod:`~snnc.backends.verilog.manifest` (``manifest.json``); this one writes the folder.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from snnc import ir
from snnc.backends.verilog.manifest import build_manifest
from snnc.backends.verilog.plan import plan_layers
from snnc.backends.verilog.top import TOP, build_top
from snnc.backends.verilog.userneuron import user_file
from snnc.quantize import QuantizedModel

DEFAULT_FIFO_DEPTH = 16

def check_fifo_depth(fifo_depth) -> None:
    """Refuse an event FIFO depth the generator does not build (ValueError)."""
    import numbers

    if isinstance(fifo_depth, bool) or not isinstance(fifo_depth, numbers.Integral):
        raise TypeError(f"fifo_depth must be an integer, not {type(fifo_depth).__name__}")
    if fifo_depth < 2 or fifo_depth & (fifo_depth - 1) or fifo_depth > ir.MAX_FIFO_DEPTH:
        raise ValueError(f"fifo_depth must be a power of two from 2 to {ir.MAX_FIFO_DEPTH}, "
                         f"not {fifo_depth}")


def generate(qmodel: QuantizedModel, out_dir, *, lanes: int | None = None,
             fifo_depth: int = DEFAULT_FIFO_DEPTH, device: str | None = None) -> dict:
    """Write the Verilog of ``qmodel`` into ``out_dir``; returns the manifest (also written).

    ``lanes``: of the layers without their own (None: the hardware block's); ``device``: the
    FPGA the design is for (None: the model's hardware block's), which decides the layers'
    sweep units (:func:`snnc.backends.verilog.plan.sweep_units`: a narrow sweep on a device
    whose leaks are logic)."""
    import snnc.hw
    from snnc.quantize import require_quantized

    require_quantized(qmodel, "generate")
    check_fifo_depth(fifo_depth)
    layers = plan_layers(qmodel, lanes, device)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    modules = ["snn_event_fifo", "snn_layer_core"]
    if any(l.delay for l in layers):
        modules.append("snn_step_delay")
    users = [(l.index, l.user) for l in layers if l.user is not None]
    for _, u in users:
        modules += sorted(u.primitives)
    for module in modules:
        for src in snnc.hw.sources(module):
            if src.name not in files:
                shutil.copyfile(src, out / src.name)
                files.append(src.name)
    if users:
        (out / "snn_user.v").write_text(user_file(users, qmodel.graph.name))
        files.append("snn_user.v")
    top_text = build_top(qmodel, layers, fifo_depth)
    (out / f"{TOP}.v").write_text(top_text)
    files.append(f"{TOP}.v")
    for l in layers:
        snnc.hw.write_memh(out / l.weight_file, l.words, l.p * l.params["W_W"])
        if l.rec:
            snnc.hw.write_memh(out / l.rec_file, list(l.rec_words), l.p * l.params["W_W"])
        if l.bias:
            snnc.hw.write_memh(out / l.bias_file, list(l.bias_words), l.p * l.params["W_W"])
    manifest = build_manifest(qmodel, layers, fifo_depth, files)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
