"""Integer expression IR: a user-defined neuron's expressions lowered to the integer semantics of
docs/semantics.md section 4 ("User-defined neurons in integers").

Every value is an integer with the membrane format's ``Fm`` fractional bits, except conditions
(0/1). Constants are already folded and quantised. Backends evaluate this IR (golden model, PyTorch
QAT) or turn it into a datapath (Verilog, HLS): the operations are exactly add, subtract, negate,
multiply by a 16-bit-fraction coefficient, multiply two variables, min/max/clip/abs, compare, logic.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class IConst:
    """An integer constant (``Fm`` fractional bits; 0/1 where a condition is expected)."""

    value: int


@dataclass(frozen=True)
class IState:
    """The current value of a state variable; ``IState(EMIT_KEY)`` in ``on_spike`` is the height
    the spike carries (``height``, after saturation)."""

    name: str


@dataclass(frozen=True)
class IInput:
    """The neuron's synaptic input this step, in membrane units."""


@dataclass(frozen=True)
class INeg:
    operand: "IExpr"


@dataclass(frozen=True)
class IArith:
    """``+`` or ``-`` of two values (exact)."""

    op: str
    left: "IExpr"
    right: "IExpr"


@dataclass(frozen=True)
class ICoefMul:
    """``rshift_round(coef * x, 16)``: multiply by a constant quantised to 16 fractional bits."""

    coef: int
    operand: "IExpr"


@dataclass(frozen=True)
class IMul:
    """``rshift_round(x * y, Fm)``: product of two variables."""

    left: "IExpr"
    right: "IExpr"


@dataclass(frozen=True)
class IFunc:
    """``min``, ``max`` (2 args), ``clip`` (3 args), ``abs`` (1 arg): exact."""

    name: str
    args: tuple["IExpr", ...]


@dataclass(frozen=True)
class ICompare:
    """``< <= > >= == !=`` -> 0/1."""

    op: str
    left: "IExpr"
    right: "IExpr"


@dataclass(frozen=True)
class ILogic:
    """``and``, ``or`` (2 operands) or ``not`` (1 operand) on 0/1 values."""

    op: str
    operands: tuple["IExpr", ...]


IExpr = Union[IConst, IState, IInput, INeg, IArith, ICoefMul, IMul, IFunc, ICompare, ILogic]


@dataclass(frozen=True)
class IAssign:
    """``target = sat_membrane(value)``; counted when it saturates."""

    target: str
    value: IExpr


@dataclass(frozen=True)
class IntProgram:
    """A user-defined neuron in integers: initial states, the update, the spike test, the reset,
    and for a graded neuron (``emit``) the height of its events: ``H = sat_H(emit)`` where it
    spiked (clamped to ``0 .. max(membrane)``, counted under :data:`EMIT_KEY`), else 0, evaluated
    after the spike test and before ``on_spike``, whose statements read it as ``IState(EMIT_KEY)``."""

    name: str
    states: tuple[tuple[str, int], ...]       # name, initial value (membrane units)
    update: tuple[IAssign, ...]
    spike: IExpr
    on_spike: tuple[IAssign, ...]
    emit: IExpr | None = None

    @property
    def graded(self) -> bool:
        return self.emit is not None


#: The saturation-statistics and final-state key of a graded user neuron's event heights (``emit``
#: is a keyword, so no state variable can have this name).
EMIT_KEY = "emit"
