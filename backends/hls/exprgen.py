"""A user-defined neuron's integer program (snnc.intexpr) as a C++ neuron class.

The class has the members the layer templates of ``hw/hls/snn_layer.h`` expect (``state_t``,
``counters_t``, ``GRADED``, ``init``, ``step``, ``payload``: a user neuron sends plain spikes, or
with ``emit`` graded events whose payload is the height ``h``); ``step`` runs the update statements
in order, each saturated to the membrane format and counted, evaluates the spike condition on the
updated state and, where the neuron spiked, the height (saturated to ``0 .. max(membrane)`` and
counted, as an ASN's) and then the on-spike statements (docs/semantics.md, "User-defined neurons in
integers"). Every value is a 64-bit integer (``snn::i64``) as in the golden model.
"""
from __future__ import annotations

from snnc import intexpr as I
from snnc.backends.verilog.emitter import CodeBuilder
from snnc.intexpr import EMIT_KEY

_COMPARE = {"<", "<=", ">", ">=", "==", "!="}


def int_literal(v: int) -> str:
    """``v`` as a C++ ``snn::i64`` expression. -2^63 is written ``-(2^63 - 1) - 1``: the literal
    9223372036854775808 has no signed type (g++ warned "integer constant is so large that it is
    unsigned")."""
    v = int(v)
    if v == -(1 << 63):
        return f"snn::i64(-{(1 << 63) - 1}LL - 1)"
    return f"snn::i64({v})" if v >= 0 else f"snn::i64(-{-v})"


def c_expr(e, names: dict[str, str], frac: int) -> str:
    """``e`` as a C++ expression of type ``snn::i64``; ``names`` maps states to local variables."""
    if isinstance(e, I.IConst):
        return int_literal(e.value)
    if isinstance(e, I.IState):
        return names[e.name]
    if isinstance(e, I.IInput):
        return "in"
    if isinstance(e, I.INeg):
        return f"(-{c_expr(e.operand, names, frac)})"
    if isinstance(e, I.IArith):
        if e.op not in ("+", "-"):
            raise ValueError(f"unknown integer operator {e.op!r}")
        return f"({c_expr(e.left, names, frac)} {e.op} {c_expr(e.right, names, frac)})"
    if isinstance(e, I.ICoefMul):
        return f"snn::cmul({int_literal(e.coef)}, {c_expr(e.operand, names, frac)})"
    if isinstance(e, I.IMul):
        return (f"snn::mul_round<{frac}>({c_expr(e.left, names, frac)}, "
                f"{c_expr(e.right, names, frac)})")
    if isinstance(e, I.IFunc):
        args = [c_expr(a, names, frac) for a in e.args]
        fn = {"min": "snn::min64", "max": "snn::max64", "clip": "snn::clip64",
              "abs": "snn::abs64"}.get(e.name)
        arity = {"min": 2, "max": 2, "clip": 3, "abs": 1}.get(e.name)
        if fn is None or len(args) != arity:
            raise ValueError(f"unknown integer function {e.name!r} with {len(args)} arguments")
        return f"{fn}({', '.join(args)})"
    if isinstance(e, I.ICompare):
        if e.op not in _COMPARE:
            raise ValueError(f"unknown comparison {e.op!r}")
        return f"snn::i64({c_expr(e.left, names, frac)} {e.op} {c_expr(e.right, names, frac)})"
    if isinstance(e, I.ILogic):
        args = [f"({c_expr(a, names, frac)} != 0)" for a in e.operands]
        if e.op == "not" and len(args) == 1:
            return f"snn::i64(!{args[0]})"
        if e.op in ("and", "or") and len(args) == 2:
            op = "&&" if e.op == "and" else "||"
            return f"snn::i64({args[0]} {op} {args[1]})"
        raise ValueError(f"unknown logic operator {e.op!r} with {len(args)} operands")
    raise TypeError(f"not an integer expression node: {e!r}")


def _reads_input(program: I.IntProgram) -> bool:
    def walk(e) -> bool:
        if isinstance(e, I.IInput):
            return True
        for child in ("operand", "left", "right"):
            if hasattr(e, child) and walk(getattr(e, child)):
                return True
        for many in ("args", "operands"):
            if hasattr(e, many) and any(walk(a) for a in getattr(e, many)):
                return True
        return False
    exprs = [a.value for a in program.update + program.on_spike] + [program.spike]
    exprs += [program.emit] if program.emit is not None else []
    return any(walk(e) for e in exprs)


