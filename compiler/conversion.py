"""The conversion of a trained ReLU network (:class:`snnc.ann.Ann`) to a spiking model:
the model text and its weights (``convert``), as ``snnc convert`` writes them.

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
import numbers
from dataclasses import dataclass

import numpy as np

from snnc.ann import Ann, AnnLayer
from snnc.errors import SnnError
from snnc.fixedpoint import COEF_FRAC
from snnc.types import MAX_FIXED_WIDTH


# ====================================================================== formats


def _int_bits(max_abs: float) -> int:
    """Integer bits (sign excluded) a signed format needs to hold ``max_abs``."""
    if not max_abs > 0:
        return 0
    return max(0, int(math.floor(math.log2(max_abs))) + 1)


def _fits(width: int, frac: int, max_abs: float) -> bool:
    """Whether ``max_abs`` rounded to ``frac`` fractional bits (a tie rounded up) is at most the
    largest value of the signed ``width``-bit format."""
    return math.floor(max_abs * 2.0 ** frac + 0.5) <= (1 << (width - 1)) - 1


def _fmt(width: int, max_abs: float) -> tuple[int, int]:
    """The signed format of ``width`` bits with the most fractional bits that holds ``max_abs``
    after rounding: 0.99995 needs 1 integer bit in 12 bits (fixed<12,10>), as it rounds to 1.0,
    beyond fixed<12,11>'s 0.99951."""
    frac = max(0, width - 1 - _int_bits(max_abs))
    while frac > 0 and not _fits(width, frac, max_abs):
        frac -= 1
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


def _ms(seconds: float) -> str:
    """A time in ms as the model text writes it: the fewest digits that read back (``30`` ms is
    ``30 * 1e-3``) as the same number of seconds (``:g``'s six lost digits: --tau-beta 12.3456789
    was written as 12.3457 ms, not the kernel the conversion computed with)."""
    ms = seconds * 1e3
    for digits in range(6, 18):
        text = f"{ms:.{digits}g}"
        if float(text) * 1e-3 == seconds:
            return text
    return repr(ms)


# ====================================================================== option bounds

#: The time constants a converted model holds, in time steps (``dt``): a longer one's decay
#: ``exp(-dt/tau)`` rounds to 1 in the 16 fractional bits of the integer semantics, a state that
#: never decays (the quantiser refuses it); below ``dt / 12`` every decay is 0 already.
MIN_TAU_STEPS = 1e-3
MAX_TAU_STEPS = 131071
#: ``m_f`` is a coefficient of ``COEF_FRAC`` (16) fractional bits: a positive one below
#: ``2^-17`` rounds to 0 (no adaptation); at most what the 32-bit parameter holds, in whole units.
MIN_M_F = 2.0 ** -(COEF_FRAC + 1)
MAX_M_F = 32767.0


def threshold_bounds(state_bits: int) -> tuple[float, float]:
    """The resting thresholds a ``state_bits`` state format can hold: from half a step of the
    finest format the conversion picks (``_state_span`` is at least 2: two integer bits) to the
    largest value of the coarsest, ``fixed<state_bits, 0>``. Within these, the data can still
    make the format coarser than a small threshold (``_asn_model`` says so)."""
    return 2.0 ** -(state_bits - 2), float(2 ** (state_bits - 1) - 1)


def threshold_problem(theta: float, state_bits: int = 16) -> str | None:
    lo, hi = threshold_bounds(state_bits)
    if lo <= theta <= hi:
        return None
    return (f"must be from {lo!r} to {hi:g} (half the finest step and the largest value of a "
            f"{state_bits}-bit state format)")


def m_f_problem(m_f: float) -> str | None:
    if m_f == 0 or MIN_M_F <= m_f <= MAX_M_F:
        return None
    return (f"must be 0, or from {MIN_M_F!r} to {MAX_M_F:g} (a coefficient of {COEF_FRAC} "
            "fractional bits: a smaller one rounds to 0)")


def tau_problem(tau: float, dt: float) -> str | None:
    """A time constant ``tau`` for the time step ``dt`` (both in seconds; the words in ms)."""
    lo, hi = MIN_TAU_STEPS * dt, MAX_TAU_STEPS * dt
    if lo <= tau <= hi:
        return None
    return (f"must be from {_ms(lo)} to {_ms(hi)} ms (dt / {1 / MIN_TAU_STEPS:g} to "
            f"{MAX_TAU_STEPS} dt, dt = {_ms(dt)} ms: a longer one's decay exp(-dt/tau) rounds "
            f"to 1 in {COEF_FRAC} fractional bits)")


