"""The hand-written HLS header library (hw/hls) on its own: the fixed-point primitives of
snn_fixed.h against snnc.fixedpoint on random and extreme values, and the ap_int fallback's
wrap-around, compiled with plain g++. Skipped only when g++ is absent."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from snnc.backends.hls.generator import library_dir
from snnc.fixedpoint import cmul, decay_shift, rescale, rshift_round

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")

PROGRAM = r"""
#include <cstdio>
#include "snn_fixed.h"
int main() {
    long long x, y;
    ap_uint<32> cnt = 0;
    while (std::scanf("%lld %lld", &x, &y) == 2) {
        ap_int<8> w8 = x;
        ap_uint<5> u5 = x;
        std::printf("%lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld\n",
                    snn::rescale<6, 8>(x), snn::rescale<10, 8>(x), snn::rescale<8, 8>(x),
                    snn::cmul(y, x), snn::decay<snn::LEAK_SHIFT, 3>(x),
                    snn::decay<snn::LEAK_MULTIPLY, 59299>(x), snn::decay<snn::LEAK_NONE, 7>(x),
                    snn::mul_round<6>(x, y), snn::mul_round<0>(x, y),
                    snn::saturate<-2048, 2047>(x, cnt), w8.to_int64(), u5.to_int64());
    }
    std::printf("%lld\n", cnt.to_int64());
    return 0;
}
"""


def test_fixed_point_primitives_match_the_golden_model(tmp_path):
    src = tmp_path / "t.cpp"
    src.write_text(PROGRAM)
    exe = tmp_path / "t"
    subprocess.run(["g++", "-O2", "-std=c++17", "-Wall", "-Wextra", "-Werror",
                    "-DSNN_HLS_COMPAT_FALLBACK", "-I", str(library_dir()), str(src), "-o",
                    str(exe)], check=True)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.integers(-40000, 40000, 3000), [-1, 0, 1, -3, -4, 3, 2, -2, 127, -128,
                                                            128, -129, 2047, 2048, -2048, -2049,
                                                            -(1 << 30), (1 << 30) - 1]])
    y = np.concatenate([rng.integers(0, 1 << 16, 3000), rng.integers(-300, 300, 18)])
    text = "".join(f"{a} {b}\n" for a, b in zip(x, y))
    out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")
    got = np.array([[int(v) for v in line.split()] for line in lines[:len(x)]], dtype=np.int64)
    expected = np.stack([
        rescale(x, 6, 8), rescale(x, 10, 8), rescale(x, 8, 8), cmul(y, x), decay_shift(x, 3),
        cmul(np.int64(59299), x), x, rshift_round(x * y, 6), x * y, np.clip(x, -2048, 2047),
        ((x + 128) % 256) - 128, x % 32,
    ], axis=1)
    np.testing.assert_array_equal(got, expected)
    assert int(lines[len(x)]) == int(np.count_nonzero((x < -2048) | (x > 2047)))
