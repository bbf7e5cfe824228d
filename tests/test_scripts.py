"""The result scripts (scripts/reproduce_results.py, scripts/reproduce_asn.py): the committed
docs are what the scripts render from the committed measurements, and ``--out`` writes them
elsewhere (a researcher re-running them need not overwrite docs/)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [("reproduce_results.py", "results"), ("reproduce_asn.py", "results_asn")]


def run(script, *args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.parametrize("script,stem", SCRIPTS)
def test_the_docs_are_the_scripts_rendering_of_their_measurements_and_out_writes_elsewhere(
        tmp_path, script, stem):
    out = tmp_path / "new" / "folder"
    before = (ROOT / "docs" / f"{stem}.md").read_text()
    r = run(script, "--from-json", str(ROOT / "docs" / f"{stem}.json"), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == [f"{stem}.md"]       # rendering only: the JSON is the input
    assert (out / f"{stem}.md").read_text() == before       # docs/ is the committed rendering
    assert (ROOT / "docs" / f"{stem}.md").read_text() == before


@pytest.mark.parametrize("script,stem", SCRIPTS)
def test_out_refuses_a_file_and_no_write(tmp_path, script, stem):
    f = tmp_path / "f"
    f.write_text("x")
    r = run(script, "--out", str(f))
    assert r.returncode == 2 and f"argument --out: '{f}' is a file, not a folder" in r.stderr, r.stderr
    r = run(script, "--out", str(tmp_path / "d"), "--no-write")
    assert r.returncode == 2 and "--out and --no-write: --no-write writes nothing" in r.stderr, r.stderr


def bench(script, *args):
    return subprocess.run([sys.executable, str(ROOT / "bench" / script), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_the_quick_benchmarks_still_run():
    """The benchmarks are run by hand (their figures are in docs/performance.md), not by the
    suite; the two quick ones run here at a tiny size so that a change that breaks them shows."""
    r = bench("check_speed.py", "--lines", "60", "--runs", "1")
    assert r.returncode == 0, r.stderr
    assert "ratio to the 1 s target:" in r.stdout and "snnc check (in process" in r.stdout
    r = bench("sim_throughput.py", "--batch", "4", "--steps", "3", "--repeats", "1")
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if "samples/s" in l]
    assert [l.split()[0] for l in lines] == ["digits", "mnist"], r.stdout
    assert all("golden/float" in l for l in lines)
