"""The typed graph as JSON (and back), as readable text, and as a stable hash.

JSON is a faithful form: ``graph_from_json(graph_to_json(g)) == g``. Every node is an object tagged
with ``"node"`` (its class name); locations travel along as ``"loc"`` but do not take part in
equality or in the hash.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

from snnc import expr as E
from snnc import ir
from snnc.errors import Loc, SourceFile
from snnc.types import FREQUENCY, TIME, VOLTAGE, Fixed, Quantity

FORMAT_VERSION = 1

_CLASSES = {cls.__name__: cls for cls in (
    ir.TimeSpec, ir.Rate, ir.Latency, ir.Delta, ir.Direct, ir.Input, ir.IF, ir.LIF, ir.CubaLIF,
    ir.ALIF, ir.ASN, ir.ReLU, ir.CustomNeuron, ir.StateVar, ir.Surrogate, ir.Dense, ir.Recurrent, ir.Conv2d, ir.Pool,
    ir.Flatten, ir.Output, ir.TrainSpec, ir.HardwareSpec, ir.Graph, Fixed, E.Assignment)}
_EXPR_FIELDS = {("CustomNeuron", "spike"), ("CustomNeuron", "emit"), ("StateVar", "init"),
                ("Assignment", "value")}
_LAYER_LANES = {("Dense", "lanes"), ("Recurrent", "lanes")}
# optional fields added later: left out of the JSON (and so of the hash) when unset, so that the
# graphs that do not use them keep their hash; hashed when set (they change results)
_LATER_OPTIONAL = {("HardwareSpec", "leak_digits")}
# flags added later, likewise left out when false (a plain `direct` input keeps its hash)
_LATER_FLAGS = {("Direct", "hold")}
# shown, never hashed (they change no result)
_DISPLAY_ONLY = {("CustomNeuron", "param_kinds")}
# the hardware block's settings that change no result (the cycles and the clock, not the numbers)
_HARDWARE_ONLY = {("HardwareSpec", "lanes"), ("HardwareSpec", "clock"), ("HardwareSpec", "device")}
_OMITTED_WHEN_UNSET = _LAYER_LANES | _LATER_OPTIONAL | _DISPLAY_ONLY


def graph_to_json(g: ir.Graph) -> dict:
    return {"snnc_graph": FORMAT_VERSION, "graph": _encode(g)}


def graph_from_json(data: dict) -> ir.Graph:
    if not isinstance(data, dict) or data.get("snnc_graph") != FORMAT_VERSION:
        raise ValueError("not an snnc graph (version 1) JSON document")
    g = _decode(data["graph"])
    if not isinstance(g, ir.Graph):
        raise ValueError("JSON document does not hold a graph")
    return g


def _encode(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        out = {"node": name}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if f.name == "loc":
                if v is not None:
                    out["loc"] = v.to_json()
            elif (name, f.name) in _OMITTED_WHEN_UNSET and v is None:
                continue        # unset: JSON and hash as before the field existed
            elif (name, f.name) in _LATER_FLAGS and v is False:
                continue
            elif (name, f.name) in _EXPR_FIELDS:
                if v is None:
                    continue    # an optional expression left out (a plain user neuron's `emit`):
                    #           # its JSON, and so its hash, are as before `emit` existed
                out[f.name] = E.to_json(v)
            else:
                out[f.name] = _encode(v)
        return out
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, dict) and "node" in value:
        name = value["node"]
        cls = _CLASSES.get(name)
        if cls is None:
            raise ValueError(f"unknown node type {name!r} in graph JSON")
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name not in value:
                continue
            v = value[f.name]
            if f.name == "loc":
                kwargs["loc"] = Loc(SourceFile(v["file"], ""), v["line"], v["col"], v.get("end_line"),
                                    v.get("end_col"))
            elif (name, f.name) in _EXPR_FIELDS:
                kwargs[f.name] = None if v is None else E.from_json(v)
            else:
                kwargs[f.name] = _decode(v)
        return cls(**kwargs)
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    return value


def graph_hash(g: ir.Graph) -> str:
    """A SHA-256 of the graph's structure and parameters: what decides its results. Not hashed:
    source locations, the ``train`` block, the lanes (the hardware block's and the layers' own),
    the hardware block's ``clock`` and ``device`` -- they change no result, so two models with the
    same hash accept the same weights."""
    return _hash(g, _LAYER_LANES | _DISPLAY_ONLY | _HARDWARE_ONLY)


def graph_hashes(g: ir.Graph) -> set[str]:
    """The hashes a weights file made for ``g`` may carry: :func:`graph_hash`, and the hash of
    the versions before 2026-12-02, which also covered the hardware block's lanes, clock and device
    (weights saved then load without a warning)."""
    return {graph_hash(g), _hash(g, _LAYER_LANES | _DISPLAY_ONLY)}


def _hash(g: ir.Graph, unhashed: set) -> str:
    data = _encode(dataclasses.replace(g, train=None))
    _strip(data, unhashed)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _strip(data, unhashed: set) -> None:
    """Remove, in place, locations and the (node, field) pairs ``unhashed``."""
    if isinstance(data, dict):
        data.pop("loc", None)
        for node, name in unhashed:
            if data.get("node") == node:
                data.pop(name, None)
        for v in data.values():
            _strip(v, unhashed)
    elif isinstance(data, list):
        for v in data:
            _strip(v, unhashed)


# ------------------------------------------------------------------ summaries and text dumps


def summary(g: ir.Graph) -> dict:
    layers = []
    for layer in g.layers:
        layers.append({
            "name": layer.name, "op": _op_name(layer), "source": layer.source,
            "shape": list(layer.shape),
            "neuron": ir.neuron_kind(layer.neuron) if hasattr(layer, "neuron") else None,
            "parameters": ir.parameter_count(layer),
        })
    return {
        "model": g.name,
        "dt_s": g.time.dt, "steps": g.time.steps,
        "inputs": [{"name": i.name, "shape": list(i.shape),
                    "encoding": type(i.encoding).__name__.lower()} for i in g.inputs],
        "layers": layers,
        "outputs": [{"layer": o.source, "readout": o.readout} for o in g.outputs],
        "neurons": sum(_size(l.shape) for l in g.layers if not isinstance(l, ir.Flatten)),
        "parameters": sum(ir.parameter_count(l) for l in g.layers),
        "hash": graph_hash(g),
    }


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _op_name(layer) -> str:
    if isinstance(layer, ir.Pool):
        return f"{layer.mode}pool"
    return type(layer).__name__.lower()


def summary_text(g: ir.Graph) -> str:
    s = summary(g)
    lines = [f"model {s['model']}: {len(g.inputs)} input(s), {len(g.layers)} layer(s), "
             f"{s['neurons']} neurons, {s['parameters']} parameters, "
             f"{g.time.steps} steps of {Quantity(g.time.dt, TIME)}"]
    names = [i["name"] for i in s["inputs"]] + [l["name"] for l in s["layers"]]
    wn = max([14] + [len(n) for n in names])
    ws = max([14] + [len(_shape(l["shape"])) for l in s["inputs"] + s["layers"]])
    wk = max([10] + [len(l["neuron"] or "-") for l in s["layers"]])
    for i in s["inputs"]:
        lines.append(f"  input  {i['name']:<{wn}} {_shape(i['shape']):<{ws}} {i['encoding']}")
    for l in s["layers"]:
        neuron = l["neuron"] or "-"
        lines.append(f"  layer  {l['name']:<{wn}} {_shape(l['shape']):<{ws}} {l['op']:<10} "
                     f"{neuron:<{wk}} {l['parameters']:>8} params  <- {l['source']}")
    for o in s["outputs"]:
        lines.append(f"  output {o['layer']:<{wn}} {o['readout']}")
    return "\n".join(lines)


def _shape(shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def dump(g: ir.Graph) -> str:
    """The typed graph as readable text: every node with its type and resolved parameters."""
    lines = [f"graph {g.name}  # hash {graph_hash(g)[:16]}",
             f"  time dt={Quantity(g.time.dt, TIME)} steps={g.time.steps}"]
    for i in g.inputs:
        lines.append(f"  %{i.name}: spikes{_shape(i.shape)} = input {_fields(i.encoding)}")
    for layer in g.layers:
        attrs = {f.name: getattr(layer, f.name) for f in dataclasses.fields(layer)
                 if f.name not in ("name", "source", "in_shape", "neuron", "loc")}
        text = ", ".join(f"{k}={_val(v)}" for k, v in attrs.items() if v is not None)
        args = f"%{layer.source}: spikes{_shape(layer.in_shape)}" + (f", {text}" if text else "")
        lines.append(f"  %{layer.name}: spikes{_shape(layer.shape)} = {_op_name(layer)}({args})")
        if hasattr(layer, "neuron"):
            lines.extend("      " + line for line in _neuron_text(layer.neuron, g.hardware))
        shapes = ir.weight_shapes(layer)
        if shapes:
            lines.append("      weights " + ", ".join(f"{k}{_shape(v)}" for k, v in shapes.items()))
    for o in g.outputs:
        lines.append(f"  output %{o.source} readout={o.readout}")
    if g.train is not None:
        lines.append(f"  train {_fields(g.train)}")
    if g.hardware is not None:
        lines.append(f"  hardware {_fields(g.hardware)}")
    return "\n".join(lines)


def _neuron_text(n: ir.Neuron, hardware: ir.HardwareSpec | None) -> list[str]:
    if not isinstance(n, ir.CustomNeuron):
        return [f"neuron {_fields(n, _defaults_shown(n, hardware))}"]
    kinds = dict(n.param_kinds or ())
    out = [f"neuron {n.name}(" + ", ".join(f"{k}={_param_text(v, kinds.get(k))}"
                                           for k, v in n.params) + ")"]
    for s in n.states:
        out.append(f"  state {s.name} = {E.to_text(s.init)}")
    for a in n.update:
        out.append(f"  update {a.target} = {E.to_text(a.value)}")
    out.append(f"  spike when {E.to_text(n.spike)}"
               + (f" emit {E.to_text(n.emit)}" if n.emit is not None else ""))
    for a in n.on_spike:
        out.append(f"  on spike {a.target} = {E.to_text(a.value)}")
    return out


_KIND_DIMS = {"time": TIME, "frequency": FREQUENCY, "voltage": VOLTAGE}


def _param_text(v: float, kind: str | None) -> str:
    """A user neuron's parameter: with its unit where it has one (SI in the graph: 0.02 s is 20 ms)."""
    if kind in _KIND_DIMS and v != 0:
        return str(Quantity(v, _KIND_DIMS[kind]))
    return f"{v:g}"


