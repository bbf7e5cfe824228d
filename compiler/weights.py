"""The weights file: one ``.npz`` archive with a float array per trainable tensor and a JSON header.

Layout (see ``docs/weights.md``): an entry ``"<layer>/<tensor>"`` per tensor of
:func:`snnc.ir.weight_shapes` (float32 or float64, the exact shape the layer needs) and an entry
``__meta__``, a 0-d unicode array holding a JSON object::

    {"format": "snnc-weights", "version": 1, "model": "<model name>",
     "graph_hash": "<snnc.serialize.graph_hash of the model>", "created_by": "...", "notes": "..."}

:func:`load_weights` checks a file against a model and reports every problem as a located
:class:`~snnc.errors.SnnError`: a tensor that is missing, extra, of the wrong shape or type, or not
finite is reported at the layer's declaration in the ``.snn`` file. A file made for an earlier
version of the same model (same name, different graph hash) whose tensors all fit is accepted with a
warning.
"""
from __future__ import annotations

import json
import math
import os
import re
import zipfile
import zlib
from collections.abc import Mapping

try:
    import lzma
except ImportError:  # pragma: no cover - Python built without lzma
    lzma = None

import numpy as np

from snnc import ir
from snnc.errors import Loc, SnnError, SnnErrors
from snnc.types import Fixed
from snnc.values import did_you_mean

FORMAT = "snnc-weights"
VERSION = 1
META_KEY = "__meta__"

#: Default gain of :func:`random_weights`: weights are uniform in ``+-scale / sqrt(fan_in)``.
#: PyTorch's default (``scale = 1``) leaves most neurons of a freshly initialised spiking net
#: silent; 3 makes a random net spike in every layer without saturating it.
DEFAULT_SCALE = 3.0
#: The recurrent weights get a smaller gain, so that a random recurrent layer does not run away.
RECURRENT_GAIN = 0.5

_DEFAULT_WEIGHT_FORMAT = Fixed(8, 6)
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: Integers beyond this magnitude are not all float64 values: saving them would round them.
_EXACT_INT = 2**53


class LoadedWeights(dict):
    """The tensors of a weights file, ``{layer: {tensor: ndarray}}``, plus what came with them.

    ``warnings`` lists SnnErrors of severity ``warning`` (e.g. the file was made for an earlier
    version of the model); ``meta`` is the file's header; ``path`` the file it came from.
    """

    def __init__(self, data=(), *, warnings=None, meta=None, path=None):
        super().__init__(data)
        self.warnings: list[SnnError] = list(warnings or [])
        self.meta: dict = dict(meta or {})
        self.path: str | None = path


# ------------------------------------------------------------------ random initialisation


def fan_in(layer: ir.Layer, tensor: str = "weight") -> int:
    """The number of inputs one neuron receives through ``tensor``."""
    if tensor == "recurrent":
        return layer.units
    if isinstance(layer, ir.Conv2d):
        return layer.in_shape[0] * layer.kernel[0] * layer.kernel[1]
    if isinstance(layer, (ir.Dense, ir.Recurrent)):
        return layer.in_shape[0]
    return 1


def weight_format(graph: ir.Graph) -> Fixed:
    return graph.hardware.weights if graph.hardware is not None else _DEFAULT_WEIGHT_FORMAT


def _graph(graph, fn: str) -> ir.Graph:
    """``graph``, or the typed graph of a model from :func:`snnc.load` (a CompiledModel, which
    failed with an AttributeError); anything else is a TypeError."""
    g = getattr(graph, "graph", graph)
    if not isinstance(g, ir.Graph):
        raise TypeError(f"{fn} takes a model (snnc.load(...)) or its graph (snnc.ir.Graph), not "
                        f"{type(graph).__name__}")
    return g


