"""snnc: a compiler for spiking neural networks.

``snnc.load(path)`` returns a :class:`snnc.api.CompiledModel` (the typed graph plus ``to_torch``,
``simulate``, ``quantize``, ``random_weights``). Importing ``snnc`` stays light: torch is imported
only when a model is compiled to a torch module.
"""


def load(path, weights=None):
    """Parse, check and build the ``.snn`` model in ``path``: a :class:`snnc.api.CompiledModel`."""
    from snnc.api import load as _load

    return _load(path, weights)


def loads(text, path="<input>", weights=None):
    """Like :func:`load`, for the text of a model."""
    from snnc.api import loads as _loads

    return _loads(text, path, weights)


def _version() -> str:
    """The installed distribution's version (pyproject.toml), or "unknown" for a source tree
    that was not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("snnc")
    except PackageNotFoundError:
        return "unknown"


def __getattr__(name):
    if name == "__version__":       # looked up when asked: importing snnc stays light
        return _version()
    raise AttributeError(f"module 'snnc' has no attribute {name!r}")


__all__ = ["load", "loads", "__version__"]
