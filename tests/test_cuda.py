"""The CUDA backend (adasolve._cuda): GPU tests are marked ``cuda`` and skip without a GPU.

On a GPU every kernel is compared with an independent NumPy/SciPy reference on the same
inputs: relative 1e-10 in float64, 1e-4 in float32. The unmarked tests check what works
without a GPU (availability reasons, array-interface parsing, clean errors).
"""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import adasolve
import types

from adasolve import _device
from adasolve.constrained import _cuda as _constrained_cuda
from adasolve.mfac import _cuda as _mfac_cuda
from adasolve.sor import _cuda as _sor_cuda

# The GPU code lives beside each family; one namespace keeps the tests' spelling short.
cb = types.SimpleNamespace(**{k: v for m in (_device, _sor_cuda, _mfac_cuda, _constrained_cuda)
                              for k, v in vars(m).items() if not k.startswith("__")})

try:  # the GPU tests use whichever framework is installed; the CPU tests need neither
    import torch  # type: ignore[no-redef]
except ImportError:  # pragma: no cover
    torch = None
try:
    import cupy
    import cupyx.scipy.sparse as csp
except ImportError:  # pragma: no cover
    cupy = None
    csp = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch")
needs_cupy = pytest.mark.skipif(cupy is None, reason="needs CuPy")


def rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def host(x):
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if cupy is not None and isinstance(x, cupy.ndarray):
        return cupy.asnumpy(x)
    return np.asarray(x)


def dev(a):
    return torch.as_tensor(np.ascontiguousarray(a), device="cuda")


TOL = {np.float64: 1e-10, np.float32: 1e-4}


# ------------------------------------------------------------------------------------------
# Without a GPU
# ------------------------------------------------------------------------------------------
def test_cuda_available_gives_a_reason():
    ok, why = adasolve.cuda_available(reason=True)
    assert isinstance(ok, bool) and isinstance(why, str) and why
    assert adasolve.cuda_available() is ok
    if not ok:
        assert "CUDA" in why


def test_parse_cuda_array_interface_contiguous_and_strided():
    ptr, shape, dtype, strides, stream = cb.parse_cuda_array_interface(
        {"shape": (3, 4), "typestr": "<f8", "data": (4096, False), "version": 3})
    assert (ptr, shape, dtype, strides, stream) == (4096, (3, 4), np.dtype(np.float64), (4, 1), None)
    _, _, _, strides, stream = cb.parse_cuda_array_interface(
        {"shape": (3, 4), "typestr": "<f4", "data": (8, False), "strides": (64, 4), "stream": 1, "version": 3})
    assert strides == (16, 1) and stream == 1


@pytest.mark.parametrize("iface, match", [
    ({"shape": (3,), "typestr": "<f8", "data": (0, False), "strides": (12,)}, "multiples"),
    ({"shape": (3,), "data": (0, False)}, "malformed"),
    ({"shape": (3,), "typestr": ">f8", "data": (0, False)}, "big-endian"),
    ({"shape": (3, 2), "typestr": "<f8", "data": (0, False), "strides": (8,)}, "lengths"),
])
def test_parse_cuda_array_interface_rejects(iface, match):
    with pytest.raises(ValueError, match=match):
        cb.parse_cuda_array_interface(iface)


class _FakeCAI:
    def __init__(self, shape, typestr="<f4", strides=None):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": typestr, "data": (256, False),
                                         "strides": strides, "version": 3}


def test_device_array_views_any_cai_producer_without_copy():
    x = _FakeCAI((5, 3))
    assert cb.is_cuda_array(x)
    a = cb.device_array(x)
    assert a.ptr == 256 and a.shape == (5, 3) and a.c_contiguous and a.framework == "cai"
    assert a.stream == 0 and a.obj is x
    b = cb.device_array(_FakeCAI((5, 3), strides=(4, 20)))
    assert not b.c_contiguous and b.strides == (1, 5)


def test_host_arrays_are_not_cuda_arrays():
    assert not cb.is_cuda_array(np.zeros(3))
    assert not cb.is_cuda_array([1.0, 2.0])
    with pytest.raises(TypeError, match="expected a CUDA array"):
        cb.device_array(np.zeros(3))


