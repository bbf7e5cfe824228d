#!/usr/bin/env python3
"""Reproduce the training results of docs/results.md.

    python scripts/reproduce_results.py                 # every run; writes docs/results.md
    python scripts/reproduce_results.py --baselines     # also train the non-spiking baselines
    python scripts/reproduce_results.py --only digits --no-write
    python scripts/reproduce_results.py --from-json docs/results.json

Each run is a plain ``snnc train MODEL --seed S --out DIR --json [--qat]`` in a subprocess (so its
wall time includes starting Python, importing torch and loading the data set, as a user sees it),
with the hyper-parameters of the model's ``train`` block. The trained weights are then simulated on
the test split by the bit-exact golden model, which gives the spike and synaptic-operation counts
(and must reproduce the golden accuracy ``snnc train`` reported; the script checks it).

The optional baselines (``--baselines``) are reference models trained here on the same splits:
logistic regression (scikit-learn) on both data sets, snnTorch's version of the digits net with the
same training recipe, and a GRU (PyTorch, 128 units) on MNIST-1D, to put the published reference
figures into perspective.

The measurements are saved to ``docs/results.json``; ``--from-json`` renders docs/results.md from
that file again without training (after editing the text below, say).

Everything is seeded; on the same machine (and the same number of torch threads) a rerun gives the
same accuracies. Other machines may differ in the last digits (floating-point summation order).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from snnc.argtypes import out_folder, outputs_in, positive_int

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "docs", "results.md")
RAW = os.path.join(ROOT, "docs", "results.json")


@dataclass
class Run:
    key: str                 # digits, mnist1d
    model: str               # path relative to the repository root
    qat: bool
    seeds: tuple[int, ...]
    results: list[dict] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.key} {'QAT' if self.qat else 'float'}"


RUNS = [
    Run("digits", "examples/digits.snn", False, (0, 1, 2, 3, 4)),
    Run("digits", "examples/digits.snn", True, (0, 1, 2, 3, 4)),
    Run("mnist1d", "examples/recurrent_alif.snn", False, (0, 1, 2)),
    Run("mnist1d", "examples/recurrent_alif.snn", True, (0, 1, 2)),
]

#: Published / reference accuracies (../shared/reference/anchors.md), in percent.
REFERENCES = {
    "digits": [("logistic regression", "96.9"),
               ("snnTorch 64-128-10 LIF (beta 0.9, 25 steps, rate input, 15 epochs)", "~98.5")],
    "mnist1d": [("logistic regression", "32"), ("MLP", "68"), ("GRU", "91"), ("CNN", "94")],
}


# ====================================================================== running


def train_run(run: Run, seed: int, workdir: str, quiet: bool, epochs: int | None = None) -> dict:
    out = os.path.join(workdir, f"{run.key}-{'qat' if run.qat else 'float'}-seed{seed}")
    cmd = [sys.executable, "-m", "snnc", "train", os.path.join(ROOT, run.model), "--seed", str(seed),
           "--out", out, "--json"] + (["--qat"] if run.qat else []) + \
        (["--epochs", str(epochs)] if epochs else [])
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    summary = json.loads(proc.stdout)
    with open(summary["log"]) as fh:
        epochs = [json.loads(line) for line in fh]
    summary["wall_s"] = wall
    summary["train_s"] = sum(e["seconds"] for e in epochs)
    summary["qat_epochs"] = sum(1 for e in epochs if e["qat"])
    summary.update(golden_stats(run.model, summary["weights"], seed))
    if abs(summary["golden_check"] - summary["golden_accuracy"]) > 1e-12:
        sys.exit(f"{run.label} seed {seed}: the golden simulation gives "
                 f"{summary['golden_check']:.4f}, snnc train reported {summary['golden_accuracy']:.4f}")
    if not quiet:
        qat = (f" QAT {100 * summary['qat_accuracy']:.2f}%" if summary["qat_accuracy"] is not None
               else "")
        print(f"  {run.label:15s} seed {seed}: float {100 * summary['float_accuracy']:.2f}% golden "
              f"{100 * summary['golden_accuracy']:.2f}%{qat}  {wall:.0f} s", flush=True)
    return summary


def golden_stats(model: str, weights_path: str, seed: int) -> dict:
    """Simulate the trained weights on the test split with the golden model, as ``snnc train``
    and ``snnc simulate --dataset`` do (test sample ``i`` has encoder id ``i``)."""
    import numpy as np

    from snnc import ir
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.build import load
    from snnc.datasets import load_dataset
    from snnc.quantize import quantize
    from snnc.weights import load_weights

    graph = load(os.path.join(ROOT, model)).graph
    data = load_dataset(graph.train.dataset, graph)
    q = quantize(graph, load_weights(weights_path, graph))
    x, y = data.x_test, data.y_test
    correct = 0
    spikes: dict[str, int] = {}
    sops = macs = 0
    saturation = 0
    for start in range(0, len(x), 256):
        ids = np.arange(start, min(start + 256, len(x)))
        res = simulate_golden(q, x[start:start + 256], seed=seed, sample_ids=ids)
        correct += int((res.predictions == y[start:start + 256]).sum())
        for layer in graph.layers:
            if not isinstance(layer, ir.Flatten):
                spikes[layer.name] = spikes.get(layer.name, 0) + res.stats[layer.name].spikes
        sops += res.totals.sops
        saturation += sum(sum(s.saturation.values()) for s in res.stats.values())
        macs = res.totals.macs
    n, steps = len(x), graph.time.steps
    neurons = {layer.name: int(np.prod(graph.shape_of(layer.name))) for layer in graph.layers
               if not isinstance(layer, ir.Flatten)}
    outputs = {o.source for o in graph.outputs}
    hidden = [k for k in spikes if k not in outputs]
    return {
        "golden_check": correct / n,
        "rate_by_layer": {k: spikes[k] / (neurons[k] * n * steps) for k in spikes},
        "rate": sum(spikes.values()) / (sum(neurons.values()) * n * steps),
        "hidden_rate": (sum(spikes[k] for k in hidden) / (sum(neurons[k] for k in hidden) * n * steps)
                        if hidden else float("nan")),
        "sops_per_sample": sops / n,
        "macs_per_sample": macs,
        "saturations": saturation,
    }


# ====================================================================== baselines


def baselines(quiet: bool) -> dict:
    """Reference models trained here on the same splits: ``{name: ([accuracy per seed], s)}``.

    * logistic regression (scikit-learn) on both data sets;
    * on digits, snnTorch's 64-128-10 ``Leaky`` net (beta 0.9, fast-sigmoid surrogate, ``Linear``
      layers with biases, its own Bernoulli rate encoder, 25 steps) trained with the recipe of
      examples/digits.snn (``mse_count_loss(0.8, 0.2)``, Adam 2e-3 at a constant rate, batch
      64, 100 epochs), seeds 0-2 -- skipped when snntorch is not installed;
    * on MNIST-1D, a GRU (128 units, the raw signal one sample per step, a linear readout of the
      last state; Adam 3e-3, batch 128, 40 epochs).
    """
    import math

    import torch
    from sklearn.linear_model import LogisticRegression

    from snnc.datasets import _digits, _mnist1d

    def say(name, accs, seconds):
        out[name] = (accs, seconds)
        if not quiet:
            print(f"  {name}: {spread(accs)}%  ({seconds:.0f} s per run)", flush=True)

    out: dict = {}
    for key, loader in (("digits", _digits), ("mnist1d", _mnist1d)):
        x_tr, y_tr, x_te, y_te = loader()
        start = time.perf_counter()
        clf = LogisticRegression(max_iter=5000).fit(x_tr.reshape(len(x_tr), -1), y_tr)
        say(f"{key} logistic regression", [float(clf.score(x_te.reshape(len(x_te), -1), y_te))],
            time.perf_counter() - start)

    try:
        import snntorch
        from snntorch import functional as SF
        from snntorch import spikegen, surrogate
    except ImportError:
        snntorch = None
    if snntorch is not None:
        x_tr, y_tr, x_te, y_te = (torch.as_tensor(a) for a in _digits())
        accs, times = [], []
        for seed in (0, 1, 2):
            torch.manual_seed(seed)
            fc1, fc2 = torch.nn.Linear(64, 128), torch.nn.Linear(128, 10)
            grad = surrogate.fast_sigmoid(slope=25)
            lif1, lif2 = snntorch.Leaky(beta=0.9, spike_grad=grad), snntorch.Leaky(beta=0.9, spike_grad=grad)

            def net(x):                       # x [T, B, 64] -> output spikes [T, B, 10]
                m1, m2, spikes = lif1.init_leaky(), lif2.init_leaky(), []
                for xt in x.unbind(0):
                    s1, m1 = lif1(fc1(xt), m1)
                    s2, m2 = lif2(fc2(s1), m2)
                    spikes.append(s2)
                return torch.stack(spikes)

            params = list(fc1.parameters()) + list(fc2.parameters())
            opt = torch.optim.Adam(params, lr=2e-3)
            epochs, batches = 100, math.ceil(len(x_tr) / 64)
            loss_fn = SF.mse_count_loss(correct_rate=0.8, incorrect_rate=0.2)
            start = time.perf_counter()
            for _ in range(epochs):
                order = torch.randperm(len(x_tr))
                for b in range(batches):
                    idx = order[b * 64:(b + 1) * 64]
                    loss = loss_fn(net(spikegen.rate(x_tr[idx], num_steps=25)), y_tr[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            with torch.no_grad():
                pred = net(spikegen.rate(x_te, num_steps=25)).sum(0).argmax(1)
            accs.append(float((pred == y_te).float().mean()))
            times.append(time.perf_counter() - start)
        say("digits snnTorch 64-128-10 Leaky, the same recipe", accs, statistics.mean(times))

    x_tr, y_tr, x_te, y_te = (torch.as_tensor(a) for a in _mnist1d())
    torch.manual_seed(0)
    gru, head = torch.nn.GRU(1, 128), torch.nn.Linear(128, 10)
    opt = torch.optim.Adam(list(gru.parameters()) + list(head.parameters()), lr=3e-3)

    def logits(x):
        h, _ = gru(x.T[:, :, None])
        return head(h[-1])

    start = time.perf_counter()
    for _ in range(40):
        order = torch.randperm(len(x_tr))
        for b in range(0, len(x_tr), 128):
            idx = order[b:b + 128]
            loss = torch.nn.functional.cross_entropy(logits(x_tr[idx]), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        acc = float((logits(x_te).argmax(1) == y_te).float().mean())
    say("mnist1d GRU (128 units, 40 epochs)", [acc], time.perf_counter() - start)
    return out


# ====================================================================== report


def pct(v: float) -> str:
    return f"{100 * v:.2f}"


def spread(values: list[float]) -> str:
    """``mean (min-max)`` in percent; just the value for one run."""
    if len(values) == 1:
        return pct(values[0])
    return f"{100 * statistics.mean(values):.2f} ({pct(min(values))}–{pct(max(values))})"


def per_seed_table(runs: list[Run]) -> list[str]:
    lines = ["| run | seed | float % | golden % | QAT torch % | golden − float of the float run | "
             "train s | wall s | spikes/neuron/step, hidden (all) | SOPs/sample | ANN MACs/sample |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    floats = {(r.key, s["seed"]): s for r in runs if not r.qat for s in r.results}
    for run in runs:
        for s in run.results:
            ref = floats.get((run.key, s["seed"]))
            diff = (f"{100 * (s['golden_accuracy'] - ref['float_accuracy']):+.2f}"
                    if ref is not None else "—")
            qat = pct(s["qat_accuracy"]) if s["qat_accuracy"] is not None else "—"
            lines.append(f"| {run.label} | {s['seed']} | {pct(s['float_accuracy'])} | "
                         f"{pct(s['golden_accuracy'])} | {qat} | {diff} | {s['train_s']:.0f} | "
                         f"{s['wall_s']:.0f} | {s['hidden_rate']:.3f} ({s['rate']:.3f}) | "
                         f"{s['sops_per_sample']:,.0f} | {s['macs_per_sample']:,} |")
    return lines


def summary_table(runs: list[Run]) -> list[str]:
    lines = ["| model | run | seeds | float % | golden (8-bit weights, bit-exact) % | "
             "time per run | hidden spikes/neuron/step |",
             "|---|---|---|---|---|---|---|"]
    for run in runs:
        if not run.results:
            continue
        res = run.results
        lines.append(f"| {run.key} (`{run.model}`) | {'QAT' if run.qat else 'float'} | "
                     f"{len(res)} | {spread([s['float_accuracy'] for s in res])} | "
                     f"{spread([s['golden_accuracy'] for s in res])} | "
                     f"{statistics.mean(s['wall_s'] for s in res):.0f} s | "
                     f"{statistics.mean(s['hidden_rate'] for s in res):.3f} |")
    return lines


def gap(runs: list[Run], key: str) -> tuple[list[float], float, float] | None:
    """Per-seed (QAT golden − float-run float), and the two means."""
    fl = {s["seed"]: s for r in runs if r.key == key and not r.qat for s in r.results}
    qa = {s["seed"]: s for r in runs if r.key == key and r.qat for s in r.results}
    seeds = sorted(set(fl) & set(qa))
    if not seeds:
        return None
    diffs = [qa[s]["golden_accuracy"] - fl[s]["float_accuracy"] for s in seeds]
    return (diffs, statistics.mean(fl[s]["float_accuracy"] for s in seeds),
            statistics.mean(qa[s]["golden_accuracy"] for s in seeds))


def machine() -> str:
    import torch

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"Python {platform.python_version()}")


def markdown(runs: list[Run], base: dict, argv: list[str], machine_line: str, date: str,
             note: str | None = None) -> str:
    by_key = {r.key: r for r in runs}
    cmd = "python scripts/reproduce_results.py" + "".join(f" {a}" for a in argv)
    out = ["# Training results", "",
           "Measured by `scripts/reproduce_results.py` (this file is its output; rerun it to "
           "regenerate):", "", "```", cmd, "```", "",
           f"Machine: {machine_line}. Date: {date}." + (f" Note: {note}." if note else ""), "",
           "Every run is `snnc train MODEL --seed S --out DIR --json` (plus `--qat`) with the "
           "hyper-parameters of the model's `train` block. *float* is the test accuracy of the "
           "trained float model (PyTorch), *golden* that of the bit-exact fixed-point model "
           "(docs/semantics.md section 4: 8-bit weights, 16-bit state) with the same weights, "
           "*QAT* a run whose last 10% of epochs train, at a tenth of the learning rate, through "
           "the golden model's integer arithmetic (its QAT torch accuracy equals its golden accuracy exactly). "
           "Spikes per neuron per step are those of the hidden layer on the test split (golden "
           "model; in brackets: hidden and output layers together, as `snnc train` logs them); "
           "SOPs are synaptic operations per test sample, next to the multiply-accumulates of the "
           "equivalent ANN (docs/semantics.md section 6). *time per run* is the wall time of the "
           "whole command (start-up, data set, training, evaluation), *train s* the epochs alone, "
           "on a shared machine whose load varied, so take them as approximate.", "",
           "## Summary", "", "mean (min–max) over seeds:", ""]
    out += summary_table(runs)
    out += [""]
    for key, title in (("digits", "digits (scikit-learn 8x8, 1400 train / 397 test)"),
                       ("mnist1d", "MNIST-1D (4000 train / 1000 test)")):
        if key not in by_key:
            continue
        out += [f"## {title}", ""]
        refs = [f"{name}: {acc}%" for name, acc in REFERENCES[key]]
        out += ["Reference figures: " + "; ".join(refs) + ".", ""]
        measured = [(k, v) for k, v in base.items() if k.startswith(key)]
        if measured:
            out += ["Trained here on the same split (`--baselines`; mean (min–max) over seeds "
                    "where there are several): "
                    + "; ".join(f"{k[len(key) + 1:]} {spread(accs)}% ({sec:.0f} s per run)"
                                for k, (accs, sec) in measured) + ".", ""]
        g = gap(runs, key)
        n_test = by_key[key].results[0]["test_samples"] if by_key[key].results else 1
        if g is not None:
            diffs, f_mean, q_mean = g
            out += [f"QAT golden accuracy minus the float accuracy of the float run with the same "
                    f"seed: {', '.join(f'{100 * d:+.2f}' for d in diffs)} points (mean "
                    f"{100 * (q_mean - f_mean):+.2f}; at most 0.5 point below for "
                    f"{sum(d >= -0.005 - 1e-12 for d in diffs)} of {len(diffs)} seeds). "
                    f"One test sample is {100 / n_test:.2f} point.", ""]
        out += reading(key, runs, base)
    out += ["## Every run", ""]
    out += per_seed_table(runs)
    out += ["", "Saturation events in the golden model (all runs, all test samples): "
            + ", ".join(f"{r.label} {sum(s['saturations'] for s in r.results)}" for r in runs
                        if r.results) + ".", ""]
    out += ["## Adaptive spiking neurons and ANN-to-SNN conversion", "",
            "The results of the adaptive spiking neuron (ASN) are in docs/results_asn.md, measured "
            "by `scripts/reproduce_asn.py`: a ReLU network converted to ASN and to rate-coded IF "
            "(`snnc convert`), and the converted ASN model trained directly with surrogate "
            "gradients, compared on accuracy, spikes at equal accuracy, steps to a decision, "
            "energy and accelerator cycles, on digits and MNIST-1D.", ""]
    return "\n".join(out) + "\n"


def reading(key: str, runs: list[Run], base: dict) -> list[str]:
    """A plain-words reading of the figures, written from the figures themselves (so it cannot
    drift from them when the runs change)."""
    fl = [s for r in runs if r.key == key and not r.qat for s in r.results]
    if not fl:
        return []
    f_acc = [100 * s["float_accuracy"] for s in fl]
    g_acc = [100 * s["golden_accuracy"] for s in fl]
    mean_f, mean_g = statistics.mean(f_acc), statistics.mean(g_acc)

    def versus(name: str, ref: float) -> str:
        above = sum(a > ref for a in f_acc)
        if above == len(f_acc):
            return f"above the {name} ({ref:g}%) on every seed"
        if above == 0:
            return f"below the {name} ({ref:g}%) on every seed"
        return f"above the {name} ({ref:g}%) on {above} of {len(f_acc)} seeds"

    lines = []
    if key == "digits":
        lines.append(
            f"Reading: the 64-128-10 LIF net reaches {mean_f:.2f}% in float (mean of "
            f"{len(f_acc)} seeds, {min(f_acc):.2f}–{max(f_acc):.2f}%): "
            f"{versus('target', 97.0)}, {versus('logistic regression', 96.9)}, "
            f"{versus('figure quoted for snnTorch', 98.5)}. One test image is 0.25 point. The "
            f"golden model of the same float weights (8-bit weights, 16-bit state) averages "
            f"{mean_g:.2f}% ({mean_g - mean_f:+.2f} points).")
    elif key == "mnist1d":
        gru = [v for k, v in base.items() if k.startswith("mnist1d GRU")]
        text = (f"Reading: the recurrent spiking net (ALIF neurons fed the raw signal as a "
                f"current, one sample per step, membrane readout) reaches {mean_f:.2f}% in float "
                f"(mean of {len(f_acc)} seeds, {min(f_acc):.2f}–{max(f_acc):.2f}%): "
                f"{versus('published MLP', 68.0)}, {versus('published GRU', 91.0)}, "
                f"{versus('published CNN', 94.0)}. The golden model of the same float weights "
                f"averages {mean_g:.2f}% ({mean_g - mean_f:+.2f} points).")
        if gru:
            accs, _ = gru[0]
            text += (f" The GRU trained here with a comparable budget reaches "
                     f"{100 * statistics.mean(accs):.2f}%.")
        lines.append(text)
    return lines + [""]


# ====================================================================== main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", choices=["digits", "mnist1d"], help="run one data set only")
    p.add_argument("--seeds", type=positive_int, metavar="N", help="the first N seeds of each run only")
    p.add_argument("--no-qat", action="store_true", help="skip the QAT runs")
    p.add_argument("--epochs", type=positive_int, metavar="N",
                   help="override the train blocks' epochs (a smoke test, not the figures)")
    p.add_argument("--baselines", action="store_true",
                   help="also train logistic regression, snnTorch and a GRU on the same splits")
    p.add_argument("--no-write", action="store_true",
                   help="print only; do not write docs/results.md and docs/results.json")
    p.add_argument("--from-json", metavar="FILE",
                   help="render docs/results.md from saved measurements; train nothing")
    p.add_argument("--out", metavar="DIR", type=out_folder,
                   help="write results.md and results.json into DIR instead of docs/")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    results_path, raw_path = outputs_in(p, args.out, args.no_write, RESULTS, RAW)
    if args.from_json:
        try:
            with open(args.from_json) as fh:
                raw = json.load(fh)
            runs = [Run(r["key"], r["model"], r["qat"], tuple(r["seeds"]), r["results"])
                    for r in raw["runs"]]
            base = {k: (v[0], v[1]) for k, v in raw["baselines"].items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            p.error(f"--from-json {args.from_json}: not a results file of this script ({exc!r})")
        text = markdown(runs, base, raw["argv"], raw["machine"], raw["date"], raw.get("note"))
    else:
        runs = [r for r in RUNS if (args.only in (None, r.key)) and not (args.no_qat and r.qat)]
        with tempfile.TemporaryDirectory(prefix="snnc-results-") as workdir:
            for run in runs:
                for seed in run.seeds[:args.seeds]:
                    run.results.append(train_run(run, seed, workdir, args.quiet, args.epochs))
        base = baselines(args.quiet) if args.baselines else {}
        raw = {"argv": argv, "machine": machine(), "date": datetime.date.today().isoformat(),
               "runs": [{"key": r.key, "model": r.model, "qat": r.qat, "seeds": list(r.seeds),
                         "results": r.results} for r in runs],
               "baselines": base}
        text = markdown(runs, base, argv, raw["machine"], raw["date"])
        if not args.no_write:
            with open(raw_path, "w") as fh:
                json.dump(raw, fh, indent=1)
                fh.write("\n")
    if args.no_write:
        print(text, end="")                   # the file's text, which ends with its newline
    else:
        with open(results_path, "w") as fh:
            fh.write(text)
        print("\n".join(summary_table(runs)))
        print(f"wrote {os.path.relpath(results_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
