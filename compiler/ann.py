"""The trained ReLU network (an ANN) that ``snnc convert`` converts: read from a ``.snn`` model
whose dense / conv2d layers use the ``relu`` neuron (the last layer's ``membrane`` readout being the
logits; flatten layers allowed) with its weights file, or from a PyTorch ``state_dict`` (``.pt``) of
an ``nn.Sequential`` of ``Conv2d`` and ``Linear`` layers with a ReLU after every one but the last and
a ``Flatten`` between the two kinds (a state_dict does not record modules without parameters, nor a
Conv2d's stride and padding: the ReLUs and the Flatten are assumed, the geometry is given with
``--input-shape C,H,W``, ``--stride`` and ``--padding``).

:class:`Ann` is plain data plus its float forward pass (the activations the conversion measures).
"""
from __future__ import annotations

import os
import pickle
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from snnc import ir
from snnc.errors import SnnError, SnnErrors


@dataclass
class AnnLayer:
    name: str
    kind: str                         # dense, conv2d, flatten
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    relu: bool = True
    units: int = 0
    kernel: tuple = (1, 1)
    stride: tuple = (1, 1)
    padding: tuple = (0, 0)
    lanes: int | None = None          # a dense layer's own `lanes`, carried to the SNN


@dataclass
class Ann:
    name: str
    input_name: str
    input_shape: tuple
    input_scale: float
    layers: list[AnnLayer]
    dataset: str | None = None
    notes: list[str] = field(default_factory=list)
    #: warnings of reading a .snn ANN and its weights file (SnnErrors of severity "warning")
    warnings: list = field(default_factory=list)

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """The activation of every layer (the last one: the logits) for samples ``x`` [N, ...]."""
        from snnc.backends.golden.synapse import conv2d

        a = np.asarray(x, dtype=np.float64).reshape(len(x), *self.input_shape) * self.input_scale
        acts = []
        for layer in self.layers:
            if layer.kind == "flatten":
                a = a.reshape(len(a), -1)
            elif layer.kind == "dense":
                a = a.reshape(len(a), -1) @ layer.weight.T
                if layer.bias is not None:
                    a = a + layer.bias
            else:
                a = conv2d(a, layer.weight, layer.stride, layer.padding,
                           lambda p, w: p @ w.T)
                if layer.bias is not None:
                    a = a + layer.bias[:, None, None]
            if layer.relu and layer.kind != "flatten":
                a = np.maximum(a, 0.0)
            acts.append(a)
        return acts

    def predict(self, x: np.ndarray) -> np.ndarray:
        logits = self.forward(x)[-1].reshape(len(x), -1)
        return np.argmax(logits, axis=1)


