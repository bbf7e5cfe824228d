"""The training loop's optimizers and learning-rate schedules (`optimizer` and `schedule` in a
model's train block): the rate each epoch starts with follows the schedule, also across the
switch to QAT, each optimizer is the one named, with its stated settings, and each loss is
the stated function of its readout."""
from __future__ import annotations

import math
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from snnc.backends.torch.train import QAT_LR_SCALE, TrainConfig, _optimizer, train  # noqa: E402
from snnc.build import load_text  # noqa: E402

NET = """model tiny
time { dt = 1 ms; steps = 3 }
input x[4] = rate(gain = 1.0)
layer h = dense(x, 5) with LIF(tau_mem = 5 ms, threshold = 0.5)
layer o = dense(h, 2) with LIF(tau_mem = 5 ms, threshold = 0.5)
output o = count
hardware { weights = fixed<8,6>; state = fixed<16,8> }
"""

SAMPLES, BATCH, EPOCHS, LR = 10, 4, 4, 0.01
BATCHES = math.ceil(SAMPLES / BATCH)          # 3 optimizer steps per epoch
TOTAL = EPOCHS * BATCHES


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((SAMPLES, 4))
    y = (x[:, 0] > x[:, 1]).astype(np.int64)
    return types.SimpleNamespace(x_train=x, y_train=y, x_test=x[:4], y_test=y[:4])


def _epoch_lrs(**cfg):
    graph = load_text(NET, "tiny.snn").graph
    config = TrainConfig(epochs=EPOCHS, batch_size=BATCH, lr=LR, seed=1, **cfg)
    result = train(graph, _data(), config)
    return [log.lr for log in result.history]


def _cosine(step):
    return LR * 0.5 * (1 + math.cos(math.pi * step / TOTAL))


def _step(step):
    return LR * 0.3 ** (step // (TOTAL // 3))


@pytest.mark.parametrize("schedule, expected", [
    ("none", [LR] * EPOCHS),
    ("cosine", [_cosine(e * BATCHES) for e in range(EPOCHS)]),
    ("step", [_step(e * BATCHES) for e in range(EPOCHS)]),
])
def test_each_epoch_starts_at_the_schedules_rate(schedule, expected):
    assert _epoch_lrs(schedule=schedule) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("schedule, rate", [("none", lambda s: LR), ("cosine", _cosine),
                                            ("step", _step)])
def test_the_qat_epochs_run_at_a_tenth_of_the_schedules_rate(schedule, rate):
    lrs = _epoch_lrs(schedule=schedule, qat=True, qat_from_epoch=3)
    expected = [rate(e * BATCHES) * (QAT_LR_SCALE if e + 1 >= 3 else 1.0) for e in range(EPOCHS)]
    assert lrs == pytest.approx(expected, rel=1e-12)


def test_the_optimizers_are_the_ones_named():
    params = [torch.nn.Parameter(torch.zeros(3))]
    adam = _optimizer(TrainConfig(optimizer="adam", lr=0.5), params)
    adamw = _optimizer(TrainConfig(optimizer="adamw", lr=0.5), params)
    sgd = _optimizer(TrainConfig(optimizer="sgd", lr=0.5), params)
    assert type(adam) is torch.optim.Adam and adam.defaults["lr"] == 0.5
    assert type(adamw) is torch.optim.AdamW and adamw.defaults["weight_decay"] == 1e-2
    assert type(sgd) is torch.optim.SGD and sgd.defaults["momentum"] == 0.9
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        _optimizer(TrainConfig(optimizer="lbfgs"), params)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_every_optimizer_trains(optimizer):
    graph = load_text(NET, "tiny.snn").graph
    from snnc.weights import random_weights

    start = random_weights(graph, seed=1)
    result = train(graph, _data(), TrainConfig(epochs=2, batch_size=BATCH, lr=0.05, seed=1,
                                               optimizer=optimizer), weights=start)
    assert len(result.history) == 2
    assert any(not np.array_equal(result.weights[name][key], start[name][key])
               for name in start for key in start[name])


def _out(readout):
    first = types.SimpleNamespace(
        readout=readout, count=torch.tensor([[3.0, 1.0], [0.0, 4.0]]),
        membrane=torch.tensor([[8.0, -2.0], [1.0, 5.0]]),
        first_spike=torch.tensor([[1.0, 4.0], [4.0, 2.0]]))
    return types.SimpleNamespace(first=first)


def _xent(logits, labels):
    # -log softmax at the label, by hand
    return float(np.mean([np.log(np.exp(row).sum()) - row[k] for row, k in zip(logits, labels)]))


@pytest.mark.parametrize("loss, readout, expected", [
    ("cross_entropy", "count", _xent([[3.0, 1.0], [0.0, 4.0]], [0, 1])),
    ("cross_entropy", "membrane", _xent([[2.0, -0.5], [0.25, 1.25]], [0, 1])),   # / 4 steps
    ("cross_entropy", "first_spike", _xent([[-1.0, -4.0], [-4.0, -2.0]], [0, 1])),
    ("first_spike", "count", _xent([[-1.0, -4.0], [-4.0, -2.0]], [0, 1])),
    # targets: 0.8 * 4 steps for the label, 0.2 * 4 for the others
    ("mse_count", "count", float(np.mean(np.square(np.array([[3.0, 1.0], [0.0, 4.0]])
                                                   - [[3.2, 0.8], [0.8, 3.2]])))),
])
def test_each_loss_on_its_readout(loss, readout, expected):
    from snnc.backends.torch.train import loss_of

    got = loss_of(_out(readout), torch.tensor([0, 1]), TrainConfig(loss=loss), steps=4)
    assert float(got) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        loss_of(_out(readout), torch.tensor([0, 1]), TrainConfig(loss="hinge"), steps=4)
