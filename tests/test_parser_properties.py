"""Property tests: a mutated model either loads or fails with SnnError/SnnErrors, never otherwise.

Seeds are every ``examples/*.snn`` (globbed when the tests are collected) plus the inline models of
``snn_models``. Mutations delete or duplicate a character, a line or a token, truncate, swap tokens,
and insert random bytes or language fragments; several may be applied in a row.
"""
from __future__ import annotations

import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from snn_models import INLINE_MODELS, example_files
from snnc.build import build, load_text
from snnc.dsl.parser import parse_bytes
from snnc.errors import SnnError, SnnErrors
from snnc.serialize import graph_from_json, graph_to_json

SEEDS: list[tuple[str, bytes]] = [(str(p), p.read_bytes()) for p in example_files()]
SEEDS += [(f"{name}.snn", text.encode()) for name, text in INLINE_MODELS.items()]

TOKEN = re.compile(rb"\s+|#[^\n]*|\"[^\"\n]*\"|u?fixed<[^>\n]*>|[A-Za-z_][A-Za-z0-9_]*|"
                   rb"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|<=|>=|==|!=|.", re.S)

FRAGMENTS = [b"(", b")", b"[", b"]", b"{", b"}", b",", b";", b"=", b"<", b">", b"-", b"*", b"/",
             b'"', b"#", b"\n", b" ", b"\t", b"\x00", b"\xff", b"\xc3", b"\xe2\x80\xa8", b"\r",
             "\ufeff".encode(), b"0", b"1e999", b"-1", b"1.5", b"10 ms",
             b"0 ms", b"5 mV", b"3 kHz", b"fixed<8,6>", b"fixed<40,2>", b"ufixed<0,0>", b"fixed<",
             b"model", b"time", b"input", b"layer", b"output", b"neuron", b"use", b"with", b"state",
             b"param", b"update", b"spike", b"when", b"emit", b"on", b"train", b"hardware", b"and", b"or",
             b"not", b"dt", b"input", b"LIF", b"IF", b"ALIF", b"CubaLIF", b"dense", b"recurrent",
             b"conv2d", b"sumpool", b"avgpool", b"flatten", b"rate", b"count", b"decay", b"exp",
             b"steps", b"tau_mem", b"true", b"x", b"out", b'"missing.snn"', b"(((((", b")))))",
             # non-ASCII digits and spaces; constants beyond floating point
             "\u0665".encode(), "\u00a0".encode(), "\uff15".encode(), b"exp(1000) *",
             b"1e200 * 1e200 *", b"1e308 +", b"/ (1 - 1)", b"1e308 MHz"]

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def tokens(data: bytes) -> list[bytes]:
    return TOKEN.findall(data)


def lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


@st.composite
def mutation(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from([
        "delete_char", "duplicate_char", "delete_line", "duplicate_line", "delete_token",
        "duplicate_token", "swap_tokens", "truncate", "insert_bytes", "insert_fragment",
        "replace_token"]))
    n = len(data)
    if kind in ("delete_char", "duplicate_char"):
        if not n:
            return data
        i = draw(st.integers(0, n - 1))
        return data[:i] + data[i + 1:] if kind == "delete_char" else data[:i + 1] + data[i:]
    if kind in ("delete_line", "duplicate_line"):
        ls = lines(data)
        if not ls:
            return data
        i = draw(st.integers(0, len(ls) - 1))
        ls[i:i + 1] = [] if kind == "delete_line" else [ls[i], ls[i]]
        return b"".join(ls)
    if kind in ("delete_token", "duplicate_token", "swap_tokens", "replace_token"):
        ts = tokens(data)
        if len(ts) < 2:
            return data
        i = draw(st.integers(0, len(ts) - 1))
        if kind == "delete_token":
            ts[i:i + 1] = []
        elif kind == "duplicate_token":
            ts[i:i + 1] = [ts[i], b" ", ts[i]]
        elif kind == "swap_tokens":
            j = draw(st.integers(0, len(ts) - 1))
            ts[i], ts[j] = ts[j], ts[i]
        else:
            ts[i] = draw(st.sampled_from(FRAGMENTS))
        return b"".join(ts)
    if kind == "truncate":
        return data[:draw(st.integers(0, n))]
    i = draw(st.integers(0, n))
    if kind == "insert_bytes":
        extra = draw(st.binary(min_size=1, max_size=8))
    else:
        extra = draw(st.sampled_from(FRAGMENTS))
    return data[:i] + extra + data[i:]


