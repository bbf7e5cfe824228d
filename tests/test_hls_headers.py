"""The hand-written HLS header library (hw/hls) on its own: the fixed-point primitives of
snn_fixed.h against snnc.fixedpoint on random and extreme values, the ap_int fallback's
wrap-around, and the ASN neuron of snn_neuron.h against the golden model's stepper (single steps
from random and extreme states, closed-loop trajectories, saturation counts), compiled with plain
g++. Skipped only when g++ is absent."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from snnc.backends.golden.golden_sim import neuron_for_plan
from snnc.backends.hls.generator import library_dir
from snnc.fixedpoint import cmul, decay_shift, rescale, rshift_round
from snnc.quantize import Formats, LayerPlan, NeuronConsts
from snnc.types import Fixed

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


# ---------------------------------------------------------------------- the ASN neuron

ASN_PROGRAM = r"""
#include <cstdio>
#include "snn_neuron.h"
struct cfg {
    static const int LEAK = snn::LEAK_%(leak)s;
    static const int MEM_DECAY = %(mem)d;
    static const int ADAPT_DECAY = %(adapt)d;
    static const int PRED_DECAY = %(pred)d;
    static const snn::i64 THRESHOLD = %(theta)d;
    static const snn::i64 M_F = %(mf)d;
    static const int U_FRAC = %(fm)d;
    static const int A_FRAC = %(fa)d;
    static const snn::i64 U_MIN = %(umin)d;
    static const snn::i64 U_MAX = %(umax)d;
    static const snn::i64 A_MIN = %(amin)d;
    static const snn::i64 A_MAX = %(amax)d;
    typedef %(u_t)s u_t;
    typedef %(a_t)s a_t;
};
typedef snn::asn_neuron<cfg> nrn;
static void put(const nrn::state_t& st, bool s) {
    std::printf("%%lld %%lld %%lld %%lld %%d %%lld\n", st.u.to_int64(), st.p.to_int64(),
                st.a.to_int64(), st.h.to_int64(), s ? 1 : 0, nrn::payload(st));
}
int main() {
    // part 1: K single steps from given states {u, p, a, in}
    // part 2: N neurons from the initial state for T steps of given inputs
    int k, t_steps, n;
    long long u, p, a, in;
    nrn::counters_t cnt = {0, 0, 0, 0};
    if (std::scanf("%%d", &k) != 1) return 1;
    for (int r = 0; r < k; r++) {
        if (std::scanf("%%lld %%lld %%lld %%lld", &u, &p, &a, &in) != 4) return 1;
        nrn::state_t st;
        nrn::init(st);
        st.u = u;
        st.p = p;
        st.a = a;
        const bool s = nrn::step(in, st, cnt);
        put(st, s);
    }
    std::printf("%%lld %%lld %%lld %%lld\n", cnt.u.to_int64(), cnt.p.to_int64(), cnt.a.to_int64(),
                cnt.h.to_int64());
    nrn::counters_t cnt2 = {0, 0, 0, 0};
    if (std::scanf("%%d %%d", &t_steps, &n) != 2) return 1;
    static nrn::state_t st[64];
    for (int j = 0; j < n; j++) nrn::init(st[j]);
    for (int t = 0; t < t_steps; t++) {
        for (int j = 0; j < n; j++) {
            if (std::scanf("%%lld", &in) != 1) return 1;
            const bool s = nrn::step(in, st[j], cnt2);
            put(st[j], s);
        }
    }
    std::printf("%%lld %%lld %%lld %%lld\n", cnt2.u.to_int64(), cnt2.p.to_int64(),
                cnt2.a.to_int64(), cnt2.h.to_int64());
    static_assert(nrn::GRADED, "an ASN sends graded events");
    return 0;
}
"""

#: (membrane, adaptation, leak, decays mem/adapt/pred, theta0, m_f): a multiply leak with A in
#: coarser units than U; a shift leak with an unsigned A in finer units and theta0 close to the
#: membrane's maximum, so that the payload H saturates; m_f = 0 (a fixed threshold); an unsigned
#: membrane (U, P and H clamp at 0 from below) with m_f = 1
ASN_CONFIGS = {
    "multiply": (Fixed(12, 8), Fixed(10, 6), "multiply", (60000, 62000, 58000), 100, 98304),
    "shift_unsigned_a": (Fixed(9, 4), Fixed(8, 5, signed=False), "shift", (3, 4, 2), 200, 32768),
    "no_adaptation": (Fixed(10, 6), Fixed(10, 6), "multiply", (65000, 40000, 50000), 7, 0),
    "unsigned_membrane": (Fixed(10, 6, signed=False), Fixed(12, 7), "multiply",
                          (61000, 63000, 59000), 40, 65536),
}


@pytest.mark.parametrize("name", sorted(ASN_CONFIGS))
def test_asn_neuron_matches_the_golden_model(tmp_path, name):
    fm, fa, leak, (mem, adapt, pred), theta, mf = ASN_CONFIGS[name]
    ctype = lambda f: f"ap_int<{f.width}>" if f.signed else f"ap_uint<{f.width}>"  # noqa: E731
    src = tmp_path / "asn.cpp"
    src.write_text(ASN_PROGRAM % dict(
        leak=leak.upper(), mem=mem, adapt=adapt, pred=pred, theta=theta, mf=mf, fm=fm.frac,
        fa=fa.frac, umin=fm.min_int, umax=fm.max_int, amin=fa.min_int, amax=fa.max_int,
        u_t=ctype(fm), a_t=ctype(fa)))
    exe = tmp_path / "asn"
    subprocess.run(["g++", "-O2", "-std=c++17", "-Wall", "-Wextra", "-Werror",
                    "-DSNN_HLS_COMPAT_FALLBACK", "-I", str(library_dir()), str(src), "-o",
                    str(exe)], check=True)
    consts = NeuronConsts("ASN", theta, "none", 0, leak, mem, adapt_decay=adapt, pred_decay=pred,
                          m_f=mf)
    formats = Formats(Fixed(8, 6), fm, Fixed(16, 8), fa, Fixed(12, 8))
    plan = LayerPlan("asn", 0, fm.frac, 0, consts)
    rng = np.random.default_rng(len(name))
    # part 1: random states (with both ends of each format) and inputs
    k = 4000
    u = rng.integers(fm.min_int, fm.max_int + 1, k)
    p = rng.integers(fm.min_int, fm.max_int + 1, k)
    a = rng.integers(fa.min_int, fa.max_int + 1, k)
    u[:6] = [fm.max_int, fm.min_int, fm.max_int, 0, fm.max_int, fm.min_int]
    p[:6] = [fm.min_int, fm.max_int, fm.max_int, 0, fm.min_int, 0]
    a[:6] = [fa.max_int, fa.min_int, fa.max_int, fa.max_int, fa.min_int, fa.max_int]
    inp = rng.integers(-3 * (fm.max_int + 1), 3 * (fm.max_int + 1), k)
    inp[:6] = [fm.max_int, -fm.max_int, 0, 3 * fm.max_int, 1, -1]
    # part 2: closed-loop trajectories from the initial state
    steps, n = 120, 40
    traj = (rng.normal(0, 0.4, (steps, n)) * (fm.max_int + 1)).astype(np.int64)
    traj[:, :10] = np.abs(traj[:, :10])                   # steady positive drive: many spikes
    text = f"{k}\n" + "".join(f"{a1} {a2} {a3} {a4}\n" for a1, a2, a3, a4 in zip(u, p, a, inp))
    text += f"{steps} {n}\n" + "\n".join(" ".join(map(str, row)) for row in traj) + "\n"
    out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True)
    rows = [[int(v) for v in line.split()] for line in out.stdout.strip().split("\n")]
    single = np.array(rows[:k], dtype=np.int64)
    counts1 = rows[k]
    loop = np.array(rows[k + 1:k + 1 + steps * n], dtype=np.int64).reshape(steps, n, 6)
    counts2 = rows[k + 1 + steps * n]

    ref = neuron_for_plan(plan, formats, (k,))
    ref.U, ref.P, ref.A = u.copy(), p.copy(), a.copy()
    s, _ = ref.step(inp)
    # the last column is payload(st): the event's height after a spike (H, 0 without one)
    expected = np.stack([ref.U, ref.P, ref.A, ref.H, s.astype(np.int64), ref.H], axis=1)
    np.testing.assert_array_equal(single, expected)
    assert counts1 == [ref.saturation[x] for x in ("U", "P", "A", "H")]

    ref2 = neuron_for_plan(plan, formats, (n,))
    for t in range(steps):
        s, _ = ref2.step(traj[t])
        np.testing.assert_array_equal(
            loop[t], np.stack([ref2.U, ref2.P, ref2.A, ref2.H, s.astype(np.int64), ref2.H], 1))
    assert counts2 == [ref2.saturation[x] for x in ("U", "P", "A", "H")]
    # the paths are exercised: spikes, and clamps of U and of P or H
    assert single[:, 4].sum() > 100 and loop[:, :, 4].sum() > 50
    assert counts1[0] > 0 and counts1[1] + counts1[3] > 0
    if name == "shift_unsigned_a":
        assert counts1[3] > 0 and counts2[3] > 0           # heights above the payload range


# ---------------------------------------------------------------------- the fallback stream

STREAM_PROGRAM = r"""
#include <cstdio>
#include <exception>
#include "hls_compat.h"
int main() {
    hls::stream<int> named("in_events");
    hls::stream<int> plain;
    named.write(7);
    const int v = named.read();
    std::printf("%d %d\n", v, static_cast<int>(named.empty()));
    hls::stream<int>* both[2] = {&named, &plain};
    for (int k = 0; k < 2; k++) {
        try {
            both[k]->read();
        } catch (const std::exception& ex) {
            std::printf("%s\n", ex.what());
        }
    }
    return 0;
}
"""


def test_reading_an_empty_fallback_stream_says_what_vitis_would_do(tmp_path):
    # a Vitis stream blocks on an empty read; the fallback throws, naming the stream
    src = tmp_path / "s.cpp"
    src.write_text(STREAM_PROGRAM)
    exe = tmp_path / "s"
    subprocess.run(["g++", "-O2", "-std=c++17", "-Wall", "-Wextra", "-Werror",
                    "-DSNN_HLS_COMPAT_FALLBACK", "-I", str(library_dir()), str(src), "-o",
                    str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "7 1",
        "hls::stream 'in_events' read while empty (a Vitis HLS stream would block here until "
        "data arrives)",
        "hls::stream read while empty (a Vitis HLS stream would block here until data arrives)",
    ]
