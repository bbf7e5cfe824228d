"""Argument types shared by the ``snnc`` subcommands: integers with a lower bound (one, or a
comma-separated list), seeds and lanes in the ranges a model takes, finite numbers with a bound,
input files that can be read whole. A bad value is an ``argparse.ArgumentTypeError``, which
argparse reports with the option's name (exit code 2).

Numbers are written with ASCII characters, as in a ``.snn`` file: Python's ``int`` and ``float``
also take other scripts' digits (``--samples ٥`` was 5) and ``_`` between digits."""
from __future__ import annotations

import argparse
import os
import re
import stat

#: An integer as the command line takes it: ASCII digits, an optional sign, spaces around
_INT = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)


def _ascii_int(text: str) -> int:
    if not _INT.fullmatch(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer"
                                         + _ascii_hint(text, "integer"))
    try:
        return int(text)
    except ValueError:          # more digits than Python converts (4300)
        raise argparse.ArgumentTypeError(f"'{text.strip()[:20]}...' has too many digits") from None


def _ascii_hint(text: str, what: str) -> str:
    """A word on the digits where ``text`` has non-ASCII characters (empty otherwise)."""
    return "" if text.isascii() else f" (write the {what} with the ASCII digits 0-9)"


def _int_at_least(text: str, least: int, too_small: str) -> int:
    v = _ascii_int(text)
    if v < least:
        raise argparse.ArgumentTypeError(too_small.format(v))
    return v


#: the largest count an option takes, as the integers of a model's blocks (`epochs`, `tbptt`)
MAX_COUNT = 2**31 - 1


def _count(v: int) -> int:
    if v > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_COUNT}, not {v}")
    return v


def positive_int(text: str) -> int:
    """An integer from 1 to ``MAX_COUNT``."""
    return _count(_int_at_least(text, 1, "expected a positive integer, got {}"))


def nonnegative_int(text: str) -> int:
    """An integer from 0 to ``MAX_COUNT``."""
    return _count(_int_at_least(text, 0, "must be 0 or more, not {}"))


#: the largest seed an option takes: the Python API's and the encoders' (a 64-bit seed; a model's
#: `train { seed = ... }` is an integer of the language, at most 2**31 - 1)
MAX_SEED = 2**64 - 1


def _int_between(text: str, low: int, high: int) -> int:
    v = _int_at_least(text, low, f"must be between {low} and {high}, not {{}}")
    if v > high:
        raise argparse.ArgumentTypeError(f"must be between {low} and {high}, not {v}")
    return v


def seed(text: str) -> int:
    """A random seed: an integer from 0 to ``MAX_SEED`` (2**64 - 1), as the Python API takes."""
    return _int_between(text, 0, MAX_SEED)


def pnr_seed(text: str) -> int:
    """nextpnr's placement seed: an integer from 0 to 2**31 - 1 (a C int there)."""
    return _int_between(text, 0, 2**31 - 1)


class SeedOption(argparse.Action):
    """``--seed``: stores the seed, and ``seed_given`` = True (a seed the user chose, which
    :func:`unused_seed_notes` says nothing about when left at its default)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.seed_given = True


class AliasedChoice(argparse.Action):
    """An option with two names (``--target`` / ``--backend``): the second one given with another
    value than the first is an option error (the last one had won without a word)."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = getattr(namespace, f"_{self.dest}_given", None)
        if given is not None and given[1] != values:
            raise argparse.ArgumentError(self, f"given twice with different values ({given[0]} "
                                               f"{given[1]}, {option_string} {values})")
        setattr(namespace, f"_{self.dest}_given", (option_string, values))
        setattr(namespace, self.dest, values)


def add_seed(p: argparse.ArgumentParser, help: str) -> None:
    """The ``--seed`` option of a command (0 to ``MAX_SEED``, default 0)."""
    p.add_argument("--seed", type=seed, default=0, metavar="S", action=SeedOption, help=help)
    p.set_defaults(seed_given=False)


def unused_seed_notes(args, graph, *, encodes: bool) -> list[str]:
    """A note when ``--seed`` was given but changes nothing: the weights come from a file and
    (``encodes``: the command runs the input encoders) no input is rate-coded, the only random
    encoder; a command that does not encode uses the seed for random weights only."""
    from snnc import ir

    if not getattr(args, "seed_given", False) or not getattr(args, "weights", None):
        return []
    if encodes and any(isinstance(i.encoding, ir.Rate) for i in graph.inputs):
        return []
    why = ("no input is rate-coded (the seed feeds the `rate` encoder and random weights only)"
           if encodes else "this command uses the seed for random weights only")
    return [f"--seed {args.seed} changes nothing here: the weights come from --weights and "
            f"{why}"]


