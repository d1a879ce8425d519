"""minimize_eq / sketch_sqp against SciPy's own constrained test problems and its API rules."""

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from scipy.optimize import LinearConstraint, NonlinearConstraint, minimize

import adasolve
from adasolve.optimize import sketch_sqp

# SciPy ships its constrained test problems with its test suite (Maratos, Elec, ...)
_TESTS = Path(scipy.optimize.__file__).parent / "tests"
sys.path.insert(0, str(_TESTS))
scipy_tc = pytest.importorskip("test_minimize_constrained")
sys.path.remove(str(_TESTS))

SKETCHES = ["gaussian", "countsketch", "kaczmarz", "exact"]


def _run_maratos(prob, sketch, args=()):
    jac = prob.grad
    return minimize(prob.fun, prob.x0, args=args, method=sketch_sqp, jac=jac, hess=prob.hess,
                    constraints=prob.constr, options={"sketch": sketch, "seed": 0})


@pytest.mark.parametrize("sketch", SKETCHES)
def test_maratos(sketch):
    prob = scipy_tc.Maratos()
    res = _run_maratos(prob, sketch)
    assert res.success, res.message
    np.testing.assert_array_almost_equal(res.x, prob.x_opt, decimal=5)


@pytest.mark.parametrize("sketch", SKETCHES)
def test_maratos_args(sketch):
    # SciPy's MaratosTestArgs raises unless fun/grad/hess get exactly args=(a, b); its
    # constraint functions take no args, as SciPy's rule is that constraints never get the
    # objective's args.
    prob = scipy_tc.MaratosTestArgs("a", 234)
    res = _run_maratos(prob, sketch, args=("a", 234))
    assert res.success, res.message
    np.testing.assert_array_almost_equal(res.x, prob.x_opt, decimal=5)


@pytest.mark.parametrize("sketch", SKETCHES)
def test_maratos_grad_in_func(sketch):
    prob = scipy_tc.MaratosGradInFunc()
    assert prob.grad is True
    res = _run_maratos(prob, sketch)
    assert res.success, res.message
    np.testing.assert_array_almost_equal(res.x, prob.x_opt, decimal=5)
    # the same point as trust-constr
    tc = minimize(prob.fun, prob.x0, method="trust-constr", jac=True, hess=prob.hess,
                  constraints=prob.constr)
    np.testing.assert_allclose(res.x, tc.x, atol=1e-5)


def test_dict_constraint_gets_only_its_own_args():
    seen = []

    def fun(x, a):
        return a * (x @ x)

    def cfun(x, *extra):
        seen.append(extra)
        return x.sum() - extra[0] if extra else x.sum() - 1.0

    def cjac(x, *extra):
        return np.ones((1, 2))

    res = minimize(fun, [1.0, 2.0], args=(3.0,), method=sketch_sqp, jac=lambda x, a: 2 * a * x,
                   constraints={"type": "eq", "fun": cfun, "jac": cjac})
    assert res.success and set(seen) == {()}
    np.testing.assert_allclose(res.x, [0.5, 0.5], atol=1e-5)
    seen.clear()
    res = minimize(fun, [1.0, 2.0], args=(3.0,), method=sketch_sqp, jac=lambda x, a: 2 * a * x,
                   constraints={"type": "eq", "fun": cfun, "jac": cjac, "args": (4.0,)})
    assert res.success and set(seen) == {(4.0,)}
    np.testing.assert_allclose(res.x, [2.0, 2.0], atol=1e-5)


def test_user_error_in_constraint_at_x0_is_a_failed_result():
    def cfun(x):
        raise TypeError("boom")

    res = adasolve.minimize_eq(lambda x: x @ x, [1.0, 2.0], jac=lambda x: 2 * x,
                               constraints=(cfun, lambda x: np.ones((1, 2))))
    assert res.status == 5 and not res.success and "boom" in res.message


def test_pair_constraints_in_a_list():
    pair = (lambda x: [x.sum() - 1.0], lambda x: np.ones((1, 2)))
    for cons in (pair, [pair], [pair, LinearConstraint([[1.0, -1.0]], 0.0, 0.0)]):
        res = adasolve.minimize_eq(lambda x: x @ x, [1.0, 2.0], jac=lambda x: 2 * x,
                                   constraints=cons, sketch="exact")
        assert res.success
        np.testing.assert_allclose(res.x, [0.5, 0.5], atol=1e-8)


def test_bad_input_names_the_argument():
    f, g = (lambda x: x @ x), (lambda x: 2 * x)
    with pytest.raises(ValueError, match="LinearConstraint.A has 3 columns but x0 has 2"):
        adasolve.minimize_eq(f, [1.0, 2.0], jac=g,
                             constraints=LinearConstraint(np.ones((1, 3)), 1.0, 1.0))
    lin = LinearConstraint(np.ones((1, 2)), 1.0, 1.0)
    with pytest.raises(ValueError, match=r"options\['v0'\].*NaN"):
        adasolve.minimize_eq(f, [1.0, 2.0], jac=g, constraints=lin, options={"v0": [np.nan]})
    with pytest.raises(ValueError, match=r"options\['v0'\]"):
        adasolve.minimize_eq(f, [1.0, 2.0], jac=g, constraints=lin, options={"v0": [1.0, 2.0]})
    # x0 shorter than the functions expect: they raise IndexError at x0
    with pytest.raises(ValueError, match="x0 has 2 entries"):
        adasolve.minimize_eq(lambda x: x[0] + x[2], [1.0, 2.0], jac=lambda x: np.ones(3),
                             constraints=(lambda x: [x[2]], lambda x: [[0, 0, 1.0]]))
    # x0 longer than the gradient
    with pytest.raises(ValueError, match="length of x0"):
        adasolve.minimize_eq(lambda x: x[0] ** 2 + x[1] ** 2, [1.0, 2.0, 3.0],
                             jac=lambda x: 2 * x[:2],
                             constraints=(lambda x: [x.sum() - 1], lambda x: np.ones((1, 3))))
    # wrong length through scipy.optimize.minimize (Maratos expects 2 entries)
    prob = scipy_tc.Maratos()
    with pytest.raises(ValueError, match="x0"):
        minimize(prob.fun, [1.0, 0.0, 0.0], method=sketch_sqp, jac=prob.grad,
                 constraints=NonlinearConstraint(lambda x: x[0] ** 2 + x[1] ** 2, 1, 1,
                                                 jac=lambda x: [[2 * x[0], 2 * x[1]]]))


