"""adasolve.dag: sufficient statistics (gram=, n_samples=) and standardize=."""

import numpy as np
import pytest

from adasolve.dag import TopoSwap, simulate_dag, simulate_linear_sem, simulate_parameters, topo_swap


def make_data(d=12, n=800, seed=0):
    B = simulate_dag(d, 2 * d, "ER", seed=seed)
    X = simulate_linear_sem(simulate_parameters(B, seed=seed + 1), n, "gauss", seed=seed + 2)
    return B, X


def chunked_gram(X, chunk):
    """Centred Gram matrix from chunks of rows: sum of x x^T and of x, then one correction."""
    d = X.shape[1]
    S, s, n = np.zeros((d, d)), np.zeros(d), 0
    for i in range(0, X.shape[0], chunk):
        C = X[i:i + chunk]
        S += C.T @ C
        s += C.sum(axis=0)
        n += C.shape[0]
    return S - np.outer(s, s) / n, n


@pytest.mark.parametrize("kw", [{}, {"l1": 0.02}, {"l2": 0.5}, {"init": "random", "seed": 3},
                                {"forbidden": [(0, 1)], "tiers": [[2], [5]]}])
def test_gram_equals_data(kw):
    B, X = make_data()
    G, n = chunked_gram(X, 97)
    a = topo_swap(X, **kw)
    b = topo_swap(gram=G, n_samples=n, **kw)
    np.testing.assert_array_equal(a.order, b.order)
    np.testing.assert_allclose(b.W_raw, a.W_raw, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.score, a.score, rtol=1e-10)
    assert b.success


def test_gram_estimator_and_constant_column():
    B, X = make_data(d=8, seed=2)
    X = X.copy()
    X[:, 4] = 3.0
    Xc = X - X.mean(axis=0)
    with pytest.warns(RuntimeWarning, match="constant columns"):
        est = TopoSwap().fit(gram=Xc.T @ Xc, n_samples=X.shape[0])
    with pytest.warns(RuntimeWarning, match="constant columns"):
        ref = topo_swap(X)
    np.testing.assert_allclose(est.adjacency_, ref.W, atol=1e-9)
    np.testing.assert_allclose(est.score_, ref.score, rtol=1e-10)


def test_standardize():
    B, X = make_data(d=10, seed=4)
    scales = np.logspace(-2, 2, 10)
    # standardized, every variance is 1 and the greedy start is decided by round-off: compare
    # runs from one fixed start
    start = np.random.default_rng(0).permutation(10)
    a = topo_swap(X, standardize=True, init=start)
    b = topo_swap(X * scales + 7.0, standardize=True, init=start)  # units do not matter any more
    np.testing.assert_array_equal(a.order, b.order)
    np.testing.assert_allclose(a.W_raw, b.W_raw, atol=1e-8)
    Z = (X - X.mean(0)) / X.std(0)
    np.testing.assert_allclose(topo_swap(Z, init=start).W_raw, a.W_raw, atol=1e-10)
    Zc = Z - Z.mean(0)
    Xc = X - X.mean(0)
    g = topo_swap(gram=Xc.T @ Xc, n_samples=X.shape[0], standardize=True, init=start)
    np.testing.assert_allclose(g.W_raw, a.W_raw, atol=1e-8)
    h = topo_swap(gram=Zc.T @ Zc, n_samples=X.shape[0], init=start)
    np.testing.assert_allclose(g.score, h.score, rtol=1e-10)
    # unstandardized, the result depends on the units: here the order changes
    assert not np.array_equal(topo_swap(X * scales).order, topo_swap(X).order)


def test_gram_bad_input():
    B, X = make_data(d=5, n=50)
    Xc = X - X.mean(0)
    G = Xc.T @ Xc
    with pytest.raises(ValueError, match="n_samples is required"):
        topo_swap(gram=G)
    with pytest.raises(ValueError, match="give X or gram, not both"):
        topo_swap(X, gram=G, n_samples=50)
    with pytest.raises(ValueError, match="gram must be symmetric"):
        topo_swap(gram=G + np.triu(np.ones((5, 5)), 1), n_samples=50)
    with pytest.raises(ValueError, match="positive semidefinite"):
        topo_swap(gram=G - 2 * np.linalg.eigvalsh(G)[-1] * np.eye(5), n_samples=50)
    with pytest.raises(ValueError, match="n_samples = 3 does not match gram"):
        topo_swap(gram=G, n_samples=3)
    with pytest.raises(ValueError, match="n_samples"):
        topo_swap(gram=G, n_samples=1)
    with pytest.raises(ValueError, match="gram must be square"):
        topo_swap(gram=G[:, :4], n_samples=50)
    with pytest.raises(ValueError, match="gram contains NaN"):
        topo_swap(gram=np.full((5, 5), np.nan), n_samples=50)
    with pytest.raises(ValueError, match="gram serves loss='l2'"):
        topo_swap(gram=G, n_samples=50, loss="logistic")
    with pytest.raises(ValueError, match="gram serves loss='l2'"):
        topo_swap(gram=G, n_samples=50, model="additive")
    with pytest.raises(ValueError, match="n_samples goes with gram only"):
        topo_swap(X, n_samples=50)
    with pytest.raises(ValueError, match="X is required"):
        topo_swap()
    with pytest.raises(TypeError, match="standardize"):
        topo_swap(X, standardize="yes")
    Xb = (X > 0).astype(float)
    with pytest.raises(ValueError, match="standardize=True does not apply"):
        topo_swap(Xb, loss="logistic", standardize=True)
