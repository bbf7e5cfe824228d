"""``snnc convert``: turn a trained ReLU network (an ANN) into a spiking model plus its weights.

    snnc convert ANN (.snn with --weights W | .pt [--input-shape C,H,W] [--stride S] [--padding P])
                 [--to asn|if-rate] [--dataset NAME]
                 [--steps N] [--tau-beta T] [--input-tau-beta T] [--threshold θ0] [--m-f M]
                 [--tau-gamma T] [--calibrate N] [--tolerance PTS] [--input auto|rate|direct]
                 [--percentile P] [--weight-bits B] [--check N] --out DIR [--json]

The ANN is either a ``.snn`` model whose dense / conv2d layers use the ``relu`` neuron (the last
layer's ``membrane`` readout being the logits; flatten layers allowed) with its weights file, or a
PyTorch ``state_dict`` (``.pt``) of an ``nn.Sequential`` of ``Conv2d`` and ``Linear`` layers with
a ReLU after every one but the last and a ``Flatten`` between the two kinds (a state_dict does not
record modules without parameters, nor a Conv2d's stride and padding: the ReLUs and the Flatten are
assumed, the geometry is given with ``--input-shape C,H,W``, ``--stride`` and ``--padding``).

``--to asn`` (default) gives adaptive spiking neurons (docs/semantics.md): a neuron's input current
``U = b U + W h_in`` decodes its inputs' graded spikes with the kernel ``b = exp(-dt/tau_beta)``,
and the self-prediction ``P`` of every upstream neuron decays with the same kernel (``tau_eta =
tau_beta``), so ``U = W P_in`` exactly, and ``P`` tracks ``max(U, 0)``: a layer computes the ANN's
ReLU layer. The weights carry over unchanged; what enters every step instead of through spikes --
the biases and the input values -- is integrated by the kernel to ``1 / (1 - b)`` times itself, so
both are multiplied by ``1 - b`` (``direct(scale = s (1 - b))``). The first layer decodes the
constant direct input with a shorter kernel, ``--input-tau-beta`` (default 5 ms, or ``--tau-beta``
if shorter; its self-prediction keeps ``tau_eta = --tau-beta``, its receivers' kernel): the input
re-enters every step, so the first layer's ``U`` reaches ``W x`` as ``1 - b_in^t``, which with
``b_in = exp(-dt/20 ms)`` is 5% of it after one step and 40% after ten -- the network could not
decide before about five steps. With 5 ms it is 18% after one step and 63% after five: the network
decides in about two steps, for more onset spikes (``--input-tau-beta 20`` restores the slow
start). The output layer's ``membrane`` readout (``U`` summed over the steps) approximates the
ANN's logits times the number of steps.

The neuron's defaults, ``--tau-beta 30`` ms, ``--m-f 4`` and ``--tau-gamma 2`` ms (until
2026-11-30: 20 ms, 0.5 and 15 ms), are set for few spikes at a given accuracy. A neuron's
self-prediction ``P`` loses ``1 - e`` of itself every step (``e = exp(-dt/tau_beta)``, the
receivers' kernel), which its spikes must replace: 4.9% a step with 20 ms, 3.3% with 30 ms, a third
fewer spikes to hold a steady value. The adaptation is an onset accelerator: at the onset a neuron
spikes on consecutive steps and each spike raises the next one's height by about ``1 + m_f
exp(-dt/tau_gamma)`` (3.4x with 4 and 2 ms, against 1.5x with 0.5 and 15 ms), so it reaches its
value from a fine resting threshold in a few spikes; with ``tau_gamma`` a few steps the raised
threshold is gone when the neuron, following its value, spikes only now and then, so the steady code
keeps the fine ``theta0`` (with 15 ms it stays coarser for tens of steps). In a sweep on the five
networks of docs/results_asn.md (``tau_beta`` 20-100 ms, ``m_f`` 0.5-8, ``tau_gamma`` 1-30 ms,
the calibration as it is) the fast adaptation roughly doubled the spike ratio to the rate-coded IF
network at equal accuracy on MNIST-1D and left the digits networks' within one or two steps;
the figures are in docs/results_asn.md.

ASN thresholds, per layer (with a data set; ``--threshold`` sets one for every layer instead):
hidden layer ``l`` gets ``theta0_l = level_l / d``, ``level_l`` the 99th percentile of its positive
activations on the training data; ``d`` is the smallest of 2.83, 4, 5.66, ... 64 (the
coarsest threshold, fewest spikes) for which the golden model's accuracy on the first ``--calibrate`` (2000)
training samples is at most ``--tolerance`` (0.5) points below the ANN's on them and the golden
model predicts what the ANN does on ``--agreement`` (98) percent of as many mixtures
``lam x_i + (1 - lam) x_j`` of training samples (fixed-seed pairs and ``lam``): an overfitted ANN
is right on nearly all its training samples, which therefore cannot show the precision lost near
the decision boundaries; the mixtures lie nearer them. The agreement is what the accuracy on unseen
data depends on: the two accuracies can only differ on the samples where the predictions do, and
the agreement on the mixtures predicted the agreement on the test split within about half a point
(MNIST-1D, docs/results_asn.md). Where the ANN is often wrong (58% on MNIST-1D), a disagreement
costs or wins a point about equally often, so the gap is the difference of two random counts: on
MNIST-1D (seed 1) models agreeing on 95.5-97.8% of the mixtures were 0.5 to 1.1 points below the
ANN on the test split, those agreeing on 98% or more 0.3 point at most (seed 0: -0.2 to 0.0
throughout); hence the default 98, for finer thresholds where the data needs them: more spikes, and
slower first steps (a neuron sends at most one spike per step, of its threshold's height, so a fine
threshold needs a few steps of adaptation to follow the input's onset; docs/results_asn.md).
``--tolerance`` rarely decides there: near the chosen divisor the ASN is right on about as many
training samples as the ANN. For every candidate, the layer after a hidden one gets a bias
correction: its weights times the hidden layer's mean coding
error (the time-summed self-prediction ``P`` minus the ideal ``max(a, 0)`` times the summed kernel,
from a float simulation of the ASN on the calibration samples) is subtracted from its bias -- the
sigma-delta code loses activations below ``theta/2`` and the first steps. The output layer's spikes
feed nothing (its readout is ``U``): its threshold is the top of the state range, so it stays
silent. All deterministic (fixed samples, no randomness).

``--to if-rate`` gives rate-coded IF neurons (``rate`` input, subtractive reset, threshold 1,
``count`` readout) with data-based weight normalisation (Diehl et al. 2015; Rueckauer et al. 2017):
with ``lambda_l`` the ``--percentile`` (default 99.9) of layer ``l``'s ReLU activations on the
training data (``lambda_0 = 1`` for the inputs in [0, 1]), ``W_l <- W_l lambda_{l-1} / lambda_l``
and ``b_l <- b_l / lambda_l``. The rate encoder's probabilities are clipped to [0, 1], so negative
input values would be lost: ``--input auto`` (default) makes the input ``direct`` (an analog
current into the first layer, Rueckauer et al. 2017) when the training data has negative values,
and says so on stderr; ``--input rate`` keeps rate coding and warns that they are clipped.

Writes ``DIR/model.snn`` and ``DIR/weights.npz``, ready for ``snnc simulate`` and ``snnc verify``.
Fixed-point formats are chosen from the weights' range (``--weight-bits`` wide) and, with a data
set, from the activations' range; every choice is written as a comment in the model file.
"""
from __future__ import annotations

