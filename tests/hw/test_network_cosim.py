"""Co-simulation of a generated network (snnc.backends.verilog) against the golden model.

For (a) a small random 2-layer dense LIF net (a layer named `reg`, a Verilog keyword; 2 lanes with
a padding lane), (b) examples/digits.snn with random weights and (c) every neuron kind, the
Verilog backend writes ``snn_top`` and its memory files; the bench drives the input spikes of
several samples (from the shared encoders), step by step with end-of-step tokens, with random
input gaps and output stalls, and clears the state between samples. Driver (input events + tokens) -> snn_top -> Monitor (output
spikes per step, split at the tokens); the Model is the installed golden backend
(``simulate_golden`` with ``record=True``); the Checker compares the output layer's spikes of every
step and, after each sample, the final state (U, I, A, S, R) of every neuron of every layer read
back through the top's state port, and at the end every layer's saturation counters, exactly.
The first sample runs at full speed and its cycle count must stay within the manifest's cycle
bound. A third design ("kinds") has every built-in neuron kind, refractory periods, both leaks,
every reset and a narrow state format that saturates, and layers of 3, 1 and 2 lanes (a layer's
own `lanes`). A fourth ("recurrent") has a recurrent ALIF layer with a bias (4 lanes, its own)
feeding a dense LIF readout with a bias (3 lanes; rate-encoded input, a narrow membrane that
saturates, padding lanes, decay coefficients of three signed digits, `leak_digits = 3`, an
unsigned adaptation format that saturates, held as a 6-bit signed field): the recurrent spikes of
step t return as events of step t + 1 and
the cycle bound counts them. A fifth ("narrow", 24 -> 20 -> 6 -> 3 at 4 lanes on the iCE40 HX8K:
LIF, a recurrent CubaLIF with a bias, ALIF) has narrow sweeps, the generator's choice for a device
whose leaks are logic: the second layer sweeps through 2 units, the third through 1; its states
are read back in words of 2 and 1 lanes, and the cycle bound counts its sweep words. Mutation runs
(one corrupted weight in a memory file: a feed-forward weight, and a recurrent one) must make the
Checker see a difference. The generated tops are also linted
(Verilator -Wall, Icarus -g2005, Yosys).
"""
from __future__ import annotations

import os
import pickle
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from corebench import Comparer, EventDriver, core_reset, wait_idle

SEED = int(os.environ.get("SNNC_HW_SEED", "20240611"))
TOP = "snn_top"
STIM = "cosim.pkl"
NETWORK_INPUTS = ("s_valid", "s_last", "s_payload", "s_addr", "m_ready", "w_we", "w_layer",
                  "w_addr", "w_data", "rd_en", "rd_layer", "rd_addr", "clear")

SMALL = """model small
time {
    dt = 1 ms
    steps = 12
}
input x[12] = rate(gain = 0.8)
layer reg = dense(x, 9) with LIF(tau_mem = 10 ms, threshold = 0.5)
layer out = dense(reg, 5) with LIF(tau_mem = 10 ms, threshold = 0.5, reset = zero)
output out = count
hardware { lanes = 2 }
"""

# every built-in neuron kind, refractory periods, both leaks, every reset; 3 lanes, except the
# layers with their own (`lanes = 1`, `lanes = 2`: a design whose layers differ in lanes)
KINDS = """model kinds
time {
    dt = 1 ms
    steps = 16
}
input x[7] = rate(gain = 1.0)
layer a = dense(x, 6) with IF(threshold = 0.5, reset = zero)
layer b = dense(a, 5, lanes = 1) with CubaLIF(tau_mem = 10 ms, tau_syn = 5 ms, threshold = 0.3, refractory = 2)
layer c = dense(b, 4) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.3, threshold = 0.2)
layer d = dense(c, 3, lanes = 2) with LIF(tau_mem = 8 ms, threshold = 0.2, leak = shift, reset = none)
output d = count
hardware {
    lanes = 3
    state = fixed<12,8>
}
"""

# recurrent_alif.snn in small, with spike-encoded input: recurrent ALIF + bias, dense LIF + bias
RECURRENT = """model rnn
time {
    dt = 1 ms
    steps = 20
}
input x[6] = rate(gain = 1.0)
layer rec = recurrent(x, 11, bias = true, lanes = 4)
    with ALIF(tau_mem = 5 ms, tau_adapt = 40 ms, beta = 0.2, threshold = 0.4)
layer readout = dense(rec, 4, bias = true) with LIF(tau_mem = 16 ms, threshold = 0.3, reset = zero)
output readout = count
hardware {
    lanes = 3
    membrane = fixed<12,8>
    leak_digits = 3
    adaptation = ufixed<5,2>
}
"""


