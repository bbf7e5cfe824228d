"""The ``.snn`` language: grammar, AST and parser."""
from snnc.dsl.parser import parse_bytes, parse_file, parse_text

__all__ = ["parse_bytes", "parse_file", "parse_text"]
