"""Training speed of snnc's PyTorch target against snnTorch (forward + backward per iteration).

The same net with the same weights, run by

* ``snnc``: :class:`snnc.backends.torch.SNN` (each layer's synaptic input for all steps in one
  call: the event kernels of ``event_synapse`` where its input is sparse, else one matmul; then
  the neuron recurrence as one custom autograd scan, run by the fused native scan);
* ``snnc dense synapses`` (always): the same with ``SNNC_EVENT_SYNAPSE=0``: every layer's
  synaptic input and weight gradient by dense matmuls, as the floor computes them, instead of
  snnc's event kernels (which add a weight row per input spike where the input is sparse enough,
  docs/performance.md); its ratio to the floor is the cost of everything but the matmuls;
* ``snnc Python scan`` (``--python-scan``): the same with ``SNNC_NATIVE_SCAN=0``, the scan's
  Python loop of torch operations per step (the implementation before the native scan);
* ``snnTorch eager``: the snnTorch tutorial loop (``Linear`` -> ``snntorch.Leaky`` / ``Synaptic``
  per step). snnTorch has no ALIF: for ALIF this column is a plain-torch ALIF module written in the
  snnTorch style (a stateful module called once per step, with snnc's conventions);
* ``snnTorch compiled``: the same loop under ``torch.compile`` (slow to compile, ~20 s a net: by
  default only for LIF on the two small workloads, ``-`` elsewhere; ``--compile-all``: every row);
* ``matmul floor``: the forward and backward of the ``Linear`` layers alone over all steps (one
  matmul per layer over ``T*B`` rows, their weight gradients and the gradient to the spikes of the
  hidden layers): what any implementation has to pay.

Each iteration: forward from the encoded input ``[T, B, N]`` (Bernoulli, p = 0.2), cross-entropy
on the output spike counts, backward; the gradients are reset between iterations (not timed), no
optimizer step. Fast-sigmoid surrogate (slope 25); LIF ``tau_mem = 10 ms`` (beta = exp(-1/10)),
CubaLIF ``tau_syn = 5 ms``, ALIF ``tau_adapt = 100 ms, beta = 0.2``; threshold 1, subtractive reset,
no bias, dt = 1 ms. Before timing, every pair is checked for equivalence: the forward spikes of
every layer equal, in float64 (two correct float32 implementations may round ``b*U + x``
differently in the last bit and so, rarely, disagree on a spike; the fraction of float32 spikes
that differ is printed too). Competitors are measured interleaved (one iteration of each in turn,
the order rotated every round), medians after warm-up.

Targets (issue "The PyTorch training target"): snnc <= 0.5x snnTorch eager on the digits net
(64-128-10), <= 0.8x on 784-512-10, within 1.15x the matmul floor on the large nets (700-256-20 and
512-512), and backward cost linear in T (snnc's fwd+bwd at T and 2T, ratio ~2.0).

    python bench/train_vs_snntorch.py [--quick] [--threads 2] [--iters 30] [--compile-all]
                                      [--no-compile] [--tuned-malloc] [--kinds LIF,ALIF]
                                      [--workloads 700-256-20,512-512] [--python-scan]
                                      [--no-eager] [--warmup N] [--repeat N]

``--quick`` (a smoke run): 5 iterations, the two small workloads, compiled snnTorch on the digits
net only, no T/2T measurement. ``--no-eager``: no snnTorch eager column (its per-step loop takes
most of the run's time on the large nets; the floor targets need only snnc and the floor).
"""
from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from snnc.backends.torch import SNN
from snnc.backends.torch.surrogates import Surrogate
from snnc.build import load_text
from snnc.weights import random_weights
from snnc.argtypes import positive_int  # noqa: E402

DT = 1.0
TAU_MEM, TAU_SYN, TAU_ADAPT, ADAPT_BETA = 10.0, 5.0, 100.0, 0.2
THETA = 1.0
SLOPE = 25.0
P_IN = 0.2

