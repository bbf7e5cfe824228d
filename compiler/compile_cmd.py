"""``snnc compile``: generate a hardware target from a model and its weights.

    snnc compile MODEL --target verilog [--weights W.npz] [--seed S] [--lanes P]
                 [--fifo-depth D] -o DIR [--json]

``--target hls`` writes a Vitis HLS C++ project instead (``snnc.backends.hls``, docs/hls.md);
``--part`` names its FPGA part (default ``xc7z020clg400-1``).
``--target verilog`` writes ``DIR/snn_top.v`` (a chain of the hand-written ``snnc.hw`` layer
cores), one ``$readmemh`` weight file per layer, copies of the library sources and
``DIR/manifest.json`` (see ``snnc.backends.verilog``). Without ``--weights`` the model is compiled
with random weights (``snnc.weights.random_weights``), with a note saying so. Constructs the
backend cannot build yet are located errors (exit status 2).

``DIR`` is a new or empty folder, or one an earlier ``snnc compile`` wrote: the files its
``manifest.json`` lists are replaced by the new compile's (a Verilog compile's files do not stay
beside an HLS project, nor a removed layer's memory file), other files are kept; a folder with
files no compile wrote is refused (``snnc.outdir.write_generated``).
"""
from __future__ import annotations

import json
import sys

from snnc import argtypes, ir
from snnc.argtypes import positive_int
from snnc.outdir import write_generated

TARGETS = ("verilog", "hls")


def register(sub) -> None:
    p = sub.add_parser("compile",
                       help="generate hardware (Verilog or HLS C++) from a model and its weights",
                       description="Quantise a model and generate a hardware target.")
    p.add_argument("model", metavar="MODEL", type=argtypes.input_file, help=".snn model file")
    p.add_argument("--target", "--backend", dest="target", required=True, choices=TARGETS,
                   action=argtypes.AliasedChoice,
                   help="what to generate (--backend: the same, the name snnc verify uses)")
    p.add_argument("--weights", metavar="W", type=argtypes.input_file,
                   help="weights file (.npz, docs/weights.md); random weights when left out")
    argtypes.add_seed(p, "seed of the random weights (default 0)")
    p.add_argument("--lanes", type=argtypes.lanes, metavar="P",
                   help="neurons updated per cycle in the layers without their own `lanes` "
                        "(default: the hardware block's lanes, or 4)")
    p.add_argument("--fifo-depth", type=positive_int, metavar="D",
                   help=f"--target verilog: depth of the event FIFOs, a power of two from 2 to "
                        f"{ir.MAX_FIFO_DEPTH} (default 16)")
    p.add_argument("--part", metavar="PART",
                   help="--target hls: the FPGA part of the Vitis project (default "
                        "xc7z020clg400-1)")
    p.add_argument("-o", "--out", required=True, metavar="DIR",
                   help="output folder: a new or empty one, or one an earlier snnc compile wrote, "
                        "whose files (those its manifest.json lists) are replaced; other files "
                        "there are kept")
    p.add_argument("--json", action="store_true", help="print the manifest summary as JSON")
    p.set_defaults(func=cmd_compile)


def cmd_compile(args) -> int:
    from snnc.backends.verilog import generate
    from snnc.errors import SnnError

    fd = args.fifo_depth
    if fd is not None and args.target != "verilog":
        raise SnnError(None, f"--fifo-depth is for --target verilog (the {args.target} design "
                             "has no event FIFOs)", "leave it out")
    fd = 16 if fd is None else fd
    if args.part is not None:
        if args.target != "hls":
            raise SnnError(None, f"--part is for --target hls (the {args.target} design names "
                                 "its device in the model's `hardware` block)", "leave it out")
        from snnc.backends.hls.generator import check_part

        try:
            check_part(args.part)
        except ValueError as exc:
            raise SnnError(None, f"--part {exc}") from None
    from snnc.backends.verilog.generator import check_fifo_depth

    try:
        check_fifo_depth(fd)
    except ValueError:
        raise SnnError(None, f"--fifo-depth {fd}: must be a power of two from 2 to "
                             f"{ir.MAX_FIFO_DEPTH}") from None
    graph, qmodel, notes = load_quantized(args.model, args.weights, args.seed,
                                          "the hardware will not classify")
    notes += argtypes.unused_option_notes(args, graph, encodes=False)
    # what the target cannot build, before the output folder exists (a failed compile left an
    # empty folder)
    if args.target == "hls":
        from snnc.backends.hls.plan import plan_layers

        plan_layers(qmodel, args.lanes)
    else:
        from snnc.backends.verilog import check_supported

        check_supported(qmodel)
    if args.target == "hls":
        return _compile_hls(args, qmodel, notes)
    manifest = write_generated(args.out, lambda folder: generate(qmodel, folder, lanes=args.lanes,
                                                                 fifo_depth=fd))
    return _report(args, qmodel, manifest, "Verilog", " -> ",
                   manifest["files"] + manifest["memory_files"] + ["manifest.json"], notes)


