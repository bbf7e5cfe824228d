"""User-defined neurons: check a ``neuron`` definition and lower its expressions to the expression IR.

Names resolve to parameters, state variables, ``input`` (this step's synaptic input, a plain number)
or ``dt`` (a time). Every expression is checked for physical dimensions: ``+``, ``-``, comparisons,
``min``, ``max`` and ``clip`` need equal dimensions (a literal ``0`` fits any), ``exp`` needs a plain
number and ``decay`` a time; conditions (comparisons, ``and``, ``or``, ``not``) are not numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from snnc import expr as E
from snnc import ir
from snnc.catalog import keyword_error
from snnc.dsl import ast
from snnc.errors import Loc, SnnError
from snnc.types import NONE, TIME, UNITS, Dim, describe_dim
from snnc.values import ParamSpec, coerce, did_you_mean, source_text

PARAM_TYPES = {"time": "time", "frequency": "frequency", "voltage": "voltage", "real": "real",
               "int": "int"}
RESERVED = ("dt", "input")
#: Names a state variable cannot take: what a neuron's results already use them for (``S``: the
#: spikes in every backend's final state and read-back; ``emit``, a keyword, is refused too: it
#: was the graded height's key)
STATE_RESERVED = {"S": "the neuron's spikes"}
#: In the `on spike` block of a graded neuron (`spike when ... emit HEIGHT`): the spike's height.
HEIGHT = "height"


class _Bool:
    """The 'dimension' of a condition."""

    def __str__(self) -> str:
        return "a condition"


BOOL = _Bool()


@dataclass(frozen=True)
class NeuronTemplate:
    """A checked user-defined neuron; a layer turns it into an ``ir.CustomNeuron`` with its overrides."""

    name: str
    specs: tuple[ParamSpec, ...]
    states: tuple[ir.StateVar, ...]
    update: tuple[E.Assignment, ...]
    spike: E.Expr
    on_spike: tuple[E.Assignment, ...]
    loc: Loc
    emit: E.Expr | None = None        # the height of graded spikes (`spike when ... emit H`)

    def instantiate(self, values: dict) -> ir.CustomNeuron:
        params = tuple((s.name, float(values[s.name])) for s in self.specs)
        return ir.CustomNeuron(self.name, params, self.states, self.update, self.spike,
                               self.on_spike, self.emit, tuple((s.name, s.kind) for s in self.specs))


def check_neuron_def(nd: ast.NeuronDef, dt: float | None, errors: list) -> NeuronTemplate | None:
    """Check one ``neuron`` block; problems are appended to ``errors``; None if it is unusable."""
    n_errors = len(errors)
    owner = f"neuron '{nd.name}'"
    specs: list[ParamSpec] = []
    dims: dict[str, tuple[str, Dim]] = {}
    seen: dict[str, Loc] = {}

    def declare(name: str, loc: Loc, what: str) -> bool:
        if name in RESERVED:
            errors.append(SnnError(loc, f"'{name}' is a reserved name and cannot be a {what}"))
            return False
        keyword = keyword_error(name, loc, f"a {what}")
        if keyword is not None:
            errors.append(keyword)          # still declared: its uses are not reported again
        if name in seen:
            errors.append(SnnError(loc, f"duplicate name '{name}' in {owner}",
                                   f"first declared at {seen[name]}"))
            return False
        seen[name] = loc
        return True

    for p in nd.params:
        if not declare(p.name, p.name_loc, "parameter"):
            continue
        kind = None
        if p.type_name is not None:
            kind = PARAM_TYPES.get(p.type_name)
            if kind is None:
                errors.append(SnnError(p.type_loc, f"unknown parameter type '{p.type_name}'",
                                       did_you_mean(p.type_name, PARAM_TYPES)
                                       or "types: " + ", ".join(PARAM_TYPES)))
                continue
        default = None
        if p.default is not None:
            if kind is None:
                kind = _kind_of_literal(p.default, dt, errors)
                if kind is None:
                    continue
            try:
                default = coerce(ParamSpec(p.name, kind), p.default,
                                 f"default of parameter '{p.name}'", dt)
            except SnnError as err:
                errors.append(err)
                continue
        elif kind is None:
            errors.append(SnnError(p.name_loc, f"parameter '{p.name}' needs a type or a default value",
                                   f"write e.g. param {p.name}: real = 1.0"))
            continue
        specs.append(ParamSpec(p.name, kind, default, required=default is None))
        dims[p.name] = ("param", _KIND_DIMS[kind])

    _mark_broken(seen, dims, "param")
    scope_params = dict(dims)
    states: list[ir.StateVar] = []
    for s in nd.states:
        if s.name in STATE_RESERVED:
            errors.append(SnnError(s.name_loc, f"'{s.name}' cannot be a state variable: the "
                                               f"results use it for {STATE_RESERVED[s.name]}",
                                   "choose another name"))      # still declared: no
        if not declare(s.name, s.name_loc, "state variable"):         # errors at its uses
            continue
        try:
            init, dim = _lower(s.init, scope_params, dt, allow_input=False)
        except SnnError as err:
            if isinstance(err, _UnknownName) and err.name in {st.name for st in nd.states}:
                # a state, not known here: say why ("unknown name 'v'" did not)
                err = SnnError(err.loc, f"the initial value of '{s.name}' reads state variable "
                               f"'{err.name}'", "an initial value is a constant: numbers, the "
                                                "neuron's parameters and dt")
            errors.append(err)
            continue
        if dim is BOOL:
            errors.append(SnnError(s.init.loc, f"initial value of '{s.name}' is a condition, "
                                               "not a number"))
            continue
        states.append(ir.StateVar(s.name, init))
        dims[s.name] = ("state", dim)

    _mark_broken(seen, dims, "state")
    if not nd.states:
        errors.append(SnnError(nd.name_loc, f"{owner} has no state variables",
                               "declare one, e.g. state v = 0"))
    update = _check_assignments(nd.update, dims, dt, errors, owner)
    graded = bool(nd.emit) and nd.emit[0] is not None
    spike_dims = dims
    if graded:
        # in `on spike`, `height` is the height the spike carries (as sent: saturated in integers)
        if HEIGHT in seen:
            what = "state variable" if dims.get(HEIGHT, ("param",))[0] == "state" else "parameter"
            errors.append(SnnError(seen[HEIGHT], f"'{HEIGHT}' is the spike height in `on spike` of "
                                                 f"a neuron with `emit`; rename this {what}"))
        else:
            spike_dims = {**dims, HEIGHT: ("height", NONE)}
    on_spike = _check_assignments(nd.on_spike, spike_dims, dt, errors, owner)
    spike = None
    if not nd.spike:
        errors.append(SnnError(nd.name_loc, f"{owner} has no spike condition",
                               "add e.g. spike when v > 1"))
    else:
        for extra in nd.spike[1:]:
            errors.append(SnnError(extra.loc, f"{owner} has more than one spike condition"))
        try:
            spike, dim = _lower(nd.spike[0], dims, dt)
            if dim is not BOOL:
                errors.append(SnnError(nd.spike[0].loc, "the spike condition must be a comparison, "
                                                         "e.g. v > threshold"))
        except SnnError as err:
            errors.append(err)
    emit = None
    emits = nd.emit[:1] if nd.emit else ()
    if emits and emits[0] is not None:
        emit = _check_emit(emits[0], dims, dt, errors)
    # drop errors that only follow from a declaration that was itself in error
    errors[n_errors:] = [e for e in errors[n_errors:] if not isinstance(e, _Cascade)]
    if len(errors) > n_errors or spike is None:
        return None
    return NeuronTemplate(nd.name, tuple(specs), tuple(states), update, spike, on_spike, nd.loc,
                          emit)


def constant_error(neuron: ir.CustomNeuron, dt: float, use_loc: Loc | None) -> SnnError | None:
    """The first part of a user-defined neuron's expressions that is a constant (of literals, its
    parameters' values and ``dt``) beyond the range of floating point, ``exp(1000)``, or a
    division by a constant 0, ``v / (1 - 1)``: an error located at that part, None if there is
    none. (Every backend would compute inf or nan there; the quantizer could not round it.)"""
    params = dict(neuron.params)
    exprs = [s.init for s in neuron.states] + [a.value for a in neuron.update]
    exprs += [neuron.spike] + ([neuron.emit] if neuron.emit is not None else [])
    exprs += [a.value for a in neuron.on_spike]
    try:
        for e in exprs:
            _constant(e, params, dt)
    except _OutOfRange as bad:
        return SnnError(bad.node.loc or use_loc, bad.message,
                        _use_hint(neuron, params, bad.node, use_loc))
    return None


def _use_hint(neuron: ir.CustomNeuron, params: dict, node, use_loc: Loc | None) -> str | None:
    """The values of the parameters ``node`` reads in the use of ``neuron`` at ``use_loc``
    (``tau = 0.01 in the use of 'N' at m.snn:11:28``); None where it reads none."""
    used = sorted({r.name for r in E.refs(node) if r.kind == "param"})
    if not used:
        return None
    values = ", ".join(f"{name} = {params[name]:g}" for name in used)
    return f"{values} in the use of '{neuron.name}' at {use_loc}"


def bad_constant_argument(neuron: ir.CustomNeuron, dt: float | None,
                          use_loc: Loc | None = None) -> SnnError | None:
    """A ``decay(tau)`` whose constant time constant is not positive, or a ``clip(x, lo, hi)``
    whose constant bounds are reversed (``lo > hi``: every backend would return ``hi`` whatever
    ``x``): an error located at the argument (the call), naming the parameters' values of the
    use at ``use_loc`` (as :func:`constant_error`); else None. A constant beyond floating point
    is left to :func:`constant_error`."""
    params = dict(neuron.params)
    dt = dt if dt is not None else 1e-3
    exprs = [a.value for a in neuron.update + neuron.on_spike] + [neuron.spike]
    exprs += [s.init for s in neuron.states]
    exprs += [neuron.emit] if neuron.emit is not None else []
    stack = list(exprs)
    while stack:
        e = stack.pop()
        stack.extend(E.children(e))
        if not isinstance(e, E.Func) or e.name not in ("decay", "clip"):
            continue
        try:
            values = [_constant(a, params, dt) for a in e.args]
        except _OutOfRange:
            continue
        if e.name == "decay":
            arg, value = e.args[0], values[0]
            if value is not None and not value > 0:
                written = source_text(arg) or E.to_text(arg)   # as written: tau - 10 ms
                return SnnError(arg.loc or use_loc, f"decay({written}) needs a positive time "
                                                    f"constant, got {value:g} s",
                                _use_hint(neuron, params, arg, use_loc))
        else:
            lo, hi = values[1], values[2]
            if lo is not None and hi is not None and lo > hi:
                written = source_text(e) or E.to_text(e)
                return SnnError(e.loc or use_loc, f"{written} has its lower bound {lo:g} above "
                                                  f"its upper bound {hi:g}",
                                _use_hint(neuron, params, E.Func("clip", e.args[1:], e.loc),
                                          use_loc)
                                or "clip(x, lo, hi) needs lo <= hi")
    return None


class _OutOfRange(Exception):
    def __init__(self, node, message: str):
        super().__init__(message)
        self.node, self.message = node, message


_ARITH = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
          "/": lambda a, b: a / b}
_FUNCS = {"min": min, "max": max, "abs": abs, "clip": lambda x, lo, hi: min(max(x, lo), hi)}


def _constant(e: E.Expr, params: dict, dt: float) -> float | None:
    """The value of ``e`` if it is a constant number, else None (it reads a state or the input,
    or it is a condition); raises _OutOfRange (see :func:`constant_error`)."""
    if isinstance(e, E.Const):
        value = e.value
    elif isinstance(e, E.Ref):
        value = params[e.name] if e.kind == "param" else dt if e.kind == "dt" else None
    elif isinstance(e, E.Unary):
        x = _constant(e.operand, params, dt)
        value = -x if e.op == "neg" and x is not None else None
    elif isinstance(e, E.Binary):
        a, b = _constant(e.left, params, dt), _constant(e.right, params, dt)
        if e.op == "/" and b == 0:
            raise _OutOfRange(e.right, "division by zero")
        value = _ARITH[e.op](a, b) if e.op in _ARITH and a is not None and b is not None else None
    elif isinstance(e, E.Func):
        args = []
        for a in e.args:        # (a loop: a comprehension's frame would halve the depth allowed)
            args.append(_constant(a, params, dt))
        if any(a is None for a in args):
            value = None
        elif e.name == "exp":
            value = _exp(args[0])
        elif e.name == "decay":          # a time constant <= 0: bad_constant_argument says so
            value = math.exp(-dt / args[0]) if args[0] > 0 else 0.0
        else:
            value = float(_FUNCS[e.name](*args))
    else:
        raise TypeError(f"not an expression node: {e!r}")
    if value is not None and not math.isfinite(value):
        text = E.to_text(e)
        shown = f"`{text}`" if len(text) <= 40 else "this constant"
        raise _OutOfRange(e, f"{shown} is out of range (it overflows floating point, beyond "
                             "1.8e308)")
    return value


def _exp(x: float) -> float:
    """``math.exp``, inf where it overflows."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _check_emit(node, dims, dt, errors) -> E.Expr | None:
    """The ``emit`` height of a graded spike: a plain number (it multiplies the consumers'
    weights, like an ASN's height or a plain spike's 1), read on the state after the update."""
    try:
        value, dim = _lower(node, dims, dt)
    except SnnError as err:
        errors.append(err)
        return None
    if dim is BOOL:
        errors.append(SnnError(node.loc, "the spike height after `emit` must be a number, "
                                         "not a condition"))
        return None
    if dim != NONE:
        errors.append(SnnError(node.loc, f"the spike height after `emit` must be a plain number "
                                         f"(it multiplies the weights of the layers reading the "
                                         f"spikes), got {describe_dim(dim)}",
                               "divide it by its unit, e.g. emit v / 1 mV"))
        return None
    return value


