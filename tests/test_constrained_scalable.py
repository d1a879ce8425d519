"""Large sparse path of minimize_eq: cached LDL^T with inertia, warm starts, sparse Kaczmarz,
MINRES (also matrix-free, hessp=) and the predicted fill that sketch="auto" uses."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import LinearConstraint, minimize
from scipy.sparse.linalg import aslinearoperator, spsolve

import adasolve
from adasolve import _core
from adasolve.optimize import sketch_sqp
from adasolve.problems import constrained_logistic, pde_control

sn = _core.constrained


def _kkt(H, G):
    return sp.bmat([[H, G.T], [G, None]], format="csc")


def _args(H, G, gl, c, sketch="exact", pd_check=3, seed=0):
    H, G = sp.csr_matrix(H), sp.csr_matrix(G)
    return (H.shape[0], H.indptr, H.indices, H.data, G.shape[0], G.indptr, G.indices, G.data,
            np.asarray(gl, float), np.asarray(c, float), sn.Sketch.__members__[sketch], 1, 0.1,
            1e-6, sn.HessianCheck(pd_check), seed)


def test_inertia_path_solves_kkt_and_reuses_symbolic_analysis():
    rng = np.random.default_rng(0)
    n, m = 60, 20
    A = sp.random(n, n, density=0.05, random_state=1) + sp.identity(n)
    H = (A.T @ A).tocsr()
    G = (sp.random(m, n, density=0.1, random_state=2) + sp.eye(m, n)).tocsr()
    gl, c = rng.standard_normal(n), rng.standard_normal(m)
    cache = sn.SparseKKTCache()
    s = sn.kkt_sparse(*_args(H, G, gl, c), cache=cache)
    assert s.shift == 0.0  # H is PD: correct inertia at once
    steps, resid, conv = s.solve(1e-10, 1)
    assert conv and steps == 0
    ref = spsolve(_kkt(H, G), -np.r_[gl, c])
    np.testing.assert_allclose(np.r_[s.dx, s.dv], ref, rtol=1e-8, atol=1e-10)
    # same pattern, new values: one analysis in total, a second factorization
    s2 = sn.kkt_sparse(*_args(2.0 * H, G, gl, c), cache=cache)
    s2.solve(1e-10, 1)
    assert cache.analyses == 1 and cache.factorizations == 2
    ref2 = spsolve(_kkt(2.0 * H, G), -np.r_[gl, c])
    np.testing.assert_allclose(np.r_[s2.dx, s2.dv], ref2, rtol=1e-8, atol=1e-10)
    # a new pattern is analysed again
    s3 = sn.kkt_sparse(*_args(sp.identity(n), G, gl, c), cache=cache)
    assert cache.analyses == 2 and np.isfinite(s3.shift)


def test_inertia_shifts_indefinite_reduced_hessian_only():
    G = sp.csr_matrix(np.array([[0.0, 1.0, 0.0]]))
    # reduced Hessian (coordinates 0 and 2) = diag(-1, 3): not PD -> shifted
    s = sn.kkt_sparse(*_args(sp.diags([-1.0, 2.0, 3.0]), G, np.ones(3), np.ones(1)))
    assert s.shift >= 0.1
    assert s.shift > 1.0  # must exceed |-1| for the inertia to be right
    s.solve(1e-12, 1)
    K = _kkt(sp.diags([-1.0, 2.0, 3.0]) + s.shift * sp.identity(3), G)
    np.testing.assert_allclose(K @ np.r_[s.dx, s.dv], -np.ones(4), atol=1e-9)
    # H indefinite but only along G's row: reduced Hessian diag(1, 3) is PD -> no shift
    s2 = sn.kkt_sparse(*_args(sp.diags([1.0, -5.0, 3.0]), G, np.ones(3), np.ones(1)))
    assert s2.shift == 0.0


def test_exact_sparse_solves_pde_control_in_one_iteration():
    p = pde_control(8)
    res = adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, hess=p.hess,
                               sketch="exact", tol=1e-8)
    assert res.success and res.nit == 1
    A, wt = p.extra["A"], p.extra["w_true"]
    k = p.m
    H = sp.diags(np.r_[np.ones(k), 0.1 * np.ones(k)])
    sol = spsolve(_kkt(H, A), np.r_[wt, np.zeros(k), np.zeros(k)])
    np.testing.assert_allclose(res.x, sol[:2 * k], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(res.v, sol[2 * k:], rtol=1e-6, atol=1e-8)


def test_pde_control_target_is_the_reference_formula():
    N = 3
    p = pde_control(N)
    s = 0.1 / np.sqrt(15)
    i = np.arange(1, N + 1)
    ref = np.sin(4 + s * (i[:, None] - (N + 1) / 2)) + np.cos(3 + s * (i[None, :] - (N + 1) / 2))
    np.testing.assert_allclose(p.extra["w_true"], ref.ravel())
    np.testing.assert_array_equal(p.x0, np.ones(2 * N * N))


def test_sparse_kaczmarz_running_residual_is_exact():
    # stencil-like sparse K (nnz <= 8 N): the incremental-residual path
    n = 200
    H = sp.diags([-1.0, 4.0, -1.0], [-1, 0, 1], shape=(n, n)).tocsr()
    G = sp.eye(5, n, format="csr")
    rng = np.random.default_rng(3)
    gl, c = rng.standard_normal(n), rng.standard_normal(5)
    s = sn.kkt_sparse(*_args(H, G, gl, c, sketch="kaczmarz", pd_check=1))
    b = -np.r_[gl, c]
    steps, resid, conv = s.solve(1e-6 * np.linalg.norm(b), 10**7)
    assert conv and steps > 0
    z = np.r_[s.dx, s.dv]
    np.testing.assert_allclose(resid, np.linalg.norm(b - _kkt(H, G) @ z), rtol=1e-6, atol=1e-12)
    assert resid <= 1e-6 * np.linalg.norm(b)


def test_warm_start_kept_only_when_it_helps():
    n = 50
    H = sp.diags(np.linspace(1, 2, n)).tocsr()
    G = sp.eye(3, n, format="csr")
    gl, c = np.ones(n), np.ones(3)
    sol = spsolve(_kkt(H, G), -np.r_[gl, c])
    s = sn.kkt_sparse(*_args(H, G, gl, c, sketch="gaussian", pd_check=1))
    assert s.warm_start(0.9 * sol)
    assert s.resid_norm == pytest.approx(0.1 * np.linalg.norm(np.r_[gl, c]), rel=1e-10)
    s2 = sn.kkt_sparse(*_args(H, G, gl, c, sketch="gaussian", pd_check=1))
    assert not s2.warm_start(-10 * sol)
    assert s2.resid_norm == pytest.approx(np.linalg.norm(np.r_[gl, c]))
    with pytest.raises(ValueError, match="length n \\+ m"):
        s2.warm_start(np.ones(3))


@pytest.mark.parametrize("sketch", ["kaczmarz", "exact"])
def test_sparse_logistic_hessian_path(sketch):
    # n > 2000 with sparse features: the Hessian is a CSR matrix, the solver stays sparse
    p = constrained_logistic(2001, n_samples=2100, seed=0)
    H = p.hess(p.x0, np.ones(p.m))
    assert sp.issparse(H)
    u = np.random.default_rng(0).standard_normal(p.n)
    X, y = p.extra["X"], p.extra["y"]
    sg = 1 / (1 + np.exp(-(-y * (X @ p.x0))))
    np.testing.assert_allclose(H @ u, X.T @ (sg * (1 - sg) / X.shape[0] * (X @ u)) + 2 * u,
                               rtol=1e-10, atol=1e-12)
    res = adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, hess=p.hess,
                               sketch=sketch, seed=0, tol=1e-6, maxiter=60)
    assert res.success and res.kkt_residual <= 1e-6
    assert abs(res.x @ res.x - 1) < 1e-6


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux-only")
def test_exact_fill_in_beyond_memory_is_reported_not_a_crash():
    # The sparse LDL^T of this KKT matrix fills in to ~2e8 entries (> 3 GB): under a 2 GB
    # address-space limit the solver must stop cleanly with status 7, not segfault.
    code = textwrap.dedent("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2_000_000_000, 2_000_000_000))
        from adasolve import minimize_eq
        from adasolve.problems import constrained_logistic
        q = constrained_logistic(20000, seed=0)
        r = minimize_eq(q.fun, q.x0, jac=q.jac, hess=q.hess, constraints=q.constraints,
                        sketch="exact", maxiter=3)
        print("STATUS", r.status, r.message)
    """)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "STATUS 7" in out.stdout and "fill-in" in out.stdout, out.stdout


