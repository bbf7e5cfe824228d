"""Training a ``.snn`` model with BPTT and surrogate gradients (``snnc train``).

``train(graph, dataset, config)`` runs the epochs, logs loss / accuracy / spike rate per epoch,
and returns the trained float weights with the final test accuracy of the float reference model
(float64, as ``snnc simulate`` computes it) and of the bit-exact golden model. Everything is
deterministic for a seed and a number of threads: weight init, shuffling, and the encoders' spikes
(the encoder seed of epoch ``e`` is derived from the seed and ``e``; evaluation always uses the
seed itself). Another thread count
(``OMP_NUM_THREADS``, ``torch.set_num_threads``) sums the float gradients in another order, so the
weights can differ in their last bits and drift apart over the epochs.
"""
from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from snnc import ir
from snnc.errors import SnnError
from snnc.backends.torch.model import SNN


@dataclass
class TrainConfig:
    """Hyper-parameters; defaults come from the model's ``train`` block (see :func:`config_for`)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    schedule: str = "none"
    loss: str = "cross_entropy"
    spike_reg: float = 0.0
    tbptt: int = 0
    seed: int = 0
    qat: bool = False
    qat_from_epoch: int | None = None   # with qat: the first QAT epoch (default: the last 10%)
    eval_batch: int = 512
    golden: bool = True         # evaluate the trained weights on the golden model too


def config_for(graph: ir.Graph, **overrides) -> TrainConfig:
    """The train block's settings, then any command-line overrides that are not None."""
    t = graph.train
    cfg = TrainConfig()
    if t is not None:
        cfg = TrainConfig(epochs=t.epochs, batch_size=t.batch_size, lr=t.lr, optimizer=t.optimizer,
                          schedule=t.schedule, loss=t.loss, spike_reg=t.spike_reg, tbptt=t.tbptt,
                          seed=t.seed)
    for key, value in overrides.items():
        if value is not None:
            setattr(cfg, key, value)
    return cfg


@dataclass
class EpochLog:
    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float
    spike_rate: float          # spikes per neuron per step, hidden and output layers
    qat: bool
    seconds: float
    lr: float                  # the learning rate at the epoch's start


@dataclass
class TrainResult:
    weights: dict
    history: list[EpochLog] = field(default_factory=list)
    float_accuracy: float = float("nan")
    golden_accuracy: float | None = float("nan")    # None: not evaluated (cfg.golden false)
    qat_accuracy: float | None = None
    golden_notes: list[str] = field(default_factory=list)   # quantization notes, saturations


def _encoder_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919 + 1) & 0x7FFFFFFF


DIVERGED_HINT = ("lower the learning rate (--lr), or check the surrogate's parameters and the "
                 "data's scale")


def _diverged_hint(cfg: TrainConfig) -> str:
    """The hint of a diverged run: the spike-rate penalty first where it is large."""
    if cfg.spike_reg >= 1e3:
        return (f"lower the spike-rate penalty (--spike-reg {cfg.spike_reg:g}), or "
                + DIVERGED_HINT)
    return DIVERGED_HINT


def _tensor_name(param: str) -> str:
    """A module parameter's name as the weights file's tensor name (``layers.hidden.weight`` ->
    ``hidden/weight``)."""
    parts = param.split(".")
    return "/".join(parts[1:]) if parts[0] == "layers" and len(parts) == 3 else param


def _check_loss(loss: torch.Tensor, value: float, graph: ir.Graph, cfg: TrainConfig, epoch: int,
                batch: int) -> None:
    """A located error for a loss without a gradient (a readout the output's neurons give no
    gradient through) and a clear one for a loss (``value``) that is no longer finite (training
    diverged)."""
    out = graph.outputs[0]
    if not loss.requires_grad:
        layer = graph.node(out.source)
        relu = isinstance(getattr(layer, "neuron", None), ir.ReLU)
        raise SnnError(out.loc, f"the {cfg.loss} loss on output '{out.source}' ({out.readout} "
                                f"readout) has no gradient to train with",
                       "a ReLU output (an ANN's logits) trains with `loss = cross_entropy` on its "
                       "`membrane` readout" if relu else
                       "choose a readout and loss whose value depends on the weights")
    if not math.isfinite(value):
        raise SnnError(None, f"training diverged: the loss is {value} at epoch {epoch}, batch "
                             f"{batch}", _diverged_hint(cfg))