class _Cascade(SnnError):
    """An error caused by using a name whose declaration already had an (reported) error."""


class _UnknownName(SnnError):
    """A name that is not known where it is used (``name``: the name)."""

    def __init__(self, loc, name: str, hint: str | None):
        super().__init__(loc, f"unknown name '{name}'", hint)
        self.name = name


#: The 'dimension' of a parameter or state variable whose declaration had an error.
_BROKEN = object()


def _mark_broken(seen: dict, dims: dict, kind: str) -> None:
    for name in seen:
        if name not in dims:
            dims[name] = (kind, _BROKEN)


_KIND_DIMS = {"time": TIME, "frequency": Dim(time=-1), "voltage": Dim(voltage=1), "real": NONE,
              "int": NONE}


def _kind_of_literal(node, dt, errors) -> str | None:
    from snnc.values import const_value

    try:
        q = const_value(node, dt)
    except SnnError as err:
        errors.append(err)
        return None
    for kind, dim in _KIND_DIMS.items():
        if dim == q.dim and kind != "int":
            return kind
    errors.append(SnnError(node.loc, f"a parameter cannot be {describe_dim(q.dim)}"))
    return None


def _check_assignments(assigns, dims, dt, errors, owner) -> tuple[E.Assignment, ...]:
    out = []
    for a in assigns:
        entry = dims.get(a.target)
        if entry is None:
            states = [n for n, (k, _) in dims.items() if k == "state"]
            errors.append(SnnError(a.target_loc, f"unknown state variable '{a.target}' in {owner}",
                                   did_you_mean(a.target, states)))
            continue
        kind, want = entry
        if kind == "height":
            errors.append(SnnError(a.target_loc, f"cannot assign to '{HEIGHT}', the height of the "
                                                 "spike; only state variables change"))
            continue
        if kind != "state":
            errors.append(SnnError(a.target_loc, f"cannot assign to parameter '{a.target}'; "
                                                 "only state variables change"))
            continue
        if want is _BROKEN:
            continue  # its declaration had an error, already reported
        try:
            value, dim = _lower(a.value, dims, dt)
        except SnnError as err:
            errors.append(err)
            continue
        if dim is BOOL:
            errors.append(SnnError(a.value.loc, f"cannot assign a condition to '{a.target}'"))
            continue
        if dim != want and not _is_zero(a.value):
            errors.append(SnnError(a.value.loc, f"cannot assign {describe_dim(dim)} to "
                                                f"'{a.target}', which is {describe_dim(want)}"))
            continue
        out.append(E.Assignment(a.target, value))
    return tuple(out)


