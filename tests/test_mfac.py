"""M-FAC IHVPs against dense NumPy references (small d), sliding vs static, OBS, bad input."""

import subprocess
import sys

import numpy as np
import pytest

import adasolve
from adasolve import SlidingIHVP, StaticIHVP, obs_prune, obs_scores

TOL = {np.float64: 1e-8, np.float32: 1e-4}


def dense_fisher(G, damp, block_size=None):
    G = np.asarray(G, dtype=np.float64)
    m, d = G.shape
    F = damp * np.eye(d) + G.T @ G / m
    if block_size:
        mask = np.zeros((d, d), dtype=bool)
        for s in range(0, d, block_size):
            mask[s:s + block_size, s:s + block_size] = True
        F = np.where(mask, F, 0.0)
    return F


def rel(a, b):
    return np.linalg.norm(np.asarray(a, np.float64) - b) / np.linalg.norm(b)


def make(rng, m, d, dtype, scale=1.0):
    return (scale * rng.standard_normal((m, d))).astype(dtype)


CASES = [
    # (m, d, block_size, damp)
    (16, 300, None, 1e-2),
    (64, 2000, None, 1e-3),
    (40, 25, None, 1e-1),      # m > d: primal form
    (8, 203, 50, 1e-2),        # blocks wider than m, ragged last block (3)
    (32, 203, 20, 1e-2),       # blocks narrower than m (primal), ragged last block
    (12, 100, 12, 1e-2),       # block width == m
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m,d,block_size,damp", CASES)
def test_static_against_dense(rng, dtype, m, d, block_size, damp):
    G = make(rng, m, d, dtype)
    H = StaticIHVP(G, damp, block_size=block_size)
    F = dense_fisher(G, damp, block_size)
    Finv = np.linalg.inv(F)
    tol = TOL[dtype]
    v = rng.standard_normal(d).astype(dtype)
    x = H.ihvp(v)
    assert x.dtype == dtype and x.shape == (d,)
    assert rel(x, np.linalg.solve(F, v.astype(np.float64))) < tol
    V = rng.standard_normal((3, d)).astype(dtype)
    X = H.ihvp(V)
    assert X.shape == (3, d)
    assert rel(X, np.linalg.solve(F, V.T.astype(np.float64)).T) < tol
    assert rel(H.diag(), np.diag(Finv)) < tol
    assert rel(H.diag(), np.diag(Finv)) < tol  # cached path
    for i, j in [(0, 0), (1, 7), (d - 1, d - 2), (3, d - 1), (5, 5)]:
        assert abs(H.element(i, j) - Finv[i, j]) <= tol * np.abs(Finv).max()
    assert H.element(-1, 0) == H.element(d - 1, 0)
    q = v.astype(np.float64) @ Finv @ v.astype(np.float64)
    assert abs(H.quad(v) - q) <= tol * abs(q)
    qs = H.quad(V)
    assert qs.shape == (3,)
    assert rel(qs, np.einsum("ij,jk,ik->i", V.astype(np.float64), Finv, V.astype(np.float64))) < tol


def test_static_no_copy_and_dtype(rng):
    G = make(rng, 8, 100, np.float32)
    H = StaticIHVP(G, 1e-2)
    assert H.grads is G and H.dtype == np.float32
    H64 = StaticIHVP(G, 1e-2, dtype=np.float64)
    assert H64.grads is not G and H64.dtype == np.float64
    Gi = rng.integers(-3, 3, size=(8, 100))
    assert StaticIHVP(Gi, 1.0).dtype == np.float64
    # inputs are not modified
    G0 = G.copy()
    v = rng.standard_normal(100).astype(np.float32)
    v0 = v.copy()
    H.ihvp(v); H.diag(); H.quad(v)
    assert np.array_equal(G, G0) and np.array_equal(v, v0)
    # non-contiguous input is converted
    Gs = make(rng, 8, 200, np.float64)[:, ::2]
    assert rel(StaticIHVP(Gs, 1e-2).ihvp(np.ones(100)),
               np.linalg.solve(dense_fisher(Gs, 1e-2), np.ones(100))) < 1e-8


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m,d,block_size,damp", [(16, 60, None, 1e-2), (6, 45, 20, 1e-1),
                                                 (20, 50, 15, 1e-2)])