def tolerance_problem(points: float) -> str | None:
    return None if 0 <= points <= 100 else "must be from 0 to 100 (accuracy points)"


def agreement_problem(percent: float) -> str | None:
    return None if 0 <= percent <= 100 else "must be a percentage (0 to 100)"


def percentile_problem(p: float) -> str | None:
    return None if 0 < p <= 100 else "must be above 0 and at most 100"


def bits_problem(bits: int) -> str | None:
    return None if 2 <= bits <= MAX_FIXED_WIDTH else f"must be between 2 and {MAX_FIXED_WIDTH}"


def steps_problem(steps: int) -> str | None:
    from snnc.values import MAX_STEPS

    return None if steps <= MAX_STEPS else f"must be at most {MAX_STEPS}"


def check_options(opts: Options) -> None:
    """Usage errors in the options, before any data is read: the bounds the command line's
    option types check too (``*_problem``), so that the model written is one the other commands
    take (a --threshold of 1e300 was written, and refused by every golden command)."""
    if opts.to not in ("asn", "if-rate"):
        raise SnnError(None, f"unknown conversion target '{opts.to}'", "use asn or if-rate")
    for name in ("dt", "tau_beta", "input_tau_beta", "threshold", "m_f", "tau_gamma",
                 "percentile", "tolerance", "agreement"):
        v = getattr(opts, name)
        if v is not None and (not isinstance(v, numbers.Real) or isinstance(v, bool)):
            flag = "the time step dt" if name == "dt" else "--" + name.replace("_", "-")
            raise SnnError(None, f"{flag} must be a number, not {v!r}")
    for flag, v in (("--steps", opts.steps), ("--calibrate", opts.calibrate),
                    ("--weight-bits", opts.weight_bits), ("state_bits", opts.state_bits)):
        if v is not None and (not isinstance(v, numbers.Integral) or isinstance(v, bool)):
            raise SnnError(None, f"{flag} must be a whole number, not {v!r}")
    if opts.steps is not None and opts.steps < 1:
        raise SnnError(None, f"--steps must be a whole number of steps, 1 or more, not "
                             f"{opts.steps!r}")
    if opts.steps is not None and steps_problem(opts.steps):
        raise SnnError(None, f"--steps {steps_problem(opts.steps)}, not {opts.steps}")
    if not (0 < opts.dt and math.isfinite(opts.dt * 1e3)):
        raise SnnError(None, f"the time step dt must be a positive number of seconds, not "
                             f"{opts.dt!r}")
    if opts.calibrate < 0:
        raise SnnError(None, f"--calibrate must be 0 or more samples, not {opts.calibrate!r}")
    if not 2 <= opts.state_bits <= MAX_FIXED_WIDTH:
        raise SnnError(None, f"state_bits must be between 2 and {MAX_FIXED_WIDTH}, not "
                             f"{opts.state_bits}")
    ms = {"--tau-beta": opts.tau_beta, "--input-tau-beta": opts.input_tau_beta,
          "--tau-gamma": opts.tau_gamma}
    for flag, tau in ms.items():
        why = tau_problem(tau, opts.dt) if tau is not None else None
        if why:
            raise SnnError(None, f"{flag} {why}, not {tau * 1e3:g} ms")
    checks = [("--threshold", opts.threshold,
               lambda v: threshold_problem(v, opts.state_bits)),
              ("--m-f", opts.m_f, m_f_problem), ("--tolerance", opts.tolerance, tolerance_problem),
              ("--agreement", opts.agreement, agreement_problem),
              ("--percentile", opts.percentile, percentile_problem),
              ("--weight-bits", opts.weight_bits, bits_problem)]
    for flag, v, problem in checks:
        why = problem(v) if v is not None else None
        if why:
            raise SnnError(None, f"{flag} {why}, not {v:g}")


def convert(ann: Ann, opts: Options, x_data: np.ndarray | None = None,
            y_data: np.ndarray | None = None) -> Converted:
    """Convert ``ann``; ``x_data`` (training samples) sets the formats (ASN) or the normalisation
    (IF, required there)."""
    check_options(opts)
    x_data, y_data = _checked_data(ann, x_data, y_data)
    acts = ann.forward(x_data) if x_data is not None and len(x_data) else None
    if opts.to == "asn":
        result = _to_asn(ann, opts, acts, x_data, y_data)
    elif acts is None:
        raise SnnError(None, "--to if-rate needs a data set for the weight normalisation",
                       "pass --dataset digits (or the ANN's training data)")
    else:
        result = _to_if(ann, opts, acts, x_data)
    never = _never_active(ann, acts)
    if never:
        result.info["notes"] = [*result.info.get("notes", []), never]
    return result


