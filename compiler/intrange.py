"""Exact value ranges of a user-defined neuron's integer program (:mod:`snnc.intexpr`).

Interval arithmetic over the operations of docs/semantics.md section 4 ("User-defined neurons in
integers"): every value's smallest and largest integer, given the stored states' range (the
membrane format) and the synaptic input's (the accumulator's). Two users:

* the quantizer (:func:`check_program`) rejects a neuron with a value, or a product before its
  rounding shift, outside 64-bit signed integers, in which the golden model, the PyTorch target
  and the HLS C++ compute (a located error for every backend, instead of a wrapped result);
* the Verilog lowering (``snnc.backends.verilog.userneuron``) gives every wire the signed width
  of its range (:func:`sbits`), so nothing wraps in hardware either.
"""
from __future__ import annotations

from dataclasses import dataclass

from snnc import intexpr as I

#: every backend computes a user-defined neuron in 64-bit signed integers
MAX_BITS = 64
COEF_SHIFT = 16                       # ICoefMul: rshift_round(coef * x, 16)


@dataclass(frozen=True)
class Span:
    """The integers ``lo .. hi``."""

    lo: int
    hi: int


class RangeError(Exception):
    """A value of a user-defined neuron that 64-bit integers cannot hold."""

    def __init__(self, bits: int, what: str):
        super().__init__(f"{what} needs {bits} bits")
        self.bits, self.what = bits, what


def sbits(lo: int, hi: int) -> int:
    """The smallest signed width holding every integer in ``lo .. hi``."""
    w = 1
    while lo < -(1 << (w - 1)) or hi > (1 << (w - 1)) - 1:
        w += 1
    return w


def rshift_round(x: int, s: int) -> int:
    """``(x + 2^(s-1)) >> s`` on a Python integer (``x`` itself for ``s <= 0``)."""
    return (x + (1 << (s - 1))) >> s if s > 0 else x


def check(lo: int, hi: int, what: str = "an intermediate value") -> None:
    """Raise :class:`RangeError` unless ``lo .. hi`` fits 64-bit signed integers."""
    if lo < -(1 << (MAX_BITS - 1)) or hi > (1 << (MAX_BITS - 1)) - 1:
        raise RangeError(sbits(lo, hi), what)


# ---------------------------------------------------------------------- the operations


def add(op: str, a: Span, b: Span) -> Span:
    """``a + b`` or ``a - b`` (exact)."""
    if op == "+":
        return Span(a.lo + b.lo, a.hi + b.hi)
    return Span(a.lo - b.hi, a.hi - b.lo)


def mulc(coef: int, x: Span, shift: int = COEF_SHIFT) -> Span:
    """``rshift_round(coef * x, shift)``; the coefficient and the product before the shift are
    checked too."""
    check(coef, coef, f"the coefficient {coef / (1 << COEF_SHIFT):g}")
    prods = (coef * x.lo, coef * x.hi)
    check(min(prods), max(prods) + ((1 << (shift - 1)) if shift > 0 else 0),
          f"the product by the coefficient {coef / (1 << COEF_SHIFT):g} (a `*` or `/` by a "
          "constant)")
    ends = (rshift_round(prods[0], shift), rshift_round(prods[1], shift))
    return Span(min(ends), max(ends))


