"""Data sets for training and simulation, shaped to fit a model's input (see ``docs/datasets.md``).

``load_dataset(name, graph)`` returns a :class:`Dataset` whose samples fit the model's (single)
input: static samples ``[N, *shape]``, or sequences ``[N, L, *shape]`` (``L >= steps``) for the
encodings that take sequences (``delta`` and ``direct``). Names:

* ``digits`` -- scikit-learn's 8x8 handwritten digits (1797 images), pixels scaled to ``[0, 1]``;
  a fixed stratified split: 1400 training and 397 test images.
* ``mnist1d`` -- MNIST-1D (Greydanus 2020), generated locally by the ``mnist1d`` package with its
  default arguments (4000 training and 1000 test signals of length 40), cached under
  ``~/.cache/snnc``.
* ``npz:PATH`` -- an ``.npz`` file holding dense arrays or an event list (docs/datasets.md).

Every problem (an unknown name, a missing file or key, samples that do not fit the model) is an
:class:`~snnc.errors.SnnError`.
"""
from __future__ import annotations

import dataclasses
import math
import os
import sys
from dataclasses import dataclass

import numpy as np

from snnc import ir
from snnc.errors import SnnError
from snnc.values import did_you_mean

DATASETS = ("digits", "mnist1d", "npz:PATH")
DIGITS_TEST = 397
DIGITS_SEED = 0
MNIST1D_CACHE = "mnist1d-v1.npz"
#: Share of the samples of an event-list file that form the test split when it has no ``test`` key.
EVENT_TEST_SHARE = 0.2


@dataclass(frozen=True)
class Dataset:
    """A data set fitted to a model's input: samples ``x_*`` (float32) and integer labels ``y_*``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    notes: tuple[str, ...] = ()       # what fitting the data to the model left out
    # what it left out of the training split alone (said by commands that train, not by those
    # that use the test split only)
    train_notes: tuple[str, ...] = ()

    @property
    def classes(self) -> int:
        ys = [y for y in (self.y_train, self.y_test) if y.size]
        return int(max(int(y.max()) for y in ys)) + 1 if ys else 0


def fewer_samples_note(samples: int, name: str, available: int) -> str:
    """The note of ``--samples`` beyond the test split of data set ``name``."""
    return (f"--samples {samples}: the test split of '{name}' has only {available} samples; all "
            "of them are used")


def require_samples(ds: Dataset, *splits: str, why: str = "") -> None:
    """A clear error if a split (``"train"``, ``"test"``) of ``ds`` holds no samples."""
    for split in splits:
        x = ds.x_train if split == "train" else ds.x_test
        if len(x) == 0:
            label = "training" if split == "train" else "test"
            raise SnnError(None, f"the {label} split of '{ds.name}' holds no samples"
                                 + (f" ({why})" if why else ""))


# ------------------------------------------------------------------ entry point


def load_dataset(name: str, graph: ir.Graph) -> Dataset:
    """The data set ``name`` (``digits``, ``mnist1d`` or ``npz:PATH``; a path object,
    ``pathlib.Path("d.npz")``, is the ``.npz`` file ``npz:d.npz``) shaped for ``graph``'s input
    (``graph``: a typed graph, or a model from :func:`snnc.load`). An error about the data set
    the model's train block names is located at that `dataset = ...`."""
    graph = getattr(graph, "graph", graph)   # a CompiledModel failed: no attribute 'inputs'
    if not isinstance(graph, ir.Graph):
        raise TypeError(f"load_dataset needs the model (its graph, or a model from snnc.load) "
                        f"to shape the data for, not {type(graph).__name__}")
    if isinstance(name, os.PathLike):       # was "no data set given"
        name = "npz:" + os.fsdecode(name)
    if not isinstance(name, str):           # 3 was "no data set given"
        raise TypeError(f"a data set's name is a str (digits, mnist1d or npz:PATH) or a path, "
                        f"not {type(name).__name__}")
    try:
        return _load_dataset(name, graph)
    except SnnError as err:
        loc = None
        if err.loc is None and graph.train is not None and name == graph.train.dataset:
            loc = _dataset_setting_loc(graph)
        if loc is None:
            raise
        raise SnnError(loc, err.message, err.hint) from None


