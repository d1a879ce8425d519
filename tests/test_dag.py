"""Tests for adasolve.dag (topological-swap search for NOTEARS objectives)."""

import warnings

import numpy as np
import pytest

import adasolve
from adasolve import dag
from adasolve.dag import topo as _topo
from adasolve.dag import (
    TopoSwap,
    count_accuracy,
    is_dag,
    simulate_dag,
    simulate_linear_sem,
    simulate_parameters,
    topo_swap,
)


def make_data(d=10, k=2, n=1000, graph="ER", noise="gauss", seed=0):
    B = simulate_dag(d, k * d, graph, seed=seed)
    W = simulate_parameters(B, seed=seed + 1)
    X = simulate_linear_sem(W, n, noise, seed=seed + 2)
    return B, W, X


def numpy_score(X, W, loss="l2", l1=0.0, l2=0.0):
    """Independent NOTEARS objective at W."""
    n = X.shape[0]
    if loss == "l2":
        Xc = X - X.mean(axis=0)
        R = Xc - Xc @ W
        fit = 0.5 / n * (R**2).sum()
    else:
        M = X @ W
        fit = 1.0 / n * (np.logaddexp(0, M) - X * M).sum()
    return fit + l1 * np.abs(W).sum() + 0.5 * l2 * (W**2).sum()


def ols_fit(X, order):
    Xc = X - X.mean(axis=0)
    d = X.shape[1]
    W = np.zeros((d, d))
    for k in range(1, d):
        P = list(order[:k])
        w, *_ = np.linalg.lstsq(Xc[:, P], Xc[:, order[k]], rcond=None)
        W[P, order[k]] = w
    return W


def topo_position(order):
    pos = np.empty(len(order), dtype=int)
    pos[np.asarray(order)] = np.arange(len(order))
    return pos


# ----------------------------------------------------------------------------- simulators


@pytest.mark.parametrize("graph", ["ER", "SF"])
def test_simulate_dag(graph):
    B = simulate_dag(30, 60, graph, seed=3)
    assert B.shape == (30, 30)
    assert is_dag(B)
    assert set(np.unique(B)) <= {0.0, 1.0}
    if graph == "ER":
        assert B.sum() == 60
    else:  # m = 2 edges per new node, fewer for the first two
        assert B.sum() == 2 * 30 - 3
    np.testing.assert_array_equal(B, simulate_dag(30, 60, graph, seed=3))


def test_simulate_parameters_and_sem():
    B = simulate_dag(12, 24, seed=0)
    W = simulate_parameters(B, seed=1)
    assert np.array_equal(W != 0, B != 0)
    nz = np.abs(W[W != 0])
    assert np.all((nz >= 0.5) & (nz <= 2.0))
    X = simulate_linear_sem(W, 20000, "gauss", seed=2)
    # equal-variance linear SEM: cov = (I - W)^{-T} (I - W)^{-1}
    M = np.linalg.inv(np.eye(12) - W)
    np.testing.assert_allclose(np.cov(X.T), M.T @ M, atol=0.15 * np.abs(M.T @ M).max())
    Xb = simulate_linear_sem(W, 50, "logistic", seed=2)
    assert set(np.unique(Xb)) <= {0.0, 1.0}
    for noise in ("exp", "gumbel"):
        assert simulate_linear_sem(W, 10, noise, seed=0).shape == (10, 12)
    with pytest.raises(ValueError, match="W must be a DAG"):
        simulate_linear_sem(np.array([[0, 1.0], [1.0, 0]]), 10)
    with pytest.raises(ValueError, match="noise"):
        simulate_linear_sem(W, 10, "poisson")


