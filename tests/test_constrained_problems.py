"""Tests of the equality-constrained problem collections and generators."""

import zlib

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import NonlinearConstraint, minimize

from adasolve.problems import (
    CUTEST_EQUALITY_NAMES,
    constrained_logistic,
    cutest_equality,
    eq_least_squares,
    hock_schittkowski,
    pde_control,
)

HS = hock_schittkowski()
CU = cutest_equality()
ALL = {**HS, **CU}


def _dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a)


def _fd_grad(f, x, h=1e-6):
    g = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h * max(1.0, abs(x[i]))
        g.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * e[i]))
    return np.array(g).T


def _check_derivatives(p, rng, npoints=2):
    for _ in range(npoints):
        x = p.x0 + 0.1 * rng.standard_normal(p.n)
        v = rng.standard_normal(p.m)
        scale = 1.0 + np.abs(p.jac(x)).max()
        np.testing.assert_allclose(p.jac(x), _fd_grad(p.fun, x), rtol=1e-5, atol=1e-5 * scale)
        J = _dense(p.c_jac(x))
        assert J.shape == (p.m, p.n)
        np.testing.assert_allclose(J, _fd_grad(p.c, x), rtol=1e-5,
                                   atol=1e-5 * (1 + np.abs(J).max()))
        H = _dense(p.hess(x, v))
        assert H.shape == (p.n, p.n)
        Hfd = _fd_grad(lambda y: p.jac(y) + _dense(p.c_jac(y)).T @ v, x)
        np.testing.assert_allclose(H, Hfd, rtol=1e-5, atol=1e-5 * (1 + np.abs(H).max()))
        np.testing.assert_allclose(H, H.T, atol=1e-12 * (1 + np.abs(H).max()))


@pytest.mark.parametrize("name", list(ALL))
def test_small_problem_contract(name):
    p = ALL[name]
    x0 = p.x0
    assert x0.shape == (p.n,)
    x0[0] += 1.0  # x0 is a copy
    assert p.x0[0] != x0[0]
    assert p.c(p.x0).shape == (p.m,)
    assert np.isfinite(p.fun(p.x0))
    assert 1 <= p.m <= p.n
    assert p.f_star is not None or p.notes
    con = p.constraints
    assert isinstance(con, NonlinearConstraint)
    np.testing.assert_array_equal(con.lb, 0.0)
    np.testing.assert_array_equal(con.ub, 0.0)
    _check_derivatives(p, np.random.default_rng(zlib.crc32(name.encode())),
                       npoints=1 if p.n > 50 else 2)


@pytest.mark.parametrize("name", [k for k, p in ALL.items() if p.x_star is not None])
def test_published_solution(name):
    p = ALL[name]
    xs = p.x_star
    np.testing.assert_allclose(p.fun(xs), p.f_star, rtol=1e-5, atol=1e-6)
    assert np.abs(p.c(xs)).max() < 1e-4


def test_cutest_names_in_paper_order():
    assert len(CUTEST_EQUALITY_NAMES) == 47
    assert len(set(CUTEST_EQUALITY_NAMES)) == 47
    assert tuple(CU) == CUTEST_EQUALITY_NAMES


def test_ne_problems_have_zero_objective():
    for k, p in CU.items():
        if k.endswith("NE") or k in ("HIMMELBA", "BOOTH", "ZANGWIL3", "GOTTFR", "HIMMELBC"):
            assert p.f_star == 0.0
            assert p.fun(p.x0) == 0.0


@pytest.mark.parametrize("name", ["HS7", "HS40", "HS52", "HS78", "HS79", "BT2", "BT3", "BT5",
                                  "BT11", "BT12", "GENHS28", "MWRIGHT", "HS100LNP"])
def test_f_star_reached_by_scipy(name):
    p = ALL[name]
    res = minimize(p.fun, p.x0, jac=p.jac, method="SLSQP",
                   constraints=[{"type": "eq", "fun": p.c, "jac": p.c_jac}],
                   options={"maxiter": 500, "ftol": 1e-12})
    assert np.abs(p.c(res.x)).max() < 1e-6
    np.testing.assert_allclose(res.fun, p.f_star, rtol=1e-6, atol=1e-8)


def test_trust_constr_uses_problem_hessian():
    p = ALL["HS52"]
    res = minimize(p.fun, p.x0, jac=p.jac, hess=lambda x: p.hess(x, np.zeros(p.m)),
                   method="trust-constr", constraints=p.constraints,
                   options={"gtol": 1e-10, "xtol": 1e-12})
    np.testing.assert_allclose(res.fun, p.f_star, rtol=1e-6)