# name, layer sizes, batch, steps
WORKLOADS = [
    ("64-128-10", (64, 128, 10), 64, 25),
    ("784-512-10", (784, 512, 10), 128, 25),
    ("700-256-20", (700, 256, 20), 128, 100),
    ("512-512", (512, 512), 16, 500),
]
KINDS = ("LIF", "CubaLIF", "ALIF")
# target: (what snnc is compared with, the largest ratio allowed)
TARGETS = {"64-128-10": ("eager", 0.5), "784-512-10": ("eager", 0.8),
           "700-256-20": ("floor", 1.15), "512-512": ("floor", 1.15)}
LINEARITY = ("512-512", (512, 512), 16, 500)      # snnc at T and 2T
# glibc returns a freed block above the mmap threshold to the OS, so that every iteration's large
# [T, B, N] tensors are fresh pages, each faulted in on first touch (costly in a VM). These keep
# blocks up to 32 MB (glibc's largest allowed threshold) in the heap and never trim it.
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 40)}


# ====================================================================== the nets


def neuron_text(kind: str) -> str:
    common = f"threshold = {THETA}, reset = subtract"
    if kind == "LIF":
        return f"LIF(tau_mem = {TAU_MEM} ms, {common})"
    if kind == "CubaLIF":
        return f"CubaLIF(tau_mem = {TAU_MEM} ms, tau_syn = {TAU_SYN} ms, {common})"
    return (f"ALIF(tau_mem = {TAU_MEM} ms, tau_adapt = {TAU_ADAPT} ms, beta = {ADAPT_BETA}, "
            f"{common})")


def snn_text(sizes, steps: int, kind: str) -> str:
    lines = ["model bench", f"time {{ dt = {DT} ms; steps = {steps} }}",
             f"input x[{sizes[0]}] = rate(gain = 1.0)"]
    src = "x"
    for i, n in enumerate(sizes[1:]):
        lines.append(f"layer l{i} = dense({src}, {n}) with {neuron_text(kind)}")
        src = f"l{i}"
    lines += [f"output {src} = count", ""]
    return "\n".join(lines)


def make_snnc(sizes, steps: int, kind: str, seed: int = 0):
    graph = load_text(snn_text(sizes, steps, kind), "bench.snn").graph
    weights = random_weights(graph, seed)
    model = SNN(graph, weights, surrogate=Surrogate("fast_sigmoid", SLOPE))
    # the weight matrices [out, in] of the layers, in order
    mats = [torch.as_tensor(weights[f"l{i}"]["weight"]) for i in range(len(sizes) - 1)]
    return model, mats


class ALIF(nn.Module):
    """A plain-torch ALIF neuron in the style of ``snntorch.Leaky`` (snnTorch has none), with snnc's
    conventions (docs/semantics.md section 3): ``A = r*A + S_prev``, ``U = b*U + x - (theta +
    beta*A_prev) * S_prev`` with the reset's spike detached, ``S = H(U - theta - beta*A)``."""

    def __init__(self, b: float, r: float, beta: float, threshold: float, spike_grad):
        super().__init__()
        self.b, self.r, self.beta, self.threshold = b, r, beta, threshold
        self.spike_grad = spike_grad

    @staticmethod
    def init_state(like: torch.Tensor):
        z = torch.zeros_like(like)
        return z, z, z                                     # mem, adaptation, previous spike

    def forward(self, input_, mem, adapt, spk):
        th_prev = self.threshold + self.beta * adapt
        adapt = self.r * adapt + spk
        mem = self.b * mem + input_ - th_prev * spk.detach()
        spk = self.spike_grad(mem - (self.threshold + self.beta * adapt))
        return spk, mem, adapt