def random_weights(graph: ir.Graph, seed: int = 0, scale: float = DEFAULT_SCALE) -> dict:
    """Random float32 weights for every trainable tensor of ``graph``: ``{layer: {tensor: array}}``.

    Each tensor is uniform in ``[-k, k]`` with ``k = scale / sqrt(fan_in)`` (``fan_in`` of the
    layer's input connection; biases use the same bound; recurrent weights ``RECURRENT_GAIN`` times
    the bound of their own fan-in, the layer's ``units``), capped at the largest value of the
    model's weight format so that nothing is clipped when quantised. Deterministic: each tensor's
    generator is seeded by ``seed`` (an integer from 0 to 2**64 - 1; another value is a
    TypeError or ValueError) and the tensor's name, so a tensor's values do not depend on the
    other layers. ``graph``: a typed graph, or a model from :func:`snnc.load`.
    """
    graph = _graph(graph, "random_weights")
    from snnc.backends.golden.encoders import seed_int

    seed = seed_int(seed)
    import numbers

    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be a real number, not {type(scale).__name__}")
    scale = float(scale)                    # a numpy float too
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, not {scale!r}")
    cap = weight_format(graph).max_value
    out: dict = {}
    for layer in graph.layers:
        shapes = ir.weight_shapes(layer)
        if not shapes:
            continue
        tensors = {}
        for tensor, shape in shapes.items():
            bound = scale / math.sqrt(max(1, fan_in(layer, tensor)))
            if tensor == "bias":
                bound = scale / math.sqrt(max(1, fan_in(layer)))
            elif tensor == "recurrent":
                bound *= RECURRENT_GAIN
            bound = min(bound, cap)
            key = zlib.crc32(f"{layer.name}/{tensor}".encode())
            rng = np.random.default_rng([seed, key])
            tensors[tensor] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
        out[layer.name] = tensors
    return out


# ------------------------------------------------------------------ saving


def created_by() -> str:
    try:
        from importlib.metadata import version

        return f"snnc {version('snnc')}"
    except Exception:  # pragma: no cover - not installed as a distribution
        return "snnc"


