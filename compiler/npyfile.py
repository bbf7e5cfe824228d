"""Checking a ``.npy`` array's header against the bytes that follow it, before numpy reads it.

numpy trusts a ``.npy`` header: a shape of 10**11 elements makes it allocate 373 GiB (MemoryError)
before it finds the data is 16 bytes long, and some damaged headers escape as a tokenizer error.
:func:`npy_problem` reads only the header and says, in words, why the array cannot be loaded; the
readers of weights files, data sets and ``--input`` samples call it first.
"""
from __future__ import annotations

import math
import tokenize
import zipfile

import numpy as np

#: What parsing a damaged header raises (numpy evaluates the header's dict literal itself).
_HEADER_ERRORS = (ValueError, SyntaxError, TypeError, OverflowError, EOFError, MemoryError,
                  RecursionError, UnicodeDecodeError, tokenize.TokenError)


def npy_problem(stream, size: int) -> str | None:
    """Why the ``.npy`` array at ``stream``'s position (``size`` bytes from there to its end)
    cannot be loaded: a header that does not parse, or one whose shape needs more bytes than
    follow it. None when it looks loadable (numpy's own reader reports anything else); the
    stream is left wherever the header ended."""
    fmt = np.lib.format
    start = stream.tell() if hasattr(stream, "tell") else 0
    head = stream.read(8)
    if len(head) < 8 or not head.startswith(b"\x93NUMPY"):
        return None                         # not a .npy array: its reader says so
    version = (head[6], head[7])
    try:
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(stream)
        else:
            return None                     # a newer version: left to numpy
    except _HEADER_ERRORS as exc:
        if isinstance(exc, tokenize.TokenError) and exc.args:
            detail = str(exc.args[0])       # ('EOF in multi-line string', (1, 56))
        else:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if detail.startswith("Cannot parse header"):
            detail = "its dictionary does not parse"
        return f"its .npy header cannot be read: {detail[:200]}"
    if dtype.hasobject:
        return None                         # refused by numpy as a pickle
    header = (stream.tell() - start) if hasattr(stream, "tell") else 0
    need = math.prod(shape) * dtype.itemsize
    have = size - header
    if need > have:
        return (f"its .npy header gives shape {list(shape)} of {dtype} ({need:,} bytes), but "
                f"only {max(have, 0):,} bytes of data follow it")
    return None


def npz_problem(file) -> str | None:
    """The first problem :func:`npy_problem` finds in the ``.npy`` members of the zip archive
    ``file`` (an open binary file), as ``"entry 'NAME': ..."``; None when there is none. A
    damaged archive or member (bad deflate data, encryption, an unknown compression) is left to
    numpy's reader, whose errors the callers word."""
    try:
        archive = zipfile.ZipFile(file)
    except Exception:                       # noqa: BLE001 - reported by numpy's reader
        return None
    with archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            try:
                with archive.open(info) as member:
                    problem = npy_problem(member, info.file_size)
            except Exception:               # noqa: BLE001 - reported by numpy's reader
                continue
            if problem:
                return f"entry '{info.filename[:-4]}': {problem}"
    return None


def npy_file_problem(path: str) -> str | None:
    """:func:`npy_problem` for the ``.npy`` file at ``path`` (None when it does not start like
    one: numpy's reader says what it is)."""
    import os

    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            return None
        f.seek(0)
        return npy_problem(f, os.fstat(f.fileno()).st_size)