class SnnTorchNet(nn.Module):
    """The snnTorch tutorial loop: per step, ``Linear`` then the neuron, layer after layer."""

    def __init__(self, sizes, kind: str, mats):
        super().__init__()
        import snntorch as snn
        from snntorch import surrogate

        spike_grad = surrogate.fast_sigmoid(slope=SLOPE)
        # The decay factors as float64 buffers (0-d, so they do not change the dtype of float32
        # arithmetic), so that the float64 equivalence check uses exactly snnc's values.
        f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
        b = f64(math.exp(-DT / TAU_MEM))
        self.kind = kind
        self.fcs = nn.ModuleList()
        self.neurons = nn.ModuleList()
        for w in mats:
            fc = nn.Linear(w.shape[1], w.shape[0], bias=False)
            with torch.no_grad():
                fc.weight.copy_(w)
            self.fcs.append(fc)
            if kind == "LIF":
                n = snn.Leaky(beta=b, threshold=THETA, spike_grad=spike_grad,
                              reset_mechanism="subtract")
            elif kind == "CubaLIF":
                n = snn.Synaptic(alpha=f64(math.exp(-DT / TAU_SYN)), beta=b, threshold=THETA,
                                 spike_grad=spike_grad, reset_mechanism="subtract")
            else:
                n = ALIF(float(b), math.exp(-DT / TAU_ADAPT), ADAPT_BETA, THETA, spike_grad)
            self.neurons.append(n)

    def forward(self, x):
        """``x`` ``[T, B, N]`` -> the spikes of every layer, each ``[T, B, n]``."""
        if self.kind == "LIF":
            states = [(n.reset_mem(),) for n in self.neurons]
        elif self.kind == "CubaLIF":
            states = [tuple(n.reset_mem()) for n in self.neurons]
        else:
            states = [None] * len(self.neurons)
        recs = [[] for _ in self.neurons]
        for t in range(x.shape[0]):
            h = x[t]
            for i, (fc, neuron) in enumerate(zip(self.fcs, self.neurons)):
                cur = fc(h)
                if states[i] is None:                       # ALIF: zeros of the right shape
                    states[i] = ALIF.init_state(cur)
                if self.kind == "ALIF":
                    spk, mem, adapt = neuron(cur, *states[i])
                    states[i] = (mem, adapt, spk)
                else:
                    spk, *st = neuron(cur, *states[i])
                    states[i] = tuple(st)
                h = spk.to(cur.dtype)                       # snnTorch's spikes are float32
                recs[i].append(h)
        return [torch.stack(r) for r in recs]


class Floor:
    """The matmuls alone: each layer's ``Linear`` over all ``T*B`` rows at once, forward and
    backward (weight gradients, and the gradient to the hidden layers' spikes)."""

    def __init__(self, sizes, batch: int, steps: int, mats, gen):
        rows = steps * batch
        self.ws = [w.clone().requires_grad_(True) for w in mats]
        self.ins = [(torch.rand(rows, sizes[0], generator=gen) < P_IN).float()]
        for n in sizes[1:-1]:
            self.ins.append((torch.rand(rows, n, generator=gen) < 0.1).float().requires_grad_(True))
        self.grads = [torch.randn(rows, n, generator=gen) for n in sizes[1:]]

    def step(self):
        outs = [F.linear(x, w) for x, w in zip(self.ins, self.ws)]
        torch.autograd.backward(outs, self.grads)

    def zero(self):
        for t in self.ws + self.ins[1:]:
            t.grad = None


# ====================================================================== measuring


def interleaved(fns: dict, iters: int, warmup: int) -> dict:
    """Median seconds of each ``(step, reset)`` pair, one call of each in turn, rotated order."""
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            step, reset = fns[n]
            reset()
            step()
    times = {n: [] for n in names}
    gc_was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for i in range(iters):
            k = i % len(names)
            for n in names[k:] + names[:k]:
                step, reset = fns[n]
                reset()
                t0 = time.perf_counter()
                step()
                times[n].append(time.perf_counter() - t0)
    finally:
        if gc_was:
            gc.enable()
    return {n: statistics.median(v) for n, v in times.items()}


def check_equivalence(model: SNN, net: "SnnTorchNet", x: torch.Tensor):
    """Forward spikes of every layer equal, in float64 (raises if not); returns the fraction of
    float32 spikes that differ and the spike rate of each layer."""
    n = len(net.fcs)
    m64 = SNN(model.graph, model.export_weights(), surrogate=Surrogate("fast_sigmoid", SLOPE))
    m64.to(torch.float64)
    net.fcs.to(torch.float64)
    try:
        with torch.no_grad():
            out = m64(x.double())
            mine = [out.spikes[f"l{i}"] for i in range(n)]
            theirs = net(x.double())
        for i, (a, b) in enumerate(zip(mine, theirs)):
            if not torch.equal(a, b.to(a.dtype)):
                raise AssertionError(f"layer l{i}: {int((a != b).sum())} of {a.numel()} spikes "
                                     "differ from the baseline (float64)")
        rates = [float(a.mean()) for a in mine]
    finally:
        net.fcs.to(torch.float32)
    with torch.no_grad():
        out = model(x)
        mine = [out.spikes[f"l{i}"] for i in range(n)]
        theirs = net(x)
    diff = sum(int((a != b).sum()) for a, b in zip(mine, theirs))
    total = sum(a.numel() for a in mine)
    return diff / total, rates