import json
import math
import os
import pickle
import re
import sys
from dataclasses import dataclass, field

import numpy as np

from snnc import ir
from snnc.errors import SnnError, SnnErrors
from snnc.outdir import make_folder
from snnc.types import MAX_FIXED_WIDTH


# ====================================================================== the ANN


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
    """The ANN a ``.snn`` model of ReLU layers describes; located errors for what is not one."""
    errors: list[SnnError] = []
    if len(graph.inputs) != 1:
        raise SnnError(graph.inputs[1].loc if len(graph.inputs) > 1 else None,
                       "snnc convert takes a model with one input")
    inp = graph.inputs[0]
    if not isinstance(inp.encoding, ir.Direct):
        errors.append(SnnError(inp.loc, f"input '{inp.name}' of the ANN must be direct-encoded "
                                        "(its values enter the first layer)",
                               "write e.g. `input pixels[64] = direct(scale = 1.0)`"))
    if len(graph.outputs) != 1 or graph.outputs[0].readout != "membrane":
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
            errors.append(SnnError(layer.loc, f"layer '{layer.name}': snnc convert supports "
                                              "dense, conv2d and flatten layers, not "
                                              f"{type(layer).__name__.lower()}"))
            continue
        if not isinstance(layer.neuron, ir.ReLU):
            errors.append(SnnError(layer.loc, f"layer '{layer.name}' uses {ir.neuron_kind(layer.neuron)}"
                                              "; snnc convert takes an ANN whose layers use relu",
                                   "write `with relu`"))
            continue
        if layer.delay:
            errors.append(SnnError(layer.loc, f"layer '{layer.name}' has a delay; an ANN has none"))
            continue
        given = weights.get(layer.name, {})
        w = np.asarray(given["weight"], dtype=np.float64)
        b = np.asarray(given["bias"], dtype=np.float64) if layer.bias else None
        if isinstance(layer, ir.Dense):
            layers.append(AnnLayer(layer.name, "dense", w, b, units=layer.units,
                                   lanes=layer.lanes))
        else:
            layers.append(AnnLayer(layer.name, "conv2d", w, b, units=layer.channels,
                                   kernel=tuple(layer.kernel), stride=tuple(layer.stride),
                                   padding=tuple(layer.padding)))
    if errors:
        raise SnnErrors(errors) if len(errors) > 1 else errors[0]
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



def _state_tensor(value, key: str, path: str) -> np.ndarray:
    """A state_dict entry as float64 numpy, or an error naming it: a dense real floating-point
    tensor of finite values (complex values lost their imaginary part, sparse ones crashed)."""
    import torch

    if not isinstance(value, torch.Tensor):
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' is not a tensor")
    if value.layout != torch.strided:
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' is a {value.layout} tensor; "
                             "snnc converts dense tensors", "save .to_dense() tensors")
    if not value.dtype.is_floating_point:
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' has dtype "
                             f"{str(value.dtype).replace('torch.', '')}; weights are real "
                             "floating-point numbers")
    array = np.asarray(value.detach().cpu().to(torch.float64).numpy())
    bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
    if bad:
        raise SnnError(None, f"state_dict entry '{key}' of '{path}' has {bad} non-finite "
                             f"value{'s' if bad != 1 else ''} (NaN or infinity)")
    return array

def ann_from_state_dict(path: str, input_shape: tuple | None = None, stride=(), padding=()) -> Ann:
    """The ANN of a torch ``state_dict`` of an ``nn.Sequential`` of ``Conv2d`` and ``Linear``
    layers (ReLU after each but the last; a ``Flatten`` between the last Conv2d and the first
    Linear is implied). A state_dict holds no geometry: ``input_shape`` ``(C, H, W)`` is needed
    with a Conv2d, and each Conv2d's ``stride`` and ``padding`` (square) come from the lists
    (one value: every Conv2d; default PyTorch's 1 and 0)."""
    import torch

    where = None                      # a binary file: the messages name it
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
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
        if not prefix.isdigit() or tensor not in ("weight", "bias"):
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


# ====================================================================== formats


def _int_bits(max_abs: float) -> int:
    """Integer bits (sign excluded) a signed format needs to hold ``max_abs``."""
    if not max_abs > 0:
        return 0
    return max(0, int(math.floor(math.log2(max_abs))) + 1)


def _fmt(width: int, max_abs: float) -> tuple[int, int]:
    frac = max(0, width - 1 - _int_bits(max_abs))
    return width, frac


# ====================================================================== conversion


#: The first ASN layer's default kernel for the direct input (seconds): see ``input_tau``.
INPUT_TAU_BETA = 0.005


def input_tau(opts: "Options") -> float:
    """The time constant with which the first ASN layer decodes the direct input:
    ``--input-tau-beta``, by default ``INPUT_TAU_BETA`` (5 ms) or ``--tau-beta`` if that is
    shorter. The input re-enters every step, scaled by ``1 - b_in``, so the first layer's ``U``
    reaches ``W x`` as ``1 - b_in^t``: with ``tau_beta = 20 ms`` that is 5% after one step and 40%
    after ten, and the network's first decisions wait for it; with 5 ms, 18% and 87%."""
    if opts.input_tau_beta is not None:
        return opts.input_tau_beta
    return min(INPUT_TAU_BETA, opts.tau_beta)


@dataclass
class Options:
    to: str = "asn"
    steps: int | None = None
    dt: float = 1e-3
    tau_beta: float = 0.03                  # --tau-beta 30 ms (module docstring)
    input_tau_beta: float | None = None     # None: INPUT_TAU_BETA, or tau_beta if shorter
    threshold: float | None = None
    m_f: float = 4.0
    tau_gamma: float = 0.002                # --tau-gamma 2 ms (module docstring)
    percentile: float = 99.9
    calibrate: int = 2000
    tolerance: float = 0.5
    agreement: float = 98.0
    input: str = "auto"
    weight_bits: int = 12
    state_bits: int = 16


