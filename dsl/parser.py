"""Parse ``.snn`` text into the AST of :mod:`snnc.dsl.ast`, with every failure a located SnnError."""
from __future__ import annotations

import contextvars
import math
import os
import re
import unicodedata

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from snnc.dsl import ast
from snnc.errors import Loc, SnnError, SnnErrors, SourceFile, loc_at_offset
from snnc.types import UNITS

#: Larger files are refused before parsing (a model is a few thousand lines at most).
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Deeper nesting of expressions is refused (it is never needed, and keeps the checker's recursion
#: safe): levels of operators, calls and lists, where a chain of one kind of operator
#: (`a + b - c`, `a * b / c`, `p and q and r`, `p or q`) is one level however long.
MAX_NESTING = 100
#: The passes after the parser recurse into a chain's operators one by one (`a + b + c` is
#: `(a + b) + c`): an expression may be at most this many operations deep when each counts.
MAX_DEPTH = 200

#: The text being parsed, for :func:`_whole_keyword` (lexer callbacks see tokens only).
_TEXT: contextvars.ContextVar[str] = contextvars.ContextVar("snnc_parse_text", default="")


class _GluedKeyword(Exception):
    """A keyword the lexer took from the start of a longer word (`modelm`, `inputs`)."""

    def __init__(self, token: Token):
        super().__init__(str(token))
        self.token = token


def _whole_keyword(token: Token) -> Token:
    """Where only a keyword may come, the lexer matched it at the start of any word: `modelm`
    was `model m` and `spikewhen v > k` was accepted. A keyword runs to the end of its word."""
    text = _TEXT.get()
    end = token.end_pos
    if end is not None and end < len(text) and (text[end].isalnum() or text[end] == "_"):
        raise _GluedKeyword(token)
    return token


#: The language's keywords, the grammar's quoted words (snnc.catalog re-exports them).
KEYWORDS = ("model", "use", "time", "input", "neuron", "param", "state", "update", "spike",
            "when", "emit", "on", "layer", "with", "output", "train", "hardware", "and", "or",
            "not")
_PARSER = Lark.open("grammar.lark", rel_to=__file__, parser="lalr", propagate_positions=True,
                    maybe_placeholders=True,     # lark names a keyword's terminal in capitals
                    lexer_callbacks={k.upper(): _whole_keyword for k in KEYWORDS})


def _skip_single_child_rules(parser: Lark) -> None:
    """Speed: a rule like ``?sum: product`` only passes its one child up, but lark still runs its
    position bookkeeping on every such step (about 9 per value, a third of the parse time). A child
    that is a whole rule already has the same span, so pass it up directly."""
    try:
        callbacks = parser.parser.parser.parser.callbacks
    except AttributeError:  # another lark version: keep its own callbacks
        return
    for rule in list(callbacks):
        if (not isinstance(rule, str) and rule.options.expand1 and not rule.alias
                and len(rule.expansion) == 1 and not rule.expansion[0].is_term
                and not rule.expansion[0].name.startswith("_") and not rule.options.empty_indices):
            callbacks[rule] = _first_child


def _first_child(children):
    return children[0]


_skip_single_child_rules(_PARSER)

_READABLE = {
    "NAME": "a name", "NUMBER": "a number", "QUANTITY": "a number with a unit",
    "STRING": "a string", "FIXED_TYPE": "a fixed-point format", "COMP_OP": "a comparison",
    "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'", "$END": "end of file",
}


def parse_file(path: str | os.PathLike, keep_going: bool = False) -> ast.Module:
    """Read and parse one file. Unreadable, binary, huge or malformed input raises SnnError.
    ``keep_going``: a number out of range is left in ``Module.errors`` (the checks report it
    with the file's other errors) instead of raised."""
    from snnc.argtypes import special_file

    path = os.fspath(path)
    what = special_file(path)
    if what:                        # opening a named pipe waits for a writer, for ever
        raise SnnError(None, f"{path}: is {what}, not a .snn file")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SnnError(None, f"{path}: no such file") from None
    except IsADirectoryError:
        raise SnnError(None, f"{path}: is a directory, not a .snn file") from None
    except OSError as exc:
        raise SnnError(None, f"{path}: cannot read file ({exc.strerror})") from None
    return parse_bytes(data, path, keep_going)


def parse_bytes(data: bytes, path: str = "<input>", keep_going: bool = False) -> ast.Module:
    if len(data) > MAX_FILE_BYTES:
        raise SnnError(Loc(SourceFile(path, ""), 1, 1),
                       f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; "
                       "a .snn model is expected to be a text file of modest size")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        source = SourceFile(path, good)
        loc = loc_at_offset(source, len(good))
        raise SnnError(loc, f"file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                            f"{exc.start})") from None
    return parse_text(text, path, keep_going)


def parse_text(text: str, path: str = "<input>", keep_going: bool = False) -> ast.Module:
    if text.startswith("\ufeff"):
        text = text[1:]        # a byte-order mark is not a column of the first line
    # lines end at \n, \r\n or a lone \r, as editors count them (other characters that
    # str.splitlines treats as line breaks -- form feed, U+2028 ... -- stay inside a line)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    source = SourceFile(path, text)
    nul = text.find("\x00")
    if nul >= 0:
        raise SnnError(loc_at_offset(source, nul), "file contains a NUL byte: is it a binary file?")
    reset = _TEXT.set(text)
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, source) from None
    except _GluedKeyword as exc:
        raise _glued_keyword(exc.token, source) from None
    finally:
        _TEXT.reset(reset)
    _check_nesting(tree, source)
    module = _ToAst(source).transform(tree)
    if module.errors and not keep_going:
        raise SnnErrors(list(module.errors)) if len(module.errors) > 1 else module.errors[0]
    return module


