"""minimize_constrained (interior point): published Hock-Schittkowski optima, SciPy's own
inequality test problems at SciPy's tolerances, agreement with trust-constr, the KKT
conditions checked independently, infeasibility and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_almost_equal
from scipy.optimize import Bounds, LinearConstraint, NonlinearConstraint, minimize

import adasolve
from adasolve import minimize_constrained
from adasolve.constrained.interior import IPM_STATUS_MESSAGES
from adasolve.optimize import sketch_sqp
from adasolve.problems import HS_INEQ_NAMES, hock_schittkowski_ineq

PROBS = hock_schittkowski_ineq()

# From the published starting point these converge (for trust-constr and SLSQP as well,
# measured) to another local minimum or KKT point than the published optimum.
OTHER_LOCAL = {"HS2", "HS16", "HS20", "HS44", "HS55", "HS108"}
# No constraint qualification at the solution (the published optimum is a cusp): the
# multipliers do not exist, the iterates approach x* slowly.
DEGENERATE = {"HS13"}


def _solve(p, **kw):
    return minimize_constrained(p.fun, p.x0, jac=p.jac, hess=p.hess, constraints=p.constraints,
                                bounds=p.bounds, **kw)


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


def test_collection_size_and_kinds():
    assert len(PROBS) >= 40
    assert list(PROBS) == list(HS_INEQ_NAMES)
    for p in PROBS.values():
        has_bounds = p.bounds is not None
        has_ineq = p.m > 0 and np.any(p.cl != p.cu)
        assert has_bounds or has_ineq, p.name


def _check_kkt(p, res, tol):
    """KKT conditions from x and the returned multipliers, computed here."""
    x = res.x
    g = p.jac(x)
    J = p.c_jac(x) if p.m else np.zeros((0, p.n))
    stat = g + J.T @ res.v + res.bound_multipliers
    assert np.max(np.abs(stat)) <= 10 * tol
    if p.m:
        c = p.c(x)
        assert np.all(c >= p.cl - tol) and np.all(c <= p.cu + tol)
        # v <= 0 where only the lower limit can be active, >= 0 for the upper one
        lower_only = np.isfinite(p.cl) & ~np.isfinite(p.cu)
        upper_only = ~np.isfinite(p.cl) & np.isfinite(p.cu)
        assert np.all(res.v[lower_only] <= tol) and np.all(res.v[upper_only] >= -tol)
        # complementarity
        gap = np.where(res.v < 0, c - p.cl, p.cu - c)
        gap = np.where(p.cl == p.cu, 0.0, gap)
        assert np.max(np.abs(res.v * np.nan_to_num(gap, posinf=0.0))) <= 10 * tol
    lb, ub = p.lb, p.ub
    assert np.all(x >= lb) and np.all(x <= ub)  # interior point: bounds hold exactly
    z = res.bound_multipliers
    assert np.all(z[~np.isfinite(ub)] <= tol) and np.all(z[~np.isfinite(lb)] >= -tol)
    gap = np.where(z < 0, x - lb, ub - x)
    assert np.max(np.abs(z * np.nan_to_num(gap, posinf=0.0))) <= 10 * tol


@pytest.mark.parametrize("name", HS_INEQ_NAMES)
def test_hock_schittkowski_published_optimum(name):
    p = PROBS[name]
    res = _solve(p)
    if name in DEGENERATE:
        assert res.status in (0, 8) and _rel(res.fun, p.f_star) <= 1e-4
        return
    assert res.success, (name, res.message)
    assert res.kkt_residual <= 1e-6
    _check_kkt(p, res, 1e-6)
    if name in OTHER_LOCAL:
        # a KKT point, never below the published global optimum
        assert res.fun >= p.f_star - 1e-6 * max(1.0, abs(p.f_star))
    else:
        assert _rel(res.fun, p.f_star) <= 1e-6, (name, res.fun, p.f_star)


@pytest.mark.parametrize("name", ["HS21", "HS35", "HS43", "HS71", "HS76", "HS83", "HS100",
                                  "HS113"])
def test_agrees_with_trust_constr(name):
    p = PROBS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = minimize(p.fun, p.x0, method="trust-constr", jac=p.jac, hess=p.obj_hess,
                       constraints=p.constraints, bounds=p.bounds,
                       options={"gtol": 1e-10, "xtol": 1e-12, "maxiter": 5000})
    res = _solve(p)
    assert res.success
    assert _rel(res.fun, ref.fun) <= 1e-5
    np.testing.assert_allclose(res.x, ref.x, rtol=1e-3, atol=1e-3)


def test_scipy_route_matches_direct_call():
    p = PROBS["HS71"]
    direct = _solve(p)
    via = minimize(p.fun, p.x0, method=sketch_sqp, jac=p.jac, hess=p.obj_hess,
                   constraints=p.constraints, bounds=p.bounds)
    assert via.success and _rel(via.fun, p.f_star) <= 1e-6
    np.testing.assert_allclose(via.x, direct.x, rtol=1e-8, atol=1e-10)
    # no Hessian: damped BFGS
    bf = minimize(p.fun, p.x0, method=sketch_sqp, jac=p.jac, constraints=p.constraints,
                  bounds=p.bounds)
    assert bf.success and _rel(bf.fun, p.f_star) <= 1e-6


# --- SciPy's inequality test problems (scipy/optimize/tests/test_minimize_constrained.py),
# written here as SciPy writes them; SciPy's check: x within decimal=5 of x_opt


class HyperbolicIneq:
    x0 = [0.0, 0.0]
    x_opt = [1.952823, 0.088659]
    bounds = Bounds(0, np.inf)

    def fun(self, x):
        return 0.5 * (x[0] - 2) ** 2 + 0.5 * (x[1] - 0.5) ** 2

    def grad(self, x):
        return np.array([x[0] - 2, x[1] - 0.5])

    def hess(self, x):
        return np.eye(2)

    @property
    def constr(self):
        return NonlinearConstraint(
            lambda x: 1 / (x[0] + 1) - x[1], 0.25, np.inf,
            lambda x: [[-1 / (x[0] + 1) ** 2, -1]],
            lambda x, v: 2 * v[0] * np.array([[1 / (x[0] + 1) ** 3, 0], [0, 0]]))


class Rosenbrock:
    def __init__(self):
        self.x0 = np.random.RandomState(0).uniform(-1, 1, 2)
        self.x_opt = np.ones(2)
        self.bounds = None

    def fun(self, x):
        return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2

    def grad(self, x):
        return np.array([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]),
                         200 * (x[1] - x[0] ** 2)])

    def hess(self, x):
        return np.array([[1200 * x[0] ** 2 - 400 * x[1] + 2, -400 * x[0]], [-400 * x[0], 200]])


class IneqRosenbrock(Rosenbrock):
    def __init__(self):
        super().__init__()
        self.x0 = [-1, -0.5]
        self.x_opt = [0.5022, 0.2489]

    @property
    def constr(self):
        return LinearConstraint([[1, 2]], -np.inf, 1)


class BoundedRosenbrock(Rosenbrock):
    def __init__(self):
        super().__init__()
        self.x0 = [-0.2, 0.2]
        # SciPy gives no x_opt: the minimum is the corner (0, 0), f = 1, where the bound
        # x1 >= 0 is weakly active (zero multiplier), so an interior point reaches it only to
        # about sqrt(mu): checked at decimal=4
        self.x_opt = [0.0, 0.0]
        self.decimal = 4
        self.bounds = Bounds([-2, 0], [0, 2])

    @property
    def constr(self):
        return ()


class EqIneqRosenbrock(Rosenbrock):
    def __init__(self):
        super().__init__()
        self.x0 = [-1, -0.5]
        self.x_opt = [0.41494, 0.17011]

    @property
    def constr(self):
        return (LinearConstraint([[1, 2]], -np.inf, 1), LinearConstraint([[2, 1]], 1, 1))


class ElecIneq:
    """COPS electrons on the sphere, SciPy's inequality form |p_i|^2 <= 1, csc Jacobian."""

    def __init__(self, k):
        self.k = k
        rng = np.random.RandomState(0)
        phi = rng.uniform(0, 2 * np.pi, k)
        theta = rng.uniform(-np.pi, np.pi, k)
        self.x0 = np.hstack((np.cos(theta) * np.cos(phi), np.cos(theta) * np.sin(phi),
                             np.sin(theta)))
        self.bounds = None

    def _d(self, x):
        k = self.k
        a, b, c = x[:k], x[k:2 * k], x[2 * k:]
        return a[:, None] - a, b[:, None] - b, c[:, None] - c

    def fun(self, x):
        dx, dy, dz = self._d(x)
        with np.errstate(divide="ignore"):
            d = (dx ** 2 + dy ** 2 + dz ** 2) ** -0.5
        d[np.diag_indices_from(d)] = 0
        return 0.5 * d.sum()

    def grad(self, x):
        dx, dy, dz = self._d(x)
        with np.errstate(divide="ignore"):
            d3 = (dx ** 2 + dy ** 2 + dz ** 2) ** -1.5
        d3[np.diag_indices_from(d3)] = 0
        return np.hstack((-(dx * d3).sum(1), -(dy * d3).sum(1), -(dz * d3).sum(1)))

    def hess(self, x):
        dx, dy, dz = self._d(x)
        d = np.sqrt(dx ** 2 + dy ** 2 + dz ** 2)
        with np.errstate(divide="ignore"):
            d3, d5 = d ** -3, d ** -5
        i = np.arange(self.k)
        d3[i, i] = 0
        d5[i, i] = 0

        def blk(p, q, diag):
            B = (d3 if diag else 0) - 3 * p * q * d5
            B[i, i] = -B.sum(1)
            return B

        return np.block([[blk(dx, dx, 1), blk(dx, dy, 0), blk(dx, dz, 0)],
                         [blk(dx, dy, 0), blk(dy, dy, 1), blk(dy, dz, 0)],
                         [blk(dx, dz, 0), blk(dy, dz, 0), blk(dz, dz, 1)]])

    @property
    def constr(self):
        k = self.k

        def fun(x):
            return x[:k] ** 2 + x[k:2 * k] ** 2 + x[2 * k:] ** 2 - 1

        def jac(x):
            return sp.csc_array(np.hstack((2 * np.diag(x[:k]), 2 * np.diag(x[k:2 * k]),
                                           2 * np.diag(x[2 * k:]))))

        def hess(x, v):
            D = 2 * np.diag(v)
            return sp.block_diag((D, D, D)).toarray()

        return NonlinearConstraint(fun, -np.inf, 0, jac, hess)