@dataclass
class Converted:
    text: str
    weights: dict
    info: dict


def _layer_decl(layer: AnnLayer, src: str, neuron: str) -> str:
    bias = ", bias = true" if layer.bias is not None else ""
    if layer.kind == "flatten":
        return f"layer {layer.name} = flatten({src})"
    if layer.kind == "dense":
        lanes = f", lanes = {layer.lanes}" if layer.lanes is not None else ""
        return f"layer {layer.name} = dense({src}, {layer.units}{bias}{lanes}) with {neuron}"
    k, s, p = layer.kernel, layer.stride, layer.padding
    return (f"layer {layer.name} = conv2d({src}, {layer.units}, kernel = [{k[0]}, {k[1]}], "
            f"stride = [{s[0]}, {s[1]}], padding = [{p[0]}, {p[1]}]{bias}) with {neuron}")


def _g(v: float) -> str:
    return repr(float(v))


def check_options(opts: Options) -> None:
    """Usage errors in the options, before any data is read."""
    if opts.to not in ("asn", "if-rate"):
        raise SnnError(None, f"unknown conversion target '{opts.to}'", "use asn or if-rate")
    from snnc.build import MAX_STEPS

    if opts.steps is not None and opts.steps > MAX_STEPS:
        raise SnnError(None, f"--steps must be at most {MAX_STEPS}, not {opts.steps}")
    if not opts.tolerance >= 0:
        raise SnnError(None, f"--tolerance must be 0 or more, not {opts.tolerance:g}")
    if not 0 <= opts.agreement <= 100:
        raise SnnError(None, f"--agreement must be a percentage (0 to 100), not {opts.agreement:g}")
    if not (opts.tau_beta > 0 and opts.tau_gamma > 0
            and (opts.input_tau_beta is None or opts.input_tau_beta > 0)):
        raise SnnError(None, "--tau-beta, --input-tau-beta and --tau-gamma must be positive")
    if not opts.m_f >= 0:
        raise SnnError(None, f"--m-f must be 0 or more, not {opts.m_f:g}")
    if opts.threshold is not None and not opts.threshold > 0:
        raise SnnError(None, f"--threshold must be positive, not {opts.threshold:g}")
    if not 0 < opts.percentile <= 100:
        raise SnnError(None, f"--percentile must be above 0 and at most 100, not "
                             f"{opts.percentile:g}")
    if not 2 <= opts.weight_bits <= MAX_FIXED_WIDTH:
        raise SnnError(None, f"--weight-bits must be between 2 and {MAX_FIXED_WIDTH}, not "
                             f"{opts.weight_bits}")


def convert(ann: Ann, opts: Options, x_data: np.ndarray | None = None,
            y_data: np.ndarray | None = None) -> Converted:
    """Convert ``ann``; ``x_data`` (training samples) sets the formats (ASN) or the normalisation
    (IF, required there)."""
    check_options(opts)
    acts = ann.forward(x_data) if x_data is not None and len(x_data) else None
    if opts.to == "asn":
        return _to_asn(ann, opts, acts, x_data, y_data)
    if acts is None:
        raise SnnError(None, "--to if-rate needs a data set for the weight normalisation",
                       "pass --dataset digits (or the ANN's training data)")
    return _to_if(ann, opts, acts, x_data)


def _to_asn(ann: Ann, opts: Options, acts, x_data=None, y_data=None) -> Converted:
    """The ASN model; with data, the per-layer thresholds are calibrated (``_calibrate``)."""
    # the largest input value sets the inputs format (1.0 without data: values in [0, 1])
    x_max = (float(np.max(np.abs(x_data))) if x_data is not None and len(x_data) else 0.0) or 1.0
    levels = _levels(ann, acts)
    if acts is not None and opts.threshold is None:
        why = _format_problem(ann, acts, opts)
        if why:
            ann, acts = _rebalanced(ann, acts, levels, why)
            levels = _levels(ann, acts)
    if opts.threshold is not None or acts is None:
        theta0 = opts.threshold if opts.threshold is not None else 0.5
        thetas = [theta0] * len(levels)
        rule = "given" if opts.threshold is not None else "default (no data)"
        return _asn_model(ann, opts, acts, thetas, {"threshold_rule": rule}, x_max=x_max)
    return _calibrate(ann, opts, acts, levels, x_data, y_data, x_max)


#: A layer whose weights the shared weights format rounds to 0 for more than this share of its
#: non-zero weights has lost its precision (``_format_problem``).
ZEROED_SHARE = 0.1


def _format_problem(ann: Ann, acts, opts: Options) -> str | None:
    """Why one weights format and one state format cannot serve the ANN's layers as they are
    scaled (None when they can): a layer's weights mostly rounded to 0 next to another layer's
    large ones, weights or activations beyond what ``--weight-bits`` / the state's bits hold."""
    layers = [l for l in ann.layers if l.kind != "flatten"]
    max_w = max(float(np.abs(t).max()) for l in layers for t in (l.weight, l.bias)
                if t is not None and t.size)
    w_w, w_f = _fmt(opts.weight_bits, max_w)
    if max_w > 2.0 ** (w_w - 1 - w_f):
        return f"the largest weight, {max_w:.4g}, does not fit {opts.weight_bits} bits"
    max_act = max(float(np.abs(a).max()) for a in acts)
    s_w, s_f = _fmt(opts.state_bits, _state_span(max_act))
    if _state_span(max_act) > 2.0 ** (s_w - 1 - s_f):
        return f"the largest activation, {max_act:.4g}, does not fit {opts.state_bits} bits"
    half = 0.5 * 2.0 ** -w_f
    for l in layers:
        w = np.abs(l.weight[l.weight != 0])
        if w.size and np.mean(w < half) > ZEROED_SHARE:
            return (f"{100 * np.mean(w < half):.0f}% of layer '{l.name}''s weights round to 0 "
                    f"in fixed<{w_w},{w_f}>, the format of the largest weight ({max_w:.4g})")
    return None


def _rebalanced(ann: Ann, acts, levels: list[float], why: str):
    """The same function with every layer's activations scaled to a level of 1 (hidden layers:
    their 99th-percentile positive activation; the output layer: its largest |logit|): layer
    ``l``'s weights times ``lambda_{l-1} / lambda_l``, its bias over ``lambda_l``. Exact for a ReLU
    network (positive scaling commutes with ReLU; the predicted class is unchanged)."""
    import dataclasses

    it = iter(levels)
    last = len(ann.layers) - 1
    prev, layers, new_acts = 1.0, [], []
    for i, (layer, a) in enumerate(zip(ann.layers, acts)):
        if layer.kind == "flatten":
            layers.append(layer)
            new_acts.append(a / prev)
            continue
        lam = (float(np.abs(a).max()) or 1.0) if i == last else next(it)
        layers.append(dataclasses.replace(
            layer, weight=layer.weight * (prev / lam),
            bias=None if layer.bias is None else layer.bias / lam))
        new_acts.append(a / lam)
        prev = lam
    note = (f"layers rebalanced to activations of about 1 ({why}); the same function, as a ReLU "
            "network computes it for any positive scale of a layer")
    return dataclasses.replace(ann, layers=layers, notes=[*ann.notes, note]), new_acts