# ---- MINRES inner solver, matrix-free Hessians, predicted fill ---------------------------


def _small_kkt(seed=0, n=60, m=20):
    rng = np.random.default_rng(seed)
    A = sp.random(n, n, density=0.05, random_state=seed + 1) + sp.identity(n)
    H = (A.T @ A).tocsr()
    G = (sp.random(m, n, density=0.1, random_state=seed + 2) + sp.eye(m, n)).tocsr()
    return H, G, rng.standard_normal(n), rng.standard_normal(m)


def test_minres_inner_solver_matches_direct_solve_sparse_dense_and_matrix_free():
    H, G, gl, c = _small_kkt()
    z_ref = np.linalg.solve(_kkt(H, G).toarray(), -np.r_[gl, c])
    tol = 1e-10 * np.linalg.norm(np.r_[gl, c])
    s = sn.kkt_sparse(*_args(H, G, gl, c, sketch="minres", pd_check=1))
    steps, resid, conv = s.solve(tol, 10_000)
    assert conv and 0 < steps < 200 and resid <= tol
    np.testing.assert_allclose(np.r_[s.dx, s.dv], z_ref, atol=1e-8)
    sd = sn.kkt_dense(H.toarray(), G.toarray(), gl, c, sn.Sketch.minres, 1, 0.1, 1e-6,
                      sn.HessianCheck.cholesky, 0)
    assert sd.solve(tol, 10_000)[2]
    np.testing.assert_allclose(np.r_[sd.dx, sd.dv], z_ref, atol=1e-8)
    # matrix-free: H only through products, K holds G and the shift
    calls = []

    def hp(p):
        calls.append(1)
        return H @ p

    E = sp.csr_matrix(H.shape)
    sf = sn.kkt_sparse(*_args(E, G, gl, c, sketch="minres", pd_check=2), hessp=hp)
    assert sf.shift == 0.0 and sf.solve(tol, 10_000)[2]
    np.testing.assert_allclose(np.r_[sf.dx, sf.dv], z_ref, atol=1e-8)
    assert len(calls) > 0
    # the residual it reports is the true one
    assert sf.resid_norm == pytest.approx(
        np.linalg.norm(_kkt(H, G) @ np.r_[sf.dx, sf.dv] + np.r_[gl, c]), rel=1e-6, abs=1e-12)