# ------------------------------------------------------------------ syntax errors


def _glued_keyword(token: Token, source: SourceFile) -> SnnError:
    """`modelm`, `inputs x[4]`: the whole word is unexpected, and the keyword is the guess."""
    m = re.match(r"\w*", source.text[token.start_pos:])
    word = m.group(0) if m else str(token)
    loc = Loc(source, token.line, token.column, token.line, token.column + len(word))
    return SnnError(loc, f"unexpected '{_token_text(Token('NAME', word))}'",
                    f"did you mean '{token}'? (a keyword is a word of its own)")


def _describe_terminal(name: str) -> str:
    if name in _READABLE:
        return _READABLE[name]
    try:
        pattern = _PARSER.get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if pattern.type == "str":
        return f"'{pattern.value}'"
    return name.lower()


def _expected(names) -> str:
    described = sorted({_describe_terminal(n) for n in names if not n.startswith("_")})
    if not described:
        return ""
    if len(described) > 8:
        described = described[:8] + ["..."]
    return ", expected " + (described[0] if len(described) == 1 else "one of " + ", ".join(described))


def _token_text(tok: Token) -> str:
    text = str(tok)
    return text if len(text) <= 40 else text[:40] + "..."


def _syntax_error(exc: UnexpectedInput, source: SourceFile) -> SnnError:
    if isinstance(exc, UnexpectedCharacters):
        ch = source.text[exc.pos_in_stream] if exc.pos_in_stream < len(source.text) else ""
        loc = loc_at_offset(source, exc.pos_in_stream)
        shown = repr(ch)[1:-1] if ch.isprintable() else f"\\u{ord(ch):04x}" if ch else "end of file"
        if ch == '"':
            return SnnError(loc, "unterminated string", "a string ends with '\"' on the same line")
        word = re.match(r"[^\W\d]\w*", source.line_text(loc.line)[loc.col - 1:])
        if word is not None and _number_before(source, loc.line, loc.col) is not None:
            return _unknown_unit(source, loc.line, loc.col, word.group(0))  # `10 µs`: the µ
        if not ch.isascii() and ch.isalpha():
            # `layer héllo`: "unexpected character 'é', expected '='" read as `h` and junk
            name = unicodedata.name(ch, f"U+{ord(ch):04X}")
            return SnnError(loc, f"unexpected character '{shown}' ({name})",
                            "names are written with the ASCII letters a-z and A-Z, the digits "
                            "0-9 and '_'")
        if not ch.isascii() and (ch.isspace() or ch.isdigit()):
            # a no-break space or an Arabic-Indic digit looks right and is not: say what it is
            name = unicodedata.name(ch, f"U+{ord(ch):04X}")
            hint = ("words are separated by ASCII spaces, tabs and newlines: retype it as a "
                    "plain space" if ch.isspace() else "numbers are written with the ASCII "
                                                       "digits 0-9")
            return SnnError(loc, f"unexpected character '{shown}' ({name})", hint)
        return SnnError(loc, f"unexpected character '{shown}'" + _expected(exc.allowed or ()))
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        last, before = _last_tokens(exc)
        missing = _missing_name(source, exc, last, before)
        if missing is not None:
            return missing
        unclosed = _unclosed_fixed(source, tok)
        if unclosed is not None:
            return unclosed
        if tok.type != "$END":
            guess = _dashed_value(source, tok, last) or _word_after_number(source, tok, last)
            if guess is not None:
                return guess
            loc = Loc(source, tok.line, tok.column, tok.end_line, tok.end_column)
            if tok.type == "COMP_OP" and _after_comparison(exc):
                # `v < 1 < 2`: the first comparison was reduced, a second cannot follow it
                return SnnError(loc, f"unexpected '{tok}': an expression holds one comparison",
                                 "write `a < b and b < c` for a range")
            what = "string" if tok.type == "STRING" else "number" if tok.type == "NUMBER" else ""
            text = _token_text(tok)
            desc = f"unexpected {what} {text}" if what else f"unexpected '{text}'"
            return SnnError(loc, desc + _expected(_acceptable(exc)),
                            _missing_comma(source, tok, exc))
    # end of file reached in the middle of a construct
    expected = (_acceptable(exc) if isinstance(exc, UnexpectedToken) else
                exc.expected if isinstance(exc, UnexpectedEOF) else ())
    stripped = source.text.rstrip()
    loc = loc_at_offset(source, len(stripped))
    return SnnError(loc, "unexpected end of file" + _expected(expected))