def save_weights(path, graph: ir.Graph, weights: dict, notes: str | None = None) -> None:
    """Write ``weights`` (``{layer: {tensor: array}}``) for ``graph`` to ``path`` (an ``.npz``).

    The tensors are checked against the model first (the same checks as :func:`load_weights`), so a
    file written here always loads. Arrays are stored as float32 or float64 (integers are
    converted to float64, which holds them exactly up to 2**53; larger ones are refused).
    ``graph``: a typed graph, or a model from :func:`snnc.load`. A path that cannot be written
    (a folder, no permission) is an SnnError.
    """
    from snnc.serialize import graph_hash

    graph = _graph(graph, "save_weights")
    if notes is not None and not isinstance(notes, str):       # 3 was written as "3"
        raise TypeError(f"notes must be a str or None, not {type(notes).__name__}")
    path = os.fsdecode(path)                 # bytes too (the temporary file was "b'w.npz'.tmp")
    if os.path.isdir(path):
        raise SnnError(None, f"cannot write weights file '{path}': it is a directory")
    arrays = _flat_arrays(weights)
    _check(arrays, graph, f"weights file '{path}'", writing=True)
    meta = {"format": FORMAT, "version": VERSION, "model": graph.name,
            "graph_hash": graph_hash(graph), "created_by": created_by()}
    if notes:
        meta["notes"] = notes
    arrays[META_KEY] = np.array(json.dumps(meta, sort_keys=True))
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise SnnError(None, f"cannot write weights file '{path}': cannot create folder "
                             f"'{directory}' ({exc.strerror or exc})") from None
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:          # a file object: np.savez would append ".npz" to a name
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        raise SnnError(None, f"cannot write weights file '{path}': {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _flat_arrays(weights: dict) -> dict[str, np.ndarray]:
    """``{layer: {tensor: array}}`` as ``{"layer/tensor": float array}``: integers become float64
    (exactly: beyond 2**53 they are an error), torch tensors numpy; other dtypes (complex,
    strings) are an error."""
    if not isinstance(weights, Mapping):
        raise SnnError(None, f"weights must be a dict {{layer: {{tensor: array}}}}, not "
                             f"{type(weights).__name__}")
    arrays: dict[str, np.ndarray] = {}
    for layer_name, tensors in weights.items():
        if not isinstance(tensors, Mapping):
            raise SnnError(None, f"weights for layer '{layer_name}' must be a dict of tensors, "
                                 f"not {type(tensors).__name__}")
        for tensor, value in tensors.items():
            if hasattr(value, "detach") and hasattr(value, "cpu"):      # a torch tensor
                value = value.detach().cpu()
                if str(value.dtype) in ("torch.float16", "torch.bfloat16"):
                    value = value.float()       # exact; numpy has no bfloat16 (an internal error)
                value = value.numpy()
            a = np.asarray(value)
            if a.dtype == np.float16:           # exact in float32, as a torch half tensor is
                a = a.astype(np.float32)
            if a.dtype not in _FLOAT_DTYPES:
                if a.dtype.kind in "iu" and a.size:     # float64 holds every integer to 2**53
                    big = max(int(a.max()), int(a.min()), key=abs)
                    if abs(big) > _EXACT_INT:
                        raise SnnError(None, f"tensor '{layer_name}/{tensor}' holds the integer "
                                             f"{big} ({a.dtype}), which float64 cannot hold "
                                             "exactly (integers up to 2**53 in magnitude)")
                if a.dtype.kind in "iub":
                    a = a.astype(np.float64)
                else:
                    raise SnnError(None, f"tensor '{layer_name}/{tensor}' has dtype {a.dtype}; "
                                         "weights are float32 or float64")
            arrays[f"{layer_name}/{tensor}"] = a
    return arrays


def check_weights(graph: ir.Graph, weights: dict) -> dict:
    """``weights`` given as a dict, checked as a weights file is (:func:`load_weights`): every
    tensor present, none extra, the right shapes, finite. Returns them as numpy arrays
    (``{layer: {tensor: array}}``; torch tensors converted, integers as float64).

    A :class:`LoadedWeights` (read for some model, perhaps edited since) is checked again against
    ``graph``: the model its file was made for, its tensors; the result is a LoadedWeights whose
    ``warnings`` are those of ``graph`` (the graph-hash warning)."""
    graph = _graph(graph, "check_weights")
    arrays = _flat_arrays(weights)
    if not isinstance(weights, LoadedWeights):
        _check(arrays, graph, "weights dict")
        return _nested(arrays)
    path = weights.path
    warnings = []
    if weights.meta:
        warnings = _against_model(weights.meta, path, graph)
    _check(arrays, graph, f"weights loaded from '{path}'" if path else "weights")
    return LoadedWeights(_nested(arrays), warnings=warnings, meta=weights.meta, path=path)


def _nested(arrays: dict) -> dict:
    """``{"layer/tensor": array}`` as ``{layer: {tensor: array}}``."""
    out: dict = {}
    for key, a in arrays.items():
        layer, _, tensor = key.partition("/")
        out.setdefault(layer, {})[tensor] = a
    return out


# ------------------------------------------------------------------ loading


def load_weights(path, graph: ir.Graph) -> LoadedWeights:
    """Read and check the weights file ``path`` against ``graph``.

    Returns a :class:`LoadedWeights` (a dict ``{layer: {tensor: ndarray}}`` with ``.warnings`` and
    ``.meta``). Raises an SnnError (or SnnErrors when several tensors are at fault) when the file
    cannot be used.
    """
    graph = _graph(graph, "load_weights")
    path = os.fsdecode(path)
    if not os.path.exists(path):
        raise SnnError(None, f"weights file '{path}' does not exist",
                       "write one with `snnc train` or snnc.weights.save_weights (`snnc "
                       "simulate`, `compile` and `report` use random weights without --weights)")
    if os.path.isdir(path):
        raise SnnError(None, f"weights file '{path}' is a directory")
    arrays = read_npz(path, "weights file", "save weights with snnc.weights.save_weights")
    arrays = {k: _native_order(a) for k, a in arrays.items()}
    meta = _meta(arrays.pop(META_KEY, None), path)
    warnings = _against_model(meta, path, graph)
    _check(arrays, graph, f"weights file '{path}'")
    result: dict = {}
    for layer in graph.layers:
        shapes = ir.weight_shapes(layer)
        if shapes:
            result[layer.name] = {t: arrays[f"{layer.name}/{t}"] for t in shapes}
    return LoadedWeights(result, warnings=warnings, meta=meta, path=path)


def _against_model(meta: dict, path, graph: ir.Graph) -> list[SnnError]:
    """The header ``meta`` of the weights file ``path`` against ``graph``: made for another model
    is an SnnError; made for another version of it (the graph hash differs), a warning (returned;
    the tensors are checked apart)."""
    from snnc.serialize import graph_hashes

    if meta.get("model") != graph.name:
        raise SnnError(_model_loc(graph), f"weights file '{path}' was made for model "
                                          f"'{meta.get('model')}', not '{graph.name}'",
                       "pass the weights trained for this model")
    warnings = []
    if meta.get("graph_hash") not in graph_hashes(graph):
        warnings.append(SnnError(
            _model_loc(graph),
            f"weights file '{path}' was made for a different version of model '{graph.name}' "
            "(the graph hash differs); every tensor has the right shape, so the weights are used",
            "the model's neurons, time constants or formats changed since the weights were "
            "trained; retrain if the results look off", severity="warning"))
    return warnings


def _native_order(a: np.ndarray) -> np.ndarray:
    """A big-endian float32 / float64 array (">f4") in this machine's byte order: the same numbers
    (it was refused as another dtype)."""
    if a.dtype.kind == "f" and not a.dtype.isnative:
        return a.astype(a.dtype.newbyteorder("="))
    return a


#: What reading a damaged ``.npz`` raises: a bad zip directory, a member cut short or corrupt
#: (deflate: zlib.error; CRC mismatch: BadZipFile), an unsupported compression method or zip
#: feature (NotImplementedError), an encrypted member (RuntimeError), a bad .npy header.
_NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, RuntimeError, NotImplementedError,
               zipfile.BadZipFile, zlib.error, *((lzma.LZMAError,) if lzma is not None else ()))