def _is_zero(node) -> bool:
    return isinstance(node, ast.Number) and node.value == 0


def _lower(node, dims: dict, dt, allow_input: bool = True):
    """AST expression -> (expression IR, dimension or BOOL)."""
    if isinstance(node, ast.Number):
        return E.Const(node.value, node.loc), NONE
    if isinstance(node, ast.QuantityLit):
        dim, factor = UNITS[node.unit]
        return E.Const(node.value * factor, node.loc), dim
    if isinstance(node, ast.InputRef):
        if not allow_input:
            raise SnnError(node.loc, "'input' is only known inside update, spike and on spike")
        return E.Ref("input", "input", node.loc), NONE
    if isinstance(node, ast.Name):
        if node.id == "dt":
            return E.Ref("dt", "dt", node.loc), TIME
        entry = dims.get(node.id)
        if entry is None:
            hint = did_you_mean(node.id, list(dims) + list(RESERVED))
            if node.id == HEIGHT:
                hint = ("`height` is the spike's height, known in `on spike` of a neuron whose "
                        "spike condition has `emit HEIGHT`")
            raise _UnknownName(node.loc, node.id, hint)
        kind, dim = entry
        if dim is _BROKEN:
            raise _Cascade(node.loc, f"'{node.id}' has an error in its declaration")
        return E.Ref(kind, node.id, node.loc), dim
    if isinstance(node, ast.Neg):
        x, dim = _lower(node.operand, dims, dt, allow_input)
        _need_number(node.operand, dim, "-")
        return E.Unary("neg", x, node.loc), dim
    if isinstance(node, ast.BinOp):
        a, da = _lower(node.left, dims, dt, allow_input)
        b, db = _lower(node.right, dims, dt, allow_input)
        _need_number(node.left, da, node.op)
        _need_number(node.right, db, node.op)
        if node.op in "+-":
            dim = _same(node, da, db, node.left, node.right,
                        "add" if node.op == "+" else "subtract")
        elif node.op == "*":
            dim = da * db
        else:
            if (isinstance(node.right, ast.Number) and node.right.value == 0) or \
                    (isinstance(b, E.Const) and b.value == 0):          # 0, 0 mV, (0) ...
                raise SnnError(node.right.loc, "division by zero")
            dim = da / db
        return E.Binary(node.op, a, b, node.loc), dim
    if isinstance(node, ast.Compare):
        a, da = _lower(node.left, dims, dt, allow_input)
        b, db = _lower(node.right, dims, dt, allow_input)
        _need_number(node.left, da, node.op)
        _need_number(node.right, db, node.op)
        _same(node, da, db, node.left, node.right, "compare")
        return E.Binary(node.op, a, b, node.loc), BOOL
    if isinstance(node, ast.BoolOp):
        parts = []
        for operand in node.operands:
            x, d = _lower(operand, dims, dt, allow_input)
            if d is not BOOL:
                raise SnnError(operand.loc, f"'{node.op}' needs conditions, got a number")
            parts.append(x)
        if node.op == "not":
            return E.Unary("not", parts[0], node.loc), BOOL
        return E.Binary(node.op, parts[0], parts[1], node.loc), BOOL
    if isinstance(node, ast.Call):
        return _lower_call(node, dims, dt, allow_input)
    raise SnnError(node.loc, "this cannot appear in a neuron expression")