def test_sif_checked_definitions():
    """Values fixed by the SIF files (see each problem's notes)."""
    # SINVALNE: c = (10 (x2 - sin x1), x1 / 2)
    p = CU["SINVALNE"]
    x = np.array([0.3, -0.2])
    np.testing.assert_allclose(p.c(x), [10 * (-0.2 - np.sin(0.3)), 0.15], rtol=1e-14)
    # TRIGON1NE at x = 0: F(i) = (N - 1) + (i + 1) - (N + i) = 0 for every i
    np.testing.assert_allclose(CU["TRIGON1NE"].c(np.zeros(10)), 0.0, atol=1e-14)
    # MOREBVNE N = 10, x0_i = t_i (t_i - 1)
    t = np.arange(1, 11) / 11
    np.testing.assert_allclose(CU["MOREBVNE"].x0, t * (t - 1))
    # BA-L1SP: x0 = 0, c(0) = -constants, Jacobian at 0 = the linear coefficients
    p = CU["BA-L1SP"]
    assert (p.n, p.m) == (57, 12) and not p.x0.any()
    c0 = p.c(p.x0)
    assert c0[0] == pytest.approx(-9.020224572) and c0[11] == pytest.approx(-194.2376052)
    J0 = p.c_jac(p.x0)
    assert J0[0, 0] == pytest.approx(545.11792729) and J0[11, 56] == pytest.approx(.06649371711)
    assert np.count_nonzero(J0[2]) == 12 and J0[2, 12] == pytest.approx(-107.0193513)
    # quadratic part: x_i^2 / 2 + x_i x_j (j > i), weighted by the row's coefficient
    x = np.zeros(57)
    x[0], x[4] = 0.5, -0.25
    a1, a5 = 545.11792729, -1296.338862
    want = a1 * (0.5 + 0.125 + 0.5 * -0.25) + a5 * (-0.25 + 0.03125) - 9.020224572
    assert p.c(x)[0] == pytest.approx(want, rel=1e-12)
    for k, p in CU.items():
        assert "unverified" not in p.notes.lower() and "assumption" not in p.notes.lower(), k


def test_pde_control():
    N = 6
    p = pde_control(N)
    assert (p.n, p.m) == (2 * N * N, N * N)
    assert sp.issparse(p.c_jac(p.x0)) and sp.issparse(p.hess(p.x0, np.zeros(p.m)))
    _check_derivatives(p, np.random.default_rng(0), npoints=1)
    # Laplacian rows: -4/h^2 diagonal, 1/h^2 neighbours
    h = 2.0 / (N + 1)
    A = _dense(p.c_jac(p.x0))
    assert A[0, 0] == pytest.approx(-4 / h**2)
    assert A[0, 1] == pytest.approx(1 / h**2) and A[0, N] == pytest.approx(1 / h**2)
    np.testing.assert_array_equal(A[:, N * N:], np.eye(N * N))
    big = pde_control(100)
    assert big.c_jac(big.x0).nnz < 6 * big.m


def test_constrained_logistic():
    p = constrained_logistic(20, seed=1)
    assert (p.n, p.m) == (20, 11)
    _check_derivatives(p, np.random.default_rng(1))
    q = constrained_logistic(20, seed=1)
    np.testing.assert_array_equal(p.c(p.x0), q.c(q.x0))
    assert p.fun(np.zeros(20)) == pytest.approx(np.log(2))
    big = constrained_logistic(100_000, seed=0)
    w = big.x0
    assert big.jac(w).shape == (100_000,) and big.c(w).shape == (11,)
    Hop = big.hess(w, np.ones(11))
    u = np.random.default_rng(0).standard_normal(100_000)
    assert (Hop @ u).shape == (100_000,)
    # matrix-free Hessian equals the explicit sparse one
    X, y = big.extra["X"], big.extra["y"]
    s = 1 / (1 + np.exp(-(-y * (X @ w))))
    Hu = X.T @ (s * (1 - s) / X.shape[0] * (X @ u)) + 2 * u
    np.testing.assert_allclose(Hop @ u, Hu, rtol=1e-10, atol=1e-14)
    pytest.importorskip("sklearn")
    b = constrained_logistic(data="breast_cancer")
    assert (b.n, b.m) == (30, 11)
    _check_derivatives(b, np.random.default_rng(2), npoints=1)


def test_eq_least_squares():
    p = eq_least_squares(200, seed=3)
    assert (p.n, p.m) == (200, 20)
    assert sp.issparse(p.c_jac(p.x0)) and sp.issparse(p.hess(p.x0, np.zeros(p.m)))
    _check_derivatives(p, np.random.default_rng(3), npoints=1)
    # independent reference: dense null-space solution of the equality-constrained LSQ
    A, b = p.extra["A"].toarray(), p.extra["b"]
    C, d = p.extra["C"].toarray(), p.extra["d"]
    xp = np.linalg.lstsq(C, d, rcond=None)[0]
    Z = np.linalg.svd(C)[2][p.m:].T
    y = np.linalg.lstsq(A @ Z, b - A @ xp, rcond=None)[0]
    xs = xp + Z @ y
    np.testing.assert_allclose(p.fun(xs), p.f_star, rtol=1e-9)
    big = eq_least_squares(100_000, seed=0)
    assert big.f_star is None
    assert big.c(big.x0).shape == (10_000,)
    assert big.jac(big.x0).shape == (100_000,)


def test_bad_sizes():
    with pytest.raises(ValueError, match="N must be"):
        pde_control(0)
    with pytest.raises(ValueError, match="m must be"):
        eq_least_squares(10, m=11)