SCIPY_PROBLEMS = [HyperbolicIneq(), IneqRosenbrock(), BoundedRosenbrock(), EqIneqRosenbrock()]


@pytest.mark.parametrize("prob", SCIPY_PROBLEMS, ids=lambda p: type(p).__name__)
@pytest.mark.parametrize("hess", ["prob.hess", None])
def test_scipy_inequality_problems(prob, hess):
    h = prob.hess if hess else None
    res = minimize(prob.fun, prob.x0, method=sketch_sqp, jac=prob.grad, hess=h,
                   bounds=prob.bounds, constraints=prob.constr)
    assert res.success, res.message
    assert_array_almost_equal(res.x, prob.x_opt, decimal=getattr(prob, "decimal", 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = minimize(prob.fun, prob.x0, method="trust-constr", jac=prob.grad, hess=prob.hess,
                       bounds=prob.bounds, constraints=prob.constr)
    assert res.fun <= ref.fun + 1e-6


# Thomson problem minima (Wales et al., Cambridge Cluster Database)
THOMSON = {2: 0.5, 5: 6.474691495, 10: 32.716949460}


@pytest.mark.parametrize("k", [2, 5, 10])
def test_elec_inequality_form(k):
    prob = ElecIneq(k)
    res = minimize(prob.fun, prob.x0, method=sketch_sqp, jac=prob.grad, hess=prob.hess,
                   constraints=prob.constr)
    assert res.success, res.message
    assert _rel(res.fun, THOMSON[k]) <= 1e-6
    # every electron ends on the sphere (the inequality is active) and v >= 0 there
    r2 = prob.constr.fun(res.x)
    np.testing.assert_allclose(r2, 0.0, atol=1e-6)
    assert np.all(res.v >= -1e-8)


# --- a sparse problem: nonnegative least squares with an equality constraint


def _nnls_eq(n, seed=0):
    rng = np.random.default_rng(seed)
    A = sp.random(2 * n, n, density=min(1.0, 5.0 / n), random_state=rng, format="csr") \
        + sp.eye(2 * n, n, format="csr")
    b = rng.standard_normal(2 * n)
    AtA = (A.T @ A).tocsr()
    Atb = A.T @ b
    fun = lambda x: 0.5 * float(np.sum((A @ x - b) ** 2))  # noqa: E731
    jac = lambda x: AtA @ x - Atb  # noqa: E731
    hess = lambda x, v: AtA  # noqa: E731
    con = LinearConstraint(sp.csr_matrix(np.ones((1, n))), 1.0, 1.0)
    return fun, jac, hess, con, A, b


def test_sparse_path_nnls_matches_dense_and_trust_constr():
    n = 60
    fun, jac, hess, con, A, b = _nnls_eq(n)
    x0 = np.full(n, 1.0 / n)
    sparse = minimize_constrained(fun, x0, jac=jac, hess=hess, constraints=con,
                                  bounds=Bounds(0, np.inf))
    dense = minimize_constrained(fun, x0, jac=jac, hess=lambda x, v: hess(x, v).toarray(),
                                 constraints=LinearConstraint(np.ones((1, n)), 1.0, 1.0),
                                 bounds=Bounds(0, np.inf))
    assert sparse.success and dense.success
    np.testing.assert_allclose(sparse.x, dense.x, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = minimize(fun, x0, method="trust-constr", jac=jac, hess=lambda x: hess(x, 0),
                       constraints=con, bounds=Bounds(0, np.inf),
                       options={"gtol": 1e-10, "xtol": 1e-12, "maxiter": 5000})
    assert sparse.fun <= ref.fun + 1e-6 * max(1.0, abs(ref.fun))
    assert abs(sparse.fun - ref.fun) <= 1e-5 * max(1.0, abs(ref.fun))
    assert abs(sparse.x.sum() - 1.0) <= 1e-8 and sparse.x.min() > 0


def test_sparse_path_forced_on_small_problem():
    p = PROBS["HS100"]
    res = _solve(p, options={"dense_max": 0})
    assert res.success and _rel(res.fun, p.f_star) <= 1e-6


# --- details: fixed variables, ranges, free rows, multipliers, callback, determinism


def test_fixed_variable_range_and_free_row():
    t = np.array([3.0, 2.0, 1.0])
    res = minimize_constrained(
        lambda x: float(((x - t) ** 2).sum()), np.zeros(3), jac=lambda x: 2 * (x - t),
        hess=lambda x, v: 2 * np.eye(3), bounds=Bounds([0, 1, 0], [1, 1, 5]),
        constraints=[LinearConstraint([[1, 1, 1], [1, -1, 0]], [-np.inf, -np.inf],
                                      [2.5, np.inf])])
    # x1 = 1 fixed, x0 <= 1 active; x0 + x1 + x2 <= 2.5 active: x = (1, 1, 0.5), closed form
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0, 0.5], atol=1e-6)
    # grad f + J^T v + z = 0 with v = (1, 0): z = (3, 1, 0) (x1's fixing multiplier too)
    np.testing.assert_allclose(res.v, [1.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(res.bound_multipliers, [3.0, 1.0, 0.0], atol=1e-5)
    assert len(res.constr_multipliers) == 1 and res.constr_multipliers[0].shape == (2,)


def test_dict_constraints_and_args():
    # SciPy's old style: 'ineq' means fun(x) >= 0; a dict gets only its own args
    res = minimize(lambda x, a: float(((x - a) ** 2).sum()), [0.0, 0.0], args=(3.0,),
                   method=sketch_sqp, jac=lambda x, a: 2 * (x - a),
                   constraints=[{"type": "ineq", "fun": lambda x, s: s - x.sum(),
                                 "jac": lambda x, s: -np.ones((1, 2)), "args": (1.0,)}])
    assert res.success
    np.testing.assert_allclose(res.x, [0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(res.v, [-5.0], atol=1e-5)  # the 'ineq' row's lower limit


def test_callback_maxiter_and_user_errors():
    p = PROBS["HS71"]
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.fun)
        if len(seen) == 3:
            raise StopIteration

    res = _solve(p, callback=cb)
    assert res.status == 6 and len(seen) == 3 and not res.success
    res = _solve(p, maxiter=2)
    assert res.status == 1 and res.nit == 2 and res.message == IPM_STATUS_MESSAGES[1]

    calls = []

    def bad(x):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return p.fun(x)

    res = minimize_constrained(bad, p.x0, jac=p.jac, hess=p.hess, constraints=p.constraints,
                               bounds=p.bounds)
    assert res.status == 5 and "boom" in res.message


def test_inputs_not_modified_and_deterministic():
    p = PROBS["HS76"]
    x0 = p.x0
    lb, ub = np.zeros(4), np.full(4, np.inf)
    b = Bounds(lb, ub)
    r1 = minimize_constrained(p.fun, x0, jac=p.jac, hess=p.hess, constraints=p.constraints,
                              bounds=b, seed=3)
    r2 = minimize_constrained(p.fun, x0, jac=p.jac, hess=p.hess, constraints=p.constraints,
                              bounds=b, seed=3)
    np.testing.assert_array_equal(x0, p.x0)
    np.testing.assert_array_equal(b.lb, np.zeros(4))
    np.testing.assert_array_equal(r1.x, r2.x)


def test_sketch_inner_solver():
    p = PROBS["HS35"]
    res = _solve(p, sketch="countsketch", seed=0)
    assert res.sketch == "countsketch"
    assert res.status in (0, 9)
    assert _rel(res.fun, p.f_star) <= 1e-5


# --- infeasible problems


def _quad():
    return dict(jac=lambda x: 2 * x, hess=lambda x, v: 2 * np.eye(2))


def test_infeasible_linear():
    res = minimize_constrained(lambda x: float(x @ x), [1.0, 1.0], bounds=Bounds(0, np.inf),
                               constraints=LinearConstraint([[1, 1]], -np.inf, -1), **_quad())
    assert res.status == 2 and not res.success and "infeasible" in res.message


def test_infeasible_nonlinear():
    ball = NonlinearConstraint(lambda x: [x @ x], -np.inf, 1, jac=lambda x: 2 * x[None, :],
                               hess=lambda x, v: 2 * v[0] * np.eye(2))
    res = minimize_constrained(lambda x: float(x @ x), [1.0, 1.0],
                               bounds=Bounds([2, -np.inf], np.inf), constraints=ball, **_quad())
    assert res.status == 2 and "infeasible" in res.message
    neg = NonlinearConstraint(lambda x: [x[0] ** 2], -np.inf, -1,
                              jac=lambda x: np.array([[2 * x[0], 0.0]]),
                              hess=lambda x, v: np.array([[2 * v[0], 0], [0, 0.0]]))
    res = minimize_constrained(lambda x: float(x @ x), [1.0, 1.0], constraints=neg, **_quad())
    assert res.status == 2


# --- bad input


def _call(**kw):
    args = dict(jac=lambda x: 2 * x, hess=lambda x, v: 2 * np.eye(2))
    args.update(kw)
    return minimize_constrained(lambda x: float(x @ x), [1.0, 1.0], **args)


def test_bad_bounds():
    with pytest.raises(ValueError, match=r"bounds are infeasible: lb > ub at index 1"):
        _call(bounds=Bounds([0, 2], [1, 1]))
    with pytest.raises(ValueError, match="bounds contain NaN"):
        _call(bounds=Bounds([0, np.nan], [1, 1]))
    with pytest.raises(ValueError, match="bounds: lb has 3 entries, expected 2"):
        _call(bounds=Bounds([0, 0, 0], 1))
    with pytest.raises(ValueError, match="bounds has 3 .* pairs but x0 has 2"):
        _call(bounds=[(0, 1)] * 3)
    with pytest.raises(ValueError, match="bounds are infeasible"):
        _call(bounds=[(0, 1), (3, 2)])


def test_bad_constraints():
    with pytest.raises(ValueError, match=r"constraints\[0\] bounds \(lb, ub\) are infeasible"):
        _call(constraints=LinearConstraint([[1, 1]], 2, 1))
    with pytest.raises(ValueError, match=r"constraints\[0\] bounds \(lb, ub\) contain NaN"):
        _call(constraints=LinearConstraint([[1, 1]], np.nan, 1))
    with pytest.raises(ValueError, match=r"constraints\[1\]: LinearConstraint.A has 3 columns"):
        _call(constraints=[LinearConstraint([[1, 1]], 0, 1), LinearConstraint([[1, 1, 1]], 0, 1)])
    with pytest.raises(ValueError, match=r"constraints\[0\] bounds \(lb, ub\): lb has 2 entries"):
        _call(constraints=NonlinearConstraint(lambda x: [x[0]], [0, 0], 1,
                                              jac=lambda x: [[1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"constraints\[0\] jac returned shape \(1, 3\)"):
        _call(constraints=NonlinearConstraint(lambda x: [x[0]], 0, 1,
                                              jac=lambda x: np.ones((1, 3))))
    with pytest.raises(ValueError, match="'type' 'eq' or 'ineq'"):
        _call(constraints={"type": "le", "fun": lambda x: x[0], "jac": lambda x: [[1, 0]]})
    with pytest.raises(TypeError, match="constraints must be"):
        _call(constraints=42)


def test_bad_x0_and_options():
    with pytest.raises(ValueError, match="x0"):
        minimize_constrained(lambda x: 0.0, [np.nan, 1.0], jac=lambda x: x)
    with pytest.raises(ValueError, match="unknown options"):
        _call(options={"nope": 1})
    with pytest.raises(ValueError, match="sketch"):
        _call(sketch="magic")
    with pytest.raises(ValueError, match="jac returned 3 values"):
        _call(jac=lambda x: np.ones(3))
    with pytest.raises(ValueError, match="x0 has 2 entries"):
        minimize_constrained(lambda x: x[2] ** 2, [1.0, 1.0], jac=lambda x: np.ones(3))


def test_exported():
    assert adasolve.minimize_constrained is minimize_constrained
    assert "minimize_constrained" in adasolve.__all__