def ann_from_graph(graph: ir.Graph, weights: dict) -> Ann:
    """The ANN a ``.snn`` model of ReLU layers describes; located errors for what is not one.
    ``graph``: a typed graph or a model from :func:`snnc.load`; ``weights`` are checked as
    :func:`snnc.weights.check_weights` checks them (a missing tensor was a KeyError, NaN and
    wrongly shaped weights were converted without a word)."""
    graph = getattr(graph, "graph", graph)      # a CompiledModel: no attribute 'inputs'
    if not isinstance(graph, ir.Graph):
        raise TypeError(f"ann_from_graph takes a model's graph (or a model from snnc.load), "
                        f"not {type(graph).__name__}")
    errors: list[SnnError] = []
    if len(graph.inputs) != 1:
        raise SnnError(graph.inputs[1].loc if len(graph.inputs) > 1 else None,
                       "snnc convert takes a model with one input")
    inp = graph.inputs[0]
    if not isinstance(inp.encoding, ir.Direct):
        errors.append(SnnError(inp.loc, f"input '{inp.name}' of the ANN must be direct-encoded "
                                        "(its values enter the first layer)",
                               "write e.g. `input pixels[64] = direct(scale = 1.0)`"))
    if len(graph.outputs) != 1:
        errors.append(SnnError(graph.outputs[1].loc, f"the ANN has {len(graph.outputs)} "
                                                     "outputs; snnc convert takes one, the "
                                                     "`membrane` readout of its last layer",
                               "keep one output line"))
    elif graph.outputs[0].readout != "membrane":
        out = graph.outputs[0]
        errors.append(SnnError(out.loc, "the ANN's output must be the `membrane` readout of its "
                                        "last layer (its logits)",
                               f"write `output {out.source} = membrane`"))
    last = graph.outputs[0].source
    layers: list[AnnLayer] = []
    for layer in graph.layers:
        if isinstance(layer, ir.Flatten):
            layers.append(AnnLayer(layer.name, "flatten", relu=False))
            continue
        if not isinstance(layer, (ir.Dense, ir.Conv2d)):
            kind = (f"{layer.mode}pool" if isinstance(layer, ir.Pool)     # as written
                    else type(layer).__name__.lower())
            errors.append(SnnError(layer.loc, f"layer '{layer.name}': snnc convert supports "
                                              f"dense, conv2d and flatten layers, not {kind}"))
            continue
        if not isinstance(layer.neuron, ir.ReLU):
            errors.append(SnnError(layer.loc, f"layer '{layer.name}' uses {ir.neuron_kind(layer.neuron)}"
                                              "; snnc convert takes an ANN whose layers use relu",
                                   "write `with relu`"))
            continue
        if layer.delay:
            errors.append(SnnError(layer.loc, f"layer '{layer.name}' has a delay; an ANN has none"))
            continue
        layers.append(layer)                    # made an AnnLayer once the weights are checked
    if errors:
        raise SnnErrors(errors) if len(errors) > 1 else errors[0]
    from snnc.weights import check_weights

    weights = check_weights(graph, weights)
    layers = [_ann_layer(layer, weights) if not isinstance(layer, AnnLayer) else layer
              for layer in layers]
    if not layers or layers[-1].name != last:
        raise SnnError(graph.outputs[0].loc, "the output must read the ANN's last layer")
    layers[-1].relu = False
    used = {l.source for l in graph.layers} | {last}
    for layer in graph.layers:
        if layer.name not in used:
            raise SnnError(layer.loc, f"layer '{layer.name}' does not feed the output; snnc "
                                      "convert takes a chain of layers")
    chain = [inp.name] + [l.name for l in graph.layers]
    for prev, layer in zip(chain, graph.layers):
        if layer.source != prev:
            raise SnnError(layer.loc, f"layer '{layer.name}' reads '{layer.source}', not the "
                                      f"layer before it ('{prev}'); snnc convert takes a chain")
    dataset = graph.train.dataset if graph.train is not None else None
    return Ann(graph.name, inp.name, tuple(inp.shape), float(inp.encoding.scale), layers, dataset)



def _ann_layer(layer, weights: dict) -> AnnLayer:
    """The :class:`AnnLayer` of a dense or conv2d ReLU layer, with its checked weights."""
    given = weights[layer.name]
    w = np.asarray(given["weight"], dtype=np.float64)
    b = np.asarray(given["bias"], dtype=np.float64) if layer.bias else None
    if isinstance(layer, ir.Dense):
        return AnnLayer(layer.name, "dense", w, b, units=layer.units, lanes=layer.lanes)
    return AnnLayer(layer.name, "conv2d", w, b, units=layer.channels, kernel=tuple(layer.kernel),
                    stride=tuple(layer.stride), padding=tuple(layer.padding))


def _state_tensor(value, key: str, path: str) -> np.ndarray:
    """A state_dict entry as float64 numpy, or an error naming it: a dense real floating-point
    tensor of finite values (complex values lost their imaginary part, sparse ones crashed)."""
    import torch

    if not isinstance(value, torch.Tensor):
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' is not a tensor")
    if value.is_meta:
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' is a meta tensor: it holds "
                             "no values", "save the state_dict of a model whose parameters were "
                             "materialised (not built on the 'meta' device)")
    if value.is_nested:
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' is a nested tensor; snnc "
                             "converts dense tensors")
    if value.layout != torch.strided:
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' is a {value.layout} tensor; "
                             "snnc converts dense tensors", "save .to_dense() tensors")
    if not value.dtype.is_floating_point:
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' has dtype "
                             f"{str(value.dtype).replace('torch.', '')}; weights are real "
                             "floating-point numbers")
    try:
        array = np.asarray(value.detach().cpu().to(torch.float64).numpy())
    except (RuntimeError, NotImplementedError, TypeError) as exc:
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' cannot be read as numbers "
                             f"({exc})", "save plain dense tensors") from None
    bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' has {bad} non-finite "
                             f"value{'s' if bad != 1 else ''} (NaN or infinity)")
    return array


