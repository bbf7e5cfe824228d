"""Expression IR of user-defined neurons: what backends compile to numpy, torch, Verilog or C++.

Names are resolved (each :class:`Ref` says whether it is a parameter, a state variable, the synaptic
``input`` or ``dt``) and units are checked before an expression reaches this form. Values are plain
floats in SI units (seconds for times). Every node may carry the ``loc`` of the text it was written
as (the quantizer's errors point there); it takes no part in equality, the text or the JSON.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

from snnc.errors import Loc

_LOC = field(default=None, compare=False, repr=False)

#: Functions an expression may call, with their number of arguments.
FUNCTIONS: dict[str, int] = {"min": 2, "max": 2, "clip": 3, "exp": 1, "abs": 1, "decay": 1}
ARITH_OPS = ("+", "-", "*", "/")
COMPARE_OPS = ("<", "<=", ">", ">=", "==", "!=")
BOOL_OPS = ("and", "or")


@dataclass(frozen=True)
class Const:
    """A literal number (SI units)."""

    value: float
    loc: Loc | None = _LOC


@dataclass(frozen=True)
class Ref:
    """A name: ``kind`` is ``param``, ``state``, ``input`` (this step's synaptic input) or ``dt``."""

    kind: str
    name: str
    loc: Loc | None = _LOC


@dataclass(frozen=True)
class Unary:
    """``-x`` (op ``neg``) or ``not x`` (op ``not``)."""

    op: str
    operand: "Expr"
    loc: Loc | None = _LOC


@dataclass(frozen=True)
class Binary:
    """Arithmetic ``+ - * /``, comparison ``< <= > >= == !=`` or logic ``and or``."""

    op: str
    left: "Expr"
    right: "Expr"
    loc: Loc | None = _LOC


@dataclass(frozen=True)
class Func:
    """``min(a, b)``, ``max(a, b)``, ``clip(x, lo, hi)``, ``exp(x)``, ``abs(x)``, ``decay(tau)``.

    ``decay(tau)`` means ``exp(-dt / tau)``; it is kept as its own function so that the integer
    backends can turn it into one quantised multiplier or a shift.
    """

    name: str
    args: tuple["Expr", ...]
    loc: Loc | None = _LOC


Expr = Union[Const, Ref, Unary, Binary, Func]


@dataclass(frozen=True)
class Assignment:
    """``target = value`` on a state variable; statements of a block run in order."""

    target: str
    value: Expr


def children(e: Expr) -> tuple[Expr, ...]:
    if isinstance(e, (Const, Ref)):
        return ()
    if isinstance(e, Unary):
        return (e.operand,)
    if isinstance(e, Binary):
        return (e.left, e.right)
    if isinstance(e, Func):
        return e.args
    raise TypeError(f"not an expression node: {e!r}")


def refs(e: Expr) -> set[Ref]:
    """Every name an expression reads."""
    out: set[Ref] = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Ref):
            out.add(node)
        stack.extend(children(node))
    return out


def evaluate(e: Expr, lookup: Callable[[Ref], object], ops) -> object:
    """Evaluate ``e`` with the operations of one numeric library.

    ``ops`` supplies ``const, neg, not_, add, sub, mul, div, lt, le, gt, ge, eq, ne, and_, or_,
    min, max, clip, exp, abs, decay`` so that the same walk serves numpy, torch and pure floats.
    """
    if isinstance(e, Const):
        return ops.const(e.value)
    if isinstance(e, Ref):
        return lookup(e)
    if isinstance(e, Unary):
        x = evaluate(e.operand, lookup, ops)
        if e.op == "neg":
            return ops.neg(x)
        if e.op == "not":
            return ops.not_(x)
        raise ValueError(f"unknown unary operator {e.op!r}")
    if isinstance(e, Binary):
        a = evaluate(e.left, lookup, ops)
        b = evaluate(e.right, lookup, ops)
        name = _BINARY_NAMES.get(e.op)
        if name is None:
            raise ValueError(f"unknown binary operator {e.op!r}")
        return getattr(ops, name)(a, b)
    if isinstance(e, Func):
        if e.name not in FUNCTIONS:
            raise ValueError(f"unknown function {e.name!r}")
        args = [evaluate(a, lookup, ops) for a in e.args]
        return getattr(ops, e.name + ("_" if e.name in ("min", "max", "abs") else ""))(*args)
    raise TypeError(f"not an expression node: {e!r}")


_BINARY_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "div", "<": "lt", "<=": "le", ">": "gt",
                 ">=": "ge", "==": "eq", "!=": "ne", "and": "and_", "or": "or_"}


def to_text(e: Expr) -> str:
    """The expression written back in .snn syntax (fully parenthesised where it matters)."""
    if isinstance(e, Const):
        return f"{e.value:g}"
    if isinstance(e, Ref):
        return e.name
    if isinstance(e, Unary):
        return f"-{_wrap(e.operand)}" if e.op == "neg" else f"not {_wrap(e.operand)}"
    if isinstance(e, Binary):
        return f"{_wrap(e.left)} {e.op} {_wrap(e.right)}"
    if isinstance(e, Func):
        return f"{e.name}(" + ", ".join(to_text(a) for a in e.args) + ")"
    raise TypeError(f"not an expression node: {e!r}")


def _wrap(e: Expr) -> str:
    text = to_text(e)
    return f"({text})" if isinstance(e, Binary) else text


def to_json(e: Expr) -> list:
    if isinstance(e, Const):
        return ["const", e.value]
    if isinstance(e, Ref):
        return ["ref", e.kind, e.name]
    if isinstance(e, Unary):
        return ["unary", e.op, to_json(e.operand)]
    if isinstance(e, Binary):
        return ["binary", e.op, to_json(e.left), to_json(e.right)]
    if isinstance(e, Func):
        return ["func", e.name, [to_json(a) for a in e.args]]
    raise TypeError(f"not an expression node: {e!r}")


def from_json(data: list) -> Expr:
    tag = data[0]
    if tag == "const":
        return Const(float(data[1]))
    if tag == "ref":
        return Ref(data[1], data[2])
    if tag == "unary":
        return Unary(data[1], from_json(data[2]))
    if tag == "binary":
        return Binary(data[1], from_json(data[2]), from_json(data[3]))
    if tag == "func":
        return Func(data[1], tuple(from_json(a) for a in data[2]))
    raise ValueError(f"unknown expression tag {tag!r}")
