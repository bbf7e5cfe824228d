"""Damaging a compressed ``.npz`` in place, for the tests of the weights and data-set readers."""
from __future__ import annotations

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