def test_any_cuda_array_is_the_one_device_test():
    assert cb.any_cuda_array(None, _FakeCAI((3,)))
    assert cb.any_cuda_array(_FakeCAI((3,)))
    assert not cb.any_cuda_array(np.zeros(3), None, [1.0, 2.0], sp.eye(2), np.float64(1.0))
    assert not cb.any_cuda_array()


@pytest.mark.skipif(adasolve.cuda_available(), reason="checks the message when no GPU is usable")
def test_solvers_route_cuda_input_through_the_device_module():
    # CUDA b, or a NumPy b with a CUDA x0: both take the GPU path, which says why it cannot run.
    A = poisson2d(4)
    with pytest.raises(ValueError, match="CUDA backend is not usable"):
        adasolve.solve_sor(A, _FakeCAI((16,)), ordering="multicolor")
    with pytest.raises(ValueError, match="CUDA backend is not usable"):
        adasolve.ssor_cg(A, np.ones(16), _FakeCAI((16,)))


@pytest.mark.skipif(adasolve.cuda_available(), reason="checks the message when no GPU is usable")
def test_backend_says_why_it_is_unavailable():
    with pytest.raises(RuntimeError, match="CUDA backend is not available"):
        cb.CudaSorPlan(sp.eye(3))


# ------------------------------------------------------------------------------------------
# M-FAC
# ------------------------------------------------------------------------------------------
def dense_inverse(G, damp):
    G = np.asarray(G, dtype=np.float64)
    m, d = G.shape
    return np.linalg.inv(damp * np.eye(d) + G.T @ G / m)


@pytest.mark.cuda
@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_static_ihvp_matches_dense_inverse(dtype):
    rng = np.random.default_rng(0)
    m, d, damp = 24, 1004, 0.5  # d not a multiple of the 512-column chunk
    G = rng.standard_normal((m, d)).astype(dtype)
    Finv = dense_inverse(G, damp)
    H = cb.CudaStaticIHVP(dev(G), damp=damp)
    v = rng.standard_normal(d).astype(dtype)
    V = rng.standard_normal((3, d)).astype(dtype)
    x = H.ihvp(dev(v))
    assert isinstance(x, torch.Tensor) and x.is_cuda and x.dtype == dev(v).dtype
    assert rel(host(x), Finv @ v.astype(np.float64)) < TOL[dtype]
    assert rel(host(H.ihvp(dev(V))), V.astype(np.float64) @ Finv) < TOL[dtype]
    # A row stride that breaks 16-byte alignment takes the cuBLAS path.
    Gpad = dev(np.hstack([G, np.ones((m, 3), dtype=dtype)]))[:, :d]
    assert rel(host(cb.CudaStaticIHVP(Gpad, damp=damp).ihvp(dev(v))), Finv @ v.astype(np.float64)) < TOL[dtype]
    q = H.quad(dev(v))
    assert abs(q - v @ Finv @ v) / abs(v @ Finv @ v) < TOL[dtype]
    qb = host(H.quad(dev(V)))
    assert rel(qb, np.einsum("ij,jk,ik->i", V, Finv, V)) < TOL[dtype]
    assert rel(host(H.diag()), np.diag(Finv)) < TOL[dtype]
    for i, j in [(0, 0), (3, 17), (-1, 5)]:
        assert abs(H.element(i, j) - Finv[i, j]) <= TOL[dtype] * np.abs(Finv).max()


@pytest.mark.cuda
@needs_torch
def test_static_ihvp_wide_m_and_many_cholesky_blocks():
    # m = 70 spans three 32-wide Cholesky panels, including a ragged one.
    rng = np.random.default_rng(1)
    m, d, damp = 70, 257, 1e-2
    G = rng.standard_normal((m, d))
    H = cb.CudaStaticIHVP(dev(G), damp=damp)
    v = rng.standard_normal(d)
    assert rel(host(H.ihvp(dev(v))), np.linalg.solve(damp * np.eye(d) + G.T @ G / m, v)) < 1e-10


