"""``--to asn`` (default) gives adaptive spiking neurons (docs/semantics.md): a neuron's input
current ``U = b U + W h_in`` decodes its inputs' graded spikes with the kernel ``b =
exp(-dt/tau_beta)``, and the self-prediction ``P`` of every upstream neuron decays with the same
kernel (``tau_eta = tau_beta``), so ``U = W P_in`` exactly, and ``P`` tracks ``max(U, 0)``: a layer
computes the ANN's ReLU layer. The weights carry over unchanged; what enters every step instead of
through spikes -- the biases and the input values -- is integrated by the kernel to ``1 / (1 - b)``
times itself, so both are multiplied by ``1 - b`` (``direct(scale = s (1 - b))``). The first layer
decodes the constant direct input with a shorter kernel, ``--input-tau-beta`` (default 5 ms, or
``--tau-beta`` if shorter; its self-prediction keeps ``tau_eta = --tau-beta``, its receivers'
kernel): the input re-enters every step, so the first layer's ``U`` reaches ``W x`` as ``1 -
b_in^t``, which with ``b_in = exp(-dt/20 ms)`` is 5% of it after one step and 40% after ten -- the
network could not decide before about five steps. With 5 ms it is 18% after one step and 63% after
five: the network decides in about two steps, for more onset spikes (``--input-tau-beta 20``
restores the slow start). The output layer's ``membrane`` readout (``U`` summed over the steps)
approximates the ANN's logits times the number of steps.

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
activations on the training data; ``d`` is the smallest of 2.83, 4, 5.66, ... 64 (the coarsest
threshold, fewest spikes) for which the golden model's accuracy on the first ``--calibrate`` (2000)
training samples is at most ``--tolerance`` (0.5) points below the ANN's on them and the golden
model predicts what the ANN does on ``--agreement`` (98) percent of as many mixtures ``lam x_i + (1
- lam) x_j`` of training samples (fixed-seed pairs and ``lam``): an overfitted ANN is right on
nearly all its training samples, which therefore cannot show the precision lost near the decision
boundaries; the mixtures lie nearer them. The agreement is what the accuracy on unseen data depends
on: the two accuracies can only differ on the samples where the predictions do, and the agreement on
the mixtures predicted the agreement on the test split within about half a point (MNIST-1D,
docs/results_asn.md). Where the ANN is often wrong (58% on MNIST-1D), a disagreement costs or wins a
point about equally often, so the gap is the difference of two random counts: on MNIST-1D (seed 1)
models agreeing on 95.5-97.8% of the mixtures were 0.5 to 1.1 points below the ANN on the test
split, those agreeing on 98% or more 0.3 point at most (seed 0: -0.2 to 0.0 throughout); hence the
default 98, for finer thresholds where the data needs them: more spikes, and slower first steps (a
neuron sends at most one spike per step, of its threshold's height, so a fine threshold needs a few
steps of adaptation to follow the input's onset; docs/results_asn.md). ``--tolerance`` rarely
decides there: near the chosen divisor the ASN is right on about as many training samples as the
ANN. For every candidate, the layer after a hidden one gets a bias correction: its weights times the
hidden layer's mean coding error (the time-summed self-prediction ``P`` minus the ideal ``max(a,
0)`` times the summed kernel, from a float simulation of the ASN on the calibration samples) is
subtracted from its bias -- the sigma-delta code loses activations below ``theta/2`` and the first
steps. The output layer's spikes feed nothing (its readout is ``U``): its threshold is the top of
the state range, so it stays silent. All deterministic (fixed samples, no randomness)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from snnc.ann import Ann, AnnLayer
from snnc.conversion_text import (Converted, dataset_text, fits, fixed_format, layer_decl,
                                  ms_text, number_text)
from snnc.errors import SnnError

if TYPE_CHECKING:
    from snnc.conversion import Options


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


# ====================================================================== the model


def to_asn(ann: Ann, opts: Options, acts, x_data=None, y_data=None) -> Converted:
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
    w_w, w_f = fixed_format(opts.weight_bits, max_w)
    if not fits(w_w, w_f, max_w):
        return f"the largest weight, {max_w:.4g}, does not fit {opts.weight_bits} bits"
    max_act = max(float(np.abs(a).max()) for a in acts)
    s_w, s_f = fixed_format(opts.state_bits, _state_span(max_act))
    if not fits(s_w, s_f, _state_span(max_act)):
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
    state_w, state_f = fixed_format(opts.state_bits, max(_state_span(max_act), *thetas,
                                                 opts.threshold or 0.0))
    w_w, w_f = fixed_format(opts.weight_bits, max_w)
    in_w, in_f = fixed_format(16, in_scale * x_max)    # the training data's largest input fits
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
            tau = f"tau_beta = {ms_text(tau_in)} ms, tau_eta = {ms_text(opts.tau_beta)} ms"
        else:
            tau = f"tau_beta = {ms_text(opts.tau_beta)} ms"
        return (f"ASN({tau}, threshold = {number_text(theta)}, m_f = {number_text(opts.m_f)}, "
                f"tau_gamma = {ms_text(opts.tau_gamma)} ms)")

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
             *(["# The input is held (hold = true): its events carry the changes of its "
                "values, so a static input costs its synaptic operations once."]
               if opts.hold else []),
             *(f"# {n}" for n in extra.get("comments", [])),
             *(f"# note: {n}" for n in ann.notes),
             f"model {ann.name}_asn",
             f"time {{ dt = {ms_text(dt)} ms; steps = {steps} }}",
             f"input {ann.input_name}[{', '.join(map(str, ann.input_shape))}] = "
             f"direct(scale = {number_text(in_scale)}"
             + (", hold = true)" if opts.hold else ")")]
    src = ann.input_name
    it = iter(thetas)
    last = len(ann.layers) - 1
    for i, layer in enumerate(ann.layers):
        theta = theta_out if i == last else (None if layer.kind == "flatten" else next(it))
        lines.append(layer_decl(layer, src, neuron(theta, layer.name) if theta is not None
                                 else ""))
        src = layer.name
    lines.append(f"output {src} = membrane            # U summed over the steps ~ steps x logits")
    if ann.dataset:
        lines.append(f"train {{ dataset = {dataset_text(ann.dataset)} }}")
    lines.append(f"hardware {{ weights = fixed<{w_w},{w_f}>; state = fixed<{state_w},{state_f}>; "
                 f"inputs = fixed<{in_w},{in_f}> }}")
    info = {"to": "asn", "steps": steps, "input_tau_beta_ms": tau_in * 1e3,
            "notes": list(ann.notes),
            "thresholds": [float(t) for t in thetas],
            "output_threshold": float(theta_out), "decay": b,
            **{k: v for k, v in extra.items() if k != "comments"},
            "formats": {"weights": f"fixed<{w_w},{w_f}>", "state": f"fixed<{state_w},{state_f}>",
                        "inputs": f"fixed<{in_w},{in_f}>"}}
    return Converted("\n".join(lines) + "\n", weights, info)


# ====================================================================== threshold calibration


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
    from snnc.memory import chunks
    from snnc.quantize import quantize

    q = quantize(load_text(conv.text, "<convert>").graph, conv.weights)
    preds, spikes = [], 0
    for c in chunks(len(x), q.graph):
        res = simulate_golden(q, x[c], sample_ids=np.arange(c.start, c.stop))
        preds.append(np.asarray(res.predictions))
        spikes += res.totals.spikes
    return np.concatenate(preds), spikes / max(1, len(x))
