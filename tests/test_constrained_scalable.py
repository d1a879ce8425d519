"""Large sparse path of minimize_eq: cached LDL^T with inertia, warm starts, sparse Kaczmarz."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

import adasolve
from adasolve import _core
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
