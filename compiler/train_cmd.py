"""``snnc train``: train a model with surrogate gradients and write its weights file.

    snnc train MODEL [--dataset digits|mnist1d|npz:PATH] [--epochs N] [--seed S] [--qat]
                     [--lr LR] [--batch-size B] [--loss L] [--optimizer O] [--tbptt K]
                     --out DIR [--json]

Writes ``DIR/weights.npz`` (docs/weights.md), ``DIR/train_log.jsonl`` (one JSON object per epoch:
loss, train and test accuracy, spike rate) and ``DIR/summary.json``, and prints the final test
accuracy of the float reference model (float64, as ``snnc simulate``) and of the bit-exact
golden model (and of the QAT model with ``--qat``).
"""
from __future__ import annotations

import json
import os
import sys

from snnc import argtypes, ir
from snnc.catalog import LOSSES, OPTIMIZERS
from snnc.argtypes import nonnegative_float, nonnegative_int, positive_float, positive_int
from snnc.outdir import make_folder

#: What `snnc train` writes into its --out folder besides ``weights.npz`` (``snnc convert``
#: refuses such a folder: its weights are the trained ones).
LOG_FILE = "train_log.jsonl"
SUMMARY_FILE = "summary.json"


def register(sub) -> None:
    p = sub.add_parser("train", help="train a model (BPTT, surrogate gradients); write its weights",
                       description="Train a model on a data set; hyper-parameters come from the "
                                   "model's train block and may be overridden here.")
    p.add_argument("model", metavar="MODEL", help=".snn model file")
    p.add_argument("--dataset", metavar="NAME", help="digits, mnist1d or npz:PATH (default: the "
                                                      "train block's dataset)")
    p.add_argument("--epochs", type=positive_int, metavar="N")
    p.add_argument("--seed", type=argtypes.seed, metavar="S")
    p.add_argument("--qat", action="store_true",
                   help="quantization-aware training: the last 10%% of the epochs (at least one) run "
                        "the golden model's integer arithmetic in the forward pass, at a tenth of "
                        "the learning rate")
    p.add_argument("--lr", type=_learning_rate, metavar="LR")
    p.add_argument("--batch-size", type=positive_int, metavar="B")
    p.add_argument("--loss", choices=LOSSES)
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--spike-reg", type=nonnegative_float, metavar="W", help="spike-rate regulariser weight")
    p.add_argument("--tbptt", type=nonnegative_int, metavar="K", help="truncated BPTT window in steps (0: full)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_train)


def cmd_train(args) -> int:
    from snnc.backends.torch.train import Progress, config_for, train
    from snnc.build import load
    from snnc.model_warnings import loss_readout_mismatch, tbptt_note
    from snnc.datasets import load_dataset, print_notes, require_samples
    from snnc.errors import SnnError
    from snnc.memory import check_training_fits
    from snnc.weights import save_weights

    log_path = os.path.join(args.out, LOG_FILE)
    weights_path = os.path.join(args.out, "weights.npz")
    summary_path = os.path.join(args.out, SUMMARY_FILE)
    # first: a run that fails, at whatever step (the model, the data set, the training), leaves no
    # older results (they were removed only after the data set loaded)
    _remove_stale((weights_path, summary_path, log_path))
    loaded = load(args.model)
    graph = loaded.graph
    overridden = args.loss is not None and graph.train is not None and args.loss != graph.train.loss
    replaced = {"train.loss"} if overridden else set()       # settings an option replaces
    if args.tbptt is not None:
        replaced.add("train.tbptt")
    for w in loaded.warnings:
        if w.setting not in replaced:       # a warning about a replaced setting no longer holds
            print(w.format(), file=sys.stderr)
    if args.tbptt is not None and 0 < graph.time.steps <= args.tbptt:
        print(f"warning: {tbptt_note(f'--tbptt {args.tbptt}', graph)}", file=sys.stderr)
    if args.loss is not None and (graph.train is None or overridden):
        found = loss_readout_mismatch(graph, args.loss)
        if found is not None:
            print(f"warning: --loss {found[0]}\n      = hint: {found[1]}", file=sys.stderr)
    name = args.dataset or (graph.train.dataset if graph.train is not None else None)
    if not name:
        raise SnnError(None, f"{args.model}: no data set: give --dataset or `dataset = ...` in the "
                             "model's train block")
    dataset = load_dataset(name, graph)
    print_notes(dataset.notes + dataset.train_notes)
    require_samples(dataset, "train")
    require_samples(dataset, "test", why="snnc train reports the test accuracy")
    cfg = config_for(graph, epochs=args.epochs, seed=args.seed, lr=args.lr,
                     batch_size=args.batch_size, loss=args.loss, optimizer=args.optimizer,
                     spike_reg=args.spike_reg, tbptt=args.tbptt, qat=args.qat or None)
    cfg.golden = _check_quantizable(graph, cfg.qat)     # before the output folder is made
    check_training_fits(graph, min(cfg.batch_size, len(dataset.x_train)), cfg.qat)
    _check_out(args.out, (log_path, weights_path, summary_path))     # before hours of training
    progress = Progress(enabled=not args.quiet and not args.json)
    try:
        result = train(graph, dataset, cfg, log_path=log_path, progress=progress)
    except BaseException:   # out of memory, diverged, interrupted: no log of a run that failed
        _discard(log_path)
        raise
    try:
        given = [f"--{opt.replace('_', '-')} {getattr(args, opt)}"
                 for opt in ("lr", "batch_size", "loss", "optimizer", "spike_reg", "tbptt")
                 if getattr(args, opt) is not None]        # the overrides of the train block
        save_weights(weights_path, graph, result.weights,
                     notes=f"snnc train --dataset {name} --epochs {cfg.epochs} --seed {cfg.seed}"
                           + (" --qat" if cfg.qat else "") + "".join(" " + g for g in given))
    except OSError as exc:
        raise SnnError(None, f"cannot write {weights_path}: {exc.strerror or exc}") from None
    summary = {
        "model": graph.name, "dataset": name, "epochs": cfg.epochs, "seed": cfg.seed,
        "qat": cfg.qat, "train_samples": int(len(dataset.x_train)),
        "test_samples": int(len(dataset.x_test)),
        "float_accuracy": result.float_accuracy, "golden_accuracy": result.golden_accuracy,
        "qat_accuracy": result.qat_accuracy, "weights": weights_path, "log": log_path,
        "final_loss": result.history[-1].loss if result.history else None,
        "spike_rate": result.history[-1].spike_rate if result.history else None,
        # the notes printed on standard error: the data set's, then the golden model's
        "notes": list(dataset.notes + dataset.train_notes) + list(result.golden_notes),
    }
    try:
        with open(summary_path, "w") as fh:
            json.dump(summary, fh, indent=2)
    except OSError as exc:
        raise SnnError(None, f"cannot write {summary_path}: {exc.strerror or exc}") from None
    for note in result.golden_notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        golden = (f"{100 * result.golden_accuracy:.2f}%" if result.golden_accuracy is not None
                  else "unavailable (float-only neuron)")
        print(f"{graph.name}: test accuracy float {100 * result.float_accuracy:.2f}%, golden "
              f"(bit-exact fixed point) {golden}"
              + (f", QAT {100 * result.qat_accuracy:.2f}%" if result.qat_accuracy is not None else "")
              + f" on {len(dataset.x_test)} test samples")
        print(f"weights: {weights_path}\nlog: {log_path}")
        if cfg.seed and any(isinstance(i.encoding, ir.Rate) for i in graph.inputs):
            # simulate's --seed defaults to 0, not to the train block's seed
            print(f"the test split's rate-coded spikes were drawn with seed {cfg.seed}: "
                  f"snnc simulate --seed {cfg.seed} reproduces these accuracies")
    return 0


def _check_quantizable(graph, qat: bool) -> bool:
    """The quantizer's errors that do not depend on the weights (a threshold beyond the membrane
    format, a decay that rounds to 1, ...) before training: they came after every epoch, and the
    trained weights were not written. A user neuron only the float semantics has (a division by a
    variable: quantize.FloatOnly) trains in float, with a warning, unless ``qat``: whether the
    golden model can evaluate the trained weights."""
    from snnc.backends.torch.qat import layer_plans
    from snnc.errors import SnnError, SnnErrors
    from snnc.quantize import FloatOnly

    try:
        layer_plans(graph)
    except SnnErrors as exc:
        if qat or not all(isinstance(e, FloatOnly) for e in exc.errors):
            raise
        for e in exc.errors:
            print(SnnError(e.loc, e.message, "only the float semantics runs this neuron: model "
                           f"'{graph.name}' trains in float, without a golden accuracy (and no "
                           "fixed-point target builds it: golden model, QAT, Verilog, HLS)",
                           severity="warning").format(), file=sys.stderr)
        return False
    return True


def _learning_rate(text: str) -> float:
    """--lr: a positive number, bounded as the train block's ``lr`` (values.learning_rate)."""
    import argparse

    from snnc.values import learning_rate

    v = positive_float(text)
    problem = learning_rate(v)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}, not {text}")
    return v


