"""Tests for adasolve.bcd: every rule x blocks x update against independent optima."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize

from adasolve import _core, bcd_minimize
from adasolve.bcd import LabelPropagation, LeastSquares, Logistic, Softmax
from adasolve.bcd.engine import _solver

RULES = ["cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gsq"]
FLAT_BLOCKS = ["fixed", "sorted", "random", "variable"]
UPDATES = ["gradient", "lipschitz", "newton"]


def _data(n=25, p=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.3
    w = rng.standard_normal(p)
    y = X @ w + 0.1 * rng.standard_normal(n)
    return X, y


# ----------------------------------------------------------------------------- references
def _ref_ls(X, y, l1=0.0, nonneg=False):
    if l1 == 0 and not nonneg:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    from sklearn.linear_model import Lasso

    m = Lasso(alpha=l1 / X.shape[0], fit_intercept=False, tol=1e-14, max_iter=200000, positive=nonneg)
    return m.fit(X, y).coef_


def _ref_smooth(fun, p, nonneg=False):
    r = minimize(fun, np.zeros(p), method="L-BFGS-B", jac=True, bounds=[(0, None)] * p if nonneg else None,
                 options=dict(gtol=1e-12, ftol=1e-15, maxiter=10000))
    return r.x


def _ref_prox_grad(fg, p, lam, iters=20000):
    # plain proximal gradient (ISTA) with backtracking, in NumPy: the L1 reference for softmax
    w, t = np.zeros(p), 1.0
    for _ in range(iters):
        f, g = fg(w)
        while True:
            z = w - t * g
            wn = np.sign(z) * np.maximum(np.abs(z) - t * lam, 0)
            d = wn - w
            if fg(wn)[0] <= f + g @ d + d @ d / (2 * t) + 1e-15:
                break
            t *= 0.5
        if np.abs(d).max() < 1e-14:
            break
        w, t = wn, t * 1.5
    return w


def _plus_linear(fg, lam):
    def f(w):
        v, g = fg(w)
        return v + lam * w.sum(), g + lam
    return f


def _logistic_fg(X, y, l2):
    def f(w):
        m = y * (X @ w)
        val = np.logaddexp(0, -m).sum() + 0.5 * l2 * w @ w
        g = X.T @ (-y / (1 + np.exp(m))) + l2 * w
        return val, g
    return f


def _softmax_fg(X, Y, l2):
    p, k = X.shape[1], Y.shape[1]

    def f(wf):
        W = wf.reshape(p, k)
        Z = X @ W
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        lse = np.log(np.exp(X @ W - (X @ W).max(1, keepdims=True)).sum(1)) + (X @ W).max(1)
        val = (lse - (Y * (X @ W)).sum(1)).sum() + 0.5 * l2 * wf @ wf
        g = (X.T @ (P - Y)).ravel() + l2 * wf
        return val, g
    return f


def _problems():
    X, y = _data()
    rng = np.random.default_rng(1)
    yb = np.where(X @ rng.standard_normal(8) + 0.5 * rng.standard_normal(25) > 0, 1.0, -1.0)
    labels = np.argmax(X[:, :3] + 0.5 * rng.standard_normal((25, 3)), axis=1)
    Y = np.eye(3)[labels]
    Xs = X[:, :4]
    Xsp = np.where(np.abs(X) > 0.6, X, 0.0)
    out = {
        "ls": (LeastSquares(X, y), _ref_ls(X, y)),
        "ls_l1": (LeastSquares(X, y, l1=2.0), _ref_ls(X, y, 2.0)),
        "ls_l1_nonneg": (LeastSquares(X, y, l1=2.0, nonneg=True), _ref_ls(X, y, 2.0, True)),
        "ls_sparse": (LeastSquares(sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0)), y),
                      _ref_ls(np.where(np.abs(X) > 0.8, X, 0), y)),
        "logistic_l2": (Logistic(X, yb, l2=1.0), _ref_smooth(_logistic_fg(X, yb, 1.0), 8)),
        "softmax_l2": (Softmax(Xs, labels, l2=1.0), _ref_smooth(_softmax_fg(Xs, Y, 1.0), 12)),
        "logistic_sparse_l2": (Logistic(sp.csr_matrix(Xsp), yb, l2=1.0), _ref_smooth(_logistic_fg(Xsp, yb, 1.0), 8)),
        "softmax_sparse_l2": (Softmax(sp.csr_matrix(Xsp[:, :4]), labels, l2=1.0),
                              _ref_smooth(_softmax_fg(Xsp[:, :4], Y, 1.0), 12)),
        "softmax_l1": (Softmax(Xs, labels, l1=2.0, l2=0.5), _ref_prox_grad(_softmax_fg(Xs, Y, 0.5), 12, 2.0)),
        # on x >= 0 the L1 term is linear, so L-BFGS-B with bounds is an independent reference
        "logistic_l1_nonneg": (Logistic(X, yb, l1=1.0, l2=0.1, nonneg=True),
                               _ref_smooth(_plus_linear(_logistic_fg(X, yb, 0.1), 1.0), 8, nonneg=True)),
    }
    return out


PROBLEMS = _problems()


@pytest.mark.parametrize("name", list(PROBLEMS))
@pytest.mark.parametrize("rule,blocks,update", list(itertools.product(RULES, FLAT_BLOCKS, UPDATES)))
def test_converges_to_reference(name, rule, blocks, update):
    prob, ref = PROBLEMS[name]
    res = bcd_minimize(prob, rule=rule, blocks=blocks, update=update, block_size=3, tol=1e-9,
                       maxiter=30000, seed=0)
    assert res.success, (res.message, res.optimality)
    np.testing.assert_allclose(res.x, ref, atol=2e-5, rtol=1e-5)
    h = res.history
    assert h["fun"].shape == h["optimality"].shape == (res.nit + 1,)
    assert h["optimality"][-1] <= 1e-9
    # the objective never increases (all updates are descent steps)
    assert np.all(np.diff(h["fun"]) <= 1e-9 * (1 + np.abs(h["fun"][:-1])))


def test_logistic_l1_matches_sklearn():
    from sklearn.linear_model import LogisticRegression

    X, _ = _data(40, 6, seed=3)
    rng = np.random.default_rng(3)
    yb = np.where(X @ rng.standard_normal(6) + rng.standard_normal(40) > 0, 1.0, -1.0)
    ref = LogisticRegression(l1_ratio=1.0, C=1 / 3.0, solver="liblinear", fit_intercept=False,
                             tol=1e-12, max_iter=100000).fit(X, yb).coef_.ravel()
    for update in UPDATES:
        for blocks in ("fixed", "variable"):
            res = bcd_minimize(Logistic(X, yb, l1=3.0), rule="gsq", blocks=blocks, update=update,
                               block_size=2, tol=1e-10, maxiter=50000)
            assert res.success
            np.testing.assert_allclose(res.x, ref, atol=1e-5)


# ----------------------------------------------------------------------------- non-negative L1
def _nnls_l1_ref(X, y, lam):
    # with X of full column rank, X'(Xw - y) + lam 1 = X'(Xw - y') for y' = y - X (X'X)^-1 lam 1,
    # so min 1/2||Xw - y||^2 + lam sum(w), w >= 0, is scipy's NNLS on (X, y')
    from scipy.optimize import nnls

    return nnls(X, y - X @ np.linalg.solve(X.T @ X, lam * np.ones(X.shape[1])), maxiter=10000)[0]


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("blocks", FLAT_BLOCKS)
def test_two_metric_projection_matches_nnls(rule, blocks):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 20)) + 0.5
    y = X @ rng.standard_normal(20) + rng.standard_normal(60)
    ref = _nnls_l1_ref(X, y, 5.0)
    assert 0 < (ref == 0).sum() < 20  # both bound and free coordinates at the optimum
    res = bcd_minimize(LeastSquares(X, y, l1=5.0, nonneg=True), rule=rule, blocks=blocks, update="newton",
                       block_size=5, tol=1e-10, maxiter=50000, seed=0)
    assert res.success
    assert (res.x >= 0).all()
    np.testing.assert_allclose(res.x, ref, atol=1e-9)
    assert np.all(np.diff(res.history["fun"]) <= 1e-9 * np.abs(res.history["fun"][:-1]))


def test_two_metric_projection_paper_problem_A():
    # the paper's non-negative L1 problem (dataset A, shrunk): TMP identifies the active set and
    # finishes in a few iterations with large blocks, projected gradient needs many more
    from adasolve.bcd import datasets

    prob = datasets.make_A_nonneg_l1(150, 60, l1=2000.0, seed=1)
    X = prob.X
    ref = _nnls_l1_ref(X, prob.y, 2000.0)
    its = {}
    for update in ("gradient", "newton"):
        res = bcd_minimize(prob, rule="gsl", blocks="variable", update=update, block_size=20, tol=1e-8,
                           maxiter=20000)
        assert res.success
        np.testing.assert_allclose(res.x, ref, atol=1e-7 * max(1.0, np.abs(ref).max()))
        its[update] = res.nit
    assert its["newton"] * 5 < its["gradient"], its


# ----------------------------------------------------------------------------- label propagation
def _lattice(m=6, n_lab=6, seed=0):
    rng = np.random.default_rng(seed)
    idx = np.arange(m * m).reshape(m, m)
    rows = np.r_[idx[:, :-1].ravel(), idx[:-1, :].ravel()]
    cols = np.r_[idx[:, 1:].ravel(), idx[1:, :].ravel()]
    w = rng.uniform(0.5, 2.0, rows.size)
    W = sp.coo_matrix((np.r_[w, w], (np.r_[rows, cols], np.r_[cols, rows])), shape=(m * m, m * m)).tocsr()
    lab = rng.choice(m * m, n_lab, replace=False)
    y = rng.standard_normal(m * m)
    return W, y, lab


def _lp_ref(prob):
    return np.linalg.solve(prob.A.toarray(), prob.b)


@pytest.mark.parametrize("rule,update", list(itertools.product(["gs", "gsl", "gsd", "random"],
                                                              UPDATES + ["message-passing"])))
def test_tree_blocks_label_propagation(rule, update):
    prob = LabelPropagation(*_lattice())
    res = bcd_minimize(prob, rule=rule, blocks="tree", update=update, block_size=prob.n_vars,
                       tol=1e-10, maxiter=100000, seed=1)
    assert res.success
    np.testing.assert_allclose(res.x, _lp_ref(prob), atol=1e-7)


@pytest.mark.parametrize("rule,blocks,update", list(itertools.product(RULES, FLAT_BLOCKS, UPDATES)))
def test_flat_blocks_label_propagation(rule, blocks, update):
    prob = LabelPropagation(*_lattice())
    res = bcd_minimize(prob, rule=rule, blocks=blocks, update=update, block_size=5, tol=1e-10,
                       maxiter=100000, seed=1)
    assert res.success
    np.testing.assert_allclose(res.x, _lp_ref(prob), atol=1e-7)


def _knn_graph(n=60, k=4, seed=0):
    rng = np.random.default_rng(seed)
    pts = rng.standard_normal((n, 2))
    d = ((pts[:, None] - pts[None]) ** 2).sum(-1)
    nbr = np.argsort(d, axis=1)[:, 1:k + 1]
    W = sp.coo_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), nbr.ravel())), shape=(n, n)).tocsr()
    W = ((W + W.T) > 0).astype(float)
    return W, rng.standard_normal(n), rng.choice(n, 6, replace=False)


def _partition(prob, tree):
    eng = _solver(prob, rule="cyclic", blocks="tree", update="message-passing", block_size=1, tol=0.0, seed=0,
                  tree=tree)
    return [np.asarray(b) for b in eng.partition]


@pytest.mark.parametrize("graph", ["lattice", "knn"])
@pytest.mark.parametrize("tree", ["red-black", "partition"])
def test_tree_partitions_are_forests_solved_exactly(graph, tree):
    from scipy.sparse.csgraph import connected_components

    prob = LabelPropagation(*(_lattice(9, 5, seed=3) if graph == "lattice" else _knn_graph()))
    A = prob.A
    parts = _partition(prob, tree)
    allv = np.sort(np.concatenate(parts))
    np.testing.assert_array_equal(allv, np.arange(prob.n_vars))  # a partition
    if tree == "red-black":
        # independent sets; the lattice (bipartite) gets exactly two colours
        for b in parts:
            sub = A[b][:, b].toarray()
            assert np.count_nonzero(sub - np.diag(np.diag(sub))) == 0
        if graph == "lattice":
            assert len(parts) == 2
        else:
            assert len(parts) > 2  # the kNN graph has triangles
    rng = np.random.default_rng(1)
    tup = (A.shape[0], A.shape[1], A.indptr, A.indices, A.data)
    for b in parts:
        sub = A[b][:, b]
        n_edges = (sub.nnz - b.size) // 2
        n_comp = connected_components(sub, directed=False)[0]
        assert n_edges == b.size - n_comp  # a forest
        r = rng.standard_normal(b.size)
        np.testing.assert_allclose(_core.bcd.tree_solve(tup, list(b), r), np.linalg.solve(sub.toarray(), r),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("tree", ["red-black", "partition"])
@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("update", UPDATES + ["message-passing"])
def test_tree_partitions_converge(tree, rule, update):
    prob = LabelPropagation(*_knn_graph(40, 3, seed=2))
    res = bcd_minimize(prob, rule=rule, blocks="tree", tree=tree, update=update, tol=1e-10, maxiter=200000,
                       seed=0)
    assert res.success
    np.testing.assert_allclose(res.x, _lp_ref(prob), atol=1e-7)


def test_tree_partition_ordering_on_lattice():
    # the paper's Figure (lattice D, shrunk): grown greedy trees < forest partition < red-black
    from adasolve.bcd import datasets

    prob = datasets.make_D(20, 16, seed=0)
    xs = _lp_ref(prob)
    fstar = 0.5 * xs @ (prob.A @ xs) - prob.b @ xs
    gap = {}
    for name, kw in {"grow": dict(rule="gsl", block_size=prob.n_vars), "partition": dict(rule="cyclic", tree="partition"),
                     "red-black": dict(rule="cyclic", tree="red-black")}.items():
        res = bcd_minimize(prob, blocks="tree", update="message-passing", maxiter=20, tol=0, **kw)
        gap[name] = res.fun - fstar
    assert gap["grow"] < gap["partition"] < gap["red-black"], gap


def test_message_passing_equals_dense_block_solve():
    prob = LabelPropagation(*_lattice(8, 5, seed=2))
    A = prob.A
    # a spanning-forest block: one lattice row plus vertical spokes is a tree; take a path
    rng = np.random.default_rng(0)
    n = A.shape[0]
    # grow a random forest in the graph of A
    parent = list(range(n))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    block, inb = [], np.zeros(n, bool)
    for v in rng.permutation(n):
        nb = [u for u in A[v].indices if u != v and inb[u]]
        roots = [find(u) for u in nb]
        if len(set(roots)) != len(roots):
            continue
        inb[v] = True
        for r in roots:
            parent[r] = v
        block.append(int(v))
    block = sorted(block)
    assert len(block) > n // 2
    r = rng.standard_normal(len(block))
    dense = np.linalg.solve(A.toarray()[np.ix_(block, block)], r)
    tup = (n, n, A.indptr, A.indices, A.data)
    np.testing.assert_allclose(_core.bcd.tree_solve(tup, block, r), dense, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_core.bcd.tree_solve(tup, block, r, gabp=True), dense, rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="cycle"):
        _core.bcd.tree_solve(tup, list(range(n)), np.ones(n))


# ----------------------------------------------------------------------------- priority structure
def _sparse_problems():
    rng = np.random.default_rng(7)
    X = sp.random(80, 120, density=0.03, random_state=7, format="csr")
    y = rng.standard_normal(80)
    return {
        "lp": LabelPropagation(*_lattice(12, 8, seed=5)),
        "ls_sparse": LeastSquares(X, y, l1=0.05),
        "logistic_sparse": Logistic(X, np.sign(y), l2=0.1),
        "softmax_sparse": Softmax(X, rng.integers(0, 3, 80), l2=0.1),
    }


SPARSE = _sparse_problems()


@pytest.mark.parametrize("name", list(SPARSE))
@pytest.mark.parametrize("rule,blocks", [(r, "variable") for r in ("gs", "gsl", "gsd")]
                         + [(r, "fixed") for r in ("gs", "gsl", "gsd", "gsq")])
def test_priority_trees_match_scan(name, rule, blocks):
    # tournament trees updated for the changed gradient entries pick exactly the blocks a full
    # scan picks (ties broken by the smaller index in both), so the iterates are identical
    prob = SPARSE[name]
    runs = {}
    for priority in (1, 0):
        eng = _solver(prob, rule=rule, blocks=blocks, update="lipschitz", block_size=3, tol=0.0, seed=0,
                      gram_limit=0, priority=priority)
        eng.run(150)
        assert eng.uses_priority == (priority == 1)
        runs[priority] = eng
    np.testing.assert_array_equal(runs[1].x, runs[0].x)
    np.testing.assert_array_equal(runs[1].hist_opt, runs[0].hist_opt)
    # the objective is tracked incrementally along the way; it agrees with a fresh evaluation
    np.testing.assert_allclose(runs[1].hist_fun, runs[0].hist_fun, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(runs[1].hist_fun[-1], runs[1].fun, rtol=1e-10, atol=1e-10)


def test_priority_auto_choice():
    lp = LabelPropagation(*_lattice(20, 8, seed=5))
    X, y = _data()

    def eng(prob, **kw):
        return _solver(prob, update="lipschitz", tol=0.0, seed=0, **kw)

    assert eng(lp, rule="gsl", blocks="variable", block_size=5).uses_priority  # few changes per update
    assert not eng(lp, rule="gsl", blocks="variable", block_size=100).uses_priority  # most change
    assert not eng(lp, rule="random", blocks="variable", block_size=5).uses_priority  # nothing to rank
    assert not eng(LeastSquares(X, y), rule="gsl", blocks="variable", block_size=5).uses_priority  # dense
    with pytest.raises(ValueError, match="priority=1 needs a sparse problem"):
        eng(LeastSquares(X, y), rule="gsl", blocks="variable", block_size=5, priority=1)


# ----------------------------------------------------------------------------- greedy vs random
def _paper_A_small(seed=0, n=100, p=300):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 1
    X *= 10 * rng.standard_normal(p)
    X *= rng.random((n, p)) < 10 * np.log(n) / n
    w = rng.standard_normal(p) * (rng.random(p) < 0.1)
    y = X @ w + rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("blocks", ["sorted", "variable"])
def test_greedy_beats_random_least_squares(blocks):
    X, y = _paper_A_small()
    prob = LeastSquares(X, y, l2=1e-3)
    fstar = bcd_minimize(prob, rule="gsq", blocks="variable", update="lipschitz", block_size=50,
                         tol=1e-10, maxiter=20000).fun
    gap = {}
    for rule in ("random", "gsl"):
        res = bcd_minimize(prob, rule=rule, blocks=blocks, update="gradient", block_size=5,
                           maxiter=300, tol=0, seed=0)
        gap[rule] = res.fun - fstar
    assert gap["gsl"] < 0.2 * gap["random"], gap


def test_greedy_tree_beats_random_tree():
    W, y, lab = _lattice(20, 10, seed=4)
    prob = LabelPropagation(W, y, lab)
    fstar = 0.5 * _lp_ref(prob) @ prob.A @ _lp_ref(prob) - prob.b @ _lp_ref(prob)
    gaps = {}
    for rule in ("gs", "random"):
        res = bcd_minimize(prob, rule=rule, blocks="tree", update="message-passing",
                           block_size=prob.n_vars, maxiter=30, tol=0, seed=0)
        gaps[rule] = res.fun - fstar
    assert gaps["gs"] < 0.65 * gaps["random"], gaps


def test_seed_reproducible():
    prob = PROBLEMS["ls"][0]
    a = bcd_minimize(prob, rule="random", maxiter=50, tol=0, seed=3)
    b = bcd_minimize(prob, rule="random", maxiter=50, tol=0, seed=3)
    np.testing.assert_array_equal(a.x, b.x)


def test_callback_and_maxiter():
    prob = PROBLEMS["ls"][0]
    seen = []
    res = bcd_minimize(prob, rule="random", maxiter=7, tol=0, seed=0, callback=lambda xk: seen.append(xk.copy()))
    assert res.nit == 7 and len(seen) == 7 and res.status == 1 and not res.success
    res = bcd_minimize(prob, rule="gs", tol=0, callback=lambda xk: True)
    assert res.nit == 1 and res.status == 2


# ----------------------------------------------------------------------------- bad input
def _invalid_pairs():
    X, y = _data()
    ls, lp = LeastSquares(X, y), LabelPropagation(*_lattice())
    lasso = LeastSquares(X, y, l1=1.0)
    return [
        (ls, dict(update="message-passing", blocks="tree"), "message-passing.*quadratic.*valid updates"),
        (lp, dict(update="message-passing", blocks="fixed"), "blocks='tree'.*valid updates"),
        (lp, dict(update="message-passing", blocks="variable"), "blocks='tree'.*valid updates"),
        (ls, dict(blocks="tree"), "tree.*quadratic.*valid blocks"),
        (lasso, dict(blocks="tree"), "valid blocks"),
        (lp, dict(blocks="tree", rule="cyclic"), "valid rules are 'gs', 'gsl', 'gsd', 'random'"),
        (lp, dict(blocks="tree", rule="lipschitz"), "valid rules"),
        (lp, dict(blocks="tree", rule="gsq"), "valid rules"),
        (lp, dict(blocks="fixed", tree="partition"), "needs blocks='tree'"),
    ]


@pytest.mark.parametrize("case", range(9))
def test_invalid_pairs_rejected(case):
    prob, kw, msg = _invalid_pairs()[case]
    with pytest.raises(ValueError, match=msg):
        bcd_minimize(prob, **kw)


def test_bad_inputs():
    X, y = _data()
    with pytest.raises(ValueError, match="rows"):
        LeastSquares(X, y[:-1])
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LeastSquares(Xn, y)
    yi = y.copy()
    yi[0] = np.inf
    with pytest.raises(ValueError, match="Inf"):
        Logistic(X, yi)
    prob = LeastSquares(X, y)
    with pytest.raises(ValueError, match="block_size"):
        bcd_minimize(prob, block_size=9)
    with pytest.raises(ValueError, match="block_size"):
        bcd_minimize(prob, block_size=0)
    with pytest.raises(ValueError, match="valid values are: 'cyclic'"):
        bcd_minimize(prob, rule="nope")
    with pytest.raises(ValueError, match="valid values are: 'gradient'"):
        bcd_minimize(prob, update="exact")
    with pytest.raises(ValueError, match="valid values are: 'fixed'"):
        bcd_minimize(prob, blocks="trees")
    with pytest.raises(ValueError, match="message-passing.*quadratic"):
        bcd_minimize(prob, update="message-passing", blocks="tree")
    with pytest.raises(ValueError, match="tree.*quadratic"):
        bcd_minimize(prob, blocks="tree")
    lp = LabelPropagation(*_lattice())
    with pytest.raises(ValueError, match="blocks='tree'"):
        bcd_minimize(lp, update="message-passing", blocks="fixed")
    with pytest.raises(ValueError, match="valid rules"):
        bcd_minimize(lp, blocks="tree", rule="gsq")
    with pytest.raises(ValueError, match="valid values are: 'grow'"):
        bcd_minimize(lp, blocks="tree", tree="greedy")
    with pytest.raises(ValueError, match="needs blocks='tree'"):
        bcd_minimize(lp, blocks="fixed", tree="red-black")
    with pytest.raises(ValueError, match="l1 must be"):
        LeastSquares(X, y, l1=-1.0)
    with pytest.raises(ValueError, match="two classes"):
        Logistic(X, np.arange(25.0))
    with pytest.raises(TypeError, match="problem"):
        bcd_minimize(X)
    W, yy, lab = _lattice()
    with pytest.raises(ValueError, match="symmetric"):
        LabelPropagation(sp.triu(W), yy, lab)


# ----------------------------------------------------------------------------- options, decided once
def test_options_parsed_once_case_insensitive():
    prob = PROBLEMS["ls"][0]
    a = bcd_minimize(prob, rule="gsl", blocks="variable", update="lipschitz", maxiter=40, tol=0)
    b = bcd_minimize(prob, rule="GSL", blocks="Variable", update="LIPSCHITZ", maxiter=40, tol=0)
    np.testing.assert_array_equal(a.x, b.x)
    eng = _solver(prob, rule="GsQ", blocks="FIXED", update="Newton")
    assert (eng.options.rule, eng.options.blocks, eng.options.update) == (
        _core.bcd.Rule.gsq, _core.bcd.Blocks.fixed, _core.bcd.Update.newton)
    lp = LabelPropagation(*_lattice())
    assert _solver(lp, rule="cyclic", blocks="TREE", tree="Red-Black",
                   update="Message-Passing").options.tree == _core.bcd.TreeKind.red_black
    with pytest.raises(TypeError, match="rule must be a string"):
        bcd_minimize(prob, rule=3)
    with pytest.raises(ValueError, match="unknown blocks 'varaible'; valid values are: 'fixed'"):
        bcd_minimize(prob, blocks="varaible")


def test_python_and_cpp_defaults_agree():
    import inspect

    from adasolve.bcd.engine import Blocks, Rule, Tree, Update, _option

    sig = inspect.signature(bcd_minimize).parameters
    cpp = _core.bcd.Options()
    assert _option(sig["rule"].default, "rule", Rule) == cpp.rule
    assert _option(sig["blocks"].default, "blocks", Blocks) == cpp.blocks
    assert _option(sig["update"].default, "update", Update) == cpp.update
    assert _option(sig["tree"].default, "tree", Tree) == cpp.tree
    assert sig["block_size"].default == cpp.block_size and sig["tol"].default == cpp.tol


@pytest.mark.parametrize("rule,resolved", [("gs", "variable"), ("gsl", "variable"), ("gsd", "variable"),
                                           ("gsq", "sorted"), ("cyclic", "sorted"), ("random", "sorted"),
                                           ("lipschitz", "sorted")])
def test_auto_blocks(rule, resolved):
    # blocks="auto" (the default) is exactly the block structure it resolves to
    prob = PROBLEMS["ls"][0]
    eng = _solver(prob, rule=rule)
    assert eng.options.blocks == getattr(_core.bcd.Blocks, resolved)
    assert _core.bcd.resolve_blocks(_core.bcd.Blocks.auto, getattr(_core.bcd.Rule, rule)) == eng.options.blocks
    a = bcd_minimize(prob, rule=rule, maxiter=30, tol=0, seed=1)
    b = bcd_minimize(prob, rule=rule, blocks=resolved, maxiter=30, tol=0, seed=1)
    np.testing.assert_array_equal(a.x, b.x)
    # blocks given explicitly are kept
    assert _solver(prob, rule=rule, blocks="fixed").options.blocks == _core.bcd.Blocks.fixed