def test_every_element_against_inv(rng, dtype, m, d, block_size, damp):
    # the O(m) element query (precomputed L^{-1} g_t) over the whole matrix, blocks included
    G = make(rng, m, d, dtype)
    H = StaticIHVP(G, damp, block_size=block_size)
    Finv = np.linalg.inv(dense_fisher(G, damp, block_size))
    E = np.array([[H.element(i, j) for j in range(d)] for i in range(d)])
    assert rel(E, Finv) < TOL[dtype]
    assert np.array_equal(E, E.T)
    assert rel(np.diag(E), H.diag()) < TOL[dtype]


def test_cross_block_elements_are_zero(rng):
    G = make(rng, 8, 60, np.float64)
    H = StaticIHVP(G, 1e-2, block_size=25)
    assert H.element(0, 30) == 0.0
    assert H.block_size == 25
    assert StaticIHVP(G, 1e-2, block_size=1000).block_size == 60


def test_linear_operator_as_preconditioner(rng):
    G = make(rng, 10, 80, np.float64)
    H = StaticIHVP(G, 1e-1)
    op = H.as_linear_operator()
    F = dense_fisher(G, 1e-1)
    v = rng.standard_normal(80)
    assert rel(op @ v, np.linalg.solve(F, v)) < 1e-8


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m,d,block_size", [(8, 150, None), (16, 97, 10), (6, 100, 30), (20, 15, None)])
def test_sliding_equals_static_of_last_m(rng, dtype, m, d, block_size):
    damp = 1e-2
    H = SlidingIHVP(d, m, damp, block_size=block_size, dtype=dtype)
    stream = make(rng, 2 * m + 3, d, dtype)
    tol = TOL[dtype]
    for t, g in enumerate(stream):
        if t % 3 == 0:
            H.update(g)
            x = H.ihvp(g)
        else:
            x = H.update_and_ihvp(g)
        # before the window is full, the empty slots are zero (documented behaviour)
        window = stream[max(0, t + 1 - m):t + 1]
        Gz = np.zeros((m, d))
        Gz[:len(window)] = window
        F = dense_fisher(Gz, damp, block_size)
        assert rel(x, np.linalg.solve(F, g.astype(np.float64))) < tol * 10
    assert H.count == len(stream)
    last = stream[-m:]
    S = StaticIHVP(last, damp, block_size=block_size)
    v = rng.standard_normal(d).astype(dtype)
    assert rel(H.ihvp(v), S.ihvp(v).astype(np.float64)) < tol
    # update_and_ihvp with a separate v
    g = make(rng, 1, d, dtype)[0]
    x = H.update_and_ihvp(g, v)
    F = dense_fisher(np.vstack([stream[-m + 1:], g[None]]), damp, block_size)
    assert rel(x, np.linalg.solve(F, v.astype(np.float64))) < tol
    V = rng.standard_normal((2, d)).astype(dtype)
    assert rel(H.ihvp(V), np.linalg.solve(F, V.T.astype(np.float64)).T) < tol
    # buffer holds the window in slot order
    assert sorted(map(tuple, H.grads.astype(np.float64))) == sorted(
        map(tuple, np.vstack([stream[-m + 1:], g[None]]).astype(np.float64)))
    H.reset()
    assert H.count == 0
    np.testing.assert_allclose(H.ihvp(v), v / damp, rtol=tol)


def test_sliding_out_argument_and_alias(rng):
    H = SlidingIHVP(50, 4, 1e-1, dtype=np.float64)
    out = np.empty(50)
    g = rng.standard_normal(50)
    r = H.update_and_ihvp(g, out=out)
    assert r is out
    with pytest.raises(ValueError, match="out must be"):
        H.update_and_ihvp(g, out=np.empty(50, dtype=np.float32))
    assert not H.grads.flags.writeable


def test_long_stream_primal_drift(rng):
    # primal blocks are updated by rank-2 changes; they must stay exact over many wraps
    d, m = 30, 8
    H = SlidingIHVP(d, m, 1e-3, block_size=6, dtype=np.float64)
    stream = rng.standard_normal((400, d)) * np.exp(rng.uniform(-3, 3, size=(400, 1)))
    for g in stream:
        H.update(g)
    F = dense_fisher(stream[-m:], 1e-3, 6)
    v = rng.standard_normal(d)
    assert rel(H.ihvp(v), np.linalg.solve(F, v)) < 1e-8


