#!/usr/bin/env python3
"""Reproduce the ASN results of docs/results_asn.md: a ReLU network converted to adaptive spiking
neurons (ASN, sigma-delta coding) against the same network converted to rate-coded IF neurons.

    python scripts/reproduce_asn.py                       # digits (3 seeds) + mnist1d (2 seeds)
    python scripts/reproduce_asn.py --seeds 0 --datasets digits --no-write
    python scripts/reproduce_asn.py --from-json docs/results_asn.json   # re-render the .md only

For every data set and seed:

1. ``snnc train`` the ReLU ANN (examples/digits_relu.snn; for mnist1d the same 40-256-10 network,
   written by this script) -- its float test accuracy is the ANN's;
2. ``snnc convert --to asn`` (60 steps, the defaults: calibrated per-layer thresholds, the
   first layer decoding the direct input with the 5 ms ``--input-tau-beta``) and
   ``snnc convert --to if-rate --steps 200`` (``--input auto``: direct input for signed data);
   where that gives a ``rate`` input (digits), IF is converted a second time with ``--input
   direct``, the ASN's input, and the spike comparison takes whichever IF needs fewer spikes;
3. ``snnc report MODEL --weights W --efficiency --json --plots DIR`` on the converted models
   (golden, bit-exact integer model, the whole test split): accuracy, spikes, SOPs, the equivalent
   ANN's MACs, steps to a stable decision, the energy estimate, accelerator cycles;
4. one recorded golden run per model (``curves``): accuracy and decision time by step for every
   readout -- ASN ``membrane``; IF integrated input (the same kind of readout: the output layer's
   summed input current, no output spike needed), snnc ``count``, spike counts alone -- and the
   hidden layers' spikes (and distinct spiking neurons) by step; from them the spikes each model
   needs to reach a given accuracy
   (a model run for k steps predicts what the running prediction says after k steps, so one long
   run gives every shorter run), at the fewest steps reaching it (fair to both: each method gets
   its own best run length);
5. the trained ASN (scripts/asn_trained.py): the converted ASN model's text with its weights
   learnt from scratch by ``snnc train --spike-reg W`` over a short run (digits 5 steps,
   mnist1d 10), W chosen on a validation split cut from the training split, measured like the
   others.

Every command runs in a subprocess as a user would run it; the results go to
docs/results_asn.json and docs/results_asn.md (the Markdown rendered by scripts/asn_render.py).
About 7-11 minutes of wall time on 2 cores shared with other work.
"""
from __future__ import annotations

import argparse
import atexit
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from snnc.argtypes import out_folder, outputs_in

import asn_trained  # noqa: E402  (scripts/, beside this file)
from asn_render import ASN_STEPS, IF_STEPS, discussion, render  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MD = os.path.join(ROOT, "docs", "results_asn.md")
RAW = os.path.join(ROOT, "docs", "results_asn.json")

MNIST1D_RELU = """\
# The digits ReLU network's recipe on MNIST-1D (40 samples per signal, values about -5..5):
# 40 -> 256 ReLU -> 10, the logits on the membrane readout. Written by scripts/reproduce_asn.py.
model mnist1d_relu
time { dt = 1 ms; steps = 1 }
input signal[40] = direct(scale = 1.0)
layer hidden = dense(signal, 256, bias = true) with relu
layer out = dense(hidden, 10, bias = true) with relu
output out = membrane
train { loss = cross_entropy; optimizer = adam; lr = 3e-3; epochs = 40; batch_size = 64; dataset = mnist1d }
hardware { weights = fixed<12,8>; state = fixed<16,8>; inputs = fixed<12,8> }
"""

DATASETS = {"digits": "examples/digits_relu.snn", "mnist1d": None}

