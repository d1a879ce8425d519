import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import cg, spsolve

from hypothesis import given, settings, strategies as st

from adasolve import solve_sor, sor_sweep, ssor_cg, ssor_preconditioner
from adasolve import _core


def poisson1d(n):
    return sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(n, n), format="csr")


def poisson2d(n):
    T = poisson1d(n)
    I = sp.identity(n, format="csr")
    return (sp.kron(I, T) + sp.kron(T, I)).tocsr()


def random_spd(n, seed):
    rng = np.random.default_rng(seed)
    R = sp.random(n, n, density=0.05, random_state=rng, format="csr")
    S = R + R.T
    return (S + sp.diags(np.abs(S).sum(axis=1).A1 + 1.0)).tocsr()


def diag_dominant_nonsym(n, seed):
    rng = np.random.default_rng(seed)
    R = sp.random(n, n, density=0.08, random_state=rng, format="csr")
    R.data -= 0.5
    return (R + sp.diags(np.abs(R).sum(axis=1).A1 * 1.5 + 1.0)).tocsr()


# ---------------------------------------------------------------- NumPy references

def ref_sweep(A, x, b, w, rows):
    A = A.toarray()
    x = x.copy()
    for i in rows:
        s = b[i] - A[i] @ x + A[i, i] * x[i]
        x[i] = (1 - w) * x[i] + w * s / A[i, i]
    return x


def ref(A, x, b, w, direction, order=None):
    n = A.shape[0]
    fwd = list(range(n)) if order is None else list(order)
    if direction == "forward":
        return ref_sweep(A, x, b, w, fwd)
    if direction == "backward":
        return ref_sweep(A, x, b, w, fwd[::-1])
    return ref_sweep(A, ref_sweep(A, x, b, w, fwd), b, w, fwd[::-1])


CASES = {
    "poisson1d": lambda: poisson1d(40),
    "poisson2d": lambda: poisson2d(12),
    "spd": lambda: random_spd(120, 0),
    "nonsym": lambda: diag_dominant_nonsym(120, 1),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("ordering", ["natural", "multicolor"])
@pytest.mark.parametrize("omega", [0.8, 1.0, 1.3])
def test_solution_matches_spsolve(case, ordering, omega):
    A = CASES[case]()
    b = np.random.default_rng(2).standard_normal(A.shape[0])
    x, info, st_ = solve_sor(A, b, omega=omega, ordering=ordering, rtol=1e-10, maxiter=50000,
                           full_output=True)
    xs = spsolve(A.tocsc(), b)
    assert info == 0 and st_.converged
    assert np.linalg.norm(b - A @ x) <= 1e-10 * np.linalg.norm(b) * (1 + 1e-12)
    np.testing.assert_allclose(x, xs, rtol=0, atol=1e-7 * np.abs(xs).max())


@pytest.mark.parametrize("ordering", ["natural", "multicolor"])
def test_float32_and_several_rhs(ordering):
    A = poisson2d(10)
    B = np.random.default_rng(3).standard_normal((100, 3))
    X, info = solve_sor(A, B, omega=1.5, ordering=ordering, rtol=1e-10)
    assert info == 0 and X.shape == (100, 3)
    np.testing.assert_allclose(X, spsolve(A.tocsc(), B), atol=1e-7)
    A32 = A.astype(np.float32)
    x32, info = solve_sor(A32, B[:, 0].astype(np.float32), omega=1.5, ordering=ordering, rtol=1e-5)
    assert info == 0 and x32.dtype == np.float32
    np.testing.assert_allclose(x32, spsolve(A.tocsc(), B[:, 0]), atol=1e-3)


def test_symmetric_and_int64_indices():
    A = random_spd(80, 4)
    A64 = sp.csr_matrix((A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64)), shape=A.shape)
    b = np.ones(80)
    x, info = solve_sor(A64, b, omega=1.2, symmetric=True, rtol=1e-10)
    assert info == 0
    np.testing.assert_allclose(x, spsolve(A.tocsc(), b), atol=1e-8)


@pytest.mark.parametrize("direction", ["forward", "backward", "symmetric"])
@pytest.mark.parametrize("case", list(CASES))
def test_one_sweep_matches_numpy(direction, case):
    A = CASES[case]()
    rng = np.random.default_rng(5)
    b, x0 = rng.standard_normal(A.shape[0]), rng.standard_normal(A.shape[0])
    x = x0.copy()
    sor_sweep(A, x, b, omega=1.3, direction=direction)
    np.testing.assert_allclose(x, ref(A, x0, b, 1.3, direction), rtol=0, atol=1e-12)


def test_sweep_several_rhs_and_iterations():
    A = diag_dominant_nonsym(50, 7)
    rng = np.random.default_rng(6)
    B, X0 = rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    X = X0.copy()
    sor_sweep(A, X, B, omega=0.9, iterations=2, direction="backward")
    for c in range(2):
        r = ref(A, ref(A, X0[:, c], B[:, c], 0.9, "backward"), B[:, c], 0.9, "backward")
        np.testing.assert_allclose(X[:, c], r, atol=1e-12)