def design(name: str):
    """(quantised model, samples [B, *shape], sample ids, encoder seed) of a bench design."""
    import snnc

    if name == "small":
        m = snnc.loads(SMALL, "small.snn")
        rng = np.random.default_rng(SEED)
        x = rng.uniform(0.0, 1.0, size=(3, 12))
    elif name == "kinds":
        m = snnc.loads(KINDS, "kinds.snn")
        rng = np.random.default_rng(SEED + 1)
        x = rng.uniform(0.2, 1.0, size=(3, 7))
    elif name == "recurrent":
        m = snnc.loads(RECURRENT, "rnn.snn")
        rng = np.random.default_rng(SEED + 2)
        x = rng.uniform(0.1, 0.9, size=(3, 6))
    elif name == "narrow":
        from test_verilog_backend import NARROW

        m = snnc.loads(NARROW, "narrow.snn")
        rng = np.random.default_rng(SEED + 3)
        x = rng.uniform(0.2, 1.0, size=(3, 24))
    elif name == "digits":
        root = Path(__file__).resolve().parents[2]
        m = snnc.load(root / "examples" / "digits.snn")
        rng = np.random.default_rng(SEED)
        x = rng.uniform(0.0, 0.6, size=(3, 64))       # pixel intensities in [0, 1]
    else:
        raise KeyError(name)
    q = m.quantize(m.random_weights(seed=1, scale=2.0 if name == "narrow" else None))
    return q, x, np.arange(10, 10 + len(x)), 7


# ---------------------------------------------------------------------- bench components


class Model:
    """The golden backend: per sample, the input events per step, the output layer's spikes per
    step and the final state of every layer."""

    def __init__(self, qmodel, x, sample_ids, seed):
        from snnc.backends.golden.encoders import encode
        from snnc.backends.golden.golden_sim import simulate_golden

        g = qmodel.graph
        inp = g.inputs[0]
        self.steps = g.time.steps
        spikes = encode(inp, x, self.steps, seed, sample_ids)          # [T, B, M]
        r = simulate_golden(qmodel, x, seed=seed, sample_ids=sample_ids, record=True)
        assert np.array_equal(r.spikes[inp.name], spikes), "encoder and simulator disagree"
        out = r.spikes[g.layers[-1].name]                               # [T, B, N]
        self.batch = len(x)
        self.inputs = [[np.flatnonzero(spikes[t, b]).tolist() for t in range(self.steps)]
                       for b in range(self.batch)]
        self.outputs = [[np.flatnonzero(out[t, b]).tolist() for t in range(self.steps)]
                        for b in range(self.batch)]
        self.final = r.final_state                                      # layer -> state -> [B, N]
        self.saturation = {name: dict(st.saturation) for name, st in r.stats.items()}
        # per sample, step and layer: input events E (plus, for a recurrent layer, its own
        # spikes of the step before) and spikes S (for the cycle bound)
        from snnc import ir

        srcs = [inp.name] + [l.name for l in g.layers[:-1]]

        def events(t, b, k, src):
            e = int(r.spikes[src][t, b].sum())
            lay = g.layers[k]
            if isinstance(lay, ir.Recurrent) and t > 0:
                e += int(r.spikes[lay.name][t - 1, b].sum())
            return e
        self.events = [[[events(t, b, k, src) for k, src in enumerate(srcs)]
                        for t in range(self.steps)] for b in range(self.batch)]
        self.layer_spikes = [[[int(r.spikes[l.name][t, b].sum()) for l in g.layers]
                              for t in range(self.steps)] for b in range(self.batch)]

    def cycle_bound(self, b: int, layers: list[dict], bound: dict) -> int:
        """The manifest's bound (``bound``: its ``cycle_bound``) summed over the steps of sample
        ``b``: per layer, events times its words, its sweep words, its spikes, the overhead."""
        total = 0
        for t in range(self.steps):
            for k, lay in enumerate(layers):
                nw, sweep = lay["words_per_row"], bound["sweep_words"][lay["name"]]
                total += (self.events[b][t][k] * nw + sweep + self.layer_spikes[b][t][k]
                          + bound["overhead_per_layer"])
        return total

    def final_state(self, layer: str, b: int, key: str, n: int) -> list[int]:
        st = self.final[layer]
        if key not in st:
            return [0] * n
        return np.asarray(st[key][b]).astype(np.int64).reshape(-1).tolist()