def unused_lanes_notes(args, graph) -> list[str]:
    """A note when ``--lanes`` was given but every layer sets its own ``lanes`` (the option sets
    only the others: it changed nothing without a word)."""
    from snnc import ir

    if getattr(args, "lanes", None) is not None and ir.every_layer_sets_lanes(graph):
        return [f"--lanes {args.lanes} changes nothing here: every layer sets its own `lanes`"]
    return []


def unused_option_notes(args, graph, *, encodes: bool) -> list[str]:
    """The notes of a hardware command's ``--seed`` and ``--lanes`` that change nothing."""
    return unused_seed_notes(args, graph, encodes=encodes) + unused_lanes_notes(args, graph)


def lanes(text: str) -> int:
    """Lanes per layer: an integer from 1 to ``MAX_LANES``, as in a model's hardware block."""
    from snnc.ir import MAX_LANES

    return _int_between(text, 1, MAX_LANES)


def int_list(least: int, what: str):
    """A type for comma-separated integers, each at least ``least`` (``what`` says so in the
    message, e.g. "positive")."""
    def parse(text: str) -> tuple[int, ...]:
        if not all(_INT.fullmatch(t) for t in text.split(",")):
            raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of "
                                             "integers" + _ascii_hint(text, "integers"))
        values = tuple(_ascii_int(t) for t in text.split(","))
        if any(v < least for v in values):
            raise argparse.ArgumentTypeError(f"the values must be {what}, not '{text}'")
        if any(v > MAX_COUNT for v in values):
            raise argparse.ArgumentTypeError(f"the values must be at most {MAX_COUNT}, not "
                                             f"'{text}'")
        return values
    return parse


def finite_float(text: str) -> float:
    """A finite number (no nan, no inf)."""
    return _float(text)


#: A number as the command line takes it: ASCII digits with an optional fraction and exponent,
#: or the words Python's ``float`` knows (inf and nan are then refused as not finite)
_FLOAT = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*"
                    r"|\s*[+-]?(inf|infinity|nan)\s*", re.IGNORECASE | re.ASCII)


def _float(text: str) -> float:
    if not _FLOAT.fullmatch(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number" + _ascii_hint(text, "number"))
    v = float(text)
    if v != v or v in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    if v == 0 and re.search(r"[1-9]", re.split(r"[eE]", text)[0]):
        # 1e-400 was read as 0 (e.g. --m-f 1e-400 turned the adaptation off without a word)
        raise argparse.ArgumentTypeError(f"'{text}' is too small a number: it underflows to 0")
    return v


def positive_float(text: str) -> float:
    """A finite number above 0."""
    v = _float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return v


def nonnegative_float(text: str) -> float:
    """A finite number of at least 0."""
    v = _float(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return v


def bounded(parse, problem):
    """A type: the value ``parse`` reads, refused with ``problem(value)``'s words when that is not
    None (e.g. ``"must be at most 32767"``: the message adds ``, not TEXT``)."""
    def check(text: str):
        v = parse(text)
        why = problem(v)
        if why:
            raise argparse.ArgumentTypeError(f"{why}, not {text}")
        return v
    return check


def special_file(path) -> str | None:
    """What ``path`` is when it exists but is neither a regular file nor a folder -- a named pipe,
    a device, a socket: reading one waits for a writer, or never ends -- else None (a missing
    file or a folder is left to the reader's own message)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError, TypeError):
        return None
    for test, what in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return None


def input_file(text: str) -> str:
    """A file to read (a model, weights, samples): not a named pipe, device or socket (a command
    given a FIFO waited for ever)."""
    what = special_file(text)
    if what:
        raise argparse.ArgumentTypeError(f"'{text}' is {what}, not a regular file")
    return text


def dataset(text: str) -> str:
    """A data set's name (``--dataset``): ``npz:PATH`` names a file read as ``input_file`` does."""
    if text.startswith("npz:"):
        what = special_file(text[4:])
        if what:
            raise argparse.ArgumentTypeError(f"data set file '{text[4:]}' is {what}, not a "
                                             "regular file")
    return text



def out_folder(text: str) -> str:
    """A folder to write results into (a script's ``--out``): not a file."""
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"'{text}' is a file, not a folder")
    return text


def outputs_in(p: argparse.ArgumentParser, folder: str | None, no_write: bool,
               *paths: str) -> list[str]:
    """A script's output files ``paths``, or the same names in ``folder`` (its ``--out``, made now:
    before hours of runs, not after them); ``--out`` with ``--no-write`` is refused."""
    if folder is None:
        return list(paths)
    if no_write:
        p.error("--out and --no-write: --no-write writes nothing")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        p.error(f"--out {folder}: cannot make the folder ({exc.strerror})")
    return [os.path.join(folder, os.path.basename(path)) for path in paths]