def _elec_eq(n_el, dense):
    prob = scipy_tc.Elec(n_el)
    con = prob.constr
    jac = (lambda x: con.jac(x).toarray()) if dense else con.jac
    return prob, NonlinearConstraint(con.fun, 0, 0, jac, con.hess)


THOMSON = {10: 32.716949460, 20: 150.881568334}


@pytest.mark.parametrize("sketch", ["kaczmarz", "exact"])
def test_elec_dense_and_sparse_jacobians_follow_the_same_iterates(sketch):
    runs = []
    for dense in (True, False):
        prob, con = _elec_eq(10, dense)
        runs.append(minimize(prob.fun, prob.x0, method=sketch_sqp, jac=prob.grad, hess=prob.hess,
                             constraints=con, options={"sketch": sketch, "seed": 0}))
    rd, rs = runs
    assert rd.success and rs.success
    assert rd.nit == rs.nit
    # Kaczmarz: the same sketch on the same matrix; exact: dense LU against a sparse LDL^T
    # refined only to the inner accuracy test, so the shifts agree to that accuracy
    np.testing.assert_allclose(rd.history["shift"], rs.history["shift"],
                               rtol=1e-8 if sketch == "kaczmarz" else 1e-4)
    if sketch == "kaczmarz":
        np.testing.assert_allclose(rd.x, rs.x, atol=1e-8)
    # (the minimizers form a family, rotations of the sphere: exact's 1e-6 differences
    # select different members, with the same energy)
    assert rd.fun == pytest.approx(rs.fun, rel=1e-8)
    assert abs(rd.fun - THOMSON[10]) <= 1e-6 * THOMSON[10]


@pytest.mark.parametrize("n_el", [10, 20])
def test_elec_default_reaches_thomson_minimum(n_el):
    prob, con = _elec_eq(n_el, dense=False)
    res = minimize(prob.fun, prob.x0, method=sketch_sqp, jac=prob.grad, hess=prob.hess,
                   constraints=con, options={"seed": 0})
    assert res.success, res.message
    assert res.sketch == "exact" and "auto" in res.sketch_choice
    assert abs(res.fun - THOMSON[n_el]) <= 1e-6 * THOMSON[n_el]
    # the penalties stay moderate (the coupled update drove eta1 to 1e8 here)
    assert max(res.history["eta1"]) < 1e4


def test_badly_scaled_qp_stops_at_the_rounding_level():
    rng = np.random.default_rng(0)
    n, m = 50, 10
    A = rng.standard_normal((n, n))
    Q = (A @ A.T / n + np.eye(n)) * 1e100
    q = rng.standard_normal(n) * 1e100
    C = rng.standard_normal((m, n)) * 1e100
    d = rng.standard_normal(m) * 1e100
    for sketch in ("gaussian", "exact"):
        res = adasolve.minimize_eq(lambda x: 0.5 * x @ Q @ x + q @ x, np.zeros(n),
                                   jac=lambda x: Q @ x + q, hess=lambda x, v: Q,
                                   constraints=LinearConstraint(C, d, d), sketch=sketch, seed=0)
        assert res.status == 8 and not res.success and res.nit <= 10, (sketch, res.message)
        assert "rounding level" in res.message and "rescale" in res.message
        # and it is the solution, up to that level
        K = np.block([[Q, C.T], [C, np.zeros((m, m))]]) / 1e100
        sol = np.linalg.solve(K, np.r_[-q, d] / 1e100)[:n]
        np.testing.assert_allclose(res.x, sol, rtol=1e-6, atol=1e-8)


def test_sketch_time_budget_is_a_status():
    # an ill-conditioned KKT system: the Gaussian vector sketch needs ~||K||_F^2/sigma_min^2
    # steps; a tiny inner time budget stops it with status 9 and a pointer to 'exact'
    rng = np.random.default_rng(1)
    n, m = 300, 30
    U = np.linalg.qr(rng.standard_normal((n, n)))[0]
    Q = U @ np.diag(np.logspace(-4, 4, n)) @ U.T
    C = rng.standard_normal((m, n))
    res = adasolve.minimize_eq(lambda x: 0.5 * x @ Q @ x, np.ones(n), jac=lambda x: Q @ x,
                               hess=lambda x, v: Q, constraints=LinearConstraint(C, 1.0, 1.0),
                               sketch="gaussian", seed=0, options={"inner_max_seconds": 0.05})
    assert res.status == 9 and not res.success
    assert "inner_max_seconds" in res.message and "sketch='exact'" in res.message
    assert res.time < 5.0
