"""FPGA resources and fmax of the generated accelerator (docs/performance.md, "FPGA resources and
fmax"): the digits model at P = 1, 2, 4, 8 lanes on the iCE40 HX8K, iCE40 UP5K and ECP5-25F, and
the same network with other hidden-layer sizes (logic should not grow with the neuron count).

Each design goes through ``snnc.backends.verilog.fpga.fpga_report`` (Yosys + nextpnr, one job at
a time, fixed nextpnr seed); a design that does not fit is listed with its synthesis figures and
the resource that overflows. Takes minutes per design (about an hour for everything on 2 cores).

    python bench/fpga_report.py [--devices ice40-hx8k,...] [--lanes 1,2,4,8] [--sizes 32,512]
                                [--size-devices ice40-hx8k,ecp5-25k] [--decay multiply|shift]
                                [--output-lanes N] [--leak-digits N]
                                [--out results.json] [--from results.json]

``--devices`` and ``--lanes`` choose the digits designs, ``--sizes`` (at P = 4) and
``--size-devices`` the other hidden sizes; an empty list (``--lanes ""``, ``--sizes ""``) leaves
that part out.

``--decay shift`` adds ``decay = shift`` to the model's hardware block (the leak as one subtractor,
docs/semantics.md section 4); ``--output-lanes N`` gives the output layer its own ``lanes = N``
(docs/language.md section 9), so that only the hidden layer's lanes follow ``--lanes``;
``--leak-digits N`` adds ``leak_digits = N`` (docs/semantics.md section 4).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from snnc.argtypes import bounded, lanes, positive_int  # noqa: E402
from snnc.catalog import HARDWARE_SETTINGS  # noqa: E402
from snnc.ir import MAX_LANES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "examples" / "digits.snn"
TINYODIN = {"luts": 2981, "fmax_ecp5": 40.0, "cycles_per_sop": 2}
SPIKER = {"logic_cells": 7612, "ms_per_image": 0.78}


def load_qmodel(hidden: int | None, decay: str | None = None, output_lanes: int | None = None,
                leak_digits: int | None = None):
    from snnc.build import load
    from snnc.quantize import quantize
    from snnc.weights import random_weights

    text = DIGITS.read_text()
    edits = []
    if hidden is not None:
        edits.append((r"dense\(pixels, 128\)", f"dense(pixels, {hidden})"))
    if decay is not None:
        edits.append((r"\n    lanes = 4\n", f"\n    lanes = 4\n    decay = {decay}\n"))
    if output_lanes is not None:
        edits.append((r"dense\(hidden, 10\)", f"dense(hidden, 10, lanes = {output_lanes})"))
    if leak_digits is not None:
        edits.append((r"\n    clock = ", f"\n    leak_digits = {leak_digits}\n    clock = "))
    for pattern, new in edits:
        text, n = re.subn(pattern, new, text)
        assert n == 1, "examples/digits.snn changed: update the bench"
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "digits.snn"
        p.write_text(text)
        graph = load(str(p)).graph
    return quantize(graph, random_weights(graph, seed=0))


def run_one(hidden, lanes: int, device: str, decay: str | None = None,
            output_lanes: int | None = None, leak_digits: int | None = None) -> dict:
    from snnc.backends.verilog.fpga import fpga_report
    from snnc.errors import SnnError

    name = "digits 64-128-10" if hidden is None else f"64-{hidden}-10"
    if decay is not None:
        name += f", decay = {decay}"
    if output_lanes is not None:
        name += f", output lanes = {output_lanes}"
    if leak_digits is not None:
        name += f", leak_digits = {leak_digits}"
    row = {"net": name, "hidden": hidden or 128, "lanes": lanes, "device": device,
           "output_lanes": output_lanes}
    t0 = time.monotonic()
    try:
        rep = fpga_report(load_qmodel(hidden, decay, output_lanes, leak_digits), device,
                          lanes=lanes)
    except SnnError as exc:
        # with synthesis figures: the design did not fit; without: the flow failed (no tools,
        # a Yosys or nextpnr error), which says nothing about fitting
        synthesis = getattr(exc, "synthesis", None)
        row.update(fits=False if synthesis else None, error=exc.message, synthesis=synthesis)
    else:
        res = rep["resources"]
        row.update(fits=rep["fits"], logic_cells=res["logic_cells"]["used"],
                   logic_cells_available=res["logic_cells"]["available"], luts=res["luts"],
                   ffs=res["ffs"], bram=res["bram"]["used"], dsp=res["dsp"]["used"],
                   fmax=rep["fmax_mhz"], target=rep["target_mhz"],
                   lc_per_lane=rep["logic_cells_per_lane"], weights_in_bram=rep["weights_in_bram"],
                   bram_by_memory=rep["bram_by_memory"], dsp_mapping=rep["dsp_mapping"],
                   critical_path=rep["critical_path"], harness=rep["harness"],
                   sweep_units=rep["sweep_units_by_layer"])      # narrow sweeps on the HX8K
    row["seconds"] = round(time.monotonic() - t0, 1)
    return row


def _count(v) -> str:
    return "-" if v is None else f"{v:,}"


def table(rows: list[dict]) -> str:
    out = ["| net | device | P | logic cells | LUT4 | FF | BRAM | DSP | fmax MHz | target | "
           "LC / lane | fits |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lanes_total = r["lanes"] + (r.get("output_lanes") or r["lanes"])    # both layers
        if "logic_cells" in r:
            out.append(f"| {r['net']} | {r['device']} | {r['lanes']} | {r['logic_cells']:,} | "
                       f"{r['luts']:,} | {r['ffs']:,} | {r['bram']} | {r['dsp']} | "
                       f"{r['fmax'] if r['fmax'] is None else format(r['fmax'], '.1f')} | {r['target']:g} | "
                       f"{r['logic_cells'] / lanes_total:.0f} | yes |")
        else:
            s = r.get("synthesis") or {}
            why = r["error"].split(": ", 1)[-1]
            low = max(s.get("luts", 0), s.get("ffs", 0))
            out.append(f"| {r['net']} | {r['device']} | {r['lanes']} | "
                       f"{f'(>= {low:,})' if low else '-'} | {_count(s.get('luts'))} | "
                       f"{_count(s.get('ffs'))} | {s.get('bram', '-')} | {s.get('dsp', '-')} | "
                       f"- | - | - | {'no' if r.get('fits') is False else 'failed'}: {why} |")
    return "\n".join(out)


def marginal(rows: list[dict]) -> list[str]:
    """Logic cells added per lane (slope between P = 1 and the largest P that fits), per device
    and variant (with ``--output-lanes`` only the hidden layer's lanes grow)."""
    out = []
    for dev, net in sorted({(r["device"], r["net"]) for r in rows if r["hidden"] == 128}):
        same = [r for r in rows if r["device"] == dev and r["net"] == net and "logic_cells" in r]
        pts = sorted((r["lanes"], r["logic_cells"]) for r in same)
        if len(pts) >= 2:
            (p0, l0), (p1, l1) = pts[0], pts[-1]
            layers = 1 if same[0].get("output_lanes") else 2
            out.append(f"{dev}, {net}: {(l1 - l0) / ((p1 - p0) * layers):.0f} logic cells per "
                       f"added lane (P = {p0} -> {p1}, "
                       f"{'the hidden layer' if layers == 1 else 'both layers'})")
    return out


def _ints(text: str) -> list[int]:
    """A comma-separated list of positive integers; '' is the empty list."""
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of "
                                         "integers") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"the values must be positive, not '{text}'")
    return values


