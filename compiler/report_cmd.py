"""``snnc report``: reports about a compiled model, one section per report kind.

    snnc report MODEL [--weights W] [--seed S] [--lanes P] --fpga DEVICE [--freq MHZ]
                [--pnr-seed N] [--keep DIR] [--json]
    snnc report MODEL --weights W --efficiency [--dataset NAME] [--samples N] [--seed S]
                [--plots DIR] [--e-add PJ] [--e-mul PJ] [--e-mac PJ] [--no-payload-multiply]
                [--json]

A report kind is an option that asks for one section of the report; at least one is required.
The kinds:

* ``--fpga ice40-up5k|ice40-hx8k|ecp5-25k``: generate the Verilog, synthesise it with Yosys and
  place and route it with nextpnr (``snnc.backends.verilog.fpga``): logic cells, flip-flops,
  block RAMs, DSPs, fmax, the critical path, whether it fits. No toolchain, or a design that
  does not fit, is an error (exit status 2).

* ``--efficiency``: the golden model on the test split (``snnc.backends.golden.efficiency``,
  docs/efficiency.md): spikes, synaptic operations and the equivalent ANN's MACs per layer and
  inference, accuracy, steps to a stable decision, an energy estimate from stated per-operation
  costs (Horowitz, ISSCC 2014) and the accelerator's cycles from the Verilog cycle model. Needs
  ``--weights``; ``--seed`` then seeds the input encoders. ``--plots DIR`` writes PNG plots.

Further kinds add an entry to ``KINDS``:
an ``add_arguments(parser)`` function, the option's destination, and a ``run(ctx, args)`` that
returns the section (a JSON-able dict) and a ``text(section)`` that prints it; a ``check(ctx,
args)`` raises the errors that need no work, before any section runs (an FPGA flow takes
minutes).
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from typing import Callable

from snnc import argtypes, ir
from snnc.argtypes import positive_int


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
    check: Callable = lambda ctx, args: None   # (ctx, args): errors before any section runs


# ------------------------------------------------------------------ --fpga

def _fpga_arguments(p) -> None:
    from snnc.backends.verilog.fpga import DEVICES

    g = p.add_argument_group("FPGA report (--fpga)")
    g.add_argument("--fpga", choices=tuple(DEVICES), metavar="DEVICE",
                   help=f"synthesise and place-and-route for DEVICE: {', '.join(DEVICES)}")
    g.add_argument("--freq", type=argtypes.finite_float, metavar="MHZ",
                   help="clock target for nextpnr (default: 75 MHz on iCE40 HX8K, 50 on UP5K, "
                        "85 on ECP5-25F)")
    g.add_argument("--pnr-seed", type=argtypes.pnr_seed, metavar="N",
                   help="nextpnr placement seed (default 1)")
    g.add_argument("--keep", metavar="DIR",
                   help="keep the generated design, scripts, logs and reports in DIR: a new or "
                        "empty folder, or one an earlier --keep wrote (its files are replaced)")


#: the highest clock target taken by --freq (nextpnr failed on absurd ones without saying why)
MAX_FREQ_MHZ = 2000


def _fpga_check(ctx: ReportContext, args) -> None:
    from snnc.backends.verilog import check_supported
    from snnc.errors import SnnError
    from snnc.outdir import KEPT_LIST, check_folder, kept_files

    if args.freq is not None and not 0 < args.freq <= MAX_FREQ_MHZ:
        raise SnnError(None, f"--freq {args.freq:g}: must be a frequency above 0 and at most "
                             f"{MAX_FREQ_MHZ} MHz")
    check_supported(ctx.qmodel)          # before looking for the tools
    if args.keep:            # before the tools run (the folder is written after them)
        check_folder(args.keep, "snnc report --keep", kept_files, KEPT_LIST)


def _fpga_run(ctx: ReportContext, args) -> dict:
    from snnc.backends.verilog.fpga import DEFAULT_SEED, fpga_report

    rep = fpga_report(ctx.qmodel, args.fpga, lanes=ctx.lanes, freq_mhz=args.freq,
                      seed=DEFAULT_SEED if args.pnr_seed is None else args.pnr_seed,
                      work_dir=args.keep)
    hw = getattr(ctx.graph, "hardware", None)
    rep.update(model_clock(getattr(hw, "clock", None) if hw is not None else None,
                           rep["fmax_mhz"]))
    if not rep["weights_in_bram"]:
        ctx.notes.append("a weight memory is not in block RAM: "
                         + ", ".join(k for k, v in rep["weight_bram"].items() if v == 0))
    return rep


def model_clock(clock_hz, fmax_mhz) -> dict:
    """The model's clock (its hardware block's, always in Hz) in MHz and whether the placed design
    meets it: ``{}`` without a clock or an fmax. (A clock of 10 kHz or less was read as MHz.)"""
    if not clock_hz or fmax_mhz is None:
        return {}
    mhz = clock_hz / 1e6
    return {"model_clock_mhz": float(f"{mhz:.6g}"), "meets_model_clock": fmax_mhz >= mhz}


def _fpga_text(r: dict) -> list[str]:
    res = r["resources"]

    def frac(k):
        v = res[k]
        return f"{v['used']}/{v['available']}" if v["available"] else f"{v['used']}"

    narrow = ir.describe_narrow_sweeps(r["lanes_by_layer"], r.get("sweep_units_by_layer") or {})
    sweep = f"; narrow sweep: {narrow}" if narrow else ""
    out = [f"FPGA: {r['title']}, {ir.describe_lanes(r['lanes_by_layer'])}{sweep} "
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


# ------------------------------------------------------------------ --efficiency

def _nonnegative_pj(text: str) -> float:
    import argparse

    from snnc.argtypes import finite_float

    v = finite_float(text)    # ASCII digits, nothing that underflows to 0 (as every number)
    if not (0 <= v <= MAX_PJ):
        raise argparse.ArgumentTypeError(f"{text}: must be an energy from 0 to {MAX_PJ:g} pJ")
    return v


#: the largest per-operation energy taken (a microjoule: far above any circuit's; larger ones
#: overflowed the totals to inf)
MAX_PJ = 1e6


def _efficiency_arguments(p) -> None:
    from snnc.backends.golden.efficiency import EnergyCosts

    d = EnergyCosts()
    g = p.add_argument_group("efficiency report (--efficiency; needs --weights)")
    g.add_argument("--efficiency", action="store_const", const=True, default=None,
                   help="simulate the test split on the golden model: spikes, synaptic operations "
                        "(SOPs), the equivalent ANN's MACs, accuracy, steps to a stable decision, "
                        "energy estimate, accelerator cycles (docs/efficiency.md)")
    g.add_argument("--dataset", metavar="NAME",
                   help="digits, mnist1d or npz:PATH (default: the model's train block's)")
    g.add_argument("--samples", type=positive_int, metavar="N",
                   help="the first N test samples (default: the whole test split)")
    g.add_argument("--plots", metavar="DIR",
                   help="write accuracy_vs_step.png and spikes_per_layer.png into DIR")
    g.add_argument("--e-add", type=_nonnegative_pj, metavar="PJ",
                   help=f"energy of one accumulate (default {d.add_pj:g} pJ: 32-bit float add, "
                        "45 nm, Horowitz ISSCC 2014)")
    g.add_argument("--e-mul", type=_nonnegative_pj, metavar="PJ",
                   help=f"energy of one multiply (default {d.mul_pj:g} pJ: 32-bit float multiply)")
    g.add_argument("--e-mac", type=_nonnegative_pj, metavar="PJ",
                   help=f"energy of one ANN multiply-accumulate (default {d.mac_pj:g} pJ)")
    g.add_argument("--no-payload-multiply", action="store_const", const=True, default=None,
                   help="do not charge a multiply for the SOPs of graded events "
                        "(weight x payload); by default they cost add + multiply, binary spikes an add")


def _efficiency_dataset(ctx: ReportContext, args) -> str:
    """The data set to measure on; an error without trained weights or a data set."""
    from snnc.errors import SnnError

    graph = ctx.graph
    if not ctx.weights_file:
        raise SnnError(None, "--efficiency needs the model's trained weights",
                       "pass --weights W.npz (from snnc train or snnc convert)")
    name = args.dataset or (graph.train.dataset if graph.train is not None else None)
    if not name:
        raise SnnError(None, f"--efficiency: model '{graph.name}' names no data set",
                       "pass --dataset digits, mnist1d or npz:PATH")
    return name


def _efficiency_run(ctx: ReportContext, args) -> dict:
    from snnc.backends.golden.efficiency import (EnergyCosts, efficiency_report, measure,
                                                 write_plots)
    from snnc.datasets import fewer_samples_note, load_dataset, print_notes, require_samples
    from snnc.errors import SnnError
    from snnc.outdir import make_folder

    graph = ctx.graph
    if args.plots is not None:
        try:
            make_folder(args.plots)         # before the measurement, not after it
        except SnnError as err:            # "" was taken as no --plots
            raise SnnError(None, f"--plots: {err.message}") from None
    name = _efficiency_dataset(ctx, args)
    data = load_dataset(name, graph)
    print_notes(data.notes)
    require_samples(data, "test")
    x, y = data.x_test, data.y_test
    if args.samples is not None:
        if args.samples > len(x):
            ctx.notes.append(fewer_samples_note(args.samples, name, len(x)))
        x, y = x[:args.samples], y[:args.samples]
    default = EnergyCosts()
    costs = EnergyCosts(
        add_pj=default.add_pj if args.e_add is None else args.e_add,
        mul_pj=default.mul_pj if args.e_mul is None else args.e_mul,
        mac_pj=default.mac_pj if args.e_mac is None else args.e_mac,
        payload_multiply=not args.no_payload_multiply)
    given = [f"{option} {getattr(costs, field):g}" for option, field in
             (("--e-add", "add_pj"), ("--e-mul", "mul_pj"), ("--e-mac", "mac_pj"))
             if getattr(costs, field) != getattr(default, field)]
    if given:                                   # not Horowitz's figures any more
        costs = dataclasses.replace(costs, source="given on the command line (" + ", ".join(given)
                                    + (f"; the other costs: {default.source}" if len(given) < 3
                                       else "") + ")")
    # with --fpga, the cycle model of the design that section reports (its sweep units)
    eff = measure(ctx.qmodel, x, y, seed=args.seed, lanes=ctx.lanes,
                  device=getattr(args, "fpga", None))
    moot = [o for o, v in (("--e-mul", args.e_mul), ("--no-payload-multiply",
                                                     args.no_payload_multiply)) if v is not None]
    if moot and not any(layer.graded_sops for layer in eff.layers):
        ctx.notes.append(f"{', '.join(moot)} changes nothing: model '{graph.name}' has no graded "
                         "events (its spikes cost an add each)")
    rep = efficiency_report(eff, costs)
    rep["dataset"] = name
    ctx.notes.extend(rep["notes"])
    if args.plots is not None:
        try:
            rep["plots"] = write_plots(rep, args.plots)
        except ImportError:
            raise SnnError(None, "--plots needs matplotlib", "pip install matplotlib") from None
        except OSError as exc:
            why = ("it is a file, not a folder" if os.path.isfile(args.plots)
                   else exc.strerror or str(exc))      # was "[Errno 17] File exists: ..."
            raise SnnError(None, f"--plots {args.plots}: cannot write the plots: {why}") from None
    return rep


def _efficiency_text(r: dict) -> list[str]:
    from snnc.backends.golden.efficiency import report_lines

    out = [f"data set: {r['dataset']}"] + report_lines(r)
    if r.get("plots"):
        out.append("  plots: " + ", ".join(r["plots"]))
    return out


KINDS: list[ReportKind] = [ReportKind("fpga", "fpga", _fpga_arguments, _fpga_run, _fpga_text,
                                      _fpga_check),
                           ReportKind("efficiency", "efficiency", _efficiency_arguments,
                                      _efficiency_run, _efficiency_text,
                                      lambda ctx, args: _efficiency_dataset(ctx, args) and None)]


# ------------------------------------------------------------------ the command

def register(sub) -> None:
    p = sub.add_parser("report", help="report on a compiled model (FPGA resources and fmax; "
                                      "efficiency)",
                       description="Compile a model and report on it. At least one report kind "
                                   "is required: " + ", ".join(f"--{k.dest}" for k in KINDS))
    p.add_argument("model", metavar="MODEL", help=".snn model file")
    p.add_argument("--weights", metavar="W", help="weights file (.npz, docs/weights.md); random "
                                                  "weights when left out")
    argtypes.add_seed(p, "seed of the random weights, or with --efficiency of the input "
                         "encoders (default 0)")
    p.add_argument("--lanes", type=argtypes.lanes, metavar="P",
                   help="neurons updated per cycle in the layers without their own `lanes` "
                        "(default: the hardware block's lanes, or 4)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    for kind in KINDS:
        kind.add_arguments(p)
    p.set_defaults(func=cmd_report, _report_parser=p)


def cmd_report(args) -> int:
    from snnc.compile_cmd import load_quantized
    from snnc.errors import SnnError

    wanted = [k for k in KINDS if getattr(args, k.dest, None) is not None]
    if not wanted:
        args._report_parser.error("at least one report kind is required: "
                                  + ", ".join(f"--{k.dest}" for k in KINDS))
    for kind, options in (("efficiency", (("--dataset", args.dataset), ("--samples", args.samples),
                                          ("--plots", args.plots), ("--e-add", args.e_add),
                                          ("--e-mul", args.e_mul), ("--e-mac", args.e_mac),
                                          ("--no-payload-multiply",
                                           args.no_payload_multiply))),
                          ("fpga", (("--freq", args.freq), ("--pnr-seed", args.pnr_seed),
                                    ("--keep", args.keep)))):
        stray = [o for o, v in options if v is not None]
        if getattr(args, kind) is None and stray:
            # an SnnError, as compile's and verify's option conflicts (JSON with --json)
            raise SnnError(None, f"{', '.join(stray)}: options of --{kind}, which is not given")
    if args.no_payload_multiply and args.e_mul is not None:
        raise SnnError(None, "--e-mul and --no-payload-multiply conflict: --e-mul is the cost "
                             "of a graded event's multiply, which --no-payload-multiply leaves "
                             "uncounted", "give one of the two")
    graph, qmodel, notes = load_quantized(
        args.model, args.weights, args.seed,
        "resources and timing do not depend on the weight values")
    notes += argtypes.unused_option_notes(args, graph, encodes=args.efficiency is not None)
    ctx = ReportContext(args.model, graph, qmodel, args.weights, args.lanes, notes)
    for k in wanted:
        k.check(ctx, args)
    sections = {k.name: k.run(ctx, args) for k in wanted}
    for note in qmodel.all_notes() + notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({"model": graph.name, "file": args.model, "weights": args.weights,
                          **sections, "notes": qmodel.all_notes() + notes}, indent=2))
    else:
        for k in wanted:
            print(f"{graph.name}:")
            for line in k.text(sections[k.name]):
                print(line)
    return 0
