"""Property tests past the parser: a model whose numbers, formats and hardware settings are
changed either fails with located errors (SnnError/SnnErrors) at loading, quantisation or code
generation, or runs through all of them: the golden (integer) simulation of two random samples,
the Verilog and the HLS generators. Never another exception (an ``internal error`` of the CLI).

Seeds are the examples' files; mutations replace a number (by extremes: 0, huge, tiny,
negative), a fixed-point format, or add a hardware setting. (tests/test_parser_properties.py
mutates the text itself and stops at loading.)
"""
from __future__ import annotations

import re

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snn_models import example_files
from snnc.api import CompiledModel
from snnc.build import build
from snnc.dsl.parser import parse_bytes
from snnc.errors import SnnError, SnnErrors

SEEDS = [(str(p), p.read_bytes()) for p in example_files()]
NUMBER = re.compile(rb"(?<![A-Za-z_<,])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
NUMBERS = [b"0", b"1", b"2", b"3", b"7", b"0.5", b"0.999", b"1e-9", b"0.0001", b"31", b"32",
           b"33", b"65535", b"65536", b"100000", b"1e9", b"1e30", b"-1", b"-0.5"]
FORMAT = re.compile(rb"u?fixed<\d+,\s*-?\d+>")
FORMATS = [b"fixed<2,0>", b"fixed<1,0>", b"fixed<32,16>", b"fixed<31,30>", b"fixed<4,8>",
           b"ufixed<8,8>", b"fixed<16,-4>", b"fixed<24,0>", b"ufixed<1,0>", b"fixed<8,7>"]
SETTINGS_LINES = [b"    leak_digits = 1\n", b"    leak_digits = 16\n", b"    decay = shift\n",
                  b"    lanes = 3\n", b"    lanes = 1\n"]


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    path, data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["number", "number", "format", "setting"]))
        if kind == "setting":
            i = data.find(b"hardware {")
            if i >= 0 and b"\n" in data[i:]:
                j = data.index(b"\n", i) + 1
                data = data[:j] + draw(st.sampled_from(SETTINGS_LINES)) + data[j:]
            continue
        pattern, values = (NUMBER, NUMBERS) if kind == "number" else (FORMAT, FORMATS)
        spots = list(pattern.finditer(data))
        if spots:
            m = draw(st.sampled_from(spots))
            data = data[:m.start()] + draw(st.sampled_from(values)) + data[m.end():]
    return path, data


def run_pipeline(path: str, data: bytes, tmp: str) -> str:
    """Load, quantise, simulate (golden, two random samples), generate Verilog and HLS; returns
    how far it got. User errors end it; any other exception fails the test."""
    from snnc.backends.hls.generator import generate_hls
    from snnc.backends.verilog import generate

    try:
        loaded = build(parse_bytes(data, path))
    except (SnnError, SnnErrors):
        return "load"
    model = CompiledModel(loaded.graph, loaded.warnings, path)
    weights = model.random_weights(0)
    try:
        qmodel = model.quantize(weights)
    except (SnnError, SnnErrors):
        return "quantize"
    rng = np.random.default_rng(0)
    x = {inp.name: rng.random((2, *inp.shape)).astype(np.float32) for inp in loaded.graph.inputs}
    try:
        model.simulate(next(iter(x.values())) if len(x) == 1 else x, weights=weights,
                       backend="golden")
    except (SnnError, SnnErrors):
        return "simulate"
    for name, gen in (("verilog", generate), ("hls", generate_hls)):
        try:
            gen(qmodel, f"{tmp}/{name}")
        except (SnnError, SnnErrors):
            return name
    return "done"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutated())
def test_mutated_models_fail_with_located_errors_or_run_through(tmp_path, case):
    run_pipeline(*case, str(tmp_path))


def test_the_seeds_run_through(tmp_path):
    """The unmutated examples get through every stage but the ones their constructs stop: the
    Verilog backend does not build the conv model nor the ReLU ANN."""
    reached = {p.rsplit("/", 1)[-1]: run_pipeline(p, d, str(tmp_path / str(i)))
               for i, (p, d) in enumerate(SEEDS)}
    assert reached.pop("conv.snn") == "verilog"
    assert reached.pop("digits_relu.snn") == "verilog"
    assert set(reached.values()) == {"done"}, reached
