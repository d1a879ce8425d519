"""Learning DAGs: NOTEARS objectives optimized by topological swaps.

:func:`topo_swap` implements the bi-level search of Deng, Bello, Aragam and Ravikumar,
"Optimizing NOTEARS Objectives via Topological Swaps" (ICML 2023): an outer search over
topological orders by swaps of node pairs, and an inner problem that, given an order, fits
every node on its predecessors. The numerics live in C++ (``adasolve._core.dag``):
for the least-squares score the inner problem is solved from the Gram matrix with Givens
updates of a Cholesky factor, and candidate swaps are scored in parallel (OpenMP).

The helpers :func:`simulate_dag`, :func:`simulate_parameters`, :func:`simulate_linear_sem`,
:func:`count_accuracy` and :func:`is_dag` follow the conventions of the NOTEARS family
(``notears/utils.py``) without the igraph dependency.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

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

__all__ = ["topo_swap"]

_ns = _core.dag


# ----------------------------------------------------------------------------------------
# graph helpers


def _topological_order(B: np.ndarray) -> Optional[np.ndarray]:
    """Kahn's algorithm on the nonzero pattern of ``B`` (rows are parents); None if cyclic.

    Ties are broken by the smallest node index, so the order is deterministic.
    """
    A = B != 0
    d = A.shape[0]
    indeg = A.sum(axis=0).astype(np.int64)
    order = []
    ready = sorted(np.flatnonzero(indeg == 0).tolist())
    import heapq

    heapq.heapify(ready)
    while ready:
        v = heapq.heappop(ready)
        order.append(v)
        for c in np.flatnonzero(A[v]):
            indeg[c] -= 1
            if indeg[c] == 0:
                heapq.heappush(ready, int(c))
    if len(order) != d:
        return None
    return np.asarray(order, dtype=np.int64)


def is_dag(W: Any) -> bool:
    """True when the directed graph with adjacency ``W`` (nonzero = edge) has no cycle.

    Examples
    --------
    >>> is_dag(np.array([[0, 1], [0, 0]]))
    True
    >>> is_dag(np.array([[0, 1], [1, 0]]))
    False
    """
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {W.shape}")
    return _topological_order(W) is not None


def simulate_dag(d: int, edges: int, graph_type: str = "ER", seed: Any = None) -> np.ndarray:
    """Random DAG with about ``edges`` edges, as a binary ``(d, d)`` adjacency (rows are parents).

    ``"ER"``: Erdos-Renyi with exactly ``edges`` edges placed uniformly among the
    ``d (d - 1) / 2`` node pairs, oriented along a random order. ``"SF"``: scale-free
    (Barabasi-Albert): node ``v`` attaches ``round(edges / d)`` edges to earlier nodes chosen
    with probability proportional to in-degree + 1, as igraph's ``Barabasi(directed=True)``
    does in the NOTEARS code. The nodes are then randomly permuted.

    Examples
    --------
    >>> B = simulate_dag(10, 20, "ER", seed=0)
    >>> int(B.sum()), is_dag(B)
    (20, True)
    """
    d = check_scalar(d, "d", kind=int, low=1)
    edges = check_scalar(edges, "edges", kind=int, low=0)
    graph_type = check_choice(graph_type, "graph_type", ["er", "sf"])
    rng = check_random_state(seed)
    B = np.zeros((d, d))
    if graph_type == "er":
        npairs = d * (d - 1) // 2
        if edges > npairs:
            raise ValueError(f"edges must be at most d (d - 1) / 2 = {npairs} for an ER DAG, got {edges}")
        lo, hi = np.tril_indices(d, k=-1)
        pick = rng.choice(npairs, size=edges, replace=False)
        B[lo[pick], hi[pick]] = 1.0  # edge from the later to the earlier index: acyclic
    else:
        m = int(round(edges / d))
        indeg = np.zeros(d)
        for v in range(1, d):
            k = min(m, v)
            if k == 0:
                continue
            p = indeg[:v] + 1.0
            targets = rng.choice(v, size=k, replace=False, p=p / p.sum())
            B[v, targets] = 1.0
            indeg[targets] += 1.0
    perm = rng.permutation(d)
    return B[np.ix_(perm, perm)]


def simulate_parameters(
    B: Any,
    w_ranges: Sequence[Tuple[float, float]] = ((-2.0, -0.5), (0.5, 2.0)),
    seed: Any = None,
) -> np.ndarray:
    """Edge weights for the DAG ``B``: each drawn uniformly from one of ``w_ranges`` chosen at random.

    Examples
    --------
    >>> W = simulate_parameters(simulate_dag(5, 4, seed=0), seed=0)
    >>> bool(np.all((W == 0) | (np.abs(W) >= 0.5)))
    True
    """
    B = as_float_array(B, "B", ndim=2)
    if B.shape[0] != B.shape[1]:
        raise ValueError(f"B must be square, got shape {B.shape}")
    rng = check_random_state(seed)
    W = np.zeros(B.shape)
    S = rng.integers(len(w_ranges), size=B.shape)
    for i, (low, high) in enumerate(w_ranges):
        U = rng.uniform(low=low, high=high, size=B.shape)
        W += (B != 0) * (S == i) * U
    return W


def simulate_linear_sem(
    W: Any,
    n: int,
    noise: str = "gauss",
    seed: Any = None,
    *,
    noise_scale: Union[None, float, Sequence[float]] = None,
) -> np.ndarray:
    """Samples ``X`` (n, d) of the linear SEM ``X = X W + Z``.

    ``noise`` is ``"gauss"``, ``"exp"`` or ``"gumbel"`` (additive noise of scale
    ``noise_scale``, default 1 for every node: the equal-variance setting), or
    ``"logistic"``: binary outcomes ``x_j ~ Bernoulli(sigmoid(X w_j))``.

    Examples
    --------
    >>> W = simulate_parameters(simulate_dag(5, 4, seed=0), seed=1)
    >>> simulate_linear_sem(W, 100, "gauss", seed=2).shape
    (100, 5)
    """
    W = as_float_array(W, "W", ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square, got shape {W.shape}")
    n = check_scalar(n, "n", kind=int, low=1)
    noise = check_choice(noise, "noise", ["gauss", "exp", "gumbel", "logistic"])
    rng = check_random_state(seed)
    d = W.shape[0]
    if noise_scale is None:
        scale = np.ones(d)
    else:
        scale = np.broadcast_to(np.asarray(noise_scale, dtype=float), (d,)).copy()
    order = _topological_order(W)
    if order is None:
        raise ValueError("W must be a DAG")
    X = np.zeros((n, d))
    for j in order:
        mean = X @ W[:, j]
        if noise == "gauss":
            X[:, j] = mean + rng.normal(scale=scale[j], size=n)
        elif noise == "exp":
            X[:, j] = mean + rng.exponential(scale=scale[j], size=n)
        elif noise == "gumbel":
            X[:, j] = mean + rng.gumbel(scale=scale[j], size=n)
        else:
            X[:, j] = rng.binomial(1, 1.0 / (1.0 + np.exp(-mean))).astype(float)
    return X


def count_accuracy(B_true: Any, B_est: Any) -> Dict[str, float]:
    """Structure-recovery metrics of ``B_est`` against ``B_true`` (NOTEARS definitions).

    Both are ``(d, d)`` adjacency matrices (nonzero = edge, rows are parents); ``B_est`` must
    be a DAG. Returns ``fdr`` (reversed + false edges over predicted), ``tpr`` (correct over
    true), ``fpr`` (reversed + false over true non-edges), ``shd`` (extra + missing + reversed)
    and ``nnz`` (predicted edges).

    Examples
    --------
    >>> B = np.array([[0, 1], [0, 0]])
    >>> count_accuracy(B, B.T)["shd"]
    1
    """
    Bt = np.asarray(B_true) != 0
    Be = np.asarray(B_est) != 0
    if Bt.ndim != 2 or Bt.shape[0] != Bt.shape[1]:
        raise ValueError(f"B_true must be square, got shape {Bt.shape}")
    if Be.shape != Bt.shape:
        raise ValueError(f"B_est has shape {Be.shape}, expected {Bt.shape}")
    if not is_dag(Be):
        raise ValueError("B_est must be a DAG")
    d = Bt.shape[0]
    pred = Be.sum()
    cond = Bt.sum()
    true_pos = (Be & Bt).sum()
    reverse = (Be & ~Bt & Bt.T).sum()
    false_pos = (Be & ~Bt & ~Bt.T).sum()
    cond_neg = 0.5 * d * (d - 1) - cond
    fdr = float(reverse + false_pos) / max(pred, 1)
    tpr = float(true_pos) / max(cond, 1)
    fpr = float(reverse + false_pos) / max(cond_neg, 1)
    sk_est = np.tril(Be | Be.T, k=-1)
    sk_true = np.tril(Bt | Bt.T, k=-1)
    shd = int((sk_est & ~sk_true).sum() + (sk_true & ~sk_est).sum() + reverse)
    return {"fdr": round(float(fdr), 6), "tpr": round(float(tpr), 6), "fpr": round(float(fpr), 6), "shd": shd, "nnz": int(pred)}


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


# ----------------------------------------------------------------------------------------
# solver


def topo_swap(
    X: Any,
    *,
    loss: str = "l2",
    l1: float = 0.0,
    l2: float = 0.0,
    init: Any = None,
    threshold: float = 0.3,
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
    X : array_like, shape (n, d)
        Data, one sample per row. Not modified. For ``loss="l2"`` it is centred (a C++ copy;
        the Gram matrix is formed once and ``X`` is not used again).
    loss : {"l2", "logistic"}
        ``"l2"``: ``0.5/n ||X - X W||_F^2``; ``"logistic"`` (binary 0/1 data):
        ``1/n sum(log(1 + exp(X W)) - X * (X W))``.
    l1, l2 : float
        Penalties ``l1 * ||W||_1 + 0.5 * l2 * ||W||_F^2`` added to the score.
    init : None, "random", array_like (d,) or (d, d)
        Initial order. None: the greedy order that places, one at a time, the node with the
        smallest residual variance given the nodes already placed (a pivoted Cholesky of the
        centred Gram matrix; deterministic, O(n d^2 + d^3)). ``"random"``: a random
        permutation drawn from ``seed`` (the paper's and the reference code's start). A
        permutation of ``0..d-1`` (first = root). Or a weighted adjacency from another
        method (rows are parents, nonzero = edge, must be a DAG), whose topological order is
        used -- the post-processing mode of the paper.
    threshold : float
        Entries of ``|W|`` below it are zeroed in the returned ``W``.
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
        loss, an ``init`` that is not a permutation, not a DAG, or of the wrong shape.

    Notes
    -----
    Constant columns raise a warning; they cannot be explained by, nor explain, any other
    variable, so they are set aside as isolated roots (zero rows and columns of ``W``).
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
    """
    loss = check_choice(loss, "loss", ["l2", "logistic"])
    X = _check_data(X, loss)
    n, d = X.shape
    l1 = check_scalar(l1, "l1", low=0.0)
    l2 = check_scalar(l2, "l2", low=0.0)
    threshold = check_scalar(threshold, "threshold", low=0.0)
    max_iter = None if max_iter is None else check_scalar(max_iter, "max_iter", kind=int, low=1)
    ss = _check_size(size_small, "size_small")
    sl = _check_size(size_large, "size_large")
    nl = _check_size(n_large_search, "n_large_search")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable")
    rng = check_random_state(seed)
    order0 = _check_init(init, d, rng, X)

    const = np.ptp(X, axis=0) == 0
    if const.any():
        cols = np.flatnonzero(const)
        warnings.warn(
            f"X has constant columns {cols[:10].tolist()}{' ...' if cols.size > 10 else ''}; "
            "they are kept as isolated nodes (no edges)",
            RuntimeWarning,
            stacklevel=2,
        )
    keep = np.flatnonzero(~const)
    # Constant nodes go first (isolated roots); the others keep their relative initial order.
    sub_index = -np.ones(d, dtype=np.int64)
    sub_index[keep] = np.arange(keep.size)
    sub_order = [int(sub_index[v]) for v in order0 if not const[v]]

    t0 = time.perf_counter()
    solver = None
    if keep.size >= 2:
        Xs = X if keep.size == d else np.ascontiguousarray(X[:, keep])
        solver = _ns.Solver(Xs, sub_order, loss, l1, l2, ss, sl, nl, bool(_check))

    const_score = _constant_score(X, np.flatnonzero(const), loss)

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
            score = const_score + _constant_score(X, keep, loss)
            history = np.array([score])
            nit = n_swaps = n_eval = 0
        order = np.concatenate([np.flatnonzero(const), keep[sub]]).astype(np.int64)
        W = np.where(np.abs(W_raw) >= threshold, W_raw, 0.0)
        res = OptimizeResult(
            W=W, W_raw=W_raw, order=order, score=score, fun=score, n_swaps=n_swaps,
            history=history, elapsed=time.perf_counter() - t0, nit=nit, n_evaluated=n_eval,
            success=status == 0, status=status, message=message, interrupted=interrupted,
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

    Parameters are those of :func:`topo_swap`. After ``fit(X)``: ``adjacency_`` (the
    thresholded weighted adjacency, rows are parents), ``order_``, ``score_``, ``n_iter_``,
    ``n_features_in_`` and ``result_`` (the full result).

    Examples
    --------
    >>> from adasolve.dag import simulate_dag, simulate_parameters, simulate_linear_sem
    >>> B = simulate_dag(8, 10, seed=0)
    >>> X = simulate_linear_sem(simulate_parameters(B, seed=1), 500, seed=2)
    >>> est = TopoSwap(seed=0).fit(X)
    >>> est.adjacency_.shape
    (8, 8)
    """

    def __init__(self, *, loss: str = "l2", l1: float = 0.0, l2: float = 0.0, init: Any = None,
                 threshold: float = 0.3, max_iter: Optional[int] = None,
                 size_small: Optional[int] = None, size_large: Optional[int] = None,
                 n_large_search: Optional[int] = None, seed: Any = None,
                 callback: Optional[Callable] = None, verbose: bool = False) -> None:
        self.loss = loss
        self.l1 = l1
        self.l2 = l2
        self.init = init
        self.threshold = threshold
        self.max_iter = max_iter
        self.size_small = size_small
        self.size_large = size_large
        self.n_large_search = n_large_search
        self.seed = seed
        self.callback = callback
        self.verbose = verbose

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "loss", "l1", "l2", "init", "threshold", "max_iter", "size_small", "size_large",
            "n_large_search", "seed", "callback", "verbose")}

    def set_params(self, **params: Any) -> "TopoSwap":
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"invalid parameter {k!r} for TopoSwap")
            setattr(self, k, v)
        return self

    def fit(self, X: Any, y: Any = None) -> "TopoSwap":
        res = topo_swap(X, **self.get_params())
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