def _state_span(max_act: float) -> float:
    """The largest value the ASN's state format must hold: activations and logits set it (U
    tracks them, P overshoots by up to theta)."""
    return 2.0 * max_act + 2.0


def _levels(ann: Ann, acts) -> list[float]:
    """Per hidden (non-flatten, non-output) layer: the 99th percentile of its positive activations
    on the training data (1.0 without data)."""
    out = []
    hidden = [i for i, l in enumerate(ann.layers[:-1]) if l.kind != "flatten"]
    for i in hidden:
        pos = acts[i][acts[i] > 0] if acts is not None else np.zeros(0)
        out.append(float(np.percentile(pos, 99)) if pos.size else 1.0)
    return out


def _asn_model(ann: Ann, opts: Options, acts, thetas: list[float], extra: dict,
               bias_fix: dict | None = None, x_max: float = 1.0) -> Converted:
    """The ASN model text and weights with resting threshold ``thetas[i]`` for the i-th hidden
    layer; the output layer gets the largest threshold the state format holds (see below)."""
    dt, steps = opts.dt, opts.steps or 60
    b = math.exp(-dt / opts.tau_beta)
    tau_in = input_tau(opts)
    b_in = math.exp(-dt / tau_in)
    first = next(l.name for l in ann.layers if l.kind != "flatten")
    weights: dict = {}
    max_w = 0.0
    for layer in ann.layers:
        if layer.kind == "flatten":
            continue
        t = {"weight": layer.weight.copy()}
        if layer.bias is not None:
            bias = layer.bias + (bias_fix or {}).get(layer.name, 0.0)
            # added every step, decoded with the layer's kernel
            t["bias"] = bias * (1.0 - (b_in if layer.name == first else b))
        weights[layer.name] = t
        max_w = max(max_w, *(float(np.abs(v).max()) for v in t.values() if v.size))
    in_scale = ann.input_scale * (1.0 - b_in)
    max_act = max(float(np.abs(a).max()) for a in acts) if acts is not None else 64.0
    # ... and a given --threshold (every layer's, the output's too) must fit it
    state_w, state_f = _fmt(opts.state_bits, max(_state_span(max_act), *thetas,
                                                 opts.threshold or 0.0))
    w_w, w_f = _fmt(opts.weight_bits, max_w)
    in_w, in_f = _fmt(16, in_scale * x_max)            # the training data's largest input fits
    for theta in thetas:
        if math.floor(theta * 2.0 ** state_f + 0.5) < 1:
            raise SnnError(None, f"the ASN threshold {theta:g} rounds to 0 in the state format "
                                 f"fixed<{state_w},{state_f}> (steps of {2.0 ** -state_f:g}, set "
                                 f"by the largest activation, {max_act:.4g})",
                           f"give a --threshold of at least {2.0 ** -state_f:g}"
                           if opts.threshold is not None else
                           "the ANN's activations span too many orders of magnitude for the "
                           "state's bits")
    # The output layer's spikes feed nothing (its readout is U); a threshold at the top of the
    # state range (2(U - P) > theta needs U above half the range, twice the largest logit seen)
    # keeps it silent without changing what is read.
    theta_out = (2 ** (state_w - 1) - 1) / 2 ** state_f
    if opts.threshold is not None:
        theta_out = opts.threshold

    def neuron(theta, name):
        if name == first and tau_in != opts.tau_beta:
            tau = (f"tau_beta = {tau_in * 1e3:g} ms, "
                   f"tau_eta = {opts.tau_beta * 1e3:g} ms")
        else:
            tau = f"tau_beta = {opts.tau_beta * 1e3:g} ms"
        return (f"ASN({tau}, threshold = {_g(theta)}, m_f = {_g(opts.m_f)}, "
                f"tau_gamma = {opts.tau_gamma * 1e3:g} ms)")

    lines = [f"# {ann.name} converted to adaptive spiking neurons by `snnc convert --to asn`.",
             f"# Decoding kernel exp(-dt/tau_beta) = {b:.6f} per step: biases and the input scale are",
             "# multiplied by 1 - b (they enter every step); the weights are the ANN's." +
             ("" if tau_in == opts.tau_beta else " The first layer decodes the"),
             *([] if tau_in == opts.tau_beta else [
                 f"# direct input with tau_beta = {tau_in * 1e3:g} ms (b = {b_in:.6f}) and "
                 f"predicts itself with tau_eta = {opts.tau_beta * 1e3:g} ms, its receivers' "
                 "kernel."]),
             f"# Formats: weights fixed<{w_w},{w_f}> (largest |w| {max_w:.4g}), state "
             f"fixed<{state_w},{state_f}>" + (f" (largest activation {max_act:.4g})"
                                              if acts is not None else ""),
             *(f"# {n}" for n in extra.get("comments", [])),
             *(f"# note: {n}" for n in ann.notes),
             f"model {ann.name}_asn",
             f"time {{ dt = {dt * 1e3:g} ms; steps = {steps} }}",
             f"input {ann.input_name}[{', '.join(map(str, ann.input_shape))}] = "
             f"direct(scale = {_g(in_scale)})"]
    src = ann.input_name
    it = iter(thetas)
    last = len(ann.layers) - 1
    for i, layer in enumerate(ann.layers):
        theta = theta_out if i == last else (None if layer.kind == "flatten" else next(it))
        lines.append(_layer_decl(layer, src, neuron(theta, layer.name) if theta is not None
                                 else ""))
        src = layer.name
    lines.append(f"output {src} = membrane            # U summed over the steps ~ steps x logits")
    if ann.dataset:
        lines.append(f"train {{ dataset = {_dataset_text(ann.dataset)} }}")
    lines.append(f"hardware {{ weights = fixed<{w_w},{w_f}>; state = fixed<{state_w},{state_f}>; "
                 f"inputs = fixed<{in_w},{in_f}> }}")
    info = {"to": "asn", "steps": steps, "input_tau_beta_ms": tau_in * 1e3, "notes": list(ann.notes),
            "thresholds": [float(t) for t in thetas],
            "output_threshold": float(theta_out), "decay": b,
            **{k: v for k, v in extra.items() if k != "comments"},
            "formats": {"weights": [w_w, w_f], "state": [state_w, state_f], "inputs": [in_w, in_f]}}
    return Converted("\n".join(lines) + "\n", weights, info)