def mul(a: Span, b: Span, shift: int) -> Span:
    """``rshift_round(a * b, shift)`` (``shift <= 0``: the exact product), product checked."""
    prods = (a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
    check(min(prods), max(prods) + ((1 << (shift - 1)) if shift > 0 else 0),
          "the product of two values")
    return Span(rshift_round(min(prods), shift), rshift_round(max(prods), shift))


def minmax(is_max: bool, a: Span, b: Span) -> Span:
    if is_max:
        return Span(max(a.lo, b.lo), max(a.hi, b.hi))
    return Span(min(a.lo, b.lo), min(a.hi, b.hi))


def absval(x: Span) -> Span:
    if x.lo >= 0:
        return Span(x.lo, x.hi)
    if x.hi <= 0:
        return Span(-x.hi, -x.lo)
    return Span(0, max(-x.lo, x.hi))


def union(a: Span, b: Span) -> Span:
    """Either ``a`` or ``b`` (a select)."""
    return Span(min(a.lo, b.lo), max(a.hi, b.hi))


def clamp(v: Span, low: int, high: int) -> Span:
    """``v`` saturated to ``low .. high``."""
    return Span(min(max(v.lo, low), high), max(min(v.hi, high), low))


def rescaled_input(acc_w: int, acc_frac: int, u_frac: int) -> Span:
    """The synaptic input in membrane units: ``rescale(acc, acc_frac, u_frac)`` of any
    ``acc_w``-bit accumulator value."""
    alo, ahi = -(1 << (acc_w - 1)), (1 << (acc_w - 1)) - 1
    sh = u_frac - acc_frac
    what = INPUT_WHAT
    if sh >= 0:                 # the shifted value itself (it wrapped unchecked: a wrong sign)
        check(alo << sh, ahi << sh, what)
        return Span(alo << sh, ahi << sh)
    check(alo, ahi + (1 << (-sh - 1)), what)       # the rounding addend, before the shift
    return Span(rshift_round(alo, -sh), rshift_round(ahi, -sh))


#: what a user neuron's input rescale is called in a RangeError (its hint differs)
INPUT_WHAT = "its synaptic input (`input`, the accumulator rescaled to the membrane's fraction)"


COND = Span(0, 1)                     # a comparison or logic result


# ---------------------------------------------------------------------- a whole program


def expr_span(e, cur: dict[str, Span], inp: Span, u_frac: int) -> Span:
    """The range of ``e`` on states in the ranges ``cur`` and the input ``inp``; raises
    :class:`RangeError` for a value outside 64 bits."""
    def ev(x):
        return expr_span(x, cur, inp, u_frac)

    if isinstance(e, I.IConst):
        check(e.value, e.value, f"the constant {e.value * 2.0 ** -u_frac:g}")
        return Span(e.value, e.value)
    if isinstance(e, I.IState):
        return cur[e.name]
    if isinstance(e, I.IInput):
        return inp
    if isinstance(e, I.INeg):
        v = ev(e.operand)
        out = Span(-v.hi, -v.lo)
    elif isinstance(e, I.IArith):
        out = add(e.op, ev(e.left), ev(e.right))
    elif isinstance(e, I.ICoefMul):
        return _checked(mulc(e.coef, ev(e.operand)))
    elif isinstance(e, I.IMul):
        return _checked(mul(ev(e.left), ev(e.right), u_frac))
    elif isinstance(e, I.IFunc):
        args = [ev(a) for a in e.args]
        if e.name in ("min", "max") and len(args) == 2:
            out = minmax(e.name == "max", args[0], args[1])
        elif e.name == "clip" and len(args) == 3:
            out = minmax(False, minmax(True, args[0], args[1]), args[2])
        elif e.name == "abs" and len(args) == 1:
            out = absval(args[0])
        else:
            raise ValueError(f"unknown integer function {e.name}() of {len(args)} arguments")
    elif isinstance(e, (I.ICompare, I.ILogic)):
        for a in (e.operands if isinstance(e, I.ILogic) else (e.left, e.right)):
            ev(a)
        return COND
    else:
        raise TypeError(f"not an integer expression node: {e!r}")
    return _checked(out)


def _checked(s: Span) -> Span:
    check(s.lo, s.hi)
    return s


def check_program(program: I.IntProgram, *, u_w: int, u_frac: int, acc_w: int,
                  acc_frac: int) -> None:
    """Raise :class:`RangeError` if any value of one step of ``program`` (states in
    ``fixed<u_w, u_frac>``, input from an ``acc_w``-bit accumulator with ``acc_frac`` fractional
    bits) can leave 64-bit signed integers. The step is evaluated as every backend does: the
    updates in order, each saturated; the spike test; the height (``0 .. max``); the on-spike
    statements, each saturated."""
    lo, hi = -(1 << (u_w - 1)), (1 << (u_w - 1)) - 1
    cur = {name: Span(lo, hi) for name, _ in program.states}
    inp = rescaled_input(acc_w, acc_frac, u_frac)
    for a in program.update:
        cur[a.target] = clamp(expr_span(a.value, cur, inp, u_frac), lo, hi)
    expr_span(program.spike, cur, inp, u_frac)
    if program.emit is not None:
        cur[I.EMIT_KEY] = clamp(expr_span(program.emit, cur, inp, u_frac), 0, hi)
    for a in program.on_spike:
        cur[a.target] = clamp(expr_span(a.value, cur, inp, u_frac), lo, hi)