def _torch_load(torch, path: str):
    """``torch.load`` of a state_dict. Torch's own warnings (an unusual pickle protocol, ...) are
    passed on only when the file loads: before snnc's error on a bad file they only confuse."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        sd = torch.load(path, map_location="cpu", weights_only=True)
    for w in said:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return sd


def ann_from_state_dict(path: str, input_shape: tuple | None = None, stride=(), padding=()) -> Ann:
    """The ANN of a torch ``state_dict`` of an ``nn.Sequential`` of ``Conv2d`` and ``Linear``
    layers (ReLU after each but the last; a ``Flatten`` between the last Conv2d and the first
    Linear is implied). A state_dict holds no geometry: ``input_shape`` ``(C, H, W)`` is needed
    with a Conv2d, and each Conv2d's ``stride`` and ``padding`` (square) come from the lists
    (one value: every Conv2d; default PyTorch's 1 and 0)."""
    import torch

    where = None                      # a binary file: the messages name it
    try:
        sd = _torch_load(torch, path)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):
            raise SnnError(where, f"cannot read '{path}' as a torch state_dict: it is not a file "
                                  "torch.save wrote") from None
        # weights_only refuses pickled objects: torch.save(model) rather than its state_dict
        raise SnnError(where, f"cannot read '{path}' as a torch state_dict: it holds pickled "
                              "Python objects (a whole model saved with torch.save(model)?), "
                              "which snnc does not unpickle",
                       "save the state_dict instead: torch.save(model.state_dict(), path)"
                       ) from None
    except Exception as exc:  # a corrupt or non-torch file: torch's own words, when it has any
        first = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
        detail = f" ({first[0]})" if first and len(first[0]) > 12 else ""
        raise SnnError(where, f"cannot read '{path}' as a torch state_dict: it is not a file "
                              f"torch.save wrote{detail}") from None
    if not isinstance(sd, dict) or not sd:
        raise SnnError(where, f"'{path}' does not hold a state_dict (a dict of tensors)")
    groups: dict[int, dict[str, np.ndarray]] = {}
    for key, value in sd.items():
        prefix, _, tensor = str(key).rpartition(".")
        # nn.Sequential's indices are written without leading zeros ('00.bias' and
        # '0.weight' were merged into one module)
        if not (prefix.isascii() and prefix.isdigit() and str(int(prefix)) == prefix) \
                or tensor not in ("weight", "bias"):
            raise SnnError(where, f"state_dict entry '{key}' is not '<index>.weight' or "
                                  "'<index>.bias' of an nn.Sequential")
        groups.setdefault(int(prefix), {})[tensor] = _state_tensor(value, key, path)
    for index, g in groups.items():
        w = g.get("weight")
        if w is not None and 0 in w.shape:
            raise SnnError(where, f"module {index} of '{path}' has an empty weight (shape "
                                  f"{list(w.shape)}): a layer needs at least one input and output")
    convs = sum(1 for g in groups.values() if g.get("weight") is not None
                and g["weight"].ndim == 4)
    if not convs and (stride or padding):
        raise SnnError(where, f"--{'stride' if stride else 'padding'} is for Conv2d modules, and "
                              f"'{path}' has none", "leave it out")
    geometry = {}
    for opt, values, least in (("--stride", stride, 1), ("--padding", padding, 0)):
        values = list(values or ()) or [least]          # nn.Conv2d's defaults: 1 and 0
        if len(values) not in (1, convs):
            raise SnnError(where, f"{opt} gives {len(values)} values for the {convs} Conv2d "
                                  f"modules of '{path}'", "give one value for all, or one each")
        if any(v < least for v in values):
            raise SnnError(where, f"{opt} values must be {least} or more, not "
                                  f"{','.join(str(v) for v in values)}")
        geometry[opt] = values if len(values) == convs else values * convs
    if convs and input_shape is None:
        raise SnnError(where, f"'{path}' has Conv2d modules: give the input's shape",
                       "pass --input-shape C,H,W (and --stride / --padding where they are not "
                       "1 and 0: a state_dict does not hold them)")
    shape = tuple(input_shape) if input_shape is not None else None
    first_shape = shape
    layers: list[AnnLayer] = []
    k_conv = 0
    for i, index in enumerate(sorted(groups)):
        g = groups[index]
        w, b = g.get("weight"), g.get("bias")
        mod = f"module {index} of '{path}'"
        if w is None or w.ndim not in (2, 4):
            raise SnnError(where, f"{mod}: only Conv2d and Linear layers can be converted (a "
                                  f"{'tensor' if w is None else f'{w.ndim}-D weight'} is neither)")
        if b is not None and b.shape != (w.shape[0],):
            raise SnnError(where, f"{mod}: a bias of shape {list(b.shape)} for {w.shape[0]} "
                                  "outputs")
        if w.ndim == 4:
            if any(l.kind == "dense" for l in layers):
                raise SnnError(where, f"{mod} is a Conv2d after a Linear layer; snnc convert "
                                      "takes the Conv2d layers first")
            if len(shape) != 3:
                raise SnnError(where, f"{mod} is a Conv2d: its input needs three dimensions "
                                      f"C,H,W, not {list(shape)}", "pass --input-shape C,H,W")
            if w.shape[1] != shape[0]:
                before = "the input has" if not layers else "the layer before it has"
                raise SnnError(where, f"{mod} takes {w.shape[1]} input channels, but {before} "
                                      f"{shape[0]}")
            s, p = geometry["--stride"][k_conv], geometry["--padding"][k_conv]
            k_conv += 1
            out_hw = [(shape[1 + d] + 2 * p - w.shape[2 + d]) // s + 1 for d in (0, 1)]
            if min(out_hw) < 1:
                raise SnnError(where, f"{mod}: a {w.shape[2]}x{w.shape[3]} kernel (stride {s}, "
                                      f"padding {p}) does not fit its {shape[1]}x{shape[2]} input")
            layers.append(AnnLayer(f"conv{i + 1}", "conv2d", w, b, units=w.shape[0],
                                   kernel=(w.shape[2], w.shape[3]), stride=(s, s), padding=(p, p)))
            shape = (w.shape[0], *out_hw)
            continue
        if shape is None:
            shape = first_shape = (w.shape[1],)
        if len(shape) > 1:
            layers.append(AnnLayer(f"flat{i + 1}", "flatten", relu=False))
            shape = (int(np.prod(shape)),)
        if w.shape[1] != shape[0]:
            before = ("the input has {} values" if not any(l.kind != "flatten" for l in layers)
                      else "the layer before it has {} outputs")
            raise SnnError(where, f"{mod} takes {w.shape[1]} inputs, but "
                                  + before.format(shape[0]))
        layers.append(AnnLayer(f"fc{i + 1}", "dense", w, b, units=w.shape[0]))
        shape = (w.shape[0],)
    if layers[-1].kind != "dense":
        raise SnnError(where, f"the last module of '{path}' must be a Linear layer (the logits)")
    layers[-1].relu = False
    name = os.path.splitext(os.path.basename(path))[0]
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "ann"
    if name[0].isdigit():
        name = "ann_" + name
    notes = ["a ReLU is assumed after every layer but the last"]
    if convs:
        notes.append("a Flatten is assumed between the last Conv2d and the first Linear")
    return Ann(name, "x", first_shape, 1.0, layers, notes=notes)


def _torch_file(path: str) -> bool:
    """Whether ``path`` starts as torch.save's files do (a zip archive, or the legacy pickle)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False                  # the .snn loader reports what is wrong with the path
    return head == b"PK\x03\x04" or head[:1] == b"\x80"


def load_ann(path: str, weights_path: str | None, input_shape=None, stride=(),
             padding=()) -> tuple[Ann, ir.Graph | None]:
    from snnc.argtypes import special_file

    for what, p in (("the ANN", path), ("the weights file", weights_path)):
        kind = special_file(p) if p else None
        if kind:                        # torch.load and the readers waited on a FIFO for ever
            raise SnnError(None, f"{what} '{p}' is {kind}, not a regular file")
    if path.lower().endswith((".pt", ".pth")):
        if weights_path:
            raise SnnError(None, "--weights is for a .snn ANN; a .pt file holds its own weights")
        if os.path.isdir(path):
            raise SnnError(None, f"'{path}' is a folder, not a torch state_dict file")
        if not os.path.isfile(path):
            raise SnnError(None, f"cannot find '{path}'")
        return ann_from_state_dict(path, input_shape, stride, padding), None
    if path.lower().endswith((".npz", ".npy")):
        raise SnnError(None, f"'{path}' is a numpy file; snnc convert takes the ANN as a .snn "
                             "model (with its weights file as --weights) or a torch state_dict "
                             "(.pt)", f"snnc convert MODEL.snn --weights {path} ..."
                       if path.endswith(".npz") else None)
    if input_shape is not None or stride or padding:
        raise SnnError(None, "--input-shape, --stride and --padding are for a .pt state_dict; a "
                             ".snn ANN says its geometry itself")
    from snnc.build import load
    from snnc.weights import load_weights

    if _torch_file(path):
        raise SnnError(None, f"'{path}' is a file torch.save wrote, not a .snn model",
                       "name it .pt (or .pth): snnc convert reads a torch state_dict by its "
                       "extension")
    loaded = load(path)
    graph = loaded.graph
    if not weights_path:
        raise SnnError(None, f"converting '{path}' needs its trained weights",
                       "pass --weights W.npz (from snnc train)")
    weights = load_weights(weights_path, graph)
    ann = ann_from_graph(graph, weights)
    ann.warnings = [*loaded.warnings, *weights.warnings]
    return ann, graph