def test_minres_resumes_with_tighter_tolerance():
    H, G, gl, c = _small_kkt(3)
    s = sn.kkt_sparse(*_args(H, G, gl, c, sketch="minres", pd_check=1))
    b = np.linalg.norm(np.r_[gl, c])
    s.solve(1e-2 * b, 10_000)
    r1 = s.resid_norm
    assert r1 <= 1e-2 * b
    s.solve(1e-9 * b, 10_000)
    assert s.resid_norm <= 1e-9 * b < r1


def test_matrix_free_kkt_rejects_a_nonempty_hessian_and_other_solvers():
    H, G, gl, c = _small_kkt()
    with pytest.raises(ValueError, match="empty"):
        sn.kkt_sparse(*_args(H, G, gl, c, sketch="minres", pd_check=2), hessp=lambda p: H @ p)
    E = sp.csr_matrix(H.shape)
    with pytest.raises(ValueError, match="MINRES"):
        sn.kkt_sparse(*_args(E, G, gl, c, sketch="kaczmarz", pd_check=2), hessp=lambda p: H @ p)
    with pytest.raises(ValueError, match="length n"):
        s = sn.kkt_sparse(*_args(E, G, gl, c, sketch="minres", pd_check=2),
                          hessp=lambda p: np.ones(3))
        s.solve(1e-8, 100)


def test_predicted_fill_equals_the_factor_that_is_built():
    H, G, gl, c = _small_kkt(5, n=80, m=30)
    cache = sn.SparseKKTCache()
    sn.kkt_sparse(*_args(H, G, gl, c), cache=cache).solve(1e-10, 1)
    fill, flops = sn.predict_kkt_fill(*_args(H, G, gl, c)[:8])
    assert fill == cache.factor_nnz > 0
    assert fill <= flops <= (fill + 110) ** 2