def test_obs_scores_against_dense(rng):
    d, m = 120, 16
    G = rng.standard_normal((m, d))
    w = rng.standard_normal(d)
    for bs in (None, 40):
        Finv = np.linalg.inv(dense_fisher(G, 1e-2, bs))
        s = obs_scores(w, G, 1e-2, block_size=bs)
        assert rel(s, w ** 2 / (2 * np.diag(Finv))) < 1e-8


def test_obs_prune_single_weight_is_exact_obs(rng):
    # removing one weight: w - F^{-1} e_q w_q / [F^{-1}]_qq is the exact OBS solution
    d, m = 40, 10
    G = rng.standard_normal((m, d))
    w = rng.standard_normal(d)
    w[7] = 1e-3  # clearly the least salient
    Finv = np.linalg.inv(dense_fisher(G, 1e-1))
    q = int(np.argmin(w ** 2 / np.diag(Finv)))
    expect = w - Finv[:, q] * w[q] / Finv[q, q]
    got = obs_prune(w, G, 1 / d, damp=1e-1)
    assert got[q] == 0.0
    np.testing.assert_allclose(got, expect, atol=1e-10)


def test_obs_prune_sparsity_shape_and_loss(rng):
    d, m = 200, 64
    X = rng.standard_normal((m, d))
    w = rng.standard_normal(d)
    y = X @ w
    W = w.reshape(20, 10)
    for steps in (1, 4):
        p = obs_prune(W, X, 0.5, damp=1e-4, steps=steps)
        assert p.shape == (20, 10) and int((p == 0).sum()) == 100
    # OBS (Fisher of the per-sample gradients of a least-squares loss) beats magnitude pruning
    G = X  # per-sample gradients direction of 0.5*(x^T w - y)^2 at the optimum scale
    p = obs_prune(w, G, 0.5, damp=1e-4).reshape(-1)
    mag = w.copy()
    mag[np.argsort(np.abs(w))[:100]] = 0
    assert np.sum((X @ p - y) ** 2) < np.sum((X @ mag - y) ** 2)
    assert np.array_equal(obs_prune(w, G, 0.0), w)
    assert np.all(obs_prune(w, G, 1.0) == 0)
    assert obs_prune(w.astype(np.float32), G.astype(np.float32), 0.5).dtype == np.float32


def test_exported():
    for name in ("StaticIHVP", "SlidingIHVP", "obs_scores", "obs_prune"):
        assert name in adasolve.__all__ and hasattr(adasolve, name)


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs(rng):
    G = rng.standard_normal((4, 10))
    with pytest.raises(ValueError, match="at least one gradient"):
        StaticIHVP(np.zeros((0, 10)))
    with pytest.raises(ValueError, match="dimension d >= 1"):
        StaticIHVP(np.zeros((3, 0)))
    with pytest.raises(ValueError, match="grads must be 2-D"):
        StaticIHVP(np.ones(10))
    with pytest.raises(ValueError, match="damp must be"):
        StaticIHVP(G, 0.0)
    with pytest.raises(ValueError, match="damp must be"):
        StaticIHVP(G, -1.0)
    with pytest.raises(ValueError, match="damp must be finite"):
        StaticIHVP(G, np.inf)
    with pytest.raises(ValueError, match="block_size must be"):
        StaticIHVP(G, block_size=0)
    with pytest.raises(TypeError, match="block_size must be an integer"):
        StaticIHVP(G, block_size=2.5)
    bad = G.copy()
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="grads contains NaN"):
        StaticIHVP(bad)
    bad[1, 3] = np.inf
    with pytest.raises(ValueError, match="grads contains Inf"):
        StaticIHVP(bad)
    with pytest.raises(TypeError, match="complex"):
        StaticIHVP(G + 1j)
    with pytest.raises(TypeError, match="dtype must be"):
        StaticIHVP(G, dtype=np.int32)
    H = StaticIHVP(G, 1e-2)
    with pytest.raises(ValueError, match="v must have 10 entries"):
        H.ihvp(np.ones(9))
    with pytest.raises(ValueError, match="v must be 1-D or 2-D"):
        H.ihvp(np.ones((2, 2, 10)))
    with pytest.raises(ValueError, match="v contains NaN"):
        H.ihvp(np.full(10, np.nan))
    with pytest.raises(IndexError, match="out of range"):
        H.element(10, 0)
    with pytest.raises(TypeError, match="must be an integer"):
        H.element(1.5, 0)
    # overflow in the Gram matrix is an error, never a silent NaN
    with pytest.raises(ValueError, match="not finite"):
        StaticIHVP(np.full((3, 20), 1e200))