def loss_of(out, labels: torch.Tensor, cfg: TrainConfig, steps: int) -> torch.Tensor:
    """The configured loss on the first output's readout."""
    first = out.first
    if cfg.loss == "cross_entropy":
        if first.readout == "first_spike":
            logits = -first.first_spike
        elif first.readout == "membrane":
            logits = first.membrane / steps
        else:
            logits = first.count
        return F.cross_entropy(logits, labels)
    if cfg.loss == "first_spike":
        # earlier spikes for the right class: cross-entropy on negative first-spike times
        return F.cross_entropy(-first.first_spike, labels)
    if cfg.loss == "mse_count":
        # the right class spikes on 80% of the steps, the others on 20% (as snnTorch's mse_count_loss)
        counts = first.count
        target = torch.full_like(counts, 0.2 * steps)
        target.scatter_(1, labels[:, None], 0.8 * steps)
        return F.mse_loss(counts, target)
    raise ValueError(f"unknown loss {cfg.loss!r}")


def _per_neuron_and_step(counts, steps: int) -> torch.Tensor:
    """The sum of ``counts`` (``[B, *shape]`` per layer, summed over the steps) per neuron, sample
    and step."""
    total = sum(c.sum() for c in counts)
    neurons = sum(c[0].numel() for c in counts)
    return total / (neurons * counts[0].shape[0] * steps)


def spike_rate(counts: dict[str, torch.Tensor], steps: int) -> torch.Tensor:
    """Spikes per neuron and step of every layer (``counts``: ``SNNOutput.spike_counts()``)."""
    return _per_neuron_and_step(list(counts.values()), steps)


