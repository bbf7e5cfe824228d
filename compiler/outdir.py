"""The output folder of a command (``--out`` / ``-o``): created before any work, or a clear
error (exit 2) instead of an internal one."""
from __future__ import annotations

import os

from snnc.errors import SnnError


def make_folder(out: str) -> None:
    """Create ``out`` (and its parents) if it does not exist."""
    if not out:
        raise SnnError(None, "the output folder's name is empty")
    if os.path.exists(out) and not os.path.isdir(out):
        raise SnnError(None, f"cannot create output folder {out}: it is a file")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise SnnError(None, f"cannot create output folder {out}: {exc.strerror or exc}") from None
