"""Comparing a hardware backend's run with the golden model, bit for bit.

Every backend that runs a quantised model outside numpy (the Verilog accelerator under Verilator,
the HLS C++ as a C simulation) returns a :class:`BackendRun`: the spikes of every layer per step,
the final states and the saturation counters, in the golden model's units. :func:`compare` checks
one against :func:`snnc.backends.golden.golden_sim.simulate_golden` (``record=True``) and names
the first difference: sample, step, layer, neuron, what was expected and what came out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snnc.backends.golden.result import SimResult


@dataclass
class BackendRun:
    """What a backend computed for a batch of ``batch`` samples of ``steps`` steps.

    * ``spikes``: layer name -> [T, B, N] uint8 (neurons flattened row-major). A backend that only
      observes the output layer gives that one; :func:`compare` checks the layers present.
    * ``final_state``: layer name -> state name (``U``, ``I``, ``A``, ...) -> [B, N] int64 after
      the last step, in the golden model's units; states a backend does not read back are absent.
    * ``saturation``: layer name -> state name -> clamps counted over the whole batch.
    * ``cycles``: [B] clock cycles per sample (``None`` where the backend has no cycle count);
      ``cycle_bound``: [B] the bound the backend's cycle model promises, when it has one.
    * ``membranes``: layer name -> [T, B, N] int64 membrane after every step, for the layers
      whose membrane the backend exposes step by step (what a ``membrane`` readout sums and a
      ``count`` readout breaks its ties with); compared per step like the spikes.
    """

    backend: str
    steps: int
    batch: int
    spikes: dict[str, np.ndarray]
    final_state: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    saturation: dict[str, dict[str, int]] = field(default_factory=dict)
    cycles: np.ndarray | None = None
    cycle_bound: np.ndarray | None = None
    membranes: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Mismatch:
    """The first difference found, in the order sample, step, layer (graph order), neuron."""

    what: str            # "spike", "state U", "saturation U", ...
    layer: str
    sample: int | None
    step: int | None
    neuron: int | None
    expected: int
    got: int

    def describe(self) -> str:
        where = [f"layer '{self.layer}'"]
        if self.sample is not None:
            where.append(f"sample {self.sample}")
        if self.step is not None:
            where.append(f"step {self.step}")
        if self.neuron is not None:
            where.append(f"neuron {self.neuron}")
        return f"{self.what} differs at {', '.join(where)}: expected {self.expected}, got {self.got}"

    def as_dict(self) -> dict:
        return {"what": self.what, "layer": self.layer, "sample": self.sample, "step": self.step,
                "neuron": self.neuron, "expected": self.expected, "got": self.got}


@dataclass
class Comparison:
    """The outcome of :func:`compare`: ``mismatches`` counts differing values over everything
    compared (``compared`` values), ``first`` is the earliest one."""

    compared: int
    mismatches: int
    first: Mismatch | None

    @property
    def match(self) -> bool:
        return self.mismatches == 0 and self.compared > 0


def _first_step_mismatch(what: str, layer: str, exp: np.ndarray,
                         got: np.ndarray) -> tuple[int, Mismatch | None]:
    """How many values of two [T, B, N] arrays differ, and the earliest difference."""
    diff = exp != got                                        # [T, B, N]
    count = int(diff.sum())
    if not count:
        return 0, None
    # earliest by sample, then step, then neuron
    b_t_n = np.argwhere(diff.transpose(1, 0, 2))
    b, t, n = (int(v) for v in b_t_n[0])
    return count, Mismatch(what, layer, b, t, n, int(exp[t, b, n]), int(got[t, b, n]))


def compare(golden: SimResult, run: BackendRun, layers: list[str]) -> Comparison:
    """Compare ``run`` with the recorded golden result, layers in graph order ``layers``.

    Spikes (and membranes, where the run has them) are compared per step for every layer the run
    recorded; final states for every state
    the run read back; saturation counters for every layer the run counted. Shapes must agree
    (a shape difference is a bug in the backend's runner and raises ``ValueError``)."""
    if golden.spikes is None:
        raise ValueError("compare needs a golden result simulated with record=True")
    if (run.steps, run.batch) != (golden.steps, golden.batch):
        raise ValueError(f"{run.backend} ran {run.batch} samples x {run.steps} steps, the golden "
                         f"model {golden.batch} x {golden.steps}")
    compared = mismatches = 0
    firsts: list[tuple[tuple, Mismatch]] = []
    per_step = (("spike", golden.spikes, run.spikes), ("membrane", golden.membranes, run.membranes))
    for rank, name in enumerate(layers):
        for what, expected, recorded in per_step:      # per-step values, where the run has them
            if name not in recorded:
                continue
            exp = np.asarray(expected[name]).reshape(golden.steps, golden.batch, -1)
            got = np.asarray(recorded[name]).reshape(run.steps, run.batch, -1)
            if exp.shape != got.shape:
                raise ValueError(f"{run.backend}: {what}s of '{name}' have shape {got.shape}, "
                                 f"expected {exp.shape}")
            compared += exp.size
            if what == "spike":                        # 0/1 in any dtype
                got = got.astype(exp.dtype)
            count, first = _first_step_mismatch(what, name, exp, got)
            mismatches += count
            if first is not None:
                firsts.append(((first.sample, first.step, rank, first.neuron), first))
        for key, got_state in run.final_state.get(name, {}).items():
            exp = np.asarray(golden.final_state[name][key]).reshape(golden.batch, -1)
            got = np.asarray(got_state).reshape(run.batch, -1)
            if exp.shape != got.shape:
                raise ValueError(f"{run.backend}: state {key} of '{name}' has shape {got.shape}, "
                                 f"expected {exp.shape}")
            compared += exp.size
            diff = np.argwhere(exp != got)
            mismatches += len(diff)
            if len(diff):
                b, n = (int(v) for v in diff[0])
                m = Mismatch(f"final state {key}", name, b, None, n, int(exp[b, n]), int(got[b, n]))
                firsts.append(((b, golden.steps, rank, n), m))
        for key, got_count in run.saturation.get(name, {}).items():
            exp_count = int(golden.stats[name].saturation.get(key, 0))
            compared += 1
            if int(got_count) != exp_count:
                mismatches += 1
                m = Mismatch(f"saturation count {key}", name, None, None, None, exp_count,
                             int(got_count))
                firsts.append(((golden.batch, golden.steps, rank, 0), m))
    first = min(firsts, key=lambda f: f[0])[1] if firsts else None
    return Comparison(compared, mismatches, first)
