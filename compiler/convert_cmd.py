"""``snnc convert``: turn a trained ReLU network (an ANN) into a spiking model plus its weights.

    snnc convert ANN (.snn with --weights W | .pt) [--to asn|if-rate] [--dataset NAME]
                 [--steps N] [--tau-beta T] [--threshold θ0] [--m-f M] [--tau-gamma T]
                 [--percentile P] [--weight-bits B] --out DIR [--json]

The ANN is either a ``.snn`` model whose dense / conv2d layers use the ``relu`` neuron (the last
layer's ``membrane`` readout being the logits; flatten layers allowed) with its weights file, or a
PyTorch ``state_dict`` (``.pt``) of an ``nn.Sequential`` of ``Linear`` layers with a ReLU after
every one but the last (a state_dict does not record the ReLUs: that is assumed).

``--to asn`` (default) gives adaptive spiking neurons (docs/semantics.md): a neuron's input current
``U = b U + W h_in`` decodes its inputs' graded spikes with the kernel ``b = exp(-dt/tau_beta)``,
and the self-prediction ``P`` of every upstream neuron decays with the same kernel (``tau_eta =
tau_beta``), so ``U = W P_in`` exactly, and ``P`` tracks ``max(U, 0)``: a layer computes the ANN's
ReLU layer. The weights carry over unchanged; what enters every step instead of through spikes --
the biases and the input values -- is integrated by the kernel to ``1 / (1 - b)`` times itself, so
both are multiplied by ``1 - b`` (``direct(scale = s (1 - b))``). The output layer's ``membrane`` readout (``U`` summed over the
steps) approximates the ANN's logits times the number of steps.

``--to if-rate`` gives rate-coded IF neurons (``rate`` input, subtractive reset, threshold 1,
``count`` readout) with data-based weight normalisation (Diehl et al. 2015; Rueckauer et al. 2017):
with ``lambda_l`` the ``--percentile`` (default 99.9) of layer ``l``'s ReLU activations on the
training data (``lambda_0 = 1`` for the inputs in [0, 1]), ``W_l <- W_l lambda_{l-1} / lambda_l``
and ``b_l <- b_l / lambda_l``.

Writes ``DIR/model.snn`` and ``DIR/weights.npz``, ready for ``snnc simulate`` and ``snnc verify``.
Fixed-point formats are chosen from the weights' range (``--weight-bits`` wide) and, with a data
set, from the activations' range; every choice is written as a comment in the model file.
"""
from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from snnc import ir
from snnc.errors import SnnError, SnnErrors


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
            layers.append(AnnLayer(layer.name, "dense", w, b, units=layer.units))
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


def ann_from_state_dict(path: str) -> Ann:
    """The ANN of a torch ``state_dict`` of an ``nn.Sequential`` of ``Linear`` (and ReLU) layers."""
    import torch

    where = None                      # a binary file: the messages name it
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a corrupt or non-torch file
        raise SnnError(where, f"cannot read '{path}' as a torch state_dict: {exc}") from None
    if not isinstance(sd, dict) or not sd:
        raise SnnError(where, f"'{path}' does not hold a state_dict (a dict of tensors)")
    groups: dict[int, dict[str, np.ndarray]] = {}
    for key, value in sd.items():
        prefix, _, tensor = str(key).rpartition(".")
        if not prefix.isdigit() or tensor not in ("weight", "bias"):
            raise SnnError(where, f"state_dict entry '{key}' is not '<index>.weight' or "
                                  "'<index>.bias' of an nn.Sequential")
        groups.setdefault(int(prefix), {})[tensor] = np.asarray(value.detach().cpu().numpy(),
                                                                 dtype=np.float64)
    layers = []
    prev = None
    for i, index in enumerate(sorted(groups)):
        g = groups[index]
        w = g.get("weight")
        if w is None or w.ndim != 2:
            kind = "Conv2d" if w is not None and w.ndim == 4 else "this module"
            raise SnnError(where, f"module {index} of '{path}': only Linear layers can be converted "
                                  f"from a state_dict ({kind} needs the input geometry; write the "
                                  "network as a .snn model instead)")
        if prev is not None and w.shape[1] != prev:
            raise SnnError(where, f"module {index} of '{path}' takes {w.shape[1]} inputs, but the "
                                  f"layer before it has {prev} outputs")
        prev = w.shape[0]
        layers.append(AnnLayer(f"fc{i + 1}", "dense", w, g.get("bias"), units=w.shape[0]))
    layers[-1].relu = False
    name = os.path.splitext(os.path.basename(path))[0]
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "ann"
    if name[0].isdigit():
        name = "ann_" + name
    return Ann(name, "x", (layers[0].weight.shape[1],), 1.0, layers,
               notes=["a ReLU is assumed after every Linear layer but the last"])


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