@pytest.mark.cuda
@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_static_ihvp_long_gradients_cross_gram_chunks(dtype):
    # d > 2 * 2^16: the Gram matrix is summed over several column chunks plus a ragged one.
    rng = np.random.default_rng(10)
    m, d, damp = 8, 2 * 65536 + 124, 3.0
    G = rng.standard_normal((m, d)).astype(dtype)
    v = rng.standard_normal(d).astype(dtype)
    G64, v64 = G.astype(np.float64), v.astype(np.float64)
    K = m * damp * np.eye(m) + G64 @ G64.T
    ref = (v64 - G64.T @ np.linalg.solve(K, G64 @ v64)) / damp  # Woodbury in NumPy
    H = cb.CudaStaticIHVP(dev(G), damp=damp)
    assert rel(host(H.ihvp(dev(v))), ref) < TOL[dtype]
    S = cb.CudaSlidingIHVP(d, m, damp=damp, dtype=dtype)
    S.set_window(dev(G))
    assert rel(host(S.ihvp(dev(v))), ref) < TOL[dtype]


@pytest.mark.cuda
@needs_torch
def test_static_ihvp_uses_the_callers_stream_and_tensor_without_copy():
    rng = np.random.default_rng(2)
    G = dev(rng.standard_normal((8, 100)))
    v = dev(rng.standard_normal(100))
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        H = cb.CudaStaticIHVP(G, damp=0.1)
        x = H.ihvp(v)
    s.synchronize()
    assert H.grads.data_ptr() == G.data_ptr()
    ref = np.linalg.solve(0.1 * np.eye(100) + host(G).T @ host(G) / 8, host(v))
    assert rel(host(x), ref) < 1e-10
    # requires_grad tensors are viewed through .detach(), a strided batch is made contiguous.
    Gg = G.clone().requires_grad_(True)
    assert rel(host(cb.CudaStaticIHVP(Gg, damp=0.1).ihvp(v)), ref) < 1e-10
    V = dev(rng.standard_normal((100, 2))).T
    assert rel(host(H.ihvp(V)), np.linalg.solve(0.1 * np.eye(100) + host(G).T @ host(G) / 8, host(V).T).T) < 1e-10


@pytest.mark.cuda
@needs_torch
def test_static_ihvp_rejects_bad_input():
    G = dev(np.ones((4, 10)))
    with pytest.raises(ValueError, match="damp"):
        cb.CudaStaticIHVP(G, damp=0.0)
    bad = np.ones((4, 10))
    bad[3, 9] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cb.CudaStaticIHVP(dev(bad))
    with pytest.raises(ValueError, match="NaN"):
        cb.CudaStaticIHVP(dev(bad.astype(np.float32) * np.inf))
    H = cb.CudaStaticIHVP(G, damp=1.0)
    with pytest.raises(ValueError, match="shape"):
        H.ihvp(dev(np.ones(11)))
    with pytest.raises(IndexError, match="out of range"):
        H.element(10, 0)
    # Host input is copied to the device of grads; the result stays there.
    assert rel(host(H.ihvp(np.ones(10))), host(H.ihvp(dev(np.ones(10))))) == 0


@pytest.mark.cuda
@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sliding_window_equals_static_on_the_last_m(dtype):
    rng = np.random.default_rng(3)
    m, d, damp = 16, 200, 0.3
    S = cb.CudaSlidingIHVP(d, m, damp=damp, dtype=dtype)
    grads = rng.standard_normal((m + 7, d)).astype(dtype)
    v = rng.standard_normal(d).astype(dtype)
    for t, g in enumerate(grads):
        if t % 3 == 0:
            x = S.update_and_ihvp(dev(g), dev(v))
        elif t % 3 == 1:
            x = S.update_and_ihvp(dev(g))
        else:
            S.update(dev(g))
            x = S.ihvp(dev(v))
        window = grads[max(0, t + 1 - m): t + 1]
        # Before the window fills, the missing rows are zeros (F keeps the 1/m scaling).
        Gw = np.zeros((m, d))
        Gw[: len(window)] = window
        Finv = dense_inverse(Gw, damp)
        rhs = g.astype(np.float64) if t % 3 == 1 else v.astype(np.float64)
        assert rel(host(x), Finv @ rhs) < TOL[dtype], t
    assert S.count == m + 7
    # set_window = the same state as updates with those gradients.
    S.set_window(dev(grads[:5]))
    Gw = np.zeros((m, d))
    Gw[:5] = grads[:5]
    assert rel(host(S.ihvp(dev(v))), dense_inverse(Gw, damp) @ v.astype(np.float64)) < TOL[dtype]
    S.update(dev(grads[5]))
    Gw[5] = grads[5]
    assert rel(host(S.ihvp(dev(v))), dense_inverse(Gw, damp) @ v.astype(np.float64)) < TOL[dtype]
    S.reset()
    assert S.count == 0
    assert rel(host(S.ihvp(dev(v))), v / damp) < TOL[dtype]