def read_npz(path: str, what: str, hint: str | None = None) -> dict:
    """All arrays of the ``.npz`` archive ``path`` (no pickles), or an SnnError naming the file."""
    from snnc.argtypes import special_file
    from snnc.npyfile import npz_problem

    kind = special_file(path)
    if kind:                        # opening a named pipe waits for a writer, for ever
        raise SnnError(None, f"{what} '{path}' is {kind}, not a regular file", hint)
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise SnnError(None, f"cannot read {what} '{path}': {exc.strerror or exc}") from None
    if magic.startswith(b"\x93NUMPY"):
        raise SnnError(None, f"{what} '{path}' is a single .npy array, not an .npz archive", hint)
    if not magic.startswith(b"PK"):
        raise SnnError(None, f"{what} '{path}' is not an .npz archive", hint)
    arrays: dict = {}
    key = None                                  # the entry being read when it failed
    try:
        with open(path, "rb") as f:
            problem = npz_problem(f)        # a header numpy would trust (373 GiB for 16 bytes)
        if problem:
            raise SnnError(None, f"{what} '{path}' is not a valid .npz archive ({problem})", hint)
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            for key in npz.files:
                arrays[key] = npz[key]
    except _NPZ_ERRORS as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "pickle" in detail.lower():
            detail = "it holds Python objects (pickles), which snnc does not load"
        elif key is not None:
            detail = f"entry '{key}': {detail}"
        raise SnnError(None, f"{what} '{path}' is not a valid .npz archive ({detail})",
                       hint) from None
    for key, value in arrays.items():
        if not isinstance(value, np.ndarray):       # numpy returns a non-.npy member's raw bytes
            raise SnnError(None, f"{what} '{path}' is not a valid .npz archive (entry '{key}' is "
                                 "not a .npy array)", hint)
    return arrays


def _meta(entry, path: str) -> dict:
    hint = "save weights with snnc.weights.save_weights"
    if entry is None:
        raise SnnError(None, f"weights file '{path}' has no '{META_KEY}' entry: it is not an snnc "
                             "weights file", hint)
    if entry.shape != () or entry.dtype.kind != "U":
        raise SnnError(None, f"weights file '{path}': '{META_KEY}' must be a JSON string (a 0-d "
                             f"unicode array), not an array of dtype {entry.dtype} and shape "
                             f"{list(entry.shape)}", hint)
    try:
        meta = json.loads(str(entry[()]))
    except ValueError as exc:
        raise SnnError(None, f"weights file '{path}': '{META_KEY}' is not valid JSON ({exc})",
                       hint) from None
    except RecursionError:
        raise SnnError(None, f"weights file '{path}': '{META_KEY}' is not valid JSON (nested too "
                             "deeply)", hint) from None
    if not isinstance(meta, dict):
        raise SnnError(None, f"weights file '{path}': '{META_KEY}' must be a JSON object", hint)
    if meta.get("format") != FORMAT:
        raise SnnError(None, f"weights file '{path}': '{META_KEY}' has format "
                             f"{json.dumps(meta.get('format'))}, expected \"{FORMAT}\"", hint)
    if type(meta.get("version")) is not int or meta["version"] != VERSION:   # not true, 1.0
        raise SnnError(None, f"weights file '{path}' has version {json.dumps(meta.get('version'))}; "
                             f"this snnc reads version {VERSION}",
                       "a newer snnc may have written it" if isinstance(meta.get("version"), int)
                       and meta["version"] > VERSION else hint)
    if not isinstance(meta.get("model"), str) or not isinstance(meta.get("graph_hash"), str):
        raise SnnError(None, f"weights file '{path}': '{META_KEY}' needs string fields 'model' and "
                             "'graph_hash'", hint)
    return meta