@dataclass
class Options:
    to: str = "asn"
    steps: int | None = None
    dt: float = 1e-3
    tau_beta: float = 0.02
    threshold: float | None = None
    m_f: float = 0.5
    tau_gamma: float = 0.015
    percentile: float = 99.9
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
        return f"layer {layer.name} = dense({src}, {layer.units}{bias}) with {neuron}"
    k, s, p = layer.kernel, layer.stride, layer.padding
    return (f"layer {layer.name} = conv2d({src}, {layer.units}, kernel = [{k[0]}, {k[1]}], "
            f"stride = [{s[0]}, {s[1]}], padding = [{p[0]}, {p[1]}]{bias}) with {neuron}")


def _g(v: float) -> str:
    return repr(float(v))


def convert(ann: Ann, opts: Options, x_data: np.ndarray | None = None) -> Converted:
    """Convert ``ann``; ``x_data`` (training samples) sets the formats (ASN) or the normalisation
    (IF, required there)."""
    if opts.to not in ("asn", "if-rate"):
        raise SnnError(None, f"unknown conversion target '{opts.to}'", "use asn or if-rate")
    acts = ann.forward(x_data) if x_data is not None and len(x_data) else None
    if opts.to == "asn":
        return _to_asn(ann, opts, acts)
    if acts is None:
        raise SnnError(None, "--to if-rate needs a data set for the weight normalisation",
                       "pass --dataset digits (or the ANN's training data)")
    return _to_if(ann, opts, acts, x_data)


def _to_asn(ann: Ann, opts: Options, acts) -> Converted:
    dt, steps = opts.dt, opts.steps or 60
    b = math.exp(-dt / opts.tau_beta)
    weights: dict = {}
    max_w = 0.0
    for layer in ann.layers:
        if layer.kind == "flatten":
            continue
        t = {"weight": layer.weight.copy()}
        if layer.bias is not None:
            t["bias"] = layer.bias * (1.0 - b)       # added every step, decoded with the kernel
        weights[layer.name] = t
        max_w = max(max_w, *(float(np.abs(v).max()) for v in t.values() if v.size))
    in_scale = ann.input_scale * (1.0 - b)
    # activations and logits set the state's range: U tracks them, P overshoots by up to theta
    if acts is not None:
        max_act = max(float(np.abs(a).max()) for a in acts)
        theta0 = opts.threshold if opts.threshold is not None else _auto_threshold(acts)
        x_max = 1.0
    else:
        max_act, theta0, x_max = 64.0, opts.threshold or 0.5, 1.0
    state_w, state_f = _fmt(opts.state_bits, 2.0 * max_act + 2.0)
    w_w, w_f = _fmt(opts.weight_bits, max_w)
    in_w, in_f = _fmt(16, in_scale * x_max)
    neuron = (f"ASN(tau_beta = {opts.tau_beta * 1e3:g} ms, threshold = {_g(theta0)}, "
              f"m_f = {_g(opts.m_f)}, tau_gamma = {opts.tau_gamma * 1e3:g} ms)")
    lines = [f"# {ann.name} converted to adaptive spiking neurons by `snnc convert --to asn`.",
             f"# Decoding kernel exp(-dt/tau_beta) = {b:.6f} per step: biases and the input scale are",
             "# multiplied by 1 - b (they enter every step); the weights are the ANN's.",
             f"# Formats: weights fixed<{w_w},{w_f}> (largest |w| {max_w:.4g}), state "
             f"fixed<{state_w},{state_f}>" + (f" (largest activation {max_act:.4g})"
                                              if acts is not None else ""),
             *(f"# note: {n}" for n in ann.notes),
             f"model {ann.name}_asn",
             f"time {{ dt = {dt * 1e3:g} ms; steps = {steps} }}",
             f"input {ann.input_name}[{', '.join(map(str, ann.input_shape))}] = "
             f"direct(scale = {_g(in_scale)})"]
    src = ann.input_name
    for layer in ann.layers:
        lines.append(_layer_decl(layer, src, neuron))
        src = layer.name
    lines.append(f"output {src} = membrane            # U summed over the steps ~ steps x logits")
    if ann.dataset:
        lines.append(f"train {{ dataset = {_dataset_text(ann.dataset)} }}")
    lines.append(f"hardware {{ weights = fixed<{w_w},{w_f}>; state = fixed<{state_w},{state_f}>; "
                 f"inputs = fixed<{in_w},{in_f}> }}")
    info = {"to": "asn", "steps": steps, "threshold": theta0, "decay": b,
            "formats": {"weights": [w_w, w_f], "state": [state_w, state_f], "inputs": [in_w, in_f]}}
    return Converted("\n".join(lines) + "\n", weights, info)