def _defaults_shown(n: ir.Neuron, hardware: ir.HardwareSpec | None) -> dict:
    """A built-in neuron's parameters left to a default elsewhere (None in the graph), as the text
    ``--dump`` prints for them: the value they take and where from."""
    shown = {}
    if getattr(n, "leak", "") is None:
        shown["leak"] = (f"{hardware.decay} (the hardware block's decay)" if hardware is not None
                         else f"{ir.HardwareSpec.decay} (the default decay)")
    if isinstance(n, ir.ASN) and n.tau_eta is None:
        shown["tau_eta"] = f"{_val(n.tau_beta, 'tau_beta')} (tau_beta)"
    return shown


def _fields(obj, shown: dict | None = None) -> str:
    shown = shown or {}
    parts = [f"{f.name}={shown.get(f.name) or _val(getattr(obj, f.name), f.name)}"
             for f in dataclasses.fields(obj) if f.name != "loc"]
    return f"{type(obj).__name__}(" + ", ".join(parts) + ")"


def _val(v, name: str = "") -> str:
    if isinstance(v, float) and (name.startswith("tau") or name == "dt"):
        return str(Quantity(v, TIME))
    if isinstance(v, float) and name == "clock":
        return str(Quantity(v, FREQUENCY))
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, ir.Surrogate):
        return f"{v.name}(" + ", ".join(f"{k}={x:g}" for k, x in v.params) + ")"
    if isinstance(v, tuple):
        return "(" + ", ".join(_val(x) for x in v) + ")"
    return str(v)
