"""Invariants of a typed graph, checked by ``Graph.verify()``.

The builder only produces graphs that pass; ``verify`` guards graphs that come from elsewhere (JSON,
passes, hand-built tests). A violation is an SnnError located at the node at fault when it has a
location.
"""
from __future__ import annotations

from snnc import expr as E
from snnc import ir
from snnc.errors import SnnError, SnnErrors


def verify_graph(g: ir.Graph) -> None:
    errors: list[SnnError] = []

    def bad(node, msg):
        errors.append(SnnError(getattr(node, "loc", None), msg))

    if not g.name:
        bad(g, "graph has no name")
    if not (g.time.dt > 0) or g.time.steps < 1:
        bad(g, f"time step dt and steps must be positive (dt={g.time.dt}, steps={g.time.steps})")
    shapes: dict[str, tuple[int, ...] | None] = {}
    for inp in g.inputs:
        if inp.name in shapes:
            bad(inp, f"duplicate name '{inp.name}'")
        if not inp.shape or any(d < 1 for d in inp.shape):
            bad(inp, f"input '{inp.name}' has an invalid shape {inp.shape}")
        if not isinstance(inp.encoding, (ir.Rate, ir.Latency, ir.Delta, ir.Direct)):
            bad(inp, f"input '{inp.name}' has an unknown encoding {type(inp.encoding).__name__}")
        shapes[inp.name] = inp.shape
    for layer in g.layers:
        if layer.name in shapes:
            bad(layer, f"duplicate name '{layer.name}'")
            continue
        # a layer whose source is missing or of another shape is still checked and declared
        # (with the shape it says), so the layers after it report their own faults only
        if layer.source not in shapes:
            bad(layer, f"layer '{layer.name}' reads '{layer.source}', which is not declared before it")
        elif shapes[layer.source] is not None and tuple(shapes[layer.source]) != tuple(layer.in_shape):
            bad(layer, f"layer '{layer.name}' expects input shape {list(layer.in_shape)} but "
                       f"'{layer.source}' has shape {list(shapes[layer.source])}")
        _verify_layer(layer, bad)
        if layer.source in shapes:
            _verify_graded(g, layer, bad)
        try:
            shapes[layer.name] = layer.shape
        except (ValueError, TypeError):   # conv2d or pool on a non-3-D input (reported): a shape
            shapes[layer.name] = None     # its readers are not compared with
    if not g.outputs:
        bad(g, "graph has no outputs")
    layer_names = {l.name for l in g.layers}
    for out in g.outputs:
        if out.source not in layer_names:
            bad(out, f"output reads '{out.source}', which is not a layer")
        if out.readout not in ir.READOUTS:
            bad(out, f"unknown readout '{out.readout}'")
    if errors:
        raise SnnErrors(errors)


def _verify_layer(layer: ir.Layer, bad) -> None:
    if isinstance(layer, (ir.Dense, ir.Recurrent)):
        if len(layer.in_shape) != 1 or layer.units < 1:
            bad(layer, f"layer '{layer.name}' needs a 1-D input and at least one unit")
    elif isinstance(layer, (ir.Conv2d, ir.Pool)):
        if len(layer.in_shape) != 3:
            bad(layer, f"layer '{layer.name}' needs a 3-D input [channels, height, width], not "
                       f"{list(layer.in_shape)}")
        elif any(d < 1 for d in layer.shape):
            bad(layer, f"layer '{layer.name}' has an invalid geometry: input {list(layer.in_shape)}, "
                       f"output {list(layer.shape)}")
        if isinstance(layer, ir.Pool) and layer.mode not in ("sum", "avg"):
            bad(layer, f"pool layer '{layer.name}' has unknown mode '{layer.mode}'")
    elif isinstance(layer, ir.Flatten):
        return
    else:
        raise TypeError(f"unknown layer type {type(layer).__name__}")
    if layer.delay < 0:
        bad(layer, f"layer '{layer.name}' has a negative delay")
    _verify_neuron(layer, layer.neuron, bad)


