"""Identifiers for generated code from names in a model (layer and input names): the one
sanitiser that the Verilog and the HLS backends share, each with its own reserved words."""
from __future__ import annotations

import re
from typing import Callable

_BAD = re.compile(r"[^A-Za-z0-9_]")


def sanitise(name: str, used: set[str] | None, reserved: Callable[[str], bool]) -> str:
    """``name`` as a plain identifier: characters other than letters, digits and ``_`` become
    ``_`` (runs of ``_`` collapse, none at either end), a name not starting with a letter gets an
    ``n`` in front, one that ``reserved`` rejects gets ``_l`` appended, and one already in
    ``used`` a numeric suffix; the result is added to ``used``."""
    s = _BAD.sub("_", name)
    s = re.sub(r"_+", "_", s).strip("_") or "n"
    if not s[0].isalpha():
        s = "n" + s
    if reserved(s):
        s = s + "_l"
    base, k = s, 2
    while used is not None and s in used:
        s = f"{base}_{k}"
        k += 1
    if used is not None:
        used.add(s)
    return s