#: Threshold divisors tried by the calibration, coarse to fine (steps of sqrt 2).
DIVISORS = (2.83, 4.0, 5.66, 8.0, 11.3, 16.0, 22.6, 32.0, 45.3, 64.0)


def mixed_samples(x_data: np.ndarray, n: int) -> np.ndarray:
    """``n`` mixtures ``lam x_i + (1 - lam) x_j`` of training samples (i, j, lam from a generator
    with a fixed seed): points between the classes, nearer the ANN's decision boundaries than the
    training samples themselves, on which an overfitted ANN is almost always right."""
    x = np.asarray(x_data, dtype=np.float64)
    rng = np.random.default_rng(0)
    i = rng.integers(0, len(x), n)
    j = rng.integers(0, len(x), n)
    lam = rng.random((n,) + (1,) * (x.ndim - 1))
    return lam * x[i] + (1.0 - lam) * x[j]


def _calibrate(ann: Ann, opts: Options, acts, levels, x_data, y_data,
               x_max: float = 1.0) -> Converted:
    """Per-layer thresholds ``theta_l = level_l / d`` (``level_l``: layer l's 99th-percentile
    positive activation) with the smallest divisor ``d`` of ``DIVISORS`` -- the coarsest threshold,
    so the fewest spikes -- for which the golden model (with the bias correction for that ``d``)
    (1) on the first ``opts.calibrate`` training samples is at most ``opts.tolerance`` points
    below the ANN's accuracy on them (without labels: this check is skipped) and (2) agrees with
    the ANN's predictions on at least ``opts.agreement`` percent of as many ``mixed_samples``.
    Deterministic."""
    def at(d):
        return [float(f"{lv / d:.3g}") for lv in levels]

    n = min(opts.calibrate, len(x_data)) if x_data is not None else 0
    if n == 0 or not levels:
        d = 5.66
        return _asn_model(ann, opts, acts, at(d), {"threshold_rule": f"level / {d:g}",
                                                   "divisor": d}, x_max=x_max)
    x = np.asarray(x_data[:n])
    y = np.asarray(y_data[:n]) if y_data is not None else None
    ann_acc = float(np.mean(ann.predict(x) == y)) if y is not None else None
    xm = mixed_samples(x_data, n)
    ann_mixed = ann.predict(xm)
    tried = []
    chosen = None
    fixes = {}
    for d in DIVISORS:
        fixes[d] = _bias_correction(ann, opts, [a[:n] for a in acts], at(d))
        conv = _asn_model(ann, opts, acts, at(d), {}, fixes[d], x_max)
        pred, spikes = _golden_predict(conv, x)
        acc = float(np.mean(pred == y)) if y is not None else None
        agree = float(np.mean(_golden_predict(conv, xm)[0] == ann_mixed))
        tried.append({"divisor": d, "thresholds": at(d), "accuracy": acc, "agreement": agree,
                      "spikes_per_sample": spikes})
        ok_acc = acc is None or acc >= ann_acc - opts.tolerance / 100 - 1e-12
        if ok_acc and agree >= opts.agreement / 100 - 1e-12:
            chosen = d
            break
    met = chosen is not None
    d = chosen if met else DIVISORS[-1]
    cal = {"samples": n, "ann_accuracy": ann_acc, "tolerance_points": opts.tolerance,
           "agreement_percent": opts.agreement, "met": met, "tried": tried}
    comments = [f"Thresholds: per hidden layer, its 99th-percentile positive activation on the "
                f"training data / {d:g},",
                f"the coarsest divisor whose golden model is within {opts.tolerance:g} points of "
                f"the ANN's accuracy on {n} training samples",
                f"and agrees with the ANN on {opts.agreement:g}% of {n} mixed training samples" +
                ("" if met else " (NOT met: the finest divisor tried)") + ".",
                "The output layer's spikes feed nothing (its readout is U): its threshold is the "
                "top of the state range.",
                "Bias correction: each layer after a hidden one has its bias lowered by its "
                "weights times the hidden layer's",
                "mean coding error (time-summed self-prediction minus the ideal), simulated in "
                "float on the calibration samples."]
    extra = {"threshold_rule": f"level / {d:g}", "divisor": d, "calibration": cal,
             "comments": comments, "bias_correction": sorted(fixes[d])}
    if not met:
        extra["warning"] = (f"warning: no threshold tried meets the calibration targets "
                            f"({opts.tolerance:g} points of training accuracy, {opts.agreement:g}% "
                            f"agreement on mixed samples); using the finest, level / {d:g}")
    return _asn_model(ann, opts, acts, at(d), extra, fixes[d], x_max)


def _kernel_sums(opts: Options, first: bool) -> tuple[float, float]:
    """(``K_u``, ``K``): the summed step responses ``sum_t (1 - b^t)`` over the run of a layer's
    input decoding (``--input-tau-beta`` for the first layer) and of the ``--tau-beta`` kernel
    with which its receivers take their biases."""
    steps = opts.steps or 60
    b = math.exp(-opts.dt / opts.tau_beta)
    bu = math.exp(-opts.dt / (input_tau(opts) if first else opts.tau_beta))
    return (sum(1.0 - bu ** t for t in range(1, steps + 1)),
            sum(1.0 - b ** t for t in range(1, steps + 1)))


def _coding_error(a: np.ndarray, theta0: float, opts: Options, first: bool) -> np.ndarray:
    """Per neuron, the mean over samples of an ASN layer's coding error for pre-activations ``a``
    [N, ...]: the self-prediction P summed over the run, divided by ``K_u`` (``_kernel_sums``),
    minus ``max(a, 0)`` (float model of docs/semantics.md's ASN: U = b_u U + (1 - b_u) a, P decays
    with b, spike when 2 (U - P) > theta, P += theta, A += m_f theta)."""
    steps = opts.steps or 60
    b = math.exp(-opts.dt / opts.tau_beta)                       # P's decay, the receivers' kernel
    bu = math.exp(-opts.dt / (input_tau(opts) if first else opts.tau_beta))                # U's
    g = math.exp(-opts.dt / opts.tau_gamma)
    u = np.zeros_like(a)
    p = np.zeros_like(a)
    adapt = np.zeros_like(a)
    summed = np.zeros_like(a)
    for _ in range(steps):
        u = bu * u + (1.0 - bu) * a
        adapt = g * adapt
        p = b * p
        theta = theta0 + adapt
        h = np.where(2.0 * (u - p) > theta, theta, 0.0)
        p = p + h
        adapt = adapt + opts.m_f * h
        summed += p
    k_u, _ = _kernel_sums(opts, first)
    return (summed / k_u - np.maximum(a, 0.0)).mean(axis=0)


