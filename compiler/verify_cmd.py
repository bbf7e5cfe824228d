"""``snnc verify``: co-simulate the generated hardware against the golden model, bit for bit.

    snnc verify MODEL --weights W [--samples N] [--dataset digits|mnist1d|npz:PATH] [--seed S]
                [--waves FILE.fst] [--backend verilog|hls] [--lanes P] [--json]

Runs the first N samples of the data set's test split (sample ids 0..N-1, encoder seed S: the
same spikes as ``snnc simulate`` and ``snnc train``) through the Verilog accelerator on Verilator
(``snnc.backends.verilog.cosim``) or the HLS C++ (``snnc.backends.hls.verify_hls``), compares the
spikes of every step, the final states and the saturation counters with the golden model, and
prints match or the first mismatch (sample, step, layer, neuron), the golden and hardware
accuracies, spikes and synaptic operations per sample, and cycles per inference against the cycle
bound. Exit status: 0 on a match, 1 on a mismatch, 2 on errors in the input.
"""
from __future__ import annotations

import json
import os
import sys

from snnc import argtypes, ir
from snnc.argtypes import positive_int

DEFAULT_SAMPLES = 100
EXIT_MISMATCH = 1


def register(sub) -> None:
    p = sub.add_parser("verify", help="co-simulate the generated hardware against the golden model",
                       description="Co-simulate the Verilog (Verilator) or HLS hardware on test "
                                   "samples and compare it with the golden model bit for bit.")
    p.add_argument("model", metavar="MODEL", help=".snn model file")
    p.add_argument("--weights", required=True, metavar="W",
                   help="weights file (.npz, docs/weights.md)")
    p.add_argument("--samples", type=positive_int, default=DEFAULT_SAMPLES, metavar="N",
                   help=f"co-simulate the first N test samples (default {DEFAULT_SAMPLES})")
    p.add_argument("--dataset", metavar="NAME", help="digits, mnist1d or npz:PATH (its test "
                                                     "split); default: the train block's dataset")
    argtypes.add_seed(p, "seed of the rate encoder (default 0, as snnc simulate)")
    p.add_argument("--waves", metavar="FILE.fst", help="write a waveform trace (Verilog only)")
    p.add_argument("--backend", "--target", dest="backend", choices=("verilog", "hls"),
                   action=argtypes.AliasedChoice,
                   default="verilog", help="the hardware to verify (default verilog; --target: "
                                           "the same, the name snnc compile uses)")
    p.add_argument("--lanes", type=argtypes.lanes, metavar="P",
                   help="lanes of the Verilog design's layers without their own `lanes` "
                        "(default: the hardware block's, or 4)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_verify)


def test_data(graph, dataset: str | None, samples: int, notes: list | None = None):
    """The first ``samples`` test samples, labels and sample ids 0..N-1, and the data set name.
    The data set's notes (and that it has fewer samples) are printed and added to ``notes``."""
    import numpy as np

    from snnc.datasets import fewer_samples_note, load_dataset, print_notes, require_samples
    from snnc.errors import SnnError

    name = dataset or (graph.train.dataset if graph.train is not None else None)
    if not name:
        raise SnnError(None, "no data to verify on: give --dataset NAME or `dataset = ...` in the "
                             "model's train block", "data sets: digits, mnist1d, npz:PATH")
    ds = load_dataset(name, graph)
    print_notes(ds.notes)
    require_samples(ds, "test")
    k = min(samples, ds.x_test.shape[0])
    said = list(ds.notes)
    if samples != DEFAULT_SAMPLES and samples > k:               # as `snnc report` says it
        said.append(fewer_samples_note(samples, name, k))
        print(f"note: {said[-1]}", file=sys.stderr)
    if notes is not None:
        notes.extend(said)
    return ds.x_test[:k], ds.y_test[:k], np.arange(k), name


def run_hardware(backend: str, qmodel, x, sample_ids, seed: int, *, lanes=None, waves=None,
                 work_dir=None):
    """(BackendRun, Comparison, CosimInfo or None) of the chosen hardware backend; missing tools
    and unsupported models are SnnErrors."""
    from snnc.errors import SnnError

    if backend == "hls":
        if waves:
            raise SnnError(None, "--waves needs --backend verilog")
        if lanes is not None:
            raise SnnError(None, "--lanes needs --backend verilog")
        try:
            from snnc.backends.hls import CsimError, compiler_available, verify_hls
        except ImportError as exc:
            raise SnnError(None, "the HLS co-simulation (snnc.backends.hls.verify_hls) is not "
                                 f"available in this installation ({exc})",
                           "use --backend verilog") from None
        try:
            run, comp = verify_hls(qmodel, x, sample_ids, seed, work_dir=work_dir)
        except CsimError as exc:            # no compiler, or the C++ did not build or run
            missing = ("a C++17 compiler is needed: install g++ (e.g. apt-get install g++) or "
                       "name one in $CXX") if not compiler_available() else None
            raise SnnError(None, f"cannot co-simulate the HLS C++: {exc}", missing) from None
        return run, comp, None
    from snnc.backends.verilog import check_supported
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog
    from snnc.backends.verilog.sim import toolchain_problem

    check_supported(qmodel)
    problem = toolchain_problem()
    if problem:
        raise SnnError(None, f"cannot co-simulate the Verilog: {problem}")
    if waves:
        if not waves.endswith(".fst"):
            raise SnnError(None, f"--waves {waves}: the trace is an FST file; name it *.fst")
        if os.path.isdir(waves):            # wrote nothing and said "wrote d.fst"
            raise SnnError(None, f"--waves {waves}: it is a folder; name a .fst file")
        folder = os.path.dirname(os.path.abspath(waves))
        if not os.path.isdir(folder):
            raise SnnError(None, f"--waves {waves}: folder '{folder}' does not exist")
        from snnc.backends.verilog.sim import waves_problem

        problem = waves_problem()
        if problem:
            raise SnnError(None, f"--waves {waves}: {problem}",
                           "install them (e.g. apt-get install liblz4-dev zlib1g-dev) or leave "
                           "out --waves")
    info = CosimInfo()
    run, comp = verify_verilog(qmodel, x, sample_ids, seed, lanes=lanes, waves=waves,
                               work_dir=work_dir, info=info)
    return run, comp, info


def hardware_sops(graph, golden, run) -> int:
    """Synaptic operations (docs/semantics.md section 6) of the events the hardware sent: per
    layer, its source's events (an input's: the encoded values, the same in both) delayed by the
    layer's delay, times their fan-out, plus a recurrent layer's own events of steps 0..T-2 times
    its units. An event of height 0 (a graded user neuron's, as the golden model's payload of
    that neuron and step says) delivers nothing and costs none, as in the golden model."""
    import numpy as np

    from snnc.backends.golden import synapse

    sent = {inp.name: np.asarray(golden.delivered(inp.name)) for inp in graph.inputs}
    total = 0
    for layer in graph.layers:
        src = layer.source
        if src not in sent:
            events = np.asarray(run.spikes[src]) != 0                      # [T, B, N]
            if golden.payloads is not None and src in golden.payloads:
                shape = events.shape
                zero = ((np.asarray(golden.spikes[src]).reshape(shape) != 0)
                        & (np.asarray(golden.payloads[src]).reshape(shape) == 0))
                events &= ~zero
            sent[src] = events
        total += synapse.sops(layer, synapse.delayed(sent[src], layer.delay))
        if isinstance(layer, ir.Recurrent) and run.steps > 1:
            total += int(np.count_nonzero(np.asarray(run.spikes[layer.name])[:-1])) * layer.units
    return total


def summarize(graph, qmodel, run, comp, info, labels, backend: str, lanes: int | None = None,
              ) -> dict:
    """The figures ``snnc verify`` and ``snnc demo`` print (JSON-ready). ``lanes``: the command's
    ``--lanes`` (the lanes of the layers without their own)."""
    import numpy as np

    n = run.batch
    golden = info.golden
    gold_pred = np.asarray(golden.predictions)
    out = {"model": graph.name, "backend": backend, "samples": n, "steps": run.steps,
           "match": comp.match, "compared": comp.compared, "mismatches": comp.mismatches,
           "first_mismatch": comp.first.as_dict() if comp.first is not None else None,
           "first_mismatch_text": comp.first.describe() if comp.first is not None else None}
    rtl_pred = info.predictions
    if rtl_pred is None and graph.outputs:
        # a backend that exposes the output layer's membrane every step (HLS C simulation):
        # its classes come from its own spikes and summed membrane, ties included
        from snnc.backends.verilog.cosim import rtl_predictions

        o = graph.outputs[0]
        if o.source in run.spikes and o.source in run.membranes:
            c = np.asarray(run.spikes[o.source], dtype=np.int64).reshape(run.steps, n, -1)
            fired = c > 0
            first = np.where(fired.any(axis=0), fired.argmax(axis=0), run.steps)
            mem = np.asarray(run.membranes[o.source], dtype=np.int64).reshape(run.steps, n, -1)
            rtl_pred = rtl_predictions(o.readout, c.sum(axis=0), first,
                                       dict(enumerate(mem.sum(axis=0))))
    out["golden_accuracy"] = float((gold_pred == labels).mean()) if labels is not None else None
    out["hardware_accuracy"] = (float((rtl_pred == labels).mean())
                                if labels is not None and rtl_pred is not None else None)
    out["prediction_agreement"] = (float((rtl_pred == gold_pred).mean())
                                   if rtl_pred is not None else None)
    # spikes and synaptic operations per sample, as the hardware produced them
    layer_names = [layer.name for layer in graph.layers]
    if all(name in run.spikes for name in layer_names):
        spikes = sum(int(np.asarray(run.spikes[name], dtype=np.int64).sum())
                     for name in layer_names)
        sops = hardware_sops(graph, golden, run)
        source = "hardware"
    else:
        spikes, sops, source = int(golden.totals.spikes), int(golden.totals.sops), "golden"
    out["spikes_per_sample"] = spikes / n
    out["sops_per_sample"] = sops / n
    out["golden_spikes_per_sample"] = golden.totals.spikes / n
    out["golden_sops_per_sample"] = golden.totals.sops / n
    out["counts_from"] = source
    # the hardware's own clamp counters over the batch (compared with the golden model's above):
    # reported, not only compared (nothing is clamped silently)
    out["saturation"] = {name: {k: int(v) for k, v in counts.items() if v}
                         for name, counts in run.saturation.items()}
    # a direct input's values clamped where they are quantised to the inputs format, before they
    # reach the hardware (whose counters cannot see them): the golden model's count
    out["input_saturation"] = {name: {k: int(v) for k, v in st.saturation.items() if v}
                               for name, st in golden.stats.items()
                               if name not in layer_names and any(st.saturation.values())}
    if run.cycles is not None:
        cyc = np.asarray(run.cycles, dtype=np.int64)
        out["cycles"] = {"mean": float(cyc.mean()), "max": int(cyc.max()), "min": int(cyc.min()),
                         "total": int(cyc.sum())}
        if run.cycle_bound is not None:
            bnd = np.asarray(run.cycle_bound, dtype=np.int64)
            out["cycle_bound"] = {"mean": float(bnd.mean()), "max": int(bnd.max())}
            out["cycles_over_bound"] = float(cyc.sum() / bnd.sum())
            out["max_sample_cycles_over_bound"] = float((cyc / bnd).max())
        if info is not None and info.ideal_bound is not None:
            ideal = np.asarray(info.ideal_bound, dtype=np.int64)
            out["ideal_bound"] = {"mean": float(ideal.mean()), "max": int(ideal.max())}
            out["cycles_over_ideal"] = float(cyc.sum() / ideal.sum())
        out["sops_per_cycle"] = sops / float(cyc.sum()) if cyc.sum() else None
    else:
        out["cycles"] = None
    if info is not None and info.manifest is not None:
        out["lanes"] = ir.default_lanes(graph, lanes)          # as in `snnc report`
        out["lanes_by_layer"] = {l["name"]: l["lanes"] for l in info.manifest["layers"]}
        out["sweep_units_by_layer"] = {l["name"]: l["sweep_units"]
                                       for l in info.manifest["layers"]}
    clock = (graph.hardware.clock if graph.hardware is not None and graph.hardware.clock
             else ir.DEFAULT_CLOCK_HZ)                   # as `snnc report` (it was 100 MHz)
    out["clock_hz"] = float(clock)
    if out.get("cycles"):
        out["latency_us"] = {"mean": out["cycles"]["mean"] / clock * 1e6,
                             "max": out["cycles"]["max"] / clock * 1e6}
    return out


def summary_text(s: dict) -> list[str]:
    pct = lambda v: "-" if v is None else f"{100 * v:.2f}%"  # noqa: E731
    lines = []
    if s["match"]:
        lines.append(f"match: the {s['backend']} hardware equals the golden model bit for bit on "
                     f"{s['samples']} samples x {s['steps']} steps ({s['compared']} values: "
                     "spikes of every step, graded spike heights where a layer emits them, "
                     "final states, saturation counters)")
    else:
        lines.append(f"MISMATCH: {s['mismatches']} of {s['compared']} values differ; first: "
                     f"{s['first_mismatch_text']}")
    lines.append(f"accuracy: golden {pct(s['golden_accuracy'])}, {s['backend']} "
                 f"{pct(s['hardware_accuracy'])}; predictions agree on "
                 f"{pct(s['prediction_agreement'])} of the samples")
    lines.append(f"per sample: {s['spikes_per_sample']:.1f} spikes, "
                 f"{s['sops_per_sample']:.0f} synaptic operations ({s['counts_from']})")
    clamped = {name: c for name, c in s.get("saturation", {}).items() if c}
    lines.append("saturation (the hardware's counters, all samples): " + (
        "; ".join(f"layer {name}: " + ", ".join(f"{k} {v}" for k, v in c.items())
                  for name, c in clamped.items()) if clamped else "none"))
    inputs = s.get("input_saturation") or {}
    if inputs:
        lines.append("saturation of the inputs (clamped to the inputs format before the hardware, "
                     "all samples): " + "; ".join(
                         f"{name}: " + ", ".join(f"{k} {v}" for k, v in c.items())
                         for name, c in inputs.items()))
    if s.get("cycles"):
        c = s["cycles"]
        line = f"cycles per inference: mean {c['mean']:.1f}, max {c['max']}"
        if "cycle_bound" in s:
            b = s["cycle_bound"]
            line += (f"; cycle bound mean {b['mean']:.1f}, max {b['max']}; ratio "
                     f"{s['cycles_over_bound']:.3f}")
        lines.append(line)
        if "ideal_bound" in s:
            lines.append(f"vs sum(events*ceil(fanout/P) + ceil(N/P)) = "
                         f"{s['ideal_bound']['mean']:.1f} per sample: ratio "
                         f"{s['cycles_over_ideal']:.3f}; "
                         f"{s['sops_per_cycle']:.2f} SOPs per cycle"
                         + (f" with {ir.describe_lanes(s['lanes_by_layer'])}"
                            if "lanes_by_layer" in s else ""))
        if "latency_us" in s:
            lines.append(f"latency at {s['clock_hz'] / 1e6:g} MHz: mean "
                         f"{s['latency_us']['mean']:.1f} us, max {s['latency_us']['max']:.1f} us "
                         "per inference")
    return lines


def cmd_verify(args) -> int:
    from snnc.build import load
    from snnc.quantize import quantize
    from snnc.weights import load_weights

    loaded = load(args.model)
    graph = loaded.graph
    warnings = list(loaded.warnings)
    weights = load_weights(args.weights, graph)
    warnings.extend(weights.warnings)
    qmodel = quantize(graph, weights)
    # located errors about what the backend cannot build before any data is loaded (for HLS the
    # data's errors came first: a conv model was told its data's shape was wrong)
    if args.backend == "verilog":
        from snnc.backends.verilog import check_supported
    else:
        from snnc.backends.hls import check_supported
    check_supported(qmodel)
    notes: list[str] = []
    x, labels, ids, name = test_data(graph, args.dataset, args.samples, notes)
    for w in warnings:
        print(w.format(), file=sys.stderr)
    option_notes = argtypes.unused_option_notes(args, graph, encodes=True)
    for note in qmodel.all_notes() + option_notes:
        print(f"note: {note}", file=sys.stderr)
    notes.extend(qmodel.all_notes() + option_notes)
    run, comp, info = run_hardware(args.backend, qmodel, x, ids, args.seed, lanes=args.lanes,
                                   waves=args.waves)
    if info is None:      # HLS: the golden figures come from the golden model itself
        from snnc.backends.golden.golden_sim import simulate_golden
        from snnc.backends.verilog.cosim import CosimInfo

        info = CosimInfo(golden=simulate_golden(qmodel, x, seed=args.seed, sample_ids=ids,
                                                record=True))
    s = summarize(graph, qmodel, run, comp, info, labels, args.backend, args.lanes)
    s.update({"file": args.model, "weights": args.weights, "dataset": name, "seed": args.seed,
              "waves": args.waves, "notes": notes + [w.headline() for w in warnings]})
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        print(f"model '{graph.name}' ({args.model}): {s['samples']} test samples of '{name}', "
              f"{graph.time.steps} steps, seed {args.seed}, backend {args.backend}")
        for line in summary_text(s):
            print(line)
        if args.waves:
            print(f"wrote {args.waves}")
    return 0 if comp.match else EXIT_MISMATCH
