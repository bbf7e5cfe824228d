"""Cycles of the Verilog accelerator, measured in Verilator co-simulation (bit-exact runs only).

1. The digits model (64-128-10 LIF, trained with QAT unless ``--weights`` is given) on the first
   ``--samples`` test images at P = 1, 4, 8, 16 lanes: measured cycles per inference against
   * the bound of the issue, ``sum over steps and layers of (E_L * ceil(N_L / P) + ceil(N_L / P))``
     (``E_L``: input events of layer L in the step, ``ceil(fan-out / P)`` words per event), and
   * the manifest's cycle model, which adds ``S_L + STEP_OVERHEAD`` per layer and step (the
     emitter's one cycle per output spike, and the token hand-over / pipeline fill);
   and the sustained synaptic operations per cycle.
2. A dense burst: one 64 -> 64 layer, every input spiking every step (``x = 1``), at the same P:
   SOPs per cycle against P (target >= 0.9 P).
3. An idle sample (no input event at all): cycles per step against the sweep's ``ceil(N / P)``.

    python bench/hw_cycles.py [--weights W.npz | --epochs N] [--samples 20] [--lanes 1 4 8 16]
                              [--json]

Every run is compared with the golden model; a mismatch aborts the benchmark.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from snnc.argtypes import lanes, positive_int  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits.snn"

DENSE = """model dense
time {
    dt = 1 ms
    steps = 10
}
input x[64] = rate(gain = 1.0)
layer h = dense(x, 64) with LIF(tau_mem = 10 ms, threshold = 1.0)
output h = count
"""


def digits_weights(path: str | None, epochs: int):
    import snnc
    from snnc.weights import load_weights

    graph = snnc.load(str(DIGITS)).graph
    if path:
        return graph, load_weights(path, graph), f"weights {path}"
    from snnc.backends.torch.train import config_for, train
    from snnc.datasets import load_dataset

    cfg = config_for(graph, epochs=epochs, qat=True, seed=0)
    result = train(graph, load_dataset("digits", graph), cfg)
    return graph, result.weights, (f"trained here: {epochs} epochs with QAT, golden test accuracy "
                                   f"{100 * result.golden_accuracy:.2f}%")


def measure(qmodel, x, lanes: int):
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    info = CosimInfo()
    t0 = time.perf_counter()
    run, comp = verify_verilog(qmodel, x, np.arange(len(x)), 0, lanes=lanes, info=info)
    if not comp.match:
        sys.exit(f"mismatch at P = {lanes}: {comp.first.describe()}")
    return run, info, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", help="digits weights (default: train 10 epochs with QAT)")
    ap.add_argument("--epochs", type=positive_int, default=10)
    ap.add_argument("--samples", type=positive_int, default=20)
    ap.add_argument("--lanes", type=lanes, nargs="+", default=[1, 4, 8, 16])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import snnc
    from snnc.backends.verilog.plan import STEP_OVERHEAD
    from snnc.datasets import load_dataset
    from snnc.quantize import quantize
    from snnc.weights import random_weights

    graph, weights, source = digits_weights(args.weights, args.epochs)
    q = quantize(graph, weights)
    ds = load_dataset("digits", graph)
    x = ds.x_test[:args.samples]
    out = {"digits": [], "dense": [], "idle": [], "weights": source, "samples": len(x),
           "step_overhead": STEP_OVERHEAD}
    for p in args.lanes:
        run, info, secs = measure(q, x, p)
        cyc = run.cycles.astype(np.float64)
        sops = info.golden.totals.sops
        out["digits"].append({
            "lanes": p, "cycles_mean": cyc.mean(), "cycles_max": int(cyc.max()),
            "ideal_mean": float(info.ideal_bound.mean()),
            "manifest_bound_mean": float(run.cycle_bound.mean()),
            "cycles_over_ideal": float(cyc.sum() / info.ideal_bound.sum()),
            "max_sample_over_ideal": float((cyc / info.ideal_bound).max()),
            "cycles_over_manifest": float(cyc.sum() / run.cycle_bound.sum()),
            "sops_per_cycle": sops / cyc.sum(), "sops_per_cycle_per_lane": sops / cyc.sum() / p,
            "seconds": secs})
    dgraph = snnc.loads(DENSE, "dense.snn").graph
    dq = quantize(dgraph, random_weights(dgraph, seed=2, scale=0.3))
    steps = dgraph.time.steps
    for p in args.lanes:
        run, info, _ = measure(dq, np.stack([np.ones(64), np.zeros(64)]), p)
        sops = 64 * 64 * steps
        words = math.ceil(64 / p)
        out["dense"].append({"lanes": p, "cycles": int(run.cycles[0]), "sops": sops,
                             "sops_per_cycle": sops / run.cycles[0],
                             "fraction_of_p": sops / run.cycles[0] / p,
                             "ideal": int(info.ideal_bound[0])})
        out["idle"].append({"lanes": p, "cycles": int(run.cycles[1]), "steps": steps,
                            "cycles_per_step": run.cycles[1] / steps, "sweep_words": words})
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"digits 64-128-10, {len(x)} test images, 25 steps ({source})")
    print("| P | cycles/inference (mean, max) | bound sum(E*ceil(fanout/P)+ceil(N/P)) | ratio "
          "| manifest bound (+S+STEP_OVERHEAD) | ratio | SOPs/cycle | per lane |")
    print("|---|---|---|---|---|---|---|---|")
    for r in out["digits"]:
        print(f"| {r['lanes']} | {r['cycles_mean']:.0f}, {r['cycles_max']} | "
              f"{r['ideal_mean']:.0f} | {r['cycles_over_ideal']:.3f} | "
              f"{r['manifest_bound_mean']:.0f} | {r['cycles_over_manifest']:.3f} | "
              f"{r['sops_per_cycle']:.2f} | {r['sops_per_cycle_per_lane']:.3f} |")
    print()
    print(f"dense burst: 64 -> 64, every input spikes every step, {steps} steps")
    print("| P | cycles | SOPs | SOPs/cycle | / P | idle sample: cycles per step | sweep words |")
    print("|---|---|---|---|---|---|---|")
    for d, i in zip(out["dense"], out["idle"]):
        print(f"| {d['lanes']} | {d['cycles']} | {d['sops']} | {d['sops_per_cycle']:.2f} | "
              f"{d['fraction_of_p']:.3f} | {i['cycles_per_step']:.1f} | {i['sweep_words']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