def test_count_accuracy_and_is_dag():
    B = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    est = np.array([[0, 0, 1], [1, 0, 1], [0, 0, 0]])  # one reversed, one extra, one correct
    acc = count_accuracy(B, est)
    assert acc == {"fdr": round(2 / 3, 6), "tpr": 0.5, "fpr": 2.0, "shd": 2, "nnz": 3}
    assert count_accuracy(B, B)["shd"] == 0
    assert not is_dag(np.array([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="B_est must be a DAG"):
        count_accuracy(B, B + B.T)


# ----------------------------------------------------------------------------- solver


def test_exported():
    assert adasolve.topo_swap is topo_swap
    assert dag.__all__ == ["topo_swap"]


def test_inner_solver_is_ols_on_predecessors():
    B, W, X = make_data(d=8, seed=5)
    order = np.random.default_rng(0).permutation(8)  # any order: OLS on its predecessors
    Wfit, score = _topo._fit_order(X, order)
    np.testing.assert_allclose(Wfit, ols_fit(X, order), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(score, numpy_score(X, Wfit), rtol=1e-10)
    # with the true order, OLS recovers the true weights up to sampling error
    true_order = _topo._topological_order(B)
    Wt, _ = _topo._fit_order(X, true_order)
    np.testing.assert_allclose(Wt, ols_fit(X, true_order), rtol=1e-8, atol=1e-10)
    assert np.abs(Wt - W).max() < 0.15


@pytest.mark.parametrize("init", [None, "random"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_er10(seed, init):
    B, W, X = make_data(d=10, k=2, n=1000, seed=10 * seed)
    res = topo_swap(X, init=init, seed=seed)
    assert res.success
    assert is_dag(res.W) and is_dag(res.W_raw)
    acc = count_accuracy(B, res.W)
    assert acc["shd"] <= 2, acc
    np.testing.assert_allclose(res.score, numpy_score(X, res.W_raw), rtol=1e-10)
    assert np.all(np.diff(res.history) < 0)
    # order is topological for W_raw
    pos = topo_position(res.order)
    r, c = np.nonzero(res.W_raw)
    assert np.all(pos[r] < pos[c])


def test_true_order_is_local_optimum_and_score_matches():
    B, W, X = make_data(d=10, seed=4)
    res = topo_swap(X, init=_topo._topological_order(B))
    assert count_accuracy(B, res.W)["shd"] == 0
    np.testing.assert_allclose(res.score, numpy_score(X, res.W_raw), rtol=1e-10)


@pytest.mark.parametrize("kw", [{}, {"l2": 0.5}, {"l1": 0.02}, {"l1": 0.01, "l2": 0.1}])
def test_incremental_matches_refit(kw):
    B, W, X = make_data(d=15, k=2, n=300, seed=7)
    res = topo_swap(X, init="random", seed=1, _check=True, **kw)
    assert res.nit > 1 and res.n_swaps > 0
    assert res.check_max_diff < 1e-9
    assert is_dag(res.W_raw)
    np.testing.assert_allclose(res.score, numpy_score(X, res.W_raw, **kw), rtol=1e-8)
    assert np.all(np.diff(res.history) <= 0)


def test_l1_inner_matches_lasso():
    sklearn = pytest.importorskip("sklearn.linear_model")
    B, W, X = make_data(d=6, seed=2, n=400)
    order = np.arange(6)
    Wfit, _ = _topo._fit_order(X, order, l1=0.05)
    Xc = X - X.mean(axis=0)
    for k in range(1, 6):
        las = sklearn.Lasso(alpha=0.05, fit_intercept=False, tol=1e-12, max_iter=100000)
        las.fit(Xc[:, :k], Xc[:, k])
        np.testing.assert_allclose(Wfit[:k, k], las.coef_, atol=1e-6)


def test_logistic():
    sklearn = pytest.importorskip("sklearn.linear_model")
    B = simulate_dag(6, 6, seed=1)
    W = simulate_parameters(B, seed=2)
    X = simulate_linear_sem(W, 2000, "logistic", seed=3)
    order = np.arange(6)
    l1 = 0.01
    Wfit, score = _topo._fit_order(X, order, loss="logistic", l1=l1)
    np.testing.assert_allclose(score, numpy_score(X, Wfit, "logistic", l1=l1), rtol=1e-8)
    # sklearn: C * sum(loss) + |w|_1  <=>  mean(loss) + |w|_1 / (C n)
    for k in range(1, 6):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn >= 1.8 deprecates penalty=
            lr = sklearn.LogisticRegression(penalty="l1", C=1.0 / (l1 * 2000), fit_intercept=False,
                                            solver="liblinear", tol=1e-10, max_iter=10000)
            lr.fit(X[:, :k], X[:, k])
        np.testing.assert_allclose(Wfit[:k, k], lr.coef_.ravel(), atol=2e-3)
    res = topo_swap(X, loss="logistic", l1=l1, seed=0)
    assert is_dag(res.W_raw)
    np.testing.assert_allclose(res.score, numpy_score(X, res.W_raw, "logistic", l1=l1), rtol=1e-8)
    assert np.all(np.diff(res.history) <= 0)


def test_greedy_initial_order():
    B, W, X = make_data(d=9, seed=6)
    Xc = X - X.mean(axis=0)
    # independent: place the node with the smallest residual variance given those placed
    placed, rest = [], list(range(9))
    while rest:
        def resid(j):
            if not placed:
                return Xc[:, j].var()
            w, *_ = np.linalg.lstsq(Xc[:, placed], Xc[:, j], rcond=None)
            return (Xc[:, j] - Xc[:, placed] @ w).var()
        j = min(rest, key=resid)
        placed.append(j)
        rest.remove(j)
    np.testing.assert_array_equal(adasolve._core.dag.greedy_order(X), placed)
    res = topo_swap(X, max_iter=1)
    assert res.history[0] <= topo_swap(X, init=placed[::-1], max_iter=1).history[0]


def test_postprocessing_from_adjacency_and_estimator():
    B, W, X = make_data(d=12, seed=9)
    # post-processing from another estimate: the reversed true graph, a DAG with a bad order
    res0 = topo_swap(X, init=W.T)
    assert is_dag(res0.W)
    assert res0.score <= res0.history[0]
    est = TopoSwap(seed=0).fit(X)
    assert est.adjacency_.shape == (12, 12)
    assert est.n_features_in_ == 12
    np.testing.assert_allclose(est.score_, numpy_score(X, est.result_.W_raw), rtol=1e-10)
    assert sorted(est.order_) == list(range(12))


def test_deterministic_per_seed_and_max_iter():
    B, W, X = make_data(d=12, seed=3)
    a = topo_swap(X, init="random", seed=5)
    b = topo_swap(X, init="random", seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.W, b.W)
    c = topo_swap(X, init="random", seed=5, max_iter=1)
    assert c.nit == 1 and c.status == 1 and not c.success
    assert a.score <= c.score


def test_callback_stops_and_interrupt():
    B, W, X = make_data(d=12, seed=3)
    seen = []

    def cb(r):
        seen.append(r.score)
        return len(seen) >= 2

    res = topo_swap(X, init="random", seed=5, callback=cb)
    assert res.status == 2 and res.nit == 2 and len(seen) == 2

    def interrupting(r):
        if r.interrupted:
            return True
        raise KeyboardInterrupt

    res = topo_swap(X, init="random", seed=5, callback=interrupting)
    assert res.interrupted and res.status == 2 and is_dag(res.W)
    np.testing.assert_allclose(res.score, numpy_score(X, res.W_raw), rtol=1e-10)

    def refuse(r):
        if r.interrupted:
            return False
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        topo_swap(X, init="random", seed=5, callback=refuse)


def test_constant_columns_warn():
    B, W, X = make_data(d=8, seed=1)
    X = X.copy()
    X[:, 3] = 2.5
    with pytest.warns(RuntimeWarning, match="constant columns"):
        res = topo_swap(X, seed=0)
    assert np.all(res.W_raw[3] == 0) and np.all(res.W_raw[:, 3] == 0)
    assert is_dag(res.W)
    np.testing.assert_allclose(res.score, numpy_score(X, res.W_raw), rtol=1e-10)


def test_input_not_modified():
    B, W, X = make_data(d=6, seed=1)
    X0 = X.copy()
    topo_swap(X, seed=0)
    np.testing.assert_array_equal(X, X0)


# ----------------------------------------------------------------------------- bad input


def test_bad_inputs():
    B, W, X = make_data(d=5, n=50, seed=0)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        topo_swap(Xn)
    Xi = X.copy()
    Xi[1, 1] = np.inf
    with pytest.raises(ValueError, match="X contains Inf"):
        topo_swap(Xi)
    with pytest.raises(ValueError, match="at least 2 samples"):
        topo_swap(X[:1])
    with pytest.raises(ValueError, match="at least 2 variables"):
        topo_swap(X[:, :1])
    with pytest.raises(ValueError, match="X must be 2-D"):
        topo_swap(X[:, 0])
    with pytest.raises(ValueError, match="binary"):
        topo_swap(X, loss="logistic")
    with pytest.raises(ValueError, match="loss"):
        topo_swap(X, loss="huber")
    with pytest.raises(ValueError, match="init must be a permutation"):
        topo_swap(X, init=[0, 1, 2, 3, 3])
    with pytest.raises(ValueError, match="init as an order must have d = 5"):
        topo_swap(X, init=[0, 1, 2])
    with pytest.raises(ValueError, match=r"init as a weighted adjacency must have shape \(5, 5\)"):
        topo_swap(X, init=np.zeros((4, 4)))
    cyc = np.zeros((5, 5))
    cyc[0, 1] = cyc[1, 2] = cyc[2, 0] = 0.7
    with pytest.raises(ValueError, match="init must be a DAG"):
        topo_swap(X, init=cyc)
    with pytest.raises(ValueError, match="init must be None"):
        topo_swap(X, init=np.zeros((5, 5, 1)))
    with pytest.raises(ValueError, match="init must be None, 'random'"):
        topo_swap(X, init="greedy-ish")
    with pytest.raises(ValueError, match="l1"):
        topo_swap(X, l1=-1.0)
    with pytest.raises(ValueError, match="threshold"):
        topo_swap(X, threshold=-0.1)
    with pytest.raises(ValueError, match="max_iter"):
        topo_swap(X, max_iter=0)
    with pytest.raises(ValueError, match="size_small"):
        topo_swap(X, size_small=0)
    with pytest.raises(TypeError, match="callback"):
        topo_swap(X, callback=3)
    with pytest.raises(TypeError, match="X"):
        topo_swap(X.astype(complex))


def test_small_problems():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 2))
    res = topo_swap(X, seed=0)
    assert res.W.shape == (2, 2) and is_dag(res.W)
    # n < d: collinear data still gives a DAG and a finite score
    X = rng.standard_normal((5, 12))
    res = topo_swap(X, seed=0)
    assert is_dag(res.W_raw) and np.isfinite(res.score)