class Monitor:
    """Output side: random m_ready; spikes of the current step until the token."""

    def __init__(self, rng: random.Random, p_ready: float):
        self.rng, self.p_ready = rng, p_ready
        self.ready = True
        self.steps: list[list[int]] = []
        self.current: list[int] = []

    def drive(self, dut) -> None:
        self.ready = self.rng.random() < self.p_ready
        dut.m_ready.value = int(self.ready)

    def sample(self, dut) -> None:
        if not (self.ready and int(dut.m_valid.value)):
            return
        if int(dut.m_last.value):
            self.steps.append(self.current)
            self.current = []
        else:
            assert int(dut.m_payload.value) == 1, "spike event without payload 1"
            self.current.append(int(dut.m_addr.value))


async def _read_states(dut, layers: list[dict]) -> dict:
    """Every layer's states through the muxed read port: layer -> field -> [N]."""
    from snnc.backends.verilog.cosim_bench import read_states

    return await read_states(dut, layers)


try:
    import cocotb

    @cocotb.test()
    async def network_matches_golden(dut):
        """Several samples, step by step, against the golden model: spikes and final states."""
        with open(os.environ["SNNC_COSIM_STIM"], "rb") as fh:
            stim = pickle.load(fh)
        model = Model(stim["qmodel"], stim["x"], stim["sample_ids"], stim["seed"])
        layers = stim["manifest"]["layers"]
        checker = Comparer(stim["expect_mismatch"])
        rng = random.Random(SEED)

        await core_reset(dut, NETWORK_INPUTS)
        await wait_idle(dut, 20000, "network")

        await _run_batch(dut, model, layers, checker, rng, stim)

    @cocotb.test()
    async def network_weight_reload(dut):
        """The top's run-time write port: after reset, every word of every memory (weights,
        recurrent weights, biases) is rewritten with another weight set, interleaved with writes
        that must be ignored (a word address past a layer's memories, whose low bits name a real
        word; an unused memory select); then the samples must match the golden model of the new
        weights, spike for spike and state for state."""
        from cocotb.triggers import FallingEdge

        with open(os.environ["SNNC_COSIM_STIM"], "rb") as fh:
            stim = pickle.load(fh)
        model = Model(stim["qmodel"], stim["x"], stim["sample_ids"], stim["seed"])
        layers = stim["manifest"]["layers"]
        checker = Comparer(False)
        rng = random.Random(SEED)
        await core_reset(dut, NETWORK_INPUTS)
        await wait_idle(dut, 20000, "network")
        for layer, addr, data in stim["writes"]:
            await FallingEdge(dut.clk)
            dut.w_we.value = 1
            dut.w_layer.value = layer
            dut.w_addr.value = addr
            dut.w_data.value = data
        await FallingEdge(dut.clk)
        dut.w_we.value = 0
        await wait_idle(dut, 20000, "network")
        await _run_batch(dut, model, layers, checker, rng, stim)

    async def _run_batch(dut, model, layers, checker, rng, stim):
        """Every sample of ``model``, step by step, clear between samples: the Checker
        compares output spikes, final states, step counts and saturation counters."""
        from cocotb.triggers import FallingEdge, ReadOnly

        total_cycles = 0
        for b in range(model.batch):
            drv = EventDriver([[(a, 1) for a in step] for step in model.inputs[b]], rng, 1,
                              p_valid=[1.0, 0.7][b % 2])
            mon = Monitor(rng, p_ready=[1.0, 0.5][b % 2])
            cycles = 0
            while len(mon.steps) < model.steps:
                await FallingEdge(dut.clk)
                drv.drive(dut)
                mon.drive(dut)
                await ReadOnly()
                drv.taken(dut)
                mon.sample(dut)
                cycles += 1
                assert cycles < 100 * (len(drv.items) + 50) * len(layers), "network hung"
            await FallingEdge(dut.clk)
            dut.s_valid.value = 0
            dut.m_ready.value = 1
            assert drv.done, "output tokens finished before the inputs were taken"
            total_cycles += cycles
            if b == 0:        # no input gaps, no output stalls: the manifest's cycle bound holds
                bound = model.cycle_bound(b, layers, stim["manifest"]["cycle_bound"])
                dut._log.info("sample 0 at full speed: %d cycles, bound %d", cycles, bound)
                assert cycles <= bound, f"{cycles} cycles exceed the bound {bound}"
            for t in range(model.steps):
                checker.compare(f"sample {b} step {t} output spikes", mon.steps[t],
                                model.outputs[b][t])
            await wait_idle(dut, 20000, "network")
            assert not int(dut.m_valid.value), "extra output event after the last token"
            states = await _read_states(dut, layers)
            for lay in layers:
                for key in [f["name"] for f in lay["state"]["fields"]]:   # the stored fields
                    checker.compare(f"sample {b} layer {lay['name']} final {key}",
                                    states[lay["name"]][key],
                                    model.final_state(lay["name"], b, key, lay["neurons"]))
            checker.compare("step count", int(dut.step_count.value), model.steps * (b + 1))
            await FallingEdge(dut.clk)
            dut.clear.value = 1
            await FallingEdge(dut.clk)
            dut.clear.value = 0
            await wait_idle(dut, 20000, "network")
        # saturation counters (since reset: the whole batch) of every layer
        for lay in layers:
            dut.rd_layer.value = lay["index"]
            await ReadOnly()
            got = {k: int(getattr(dut, f"sat_{k.lower()}_count").value) for k in "UIA"}
            exp = {k: int(model.saturation[lay["name"]].get(k, 0)) for k in "UIA"}
            checker.compare(f"layer {lay['name']} saturation counts", got, exp)
            await FallingEdge(dut.clk)
        sats = sum(sum(model.saturation[lay["name"]].values()) for lay in layers)
        spikes = sum(len(s) for o in model.outputs for s in o)
        events = sum(len(s) for i in model.inputs for s in i)
        dut._log.info("%d samples x %d steps: %d input events, %d output spikes, %d cycles, "
                      "%d saturations, %d comparisons", model.batch, model.steps, events, spikes,
                      total_cycles, sats, checker.compared)
        assert spikes > 0, "degenerate test: the output layer never spikes"
        if stim["expect_mismatch"]:
            assert checker.mismatches, "corrupted weight memory went unnoticed"
            dut._log.info("mutation detected: %d differences, first: %s",
                          len(checker.mismatches), checker.mismatches[0])