# ------------------------------------------------------------------------------------------
# Multicolour SOR, SSOR-CG
# ------------------------------------------------------------------------------------------
def poisson2d(n):
    T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n))
    return (sp.kron(sp.eye(n), T) + sp.kron(T, sp.eye(n))).tocsr()


def reference_sweep(A, x, b, omega, order):
    """Sequential SOR over the rows in ``order`` (pure NumPy, float64)."""
    A = A.tocsr()
    x = np.array(x, dtype=np.float64)
    for i in order:
        row = slice(A.indptr[i], A.indptr[i + 1])
        cols, vals = A.indices[row], A.data[row]
        aii = vals[cols == i].sum()
        x[i] += omega * (b[i] - vals @ x[cols]) / aii
    return x


@pytest.mark.cuda
@needs_torch
def test_coloring_is_red_black_on_poisson_and_proper_in_general():
    plan = cb.CudaSorPlan(poisson2d(12))
    assert plan.ncolors == 2
    rng = np.random.default_rng(4)
    A = sp.random(200, 200, density=0.03, random_state=5, format="csr") + sp.eye(200) * 10
    plan = cb.CudaSorPlan(A)
    # The plan's colours: rows perm[color_ptr[c]:color_ptr[c + 1]] have colour c.
    ptr = np.asarray(plan._impl.color_ptr)
    nc = len(ptr) - 1
    colors = np.repeat(np.arange(nc), np.diff(ptr))[np.argsort(plan.perm)]
    # The GPU relaxes the colours of the CPU multicolour kernels.
    assert nc == adasolve._core.sor.coloring(A.shape[0], A.indptr, A.indices).n_colors
    coo = A.tocoo()
    off = coo.row != coo.col
    assert np.all(colors[coo.row[off]] != colors[coo.col[off]])
    assert nc == plan.ncolors >= 3
    assert rng is not None