def _compile_hls(args, qmodel, notes: list[str]) -> int:
    """``--target hls``: the Vitis HLS C++ project (snnc.backends.hls, docs/hls.md)."""
    from snnc.backends.hls.generator import DEFAULT_PART, generate_hls

    manifest = write_generated(args.out, lambda folder: generate_hls(
        qmodel, folder, lanes=args.lanes, part=args.part or DEFAULT_PART))
    return _report(args, qmodel, manifest, "HLS", ", ", manifest["files"] + ["manifest.json"],
                   notes)


def _report(args, qmodel, manifest: dict, label: str, sep: str, files: list[str],
            notes: list[str]) -> int:
    """Print the notes and the summary (text or ``--json``) of a generated project."""
    for note in qmodel.all_notes() + notes:
        print(f"note: {note}", file=sys.stderr)
    summary = {
        "model": qmodel.graph.name, "target": args.target, "out": args.out,
        "top": manifest["top"], "files": files,
        "layers": [{"name": l["name"], "ident": l["ident"], "neurons": l["neurons"],
                    "inputs": l["inputs"], "lanes": l["lanes"],     # sweep units: Verilog only
                    **({"sweep_units": l["sweep_units"]} if "sweep_units" in l else {})}
                   for l in manifest["layers"]],
        "weights": args.weights, "notes": qmodel.all_notes() + notes,   # as printed above
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        chain = sep.join(f"{l['name']} ({l['neurons']})" for l in summary["layers"])
        by_layer = {l["name"]: l["lanes"] for l in summary["layers"]}
        lanes = ir.describe_lanes(by_layer)
        units = {l["name"]: l["sweep_units"] for l in summary["layers"] if "sweep_units" in l}
        narrow = ir.describe_narrow_sweeps(by_layer, units)
        if narrow:
            lanes += f" (narrow sweep: {narrow})"
        print(f"{qmodel.graph.name}: {label} top '{manifest['top']}' in {args.out}: {chain}; "
              f"{lanes}")
        print(f"files: {', '.join(summary['files'])}")
    return 0


def load_quantized(model: str, weights_file: str | None, seed: int, without_weights: str):
    """``(graph, quantised model, notes)`` of a model file and its weights file, or of random
    weights (seeded; a note ending with ``without_weights`` says what that means) when there is
    none. Warnings of the model and the weights go to stderr; errors are SnnErrors."""
    from snnc.build import load
    from snnc.quantize import quantize

    loaded = load(model)
    graph = loaded.graph
    for w in loaded.warnings:
        print(w.format(), file=sys.stderr)
    notes: list[str] = []
    if weights_file:
        from snnc.weights import load_weights

        weights = load_weights(weights_file, graph)
        for w in weights.warnings:
            print(w.format(), file=sys.stderr)
    else:
        from snnc.weights import DEFAULT_SCALE, random_weights

        weights = random_weights(graph, seed=seed)
        notes.append(f"no --weights given: random weights (seed {seed}, uniform "
                     f"+-{DEFAULT_SCALE:g}/sqrt(fan_in)); {without_weights}")
    return graph, quantize(graph, weights), notes