def _auto_threshold(acts) -> float:
    """theta0: 1/5 of the median over hidden layers of their 99th-percentile positive activation
    (measured on digits: 1/20 doubles the spikes for the same accuracy, see docs/semantics.md)."""
    levels = []
    for a in acts[:-1]:
        pos = a[a > 0]
        if pos.size:
            levels.append(float(np.percentile(pos, 99)))
    level = float(np.median(levels)) if levels else 1.0
    return float(f"{level / 5:.3g}")


def _to_if(ann: Ann, opts: Options, acts, x_data) -> Converted:
    steps = opts.steps or 100
    lam_prev = max(1.0, float(np.max(np.asarray(x_data) * ann.input_scale)))
    weights: dict = {}
    max_w = 0.0
    lambdas = []
    a_i = 0
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
        a_i += 1
    w_w, w_f = _fmt(opts.weight_bits, max_w)
    gain = ann.input_scale / max(1.0, float(np.max(np.asarray(x_data) * ann.input_scale)))
    lines = [f"# {ann.name} converted to rate-coded IF neurons by `snnc convert --to if-rate`.",
             f"# Data-based weight normalisation: layer scales (the {opts.percentile:g}th percentile "
             "of each layer's ReLU activations) " + ", ".join(f"{v:.4g}" for v in lambdas) + ".",
             f"# Formats: weights fixed<{w_w},{w_f}> (largest |w| {max_w:.4g}).",
             *(f"# note: {n}" for n in ann.notes),
             f"model {ann.name}_if",
             f"time {{ dt = {opts.dt * 1e3:g} ms; steps = {steps} }}",
             f"input {ann.input_name}[{', '.join(map(str, ann.input_shape))}] = rate(gain = {_g(gain)})"]
    src = ann.input_name
    for layer in ann.layers:
        lines.append(_layer_decl(layer, src, "IF(threshold = 1.0, reset = subtract)"))
        src = layer.name
    lines.append(f"output {src} = count")
    if ann.dataset:
        lines.append(f"train {{ dataset = {_dataset_text(ann.dataset)} }}")
    lines.append(f"hardware {{ weights = fixed<{w_w},{w_f}>; state = fixed<16,8> }}")
    info = {"to": "if-rate", "steps": steps, "lambdas": lambdas,
            "formats": {"weights": [w_w, w_f], "state": [16, 8]}}
    return Converted("\n".join(lines) + "\n", weights, info)


def _dataset_text(name: str) -> str:
    return name if name.isidentifier() else json.dumps(name)


# ====================================================================== the command