@pytest.mark.parametrize("direction", [0, 1, 2])
def test_multicolor_sweep_matches_coloured_reference(direction):
    A = diag_dominant_nonsym(80, 8)
    col = _core.sor.greedy_coloring(80, A.indptr, A.indices)
    ptr, rows = np.asarray(col.ptr), np.asarray(col.rows)
    S = (abs(A) + abs(A.T)).toarray() != 0
    for c in range(col.n_colors):
        r = rows[ptr[c]:ptr[c + 1]]
        sub = S[np.ix_(r, r)]
        assert not (sub & ~np.eye(len(r), dtype=bool)).any()  # a colour is independent
    rng = np.random.default_rng(9)
    b, x0 = rng.standard_normal(80), rng.standard_normal(80)
    x = x0.copy()
    inv = 1.0 / A.diagonal()
    _core.sor.sweep(80, A.indptr, A.indices, A.data, inv, x, b, 1.2, 1, direction, col)
    name = ["forward", "backward", "symmetric"][direction]
    np.testing.assert_allclose(x, ref(A, x0, b, 1.2, name, order=rows), atol=1e-12)


def test_red_black_on_5_point():
    A = poisson2d(6)
    col = _core.sor.greedy_coloring(36, A.indptr, A.indices)
    assert col.n_colors == 2
    red = np.asarray(col.rows)[: np.asarray(col.ptr)[1]]
    assert np.all((red // 6 + red % 6) % 2 == 0)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 10_000), w=st.floats(0.1, 1.9),
       direction=st.sampled_from(["forward", "backward", "symmetric"]))
def test_sweep_hypothesis(n, seed, w, direction):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n)) * (rng.random((n, n)) < 0.4)
    M += np.diag(np.abs(M).sum(axis=1) + 1.0)
    b, x0 = rng.standard_normal(n), rng.standard_normal(n)
    x = x0.copy()
    sor_sweep(M, x, b, omega=w, direction=direction)
    np.testing.assert_allclose(x, ref(sp.csr_matrix(M), x0, b, w, direction), atol=1e-12)


def test_ssor_preconditioner_reduces_cg_iterations():
    A = poisson2d(30)
    b = np.ones(A.shape[0])
    counts = []
    for M in (None, ssor_preconditioner(A, omega=1.5)):
        k = [0]
        x, info = cg(A, b, M=M, rtol=1e-8, callback=lambda xk: k.__setitem__(0, k[0] + 1))
        assert info == 0
        counts.append(k[0])
    assert counts[1] < 0.6 * counts[0]


def test_ssor_cg_matches_spsolve_and_warm_start():
    A = random_spd(150, 10)
    b = np.random.default_rng(1).standard_normal(150)
    xs = spsolve(A.tocsc(), b)
    x, info, s = ssor_cg(A, b, omega=1.2, rtol=1e-10, full_output=True)
    assert info == 0 and s.iterations > 0
    np.testing.assert_allclose(x, xs, atol=1e-8 * np.abs(xs).max())
    x2, info, s2 = ssor_cg(A, b, x0=xs + 1e-6, omega=1.2, rtol=1e-10, full_output=True)
    assert info == 0 and s2.iterations < s.iterations


def test_stats_and_callback_count():
    A, b = poisson2d(8), np.ones(64)
    seen = []
    x, info, s = solve_sor(A, b, omega=1.4, callback=lambda xk: seen.append(xk.copy()), full_output=True)
    assert info == 0 and len(seen) == s.iterations
    x2, info2, s2 = solve_sor(A, b, omega=1.4, full_output=True)
    assert s2.iterations == s.iterations  # first check meeting the tolerance, with or without chunks
    np.testing.assert_allclose(x, x2)
    assert s.omega == 1.4 and s.elapsed >= 0 and 0 < s.convergence_factor < 1
    k = [0]
    ssor_cg(A, b, callback=lambda xk: k.__setitem__(0, k[0] + 1))
    assert k[0] > 0


def test_maxiter_gives_positive_info():
    A, b = poisson2d(10), np.ones(100)
    x, info, s = solve_sor(A, b, maxiter=5, full_output=True)
    assert info == 5 and not s.converged and s.iterations == 5
    x, info = ssor_cg(A, b, maxiter=2)
    assert info == 2


def test_divergence_reported():
    A = sp.csr_matrix(np.array([[1.0, 3.0], [3.0, 1.0]]))  # Jacobi radius 3: SOR diverges
    x, info = solve_sor(A, np.ones(2), omega=1.0, maxiter=100000)
    assert info < 0
    A = sp.csr_matrix(np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))  # indefinite
    x, info = ssor_cg(A, np.array([1.0, 0.0, 1.0]), maxiter=50)
    assert info == -1 and np.isfinite(x).all()


