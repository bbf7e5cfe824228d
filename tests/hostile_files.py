"""Hostile input files for the tests of the readers: a compressed ``.npz`` damaged in place, and
a guard for reading a named pipe (which waits for a writer for ever)."""
from __future__ import annotations

import contextlib
import signal
import struct
import zipfile
import zlib
from pathlib import Path


def damage_deflate_member(path: Path, member: str) -> str:
    """Invert every byte of ``member``'s deflate data in the archive at ``path`` (its zip directory
    stays valid) and return what zlib says when it decompresses the damaged data."""
    data = bytearray(Path(path).read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    for i in range(start, start + info.compress_size):
        data[i] ^= 0xFF
    Path(path).write_bytes(data)
    try:
        zlib.decompress(bytes(data[start:start + info.compress_size]), -15)
    except zlib.error as e:
        return str(e)
    raise AssertionError(f"{member}: the damaged data still decompresses")


@contextlib.contextmanager
def no_hang(seconds: int = 20):
    """A command blocked on a named pipe fails with TimeoutError instead of waiting for ever."""
    def waited(*_):
        raise TimeoutError("waited on the named pipe")

    previous = signal.signal(signal.SIGALRM, waited)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def npy_with_header(header: str, data: bytes = b"\0" * 16) -> bytes:
    """A version 1.0 ``.npy`` file whose header dictionary is the text ``header`` (padded the way
    numpy pads it) followed by ``data``: a header numpy would trust however wrong it is."""
    text = header.encode("latin1")
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def npz_of(path: Path, members: dict) -> Path:
    """An uncompressed zip archive at ``path`` holding ``members`` (name -> bytes) as they are."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return Path(path)
