"""Tests of adasolve.minimize_eq / adasolve.optimize.sketch_sqp (AdaSketch-Newton)."""

from __future__ import annotations

from types import SimpleNamespace as NS

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import LinearConstraint, NonlinearConstraint, minimize

import adasolve
from adasolve import _core
from adasolve.optimize import STATUS_MESSAGES, sketch_sqp

_SK = _core.constrained.Sketch.__members__
_HC = _core.constrained.HessianCheck

SKETCHES = ["gaussian", "countsketch", "kaczmarz", "exact"]


# ---- a few Hock-Schittkowski / Boggs-Tolle problems coded here ------------------------


def _hs6():
    return NS(
        name="HS6", n=2, m=1, x0=np.array([-1.2, 1.0]), f_star=0.0,
        fun=lambda x: (1 - x[0]) ** 2,
        jac=lambda x: np.array([-2 * (1 - x[0]), 0.0]),
        hess=lambda x, v: np.array([[2 - 20 * v[0], 0.0], [0.0, 0.0]]),
        constraints=NonlinearConstraint(lambda x: [10 * (x[1] - x[0] ** 2)], 0, 0,
                                        jac=lambda x: np.array([[-20 * x[0], 10.0]])),
    )


def _hs28():
    Hc = np.array([[2, 2, 0], [2, 4, 2], [0, 2, 2.0]])
    return NS(
        name="HS28", n=3, m=1, x0=np.array([-4.0, 1, 1]), f_star=0.0,
        fun=lambda x: (x[0] + x[1]) ** 2 + (x[1] + x[2]) ** 2,
        jac=lambda x: Hc @ x,
        hess=lambda x, v: Hc,
        constraints=LinearConstraint([[1, 2, 3.0]], 1, 1),
    )


def _bt2():
    def g(x):
        d = 4 * (x[1] - x[2]) ** 3
        return np.array([2 * (x[0] - 1) + 2 * (x[0] - x[1]), -2 * (x[0] - x[1]) + d, -d])

    def h(x, v):
        e = 12 * (x[1] - x[2]) ** 2
        H = np.array([[4, -2, 0], [-2, 2 + e, -e], [0, -e, e]], float)
        return H + v[0] * np.array([[0, 2 * x[1], 0], [2 * x[1], 2 * x[0], 0],
                                    [0, 0, 12 * x[2] ** 2]])

    rhs = 4 + 3 * np.sqrt(2)
    return NS(
        name="BT2", n=3, m=1, x0=np.array([10.0, 10, 10]), f_star=0.032568200,
        fun=lambda x: (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 4,
        jac=g, hess=h,
        constraints=NonlinearConstraint(lambda x: [x[0] * (1 + x[1] ** 2) + x[2] ** 4], rhs, rhs,
                                        jac=lambda x: np.array([[1 + x[1] ** 2, 2 * x[0] * x[1],
                                                                 4 * x[2] ** 3]])),
    )


def _hs40():
    # min -x1 x2 x3 x4 s.t. x1^3 + x2^2 = 1, x1^2 x4 - x3 = 0, x4^2 - x2 = 0
    def f(x):
        return -x[0] * x[1] * x[2] * x[3]

    def g(x):
        return -np.array([x[1] * x[2] * x[3], x[0] * x[2] * x[3], x[0] * x[1] * x[3],
                          x[0] * x[1] * x[2]])

    def c(x):
        return np.array([x[0] ** 3 + x[1] ** 2 - 1, x[0] ** 2 * x[3] - x[2], x[3] ** 2 - x[1]])

    def cj(x):
        return np.array([[3 * x[0] ** 2, 2 * x[1], 0, 0],
                         [2 * x[0] * x[3], 0, -1, x[0] ** 2],
                         [0, -1, 0, 2 * x[3]]])

    def h(x, v):
        a, b, cc, d = x
        H = -np.array([[0, cc * d, b * d, b * cc], [cc * d, 0, a * d, a * cc],
                       [b * d, a * d, 0, a * b], [b * cc, a * cc, a * b, 0]])
        H[0, 0] += v[0] * 6 * a + v[1] * 2 * d
        H[1, 1] += v[0] * 2
        H[0, 3] += v[1] * 2 * a
        H[3, 0] += v[1] * 2 * a
        H[3, 3] += v[2] * 2
        return H

    return NS(name="HS40", n=4, m=3, x0=np.full(4, 0.8), f_star=-0.25, fun=f, jac=g, hess=h,
              constraints=NonlinearConstraint(c, 0, 0, jac=cj))


LOCAL_PROBLEMS = [_hs6(), _hs28(), _bt2(), _hs40()]


def _collection():
    """The cutest engineer's collection when merged in, else the problems above."""
    try:
        from adasolve.problems import cutest_equality  # noqa: F401
        probs = list(cutest_equality().values())
        if probs:
            return probs
    except (ImportError, AttributeError, NotImplementedError):
        pass
    return LOCAL_PROBLEMS


def _solve(p, sketch, **kw):
    return adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, hess=p.hess,
                                sketch=sketch, seed=kw.pop("seed", 0), **kw)