except ImportError:
    pass


# ---------------------------------------------------------------------- pytest runner


def _corrupt(manifest: dict, qmodel, x, sample_ids, seed, test_dir: Path,
             memory: str = "weights") -> None:
    """Flip the sign bit of one weight in its memory file. ``weights``: the output layer's
    weight into output neuron 0 from the presynaptic neuron that spikes most (so it reaches the
    membrane often); ``recurrent``: the first recurrent layer's weight into its neuron 0 from its
    own neuron that spikes most."""
    import snnc.hw
    from snnc.backends.golden.golden_sim import simulate_golden

    r = simulate_golden(qmodel, x, seed=seed, sample_ids=sample_ids, record=True)
    if memory == "weights":
        lay, prev = manifest["layers"][-1], manifest["layers"][-2]["name"]
        tensor = "weight"
    else:
        lay = next(l for l in manifest["layers"] if l["recurrent"] is not None)
        prev, tensor = lay["name"], "recurrent"
    bits = lay["parameters"]["W_W"]
    w = np.array(qmodel.weights[lay["name"]][tensor], dtype=np.int64)
    j = int(np.argmax(r.spikes[prev].sum(axis=(0, 1))))
    raw = (int(w[0, j]) & ((1 << bits) - 1)) ^ (1 << (bits - 1))
    w[0, j] = raw - (1 << bits) if raw >> (bits - 1) else raw
    snnc.hw.write_memh(test_dir / lay[memory]["file"],
                       snnc.hw.weight_words(w, lay["lanes"], bits), lay[memory]["word_bits"])


