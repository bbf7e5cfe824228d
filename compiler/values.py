"""Constant values in a ``.snn`` file: evaluation with units, and checking against parameter specs.

Settings (``dt = 1 ms``), neuron parameters (``tau_mem = 10 ms``), layer arguments and encodings all
take constant values. :func:`const_value` evaluates an expression of literals (and ``dt``) with its
physical dimension; :class:`ParamSpec` says what a parameter accepts and :func:`coerce` converts a
written value to it, with a located error when it does not fit.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from snnc.dsl import ast
from snnc.errors import SnnError
from snnc.types import (FREQUENCY, NONE, TIME, UNITS, VOLTAGE, Fixed, Quantity, describe_dim,
                        dim_units, fixed_format_problem)


#: the largest magnitude of a model's integers (and of counts in steps): a 32-bit signed int, as
#: the Verilog `integer` parameters and the HLS `int` constants they become (2**31 wrapped there:
#: `refractory = 2147483648` became -2**31 in both, and the refractory period was gone)
MAX_INT = 2**31 - 1
#: The most time steps a model may run (`steps`, and the commands' --steps).
MAX_STEPS = 1_000_000


def did_you_mean(name: str, candidates) -> str | None:
    """A hint naming the closest candidate, if one is close enough (a candidate that differs only
    in case first: `lif` -> `LIF`, `True` -> `true`)."""
    names = sorted(set(candidates))
    same = [c for c in names if c.lower() == str(name).lower() and c != name]
    if same:
        return f"did you mean '{same[0]}'?"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def options_text(options) -> str:
    options = list(options)
    if not options:
        return ""
    return ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else options[0]


# ------------------------------------------------------------------ constant evaluation


def const_value(node: ast.Value, dt: float | None = None) -> Quantity:
    """Evaluate a constant expression (numbers, quantities, + - * /, unary minus, ``dt``)."""
    if isinstance(node, ast.Number):
        return Quantity(node.value, NONE)
    if isinstance(node, ast.QuantityLit):
        dim, factor = UNITS[node.unit]
        return Quantity(node.value * factor, dim)
    if isinstance(node, ast.Neg):
        q = const_value(node.operand, dt)
        return Quantity(-q.value, q.dim)
    if isinstance(node, ast.BinOp):
        a = const_value(node.left, dt)
        b = const_value(node.right, dt)
        if node.op in "+-":
            if a.dim != b.dim:
                verb = "add" if node.op == "+" else "subtract"
                raise SnnError(node.loc, f"cannot {verb} {describe_dim(a.dim)} and "
                                         f"{describe_dim(b.dim)}")
            return _finite(node, Quantity(a.value + b.value if node.op == "+" else
                                          a.value - b.value, a.dim))
        if node.op == "*":
            return _finite(node, Quantity(a.value * b.value, a.dim * b.dim))
        if b.value == 0:
            raise SnnError(node.loc, "division by zero")
        return _finite(node, Quantity(a.value / b.value, a.dim / b.dim))
    if isinstance(node, ast.Name) and node.id == "dt" and dt is not None:
        return Quantity(dt, TIME)
    raise SnnError(node.loc, f"expected a constant number here, got {describe_node(node)}")


def _finite(node, q: Quantity) -> Quantity:
    if not math.isfinite(q.value):
        raise SnnError(node.loc, "value is out of range")
    return q


def describe_node(node: ast.Value) -> str:
    if isinstance(node, ast.Name):
        return f"the name '{node.id}'"
    if isinstance(node, ast.Call):
        return f"a call to '{node.name}'"
    if isinstance(node, ast.StringLit):
        return "a string"
    if isinstance(node, ast.FixedLit):
        return "a fixed-point format"
    if isinstance(node, ast.ListLit):
        return "a list"
    if isinstance(node, (ast.Compare, ast.BoolOp)):
        return "a condition"
    if isinstance(node, ast.InputRef):
        return "'input'"
    if isinstance(node, ast.Number):
        return f"the number {node.text}"
    if isinstance(node, ast.QuantityLit):
        return f"the quantity {node.text}"
    return "an expression"


# ------------------------------------------------------------------ parameter specs

_FIXED_RE = re.compile(r"^(u?)fixed[ \t]*<[ \t]*(-?[0-9]+)[ \t]*,[ \t]*(-?[0-9]+)[ \t]*>$")


@dataclass(frozen=True)
class ParamSpec:
    """What one named parameter accepts.

    kinds: ``time``, ``frequency``, ``real``, ``int``, ``steps`` (an integer count of steps, or a
    time that is a whole number of ``dt``), ``bool``, ``enum`` (one of ``options``), ``fixed``,
    ``name`` (a bare word or a string), ``surrogate`` (a surrogate call), ``ints`` (an integer or a
    list of two), ``source`` (the name of an input or layer).
    ``check`` returns an error message for a value out of range, or None.
    """

    name: str
    kind: str
    default: Any = None
    required: bool = False
    options: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None
    doc: str = ""

    def example(self) -> str:
        if self.kind == "time":
            return f"{self.name} = 20 ms"
        if self.kind == "frequency":
            return f"{self.name} = 50 MHz"
        if self.kind == "voltage":
            return f"{self.name} = 10 mV"
        if self.kind == "enum":
            return f"{self.name} = {self.options[0]}"
        if self.kind == "fixed":
            return f"{self.name} = fixed<8,6>"
        if self.kind in ("int", "steps"):
            return f"{self.name} = 10"
        if self.kind == "real":
            return f"{self.name} = 1.0"
        return f"{self.name} = ..."

    def describe(self) -> str:
        return {
            "time": "a time (us, ms, s)", "frequency": "a frequency (Hz, kHz, MHz)",
            "voltage": "a voltage (uV, mV, V)",
            "real": "a plain number", "int": "an integer", "steps": "a number of steps",
            "bool": "true or false", "enum": "one of " + options_text(self.options),
            "fixed": "a fixed-point format such as fixed<8,6>", "name": "a name",
            "surrogate": "a surrogate function", "ints": "an integer or a list of two integers",
            "source": "the name of an input or layer",
        }[self.kind]


def positive(v) -> str | None:
    return None if v > 0 else "must be positive"


#: The largest learning rate taken: far above any that trains (from about 4e37 the optimisers'
#: float32 update overflowed inside torch, an internal error)
MAX_LR = 1e6


def learning_rate(v) -> str | None:
    if not v > 0:
        return "must be positive"
    return None if v <= MAX_LR else f"must be at most {MAX_LR:g}"


def non_negative(v) -> str | None:
    return None if v >= 0 else "must not be negative"


def step_count(v) -> str | None:
    """A model's ``steps``: 1 to :data:`MAX_STEPS`."""
    if v < 1:
        return "must be at least 1"
    return None if v <= MAX_STEPS else f"must be at most {MAX_STEPS}"