def _eq_ls(n, rows, m, seed=0, ref=True):
    rng = np.random.default_rng(seed)
    A = sp.random(rows, n, density=5.0 / n, random_state=seed + 1, format="csr")
    A = sp.vstack([A, 0.1 * sp.identity(n)]).tocsr()  # full column rank
    b = rng.standard_normal(A.shape[0])
    C = (sp.random(m, n, density=3.0 / n, random_state=seed + 2) + sp.eye(m, n)).tocsr()
    d = rng.standard_normal(m)
    AtA = (A.T @ A).tocsr()
    x_ref = None
    if ref:  # dense LU: SuperLU fills in on this random pattern and is slower
        K = sp.bmat([[AtA, C.T], [C, None]]).toarray()
        x_ref = np.linalg.solve(K, np.r_[A.T @ b, d])[:n]
    return A, b, C, d, AtA, x_ref


def test_minimize_eq_hessp_and_minres_solve_least_squares():
    A, b, C, d, AtA, x_ref = _eq_ls(400, 600, 40)
    kw = dict(jac=lambda x: A.T @ (A @ x - b), constraints=LinearConstraint(C, d, d), seed=0,
              tol=1e-9)
    f = lambda x: 0.5 * float(np.sum((A @ x - b) ** 2))  # noqa: E731
    r1 = adasolve.minimize_eq(f, np.zeros(400), hessp=lambda x, p, v: AtA @ p, **kw)
    assert r1.success and r1.sketch == "minres" and "products" in r1.sketch_choice
    np.testing.assert_allclose(r1.x, x_ref, atol=1e-7)
    assert r1.nhev >= 1 and r1.inner_iterations > 0
    r2 = adasolve.minimize_eq(f, np.zeros(400), hess=lambda x, v: AtA, sketch="minres", **kw)
    assert r2.success and r2.sketch == "minres"
    np.testing.assert_allclose(r2.x, x_ref, atol=1e-7)
    # a LinearOperator Hessian past dense_linear_operator_max is applied by products
    op = lambda x, v: aslinearoperator(AtA)  # noqa: E731
    r3 = adasolve.minimize_eq(f, np.zeros(400), hess=op,
                              options={"dense_linear_operator_max": 100}, **kw)
    assert r3.success and r3.sketch == "minres"
    np.testing.assert_allclose(r3.x, x_ref, atol=1e-7)
    with pytest.raises(ValueError, match="sketch='exact'"):
        adasolve.minimize_eq(f, np.zeros(400), hessp=lambda x, p, v: AtA @ p, sketch="exact",
                             **kw)
    with pytest.raises(ValueError, match="hess or hessp"):
        adasolve.minimize_eq(f, np.zeros(400), hess=lambda x, v: AtA,
                             hessp=lambda x, p, v: AtA @ p, **kw)


def test_auto_takes_minres_when_the_factor_would_fill_in():
    # random A^T A: the LDL^T's predicted work is far above the direct solve's budget
    A, b, C, d, AtA, x_ref = _eq_ls(3000, 4500, 300)
    f = lambda x: 0.5 * float(np.sum((A @ x - b) ** 2))  # noqa: E731
    r = adasolve.minimize_eq(f, np.zeros(3000), jac=lambda x: A.T @ (A @ x - b),
                             hess=lambda x, v: AtA, constraints=LinearConstraint(C, d, d),
                             seed=0, tol=1e-8)
    assert r.success and r.sketch == "minres", r.sketch_choice
    assert "flops" in r.sketch_choice
    np.testing.assert_allclose(r.x, x_ref, atol=1e-6)


def test_sketch_sqp_with_hessp_matches_hess():
    A, b, C, d, AtA, x_ref = _eq_ls(200, 300, 20)
    kw = dict(jac=lambda x: A.T @ (A @ x - b), constraints=LinearConstraint(C, d, d),
              options={"seed": 0, "tol": 1e-9})
    f = lambda x: 0.5 * float(np.sum((A @ x - b) ** 2))  # noqa: E731
    r = minimize(f, np.zeros(200), method=sketch_sqp, hessp=lambda x, p: AtA @ p, **kw)
    assert r.success and r.sketch == "minres"
    np.testing.assert_allclose(r.x, x_ref, atol=1e-7)