def _lane_list(text: str) -> list[int]:
    """:func:`_ints` of lanes: each 1 to ``ir.MAX_LANES``, as a model's `lanes` (was a traceback
    per design)."""
    values = _ints(text)
    if any(v > MAX_LANES for v in values):
        raise argparse.ArgumentTypeError(f"the lanes must be between 1 and {MAX_LANES}, not "
                                         f"'{text}'")
    return values


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", default="ice40-hx8k,ice40-up5k,ecp5-25k",
                    help="devices of the digits designs")
    ap.add_argument("--lanes", type=_lane_list, default="1,2,4,8",
                    help="lanes of the digits designs ('' for none)")
    ap.add_argument("--sizes", type=_ints, default="32,512",
                    help="other hidden sizes, at P = 4 ('' for none)")
    ap.add_argument("--size-devices", default="ice40-hx8k,ecp5-25k",
                    help="devices of the other hidden sizes")
    ap.add_argument("--decay", choices=("multiply", "shift"),
                    help="set the hardware block's decay (default: the model's, multiply)")
    ap.add_argument("--output-lanes", type=lanes, metavar="N",
                    help="the output layer's own lanes (default: --lanes, as the others)")
    leak_digits = next(p for p in HARDWARE_SETTINGS if p.name == "leak_digits")
    ap.add_argument("--leak-digits", type=bounded(positive_int, leak_digits.check), metavar="N",
                    help="add leak_digits = N to the hardware block (multiply leak coefficients "
                         "of at most N signed digits)")
    ap.add_argument("--out", help="write the rows as JSON (after every design)")
    ap.add_argument("--from", dest="src", help="print the table of a saved JSON and exit")
    args = ap.parse_args(argv)
    if args.out and not Path(args.out).resolve().parent.is_dir():    # not after a minute's design
        ap.error(f"--out {args.out}: folder {Path(args.out).resolve().parent} does not exist")
    if args.src:
        try:
            rows = json.loads(Path(args.src).read_text())
        except (OSError, ValueError) as exc:
            ap.error(f"--from {args.src}: cannot read a saved table ({exc})")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            ap.error(f"--from {args.src}: not a table saved by --out (a list of rows)")
    else:
        jobs = [(None, p, d) for d in args.devices.split(",") for p in args.lanes]
        jobs += [(h, 4, d) for h in args.sizes for d in args.size_devices.split(",")]
        rows = []
        for hidden, p, dev in jobs:
            row = run_one(hidden, p, dev, args.decay, args.output_lanes, args.leak_digits)
            rows.append(row)
            brief = (f"{row.get('logic_cells')} LC, {row.get('bram')} BRAM, {row.get('fmax')} MHz"
                     if "logic_cells" in row else row["error"])
            print(f"[{row['seconds']:6.1f} s] {row['net']} P={p} {dev}: {brief}",
                  file=sys.stderr, flush=True)
            if args.out:
                Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    print(table(rows))
    print()
    for line in marginal(rows):
        print(line)
    print(f"\ntinyODIN (ECP5-25F, open tools): {TINYODIN['luts']:,} LUT, ~{TINYODIN['fmax_ecp5']:g} "
          f"MHz, {TINYODIN['cycles_per_sop']} cycles per SOP; Spiker+: {SPIKER['logic_cells']:,} "
          f"logic cells, {SPIKER['ms_per_image']} ms per MNIST image (clock-driven)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
