"""``--to if-rate`` gives rate-coded IF neurons (``rate`` input, subtractive reset, threshold 1,
``count`` readout) with data-based weight normalisation (Diehl et al. 2015; Rueckauer et al. 2017):
with ``lambda_l`` the ``--percentile`` (default 99.9) of layer ``l``'s ReLU activations on the
training data (``lambda_0 = 1`` for the inputs in [0, 1]), ``W_l <- W_l lambda_{l-1} / lambda_l``
and ``b_l <- b_l / lambda_l``. The rate encoder's probabilities are clipped to [0, 1], so negative
input values would be lost: ``--input auto`` (default) makes the input ``direct`` (an analog
current into the first layer, Rueckauer et al. 2017) when the training data has negative values,
and says so on stderr; ``--input rate`` keeps rate coding and warns that they are clipped."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from snnc.ann import Ann
from snnc.conversion_text import (Converted, dataset_text, fixed_format, layer_decl, ms_text,
                                  number_text)
from snnc.errors import SnnError

if TYPE_CHECKING:
    from snnc.conversion import Options


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


def to_if(ann: Ann, opts: Options, acts, x_data) -> Converted:
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
    w_w, w_f = fixed_format(opts.weight_bits, max_w)
    if encoding == "direct":
        in_w, in_f = fixed_format(16, x_abs)
        input_decl = (f"direct(scale = {number_text(ann.input_scale)}"
                      + (", hold = true)" if opts.hold else ")"))
        in_fmt = f"; inputs = fixed<{in_w},{in_f}>"
        in_note = ("# Input: direct (the values enter the first layer as an analog current every "
                   "step; they are signed)" + (": held, sent as their changes, which the first "
                                               "layer keeps." if opts.hold else "."))
    else:
        gain = ann.input_scale / max(1.0, float(np.max(np.asarray(x_data) * ann.input_scale)))
        input_decl = f"rate(gain = {number_text(gain)})"
        in_fmt = ""
        in_note = "# Input: rate coded" + (" (negative values clipped to 0)." if message else ".")
    lines = [f"# {ann.name} converted to rate-coded IF neurons by `snnc convert --to if-rate`.",
             f"# Data-based weight normalisation: layer scales (the {opts.percentile:g}th percentile "
             "of each layer's ReLU activations) " + ", ".join(f"{v:.4g}" for v in lambdas) + ".",
             in_note,
             f"# Formats: weights fixed<{w_w},{w_f}> (largest |w| {max_w:.4g}).",
             *(f"# note: {n}" for n in ann.notes),
             f"model {ann.name}_if",
             f"time {{ dt = {ms_text(opts.dt)} ms; steps = {steps} }}",
             f"input {ann.input_name}[{', '.join(map(str, ann.input_shape))}] = {input_decl}"]
    src = ann.input_name
    for layer in ann.layers:
        lines.append(layer_decl(layer, src, "IF(threshold = 1.0, reset = subtract)"))
        src = layer.name
    lines.append(f"output {src} = count")
    if ann.dataset:
        lines.append(f"train {{ dataset = {dataset_text(ann.dataset)} }}")
    lines.append(f"hardware {{ weights = fixed<{w_w},{w_f}>; state = fixed<16,8>{in_fmt} }}")
    info = {"to": "if-rate", "steps": steps, "notes": list(ann.notes), "lambdas": lambdas,
            "input": encoding,
            "formats": {"weights": f"fixed<{w_w},{w_f}>", "state": "fixed<16,8>",
                        **({"inputs": f"fixed<{in_w},{in_f}>"} if encoding == "direct" else {})}}
    if message:
        info["warning"] = message
    return Converted("\n".join(lines) + "\n", weights, info)
