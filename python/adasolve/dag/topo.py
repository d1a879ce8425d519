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
from typing import Any, Callable, Dict, Optional, Tuple

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
