"""adasolve.dag: prior knowledge (required / forbidden edges, tiers) enforced by the order search."""

import itertools

import numpy as np
import pytest

from adasolve.dag import (
    TopoSwap,
    count_accuracy,
    is_dag,
    simulate_dag,
    simulate_linear_sem,
    simulate_parameters,
    topo_swap,
)


def make_data(d=6, edges=6, n=500, seed=0):
    B = simulate_dag(d, edges, "ER", seed=seed)
    W = simulate_parameters(B, seed=seed + 1)
    X = simulate_linear_sem(W, n, "gauss", seed=seed + 2)
    return B, X


def tier_pairs(tiers):
    return {(u, v) for a in range(len(tiers)) for b in range(a + 1, len(tiers))
            for u in tiers[a] for v in tiers[b]}


def exhaustive(X, required=(), forbidden=(), tiers=()):
    """Best least-squares score over all orders that respect the knowledge (NumPy, lstsq)."""
    Xc = X - X.mean(axis=0)
    n, d = X.shape
    prec = set(map(tuple, required)) | tier_pairs(tiers)
    forb = set(map(tuple, forbidden))
    best, best_order = np.inf, None
    cache = {}
    for order in itertools.permutations(range(d)):
        pos = {v: k for k, v in enumerate(order)}
        if any(pos[u] > pos[v] for u, v in prec):
            continue
        score = 0.0
        for k, j in enumerate(order):
            P = tuple(sorted(p for p in order[:k] if (p, j) not in forb))
            if (j, P) not in cache:
                if P:
                    w, *_ = np.linalg.lstsq(Xc[:, list(P)], Xc[:, j], rcond=None)
                    r = Xc[:, j] - Xc[:, list(P)] @ w
                else:
                    r = Xc[:, j]
                cache[(j, P)] = 0.5 / n * r @ r
            score += cache[(j, P)]
        if score < best - 1e-12:
            best, best_order = score, order
    return best, best_order


def ls_score(X, W):
    Xc = X - X.mean(axis=0)
    R = Xc - Xc @ W
    return 0.5 / X.shape[0] * (R**2).sum()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_exhaustive_search(seed):
    B, X = make_data(d=6, edges=7, seed=10 * seed)
    rng = np.random.default_rng(seed)
    true = list(zip(*np.nonzero(B)))
    non = [(u, v) for u in range(6) for v in range(6) if u != v and B[u, v] == 0 and B[v, u] == 0]
    forbidden = [tuple(map(int, true[rng.integers(len(true))]))]
    required = [tuple(map(int, non[rng.integers(len(non))]))]
    tiers = [[int(forbidden[0][1])], [int(forbidden[0][0])]]  # against the forbidden true edge
    for kw in ({"forbidden": forbidden}, {"required": required}, {"tiers": tiers},
               {"forbidden": forbidden, "required": required}):
        ref, _ = exhaustive(X, **kw)
        # The swap search is local: no run may go below the constrained optimum (that would
        # break the knowledge), and the best of a few starts reaches it.
        scores = []
        for start in [None] + [("random", s) for s in range(8)]:
            init, seed_ = (None, None) if start is None else start
            res = topo_swap(X, init=init, seed=seed_, size_small=15, **kw)
            assert res.success
            # the score is that of the returned weights, and those respect the knowledge
            np.testing.assert_allclose(res.score, ls_score(X, res.W_raw), rtol=1e-9)
            for u, v in kw.get("forbidden", []):
                assert res.W_raw[u, v] == 0 and res.W[u, v] == 0
            for u, v in kw.get("required", []):
                assert res.W[u, v] != 0
            for u, v in tier_pairs(kw.get("tiers", [])):
                assert res.W_raw[v, u] == 0
            scores.append(res.score)
        assert min(scores) >= ref * (1 - 1e-10)
        np.testing.assert_allclose(min(scores), ref, rtol=1e-9)


def test_forbidden_never_required_always_with_random_starts():
    B, X = make_data(d=10, edges=15, n=300, seed=4)
    true = list(zip(*np.nonzero(B)))
    forbidden = [tuple(map(int, e)) for e in true[:4]]
    non = [(u, v) for u in range(10) for v in range(10) if u != v and B[u, v] == 0 and B[v, u] == 0]
    required = [tuple(map(int, e)) for e in non[:3]]
    for s in range(5):
        res = topo_swap(X, init="random", seed=s, forbidden=forbidden, required=required,
                        threshold=5.0)  # a threshold above every weight: only required edges stay
        assert is_dag(res.W_raw)
        for u, v in forbidden:
            assert res.W_raw[u, v] == 0
        assert sorted(zip(*np.nonzero(res.W))) == sorted(required)
        pos = np.empty(10, int)
        pos[res.order] = np.arange(10)
        assert all(pos[u] < pos[v] for u, v in required)


