"""Work too large for the machine is refused before it starts (numpy's MemoryError had been an
internal error, exit 70, or the process was killed), and large models are simulated in smaller
chunks of samples."""
from __future__ import annotations

import numpy as np
import pytest

from snn_models import ROOT
from snnc import memory
from snnc.build import load, load_text
from snnc.cli import main
from snnc.datasets import bin_events
from snnc.errors import SnnError

HUGE = """model huge
time { dt = 1 ms; steps = 1000000 }
input x[64] = rate(gain = 1.0)
layer h = dense(x, 4096) with LIF(tau_mem = 10 ms)
layer o = dense(h, 10) with LIF(tau_mem = 10 ms)
output o = count
"""


def test_bytes_per_sample_counts_inputs_and_layers():
    g = load_text(HUGE, "huge.snn").graph
    assert memory.bytes_per_sample(g) == 1_000_000 * (24 * 64 + 26 * (4096 + 10))
    assert memory.bytes_per_sample(g, record=True) == 1_000_000 * (24 * 64 + 34 * (4096 + 10))


def test_chunks_shrink_for_large_models():
    digits = load(str(ROOT / "examples" / "digits.snn")).graph
    assert memory.samples_per_chunk(digits) == 256            # the examples are not affected
    assert memory.samples_per_chunk(digits, most=128) == 128
    g = load_text(HUGE.replace("1000000", "1000"), "big.snn").graph      # ~108 MB a sample
    assert memory.samples_per_chunk(g) == memory.CHUNK_BYTES // memory.bytes_per_sample(g) == 9
    assert memory.samples_per_chunk(load_text(HUGE, "huge.snn").graph) == 1


def test_chunks_cover_the_samples_once_in_order():
    g = load_text(HUGE.replace("1000000", "1000"), "big.snn").graph      # 9 samples a chunk
    assert [(c.start, c.stop) for c in memory.chunks(20, g)] == [(0, 9), (9, 18), (18, 20)]
    assert [(c.start, c.stop) for c in memory.chunks(20, g, most=8)] == [(0, 8), (8, 16),
                                                                         (16, 20)]
    assert list(memory.chunks(0, g)) == []


@pytest.mark.parametrize("n,said", [(0, "0 bytes"), (1023, "1023 bytes"), (1 << 20, "1 MiB"),
                                    (3 << 29, "1.5 GiB"), (5 << 40, "5 TiB")])
def test_size_text(n, said):
    assert memory.size_text(n) == said



def test_the_cli_refuses_it_with_exit_2(tmp_path, capsys, monkeypatch):
    model = tmp_path / "huge.snn"
    model.write_text(HUGE)
    monkeypatch.setattr(memory, "available_bytes", lambda: 8 << 30)
    assert main(["simulate", str(model), "--dataset", "digits", "--samples", "3"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: simulating 1 sample(s) of model 'huge' over 1000000 steps at once needs "
                   "about 100.9 GiB of memory, more than the 8 GiB available",
                   "      = hint: the simulators hold every step of every layer: use fewer steps "
                   "or neurons"]


def test_the_api_refuses_a_batch_too_large(monkeypatch):
    from snnc.api import load as api_load

    model = api_load(str(ROOT / "examples" / "digits.snn"))
    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 20)        # 1 MiB
    with pytest.raises(SnnError) as e:
        model.simulate(np.zeros((16, 64)), backend="float")
    assert e.value.message == ("simulating 16 sample(s) of model 'digits' over 25 steps at once "
                               "needs about 2 MiB of memory, more than the 1 MiB available")
    assert e.value.hint == ("the simulators hold every step of every layer: simulate fewer "
                            "samples at a time, or use fewer steps or neurons")


def test_binning_too_many_event_samples_is_refused(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 30)
    with pytest.raises(SnnError) as e:
        bin_events([0], [0], [0], [0], [0], n_samples=100_000, steps=100, shape=(2, 34, 34))
    assert e.value.message == ("binning 100000 event sample(s) into 100 steps of [2, 34, 34] "
                               "needs about 86.1 GiB of memory, more than the 1 GiB available")
    out = bin_events([0], [0], [0], [0], [0], n_samples=2, steps=3, shape=(2, 4, 4))
    assert out.shape == (2, 3, 2, 4, 4) and out.sum() == 1