def _close(f, f_star):
    return abs(f - f_star) <= 1e-6 * max(1.0, abs(f_star))


@pytest.mark.parametrize("sketch", SKETCHES)
@pytest.mark.parametrize("prob", LOCAL_PROBLEMS, ids=lambda p: p.name)
def test_local_problems(prob, sketch):
    res = _solve(prob, sketch)
    assert res.success, res.message
    assert res.status == 0
    assert res.kkt_residual <= 1e-6
    assert _close(res.fun, prob.f_star), (res.fun, prob.f_star)
    # KKT at the returned point, recomputed independently
    c = np.atleast_1d(prob.constraints.fun(res.x)) - np.atleast_1d(prob.constraints.lb) \
        if isinstance(prob.constraints, NonlinearConstraint) else \
        np.asarray(prob.constraints.A) @ res.x - prob.constraints.lb
    assert np.max(np.abs(c)) <= 1e-6
    assert res.constr_violation == pytest.approx(np.max(np.abs(c)), abs=1e-12)
    if sketch == "exact":
        assert res.inner_iterations == 0
    else:
        assert res.inner_iterations > 0


@pytest.mark.parametrize("prob", LOCAL_PROBLEMS, ids=lambda p: p.name)
def test_bfgs(prob):
    res = adasolve.minimize_eq(prob.fun, prob.x0, jac=prob.jac, constraints=prob.constraints,
                               hess="bfgs", sketch="exact", seed=0)
    assert res.success, res.message
    assert _close(res.fun, prob.f_star)
    assert res.nhev == 0


def test_multipliers_sign_matches_trust_constr():
    p = _hs40()
    res = _solve(p, "exact")
    # grad f + J^T v = 0 at the solution (L = f + v^T c)
    J = p.constraints.jac(res.x)
    np.testing.assert_allclose(p.jac(res.x) + J.T @ res.v, 0, atol=1e-6)
    tc = minimize(p.fun, p.x0, jac=p.jac, method="trust-constr",
                  constraints=[p.constraints], options={"gtol": 1e-10, "xtol": 1e-12})
    np.testing.assert_allclose(res.x, tc.x, atol=1e-5)
    # trust-constr uses the same sign convention (grad f + J^T v = 0)
    np.testing.assert_allclose(res.v, tc.v[0], atol=1e-4)


def test_seeded_runs_are_reproducible():
    p = _bt2()
    a = _solve(p, "gaussian", seed=3)
    b = _solve(p, "gaussian", seed=3)
    c = _solve(p, "gaussian", seed=4)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.inner_iterations == b.inner_iterations
    assert a.inner_iterations != c.inner_iterations


@pytest.mark.parametrize("sketch", SKETCHES[:3])
def test_adaptive_accuracy_condition_holds_at_accepted_steps(sketch):
    for p in LOCAL_PROBLEMS:
        res = _solve(p, sketch)
        h = res.history
        assert len(h["inner_resid_ratio"]) == res.nit
        assert len(h["kkt"]) == res.nit + 1
        for ratio, need, conv in zip(h["inner_resid_ratio"], h["inner_tol_ratio"],
                                     h["inner_converged"]):
            assert conv
            assert ratio <= need * (1 + 1e-12)
        assert all(d >= 1e-6 for d in h["delta"])


