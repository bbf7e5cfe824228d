"""The fused native scan: the built-in neurons' float recurrence over all ``T`` steps (forward) and its
BPTT (backward) each in one call of a small C++ library (``native_scan.cpp``), instead of several
torch operations per step.

The same library holds the event-driven synaptic input's kernels (``event_synapse.cpp``, used
by :mod:`.event_synapse`). It is compiled with the system C++ compiler on first use and cached per
machine under ``$XDG_CACHE_HOME/snnc/torch-ext`` (default ``~/.cache/snnc/torch-ext``), keyed by a
hash of the sources, the compiler's version, the flags, the CPU's feature flags and the torch
version; a file lock makes concurrent processes (pytest-xdist workers) compile it once. It is called through
``ctypes`` on the tensors' data pointers (the GIL is released during the call) and parallelises over
the ``B * units`` elements with OpenMP (``torch.get_num_threads()`` threads; torch's own OpenMP
runtime is reused).

Results equal the Python scan of :mod:`.neurons` bit for bit: the same operations in the same order
per element, with torch's fused multiply-adds where torch uses them. (The surrogates that call
``exp``, exponential and sigmoid, are evaluated by torch before the native backward pass, since the C
library's ``exp`` may differ from torch's vectorised one in the last bit.)

Used for float32 / float64 CPU tensors of layers without recurrent weights (``V``); recurrent
layers and the integer (QAT) forward pass keep the Python scan (the QAT backward pass, a float
recursion, is native). ``SNNC_NATIVE_SCAN=0`` forces the Python scan; if the library cannot be built
(no compiler, a failed build) the Python scan is used after a one-time warning.
"""
from __future__ import annotations

import ctypes
import fcntl
import hashlib
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import torch

# the scan, and built into the same library the event-driven synaptic input (event_synapse.py)
SOURCES = (Path(__file__).with_name("native_scan.cpp"),
           Path(__file__).with_name("event_synapse.cpp"))
FLAGS = ["-O3", "-march=native", "-ffp-contract=off", "-fopenmp", "-fPIC", "-shared",
         "-std=c++17"]
KIND = {"IF": 0, "LIF": 1, "CubaLIF": 2, "ALIF": 3}
RESET = {"subtract": 0, "zero": 1, "none": 2}
SURROGATE = {"fast_sigmoid": 0, "triangle": 1, "exponential": 2, "atan": 3, "sigmoid": 4,
             "rectangular": 5}
GIVEN = 6            # h passed in place of U, computed by torch (surrogates that call exp)
TORCH_H = ("exponential", "sigmoid")
ABI = 6
# ALIF: the forward pass keeps the adaptation A of every CHECKPOINT-th step instead of the
# threshold of every step; the backward pass recomputes the thresholds segment by segment.
CHECKPOINT = 16

_lock = threading.Lock()
_lib = None          # the loaded library, False after a failure, None before the first try
_error: str | None = None