def _check(arrays: dict, graph: ir.Graph, file_text: str, writing: bool = False) -> None:
    """Every tensor present, none extra, each of the right shape, float and finite; ``file_text``
    names the weights in the messages (``weights file 'w.npz'``)."""
    errors: list[SnnError] = []
    expected: dict[str, tuple[ir.Layer, str, tuple]] = {}
    for layer in graph.layers:
        for tensor, shape in ir.weight_shapes(layer).items():
            expected[f"{layer.name}/{tensor}"] = (layer, tensor, tuple(shape))
    layers = {l.name: l for l in graph.layers}
    for key, (layer, tensor, shape) in expected.items():
        if key not in arrays:
            verb = "has no" if not writing else "would have no"
            errors.append(SnnError(layer.loc, f"{file_text} {verb} tensor '{key}' (layer "
                                              f"'{layer.name}' needs shape {_shape(shape)})"))
            continue
        a = arrays[key]
        if a.dtype not in _FLOAT_DTYPES:
            errors.append(SnnError(layer.loc, f"{file_text}: tensor '{key}' has dtype {a.dtype}; "
                                              "weights are float32 or float64"))
            continue
        if tuple(a.shape) != shape:
            errors.append(SnnError(layer.loc, f"{file_text}: tensor '{key}' has shape "
                                              f"{_shape(a.shape)}, but layer '{layer.name}' needs "
                                              f"{_shape(shape)}"))
            continue
        bad = ~np.isfinite(a)
        if bad.any():
            n = int(bad.sum())
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            errors.append(SnnError(layer.loc, f"{file_text}: tensor '{key}' has {n} non-finite "
                                              f"value{'s' if n != 1 else ''} (the first, "
                                              f"{a[first]}, at index {list(first)})"))
    for key in arrays:
        if key in expected:
            continue
        layer_name, _, tensor = key.partition("/")
        layer = layers.get(layer_name)
        if layer is not None:
            needs = list(ir.weight_shapes(layer))
            what = ("has no trainable tensors" if not needs else
                    "has tensors " + ", ".join(f"'{t}'" for t in needs))
            hint = None
            if tensor == "bias":
                hint = f"add `bias = true` to layer '{layer.name}', or drop the tensor"
            errors.append(SnnError(layer.loc, f"{file_text} has an extra tensor '{key}': layer "
                                              f"'{layer.name}' {what}", hint))
        else:
            hint = did_you_mean(layer_name, [l.name for l in graph.layers if ir.weight_shapes(l)])
            errors.append(SnnError(_model_loc(graph), f"{file_text} has a tensor '{key}' for no "
                                                      f"layer of model '{graph.name}'", hint))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SnnErrors(errors)


def _shape(shape) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _model_loc(graph: ir.Graph) -> Loc | None:
    """The location of the ``model NAME`` declaration, found through a layer's source file."""
    for node in graph.layers + graph.inputs:
        loc = getattr(node, "loc", None)
        if loc is None or loc.source is None:
            continue
        m = re.search(r"^[ \t]*model[ \t]+(" + re.escape(graph.name) + r")\b", loc.source.text,
                      re.MULTILINE)
        if m:
            from snnc.errors import loc_at_offset

            start = loc_at_offset(loc.source, m.start(1))
            return Loc(loc.source, start.line, start.col, start.line, start.col + len(graph.name))
        return Loc(loc.source, 1, 1)
    return None
