"""The output folder of a command (``--out`` / ``-o``): created before any work, or a clear
error (exit 2) instead of an internal one.

``snnc compile`` writes a folder of files whose names depend on the target and the model (a
memory file per layer, the library sources a model needs), so a second compile into the same
folder left the first one's files beside its own: HLS sources in a Verilog folder, the memory file
of a layer the new model does not have. :func:`write_generated` replaces what the previous compile
wrote -- the files its ``manifest.json`` lists -- and nothing else: a folder that is not empty and
holds no such manifest is refused, and a file the new compile would overwrite that the previous
one did not write is refused too (it is the user's)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile

from snnc.errors import SnnError

#: The manifest a generated folder holds, and its ``format`` per generator (snnc.backends.*).
MANIFEST = "manifest.json"
GENERATED_FORMATS = ("snnc-verilog", "snnc-hls")


def _check_creatable(out: str) -> None:
    """An error where ``out`` cannot be a folder: an empty name, a file, a file above it."""
    if not out:
        raise SnnError(None, "the output folder's name is empty")
    if os.path.exists(out) and not os.path.isdir(out):
        raise SnnError(None, f"cannot create output folder {out}: it is a file")
    parent = os.path.dirname(os.path.abspath(out))
    while not os.path.exists(parent):                   # the root always exists
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):                       # was "Not a directory"
        raise SnnError(None, f"cannot create output folder {out}: {parent} is a file")


def make_folder(out: str) -> None:
    """Create ``out`` (and its parents) if it does not exist."""
    _check_creatable(out)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise SnnError(None, f"cannot create output folder {out}: {exc.strerror or exc}") from None


def _refuse_special(path: str) -> None:
    """An SnnError where ``path`` is a named pipe, a device or a socket (reading a named pipe
    waits for a writer, for ever)."""
    from snnc.argtypes import special_file

    kind = special_file(path)
    if kind:
        raise SnnError(None, f"cannot read {path}: it is {kind}, not a regular file",
                       "remove it, or choose another output folder")


def generated_files(folder: str) -> set[str] | None:
    """The files an earlier ``snnc compile`` wrote into ``folder``, as its ``manifest.json`` lists
    them (the manifest itself included); None when the folder holds no manifest of one. Only plain
    names in the folder count (a name with a path in it is not a file snnc wrote)."""
    path = os.path.join(folder, MANIFEST)
    _refuse_special(path)
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") not in GENERATED_FORMATS:
        return None
    names = {MANIFEST}
    for key in ("files", "memory_files"):
        listed = manifest.get(key, [])
        if not isinstance(listed, list):
            return None
        names.update(n for n in listed if isinstance(n, str) and n not in ("", ".", "..")
                     and os.path.basename(n) == n and "/" not in n and "\\" not in n)
    return names


#: The list of files ``snnc report --fpga --keep`` wrote into its folder (one name per line).
KEPT_LIST = "snnc_kept_files.txt"


def kept_files(folder: str) -> set[str] | None:
    """The files an earlier ``snnc report --keep`` wrote into ``folder`` (its
    :data:`KEPT_LIST`); None when the folder holds no such list."""
    path = os.path.join(folder, KEPT_LIST)
    _refuse_special(path)
    try:
        with open(path, encoding="utf-8") as f:
            names = f.read().splitlines()
    except (OSError, ValueError):
        return None
    return {n for n in names if n not in ("", ".", "..") and os.path.basename(n) == n
            and "/" not in n and "\\" not in n} | {KEPT_LIST}


def check_folder(out: str, command: str = "snnc compile", previous_files=generated_files,
                 listing: str = MANIFEST) -> set[str] | None:
    """What an earlier ``command`` wrote into ``out`` (``previous_files``, from its
    ``listing``); None for a missing or empty folder. A file, or a folder with other files and
    no listing, is an error (before any work: see :func:`write_generated`)."""
    _check_creatable(out)
    if not os.path.isdir(out):
        return None
    present = os.listdir(out)
    previous = previous_files(out)
    if previous is None and present:
        shown = ", ".join(sorted(present)[:3]) + (", ..." if len(present) > 3 else "")
        raise SnnError(None, f"output folder {out} is not empty ({shown}) and holds no "
                             f"{listing} of an earlier {command}: {command} writes into a "
                             "new or empty folder, or replaces its own files in a folder it "
                             "wrote", "choose a new folder, or empty this one")
    return previous


def write_generated(out: str, generate, command: str = "snnc compile",
                    previous_files=generated_files, listing: str = MANIFEST):
    """``generate(folder)`` (which writes a project and its ``manifest.json`` into ``folder`` and
    returns the manifest) into ``out``, replacing what an earlier generation wrote there:

    * ``out`` missing or empty: created, and filled;
    * ``out`` written by an earlier ``snnc compile`` (its ``manifest.json``): that compile's files
      are replaced by the new ones -- those the new one does not write are removed -- and every
      other file is left as it is;
    * otherwise (files that no snnc compile wrote): an error, and nothing is written.

    The project is generated into a temporary folder inside ``out`` first: a generator that fails
    leaves ``out`` as it was (and no folder where the command created it). ``previous_files``
    reads what an earlier run wrote from the file ``listing`` (default: a compile's manifest)."""
    created = not os.path.isdir(out)
    make_folder(out)
    try:
        previous = check_folder(out, command, previous_files, listing)
        tmp = tempfile.mkdtemp(prefix=".snnc-tmp-", dir=out)
    except OSError as exc:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise SnnError(None, f"cannot write into output folder {out}: "
                             f"{exc.strerror or exc}") from None
    previous = previous or set()
    try:
        manifest = generate(tmp)
        new = sorted(os.listdir(tmp))
        theirs = [n for n in new if n not in previous and os.path.lexists(os.path.join(out, n))]
        if theirs:
            raise SnnError(None, f"{command} would overwrite {', '.join(theirs)} in {out}, which "
                                 f"the earlier {command} there did not write (its {listing} "
                                 "does not list it)", "choose a new folder, or move the file")
        for name in sorted(previous - set(new)):
            path = os.path.join(out, name)
            if os.path.lexists(path) and not os.path.isdir(path):
                os.remove(path)
        # the listing last: the folder's project is complete when it is there
        for name in sorted(new, key=lambda n: n == listing):
            os.replace(os.path.join(tmp, name), os.path.join(out, name))
    except OSError as exc:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise SnnError(None, f"cannot write into output folder {out}: "
                             f"{exc.strerror or exc}") from None
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest
