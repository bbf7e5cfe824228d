"""The one error type of snnc: a message tied to a place in a source file.

Every user-facing failure (a parse error, a failed check, a weights file that does not fit) is an
:class:`SnnError`. It prints as ``file:line:col: error: message`` followed by the source line and a
caret underline, the way compilers do. Several independent errors travel together as
:class:`SnnErrors` so that one run of ``snnc check`` can report all of them.
"""
from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceFile:
    """The text of one source file, kept so that errors can quote the offending line."""

    path: str
    text: str = field(repr=False, compare=False)

    def line_text(self, line: int) -> str:
        lines = self._lines
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return ""

    @functools.cached_property
    def _lines(self) -> list[str]:
        """The parser's lines (dsl/parser.parse_text), split once: every diagnostic quotes one,
        and splitting the whole text for each made a file of 20,000 warnings take 20 s."""
        return self.text.split("\n")


@dataclass(frozen=True)
class Loc:
    """A span in a source file: 1-based line and column of its start and end (end exclusive)."""

    source: SourceFile | None
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    @property
    def path(self) -> str:
        return self.source.path if self.source is not None else "<unknown>"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    def to_json(self) -> dict:
        return {"file": self.path, "line": self.line, "col": self.col,
                "end_line": self.end_line, "end_col": self.end_col}


def loc_at_offset(source: SourceFile, offset: int) -> Loc:
    """The location of a 0-based character offset in ``source``."""
    offset = max(0, min(offset, len(source.text)))
    line = source.text.count("\n", 0, offset) + 1
    col = offset - (source.text.rfind("\n", 0, offset) + 1) + 1
    return Loc(source, line, col, line, col + 1)


class SnnError(Exception):
    """A located error (or warning): file, line, column, span and message, plus an optional hint."""

    def __init__(self, loc: Loc | None, message: str, hint: str | None = None,
                 severity: str = "error", setting: str | None = None):
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.hint = hint
        self.severity = severity
        # the model setting a warning is about (e.g. "train.tbptt"), for a command option that
        # replaces that setting to drop it; None for the others
        self.setting = setting

    @property
    def line(self) -> int | None:
        return self.loc.line if self.loc else None

    @property
    def col(self) -> int | None:
        return self.loc.col if self.loc else None

    def headline(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        text = f"{where}{self.severity}: {self.message}"
        return text

    def format(self) -> str:
        """The error as a compiler prints it: headline, source line, caret underline, hint."""
        out = [self.headline()]
        loc = self.loc
        if loc is not None and loc.source is not None:
            # control characters shown as one '?' each (an escape sequence in a model's line
            # cleared the terminal when the error was printed); the caret keeps its column
            text = "".join("?" if unicodedata.category(c) == "Cc" else c
                           for c in loc.source.line_text(loc.line).expandtabs(1))
            if text.strip():
                start = min(max(loc.col - 1, 0), len(text))
                if loc.end_line == loc.line and loc.end_col is not None and loc.end_col > loc.col:
                    width = loc.end_col - loc.col
                elif loc.end_line is not None and loc.end_line > loc.line:
                    width = len(text) - start          # a span over lines: to this line's end
                else:
                    width = 1
                shown, start = _window(text, start)
                width = max(1, min(width, max(1, len(shown) - start)))
                gutter = f"{loc.line:>5} | "
                out.append(gutter + shown)
                out.append(" " * (len(gutter) - 2) + "| " + " " * _cells(shown[:start])
                           + "^" * max(1, _cells(shown[start:start + width])))
        if self.hint:
            out.append(f"      = hint: {self.hint}")
        return "\n".join(out)

    def to_json(self) -> dict:
        return {"severity": self.severity, "message": self.message, "hint": self.hint,
                **(self.loc.to_json() if self.loc else {"file": None, "line": None, "col": None,
                                                        "end_line": None, "end_col": None})}

    def __str__(self) -> str:
        return self.headline()

    def __repr__(self) -> str:
        return f"SnnError({self.headline()!r})"


def _window(text: str, start: int, limit: int = 200) -> tuple[str, int]:
    """A line of at most about ``limit`` characters that shows column ``start``: the line's
    head, or ``... `` and a stretch around the column; returns it and the column in it."""
    if len(text) <= limit:
        return text, start
    if start < limit - 40:
        return text[:limit] + " ...", start
    lo = start - limit // 2
    return "... " + text[lo:lo + limit] + (" ..." if lo + limit < len(text) else ""), start - lo + 4


def _cells(text: str) -> int:
    """Terminal cells of ``text``: East Asian wide and full-width characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class SnnErrors(Exception):
    """Several independent errors found in one run, in source order."""

    def __init__(self, errors: list[SnnError]):
        self.errors = sorted(errors, key=_order)
        super().__init__("\n".join(e.headline() for e in self.errors))

    def format(self) -> str:
        return "\n".join(e.format() for e in self.errors)


def _order(e: SnnError):
    loc = e.loc
    return (loc.path if loc else "", loc.line if loc else 0, loc.col if loc else 0)


class Diagnostics:
    """Collects errors and warnings while checking, so that independent problems are all reported."""

    def __init__(self) -> None:
        self.errors: list[SnnError] = []
        self.warnings: list[SnnError] = []

    def error(self, loc: Loc | None, message: str, hint: str | None = None) -> None:
        self.errors.append(SnnError(loc, message, hint))

    def warn(self, loc: Loc | None, message: str, hint: str | None = None,
             setting: str | None = None) -> None:
        self.warnings.append(SnnError(loc, message, hint, severity="warning", setting=setting))

    def add(self, err: SnnError | SnnErrors) -> None:
        if isinstance(err, SnnErrors):
            self.errors.extend(err.errors)
        else:
            self.errors.append(err)

    def raise_if_errors(self) -> None:
        if self.errors:
            raise SnnErrors(self.errors)