# `fixed<` with no `>` after it on its line (code only: a comment ends the line)
_FIXED_OPEN = re.compile(r"(?<![\w.])(u?fixed)[ \t]*<[^>\n#;}]*(?:[#;}].*)?$")


def _unclosed_fixed(source: SourceFile, tok: Token) -> SnnError | None:
    """`fixed<8,` and `6>` on the next line (or a comment inside the brackets): a fixed-point
    format is one token, on one line, so `fixed` was read as a name compared with 8 and the
    error fell on the 6 (\"unexpected number 6\"). A `fixed<` left open on the line of the fault
    or the line before it is blamed instead."""
    line = tok.line if tok.type != "$END" else len(source.text.splitlines())
    for n in (line, line - 1):
        if n < 1:
            continue
        text = source.line_text(n)
        if n == tok.line and tok.type != "$END":
            text = text[: tok.column - 1]           # only what comes before the fault
        m = _FIXED_OPEN.search(text)
        if m is None or text[: m.start()].count('"') % 2:       # inside a string
            continue
        start = m.start(1) + 1
        loc = Loc(source, n, start, n, start + len(m.group(1)) + 1)
        return SnnError(loc, f"'{m.group(1)}<' is not closed with '>'",
                        f"a fixed-point format is written on one line, without comments: "
                        f"{m.group(1)}<WIDTH,FRAC>")
    return None


def _acceptable(exc: UnexpectedToken):
    """The tokens the parser would accept where it failed. LALR's ``expected`` holds every
    lookahead of the state, also those of the constructs the reductions would leave
    (`dense(x, 2 spike)` listed ';', ']' and 'hardware'); the interactive parser tries each."""
    try:
        accepted = exc.interactive_parser.accepts()
    except Exception:       # noqa: BLE001 - another lark version: its own list
        return exc.expected
    return accepted or exc.expected


def _after_comparison(exc: UnexpectedToken) -> bool:
    """Whether the parser holds a comparison's operator and right operand (`v < 1` of
    `v < 1 < 2`: the second operator cannot follow)."""
    try:
        stack = exc.interactive_parser.parser_state.value_stack
    except AttributeError:
        return False
    return (len(stack) >= 2 and isinstance(stack[-2], Token) and stack[-2].type == "COMP_OP"
            and not isinstance(stack[-1], Token))


def _last_tokens(exc: UnexpectedToken) -> tuple[Token | None, Token | None]:
    """The last two symbols the parser shifted before the unexpected token, where they are still
    tokens (not yet reduced to a rule): the text the parser had accepted right before the fault."""
    try:
        stack = exc.interactive_parser.parser_state.value_stack
    except AttributeError:      # another lark version: no guesses from the parser's state
        return None, None
    last = stack[-1] if stack and isinstance(stack[-1], Token) else None
    before = stack[-2] if last is not None and len(stack) > 1 and isinstance(stack[-2], Token) \
        else None
    return last, before