def _reload_writes(qmodel, new, top_manifest: dict) -> list[tuple[int, int, int]]:
    """Writes (w_layer, w_addr, w_data) that load every memory word of ``new``'s design into
    the design of ``qmodel``, then for every word two that must be ignored: the same word with
    an address bit above the layer's own address width set (its low bits name the word just
    loaded: a top that cut the address wrapped the garbage onto it), and the same word under the
    unused memory select 3."""
    from snnc.backends.verilog import plan_layers

    sel = top_manifest["write_select"]
    shift = sel["shift"] if sel else None
    width = next(p["width"] for p in top_manifest["ports"] if p["name"] == "w_addr")
    word_w = width - (2 if sel else 0)
    old_layers, new_layers = plan_layers(qmodel), plan_layers(new)
    writes, ignored = [], []
    for old, lay in zip(old_layers, new_layers):
        garbage = (1 << (lay.p * lay.params["W_W"])) - 1
        for mem, words in ((0, lay.words), (1, lay.rec_words), (2, lay.bias_words)):
            for k, data in enumerate(words):
                base = (mem << shift) if sel else 0
                writes.append((lay.index, base | k, int(data)))
                if lay.wa_w < word_w:
                    ignored.append((lay.index, base | (1 << lay.wa_w) | k, garbage))
                if sel:
                    ignored.append((lay.index, (3 << shift) | k, garbage))
        assert old.words != lay.words      # the reload changes every layer
    assert ignored
    return writes + ignored


def _run(name: str, mutate: str | None = None, reload: bool = False) -> None:
    import hwsim
    from snnc.backends.verilog import generate

    problem = hwsim.toolchain_problem()
    if problem:
        pytest.skip(problem)
    qmodel, x, sample_ids, seed = design(name)
    gen = Path(tempfile.mkdtemp(prefix=f"cosim-{name}-"))
    try:
        manifest = generate(qmodel, gen)
        sources = [gen / f for f in manifest["files"]]
        bdir = hwsim.build(TOP, sources)
        test_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=bdir))
        for mem in manifest["memory_files"]:
            shutil.copyfile(gen / mem, test_dir / mem)
    finally:
        shutil.rmtree(gen, ignore_errors=True)
    if mutate:
        _corrupt(manifest, qmodel, x, sample_ids, seed, test_dir, mutate)
    stim = {"qmodel": qmodel, "x": x, "sample_ids": sample_ids, "seed": seed,
            "manifest": manifest, "expect_mismatch": bool(mutate)}
    if reload:      # the memory files hold weights of seed 1; the run-time writes load seed 2's
        from snnc.api import CompiledModel

        cm = CompiledModel(qmodel.graph)
        new = cm.quantize(cm.random_weights(seed=2))
        stim.update(qmodel=new, writes=_reload_writes(qmodel, new, manifest))
    with open(test_dir / STIM, "wb") as fh:
        pickle.dump(stim, fh)
    hwsim.run(TOP, bdir, "test_network_cosim", test_dir=test_dir,
              testcase="network_weight_reload" if reload else "network_matches_golden",
              extra_env={"SNNC_COSIM_STIM": str(test_dir / STIM)})


@pytest.mark.parametrize("name", ["small", "kinds", "digits", "recurrent", "narrow"])
def test_network_matches_golden(name):
    _run(name)


def test_network_cosim_detects_corrupted_weight():
    """Mutation check: one corrupted weight in a memory file must make the comparison fail."""
    _run("small", mutate="weights")


@pytest.mark.parametrize("name", ["small", "recurrent", "narrow"])
def test_network_weights_load_at_run_time(name):
    """Every memory word rewritten through the top's write port (another weight set), with
    writes past a layer's memories ignored; then bit-exact with the new weights' golden model."""
    _run(name, reload=True)


def test_network_cosim_detects_corrupted_recurrent_weight():
    """Mutation check on a recurrent weight (the recurrent layer's V memory file)."""
    _run("recurrent", mutate="recurrent")


@pytest.mark.parametrize("name", ["small", "kinds", "digits", "recurrent", "narrow"])
def test_generated_top_lint(name, tmp_path):
    """The generated top is clean Verilog-2005: Verilator -Wall silent, Icarus -g2005 and Yosys
    (hierarchy, proc, check -assert) accept it (each tool skipped when not installed)."""
    from snnc.backends.verilog import generate
    from tbutil import lint_generated

    qmodel, _, _, _ = design(name)
    manifest = generate(qmodel, tmp_path)
    if not lint_generated(list(manifest["files"]), TOP, tmp_path):
        pytest.skip("no Verilog tool installed")
