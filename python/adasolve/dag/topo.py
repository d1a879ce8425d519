"""Learning DAGs: NOTEARS objectives optimized by topological swaps.

:func:`topo_swap` implements the bi-level search of Deng, Bello, Aragam and Ravikumar,
"Optimizing NOTEARS Objectives via Topological Swaps" (ICML 2023): an outer search over
topological orders by swaps of node pairs, and an inner problem that, given an order, fits
every node on its predecessors. The numerics live in C++ (``adasolve._core.dag``):
for the least-squares score the inner problem is solved from the Gram matrix with Givens
updates of a Cholesky factor, and candidate swaps are scored in parallel (OpenMP).

The simulators live in :mod:`adasolve.dag.simulate`, the metrics in
:mod:`adasolve.dag.metrics`.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
from scipy.optimize import OptimizeResult

from .. import _core
from .._validation import (
    as_float_array,
    check_choice,
    check_matrix,
    check_random_state,
    check_scalar,
)

from .metrics import _topological_order, is_dag  # noqa: F401  (is_dag: doctests)

__all__ = ["topo_swap"]

_ns = _core.dag


# ----------------------------------------------------------------------------------------
# validation


def _check_data(X: Any, loss: str) -> np.ndarray:
    X = check_matrix(X, "X", dtype=np.float64, accept_sparse=False, order="C")
    n, d = X.shape
    if n < 2:
        raise ValueError(f"X must have at least 2 samples (rows), got shape {X.shape}")
    if d < 2:
        raise ValueError(f"X must have at least 2 variables (columns), got shape {X.shape}")
    if loss == "logistic" and not np.all((X == 0) | (X == 1)):
        raise ValueError("X must be binary (0/1) for loss='logistic'")
    return X


def _check_init(init: Any, d: int, rng: np.random.Generator, X: Optional[np.ndarray] = None) -> np.ndarray:
    if init is None:
        if X is None:
            return np.arange(d, dtype=np.int64)
        return np.asarray(_ns.greedy_order(X), dtype=np.int64)
    if isinstance(init, str):
        if init.lower() == "random":
            return rng.permutation(d).astype(np.int64)
        raise ValueError(f"init must be None, 'random', an order or a weighted adjacency; got {init!r}")
    arr = np.asarray(init)
    if arr.ndim == 1:
        if arr.shape[0] != d:
            raise ValueError(f"init as an order must have d = {d} entries, got shape {arr.shape}")
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iu" or not np.array_equal(np.sort(arr), np.arange(d)):
            raise ValueError(f"init must be a permutation of 0..{d - 1}")
        return arr.astype(np.int64)
    if arr.ndim == 2:
        if arr.shape != (d, d):
            raise ValueError(f"init as a weighted adjacency must have shape ({d}, {d}), got {arr.shape}")
        arr = as_float_array(arr, "init", dtype=np.float64)
        order = _topological_order(arr)
        if order is None:
            raise ValueError("init must be a DAG (its nonzero pattern has a cycle)")
        return order
    raise ValueError(f"init must be None, an order (d,) or a weighted adjacency (d, d); got shape {arr.shape}")


def _check_size(v: Any, name: str) -> int:
    if v is None:
        return -1
    # the C++ core counts in int64: a larger value would be a pybind11 conversion error
    return check_scalar(v, name, kind=int, low=1 if name != "n_large_search" else 0, high=2**62)


def _check_edges(edges: Any, name: str, d: int) -> List[Tuple[int, int]]:
    """A list of (parent, child) pairs of node indices, without duplicates or self loops."""
    if edges is None:
        return []
    arr = np.asarray(edges if not isinstance(edges, np.ndarray) else edges)
    if arr.size == 0:
        return []
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must be a sequence of (parent, child) pairs, got shape {arr.shape}")
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer node indices")
    out = []
    for u, v in arr.tolist():
        if not (0 <= u < d and 0 <= v < d):
            raise ValueError(f"{name} has the edge ({u}, {v}) with a node outside 0..{d - 1}")
        if u == v:
            raise ValueError(f"{name} has the self loop ({u}, {v})")
        if (u, v) not in out:
            out.append((u, v))
    return out


def _check_tiers(tiers: Any, d: int) -> List[Tuple[int, int]]:
    """Precedence pairs (u, v), u before v, from an ordered sequence of tiers (node groups)."""
    if tiers is None:
        return []
    if isinstance(tiers, (str, bytes)) or not hasattr(tiers, "__iter__"):
        raise ValueError("tiers must be a sequence of sequences of node indices")
    groups, seen = [], set()
    for g in tiers:
        arr = np.atleast_1d(np.asarray(g))
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ValueError("tiers must be a sequence of sequences of integer node indices")
        nodes = [int(v) for v in arr.tolist()]
        for v in nodes:
            if not 0 <= v < d:
                raise ValueError(f"tiers has the node {v} outside 0..{d - 1}")
            if v in seen:
                raise ValueError(f"tiers has the node {v} in more than one tier")
            seen.add(v)
        groups.append(nodes)
    return [(u, v) for a in range(len(groups)) for b in range(a + 1, len(groups))
            for u in groups[a] for v in groups[b]]


def _check_knowledge(required: Any, forbidden: Any, tiers: Any, d: int):
    req = _check_edges(required, "required", d)
    forb = _check_edges(forbidden, "forbidden", d)
    prec = _check_tiers(tiers, d)
    both = sorted(set(req) & set(forb))
    if both:
        raise ValueError(f"required and forbidden contradict each other: both hold the edge {both[0]}")
    tier_pairs = set(prec)
    for u, v in req:
        if (v, u) in tier_pairs:
            raise ValueError(f"required has the edge ({u}, {v}) against tiers (node {v} is in an earlier tier)")
    # the required edges with the tiers must admit an order: Kahn's algorithm on their union
    A = np.zeros((d, d))
    for u, v in req + prec:
        A[u, v] = 1.0
    if req and _topological_order(A) is None:
        raise ValueError("required edges form a cycle (with the tiers, if given): no DAG contains them")
    return req, forb, prec


def _feasible_order(order0: np.ndarray, prec: List[Tuple[int, int]], d: int) -> np.ndarray:
    """The order closest to ``order0`` that respects the precedences (stable Kahn)."""
    if not prec:
        return order0
    import heapq

    rank = np.empty(d, dtype=np.int64)
    rank[order0] = np.arange(d)
    indeg = np.zeros(d, dtype=np.int64)
    after: List[List[int]] = [[] for _ in range(d)]
    for u, v in set(prec):
        indeg[v] += 1
        after[u].append(v)
    ready = [(int(rank[v]), v) for v in range(d) if indeg[v] == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        _, v = heapq.heappop(ready)
        out.append(v)
        for c in after[v]:
            indeg[c] -= 1
            if indeg[c] == 0:
                heapq.heappush(ready, (int(rank[c]), c))
    return np.asarray(out, dtype=np.int64)


def _check_gram(gram: Any, n_samples: Any) -> Tuple[np.ndarray, int]:
    G = check_matrix(gram, "gram", dtype=np.float64, accept_sparse=False, order="C")
    if G.shape[0] != G.shape[1]:
        raise ValueError(f"gram must be square (d, d), got shape {G.shape}")
    d = G.shape[0]
    if d < 2:
        raise ValueError(f"gram must describe at least 2 variables, got shape {G.shape}")
    if n_samples is None:
        raise ValueError("n_samples is required with gram (the number of rows behind it)")
    n = check_scalar(n_samples, "n_samples", kind=int, low=2, high=2**62)
    scale = float(np.abs(G).max())
    if not np.allclose(G, G.T, rtol=1e-10, atol=1e-12 * scale):
        raise ValueError("gram must be symmetric")
    G = 0.5 * (G + G.T)
    eig = np.linalg.eigvalsh(G)
    tol = 1e-9 * max(float(eig[-1]), np.finfo(float).tiny)
    if eig[0] < -tol:
        raise ValueError(f"gram must be positive semidefinite (smallest eigenvalue {eig[0]:.3g})")
    rank = int((eig > tol).sum())
    if rank > n - 1:
        raise ValueError(f"n_samples = {n} does not match gram: a centred Gram matrix of n rows has "
                         f"rank at most n - 1, this one has rank {rank}")
    return G, n


def _standardize_scale(var: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.maximum(var, 0.0))
    return np.where(sd > 0, sd, 1.0)


# ----------------------------------------------------------------------------------------
# solver


def topo_swap(
    X: Any = None,
    *,
    loss: str = "l2",
    model: str = "linear",
    l1: float = 0.0,
    l2: float = 0.0,
    init: Any = None,
    threshold: float = 0.3,
    required: Any = None,
    forbidden: Any = None,
    tiers: Any = None,
    gram: Any = None,
    n_samples: Optional[int] = None,
    standardize: bool = False,
    n_knots: int = 5,
    max_iter: Optional[int] = None,
    size_small: Optional[int] = None,
    size_large: Optional[int] = None,
    n_large_search: Optional[int] = None,
    seed: Any = None,
    callback: Optional[Callable[[OptimizeResult], Optional[bool]]] = None,
    verbose: bool = False,
    _check: bool = False,
) -> OptimizeResult:
    """Learn a DAG by minimizing a NOTEARS score over topological orders with swaps.

    Parameters
    ----------
    X : array_like, shape (n, d), optional
        Data, one sample per row. Not modified. For ``loss="l2"`` it is centred (a C++ copy;
        the Gram matrix is formed once and ``X`` is not used again). Give either ``X`` or
        ``gram``.
    loss : {"l2", "logistic"}
        ``"l2"``: ``0.5/n ||X - X W||_F^2``; ``"logistic"`` (binary 0/1 data):
        ``1/n sum(log(1 + exp(X W)) - X * (X W))``.
    model : {"linear", "additive"}
        ``"linear"``: ``X W``. ``"additive"`` (loss ``"l2"``, ``l1 = 0``): each node is a sum of
        one function per parent, each a linear term plus ``n_knots`` hinge functions
        ``max(0, x - t)`` with knots ``t`` at quantiles of the parent, fitted by least squares
        (ridge ``l2``). ``W[i, j]`` is then the standard deviation of the fitted function of
        parent ``i`` in node ``j`` (non-negative, in the units of ``x_j``).
    l1, l2 : float
        Penalties ``l1 * ||W||_1 + 0.5 * l2 * ||W||_F^2`` added to the score (for the
        additive model ``l2`` is a ridge on the basis coefficients). Required edges carry no
        L1 penalty.
    init : None, "random", array_like (d,) or (d, d)
        Initial order. None: the greedy order that places, one at a time, the node with the
        smallest residual variance given the nodes already placed (a pivoted Cholesky of the
        centred Gram matrix; deterministic, O(n d^2 + d^3)). ``"random"``: a random
        permutation drawn from ``seed`` (the paper's and the reference code's start). A
        permutation of ``0..d-1`` (first = root). Or a weighted adjacency from another
        method (rows are parents, nonzero = edge, must be a DAG), whose topological order is
        used -- the post-processing mode of the paper. With ``required`` or ``tiers`` the
        start is moved to the nearest order that respects them.
    threshold : float
        Entries of ``|W|`` below it are zeroed in the returned ``W`` (required edges are kept).
    required, forbidden : sequence of (parent, child) pairs, optional
        Prior knowledge, enforced exactly: a required edge is in every order's support (the
        parent precedes the child, its weight is unpenalized and never thresholded); a
        forbidden edge never is (its weight is fixed at zero).
    tiers : sequence of sequences of node indices, optional
        A partial order of node groups: no node of a later tier is a parent of a node of an
        earlier tier (edges within a tier and from earlier to later tiers are allowed). Nodes
        in no tier are unconstrained.
    gram : array_like, shape (d, d), optional
        Sufficient statistics instead of ``X`` (linear model, loss ``"l2"``): the centred Gram
        (scatter) matrix ``Xc^T Xc``, ``Xc = X - X.mean(0)``, i.e.
        ``n * np.cov(X, rowvar=False, bias=True)``. The search never sees the rows, so its cost
        does not depend on ``n``; ``gram`` may be summed over chunks of rows.
    n_samples : int
        Number of rows behind ``gram`` (required with it).
    standardize : bool
        Scale every variable to unit variance before the search. The NOTEARS scores are not
        scale invariant: on data whose noise variances are comparable, the scale carries
        information about the order that standardizing removes, and a change of units changes
        the unstandardized result. ``W`` is then in standardized units.
    n_knots : int
        Knots per variable of the additive model.
    max_iter : int, optional
        Maximum number of outer iterations (default: no limit; the search always terminates).
    size_small, size_large, n_large_search : int, optional
        Candidate-set sizes and the number of times the large set may be searched. Defaults
        (the authors' ``dagrad`` package): ``min(1.5 d, sqrt(d)(d-1)log10 d, d(d-1)/2)``,
        ``max(1.5 d, min(sqrt(d)(d-1)log10 d, d(d-1)/2))`` and 1 when ``d >= 10`` else 0.
    seed : None, int or numpy.random.Generator
        Randomness of ``init="random"``.
    callback : callable, optional
        ``callback(intermediate_result)`` after every outer iteration, with an
        :class:`~scipy.optimize.OptimizeResult` like the final one; returning True stops the
        search. On Ctrl-C (KeyboardInterrupt) the callback is called once more with
        ``interrupted=True``; if it returns True the best result so far is returned
        (``status=2``), otherwise the KeyboardInterrupt propagates.
    verbose : bool
        Print one line per outer iteration.

    Returns
    -------
    OptimizeResult
        ``W`` (thresholded weighted adjacency, rows are parents), ``W_raw`` (before
        thresholding), ``order`` (topological order, roots first), ``score`` (the objective at
        ``W_raw``; also ``fun``), ``n_swaps``, ``history`` (score at the start and after each
        outer iteration), ``elapsed`` (seconds), ``nit``, ``n_evaluated`` (candidate swaps
        scored), ``success``, ``status`` (0 converged, 1 ``max_iter`` reached, 2 stopped by the
        callback or interrupted, 3 the score overflowed: X too large for float64), ``message``.

    Raises
    ------
    ValueError
        ``X`` with NaN/Inf, fewer than 2 rows or columns, non-binary ``X`` for the logistic
        loss, an ``init`` that is not a permutation, not a DAG, or of the wrong shape;
        ``required``/``forbidden``/``tiers`` that contradict each other or form a cycle; a
        ``gram`` that is not symmetric positive semidefinite or has a rank above
        ``n_samples - 1``.

    Notes
    -----
    Constant columns raise a warning; they cannot be explained by, nor explain, any other
    variable, so they are set aside as isolated roots (zero rows and columns of `W`).
    The logistic loss cannot be evaluated from ``X^T X``, so that path keeps ``X`` and refits
    the nodes between swapped positions by proximal Newton with coordinate descent.

    References
    ----------
    C. Deng, K. Bello, B. Aragam, P. Ravikumar, "Optimizing NOTEARS Objectives via
    Topological Swaps", ICML 2023.

    Examples
    --------
    >>> from adasolve.dag import simulate_dag, simulate_parameters, simulate_linear_sem
    >>> B = simulate_dag(10, 20, "ER", seed=0)
    >>> X = simulate_linear_sem(simulate_parameters(B, seed=1), 1000, "gauss", seed=2)
    >>> res = topo_swap(X, seed=0)
    >>> is_dag(res.W)
    True

    The same search from sufficient statistics, with one edge forbidden:

    >>> Xc = X - X.mean(axis=0)
    >>> res2 = topo_swap(gram=Xc.T @ Xc, n_samples=1000, forbidden=[(0, 1)])
    >>> bool(res2.W[0, 1] == 0)
    True
    """
    loss = check_choice(loss, "loss", ["l2", "logistic"])
    model = check_choice(model, "model", ["linear", "additive"])
    if model == "additive":
        if loss != "l2":
            raise ValueError("model='additive' needs loss='l2'")
    l1 = check_scalar(l1, "l1", low=0.0)
    l2 = check_scalar(l2, "l2", low=0.0)
    if model == "additive" and l1 != 0.0:
        raise ValueError("l1 must be 0 with model='additive' (use threshold to prune, l2 to regularize)")
    n_knots = check_scalar(n_knots, "n_knots", kind=int, low=0, high=1000)
    if not isinstance(standardize, (bool, np.bool_)):
        raise TypeError("standardize must be True or False")
    if gram is not None:
        if X is not None:
            raise ValueError("give X or gram, not both")
        if loss != "l2" or model != "linear":
            raise ValueError("gram serves loss='l2' with model='linear' only")
        G, n = _check_gram(gram, n_samples)
        cov = G / n
        d = cov.shape[0]
        var = np.diag(cov).copy()
        if standardize:
            sc = _standardize_scale(var)
            cov = cov / np.outer(sc, sc)
            var = np.diag(cov).copy()
    else:
        if X is None:
            raise ValueError("X is required (or gram with n_samples)")
        if n_samples is not None:
            raise ValueError("n_samples goes with gram only")
        X = _check_data(X, loss)
        n, d = X.shape
        if standardize:
            if loss == "logistic":
                raise ValueError("standardize=True does not apply to the binary data of loss='logistic'")
            X = (X - X.mean(axis=0)) / _standardize_scale(X.var(axis=0))
        var = np.ptp(X, axis=0)
        if model == "additive" and (n_knots + 1) * (d - 1) >= n:
            warnings.warn(
                f"model='additive' with n_knots={n_knots} gives the last node "
                f"{(n_knots + 1) * (d - 1)} basis functions for n = {n} samples: its fit "
                "interpolates the data; lower n_knots or raise l2",
                RuntimeWarning,
                stacklevel=2,
            )
    threshold = check_scalar(threshold, "threshold", low=0.0)
    max_iter = None if max_iter is None else check_scalar(max_iter, "max_iter", kind=int, low=1)
    ss = _check_size(size_small, "size_small")
    sl = _check_size(size_large, "size_large")
    nl = _check_size(n_large_search, "n_large_search")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    req, forb, prec = _check_knowledge(required, forbidden, tiers, d)
    rng = check_random_state(seed)
    if init is None:
        order0 = None  # greedy, computed below on the non-constant columns
    else:
        order0 = _check_init(init, d, rng)

    const = var == 0
    if const.any():
        cols = np.flatnonzero(const)
        bad = [e for e in req if const[e[0]] or const[e[1]]]
        if bad:
            raise ValueError(f"required has the edge {bad[0]} on a constant variable, which can have no edge")
        warnings.warn(
            f"{'gram' if gram is not None else 'X'} has constant columns "
            f"{cols[:10].tolist()}{' ...' if cols.size > 10 else ''}; "
            "they are kept as isolated nodes (no edges)",
            RuntimeWarning,
            stacklevel=2,
        )
    keep = np.flatnonzero(~const)
    # Constant nodes go first (isolated roots); the others keep their relative initial order.
    sub_index = -np.ones(d, dtype=np.int64)
    sub_index[keep] = np.arange(keep.size)

    def sub_edges(edges):
        return [(int(sub_index[u]), int(sub_index[v])) for u, v in edges if not const[u] and not const[v]]

    s_req, s_forb, s_prec = sub_edges(req), sub_edges(forb), sub_edges(prec)
    s_all_prec = s_prec + [e for e in s_req if e not in s_prec]

    t0 = time.perf_counter()
    solver = None
    sub_order: List[int] = []
    if keep.size >= 2:
        if gram is not None:
            cs = np.ascontiguousarray(cov[np.ix_(keep, keep)])
            if order0 is None:
                sub_order = list(_ns.greedy_order_cov(cs, s_all_prec))
        else:
            Xs = X if keep.size == d else np.ascontiguousarray(X[:, keep])
            if order0 is None:
                sub_order = list(_ns.greedy_order(Xs, s_all_prec))
        if order0 is not None:
            sub_order = [int(sub_index[v]) for v in order0 if not const[v]]
        sub_order = _feasible_order(np.asarray(sub_order, dtype=np.int64), s_all_prec, keep.size).tolist()
        kw = dict(required=s_req, forbidden=s_forb, precede=s_prec)
        if gram is not None:
            solver = _ns.Solver.from_gram(cs, n, sub_order, l1, l2, ss, sl, nl, bool(_check), **kw)
        else:
            solver = _ns.Solver(Xs, sub_order, loss, l1, l2, ss, sl, nl, bool(_check),
                                model, n_knots, **kw)
    elif order0 is not None:
        sub_order = [int(sub_index[v]) for v in order0 if not const[v]]
    else:
        sub_order = list(range(keep.size))

    if gram is not None:
        const_score = float(0.5 * var[const].sum())
    else:
        const_score = _constant_score(X, np.flatnonzero(const), loss)
    req_mask = np.zeros((d, d), dtype=bool)
    for u, v in req:
        req_mask[u, v] = True

    def build(status: int, message: str, interrupted: bool = False, final: bool = False) -> OptimizeResult:
        W_raw = np.zeros((d, d))
        if solver is not None:
            W_raw[np.ix_(keep, keep)] = solver.W
            sub = np.asarray(solver.order, dtype=np.int64)
            score = float(solver.exact_score() if final else solver.score) + const_score
            history = np.asarray(solver.history) + const_score
            nit, n_swaps, n_eval = int(solver.n_iter), int(solver.n_swaps), int(solver.n_evaluated)
        else:
            sub = np.asarray(sub_order, dtype=np.int64)
            if gram is not None:
                score = const_score + float(0.5 * var[keep].sum())
            else:
                score = const_score + _constant_score(X, keep, loss)
            history = np.array([score])
            nit = n_swaps = n_eval = 0
        order = np.concatenate([np.flatnonzero(const), keep[sub]]).astype(np.int64)
        W = np.where((np.abs(W_raw) >= threshold) | req_mask, W_raw, 0.0)
        res = OptimizeResult(
            W=W, W_raw=W_raw, order=order, score=score, fun=score, n_swaps=n_swaps,
            history=history, elapsed=time.perf_counter() - t0, nit=nit, n_evaluated=n_eval,
            success=status == 0, status=status, message=message, interrupted=interrupted,
            model=model,
        )
        if _check and solver is not None:
            res["check_max_diff"] = float(solver.check_max_diff)
        return res

    if solver is None:
        return build(0, "fewer than 2 non-constant columns: nothing to learn", final=True)

    overflow = (3, "the score is not finite (inf/NaN): X is too large for float64 here (its "
                   "Gram matrix or the fitted weights overflow); rescale X")
    if not math.isfinite(solver.score):
        return build(*overflow)
    status, message = 1, "maximum number of outer iterations reached"
    try:
        while max_iter is None or solver.n_iter < max_iter:
            converged = solver.step()  # one outer iteration in C++, GIL released
            if not math.isfinite(solver.score):
                status, message = overflow
                break
            if verbose:
                print(f"topo_swap: iter {solver.n_iter:4d}  score {solver.score:.10g}  "
                      f"swaps {solver.n_swaps}  evaluated {solver.n_evaluated}")
            if converged:
                status, message = 0, "no candidate swap improves the score"
                break
            if callback is not None and callback(build(2, "running")):
                status, message = 2, "stopped by the callback"
                break
    except KeyboardInterrupt:
        if callback is None or not callback(build(2, "interrupted", interrupted=True)):
            raise
        return build(2, "interrupted (KeyboardInterrupt); best result so far", interrupted=True, final=True)
    res = build(status, message, final=True)
    if res.status != 3 and not (math.isfinite(res.score) and np.isfinite(res.W_raw).all()):
        res = build(*overflow)  # never a "success" with a non-finite score or weights
    return res


def _constant_score(X: np.ndarray, cols: np.ndarray, loss: str) -> float:
    """Score contribution of nodes without parents (constant or sole columns)."""
    if cols.size == 0:
        return 0.0
    if loss == "l2":
        return float(0.5 * X[:, cols].var(axis=0).sum())
    return float(cols.size * np.log(2.0))


class TopoSwap:
    """Estimator interface to :func:`topo_swap`.

    Parameters are those of :func:`topo_swap`. After ``fit(X)`` (or
    ``fit(gram=G, n_samples=n)``): ``adjacency_`` (the thresholded weighted adjacency, rows are
    parents), ``order_``, ``score_``, ``n_iter_``, ``n_features_in_`` and ``result_`` (the full
    result).

    Examples
    --------
    >>> from adasolve.dag import simulate_dag, simulate_parameters, simulate_linear_sem
    >>> B = simulate_dag(8, 10, seed=0)
    >>> X = simulate_linear_sem(simulate_parameters(B, seed=1), 500, seed=2)
    >>> est = TopoSwap(seed=0).fit(X)
    >>> est.adjacency_.shape
    (8, 8)
    """

    _params = ("loss", "model", "l1", "l2", "init", "threshold", "required", "forbidden", "tiers",
               "standardize", "n_knots", "max_iter", "size_small", "size_large", "n_large_search",
               "seed", "callback", "verbose")

    def __init__(self, *, loss: str = "l2", model: str = "linear", l1: float = 0.0, l2: float = 0.0,
                 init: Any = None, threshold: float = 0.3, required: Any = None,
                 forbidden: Any = None, tiers: Any = None, standardize: bool = False,
                 n_knots: int = 5, max_iter: Optional[int] = None,
                 size_small: Optional[int] = None, size_large: Optional[int] = None,
                 n_large_search: Optional[int] = None, seed: Any = None,
                 callback: Optional[Callable] = None, verbose: bool = False) -> None:
        self.loss = loss
        self.model = model
        self.l1 = l1
        self.l2 = l2
        self.init = init
        self.threshold = threshold
        self.required = required
        self.forbidden = forbidden
        self.tiers = tiers
        self.standardize = standardize
        self.n_knots = n_knots
        self.max_iter = max_iter
        self.size_small = size_small
        self.size_large = size_large
        self.n_large_search = n_large_search
        self.seed = seed
        self.callback = callback
        self.verbose = verbose

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        return {k: getattr(self, k) for k in self._params}

    def set_params(self, **params: Any) -> "TopoSwap":
        for k, v in params.items():
            if k not in self._params:
                raise ValueError(f"invalid parameter {k!r} for TopoSwap")
            setattr(self, k, v)
        return self

    def fit(self, X: Any = None, y: Any = None, *, gram: Any = None,
            n_samples: Optional[int] = None) -> "TopoSwap":
        """Fit on data ``X`` (n, d), or on a centred Gram matrix ``gram`` with ``n_samples``."""
        res = topo_swap(X, gram=gram, n_samples=n_samples, **self.get_params())
        self.result_ = res
        self.adjacency_ = res.W
        self.order_ = res.order
        self.score_ = res.score
        self.n_iter_ = res.nit
        self.n_features_in_ = res.W.shape[0]
        return self


def _fit_order(X: Any, order: Any, *, loss: str = "l2", l1: float = 0.0, l2: float = 0.0) -> Tuple[np.ndarray, float]:
    """Inner solver alone: fit each node on its predecessors in ``order`` (test hook)."""
    loss = check_choice(loss, "loss", ["l2", "logistic"])
    X = _check_data(X, loss)
    order = _check_init(order, X.shape[1], np.random.default_rng(0))
    s = _ns.Solver(X, order.tolist(), loss, float(l1), float(l2), -1, -1, -1, False)
    return np.asarray(s.W), float(s.score)