# --- a keyword read as the name that a statement or `with` needs

#: the keywords followed by a name, and what the name is
_NAMED_AFTER = {"WITH": "a neuron", "MODEL": "a name", "INPUT": "a name", "LAYER": "a name",
                "OUTPUT": "a name", "NEURON": "a name", "PARAM": "a name", "STATE": "a name"}


def _missing_name(source: SourceFile, exc: UnexpectedToken, last: Token | None,
                  before: Token | None) -> SnnError | None:
    """`layer h = dense(x, 3) with` and then `output h = count` on the next line: where only a
    name may come, the lexer reads any word as one, so `output` became the neuron and the error
    fell on the `h` after it. A keyword taken as the name, with the parse failing right after it,
    is the name left out; the error is at the keyword. (`with` at the end of the file: the same,
    at the end of `with`.)"""
    if (last is not None and last.type in _NAMED_AFTER and exc.token.type == "$END"
            and "NAME" in (exc.expected or ())):     # not `hardware { state` (a key)
        loc = Loc(source, last.line, last.column, last.end_line, last.end_column)
        return SnnError(loc, f"expected {_NAMED_AFTER[last.type]} after `{last}`, got the end of "
                             "the file")
    if (last is None or before is None or last.type != "NAME" or str(last) not in KEYWORDS
            or before.type not in _NAMED_AFTER):
        return None
    loc = Loc(source, last.line, last.column, last.end_line, last.end_column)
    return SnnError(loc, f"expected {_NAMED_AFTER[before.type]} after `{before}`, got keyword "
                         f"'{last}'")


# --- a number followed by a word: an unknown unit, a dashed value, a hexadecimal number

# a number that ends a piece of a line (blanks after it): the number before a word
_NUMBER_END = re.compile(r"(?<![\w.])((?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?)"
                         r"[ \t]*$")
# `0x10`, `0b101`, `0o17`: numbers of other languages, read as 0 and a name
_RADIX = {"x": (16, re.compile(r"[xX][0-9A-Fa-f]+$")), "b": (2, re.compile(r"[bB][01]+$")),
          "o": (8, re.compile(r"[oO][0-7]+$"))}
#: tokens that end a value: a word after a number, followed by one of these (or by a new line),
#: ended the value (`dt = 1 ns;`), where a word followed by another value was a key without its
#: `=` (`dt 1 ms`)
_ENDS_VALUE = frozenset({"SEMICOLON", "COMMA", "RBRACE", "RPAR", "RSQB", "$END"})


def _number_before(source: SourceFile, line: int, col: int) -> str | None:
    """The number written right before column ``col`` (1-based) of ``line``, only blanks between
    (the text there is code: the word at ``col`` is a token of the parse)."""
    m = _NUMBER_END.search(source.line_text(line)[: col - 1])
    return m.group(1) if m else None


def _word_after_number(source: SourceFile, tok: Token, last: Token | None) -> SnnError | None:
    """A number is never followed by a name, so a name right after one is a unit the lexer does
    not know (`1 ns`, `10 MS`, `1 GHz`), or a number of another language (`0x10`). It derails the
    parser at the word, or (where items need no separator: `time { dt = 1 ns }`, the word read
    as the next key) at the token after it. Only that word is blamed: a number and a word the
    parse accepted earlier (`time { steps = 5 dt = 1 ms }`) are valid code."""
    if tok.type == "NAME" and _number_before(source, tok.line, tok.column) is not None:
        word = tok
        if _is_key(source, tok):    # `IF(threshold = 2 reset = zero)`: a separator missing
            return None
    elif (last is not None and last.type == "NAME"
          and (tok.type in _ENDS_VALUE or tok.line > last.end_line)):
        word = last
    else:
        return None
    number = _number_before(source, word.line, word.column)
    if number is None or str(word) in UNITS or str(word) in KEYWORDS or str(word) in (
            "true", "false"):       # `dense(x, 2 with IF`: a `)` missing, not the unit 'with'
        return None
    if number == "0" and word[0].lower() in _RADIX and _RADIX[word[0].lower()][1].match(word):
        base = _RADIX[word[0].lower()][0]
        loc = Loc(source, word.line, word.column, word.end_line, word.end_column)
        return SnnError(loc, f"unexpected '{word}'",
                        f"numbers are written in decimal: 0{word} is {int(word[1:], base)}")
    return _unknown_unit(source, word.line, word.column, str(word))


