"""``snnc report``: reports about a compiled model, one section per report kind.

    snnc report MODEL [--weights W] [--seed S] [--lanes P] --fpga DEVICE [--freq MHZ]
                [--pnr-seed N] [--keep DIR] [--json]

A report kind is an option that asks for one section of the report; at least one is required.
Today there is one kind:

* ``--fpga ice40-up5k|ice40-hx8k|ecp5-25k``: generate the Verilog, synthesise it with Yosys and
  place and route it with nextpnr (``snnc.backends.verilog.fpga``): logic cells, flip-flops,
  block RAMs, DSPs, fmax, the critical path, whether it fits. No toolchain, or a design that
  does not fit, is an error (exit status 2).

Further kinds (``--efficiency``: spikes, synaptic operations, energy) add an entry to ``KINDS``:
an ``add_arguments(parser)`` function, the option's destination, and a ``run(ctx, args)`` that
returns the section (a JSON-able dict) and a ``text(section)`` that prints it.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Callable

from snnc.simulate_cmd import positive_int


@dataclass
class ReportContext:
    """What every report kind gets: the model, its quantised form and the notes so far."""

    path: str
    graph: object
    qmodel: object
    weights_file: str | None
    lanes: int | None
    notes: list


@dataclass(frozen=True)
class ReportKind:
    name: str                              # the key of the section in the JSON report
    dest: str                              # the argparse destination that asks for it
    add_arguments: Callable
    run: Callable                          # (ctx, args) -> dict
    text: Callable                         # (section) -> list of lines


# ------------------------------------------------------------------ --fpga

def _fpga_arguments(p) -> None:
    from snnc.backends.verilog.fpga import DEVICES

    g = p.add_argument_group("FPGA report (--fpga)")
    g.add_argument("--fpga", choices=tuple(DEVICES), metavar="DEVICE",
                   help=f"synthesise and place-and-route for DEVICE: {', '.join(DEVICES)}")
    g.add_argument("--freq", type=float, metavar="MHZ",
                   help="clock target for nextpnr (default: 75 MHz on iCE40 HX8K, 50 on UP5K, "
                        "85 on ECP5-25F)")
    g.add_argument("--pnr-seed", type=int, default=1, metavar="N",
                   help="nextpnr placement seed (default 1)")
    g.add_argument("--keep", metavar="DIR",
                   help="keep the generated design, scripts, logs and reports in DIR")


def _fpga_run(ctx: ReportContext, args) -> dict:
    from snnc.backends.verilog.fpga import fpga_report
    from snnc.errors import SnnError

    if args.freq is not None and not args.freq > 0:
        raise SnnError(None, f"--freq {args.freq:g}: must be a positive frequency in MHz")
    rep = fpga_report(ctx.qmodel, args.fpga, lanes=ctx.lanes, freq_mhz=args.freq,
                      seed=args.pnr_seed, work_dir=args.keep)
    hw = getattr(ctx.graph, "hardware", None)
    clock = getattr(hw, "clock", None) if hw is not None else None
    if clock and rep["fmax_mhz"] is not None:
        mhz = clock / 1e6 if clock > 1e4 else clock
        rep["model_clock_mhz"] = round(mhz, 3)
        rep["meets_model_clock"] = rep["fmax_mhz"] >= mhz
    if not rep["weights_in_bram"]:
        ctx.notes.append("a weight memory is not in block RAM: "
                         + ", ".join(k for k, v in rep["weight_bram"].items() if v == 0))
    return rep


def _fpga_text(r: dict) -> list[str]:
    res = r["resources"]

    def frac(k):
        v = res[k]
        return f"{v['used']}/{v['available']}" if v["available"] else f"{v['used']}"

    out = [f"FPGA: {r['title']}, {r['lanes']} lane(s) per layer "
           f"(yosys: {r['tools']['yosys']}, nextpnr: {r['tools']['nextpnr']})",
           f"  logic cells {frac('logic_cells')} ({res['logic_cells']['percent']}%), "
           f"LUT4 {res['luts']}, FF {res['ffs']}, block RAM {frac('bram')}, "
           f"DSP {frac('dsp')}, IO {frac('io')}",
           f"  logic cells per lane: {r['logic_cells_per_lane']} "
           f"({r['lane_units']} lanes in all layers)",
           "  block RAM per memory: " + ", ".join(f"{k} {v}" for k, v in
                                                  r["bram_by_memory"].items()),
           f"  weights in block RAM: {'yes' if r['weights_in_bram'] else 'NO'}",
           f"  fmax {r['fmax_mhz']} MHz (target {r['target_mhz']:g} MHz: "
           f"{'met' if r['meets_target'] else 'missed'})"
           + (f"; model clock {r['model_clock_mhz']:g} MHz: "
              f"{'met' if r['meets_model_clock'] else 'missed'}"
              if "model_clock_mhz" in r else "")]
    cp = r.get("critical_path")
    if cp:
        out.append(f"  critical path: {cp['delay_ns']} ns, {cp['logic_levels']} logic levels "
                   f"({cp['routing_ns']} ns routing), through {' -> '.join(cp['through'])}")
    out.append(f"  fits: {'yes' if r['fits'] else 'no'}")
    return out


KINDS: list[ReportKind] = [ReportKind("fpga", "fpga", _fpga_arguments, _fpga_run, _fpga_text)]


# ------------------------------------------------------------------ the command

def register(sub) -> None:
    p = sub.add_parser("report", help="report on a compiled model (FPGA resources and fmax)",
                       description="Compile a model and report on it. At least one report kind "
                                   "is required: " + ", ".join(f"--{k.dest}" for k in KINDS))
    p.add_argument("model", metavar="MODEL", help=".snn model file")
    p.add_argument("--weights", metavar="W", help="weights file (.npz, docs/weights.md); random "
                                                  "weights when left out")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the random weights (default 0)")
    p.add_argument("--lanes", type=positive_int, metavar="P",
                   help="neurons updated per cycle (default: the hardware block's lanes, or 4)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    for kind in KINDS:
        kind.add_arguments(p)
    p.set_defaults(func=cmd_report, _report_parser=p)


def cmd_report(args) -> int:
    from snnc.build import load
    from snnc.quantize import quantize

    wanted = [k for k in KINDS if getattr(args, k.dest, None) is not None]
    if not wanted:
        args._report_parser.error("at least one report kind is required: "
                                  + ", ".join(f"--{k.dest}" for k in KINDS))
    loaded = load(args.model)
    graph = loaded.graph
    for w in loaded.warnings:
        print(w.format(), file=sys.stderr)
    notes: list[str] = []
    if args.weights:
        from snnc.weights import load_weights

        weights = load_weights(args.weights, graph)
        for w in weights.warnings:
            print(w.format(), file=sys.stderr)
    else:
        from snnc.weights import DEFAULT_SCALE, random_weights

        weights = random_weights(graph, seed=args.seed)
        notes.append(f"no --weights given: random weights (seed {args.seed}, uniform "
                     f"+-{DEFAULT_SCALE:g}/sqrt(fan_in)); resources and timing do not depend on "
                     "the weight values")
    qmodel = quantize(graph, weights)
    ctx = ReportContext(args.model, graph, qmodel, args.weights, args.lanes, notes)
    sections = {k.name: k.run(ctx, args) for k in wanted}
    for note in list(qmodel.notes) + notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({"model": graph.name, "file": args.model, "weights": args.weights,
                          **sections, "notes": notes}, indent=2))
    else:
        for k in wanted:
            print(f"{graph.name}:")
            for line in k.text(sections[k.name]):
                print(line)
    return 0