@st.composite
def mutated_model(draw, max_mutations: int = 3) -> tuple[str, bytes]:
    path, data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, max_mutations))):
        data = draw(mutation(data))
    return path, data


def check_never_crashes(path: str, data: bytes) -> None:
    try:
        loaded = build(parse_bytes(data, path))
    except (SnnError, SnnErrors) as exc:
        errors = exc.errors if isinstance(exc, SnnErrors) else [exc]
        assert errors
        for e in errors:
            assert e.message and isinstance(e.message, str)
            assert e.severity == "error"
            if e.loc is not None:
                assert e.loc.line >= 1 and e.loc.col >= 1
                if e.loc.source is not None and e.loc.source.text:
                    assert e.loc.line <= e.loc.source.text.count("\n") + 1
            e.format()  # printing an error never fails either
            e.to_json()
        return
    # a mutation that still loads must give a consistent graph
    loaded.graph.verify()
    assert graph_from_json(graph_to_json(loaded.graph)) == loaded.graph
    for w in loaded.warnings:
        w.format()


def check_quantizes_or_fails_located(path: str, data: bytes) -> None:
    """A mutated model that loads is quantised, or refused with SnnError/SnnErrors (an
    overflowing constant of a user neuron was an OverflowError of the quantizer)."""
    import numpy as np

    from snnc.ir import parameter_count, weight_shapes
    from snnc.quantize import quantize

    try:
        graph = build(parse_bytes(data, path)).graph
    except (SnnError, SnnErrors):
        return
    if sum(parameter_count(layer) for layer in graph.layers) > 1_000_000:
        return          # a mutated size: too large to draw weights for
    rng = np.random.default_rng(0)
    weights = {layer.name: {k: rng.normal(0, 0.5, shape) for k, shape in
                            weight_shapes(layer).items()} for layer in graph.layers}
    try:
        quantize(graph, weights)
    except (SnnError, SnnErrors) as exc:
        for e in (exc.errors if isinstance(exc, SnnErrors) else [exc]):
            assert e.loc is not None and e.loc.line >= 1 and e.loc.col >= 1
            e.format()


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_model(max_mutations=3))
def test_a_mutation_that_loads_quantizes_or_fails_located(case):
    check_quantizes_or_fails_located(*case)


def test_seeds_load():
    for path, data in SEEDS:
        build(parse_bytes(data, path)).graph.verify()


@SETTINGS
@given(mutated_model(max_mutations=1))
def test_single_mutation_never_crashes(case):
    check_never_crashes(*case)


@SETTINGS
@given(mutated_model(max_mutations=4))
def test_several_mutations_never_crash(case):
    check_never_crashes(*case)


@SETTINGS
@given(st.sampled_from(SEEDS), st.binary(max_size=64), st.data())
def test_random_bytes_anywhere_never_crash(seed, junk, data):
    path, text = seed
    i = data.draw(st.integers(0, len(text)))
    check_never_crashes(path, text[:i] + junk + text[i:])


@SETTINGS
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_fragment_soup_never_crashes(parts):
    check_never_crashes("soup.snn", b" ".join(parts))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text):
    check_never_crashes("text.snn", text.encode("utf-8", errors="surrogatepass"))


def _spans(tree) -> list:
    from lark import Tree

    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Tree):
            m = node.meta
            out.append((node.data, getattr(m, "line", None), getattr(m, "column", None),
                        getattr(m, "end_line", None), getattr(m, "end_column", None)))
            stack.extend(node.children)
    return out


def test_fast_parser_keeps_lark_positions():
    """The parser skips lark's bookkeeping for single-child rules; spans must not change."""
    from lark import Lark

    from snnc.dsl import parser as P

    plain = Lark.open("grammar.lark", rel_to=P.__file__, parser="lalr", propagate_positions=True,
                      maybe_placeholders=True)
    for path, data in SEEDS:
        text = data.decode()
        assert _spans(P._PARSER.parse(text)) == _spans(plain.parse(text)), path