def at_least_one(v) -> str | None:
    if isinstance(v, tuple):
        return None if all(x >= 1 for x in v) else "must be at least 1"
    return None if v >= 1 else "must be at least 1"


def coerce(spec: ParamSpec, node: ast.Value, owner: str, dt: float | None = None) -> Any:
    """Convert the written ``node`` to the value ``spec`` wants; ``owner`` names what it belongs to
    in messages (e.g. "parameter 'tau_mem' of LIF")."""
    kind = spec.kind
    if kind == "enum":
        word = _word(node)
        if word is None:
            written = source_text(node).replace(" ", "")
            hint = (f'a value with a dash is written as a string: "{written}"'
                    if written in spec.options else None)
            raise SnnError(node.loc, f"{owner} must be {spec.describe()}, got {describe_node(node)}",
                           hint)
        if word not in spec.options:
            raise SnnError(node.loc, f"invalid value '{word}' for {owner}: expected "
                                     f"{options_text(spec.options)}", did_you_mean(word, spec.options))
        value: Any = word
    elif kind == "bool":
        word = _word(node)
        if word not in ("true", "false"):
            raise SnnError(node.loc, f"{owner} must be true or false",
                           did_you_mean(word, ("true", "false")) if word else None)
        value = word == "true"
    elif kind == "name":
        word = _word(node)
        if word is None:
            raise SnnError(node.loc, f"{owner} must be a name, got {describe_node(node)}")
        value = word
    elif kind == "fixed":
        value = fixed_value(node, owner)
    elif kind == "ints":
        if isinstance(node, ast.ListLit):
            if len(node.items) != 2:
                raise SnnError(node.loc, f"{owner} must be an integer or a list of two integers "
                                         f"[height, width], got a list of {len(node.items)}")
            value = tuple(_int(item, owner, dt) for item in node.items)
        else:
            n = _int(node, owner, dt)
            value = (n, n)
    elif kind in ("time", "frequency", "voltage", "real"):
        want = {"time": TIME, "frequency": FREQUENCY, "voltage": VOLTAGE, "real": NONE}[kind]
        q = _quantity(node, owner, dt)
        if q.dim != want:
            units = dim_units(want)
            got = describe_dim(q.dim)
            if q.dim == NONE:
                got += f" {_num_text(q.value)}"
            raise SnnError(node.loc, f"{owner} needs {describe_dim(want)}"
                                     + (f" ({units})" if units else "") + f", got {got}",
                           f"write e.g. {spec.example()}" if units else None)
        value = q.value
    elif kind == "int":
        value = _int(node, owner, dt, spec.check)
    elif kind == "steps":
        q = _quantity(node, owner, dt)
        if q.dim == TIME:
            if dt is None:
                raise SnnError(node.loc, f"{owner} given as a time needs the time step dt")
            steps = q.value / dt
            if not math.isfinite(steps) or abs(steps) > MAX_INT:   # round(inf) raised
                negative = spec.check(-1) if steps < 0 and spec.check is not None else None
                if negative:            # -1e308 s "too large"
                    raise SnnError(node.loc, f"{owner} {negative}, got {q}")
                raise SnnError(node.loc, f"{owner} of {q} is too large ({steps:g} steps of "
                                         f"dt = {Quantity(dt, TIME)})")
            # floating point's own error only (0.3 ms / 0.1 ms = 2.9999999999999996): a time
            # a millionth of a step off, or a non-zero one below a step, is no whole number
            if abs(steps - round(steps)) > 1e-9 * max(1.0, abs(steps)):
                written = source_text(node) or str(q)     # 2.0000001 ms, not 2 ms
                raise SnnError(node.loc, f"{owner} of {written} is not a whole number of steps "
                                         f"of dt = {Quantity(dt, TIME)} ({steps:.10g} steps)")
            value = int(round(steps))
        elif q.dim == NONE:
            value = _int(node, owner, dt, spec.check)
        else:
            raise SnnError(node.loc, f"{owner} needs a number of steps or a time, got "
                                     f"{describe_dim(q.dim)}")
    else:
        raise ValueError(f"parameter kind {kind!r} is not handled by coerce()")
    if spec.check is not None:
        problem = spec.check(value)
        if problem:
            shown = _show(value)
            if kind == "ints":              # as written (stride = 0), not the pair it makes
                shown = source_text(node) or shown
            if kind in _DIMS and value != 0:
                # -1 ms, not -0.001; 5000.0001 MHz, not 5000 MHz
                shown = Quantity(value, _DIMS[kind]).exact_text()
            raise SnnError(node.loc, f"{owner} {problem}, got {shown}")
    return value


