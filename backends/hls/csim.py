"""C simulation of a generated HLS project with plain ``g++`` (no vendor headers).

``run_csim(qmodel, x)`` generates the project, compiles it (``g++ -O2 -std=c++17``; binaries are
cached by a hash of the sources under ``$SNNC_HLS_CACHE`` or ``~/.cache/snnc/hls-csim``), encodes
the batch with the golden model's encoders (same seed and sample ids, so the same spikes), runs the
testbench and returns a :class:`snnc.backends.compare.BackendRun`: every layer's spikes per step
(the output layers' from the output stream itself), final states and saturation counters, and as
``run.payloads`` the event heights of every graded (ASN) layer per step. ``verify_hls`` adds the
comparison with the golden model, payloads included (:func:`compare_payloads`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from snnc.backends.compare import BackendRun, Comparison, Mismatch, compare
from snnc.backends.hls.events import (EVENTS_MAGIC, input_payloads, write_event_records,
                                      write_events)
from snnc.quantize import QuantizedModel

CXX = os.environ.get("CXX", "g++")
CXXFLAGS = ("-O2", "-std=c++17", "-DSNN_HLS_COMPAT_FALLBACK")
WARN_FLAGS = ("-Wall", "-Wextra")


class CsimError(RuntimeError):
    """The C++ did not compile, or the testbench failed."""


def compiler_available() -> bool:
    return shutil.which(CXX) is not None


def cache_dir() -> Path:
    root = os.environ.get("SNNC_HLS_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "snnc" / "hls-csim"


def _sources(project: Path) -> list[Path]:
    return sorted(p for p in project.iterdir() if p.suffix in (".h", ".cpp"))


def compile_project(project, extra_flags=(), use_cache: bool = True) -> Path:
    """Compile the project's ``snn_top.cpp`` and testbench; returns the binary (cached by a hash
    of every source and the flags). Raises CsimError with the compiler's output on failure."""
    project = Path(project)
    flags = list(CXXFLAGS) + list(extra_flags)
    h = hashlib.sha256(" ".join([CXX] + flags).encode())
    for src in _sources(project):
        h.update(src.name.encode() + b"\0" + src.read_bytes() + b"\0")
    key = h.hexdigest()[:24]
    target = cache_dir() / key / "tb_snn_top"
    if use_cache and target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError:             # a cache that cannot be a folder (a file, no permission): no cache
        target = Path(tempfile.mkdtemp(prefix="snnc-hls-csim-")) / "tb_snn_top"
    tmp = target.parent / f"tb_snn_top.{os.getpid()}.tmp"
    cmd = [CXX, *flags, "-I", str(project), str(project / "snn_top.cpp"),
           str(project / "tb_snn_top.cpp"), "-o", str(tmp)]
    _compile(cmd, project)
    os.replace(tmp, target)
    return target


def compile_warnings(project, extra_flags=()) -> str:
    """The compiler's diagnostics with ``-Wall -Wextra`` (empty when the code is clean);
    ``extra_flags`` come last (``-std=c++14``, what run_hls.tcl hands Vitis HLS, overrides the
    default standard)."""
    project = Path(project)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [CXX, *CXXFLAGS, *WARN_FLAGS, *extra_flags, "-I", str(project),
               str(project / "snn_top.cpp"),
               str(project / "tb_snn_top.cpp"), "-o", str(Path(tmp) / "tb")]
        proc = _compile(cmd, project)
    return proc.stderr


def _compile(cmd: list[str], project: Path) -> subprocess.CompletedProcess:
    """Run the compiler; a failure, or no compiler at all (it was a FileNotFoundError: an
    internal error of `snnc verify --backend hls`), is a CsimError."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        raise CsimError(f"cannot run the C++ compiler '{CXX}' ($CXX, default g++): "
                        f"{exc.strerror or exc}") from None
    if proc.returncode != 0:
        raise CsimError(f"{CXX} failed on {project}:\n{proc.stderr[-4000:]}")
    return proc


# ---------------------------------------------------------------------- running


def run_events_file(project, manifest: dict, events, work_dir=None) -> BackendRun:
    """Compile the project's testbench and run it on an events file (``write_events``,
    ``write_event_records``, or one written otherwise); parse what it wrote. A testbench that
    fails (a malformed file, a record that does not fit its field, a step without its
    end-of-step token) is a CsimError with the testbench's message."""
    project, events = Path(project), Path(events)
    binary = compile_project(project)
    header = np.fromfile(events, dtype="<i4", count=4)
    if len(header) < 4 or header[0] != EVENTS_MAGIC or header[1] != 1:
        raise CsimError(f"{events}: not an snnc events file (header {{0x{EVENTS_MAGIC:08X}, 1, "
                        "samples, steps}}")
    batch, steps = int(header[2]), int(header[3])
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        proc = subprocess.run([str(binary), str(events), tmp], capture_output=True, text=True)
        if proc.returncode < 0:
            raise CsimError(f"the testbench was killed by signal {-proc.returncode}: "
                            f"{proc.stderr[-2000:]}")
        if proc.returncode != 0:
            raise CsimError(f"the testbench failed (exit status {proc.returncode}): "
                            f"{proc.stderr[-2000:].strip()}")
        return parse_outputs(tmp, manifest, batch, steps)