def _verify_neuron(layer, n: ir.Neuron, bad) -> None:
    if isinstance(n, (ir.IF, ir.LIF, ir.CubaLIF, ir.ALIF)):
        if n.reset not in ir.RESETS:
            bad(layer, f"layer '{layer.name}': unknown reset '{n.reset}'")
        if not n.threshold > 0:
            bad(layer, f"layer '{layer.name}': threshold must be positive")
        if n.refractory < 0:
            bad(layer, f"layer '{layer.name}': refractory steps must not be negative")
        for tau in ("tau_mem", "tau_syn", "tau_adapt"):
            if hasattr(n, tau) and not getattr(n, tau) > 0:
                bad(layer, f"layer '{layer.name}': {tau} must be positive")
    elif isinstance(n, ir.ASN):
        if not n.threshold > 0:
            bad(layer, f"layer '{layer.name}': threshold must be positive")
        if not n.m_f >= 0:
            bad(layer, f"layer '{layer.name}': m_f must not be negative")
        for tau in ("tau_beta", "tau_gamma", "tau_eta"):
            v = getattr(n, tau)
            if v is not None and not v > 0:
                bad(layer, f"layer '{layer.name}': {tau} must be positive")
        if n.leak is not None and n.leak not in ir.LEAKS:
            bad(layer, f"layer '{layer.name}': unknown leak '{n.leak}'")
    elif isinstance(n, ir.ReLU):
        pass
    elif isinstance(n, ir.CustomNeuron):
        params = {p for p, _ in n.params}
        states = {s.name for s in n.states}
        for a in n.update + n.on_spike:
            if a.target not in states:
                bad(layer, f"neuron '{n.name}' assigns to unknown state '{a.target}'")
        exprs = [a.value for a in n.update + n.on_spike] + [n.spike] + [s.init for s in n.states]
        exprs += [n.emit] if n.emit is not None else []
        for e in exprs:
            for r in E.refs(e):
                known = {"param": params, "state": states, "input": {"input"}, "dt": {"dt"},
                         "height": {"height"} if n.emit is not None else set()}
                if r.name not in known.get(r.kind, ()):
                    bad(layer, f"neuron '{n.name}' reads unknown {r.kind} '{r.name}'")
    else:
        raise TypeError(f"unknown neuron type {type(n).__name__}")


def _verify_graded(g: ir.Graph, layer: ir.Layer, bad) -> None:
    """Graded events (ASN heights, ReLU values) feed dense and conv2d layers only; graded neurons
    do not sit in recurrent layers (their self-connection would carry payloads)."""
    neuron = getattr(layer, "neuron", None)
    if isinstance(layer, ir.Recurrent) and ir.is_graded(neuron):
        kind = ir.neuron_kind(neuron)
        article = "an" if kind[:1].upper() in "AEIOU" else "a"
        bad(layer, f"layer '{layer.name}': {article} {kind} neuron cannot be used in a "
                   "recurrent layer (use dense)")
    if isinstance(layer, (ir.Recurrent, ir.Pool)):
        try:
            src = g.node(layer.source)
        except KeyError:
            return
        if g.held(layer.source):
            bad(layer, f"layer '{layer.name}' reads the held input '{_owner(g, layer.source)}' "
                       "(direct(hold = true)); only dense and conv2d layers keep their "
                       "accumulators from step to step (use hold = false)")
            return
        if not isinstance(src, ir.Input) and g.graded(layer.source) == "membrane":
            bad(layer, f"layer '{layer.name}' reads the graded events of '{layer.source}' "
                       f"({ir.neuron_kind(g.node(_owner(g, layer.source)).neuron)}); only dense "
                       "and conv2d layers accept graded events")


def _owner(g: ir.Graph, name: str) -> str:
    node = g.node(name)
    while isinstance(node, ir.Flatten):
        node = g.node(node.source)
    return node.name