_DIMS = {"time": TIME, "frequency": FREQUENCY, "voltage": VOLTAGE}


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _num_text(v: float) -> str:
    return f"{v:g}"


def source_text(node) -> str:
    """The text ``node`` (a value, or an expression of a user neuron) was written as, if it is on
    one line; else ""."""
    loc = getattr(node, "loc", None)
    if loc is None or loc.source is None or loc.end_line != loc.line or loc.end_col is None:
        return ""
    return loc.source.line_text(loc.line)[loc.col - 1:loc.end_col - 1]


def _word(node: ast.Value) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.StringLit):
        return node.value
    return None


def _quantity(node: ast.Value, owner: str, dt) -> Quantity:
    if isinstance(node, (ast.StringLit, ast.FixedLit, ast.ListLit, ast.Call, ast.Compare,
                         ast.BoolOp, ast.InputRef)) or (isinstance(node, ast.Name) and node.id != "dt"):
        raise SnnError(node.loc, f"{owner} must be a number, got {describe_node(node)}")
    return const_value(node, dt)


#: parameters only some layer operators take, and what to say when another is given one
_LAYER_ONLY = {"lanes": "`lanes` is a parameter of dense and recurrent layers only (the "
                        "hardware's neurons updated per cycle)"}
_LAYER_OPS = ("conv2d", "sumpool", "avgpool", "flatten")


def _int(node: ast.Value, owner: str, dt, check=None) -> int:
    q = _quantity(node, owner, dt)
    if q.dim != NONE:
        raise SnnError(node.loc, f"{owner} must be a plain integer, got {describe_dim(q.dim)}")
    if q.value != int(q.value):
        raise SnnError(node.loc, f"{owner} must be an integer, got {q.value!r}")
    if abs(q.value) > MAX_INT:
        shown = f"{int(q.value)}" if abs(q.value) < 1e18 else f"{q.value:g}"
        # the parameter's own, narrower range where it has one (`steps`: at most 1000000);
        # a large negative value is told what a small one is (-3e9 was "too large")
        problem = check(int(q.value)) if check is not None else None
        if problem:
            raise SnnError(node.loc, f"{owner} {problem}, got {shown}")
        if q.value < 0:
            raise SnnError(node.loc, f"{owner} is too small ({shown}; at least {-MAX_INT - 1})")
        raise SnnError(node.loc, f"{owner} is too large ({shown}; at most {MAX_INT})")
    return int(q.value)