def test_paper_accuracy_mode():
    p = _bt2()
    res = _solve(p, "countsketch", options={"accuracy": "paper"})
    assert res.success
    assert _close(res.fun, p.f_star)
    rel = _solve(p, "countsketch")
    # the paper's constants make each inner solve far more accurate
    assert max(res.history["inner_tol_ratio"]) < min(rel.history["inner_tol_ratio"])


# ---- the inner sketching solver alone -----------------------------------------------


def _random_kkt(rng, n, m):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    H = Q @ np.diag(rng.uniform(1.0, 3.0, n)) @ Q.T
    U, _ = np.linalg.qr(rng.standard_normal((n, m)))
    G = (U @ np.diag(rng.uniform(1.0, 2.0, m))).T
    K = np.block([[H, G.T], [G, np.zeros((m, m))]])
    return K, rng.standard_normal(n + m)


@pytest.mark.parametrize("sketch,size", [("gaussian", 1), ("gaussian", 8), ("countsketch", 8),
                                         ("kaczmarz", 1)])
def test_inner_solver_converges_to_exact_kkt_solution(sketch, size):
    rng = np.random.default_rng(1)
    K, b = _random_kkt(rng, 30, 10)
    z, steps, resid, conv = _core.constrained.sketch_solve(K, b, _SK[sketch], size, 1e-10, 2_000_000,
                                                            7)
    assert conv and steps > 0
    np.testing.assert_allclose(z, np.linalg.solve(K, b), rtol=1e-7, atol=1e-8)
    assert resid == pytest.approx(np.linalg.norm(b - K @ z), rel=1e-6, abs=1e-12)


def test_block_sketches_need_fewer_steps_than_vector():
    rng = np.random.default_rng(2)
    K, b = _random_kkt(rng, 40, 10)
    s1 = _core.constrained.sketch_solve(K, b, _SK["gaussian"], 1, 1e-8, 10**6, 0)[1]
    s8 = _core.constrained.sketch_solve(K, b, _SK["gaussian"], 8, 1e-8, 10**6, 0)[1]
    assert s8 < s1 / 3


def test_kkt_system_hessian_modification_dense():
    # H indefinite on null(G): negative curvature lambda is mirrored, t = xi_B - 2 lambda
    H = np.diag([-1.0, 2.0, 3.0])
    G = np.array([[0.0, 1.0, 0.0]])
    s = _core.constrained.kkt_dense(H, G, np.ones(3), np.ones(1), _SK["exact"], 1, 0.1, 1e-6,
                                     _HC.cholesky, 0)
    assert s.reduced_min_eig == pytest.approx(-1.0)
    assert s.shift == pytest.approx(2.1)
    s.solve(0.0, 1)
    B = H + 2.1 * np.eye(3)
    K = np.block([[B, G.T], [G, np.zeros((1, 1))]])
    z = np.linalg.solve(K, -np.ones(4))
    np.testing.assert_allclose(np.r_[s.dx, s.dv], z, atol=1e-12)


def test_sparse_path_equality_constrained_least_squares():
    # min 1/2 ||A x - y||^2 s.t. C x = d, with sparse A, C: closed-form KKT solution
    rng = np.random.default_rng(0)
    n, m = 60, 10
    A = sp.random(120, n, density=0.1, random_state=1, format="csr") + sp.eye(120, n)
    y = rng.standard_normal(120)
    C = sp.random(m, n, density=0.2, random_state=2, format="csr") + sp.eye(m, n)
    d = rng.standard_normal(m)
    AtA = (A.T @ A).tocsr()
    K = np.block([[AtA.toarray(), C.T.toarray()], [C.toarray(), np.zeros((m, m))]])
    x_star = np.linalg.solve(K, np.r_[A.T @ y, d])[:n]
    seen = []

    def hess(x, v):
        seen.append(sp.issparse(AtA))
        return AtA

    for sketch in SKETCHES:
        res = adasolve.minimize_eq(
            lambda x: 0.5 * np.sum((A @ x - y) ** 2), np.zeros(n), jac=lambda x: A.T @ (A @ x - y),
            hess=hess, constraints=LinearConstraint(C, d, d), sketch=sketch, seed=0,
            options={"max_inner": 10**6})
        assert res.success, (sketch, res.message)
        np.testing.assert_allclose(res.x, x_star, atol=1e-5)
    assert all(seen)


