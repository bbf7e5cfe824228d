"""The fused native scan (backends/torch/native_scan.cpp) against the Python scan of neurons.py:
identical forward spikes and membranes and identical gradients (the same float operations in the same
order per element), for every neuron kind, reset, surrogate, with and without a refractory period,
with and without truncated BPTT; its buffer pool, its fallback and its build cache."""
import itertools
import os
import shutil
import subprocess
import sys
import textwrap
import warnings

import pytest

torch = pytest.importorskip("torch")

from snnc.backends.torch import SNN  # noqa: E402
from snnc.backends.torch import native_scan as NS  # noqa: E402
from snnc.backends.torch import neurons as N  # noqa: E402
from snnc.backends.torch.surrogates import resolve  # noqa: E402
from snnc.build import load_text  # noqa: E402
from snnc.weights import random_weights  # noqa: E402

HAVE_CXX = NS._compiler() is not None
pytestmark = [
    pytest.mark.skipif(not HAVE_CXX, reason="no C++ compiler: the native scan is not built"),
    pytest.mark.usefixtures("torch_one_thread"),
]

KINDS = ("IF", "LIF", "CubaLIF", "ALIF")
RESETS = ("subtract", "zero", "none")
SURROGATES = ("fast_sigmoid", "triangle", "exponential", "atan", "sigmoid", "rectangular")


@pytest.fixture(autouse=True)
def _native_on(monkeypatch):
    monkeypatch.delenv("SNNC_NATIVE_SCAN", raising=False)


def test_the_library_builds_and_is_used(monkeypatch):
    assert NS.available()
    calls = []
    fwd, bwd = NS.forward, NS.backward
    monkeypatch.setattr(NS, "forward", lambda *a, **k: calls.append("f") or fwd(*a, **k))
    monkeypatch.setattr(NS, "backward", lambda *a, **k: calls.append("b") or bwd(*a, **k))
    X = torch.randn(5, 2, 3, requires_grad=True)
    S, U, _ = N.scan(X, cfg("LIF"))
    U.sum().backward()
    assert calls == ["f", "b"]
    calls.clear()
    monkeypatch.setenv("SNNC_NATIVE_SCAN", "0")
    S, U, _ = N.scan(X, cfg("LIF"))
    U.sum().backward()
    assert calls == []


def cfg(kind, reset="subtract", refractory=0, surrogate="fast_sigmoid", theta=0.7):
    return N.NeuronCfg(kind, reset, refractory, theta, b=1.0 if kind == "IF" else 0.9, a=0.8,
                       r=0.95, beta=0.3, surrogate=resolve(surrogate))


def run(monkeypatch, native: bool, X, c, tbptt=0, grads=None):
    """Forward and the input gradients of three losses (spikes + membrane, spikes, membrane)."""
    monkeypatch.setenv("SNNC_NATIVE_SCAN", "1" if native else "0")
    X = X.detach().clone().requires_grad_()
    S, U, sat = N.scan(X, c, None, tbptt)
    gS, gU = grads if grads is not None else (torch.ones_like(X), torch.ones_like(X))
    out = [S.detach(), U.detach()]
    for loss in ((S * gS).sum() + (U * gU).sum(), (S * gS).sum(), (U * gU).sum()):
        (g,) = torch.autograd.grad(loss, X, retain_graph=True)
        out.append(g)
    return out


def assert_same(monkeypatch, X, c, tbptt=0, seed=0):
    g = torch.Generator().manual_seed(seed + 1)
    grads = (torch.randn(X.shape, generator=g, dtype=X.dtype),
             torch.randn(X.shape, generator=g, dtype=X.dtype))
    nat = run(monkeypatch, True, X, c, tbptt, grads)
    py = run(monkeypatch, False, X, c, tbptt, grads)
    assert torch.equal(nat[0], py[0])
    assert 0 < py[0].sum() < py[0].numel()
    for what, a, b in zip(("membrane", "grad S+U", "grad S", "grad U"), nat[1:], py[1:]):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=lambda m: f"{what}: {m}")
        assert a.abs().sum() > 0, what


def inputs(seed, dtype, shape=(16, 3, 37)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=dtype) * 0.8 + 0.3


CASES = list(itertools.product(KINDS, RESETS, (0, 2), (0, 5), (torch.float32, torch.float64)))


@pytest.mark.parametrize("kind,reset,refractory,tbptt,dtype", CASES)
def test_native_equals_python_scan(monkeypatch, kind, reset, refractory, tbptt, dtype):
    i = CASES.index((kind, reset, refractory, tbptt, dtype))
    c = cfg(kind, reset, refractory, SURROGATES[i % len(SURROGATES)])
    assert_same(monkeypatch, inputs(i, dtype), c, tbptt, seed=i)


