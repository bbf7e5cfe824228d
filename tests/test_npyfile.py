"""A .npy header numpy would trust: a shape far larger than the data that follows (numpy
allocated 373 GiB before it looked: MemoryError, exit 70), or a header that does not parse
(tokenize.TokenError escaped). Weights files, data set files and --input samples report both as
clear errors, from the header alone."""
from __future__ import annotations

import io

import numpy as np
import pytest

from hostile_files import npy_with_header, npz_of
from snn_models import ROOT
from snnc.cli import main
from snnc.errors import SnnError
from snnc.npyfile import npy_problem
from snnc.weights import read_npz

DIGITS = str(ROOT / "examples" / "digits.snn")
HUGE = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000,), }"
SAID_HUGE = ("its .npy header gives shape [100000000000] of float32 (400,000,000,000 bytes), but "
             "only 16 bytes of data follow it")
OPEN_STRING = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), '''"
SAID_OPEN = "its .npy header cannot be read: EOF in multi-line string"

CASES = [
    (HUGE, SAID_HUGE),
    (OPEN_STRING, SAID_OPEN),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (4,) ++ }",
     "its .npy header cannot be read: its dictionary does not parse"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }",
     "its .npy header gives shape [3, 2] of float64 (48 bytes), but only 16 bytes of data "
     "follow it"),
    ("{'descr': '<zz', 'fortran_order': False, 'shape': (4,), }",
     "its .npy header cannot be read: descr is not a valid dtype descriptor: '<zz'"),
]


@pytest.mark.parametrize("header,said", CASES)
def test_npy_problem_reads_only_the_header(header, said):
    data = npy_with_header(header)
    assert npy_problem(io.BytesIO(data), len(data)) == said


def test_a_sound_array_has_no_problem():
    buf = io.BytesIO()
    np.save(buf, np.arange(12, dtype=np.int16).reshape(3, 4))
    assert npy_problem(io.BytesIO(buf.getvalue()), len(buf.getvalue())) is None
    buf = io.BytesIO()
    np.save(buf, np.zeros((0, 5)))                       # empty arrays need no data
    assert npy_problem(io.BytesIO(buf.getvalue()), len(buf.getvalue())) is None


@pytest.mark.parametrize("header,said", CASES)
def test_a_weights_or_data_set_file_with_a_lying_header(tmp_path, header, said):
    sound = io.BytesIO()
    np.save(sound, np.ones(3))
    path = npz_of(tmp_path / "w.npz", {"a.npy": sound.getvalue(), "w.npy": npy_with_header(header)})
    with pytest.raises(SnnError) as e:
        read_npz(str(path), "weights file")
    assert e.value.message == (f"weights file '{path}' is not a valid .npz archive "
                               f"(entry 'w': {said})")


def test_the_cli_reports_them_with_exit_2(tmp_path, capsys):
    npz = npz_of(tmp_path / "d.npz", {"x_train.npy": npy_with_header(HUGE)})
    npy = tmp_path / "x.npy"
    npy.write_bytes(npy_with_header(OPEN_STRING))
    for argv, said in (
            (["--weights", str(npz)], f"error: weights file '{npz}' is not a valid .npz archive "
                                      f"(entry 'x_train': {SAID_HUGE})"),
            (["--dataset", f"npz:{npz}"], f"error: data set file '{npz}' is not a valid .npz "
                                          f"archive (entry 'x_train': {SAID_HUGE})"),
            (["--input", str(npy)], f"error: input file '{npy}' cannot be read ({SAID_OPEN})")):
        assert main(["simulate", DIGITS, *argv]) == 2
        err = capsys.readouterr().err
        assert err.splitlines()[0] == said, err