def _remove_stale(files) -> None:
    """Remove a previous run's ``files`` (weights, summary, log) from the output folder, if
    there."""
    from snnc.errors import SnnError

    for path in files:
        if os.path.isfile(path) or os.path.islink(path):
            try:
                os.remove(path)
            except OSError as exc:
                raise SnnError(None, f"cannot remove {path} of an earlier run: "
                                     f"{exc.strerror or exc}") from None


def _discard(path: str) -> None:
    """Remove what a failed run wrote: its error is the one to report, so a file that cannot be
    removed is left."""
    try:
        if os.path.isfile(path):
            os.remove(path)
    except OSError:
        pass


def _check_out(out: str, files) -> None:
    """The output folder exists or is created, is writable, and none of ``files`` in it is a
    folder: an SnnError now rather than an internal error after the training."""
    from snnc.errors import SnnError

    if os.path.exists(out) and not os.path.isdir(out):
        raise SnnError(None, f"cannot create output folder {out}: it is a file")  # as compile
    make_folder(out)
    from snnc.argtypes import special_file

    for path in files:
        if os.path.isdir(path):
            raise SnnError(None, f"cannot write {path}: it is a folder")
        kind = special_file(path)       # a named pipe waited for a reader, for ever
        if kind:
            raise SnnError(None, f"cannot write {path}: it is {kind}, not a regular file")
    if not os.access(out, os.W_OK):
        raise SnnError(None, f"cannot write into output folder {out}")