def emit_program_neuron(o: CodeBuilder, cls: str, program: I.IntProgram, states, fmt) -> None:
    """Append the neuron class ``cls`` for ``program``; ``states`` are the layer's StateHLS
    (the program's states in order, then S), ``fmt`` the membrane format."""
    fields = {s.name: s.field for s in states if s.name != "S"}
    local = {name: "v_" + field for name, field in fields.items()}
    graded = program.emit is not None
    lo, hi = fmt.min_int, fmt.max_int
    st_type = f"ap_int<{fmt.width}>" if fmt.signed else f"ap_uint<{fmt.width}>"
    o.line(f"// user-defined neuron '{_ascii(program.name)}' (states: "
           f"{', '.join(_ascii(n) for n, _ in program.states)})")
    o.line(f"struct {cls} {{")
    with o.indent():
        o.line("struct state_t {")
        with o.indent():
            for name, _ in program.states:
                o.line(f"{st_type} {fields[name]};")
            if graded:
                o.line(f"{st_type} {fields[EMIT_KEY]};   // this step's event height (0: none)")
            o.line("ap_uint<1> s;")
        o.line("};")
        o.line("struct counters_t {")
        with o.indent():
            for name, _ in program.states:
                o.line(f"snn::counter_t {fields[name]};")
            if graded:
                o.line(f"snn::counter_t {fields[EMIT_KEY]};")
        o.line("};")
        if graded:
            o.line("static const bool GRADED = true;   // graded events: the payload is the height")
        else:
            o.line("static const bool GRADED = false;   // plain spikes (payload 1)")
        o.line("")
        o.line("static void init(state_t& st) {")
        with o.indent():
            for name, value in program.states:
                o.line(f"st.{fields[name]} = {int_literal(value)};")
            if graded:
                o.line(f"st.{fields[EMIT_KEY]} = 0;")
            o.line("st.s = 0;")
        o.line("}")
        o.line("")
        o.line("static bool step(snn::i64 in, state_t& st, counters_t& cnt) {")
        with o.indent():
            if not _reads_input(program):
                o.line("(void)in;")
            for name, _ in program.states:
                o.line(f"snn::i64 {local[name]} = st.{fields[name]};")
            frac = fmt.frac
            for a in program.update:
                o.line(f"{local[a.target]} = snn::saturate<{int_literal(lo)}, {int_literal(hi)}>(")
                with o.indent(2):
                    o.line(f"{c_expr(a.value, local, frac)}, cnt.{fields[a.target]});")
            o.line(f"const bool s = {c_expr(program.spike, local, frac)} != 0;")
            if graded:
                o.line(f"snn::i64 {local[EMIT_KEY]} = 0;   // the height (`height` in on spike)")
            if program.on_spike or graded:
                o.line("if (s) {")
                with o.indent():
                    if graded:
                        o.line(f"{local[EMIT_KEY]} = snn::saturate<snn::i64(0), "
                               f"{int_literal(hi)}>(")
                        with o.indent(2):
                            o.line(f"{c_expr(program.emit, local, frac)}, "
                                   f"cnt.{fields[EMIT_KEY]});")
                    for a in program.on_spike:
                        o.line(f"{local[a.target]} = snn::saturate<{int_literal(lo)}, "
                               f"{int_literal(hi)}>(")
                        with o.indent(2):
                            o.line(f"{c_expr(a.value, local, frac)}, cnt.{fields[a.target]});")
                o.line("}")
            for name, _ in program.states:
                o.line(f"st.{fields[name]} = {local[name]};")
            if graded:
                o.line(f"st.{fields[EMIT_KEY]} = {local[EMIT_KEY]};")
            o.line("st.s = s;")
            o.line("return s;")
        o.line("}")
        o.line("")
        if graded:
            o.line("// the height of the event sent by the last step (0 when it did not spike)")
            o.line(f"static snn::i64 payload(const state_t& st) {{ return "
                   f"static_cast<snn::i64>(st.{fields[EMIT_KEY]}); }}")
        else:
            o.line("static snn::i64 payload(const state_t&) { return 1; }")
    o.line("};")


def _ascii(text: str) -> str:
    """Model names in comments: printable ASCII, no backslash (a line-continuation) or ``*/``."""
    out = "".join(c if " " <= c <= "~" else "?" for c in text)
    return out.replace("\\", "/").replace("*/", "*_/")
