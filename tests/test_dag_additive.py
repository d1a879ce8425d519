"""adasolve.dag: the additive model (hinge-spline features per parent, least squares)."""

import itertools

import numpy as np
import pytest

from adasolve.dag import count_accuracy, is_dag, simulate_dag, topo_swap
from adasolve.dag.metrics import _topological_order


def features(x, n_knots):
    """NumPy reference of the basis: [x, max(0, x - t_k)], knots at quantiles k/(K+1)."""
    n = x.size
    m = n_knots + 1
    s = np.sort(x)
    cols = [x - x.mean()]
    prev = -np.inf
    for k in range(1, m):
        t = s[min(n - 1, (k * n) // m)]
        if not (t > prev and t < s[-1]):
            cols.append(np.zeros(n))
            continue
        prev = t
        c = np.maximum(0.0, x - t)
        c = c - c.mean()
        c = c / np.sqrt(np.mean(c**2))
        cols.append(c)
    return np.stack(cols, axis=1)


def node_fit(X, j, parents, n_knots):
    y = X[:, j] - X[:, j].mean()
    if not parents:
        return 0.5 * np.mean(y**2), {}
    F = [features(X[:, p], n_knots) for p in parents]
    beta, *_ = np.linalg.lstsq(np.hstack(F), y, rcond=None)
    r = y - np.hstack(F) @ beta
    m = n_knots + 1
    strength = {p: np.sqrt(np.mean((F[i] @ beta[i * m:(i + 1) * m]) ** 2)) for i, p in enumerate(parents)}
    return 0.5 * np.mean(r**2), strength


def order_score(X, order, n_knots, forbidden=()):
    total, W = 0.0, np.zeros((X.shape[1],) * 2)
    for k, j in enumerate(order):
        P = [p for p in order[:k] if (p, j) not in forbidden]
        s, st = node_fit(X, j, P, n_knots)
        total += s
        for p, v in st.items():
            W[p, j] = v
    return total, W


def additive_sem(d=6, n=600, seed=0):
    rng = np.random.default_rng(seed)
    B = simulate_dag(d, d, "ER", seed=seed)
    order = _topological_order(B)
    fns = [np.sin, np.tanh, lambda t: t**2 / 2, lambda t: np.abs(t) - 0.8]
    X = np.zeros((n, d))
    for j in order:
        X[:, j] = rng.normal(scale=0.5, size=n)
        for p in np.flatnonzero(B[:, j]):
            f = fns[rng.integers(len(fns))]
            X[:, j] += 2.0 * f(X[:, p])
    return B, X


@pytest.mark.parametrize("seed", [0, 1])
def test_score_and_strengths_match_numpy(seed):
    B, X = additive_sem(seed=seed)
    res = topo_swap(X, model="additive", n_knots=4, init="random", seed=seed)
    assert res.success and res.model == "additive"
    ref, Wref = order_score(X, list(res.order), 4)
    np.testing.assert_allclose(res.score, ref, rtol=1e-6)
    np.testing.assert_allclose(res.W_raw, Wref, rtol=1e-5, atol=1e-6)
    assert np.all(np.diff(res.history) < 0)
    assert is_dag(res.W_raw)


def test_incremental_matches_refit():
    B, X = additive_sem(d=9, seed=3)
    for kw in ({}, {"l2": 0.1}, {"forbidden": [(0, 1), (2, 3)], "tiers": [[4], [5]]}):
        res = topo_swap(X, model="additive", init="random", seed=1, _check=True, **kw)
        assert res.nit > 1 and res.check_max_diff < 1e-8


def test_matches_exhaustive_search_d5():
    B, X = additive_sem(d=5, seed=4)
    forbidden = {tuple(map(int, e)) for e in zip(*np.nonzero(B))}
    forbidden = {sorted(forbidden)[0]}
    cache = {}

    def fit(j, parents):  # a node's fit depends on its parent set only
        key = (j, tuple(sorted(parents)))
        if key not in cache:
            cache[key] = node_fit(X, j, list(key[1]), 3)[0]
        return cache[key]

    for kw in ({}, {"forbidden": sorted(forbidden)}):
        f = set(kw.get("forbidden", ()))
        best = min(sum(fit(j, [p for p in o[:k] if (p, j) not in f]) for k, j in enumerate(o))
                   for o in itertools.permutations(range(5)))
        res = topo_swap(X, model="additive", n_knots=3, **kw)
        np.testing.assert_allclose(res.score, best, rtol=1e-6)


def test_recovers_nonlinear_graph_better_than_linear():
    shd_add, shd_lin = [], []
    for seed in range(3):
        B, X = additive_sem(d=8, n=1000, seed=10 + seed)
        shd_add.append(count_accuracy(B, topo_swap(X, model="additive").W)["shd"])
        shd_lin.append(count_accuracy(B, topo_swap(X).W)["shd"])
    assert np.mean(shd_add) <= 2.0
    assert np.mean(shd_add) < np.mean(shd_lin)


def test_additive_bad_input():
    B, X = additive_sem(d=4, n=100)
    with pytest.raises(ValueError, match="model"):
        topo_swap(X, model="mlp")
    with pytest.raises(ValueError, match="l1 must be 0 with model='additive'"):
        topo_swap(X, model="additive", l1=0.1)
    with pytest.raises(ValueError, match="model='additive' needs loss='l2'"):
        topo_swap((X > 0).astype(float), model="additive", loss="logistic")
    with pytest.raises(ValueError, match="n_knots"):
        topo_swap(X, model="additive", n_knots=-1)
    with pytest.warns(RuntimeWarning, match="interpolates"):
        topo_swap(X[:20], model="additive", n_knots=8)
