"""``snnc simulate``: run a model on data with the float reference simulator or the golden model.

    snnc simulate MODEL [--weights W.npz] [--backend float|golden]
                        (--input FILE.npy | --dataset NAME) [--samples N] [--seed S]
                        [--json] [--plot raster.png] [--stream STEPS_PER_FRAME [--settle K]]

Prints the predictions, the accuracy when labels are known (the test split of a data set), the
statistics of every layer (docs/semantics.md section 6) and, for the golden model, the quantizer's
report. ``--plot`` writes a spike raster per layer and the output layer's membrane traces for the
first sample. Without ``--weights`` the model runs with random weights (snnc.weights.random_weights).
``--stream S`` presents the samples as one continuous stream of frames, ``S`` steps each, to one
network that is never reset (snnc.backends.golden.stream), and prints the accuracy per frame and
what the network updates per frame -- events and synaptic operations (SOPs) per layer -- against
the multiply-accumulates (MACs) the equivalent ANN needs per frame (docs/efficiency.md).
Every problem with the model, the weights or the data is a located error and exit status 2.
"""
from __future__ import annotations

import json
import math
import sys

from snnc import argtypes
from snnc.argtypes import positive_int

#: Samples simulated at once (the simulators hold [T, B, N] arrays).
CHUNK = 256
DEFAULT_SAMPLES = 200


def register(sub) -> None:
    """Add the ``simulate`` subcommand to the ``snnc`` parser's subparsers."""
    p = sub.add_parser("simulate", help="simulate a model (float or bit-exact golden) on data",
                       description="Simulate a model on a data set's test split or on samples "
                                   "from a .npy file; print predictions, accuracy and per-layer "
                                   "statistics (spikes, SOPs, saturation, ANN MACs).")
    p.add_argument("model", metavar="MODEL", type=argtypes.input_file, help=".snn model file")
    p.add_argument("--weights", metavar="W", type=argtypes.input_file,
                   help="weights file (.npz, docs/weights.md); random weights when left out")
    p.add_argument("--backend", choices=("float", "golden"), default="float",
                   help="float reference simulator (default) or the bit-exact fixed-point "
                        "golden model")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--input", metavar="FILE", type=argtypes.input_file,
                     help="samples [N, ...] in a .npy file")
    src.add_argument("--dataset", metavar="NAME", type=argtypes.dataset,
                     help="digits, mnist1d or npz:PATH (its test split); default: the train "
                          "block's dataset")
    p.add_argument("--samples", type=positive_int, default=DEFAULT_SAMPLES, metavar="N",
                   help=f"simulate the first N samples (default {DEFAULT_SAMPLES})")
    argtypes.add_seed(p, "seed of the rate encoder and of random weights (default 0)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--plot", metavar="PNG", help="write a spike raster per layer and the membrane "
                                                 "traces of the first sample to this PNG file")
    p.add_argument("--stream", type=positive_int, metavar="STEPS_PER_FRAME",
                   help="stream the samples as frames of STEPS_PER_FRAME steps each through one "
                        "network without resets; print per-frame accuracy, events and SOPs "
                        "against the ANN's MACs per frame (the model's input must be direct or "
                        "delta)")
    p.add_argument("--settle", type=argtypes.nonnegative_int, default=0, metavar="K",
                   help="with --stream: leave the first K steps of every frame out of its readout "
                        "(they let the network forget the previous frame; default 0)")
    p.set_defaults(func=cmd_simulate)


# ------------------------------------------------------------------ the command