def test_zero_rhs_and_inputs_untouched():
    A = poisson1d(10)
    data = A.data.copy()
    x, info = solve_sor(A, np.zeros(10))
    assert info == 0 and not x.any()
    b, x0 = np.ones(10), np.zeros(10)
    solve_sor(A, b, x0, omega=1.2)
    ssor_cg(A, b, x0)
    assert not x0.any() and np.all(b == 1) and np.all(A.data == data)


def test_omega_auto_beats_gauss_seidel():
    A, b = poisson2d(40), np.ones(1600)
    _, i1, s1 = solve_sor(A, b, omega=1.0, full_output=True)
    xa, ia, sa = solve_sor(A, b, omega="auto", full_output=True)
    assert i1 == 0 and ia == 0
    assert sa.iterations < 0.3 * s1.iterations and 1.0 < sa.omega < 2.0
    np.testing.assert_allclose(xa, spsolve(A.tocsc(), b), atol=1e-6)


class FakeTuner:
    def __init__(self, w):
        self.w, self.calls = w, []

    def suggest(self, context=None):
        self.calls.append(("suggest", context))
        return self.w

    def observe(self, omega, cost, context=None, rate=None):
        self.calls.append(("observe", omega, cost, context, rate))


@pytest.mark.parametrize("solver", [solve_sor, ssor_cg])
def test_tuner_protocol(solver):
    A, b = poisson2d(8), np.ones(64)
    t = FakeTuner(1.3)
    ctx = np.array([0.5])
    x, info, s = solver(A, b, omega=t, context=ctx, full_output=True)
    assert info == 0 and s.omega == 1.3
    assert t.calls[0] == ("suggest", ctx)
    _, w, cost, c, rate = t.calls[1]
    assert w == 1.3 and cost == s.iterations and c is ctx and rate == pytest.approx(s.convergence_factor)


# ---------------------------------------------------------------- bad input

def test_bad_inputs():
    A, b = poisson1d(5), np.ones(5)
    with pytest.raises(ValueError, match="A must be square"):
        solve_sor(sp.random(3, 4, density=1.0), np.ones(3))
    with pytest.raises(ValueError, match="b has"):
        solve_sor(A, np.ones(4))
    with pytest.raises(ValueError, match="x0"):
        solve_sor(A, b, np.ones(3))
    with pytest.raises(ValueError, match="diagonal"):
        solve_sor(sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 1.0]])), np.ones(2))
    with pytest.raises(ValueError, match="diagonal"):
        ssor_preconditioner(sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 0.0]])))
    Ab = A.copy(); Ab.data[0] = np.nan
    with pytest.raises(ValueError, match="A contains NaN"):
        solve_sor(Ab, b)
    with pytest.raises(ValueError, match="b contains Inf"):
        solve_sor(A, np.array([1, 1, np.inf, 1, 1.0]))
    with pytest.raises(TypeError, match="complex"):
        solve_sor(A.astype(complex), b)
    with pytest.raises(TypeError, match="complex"):
        ssor_cg(A, b.astype(complex))
    for w in (0.0, 2.0, -1.0, 2.5):
        with pytest.raises(ValueError, match="omega"):
            solve_sor(A, b, omega=w)
        with pytest.raises(ValueError, match="omega"):
            ssor_cg(A, b, omega=w)
    with pytest.raises(ValueError, match="omega"):
        solve_sor(A, b, omega="fast")
    with pytest.raises(ValueError, match="rtol"):
        solve_sor(A, b, rtol=-1.0)
    with pytest.raises(ValueError, match="maxiter"):
        ssor_cg(A, b, maxiter=0)
    with pytest.raises(ValueError, match="empty"):
        solve_sor(sp.csr_matrix((0, 0)), np.ones(0))
    with pytest.raises(ValueError, match="ordering"):
        solve_sor(A, b, ordering="random")
    # integers are converted
    x, info = solve_sor(sp.csr_matrix(np.array([[4, 1], [1, 3]])), [1, 2])
    assert info == 0 and x.dtype == np.float64


def test_sweep_bad_x():
    A = poisson1d(5)
    with pytest.raises(TypeError, match="dtype"):
        sor_sweep(A, np.zeros(5, dtype=np.float32), np.ones(5))
    with pytest.raises(TypeError, match="ndarray"):
        sor_sweep(A, [0.0] * 5, np.ones(5))
    with pytest.raises(TypeError, match="contiguous"):
        sor_sweep(A, np.zeros(10)[::2], np.ones(5))
    ro = np.zeros(5); ro.flags.writeable = False
    with pytest.raises(TypeError, match="writeable"):
        sor_sweep(A, ro, np.ones(5))
    with pytest.raises(ValueError, match="direction"):
        sor_sweep(A, np.zeros(5), np.ones(5), direction="up")
    with pytest.raises(ValueError, match="iterations"):
        sor_sweep(A, np.zeros(5), np.ones(5), iterations=0)
