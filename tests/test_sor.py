"""SOR family: solve_sor, ssor_cg, ssor_preconditioner, sor_sweep against independent references."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import given, settings, strategies as st

import adasolve
from adasolve import solve_sor, sor_sweep, ssor_cg, ssor_preconditioner
from adasolve.problems import poisson2d


def poisson1d(n):
    return sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n), format="csr")


def random_spd(n, seed):
    rng = np.random.default_rng(seed)
    B = sp.random(n, n, density=0.05, random_state=rng, format="csr")
    A = B @ B.T + sp.diags(1.0 + np.abs(B).sum(axis=1).A1 ** 2)
    return sp.csr_matrix(A)


def diag_dominant_nonsym(n, seed):
    rng = np.random.default_rng(seed)
    B = sp.random(n, n, density=0.08, random_state=rng, format="csr")
    B.data = rng.uniform(-1, 1, B.nnz)
    d = np.abs(B).sum(axis=1).A1 + np.abs(B).sum(axis=0).A1 + 1.0
    return sp.csr_matrix(B + sp.diags(d))


MATRICES = {
    "poisson1d": lambda: poisson1d(60),
    "poisson2d": lambda: poisson2d(12),
    "spd": lambda: random_spd(80, 1),
    "nonsym": lambda: diag_dominant_nonsym(80, 2),
}


def ref_sweep(A, x, b, omega, direction, order=None):
    """Pure-NumPy pointwise SOR sweep (the reference)."""
    A = A.toarray()
    x = x.astype(np.float64).copy()
    n = len(b)
    if order is None:
        order = np.arange(n)
    seqs = {"forward": [order], "backward": [order[::-1]], "symmetric": [order, order[::-1]]}[direction]
    for seq in seqs:
        for i in seq:
            s = b[i] - A[i] @ x + A[i, i] * x[i]
            x[i] = (1 - omega) * x[i] + omega * s / A[i, i]
    return x


def multicolor_order(M):
    ptr, rows = M.coloring()
    return rows, ptr


@pytest.mark.parametrize("name", list(MATRICES))
@pytest.mark.parametrize("omega", [0.8, 1.0, 1.3])
@pytest.mark.parametrize("ordering", ["natural", "multicolor"])
def test_solve_sor_matches_spsolve(name, omega, ordering):
    A = MATRICES[name]()
    rng = np.random.default_rng(0)
    b = rng.standard_normal(A.shape[0])
    x, info = solve_sor(A, b, omega=omega, ordering=ordering, rtol=1e-10, maxiter=50000)
    assert info == 0
    xs = spla.spsolve(A.tocsc(), b)
    np.testing.assert_allclose(x, xs, rtol=1e-7, atol=1e-8 * np.abs(xs).max())
    assert np.linalg.norm(b - A @ x) <= 1e-10 * np.linalg.norm(b) * (1 + 1e-12)


@pytest.mark.parametrize("symmetric", [False, True])
def test_solve_sor_several_rhs_and_float32(symmetric):
    A = poisson2d(10)
    rng = np.random.default_rng(1)
    B = rng.standard_normal((A.shape[0], 3))
    X, info = solve_sor(A, B, omega=1.5, symmetric=symmetric, rtol=1e-9)
    assert info == 0 and X.shape == B.shape
    np.testing.assert_allclose(X, spla.spsolve(A.tocsc(), B), rtol=1e-6, atol=1e-8)
    x32, info = solve_sor(A.astype(np.float32), B[:, 0].astype(np.float32), omega=1.5, rtol=1e-5)
    assert info == 0 and x32.dtype == np.float32
    np.testing.assert_allclose(x32, spla.spsolve(A.tocsc(), B[:, 0]), rtol=1e-3, atol=1e-4)


def test_solve_sor_stats_and_stop_test():
    A = poisson2d(15)
    b = np.ones(A.shape[0])
    x, info, stats = solve_sor(A, b, omega=1.7, rtol=1e-6, full_output=True)
    assert info == 0 and stats.converged
    r = np.linalg.norm(b - A @ x)
    assert r <= 1e-6 * np.linalg.norm(b)
    assert stats.residual_norm == pytest.approx(r, rel=1e-8)
    assert stats.omega == 1.7 and stats.elapsed >= 0
    # residual checks are scheduled, not done every sweep: the stop is at most a few
    # sweeps after the first sweep that meets the test (found with a NumPy reference)
    xr = np.zeros_like(b)
    first = None
    for k in range(1, stats.iterations + 1):
        xr = ref_sweep(A, xr, b, 1.7, "forward")
        if np.linalg.norm(b - A @ xr) <= 1e-6 * np.linalg.norm(b):
            first = k
            break
    assert first is not None and first <= stats.iterations <= first + max(2, first // 20)


def test_atol_and_maxiter_and_zero_rhs():
    A = poisson2d(8)
    b = np.ones(A.shape[0])
    x, info = solve_sor(A, b, rtol=0.0, atol=1e-3)
    assert info == 0 and np.linalg.norm(b - A @ x) <= 1e-3
    x, info = solve_sor(A, b, maxiter=3)
    assert info == 3
    x, info = solve_sor(A, np.zeros(A.shape[0]))
    assert info == 0 and not x.any()


def test_x0_and_b_not_modified_and_warm_start():
    A = poisson2d(8)
    b = np.ones(A.shape[0])
    x0 = np.full(A.shape[0], 0.1)
    b_copy, x0_copy = b.copy(), x0.copy()
    xs = spla.spsolve(A.tocsc(), b)
    x, info, st = solve_sor(A, b, xs + 1e-12, full_output=True)
    assert st.iterations <= 1
    solve_sor(A, b, x0)
    np.testing.assert_array_equal(b, b_copy)
    np.testing.assert_array_equal(x0, x0_copy)


def test_callback_called_once_per_iteration():
    A = poisson2d(6)
    b = np.ones(A.shape[0])
    seen = []
    x, info, st = solve_sor(A, b, omega=1.3, callback=lambda xk: seen.append(xk.copy()), full_output=True)
    assert info == 0 and len(seen) == st.iterations
    np.testing.assert_allclose(seen[-1], x)
    seen.clear()
    x, info, st = ssor_cg(A, b, callback=lambda xk: seen.append(1), full_output=True)
    assert len(seen) == st.iterations


def test_auto_omega_beats_gauss_seidel():
    A = poisson2d(30)
    b = np.random.default_rng(3).standard_normal(A.shape[0])
    _, info1, s1 = solve_sor(A, b, omega=1.0, full_output=True)
    _, info2, s2 = solve_sor(A, b, omega="auto", full_output=True)
    assert info1 == 0 and info2 == 0
    assert s2.iterations < s1.iterations / 4
    assert 1.5 < s2.omega < 1.95


def test_divergence_is_reported_not_nan():
    # omega > 1 on an indefinite nonsymmetric matrix: SOR diverges
    A = sp.csr_matrix(np.array([[1.0, 3.0, 0], [-3.0, 1.0, 2.0], [0, -4.0, 1.0]]))
    b = np.ones(3)
    x, info = solve_sor(A, b, omega=1.9, maxiter=100000)
    assert info < 0
    x, info = solve_sor(A, b, omega=1.9, maxiter=5)
    assert info != 0


class FakeTuner:
    def __init__(self):
        self.calls = []

    def suggest(self, context=None):
        self.calls.append(("suggest", context))
        return 1.4

    def observe(self, omega, cost, *, context=None, rate=None):
        self.calls.append(("observe", omega, cost, context, rate))


def test_tuner_protocol():
    A = poisson2d(8)
    b = np.ones(A.shape[0])
    t = FakeTuner()
    x, info, st = solve_sor(A, b, omega=t, context=[0.5], full_output=True)
    assert st.omega == 1.4
    assert t.calls[0] == ("suggest", [0.5])
    kind, w, cost, ctx, rate = t.calls[1]
    assert (kind, w, cost, ctx) == ("observe", 1.4, st.iterations, [0.5])
    assert 0 < rate < 1
    t2 = FakeTuner()
    ssor_cg(A, b, omega=t2)
    assert t2.calls[1][0] == "observe"


@pytest.mark.parametrize("direction", ["forward", "backward", "symmetric"])
@pytest.mark.parametrize("name", ["poisson2d", "nonsym"])
def test_sweep_matches_numpy_reference(direction, name):
    A = MATRICES[name]()
    rng = np.random.default_rng(5)
    b = rng.standard_normal(A.shape[0])
    x0 = rng.standard_normal(A.shape[0])
    x = x0.copy()
    out = sor_sweep(A, x, b, omega=1.3, direction=direction)
    assert out is x
    np.testing.assert_allclose(x, ref_sweep(A, x0, b, 1.3, direction), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("direction", ["forward", "backward", "symmetric"])
def test_multicolor_sweep_matches_coloured_reference(direction):
    A = poisson2d(9)
    from adasolve import _core

    M = _core.sor.Csr_float64_int32(A.shape[0], A.indptr, A.indices, A.data)
    ptr, rows = M.coloring()
    assert len(ptr) - 1 == 2  # red-black on the 5-point stencil
    # no coupling within a colour
    D = A.toarray()
    for c in range(len(ptr) - 1):
        idx = rows[ptr[c] : ptr[c + 1]]
        sub = D[np.ix_(idx, idx)]
        assert np.count_nonzero(sub - np.diag(np.diag(sub))) == 0
    rng = np.random.default_rng(6)
    b, x0 = rng.standard_normal(A.shape[0]), rng.standard_normal(A.shape[0])
    x = x0.copy()
    sor_sweep(A, x, b, omega=1.2, direction=direction, ordering="multicolor")
    np.testing.assert_allclose(x, ref_sweep(A, x0, b, 1.2, direction, order=rows), rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 12),
    seed=st.integers(0, 10_000),
    omega=st.floats(0.1, 1.9),
    direction=st.sampled_from(["forward", "backward", "symmetric"]),
)
def test_sweep_hypothesis(n, seed, omega, direction):
    A = diag_dominant_nonsym(n, seed) if n > 1 else sp.csr_matrix([[2.0]])
    rng = np.random.default_rng(seed)
    b, x0 = rng.standard_normal(n), rng.standard_normal(n)
    x = x0.copy()
    sor_sweep(A, x, b, omega=omega, direction=direction)
    np.testing.assert_allclose(x, ref_sweep(A, x0, b, omega, direction), rtol=1e-11, atol=1e-11)


def test_ssor_cg_matches_spsolve_and_preconditioner_helps():
    A = poisson2d(25)
    b = np.random.default_rng(7).standard_normal(A.shape[0])
    x, info, st = ssor_cg(A, b, omega=1.6, full_output=True)
    assert info == 0
    np.testing.assert_allclose(x, spla.spsolve(A.tocsc(), b), rtol=1e-6, atol=1e-8)
    counts = {"plain": 0, "ssor": 0}

    def count(key):
        def cb(xk):
            counts[key] += 1

        return cb

    _, i1 = spla.cg(A, b, rtol=1e-8, callback=count("plain"))
    _, i2 = spla.cg(A, b, rtol=1e-8, M=ssor_preconditioner(A, omega=1.6), callback=count("ssor"))
    assert i1 == 0 and i2 == 0
    assert counts["ssor"] < 0.6 * counts["plain"]
    assert abs(st.iterations - counts["ssor"]) <= 2


def test_ssor_preconditioner_is_the_ssor_matrix_inverse():
    A = random_spd(30, 3)
    w = 1.3
    D = sp.diags(A.diagonal())
    L = sp.tril(A, -1)
    U = sp.triu(A, 1)
    Mmat = ((D + w * L) @ sp.diags(1 / A.diagonal()) @ (D + w * U) / (w * (2 - w))).toarray()
    r = np.random.default_rng(0).standard_normal(30)
    P = ssor_preconditioner(A, omega=w)
    np.testing.assert_allclose(P.matvec(r), np.linalg.solve(Mmat, r), rtol=1e-10)
    R = np.random.default_rng(1).standard_normal((30, 2))
    np.testing.assert_allclose(P.matmat(R), np.linalg.solve(Mmat, R), rtol=1e-10)


def test_ssor_cg_not_spd_breakdown():
    A = sp.csr_matrix(np.diag([1.0, -2.0, 3.0]) + 0.1 * np.ones((3, 3)))
    x, info = ssor_cg(A, np.ones(3))
    assert info != 0


def test_accepts_every_sparse_format_and_lists_and_int():
    A = poisson2d(5)
    b = np.arange(A.shape[0], dtype=np.int64)
    xs = spla.spsolve(A.tocsc(), b.astype(float))
    for fmt in ["csr", "csc", "coo", "lil", "dok", "bsr"]:
        x, info = solve_sor(A.asformat(fmt), b, omega=1.4, rtol=1e-10)
        assert info == 0
        np.testing.assert_allclose(x, xs, rtol=1e-7)
    x, info = solve_sor(A.toarray().tolist(), b.tolist(), rtol=1e-10)
    np.testing.assert_allclose(x, xs, rtol=1e-7)
    x, info = solve_sor(sp.csr_array(A.astype(np.int64)), b, rtol=1e-10)
    np.testing.assert_allclose(x, xs, rtol=1e-7)


BAD = [
    (lambda A, b: solve_sor(A[:, :-1], b), ValueError, "square"),
    (lambda A, b: solve_sor(A, b[:-1]), ValueError, "b has"),
    (lambda A, b: solve_sor(A, b, x0=b[:-1]), ValueError, "x0 has"),
    (lambda A, b: solve_sor(sp.csr_matrix(A - sp.diags(A.diagonal())), b), ValueError, "diagonal"),
    (lambda A, b: solve_sor(A, np.where(np.arange(len(b)) == 0, np.nan, b)), ValueError, "NaN"),
    (lambda A, b: solve_sor(A.multiply(np.inf).tocsr(), b), ValueError, "Inf|NaN"),
    (lambda A, b: solve_sor(A.astype(complex), b), TypeError, "complex"),
    (lambda A, b: solve_sor(A, b.astype(complex)), TypeError, "complex"),
    (lambda A, b: solve_sor(A, b, omega=2.0), ValueError, "omega"),
    (lambda A, b: solve_sor(A, b, omega=0.0), ValueError, "omega"),
    (lambda A, b: solve_sor(A, b, omega="best"), ValueError, "omega"),
    (lambda A, b: solve_sor(A, b, rtol=-1.0), ValueError, "rtol"),
    (lambda A, b: solve_sor(A, b, maxiter=0), ValueError, "maxiter"),
    (lambda A, b: solve_sor(sp.csr_matrix((0, 0)), np.zeros(0)), ValueError, "empty"),
    (lambda A, b: solve_sor(A, b, ordering="random"), ValueError, "ordering"),
    (lambda A, b: solve_sor(A, b, omega="auto", symmetric=True), ValueError, "symmetric"),
    (lambda A, b: ssor_cg(A, b, omega=2.5), ValueError, "omega"),
    (lambda A, b: ssor_cg(A, np.ones((len(b), 2))), ValueError, "b must be 1-D"),
    (lambda A, b: ssor_preconditioner(A, omega=-1), ValueError, "omega"),
    (lambda A, b: sor_sweep(A, b.tolist(), b), TypeError, "NumPy array"),
    (lambda A, b: sor_sweep(A, b.astype(np.int64), b), TypeError, "dtype"),
    (lambda A, b: sor_sweep(A, np.zeros(2 * len(b))[::2], b), TypeError, "contiguous"),
    (lambda A, b: sor_sweep(A, np.zeros(len(b)), b, direction="sideways"), ValueError, "direction"),
    (lambda A, b: sor_sweep(A, np.zeros(len(b)), b, iterations=0), ValueError, "iterations"),
]


@pytest.mark.parametrize("call, exc, match", BAD)
def test_bad_input(call, exc, match):
    A = poisson2d(4)
    b = np.ones(A.shape[0])
    with pytest.raises(exc, match=match):
        call(A, b)


def _cuda_array_module():
    try:
        import cupy

        return lambda a: cupy.asarray(a), lambda a: cupy.asnumpy(a)
    except ImportError:
        torch = pytest.importorskip("torch")
        return (lambda a: torch.as_tensor(a, device="cuda")), (lambda a: a.cpu().numpy())


@pytest.mark.cuda
def test_solve_sor_and_ssor_cg_dispatch_cuda_input():
    to_dev, to_host = _cuda_array_module()
    A = poisson2d(40)
    b = np.random.default_rng(9).standard_normal(A.shape[0])
    xs = spla.spsolve(A.tocsc(), b)
    x, info, st = solve_sor(A, to_dev(b), omega=1.8, ordering="multicolor", rtol=1e-10, full_output=True)
    assert info == 0 and st.converged
    np.testing.assert_allclose(to_host(x), xs, rtol=1e-7, atol=1e-9)
    x, info = ssor_cg(A, to_dev(b), omega=1.5, rtol=1e-10)
    assert info == 0
    np.testing.assert_allclose(to_host(x), xs, rtol=1e-7, atol=1e-9)
    t = FakeTuner()
    x, info = ssor_cg(A, to_dev(b), omega=t, rtol=1e-10)
    assert [c[0] for c in t.calls] == ["suggest", "observe"]
    with pytest.raises(ValueError, match="multicolor"):
        solve_sor(A, to_dev(b))


def test_threads_are_one_library_wide_setting():
    # set_num_threads lives at the top of _core (and adasolve), not in one family's module.
    assert not hasattr(adasolve._core.sor, "set_num_threads")
    old = adasolve.num_threads()
    A = poisson2d(100)  # 10^4 unknowns: above the size where the thread team is used
    b = np.random.default_rng(3).standard_normal(A.shape[0])
    try:
        adasolve.set_num_threads(1)
        assert adasolve.num_threads() == 1 and adasolve.max_threads() == 1
        x1, _ = solve_sor(A, b, omega=1.9, ordering="multicolor", maxiter=50)
        adasolve.set_num_threads(2)
        assert adasolve.num_threads() == 2
        x2, _ = solve_sor(A, b, omega=1.9, ordering="multicolor", maxiter=50)
    finally:
        adasolve.set_num_threads(old)
    np.testing.assert_array_equal(x1, x2)
    with pytest.raises(ValueError, match="n must be >= 1"):
        adasolve.set_num_threads(0)
    with pytest.raises(TypeError):
        adasolve.set_num_threads("2")