@pytest.mark.parametrize("kw", [{"l1": 0.02}, {"l2": 0.3}, {"l1": 0.01, "l2": 0.1}])
def test_incremental_matches_refit_with_knowledge(kw):
    B, X = make_data(d=12, edges=20, n=300, seed=7)
    res = topo_swap(X, init="random", seed=1, _check=True, forbidden=[(0, 1), (3, 2)],
                    required=[(4, 5)], tiers=[[6, 7], [8, 9]], **kw)
    assert res.nit > 1 and res.check_max_diff < 1e-9
    assert res.W_raw[0, 1] == 0 and res.W_raw[3, 2] == 0 and res.W[4, 5] != 0
    assert np.all(res.W_raw[[8, 8, 9, 9], [6, 7, 6, 7]] == 0)
    assert np.all(np.diff(res.history) <= 0)


def test_required_edge_has_no_l1_penalty():
    # with a large l1 every penalized weight is zero; the required one is an OLS coefficient
    B, X = make_data(d=4, edges=3, n=400, seed=3)
    res = topo_swap(X, l1=100.0, required=[(0, 1)], threshold=0.0)
    assert list(zip(*np.nonzero(res.W_raw))) == [(0, 1)]
    Xc = X - X.mean(axis=0)
    w = Xc[:, 0] @ Xc[:, 1] / (Xc[:, 0] @ Xc[:, 0])
    np.testing.assert_allclose(res.W_raw[0, 1], w, rtol=1e-8)


def test_knowledge_with_logistic_and_estimator():
    B = simulate_dag(5, 5, seed=1)
    X = simulate_linear_sem(simulate_parameters(B, seed=2), 1000, "logistic", seed=3)
    res = topo_swap(X, loss="logistic", l1=0.01, forbidden=[(0, 1), (1, 0)], required=[(2, 3)])
    assert res.W_raw[0, 1] == 0 and res.W_raw[1, 0] == 0 and res.W[2, 3] != 0
    B, X = make_data(d=6, seed=5)
    est = TopoSwap(tiers=[[0, 1, 2], [3, 4, 5]]).fit(X)
    assert np.all(est.adjacency_[3:, :3] == 0)
    assert count_accuracy(B, est.adjacency_)["nnz"] >= 1


def test_greedy_start_respects_knowledge():
    B, X = make_data(d=8, edges=10, seed=6)
    order = topo_swap(X, tiers=[[7], [0]], required=[(5, 2)], max_iter=1).order
    pos = np.empty(8, int)
    pos[order] = np.arange(8)
    assert pos[7] < pos[0] and pos[5] < pos[2]


def test_bad_knowledge():
    B, X = make_data(d=5, n=50)
    with pytest.raises(ValueError, match="required and forbidden contradict"):
        topo_swap(X, required=[(0, 1)], forbidden=[(0, 1)])
    with pytest.raises(ValueError, match="required edges form a cycle"):
        topo_swap(X, required=[(0, 1), (1, 2), (2, 0)])
    with pytest.raises(ValueError, match="required has the edge .* against tiers"):
        topo_swap(X, required=[(3, 0)], tiers=[[0], [3]])
    with pytest.raises(ValueError, match="required has the self loop"):
        topo_swap(X, required=[(1, 1)])
    with pytest.raises(ValueError, match="forbidden has the edge .* outside"):
        topo_swap(X, forbidden=[(0, 7)])
    with pytest.raises(ValueError, match="forbidden must be a sequence of"):
        topo_swap(X, forbidden=[0, 1, 2])
    with pytest.raises(ValueError, match="required must hold integer"):
        topo_swap(X, required=[(0.5, 1)])
    with pytest.raises(ValueError, match="tiers has the node 2 in more than one tier"):
        topo_swap(X, tiers=[[0, 2], [2, 3]])
    with pytest.raises(ValueError, match="tiers has the node 9"):
        topo_swap(X, tiers=[[0], [9]])
    with pytest.raises(ValueError, match="tiers must be a sequence"):
        topo_swap(X, tiers=3)
    Xc = X.copy()
    Xc[:, 2] = 1.0
    with pytest.raises(ValueError, match="required has the edge .* constant"):
        topo_swap(Xc, required=[(2, 3)])