def _lower_call(node: ast.Call, dims, dt, allow_input):
    arity = E.FUNCTIONS.get(node.name)
    if arity is None:
        raise SnnError(node.name_loc, f"unknown function '{node.name}'",
                       did_you_mean(node.name, E.FUNCTIONS)
                       or "functions: " + ", ".join(E.FUNCTIONS))
    for arg in node.args:
        if arg.name is not None:
            raise SnnError(arg.loc, f"{node.name}() takes positional arguments only")
    if len(node.args) != arity:
        raise SnnError(node.loc, f"{node.name}() takes {arity} argument{'s' if arity > 1 else ''}, "
                                 f"got {len(node.args)}")
    lowered = []
    for a in node.args:         # (a loop: a comprehension's frame would halve the depth allowed)
        lowered.append(_lower(a.value, dims, dt, allow_input))
    for a, (_, d) in zip(node.args, lowered):
        _need_number(a.value, d, node.name + "()")
    args = tuple(x for x, _ in lowered)
    ds = [d for _, d in lowered]
    if node.name == "exp":
        if ds[0] != NONE:
            raise SnnError(node.args[0].loc, f"exp() needs a plain number, got {describe_dim(ds[0])}")
        dim = NONE
    elif node.name == "decay":
        if ds[0] != TIME:
            raise SnnError(node.args[0].loc, f"decay() needs a time constant, got "
                                             f"{describe_dim(ds[0])}")
        dim = NONE
    elif node.name == "abs":
        dim = ds[0]
    else:
        dim = ds[0]
        for a, d in zip(node.args[1:], ds[1:]):
            if d != dim and not _is_zero(a.value) and not _is_zero(node.args[0].value):
                raise SnnError(a.value.loc, f"{node.name}() needs arguments of one dimension, got "
                                            f"{describe_dim(dim)} and {describe_dim(d)}")
            if _is_zero(node.args[0].value):
                dim = d
    return E.Func(node.name, args, node.loc), dim


def _need_number(node, dim, op) -> None:
    if dim is BOOL:
        raise SnnError(node.loc, f"'{op}' needs a number, got a condition")


def _same(node, da, db, left, right, verb):
    if da == db:
        return da
    if _is_zero(left):
        return db
    if _is_zero(right):
        return da
    raise SnnError(node.loc, f"cannot {verb} {describe_dim(da)} and {describe_dim(db)}")