def activity_layers(graph: ir.Graph) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What the spike-rate regulariser (``spike_reg``) penalises: the spiking layers' spikes and
    the ReLU layers' activations. A ReLU layer's events (``X > 0``) carry no gradient, so the
    penalty takes its mean activation instead (an L1 activity penalty: lower activations are
    fewer spikes once the network is converted); an output ReLU read by its membrane (an ANN's
    logits) is left out, nothing reads its activation."""
    membrane_out = {o.source for o in graph.outputs if o.readout == "membrane"}
    read = {getattr(layer, "source", None) for layer in graph.layers}
    spiking, relu = [], []
    for layer in graph.layers:
        if isinstance(layer, ir.Flatten):
            continue
        if isinstance(getattr(layer, "neuron", None), ir.ReLU):
            if layer.name not in membrane_out or layer.name in read:
                relu.append(layer.name)
        else:
            spiking.append(layer.name)
    return tuple(spiking), tuple(relu)


def activity_penalty(out, counts: dict[str, torch.Tensor],
                     layers: tuple[tuple[str, ...], tuple[str, ...]], steps: int) -> torch.Tensor:
    """The regulariser's term per neuron and step: spikes of the spiking layers (``counts``, as
    for :func:`spike_rate`; through their surrogate gradients) plus activations of the ReLU
    layers (``layers`` from :func:`activity_layers`, not both empty)."""
    spiking, relu = layers
    return _per_neuron_and_step([counts[name] for name in spiking]
                                + [out.payloads[name].sum(0) for name in relu], steps)


def _optimizer(cfg: TrainConfig, params):
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-2)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}")


#: With --qat, the learning rate of the QAT epochs relative to the rate before them.
QAT_LR_SCALE = 0.1


def _scheduler(cfg: TrainConfig, opt, steps_per_epoch: int):
    total = max(1, cfg.epochs * steps_per_epoch)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 0.5 * (1 + math.cos(math.pi * i / total)))
    if cfg.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, total // 3), gamma=0.3)
    return None


def evaluate(model: SNN, x: np.ndarray, y: np.ndarray, seed: int, batch: int = 512,
             sample_offset: int = 0) -> float:
    """Accuracy of ``model`` (in its current float or QAT mode) on ``x, y``, in batches of at
    most ``batch`` samples (fewer where a batch of a long or wide model would not fit in memory:
    :func:`snnc.memory.torch_batch`)."""
    from snnc.memory import torch_batch

    model.eval()
    batch = torch_batch(model.graph, batch, "qat" if model.qat else "eval")
    correct = 0
    with torch.no_grad():
        for start in range(0, len(x), batch):
            ids = np.arange(start, min(start + batch, len(x))) + sample_offset
            xb = model._encode(x[start:start + batch], seed=seed, sample_ids=ids)
            pred = model(xb).predictions.cpu().numpy()
            correct += int((pred == y[start:start + batch]).sum())
    return correct / max(1, len(x))


class Progress:
    """A progress bar on a terminal, one line per epoch otherwise (CI logs stay readable)."""

    def __init__(self, stream=None, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        # what the logged rate counts: "events" where a ReLU layer's are its non-zero values
        self.rate_name = "spikes/neuron/step"

    def batch(self, epoch: int, epochs: int, done: int, total: int, loss: float) -> None:
        if not self.tty:
            return
        width = 30
        filled = int(width * done / max(1, total))
        self.stream.write(f"\repoch {epoch}/{epochs} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{done}/{total} loss {loss:.4f}")
        self.stream.flush()

    def epoch(self, log: EpochLog, epochs: int) -> None:
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r" + " " * 80 + "\r")
        self.stream.write(f"epoch {log.epoch}/{epochs}: loss {log.loss:.4f}  train "
                          f"{100 * log.train_accuracy:.2f}%  test {100 * log.test_accuracy:.2f}%  "
                          f"{self.rate_name} {log.spike_rate:.3f}{'  (QAT)' if log.qat else ''}  "
                          f"{log.seconds:.1f} s\n")
        self.stream.flush()


def _log_error(path: str, exc: OSError) -> SnnError:
    return SnnError(None, f"cannot write the training log {path}: {exc.strerror or exc}")


def _open_log(path: str):
    """The training log, open for writing (a named pipe or a device is refused: opening one
    waits for a reader, for ever)."""
    from snnc.argtypes import special_file

    kind = special_file(path)
    if kind:
        raise SnnError(None, f"cannot write the training log {path}: it is {kind}, not a "
                             "regular file")
    try:
        return open(path, "w")
    except OSError as exc:
        raise _log_error(path, exc) from None


def _write_log(f, path: str, line: str) -> None:
    """One epoch's line of the log, written through (a full disk is an SnnError, not an
    internal error after the training)."""
    try:
        f.write(line)
        f.flush()
    except OSError as exc:
        raise _log_error(path, exc) from None


def _close_log(f, path: str) -> None:
    try:
        f.close()
    except OSError as exc:
        raise _log_error(path, exc) from None


def train(graph: ir.Graph, dataset, cfg: TrainConfig, *, weights: dict | None = None,
          log_path: str | None = None, progress: Progress | None = None) -> TrainResult:
    """Train ``graph`` on ``dataset`` (x_train, y_train, x_test, y_test)."""
    from snnc.weights import random_weights

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    steps = graph.time.steps
    model = SNN(graph, weights if weights is not None else random_weights(graph, seed=cfg.seed),
                tbptt=cfg.tbptt)
    model.to(torch.float32)
    if not any(p.requires_grad for p in model.parameters()):
        raise SnnError(graph.layers[0].loc if graph.layers else None,
                       f"model '{graph.name}' has no trainable parameters (no layer with weights)")
    initial = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    penalised = activity_layers(graph) if cfg.spike_reg else None
    if penalised == ((), ()):
        raise SnnError(None, f"the spike-rate regulariser (spike_reg = {cfg.spike_reg:g}) has "
                             f"nothing to penalise in model '{graph.name}': no spiking layer, and "
                             "no ReLU layer but the output read by its membrane",
                       "leave spike_reg at 0 for this model")
    opt = _optimizer(cfg, model.parameters())
    n = len(dataset.x_train)
    batches = math.ceil(n / cfg.batch_size)
    sched = _scheduler(cfg, opt, batches)
    qat_from = None
    if cfg.qat:
        qat_from = (cfg.qat_from_epoch if cfg.qat_from_epoch is not None
                    else cfg.epochs - max(1, cfg.epochs // 10) + 1)
    result = TrainResult(weights={})
    progress = progress or Progress(enabled=False)
    if any(isinstance(getattr(l, "neuron", None), ir.ReLU) for l in graph.layers):
        progress.rate_name = "events/neuron/step"      # a ReLU layer's are non-zero values
    log_file = _open_log(log_path) if log_path else None
    test_offset = 0  # test sample i has encoder id i, as in `snnc simulate --dataset`
    try:
        for epoch in range(1, cfg.epochs + 1):
            start = time.perf_counter()
            qat_now = qat_from is not None and epoch >= qat_from
            if qat_now and epoch == qat_from:
                # the QAT epochs fine-tune the float solution through the integer arithmetic:
                # at a tenth of the learning rate (of the schedule's rate, when there is one)
                for group in opt.param_groups:
                    group["lr"] *= QAT_LR_SCALE
                if sched is not None and hasattr(sched, "base_lrs"):
                    sched.base_lrs = [lr * QAT_LR_SCALE for lr in sched.base_lrs]
            model.set_qat(qat_now)
            lr_now = float(opt.param_groups[0]["lr"])
            model.train()
            order = rng.permutation(n)
            enc_seed = _encoder_seed(cfg.seed, epoch)
            total_loss, correct, rate_sum = 0.0, 0, 0.0
            for b in range(batches):
                idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
                xb = model._encode(dataset.x_train[idx], seed=enc_seed, sample_ids=idx)
                yb = torch.as_tensor(dataset.y_train[idx], dtype=torch.long)
                out = model(xb)
                loss = loss_of(out, yb, cfg, steps)
                counts = out.spike_counts()
                rate = spike_rate(counts, steps)
                if penalised is not None:           # spike_reg > 0
                    loss = loss + cfg.spike_reg * activity_penalty(out, counts, penalised, steps)
                value = loss.item()         # one sync per batch, for the check and the log
                _check_loss(loss, value, graph, cfg, epoch, b + 1)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                total_loss += value * len(idx)
                correct += int((out.predictions == yb).sum())
                rate_sum += rate.item() * len(idx)
                progress.batch(epoch, cfg.epochs, b + 1, batches, value)
            bad = [_tensor_name(name) for name, p in model.named_parameters()
                   if not torch.isfinite(p).all()]
            if bad:
                raise SnnError(None, f"training diverged: after epoch {epoch} the weights "
                                     f"{', '.join(bad[:3])} are not finite", _diverged_hint(cfg))
            test_acc = evaluate(model, dataset.x_test, dataset.y_test, cfg.seed, cfg.eval_batch,
                                test_offset)
            log = EpochLog(epoch, total_loss / n, correct / n, test_acc, rate_sum / n, qat_now,
                           time.perf_counter() - start, lr_now)
            result.history.append(log)
            progress.epoch(log, cfg.epochs)
            if log_file:
                _write_log(log_file, log_path, json.dumps(asdict(log)) + "\n")
    finally:
        if log_file:
            _close_log(log_file, log_path)
    trained = [p.detach() for p in model.parameters() if p.requires_grad]
    if all(torch.equal(a, b) for a, b in zip(initial, trained)):
        result.golden_notes.append(
            "training changed no weight: every gradient was zero (a surrogate whose derivative "
            "vanishes, e.g. a very large slope or a very narrow width, or a loss the spikes do "
            "not reach)")
    result.weights = model.export_weights()
    model.set_qat(False)
    # the float reference (float64), as `snnc simulate --weights` evaluates the weights file: the
    # float32 torch model's accuracy differed from it (18.89% against 18.14%)
    result.float_accuracy = float_accuracy(graph, result.weights, dataset, cfg.seed, test_offset)
    if cfg.qat:
        model.set_qat(True)
        result.qat_accuracy = evaluate(model, dataset.x_test, dataset.y_test, cfg.seed,
                                       cfg.eval_batch, test_offset)
    result.golden_accuracy = None
    if cfg.golden:
        result.golden_accuracy = golden_accuracy(graph, result.weights, dataset, cfg.seed,
                                                 test_offset, result.golden_notes)
    return result


def float_accuracy(graph: ir.Graph, weights: dict, dataset, seed: int, offset: int) -> float:
    """Test accuracy of the float reference model (float64, :func:`simulate_float`) with these
    weights: the float accuracy ``snnc simulate`` reports for them."""
    from snnc.backends.golden.float_sim import simulate_float
    from snnc.memory import chunks

    correct = 0
    x, y = dataset.x_test, dataset.y_test
    for c in chunks(len(x), graph):
        ids = np.arange(c.start, c.stop) + offset
        res = simulate_float(graph, weights, x[c], seed=seed, sample_ids=ids)
        correct += int((res.predictions == y[c]).sum())
    return correct / max(1, len(x))


def golden_accuracy(graph: ir.Graph, weights: dict, dataset, seed: int, offset: int,
                    notes: list | None = None) -> float:
    """Test accuracy of the bit-exact golden model with these weights. ``notes`` (optional)
    receives the quantizer's notes and the saturations counted on the test split (nothing is
    clamped without saying so: an input beyond the default `inputs` format explains a golden
    accuracy far below the float one)."""
    from snnc.backends.golden.golden_sim import simulate_golden
    from snnc.memory import chunks
    from snnc.quantize import quantize

    q = quantize(graph, weights)
    correct = 0
    saturated: dict[tuple[str, str], int] = {}
    x, y = dataset.x_test, dataset.y_test
    for c in chunks(len(x), graph):
        ids = np.arange(c.start, c.stop) + offset
        res = simulate_golden(q, x[c], seed=seed, sample_ids=ids)
        correct += int((res.predictions == y[c]).sum())
        for name, st in res.stats.items():
            for state, count in st.saturation.items():
                if count:
                    saturated[(name, state)] = saturated.get((name, state), 0) + int(count)
    if notes is not None:
        notes.extend(q.all_notes())
        if saturated:
            notes.append("the golden model saturated on the test split: " + ", ".join(
                f"'{name}' {state} {count}" for (name, state), count in saturated.items())
                + " (values clamped to their formats; `snnc simulate --backend golden` shows "
                  "them per layer)")
    return correct / max(1, len(x))