def cmd_simulate(args) -> int:
    from snnc.build import load
    from snnc.errors import SnnError

    if args.plot is not None and not args.plot.lower().endswith(".png"):
        # an empty name was ignored, x.jpg held PNG bytes
        raise SnnError(None, f"--plot {args.plot!r}: the plot is a PNG image; name it FILE.png")
    loaded = load(args.model)
    graph = loaded.graph
    warnings = list(loaded.warnings)
    notes: list[str] = []

    # weights
    if args.weights:
        from snnc.weights import load_weights

        weights = load_weights(args.weights, graph)
        warnings.extend(weights.warnings)
        weights_info = {"file": args.weights, "random": False,
                        "created_by": weights.meta.get("created_by"),
                        "notes": weights.meta.get("notes")}
    else:
        from snnc.weights import DEFAULT_SCALE, random_weights

        weights = random_weights(graph, seed=args.seed)
        weights_info = {"file": None, "random": True, "seed": args.seed, "scale": DEFAULT_SCALE}
        notes.append(f"no --weights given: simulating with random weights (seed {args.seed}, "
                     f"uniform +-{DEFAULT_SCALE:g}/sqrt(fan_in)); predictions are chance-level")
    notes += argtypes.unused_seed_notes(args, graph, encodes=True)

    # data
    said: list[str] = []                # the data's notes, printed as they come
    x, labels, sample_ids, data_info = _data(args, graph, said)
    n = x.shape[0]
    if n == 0:
        raise SnnError(None, f"{data_info['description']} holds no samples")

    # simulate
    qmodel = None
    if args.backend == "golden":
        from snnc.quantize import quantize

        qmodel = quantize(graph, weights)
    if getattr(args, "stream", None):
        return _cmd_stream(args, graph, weights, qmodel, x, labels, data_info, warnings, notes,
                           said)
    if getattr(args, "settle", 0):
        raise SnnError(None, "--settle applies to --stream only")
    result = _simulate(args.backend, graph, weights, qmodel, x, args.seed, sample_ids)

    warnings += _nonfinite_warnings(
        graph, {name: s.get("nonfinite", 0) for name, s in result["stats"].items()}, n)
    predictions = result["predictions"]
    correct = int((predictions == labels).sum()) if labels is not None else None
    stats = _stats_table(graph, result, n)
    report = _quant_report(qmodel) if qmodel is not None else None
    plot = None
    if args.plot:
        plot = _plot(args.plot, args.backend, graph, weights, qmodel, x[:1], sample_ids[:1],
                     args.seed, data_info, labels[0] if labels is not None else None)

    for w in warnings:
        print(w.format(), file=sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        out = {
            "model": graph.name, "file": args.model, "backend": args.backend,
            "steps": graph.time.steps, "seed": args.seed, "weights": weights_info,
            "data": {k: v for k, v in data_info.items() if k != "description"},
            "samples": n,
            "predictions": predictions.tolist(),
            "labels": labels.tolist() if labels is not None else None,
            "correct": correct,
            "accuracy": correct / n if correct is not None else None,
            "outputs": {name: {"readout": r["readout"], "values": _json_values(r["value"])}
                        for name, r in result["outputs"].items()},
            "stats": stats["layers"], "totals": stats["totals"],
            "quantization": report,
            "warnings": [w.to_json() for w in warnings], "notes": said + notes,
            "plot": plot,
        }
        print(json.dumps(out, indent=2))
        return 0

    print(f"model '{graph.name}' ({args.model}): {n} sample{'s' if n != 1 else ''} of "
          f"{data_info['description']}, {graph.time.steps} steps, backend {args.backend}, "
          f"seed {args.seed}")
    print("weights: " + (f"random (seed {args.seed})" if weights_info["random"]
                         else f"{args.weights}" + (f" ({weights_info['notes']})"
                                                   if weights_info.get("notes") else "")))
    if report is not None:
        print()
        print(_quant_text(report))
    print()
    print(_predictions_text(predictions, labels))
    if correct is not None:
        print(f"accuracy: {100.0 * correct / n:.2f}% ({correct}/{n})")
    print()
    print(_stats_text(stats, n, graph.time.steps))
    if plot:
        print()
        print(f"wrote {plot}")
    return 0


# ------------------------------------------------------------------ streaming


def _stream_of_sequences(inp, description: str, shape):
    """The error of --stream given samples that are sequences."""
    from snnc.errors import SnnError

    return SnnError(inp.loc, f"--stream holds each sample for STEPS_PER_FRAME steps as one frame "
                             f"of input '{inp.name}' {list(inp.shape)}; the samples of "
                             f"{description} are sequences {list(shape)}",
                    "stream static samples (a data set whose samples have the input's shape)")


def _cmd_stream(args, graph, weights, qmodel, x, labels, data_info, warnings, notes,
                said) -> int:
    """``--stream S``: the samples as one stream of frames through a network never reset
    (``said``: the notes on the data, printed already)."""
    import numpy as np

    from snnc import ir
    from snnc.backends.golden.stream import simulate_stream
    from snnc.values import MAX_STEPS
    from snnc.errors import SnnError

    inp = graph.inputs[0]
    if len(graph.inputs) != 1 or not isinstance(inp.encoding, (ir.Direct, ir.Delta)):
        kind = type(inp.encoding).__name__.lower()
        raise SnnError(inp.loc, f"--stream needs one input with a sequence encoding (direct or "
                                f"delta); input '{inp.name}' is {kind}-encoded",
                       "a frame is held for STEPS_PER_FRAME steps as a direct (analog) input")
    if args.plot:
        raise SnnError(None, "--plot does not apply to --stream")
    total = len(x) * args.stream
    if total > MAX_STEPS:
        raise SnnError(None, f"--stream {args.stream} with {len(x)} samples is a stream of {total} "
                             f"steps; at most {MAX_STEPS} are simulated",
                       "use fewer steps per frame or fewer --samples")
    if not 0 <= args.settle < args.stream:
        raise SnnError(None, f"--settle must be in [0, {args.stream}) for --stream "
                             f"{args.stream}, not {args.settle}")
    if tuple(np.shape(x)[1:]) != tuple(inp.shape):
        raise _stream_of_sequences(inp, data_info["description"], np.shape(x)[1:])
    model = qmodel if args.backend == "golden" else graph
    st = simulate_stream(model, x, args.stream, weights=None if qmodel is not None else weights,
                         backend=args.backend, seed=args.seed, settle=args.settle)
    k = len(x)
    warnings += _nonfinite_warnings(graph, st.nonfinite, None)
    correct = int((st.predictions == labels).sum()) if labels is not None else None
    layers = list(st.events)
    events = {n: float(st.events[n].mean()) for n in layers}
    sops = {n: float(st.sops[n].mean()) for n in layers}
    ev_total = float(sum(st.events[n] for n in layers).mean())
    sop_total = float(st.sops_per_frame.mean())
    macs = st.macs_per_frame
    report = _quant_report(qmodel) if qmodel is not None else None
    sat_total = sum(sum(v.values()) for v in st.saturation.values())
    for n, sat in st.saturation.items():
        node = graph.node(n) if n in {layer.name for layer in graph.layers} else None
        if sat.get("U") and isinstance(getattr(node, "neuron", None), ir.IF):
            notes.append(f"layer '{n}' (IF) saturated its membrane {sat['U']} times over the "
                         "stream: an IF neuron does not leak, so what it integrates in one frame "
                         "stays for the next; leaky neurons (LIF, ASN) forget")
    for w in warnings:
        print(w.format(), file=sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({
            "model": graph.name, "file": args.model, "backend": args.backend,
            "data": {kk: v for kk, v in data_info.items() if kk != "description"},
            "stream": {"frames": k, "steps_per_frame": args.stream, "settle": args.settle,
                       "predictions": st.predictions.tolist(),
                       "labels": labels.tolist() if labels is not None else None,
                       "correct": correct, "accuracy": correct / k if correct is not None else None,
                       "events_per_frame": events, "sops_per_frame": sops,
                       "ann_macs_per_frame": {n: int(v) for n, v in st.ann_macs.items()},
                       "totals": {"events_per_frame": ev_total, "sops_per_frame": sop_total,
                                  "ann_macs_per_frame": macs,
                                  "sops_over_macs": sop_total / macs if macs else None},
                       "per_frame": {"events": sum(st.events[n] for n in layers).tolist(),
                                     "sops": st.sops_per_frame.tolist()},
                       "saturation": st.saturation, "saturation_total": sat_total},
            "quantization": report,
            "warnings": [w.to_json() for w in warnings], "notes": said + notes}, indent=2))
        return 0
    settle = (f" (the first {args.settle} left out of each frame's readout)" if args.settle
              else "")
    print(f"model '{graph.name}' ({args.model}): a stream of {k} frame{'s' if k != 1 else ''} "
          f"of {data_info['description']}, {args.stream} steps per frame{settle}, no reset, "
          f"backend {args.backend}")
    if report is not None:
        print()
        print(_quant_text(report))
    if correct is not None:
        print(f"per-frame accuracy: {100.0 * correct / k:.2f}% ({correct}/{k})")
    print()
    total = _total_label(layers)
    width = max(len(total), *(len(n) for n in layers))
    print(f"{'layer':<{width}}  {'events/frame':>12}  {'SOPs/frame':>12}  {'ANN MACs/frame':>14}")
    for n in layers:
        print(f"{n:<{width}}  {events[n]:>12.1f}  {sops[n]:>12.1f}  {st.ann_macs[n]:>14d}")
    print(f"{total:<{width}}  {ev_total:>12.1f}  {sop_total:>12.1f}  {macs:>14d}")
    if macs:
        print(f"SOPs per frame / ANN MACs per frame: {sop_total / macs:.3f}")
    if args.backend == "golden":
        by_node = "; ".join(f"{n}: " + ", ".join(f"{s_} {v}" for s_, v in sat.items())
                            for n, sat in st.saturation.items())
        print(f"saturation (the golden model's clamps over the whole stream): "
              f"{by_node + f'; total {sat_total}' if by_node else 'none'}")
    return 0


# ------------------------------------------------------------------ data


def _data(args, graph, said: list):
    """Samples fitted to the model, labels (or None), sample ids and a description. The notes
    on the data are printed and added to ``said`` (for --json)."""
    import numpy as np

    from snnc.datasets import (fewer_samples_note, fit_input, load_dataset, model_input,
                               print_notes, data_notes, takes_sequences)
    from snnc.errors import SnnError

    def say(notes) -> None:
        print_notes(notes)
        said.extend(notes)

    if args.input:
        path = args.input
        import os

        if not os.path.exists(path):
            raise SnnError(None, f"input file '{path}' does not exist")
        if os.path.isdir(path):
            raise SnnError(None, f"input file '{path}' is a directory; --input takes a .npy "
                                 "array of samples")
        if path.endswith(".npz"):
            raise SnnError(None, f"input file '{path}' is an .npz archive; --input takes a .npy "
                                 "array of samples", f"use --dataset npz:{path} for an .npz data "
                                                     "set (docs/datasets.md)")
        from snnc.npyfile import npy_file_problem

        try:
            problem = npy_file_problem(path)
            if problem:
                raise SnnError(None, f"input file '{path}' cannot be read ({problem})",
                               "save samples with numpy.save(path, array)")
            x = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "pickle" in detail.lower():
                detail = "not a .npy array"
            raise SnnError(None, f"input file '{path}' cannot be read ({detail})",
                           "save samples with numpy.save(path, array)") from None
        if not isinstance(x, np.ndarray):
            raise SnnError(None, f"input file '{path}' is not a single .npy array")
        inp = model_input(graph)
        if x.shape == tuple(inp.shape):
            x = x[None]                     # one sample without its batch dimension
        steps = graph.time.steps
        if (not args.stream and takes_sequences(inp) and x.ndim >= 1 and x.shape[0] == steps > 1
                and math.prod(x.shape[1:]) == math.prod(inp.shape)):
            # as many samples as steps: maybe one sequence saved without its batch axis
            dims = ", ".join(map(str, inp.shape))
            say([f"input file '{path}' of shape {list(x.shape)} is read as {steps} samples of "
                 f"[{dims}] (the first axis is the batch), not as one sequence of {steps} steps; "
                 f"save one sequence as [1, {steps}, {dims}]"])
        if (args.stream and x.ndim == len(inp.shape) + 2    # sequences, whatever their length
                and int(np.prod(x.shape[2:])) == int(np.prod(inp.shape))):
            raise _stream_of_sequences(inp, f"'{path}'", x.shape[1:])
        x = fit_input(x, graph, f"input file '{path}'", keep_float64=True)[: args.samples]
        if not args.stream:                 # --stream refuses sequences: no note first
            say(data_notes(x, graph, f"input file '{path}'"))
        info = {"source": "input", "name": path, "split": None,
                "description": f"'{path}'"}
        return x, None, np.arange(x.shape[0]), info
    name = args.dataset
    if name is None:
        if graph.train is not None and graph.train.dataset:
            name = graph.train.dataset
        else:
            raise SnnError(None, "no data to simulate: give --input FILE.npy or --dataset NAME",
                           "data sets: digits, mnist1d, npz:PATH")
    ds = load_dataset(name, graph)
    if not args.stream:                     # --stream refuses sequences: no note first
        say(ds.notes)
    k = min(args.samples, ds.x_test.shape[0])
    if k == 0:                          # was noted as "only 0 samples; all of them are used" first
        raise SnnError(None, f"the test split of '{name}' holds no samples")
    if args.samples != DEFAULT_SAMPLES and args.samples > k:     # as `snnc report` says it
        say([fewer_samples_note(args.samples, name, k)])
    info = {"source": "dataset", "name": name, "split": "test",
            "description": f"the test split of '{name}'"}
    return ds.x_test[:k], ds.y_test[:k], np.arange(k), info


# ------------------------------------------------------------------ simulation


def _simulate(backend, graph, weights, qmodel, x, seed, sample_ids):
    """Run in chunks of at most CHUNK samples (fewer for a large model:
    memory.samples_per_chunk); merge predictions, readouts and statistics."""
    import numpy as np

    from snnc.memory import chunks

    preds, outputs, stats = [], {}, {}
    for c in chunks(x.shape[0], graph, most=CHUNK):
        r = _run(backend, graph, weights, qmodel, x[c], seed, sample_ids[c], record=False)
        preds.append(r.predictions)
        for name, ro in r.outputs.items():
            outputs.setdefault(name, {"readout": ro.readout, "value": []})["value"].append(ro.value)
        for name, s in r.stats.items():
            acc = stats.setdefault(name, {"spikes": 0, "sops": 0, "saturation": {}, "macs": s.macs})
            acc["spikes"] += s.spikes
            acc["sops"] += s.sops
            if s.nonfinite:
                acc["nonfinite"] = acc.get("nonfinite", 0) + s.nonfinite
            for k, v in s.saturation.items():
                acc["saturation"][k] = acc["saturation"].get(k, 0) + int(v)
    for o in outputs.values():
        o["value"] = np.concatenate(o["value"])
    return {"predictions": np.concatenate(preds), "outputs": outputs, "stats": stats}


def _json_values(a) -> list:
    """An array as JSON lists, inf / NaN (an overflowed float state) as null: JSON has no NaN."""
    import numpy as np

    a = np.asarray(a)
    if a.dtype.kind != "f" or np.isfinite(a).all():
        return a.tolist()
    return np.where(np.isfinite(a), a, None).tolist()


def _nonfinite_warnings(graph, nonfinite: dict, samples: int | None) -> list:
    """A warning per layer whose float state overflowed to inf / NaN: ``nonfinite`` maps a layer
    to its (neuron, sample) pairs that did (``LayerStats.nonfinite``), over ``samples`` samples
    (None: one stream). The count was worded as neurons (150 of a 3-neuron layer)."""
    import math

    from snnc.errors import SnnError

    out = []
    for layer in graph.layers:
        bad = nonfinite.get(layer.name, 0)
        if bad:
            size = math.prod(layer.shape)
            where = (f"in {bad} of its {size} neuron(s) over a stream" if samples is None else
                     f"in {bad} of {size * samples} (neuron, sample) pairs ({size} neuron(s), "
                     f"{samples} sample(s))")
            out.append(SnnError(layer.loc, f"the float state of layer '{layer.name}' became inf "
                                           f"or NaN {where}: its "
                                           "spikes and readout after that are not meaningful",
                                "an overflowing neuron (a state growing without bound): check "
                                "its equations, parameters and input scale", severity="warning"))
    return out


def _run(backend, graph, weights, qmodel, x, seed, sample_ids, record):
    if backend == "golden":
        from snnc.backends.golden.golden_sim import simulate_golden

        return simulate_golden(qmodel, x, seed=seed, sample_ids=sample_ids, record=record)
    from snnc.backends.golden.float_sim import simulate_float

    return simulate_float(graph, weights, x, seed=seed, sample_ids=sample_ids, record=record)


# ------------------------------------------------------------------ reports


def _kind(node) -> str:
    from snnc import ir

    if isinstance(node, ir.Input):
        return f"input {type(node.encoding).__name__.lower()}"
    if isinstance(node, ir.Pool):
        return f"{node.mode}pool"
    if isinstance(node, ir.Flatten):
        return "flatten"
    return type(node).__name__.lower()


def _stats_table(graph, result, n: int) -> dict:
    """Per node: kind, neurons, spikes, SOPs, saturation (per state), ANN MACs; and totals."""
    steps = graph.time.steps
    layers = {}
    tot = {"spikes": 0, "sops": 0, "saturation": 0, "saturation_by_state": {}, "macs": 0}
    for node in graph.inputs + graph.layers:
        s = result["stats"].get(node.name)
        if s is None:
            continue
        size = math.prod(node.shape)
        sat = dict(sorted(s["saturation"].items()))
        entry = {"kind": _kind(node), "neurons": size, "spikes": s["spikes"],
                 "spikes_per_sample": s["spikes"] / n,
                 "rate": s["spikes"] / (n * steps * size) if size else 0.0,
                 "sops": s["sops"], "sops_per_sample": s["sops"] / n,
                 "saturation": sum(sat.values()), "saturation_by_state": sat, "macs": s["macs"]}
        layers[node.name] = entry
        is_layer = node not in graph.inputs
        if is_layer and entry["kind"] != "flatten":
            tot["spikes"] += s["spikes"]
        tot["sops"] += s["sops"]
        tot["macs"] += s["macs"]
        tot["saturation"] += entry["saturation"]
        for k, v in sat.items():
            tot["saturation_by_state"][k] = tot["saturation_by_state"].get(k, 0) + v
    tot["spikes_per_sample"] = tot["spikes"] / n
    tot["sops_per_sample"] = tot["sops"] / n
    return {"layers": layers, "totals": tot}


def _total_label(layers) -> str:
    """The totals row's label: ``total``, or ``(total)`` where a layer is named ``total``."""
    return "(total)" if "total" in layers else "total"


def _stats_text(stats: dict, n: int, steps: int) -> str:
    head = ("layer", "kind", "neurons", "spikes/sample", "rate", "SOPs/sample", "saturation",
            "ANN MACs")
    rows = []
    for name, e in stats["layers"].items():
        sat = ", ".join(f"{k} {v}" for k, v in e["saturation_by_state"].items() if v) or "0"
        rows.append((name, e["kind"], str(e["neurons"]), f"{e['spikes_per_sample']:.1f}",
                     f"{e['rate']:.3f}", f"{e['sops_per_sample']:.0f}", sat, str(e["macs"])))
    t = stats["totals"]
    sat = ", ".join(f"{k} {v}" for k, v in t["saturation_by_state"].items() if v) or "0"
    rows.append((_total_label(stats["layers"]), "", "", f"{t['spikes_per_sample']:.1f}", "",
                 f"{t['sops_per_sample']:.0f}", sat, str(t["macs"])))
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    left = {0, 1, 6}

    def line(r):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    out = [f"statistics ({n} sample{'s' if n != 1 else ''}, {steps} steps; spikes and SOPs per "
           "sample, rate = spikes per neuron per step, saturation events in total, MACs of the "
           "equivalent ANN per inference):", line(head)]
    out += [line(r) for r in rows[:-1]]
    out.append(line(rows[-1]))
    return "\n".join(out)


def _predictions_text(predictions, labels, width: int = 100) -> str:
    def wrapped(title, values):
        lines, cur = [], title
        for v in values:
            piece = f" {v}"
            if len(cur) + len(piece) > width:
                lines.append(cur)
                cur = " " * len(title)
            cur += piece
        lines.append(cur)
        return lines

    out = wrapped("predictions:", [int(p) for p in predictions])
    if labels is not None:
        out += wrapped("labels:     ", [int(v) for v in labels])
    return "\n".join(out)


def _quant_report(qmodel) -> dict:
    f = qmodel.formats
    return {
        "formats": {"weights": str(f.weights), "membrane": str(f.membrane),
                    "current": str(f.current), "adaptation": str(f.adaptation),
                    "inputs": str(f.inputs)},
        "layers": [{"name": r.name, "weights": int(r.weights), "clipped": int(r.clipped),
                    "max_error": float(r.max_error), "notes": list(r.notes)}
                   for r in qmodel.report],
        "notes": list(qmodel.notes),
    }


def _quant_text(report: dict) -> str:
    f = report["formats"]
    out = [f"quantization: weights {f['weights']}, membrane {f['membrane']}, current "
           f"{f['current']}, adaptation {f['adaptation']}, inputs {f['inputs']}"]
    for note in report["notes"]:
        out.append(f"  note: {note}")
    rows = [("layer", "weights", "clipped", "max error")]
    for r in report["layers"]:
        rows.append((r["name"], str(r["weights"]), str(r["clipped"]),
                     f"{r['max_error']:.3g}" if r["weights"] else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, r in enumerate(rows):
        out.append("  " + "  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                                    for j, (c, w) in enumerate(zip(r, widths))))
        if i:
            for note in report["layers"][i - 1]["notes"]:
                out.append(f"      {note}")
    return "\n".join(out)


# ------------------------------------------------------------------ plot


def _plot(path, backend, graph, weights, qmodel, x, sample_ids, seed, data_info, label):
    """A spike raster per node and the membrane traces of the first output layer, for one sample."""
    import os

    import numpy as np

    from snnc import ir
    from snnc.errors import SnnError

    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        raise SnnError(None, "--plot needs matplotlib, which is not installed",
                       "pip install matplotlib (or snnc[data])") from None
    r = _run(backend, graph, weights, qmodel, x, seed, sample_ids, record=True)
    nodes = [n for n in graph.inputs + graph.layers if not isinstance(n, ir.Flatten)]
    out_name = graph.outputs[0].source if graph.outputs else graph.layers[-1].name
    steps = graph.time.steps
    panels = len(nodes) + 1
    fig, axes = plt.subplots(panels, 1, figsize=(9, 1.2 + 1.9 * panels), sharex=True,
                             squeeze=False)
    axes = axes[:, 0]
    for ax, node in zip(axes, nodes):
        values = np.asarray(r.spikes[node.name])[:, 0].reshape(steps, -1)
        size = values.shape[1]
        if isinstance(node, ir.Input) and isinstance(node.encoding, ir.Direct):
            shown = values.astype(np.float64)
            if qmodel is not None:
                shown = shown * qmodel.formats.inputs.scale
            im = ax.imshow(shown.T, aspect="auto", origin="lower", interpolation="nearest",
                           extent=(-0.5, steps - 0.5, -0.5, size - 0.5), cmap="viridis")
            fig.colorbar(im, ax=ax, pad=0.01).ax.tick_params(labelsize=7)
            title = f"{node.name} ({_kind(node)}, {size} values)"
        else:
            t, i = np.nonzero(values)
            mark = min(100.0, max(2.0, (110.0 / max(1, size)) ** 2))   # |: about a row high
            ax.scatter(t, i, s=mark, marker="|", color="black", linewidths=1.0)
            ax.set_ylim(-0.5, size - 0.5)
            title = (f"{node.name} ({_kind(node)}, {size} neuron{'s' if size != 1 else ''}): "
                     f"{len(t)} spike{'s' if len(t) != 1 else ''}")
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_ylabel("neuron", fontsize=8)
        ax.tick_params(labelsize=7)
    ax = axes[-1]
    mem = np.asarray(r.membranes[out_name])[:, 0].reshape(steps, -1).astype(np.float64)
    if qmodel is not None:
        mem = mem * qmodel.formats.membrane.scale
    for k in range(mem.shape[1]):
        ax.plot(np.arange(steps), mem[:, k], linewidth=1, label=str(k))
    layer = graph.node(out_name)
    threshold = getattr(getattr(layer, "neuron", None), "threshold", None)
    if threshold is not None:
        ax.axhline(threshold, color="gray", linestyle="--", linewidth=0.8)
    if mem.shape[1] <= 12:
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
                  title="neuron", title_fontsize=6)
    ax.set_title(f"{out_name}: membrane after each step" + (" (threshold dashed)"
                                                           if threshold is not None else ""),
                 fontsize=9, loc="left")
    ax.set_xlabel("step", fontsize=8)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("membrane", fontsize=8)
    ax.tick_params(labelsize=7)
    pred = int(r.predictions[0])
    what = f"sample 0 of {data_info['description']}"
    fig.suptitle(f"{graph.name} ({backend}): {what}, predicted {pred}"
                 + (f", label {int(label)}" if label is not None else ""), fontsize=10)
    fig.tight_layout()
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        plt.close(fig)
        raise SnnError(None, f"cannot write plot '{path}': directory '{directory}' does not exist")
    try:
        fig.savefig(path, dpi=110, format="png")
    except (OSError, ValueError) as exc:
        raise SnnError(None, f"cannot write plot '{path}': {exc}") from None
    finally:
        plt.close(fig)
    return path