# ---- scipy.optimize.minimize route ---------------------------------------------------


def test_sketch_sqp_matches_minimize_eq():
    p = _hs28()
    hf = lambda x: p.hess(x, None)  # noqa: E731  (linear constraints: L's Hessian is f's)
    r1 = minimize(p.fun, p.x0, method=sketch_sqp, jac=p.jac, hess=hf, constraints=p.constraints,
                  options={"seed": 0, "sketch": "gaussian"})
    r2 = _solve(p, "gaussian", seed=0)
    np.testing.assert_array_equal(r1.x, r2.x)
    assert r1.nit == r2.nit and r1.success


def test_sketch_sqp_dict_and_nonlinear_constraint_hess():
    p = _bt2()
    rhs = p.constraints.lb
    con = dict(type="eq", fun=lambda x: p.constraints.fun(x) - rhs, jac=p.constraints.jac)
    r = minimize(p.fun, p.x0, method=sketch_sqp, jac=p.jac, constraints=[con],
                 options={"seed": 0, "sketch": "exact"})
    assert r.success and _close(r.fun, p.f_star)
    # objective Hessian + NonlinearConstraint.hess -> exact Lagrangian Hessian
    nl = NonlinearConstraint(p.constraints.fun, rhs, rhs, jac=p.constraints.jac,
                             hess=lambda x, v: v[0] * np.array(
                                 [[0, 2 * x[1], 0], [2 * x[1], 2 * x[0], 0], [0, 0, 12 * x[2] ** 2]]))
    r2 = minimize(p.fun, p.x0, method=sketch_sqp, jac=p.jac,
                  hess=lambda x: p.hess(x, np.zeros(1)), constraints=nl,
                  options={"seed": 0, "sketch": "exact"})
    r3 = _solve(p, "exact")
    np.testing.assert_allclose(r2.x, r3.x, atol=1e-12)
    assert r2.nit == r3.nit


def test_callback_and_stop():
    p = _bt2()
    xs = []
    res = _solve(p, "exact", callback=lambda xk: xs.append(xk))
    assert len(xs) == res.nit

    def stop(intermediate_result):
        raise StopIteration

    res = _solve(p, "exact", callback=stop)
    assert res.status == 6 and res.nit == 1 and not res.success


def test_maxiter_reported():
    res = _solve(_bt2(), "exact", maxiter=2)
    assert res.status == 1 and not res.success and res.nit == 2
    assert res.message == STATUS_MESSAGES[1]


# ---- bad input -------------------------------------------------------------------------


def test_inequality_constraints_rejected():
    p = _hs6()
    con = NonlinearConstraint(p.constraints.fun, 0, 1, jac=p.constraints.jac)
    with pytest.raises(ValueError, match="only equality constraints.*minimize_constrained"):
        adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=con)
    with pytest.raises(ValueError, match="only equality constraints"):
        adasolve.minimize_eq(p.fun, p.x0, jac=p.jac,
                             constraints=LinearConstraint([[1.0, 1.0]], -np.inf, 1.0))
    # minimize(method=sketch_sqp) routes inequalities to minimize_constrained instead
    # (tests/test_constrained_ineq.py)


def test_bad_x0_and_shapes():
    p = _hs6()
    with pytest.raises(ValueError, match="x0 must be finite"):
        adasolve.minimize_eq(p.fun, [np.nan, 1.0], jac=p.jac, constraints=p.constraints)
    with pytest.raises(ValueError, match="jac returned 3 values, expected 2"):
        adasolve.minimize_eq(p.fun, p.x0, jac=lambda x: np.ones(3), constraints=p.constraints)
    bad = NonlinearConstraint(p.constraints.fun, 0, 0, jac=lambda x: np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"constraint 0 jac returned shape \(1, 3\), expected \(1, 2\)"):
        adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=bad)
    with pytest.raises(ValueError, match=r"hess returned shape \(3, 3\), expected \(2, 2\)"):
        adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints,
                             hess=lambda x, v: np.eye(3))
    with pytest.raises(ValueError, match="fun returns 1 values but lb/ub have 2"):
        adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=NonlinearConstraint(
            p.constraints.fun, [0, 0], [0, 0], jac=p.constraints.jac))
    with pytest.raises(ValueError, match="unknown sketch"):
        adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, sketch="srht")
    with pytest.raises(ValueError, match="unknown options"):
        adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints,
                             options={"eta3": 1})
    with pytest.raises(ValueError, match="jac must be a callable"):
        adasolve.minimize_eq(p.fun, p.x0, jac="2-point", constraints=p.constraints)