@pytest.mark.cuda
@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("direction", ["forward", "backward", "symmetric"])
def test_sweep_matches_sequential_sweep_in_colour_order(direction, dtype):
    rng = np.random.default_rng(6)
    A = (sp.random(150, 150, density=0.04, random_state=7, format="csr") + sp.eye(150) * 8).tocsr().astype(dtype)
    plan = cb.CudaSorPlan(A)
    b = rng.standard_normal(150).astype(dtype)
    x0 = rng.standard_normal(150).astype(dtype)
    order = plan.perm
    ref = x0.copy()
    for _ in range(3):
        if direction in ("forward", "symmetric"):
            ref = reference_sweep(A, ref, b, 1.3, order)
        if direction in ("backward", "symmetric"):
            ref = reference_sweep(A, ref, b, 1.3, order[::-1])
    x = dev(x0)
    plan.sweep(x, dev(b), omega=1.3, iterations=3, direction=direction)
    assert rel(host(x), ref) < (1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.cuda
@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_solve_sor_and_ssor_cg_match_spsolve(dtype):
    A = poisson2d(20).astype(dtype)
    rng = np.random.default_rng(8)
    b = rng.standard_normal(A.shape[0]).astype(dtype)
    ref = spla.spsolve(A.astype(np.float64).tocsc(), b.astype(np.float64))
    rtol = 1e-11 if dtype == np.float64 else 1e-5
    xtol = 1e-9 if dtype == np.float64 else 3e-3  # condition number ~ 200
    x, info, st = cb.solve_sor_cuda(A, dev(b), omega=1.7, rtol=rtol, maxiter=20000, full_output=True)
    assert info == 0 and st["converged"] and st["iterations"] > 0
    assert rel(host(x), ref) < xtol
    x, info, st = cb.ssor_cg_cuda(A, dev(b), omega=1.5, rtol=rtol, full_output=True)
    assert info == 0 and st["iterations"] < 60
    assert rel(host(x), ref) < xtol
    if dtype == np.float64:  # SciPy's stopping test, on the true residual
        r = b - A @ host(x)
        assert np.linalg.norm(r) <= 1.01 * rtol * np.linalg.norm(b)


@pytest.mark.cuda
@needs_torch
def test_ssor_cg_with_warm_start_and_nonconvergence_report():
    A = poisson2d(16)
    b = np.ones(A.shape[0])
    ref = spla.spsolve(A.tocsc(), b)
    plan = cb.CudaSorPlan(A)
    x, info, st = plan.ssor_cg(dev(b), dev(ref), rtol=1e-8)
    assert info == 0 and st["iterations"] == 0
    x, info, st = plan.ssor_cg(dev(b), maxiter=3)
    assert info == 3 and not st["converged"]
    x, info, st = plan.solve_sor(dev(b), maxiter=4, check_every=2)
    assert info == 4 and st["iterations"] == 4


@pytest.mark.cuda
@needs_torch
def test_sor_plan_rejects_bad_matrices():
    with pytest.raises(ValueError, match="diagonal"):
        cb.CudaSorPlan(sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 2.0]])))
    with pytest.raises(ValueError, match="square"):
        cb.CudaSorPlan(sp.csr_matrix(np.ones((2, 3))))
    plan = cb.CudaSorPlan(poisson2d(4))
    with pytest.raises(ValueError, match="omega"):
        plan.solve_sor(dev(np.ones(16)), omega=2.0)
    with pytest.raises(ValueError, match="shape"):
        plan.ssor_cg(dev(np.ones(15)))


@pytest.mark.cuda
@needs_cupy
def test_sor_with_cupy_inputs_returns_cupy():
    A = poisson2d(10)
    b = np.arange(100, dtype=np.float64)
    x, info = cb.ssor_cg_cuda(csp.csr_matrix(A), cupy.asarray(b), rtol=1e-12)
    assert isinstance(x, cupy.ndarray) and info == 0
    assert rel(cupy.asnumpy(x), spla.spsolve(A.tocsc(), b)) < 1e-10


# ------------------------------------------------------------------------------------------
# Sketches
# ------------------------------------------------------------------------------------------
_M = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SALT = np.uint64(0xD1B54A32D192ED03)


def splitmix64(z):
    z = (np.asarray(z, dtype=np.uint64) + _GOLDEN) & _M
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _M
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _M
    return z ^ (z >> np.uint64(31))


def numpy_sketch(kind, s, n, seed):
    """The documented definition of S, independently of the CUDA code."""
    with np.errstate(over="ignore"):
        sm = splitmix64(np.uint64(seed))
        if kind == "gaussian":
            t = np.arange(s * n, dtype=np.uint64)
            key = sm ^ (t * _GOLDEN)
            u1 = ((splitmix64(key) >> np.uint64(11)).astype(np.float64) + 1) * 2.0**-53
            u2 = (splitmix64(key ^ _SALT) >> np.uint64(11)).astype(np.float64) * 2.0**-53
            return (np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)).reshape(s, n) / np.sqrt(s)
        key = sm ^ (np.arange(n, dtype=np.uint64) * _GOLDEN)
        rows = (splitmix64(key) % np.uint64(s)).astype(np.int64)
        signs = np.where(splitmix64(key ^ _SALT) >> np.uint64(63), -1.0, 1.0)
        S = np.zeros((s, n))
        S[rows, np.arange(n)] = signs
        return S


@pytest.mark.cuda
@needs_torch
@pytest.mark.parametrize("kind", ["gaussian", "countsketch"])
def test_sketch_matrix_follows_its_definition(kind):
    S = host(cb.sketch_matrix(kind, 7, 50, seed=11))
    assert rel(S, numpy_sketch(kind, 7, 50, 11)) < 1e-12
    assert not np.allclose(S, host(cb.sketch_matrix(kind, 7, 50, seed=12)))