def _unknown_unit(source: SourceFile, line: int, col: int, word: str) -> SnnError:
    loc = Loc(source, line, col, line, col + len(word))
    micro = word[0] in "\u00b5\u03bc"
    return SnnError(loc, f"unknown unit '{word}'",
                    "units: " + ", ".join(UNITS) + (" (micro is written u: `10 us`)" if micro
                                                   else ""))


_KEY_EQUALS = re.compile(r"[ \t]*=(?!=)")


def _is_key(source: SourceFile, tok: Token) -> bool:
    """Whether the word ``tok`` is followed by `=` (not `==`): a key (`reset = zero`)."""
    return _KEY_EQUALS.match(source.text, tok.end_pos) is not None


def _missing_comma(source: SourceFile, tok: Token, exc: UnexpectedToken) -> str | None:
    """`IF(threshold = 2 reset = zero)`: a key where a ',' was expected."""
    if tok.type == "NAME" and "COMMA" in (exc.expected or ()) and _is_key(source, tok):
        return f"a ',' is missing before '{tok}': arguments are separated by commas"
    return None


# `= word-...-25k...` up to the end of the setting: a dashed word with a part that is a number
# run into letters (not a unit: `25 kHz` may be written `25kHz`)
_DASHED = re.compile(r"=[ \t]*([A-Za-z_]\w*(?:-\w+)*-(\d+)([A-Za-z_]\w*)(?:-\w+)*)"
                     r"[ \t]*(?:[#;,)}\n]|$)")


def _dashed_value(source: SourceFile, tok: Token, last: Token | None) -> SnnError | None:
    """`device = ecp5-25k`, `dataset = mnist-1d`: an unquoted value with a dash, read as
    `ecp5 - 25` and then the name `k`, which derails the parser at that name or at the token after
    it. Only that name is looked at: a dashed expression the parser accepted before the fault
    (`v = v-1e-3`) is no guess."""
    for word in (tok, last):
        if word is None or word.type != "NAME":
            continue
        text = source.line_text(word.line).split("#", 1)[0]     # the word is code: not in a string
        for m in _DASHED.finditer(text):
            if m.start(3) + 1 == word.column and m.group(3) not in UNITS:
                start = m.start(1) + 1
                loc = Loc(source, word.line, start, word.line, start + len(m.group(1)))
                return SnnError(loc, f"'{m.group(1)}' is not a name or a number",
                                f'a value with a dash is written as a string: "{m.group(1)}"')
    return None


#: Parse-tree nodes that are a level of an expression (the other nodes, statements, settings, a
#: call's argument list, add none; a parenthesised expression is its content's node)
_LEVELS = frozenset({"or_op", "and_op", "not_op", "compare", "binop", "neg", "call", "list"})
_CHAINS = frozenset({"or_op", "and_op", "binop"})


def _chained(node: Tree, parent: Tree) -> bool:
    """Whether ``node`` is the left operand of ``parent`` in a chain of one kind of operator
    (`a + b` in `a + b - c`; `+ -` and `* /` are each one kind)."""
    if node.data != parent.data or node.data not in _CHAINS or parent.children[0] is not node:
        return False
    return node.data != "binop" or node.children[1].type == parent.children[1].type


def _check_nesting(tree: Tree, source: SourceFile) -> None:
    """Refuse absurdly deep nesting up front, without recursion (docs/language.md section 13):
    more than MAX_NESTING levels, or more than MAX_DEPTH operations one inside another."""
    stack = [(tree, 0, 0)]      # a node, its level (nesting), its depth (operations)
    while stack:
        node, level, depth = stack.pop()
        if level > MAX_NESTING or depth > MAX_DEPTH:
            meta = node.meta
            loc = Loc(source, getattr(meta, "line", 1), getattr(meta, "column", 1))
            what = (f"more than {MAX_NESTING} levels of operators, calls or lists"
                    if level > MAX_NESTING else
                    f"more than {MAX_DEPTH} operations one inside another, each operator of a "
                    "chain such as a + b + c counting one")
            raise SnnError(loc, f"expression is nested too deeply ({what})",
                           "split it into smaller parts")
        for child in reversed(node.children):  # leftmost first: report the outermost place
            if isinstance(child, Tree):
                if child.data not in _LEVELS:
                    stack.append((child, level, depth))
                else:
                    stack.append((child, level + (not _chained(child, node)), depth + 1))