@pytest.mark.parametrize("surrogate,kind,dtype",
                         list(itertools.product(SURROGATES, KINDS, (torch.float32, torch.float64))))
def test_every_surrogate(monkeypatch, surrogate, kind, dtype):
    for refractory, reset in ((0, "subtract"), (3, "zero")):
        c = cfg(kind, reset, refractory, surrogate)
        assert_same(monkeypatch, inputs(7, dtype), c, tbptt=0)
        assert_same(monkeypatch, inputs(8, dtype), c, tbptt=4)


def test_many_blocks_and_threads(monkeypatch):
    """More elements than one block (4096) on one thread, and blocks split over two threads, each
    time with a shorter tail block."""
    n = torch.get_num_threads()
    try:
        for threads, shape in ((1, (12, 3, 1500)), (2, (20, 3, 701))):
            torch.set_num_threads(threads)
            for kind in KINDS:
                assert_same(monkeypatch, inputs(3, torch.float32, shape), cfg(kind, "zero", 1))
                assert_same(monkeypatch, inputs(4, torch.float64, shape), cfg(kind, "subtract"), 5)
    finally:
        torch.set_num_threads(n)


def test_expanded_input_and_count_gradient(monkeypatch):
    """A static input (one frame expanded over time) and the gradient of a spike count (expanded
    over time) are read with stride 0, not copied; results as the Python scan."""
    frame = torch.randn(4, 9) * 0.5 + 0.4
    X = frame.expand(12, 4, 9)
    w = torch.randn(4, 9)
    res = {}
    for native in (True, False):
        monkeypatch.setenv("SNNC_NATIVE_SCAN", "1" if native else "0")
        for kind in KINDS:
            f = frame.clone().requires_grad_()
            S, U, _ = N.scan(f.expand(12, 4, 9), cfg(kind))
            (S.sum(0) * w).sum().backward()
            res[native, kind] = (S, U, f.grad)
    for kind in KINDS:
        for a, b in zip(res[True, kind], res[False, kind]):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert res[True, kind][2].abs().sum() > 0
    assert X.stride(0) == 0


@pytest.mark.parametrize("dtype", (torch.float32, torch.float64))
@pytest.mark.parametrize("kind", KINDS)
def test_fused_spike_count_equals_the_sum(monkeypatch, kind, dtype):
    """``scan_counted`` counts the spikes inside the native loop (no pass over ``S``): the count
    equals ``S.sum(0)`` exactly and its gradient reaches every step, alone or together with a
    gradient of ``S`` itself, as the summed spikes' gradient does."""
    summed = []
    monkeypatch.setattr(torch.Tensor, "sum", lambda self, *a, **k: summed.append(a) or
                        torch.sum(self, *a, **k))
    X0 = inputs(3, dtype, (40, 3, 37))
    w = torch.randn(3, 37, generator=torch.Generator().manual_seed(2), dtype=dtype)
    v = torch.randn(X0.shape, generator=torch.Generator().manual_seed(3), dtype=dtype)
    c = cfg(kind)
    res = {}
    for fused in (True, False):
        for with_s in (False, True):
            X = X0.clone().requires_grad_()
            if fused:
                summed.clear()
                S, U, _, C = N.scan_counted(X, c)
                assert summed == []                      # counted by the native loop
            else:
                S, U, _ = N.scan(X, c)
                C = S.sum(0)
            loss = (C * w).sum() + ((S * v).sum() if with_s else 0)
            (g,) = torch.autograd.grad(loss, X)
            res[fused, with_s] = (S, U, C, g)
    for with_s in (False, True):
        for a, b in zip(res[True, with_s], res[False, with_s]):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert res[True, with_s][3].abs().sum() > 0
    assert 0 < res[True, False][2].sum() < 40 * 3 * 37
    monkeypatch.setenv("SNNC_NATIVE_SCAN", "0")                # the Python scan sums instead
    S, U, _, C = N.scan_counted(X0, c)
    torch.testing.assert_close(C, res[False, False][2], rtol=0, atol=0)


def test_single_step_and_a_spike_free_layer(monkeypatch):
    assert_equal = lambda a, b: [torch.testing.assert_close(x, y, rtol=0, atol=0)  # noqa: E731
                                 for x, y in zip(a, b)]
    for kind in KINDS:
        X = torch.full((1, 2, 3), 2.0)
        assert_equal(run(monkeypatch, True, X, cfg(kind)), run(monkeypatch, False, X, cfg(kind)))
        X = torch.full((6, 2, 3), -1.0)
        assert_equal(run(monkeypatch, True, X, cfg(kind)), run(monkeypatch, False, X, cfg(kind)))