def test_an_unforeseen_memory_error_is_a_clear_error(monkeypatch, capsys):
    import snnc.simulate_cmd as sim

    def no_memory(*a, **k):
        raise MemoryError("Unable to allocate 30.5 GiB for an array")
    monkeypatch.setattr(sim, "_run", no_memory)
    assert main(["simulate", str(ROOT / "examples" / "digits.snn"), "--samples", "2"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "error: out of memory (Unable to allocate 30.5 GiB for an array)"


def test_torch_batches_shrink_for_large_models():
    digits = load(str(ROOT / "examples" / "digits.snn")).graph
    assert memory.torch_batch(digits, 512) == 512                 # the examples are not affected
    g = load_text(HUGE.replace("1000000", "1000"), "big.snn").graph
    per_sample = 1000 * (16 * 64 + 12 * (4096 + 10))               # ~50 MB a sample (eval)
    assert memory.torch_bytes_per_sample(g, "eval") == per_sample
    assert memory.torch_batch(g, 512) == memory.CHUNK_BYTES // per_sample == 21
    assert memory.torch_bytes_per_sample(g, "qat") == 1000 * (16 * 64 + 34 * (4096 + 10))
    assert memory.torch_batch(load_text(HUGE, "huge.snn").graph, 512, "qat") == 1


def test_evaluation_in_smaller_batches_gives_the_same_accuracy(monkeypatch):
    from snnc.backends.torch import SNN
    from snnc.backends.torch.train import evaluate
    from snnc.datasets import load_dataset
    from snnc.weights import random_weights

    graph = load(str(ROOT / "examples" / "digits.snn")).graph
    data = load_dataset("digits", graph)
    model = SNN(graph, random_weights(graph, seed=3))
    x, y = data.x_test[:40], data.y_test[:40]
    whole = evaluate(model, x, y, seed=5)
    batches = []
    real_encode = model._encode
    monkeypatch.setattr(model, "_encode",
                        lambda xb, **k: batches.append(len(xb)) or real_encode(xb, **k))
    monkeypatch.setattr(memory, "CHUNK_BYTES", 3 * memory.torch_bytes_per_sample(graph, "eval"))
    assert evaluate(model, x, y, seed=5) == whole
    assert batches == [3] * 13 + [1]


def test_training_too_large_is_refused_before_it_starts(tmp_path, capsys, monkeypatch):
    model = tmp_path / "huge.snn"
    model.write_text(HUGE)
    out = tmp_path / "run"
    monkeypatch.setattr(memory, "available_bytes", lambda: 8 << 30)
    assert main(["train", str(model), "--dataset", "digits", "--epochs", "1", "--batch-size", "32",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    need = memory.size_text(32 * 1_000_000 * (16 * 64 + 17 * (4096 + 10)))
    assert need == "2.1 TiB"
    assert err[-2:] == [f"error: training model 'huge' on batches of 32 sample(s) over 1000000 "
                        f"steps needs about {need} of memory, more than the 8 GiB available",
                        "      = hint: backpropagation through time keeps every step of every "
                        "layer: use a smaller --batch-size, or fewer steps or neurons"]
    assert not out.exists()                                 # refused before the folder was made


def test_torch_running_out_of_memory_is_a_clear_error(tmp_path, capsys, monkeypatch):
    import snnc.backends.torch.train as torch_train

    out = tmp_path / "run"

    def no_memory(graph, dataset, cfg, log_path=None, progress=None):
        with open(log_path, "w") as f:
            f.write("")                                     # the log of a run cut off
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: "
                           "can't allocate memory: you tried to allocate 35184372088832 bytes.\n"
                           "Error code 12 (Cannot allocate memory)")
    monkeypatch.setattr(torch_train, "train", no_memory)
    assert main(["train", str(ROOT / "examples" / "digits.snn"), "--epochs", "1",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-2:] == ["error: out of memory ([enforce fail at alloc_cpu.cpp:117] data. "
                        "DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                        "35184372088832 bytes.)",
                        "      = hint: training keeps every step of every layer for the "
                        "gradients: use a smaller --batch-size, or fewer steps or neurons"]
    assert sorted(p.name for p in out.iterdir()) == []      # no log of the run that failed


def test_other_runtime_errors_stay_internal_errors(capsys, monkeypatch):
    import snnc.simulate_cmd as sim

    def broken(*a, **k):
        raise RuntimeError("shape mismatch")
    monkeypatch.setattr(sim, "_run", broken)
    assert main(["simulate", str(ROOT / "examples" / "digits.snn"), "--samples", "2"]) == 70
    assert "snnc: internal error: RuntimeError: shape mismatch" in capsys.readouterr().err