def _bias_correction(ann: Ann, opts: Options, acts, thetas: list[float]) -> dict:
    """``{layer: bias change}`` for the layer after each hidden one. Its readout sums ``W P`` (P
    summed ~ ``K_u (max(a, 0) + e)``, ``e`` the mean coding error) and its bias times ``K``; so
    the bias becomes ``(bias - W e) K_u / K``, which makes the sum ``K_u`` times the ANN's
    pre-activation (``acts``: the ANN's activations on the calibration samples)."""
    fix: dict = {}
    real = [i for i, l in enumerate(ann.layers) if l.kind != "flatten"]
    for j, (i, nxt) in enumerate(zip(real[:-1], real[1:])):
        layer = ann.layers[nxt]
        if layer.bias is None:
            continue
        err = _coding_error(acts[i], thetas[j], opts, first=(j == 0))
        delta = _linear(layer, err[None].reshape(1, *err.shape))[0]
        if delta.ndim == 3:                          # conv2d: one bias per channel
            delta = delta.mean(axis=(1, 2))
        k_u, k = _kernel_sums(opts, first=(j == 0))
        fix[layer.name] = (layer.bias - delta) * (k_u / k) - layer.bias
    return fix


def _linear(layer: AnnLayer, a: np.ndarray) -> np.ndarray:
    """The layer's weights applied to ``a`` [N, ...] (no bias)."""
    from snnc.backends.golden.synapse import conv2d

    if layer.kind == "dense":
        return a.reshape(len(a), -1) @ layer.weight.T
    return conv2d(a, layer.weight, layer.stride, layer.padding, lambda p, w: p @ w.T)


def _golden_predict(conv: Converted, x: np.ndarray) -> tuple[np.ndarray, float]:
    """The golden model's predictions for ``x`` and its spikes per sample."""
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.build import load_text
    from snnc.quantize import quantize

    q = quantize(load_text(conv.text, "<convert>").graph, conv.weights)
    preds, spikes = [], 0
    for start in range(0, len(x), 256):
        res = simulate_golden(q, x[start:start + 256],
                              sample_ids=np.arange(start, min(len(x), start + 256)))
        preds.append(np.asarray(res.predictions))
        spikes += res.totals.spikes
    return np.concatenate(preds), spikes / max(1, len(x))


def if_input(opts: Options, x_data) -> tuple[str, str | None]:
    """The IF network's input encoding and, where the data has negative values, the message to
    print: ``auto`` picks ``direct`` (the values enter the first layer as an analog current, as
    in Rueckauer et al. 2017) for signed data and ``rate`` otherwise; ``rate`` on signed data
    clips the negative values to 0 (the rate encoder's probabilities are in [0, 1])."""
    lo = float(np.min(x_data))
    if opts.input not in ("auto", "rate", "direct"):
        raise SnnError(None, f"unknown input encoding '{opts.input}'", "use auto, rate or direct")
    if lo >= 0:
        return ("rate" if opts.input == "auto" else opts.input), None
    share = float(np.mean(np.asarray(x_data) < 0))
    if opts.input == "rate":
        return "rate", (f"warning: {100 * share:.1f}% of the training data's values are negative "
                        f"(min {lo:.4g}); the rate encoder clips them to 0, so the IF network "
                        "does not see them (use --input direct or auto)")
    if opts.input == "auto":
        return "direct", (f"note: {100 * share:.1f}% of the training data's values are negative "
                          f"(min {lo:.4g}), which rate coding would clip to 0; the IF network's "
                          "input is direct (analog current into the first layer) instead "
                          "(--input rate forces rate coding)")
    return "direct", None


def _to_if(ann: Ann, opts: Options, acts, x_data) -> Converted:
    steps = opts.steps or 100
    encoding, message = if_input(opts, x_data)
    x_abs = float(np.max(np.abs(np.asarray(x_data)))) * ann.input_scale
    lam_prev = 1.0 if encoding == "direct" else max(1.0, float(np.max(np.asarray(x_data) *
                                                                        ann.input_scale)))
    weights: dict = {}
    max_w = 0.0
    lambdas = []
    for layer, a in zip(ann.layers, acts):
        if layer.kind == "flatten":
            continue
        pos = a[a > 0]
        lam = float(np.percentile(pos, opts.percentile)) if pos.size else 1.0
        lam = lam if lam > 0 else 1.0
        t = {"weight": layer.weight * (lam_prev / lam)}
        if layer.bias is not None:
            t["bias"] = layer.bias / lam
        weights[layer.name] = t
        max_w = max(max_w, *(float(np.abs(v).max()) for v in t.values() if v.size))
        lambdas.append(lam)
        lam_prev = lam
    w_w, w_f = _fmt(opts.weight_bits, max_w)
    if encoding == "direct":
        in_w, in_f = _fmt(16, x_abs)
        input_decl = f"direct(scale = {_g(ann.input_scale)})"
        in_fmt = f"; inputs = fixed<{in_w},{in_f}>"
        in_note = ("# Input: direct (the values enter the first layer as an analog current every "
                   "step; they are signed).")
    else:
        gain = ann.input_scale / max(1.0, float(np.max(np.asarray(x_data) * ann.input_scale)))
        input_decl = f"rate(gain = {_g(gain)})"
        in_fmt = ""
        in_note = "# Input: rate coded" + (" (negative values clipped to 0)." if message else ".")
    lines = [f"# {ann.name} converted to rate-coded IF neurons by `snnc convert --to if-rate`.",
             f"# Data-based weight normalisation: layer scales (the {opts.percentile:g}th percentile "
             "of each layer's ReLU activations) " + ", ".join(f"{v:.4g}" for v in lambdas) + ".",
             in_note,
             f"# Formats: weights fixed<{w_w},{w_f}> (largest |w| {max_w:.4g}).",
             *(f"# note: {n}" for n in ann.notes),
             f"model {ann.name}_if",
             f"time {{ dt = {opts.dt * 1e3:g} ms; steps = {steps} }}",
             f"input {ann.input_name}[{', '.join(map(str, ann.input_shape))}] = {input_decl}"]
    src = ann.input_name
    for layer in ann.layers:
        lines.append(_layer_decl(layer, src, "IF(threshold = 1.0, reset = subtract)"))
        src = layer.name
    lines.append(f"output {src} = count")
    if ann.dataset:
        lines.append(f"train {{ dataset = {_dataset_text(ann.dataset)} }}")
    lines.append(f"hardware {{ weights = fixed<{w_w},{w_f}>; state = fixed<16,8>{in_fmt} }}")
    info = {"to": "if-rate", "steps": steps, "lambdas": lambdas, "input": encoding,
            "formats": {"weights": [w_w, w_f], "state": [16, 8]}}
    if message:
        info["warning"] = message
    return Converted("\n".join(lines) + "\n", weights, info)