def run_records(project, manifest: dict, records, batch: int, steps: int,
                work_dir=None) -> BackendRun:
    """Run the project's testbench on event records ``[R, 3]`` ({last, payload, address}, each
    step closed by a token; checked by :func:`snnc.backends.hls.events.check_records`)."""
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        path = Path(tmp) / "events.bin"
        write_event_records(path, records, batch, steps, manifest)
        return run_events_file(project, manifest, path, work_dir)


def run_project(project, manifest: dict, payloads: np.ndarray, work_dir=None) -> BackendRun:
    """Compile and run the project's testbench on ``[B, T, inputs]`` payloads; parse what it wrote."""
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        path = Path(tmp) / "events.bin"
        write_events(path, payloads, manifest)
        return run_events_file(project, manifest, path, work_dir)


def parse_outputs(out_dir, manifest: dict, batch: int, steps: int) -> BackendRun:
    out_dir = Path(out_dir)
    probe = manifest["probe"]
    spikes = np.fromfile(out_dir / "spikes.bin", dtype=np.uint8)
    states = np.fromfile(out_dir / "states.bin", dtype="<i8")
    counters = np.fromfile(out_dir / "counters.bin", dtype="<i8")
    events = np.fromfile(out_dir / "out_events.bin", dtype="<i4").reshape(-1, 5).astype(np.int64)
    out_field = manifest["event"]["out"]
    if not out_field.get("payload_signed", False):     # an ap_uint<32> height: its bit pattern
        events[:, 3] &= 0xFFFFFFFF
    n_pay = probe.get("payloads", 0)
    pay_file = out_dir / "payloads.bin"
    heights = np.fromfile(pay_file, dtype="<i8") if pay_file.exists() else np.zeros(0, "<i8")
    membrane = np.fromfile(out_dir / "membrane.bin", dtype="<i8")
    if spikes.size != batch * steps * probe["spikes"] or states.size != batch * probe["states"] \
            or counters.size != probe["counters"] or heights.size != batch * steps * n_pay \
            or membrane.size != batch * steps * probe["membrane"]:
        raise CsimError("the testbench's output files do not have the manifest's sizes")
    membrane = membrane.reshape(batch, steps, probe["membrane"])
    spikes = spikes.reshape(batch, steps, probe["spikes"])
    states = states.reshape(batch, probe["states"])
    heights = heights.reshape(batch, steps, n_pay)
    tokens = events[events[:, 2] == 1]
    expected = np.stack(np.meshgrid(np.arange(batch), np.arange(steps), indexing="ij"), -1)
    if len(tokens) != batch * steps or not np.array_equal(tokens[:, :2],
                                                          expected.reshape(-1, 2)):
        raise CsimError(f"the output stream has {len(tokens)} tokens, expected one per step "
                        f"({batch * steps})")
    spk = events[events[:, 2] == 0]
    out_total = sum(o["size"] for o in manifest["outputs"])
    if len(spk) and (spk[:, 4] >= out_total).any():
        raise CsimError("an output event address is beyond the output layers")
    # plain spikes carry payload 1; a graded layer's events their height (an ASN's h >= 1; a user
    # neuron's `emit` height 0 .. max(membrane))
    graded_out = np.zeros(max(out_total, 1), dtype=bool)
    for l in manifest["layers"]:
        if "output_offset" in l and l.get("graded"):
            graded_out[l["output_offset"]:l["output_offset"] + l["neurons"]] = True
    plain = ~graded_out[spk[:, 4]] if len(spk) else np.zeros(0, dtype=bool)
    if len(spk) and (spk[plain, 3] != 1).any():
        raise CsimError("an output spike event does not carry payload 1")
    if len(spk) and (spk[~plain, 3] < 0).any():
        raise CsimError("a graded output event carries a negative payload")
    stream = np.zeros((steps, batch, max(out_total, 1)), dtype=np.uint8)
    np.add.at(stream, (spk[:, 1], spk[:, 0], spk[:, 4]), 1)
    stream_pay = np.zeros((steps, batch, max(out_total, 1)), dtype=np.int64)
    np.add.at(stream_pay, (spk[:, 1], spk[:, 0], spk[:, 4]), spk[:, 3].astype(np.int64))
    run_spikes, final, saturation, payloads = {}, {}, {}, {}
    for l in manifest["layers"]:
        n, name = l["neurons"], l["name"]
        if "output_offset" in l:
            off = l["output_offset"]
            run_spikes[name] = stream[:, :, off:off + n].copy()
            if l.get("graded"):
                payloads[name] = stream_pay[:, :, off:off + n].copy()
        else:
            off = l["spikes_offset"]
            run_spikes[name] = spikes[:, :, off:off + n].transpose(1, 0, 2).copy()
            if l.get("graded"):
                off = l["payloads_offset"]
                payloads[name] = heights[:, :, off:off + n].transpose(1, 0, 2).copy()
        final[name] = {s["name"]: states[:, s["offset"]:s["offset"] + n].copy()
                       for s in l["states"]}
        saturation[name] = {s["name"]: int(counters[s["offset"]]) for s in l["saturation"]}
    for l in manifest["layers"]:
        if "output_offset" in l:        # the stream and the layer's own spikes must agree too
            off = l["spikes_offset"]
            own = spikes[:, :, off:off + l["neurons"]].transpose(1, 0, 2)
            if not np.array_equal(own, run_spikes[l["name"]]):
                raise CsimError(f"layer '{l['name']}': the output stream differs from the "
                                "layer's spikes")
            if l.get("graded"):
                off = l["payloads_offset"]
                own_h = heights[:, :, off:off + l["neurons"]].transpose(1, 0, 2)
                if not np.array_equal(own_h, payloads[l["name"]]):
                    raise CsimError(f"layer '{l['name']}': the output stream's payloads differ "
                                    "from the layer's event heights")
    membranes = {}
    for o in manifest["outputs"]:      # output layer -> [T, B, N] membrane after every step
        off, n = o["offset"], o["size"]
        membranes[o["layer"]] = membrane[:, :, off:off + n].transpose(1, 0, 2).copy()
    run = BackendRun("hls-csim", steps, batch, run_spikes, final, saturation,
                     membranes=membranes)
    # the input events snn_top dropped over all samples: addresses past the inputs, and events
    # over an input's per-step capacity (manifest["probe"]["dropped"]: their counter offsets)
    dropped = probe["dropped"]
    out_of_range = int(counters[dropped["out_of_range"]])
    over_capacity = int(counters[dropped["over_capacity"]])
    run.dropped_out_of_range = out_of_range                 # type: ignore[attr-defined]
    run.dropped_over_capacity = over_capacity               # type: ignore[attr-defined]
    run.dropped_events = out_of_range + over_capacity       # type: ignore[attr-defined]
    run.payloads = payloads                    # type: ignore[attr-defined]
    return run