def _dataset_setting_loc(graph: ir.Graph):
    """Where the model's train block says ``dataset = ...`` (the value), or None."""
    import re

    from snnc.errors import Loc, loc_at_offset

    for node in graph.layers + graph.inputs + graph.outputs:
        loc = getattr(node, "loc", None)
        if loc is not None and loc.source is not None:
            # the value: a quoted string or a name (the caret spans it, not its first character)
            m = re.search(r'\btrain\s*\{[^}]*?\bdataset\s*=\s*("(?:[^"\\\n]|\\.)*"|[^\s;}#]+)',
                          loc.source.text)
            if not m:
                return None
            start = loc_at_offset(loc.source, m.start(1))
            return Loc(loc.source, start.line, start.col, start.line,
                       start.col + len(m.group(1)))
    return None


def name_error(name) -> SnnError | None:
    """The error a data set's name makes (unknown, empty, ``npz:`` without a path; without a
    location), or None for ``digits``, ``mnist1d`` and ``npz:PATH``: said where the train block
    names it (``snnc check``), not only when the data are loaded."""
    if not isinstance(name, str) or not name:
        return SnnError(None, "no data set given", "known data sets: " + ", ".join(DATASETS))
    if name in ("digits", "mnist1d") or (name.startswith("npz:") and len(name) > 4):
        return None
    if name == "npz:":
        return SnnError(None, "data set 'npz:' names no file", "write npz:PATH, e.g. npz:data.npz")
    return SnnError(None, f"unknown data set '{name}'", _unknown_hint(name))


def _load_dataset(name: str, graph: ir.Graph) -> Dataset:
    inp = model_input(graph)
    bad = name_error(name)
    if bad is not None:
        raise bad
    if name == "digits":
        x_tr, y_tr, x_te, y_te = _digits()
    elif name == "mnist1d":
        x_tr, y_tr, x_te, y_te = _mnist1d()
    else:                                   # npz:PATH (name_error let it through)
        return _npz(name[4:], graph, inp, name)
    # both splits have the same samples' shape: an error names the data set, not a split (simulate
    # uses the test split only, and was told "(training split)")
    x_tr = fit_input(x_tr, graph, f"data set '{name}'")
    x_te = fit_input(x_te, graph, f"data set '{name}'")
    ds = Dataset(x_tr, y_tr, x_te, y_te, name,
                 *split_notes(x_tr, x_te, graph, f"data set '{name}'",
                              f"data set '{name}' (training split)",
                              f"data set '{name}' (test split)"))
    check_labels(ds, graph)
    return ds


def sequence_notes(x, graph: ir.Graph, what: str, inp: ir.Input | None = None) -> tuple[str, ...]:
    """A note when samples ``x`` of input ``inp`` (default: the model's one input), as
    :func:`fit_input` returns them, are sequences longer than the model's ``steps``: the
    simulation uses the first ``steps`` of each, the rest is left out (said, not silently
    dropped)."""
    shape, steps = tuple((inp or model_input(graph)).shape), graph.time.steps
    got = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)    # (a torch tensor too)
    if len(got) != len(shape) + 2 or got[1] <= steps:
        return ()
    length = got[1]
    return (f"{what}: each sample is a sequence of {length} steps and model '{graph.name}' runs "
            f"{steps}: its last {length - steps} steps are not used",)


def range_notes(x, graph: ir.Graph, what: str, inp: ir.Input | None = None) -> tuple[str, ...]:
    """A note when values of samples ``x`` of a ``rate`` or ``latency`` input (default: the
    model's one input) lie outside what its encoder distinguishes, which it clips: a rate input's
    spike probability is ``clip(gain * x, 0, 1)``, a latency input's spike time is set by
    ``clip(x, 0, 1)``. Unscaled images (0..255) were encoded without a word."""
    inp = inp or model_input(graph)
    enc = inp.encoding
    if isinstance(enc, ir.Rate):
        hi, rule = 1.0 / enc.gain, f"spike probability clip({enc.gain:g} * x, 0, 1)"
    elif isinstance(enc, ir.Latency):
        hi, rule = 1.0, "spike time from clip(x, 0, 1)"
    else:
        return ()
    if hasattr(x, "detach"):                        # a torch tensor (the Python API)
        x = x.detach().to("cpu").double().numpy()
    a = np.asarray(x, dtype=np.float64)
    out = int(np.count_nonzero(a < 0)) + int(np.count_nonzero(a > hi))
    if out == 0:
        return ()
    kind = type(enc).__name__.lower()
    return (f"{what}: {100 * out / a.size:.1f}% of the values of input '{inp.name}' are outside "
            f"[0, {hi:g}] (min {np.nanmin(a):.4g}, max {np.nanmax(a):.4g}), which its {kind} "
            f"encoder clips ({rule}); scale the data to [0, {hi:g}]",)