# ------------------------------------------------------------------ located syntax errors

HEAD = "model m\ntime { dt = 1 ms; steps = 10 }\ninput x[4] = rate\n"


def _error(text: str) -> SnnError:
    try:
        load_text(text, "p.snn")
    except SnnErrors as exc:
        return exc.errors[0]
    except SnnError as exc:
        return exc
    raise AssertionError("the model loaded")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4096), st.sampled_from(["{n}", "{n}.0", "{n}.", "{n}e0", "{m}e{k}",
                                              "{n}.000E+00"]))
def test_a_whole_number_dimension_loads_in_every_form(n, form):
    """A dimension is an integer in every form section 5 takes (`64`, `64.0`, `64.`, `6.4e1`)."""
    k = len(str(n)) - 1
    written = form.format(n=n, m=n / 10**k, k=k)
    assume(float(written) == n)                 # n / 10**k printed back exactly
    text = (HEAD.replace("x[4]", f"x[{written}]")
            + "layer l = dense(x, 2) with IF\noutput l = count\n")
    assert load_text(text, "p.snn").graph.inputs[0].shape == (n,)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 100), st.integers(1, 99).filter(lambda f: f % 10), st.booleans())
def test_a_fractional_dimension_is_located(whole, tenths, second):
    written = f"{whole}.{tenths:02d}"
    shape = f"2, {written}" if second else written
    text = HEAD.replace("x[4]", f"x[{shape}]") + "layer l = flatten(x)\noutput l = count\n"
    e = _error(text)
    assert (e.line, e.col) == (3, 9 + 3 * second)
    assert e.message == (f"dimension {1 + second} of input 'x' must be an integer, got "
                         f"{float(written)!r}")


#: assignments of a neuron's update, written on one line without separators; each but the first
#: follows a number (`v = 2 w = 3`)
_ITEMS = st.lists(st.tuples(st.sampled_from(["v", "w"]), st.integers(0, 99)), min_size=1,
                  max_size=4)
_FAULTS = ["+", "*", "= 1", "v =", "(", ", ,"]


@settings(max_examples=80, deadline=None)
@given(_ITEMS, st.sampled_from(_FAULTS))
def test_a_fault_after_numbers_and_words_on_one_line_is_blamed_itself(items, fault):
    """`update { v = 2 w = v + }`: the number-then-word `2 w` is valid (items need no separator);
    the error is at the fault or after it, never a guess (unknown unit, dashed value) before it."""
    update = "update { " + " ".join(f"{name} = {n}" for name, n in items) + f" {fault} }}"
    text = HEAD + ("neuron N {\n  state v = 0\n  state w = 0\n  " + update + "\n"
                   "  spike when v > 1\n}\nlayer l = dense(x, 4) with N\noutput l = count\n")
    e = _error(text)
    fault_col = len("  update { " + " ".join(f"{name} = {n}" for name, n in items)) + 2
    assert e.line == 7 and e.col >= fault_col, e.format()
    assert e.message.startswith("unexpected "), e.format()


_STATEMENTS = ["output h = count", "layer g = dense(h, 2) with IF", "input y[2] = rate",
               "train { epochs = 1 }", "hardware { lanes = 2 }", "neuron N { state v = 0 }",
               "time { dt = 1 ms; steps = 2 }", "model q", 'use "lib.snn"']


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_STATEMENTS), st.sampled_from(["\n", " ", "\n\n  ", " # no neuron\n"]))
def test_a_statement_after_with_is_a_missing_neuron(statement, gap):
    """`with` and then the next statement: its keyword was read as the neuron's name, and the
    error fell on the word after it."""
    text = HEAD + "layer h = dense(x, 3) with" + gap + statement + "\n"
    e = _error(text)
    keyword = statement.split()[0]
    line = 4 + gap.count("\n")
    layer = "layer h = dense(x, 3) with"
    col = 1 + len(gap.rsplit("\n", 1)[-1]) + (len(layer) if "\n" not in gap else 0)
    assert (e.line, e.col, e.message) == (line, col, f"expected a neuron after `with`, got "
                                                     f"keyword '{keyword}'")
