"""``snnc demo``: the whole flow in one command, from a model file to hardware proven bit-exact.

    snnc demo [MODEL] [--epochs N] [--samples N] [--lanes P] [--out DIR] [--json]

1. trains the model (default ``examples/digits.snn``) on its train block's data set with
   quantization-aware training (``--epochs`` shortens it; default ``DEFAULT_EPOCHS``);
2. reports the float and the bit-exact golden test accuracy;
3. compiles it to Verilog (``DIR/verilog``: ``snn_top.v``, memory files, manifest);
4. co-simulates the first N test images on Verilator against the golden model and prints the
   agreement, the hardware's accuracy, spikes and synaptic operations per image, cycles per
   inference and the latency at the hardware block's clock (50 MHz when it has none).

Exit status 0 when the hardware matches the golden model bit for bit, 1 when not, 2 on errors in
the input.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from snnc import argtypes, ir
from snnc.argtypes import positive_int
from snnc.outdir import make_folder

DEFAULT_MODEL = "examples/digits.snn"
DEFAULT_EPOCHS = 40
DEFAULT_SAMPLES = 100
DEFAULT_OUT = "demo_out"


def register(sub) -> None:
    p = sub.add_parser("demo", help="train digits with QAT, compile to Verilog, co-simulate it",
                       description="Train a model with quantization-aware training, compile it "
                                   "to Verilog and prove the hardware bit-exact on test images "
                                   "with Verilator.")
    p.add_argument("model", nargs="?", metavar="MODEL",
                   help=f".snn model file (default {DEFAULT_MODEL})")
    p.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS, metavar="N",
                   help=f"training epochs (default {DEFAULT_EPOCHS}; the last 10%% with QAT)")
    p.add_argument("--samples", type=positive_int, default=DEFAULT_SAMPLES, metavar="N",
                   help=f"test images to co-simulate (default {DEFAULT_SAMPLES})")
    p.add_argument("--lanes", type=argtypes.lanes, metavar="P",
                   help="lanes of the Verilog design's layers without their own `lanes` "
                        "(default: the hardware block's, or 4)")
    p.add_argument("--seed", type=argtypes.seed, metavar="S", help="training and encoder seed (default: "
                                                         "the train block's)")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"output folder: weights, Verilog, co-simulation (default {DEFAULT_OUT})")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no training progress")
    p.set_defaults(func=cmd_demo)


def _model_path(arg: str | None) -> str:
    from snnc.errors import SnnError

    if arg:
        return arg
    if os.path.exists(DEFAULT_MODEL):
        return DEFAULT_MODEL
    repo = Path(__file__).resolve().parent.parent / DEFAULT_MODEL     # a source checkout
    if repo.exists():
        return str(repo)
    raise SnnError(None, f"no model given and {DEFAULT_MODEL} not found",
                   "run from the snnc checkout or give the model file: snnc demo MODEL")


def cmd_demo(args) -> int:
    from snnc.backends.torch.train import Progress, config_for, train
    from snnc.backends.verilog import generate
    from snnc.build import load
    from snnc.datasets import load_dataset
    from snnc.errors import SnnError
    from snnc.quantize import quantize
    from snnc.verify_cmd import run_hardware, summarize, summary_text
    from snnc.weights import random_weights, save_weights

    t0 = time.perf_counter()
    path = _model_path(args.model)
    loaded = load(path)
    graph = loaded.graph
    for w in loaded.warnings:
        print(w.format(), file=sys.stderr)
    name = graph.train.dataset if graph.train is not None else None
    if not name:
        raise SnnError(None, f"{path}: the demo trains on the train block's data set; this model "
                             "has none", "add `dataset = digits` to its train block")
    from snnc.backends.verilog import check_supported
    from snnc.backends.verilog.sim import toolchain_problem

    # what the Verilog backend cannot build does not depend on the weights' values: say so now,
    # not after minutes of training (and before looking for Verilator)
    check_supported(quantize(graph, random_weights(graph, 0)))
    problem = toolchain_problem()
    if problem:
        raise SnnError(None, f"the demo co-simulates on Verilator: {problem}")
    make_folder(args.out)
    say = (lambda *a: None) if args.json else print            # noqa: E731
    dataset = load_dataset(name, graph)
    cfg = config_for(graph, epochs=args.epochs, seed=args.seed, qat=True)
    say(f"[1/4] training '{graph.name}' ({path}) on '{name}': {len(dataset.x_train)} training "
        f"images, {cfg.epochs} epochs, quantization-aware from epoch "
        f"{cfg.epochs - max(1, cfg.epochs // 10) + 1}")
    sys.stdout.flush()
    from snnc.train_cmd import LOG_FILE

    result = train(graph, dataset, cfg, log_path=os.path.join(args.out, LOG_FILE),
                   progress=Progress(enabled=not args.quiet and not args.json))
    weights_path = os.path.join(args.out, "weights.npz")
    save_weights(weights_path, graph, result.weights,
                 notes=f"snnc demo --epochs {cfg.epochs} --seed {cfg.seed} (QAT)")
    t_train = time.perf_counter() - t0
    say(f"      test accuracy on {len(dataset.x_test)} images: float "
        f"{100 * result.float_accuracy:.2f}%, golden (bit-exact fixed point) "
        f"{100 * result.golden_accuracy:.2f}% ({t_train:.0f} s); weights: {weights_path}")

    qmodel = quantize(graph, result.weights)
    check_supported(qmodel)
    vdir = os.path.join(args.out, "verilog")
    manifest = generate(qmodel, vdir, lanes=args.lanes)
    lanes = ir.describe_lanes({l["name"]: l["lanes"] for l in manifest["layers"]})
    chain = " -> ".join(f"{l['name']} ({l['neurons']})" for l in manifest["layers"])
    say(f"[2/4] Verilog in {vdir}: {manifest['top']} = {manifest['input']['name']} "
        f"({manifest['input']['size']}) -> {chain}, {lanes}")

    k = min(args.samples, len(dataset.x_test))
    import numpy as np

    x, labels, ids = dataset.x_test[:k], dataset.y_test[:k], np.arange(k)
    say(f"[3/4] co-simulating {k} test images on Verilator (first build of a design: about a "
        "minute)")
    sys.stdout.flush()
    t1 = time.perf_counter()
    run, comp, info = run_hardware("verilog", qmodel, x, ids, cfg.seed, lanes=args.lanes,
                                   work_dir=os.path.join(args.out, "cosim"))
    t_sim = time.perf_counter() - t1
    s = summarize(graph, qmodel, run, comp, info, labels, "verilog", args.lanes)
    # the data set's and the golden model's notes (clipped weights, saturation on the test split)
    notes = list(dict.fromkeys(list(dataset.notes + dataset.train_notes)
                               + list(result.golden_notes)))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    s.update({"notes": notes, "file": path, "dataset": name, "epochs": cfg.epochs, "seed": cfg.seed,
              "out": args.out, "weights": weights_path, "verilog": vdir,
              "float_accuracy": result.float_accuracy,
              "golden_test_accuracy": result.golden_accuracy,
              "test_images": int(len(dataset.x_test)),
              "seconds": {"train": t_train, "cosim": t_sim,
                          "total": time.perf_counter() - t0}})
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        print(f"[4/4] results on {k} test images (encoder seed {cfg.seed}, {t_sim:.0f} s):")
        for line in summary_text(s):
            print("      " + line)
        print("PASS: the Verilog is bit-exact with the golden model" if comp.match else
              "FAIL: the Verilog differs from the golden model")
    return 0 if comp.match else 1
