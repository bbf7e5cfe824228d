"""``snnc convert``: turn a trained ReLU network (an ANN) into a spiking model plus its weights.

    snnc convert ANN (.snn with --weights W | .pt [--input-shape C,H,W] [--stride S] [--padding P])
                 [--to asn|if-rate] [--dataset NAME]
                 [--steps N] [--tau-beta T] [--input-tau-beta T] [--threshold θ0] [--m-f M]
                 [--tau-gamma T] [--calibrate N] [--tolerance PTS] [--input auto|rate|direct]
                 [--percentile P] [--weight-bits B] [--check N] --out DIR [--json]

The ANN (a ``.snn`` model of ``relu`` layers with its weights, or a torch ``state_dict``) is
read by :mod:`snnc.ann`, converted by :mod:`snnc.conversion` (the options and the dispatch;
:mod:`snnc.conversion_asn` and :mod:`snnc.conversion_if` say how the ASN and the IF models are
made); this module is the command: its options, the data set, the
output folder and the ``--check`` accuracies.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

from snnc import ir
from snnc.ann import Ann, load_ann
from snnc import conversion
from snnc.conversion import Options, check_options, convert
from snnc.errors import SnnError, SnnErrors
from snnc.outdir import make_folder


# ====================================================================== the command


def register(sub) -> None:
    from snnc.argtypes import (bounded, dataset, finite_float, input_file, int_list,
                               nonnegative_float, nonnegative_int, positive_float, positive_int)

    # the bounds of snnc.conversion.check_options, as option errors before any file is read
    tau_ms = bounded(positive_float, lambda ms: conversion.tau_problem(ms * 1e-3, Options.dt))

    p = sub.add_parser("convert", help="convert a trained ReLU network (ANN) to a spiking model",
                       description="Convert a trained ReLU network -- a .snn model whose layers use "
                                   "relu (with --weights) or a torch state_dict (.pt) of an "
                                   "nn.Sequential of Conv2d/Linear/ReLU -- to adaptive spiking neurons "
                                   "(ASN, default) or rate-coded IF neurons; writes DIR/model.snn "
                                   "and DIR/weights.npz.")
    p.add_argument("ann", metavar="ANN", type=input_file,
                   help=".snn model of relu layers, or a .pt state_dict")
    p.add_argument("--weights", metavar="W", type=input_file,
                   help="the ANN's weights file (for a .snn model)")
    p.add_argument("--input-shape", type=int_list(1, "positive"), metavar="C,H,W",
                   help="a .pt state_dict with Conv2d modules: the input's shape (channels, "
                        "height, width); a state_dict does not hold it")
    p.add_argument("--stride", type=int_list(1, "positive"), default=(), metavar="S[,S...]",
                   help="a .pt state_dict: each Conv2d's stride, one value for all or one per "
                        "Conv2d (default 1, as nn.Conv2d's)")
    p.add_argument("--padding", type=int_list(0, "0 or more"), default=(), metavar="P[,P...]",
                   help="a .pt state_dict: each Conv2d's zero padding, one value for all or one "
                        "per Conv2d (default 0, as nn.Conv2d's)")
    p.add_argument("--to", choices=("asn", "if-rate"), default="asn")
    p.add_argument("--dataset", metavar="NAME", type=dataset,
                   help="data for the formats / normalisation and the accuracy check: digits, "
                        "mnist1d or npz:PATH (default: the ANN's train block's)")
    p.add_argument("--steps", type=bounded(positive_int, conversion.steps_problem), metavar="N",
                   help="time steps (default 60 for asn, 100 for if-rate)")
    p.add_argument("--tau-beta", type=tau_ms, default=Options.tau_beta * 1e3, metavar="MS",
                   help="ASN decoding kernel time constant in ms, also the self-prediction's "
                        "(default 30; longer: fewer spikes to hold a value, slower biases)")
    p.add_argument("--input-tau-beta", type=tau_ms, metavar="MS",
                   help="ASN: the first layer's kernel for the direct input in ms (default 5, or "
                        "--tau-beta if shorter; its self-prediction keeps --tau-beta, its "
                        "receivers' kernel). The input enters every step scaled by 1 - b, so the "
                        "first layer reaches W x as 1 - b^t: with 20 ms 5%% after one step, with "
                        "5 ms 18%%; shorter decides sooner, with more onset spikes")
    p.add_argument("--threshold", type=bounded(positive_float, conversion.threshold_problem),
                   metavar="THETA0",
                   help="ASN resting threshold of every layer (default: calibrated per layer "
                        "from the data, see --calibrate; 0.5 without data)")
    p.add_argument("--m-f", type=bounded(nonnegative_float, conversion.m_f_problem),
                   default=Options.m_f, metavar="M",
                   help="ASN multiplicative adaptation factor (default 4: with --tau-gamma 2 "
                        "each spike at the onset makes the next one about 3.4x higher, so a "
                        "neuron reaches its value in few spikes)")
    p.add_argument("--tau-gamma", type=tau_ms, default=Options.tau_gamma * 1e3, metavar="MS",
                   help="ASN threshold adaptation time constant in ms (default 2: the raised "
                        "threshold lasts through the onset's burst only, the steady code keeps "
                        "the resting threshold)")
    p.add_argument("--calibrate", type=nonnegative_int, default=2000, metavar="N",
                   help="ASN threshold calibration: per hidden layer theta0 = its 99th-percentile "
                        "positive activation on the training data / d, with d the smallest of 2.83, "
                        "4, 5.66, ... 64 (steps of sqrt 2) whose golden model is within "
                        "--tolerance points of the ANN's accuracy on the first N training samples "
                        "and agrees with the ANN on --agreement percent of N mixtures of two "
                        "training samples (nearer the decision boundaries); the next layer's bias "
                        "compensates the hidden layer's mean coding error; the output layer, read "
                        "by its membrane, is kept silent. 0: d = 5.66, no simulation and no "
                        "bias correction (default "
                        "2000; --threshold overrides)")
    p.add_argument("--tolerance", type=bounded(nonnegative_float, conversion.tolerance_problem),
                   default=0.5, metavar="PTS",
                   help="accuracy points the calibrated ASN may lose on the calibration samples "
                        "(default 0.5)")
    p.add_argument("--agreement", type=bounded(finite_float, conversion.agreement_problem),
                   default=98.0, metavar="PCT",
                   help="percentage of mixed training samples on which the calibrated ASN must "
                        "predict what the ANN does (default 98: the test accuracy can only differ "
                        "on the samples where the two disagree)")
    p.add_argument("--input", choices=("auto", "rate", "direct"), default="auto",
                   help="if-rate input encoding: auto (default) = rate for data in [0, inf), "
                        "direct (analog current) when the data has negative values, which rate "
                        "coding would clip to 0")
    p.add_argument("--no-hold", action="store_true",
                   help="send a direct input's value at every step (`direct`), not its changes "
                        "(`direct(hold = true)`, the default: the same states and spikes, but a "
                        "static input costs its synaptic operations once)")
    p.add_argument("--percentile", type=bounded(finite_float, conversion.percentile_problem),
                   default=99.9, metavar="P",
                   help="IF weight normalisation percentile (default 99.9)")
    p.add_argument("--weight-bits", type=bounded(positive_int, conversion.bits_problem),
                   default=12, metavar="B",
                   help="width of the weight format (default 12)")
    p.add_argument("--check", type=nonnegative_int, default=0, metavar="N",
                   help="simulate the first N test samples with the ANN and the golden model of "
                        "the result and print both accuracies (default 0: none)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_convert, _convert_parser=p)


#: Options that only one conversion target reads (argparse destinations).
TARGET_OPTIONS = {"asn": ("tau_beta", "input_tau_beta", "threshold", "m_f", "tau_gamma",
                          "calibrate", "tolerance", "agreement"),
                  "if-rate": ("input", "percentile")}


def cmd_convert(args) -> int:
    from snnc.build import load_text

    parser = args._convert_parser
    for target, dests in TARGET_OPTIONS.items():
        if target == args.to:
            continue
        given = [d for d in dests if getattr(args, d) != parser.get_default(d)]
        if given:
            parser.error(f"{', '.join('--' + d.replace('_', '-') for d in given)}: "
                         f"option{'s' if len(given) > 1 else ''} of --to {target}, not --to "
                         f"{args.to}")
    if args.to == "asn":
        # calibration options that a fixed --threshold (or --calibrate 0) leaves unread
        calib = [d for d in ("calibrate", "tolerance", "agreement")
                 if getattr(args, d) != parser.get_default(d)]
        if args.threshold is not None and calib:
            parser.error(f"{', '.join('--' + d for d in calib)}: calibration "
                         f"option{'s' if len(calib) > 1 else ''}, which --threshold (every "
                         "layer's threshold, not calibrated) leaves unused")
        unread = [d for d in calib if d != "calibrate"]
        if args.calibrate == 0 and unread:
            parser.error(f"{', '.join('--' + d for d in unread)}: calibration "
                         f"option{'s' if len(unread) > 1 else ''}, which --calibrate 0 (no "
                         "simulation) leaves unused")
    model_path = os.path.join(args.out, "model.snn")
    weights_path = os.path.join(args.out, "weights.npz")
    for written in (model_path, weights_path):
        for name, given in (("the ANN", args.ann), ("--weights", args.weights)):
            if given and _same_file(written, given):
                raise SnnError(None, f"--out {args.out} would overwrite {name} '{given}' with the "
                                     f"converted model's {os.path.basename(written)}",
                               "write the converted model to another folder")
    from snnc.train_cmd import LOG_FILE, SUMMARY_FILE

    trained = [n for n in (LOG_FILE, SUMMARY_FILE) if os.path.isfile(os.path.join(args.out, n))]
    if trained:          # its weights.npz are the trained ones: they would be replaced
        raise SnnError(None, f"--out {args.out} is a folder snnc train wrote (it holds "
                             f"{' and '.join(trained)}): the converted model's weights.npz would "
                             "replace the trained weights",
                       "write the converted model to another folder")
    opts = Options(to=args.to, steps=args.steps, tau_beta=args.tau_beta * 1e-3,
                   input_tau_beta=(args.input_tau_beta * 1e-3
                                   if args.input_tau_beta is not None else None),
                   threshold=args.threshold, m_f=args.m_f, tau_gamma=args.tau_gamma * 1e-3,
                   percentile=args.percentile, weight_bits=args.weight_bits,
                   calibrate=args.calibrate, tolerance=args.tolerance,
                   agreement=args.agreement, input=args.input, hold=not args.no_hold)
    check_options(opts)                 # the option types checked these bounds already
    ann, graph = load_ann(args.ann, args.weights, args.input_shape, args.stride, args.padding)
    for w in ann.warnings:          # the ANN's model and weights file (as `snnc simulate` says)
        print(w.format(), file=sys.stderr)
    dataset_name = args.dataset or ann.dataset
    data = None
    if dataset_name:
        from snnc.datasets import require_samples

        data = _dataset(dataset_name, ann)
        require_samples(data, "train", why="the conversion measures its activations")
        if args.check:
            require_samples(data, "test", why="--check measures the test accuracy; --check 0 "
                                              "leaves it out")
    elif args.to == "if-rate":
        raise SnnError(None, "--to if-rate needs a data set for the weight normalisation",
                       "pass --dataset NAME")
    elif args.check:
        raise SnnError(None, f"--check {args.check} measures the test accuracy and needs a data "
                             "set", "pass --dataset NAME")
    elif args.threshold is None:
        no_data = ("no data set: the thresholds are not calibrated (every hidden layer's is 0.5) "
                   "and the input format assumes values in [-1, 1]; pass --dataset NAME to "
                   "calibrate them")
        print(f"note: {no_data}", file=sys.stderr)
    if data is not None:
        ann.dataset = ann.dataset or dataset_name
    result = convert(ann, opts, data.x_train if data is not None else None,
                     data.y_train if data is not None else None)
    if result.info.get("warning"):
        print(f"snnc convert: {result.info['warning']}", file=sys.stderr)
    for note in result.info.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    from snnc.quantize import quantize

    snn = load_text(result.text, model_path).graph      # the result must check like any model
    qmodel = quantize(snn, result.weights)              # its golden model's (warnings, --check)
    said = _format_warnings(qmodel)
    for w in said:
        print(w.format(), file=sys.stderr)
    warnings = [*ann.warnings, *said]
    _write_result(args.out, model_path, weights_path, result.text, snn, result.weights,
                  notes=f"converted from {os.path.basename(args.ann)} by snnc convert --to {args.to}")
    # as every command's JSON: the model's name, its file (and here the weights written)
    summary = {"model": snn.name, "file": model_path, "weights": weights_path, **result.info,
               "warnings": [w.to_json() for w in warnings]}
    # the notes printed (every conversion's JSON has the key, an empty list too)
    summary["notes"] = ([no_data] if data is None and args.threshold is None else []) + \
        list(summary.get("notes", []))
    if args.check and data is not None:
        summary.update(check_accuracy(ann, qmodel, data, args.check))
        warning = saturation_warning(summary["saturation"], summary["samples"])
        if warning:
            summary["saturation_warning"] = warning
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{snn.name}: {args.to} model written to {model_path}, weights to {weights_path}")
        if "ann_accuracy" in summary:
            print(f"accuracy on {summary['samples']} test samples: ANN "
                  f"{100 * summary['ann_accuracy']:.2f}%, converted (golden) "
                  f"{100 * summary['snn_accuracy']:.2f}%, {summary['spikes_per_sample']:.1f} "
                  "spikes per sample")
    if summary.get("saturation_warning"):
        print(f"snnc convert: warning: {summary['saturation_warning']}", file=sys.stderr)
    return 0


def _format_warnings(qmodel) -> list[SnnError]:
    """A warning per note of the quantizer on the converted model ``qmodel`` (weights clipped to
    their format or all rounded to 0, a constant far from its value), which the golden model, the
    hardware and `snnc verify` would then use without a word here (``--weight-bits 2``)."""
    return [SnnError(None, f"the converted model's fixed-point formats change it: {note}",
                     "--weight-bits sets the weights' width; `snnc simulate --backend golden` "
                     "shows the notes per layer", severity="warning")
            for note in qmodel.all_notes()]


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:                     # either does not exist (or cannot be looked at)
        return False


def _write_result(out: str, model_path: str, weights_path: str, text: str, snn: ir.Graph,
                  weights: dict, notes: str) -> None:
    """Write the model and its weights as a pair: a failure leaves the folder's previous pair
    (a new model beside old weights would run with the wrong weights), and no folder where the
    command created it."""
    import shutil

    from snnc.weights import save_weights

    created = not os.path.isdir(out)
    make_folder(out)
    tmp_model = f"{model_path}.tmp{os.getpid()}"
    try:
        try:
            with open(tmp_model, "w") as f:
                f.write(text)
            save_weights(weights_path, snn, weights, notes=notes)
            os.replace(tmp_model, model_path)
        finally:
            if os.path.exists(tmp_model):
                os.remove(tmp_model)
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise


def _dataset(name: str, ann: Ann):
    """The data set shaped for the ANN's input."""
    from snnc.build import load_text
    from snnc.datasets import load_dataset

    shape = ", ".join(map(str, ann.input_shape))
    classes = ann.layers[-1].units
    # a model with the ANN's input and output names, so that the data set's errors name them
    inp, out = ann.input_name, ann.layers[-1].name
    flat = "flat_" + inp + ("_" if "flat_" + inp == out else "")
    probe = load_text(f"model probe\ntime {{ dt = 1 ms; steps = 1 }}\n"
                      f"input {inp}[{shape}] = direct\nlayer {flat} = flatten({inp})\n"
                      f"layer {out} = dense({flat}, {classes}) with relu\n"
                      f"output {out} = membrane\n", "<convert>").graph
    try:
        data = load_dataset(name, probe)
    except (SnnError, SnnErrors) as exc:      # located in the probe's text: no location
        errors = exc.errors if isinstance(exc, SnnErrors) else [exc]
        raise SnnErrors([SnnError(None, e.message, e.hint) for e in errors]) from None
    got = tuple(np.shape(data.x_train)[1:])
    if got != tuple(ann.input_shape):
        raise SnnError(None, f"the samples of data set '{name}' are sequences "
                             f"{list(got)} (steps x input); snnc convert runs the ANN on single "
                             f"samples [{shape}] to calibrate and check the conversion",
                       "give a data set of single samples (a converted model can still be "
                       "simulated on sequences: snnc simulate)")
    return data