def _dataset_text(name: str) -> str:
    return name if name.isidentifier() else json.dumps(name)


# ====================================================================== the command


def register(sub) -> None:
    from snnc.argtypes import (finite_float, int_list, nonnegative_float, nonnegative_int,
                               positive_float, positive_int)

    p = sub.add_parser("convert", help="convert a trained ReLU network (ANN) to a spiking model",
                       description="Convert a trained ReLU network -- a .snn model whose layers use "
                                   "relu (with --weights) or a torch state_dict (.pt) of an "
                                   "nn.Sequential of Conv2d/Linear/ReLU -- to adaptive spiking neurons "
                                   "(ASN, default) or rate-coded IF neurons; writes DIR/model.snn "
                                   "and DIR/weights.npz.")
    p.add_argument("ann", metavar="ANN", help=".snn model of relu layers, or a .pt state_dict")
    p.add_argument("--weights", metavar="W", help="the ANN's weights file (for a .snn model)")
    p.add_argument("--input-shape", type=int_list(1, "positive"), metavar="C,H,W",
                   help="a .pt state_dict with Conv2d modules: the input's shape (channels, "
                        "height, width); a state_dict does not hold it")
    p.add_argument("--stride", type=int_list(1, "positive"), default=(), metavar="S[,S...]",
                   help="a .pt state_dict: each Conv2d's stride, one value for all or one per "
                        "Conv2d (default 1, as nn.Conv2d's)")
    p.add_argument("--padding", type=int_list(0, "0 or more"), default=(), metavar="P[,P...]",
                   help="a .pt state_dict: each Conv2d's zero padding, one value for all or one "
                        "per Conv2d (default 0, as nn.Conv2d's)")
    p.add_argument("--to", choices=("asn", "if-rate"), default="asn")
    p.add_argument("--dataset", metavar="NAME",
                   help="data for the formats / normalisation and the accuracy check: digits, "
                        "mnist1d or npz:PATH (default: the ANN's train block's)")
    p.add_argument("--steps", type=positive_int, metavar="N",
                   help="time steps (default 60 for asn, 100 for if-rate)")
    p.add_argument("--tau-beta", type=positive_float, default=Options.tau_beta * 1e3, metavar="MS",
                   help="ASN decoding kernel time constant in ms, also the self-prediction's "
                        "(default 30; longer: fewer spikes to hold a value, slower biases)")
    p.add_argument("--input-tau-beta", type=positive_float, metavar="MS",
                   help="ASN: the first layer's kernel for the direct input in ms (default 5, or "
                        "--tau-beta if shorter; its self-prediction keeps --tau-beta, its "
                        "receivers' kernel). The input enters every step scaled by 1 - b, so the "
                        "first layer reaches W x as 1 - b^t: with 20 ms 5%% after one step, with "
                        "5 ms 18%%; shorter decides sooner, with more onset spikes")
    p.add_argument("--threshold", type=positive_float, metavar="THETA0",
                   help="ASN resting threshold of every layer (default: calibrated per layer "
                        "from the data, see --calibrate; 0.5 without data)")
    p.add_argument("--m-f", type=nonnegative_float, default=Options.m_f, metavar="M",
                   help="ASN multiplicative adaptation factor (default 4: with --tau-gamma 2 "
                        "each spike at the onset makes the next one about 3.4x higher, so a "
                        "neuron reaches its value in few spikes)")
    p.add_argument("--tau-gamma", type=positive_float, default=Options.tau_gamma * 1e3, metavar="MS",
                   help="ASN threshold adaptation time constant in ms (default 2: the raised "
                        "threshold lasts through the onset's burst only, the steady code keeps "
                        "the resting threshold)")
    p.add_argument("--calibrate", type=nonnegative_int, default=2000, metavar="N",
                   help="ASN threshold calibration: per hidden layer theta0 = its 99th-percentile "
                        "positive activation on the training data / d, with d the smallest of 2.83, "
                        "4, 5.66, ... 64 (steps of sqrt 2) whose golden model is within "
                        "--tolerance points of the ANN's accuracy on the first N training samples "
                        "and agrees with the ANN on --agreement percent of N mixtures of two "
                        "training samples (nearer the decision boundaries); the next layer's bias "
                        "compensates the hidden layer's mean coding error; the output layer, read "
                        "by its membrane, is kept silent. 0: d = 5.66, no simulation and no "
                        "bias correction (default "
                        "2000; --threshold overrides)")
    p.add_argument("--tolerance", type=nonnegative_float, default=0.5, metavar="PTS",
                   help="accuracy points the calibrated ASN may lose on the calibration samples "
                        "(default 0.5)")
    p.add_argument("--agreement", type=finite_float, default=98.0, metavar="PCT",
                   help="percentage of mixed training samples on which the calibrated ASN must "
                        "predict what the ANN does (default 98: the test accuracy can only differ "
                        "on the samples where the two disagree)")
    p.add_argument("--input", choices=("auto", "rate", "direct"), default="auto",
                   help="if-rate input encoding: auto (default) = rate for data in [0, inf), "
                        "direct (analog current) when the data has negative values, which rate "
                        "coding would clip to 0")
    p.add_argument("--percentile", type=finite_float, default=99.9, metavar="P",
                   help="IF weight normalisation percentile (default 99.9)")
    p.add_argument("--weight-bits", type=positive_int, default=12, metavar="B",
                   help="width of the weight format (default 12)")
    p.add_argument("--check", type=positive_int, default=0, metavar="N",
                   help="simulate the first N test samples with the ANN and the golden model of "
                        "the result and print both accuracies")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_convert, _convert_parser=p)


def load_ann(path: str, weights_path: str | None, input_shape=None, stride=(),
             padding=()) -> tuple[Ann, ir.Graph | None]:
    if path.endswith(".pt") or path.endswith(".pth"):
        if weights_path:
            raise SnnError(None, "--weights is for a .snn ANN; a .pt file holds its own weights")
        if not os.path.isfile(path):
            raise SnnError(None, f"cannot find '{path}'")
        return ann_from_state_dict(path, input_shape, stride, padding), None
    if path.endswith(".npz") or path.endswith(".npy"):
        raise SnnError(None, f"'{path}' is a numpy file; snnc convert takes the ANN as a .snn "
                             "model (with its weights file as --weights) or a torch state_dict "
                             "(.pt)", f"snnc convert MODEL.snn --weights {path} ..."
                       if path.endswith(".npz") else None)
    if input_shape is not None or stride or padding:
        raise SnnError(None, "--input-shape, --stride and --padding are for a .pt state_dict; a "
                             ".snn ANN says its geometry itself")
    from snnc.build import load
    from snnc.weights import load_weights

    graph = load(path).graph
    if not weights_path:
        raise SnnError(None, f"converting '{path}' needs its trained weights",
                       "pass --weights W.npz (from snnc train)")
    weights = load_weights(weights_path, graph)
    return ann_from_graph(graph, weights), graph