def register(sub) -> None:
    from snnc.simulate_cmd import positive_int

    p = sub.add_parser("convert", help="convert a trained ReLU network (ANN) to a spiking model",
                       description="Convert a trained ReLU network -- a .snn model whose layers use "
                                   "relu (with --weights) or a torch state_dict (.pt) of an "
                                   "nn.Sequential of Linear/ReLU -- to adaptive spiking neurons "
                                   "(ASN, default) or rate-coded IF neurons; writes DIR/model.snn "
                                   "and DIR/weights.npz.")
    p.add_argument("ann", metavar="ANN", help=".snn model of relu layers, or a .pt state_dict")
    p.add_argument("--weights", metavar="W", help="the ANN's weights file (for a .snn model)")
    p.add_argument("--to", choices=("asn", "if-rate"), default="asn")
    p.add_argument("--dataset", metavar="NAME",
                   help="data for the formats / normalisation and the accuracy check: digits, "
                        "mnist1d or npz:PATH (default: the ANN's train block's)")
    p.add_argument("--steps", type=positive_int, metavar="N",
                   help="time steps (default 60 for asn, 100 for if-rate)")
    p.add_argument("--tau-beta", type=float, default=20.0, metavar="MS",
                   help="ASN decoding kernel time constant in ms (default 20)")
    p.add_argument("--threshold", type=float, metavar="THETA0",
                   help="ASN resting threshold (default: from the data, else 0.5)")
    p.add_argument("--m-f", type=float, default=0.5, metavar="M",
                   help="ASN multiplicative adaptation factor (default 0.5)")
    p.add_argument("--tau-gamma", type=float, default=15.0, metavar="MS",
                   help="ASN threshold adaptation time constant in ms (default 15)")
    p.add_argument("--percentile", type=float, default=99.9, metavar="P",
                   help="IF weight normalisation percentile (default 99.9)")
    p.add_argument("--weight-bits", type=positive_int, default=12, metavar="B",
                   help="width of the weight format (default 12)")
    p.add_argument("--check", type=positive_int, default=0, metavar="N",
                   help="simulate the first N test samples with the ANN and the golden model of "
                        "the result and print both accuracies")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_convert)


def load_ann(path: str, weights_path: str | None) -> tuple[Ann, ir.Graph | None]:
    if path.endswith(".pt") or path.endswith(".pth"):
        if weights_path:
            raise SnnError(None, "--weights is for a .snn ANN; a .pt file holds its own weights")
        if not os.path.isfile(path):
            raise SnnError(None, f"cannot find '{path}'")
        return ann_from_state_dict(path), None
    from snnc.build import load
    from snnc.weights import load_weights

    graph = load(path).graph
    if not weights_path:
        raise SnnError(graph.inputs[0].loc if graph.inputs else None,
                       f"converting '{path}' needs its trained weights",
                       "pass --weights W.npz (from snnc train)")
    weights = load_weights(weights_path, graph)
    return ann_from_graph(graph, weights), graph


def cmd_convert(args) -> int:
    from snnc.build import load_text
    from snnc.weights import save_weights

    ann, graph = load_ann(args.ann, args.weights)
    opts = Options(to=args.to, steps=args.steps, tau_beta=args.tau_beta * 1e-3,
                   threshold=args.threshold, m_f=args.m_f, tau_gamma=args.tau_gamma * 1e-3,
                   percentile=args.percentile, weight_bits=args.weight_bits)
    dataset_name = args.dataset or ann.dataset
    data = None
    if dataset_name:
        data = _dataset(dataset_name, ann)
    elif args.to == "if-rate":
        raise SnnError(None, "--to if-rate needs a data set for the weight normalisation",
                       "pass --dataset NAME")
    if data is not None:
        ann.dataset = ann.dataset or dataset_name
    result = convert(ann, opts, data.x_train if data is not None else None)
    os.makedirs(args.out, exist_ok=True)
    model_path = os.path.join(args.out, "model.snn")
    weights_path = os.path.join(args.out, "weights.npz")
    snn = load_text(result.text, model_path).graph      # the result must check like any model
    with open(model_path, "w") as f:
        f.write(result.text)
    save_weights(weights_path, snn, result.weights,
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


def _dataset(name: str, ann: Ann):
    """The data set shaped for the ANN's input."""
    from snnc.build import load_text
    from snnc.datasets import load_dataset

    shape = ", ".join(map(str, ann.input_shape))
    classes = ann.layers[-1].units
    probe = load_text(f"model probe\ntime {{ dt = 1 ms; steps = 1 }}\n"
                      f"input x[{shape}] = direct\nlayer l = flatten(x)\n"
                      f"layer o = dense(l, {classes}) with relu\noutput o = membrane\n",
                      "<convert>").graph
    return load_dataset(name, probe)


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
