"""C-simulation throughput of the HLS backend next to the golden model's (samples per second).

The digits net (64-128-10 LIF, 25 steps) and a recurrent ALIF net (64-128r-10, 25 steps) with
random weights and rate-coded random inputs, and the ASN digits net (examples/asn_digits.snn:
64-128-10 adaptive spiking neurons with graded events, 60 steps, a direct input) with random
weights and random images. For each: the golden model on the batch (numpy,
vectorised over the batch), and the generated C++ compiled with ``g++ -O2`` running the same
batch through its testbench (one ``snn_top`` call per sample and step, event by event), timed
end to end (writing the events file, running the binary, reading its outputs; the compilation is
done once before timing). Also checks that the two agree bit for bit (the ASN layers' event
payloads included), and prints the latency estimate of the manifest in cycles per sample.

    python bench/hls_throughput.py [--batch 512] [--repeats 3] [--only TEXT]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from snnc.backends.compare import compare
from snnc.backends.golden.golden_sim import simulate_golden
from snnc.backends.hls import compile_project, generate_hls
from snnc.backends.hls.csim import (compare_payloads, estimate_cycles, input_payloads,
                                    run_project)
from snnc.build import load_text
from snnc.quantize import quantize
from snnc.weights import random_weights
from snnc.argtypes import positive_int  # noqa: E402

NETS = {
    "digits 64-128-10 LIF": """\
model digits
time { dt = 1 ms; steps = 25 }
input pixels[64] = rate(gain = 1.0)
layer hidden = dense(pixels, 128) with LIF(tau_mem = 10 ms)
layer out = dense(hidden, 10) with LIF(tau_mem = 10 ms)
output out = count
hardware { weights = fixed<8,6>; state = fixed<16,8>; lanes = 4 }
""",
    "64-128r-10 ALIF": """\
model rec
time { dt = 1 ms; steps = 25 }
input pixels[64] = rate(gain = 1.0)
layer hidden = recurrent(pixels, 128, bias = true)
    with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.2)
layer out = dense(hidden, 10) with LIF(tau_mem = 10 ms)
output out = count
hardware { weights = fixed<8,6>; state = fixed<16,8>; lanes = 4 }
""",
}


EXAMPLES = {
    "ASN digits 64-128-10": Path(__file__).resolve().parent.parent / "examples" / "asn_digits.snn",
}


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench(name: str, text: str, batch: int, repeats: int) -> None:
    graph = load_text(text, f"<{name}>").graph
    steps = graph.time.steps
    q = quantize(graph, random_weights(graph, seed=0))
    x = np.random.default_rng(0).random((batch, 64))
    ids = np.arange(batch)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "prj"
        manifest = generate_hls(q, project)
        compile_project(project)                       # compiled (or cached) before timing
        t_gold, golden = best_of(lambda: simulate_golden(q, x, seed=0, sample_ids=ids,
                                                         record=True), repeats)

        def csim():
            return run_project(project, manifest, input_payloads(q, x, 0, ids), tmp)
        t_hls, run = best_of(csim, repeats)
    names = [l.name for l in graph.layers]
    cmp = compare_payloads(golden, run, names, compare(golden, run, names))
    cycles = estimate_cycles(manifest, input_payloads(q, x, 0, ids), run)
    print(f"{name:24s} batch {batch}, {steps} steps: golden {batch / t_gold:9.0f} samples/s   "
          f"HLS C sim {batch / t_hls:8.0f} samples/s   (C sim / golden {t_gold / t_hls:.2f}x)   "
          f"bit-exact: {cmp.match} ({cmp.compared} values)   "
          f"estimated latency {cycles.mean():.0f} cycles/sample (min {cycles.min()}, "
          f"max {cycles.max()})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=positive_int, default=512)
    ap.add_argument("--repeats", type=positive_int, default=3)
    ap.add_argument("--only", metavar="TEXT", help="run the nets whose name contains TEXT")
    args = ap.parse_args()
    nets = dict(NETS)
    for name, path in EXAMPLES.items():
        if path.is_file():
            nets[name] = path.read_text()
    chosen = [name for name in nets if args.only is None or args.only.lower() in name.lower()]
    if not chosen:                                   # printed nothing and exited 0
        ap.error(f"--only {args.only}: no net's name contains it (nets: {', '.join(nets)})")
    for name in chosen:
        bench(name, nets[name], args.batch, args.repeats)


if __name__ == "__main__":
    main()
