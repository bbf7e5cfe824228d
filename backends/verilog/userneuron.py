"""A user-defined neuron's integer program (:mod:`snnc.intexpr`) lowered to a datapath of the
hand-written ``hw/snn_op_*`` primitives (and ``snn_sat``, ``snn_rescale``).

:func:`lower_program` returns a :class:`UserHW`: the text of one combinational module (built line
by line with :class:`~snnc.backends.verilog.emitter.CodeBuilder`; it only declares wires, ties
constants and instantiates library modules) that computes one step of one neuron exactly as
docs/semantics.md section 4 ("User-defined neurons in integers") and the golden model
(``snnc.backends.golden.neurons.ProgramNeuron``) do:

* ``in = rescale(acc, ACC_FRAC, Fm)`` (``snn_rescale``);
* the ``update`` statements in order, each saturated to the membrane format (``snn_sat``);
* ``S = spike != 0``; for a graded neuron the height ``h = sat_H(emit)`` (``snn_op_sat`` with
  ``NONNEG``: ``0 .. max(membrane)``), 0 without a spike (``snn_op_select``);
* the ``on spike`` statements in order, each saturated; a state that ``on spike`` assigns is
  ``S ? (its on-spike value) : (its update value)`` (``snn_op_select``);
* the clamps of each state (of every assignment that can clamp: ``update`` ones always, ``on
  spike`` ones only where ``S``) counted per step (``snn_op_count``).

Every intermediate gets the exact range of its values (:mod:`snnc.intrange`: interval arithmetic
over the stored states' range and the accumulator's), and its wire the signed width of that
range, so nothing wraps; a range beyond 64 bits, in which the golden model computes, is already
a located error of the quantizer (kept here as a check); the cases :func:`lower_program` lists in
``UserLoweringError`` are located errors from the generator.

Module ports (fixed widths; ``snn_user_neuron``, generated next to it, dispatches on the core's
``USER_ID``): ``acc`` (``ACC_W`` bits), ``x_in`` / ``x_out`` (``NS`` states of ``U_W`` bits,
state 0 in the low bits), ``s_out``, ``h_out`` (the height, 0 unless graded), ``sat``
(``5 * SAT_W`` bits: the clamp counts of the core's U, I, A, P, H counters, low to high).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from snnc import intexpr as I
from snnc import intrange as R
from snnc.backends.verilog.emitter import CodeBuilder
from snnc.intexpr import EMIT_KEY
from snnc.intrange import MAX_BITS, sbits

#: the core's saturation counters, in the order of the ``sat`` port (``sat_<k>_count``)
SAT_PORTS = "uiaph"
#: ``KIND`` of a user-defined neuron in ``snn_layer_core``
USER_KIND = 5
_CMP = {"<": 0, "<=": 1, ">": 2, ">=": 3, "==": 4, "!=": 5}
_LOGIC = {"and": 0, "or": 1, "not": 2}


class UserLoweringError(Exception):
    """A user-defined neuron the Verilog datapath cannot build (the message completes
    "... is not supported by the Verilog backend yet")."""

    def __init__(self, what: str, hint: str | None = None):
        super().__init__(what)
        self.what, self.hint = what, hint


def _lit(value: int, width: int) -> str:
    """A sized signed literal of ``width`` bits (two's complement hex)."""
    return f"{width}'sh{int(value) & ((1 << width) - 1):x}"


@dataclass
class _Val:
    wire: str
    lo: int
    hi: int
    width: int
    cond: bool = False          # a 0/1 condition (1-bit, unsigned)


@dataclass
class UserHW:
    """One layer's lowered neuron."""

    module: str                     # the module name
    text: list[str]                 # its lines
    states: list[tuple[str, int]]   # (name, initial value)
    graded: bool
    sat_w: int                      # bits of each per-step clamp count
    sat_map: dict = field(default_factory=dict)   # state name / "emit" -> counter letter
    init_word: int = 0              # one lane's initial state word (states, S = 0, H = 0)
    primitives: set = field(default_factory=set)  # library modules instantiated

    @property
    def ns(self) -> int:
        return len(self.states)


class _Lowering:
    def __init__(self, program: I.IntProgram, u_w: int, u_frac: int, acc_w: int, acc_frac: int):
        self.p = program
        self.u_w, self.u_frac = u_w, u_frac
        self.acc_w, self.acc_frac = acc_w, acc_frac
        self.lo, self.hi = -(1 << (u_w - 1)), (1 << (u_w - 1)) - 1
        self.o = CodeBuilder()
        self.n = 0
        self.used: set[str] = set()
        self.input: _Val | None = None
        self.consts: dict[tuple[int, int], _Val] = {}
        self.memo: dict = {}

    # ------------------------------------------------------------------ helpers
    def _name(self, prefix: str = "n") -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def _check(self, lo: int, hi: int) -> None:
        self._ranged(R.check, lo, hi)

    def _ranged(self, fn, *args):
        """``fn(*args)`` of :mod:`snnc.intrange`, its RangeError as a UserLoweringError."""
        try:
            return fn(*args)
        except R.RangeError as exc:
            raise UserLoweringError(
                f"neuron '{self.p.name}' with {exc.what} of {exc.bits} bits",
                f"the integer semantics computes in {MAX_BITS}-bit integers: use a narrower "
                "membrane format or smaller constants") from None

    def _wire(self, lo: int, hi: int, cond: bool = False) -> _Val:
        self._check(lo, hi)
        name = self._name()
        if cond:
            self.o.line(f"wire {name};")
            return _Val(name, 0, 1, 1, True)
        w = sbits(lo, hi)
        self.o.line(f"wire signed [{w - 1}:0] {name};")
        return _Val(name, lo, hi, w)

    def _inst(self, module: str, params: dict, ports: dict) -> None:
        self.used.add(module)
        ps = ", ".join(f".{k}({v})" for k, v in params.items())
        self.o.line(f"{module} #({ps}) u_{self.n} (" if ps else f"{module} u_{self.n} (")
        with self.o.indent():
            items = list(ports.items())
            for i, (k, v) in enumerate(items):
                self.o.line(f".{k}({v}){',' if i < len(items) - 1 else ''}")
        self.o.line(");")

    def const(self, value: int) -> _Val:
        value = int(value)
        self._check(value, value)
        w = sbits(value, value)
        key = (value, w)
        if key not in self.consts:
            name = self._name("c")
            self.o.line(f"wire signed [{w - 1}:0] {name} = {_lit(value, w)};")
            self.consts[key] = _Val(name, value, value, w)
        return self.consts[key]

    def num(self, v: _Val) -> _Val:
        """A condition as the signed number 0/1 (2 bits)."""
        if not v.cond:
            return v
        name = self._name()
        self.o.line(f"wire signed [1:0] {name} = {{1'b0, {v.wire}}};")
        return _Val(name, 0, 1, 2)

    def cond(self, v: _Val) -> _Val:
        """A number as the condition ``v != 0``."""
        if v.cond:
            return v
        return self.compare("!=", v, self.const(0))

    # ------------------------------------------------------------------ operations
    def add(self, op: str, a: _Val, b: _Val) -> _Val:
        a, b = self.num(a), self.num(b)
        r = R.add(op, R.Span(a.lo, a.hi), R.Span(b.lo, b.hi))
        y = self._wire(r.lo, r.hi)
        self._inst("snn_op_add" if op == "+" else "snn_op_sub",
                   {"A_W": a.width, "B_W": b.width, "OUT_W": y.width},
                   {"a": a.wire, "b": b.wire, "y": y.wire})
        return y

    def mulc(self, coef: int, x: _Val, shift: int = 16) -> _Val:
        x = self.num(x)
        coef = int(coef)
        r = self._ranged(R.mulc, coef, R.Span(x.lo, x.hi), shift)
        c_w = sbits(coef, coef)
        y = self._wire(r.lo, r.hi)
        self._inst("snn_op_mulc", {"IN_W": x.width, "OUT_W": y.width, "C_W": c_w,
                                   "COEF": _lit(coef, 64), "SHIFT": shift},
                   {"x": x.wire, "y": y.wire})
        return y

    def mul(self, a: _Val, b: _Val) -> _Val:
        a, b = self.num(a), self.num(b)
        s = self.u_frac
        r = self._ranged(R.mul, R.Span(a.lo, a.hi), R.Span(b.lo, b.hi), s)
        y = self._wire(r.lo, r.hi)
        self._inst("snn_op_mul", {"A_W": a.width, "B_W": b.width, "OUT_W": y.width,
                                  "SHIFT": max(0, s)},
                   {"a": a.wire, "b": b.wire, "y": y.wire})
        return y

    def minmax(self, is_max: bool, a: _Val, b: _Val) -> _Val:
        a, b = self.num(a), self.num(b)
        r = R.minmax(is_max, R.Span(a.lo, a.hi), R.Span(b.lo, b.hi))
        y = self._wire(r.lo, r.hi)
        self._inst("snn_op_minmax", {"A_W": a.width, "B_W": b.width, "OUT_W": y.width,
                                     "MAX": int(is_max)},
                   {"a": a.wire, "b": b.wire, "y": y.wire})
        return y

    def absval(self, x: _Val) -> _Val:
        x = self.num(x)
        r = R.absval(R.Span(x.lo, x.hi))
        y = self._wire(r.lo, r.hi)
        self._inst("snn_op_abs", {"IN_W": x.width, "OUT_W": y.width},
                   {"x": x.wire, "y": y.wire})
        return y

    def compare(self, op: str, a: _Val, b: _Val) -> _Val:
        a, b = self.num(a), self.num(b)
        y = self._wire(0, 1, cond=True)
        self._inst("snn_op_cmp", {"A_W": a.width, "B_W": b.width, "OP": _CMP[op]},
                   {"a": a.wire, "b": b.wire, "y": y.wire})
        return y

    def logic(self, op: str, a: _Val, b: _Val | None = None) -> _Val:
        a = self.cond(a)
        b = self.cond(b) if b is not None else None
        y = self._wire(0, 1, cond=True)
        self._inst("snn_op_logic", {"OP": _LOGIC[op]},
                   {"a": a.wire, "b": b.wire if b is not None else "1'b0", "y": y.wire})
        return y

    def select(self, sel: _Val, a: _Val, b: _Val, width: int | None = None) -> _Val:
        a, b = self.num(a), self.num(b)
        r = R.union(R.Span(a.lo, a.hi), R.Span(b.lo, b.hi))
        lo, hi = r.lo, r.hi
        self._check(lo, hi)
        name = self._name()
        w = width if width is not None else sbits(lo, hi)
        self.o.line(f"wire signed [{w - 1}:0] {name};")
        self._inst("snn_op_select", {"A_W": a.width, "B_W": b.width, "OUT_W": w},
                   {"sel": sel.wire, "a": a.wire, "b": b.wire, "y": name})
        return _Val(name, lo, hi, w)

    def saturate(self, v: _Val, nonneg: bool = False) -> tuple[_Val, str | None]:
        """``v`` clamped to the membrane format (or ``0 .. max`` with ``nonneg``): the value
        (``U_W`` bits) and the wire of its clamp flag (None when it can never clamp)."""
        v = self.num(v)
        low = 0 if nonneg else self.lo
        can = v.lo < low or v.hi > self.hi
        name, flag = self._name(), self._name("f")
        self.o.line(f"wire signed [{self.u_w - 1}:0] {name};")
        self.o.line(f"wire {flag};")
        if nonneg:
            self._inst("snn_op_sat", {"IN_W": v.width, "OUT_W": self.u_w, "NONNEG": 1},
                       {"din": v.wire, "dout": name, "sat": flag})
        else:
            self._inst("snn_sat", {"IN_W": v.width, "OUT_W": self.u_w},
                       {"din": v.wire, "dout": name, "sat": flag})
        r = R.clamp(R.Span(v.lo, v.hi), low, self.hi)
        return _Val(name, r.lo, r.hi, self.u_w), (flag if can else None)

    def input_value(self) -> _Val:
        if self.input is None:
            sh = self.u_frac - self.acc_frac
            r = R.rescaled_input(self.acc_w, self.acc_frac, self.u_frac)
            y = self._wire(r.lo, r.hi)
            self._inst("snn_rescale", {"IN_W": self.acc_w, "OUT_W": y.width, "SHIFT": sh},
                       {"din": "acc", "dout": y.wire})
            self.input = y
        return self.input

    # ------------------------------------------------------------------ expressions
    def expr(self, e, cur: dict) -> _Val:
        """``e`` on the current state values ``cur``; an expression already lowered on the same
        values is shared (one piece of hardware for, e.g., a spike test's and a height's
        ``threshold + a``)."""
        key = (e, tuple(sorted((k, v.wire) for k, v in cur.items())))
        if key not in self.memo:
            self.memo[key] = self._expr(e, cur)
        return self.memo[key]

    def _expr(self, e, cur: dict) -> _Val:
        if isinstance(e, I.IConst):
            return self.const(e.value)
        if isinstance(e, I.IState):
            return cur[e.name]
        if isinstance(e, I.IInput):
            return self.input_value()
        if isinstance(e, I.INeg):
            return self.add("-", self.const(0), self.expr(e.operand, cur))
        if isinstance(e, I.IArith):
            if e.op not in ("+", "-"):
                raise UserLoweringError(f"neuron '{self.p.name}' with the integer operator "
                                        f"{e.op!r}")
            return self.add(e.op, self.expr(e.left, cur), self.expr(e.right, cur))
        if isinstance(e, I.ICoefMul):
            return self.mulc(e.coef, self.expr(e.operand, cur))
        if isinstance(e, I.IMul):
            return self.mul(self.expr(e.left, cur), self.expr(e.right, cur))
        if isinstance(e, I.IFunc):
            args = [self.expr(a, cur) for a in e.args]
            if e.name in ("min", "max") and len(args) == 2:
                return self.minmax(e.name == "max", args[0], args[1])
            if e.name == "clip" and len(args) == 3:
                return self.minmax(False, self.minmax(True, args[0], args[1]), args[2])
            if e.name == "abs" and len(args) == 1:
                return self.absval(args[0])
            raise UserLoweringError(f"neuron '{self.p.name}' with the function {e.name}() of "
                                    f"{len(args)} arguments")
        if isinstance(e, I.ICompare):
            if e.op not in _CMP:
                raise UserLoweringError(f"neuron '{self.p.name}' with the comparison {e.op!r}")
            return self.compare(e.op, self.expr(e.left, cur), self.expr(e.right, cur))
        if isinstance(e, I.ILogic):
            args = [self.expr(a, cur) for a in e.operands]
            if e.op == "not" and len(args) == 1:
                return self.logic("not", args[0])
            if e.op in ("and", "or") and len(args) == 2:
                return self.logic(e.op, args[0], args[1])
            raise UserLoweringError(f"neuron '{self.p.name}' with the logic operator {e.op!r} "
                                    f"of {len(args)} operands")
        raise UserLoweringError(f"neuron '{self.p.name}' with the integer expression "
                                f"{type(e).__name__}")


def lower_program(program: I.IntProgram, *, u_w: int, u_frac: int, acc_w: int, acc_frac: int,
                  module: str, title: str = "") -> UserHW:
    """Lower ``program`` (states in the membrane format ``fixed<u_w, u_frac>``, input
    accumulated in ``acc_w`` bits with ``acc_frac`` fractional bits) to the module ``module``.
    Raises :class:`UserLoweringError` for a neuron it cannot build: more states than the core has
    saturation counters (5, or 4 and the height of a graded neuron), an initial value outside
    the membrane format, an intermediate beyond 64 bits."""
    states = [(n, int(v)) for n, v in program.states]
    graded = program.emit is not None
    ns = len(states)
    if ns == 0:
        raise UserLoweringError(f"neuron '{program.name}' without a state")
    keys = [n for n, _ in states] + ([EMIT_KEY] if graded else [])
    if len(keys) > len(SAT_PORTS):
        raise UserLoweringError(
            f"neuron '{program.name}' with {ns} states" + (" and graded events" if graded else ""),
            f"the layer core counts the clamps of at most {len(SAT_PORTS)} values per neuron: "
            f"{len(SAT_PORTS)} states, or {len(SAT_PORTS) - 1} states and the height of a graded "
            "neuron")
    lo, hi = -(1 << (u_w - 1)), (1 << (u_w - 1)) - 1
    for name, v in states:
        if not lo <= v <= hi:
            raise UserLoweringError(
                f"neuron '{program.name}' with the initial value {v} of state '{name}' outside "
                f"the membrane range {lo} .. {hi}")
    lane_bits = ns * u_w + 1 + (u_w if graded else 1)
    if lane_bits > 1024:
        raise UserLoweringError(
            f"neuron '{program.name}' with a {lane_bits}-bit state word",
            "the layer core's USER_INIT parameter holds one lane's state in 1024 bits")
    sat_map = {k: SAT_PORTS[i] if k != EMIT_KEY else "h" for i, k in enumerate(keys)}
    if graded:
        sat_map[EMIT_KEY] = "h"

    L = _Lowering(program, u_w, u_frac, acc_w, acc_frac)
    body = L.o
    cur: dict[str, _Val] = {}
    for k, (name, _) in enumerate(states):
        wire = f"x{k}"
        body.line(f"wire signed [{u_w - 1}:0] {wire} = x_in[{k * u_w} +: {u_w}];")
        cur[name] = _Val(wire, lo, hi, u_w)
    flags: dict[str, list[str]] = {k: [] for k in keys}
    # update: in order, each saturated (counted every step)
    for a in program.update:
        body.line(f"// update: {_ascii(a.target)} = ...")
        v, flag = L.saturate(L.expr(a.value, cur))
        cur[a.target] = v
        if flag:
            flags[a.target].append(flag)
    upd = dict(cur)
    body.line("// the spike test, on the updated states")
    s = L.cond(L.expr(program.spike, cur))
    h_out = None
    if graded:
        body.line("// the height: sat_H(emit) = clamp to 0 .. max(membrane) where S, else 0")
        hv, hflag = L.saturate(L.expr(program.emit, cur), nonneg=True)
        h_out = L.select(s, hv, L.const(0), width=u_w)
        cur[EMIT_KEY] = hv
        if hflag:
            flags[EMIT_KEY].append(L.logic("and", _Val(hflag, 0, 1, 1, True), s).wire)
    assigned = []
    for a in program.on_spike:
        body.line(f"// on spike: {_ascii(a.target)} = ... (where S)")
        v, flag = L.saturate(L.expr(a.value, cur))
        cur[a.target] = v
        if a.target not in assigned:
            assigned.append(a.target)
        if flag:
            flags[a.target].append(L.logic("and", _Val(flag, 0, 1, 1, True), s).wire)
    outs = []
    for name, _ in states:
        if name in assigned:
            outs.append(L.select(s, cur[name], upd[name], width=u_w).wire)
        else:
            outs.append(upd[name].wire)
    # clamp counts per counter
    most = max([len(f) for f in flags.values()] + [1])
    sat_w = max(1, most.bit_length())
    counts = []
    for letter in SAT_PORTS:
        fl = [f for k, f_list in flags.items() if sat_map[k] == letter for f in f_list]
        if not fl:
            counts.append(f"{sat_w}'d0")
            continue
        name = L._name("k")
        body.line(f"wire [{sat_w - 1}:0] {name};")
        din = fl[0] if len(fl) == 1 else "{" + ", ".join(reversed(fl)) + "}"
        L._inst("snn_op_count", {"N": len(fl), "OUT_W": sat_w}, {"din": din, "y": name})
        counts.append(name)

    o = CodeBuilder()
    o.line(f"// {module}: one step of the user-defined neuron '{_ascii(program.name)}'"
           + (f" ({_ascii(title)})" if title else "") + ", combinational;")
    o.line(f"// states (membrane format fixed<{u_w},{u_frac}>, x_in / x_out low to high): "
           + ", ".join(_ascii(n) for n, _ in states)
           + ("; graded: h_out is the height" if graded else ""))
    o.line("// sat: clamp counts of the core's counters U, I, A, P, H: "
           + ", ".join(f"{_ascii(k)} -> {sat_map[k].upper()}" for k in keys))
    o.line(f"module {module} (")
    with o.indent():
        o.line(f"input  wire signed [{acc_w - 1}:0] acc,")
        o.line(f"input  wire [{ns * u_w - 1}:0] x_in,")
        o.line(f"output wire [{ns * u_w - 1}:0] x_out,")
        o.line("output wire s_out,")
        o.line(f"output wire [{u_w - 1}:0] h_out,")
        o.line(f"output wire [{5 * sat_w - 1}:0] sat")
    o.line(");")
    with o.indent():
        for line in body.text().splitlines():
            o.line(line)
        o.line("assign x_out = {" + ", ".join(reversed(outs)) + "};")
        o.line(f"assign s_out = {s.wire};")
        o.line(f"assign h_out = {h_out.wire if h_out is not None else _lit(0, u_w)};")
        o.line("assign sat = {" + ", ".join(reversed(counts)) + "};")
    o.line("endmodule")
    init = 0
    for k, (_, v) in enumerate(states):
        init |= (v & ((1 << u_w) - 1)) << (k * u_w)
    return UserHW(module, o.text().splitlines(), states, graded, sat_w, sat_map, init, L.used)


def dispatcher(users: list[tuple[int, UserHW]]) -> list[str]:
    """``snn_user_neuron``: the module the layer core instantiates for ``KIND = 5``, choosing
    the lowered neuron of its ``USER_ID`` (the layer index)."""
    o = CodeBuilder()
    o.line("// snn_user_neuron: the user-defined neuron of the core whose USER_ID is the layer")
    o.line("// index (hw/snn_layer_core.v, KIND = 5)")
    o.line("module snn_user_neuron #(")
    with o.indent():
        for i, name in enumerate(("USER_ID", "ACC_W", "U_W", "NS", "SAT_W")):
            o.line(f"parameter integer {name} = 1{',' if i < 4 else ''}")
    o.line(") (")
    with o.indent():
        o.line("input  wire signed [ACC_W-1:0] acc,")
        o.line("input  wire [NS*U_W-1:0] x_in,")
        o.line("output wire [NS*U_W-1:0] x_out,")
        o.line("output wire s_out,")
        o.line("output wire [U_W-1:0] h_out,")
        o.line("output wire [5*SAT_W-1:0] sat")
    o.line(");")
    with o.indent():
        o.line("generate")
        with o.indent():
            for i, (uid, u) in enumerate(users):
                o.line(f"{'if' if i == 0 else 'end else if'} (USER_ID == {uid}) begin : g_u{uid}")
                with o.indent():
                    o.line(f"{u.module} u_neuron (.acc(acc), .x_in(x_in), .x_out(x_out), "
                           ".s_out(s_out), .h_out(h_out), .sat(sat));")
            o.line("end else begin : g_none")
            with o.indent():
                o.line("assign x_out = {(NS * U_W){1'b0}};")
                o.line("assign s_out = 1'b0;")
                o.line("assign h_out = {U_W{1'b0}};")
                o.line("assign sat   = {(5 * SAT_W){1'b0}};")
            o.line("end")
        o.line("endgenerate")
    o.line("endmodule")
    return o.text().splitlines()


def user_file(users: list[tuple[int, UserHW]], model: str) -> str:
    """The text of ``snn_user.v``: every lowered neuron and the dispatcher."""
    o = CodeBuilder()
    o.line(f"// snn_user.v: generated by snnc from model '{_ascii(model)}' -- do not edit.")
    o.line("// The user-defined neurons of the model as datapaths of hw/snn_op_* primitives.")
    o.line("`default_nettype none")
    o.line("/* verilator lint_off UNUSEDSIGNAL */")
    o.line("/* verilator lint_off DECLFILENAME */")
    for _, u in users:
        o.line("")
        for line in u.text:
            o.line(line)
    o.line("")
    for line in dispatcher(users):
        o.line(line)
    o.line("/* verilator lint_on DECLFILENAME */")
    o.line("/* verilator lint_on UNUSEDSIGNAL */")
    o.line("`default_nettype wire")
    return o.text()


def _ascii(text: str) -> str:
    """Model names in comments: printable ASCII, no ``*/`` or backslash."""
    out = "".join(c if " " <= c <= "~" else "?" for c in str(text))
    return out.replace("\\", "/").replace("*/", "*_/")