#: Options that only one conversion target reads (argparse destinations).
TARGET_OPTIONS = {"asn": ("tau_beta", "input_tau_beta", "threshold", "m_f", "tau_gamma",
                          "calibrate", "tolerance", "agreement"),
                  "if-rate": ("input", "percentile")}


def cmd_convert(args) -> int:
    from snnc.build import load_text

    parser = args._convert_parser
    for target, dests in TARGET_OPTIONS.items():
        if target == args.to:
            continue
        given = [d for d in dests if getattr(args, d) != parser.get_default(d)]
        if given:
            parser.error(f"{', '.join('--' + d.replace('_', '-') for d in given)}: "
                         f"option{'s' if len(given) > 1 else ''} of --to {target}, not --to "
                         f"{args.to}")
    ann, graph = load_ann(args.ann, args.weights, args.input_shape, args.stride, args.padding)
    opts = Options(to=args.to, steps=args.steps, tau_beta=args.tau_beta * 1e-3,
                   input_tau_beta=(args.input_tau_beta * 1e-3
                                   if args.input_tau_beta is not None else None),
                   threshold=args.threshold, m_f=args.m_f, tau_gamma=args.tau_gamma * 1e-3,
                   percentile=args.percentile, weight_bits=args.weight_bits,
                   calibrate=args.calibrate, tolerance=args.tolerance,
                   agreement=args.agreement, input=args.input)
    check_options(opts)
    dataset_name = args.dataset or ann.dataset
    data = None
    if dataset_name:
        from snnc.datasets import require_samples

        data = _dataset(dataset_name, ann)
        require_samples(data, "train", why="the conversion measures its activations")
        if args.check:
            require_samples(data, "test", why="--check measures the test accuracy; --check 0 "
                                              "leaves it out")
    elif args.to == "if-rate":
        raise SnnError(None, "--to if-rate needs a data set for the weight normalisation",
                       "pass --dataset NAME")
    elif args.check:
        raise SnnError(None, f"--check {args.check} measures the test accuracy and needs a data "
                             "set", "pass --dataset NAME")
    elif args.threshold is None:
        print("note: no data set: the thresholds are not calibrated (every hidden layer's is "
              "0.5) and the input format assumes values in [-1, 1]; pass --dataset NAME to "
              "calibrate them", file=sys.stderr)
    if data is not None:
        ann.dataset = ann.dataset or dataset_name
    result = convert(ann, opts, data.x_train if data is not None else None,
                     data.y_train if data is not None else None)
    if result.info.get("warning"):
        print(f"snnc convert: {result.info['warning']}", file=sys.stderr)
    for note in result.info.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    model_path = os.path.join(args.out, "model.snn")
    weights_path = os.path.join(args.out, "weights.npz")
    snn = load_text(result.text, model_path).graph      # the result must check like any model
    _write_result(args.out, model_path, weights_path, result.text, snn, result.weights,
                  notes=f"converted from {os.path.basename(args.ann)} by snnc convert --to {args.to}")
    summary = {"model": model_path, "weights": weights_path, **result.info}
    if args.check and data is not None:
        summary.update(check_accuracy(ann, snn, result.weights, data, args.check))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{snn.name}: {args.to} model written to {model_path}, weights to {weights_path}")
        if "ann_accuracy" in summary:
            print(f"accuracy on {summary['samples']} test samples: ANN "
                  f"{100 * summary['ann_accuracy']:.2f}%, converted (golden) "
                  f"{100 * summary['snn_accuracy']:.2f}%, {summary['spikes_per_sample']:.1f} "
                  "spikes per sample")
    return 0


def _write_result(out: str, model_path: str, weights_path: str, text: str, snn: ir.Graph,
                  weights: dict, notes: str) -> None:
    """Write the model and its weights as a pair: a failure leaves the folder's previous pair
    (a new model beside old weights would run with the wrong weights), and no folder where the
    command created it."""
    import shutil

    from snnc.weights import save_weights

    created = not os.path.isdir(out)
    make_folder(out)
    tmp_model = f"{model_path}.tmp{os.getpid()}"
    try:
        try:
            with open(tmp_model, "w") as f:
                f.write(text)
            save_weights(weights_path, snn, weights, notes=notes)
            os.replace(tmp_model, model_path)
        finally:
            if os.path.exists(tmp_model):
                os.remove(tmp_model)
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise


def _dataset(name: str, ann: Ann):
    """The data set shaped for the ANN's input."""
    from snnc.build import load_text
    from snnc.datasets import load_dataset

    shape = ", ".join(map(str, ann.input_shape))
    classes = ann.layers[-1].units
    # a model with the ANN's input and output names, so that the data set's errors name them
    inp, out = ann.input_name, ann.layers[-1].name
    flat = "flat_" + inp + ("_" if "flat_" + inp == out else "")
    probe = load_text(f"model probe\ntime {{ dt = 1 ms; steps = 1 }}\n"
                      f"input {inp}[{shape}] = direct\nlayer {flat} = flatten({inp})\n"
                      f"layer {out} = dense({flat}, {classes}) with relu\n"
                      f"output {out} = membrane\n", "<convert>").graph
    try:
        return load_dataset(name, probe)
    except (SnnError, SnnErrors) as exc:      # located in the probe's text: no location
        errors = exc.errors if isinstance(exc, SnnErrors) else [exc]
        raise SnnErrors([SnnError(None, e.message, e.hint) for e in errors]) from None


def check_accuracy(ann: Ann, snn: ir.Graph, weights: dict, data, n: int) -> dict:
    """Test accuracy of the ANN (float) and of the converted model's golden model on ``n`` samples."""
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.quantize import quantize

    x, y = data.x_test[:n], data.y_test[:n]
    ann_acc = float(np.mean(ann.predict(x) == y))
    q = quantize(snn, weights)
    correct, spikes = 0, 0
    for start in range(0, len(x), 128):
        res = simulate_golden(q, x[start:start + 128], sample_ids=np.arange(start, start + 128)[:len(x[start:start + 128])])
        correct += int((res.predictions == y[start:start + 128]).sum())
        spikes += res.totals.spikes
    return {"samples": int(len(x)), "ann_accuracy": ann_acc, "snn_accuracy": correct / max(1, len(x)),
            "spikes_per_sample": spikes / max(1, len(x))}


if __name__ == "__main__":  # pragma: no cover
    from snnc.cli import main

    sys.exit(main(["convert", *sys.argv[1:]]))