def test_more_constraints_than_variables_reported():
    c = (lambda x: np.array([x[0], x[1], x[0] + x[1]]),
         lambda x: np.array([[1.0, 0], [0, 1], [1, 1]]))
    res = adasolve.minimize_eq(lambda x: x @ x, np.ones(2), jac=lambda x: 2 * x, constraints=c)
    assert res.status == 3 and not res.success
    assert "more constraints than variables" in res.message.lower()
    np.testing.assert_array_equal(res.x, np.ones(2))


def test_rank_deficient_jacobian_reported():
    c = (lambda x: np.array([x[0] + x[1] - 1, 2 * x[0] + 2 * x[1] - 2]),
         lambda x: np.array([[1.0, 1, 0], [2, 2, 0]]))
    kw = dict(jac=lambda x: 2 * x, constraints=c, hess=lambda x, v: 2 * np.eye(3))
    # delta_c = 0: stop at once and say why
    res = adasolve.minimize_eq(lambda x: x @ x, np.ones(3), options={"delta_c": 0.0}, **kw)
    assert res.status == 4 and not res.success
    assert "rank-deficient" in res.message
    # default: the KKT matrix gets a -delta_c I block; the (consistent) problem is solved
    # and the message says that the Jacobian was rank-deficient
    for sketch in ("exact", "countsketch", "gaussian", "kaczmarz"):
        res = adasolve.minimize_eq(lambda x: x @ x, np.ones(3), sketch=sketch, seed=0, **kw)
        assert res.success, (sketch, res.message)
        np.testing.assert_allclose(res.x, [0.5, 0.5, 0.0], atol=1e-6)
        assert "rank-deficient" in res.message
        assert res.regularized_iterations and res.regularized_iterations[0] == 0
        assert all(d > 0 for d in res.history["delta_c"])


def test_user_function_raising_or_nan_stops_cleanly():
    p = _bt2()
    calls = {"n": 0}

    def fun(x):
        calls["n"] += 1
        if calls["n"] > 5:
            raise RuntimeError("boom")
        return p.fun(x)

    res = adasolve.minimize_eq(fun, p.x0, jac=p.jac, constraints=p.constraints, hess=p.hess,
                               sketch="exact")
    assert res.status == 5 and not res.success
    assert "RuntimeError: boom" in res.message
    assert np.isfinite(res.x).all() and np.isfinite(res.fun)

    res = adasolve.minimize_eq(lambda x: np.nan, p.x0, jac=p.jac, constraints=p.constraints)
    assert res.status == 5 and "non-finite" in res.message
    np.testing.assert_array_equal(res.x, p.x0)

    def hess(x, v):
        if abs(x[0] - 10) > 1e-12:
            return np.full((3, 3), np.nan)
        return p.hess(x, v)

    res = adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, hess=hess,
                               sketch="exact")
    assert res.status == 5 and "hess returned a non-finite value" in res.message
    assert res.nit == 1 and np.isfinite(res.x).all()


@pytest.mark.parametrize("pd_check", [1, 2])
def test_sparse_hessian_check_detects_indefinite_reduced_hessian(pd_check):
    H = sp.diags([-1.0, 2.0, 3.0]).tocsr()
    G = sp.csr_matrix(np.array([[0.0, 1.0, 0.0]]))
    args = (3, H.indptr, H.indices, H.data, 1, G.indptr, G.indices, G.data, np.ones(3), np.ones(1),
            _SK["exact"], 1, 0.1, 1e-6, _HC(pd_check), 0)
    s = _core.constrained.kkt_sparse(*args)
    # n <= 100: the eigenvalue shift xi_B - 2 lambda_min(Z^T H Z), as on the dense path
    assert s.shift == pytest.approx(0.1 + 2.0)
    sd = _core.constrained.kkt_dense(H.toarray(), G.toarray(), np.ones(3), np.ones(1),
                                       _SK["exact"], 1, 0.1, 1e-6, _HC.cholesky, 0)
    assert sd.shift == pytest.approx(s.shift, rel=1e-12)
    # H indefinite but Z^T H Z = diag(-1, 3) with Z = null(G)... make the reduced one PD:
    H2 = sp.diags([1.0, -5.0, 3.0]).tocsr()
    s2 = _core.constrained.kkt_sparse(3, H2.indptr, H2.indices, H2.data, *args[4:])
    assert s2.shift == 0.0