def run_csim(qmodel: QuantizedModel, x, *, seed: int = 0, sample_ids=None,
             lanes: int | None = None, work_dir=None) -> BackendRun:
    """Generate, compile and C-simulate ``qmodel`` on the batch ``x``."""
    from snnc.backends.hls.generator import generate_hls

    payloads = input_payloads(qmodel, x, seed, sample_ids)
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        manifest = generate_hls(qmodel, Path(tmp) / "project", lanes=lanes)
        return run_project(Path(tmp) / "project", manifest, payloads, work_dir)


def verify_hls(qmodel: QuantizedModel, x, sample_ids=None, seed: int = 0,
               work_dir=None) -> tuple[BackendRun, Comparison]:
    """C-simulate and compare with the golden model, bit for bit (every layer's spikes of every
    step, final states, saturation counts)."""
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.quantize import require_quantized

    require_quantized(qmodel, "verify_hls")
    run = run_csim(qmodel, x, seed=seed, sample_ids=sample_ids, work_dir=work_dir)
    golden = simulate_golden(qmodel, x, seed=seed, sample_ids=sample_ids, record=True)
    names = [l.name for l in qmodel.graph.layers]
    return run, compare_payloads(golden, run, names, compare(golden, run, names))


def compare_payloads(golden, run: BackendRun, layers: list[str],
                     base: Comparison | None = None) -> Comparison:
    """``base`` (spikes, final states, saturation counts: :func:`snnc.backends.compare.compare`)
    extended by the graded layers' event payloads of every step, value for value: the run's
    ``payloads`` against the golden model's (``record=True``), an ASN's heights in membrane
    units, 0 where no event. The first difference (sample, step, layer, neuron) of all wins."""
    base = base if base is not None else Comparison(0, 0, None)
    got_all = getattr(run, "payloads", {}) or {}
    exp_all = golden.payloads or {}
    compared, mismatches = base.compared, base.mismatches
    firsts = []
    if base.first is not None:
        f = base.first
        step = f.step if f.step is not None else golden.steps
        sample = f.sample if f.sample is not None else golden.batch
        rank = layers.index(f.layer) if f.layer in layers else len(layers)
        firsts.append(((sample, step, rank, f.neuron or 0, 0), f))
    for rank, name in enumerate(layers):
        if name not in exp_all:
            continue
        exp = np.asarray(exp_all[name]).reshape(golden.steps, golden.batch, -1)
        if name not in got_all:
            raise ValueError(f"{run.backend}: no payloads for the graded layer '{name}'")
        got = np.asarray(got_all[name]).reshape(run.steps, run.batch, -1)
        if exp.shape != got.shape:
            raise ValueError(f"{run.backend}: payloads of '{name}' have shape {got.shape}, "
                             f"expected {exp.shape}")
        diff = exp != got
        compared += exp.size
        count = int(diff.sum())
        mismatches += count
        if count:
            b, t, n = (int(v) for v in np.argwhere(diff.transpose(1, 0, 2))[0])
            firsts.append(((b, t, rank, n, 1), Mismatch("payload", name, b, t, n,
                                                         int(exp[t, b, n]), int(got[t, b, n]))))
    first = min(firsts, key=lambda f: f[0])[1] if firsts else None
    return Comparison(compared, mismatches, first)