def enabled() -> bool:
    """Whether the native scan is allowed (``SNNC_NATIVE_SCAN`` is not ``0``)."""
    return os.environ.get("SNNC_NATIVE_SCAN", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "snnc" / "torch-ext"


def _compiler() -> str | None:
    return os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _key(cxx: str) -> str:
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=60).stdout
    h = hashlib.sha256()
    sources = [src.read_bytes().decode() for src in SOURCES]
    for part in (*sources, cxx, version, " ".join(FLAGS), _cpu_flags(), platform.machine(),
                 torch.__version__, str(ABI)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def _build() -> Path:
    """The cached library's path, compiling it first if needed (under a file lock)."""
    cxx = _compiler()
    if cxx is None:
        raise RuntimeError("no C++ compiler found (g++ or c++ on PATH, or $CXX)")
    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    lib = d / f"snnc_scan_{_key(cxx)}.so"
    if lib.exists():
        return lib
    with open(d / "build.lock", "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)           # other processes wait here, then find `lib`
        try:
            if lib.exists():
                return lib
            fd, tmp = tempfile.mkstemp(suffix=".so", dir=d)
            os.close(fd)
            try:
                res = subprocess.run([cxx, *FLAGS, *map(str, SOURCES), "-o", tmp],
                                     capture_output=True, text=True, timeout=600)
                if res.returncode != 0:
                    raise RuntimeError(f"{cxx} failed:\n{res.stderr.strip()[-2000:]}")
                os.replace(tmp, lib)                # atomic: readers see all of it or nothing
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        finally:
            fcntl.flock(lockf, fcntl.LOCK_UN)
    return lib


def _declare(lib):
    P, I64, D, I = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double, ctypes.c_int
    for suffix in ("f32", "f64"):
        f = getattr(lib, f"snnc_forward_{suffix}")
        f.argtypes = [P, I64, P, P, P, I64, P, P, I64, I64, I, I, I64, D, D, D, D, D, I]
        f.restype = None
        g = getattr(lib, f"snnc_backward_{suffix}")
        g.argtypes = [P, P, P, P, I64, P, P, P, P, I64, I64, I, I, D, D, D, D, D, I, D, D, I64, I64,
                      I64, I]
        g.restype = None
        h = getattr(lib, f"snnc_thresholds_{suffix}")
        h.argtypes = [P, P, P, I64, I64, I64, D, D, D, I]
        h.restype = None
        e = getattr(lib, f"snnc_event_forward_{suffix}")
        e.argtypes = [P, P, P, P, I64, I64, I64, I]
        e.restype = None
        e = getattr(lib, f"snnc_event_weight_grad_{suffix}")
        e.argtypes = [P, P, P, I64, I64, I64, I]
        e.restype = None
    lib.snnc_scan_abi_version.restype = I
    if lib.snnc_scan_abi_version() != ABI:
        raise RuntimeError("stale library (ABI version)")


def library():
    """The loaded library, or ``None`` when it cannot be built (warns once)."""
    global _lib, _error
    if _lib is None:
        with _lock:
            if _lib is None:
                try:
                    lib = ctypes.CDLL(str(_build()))
                    _declare(lib)
                    _lib = lib
                except Exception as e:                # noqa: BLE001 - any failure: fall back
                    _lib, _error = False, f"{type(e).__name__}: {e}"
                    warnings.warn("snnc: the native neuron scan is not available, using the "
                                  f"(slower) Python scan: {_error}", RuntimeWarning, stacklevel=3)
    return _lib or None


def available() -> bool:
    """Whether the native scan is enabled and its library loads."""
    return enabled() and library() is not None


def usable(X: torch.Tensor, V, cfg) -> bool:
    """Whether :func:`forward` handles this call (else the Python scan does)."""
    return (V is None and X.device.type == "cpu" and X.dtype in (torch.float32, torch.float64)
            and cfg.kind in KIND and X.dim() >= 2 and X.shape[0] > 0 and available())


def usable_backward(U: torch.Tensor, V, cfg) -> bool:
    return (V is None and U.device.type == "cpu" and U.dtype in (torch.float32, torch.float64)
            and cfg.kind in KIND and U.shape[0] > 0 and available())


class BufferPool:
    """Reusable output buffers for the scans' ``[T, B, ...]`` tensors.

    A fresh tensor of this size comes from ``mmap`` (glibc serves blocks above its mmap threshold
    that way and returns them to the OS on free), so every training iteration would page-fault its
    membrane, spikes and gradients in again, which costs as much as the scan itself on a VM. The
    pool keeps the storages and hands out a new tensor over one of them (``set_``) only while nothing
    else refers to it: the pool holds the only reference to a storage once every tensor and view of
    it, including autograd's saved copies, is gone (checked by the storage's use count), so a
    buffer is never handed out twice while in use. At most ``limit`` bytes are kept
    (``SNNC_SCAN_POOL_MB``, default 256; 0 disables the pool); free buffers are evicted oldest first
    to make room. :func:`release_buffers` empties it.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self.bufs: list = []                # UntypedStorage, least recently handed out first
        self.total = 0
        self.lock = threading.Lock()

    @staticmethod
    def _free(st) -> bool:
        return torch._C._storage_Use_Count(st._cdata) == 1

    def empty(self, shape, dtype) -> torch.Tensor:
        numel = math.prod(shape)
        nbytes = numel * torch.empty((), dtype=dtype).element_size()
        if nbytes < (1 << 20) or nbytes > self.limit or not _USE_COUNT:   # small: malloc keeps them
            return torch.empty(shape, dtype=dtype)
        with self.lock:
            st = None
            for i, b in enumerate(self.bufs):
                if b.nbytes() == nbytes and self._free(b):
                    st = self.bufs.pop(i)
                    break
            if st is None:
                free = [b for b in self.bufs if self._free(b)]
                if self.total - sum(b.nbytes() for b in free) + nbytes > self.limit:
                    return torch.empty(shape, dtype=dtype)       # no room even after evicting
                for b in free:                                   # evict free ones, oldest first
                    if self.total + nbytes <= self.limit:
                        break
                    self.bufs.remove(b)
                    self.total -= b.nbytes()
                st = torch.UntypedStorage(nbytes)
                _huge_pages(st.data_ptr(), nbytes)
                self.total += nbytes
            self.bufs.append(st)
        return torch.empty(0, dtype=dtype).set_(st, 0, tuple(shape), _contiguous_strides(shape))

    def clear(self):
        with self.lock:
            self.bufs, self.total = [], 0


_USE_COUNT = hasattr(torch._C, "_storage_Use_Count")
_HUGE = 2 << 20


def _huge_pages(ptr: int, nbytes: int) -> None:
    """Ask Linux for transparent huge pages over a new pool buffer (``madvise(MADV_HUGEPAGE)`` on
    its whole 2 MB pages, before their first touch): the scans stream these buffers, and 2 MB
    pages spare them most TLB misses. Best effort: nothing happens where it is not supported."""
    start = (ptr + _HUGE - 1) // _HUGE * _HUGE
    end = (ptr + nbytes) // _HUGE * _HUGE
    if end <= start or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), 14)  # MADV_HUGEPAGE
    except (OSError, AttributeError):
        pass


def _contiguous_strides(shape) -> tuple:
    strides, acc = [], 1
    for d in reversed(tuple(shape)):
        strides.append(acc)
        acc *= max(int(d), 1)
    return tuple(reversed(strides))


def _pool_limit() -> int:
    try:
        return int(float(os.environ.get("SNNC_SCAN_POOL_MB", "256")) * (1 << 20))
    except ValueError:
        return 256 << 20


POOL = BufferPool(_pool_limit())


def release_buffers():
    """Drop the scans' pooled buffers (memory still in use stays with its tensors)."""
    POOL.clear()


def _ptr(t):
    return None if t is None else t.data_ptr()


def _over_time(t, dtype, n: int):
    """``(tensor, time stride)`` for the kernel: a gradient expanded over time (the backward of a sum
    over steps, e.g. a spike-count readout) is passed as its one frame with stride 0, not copied."""
    if t is None:
        return None, 0
    t = t.to(dtype)
    if t.stride(0) == 0 and t[0].is_contiguous():
        return t[0], 0
    return t.contiguous(), n


def _suffix(dtype) -> str:
    return "f32" if dtype == torch.float32 else "f64"


def forward(X: torch.Tensor, cfg, count: bool = False):
    """``(S, U, AC or None, M or None, C or None)`` of the float neuron over all steps (as
    ``neurons._forward_float``, except that an ALIF layer returns, in place of its thresholds
    ``TH``, the checkpoints ``AC``: its adaptation ``A`` at every ``CHECKPOINT``-th step,
    ``[ceil(T / CHECKPOINT), *frame]``, from which :func:`thresholds` and :func:`backward`
    recompute ``TH`` bit for bit). With ``count``, ``C`` is ``S.sum(0)`` counted in the same loop
    (exactly equal: sums of 0/1 below 2^24), which saves the spike-count readout a pass over
    ``S``."""
    T = X.shape[0]
    frame = X.shape[1:]
    n = math.prod(frame)
    base, xs = _over_time(X, X.dtype, n)
    U = POOL.empty(X.shape, X.dtype)
    S = POOL.empty(X.shape, X.dtype)
    AC = (POOL.empty(((T + CHECKPOINT - 1) // CHECKPOINT, *frame), X.dtype)
          if cfg.kind == "ALIF" else None)
    M = POOL.empty(X.shape, X.dtype) if cfg.refractory > 0 else None
    C = torch.empty(frame, dtype=X.dtype) if count else None     # every element written
    if n > 0:
        getattr(library(), f"snnc_forward_{_suffix(X.dtype)}")(
            base.data_ptr(), xs, U.data_ptr(), S.data_ptr(), _ptr(AC), CHECKPOINT, _ptr(M),
            _ptr(C), T, n,
            KIND[cfg.kind], RESET[cfg.reset], int(cfg.refractory), float(cfg.b), float(cfg.a),
            float(cfg.r), float(cfg.beta), float(cfg.theta), torch.get_num_threads())
    return S, U, AC, M, C


def thresholds(cfg, S: torch.Tensor, AC: torch.Tensor) -> torch.Tensor:
    """The ALIF thresholds ``TH`` of every step (as ``neurons._forward_float`` computes them) from
    the spikes and the checkpoints of :func:`forward`."""
    T = S.shape[0]
    n = math.prod(S.shape[1:])
    S, AC = S.contiguous(), AC.contiguous()
    TH = torch.empty(S.shape, dtype=S.dtype)
    if n > 0:
        getattr(library(), f"snnc_thresholds_{_suffix(S.dtype)}")(
            S.data_ptr(), AC.data_ptr(), TH.data_ptr(), T, n, CHECKPOINT, float(cfg.r),
            float(cfg.beta), float(cfg.theta), torch.get_num_threads())
    return TH


def _surrogate_consts(s) -> tuple[int, float, float]:
    """The surrogate's id and its constants, computed as surrogates.py computes them."""
    p = s.param
    c = {"fast_sigmoid": (p, 0.0), "triangle": (-1.0 / p, 1.0 / p),
         "exponential": (-p, 0.5 * p), "atan": (0.5 * math.pi * p, 0.5 * p),
         "sigmoid": (p, 0.0), "rectangular": (0.5 * p, 1.0 / p)}[s.name]
    return SURROGATE[s.name], float(c[0]), float(c[1])


def backward(cfg, tbptt: int, U, S, TH, M, grad_S, grad_U, AC=None) -> torch.Tensor:
    """``dL/dX`` by BPTT (as ``neurons.backward_scan`` for a layer without recurrent weights). An
    ALIF layer's thresholds are ``TH``, or else recomputed from the checkpoints ``AC`` of
    :func:`forward`."""
    T = U.shape[0]
    n = math.prod(U.shape[1:])
    dt = U.dtype
    U, S = U.contiguous(), S.contiguous()
    TH = None if TH is None else TH.contiguous()
    AC = None if AC is None else AC.contiguous()
    M = None if M is None else M.contiguous()
    if cfg.kind == "ALIF" and TH is None and AC is None:
        raise ValueError("ALIF backward needs the thresholds or their checkpoints")
    gS, gs_ts = _over_time(grad_S, dt, n)
    gU, gu_ts = _over_time(grad_U, dt, n)
    gX = POOL.empty(U.shape, dt)
    surr, c0, c1 = _surrogate_consts(cfg.surrogate)
    if cfg.surrogate.name in TORCH_H and (gS is not None or cfg.kind == "ALIF"):
        # torch's exp (vectorised) and the C library's may differ in the last bit: h by torch
        if cfg.kind == "ALIF" and TH is None:
            TH = thresholds(cfg, S, AC)
        U = cfg.surrogate.derivative_(U - (TH if TH is not None else cfg.theta))
        surr = GIVEN
    if n > 0:
        getattr(library(), f"snnc_backward_{_suffix(dt)}")(
            U.data_ptr(), S.data_ptr(), _ptr(TH), _ptr(AC), CHECKPOINT, _ptr(M), _ptr(gS),
            _ptr(gU), gX.data_ptr(), T, n, KIND[cfg.kind], RESET[cfg.reset], float(cfg.b),
            float(cfg.a), float(cfg.r), float(cfg.beta), float(cfg.theta), surr, c0, c1,
            int(tbptt or 0), gs_ts, gu_ts, torch.get_num_threads())
    return gX


if __name__ == "__main__":                          # build (or find) the library and say where
    print(_build() if enabled() else "disabled by SNNC_NATIVE_SCAN", file=sys.stdout)
