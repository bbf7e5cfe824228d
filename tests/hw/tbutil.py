"""Small helpers shared by the cocotb benches: bit-field buses, generated wrappers, signals."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Field:
    name: str
    width: int
    signed: bool
    offset: int


class Bus:
    """Named bit fields packed into one wide vector (LSB first), to move many small signals
    between Python and the simulator in one access per cycle."""

    def __init__(self):
        self.fields: dict[str, Field] = {}
        self.width = 0

    def add(self, name: str, width: int, signed: bool = False) -> Field:
        f = Field(name, width, signed, self.width)
        self.fields[name] = f
        self.width += width
        return f

    def slice(self, name: str) -> str:
        f = self.fields[name]
        return f"[{f.offset} +: {f.width}]"

    def pack(self, values: dict) -> int:
        word = 0
        for name, v in values.items():
            f = self.fields[name]
            word |= (int(v) & ((1 << f.width) - 1)) << f.offset
        return word

    def unpack(self, word: int, names=None) -> dict:
        out = {}
        for name in (names or self.fields):
            f = self.fields[name]
            v = (word >> f.offset) & ((1 << f.width) - 1)
            if f.signed and v >> (f.width - 1):
                v -= 1 << f.width
            out[name] = v
        return out


def write_generated(text: str, stem: str, directory: Path) -> Path:
    """Write generated Verilog under a content-hashed name (so builds key on its text)."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    path = directory / f"{stem}_{digest}.v"
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path


def verilog_param(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(int(value))


def param_list(params: dict) -> str:
    return ", ".join(f".{k}({verilog_param(v)})" for k, v in params.items())