def data_notes(x, graph: ir.Graph, what: str, inp: ir.Input | None = None) -> tuple[str, ...]:
    """:func:`sequence_notes` and :func:`range_notes` of samples ``x``."""
    return sequence_notes(x, graph, what, inp) + range_notes(x, graph, what, inp)


def batch_data_notes(data, graph: ir.Graph) -> list[str]:
    """:func:`data_notes` of every input of a batch: ``data`` maps input names to checked
    arrays (or tensors), or is one array for a single-input model."""
    return [note for inp in graph.inputs
            for note in data_notes(data[inp.name] if isinstance(data, dict) else data, graph,
                                   f"input '{inp.name}'", inp)]


def split_notes(x_train, x_test, graph: ir.Graph, what: str, train_what: str,
                test_what: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`data_notes` of both splits, as a :class:`Dataset`'s ``notes`` and ``train_notes``:
    one sequence note when they are alike (``what``: the data set's words), the training split's
    own, apart, when only it (or it differently) is cut; each split's own range note, naming the
    split (``train_what``, ``test_what``)."""
    test = sequence_notes(x_test, graph, what)
    train = sequence_notes(x_train, graph, train_what)
    same = test and np.shape(x_train)[1:] == np.shape(x_test)[1:]
    return (test + range_notes(x_test, graph, test_what),
            (() if same else train) + range_notes(x_train, graph, train_what))


def print_notes(notes) -> None:
    """The notes of a data set on standard error (``note: ...``)."""
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def _unknown_hint(name: str) -> str:
    known = "known data sets: " + ", ".join(DATASETS)
    if name.lower() in ("mnist", "fashion_mnist", "fashion-mnist", "cifar10", "nmnist", "shd"):
        return (f"snnc cannot download '{name}'; save it as an .npz file (keys x_train, y_train, "
                "x_test, y_test, or an event list, see docs/datasets.md) and pass npz:PATH; " + known)
    close = did_you_mean(name, ["digits", "mnist1d"])
    return f"{close} ({known})" if close else known


def model_input(graph: ir.Graph) -> ir.Input:
    """The one input of ``graph`` (data sets feed single-input models)."""
    if len(graph.inputs) != 1:
        names = ", ".join(f"'{i.name}'" for i in graph.inputs)
        raise SnnError(graph.inputs[1].loc if len(graph.inputs) > 1 else None,
                       f"model '{graph.name}' has {len(graph.inputs)} inputs ({names}); data sets "
                       "feed a model with exactly one")
    return graph.inputs[0]


def takes_sequences(inp: ir.Input) -> bool:
    return isinstance(inp.encoding, (ir.Delta, ir.Direct))


def _size(shape) -> int:
    return int(math.prod(int(d) for d in shape))


def _shape(shape) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


#: numpy's kinds of non-numeric arrays, in words
_KIND_WORDS = {"U": "text", "S": "bytes", "O": "Python objects", "M": "dates", "m": "time spans",
               "V": "records", "c": "complex numbers", "b": "booleans"}


def _dtype_words(dtype) -> str:
    """An array's element type for a message: 'text (<U1)' rather than '<U1'."""
    dtype = np.dtype(dtype)
    words = _KIND_WORDS.get(dtype.kind)
    return f"{words} ({dtype.str})" if words else str(dtype)


def fit_input(x, graph: ir.Graph, what: str, keep_float64: bool = False) -> np.ndarray:
    """Samples ``x`` (``[N, ...]``) reshaped to fit ``graph``'s input, as float32 (float64
    samples stay float64 with ``keep_float64``: ``snnc simulate --input`` gives the simulators
    what the Python API would).

    A sample fits when it has the input's size (``[64]`` fits an input ``[1, 8, 8]``: it is
    reshaped row-major) or, for ``delta`` and ``direct`` inputs, when it is a sequence of at least
    ``steps`` such samples (``[40]`` fits an input ``[1]`` of a 40-step model as ``[40, 1]``).
    """
    inp = model_input(graph)
    shape = tuple(inp.shape)
    steps = graph.time.steps
    x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise SnnError(None, f"{what}: samples must be numbers, not {_dtype_words(x.dtype)}")
    if x.ndim < 1:
        raise SnnError(None, f"{what}: expected an array of samples [N, ...], got a scalar")
    if x.dtype.kind == "f" and x.size and not np.isfinite(x).all():
        raise SnnError(None, f"{what}: the samples hold non-finite values (nan or inf)")
    big = float(np.abs(x).max()) if x.size and x.dtype.kind in "fiu" else 0.0
    dtype = np.float64 if keep_float64 and x.dtype == np.float64 else np.float32
    if dtype == np.float32 and big > float(np.finfo(np.float32).max):   # float32 from here on
        raise SnnError(None, f"{what}: the samples reach {big:g}, beyond float32's range "
                             f"({np.finfo(np.float32).max:g})")
    n, sample = x.shape[0], tuple(x.shape[1:])
    size = _size(shape)
    enc = type(inp.encoding).__name__.lower()
    if sample == shape:
        return np.ascontiguousarray(x, dtype=dtype)
    if _size(sample) == size:
        return np.ascontiguousarray(x.reshape(n, *shape), dtype=dtype)
    if takes_sequences(inp) and size and _size(sample) and _size(sample) % size == 0:
        length = _size(sample) // size
        if sample in ((length, *shape), (length * size,), (length, size)):
            if length < steps:
                raise SnnError(inp.loc, f"{what}: samples are sequences of {length} steps of "
                                        f"{_shape(shape)}, but model '{graph.name}' runs {steps} "
                                        "steps", f"set `steps = {length}` in the time block, or "
                                                 "use longer sequences")
            return np.ascontiguousarray(x.reshape(n, length, *shape), dtype=dtype)
    if takes_sequences(inp):
        want = f"{_shape(shape)} or a sequence [L, {_shape(shape)[1:-1]}] with L >= {steps}"
    else:
        want = f"{_shape(shape)} (or {size} values)"
    hint = None
    if not takes_sequences(inp) and size and _size(sample) % size == 0 and _size(sample) > size:
        hint = (f"{enc} encoding takes static samples; use `delta` or `direct` encoding to feed "
                "sequences")
    raise SnnError(inp.loc, f"{what}: samples of shape {_shape(sample)} do not fit input "
                            f"'{inp.name}', which takes {want}", hint)


def output_units(graph: ir.Graph) -> int | None:
    """The number of classes the model's first output predicts (its layer's neuron count)."""
    if not graph.outputs:
        return None
    return _size(graph.shape_of(graph.outputs[0].source))


def check_labels(ds: Dataset, graph: ir.Graph) -> None:
    for split, x, y in (("training", ds.x_train, ds.y_train), ("test", ds.x_test, ds.y_test)):
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise SnnError(None, f"data set '{ds.name}': the {split} split has {x.shape[0]} samples "
                                 f"but labels of shape {_shape(y.shape)}",
                           "labels are one integer per sample")
        _label_range(y, graph, ds.name, split)


def _label_range(y: np.ndarray, graph: ir.Graph, name: str, split: str | None) -> None:
    """Labels ``y`` (integers, or whole floats as given) are classes of ``graph``'s first output;
    ``split`` (``"training"``, ``"test"`` or None) words the error."""
    if not y.size:
        return
    classes = output_units(graph)
    if y.min() >= 0 and (classes is None or y.max() < classes):
        return
    where = f" in its {split} split" if split else ""
    if classes is None:
        raise SnnError(None, f"data set '{name}' has labels {_whole(y.min())}..{_whole(y.max())}"
                             f"{where}; labels are 0 or more")
    out = graph.outputs[0]
    raise SnnError(out.loc, f"data set '{name}' has labels {_whole(y.min())}..{_whole(y.max())}"
                            f"{where}, but output '{out.source}' has {classes} neurons (classes "
                            f"0..{classes - 1})")


def _whole(v) -> str:
    """A whole number as given: an integer's digits, a float's as an integer up to 2**53 (``3``)
    and in short form beyond (``1e+30``: its digits would be the float's rounding)."""
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if abs(v) <= 2.0 ** 53 else f"{float(v):g}"
    return str(int(v))


def _labels(y, what: str, graph: ir.Graph, name: str, split: str | None) -> np.ndarray:
    """Labels ``y`` as int64, checked on the values as given: integers (whole floats too), finite,
    classes of ``graph``'s output (:func:`_label_range`). 1e30 was cast first: int64 wrapped it,
    with a RuntimeWarning, and the error showed the wrapped value."""
    y = np.asarray(y)
    if y.dtype.kind == "f" and y.size and (not np.isfinite(y).all() or (y != np.round(y)).any()):
        raise SnnError(None, f"{what}: labels must be integers")
    if y.dtype.kind not in "iuf":
        raise SnnError(None, f"{what}: labels must be integers, not {_dtype_words(y.dtype)}")
    _label_range(y, graph, name, split)
    return y.astype(np.int64)


# ------------------------------------------------------------------ digits


def stratified_split(y, test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) indices; each class contributes to ``test`` in proportion to its size
    (largest remainders), chosen by a generator seeded with ``seed``."""
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    share = counts * test / len(y)
    take = np.floor(share).astype(int)
    for i in np.argsort(-(share - take), kind="stable")[: test - int(take.sum())]:
        take[i] += 1
    rng = np.random.default_rng(seed)
    chosen = []
    for c, k in zip(classes, take):
        idx = np.flatnonzero(y == c)
        chosen.append(rng.permutation(idx)[:k])
    test_idx = np.sort(np.concatenate(chosen))
    mask = np.ones(len(y), dtype=bool)
    mask[test_idx] = False
    return np.flatnonzero(mask), test_idx


def _digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SnnError(None, "data set 'digits' needs scikit-learn, which is not installed",
                       "pip install scikit-learn (or snnc[data])") from None
    d = load_digits()
    x = (np.asarray(d.data, dtype=np.float32) / 16.0).astype(np.float32)
    y = np.asarray(d.target, dtype=np.int64)
    train, test = stratified_split(y, DIGITS_TEST, DIGITS_SEED)
    return x[train], y[train], x[test], y[test]


# ------------------------------------------------------------------ mnist1d


def cache_dir() -> str:
    """``$SNNC_CACHE``, else ``$XDG_CACHE_HOME/snnc``, else ``~/.cache/snnc``."""
    if os.environ.get("SNNC_CACHE"):
        return os.environ["SNNC_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "snnc")


def generate_mnist1d() -> dict:
    """MNIST-1D with the package's default arguments, generated locally (no download).

    ``mnist1d`` seeds NumPy's and Python's global generators; their states are restored afterwards.
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise SnnError(None, "data set 'mnist1d' needs the mnist1d package, which is not installed",
                       "pip install mnist1d (or snnc[data])") from None
    import random

    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return {"x_train": np.asarray(d["x"], dtype=np.float32),
            "y_train": np.asarray(d["y"], dtype=np.int64),
            "x_test": np.asarray(d["x_test"], dtype=np.float32),
            "y_test": np.asarray(d["y_test"], dtype=np.int64)}


def _mnist1d():
    path = os.path.join(cache_dir(), MNIST1D_CACHE)
    keys = ("x_train", "y_train", "x_test", "y_test")
    data = None
    if os.path.isfile(path):
        try:
            with np.load(path, allow_pickle=False) as f:
                data = {k: f[k] for k in keys}
        except Exception:  # a damaged cache: make it again
            data = None
    if data is None:
        data = generate_mnist1d()
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.tmp{os.getpid()}"
            with open(tmp, "wb") as f:
                np.savez(f, **data)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache only costs the time to generate the data again
    return tuple(data[k] for k in keys)


# ------------------------------------------------------------------ npz files

DENSE_KEYS = ("x_train", "y_train", "x_test", "y_test")
EVENT_KEYS = ("t", "x", "y", "p", "sample", "label")


def _npz(path: str, graph: ir.Graph, inp: ir.Input, name: str) -> Dataset:
    from snnc.weights import read_npz

    what = f"data set file '{path}'"
    if not os.path.exists(path):
        raise SnnError(None, f"{what} does not exist",
                       f"looked for {os.path.abspath(path)} (relative to the working directory)")
    if os.path.isdir(path):
        raise SnnError(None, f"{what} is a directory")
    arrays = read_npz(path, "data set file", "see docs/datasets.md for the keys it needs")
    if any(k in arrays for k in DENSE_KEYS):
        missing = [k for k in DENSE_KEYS if k not in arrays]
        if missing:
            raise SnnError(None, f"{what} has no {_keys(missing)}",
                           "a dense data set holds x_train, y_train, x_test and y_test")
        x_tr = fit_input(arrays["x_train"], graph, f"{what}, x_train")
        x_te = fit_input(arrays["x_test"], graph, f"{what}, x_test")
        ds = Dataset(x_tr, _labels(arrays["y_train"], f"{what}, y_train", graph, name, "training"),
                     x_te, _labels(arrays["y_test"], f"{what}, y_test", graph, name, "test"), name,
                     *split_notes(x_tr, x_te, graph, what, f"{what}, x_train", f"{what}, x_test"))
        known = DENSE_KEYS
    elif any(k in arrays for k in EVENT_KEYS):
        missing = [k for k in EVENT_KEYS if k not in arrays]
        if missing:
            raise SnnError(None, f"{what} has no {_keys(missing)}",
                           "an event list holds t, x, y, p, sample and label (docs/datasets.md)")
        ds = _events(arrays, graph, inp, what, name)
        known = EVENT_KEYS + ("test", "duration")
    else:
        found = ", ".join(sorted(arrays)) or "nothing"
        raise SnnError(None, f"{what} holds neither a dense data set (x_train, y_train, x_test, "
                             f"y_test) nor an event list (t, x, y, p, sample, label); it has {found}",
                       "see docs/datasets.md")
    check_labels(ds, graph)
    unread = sorted(k for k in arrays if k not in known)
    if unread:                                  # a misspelt key, e.g. 'durations', said nothing
        ds = dataclasses.replace(ds, notes=ds.notes + (
            f"{what}: {_keys(unread)} not read (docs/datasets.md lists the keys)",))
    return ds


def _keys(keys) -> str:
    keys = [f"'{k}'" for k in keys]
    return ("key " if len(keys) == 1 else "keys ") + ", ".join(keys)


def bin_events(t, x, y, p, sample, n_samples: int, steps: int, shape: tuple[int, int, int],
               duration: float | None = None) -> np.ndarray:
    """Event counts ``[n_samples, steps, P, H, W]`` (float32): event ``e`` adds 1 at
    ``[sample[e], floor(t[e] * steps / duration), p[e], y[e], x[e]]``.

    ``duration`` defaults to ``floor(max(t)) + 1``; events at ``t >= duration`` are dropped.
    The caller checks the ranges of ``p``, ``y``, ``x`` and ``sample`` (see ``_events``).
    """
    t = np.asarray(t, dtype=np.float64)
    if duration is None:
        duration = float(math.floor(t.max()) + 1) if t.size else 1.0
    return _bin(_event_steps(t, steps, duration), x, y, p, sample, n_samples, steps, shape)


def _bin(step_of: np.ndarray, x, y, p, sample, n_samples: int, steps: int,
         shape: tuple[int, int, int]) -> np.ndarray:
    """:func:`bin_events` from each event's step (``step_of``; ``steps`` or more: left out)."""
    from snnc.memory import check_fits

    P, H, W = shape
    check_fits(4 * n_samples * steps * P * H * W,
               f"binning {n_samples} event sample(s) into {steps} steps of [{P}, {H}, {W}]",
               "the binned counts are held as float32 [samples, steps, P, H, W]: use fewer "
               "samples (fewer ids in 'sample') or fewer steps")
    out = np.zeros((n_samples, steps, P, H, W), dtype=np.float32)
    keep = step_of < steps
    step = step_of[keep].astype(np.int64)
    idx = (np.asarray(sample, np.int64)[keep], step, np.asarray(p, np.int64)[keep],
           np.asarray(y, np.int64)[keep], np.asarray(x, np.int64)[keep])
    np.add.at(out, idx, 1.0)
    return out


def _event_steps(t: np.ndarray, steps: int, duration: float) -> np.ndarray:
    """``floor(t * steps / duration)`` as floats: inf (never a step) where a tiny ``duration``
    overflows it (``t`` is below 2^53, so ``t * steps`` does not)."""
    with np.errstate(over="ignore"):
        return np.floor(t * steps / duration)


def _events(arrays: dict, graph: ir.Graph, inp: ir.Input, what: str, name: str) -> Dataset:
    shape = tuple(inp.shape)
    steps = graph.time.steps
    if len(shape) == 3:
        grid = shape
    else:
        raise SnnError(inp.loc, f"{what} is an event list, which fills an input of shape "
                                f"[P, H, W] (polarities, height, width); input '{inp.name}' has "
                                f"shape {_shape(shape)}")
    if not takes_sequences(inp):
        enc = type(inp.encoding).__name__.lower()
        raise SnnError(inp.loc, f"{what} is an event list, binned into a sequence of {steps} "
                                f"steps, but input '{inp.name}' uses {enc} encoding, which takes "
                                "static samples", "use `direct(scale = 1.0)` to feed the binned "
                                                  "event counts")
    cols = {}
    n_events = None
    for k in ("t", "x", "y", "p", "sample"):
        a = np.asarray(arrays[k])
        if a.ndim != 1:
            raise SnnError(None, f"{what}: '{k}' must be a 1-D array (one entry per event), not "
                                 f"shape {_shape(a.shape)}")
        if n_events is None:
            n_events = a.shape[0]
        elif a.shape[0] != n_events:
            raise SnnError(None, f"{what}: '{k}' has {a.shape[0]} entries, 't' has {n_events}; "
                                 "every event array has one entry per event")
        # whole numbers stored as floats are taken, as labels are: cast once their range is
        # checked (1e30 was cast first, wrapped by int64)
        whole = (k != "t" and a.dtype.kind == "f" and np.isfinite(a).all()
                 and (a == np.floor(a)).all())
        if a.dtype.kind not in ("iu" if k != "t" else "iuf") and not whole:
            raise SnnError(None, f"{what}: '{k}' must hold integers, not {_dtype_words(a.dtype)}")
        cols[k] = a
    label = _labels(arrays["label"], f"{what}, label", graph, name, None)
    if label.ndim != 1:
        raise SnnError(None, f"{what}: 'label' must be 1-D (one label per sample)")
    n = label.shape[0]
    t = cols["t"].astype(np.float64)
    if t.size and (not np.isfinite(t).all() or t.min() < 0):
        raise SnnError(None, f"{what}: event times 't' must be finite and >= 0")
    if t.size and t.max() >= 2.0 ** 53:
        raise SnnError(None, f"{what}: event times 't' must be below 2^53 (the largest is "
                             f"{t.max():g})")
    duration = None
    if "duration" in arrays:
        d = np.asarray(arrays["duration"])
        if d.shape != () or d.dtype.kind not in "iuf" or not np.isfinite(d) or float(d) <= 0:
            raise SnnError(None, f"{what}: 'duration' must be one positive number")
        duration = float(d)
    P, H, W = grid
    for k, limit, meaning in (("sample", n, "samples (the length of 'label')"),
                              ("p", P, f"polarities (channels of input '{inp.name}')"),
                              ("y", H, f"rows (height of input '{inp.name}')"),
                              ("x", W, f"columns (width of input '{inp.name}')")):
        a = cols[k]
        if a.size and (a.min() < 0 or a.max() >= limit):
            raise SnnError(inp.loc if k != "sample" else None,
                           f"{what}: '{k}' ranges over {_whole(a.min())}..{_whole(a.max())}, but "
                           f"there are {limit} {meaning}: {k} must lie in 0..{limit - 1}",
                           "map polarities -1/1 to 0/1" if k == "p" else None)
        cols[k] = a.astype(np.int64)
    if "test" in arrays:
        test = np.asarray(arrays["test"])
        if test.shape != (n,) or test.dtype.kind not in "biu" or (
                test.size and (test.max() > 1 or test.min() < 0)):     # -1 was taken as True
            raise SnnError(None, f"{what}: 'test' must be {n} booleans, one per sample")
        test = test.astype(bool)
    else:
        test = np.zeros(n, dtype=bool)
        test[n - int(math.ceil(n * EVENT_TEST_SHARE)):] = True
    notes = ()
    if duration is None:
        binned = bin_events(t, cols["x"], cols["y"], cols["p"], cols["sample"], n, steps, grid)
        late = 0                                    # the default duration holds every event
    else:
        step_of = _event_steps(t, steps, duration)
        binned = _bin(step_of, cols["x"], cols["y"], cols["p"], cols["sample"], n, steps, grid)
        late = int(np.count_nonzero(step_of >= steps))
    if late:
        notes = (f"{what}: {late} of {t.size} events are at or after 'duration' ({duration:g}) "
                 "and are left out",)
    return Dataset(binned[~test], label[~test], binned[test], label[test], name, notes)