def _never_active(ann: Ann, acts) -> str | None:
    """A note naming the hidden layers without a positive activation on the training data
    (dead units: the converted layer never spikes), or None."""
    if acts is None:
        return None
    dead = [layer.name for layer, a in zip(ann.layers[:-1], acts)
            if layer.kind != "flatten" and not np.any(a > 0)]
    if not dead:
        return None
    names = ", ".join(f"'{d}'" for d in dead)
    return (f"hidden layer {names} is never active on the training data (no positive "
            "activation): the converted layer never spikes, and the layer after it sees only "
            "its bias" if len(dead) == 1 else
            f"hidden layers {names} are never active on the training data (no positive "
            "activation): the converted layers never spike")


def _checked_data(ann: Ann, x_data, y_data):
    """``x_data`` (samples that fit the ANN's input, finite) and ``y_data`` (one integer label
    per sample) as arrays, or a clear error (a numpy reshape or broadcast error before)."""
    import math

    if x_data is None:
        if y_data is not None:
            raise ValueError("labels (y_data) were given without samples (x_data)")
        return None, None
    x = np.asarray(x_data)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"x_data must be an array of numbers, not {x.dtype}")
    size = math.prod(ann.input_shape)
    if x.ndim < 1 or math.prod(x.shape[1:]) != size:
        want = f"[N, {size}]" + (f" or [N, {', '.join(map(str, ann.input_shape))}]"
                                 if len(ann.input_shape) > 1 else "")
        raise ValueError(f"x_data of shape {list(x.shape)} does not fit the ANN's input "
                         f"{list(ann.input_shape)}: expected {want}")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError("x_data holds values that are not finite numbers (nan or inf)")
    if y_data is None:
        return x, None
    y = np.asarray(y_data)
    if y.shape != (len(x),):
        raise ValueError(f"y_data must hold one label per sample, shape [{len(x)}], not "
                         f"{list(y.shape)}")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise ValueError(f"y_data must be integer labels, not {y.dtype} values")
    return x, y.astype(np.int64)


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
    if not _fits(w_w, w_f, max_w):
        return f"the largest weight, {max_w:.4g}, does not fit {opts.weight_bits} bits"
    max_act = max(float(np.abs(a).max()) for a in acts)
    s_w, s_f = _fmt(opts.state_bits, _state_span(max_act))
    if not _fits(s_w, s_f, _state_span(max_act)):
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
            tau = f"tau_beta = {_ms(tau_in)} ms, tau_eta = {_ms(opts.tau_beta)} ms"
        else:
            tau = f"tau_beta = {_ms(opts.tau_beta)} ms"
        return (f"ASN({tau}, threshold = {_g(theta)}, m_f = {_g(opts.m_f)}, "
                f"tau_gamma = {_ms(opts.tau_gamma)} ms)")

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
             f"time {{ dt = {_ms(dt)} ms; steps = {steps} }}",
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
            "formats": {"weights": f"fixed<{w_w},{w_f}>", "state": f"fixed<{state_w},{state_f}>",
                        "inputs": f"fixed<{in_w},{in_f}>"}}
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
    from snnc.memory import chunks
    from snnc.quantize import quantize

    q = quantize(load_text(conv.text, "<convert>").graph, conv.weights)
    preds, spikes = [], 0
    for c in chunks(len(x), q.graph):
        res = simulate_golden(q, x[c], sample_ids=np.arange(c.start, c.stop))
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
             f"time {{ dt = {_ms(opts.dt)} ms; steps = {steps} }}",
             f"input {ann.input_name}[{', '.join(map(str, ann.input_shape))}] = {input_decl}"]
    src = ann.input_name
    for layer in ann.layers:
        lines.append(_layer_decl(layer, src, "IF(threshold = 1.0, reset = subtract)"))
        src = layer.name
    lines.append(f"output {src} = count")
    if ann.dataset:
        lines.append(f"train {{ dataset = {_dataset_text(ann.dataset)} }}")
    lines.append(f"hardware {{ weights = fixed<{w_w},{w_f}>; state = fixed<16,8>{in_fmt} }}")
    info = {"to": "if-rate", "steps": steps, "notes": list(ann.notes), "lambdas": lambdas,
            "input": encoding,
            "formats": {"weights": f"fixed<{w_w},{w_f}>", "state": "fixed<16,8>",
                        **({"inputs": f"fixed<{in_w},{in_f}>"} if encoding == "direct" else {})}}
    if message:
        info["warning"] = message
    return Converted("\n".join(lines) + "\n", weights, info)


def _dataset_text(name: str) -> str:
    return name if name.isidentifier() else json.dumps(name)