def test_sliding_bad_inputs():
    with pytest.raises(ValueError, match="m must be"):
        SlidingIHVP(10, 0)
    with pytest.raises(ValueError, match="dim must be"):
        SlidingIHVP(0, 4)
    with pytest.raises(ValueError, match="damp must be"):
        SlidingIHVP(10, 4, damp=0)
    with pytest.raises(TypeError, match="dtype must be"):
        SlidingIHVP(10, 4, dtype=np.float16)
    H = SlidingIHVP(10, 4)
    with pytest.raises(ValueError, match=r"g must have shape \(10,\)"):
        H.update(np.ones(11))
    with pytest.raises(ValueError, match="g contains Inf"):
        H.update(np.array([np.inf] + [0.0] * 9))
    with pytest.raises(ValueError, match="v contains NaN"):
        H.update_and_ihvp(np.ones(10), np.full(10, np.nan))
    assert H.count == 0  # rejected input does not change the window


def test_obs_bad_inputs(rng):
    G = rng.standard_normal((4, 10))
    with pytest.raises(ValueError, match="weights has 9 entries"):
        obs_scores(np.ones(9), G)
    with pytest.raises(ValueError, match="sparsity must be in"):
        obs_prune(np.ones(10), G, 1.5)
    with pytest.raises(ValueError, match="steps must be"):
        obs_prune(np.ones(10), G, 0.5, steps=0)


def test_torch_absent_import_fails_clearly():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np, adasolve\n"
        "H = adasolve.StaticIHVP(np.eye(3), 1.0); assert H.ihvp(np.ones(3)).shape == (3,)\n"
        "try:\n"
        "    import adasolve.torch\n"
        "except ImportError as e:\n"
        "    assert 'adasolve.torch needs PyTorch' in str(e), str(e)\n"
        "    print('OK')\n"
        "assert not any(k == 'torch' and v is not None for k, v in sys.modules.items())\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "OK"


def test_adasolve_does_not_import_torch():
    code = "import sys, adasolve; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_device_dispatch_is_explicit(monkeypatch, rng):
    """StaticIHVP/SlidingIHVP pick the CUDA class in their own ``__new__``; CPU input stays on CPU."""
    from adasolve.mfac import ihvp as mod

    class FakeCuda:
        class CudaStaticIHVP:
            def __init__(self, grads, *args, **kwargs):
                self.args = (grads, args, kwargs)

        class CudaSlidingIHVP(CudaStaticIHVP):
            pass

    G = rng.standard_normal((3, 8))
    assert type(StaticIHVP(G, 0.1)) is StaticIHVP
    assert "__new__" in StaticIHVP.__dict__ and "__new__" in SlidingIHVP.__dict__
    monkeypatch.setattr(mod, "_cuda_dispatch", lambda device, *arrays: FakeCuda if device == "cuda" else None)
    H = StaticIHVP(G, 0.5, device="cuda", block_size=None)
    assert isinstance(H, FakeCuda.CudaStaticIHVP)
    assert H.args[1] == (0.5,) and H.args[2] == {"device": "cuda", "block_size": None}
    assert isinstance(SlidingIHVP(8, 2, 0.1, device="cuda"), FakeCuda.CudaSlidingIHVP)
    assert type(SlidingIHVP(8, 2, 0.1)) is SlidingIHVP
    with pytest.raises(ValueError, match="device must be"):
        monkeypatch.undo()
        StaticIHVP(G, 0.1, device="tpu")