def test_whole_model_training_gradients_equal(monkeypatch):
    text = textwrap.dedent("""
        model m
        time { dt = 1 ms; steps = 20 }
        input x[30] = rate(gain = 1.0)
        layer a = dense(x, 40) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.3, refractory = 1)
        layer b = dense(a, 30) with CubaLIF(tau_mem = 8 ms, tau_syn = 4 ms, reset = zero)
        layer c = dense(b, 5) with LIF(tau_mem = 10 ms)
        output c = count
        train { surrogate = atan(alpha = 2.0) }
    """)
    g = load_text(text, "m.snn").graph
    w = random_weights(g, 1)
    x = (torch.rand(20, 8, 30, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    grads = {}
    for native in (True, False):
        monkeypatch.setenv("SNNC_NATIVE_SCAN", "1" if native else "0")
        m = SNN(g, w)
        out = m(x)
        loss = out.readout.sum() + sum(u.sum() for u in out.membranes.values())
        grads[native] = [out.readout.detach()] + list(torch.autograd.grad(loss, list(m.parameters())))
    for a, b in zip(grads[True], grads[False]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_qat_backward_is_native_and_equal(monkeypatch):
    """QAT: the integer forward pass stays in Python; its float backward pass runs natively."""
    text = textwrap.dedent("""
        model q
        time { dt = 1 ms; steps = 15 }
        input x[12] = rate(gain = 1.0)
        layer a = dense(x, 20) with ALIF(tau_mem = 10 ms, tau_adapt = 50 ms, beta = 0.3)
        layer b = dense(a, 4) with LIF(tau_mem = 10 ms, reset = zero)
        output b = count
        hardware { weights = fixed<8,6>; state = fixed<16,8> }
    """)
    g = load_text(text, "q.snn").graph
    w = random_weights(g, 2)
    x = (torch.rand(15, 6, 12, generator=torch.Generator().manual_seed(1)) < 0.4).float()
    calls = []
    bwd = NS.backward
    monkeypatch.setattr(NS, "backward", lambda *a: calls.append(1) or bwd(*a))
    grads = {}
    for native in (True, False):
        monkeypatch.setenv("SNNC_NATIVE_SCAN", "1" if native else "0")
        m = SNN(g, w, qat=True)
        out = m(x)
        loss = out.readout.sum() + out.membranes["a"].sum()
        grads[native] = list(torch.autograd.grad(loss, list(m.parameters())))
    assert len(calls) == 2
    for a, b in zip(grads[True], grads[False]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert a.abs().sum() > 0


def test_recurrent_layers_keep_the_python_scan(monkeypatch):
    calls = []
    monkeypatch.setattr(NS, "forward", lambda *a: calls.append(1))
    X = torch.randn(5, 2, 3)
    V = torch.randn(3, 3)
    S, U, _ = N.scan(X, cfg("LIF"), V)
    S2, U2 = N.reference_scan(X, cfg("LIF"), V)
    assert calls == [] and torch.equal(S, S2)


# ---------------------------------------------------------------------- the buffer pool


def test_pool_reuses_a_buffer_only_once_it_is_free(monkeypatch):
    pool = NS.BufferPool(64 << 20)
    monkeypatch.setattr(NS, "POOL", pool)
    X = torch.randn(20, 128, 128)                  # 1.3 MB per [T, B, N] tensor: pooled
    c = cfg("LIF")
    S1, U1, _ = N.scan(X, c)
    ptrs1 = {S1.data_ptr(), U1.data_ptr()}
    S2, U2, _ = N.scan(X * 0.5, c)                 # S1, U1 alive: fresh buffers
    assert ptrs1.isdisjoint({S2.data_ptr(), U2.data_ptr()})
    keep = S1.clone(), U1.clone()
    view = S1[3]
    del S1, U1
    S3, U3, _ = N.scan(X * 0.5, c)                 # a view of S1 still alive: only U1's buffer free
    assert len(ptrs1 & {S3.data_ptr(), U3.data_ptr()}) == 1
    del view, S3, U3
    Xg = X.clone().requires_grad_()
    S4, U4, _ = N.scan(Xg, c)                      # both buffers free again: reused, and correct
    assert {S4.data_ptr(), U4.data_ptr()} & (ptrs1 | {S2.data_ptr(), U2.data_ptr()})
    torch.testing.assert_close((S4, U4), keep, rtol=0, atol=0)
    (g,) = torch.autograd.grad(U4.sum(), Xg)
    monkeypatch.setenv("SNNC_NATIVE_SCAN", "0")
    Xp = X.clone().requires_grad_()
    (gp,) = torch.autograd.grad(N.scan(Xp, c)[1].sum(), Xp)
    torch.testing.assert_close(g, gp, rtol=0, atol=0)
    assert pool.total <= 64 << 20 and len(pool.bufs) >= 4


def test_pool_limit_and_eviction():
    pool = NS.BufferPool(5 << 20)
    a = pool.empty((2 << 20,), torch.float32)      # 8 MB > limit: not pooled
    assert pool.total == 0 and a.shape == (2 << 20,)
    b = pool.empty((1 << 18,), torch.float32)      # 1 MB, pooled
    c = pool.empty((1 << 19,), torch.float32)      # 2 MB, pooled
    assert pool.total == 3 << 20
    d = pool.empty((1 << 19,), torch.float32)      # another 2 MB (c is in use)
    assert pool.total == 5 << 20 and d.data_ptr() != c.data_ptr()
    del b
    e = pool.empty((3 << 18,), torch.float32)      # 3 MB: no room even without the free 1 MB one
    assert pool.total == 5 << 20 and len(pool.bufs) == 3
    assert e.data_ptr() not in [b.data_ptr() for b in pool.bufs]
    del c, d, e
    f = pool.empty((3 << 18,), torch.float32)      # evicts the free 1 MB and the oldest 2 MB one
    assert pool.total == 5 << 20 and len(pool.bufs) == 2
    g = pool.empty((3 << 18,), torch.float32)      # f in use; the other 2 MB one is not enough
    assert pool.total == 5 << 20 and g.data_ptr() not in [b.data_ptr() for b in pool.bufs]
    pool.clear()
    assert pool.total == 0 and f.shape == g.shape == (3 << 18,)


# ---------------------------------------------------------------------- build cache and fallback


def test_no_compiler_falls_back_to_python_with_one_warning(monkeypatch, tmp_path):
    monkeypatch.setattr(NS, "_lib", None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    X = torch.randn(6, 2, 3, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="native neuron scan is not available"):
        S, U, _ = N.scan(X, cfg("ALIF"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        S2, U2, _ = N.scan(X, cfg("ALIF"))         # no second warning
        U2.sum().backward()
    assert not NS.available()
    monkeypatch.setenv("SNNC_NATIVE_SCAN", "0")
    assert torch.equal(S, N.scan(X, cfg("ALIF"))[0])


def test_failed_build_falls_back(monkeypatch, tmp_path):
    fake = tmp_path / "bad-cxx"
    fake.write_text("#!/bin/sh\necho 'bad-cxx 1.0'\n[ \"$1\" = --version ] && exit 0\n"
                    "echo 'error: broken' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(NS, "_lib", None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("CXX", str(fake))
    with pytest.warns(RuntimeWarning, match="broken"):
        assert NS.library() is None
    assert not list((tmp_path / "cache" / "snnc" / "torch-ext").glob("*.so"))


def test_concurrent_first_builds_compile_once(tmp_path):
    """Two processes on an empty cache: one compiles (the fake compiler counts its runs and copies
    the real library), the other waits on the lock and loads the result."""
    real = NS._build()
    count = tmp_path / "count"
    fake = tmp_path / "cxx"
    fake.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        if [ "$1" = --version ]; then echo 'fake 1.0'; exit 0; fi
        echo x >> {count}
        sleep 1
        for a; do out=$a; done
        cp {real} "$out"
        """))
    fake.chmod(0o755)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CXX": str(fake)}
    env.pop("SNNC_NATIVE_SCAN", None)
    code = ("from snnc.backends.torch import native_scan as NS; import sys; "
            "sys.exit(0 if NS.library() is not None else 1)")
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    assert count.read_text().count("x") == 1
    assert len(list((tmp_path / "cache" / "snnc" / "torch-ext").glob("*.so"))) == 1


def test_cache_key_follows_the_source_and_compiler(monkeypatch, tmp_path):
    cxx = NS._compiler()
    k1 = NS._key(cxx)
    assert k1 == NS._key(cxx)
    originals = NS.SOURCES                           # the scan's source and the event kernels'
    assert len(originals) == 2
    for i, original in enumerate(originals):
        src = tmp_path / f"changed_{i}.cpp"
        src.write_text(original.read_text() + "\n// changed\n")
        monkeypatch.setattr(NS, "SOURCES", originals[:i] + (src,) + originals[i + 1:])
        assert NS._key(cxx) != k1
    monkeypatch.undo()
    assert NS._key(cxx) == k1
    assert shutil.which(cxx) or os.path.exists(cxx)