@pytest.mark.cuda
@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sketch_application_matches_explicit_products(dtype):
    rng = np.random.default_rng(9)
    n, p, s = 3000, 13, 40
    A = rng.standard_normal((n, p)).astype(dtype)
    a = rng.standard_normal(n).astype(dtype)
    for kind, fn in (("gaussian", cb.gaussian_sketch), ("countsketch", cb.countsketch)):
        S = numpy_sketch(kind, s, n, 5)
        assert rel(host(fn(dev(A), s, seed=5)), S @ A.astype(np.float64)) < TOL[dtype]
        assert rel(host(fn(dev(a), s, seed=5)), S @ a.astype(np.float64)) < TOL[dtype]
    # A strided (transposed) view goes through a contiguous copy.
    At = dev(np.ascontiguousarray(A.T)).T
    assert rel(host(cb.gaussian_sketch(At, s, seed=5)), numpy_sketch("gaussian", s, n, 5) @ A.astype(np.float64)) < TOL[dtype]


@pytest.mark.cuda
@needs_cupy
def test_countsketch_of_a_sparse_matrix():
    A = sp.random(500, 60, density=0.05, random_state=3, format="csr")
    out = cb.countsketch(csp.csr_matrix(A), 25, seed=4)
    assert rel(cupy.asnumpy(out), numpy_sketch("countsketch", 25, 500, 4) @ A.toarray()) < 1e-12


@pytest.mark.cuda
@needs_torch
def test_gaussian_sketch_statistics():
    S = host(cb.sketch_matrix("gaussian", 200, 1000, seed=1)) * np.sqrt(200)
    assert abs(S.mean()) < 0.01 and abs(S.var() - 1) < 0.01


# ------------------------------------------------------------------------------------------
# Dispatch from the public classes, against the CPU core on the same inputs
# ------------------------------------------------------------------------------------------
def test_device_argument_is_validated_without_a_gpu():
    with pytest.raises(ValueError, match="device must be"):
        adasolve.StaticIHVP(np.ones((2, 3)), device="gpu")
    with pytest.raises(TypeError, match="device must be"):
        adasolve.SlidingIHVP(3, 2, device=0)
    assert type(adasolve.StaticIHVP(np.ones((2, 3)), device="cpu")) is adasolve.StaticIHVP
    assert type(adasolve.SlidingIHVP(3, 2, device="cpu")) is adasolve.SlidingIHVP


@pytest.mark.cuda
@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_public_classes_delegate_and_match_the_cpu_core(dtype):
    rng = np.random.default_rng(11)
    m, d, damp = 20, 400, 0.2
    G = rng.standard_normal((m, d)).astype(dtype)
    v = rng.standard_normal(d).astype(dtype)
    cpu = adasolve.StaticIHVP(G, damp)
    gpu = adasolve.StaticIHVP(dev(G), damp)
    assert isinstance(gpu, cb.CudaStaticIHVP)
    assert rel(host(gpu.ihvp(dev(v))), cpu.ihvp(v)) < TOL[dtype]
    assert rel(host(gpu.diag()), cpu.diag()) < TOL[dtype]
    assert abs(gpu.element(3, 5) - cpu.element(3, 5)) <= TOL[dtype] * abs(cpu.element(3, 3))
    # device="cuda" with host input: a copy on the device, results there.
    g2 = adasolve.StaticIHVP(G, damp, device="cuda")
    assert rel(host(g2.ihvp(v)), cpu.ihvp(v)) < TOL[dtype]
    sc = adasolve.SlidingIHVP(d, m, damp, dtype=dtype)
    sg = adasolve.SlidingIHVP(d, m, damp, dtype=dtype, device="cuda")
    assert isinstance(sg, cb.CudaSlidingIHVP)
    for g in rng.standard_normal((m + 3, d)).astype(dtype):
        xc = sc.update_and_ihvp(g, v)
        xg = sg.update_and_ihvp(dev(g), dev(v))
        assert rel(host(xg), xc) < TOL[dtype]
