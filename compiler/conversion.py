"""The conversion of a trained ReLU network (:class:`snnc.ann.Ann`) to a spiking model:
the model text and its weights (``convert``), as ``snnc convert`` writes them.

Two targets, one module each: ``--to asn`` (default; adaptive spiking neurons, sigma-delta
coding, thresholds calibrated on the training data) in :mod:`snnc.conversion_asn`, ``--to
if-rate`` (rate-coded IF with data-based weight normalisation, for comparison) in
:mod:`snnc.conversion_if`; their docstrings say how. This module holds the options, their
bounds (which ``snnc convert``'s option types check too) and the checks of the data, and
dispatches; :mod:`snnc.conversion_text` writes the model text and picks the fixed-point formats.

Writes ``DIR/model.snn`` and ``DIR/weights.npz``, ready for ``snnc simulate`` and ``snnc verify``.
Fixed-point formats are chosen from the weights' range (``--weight-bits`` wide) and, with a data
set, from the activations' range; every choice is written as a comment in the model file.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from snnc.ann import Ann
from snnc.conversion_asn import to_asn
from snnc.conversion_if import to_if
from snnc.conversion_text import Converted, ms_text
from snnc.errors import SnnError
from snnc.fixedpoint import COEF_FRAC
from snnc.types import MAX_FIXED_WIDTH

__all__ = ["Options", "Converted", "check_options", "convert"]


@dataclass
class Options:
    to: str = "asn"
    steps: int | None = None
    dt: float = 1e-3
    tau_beta: float = 0.03                  # --tau-beta 30 ms (snnc.conversion_asn)
    input_tau_beta: float | None = None     # None: conversion_asn.input_tau
    threshold: float | None = None
    m_f: float = 4.0
    tau_gamma: float = 0.002                # --tau-gamma 2 ms (snnc.conversion_asn)
    percentile: float = 99.9
    calibrate: int = 2000
    tolerance: float = 0.5
    agreement: float = 98.0
    input: str = "auto"
    hold: bool = True               # a direct input sends its values' changes (--no-hold)
    weight_bits: int = 12
    state_bits: int = 16


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
    return (f"must be from {ms_text(lo)} to {ms_text(hi)} ms (dt / {1 / MIN_TAU_STEPS:g} to "
            f"{MAX_TAU_STEPS} dt, dt = {ms_text(dt)} ms: a longer one's decay exp(-dt/tau) rounds "
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


# ====================================================================== conversion


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
        result = to_asn(ann, opts, acts, x_data, y_data)
    elif acts is None:
        raise SnnError(None, "--to if-rate needs a data set for the weight normalisation",
                       "pass --dataset digits (or the ANN's training data)")
    else:
        result = to_if(ann, opts, acts, x_data)
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