@pytest.mark.parametrize("pd_check", [1, 2, 3])
def test_large_sparse_shift_ladder(pd_check):
    # n > 100: trial factorizations over the ladder 0, xi_B, 10 xi_B, ... (or from the
    # previous shift / 3 by 8x, IPOPT's rule); dense input takes the same ladder.
    n = 400
    d = np.full(n, 2.0)
    d[0] = -1.0  # Z^T H Z has eigenvalue -1 (G selects coordinate 1 only)
    H = sp.diags(d).tocsr()
    G = sp.csr_matrix(([1.0], ([0], [1])), shape=(1, n))
    gl, c = np.ones(n), np.ones(1)
    sparse_args = (n, H.indptr, H.indices, H.data, 1, G.indptr, G.indices, G.data, gl, c,
                   _SK["exact" if pd_check == 3 else "kaczmarz"], 1, 0.1, 1e-6, _HC(pd_check), 0)
    s = _core.constrained.kkt_sparse(*sparse_args)
    assert s.shift == pytest.approx(10.0)  # 0.1 and 1.0 leave eigenvalue <= 0
    s = _core.constrained.kkt_sparse(*sparse_args, shift_hint=4.0)
    assert s.shift == pytest.approx(4.0 / 3.0)  # hint / 3 = 1.33 already suffices
    s = _core.constrained.kkt_sparse(*sparse_args, shift_hint=0.9)
    assert s.shift == pytest.approx(0.3 * 8.0)  # 0.3 fails, 2.4 works
    if pd_check == 1:
        sd = _core.constrained.kkt_dense(H.toarray(), G.toarray(), gl, c, _SK["kaczmarz"], 1,
                                           0.1, 1e-6, _HC.cholesky, 0, shift_hint=0.9)
        assert sd.shift == pytest.approx(2.4)


def test_hessian_check_none_option():
    p = _hs28()
    res = _solve(p, "exact", options={"hessian_check": "none"})
    assert res.success and all(s == 0 for s in res.history["shift"])


# ---------------------------------------------------------------------------------------------
# The paper's 47 CUTEst equality problems (adasolve.problems.cutest_equality).
# Time budget (whole file ~20 s on 2 shared cores): all 47 with sketch="countsketch" (~8 s), a subset of
# 12 small problems with each of "gaussian", "kaczmarz" and "exact" (~5 s). Full sweeps measured
# by the benchmark (seed 0, tol 1e-6, 2026-11-23 11:17): countsketch 47/47, exact 47/47,
# gaussian 46/47, kaczmarz 46/47 (BT3; which ones fail depends on the sketches' seed).
# Problems not asserted, with the reason (no xfail: they are skipped explicitly):
SKETCH_SKIP = {
    # From x0 the sketched iterates (gaussian, kaczmarz) reach another KKT point, f = 1.28838
    # < f_star = 24.97881 (MWRIGHT has several local minima; f_star is the one SLSQP reaches).
    ("MWRIGHT", "gaussian"): "different local minimum (f=1.28838 < f_star)",
    ("MWRIGHT", "kaczmarz"): "different local minimum (f=1.28838 < f_star)",
}
# At KKT 1e-6 these stop with |f - f_star| just above 1e-6 relative (1.2e-6 for BT3, 1.1e-6 for
# HS52); one more Newton step fixes it, so they are solved at tol=1e-8 instead.
TIGHT_TOL = {"BT3": 1e-8, "HS52": 1e-8, "BT11": 1e-8}
SUBSET = ["HS6", "HS7", "HS28", "HS40", "HS42", "HS52", "HS78", "BT2", "BT3", "BT9", "BT11",
          "MWRIGHT"]


def _cutest():
    try:
        from adasolve.problems import cutest_equality
    except ImportError:
        return {}
    return cutest_equality()