def check_accuracy(ann: Ann, qmodel, data, n: int) -> dict:
    """Test accuracy of the ANN (float) and of the converted model's golden model (``qmodel``,
    quantized) on ``n`` samples."""
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.memory import chunks

    x, y = data.x_test[:n], data.y_test[:n]
    ann_acc = float(np.mean(ann.predict(x) == y))
    correct, spikes = 0, 0
    saturation: dict[str, dict[str, int]] = {}
    for c in chunks(len(x), qmodel.graph, most=128):
        res = simulate_golden(qmodel, x[c], sample_ids=np.arange(c.start, c.stop))
        correct += int((res.predictions == y[c]).sum())
        spikes += res.totals.spikes
        for name, st in res.stats.items():
            for state, count in st.saturation.items():
                if count:
                    node = saturation.setdefault(name, {})
                    node[state] = node.get(state, 0) + int(count)
    return {"samples": int(len(x)), "ann_accuracy": ann_acc, "snn_accuracy": correct / max(1, len(x)),
            "spikes_per_sample": spikes / max(1, len(x)), "saturation": saturation}


def saturation_warning(saturation: dict, samples: int) -> str | None:
    """The warning of a checked conversion whose golden model clamped (None when it did not)."""
    if not saturation:
        return None
    total = sum(sum(v.values()) for v in saturation.values())
    where = "; ".join(f"{n}: " + ", ".join(f"{k} {v}" for k, v in sorted(s.items()))
                      for n, s in saturation.items())
    return (f"the converted model's golden model saturated {total} times on the {samples} "
            f"checked samples ({where}); the accuracy above includes the clamps (docs/"
            "semantics.md: a state is held at its format's bound)")


if __name__ == "__main__":  # pragma: no cover
    from snnc.cli import main

    sys.exit(main(["convert", *sys.argv[1:]]))
