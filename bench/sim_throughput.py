"""Throughput of the float simulator and the golden model (samples per second).

Two nets with random weights and rate-coded random inputs, batch 256, 32 steps:
the digits net (64-128-10 LIF) and 784-512-10 LIF. Prints samples/s of each simulator and the
golden/float ratio (target: golden >= 0.5x float).

    python bench/sim_throughput.py [--batch 256] [--steps T] [--repeats 5]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from snnc import ir
from snnc.backends.golden.float_sim import simulate_float
from snnc.backends.golden.golden_sim import simulate_golden
from snnc.build import load_text
from snnc.quantize import quantize
from snnc.argtypes import positive_int  # noqa: E402

NET = """\
model {name}
time {{ dt = 1 ms; steps = {steps} }}
input pixels[{n_in}] = rate(gain = 1.0)
layer hidden = dense(pixels, {n_hidden}) with LIF(tau_mem = 10 ms, reset = subtract)
layer out = dense(hidden, {n_out}) with LIF(tau_mem = 10 ms)
output out = count
hardware {{ weights = fixed<8,6>  state = fixed<16,8> }}
"""

NETS = {"digits 64-128-10": (64, 128, 10), "mnist 784-512-10": (784, 512, 10)}


def random_weights(graph: ir.Graph, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for layer in graph.layers:
        fan_in = layer.in_shape[0]
        out[layer.name] = {k: rng.normal(0.0, 2.0 / np.sqrt(fan_in), shape)
                           for k, shape in ir.weight_shapes(layer).items()}
    return out


def best_times(fns, repeats: int) -> list[float]:
    """Best wall time of each function, runs interleaved so that machine load hits all alike."""
    for fn in fns:
        fn()                               # warm-up
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=positive_int, default=256)
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--repeats", type=positive_int, default=5)
    args = ap.parse_args(argv)
    for label, (n_in, n_hidden, n_out) in NETS.items():
        graph = load_text(NET.format(name=label.split()[0], steps=args.steps, n_in=n_in,
                                     n_hidden=n_hidden, n_out=n_out)).graph
        weights = random_weights(graph)
        qmodel = quantize(graph, weights)
        x = np.random.default_rng(1).random((args.batch, n_in))
        t_float, t_golden = best_times([lambda: simulate_float(graph, weights, x),
                                        lambda: simulate_golden(qmodel, x)], args.repeats)
        f_rate, g_rate = args.batch / t_float, args.batch / t_golden
        print(f"{label:18s} batch {args.batch} x {args.steps} steps: float {f_rate:9.0f} samples/s, "
              f"golden {g_rate:9.0f} samples/s, golden/float {g_rate / f_rate:.2f}x")


if __name__ == "__main__":
    main()