# ------------------------------------------------------------------ parse tree -> AST


def _tok_loc(source: SourceFile, tok: Token) -> Loc:
    return Loc(source, tok.line, tok.column, tok.end_line, tok.end_column)


class _ToAst:
    """Parse tree -> AST: the method named after each rule gets the rule's meta and its transformed
    children. (A plain bottom-up walk, without recursion: lark's Transformer costs a third of the
    parse time, and a chain `a + b + c ...` is as deep as it is long.)"""

    def __init__(self, source: SourceFile):
        self.source = source
        self._methods: dict = {}
        self.errors: list[SnnError] = []      # numbers out of range (Module.errors)

    def transform(self, tree: Tree):
        stack = [(tree, [])]        # a node, its children transformed so far
        while True:
            node, done = stack[-1]
            children = node.children
            i = len(done)
            while i < len(children) and not isinstance(children[i], Tree):
                done.append(children[i])        # a token, or None for an absent optional part
                i += 1
            if i < len(children):
                stack.append((children[i], []))
                continue
            stack.pop()
            result = self._method(node.data)(node.meta, done)
            if not stack:
                return result
            stack[-1][1].append(result)

    def _method(self, data: str):
        method = self._methods.get(data)
        if method is None:
            func = getattr(_ToAst, data, None) if not data.startswith("_") else None
            method = self._methods[data] = func.__get__(self) if callable(func) else (
                lambda meta, c, data=data: Tree(data, c, meta))
        return method

    def _loc(self, meta) -> Loc:
        if getattr(meta, "empty", True):
            return Loc(self.source, 1, 1)
        return Loc(self.source, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tl(self, tok: Token) -> Loc:
        return _tok_loc(self.source, tok)

    # -- file
    def start(self, meta, children):
        return ast.Module(self.source, tuple(c for c in children if c is not None),
                          tuple(self.errors))

    def model_decl(self, meta, c):
        return ast.ModelDecl(self._loc(meta), str(c[0]), self._tl(c[0]))

    def use_decl(self, meta, c):
        return ast.UseDecl(self._loc(meta), str(c[0])[1:-1], self._tl(c[0]))

    def _block(self, kind, meta, c):
        return ast.Block(self._loc(meta), kind, c[0])

    def time_block(self, meta, c):
        return self._block("time", meta, c)

    def train_block(self, meta, c):
        return self._block("train", meta, c)

    def hardware_block(self, meta, c):
        return self._block("hardware", meta, c)

    def settings(self, meta, c):
        return tuple(c)

    def setting(self, meta, c):
        return ast.Setting(self._loc(meta), str(c[0]), c[1], self._tl(c[0]))

    def state_word(self, meta, c):
        return c[0]  # the keyword token `state`, used as a setting key

    def input_decl(self, meta, c):
        name, (shape, shape_loc), encoding = c
        return ast.InputDecl(self._loc(meta), str(name), shape, encoding, self._tl(name), shape_loc)

    def shape(self, meta, c):
        return tuple(d for d in c if d is not None), self._loc(meta)

    def layer_decl(self, meta, c):
        name, op, neuron = c
        return ast.LayerDecl(self._loc(meta), str(name), op, neuron, self._tl(name))

    def neuron_use(self, meta, c):
        name, args = c
        return ast.NeuronUse(self._loc(meta), str(name), args or (), self._tl(name))

    def output_decl(self, meta, c):
        return ast.OutputDecl(self._loc(meta), str(c[0]), c[1], self._tl(c[0]))

    # -- neurons
    def neuron_def(self, meta, c):
        name, items = c[0], c[1:]
        params = tuple(i for i in items if isinstance(i, ast.ParamDecl))
        states = tuple(i for i in items if isinstance(i, ast.StateDecl))
        update: list = []
        on_spike: list = []
        spike: list = []
        emit: list = []
        blocks = []
        for item in items:
            if isinstance(item, tuple) and item and item[0] == "update":
                update.extend(item[2])
                blocks.append(("update", item[1]))
            elif isinstance(item, tuple) and item and item[0] == "on_spike":
                on_spike.extend(item[2])
                blocks.append(("on spike", item[1]))
            elif isinstance(item, tuple) and item and item[0] == "spike":
                spike.append(item[2])
                emit.append(item[3])
                blocks.append(("spike when", item[1]))
        return ast.NeuronDef(self._loc(meta), str(name), params, states, tuple(update), tuple(spike),
                             tuple(on_spike), self._tl(name), tuple(blocks), tuple(emit))

    def param_decl(self, meta, c):
        name, type_name, default = c
        return ast.ParamDecl(self._loc(meta), str(name), str(type_name) if type_name else None,
                             default, self._tl(name), self._tl(type_name) if type_name else None)

    def state_decl(self, meta, c):
        return ast.StateDecl(self._loc(meta), str(c[0]), c[1], self._tl(c[0]))

    def update_block(self, meta, c):
        return ("update", self._loc(meta), tuple(c))

    def on_spike_block(self, meta, c):
        return ("on_spike", self._loc(meta), tuple(c))

    def spike_cond(self, meta, c):
        return ("spike", self._loc(meta), c[0], c[1])   # the condition, the emit height or None

    def assign(self, meta, c):
        return ast.Assign(self._loc(meta), str(c[0]), c[1], self._tl(c[0]))

    # -- values
    def fixed_type(self, meta, c):
        return ast.FixedLit(self._tl(c[0]), str(c[0]))

    def string(self, meta, c):
        return ast.StringLit(self._tl(c[0]), str(c[0])[1:-1])

    def list(self, meta, c):
        return ast.ListLit(self._loc(meta), tuple(x for x in c if x is not None))

    def or_op(self, meta, c):
        return ast.BoolOp(self._loc(meta), "or", tuple(c))

    def and_op(self, meta, c):
        return ast.BoolOp(self._loc(meta), "and", tuple(c))

    def not_op(self, meta, c):
        return ast.BoolOp(self._loc(meta), "not", tuple(c))

    def compare(self, meta, c):
        return ast.Compare(self._loc(meta), str(c[1]), c[0], c[2])

    def binop(self, meta, c):
        return ast.BinOp(self._loc(meta), str(c[1]), c[0], c[2])

    def neg(self, meta, c):
        return ast.Neg(self._loc(meta), c[0])

    def number(self, meta, c):
        tok = c[0]
        text = str(tok)
        value = self._finite(float(text), tok)
        is_int = text.isdigit()
        return ast.Number(self._tl(tok), value, is_int, text)

    def quantity(self, meta, c):
        tok = c[0]
        text = str(tok)
        i = len(text)
        while i > 0 and text[i - 1].isalpha():
            i -= 1
        unit = text[i:]
        # the value in SI units must be finite too (1e308 MHz is not)
        value = self._finite(float(text[:i].strip()), tok, UNITS[unit][1])
        return ast.QuantityLit(self._tl(tok), value, unit, text)

    def _finite(self, value: float, tok: Token, factor: float = 1.0) -> float:
        """A number beyond float's range (also once multiplied by its unit's ``factor``) is an
        error (collected: the file's other errors are still checked) and reads as 1 meanwhile.
        So is a non-zero number too small for a float: `1e-400` read as 0 was reported as "must
        be positive, got 0"."""
        if not math.isfinite(value * factor):
            self.errors.append(SnnError(self._tl(tok), f"number {tok} is out of range"))
            return 1.0
        mantissa = re.split(r"[eE]", str(tok), maxsplit=1)[0]
        if value * factor == 0 and re.search(r"[1-9]", mantissa):
            self.errors.append(SnnError(self._tl(tok), f"number {tok} is out of range (too small: "
                                                       "a 64-bit float reads it as 0)"))
            return 1.0
        return value

    def name(self, meta, c):
        return ast.Name(self._tl(c[0]), str(c[0]))

    def input_ref(self, meta, c):
        return ast.InputRef(self._loc(meta))

    def call(self, meta, c):
        name, args = c
        return ast.Call(self._loc(meta), str(name), args or (), self._tl(name))

    def arglist(self, meta, c):
        return tuple(a if isinstance(a, ast.Arg) else ast.Arg(a.loc, None, a) for a in c
                     if a is not None)

    def kwarg(self, meta, c):
        return ast.Arg(self._loc(meta), str(c[0]), c[1])
