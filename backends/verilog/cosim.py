"""Co-simulating the generated Verilog with the golden model (``snnc verify``, ``snnc demo``).

    run, comparison = verify_verilog(qmodel, x, sample_ids, seed)

generates ``snn_top`` for the quantised model (:func:`snnc.backends.verilog.generate`), wraps it
in the co-simulation harness (:mod:`snnc.backends.verilog.harness`), builds it with Verilator
(cached: a model's design is built once, whatever its weights, which are read at run time from the
``$readmemh`` files), and runs the cocotb bench :mod:`snnc.backends.verilog.cosim_bench` on the
encoded input events of every sample. It returns a :class:`snnc.backends.compare.BackendRun` with

* ``spikes``: the spikes per step of the output layer and of every layer whose output stream the
  harness can observe (all of them for the chains the generator builds), counted per neuron and
  step, so a duplicated spike shows up as a 2 (the events of ASN layers too: their heights are
  checked separately, see below);
* ``final_state``: every layer's state after each sample through the read-back port (the states
  the golden model has for that neuron kind; unused ones must read 0);
* ``saturation``: every layer's clamp counters over the batch;
* ``cycles``: clock cycles per sample, from releasing its first event to its last output token,
  and ``cycle_bound``: the manifest's cycle model evaluated on the golden model's event counts;

and the :class:`snnc.backends.compare.Comparison` with the golden model (``simulate_golden``,
``record=True``), extended by the harness's protocol checks (tokens per step, events accepted,
nothing after the last token) and by the payloads of the observed events: an ASN layer's event
must carry the golden model's height ``h`` (``SimResult.payloads``) of that neuron and step (each
such event is one more compared value), a plain spike the payload 1 (a protocol check: only a
wrong payload counts); a difference is a ``payload`` mismatch.

Input events: a spike-encoded input sends one event per spike (payload 1); a ``direct`` input
one event per non-zero value quantised to the ``inputs`` format (as the golden model does,
saturating), the value as the payload (a zero adds nothing, so it is not sent).
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snnc.backends.compare import BackendRun, Comparison, Mismatch, compare

TEST_MODULE = "snnc.backends.verilog.cosim_bench"


@dataclass
class CosimInfo:
    """What else the co-simulation measured (``verify_verilog(..., info=CosimInfo())`` fills it)."""

    manifest: dict | None = None
    golden: object = None                 # the recorded golden SimResult
    predictions: np.ndarray | None = None  # the RTL's classes (readout of its output spikes)
    ideal_bound: np.ndarray | None = None  # [B] sum(E * ceil(fanout/P) + ceil(N/P)) per sample
    protocol_errors: list | None = None
    replayed: list | None = None
    backpressure: np.ndarray | None = None  # [B] cycles an input event waited for s_ready


def _events_per_step(spikes: np.ndarray) -> np.ndarray:
    """[T, B, N] spikes (or graded values) -> [T, B] events (the non-zero entries)."""
    flat = spikes.reshape(spikes.shape[0], spikes.shape[1], -1)
    return np.count_nonzero(flat, axis=2).astype(np.int64)


def cycle_bounds(manifest: dict, golden, steps: int, batch: int, input_name: str):
    """Per sample: the manifest's bound ``sum_t sum_L ((E+R)*words + sweep + S + overhead)`` and
    the ideal ``sum_t sum_L ((E+R)*words + words)`` (the issue's ``events * ceil(fanout/P) +
    ceil(N/P)``). ``sweep``: the layer's sweep words, ``words`` but ``words * P / SU`` with a
    narrow sweep (whose longer sweep the ideal does not grant it); ``R``: a recurrent layer's own
    spikes of the step before, fed back as events."""
    bound, ideal = step_bounds(manifest, golden, steps, batch, input_name)
    return bound.sum(axis=0), ideal.sum(axis=0)


def step_bounds(manifest: dict, golden, steps: int, batch: int, input_name: str):
    """:func:`cycle_bounds` per step: ``(bound, ideal)``, each ``[T, B]``."""
    layers = manifest["layers"]
    over = manifest["cycle_bound"]["overhead_per_layer"]
    recurrent = set(manifest["cycle_bound"].get("recurrent_layers", []))
    delays = manifest["cycle_bound"].get("delays", {})
    sweeps = manifest["cycle_bound"].get("sweep_words", {})
    bound = np.zeros((steps, batch), dtype=np.int64)
    ideal = np.zeros((steps, batch), dtype=np.int64)
    src = input_name
    for lay in layers:
        # the input's events: its values, or a held input's changes (golden.delivered)
        e = _events_per_step(np.asarray(golden.delivered(src) if src == input_name
                                        else golden.spikes[src]))   # [T, B]
        s = _events_per_step(np.asarray(golden.spikes[lay["name"]]))
        nw = lay["words_per_row"]
        sw = int(sweeps.get(lay["name"], nw))                        # the sweep's cycles
        d = int(delays.get(lay["name"], 0))
        if d:                                                        # step t: events of t - d
            e = np.concatenate([np.zeros_like(e[:d]), e[:-d]])[:len(e)] if d < len(e) \
                else np.zeros_like(e)
        if lay["name"] in recurrent:
            e = e.copy()
            e[1:] += s[:-1]                                          # last step's own spikes
        ideal += e * nw + nw
        bound += e * nw + sw + s + over
        src = lay["name"]
    return bound, ideal


def input_events(qmodel, x, seed, sample_ids) -> np.ndarray:
    """The input events of a batch as payloads ``[T, B, inputs]`` int64 (0: no event): the
    encoders' spikes (1), or ``direct`` values quantised to the ``inputs`` format (saturating,
    exactly as the golden model quantises them), for a held input their changes
    (``snnc.backends.golden.common.input_events``)."""
    from snnc.backends.golden.common import input_events as golden_input_events

    return golden_input_events(qmodel, x, seed, sample_ids)


def _stimulus(events: list[list[list[tuple[int, int]]]], aw: int, pw: int) -> str:
    """One hex word per line, ``{last, payload, address}``; each step's events (address,
    payload) then its token."""
    lines = []
    token = f"{1 << (aw + pw):x}"
    mask = (1 << pw) - 1
    for sample in events:
        for step in sample:
            lines.extend(f"{((p & mask) << aw) | a:x}" for a, p in step)
            lines.append(token)
    return "\n".join(lines) + "\n"


def _parse_capture(text: str, layer_index: dict, steps: int, batch: int, sizes: dict,
                   payload_widths: dict | None = None):
    """The capture file -> per layer [T, B, N] spike counts, [T, B, N] payloads (signed, of the
    neuron's last event in the step; 0 where none) and protocol problems."""
    counts = {name: np.zeros((steps, batch, n), dtype=np.uint8) for name, n in sizes.items()}
    payloads = {name: np.zeros((steps, batch, n), dtype=np.int64) for name, n in sizes.items()}
    widths = payload_widths or {}
    tokens = {name: np.zeros(batch, dtype=np.int64) for name in sizes}
    problems: list[tuple] = []          # (sample, step, layer, what, expected, got)
    b = -1
    by_index = {v: k for k, v in layer_index.items()}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "G":
            if parts[1] == "0":
                b += 1
            else:
                b = batch            # replays: not recorded
            continue
        if parts[0] == "X":
            problems.append((max(b, 0), None, by_index[max(layer_index.values())],
                             "output event outside a sample", 0, 1))
            continue
        if b < 0 or b >= batch:
            continue
        k, last, addr = int(parts[0]), int(parts[1]), int(parts[2])
        name = by_index.get(k)
        if name is None:
            continue
        pay = int(parts[3], 16) if len(parts) > 3 else 1
        pw = widths.get(name, 1)
        if pw > 1 and pay >> (pw - 1):
            pay -= 1 << pw
        t = tokens[name][b]
        if last:
            tokens[name][b] += 1
            continue
        if t >= steps:
            problems.append((b, int(t), name, "spike after the last token", 0, 1))
        elif addr >= sizes[name]:
            problems.append((b, int(t), name, f"spike of neuron {addr} (out of range)", 0, 1))
        else:
            counts[name][t, b, addr] = min(255, int(counts[name][t, b, addr]) + 1)
            payloads[name][t, b, addr] = pay
    for name in sizes:
        for bb in range(batch):
            if tokens[name][bb] != steps:
                problems.append((bb, None, name, "end-of-step tokens", steps,
                                 int(tokens[name][bb])))
    return counts, payloads, problems


def check_payloads(golden, observed: list[dict], payloads: dict, counts: dict):
    """Compare the payloads of the observed events with the golden model: an ASN layer's
    events carry the golden height (``golden.payloads``), a plain spike 1. Returns (values
    compared: every event of a graded layer, the wrong payloads of plain layers; values that
    differ; the first difference of each layer as a problem of :func:`_parse_capture`)."""
    compared, differ, problems = 0, 0, []
    gp = getattr(golden, "payloads", None) or {}
    for lay in observed:
        name = lay["name"]
        fired = counts[name] > 0                                         # [T, B, N]
        got = payloads[name]
        graded = bool(lay.get("payload", {}).get("graded"))
        if graded:
            exp = np.asarray(gp[name], dtype=np.int64).reshape(got.shape)
        else:
            exp = np.ones_like(got)
        bad = fired & (got != exp)
        # a graded layer's heights are values compared event by event; a plain spike's payload
        # 1 is protocol (only a wrong one is counted, as the other protocol checks)
        compared += int(fired.sum()) if graded else int(bad.sum())
        differ += int(bad.sum())
        # the earliest by sample, then step (then neuron)
        for b, t, n in np.argwhere(bad.transpose(1, 0, 2))[:1]:
            problems.append((int(b), int(t), name, "payload", int(exp[t, b, n]),
                             int(got[t, b, n]), int(n)))
    return compared, differ, problems


def rtl_predictions(readout: str, counts: np.ndarray, first_spike: np.ndarray,
                    membrane: dict[int, np.ndarray]) -> np.ndarray:
    """Classes from the RTL's output spikes (docs/semantics.md section 5); ``membrane``: sample ->
    summed membrane for the samples replayed step by step (count ties; membrane readouts)."""
    from snnc.backends.golden.result import Readout, predict

    batch, n = counts.shape
    mem = np.zeros((batch, n), dtype=np.int64)
    for b, m in membrane.items():
        mem[b] = m
    return predict(Readout(readout, counts.astype(np.int64), mem, first_spike.astype(np.int64)))


def _needs_replay(readout: str, golden) -> list[int]:
    """Samples whose class depends on the summed membrane: ties in the golden counts at the top
    (count readout), every sample (membrane readout), none (first_spike: count breaks its ties)."""
    out = next(iter(golden.outputs.values()))
    if readout == "membrane":
        return list(range(golden.batch))
    if readout == "count":
        c = out.count
        return [b for b in range(golden.batch) if int((c[b] == c[b].max()).sum()) > 1]
    return []


def verify_verilog(qmodel, x, sample_ids=None, seed=0, *, lanes=None, fifo_depth=16, waves=None,
                   stall=0.0, burst=False, gaps=0.0, work_dir=None, rng_seed=1, info=None,
                   mutate=None):
    """Co-simulate ``qmodel`` on samples ``x`` (encoded with ``seed`` and ``sample_ids``, by
    default ``0 .. B-1``; ``x`` an array or a dict with the one input's name).

    ``lanes``, ``fifo_depth``: of the generated design. ``stall``: probability that the output's
    ready is low in a cycle; ``gaps``: probability that the input offers no event in a cycle;
    ``burst``: the input comes in on/off bursts instead. ``waves``: write an FST trace there.
    ``work_dir``: keep the design, stimulus, capture and results there (default: a temporary
    folder, removed afterwards). ``info``: a :class:`CosimInfo` to fill. ``mutate``: a test hook,
    called as ``mutate(design_dir, manifest)`` after the design is written and before the
    simulation (e.g. to corrupt a weight memory file).
    Returns ``(BackendRun, Comparison)``; raises RuntimeError when the toolchain is missing."""
    from snnc.backends.golden.common import batch_inputs, sample_id_array
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.backends.verilog import generate
    from snnc.backends.verilog import sim
    from snnc.backends.verilog.harness import HARNESS, harness_text, tapped_layers
    from snnc.quantize import require_quantized

    require_quantized(qmodel, "verify_verilog")
    problem = sim.toolchain_problem()
    if problem:
        raise RuntimeError(problem)
    g = qmodel.graph
    steps = g.time.steps
    inp = g.inputs[0]
    x = batch_inputs(g, x)[inp.name]          # a dict {name: batch} too; checked
    batch = len(x)
    sample_ids = sample_id_array(sample_ids, batch)
    golden = simulate_golden(qmodel, x, seed=seed, sample_ids=sample_ids, record=True)
    values_in = input_events(qmodel, x, seed, sample_ids)                   # [T, B, inputs]
    events = [[[(int(a), int(values_in[t, b, a])) for a in np.flatnonzero(values_in[t, b])]
               for t in range(steps)] for b in range(batch)]

    own_dir = work_dir is None
    root = Path(tempfile.mkdtemp(prefix="snnc-verify-")) if own_dir else Path(work_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    try:
        design = root / "design"
        if design.exists():
            shutil.rmtree(design)
        manifest = generate(qmodel, design, lanes=lanes, fifo_depth=fifo_depth)
        top_text = (design / "snn_top.v").read_text()
        harness = design / f"{HARNESS}.v"
        harness.write_text(harness_text(manifest, top_text))
        sources = [design / f for f in manifest["files"]] + [harness]
        bdir = sim.build(HARNESS, sources, waves=waves is not None)
        if mutate is not None:
            mutate(design, manifest)
        run_dir = root / "sim"
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir()
        for name in manifest["memory_files"]:
            shutil.copyfile(design / name, run_dir / name)
        readout = g.outputs[0].readout if g.outputs else "count"
        replay = _needs_replay(readout, golden)
        aw = manifest["input"]["addr_width"]
        pw = {p["name"]: p["width"] for p in manifest["ports"]}["s_payload"]
        (root / "stimulus.hex").write_text(_stimulus(events + [events[b] for b in replay], aw,
                                                     pw))
        # the bench's hang limits: a few times the cycle bound of each step (every layer's work,
        # hidden and recurrent spikes included, not the input events alone)
        limits, _ = step_bounds(manifest, golden, steps, batch, inp.name)
        cfg = {"steps": steps, "events": [[len(s) for s in e] for e in events], "replay": replay,
               "step_bounds": limits.T.tolist(),
               "manifest": manifest, "p_valid": 1.0 - gaps, "p_ready": 1.0 - stall,
               "burst": bool(burst), "seed": int(rng_seed)}
        (root / "cosim.json").write_text(json.dumps(cfg))
        capture, results = root / "capture.txt", root / "results.json"
        for f in (capture, results):
            f.unlink(missing_ok=True)
        sim.run(HARNESS, bdir, TEST_MODULE, test_dir=run_dir, keep=True,
                plusargs=[f"+snnc_stim={root / 'stimulus.hex'}", f"+snnc_capture={capture}"],
                extra_env={"SNNC_COSIM_CFG": str(root / "cosim.json"),
                           "SNNC_COSIM_OUT": str(results)},
                waves=waves)
        res = json.loads(results.read_text())
        layers = manifest["layers"]
        observed = tapped_layers(manifest, top_text) + [layers[-1]]
        sizes = {lay["name"]: lay["neurons"] for lay in observed}
        index = {lay["name"]: lay["index"] for lay in observed}
        widths = {lay["name"]: lay["parameters"]["OUT_PW"] for lay in observed}
        counts, payloads, problems = _parse_capture(capture.read_text(), index, steps, batch,
                                                    sizes, widths)
        pay_compared, pay_differ, pay_problems = check_payloads(golden, observed, payloads,
                                                                counts)
    finally:
        if own_dir:
            shutil.rmtree(root, ignore_errors=True)

    # final states: the golden model's states of each layer; any other field must read 0
    final_state: dict = {}
    for lay in layers:
        name = lay["name"]
        exp_keys = set(golden.final_state.get(name, {}))
        per = final_state.setdefault(name, {})
        for f in lay["state"]["fields"]:
            key = f["name"]
            vals = np.array([res["states"][b][name][key] for b in range(batch)], dtype=np.int64)
            if key in exp_keys:
                per[key] = vals
            elif vals.any():
                bb, n = (int(v) for v in np.argwhere(vals != 0)[0])
                problems.append((bb, None, name, f"final state {key} (unused, must be 0)", 0,
                                 int(vals[bb, n])))
    saturation = {lay["name"]: dict(res["saturation"][lay["name"]]) for lay in layers}
    bound, ideal = cycle_bounds(manifest, golden, steps, batch, inp.name)
    run = BackendRun(backend="verilog", steps=steps, batch=batch, spikes=counts,
                     final_state=final_state, saturation=saturation,
                     cycles=np.array(res["cycles"], dtype=np.int64), cycle_bound=bound)
    layer_order = [layer.name for layer in g.layers]
    comp = compare(golden, run, layer_order)
    for err in res["errors"]:
        problems.append((None, None, layers[-1]["name"], f"protocol: {err}", 0, 1))
    # payloads: every observed event compared, every differing one a mismatch
    comp = Comparison(comp.compared + pay_compared, comp.mismatches + pay_differ, comp.first)
    n_other = len(problems)
    problems += pay_problems
    if problems:
        rank = {name: i for i, name in enumerate(layer_order)}
        key = lambda p: (batch if p[0] is None else p[0], steps if p[1] is None else p[1],
                         rank.get(p[2], 0))
        p = min(problems, key=key)
        m = Mismatch(p[3], p[2], p[0], p[1], p[6] if len(p) > 6 else None, int(p[4]),
                     int(p[5]))
        first = comp.first
        if first is None or key(p) < (first.sample if first.sample is not None else batch,
                                      first.step if first.step is not None else steps,
                                      rank.get(first.layer, 0)):
            first = m
        comp = Comparison(comp.compared + n_other, comp.mismatches + n_other, first)
    if info is not None:
        out_name = layers[-1]["name"]
        c = counts[out_name].astype(np.int64)                     # [T, B, N]
        fired = c > 0
        first_spike = np.where(fired.any(axis=0), fired.argmax(axis=0), steps)
        membrane = {int(b): np.array(m, dtype=np.int64) for b, m in res["replay"].items()}
        info.manifest = manifest
        info.golden = golden
        info.predictions = rtl_predictions(readout, c.sum(axis=0), first_spike, membrane)
        info.ideal_bound = ideal
        info.protocol_errors = list(res["errors"])
        info.replayed = replay
        info.backpressure = np.array(res["backpressure"], dtype=np.int64)
    return run, comp