def loss_fn(counts: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(counts, labels)


def zero_grads(module: nn.Module):
    def reset():
        for p in module.parameters():
            p.grad = None
    return reset


def target_ratio(name: str, med: dict):
    """snnc's time over the row's target baseline (snnTorch eager or the matmul floor); ``None``
    when that baseline was not measured."""
    against, _ = TARGETS[name]
    if against == "eager":
        return med["snnc"] / med["eager"] if med["eager"] else None
    return med["snnc"] / med["floor"]


def fmt_ms(s):
    return "-" if s is None else f"{s * 1e3:.2f}"


def fmt_x(r):
    return "-" if r is None else f"{r:.2f}x"


def with_env(var: str, value: str, fn):
    """``fn`` run with the environment variable ``var`` set to ``value`` (restored after)."""
    def run():
        old = os.environ.get(var)
        os.environ[var] = value
        try:
            fn()
        finally:
            if old is None:
                del os.environ[var]
            else:
                os.environ[var] = old
    return run


def run_row(name, sizes, batch, steps, kind, iters, warmup, compile_it, seed=0, py_scan=False,
            eager=True):
    gen = torch.Generator().manual_seed(seed)
    model, mats = make_snnc(sizes, steps, kind, seed)
    net = SnnTorchNet(sizes, kind, mats)
    x = (torch.rand(steps, batch, sizes[0], generator=gen) < P_IN).float()
    labels = torch.randint(0, sizes[-1], (batch,), generator=gen)
    mismatch32, rates = check_equivalence(model, net, x)

    def snnc_step():
        loss_fn(model(x).readout, labels).backward()

    def eager_step():
        loss_fn(net(x)[-1].sum(0), labels).backward()

    floor = Floor(sizes, batch, steps, mats, gen)
    fns = {"snnc": (snnc_step, zero_grads(model)), "floor": (floor.step, floor.zero)}
    if eager:
        fns["eager"] = (eager_step, zero_grads(net))
    # snnc with the synaptic input by dense matmuls (the event kernels off): side by side
    fns["snnc_dense"] = (with_env("SNNC_EVENT_SYNAPSE", "0", snnc_step), zero_grads(model))
    if py_scan:
        fns["snnc_py"] = (with_env("SNNC_NATIVE_SCAN", "0", snnc_step), zero_grads(model))
    compile_s = None
    if compile_it:
        cnet = SnnTorchNet(sizes, kind, mats)
        compiled = torch.compile(cnet)
        t0 = time.perf_counter()
        loss_fn(compiled(x)[-1].sum(0), labels).backward()
        compile_s = time.perf_counter() - t0
        with torch.no_grad():
            same = all(torch.equal(a, b) for a, b in zip(compiled(x), net(x)))
        if not same:
            print(f"  note: compiled snnTorch spikes differ from eager on {name} {kind}",
                  flush=True)

        def compiled_step():
            loss_fn(compiled(x)[-1].sum(0), labels).backward()

        fns["compiled"] = (compiled_step, zero_grads(cnet))
    med = interleaved(fns, iters, warmup)
    med.setdefault("eager", None)
    med["compile_s"] = compile_s
    med["rates"] = rates
    med["mismatch32"] = mismatch32
    return med


def linearity(iters: int, warmup: int):
    name, sizes, batch, steps = LINEARITY
    gen = torch.Generator().manual_seed(1)
    res = {}
    fns = {}
    parts = {}
    for T in (steps, 2 * steps):
        model, _ = make_snnc(sizes, T, "LIF", 0)
        x = (torch.rand(T, batch, sizes[0], generator=gen) < P_IN).float()
        labels = torch.randint(0, sizes[-1], (batch,), generator=gen)
        parts[T] = {"fwd": [], "bwd": []}

        def step(model=model, x=x, labels=labels, T=T):
            t0 = time.perf_counter()
            loss = loss_fn(model(x).readout, labels)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            parts[T]["fwd"].append(t1 - t0)
            parts[T]["bwd"].append(t2 - t1)

        fns[T] = (step, zero_grads(model))
    med = interleaved(fns, iters, warmup)
    for T in fns:
        p = parts[T]
        res[T] = (med[T], statistics.median(p["fwd"][-iters:]),
                  statistics.median(p["bwd"][-iters:]))
    return name, batch, res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 5 iterations, the two small workloads")
    ap.add_argument("--threads", type=positive_int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--iters", type=int, default=None,
                    help="timed iterations, at least 1 (default 30; --quick 5)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="warm-up iterations (default 5; --quick 2)")
    ap.add_argument("--compile-all", action="store_true",
                    help="torch.compile snnTorch for every row (~20 s per net)")
    ap.add_argument("--no-compile", action="store_true", help="no torch.compile column")
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated neuron kinds")
    ap.add_argument("--workloads", default=None, help="comma-separated workload names")
    ap.add_argument("--python-scan", action="store_true",
                    help="also time snnc with its Python scan (SNNC_NATIVE_SCAN=0), side by side")
    ap.add_argument("--repeat", type=positive_int, default=1, metavar="N",
                    help="measure every row N times (each with its own warm-up) and print the "
                         "spread of its target ratio; the table shows the median run")
    ap.add_argument("--no-eager", action="store_true",
                    help="no snnTorch eager column (the floor targets only; much faster)")
    ap.add_argument("--tuned-malloc", action="store_true",
                    help="re-run under glibc malloc settings that keep freed memory in the process "
                         f"({' '.join(f'{k}={v}' for k, v in TUNED_MALLOC.items())})")
    args = ap.parse_args()
    if args.tuned_malloc and any(os.environ.get(k) != v for k, v in TUNED_MALLOC.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **TUNED_MALLOC})

    torch.set_num_threads(args.threads)
    iters = args.iters if args.iters is not None else (5 if args.quick else 30)
    warmup = args.warmup if args.warmup is not None else (2 if args.quick else 5)
    if iters < 1 or warmup < 0:
        ap.error("--iters must be at least 1 and --warmup at least 0")
    workloads = WORKLOADS[:2] if args.quick else WORKLOADS
    if args.workloads is not None:
        wanted = [w.strip() for w in args.workloads.split(",") if w.strip()]
        if not wanted:
            ap.error("--workloads names no workload: the workloads are "
                     + ", ".join(w[0] for w in WORKLOADS))
        unknown = [w for w in wanted if w not in {n for n, *_ in WORKLOADS}]
        if unknown:
            ap.error(f"unknown workload(s) {', '.join(unknown)}: the workloads are "
                     + ", ".join(n for n, *_ in WORKLOADS))
        workloads = [w for w in WORKLOADS if w[0] in wanted]
    kinds = [k for k in args.kinds.split(",") if k]
    if not kinds or any(k not in KINDS for k in kinds):
        ap.error(f"--kinds {args.kinds!r}: the kinds are {', '.join(KINDS)}")

    import snntorch

    malloc = " ".join(f"{k}={os.environ[k]}" for k in TUNED_MALLOC if k in os.environ)
    print(f"torch {torch.__version__}, snnTorch {snntorch.__version__}, "
          f"torch.get_num_threads() = {torch.get_num_threads()}, {iters} timed iterations after "
          f"{warmup} warm-up, medians of fwd+bwd per iteration; malloc: {malloc or 'default'}",
          flush=True)
    rows = []
    spread = []
    for name, sizes, batch, steps in workloads:
        for kind in kinds:
            small = name in (("64-128-10",) if args.quick else ("64-128-10", "784-512-10"))
            compile_it = not args.no_compile and (args.compile_all or (small and kind == "LIF"))
            print(f"- {name} B{batch} T{steps} {kind} ...", flush=True)
            runs = [run_row(name, sizes, batch, steps, kind, iters, warmup, compile_it,
                            py_scan=args.python_scan, eager=not args.no_eager)
                    for _ in range(max(1, args.repeat))]
            runs.sort(key=lambda m: target_ratio(name, m) or 0.0)
            med = runs[(len(runs) - 1) // 2]
            spread.append((name, batch, steps, kind, [target_ratio(name, m) for m in runs]))
            rates = ", ".join(f"{r:.3f}" for r in med["rates"])
            extra = f", compile {med['compile_s']:.1f} s" if med["compile_s"] else ""
            print(f"  equivalent (float64 spikes equal; float32: {med['mismatch32']:.2e} of spikes "
                  f"differ); spike rates {rates}{extra}; snnc {fmt_ms(med['snnc'])} ms, eager "
                  f"{fmt_ms(med['eager'])} ms, floor {fmt_ms(med['floor'])} ms, snnc with dense "
                  f"synapses {fmt_ms(med['snnc_dense'])} ms"
                  + (f", snnc Python scan {fmt_ms(med['snnc_py'])} ms" if "snnc_py" in med else ""),
                  flush=True)
            rows.append((name, batch, steps, kind, med))

    print()
    py = args.python_scan
    print("| workload | neuron | snnc ms | snnTorch eager ms | snnTorch compiled ms "
          "| matmul floor ms | snnc / eager | snnc / compiled | snnc / floor | target | met "
          "| snnc dense synapses ms | dense synapses / floor |"
          + (" snnc Python scan ms | Python scan / floor |" if py else ""))
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if py else ""))
    for name, batch, steps, kind, med in rows:
        s, e, c, f = med["snnc"], med["eager"], med.get("compiled"), med["floor"]
        against, limit = TARGETS[name]
        ratio = target_ratio(name, med)
        base = "plain-torch ALIF eager" if (kind == "ALIF" and against == "eager") else against
        target = f"<= {limit}x {base}"
        print(f"| {name} B{batch} T{steps} | {kind}{'*' if kind == 'ALIF' else ''} | {fmt_ms(s)} "
              f"| {fmt_ms(e)} | {fmt_ms(c)} | {fmt_ms(f)} | {fmt_x(s / e if e else None)} "
              f"| {fmt_x(s / c if c else None)} | {fmt_x(s / f)} | {target} "
              f"| {'-' if ratio is None else ('yes' if ratio <= limit else 'NO')}"
              f"{'' if ratio is None else f' ({ratio:.2f}x)'} "
              f"| {fmt_ms(med['snnc_dense'])} | {fmt_x(med['snnc_dense'] / f)} |"
              + (f" {fmt_ms(med['snnc_py'])} | {fmt_x(med['snnc_py'] / f)} |" if py else ""))
    if args.repeat > 1:
        print(f"\nThe target ratio over {args.repeat} runs of every row (sorted; the table above "
              "shows the median run):\n")
        print("| workload | neuron | target | ratios | median | runs over the target |")
        print("|---|---|---|---|---|---|")
        for name, batch, steps, kind, ratios in spread:
            against, limit = TARGETS[name]
            known = [r for r in ratios if r is not None]
            if not known:
                continue
            over = sum(r > limit for r in known)
            print(f"| {name} B{batch} T{steps} | {kind}{'*' if kind == 'ALIF' else ''} "
                  f"| <= {limit}x {against} | {', '.join(f'{r:.2f}' for r in known)} "
                  f"| {statistics.median(known):.2f}x | {over} of {len(known)} |")
    if "ALIF" in kinds:
        print("\n* snnTorch has no ALIF: the eager column for ALIF is a plain-torch ALIF loop "
              "written in the snnTorch style (a stateful module called once per step).")

    if not args.quick:
        print()
        name, batch, res = linearity(max(10, iters // 2), warmup)
        (T1, (a, fa, ba)), (T2, (b, fb, bb)) = sorted(res.items())
        ok = 1.6 <= b / a <= 2.3
        print(f"Backward linear in T (snnc, LIF {name} B{batch}): fwd+bwd {fmt_ms(a)} ms at "
              f"T={T1}, {fmt_ms(b)} ms at T={T2}: ratio {b / a:.2f} (forward {fb / fa:.2f}, "
              f"backward {bb / ba:.2f}); target ~2.0 (1.6 to 2.3: linear, neither superlinear "
              f"nor a sign of an unwarmed first run): {'yes' if ok else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
