"""Reference simulators: float and bit-exact fixed point (docs/semantics.md)."""