def estimate_cycles(manifest: dict, payloads: np.ndarray, run: BackendRun) -> np.ndarray:
    """The latency estimate of the manifest (cycles per sample, ``[B]``) for the events of a run."""
    lat = manifest["latency"]
    depths = lat.get("depths", {})
    batch, steps, _ = payloads.shape
    events_in = np.count_nonzero(payloads, axis=2)                       # [B, T]
    offsets = {i["name"]: (i["offset"], i["size"]) for i in manifest["inputs"]}
    cycles = (events_in + 1).sum(axis=1).astype(np.int64)
    for l in manifest["layers"]:
        words = l["words"]
        dep = depths.get(l["name"], {})
        acc = dep.get("acc", lat["acc_depth"])
        rec_acc = dep.get("recurrent_acc", lat["acc_depth"])
        sweep = dep.get("sweep", lat["sweep_depth"])
        if l["source"] in offsets:
            off, size = offsets[l["source"]]
            src = np.count_nonzero(payloads[:, :, off:off + size], axis=2).astype(np.int64)
        else:
            src = run.spikes[l["source"]].sum(axis=2, dtype=np.int64).T   # [B, T]
        if l["delay"]:
            d = l["delay"]
            src = np.concatenate([np.zeros((batch, min(d, steps)), dtype=src.dtype),
                                  src[:, :max(steps - d, 0)]], axis=1)
        per_step = src * (words + acc) + words + sweep
        if l["recurrent"]:
            own = run.spikes[l["name"]].sum(axis=2, dtype=np.int64).T
            prev = np.concatenate([np.zeros((batch, 1), dtype=own.dtype), own[:, :-1]], axis=1)
            per_step = per_step + prev * (words + rec_acc)
        cycles += per_step.sum(axis=1)
    for o in manifest["outputs"]:
        cycles += run.spikes[o["layer"]].sum(axis=(0, 2), dtype=np.int64)
    cycles += steps                                                       # output tokens
    return cycles


def load_manifest(project) -> dict:
    return json.loads((Path(project) / "manifest.json").read_text())