def snnc(*args: str) -> dict:
    cmd = [sys.executable, "-m", "snnc", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    return json.loads(p.stdout)


# ====================================================================== measuring


def steps_to_reach(acc: list[float], target: float) -> tuple[int | None, int | None]:
    """(first k with accuracy >= target, first k from which it stays >= target), 1-based."""
    first = next((k + 1 for k, a in enumerate(acc) if a >= target - 1e-12), None)
    stay = None
    for k in range(len(acc), 0, -1):
        if acc[k - 1] >= target - 1e-12:
            stay = k
        else:
            break
    return first, stay


def best_if(row: dict, default_input: str) -> dict:
    """Of the IF networks read by their integrated input (the default input and, where it is
    rate coding, the direct one), the one that needs the fewest spikes to reach the target, per
    criterion (first / stable); ``input`` names it."""
    best = {}
    for crit in ("first", "stable"):
        cands = [(row[k][f"spikes_{crit}"], k) for k in ("if_input", "if_direct_input")
                 if k in row and row[k][f"spikes_{crit}"] is not None]
        spikes, key = min(cands) if cands else (None, None)
        best[f"{crit}_step"] = row[key][f"{crit}_step"] if key else None
        best[f"spikes_{crit}"] = spikes
        best[f"{crit}_input"] = (None if key is None else
                                 "direct" if key == "if_direct_input" else default_input)
    return best


def cumulative(values: list[float]) -> list[float]:
    return np.cumsum(values).tolist()


def curves(model: str, weights: str, dataset: str, predictions_at: int | None = None) -> dict:
    """Per readout, the accuracy after every step and the steps to a stable decision, and the
    cumulative hidden-layer spikes (output layer excluded) per inference, from one recorded golden
    run on the whole test split.

    Readouts: ``declared`` (the model's own: ASN ``membrane``, IF snnc ``count`` with the membrane
    tie-break); for a ``count`` model also ``spikes_only`` (counts alone, ties undecided) and
    ``input`` (the output layer's integrated input current, ``count * theta + V`` with subtractive
    reset: the IF analogue of the ASN's membrane readout, which needs no output spike).
    ``predictions`` (not kept in the JSON): the declared readout's test predictions after
    ``predictions_at`` steps (default: all)."""
    from snnc.backends.golden.efficiency import decision_steps, running_predictions
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.build import load
    from snnc.datasets import load_dataset
    from snnc.quantize import quantize
    from snnc.weights import load_weights

    graph = load(model).graph
    q = quantize(graph, load_weights(weights, graph))
    data = load_dataset(dataset, graph)
    out = graph.outputs[0]
    hidden = [l.name for l in graph.layers if l.name != out.source and type(l).__name__ != "Flatten"]
    readouts = ["declared"] + (["spikes_only", "input"] if out.readout == "count" else [])
    frac = graph.hardware.membrane.frac if graph.hardware is not None else 8
    theta_q = 2 ** frac                      # the IF threshold 1.0 in membrane units
    steps = graph.time.steps
    correct = {k: np.zeros(steps, dtype=np.int64) for k in readouts}
    decisions = {k: [] for k in readouts}
    short = {k: [] for k in readouts}       # decision steps of a run of ASN_STEPS steps
    final = []                              # the declared readout's prediction after all steps
    hidden_spikes = np.zeros(steps)
    hidden_active = np.zeros(steps)         # distinct hidden neurons that have spiked by step k
    for start in range(0, len(data.x_test), 128):
        xb, yb = data.x_test[start:start + 128], data.y_test[start:start + 128]
        res = simulate_golden(q, xb, sample_ids=np.arange(start, start + len(xb)), record=True)
        for name in hidden:
            s = np.asarray(res.spikes[name]).reshape(steps, len(xb), -1) != 0
            hidden_spikes += s.sum(axis=(1, 2))
            hidden_active += np.logical_or.accumulate(s, axis=0).sum(axis=(1, 2))
        for k in readouts:
            if k == "input":
                s = np.asarray(res.spikes[out.source]).reshape(steps, len(xb), -1) != 0
                v = np.asarray(res.membranes[out.source]).reshape(steps, len(xb), -1)
                preds = np.argmax(np.cumsum(s, axis=0) * theta_q + v, axis=2)
            else:
                preds = running_predictions(res, graph, spikes_only=(k == "spikes_only"))
            if k == "declared":
                final.append(preds[(predictions_at or steps) - 1])
            correct[k] += (preds == yb[None]).sum(axis=1)
            decisions[k].append(decision_steps(preds))
            short[k].append(decision_steps(preds[:min(steps, ASN_STEPS)]))
    n = len(data.x_test)
    result = {"hidden_cumulative_spikes": np.cumsum(hidden_spikes / n).tolist(),
              "hidden_active_neurons": (hidden_active / n).tolist(),
              "predictions": np.concatenate(final)}     # not kept in the JSON (run_one)
    for k in readouts:
        dec = np.concatenate(decisions[k])
        result[k] = {"accuracy_by_step": (correct[k] / n).tolist(),
                     "mean_decision_steps": float(dec.mean()),
                     "median_decision_steps": float(np.median(dec)),
                     "mean_decision_steps_60": float(np.concatenate(short[k]).mean()),
                     "accuracy": float(correct[k][-1] / n)}
    return result


def run_one(name: str, model: str, seed: int, work: str, quiet: bool) -> dict:
    d = os.path.join(work, f"{name}-seed{seed}")
    t0 = time.time()
    tr = snnc("train", model, "--seed", str(seed), "--out", os.path.join(d, "relu"), "--json")
    t_train = time.time() - t0
    w = tr["weights"]
    asn = snnc("convert", model, "--weights", w, "--to", "asn", "--steps", str(ASN_STEPS),
               "--dataset", name, "--out", os.path.join(d, "asn"), "--json")
    ifr = snnc("convert", model, "--weights", w, "--to", "if-rate", "--steps", str(IF_STEPS),
               "--dataset", name, "--out", os.path.join(d, "if"), "--json")
    # The ASN takes the values as a direct (analog) input; where IF's default is rate coding
    # (data in [0, 1]), IF is also converted with the same direct input, and the comparison takes
    # whichever IF needs fewer spikes.
    ifd = None
    if ifr.get("input", "rate") != "direct":
        ifd = snnc("convert", model, "--weights", w, "--to", "if-rate", "--steps", str(IF_STEPS),
                   "--input", "direct", "--dataset", name, "--out", os.path.join(d, "if_direct"),
                   "--json")
    keys = ("asn", "if") + (("if_direct",) if ifd is not None else ())
    reports = {}
    for key in keys:
        m = os.path.join(d, key, "model.snn")
        r = snnc("report", m, "--weights", os.path.join(d, key, "weights.npz"), "--efficiency",
                 "--dataset", name, "--plots", os.path.join(d, key, "plots"), "--json")
        reports[key] = r["efficiency"]
    cur = {key: curves(os.path.join(d, key, "model.snn"), os.path.join(d, key, "weights.npz"),
                       name) for key in keys}
    ann = tr["float_accuracy"]
    # the ANN's own (float) predictions on the test split: where the ASN differs from them is
    # the only place its accuracy can differ
    from snnc.ann import load_ann
    from snnc.build import load as load_model
    from snnc.convert_cmd import _dataset

    net, _ = load_ann(model, w)
    ann_pred = net.predict(_dataset(name, net).x_test)
    agree = {key: float(np.mean(cur[key].pop("predictions") == ann_pred)) for key in keys}
    trained = None
    if name in asn_trained.RECIPE:
        trained, pred = asn_trained.run(name, os.path.join(d, "asn", "model.snn"), seed,
                                        os.path.join(d, "asn_trained"), snnc, curves)
        trained["test_agreement"] = float(np.mean(pred == ann_pred))
    out = {"dataset": name, "seed": seed, "ann_accuracy": ann,
           "ann_golden_accuracy": tr["golden_accuracy"], "train_seconds": round(t_train, 1),
           "asn_thresholds": asn["thresholds"], "asn_divisor": asn.get("divisor"),
           "asn_input_tau_beta_ms": asn.get("input_tau_beta_ms"),
           "asn_calibration": {k: v for k, v in asn.get("calibration", {}).items()},
           "asn_test_agreement": agree["asn"],
           "if_lambdas": ifr["lambdas"], "if_input": ifr.get("input", "rate"),
           "if_warning": ifr.get("warning")}
    for key, r in reports.items():
        dec = r["decision"]
        graph = load_model(os.path.join(d, key, "model.snn")).graph
        out[key] = {
            "steps": r["steps"], "accuracy": r["accuracy"],
            "input_held": any(graph.held(i.name) for i in graph.inputs),
            "spikes_per_inference": r["spikes_per_inference"],
            "sops_per_inference": r["sops_per_inference"],
            "input_sops_per_inference": r["input_sops_per_inference"],
            "graded_sops_per_inference": r["graded_sops_per_inference"],
            "ann_macs_per_inference": r["ann_macs_per_inference"],
            "layers": [{k: l[k] for k in ("name", "spikes_per_inference", "sops_per_inference")}
                       for l in r["layers"]],
            "mean_decision_steps": dec["mean_steps"], "median_decision_steps": dec["median_steps"],
            "accuracy_by_step": dec["accuracy_by_step"],
            "cumulative_spikes": cumulative(dec["spikes_by_step_per_inference"]),
            "energy": {k: r["energy"][k] for k in ("snn_nj_per_inference",
                                                   "snn_add_only_nj_per_inference",
                                                   "ann_nj_per_inference", "ann_over_snn")},
            "cycles": {k: r["cycles"][k] for k in ("mean_per_inference", "latency_us", "lanes",
                                                   "clock_mhz")},
        }
    for key in keys:
        out[key]["curves"] = cur[key]
    if trained is not None:
        out["asn_trained"] = trained
    if ifd is not None:
        out["if_direct"]["lambdas"] = ifd["lambdas"]
    # spikes to reach a given accuracy. Fair pairing: both read the output layer's accumulated
    # input (ASN membrane; IF integrated input current), neither needs an output spike, so the
    # spikes compared are the hidden layers'; and, as the papers do, IF read by spike counts
    # alone with all its spikes (hidden and output).
    levels = {"ann-2": ann - 0.02, "ann-1": ann - 0.01, "ann-0.5": ann - 0.005, "ann": ann}
    eq = {}
    for label, target in levels.items():
        row = {"target": target}
        for key, acc, spikes in (("asn", cur["asn"]["declared"]["accuracy_by_step"],
                                  cur["asn"]["hidden_cumulative_spikes"]),
                                 ("if_input", cur["if"]["input"]["accuracy_by_step"],
                                  cur["if"]["hidden_cumulative_spikes"]),
                                 ("if_count", cur["if"]["declared"]["accuracy_by_step"],
                                  out["if"]["cumulative_spikes"]),
                                 ("if_spikes_only", cur["if"]["spikes_only"]["accuracy_by_step"],
                                  out["if"]["cumulative_spikes"]),
                                 *([("asn_trained", trained["curves"]["declared"]["accuracy_by_step"],
                                     trained["curves"]["hidden_cumulative_spikes"])]
                                   if trained is not None else []),
                                 *([("if_direct_input",
                                     cur["if_direct"]["input"]["accuracy_by_step"],
                                     cur["if_direct"]["hidden_cumulative_spikes"])]
                                   if ifd is not None else [])):
            first, stay = steps_to_reach(acc, target)
            row[key] = {"first_step": first, "spikes_first": spikes[first - 1] if first else None,
                        "stable_step": stay, "spikes_stable": spikes[stay - 1] if stay else None}
        row["if_best"] = best_if(row, out["if_input"])
        eq[label] = row
    out["equal_accuracy"] = eq
    out["wall_seconds"] = round(time.time() - t0, 1)
    if not quiet:
        print(f"{name} seed {seed}: ANN {100 * ann:.2f}%, ASN {100 * out['asn']['accuracy']:.2f}% "
              f"({out['asn']['spikes_per_inference']:.0f} spikes), IF {100 * out['if']['accuracy']:.2f}% "
              f"({out['if']['spikes_per_inference']:.0f} spikes), {out['wall_seconds']} s",
              file=sys.stderr)
    return out


# ====================================================================== main


def dump_json(raw: dict) -> str:
    """``raw`` as indented JSON with every list of numbers on one line (the curves by step)."""
    import re

    text = json.dumps(raw, indent=1)
    return re.sub(r"\[\s+([-0-9.eE+,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]",
                  text) + "\n"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPU cores "
            f"available, Python {platform.python_version()}")


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True).stdout.strip() or "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()
    except OSError:
        return "unknown"
    return head + (" plus uncommitted changes" if dirty else "")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                   help="training seeds for digits (default 0 1 2)")
    p.add_argument("--mnist1d-seeds", type=int, nargs="*", default=[0, 1],
                   help="training seeds for mnist1d (default 0 1; none: skip mnist1d)")
    p.add_argument("--datasets", nargs="+", default=["digits", "mnist1d"],
                   choices=["digits", "mnist1d"])
    p.add_argument("--keep", metavar="DIR", help="keep the trained and converted models in DIR")
    p.add_argument("--no-write", action="store_true", help="print the Markdown, write nothing")
    p.add_argument("--from-json", metavar="PATH", help="render docs/results_asn.md from PATH")
    p.add_argument("--out", metavar="DIR", type=out_folder,
                   help="write results_asn.md and results_asn.json into DIR instead of docs/")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.keep and os.path.exists(args.keep) and not os.path.isdir(args.keep):
        p.error(f"--keep {args.keep}: it is a file, not a folder")
    md_path, raw_path = outputs_in(p, args.out, args.no_write, MD, RAW)
    if args.from_json:
        try:
            with open(args.from_json) as f:
                raw = json.load(f)
            raw["discussion"] = discussion(raw["runs"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            p.error(f"--from-json {args.from_json}: not a results file of this script ({exc!r})")
    else:
        t0 = time.time()
        work = args.keep or tempfile.mkdtemp(prefix="snnc-asn-")
        os.makedirs(work, exist_ok=True)
        if not args.keep:                     # the models and runs are not kept without --keep
            atexit.register(shutil.rmtree, work, True)
        runs, skipped = [], []
        for ds in args.datasets:
            seeds = args.seeds if ds == "digits" else args.mnist1d_seeds
            if not seeds:
                skipped.append(f"{ds} (no seeds asked for)")
                continue
            model = DATASETS[ds]
            if model is None:
                model = os.path.join(work, "mnist1d_relu.snn")
                with open(model, "w") as f:
                    f.write(MNIST1D_RELU)
            else:
                model = os.path.join(ROOT, model)
            for s in seeds:
                runs.append(run_one(ds, model, s, work, args.quiet))
        cmd = "python scripts/reproduce_asn.py" + ("" if argv is None and len(sys.argv) == 1
                                                  else " " + " ".join(sys.argv[1:] if argv is None
                                                                      else argv))
        raw = {"command": cmd, "machine": machine(),
               "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
               "commit": commit(), "wall_seconds": time.time() - t0, "runs": runs,
               "skipped": skipped}
        if not args.no_write:                 # the measurements first: rendering may be re-run
            with open(raw_path, "w") as f:
                f.write(dump_json(raw))
        raw["discussion"] = discussion(runs)
    text = render(raw)
    if args.no_write:
        print(text)
        return 0
    if not args.from_json:
        with open(raw_path, "w") as f:   # again, with the discussion
            f.write(dump_json(raw))
    with open(md_path, "w") as f:
        f.write(text + "\n")
    print(f"wrote {md_path}" + ("" if args.from_json else f" and {raw_path}"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