CUTEST = _cutest()


def _check_cutest(name, sketch):
    if (name, sketch) in SKETCH_SKIP:
        pytest.skip(SKETCH_SKIP[name, sketch])
    p = CUTEST[name]
    tol = TIGHT_TOL.get(name, 1e-6)
    res = adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, hess=p.hess,
                               sketch=sketch, seed=0, tol=tol)
    assert res.success, (name, res.message)
    assert res.kkt_residual <= tol
    assert _close(res.fun, p.f_star), (name, res.fun, p.f_star)
    assert np.max(np.abs(np.atleast_1d(p.c(res.x)))) <= 1e-6


@pytest.mark.skipif(not CUTEST, reason="adasolve.problems not available")
@pytest.mark.parametrize("name", list(CUTEST))
def test_cutest_equality_countsketch(name):
    _check_cutest(name, "countsketch")


@pytest.mark.skipif(not CUTEST, reason="adasolve.problems not available")
@pytest.mark.parametrize("sketch", ["gaussian", "kaczmarz", "exact"])
@pytest.mark.parametrize("name", [n for n in SUBSET if n in CUTEST])
def test_cutest_equality_subset_other_sketches(name, sketch):
    _check_cutest(name, sketch)


def test_cutest_collection_size():
    if CUTEST:
        assert len(CUTEST) == 47


# Hock-Schittkowski equality set, countsketch (~1 s). HS61's Jacobian is rank-deficient at its
# standard x0 = 0 ([[3,0,0],[4,0,0]]): the first KKT system is regularized (-delta_c I block).
HS_SKIP: dict = {}


def _hs():
    try:
        from adasolve.problems import hock_schittkowski
    except ImportError:
        return {}
    return hock_schittkowski()


HS = _hs()


@pytest.mark.skipif(not HS, reason="adasolve.problems not available")
@pytest.mark.parametrize("name", list(HS))
def test_hock_schittkowski_countsketch(name):
    if name in HS_SKIP:
        pytest.skip(HS_SKIP[name])
    p = HS[name]
    res = adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, hess=p.hess,
                               sketch="countsketch", seed=0)
    assert res.success, (name, res.message)
    assert res.kkt_residual <= 1e-6
    assert _close(res.fun, p.f_star), (name, res.fun, p.f_star)


@pytest.mark.parametrize("sketch", ["countsketch", "gaussian", "kaczmarz", "exact"])
def test_hs61_rank_deficient_start_solved(sketch):
    if "HS61" not in HS:
        pytest.skip("adasolve.problems not available")
    p = HS["HS61"]
    res = adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, hess=p.hess,
                               sketch=sketch, seed=0)
    assert res.success, res.message
    assert _close(res.fun, p.f_star)
    assert res.regularized_iterations[0] == 0
    assert "rank-deficient" in res.message
    # with the regularization switched off the rank deficiency at x0 is reported instead
    res0 = adasolve.minimize_eq(p.fun, p.x0, jac=p.jac, constraints=p.constraints, hess=p.hess,
                                sketch=sketch, seed=0, options={"delta_c": 0.0})
    assert res0.status == 4 and not res0.success and res0.nit == 0


def test_forcing_option_tightens_inner_tolerance():
    if "HS78" not in CUTEST:
        pytest.skip("adasolve.problems not available")
    p = CUTEST["HS78"]
    kw = dict(jac=p.jac, constraints=p.constraints, hess=p.hess, sketch="countsketch", seed=0)
    res = adasolve.minimize_eq(p.fun, p.x0, options={"forcing": (1.0, 1.0)}, **kw)
    assert res.success
    kkt = res.history["kkt"]
    for i, ratio in enumerate(res.history["inner_tol_ratio"]):
        assert ratio <= min(0.1, kkt[i]) * (1 + 1e-12)
    base = adasolve.minimize_eq(p.fun, p.x0, **kw)
    assert max(base.history["inner_tol_ratio"]) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="forcing"):
        adasolve.minimize_eq(p.fun, p.x0, options={"forcing": 0.5}, **kw)
    with pytest.raises(ValueError, match="forcing"):
        adasolve.minimize_eq(p.fun, p.x0, options={"forcing": (-1.0, 1.0)}, **kw)
