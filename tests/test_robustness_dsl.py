"""The front end at its documented limits (docs/language.md section 13): nesting, long chains,
constants out of range. The errors themselves are in tests/test_invalid_models.py."""
from __future__ import annotations

import numpy as np
import pytest

import snnc
from snnc.build import load_text
from snnc.cli import main
from snnc.dsl.parser import MAX_DEPTH, MAX_NESTING

STEPS = "model m\ntime {{ dt = 1 ms; steps = {} }}\n"


def test_the_limits_are_the_documented_ones():
    assert (MAX_NESTING, MAX_DEPTH) == (100, 200)


@pytest.mark.parametrize("expr,steps", [
    ("-" * 100 + "25", 25),                                   # 100 levels of `-`
    ("(1 + " * 99 + "1 + 1" + ")" * 99, 101),                 # 100 levels of sums
    (" + ".join(["1"] * 201), 201),                           # a chain is one level: 200 `+`
    (" + ".join(["(" + " * ".join(["2"] * 3) + ")"] * 100), 800),  # 100 products in a sum
])
def test_nesting_up_to_the_limits_is_accepted(expr, steps):
    """Exactly 100 levels were refused (the statement around an expression counted 4 or 5 levels),
    and so was a sum of 97 terms (each `+` of a chain counted as a level)."""
    text = STEPS.format(expr) + ("input x[4] = rate\nlayer l = dense(x, 2) with IF\n"
                                 "output l = count\n")
    assert load_text(text, "n.snn").graph.time.steps == steps


NEURON = """model deep
time {{ dt = 1 ms; steps = 6 }}
neuron Deep {{
    state v = 0
    update {{ v = {update} }}
    spike when v > 100
    on spike {{ v = 0 }}
}}
input x[5] = direct
layer h = dense(x, 3) with Deep
output h = membrane
hardware {{ state = fixed<24,8> }}
"""


@pytest.mark.parametrize("deep,plain", [
    ("v" + " + input" * MAX_DEPTH, f"v + {MAX_DEPTH} * input"),       # 200 operators deep
    ("-" * 99 + "(v + input)", "-(v + input)"),                       # 100 levels
    ("min(" * 99 + "v + input" + ", 50)" * 99, "min(v + input, 50)"),  # 99 calls and a sum
])
def test_expressions_at_the_limits_run_in_every_backend(deep, plain, tmp_path):
    """A user neuron's expression as deep as allowed goes through every pass after the parser
    (checks, quantizer, golden and float models, QAT, HLS and Verilog) without running out of
    recursion, and computes what the same expression written shallowly does."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 5))
    a = snnc.loads(NEURON.format(update=deep), "deep.snn")
    b = snnc.loads(NEURON.format(update=plain), "plain.snn")
    w = a.random_weights(seed=1)
    golden_a = a.simulate(x, w, backend="golden")
    golden_b = b.simulate(x, w, backend="golden")
    np.testing.assert_array_equal(golden_a.outputs["h"].membrane, golden_b.outputs["h"].membrane)
    assert np.abs(golden_a.outputs["h"].membrane).max() > 0
    np.testing.assert_allclose(a.simulate(x, w).outputs["h"].membrane,
                               b.simulate(x, w).outputs["h"].membrane, rtol=1e-9)
    a.to_torch(w, qat=True)(a.encode(x))
    path = tmp_path / "deep.snn"
    path.write_text(NEURON.format(update=deep))
    for target in ("hls", "verilog"):
        assert main(["compile", "--target", target, "-o", str(tmp_path / target), str(path)]) == 0


OVERFLOWING = """model q
time { dt = 1 ms; steps = 10 }
input x[4] = rate
neuron Big {
    state v = 0
    update { v = exp(1000) * v + input }
    spike when v > 1
    on spike { v = 0 }
}
layer h = dense(x, 3) with Big
output h = count
"""


@pytest.mark.parametrize("command", [
    ["check"], ["compile", "--target", "hls", "-o", "OUT"],
    ["simulate", "--backend", "golden", "--input", "X"], ["simulate", "--input", "X"]])
def test_an_overflowing_constant_is_a_located_error_of_every_command(command, tmp_path, capsys):
    """It was an internal error (exit 70) of `compile` and `simulate --backend golden`, and passed
    `check` and the float model (which computed inf and nan)."""
    path = tmp_path / "big.snn"
    path.write_text(OVERFLOWING)
    np.save(tmp_path / "x.npy", np.full((2, 4), 0.5))
    args = [str(tmp_path / "out") if a == "OUT" else str(tmp_path / "x.npy") if a == "X" else a
            for a in command]
    assert main(args + [str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[:3] == [
        f"{path}:6:18: error: `exp(1000)` is out of range (it overflows floating point, beyond "
        "1.8e308)",
        "    6 |     update { v = exp(1000) * v + input }",
        "      |                  ^^^^^^^^^"]


@pytest.mark.parametrize("written,shape", [
    ("1e2", (100,)), ("4.0", (4,)), ("4.", (4,)), ("1.6E+1", (16,)), (".2e1", (2,)),
    ("1, 8.0, 8e0,", (1, 8, 8)),
])
def test_a_shape_takes_the_integers_of_section_5(written, shape):
    """Where an integer is expected a number with a zero fraction is accepted (docs/language.md
    section 5); shapes took only digits (`x[1e2]` was "unknown unit 'e2'", `x[4.0]` "unexpected
    number .0")."""
    text = (STEPS.format(5) + f"input x[{written}] = rate\nlayer l = flatten(x)\n"
            "layer o = dense(l, 2) with IF\noutput o = count\n")
    [x] = load_text(text, "s.snn").graph.inputs
    assert x.shape == shape
