"""Abstract syntax of a ``.snn`` file: dataclasses that each carry the source span they came from.

The parser (:mod:`snnc.dsl.parser`) builds these from lark's parse tree; the checker
(:mod:`snnc.check`) turns them into the typed graph. Nothing here knows what a neuron *means*.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from snnc.errors import Loc, SourceFile


@dataclass(frozen=True)
class Node:
    loc: Loc = field(compare=False, repr=False)


# ------------------------------------------------------------------ expressions and values


@dataclass(frozen=True)
class Number(Node):
    value: float
    is_int: bool
    text: str


@dataclass(frozen=True)
class QuantityLit(Node):
    """A number with a unit, e.g. ``10 ms``; ``value`` is in the written unit."""

    value: float
    unit: str
    text: str


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class InputRef(Node):
    """``input`` inside a neuron: the synaptic input the neuron receives this step."""


@dataclass(frozen=True)
class BinOp(Node):
    op: str  # + - * /
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Neg(Node):
    operand: "Expr"


@dataclass(frozen=True)
class Compare(Node):
    op: str  # < <= > >= == !=
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # and, or, not
    operands: tuple["Expr", ...]


@dataclass(frozen=True)
class Arg(Node):
    """One argument of a call: ``name`` is None for a positional argument."""

    name: str | None
    value: "Value"


@dataclass(frozen=True)
class Call(Node):
    """``name(args)``: a function in an expression, a layer operator, an encoding, a surrogate..."""

    name: str
    args: tuple[Arg, ...]
    name_loc: Loc = field(compare=False, repr=False)


@dataclass(frozen=True)
class StringLit(Node):
    value: str


@dataclass(frozen=True)
class FixedLit(Node):
    """``fixed<W,F>`` or ``ufixed<W,F>`` as written; validated by the checker."""

    text: str


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple["Value", ...]


Expr = Union[Number, QuantityLit, Name, InputRef, BinOp, Neg, Compare, BoolOp, Call]
Value = Union[Expr, StringLit, FixedLit, ListLit]


# ------------------------------------------------------------------ statements


@dataclass(frozen=True)
class Setting(Node):
    key: str
    value: Value
    key_loc: Loc = field(compare=False, repr=False)


@dataclass(frozen=True)
class ModelDecl(Node):
    name: str
    name_loc: Loc = field(compare=False, repr=False)


@dataclass(frozen=True)
class UseDecl(Node):
    path: str
    path_loc: Loc = field(compare=False, repr=False)


@dataclass(frozen=True)
class Block(Node):
    """``time { ... }``, ``train { ... }`` or ``hardware { ... }``."""

    kind: str
    settings: tuple[Setting, ...]


@dataclass(frozen=True)
class InputDecl(Node):
    name: str
    shape: tuple[Value, ...]         # numbers as written (integers: checked by the build)
    encoding: Value
    name_loc: Loc = field(compare=False, repr=False)
    shape_loc: Loc = field(compare=False, repr=False)


@dataclass(frozen=True)
class NeuronUse(Node):
    """``with LIF(tau_mem = 10 ms)``: which neuron a layer uses, with parameter overrides."""

    name: str
    args: tuple[Arg, ...]
    name_loc: Loc = field(compare=False, repr=False)


@dataclass(frozen=True)
class LayerDecl(Node):
    name: str
    op: Call
    neuron: NeuronUse | None
    name_loc: Loc = field(compare=False, repr=False)


@dataclass(frozen=True)
class OutputDecl(Node):
    source: str
    readout: Value
    source_loc: Loc = field(compare=False, repr=False)


@dataclass(frozen=True)
class ParamDecl(Node):
    name: str
    type_name: str | None
    default: Expr | None
    name_loc: Loc = field(compare=False, repr=False)
    type_loc: Loc | None = field(compare=False, repr=False)


@dataclass(frozen=True)
class StateDecl(Node):
    name: str
    init: Expr
    name_loc: Loc = field(compare=False, repr=False)


@dataclass(frozen=True)
class Assign(Node):
    target: str
    value: Expr
    target_loc: Loc = field(compare=False, repr=False)


@dataclass(frozen=True)
class NeuronDef(Node):
    name: str
    params: tuple[ParamDecl, ...]
    states: tuple[StateDecl, ...]
    update: tuple[Assign, ...]
    spike: tuple[Expr, ...]          # every `spike when` written (exactly one is valid)
    on_spike: tuple[Assign, ...]
    name_loc: Loc = field(compare=False, repr=False)
    blocks: tuple[tuple[str, Loc], ...] = field(default=(), compare=False, repr=False)
    #: the ``emit HEIGHT`` of each ``spike when`` in ``spike`` (None where it has none): the
    #: height (payload) of the neuron's graded spikes
    emit: tuple["Expr | None", ...] = ()


Statement = Union[ModelDecl, UseDecl, Block, InputDecl, NeuronDef, LayerDecl, OutputDecl]


@dataclass(frozen=True)
class Module:
    """One parsed file. ``errors``: problems found while parsing that the checks after it report
    with their own (a number out of range; such a number reads as the stand-in 1 meanwhile)."""

    source: SourceFile = field(compare=False, repr=False)
    statements: tuple[Statement, ...]
    errors: tuple = field(default=(), compare=False, repr=False)