def fixed_value(node: ast.Value, owner: str) -> Fixed:
    if not isinstance(node, ast.FixedLit):
        raise SnnError(node.loc, f"{owner} must be a fixed-point format such as fixed<8,6>, got "
                                 f"{describe_node(node)}")
    m = _FIXED_RE.match(node.text)
    if not m:
        raise SnnError(node.loc, f"invalid fixed-point format {node.text}: expected fixed<WIDTH,FRAC> "
                                 "or ufixed<WIDTH,FRAC>")
    signed, width, frac = m.group(1) != "u", int(m.group(2)), int(m.group(3))
    problem = fixed_format_problem(width, frac, signed)
    if problem:
        raise SnnError(node.loc, problem)
    return Fixed(width, frac, signed)


def _first_named(args: tuple[ast.Arg, ...]) -> int:
    """The index of the first named argument (``len(args)`` if none is)."""
    return next((i for i, a in enumerate(args) if a.name is not None), len(args))


def bind_args(specs: list[ParamSpec], args: tuple[ast.Arg, ...], owner: str, where,
              errors: list, dt: float | None = None, positional: int | None = None) -> dict:
    """Match a call's arguments to ``specs``: positional ones to the first ``positional`` specs (all by
    default), then keywords. Returns name -> coerced value with defaults filled in; problems go to
    ``errors`` (several per call can be reported). ``where`` is the call's location."""
    by_name = {s.name: s for s in specs}
    max_pos = len(specs) if positional is None else positional
    given: dict[str, Any] = {}
    seen_kw = False
    rejected = False
    for i, arg in enumerate(args):
        if arg.name is None:
            if seen_kw:
                errors.append(SnnError(arg.loc, "positional argument after a named one"))
                continue
            if i >= max_pos:
                if not rejected:          # one error, at the first argument too many
                    if max_pos == 0:
                        errors.append(SnnError(arg.loc, f"{owner} takes parameters by name only, "
                                                        "e.g. " + specs[0].example() if specs else
                                                        f"{owner} takes no arguments"))
                    else:
                        given_pos = _first_named(args)
                        errors.append(SnnError(
                            arg.loc, f"{owner} takes at most {max_pos} positional "
                                     f"argument{'s' if max_pos != 1 else ''}, got {given_pos}"))
                rejected = True
                continue
            spec = specs[i]
        else:
            seen_kw = True
            spec = by_name.get(arg.name)
            if spec is None:
                names = [s.name for s in specs]
                hint = did_you_mean(arg.name, names)
                if arg.name in _LAYER_ONLY and owner in _LAYER_OPS:
                    hint = _LAYER_ONLY[arg.name]     # `lanes` on a conv2d: not 'channels'
                errors.append(SnnError(arg.loc, f"unknown parameter '{arg.name}' for {owner}",
                                       hint or (f"known parameters: {', '.join(names)}"
                                                if names else None)))
                continue
        if spec.name in given:
            errors.append(SnnError(arg.loc, f"parameter '{spec.name}' of {owner} is given twice"))
            continue
        if spec.kind == "source":
            given[spec.name] = arg.value
            continue
        if spec.kind == "surrogate":
            given[spec.name] = arg.value
            continue
        try:
            given[spec.name] = coerce(spec, arg.value, f"parameter '{spec.name}' of {owner}", dt)
        except SnnError as err:
            errors.append(err)
            given[spec.name] = _FAILED
    for spec in specs:
        if spec.name not in given:
            if spec.required and not rejected:
                errors.append(SnnError(where, f"{owner} needs parameter '{spec.name}' "
                                              f"({spec.describe()})", f"add {spec.example()}"))
                given[spec.name] = _FAILED
            elif spec.required:
                given[spec.name] = _FAILED   # a positional argument meant for it was rejected
            else:
                given[spec.name] = spec.default
    return given


class _Failed:
    """Marks a parameter whose value had an error (already reported)."""

    def __repr__(self) -> str:
        return "<failed>"


_FAILED = _Failed()


def failed(values: dict) -> bool:
    return any(v is _FAILED for v in values.values())
